//! The Terraform inventory module with the real tools: `terraform apply` of
//! `terraform/examples/existing-hosts` (no provider, so offline) outputs an inventory that the real
//! `rustfs-provision validate` accepts, and bad layouts fail `terraform plan` with a message that
//! says what is wrong. The AWS module's inventory is checked the same way by
//! `scripts/terraform-test.sh` (mock provider). Needs Terraform ≥ 1.9: `$TERRAFORM`, else
//! `/usr/local/bin/terraform`, else `terraform` on `PATH`.

use rustfs_tests::workspace_bin;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

fn terraform_bin() -> PathBuf {
    let candidates = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/local/bin/terraform")])
        .chain(
            std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths)
                .map(|d| d.join("terraform"))
                .collect::<Vec<_>>(),
        );
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!(
        "terraform not found (TERRAFORM, /usr/local/bin/terraform, PATH): install Terraform >= 1.9 \
         as /usr/local/bin/terraform; it is not in Debian's archive, so scripts/test.sh cannot"
    );
}

/// A Terraform root module in a temporary directory, run with no user CLI configuration.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new() -> Root {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("terraformrc"), "").unwrap();
        Root { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs terraform in `sub` (relative to the root directory).
    fn terraform(&self, sub: &str, args: &[&str]) -> Output {
        Command::new(terraform_bin())
            .args(args)
            .current_dir(self.path().join(sub))
            .env("TF_CLI_CONFIG_FILE", self.path().join("terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .expect("run terraform")
    }

    fn ok(&self, sub: &str, args: &[&str]) -> String {
        let out = self.terraform(sub, args);
        assert!(
            out.status.success(),
            "terraform {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// Copies the `.tf`/`.tftpl` files of `from` into `to` (never `.terraform` or state).
fn copy_module(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let keep = path.extension().is_some_and(|e| e == "tf" || e == "tftpl");
        if path.is_file() && keep {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// Files `rustfs-provision validate` checks for: the binary and the SSH key.
fn provisioner_fixture(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("rustfs"), "#!/bin/sh\n").unwrap();
    let key = dir.join("id_ed25519");
    std::fs::write(&key, "a key file: validate only checks that it is there\n").unwrap();
    key
}

fn validate(inventory: &Path) -> Output {
    Command::new(workspace_bin(
        "rustfs-provision",
        "RUSTFS_PROVISION_BIN",
        "rustfs-provision",
    ))
    .arg("validate")
    .arg(inventory)
    .env("RUSTFS_ROOT_USER", "terraform-admin")
    .env("RUSTFS_ROOT_PASSWORD", "terraform-secret-1")
    .env("RUSTFS_CONTROLPLANE_TOKEN", "terraform-cp-token")
    .output()
    .expect("run rustfs-provision")
}

#[test]
fn existing_hosts_example_inventory_passes_rustfs_provision_validate() {
    let root = Root::new();
    copy_module(
        &repo().join("terraform/modules/inventory"),
        &root.path().join("modules/inventory"),
    );
    copy_module(
        &repo().join("terraform/examples/existing-hosts"),
        &root.path().join("examples/existing-hosts"),
    );
    let ex = "examples/existing-hosts";
    root.ok(ex, &["init", "-no-color"]);

    let cases: [(&[&str], &str, &str); 2] = [
        (
            &[],
            "4 host(s), 16 drive(s), 1 pool(s)",
            "rustfs server https://10.0.0.{11...14}:9000/mnt/disk{1...4}",
        ),
        (
            &[
                "-var",
                r#"addresses=["192.168.10.21","192.168.10.22","192.168.10.23","192.168.10.24","192.168.10.25","192.168.10.26","192.168.10.27","192.168.10.28"]"#,
                "-var",
                "drives_per_host=2",
                "-var",
                "parity=3",
                "-var",
                "control_plane_address=https://cp.example.com:7070",
            ],
            "8 host(s), 16 drive(s), 1 pool(s)",
            "rustfs server https://192.168.10.{21...28}:9000/mnt/disk{1...2}",
        ),
    ];
    for (i, (vars, summary, command)) in cases.iter().enumerate() {
        let dir = root.path().join(format!("run{i}"));
        let key = provisioner_fixture(&dir);
        let key_var = format!("ssh_private_key_file={}", key.display());
        let mut apply = vec!["apply", "-auto-approve", "-no-color", "-var", &key_var];
        apply.extend_from_slice(vars);
        root.ok(ex, &apply);

        let yaml = root.ok(ex, &["output", "-raw", "inventory_yaml"]);
        assert!(
            yaml.contains("\ntls:\n  enabled: true\n"),
            "TLS must be written explicitly and on by default:\n{yaml}"
        );
        assert!(
            yaml.contains("password: \"${RUSTFS_ROOT_PASSWORD}\""),
            "credentials must stay environment references:\n{yaml}"
        );
        // The binary path "./rustfs" is relative to the inventory file, as in the example.
        let inventory = dir.join("inventory.yaml");
        std::fs::write(&inventory, &yaml).unwrap();
        let out = validate(&inventory);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "rustfs-provision refused the Terraform inventory:\n{stdout}\n{}\n--- inventory ---\n{yaml}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(summary), "{stdout}");

        let got = root.ok(ex, &["output", "-raw", "server_command"]);
        assert_eq!(got, *command);
    }
}

/// A root module around the inventory module (at its place in the repository).
fn layout_root() -> Root {
    let root = Root::new();
    let module = repo().join("terraform/modules/inventory");
    std::fs::write(
        root.path().join("main.tf"),
        format!(
            r#"
variable "hosts" {{ type = any }}
variable "pools" {{ default = [] }}
variable "parity" {{ default = null }}
module "inventory" {{
  source       = "{}"
  cluster_name = "prod"
  hosts        = var.hosts
  pools        = var.pools
  parity       = var.parity
  binary       = {{ path = "./rustfs" }}
  ssh          = {{ key = "~/.ssh/id_ed25519" }}
}}
"#,
            module.display()
        ),
    )
    .unwrap();
    root.ok(".", &["init", "-no-color"]);
    root
}

fn hosts(drives: &[usize], address: impl Fn(usize) -> String) -> String {
    let hosts: Vec<String> = drives
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let drives: Vec<String> = (1..=n).map(|d| format!("\"/mnt/disk{d}\"")).collect();
            format!(
                r#"{{"name": "node{}", "address": "{}", "drives": [{}]}}"#,
                i + 1,
                address(i),
                drives.join(", ")
            )
        })
        .collect();
    format!("[{}]", hosts.join(", "))
}

/// `terraform plan` with `vars` (JSON) must fail, saying `expected` (line wrapping undone).
fn plan_fails_saying(root: &Root, name: &str, vars: &str, expected: &[&str]) {
    let file = root.path().join(format!("{name}.tfvars.json"));
    std::fs::write(&file, vars).unwrap();
    let out = root.terraform(
        ".",
        &[
            "plan",
            "-no-color",
            "-input=false",
            &format!("-var-file={}", file.display()),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let flat = stderr
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(!out.status.success(), "{name}: plan succeeded:\n{stderr}");
    for e in expected {
        assert!(flat.contains(e), "{name}: expected {e:?} in:\n{stderr}");
    }
}

#[test]
fn bad_layouts_fail_terraform_plan_with_clear_messages() {
    let root = layout_root();
    let ip = |i: usize| format!("10.0.0.{}", 11 + i);
    plan_fails_saying(
        &root,
        "three_nodes_ec_2_2",
        &format!(r#"{{"hosts": {}, "parity": 2}}"#, hosts(&[4, 4, 4], ip)),
        &[
            "3 host(s) in the cluster (node1, node2, node3)",
            "a distributed cluster needs at least 4 hosts per pool",
            "single_node = true",
        ],
    );
    plan_fails_saying(
        &root,
        "unequal_drive_counts",
        &format!(r#"{{"hosts": {}}}"#, hosts(&[4, 4, 3, 4], ip)),
        &["every host of a pool needs the same number of drives: node1 has 4, node2 has 4, node3 has 3, node4 has 4"],
    );
    plan_fails_saying(
        &root,
        "duplicate_addresses",
        &format!(
            r#"{{"hosts": {}}}"#,
            hosts(&[4, 4, 4, 4], |i| format!("10.0.0.{}", 11 + i % 3))
        ),
        &["duplicate address 10.0.0.11 (hosts node1 and node4)"],
    );
    plan_fails_saying(
        &root,
        "parity_above_half",
        &format!(r#"{{"hosts": {}, "parity": 3}}"#, hosts(&[4, 4, 4, 4], ip)),
        &["EC:3 exceeds half of the erasure sets of 4 drives in the cluster (at most EC:2)"],
    );
    plan_fails_saying(
        &root,
        "unnumbered_pools",
        &format!(
            r#"{{"hosts": {}, "pools": [["node1","node2","node3","node4"],["node5","node6","node7","node8"]]}}"#,
            hosts(&[1; 8], |i| format!(
                "{}.example.net",
                ["a", "b", "c", "d", "e", "f", "g", "h"][i]
            ))
        ),
        &["must be numbered consecutively", "pools[0], pools[1]"],
    );
}
