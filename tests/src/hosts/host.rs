//! One container test host: a Debian bookworm container on the test's network (and, when asked,
//! on a second "cluster" network too) with its own hostname, addresses, host key and drives (anonymous volumes, so they are real filesystems and not
//! the container's overlay), running systemd as PID 1 or, where that cannot run, sshd as PID 1.
//! Everything it does goes through `docker` on this one container; removed (with its volumes)
//! on drop.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use super::docker::{docker, docker_ok, exec, image, OWNER_LABEL};
use super::network::TestNetwork;
use super::Init;

/// How long a host may take to boot (systemd) or start sshd.
pub const BOOT_LIMIT: Duration = Duration::from_secs(90);

/// One running (or stopped, paused, disconnected) container host.
#[derive(Debug)]
pub struct ContainerHost {
    /// Host name (also the container's hostname), `h1`, `h2`, …
    pub name: String,
    /// Its address on the test network.
    pub address: String,
    /// Its address on the second (cluster) network, when the hosts have one.
    pub cluster_address: Option<String>,
    /// Drive directories inside the container (each a volume of its own, empty at start).
    pub drives: Vec<String>,
    /// This host's SSH host key (public part at `.pub`, on this machine).
    pub host_key: PathBuf,
    /// Docker's name for the container.
    pub container: String,
    /// What runs as PID 1.
    pub init: Init,
    network: String,
}

/// `docker create` flags for each init mode. systemd needs CAP_SYS_ADMIN (mounts for its own
/// /run and for the units' sandboxing), no seccomp filter, a cgroup namespace of its own (so it
/// manages its subtree only) and tmpfs on /run; it stops on SIGRTMIN+3. Not `--privileged`: on
/// an engine whose own capability set lacks one (here CAP_SYS_RESOURCE), that fails with
/// "unable to apply caps: operation not permitted".
fn init_flags(init: Init) -> (Vec<&'static str>, Vec<&'static str>) {
    match init {
        Init::Systemd => (
            vec![
                "--cap-add",
                "SYS_ADMIN",
                "--security-opt",
                "seccomp=unconfined",
                "--security-opt",
                "apparmor=unconfined",
                "--cgroupns",
                "private",
                "--tmpfs",
                "/run",
                "--tmpfs",
                "/run/lock",
                "--stop-signal",
                "SIGRTMIN+3",
                "--env",
                "container=docker",
            ],
            vec!["/sbin/init"],
        ),
        Init::Sshd => (
            vec!["--tmpfs", "/run"],
            vec![
                "/bin/sh",
                "-c",
                "mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e",
            ],
        ),
    }
}

