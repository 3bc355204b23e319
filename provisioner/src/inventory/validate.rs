//! One validation pass over a parsed inventory: every problem is collected, each with the path of
//! the field it is about (`hosts[2].drives[0]: must be an absolute path`). Relative local paths
//! (binary, SSH keys, secret files) are resolved against the inventory's directory here.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use rustfs_common::layout::{self, StorageClass};

use super::{expand_home, Connection, Inventory, Secret, INVENTORY_VERSION};

/// One problem, with the field path it concerns (empty for the document root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s) in the inventory", self.0.len())?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

pub(super) struct Errors(pub(super) Vec<FieldError>);

impl Errors {
    pub(super) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(path, message));
    }
}

/// Validates `inv`, resolving relative local paths against `base`.
pub fn validate(inv: &mut Inventory, base: &Path) -> Result<(), FieldErrors> {
    let mut e = Errors(Vec::new());
    if inv.version != INVENTORY_VERSION {
        e.add(
            "version",
            format!(
                "unsupported inventory version {}; this provisioner reads version {INVENTORY_VERSION}",
                inv.version
            ),
        );
    }
    check_name(&mut e, "cluster.name", &inv.cluster.name);
    check_binary(&mut e, inv, base);
    check_ssh_defaults(&mut e, inv, base);
    check_hosts(&mut e, inv, base);
    super::network::check_cluster_addresses(&mut e, inv);
    check_pools(&mut e, inv);
    check_ports(&mut e, inv);
    check_credentials(&mut e, inv, base);
    for (field, dir) in [
        ("install_dir", &inv.install_dir),
        ("config_dir", &inv.config_dir),
    ] {
        if !dir.starts_with('/') || dir == "/" {
            e.add(field, "must be an absolute path other than /");
        }
    }
    super::network::check_control_plane(&mut e, inv, base);
    if e.0.is_empty() {
        Ok(())
    } else {
        Err(FieldErrors(e.0))
    }
}

pub(super) fn check_name(e: &mut Errors, path: &str, name: &str) {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if !ok {
        e.add(
            path,
            format!(
                "{name:?} must be 1 to 63 lowercase letters, digits or '-', not starting with '-'"
            ),
        );
    }
}

pub(super) fn resolve(base: &Path, p: &str) -> String {
    let expanded = expand_home(p);
    if expanded.is_absolute() {
        expanded.to_string_lossy().into_owned()
    } else {
        base.join(expanded).to_string_lossy().into_owned()
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn check_binary(e: &mut Errors, inv: &mut Inventory, base: &Path) {
    let b = &mut inv.binary;
    match (&b.path, &b.url) {
        (Some(_), Some(_)) => e.add("binary", "set either path or url, not both"),
        (None, None) => e.add("binary", "set path (a local rustfs binary) or url + sha256"),
        (Some(p), None) => {
            let resolved = resolve(base, p);
            if !Path::new(&resolved).is_file() {
                e.add(
                    "binary.path",
                    format!("{resolved} is not a file — build rustfs first or fix the path"),
                );
            }
            b.path = Some(resolved);
        }
        (None, Some(url)) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                e.add(
                    "binary.url",
                    format!("{url:?} must be an http:// or https:// URL"),
                );
            }
            if b.sha256.is_none() {
                e.add("binary.sha256", "required with binary.url");
            }
        }
    }
    if let Some(sha) = &b.sha256 {
        if !is_sha256_hex(sha) {
            e.add("binary.sha256", "must be 64 hex digits");
        }
    }
    if let Some(v) = &b.version {
        if v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
        {
            e.add(
                "binary.version",
                format!("{v:?} may only hold letters, digits and . - _ +"),
            );
        }
    }
}

fn check_port(e: &mut Errors, path: &str, port: u32) {
    if !(1..=65535).contains(&port) {
        e.add(path, format!("{port} is out of range 1..=65535"));
    }
}

fn check_ssh_defaults(e: &mut Errors, inv: &mut Inventory, base: &Path) {
    if let Some(p) = inv.ssh.port {
        check_port(e, "ssh.port", p);
    }
    if let Some(k) = &inv.ssh.key {
        let resolved = resolve(base, k);
        let used = inv
            .hosts
            .iter()
            .any(|h| h.connection == Connection::Ssh && h.ssh.key.is_none());
        if used && !Path::new(&resolved).is_file() {
            e.add("ssh.key", format!("{resolved} is not a readable file"));
        }
        inv.ssh.key = Some(resolved);
    }
    if let Some(k) = &inv.ssh.known_hosts {
        inv.ssh.known_hosts = Some(resolve(base, k));
    }
}

