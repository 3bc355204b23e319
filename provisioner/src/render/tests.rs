//! Rendered files against golden copies in `golden/` (regenerate with `UPDATE_GOLDEN=1`).

use std::path::{Path, PathBuf};

use super::*;

/// Four SSH hosts (the production form), or with `local`, four `connection: local` hosts.
fn inventory_with(extra: &str, local: bool) -> Inventory {
    // Validation wants a readable key file; rendering never reads it.
    let key = tempfile::NamedTempFile::new().unwrap();
    let conn = if local { ", connection: local" } else { "" };
    let text = format!(
        r#"
version: 1
cluster: {{ name: golden }}
binary: {{ url: "https://example.invalid/rustfs", sha256: "{sha}" }}
ssh: {{ key: "{key}" }}
hosts:
  - {{ name: n1, address: 10.0.0.1{conn}, drives: [/mnt/disk1, /mnt/disk2] }}
  - {{ name: n2, address: 10.0.0.2{conn}, drives: [/mnt/disk1, /mnt/disk2] }}
  - {{ name: n3, address: 10.0.0.3{conn}, drives: [/mnt/disk1, /mnt/disk2] }}
  - {{ name: n4, address: 10.0.0.4{conn}, drives: [/mnt/disk1, /mnt/disk2] }}
credentials: {{ user: admin, password: "pa$$word-123" }}
{extra}
"#,
        sha = "a".repeat(64),
        key = key.path().display(),
    );
    Inventory::from_str_with(Path::new("inv.yaml"), &text, &|_| None).unwrap()
}

/// A fixed scrape token, so the golden env file is stable.
fn token() -> Secret {
    Secret::new("0123456789abcdef0123456789abcdef")
}

fn inventory(extra: &str) -> Inventory {
    inventory_with(extra, false)
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/render/golden")
        .join(name)
}

fn check_golden(name: &str, got: &str) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert_eq!(got, want, "{name} differs from its golden copy");
}

#[test]
fn files_match_their_golden_copies() {
    let inv = inventory("storage_class: EC:1\ntls: { enabled: true }\n");
    let r = render(&inv, &inv.hosts[0], &token(), None).unwrap();
    assert_eq!(r.env.0, "/etc/rustfs/rustfs.env");
    assert_eq!(r.unit.0, "/etc/systemd/system/rustfs.service");
    assert_eq!(r.ctl.0, "/opt/rustfs/bin/rustfs-ctl");
    check_golden("rustfs.env", &r.env.1);
    // Least privilege: whatever the node creates is its own only.
    assert!(r.unit.1.contains("\nUMask=0077\n"), "{}", r.unit.1);
    check_golden("rustfs.service", &r.unit.1);
    check_golden("rustfs-ctl", &r.ctl.1);
    assert_eq!(r.upgrade.0, "/opt/rustfs/bin/rustfs-upgrade");
    check_golden("rustfs-upgrade", &r.upgrade.1);
    assert!(r.deploy.is_none(), "no control plane, no deploy key");
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample c";
    let r = render(&inv, &inv.hosts[0], &token(), Some(key)).unwrap();
    assert!(r.deploy.unwrap().authorized_keys.contains(key));
    let local = inventory_with("", true);
    let r = render(&local, &local.hosts[0], &token(), Some(key)).unwrap();
    assert!(
        r.deploy.is_none(),
        "a local host is driven locally, not over SSH"
    );
}

#[test]
fn every_node_gets_identical_pool_arguments() {
    let inv = inventory("");
    let envs: Vec<String> = inv
        .hosts
        .iter()
        .map(|h| render(&inv, h, &token(), None).unwrap().env.1)
        .collect();
    assert!(envs.windows(2).all(|w| w[0] == w[1]));
    // TLS is on unless the inventory turns it off.
    assert!(envs[0].contains(
        "RUSTFS_VOLUMES='https://10.0.0.1:9000/mnt/disk1 https://10.0.0.2:9000/mnt/disk1 \
         https://10.0.0.3:9000/mnt/disk1 https://10.0.0.4:9000/mnt/disk1 \
         https://10.0.0.1:9000/mnt/disk2"
    ));
    assert!(envs[0].contains("RUSTFS_TLS_CERT='/etc/rustfs/tls/node.crt'"));
    assert!(!envs[0].contains("STORAGE_CLASS"));
    assert!(envs[0].contains("RUSTFS_RPC_SECRET_FILE='/etc/rustfs/rpc.secret'"));
    // The password is a file of its own (a reload reads it again), never in the env file.
    assert!(envs[0].contains("RUSTFS_ROOT_PASSWORD_FILE='/etc/rustfs/root.password'"));
    assert!(!envs[0].contains("pa$word"));
    assert!(envs[0].contains("RUSTFS_ADDRESS=':9000'"));
    // Plaintext only when asked for.
    let plain = inventory("tls: false\n");
    let env = render(&plain, &plain.hosts[0], &token(), None)
        .unwrap()
        .env
        .1;
    assert!(
        env.contains("RUSTFS_VOLUMES='http://10.0.0.1:9000/mnt/disk1 "),
        "{env}"
    );
    assert!(!env.contains("RUSTFS_TLS_"), "{env}");
}

