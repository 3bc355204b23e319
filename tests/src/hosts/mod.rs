//! Container test hosts for the provisioner's end-to-end tests: N Debian bookworm containers on a
//! private Docker network of the test's own (optionally on a second one too, as a dedicated
//! cluster network), each with its hostname, address, SSH host key, the
//! test's client key authorised for root, and empty drives. systemd runs as PID 1 where the engine
//! allows it (privileged, a private cgroup namespace, tmpfs `/run`); otherwise, or when
//! `RUSTFS_TEST_HOSTS_INIT=sshd` says so, sshd runs as PID 1 and the provisioner takes its
//! non-systemd path. Hosts can be stopped, killed, paused and cut off the network.
//!
//! The image is built locally from the Debian mirror by `scripts/test-host-image.sh` (debootstrap
//! and `docker import`, cached by a hash of the recipe). Every container and network made here is
//! labelled with this process's id and removed on drop (also when a test panics); leftovers of a
//! test process that was killed are removed by the next one. The harness only ever runs docker
//! commands on what it created, and only talks to its containers' addresses.

pub mod docker;
pub mod host;
pub mod network;
pub mod s3;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use host::ContainerHost;
pub use network::TestNetwork;

/// What runs as PID 1 in the hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// systemd (the provisioner installs a unit).
    Systemd,
    /// sshd alone (the provisioner's start script manages the node).
    Sshd,
}

/// Which init the caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitChoice {
    /// systemd where it boots here, else sshd (`RUSTFS_TEST_HOSTS_INIT=systemd|sshd` forces one).
    Auto,
    /// This one, whatever the environment says.
    Force(Init),
}

/// Environment variable forcing the init of every test host (`systemd` or `sshd`).
pub const INIT_ENV: &str = "RUSTFS_TEST_HOSTS_INIT";

fn env_init() -> Option<Init> {
    match std::env::var(INIT_ENV).ok()?.as_str() {
        "systemd" => Some(Init::Systemd),
        "sshd" => Some(Init::Sshd),
        "" | "auto" => None,
        other => panic!("{INIT_ENV}={other:?}: use systemd, sshd or auto"),
    }
}

