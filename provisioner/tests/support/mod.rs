//! Test hosts for the provisioner: each is a network namespace of its own (made here, removed on
//! drop) running a real OpenSSH `sshd` with its own host key and config in a temp dir. The hosts
//! of one test share a [`TestNet`]: a bridge inside a "switch" namespace of its own (so this
//! machine's firewall never sees the traffic), with one veth pair per host and one to this
//! namespace, all in a private /24. Traffic only goes to addresses inside namespaces this harness
//! created.
//! Needs root, `ip` (iproute2), `unshare` (util-linux), `/usr/sbin/sshd` (openssh-server) and
//! `ssh-keygen` (openssh-client); `scripts/test.sh` installs them. When one is missing the test fails and says
//! which.

#![allow(dead_code)]

pub mod cluster;
pub mod s3;

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Path of sshd as Debian installs it.
pub const SSHD: &str = "/usr/sbin/sshd";

static NEXT_HOST: AtomicU32 = AtomicU32::new(0);

/// Fails the test unless it runs as root with the tools it needs.
pub fn require_root_and_tools() {
    let uid = run_ok(Command::new("id").arg("-u"));
    assert_eq!(
        uid.trim(),
        "0",
        "these tests create network namespaces and must run as root (scripts/test.sh runs them so)"
    );
    assert!(
        Path::new(SSHD).exists(),
        "{SSHD} is missing: apt-get install openssh-server (scripts/test.sh installs it)"
    );
    for tool in ["ip", "ssh-keygen", "unshare", "sudo"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{tool} is missing: apt-get install iproute2 openssh-client sudo (scripts/test.sh installs them)"
        );
    }
}

/// Runs a command, panicking with its stderr when it fails; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Generates an ed25519 key pair at `path` (+ `.pub`).
pub fn keygen(path: &Path) {
    run_ok(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "rustfs-test", "-f"])
            .arg(path),
    );
}

/// `SHA256:…` fingerprint of a public key file, as OpenSSH computes it.
pub fn fingerprint(pub_path: &Path) -> String {
    let out = run_ok(Command::new("ssh-keygen").arg("-lf").arg(pub_path));
    out.split_whitespace()
        .nth(1)
        .expect("ssh-keygen -lf prints a fingerprint")
        .to_string()
}

/// A non-root login that exists only inside test hosts started with `operator_sudo`.
pub const OPERATOR: &str = "rustfsop";

/// Files that add [`OPERATOR`] to this host only (bind-mounted over /etc/passwd, /etc/shadow,
/// /etc/group and /etc/sudoers.d in the host's mount namespace); returns the mount commands.
fn operator_account(dir: &Path, sudo_allowed: bool) -> String {
    let etc = dir.join("etc-overlay");
    let sudoers = etc.join("sudoers.d");
    std::fs::create_dir_all(&sudoers).unwrap();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    run_ok(Command::new("chown").arg("4242:4242").arg(&home));
    let extra = [
        (
            "passwd",
            format!(
                "{OPERATOR}:x:4242:4242:rustfs test operator:{}:/bin/sh\n",
                home.display()
            ),
        ),
        ("shadow", format!("{OPERATOR}:*:19000:0:99999:7:::\n")),
        ("group", format!("{OPERATOR}:x:4242:\n")),
    ];
    let mut mounts = String::new();
    for (name, line) in extra {
        let mut text = std::fs::read_to_string(Path::new("/etc").join(name)).unwrap();
        text.push_str(&line);
        let copy = etc.join(name);
        std::fs::write(&copy, text).unwrap();
        let mode = if name == "shadow" { 0o640 } else { 0o644 };
        std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .unwrap();
        mounts.push_str(&format!(
            "mount --bind '{}' /etc/{name} && ",
            copy.display()
        ));
    }
    if sudo_allowed {
        let rule = sudoers.join(OPERATOR);
        std::fs::write(&rule, format!("{OPERATOR} ALL=(ALL) NOPASSWD: ALL\n")).unwrap();
        std::fs::set_permissions(&rule, std::os::unix::fs::PermissionsExt::from_mode(0o440))
            .unwrap();
    }
    mounts.push_str(&format!(
        "mount --bind '{}' /etc/sudoers.d && ",
        sudoers.display()
    ));
    mounts
}

/// A private /24 for the hosts of one test: a bridge in a namespace of its own, reachable from
/// this namespace at `.1`. Removing it (on drop) removes every veth attached to it.
pub struct TestNet {
    ns: String,
    /// The first three octets, `10.A.B`.
    prefix: String,
    next: AtomicU32,
}

static NEXT_NET: AtomicU32 = AtomicU32::new(0);