impl ContainerHost {
    /// Creates and starts host `name` (`index` on `net`, and on `cluster_net` too when given)
    /// with `num_drives` drives, accepting `client_pub` for root. Keys are made under `dir`.
    /// Returns once the container runs; call [`ContainerHost::wait_ready`] before using it.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        net: &TestNetwork,
        cluster_net: Option<&TestNetwork>,
        index: usize,
        name: &str,
        dir: &Path,
        client_pub: &Path,
        num_drives: usize,
        init: Init,
    ) -> Result<ContainerHost, String> {
        let pid = std::process::id();
        let address = net.address(index);
        let container = format!("{}-{name}", net.name);
        let host_key = dir.join(format!("{name}_ssh_host_ed25519_key"));
        let _ = std::fs::remove_file(&host_key);
        let _ = std::fs::remove_file(host_key.with_extension("pub"));
        super::keygen(&host_key);
        let drives: Vec<String> = (1..=num_drives)
            .map(|i| format!("/data/drive{i}"))
            .collect();
        let label = format!("{OWNER_LABEL}={pid}");
        let (flags, cmd) = init_flags(init);
        let mut args: Vec<&str> = vec![
            "create",
            "--name",
            &container,
            "--hostname",
            name,
            "--network",
            &net.name,
            "--ip",
            &address,
            "--label",
            &label,
        ];
        args.extend(&flags);
        for d in &drives {
            args.extend(["--volume", d.as_str()]);
        }
        args.push(image());
        args.extend(&cmd);
        docker(&args)?;
        let host = ContainerHost {
            name: name.to_string(),
            address,
            cluster_address: cluster_net.map(|n| n.address(index)),
            drives,
            host_key: host_key.clone(),
            container: container.clone(),
            init,
            network: net.name.clone(),
        };
        // From here on, Drop removes the container.
        let pub_key = host_key.with_extension("pub");
        for (src, dst) in [
            (host_key.as_path(), "/etc/ssh/ssh_host_ed25519_key"),
            (pub_key.as_path(), "/etc/ssh/ssh_host_ed25519_key.pub"),
            (client_pub, "/root/.ssh/authorized_keys"),
        ] {
            docker(&[
                "cp",
                &src.display().to_string(),
                &format!("{container}:{dst}"),
            ])?;
        }
        if let (Some(n), Some(a)) = (cluster_net, &host.cluster_address) {
            docker(&["network", "connect", "--ip", a, &n.name, &container])?;
        }
        docker(&["start", &container])?;
        Ok(host)
    }

    /// Waits until sshd answers with its banner and, with systemd, until boot has finished.
    pub fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + BOOT_LIMIT;
        let addr: SocketAddr = format!("{}:22", self.address).parse().unwrap();
        loop {
            if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let mut buf = [0u8; 4];
                if s.read_exact(&mut buf).is_ok() && &buf == b"SSH-" {
                    break;
                }
            }
            let running = docker(&["inspect", "-f", "{{.State.Running}}", &self.container]);
            if running.as_deref().map(str::trim) != Ok("true") {
                return Err(format!(
                    "container {} stopped while booting: {}",
                    self.container,
                    self.logs()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "sshd on {} ({}) did not answer within {BOOT_LIMIT:?}: {}",
                    self.name,
                    self.address,
                    self.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if self.init == Init::Systemd {
            let left = deadline.saturating_duration_since(Instant::now()).as_secs() + 1;
            let out = exec(
                &self.container,
                &format!("timeout {left} systemctl is-system-running --wait"),
            );
            let state = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if state != "running" {
                let failed = self.exec_text("systemctl --failed --no-legend --plain");
                if state != "degraded" {
                    return Err(format!(
                        "systemd on {} did not finish booting (state {state:?}); failed units: {failed}",
                        self.name
                    ));
                }
                eprintln!(
                    "test hosts: {} booted degraded; failed units: {failed}",
                    self.name
                );
            }
        }
        Ok(())
    }

    /// The container's last log lines (its console: systemd's or sshd's messages).
    pub fn logs(&self) -> String {
        let out = std::process::Command::new("docker")
            .args(["logs", "--tail", "30", &self.container])
            .output();
        match out {
            Ok(o) => format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => e.to_string(),
        }
    }

    /// Runs `script` with `sh -c` inside the host (not over SSH: the harness's own view).
    pub fn exec(&self, script: &str) -> Output {
        exec(&self.container, script)
    }

    /// Runs `script` inside the host; stdout, panicking with stderr when it fails.
    pub fn exec_ok(&self, script: &str) -> String {
        let out = self.exec(script);
        assert!(
            out.status.success(),
            "{}: `{script}` failed ({}): {}{}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// stdout and stderr of `script`, trimmed, whatever its exit status.
    pub fn exec_text(&self, script: &str) -> String {
        let out = self.exec(script);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .trim()
        .to_string()
    }

    /// Stops the host cleanly (systemd shuts down; sshd gets SIGTERM).
    pub fn stop(&self) {
        docker_ok(&["stop", "--time", "30", &self.container]);
    }

    /// Starts a stopped host again (same address) and waits until it is ready.
    pub fn start(&self) {
        docker_ok(&["start", &self.container]);
        self.wait_ready().unwrap_or_else(|e| panic!("{e}"));
    }

    /// Kills the host at once (SIGKILL to everything in it).
    pub fn kill(&self) {
        docker_ok(&["kill", "--signal", "KILL", &self.container]);
    }

    /// Freezes every process of the host; its address still answers ARP and TCP handshakes.
    pub fn pause(&self) {
        // The cgroup freezer sometimes reports "unable to freeze" while the host is busy (runc
        // thaws it again): retry a few times before calling it a failure.
        for _ in 0..4 {
            match docker(&["pause", &self.container]) {
                Ok(_) => return,
                Err(e) if e.contains("unable to freeze") => {
                    std::thread::sleep(Duration::from_millis(500))
                }
                Err(e) => panic!("{e}"),
            }
        }
        docker_ok(&["pause", &self.container]);
    }

    pub fn unpause(&self) {
        docker_ok(&["unpause", &self.container]);
    }

    /// Takes the host off the (client) network (everything inside keeps running).
    pub fn disconnect(&self) {
        docker_ok(&["network", "disconnect", &self.network, &self.container]);
    }

    /// Puts the host back on the network at its old address.
    pub fn reconnect(&self) {
        docker_ok(&[
            "network",
            "connect",
            "--ip",
            &self.address,
            &self.network,
            &self.container,
        ]);
    }

    /// The host key's `SHA256:` fingerprint.
    pub fn fingerprint(&self) -> String {
        super::fingerprint(&self.host_key.with_extension("pub"))
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

impl Drop for ContainerHost {
    fn drop(&mut self) {
        // A paused container cannot be removed on every engine version; thaw it first.
        let _ = docker(&["unpause", &self.container]);
        if let Err(e) = docker(&["rm", "--force", "--volumes", &self.container]) {
            eprintln!(
                "test hosts: could not remove container {}: {e}",
                self.container
            );
        }
    }
}