/// Generates an ed25519 key pair at `path` (+ `.pub`).
pub fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "rustfs-test", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen is missing: apt-get install openssh-client");
    assert!(
        out.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `SHA256:…` fingerprint of a public key file, as OpenSSH computes it.
pub fn fingerprint(pub_path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(pub_path)
        .output()
        .expect("ssh-keygen");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .expect("ssh-keygen -lf prints a fingerprint")
        .to_string()
}

/// A set of container hosts, a client key they accept and a known_hosts file listing them.
#[derive(Debug)]
pub struct TestHosts {
    // Dropped in this order: the hosts, their network, the files.
    pub hosts: Vec<ContainerHost>,
    pub network: TestNetwork,
    /// A second network every host is on too (its `cluster_address`), when asked for.
    pub cluster_network: Option<TestNetwork>,
    pub dir: tempfile::TempDir,
    /// Private key every host accepts for root.
    pub client_key: PathBuf,
    /// known_hosts with every host's key (so the provisioner checks keys strictly).
    pub known_hosts: PathBuf,
    /// What runs as PID 1.
    pub init: Init,
    /// Why systemd was not used, when it was wanted but did not boot.
    pub systemd_unavailable: Option<String>,
}

impl TestHosts {
    /// Starts `num_hosts` hosts (`h1`…) with `num_drives` drives each and waits until every one
    /// accepts SSH. With [`InitChoice::Auto`], hosts that fail to boot systemd are replaced by
    /// sshd-as-PID-1 hosts and the reason is kept in `systemd_unavailable`.
    pub fn start(num_hosts: usize, num_drives: usize, choice: InitChoice) -> TestHosts {
        Self::start_with(num_hosts, num_drives, choice, false)
    }

    /// Like [`TestHosts::start`], with every host also on a second network of the test's own
    /// (a dedicated cluster network: [`ContainerHost::cluster_address`]). This machine reaches
    /// that network too, through its bridge.
    pub fn start_on_two_networks(
        num_hosts: usize,
        num_drives: usize,
        choice: InitChoice,
    ) -> TestHosts {
        Self::start_with(num_hosts, num_drives, choice, true)
    }

    fn start_with(
        num_hosts: usize,
        num_drives: usize,
        choice: InitChoice,
        two_networks: bool,
    ) -> TestHosts {
        docker::require_docker();
        docker::reap_stale();
        docker::image();
        let (init, fallback) = match choice {
            InitChoice::Force(i) => (i, false),
            InitChoice::Auto => match env_init() {
                Some(i) => (i, false),
                None => (Init::Systemd, true),
            },
        };
        let dir = tempfile::tempdir().unwrap();
        let client_key = dir.path().join("id_client");
        keygen(&client_key);
        let network = TestNetwork::create();
        let cluster_network = two_networks.then(TestNetwork::create);
        let mut set = TestHosts {
            hosts: Vec::new(),
            network,
            cluster_network,
            known_hosts: dir.path().join("known_hosts"),
            dir,
            client_key,
            init,
            systemd_unavailable: None,
        };
        match set.boot(num_hosts, num_drives, init) {
            Ok(()) => {}
            Err(e) if fallback => {
                eprintln!("test hosts: systemd does not boot in a container here ({e}); using sshd as PID 1");
                set.hosts.clear();
                set.init = Init::Sshd;
                set.systemd_unavailable = Some(e);
                set.boot(num_hosts, num_drives, Init::Sshd)
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            Err(e) => panic!("{e}"),
        }
        let lines: String = set.hosts.iter().map(|h| h.known_hosts_line()).collect();
        std::fs::write(&set.known_hosts, lines).unwrap();
        set
    }

    fn boot(&mut self, num_hosts: usize, num_drives: usize, init: Init) -> Result<(), String> {
        let client_pub = self.client_key.with_extension("pub");
        for i in 0..num_hosts {
            let host = ContainerHost::create(
                &self.network,
                self.cluster_network.as_ref(),
                i,
                &format!("h{}", i + 1),
                self.dir.path(),
                &client_pub,
                num_drives,
                init,
            )?;
            self.hosts.push(host);
        }
        let started = Instant::now();
        for h in &self.hosts {
            h.wait_ready()?;
        }
        eprintln!(
            "test hosts: {num_hosts} host(s) with {init:?} ready on {} after {:.1}s",
            self.network.name,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// S3 endpoints of every host (`SCHEME://ADDRESS:9000`).
    pub fn endpoints(&self, scheme: &str) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| format!("{scheme}://{}:9000", h.address))
            .collect()
    }

    /// Writes an inventory for the hosts (root over SSH with the client key, strict host keys,
    /// `binary` installed, each host's `cluster_address` when it has one) with `extra` YAML
    /// appended; returns its path.
    pub fn inventory(&self, name: &str, binary: &Path, extra: &str) -> PathBuf {
        let mut hosts = String::new();
        for h in &self.hosts {
            let cluster = h
                .cluster_address
                .as_ref()
                .map(|a| format!(", cluster_address: {a}"))
                .unwrap_or_default();
            hosts.push_str(&format!(
                "  - {{ name: {}, address: {}{cluster}, drives: [{}] }}\n",
                h.name,
                h.address,
                h.drives.join(", ")
            ));
        }
        let text = format!(
            "version: 1\ncluster: {{ name: {name} }}\nbinary: {{ path: {bin} }}\n\
             ssh: {{ user: root, key: {key}, known_hosts: {known} }}\nhosts:\n{hosts}{extra}",
            bin = binary.display(),
            key = self.client_key.display(),
            known = self.known_hosts.display(),
        );
        let path = self.path(&format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// What a `rustfs-provision` run returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {} after {:.1}s\n--- stdout:\n{}\n--- stderr:\n{}",
            self.code,
            self.elapsed.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }
}

/// Runs the real `rustfs-provision ARGS`, killing it if it runs past `limit`.
pub fn provision(args: &[&str], limit: Duration) -> Run {
    let bin = crate::workspace_bin(
        "rustfs-provision",
        "RUSTFS_PROVISION_BIN",
        "rustfs-provision",
    );
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .env_remove("RUSTFS_PROVISION_STATE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rustfs-provision");
    // Drain both pipes on threads so a chatty run never blocks on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let run = Run {
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        elapsed: started.elapsed(),
    };
    assert!(
        status.is_some(),
        "rustfs-provision {args:?} still running after {limit:?}, killed; {run}"
    );
    run
}