impl TestNet {
    /// Makes the switch namespace and its bridge, in a random 10.200–207.x.0/24 that no interface
    /// of this namespace uses.
    pub fn new() -> TestNet {
        let pid = std::process::id();
        let k = NEXT_NET.fetch_add(1, Ordering::Relaxed);
        let used = run_ok(Command::new("ip").args(["-o", "-4", "addr", "show"]));
        let prefix = (0..100)
            .map(|_| {
                let r: u32 = rand_u32();
                format!("10.{}.{}", 200 + (r % 8), (r >> 8) % 256)
            })
            .find(|p| !used.contains(&format!(" {p}.")))
            .expect("no free 10.200-207.x.0/24 for a test network");
        let ns = format!("rfsnet-{pid}-{k}");
        let net = TestNet {
            ns: ns.clone(),
            prefix,
            next: AtomicU32::new(0),
        };
        run_ok(Command::new("ip").args(["netns", "add", &ns]));
        run_ok(Command::new("ip").args(["-n", &ns, "link", "add", "br0", "type", "bridge"]));
        run_ok(Command::new("ip").args(["-n", &ns, "link", "set", "br0", "up"]));
        let (root, peer) = (format!("rn{pid}x{k}r"), format!("rn{pid}x{k}s"));
        run_ok(
            Command::new("ip").args(["link", "add", &root, "type", "veth", "peer", "name", &peer]),
        );
        net.plug(&peer);
        run_ok(Command::new("ip").args([
            "addr",
            "add",
            &format!("{}.1/24", net.prefix),
            "dev",
            &root,
        ]));
        run_ok(Command::new("ip").args(["link", "set", &root, "up"]));
        net
    }

    /// Moves `veth` into the switch namespace and attaches it to the bridge.
    fn plug(&self, veth: &str) {
        run_ok(Command::new("ip").args(["link", "set", veth, "netns", &self.ns]));
        run_ok(Command::new("ip").args(["-n", &self.ns, "link", "set", veth, "master", "br0"]));
        run_ok(Command::new("ip").args(["-n", &self.ns, "link", "set", veth, "up"]));
    }

    /// The next free host address.
    fn allocate(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        assert!(n < 250, "a test network holds at most 250 hosts");
        format!("{}.{}", self.prefix, n + 2)
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.ns])
            .stderr(Stdio::null())
            .status();
    }
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("/dev/urandom");
    u32::from_le_bytes(b)
}

/// One test host: a namespace with an address and a running sshd.
pub struct TestHost {
    pub name: String,
    /// The host's address (inside its namespace).
    pub address: String,
    /// sshd's host key (public part at `.pub`).
    pub host_key: PathBuf,
    /// This host's drive directories (empty, created).
    pub drives: Vec<PathBuf>,
    ns: String,
    /// The host's end of its link, as named in the switch namespace.
    switch_port: String,
    switch_ns: String,
    dir: PathBuf,
    sshd: Option<Child>,
}