/// `SHA256:` followed by 43 unpadded base64 characters, as OpenSSH prints it.
pub fn is_fingerprint(s: &str) -> bool {
    s.strip_prefix("SHA256:").is_some_and(|b| {
        b.len() == 43
            && b.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
    })
}

fn check_hosts(e: &mut Errors, inv: &mut Inventory, base: &Path) {
    if inv.hosts.is_empty() {
        e.add("hosts", "list at least one host");
    }
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut addrs: HashMap<String, usize> = HashMap::new();
    let default_key = inv.ssh.key.clone();
    for (i, h) in inv.hosts.iter_mut().enumerate() {
        let at = format!("hosts[{i}]");
        let addr = h.address.trim();
        if !super::network::is_host_address(addr) {
            e.add(
                format!("{at}.address"),
                format!("{:?} is not a host name or IP address", h.address),
            );
        } else if let Some(first) = addrs.insert(addr.to_ascii_lowercase(), i) {
            e.add(
                format!("{at}.address"),
                format!("duplicate address {addr} (also hosts[{first}])"),
            );
        }
        if let Some(n) = &h.name {
            check_name(e, &format!("{at}.name"), n);
        }
        if let Some(first) = names.insert(h.name().to_string(), i) {
            if h.name.is_some() {
                e.add(
                    format!("{at}.name"),
                    format!("duplicate host name {} (also hosts[{first}])", h.name()),
                );
            }
        }
        if let Some(p) = h.ssh.port {
            check_port(e, &format!("{at}.ssh.port"), p);
        }
        if let Some(fp) = &h.ssh.host_key {
            if !is_fingerprint(fp) {
                e.add(
                    format!("{at}.ssh.host_key"),
                    "must be a SHA256 fingerprint like SHA256:AbC… (ssh-keygen -lf KEY.pub prints it)",
                );
            }
        }
        if let Some(k) = &h.ssh.key {
            h.ssh.key = Some(resolve(base, k));
        }
        if h.connection == Connection::Ssh {
            match h.ssh.key.as_ref().or(default_key.as_ref()) {
                None => e.add(
                    format!("{at}.ssh.key"),
                    "no SSH private key: set ssh.key (for all hosts) or hosts[].ssh.key",
                ),
                Some(k) if h.ssh.key.is_some() && !Path::new(k).is_file() => {
                    e.add(
                        format!("{at}.ssh.key"),
                        format!("{k} is not a readable file"),
                    );
                }
                Some(_) => {}
            }
        }
        if h.drives.is_empty() {
            e.add(format!("{at}.drives"), "list at least one drive");
        }
        let mut seen = HashSet::new();
        for (j, d) in h.drives.iter().enumerate() {
            let dp = format!("{at}.drives[{j}]");
            if !d.starts_with('/') {
                e.add(dp, "must be an absolute path");
            } else if d == "/" || d.split('/').any(|c| c == "..") || d.contains('\0') {
                e.add(dp, "must not be / or contain '..'");
            } else if !seen.insert(d.trim_end_matches('/')) {
                e.add(dp, format!("duplicate drive {d}"));
            }
        }
    }
}

