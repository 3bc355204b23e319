//! A set of test hosts with what the provisioner needs to reach them, and inventories for them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{keygen, provision, require_root_and_tools, texts, TestHost, TestNet};

/// Generous bound on one provisioner run that does not start a cluster.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// The `rustfs` binary: `$RUSTFS_BIN`, else next to this test executable in the target dir.
pub fn rustfs_bin() -> PathBuf {
    if let Ok(p) = std::env::var("RUSTFS_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    for dir in exe.ancestors().skip(1).take(3) {
        let p = dir.join("rustfs");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "rustfs binary not found next to {}: run `cargo build -p rustfs-node --bin rustfs` first (scripts/test.sh does) or set RUSTFS_BIN",
        exe.display()
    );
}

/// Makes the service account on this machine unless it exists. The namespace hosts share this
/// machine's /etc, where the provisioner makes it itself; but a host with the operator account
/// reads copies of /etc/passwd bind-mounted over the real ones, which `useradd` cannot replace,
/// so the copies must hold it from the start.
fn ensure_service_user() {
    let exists = std::process::Command::new("id")
        .args(["-u", "rustfs"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        super::run_ok(std::process::Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "rustfs",
        ]));
    }
}

/// Test hosts on one network with a client key, a binary to install and an empty known_hosts.
pub struct Cluster {
    // Dropped in this order: hosts (and everything they run), their network, the files.
    pub hosts: Vec<TestHost>,
    pub net: TestNet,
    pub dir: tempfile::TempDir,
    pub client_key: PathBuf,
}

impl Cluster {
    /// Hosts whose "rustfs" is `/bin/true` (for tests that never start it).
    pub fn start(num_hosts: usize, num_drives: usize) -> Cluster {
        Self::start_with(num_hosts, num_drives, &|_| None)
    }

    /// Hosts that get the real `rustfs` binary.
    pub fn start_real(num_hosts: usize, num_drives: usize) -> Cluster {
        let c = Self::start(num_hosts, num_drives);
        std::fs::copy(rustfs_bin(), c.path("rustfs")).unwrap();
        c
    }

    /// `operator_sudo(i)`: whether host i has the non-root operator account, and with sudo.
    pub fn start_with(
        num_hosts: usize,
        num_drives: usize,
        operator_sudo: &dyn Fn(usize) -> Option<bool>,
    ) -> Cluster {
        require_root_and_tools();
        if (0..num_hosts).any(|i| operator_sudo(i).is_some()) {
            ensure_service_user();
        }
        let dir = tempfile::tempdir().unwrap();
        // The hosts' nodes drop to the service user, which must reach the drives and config
        // below this directory.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let client_key = dir.path().join("id_client");
        keygen(&client_key);
        // install_dir and config_dir: one path in the inventory, private to each host.
        let private = [dir.path().join("opt"), dir.path().join("etc")];
        for p in &private {
            std::fs::create_dir_all(p).unwrap();
        }
        let net = TestNet::new();
        let hosts = (1..=num_hosts)
            .map(|i| {
                TestHost::start(
                    &net,
                    &format!("h{i}"),
                    dir.path(),
                    &client_key.with_extension("pub"),
                    num_drives,
                    &private,
                    operator_sudo(i - 1),
                )
            })
            .collect();
        // An ELF binary of this machine's architecture stands in for rustfs.
        std::fs::copy("/bin/true", dir.path().join("rustfs")).unwrap();
        std::fs::write(dir.path().join("known_hosts"), "").unwrap();
        Cluster {
            hosts,
            net,
            dir,
            client_key,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes an inventory for the hosts, plaintext (`tls: false`, said explicitly);
    /// `host_extra(i)` adds YAML to host i's flow mapping.
    pub fn inventory(&self, host_extra: &dyn Fn(usize) -> String) -> PathBuf {
        self.inventory_tls(host_extra, false)
    }

    /// Like [`Cluster::inventory`], with TLS on or off.
    pub fn inventory_tls(&self, host_extra: &dyn Fn(usize) -> String, tls: bool) -> PathBuf {
        let mut hosts = String::new();
        for (i, h) in self.hosts.iter().enumerate() {
            let drives: Vec<String> = h.drives.iter().map(|d| d.display().to_string()).collect();
            hosts.push_str(&format!(
                "  - {{ name: {}, address: {}, drives: [{}]{} }}\n",
                h.name,
                h.address,
                drives.join(", "),
                host_extra(i)
            ));
        }
        let text = format!(
            "version: 1\ncluster: {{ name: nstest }}\nbinary: {{ path: ./rustfs }}\n\
             ssh: {{ user: root, key: {key}, known_hosts: ./known_hosts }}\nhosts:\n{hosts}\
             credentials: {{ user: admin, password: '${{TEST_UNUSED:-password123}}' }}\n\
             tls: {tls}\ninstall_dir: {dir}/opt\nconfig_dir: {dir}/etc\n",
            key = self.client_key.display(),
            dir = self.dir.path().display(),
        );
        let path = self.path("inventory.yaml");
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn plan(&self, inventory: &Path, extra: &[&str]) -> (i32, String, String) {
        let state = self.path("state");
        let mut args = vec![
            "plan",
            inventory.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ];
        if !extra.contains(&"--connect-timeout-secs") {
            args.extend_from_slice(&["--connect-timeout-secs", "5"]);
        }
        args.extend_from_slice(extra);
        let out = provision(&args, RUN_LIMIT);
        let (stdout, stderr) = texts(&out);
        (out.status.code().unwrap_or(-1), stdout, stderr)
    }
}

impl Cluster {
    /// Runs `rustfs-provision VERB INVENTORY --state-dir STATE EXTRA…` (bounded by `limit`).
    pub fn run(
        &self,
        verb: &str,
        inventory: &Path,
        extra: &[&str],
        limit: Duration,
    ) -> (i32, String, String) {
        let state = self.path("state");
        let mut args = vec![
            verb,
            inventory.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--connect-timeout-secs",
            "5",
        ];
        args.extend_from_slice(extra);
        let out = provision(&args, limit);
        let (stdout, stderr) = texts(&out);
        (out.status.code().unwrap_or(-1), stdout, stderr)
    }

    /// The pid in host `i`'s rustfs pid file, if any.
    pub fn node_pid(&self, i: usize) -> Option<u32> {
        std::fs::read_to_string(self.hosts[i].private_dir(0).join("run/rustfs.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }
}