/// The four hosts with a second network, `192.168.7.N`.
fn with_cluster_network(extra: &str) -> Inventory {
    let mut inv = inventory(extra);
    for (i, h) in inv.hosts.iter_mut().enumerate() {
        h.cluster_address = Some(format!("192.168.7.{}", i + 1));
    }
    inv
}

#[test]
fn endpoints_name_the_cluster_addresses() {
    let inv = with_cluster_network("");
    let env = render(&inv, &inv.hosts[2], &token(), None).unwrap().env.1;
    assert!(
        env.contains(
            "RUSTFS_VOLUMES='https://192.168.7.1:9000/mnt/disk1 https://192.168.7.2:9000/mnt/disk1 \
             https://192.168.7.3:9000/mnt/disk1 https://192.168.7.4:9000/mnt/disk1 \
             https://192.168.7.1:9000/mnt/disk2"
        ),
        "{env}"
    );
    assert!(!env.contains("10.0.0."), "{env}");
    // The node still listens on every interface, so clients reach it at its address; RPC it
    // answers only on its cluster address.
    assert!(env.contains("RUSTFS_ADDRESS=':9000'"), "{env}");
    assert!(
        env.contains("\nRUSTFS_CLUSTER_ADDRESS='192.168.7.3'\n"),
        "{env}"
    );
    let single = inventory("");
    let env = render(&single, &single.hosts[2], &token(), None)
        .unwrap()
        .env
        .1;
    assert!(!env.contains("RUSTFS_CLUSTER_ADDRESS"), "{env}");
    let pools = with_cluster_network("pools:\n  - hosts: [n1, n2]\n  - hosts: [n3, n4]\n");
    assert_eq!(
        volumes(&pools).unwrap(),
        "https://192.168.7.{1...2}:9000/mnt/disk{1...2} https://192.168.7.{3...4}:9000/mnt/disk{1...2}"
    );
}

#[test]
fn the_start_script_drops_root_on_hosts_but_not_in_local_mode() {
    let inv = inventory("");
    let ctl = render(&inv, &inv.hosts[0], &token(), None).unwrap().ctl.1;
    assert!(
        ctl.contains(
            "if [ \"$(id -u)\" = 0 ]; then RUSTFS_RUN_AS=rustfs; export RUSTFS_RUN_AS; fi"
        ),
        "{ctl}"
    );
    assert!(ctl.contains("umask 077"), "{ctl}");
    let local = inventory_with("", true);
    let ctl = render(&local, &local.hosts[0], &token(), None)
        .unwrap()
        .ctl
        .1;
    assert!(!ctl.contains("RUSTFS_RUN_AS"), "{ctl}");
    assert!(ctl.contains("umask 077"), "{ctl}");
}

