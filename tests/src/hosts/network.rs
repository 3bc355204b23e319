//! A private Docker bridge network per test: a unique name and a /24 of its own (random inside
//! 10.210.0.0/13, avoiding every subnet this machine or Docker already uses). This machine
//! reaches the hosts on it through the bridge; removed on drop.

use std::sync::atomic::{AtomicU32, Ordering};

use super::docker::{docker, docker_ok, OWNER_LABEL};

static NEXT_NET: AtomicU32 = AtomicU32::new(0);

/// One test's network.
#[derive(Debug)]
pub struct TestNetwork {
    /// Docker's name for it (`rfs-hosts-PID-N`).
    pub name: String,
    /// The first three octets, `10.A.B`; hosts get `.10` upwards, the bridge is `.1`.
    pub prefix: String,
}

impl TestNetwork {
    /// Creates the network, retrying on another subnet when Docker finds an overlap.
    pub fn create() -> TestNetwork {
        let pid = std::process::id();
        let k = NEXT_NET.fetch_add(1, Ordering::Relaxed);
        let name = format!("rfs-hosts-{pid}-{k}");
        let label = format!("{OWNER_LABEL}={pid}");
        let mut last = String::new();
        for _ in 0..20 {
            let used = used_subnets();
            let r: u32 = rand::random();
            let prefix = format!("10.{}.{}", 210 + (r % 8), (r >> 8) % 256);
            if used.iter().any(|u| u.starts_with(&format!("{prefix}."))) {
                continue;
            }
            let subnet = format!("{prefix}.0/24");
            let gateway = format!("{prefix}.1");
            match docker(&[
                "network",
                "create",
                "--driver",
                "bridge",
                "--subnet",
                &subnet,
                "--gateway",
                &gateway,
                "--label",
                &label,
                &name,
            ]) {
                Ok(_) => return TestNetwork { name, prefix },
                Err(e) if e.contains("overlap") => last = e,
                Err(e) => panic!("cannot create the test network: {e}"),
            }
        }
        panic!("no free 10.210-217.x.0/24 for a test network: {last}");
    }

    /// Host `i`'s address (0-based).
    pub fn address(&self, i: usize) -> String {
        assert!(i < 200, "a test network holds at most 200 hosts");
        format!("{}.{}", self.prefix, 10 + i)
    }
}

/// IPv4 addresses and subnets in use: this machine's interfaces and every Docker network.
fn used_subnets() -> Vec<String> {
    let mut used = Vec::new();
    if let Ok(out) = std::process::Command::new("ip")
        .args(["-o", "-4", "addr", "show"])
        .output()
    {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some(addr) = line.split_whitespace().skip_while(|w| *w != "inet").nth(1) {
                used.push(addr.to_string());
            }
        }
    }
    let ids = docker_ok(&["network", "ls", "-q"]);
    for id in ids.split_whitespace() {
        if let Ok(subnets) = docker(&[
            "network",
            "inspect",
            id,
            "--format",
            "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
        ]) {
            used.extend(subnets.split_whitespace().map(String::from));
        }
    }
    used
}

impl Drop for TestNetwork {
    fn drop(&mut self) {
        if let Err(e) = docker(&["network", "rm", &self.name]) {
            eprintln!("test hosts: could not remove network {}: {e}", self.name);
        }
    }
}
