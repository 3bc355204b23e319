//! Host validation: whether each host can run a node of this cluster, from its facts. Pure
//! functions over [`Facts`]; findings are errors (the run stops) or warnings (it goes on).

use std::fmt;

use crate::facts::Facts;
use crate::inventory::{Connection, Host, Inventory};

/// The seed's recommended minimum memory per node.
pub const RECOMMENDED_MEMORY_BYTES: u64 = 8 << 30;
/// Below this a node cannot run at all.
pub const MIN_MEMORY_BYTES: u64 = 512 << 20;
/// Largest tolerated clock difference between hosts.
pub const MAX_CLOCK_SKEW_SECS: i64 = 30;
/// Warn when a drive has less free space than this.
pub const LOW_FREE_BYTES: u64 = 1 << 30;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One thing found wrong with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    fn error(message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Error,
            message: message.into(),
        }
    }
    fn warning(message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Warning,
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{tag}: {}", self.message)
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// The machine architecture (`uname -m` spelling) of an ELF binary, when recognisable.
pub fn elf_arch(header: &[u8]) -> Option<&'static str> {
    if header.len() < 20 || &header[..4] != b"\x7fELF" {
        return None;
    }
    match u16::from_le_bytes([header[18], header[19]]) {
        0x3e => Some("x86_64"),
        0xb7 => Some("aarch64"),
        0xf3 => Some("riscv64"),
        _ => None,
    }
}

/// Checks one host. `deployment_id` is the cluster's deployment when the provisioner knows it
/// (drives formatted by it are ours); `binary_arch` the architecture of the binary to install.
pub fn check_host(
    inv: &Inventory,
    host: &Host,
    facts: &Facts,
    deployment_id: Option<&str>,
    binary_arch: Option<&str>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(arch) = binary_arch {
        if arch != facts.arch {
            out.push(Finding::error(format!(
                "host is {} but the rustfs binary is built for {arch} — use a binary for {}",
                facts.arch, facts.arch
            )));
        }
    }
    if facts.memory_bytes < MIN_MEMORY_BYTES {
        out.push(Finding::error(format!(
            "only {} of memory; a node needs at least {}",
            gib(facts.memory_bytes),
            gib(MIN_MEMORY_BYTES)
        )));
    } else if facts.memory_bytes < RECOMMENDED_MEMORY_BYTES {
        out.push(Finding::warning(format!(
            "{} of memory is below the recommended {}",
            gib(facts.memory_bytes),
            gib(RECOMMENDED_MEMORY_BYTES)
        )));
    }
    for d in &facts.drives {
        let p = &d.path;
        if !d.exists && host.connection == Connection::Local {
            continue; // made by `apply` (Action::CreateDrives)
        }
        if !d.exists {
            out.push(Finding::error(format!(
                "drive {p} does not exist — mount the drive there (or create the directory)"
            )));
            continue;
        }
        if !d.is_dir {
            out.push(Finding::error(format!("drive {p} is not a directory")));
            continue;
        }
        match (&d.formatted, deployment_id) {
            (Some(id), Some(ours)) if id == ours => {}
            (Some(id), _) if id.is_empty() => out.push(Finding::error(format!(
                "drive {p} has an unreadable .rustfs.sys/format.json — refusing to touch it; inspect or wipe it"
            ))),
            (Some(id), _) => out.push(Finding::error(format!(
                "drive {p} belongs to deployment {id} — refusing to format it; pass a fresh drive"
            ))),
            (None, _) if !d.empty => out.push(Finding::error(format!(
                "drive {p} is not empty and not a rustfs drive — refusing to use it; pass an empty drive"
            ))),
            (None, _) => {}
        }
        if !d.own_filesystem {
            out.push(Finding::warning(format!(
                "drive {p} is on the root filesystem, not a drive of its own"
            )));
        }
        if let Some(free) = d.free_bytes {
            if free < LOW_FREE_BYTES {
                out.push(Finding::warning(format!(
                    "drive {p} has only {} free",
                    gib(free)
                )));
            }
        }
    }
    if !facts.install.service_active {
        for (field, port) in [
            ("ports.s3", inv.ports.s3),
            ("ports.console", inv.ports.console),
        ] {
            if port_taken(host, facts, port) {
                out.push(Finding::error(format!(
                    "port {port} is already in use — stop what listens there or change {field}"
                )));
            }
        }
    }
    out
}

/// Whether something listens where the node would: any address of the port on SSH hosts (the
/// node listens on every interface), the wildcard or the host's own address on local hosts
/// (each local node listens on its loopback address only).
fn port_taken(host: &Host, facts: &Facts, port: u32) -> bool {
    let Ok(port) = u16::try_from(port) else {
        return false;
    };
    match host.connection {
        Connection::Ssh => facts.listening_ports.contains(&port),
        Connection::Local => facts
            .listening
            .iter()
            .any(|(ip, p)| *p == port && (ip == "*" || *ip == host.address)),
    }
}

/// Checks across hosts: clock skew between any two hosts must stay within
/// [`MAX_CLOCK_SKEW_SECS`] (signed requests and locks depend on it).
pub fn check_cluster(facts: &[(&str, &Facts)]) -> Vec<Finding> {
    let min = facts.iter().min_by_key(|(_, f)| f.clock_offset_secs);
    let max = facts.iter().max_by_key(|(_, f)| f.clock_offset_secs);
    match (min, max) {
        (Some((lo_name, lo)), Some((hi_name, hi)))
            if hi.clock_offset_secs - lo.clock_offset_secs > MAX_CLOCK_SKEW_SECS =>
        {
            vec![Finding::error(format!(
                "clocks of {hi_name} and {lo_name} differ by {}s (at most {MAX_CLOCK_SKEW_SECS}s) — run NTP/chrony on every host",
                hi.clock_offset_secs - lo.clock_offset_secs
            ))]
        }
        _ => Vec::new(),
    }
}