impl TestHost {
    /// Creates a host on `net` under `dir` accepting `client_pub` for root, with `num_drives`
    /// drives. Each path in `private` (an existing directory) is, for this host only, replaced by
    /// its own empty directory (a bind mount in the host's mount namespace), so hosts sharing
    /// this machine's filesystem still each have their own `/opt/rustfs`-like directories; see
    /// [`TestHost::private_dir`].
    pub fn start(
        net: &TestNet,
        name: &str,
        dir: &Path,
        client_pub: &Path,
        num_drives: usize,
        private: &[PathBuf],
        operator_sudo: Option<bool>,
    ) -> TestHost {
        let n = NEXT_HOST.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let address = net.allocate();
        let ns = format!("rfsprov-{pid}-{n}");
        let (veth_switch, veth_ns) = (format!("rp{pid}h{n}s"), format!("rp{pid}h{n}n"));
        let dir = dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut host = TestHost {
            name: name.into(),
            address: address.clone(),
            host_key: dir.join("ssh_host_ed25519_key"),
            drives: Vec::new(),
            ns: ns.clone(),
            switch_port: veth_switch.clone(),
            switch_ns: net.ns.clone(),
            dir: dir.clone(),
            sshd: None,
        };
        // From here on, Drop removes the namespace (and with it both veth ends).
        run_ok(Command::new("ip").args(["netns", "add", &ns]));
        run_ok(Command::new("ip").args([
            "link",
            "add",
            &veth_switch,
            "type",
            "veth",
            "peer",
            "name",
            &veth_ns,
        ]));
        run_ok(Command::new("ip").args(["link", "set", &veth_ns, "netns", &ns]));
        net.plug(&veth_switch);
        run_ok(Command::new("ip").args([
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{address}/24"),
            "dev",
            &veth_ns,
        ]));
        run_ok(Command::new("ip").args(["-n", &ns, "link", "set", &veth_ns, "up"]));
        run_ok(Command::new("ip").args(["-n", &ns, "link", "set", "lo", "up"]));

        keygen(&host.host_key);
        std::fs::copy(client_pub, dir.join("authorized_keys")).unwrap();
        for i in 1..=num_drives {
            let d = dir.join(format!("drive{i}"));
            std::fs::create_dir_all(&d).unwrap();
            host.drives.push(d);
        }
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port 22\nListenAddress {addr}\nHostKey {key}\nPidFile {dir}/sshd.pid\n\
                 AuthorizedKeysFile {dir}/authorized_keys\nPermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 StrictModes no\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n",
                addr = host.address,
                key = host.host_key.display(),
                dir = dir.display(),
            ),
        )
        .unwrap();
        // sshd insists on its privilege-separation directory.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
        let mut mounts = String::new();
        for (i, shared) in private.iter().enumerate() {
            let own = dir.join(format!("private{i}"));
            std::fs::create_dir_all(&own).unwrap();
            mounts.push_str(&format!(
                "mount --bind '{}' '{}' && ",
                own.display(),
                shared.display()
            ));
        }
        if let Some(sudo_allowed) = operator_sudo {
            mounts.push_str(&operator_account(&dir, sudo_allowed));
        }
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                "unshare",
                "--mount",
                "--propagation",
                "private",
            ])
            .args(["sh", "-c", &format!("{mounts}exec {SSHD} -D -e -f \"$0\"")])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn sshd");
        host.sshd = Some(child);
        host.wait_ready(Duration::from_secs(10));
        host
    }

    /// Waits until sshd answers with its banner.
    fn wait_ready(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        let addr: SocketAddr = format!("{}:22", self.address).parse().unwrap();
        loop {
            if let Some(status) = self.sshd.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!(
                    "sshd for {} exited ({status}): {}",
                    self.name,
                    std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
                );
            }
            if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let mut buf = [0u8; 4];
                if s.read_exact(&mut buf).is_ok() && &buf == b"SSH-" {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "sshd for {} not ready within {within:?}: {}",
                self.name,
                std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// This host's own copy of the `i`-th private directory given to [`TestHost::start`].
    pub fn private_dir(&self, i: usize) -> PathBuf {
        self.dir.join(format!("private{i}"))
    }

    /// Cuts the host off the network (its link goes down; everything on it keeps running).
    pub fn disconnect(&self) {
        run_ok(Command::new("ip").args([
            "-n",
            &self.switch_ns,
            "link",
            "set",
            &self.switch_port,
            "down",
        ]));
    }

    /// Puts the host back on the network.
    pub fn reconnect(&self) {
        run_ok(Command::new("ip").args([
            "-n",
            &self.switch_ns,
            "link",
            "set",
            &self.switch_port,
            "up",
        ]));
    }

    /// Kills every process running in the host's network namespace (sshd and whatever was
    /// started through it, such as rustfs nodes).
    pub fn kill_all(&mut self) {
        self.stop_sshd();
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.ns])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
    }

    /// Pids of the processes running in the host's network namespace.
    pub fn pids(&self) -> Vec<u32> {
        let out = run_ok(Command::new("ip").args(["netns", "pids", &self.ns]));
        out.split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// Stops sshd; the address stays up, so connecting is refused at once.
    pub fn stop_sshd(&mut self) {
        if let Some(mut c) = self.sshd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The host key's `SHA256:` fingerprint.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.host_key.with_extension("pub"))
    }

    /// A known_hosts line for this host's key.
    pub fn known_hosts_line(&self) -> String {
        let public = std::fs::read_to_string(self.host_key.with_extension("pub")).unwrap();
        let mut parts = public.split_whitespace();
        format!(
            "{} {} {}\n",
            self.address,
            parts.next().unwrap(),
            parts.next().unwrap()
        )
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        self.kill_all();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.ns])
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs the real `rustfs-provision` binary with `args`, killing it if it runs past `limit`.
pub fn provision(args: &[&str], limit: Duration) -> Output {
    provision_env(args, &[], limit)
}

/// Like [`provision`], with extra environment variables.
pub fn provision_env(args: &[&str], env: &[(&str, String)], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rustfs-provision"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("RUSTFS_PROVISION_STATE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rustfs-provision");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "rustfs-provision {args:?} still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// stdout and stderr as text.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