#[test]
fn local_nodes_listen_on_their_own_address_with_their_own_directories() {
    let inv = inventory_with("", true);
    let r = render(&inv, &inv.hosts[1], &token(), None).unwrap();
    assert_eq!(r.env.0, "/etc/rustfs/n2/rustfs.env");
    assert_eq!(r.ctl.0, "/opt/rustfs/n2/bin/rustfs-ctl");
    assert!(
        r.env.1.contains("RUSTFS_ADDRESS='10.0.0.2:9000'"),
        "{}",
        r.env.1
    );
    assert!(r.env.1.contains("RUSTFS_CONSOLE_ADDRESS='10.0.0.2:9001'"));
    assert!(r
        .ctl
        .1
        .contains("PIDFILE=\"/opt/rustfs/n2/run/rustfs.pid\""));
    assert!(r
        .env
        .1
        .contains("RUSTFS_RPC_SECRET_FILE='/etc/rustfs/n2/rpc.secret'"));
    // Apart from the listening address and its own directory, every node's env file is the same.
    let strip = |s: &str, name: &str| -> String {
        s.lines()
            .filter(|l| !l.contains("_ADDRESS="))
            .map(|l| l.replace(&format!("/etc/rustfs/{name}/"), "/etc/rustfs/NODE/"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let first = render(&inv, &inv.hosts[0], &token(), None).unwrap();
    assert_eq!(strip(&first.env.1, "n1"), strip(&r.env.1, "n2"));
}

#[test]
fn several_pools_use_ellipsis_arguments_that_expand_back() {
    let inv = inventory("pools:\n  - hosts: [n1, n2]\n  - hosts: [n3, n4]\n");
    let v = volumes(&inv).unwrap();
    assert_eq!(
        v,
        "https://10.0.0.{1...2}:9000/mnt/disk{1...2} https://10.0.0.{3...4}:9000/mnt/disk{1...2}"
    );
    let args: Vec<String> = v.split(' ').map(String::from).collect();
    let pools = rustfs_common::endpoint::parse_pools(&args).unwrap();
    assert_eq!(pools.len(), 2);
    assert_eq!(pools[0].endpoints.len(), 4);
}

#[test]
fn compress_finds_numbered_runs_only() {
    assert_eq!(compress(&["n1", "n2", "n3"]).as_deref(), Some("n{1...3}"));
    assert_eq!(compress(&["/d01", "/d02"]).as_deref(), Some("/d{01...02}"));
    assert_eq!(compress(&["a1", "a3"]), None);
    assert_eq!(compress(&["a1", "b2"]), None);
    assert_eq!(compress(&["solo"]).as_deref(), Some("solo"));
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    let inv = inventory(&format!(
        "install_dir: {root}/opt\nconfig_dir: {root}/etc\n"
    ));
    let r = render(&inv, &inv.hosts[0], &token(), None).unwrap();
    std::fs::create_dir_all(dir.path().join("opt/bin")).unwrap();
    std::os::unix::fs::symlink("/bin/true", dir.path().join("opt/bin/current")).unwrap();
    let unit = dir.path().join("rustfs.service");
    std::fs::write(&unit, &r.unit.1).unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect(
            "systemd-analyze is missing: apt-get install systemd (scripts/test.sh installs it)",
        );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
}

#[test]
fn debug_never_shows_the_credentials() {
    let inv = inventory("");
    let r = render(&inv, &inv.hosts[0], &token(), None).unwrap();
    let dbg = format!("{r:?}");
    assert!(
        !dbg.contains("pa$word") && dbg.contains("/etc/rustfs/rustfs.env"),
        "{dbg}"
    );
}

/// Runs the rendered upgrade verbs of a `connection: local` host in a scratch install directory.
struct Verbs {
    _dir: tempfile::TempDir,
    script: PathBuf,
    bin: PathBuf,
}

impl Verbs {
    fn new() -> Verbs {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().display().to_string();
        let inv = inventory_with(
            &format!("install_dir: {root}/opt\nconfig_dir: {root}/etc\n"),
            true,
        );
        let r = render(&inv, &inv.hosts[0], &token(), None).unwrap();
        let script = PathBuf::from(&r.upgrade.0);
        let bin = script.parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(&script, &r.upgrade.1).unwrap();
        Verbs {
            _dir: dir,
            script,
            bin,
        }
    }

    /// `(exit code, stdout, stderr)` of `rustfs-upgrade ARGS < stdin`.
    fn run(&self, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
        use std::io::Write;
        let mut child = std::process::Command::new("sh")
            .arg(&self.script)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn upgrade_verbs_stage_check_and_switch_binaries() {
    let v = Verbs::new();
    let (one, two) = (
        b"#!/bin/sh\necho one\n".as_slice(),
        b"#!/bin/sh\necho two\n".as_slice(),
    );
    let (s1, s2) = (sha256_hex(one), sha256_hex(two));
    assert_eq!(v.run(&["has", "1.0", &s1], b"").0, 1, "nothing staged yet");
    let (code, _, err) = v.run(&["stage", "1.0", &s1], one);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v.run(&["has", "1.0", &s1], b"").0, 0);
    assert_eq!(v.run(&["stage", "2.0", &s2], two).0, 0);
    // a wrong sha256 stages nothing and leaves no temp file
    let (code, _, err) = v.run(&["stage", "3.0", &s1], two);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("nothing was staged"), "{err}");
    let mut names: Vec<String> = std::fs::read_dir(&v.bin)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["rustfs-1.0", "rustfs-2.0", "rustfs-upgrade"]);

    assert_eq!(v.run(&["switch", "1.0"], b"").0, 0);
    assert_eq!(v.run(&["switch", "2.0"], b"").0, 0);
    let (code, out, err) = v.run(&["status"], b"");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("current=2.0\nprevious=1.0\nactive=0\nfree_kb="),
        "{out}"
    );
    // back: previous and current trade places
    assert_eq!(v.run(&["switch", "1.0"], b"").0, 0);
    let out = v.run(&["status"], b"").1;
    assert!(out.starts_with("current=1.0\nprevious=2.0\n"), "{out}");
    let (code, _, err) = v.run(&["switch", "9.9"], b"");
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("not staged"), "{err}");
}

#[test]
fn upgrade_verbs_refuse_anything_but_their_arguments() {
    let v = Verbs::new();
    let sha = "a".repeat(64);
    for (args, want) in [
        (vec!["sh", "-c", "id"], "unknown verb"),
        (vec!["switch", "../../etc"], "not a version"),
        (vec!["switch", "1.0;id"], "not a version"),
        (vec!["switch", "-rf"], "not a version"),
        (vec!["stage", "1.0", "ABC"], "not a sha256"),
        (vec!["has", "1.0", &sha, "x"], "takes 2 argument(s)"),
        (vec!["logs", "1000000"], "1-1000"),
        (vec!["logs", "$(id)"], "not a line count"),
        (vec![], "unknown verb"),
    ] {
        let (code, _, err) = v.run(&args, b"");
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