fn check_pools(e: &mut Errors, inv: &Inventory) {
    let class = match inv.storage_class.as_deref().map(str::parse::<StorageClass>) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => {
            e.add(
                "storage_class",
                "must be EC:N where N is the parity drive count per erasure set",
            );
            None
        }
    };
    let mut pool_of: HashMap<usize, usize> = HashMap::new();
    let pools: Vec<(String, Vec<usize>)> = if inv.pools.is_empty() {
        vec![("hosts".to_string(), (0..inv.hosts.len()).collect())]
    } else {
        let mut out = Vec::new();
        for (p, pool) in inv.pools.iter().enumerate() {
            if pool.hosts.is_empty() {
                e.add(format!("pools[{p}].hosts"), "list at least one host");
            }
            let mut members = Vec::new();
            for (k, name) in pool.hosts.iter().enumerate() {
                let at = format!("pools[{p}].hosts[{k}]");
                match inv.host_index(name) {
                    None => e.add(at, format!("no host named {name}")),
                    Some(i) => match pool_of.insert(i, p) {
                        Some(q) => e.add(at, format!("host {name} is already in pools[{q}]")),
                        None => members.push(i),
                    },
                }
            }
            out.push((format!("pools[{p}]"), members));
        }
        for (i, h) in inv.hosts.iter().enumerate() {
            if !pool_of.contains_key(&i) {
                e.add(
                    format!("hosts[{i}]"),
                    format!("host {} is in no pool", h.name()),
                );
            }
        }
        out
    };
    for (at, members) in pools {
        let Some(&first) = members.first() else {
            continue;
        };
        let per_host = inv.hosts[first].drives.len();
        let uneven: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| inv.hosts[i].drives.len() != per_host)
            .collect();
        if !uneven.is_empty() {
            for i in uneven {
                e.add(
                    format!("hosts[{i}].drives"),
                    format!(
                        "{} drive(s), but {} has {per_host}: every host of a pool needs the same drive count",
                        inv.hosts[i].drives.len(),
                        inv.hosts[first].name()
                    ),
                );
            }
            continue;
        }
        if per_host == 0 {
            continue;
        }
        let total = per_host * members.len();
        match layout::set_drive_count(total, members.len(), inv.set_drive_count) {
            Ok(set) if set >= 2 => {
                if let Some(c) = class {
                    if c.parity > set / 2 {
                        e.add(
                            "storage_class",
                            format!(
                                "EC:{} exceeds half of the erasure sets of {set} drives in {} (at most EC:{})",
                                c.parity,
                                if at == "hosts" { "the pool" } else { at.as_str() },
                                set / 2
                            ),
                        );
                    }
                }
            }
            Ok(_) => e.add(
                at,
                format!("{total} drive(s) in total cannot form an erasure set: a pool needs at least 2 drives"),
            ),
            Err(err) => {
                let field = if inv.set_drive_count.is_some() {
                    "set_drive_count".to_string()
                } else {
                    at
                };
                e.add(field, err.to_string());
            }
        }
    }
}

fn check_ports(e: &mut Errors, inv: &Inventory) {
    check_port(e, "ports.s3", inv.ports.s3);
    check_port(e, "ports.console", inv.ports.console);
    if inv.ports.s3 == inv.ports.console {
        e.add("ports.console", "must differ from ports.s3");
    }
}

fn check_secret(
    e: &mut Errors,
    base: &Path,
    field: &str,
    value: &mut Option<Secret>,
    file: &mut Option<String>,
    len: std::ops::RangeInclusive<usize>,
) {
    match (value.as_ref(), file.as_ref()) {
        (Some(_), Some(_)) => e.add(
            format!("credentials.{field}"),
            format!("set {field} or {field}_file, not both"),
        ),
        (None, None) => e.add(
            format!("credentials.{field}"),
            format!(
                "required: set {field} (e.g. ${{RUSTFS_ROOT_{}}}) or {field}_file",
                field.to_uppercase()
            ),
        ),
        (None, Some(f)) => {
            let resolved = resolve(base, f);
            match std::fs::read_to_string(&resolved) {
                Ok(s) => *value = Some(Secret::new(s.trim_end_matches(['\r', '\n']))),
                Err(err) => e.add(
                    format!("credentials.{field}_file"),
                    format!("cannot read {resolved}: {err}"),
                ),
            }
            *file = Some(resolved);
        }
        (Some(_), None) => {}
    }
    if let Some(v) = value {
        if v.expose().chars().any(|c| c == '\'' || c.is_control()) {
            let at = if file.is_some() {
                format!("credentials.{field}_file")
            } else {
                format!("credentials.{field}")
            };
            e.add(at, "must not contain ' or control characters");
        }
        if !len.contains(&v.expose().chars().count()) {
            let at = if file.is_some() {
                format!("credentials.{field}_file")
            } else {
                format!("credentials.{field}")
            };
            e.add(
                at,
                format!("must be {} to {} characters", len.start(), len.end()),
            );
        }
    }
}

fn check_credentials(e: &mut Errors, inv: &mut Inventory, base: &Path) {
    let c = &mut inv.credentials;
    check_secret(e, base, "user", &mut c.user, &mut c.user_file, 3..=128);
    check_secret(
        e,
        base,
        "password",
        &mut c.password,
        &mut c.password_file,
        8..=128,
    );
}
