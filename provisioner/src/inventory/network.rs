//! Addresses: hosts' `address` and `cluster_address`, and the control plane's URL (which the
//! provisioner sends credentials to, so plain http is allowed on loopback only).

use std::collections::HashMap;
use std::path::Path;

use super::validate::{check_name, resolve, Errors};
use super::{Connection, Inventory, Secret};

/// A host name or IP address as the inventory may write it (no spaces, no path).
pub(super) fn is_host_address(a: &str) -> bool {
    !a.is_empty() && !a.contains(char::is_whitespace) && !a.contains('/')
}

/// `cluster_address`: every host has one or none does; each is this host's own (not another
/// host's `address`), unique, and only on SSH hosts (a local node listens on one address).
pub(super) fn check_cluster_addresses(e: &mut Errors, inv: &Inventory) {
    let Some(first) = inv.hosts.iter().position(|h| h.cluster_address.is_some()) else {
        return;
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, h) in inv.hosts.iter().enumerate() {
        let at = format!("hosts[{i}].cluster_address");
        let Some(ca) = h.cluster_address.as_deref().map(str::trim) else {
            e.add(
                at,
                format!("required: hosts[{first}] has a cluster_address, so every host needs one (or none may have one)"),
            );
            continue;
        };
        if !is_host_address(ca) {
            e.add(at, format!("{ca:?} is not a host name or IP address"));
            continue;
        }
        if h.connection == Connection::Local {
            e.add(
                at,
                "not with connection: local — a local node listens on its address only; remove cluster_address",
            );
            continue;
        }
        let other = inv
            .hosts
            .iter()
            .enumerate()
            .find(|(j, o)| *j != i && o.address.trim().eq_ignore_ascii_case(ca));
        if let Some((j, o)) = other {
            e.add(
                at,
                format!(
                    "{ca} is the address of hosts[{j}] ({}): a cluster address must be this host's own address on the cluster network",
                    o.name()
                ),
            );
        } else if let Some(prev) = seen.insert(ca.to_ascii_lowercase(), i) {
            e.add(
                at,
                format!("duplicate cluster address {ca} (also hosts[{prev}])"),
            );
        }
    }
}

/// Whether `url` (`SCHEME://HOST[:PORT][/…]`) names this machine's loopback: `localhost`,
/// `127.0.0.0/8` or `[::1]`.
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a control plane the provisioner would send credentials to in plaintext over a
/// network: `http://` anywhere but this machine's loopback.
pub fn control_plane_transport(address: &str) -> Result<(), String> {
    if address.starts_with("http://") && !is_loopback_url(address) {
        return Err(format!(
            "{address:?} is plain http to another machine, and the provisioner sends the control plane its token and the cluster's root credentials — use https:// (rustfs-controlplane --tls-cert/--tls-key; control_plane.install sets that up) or a loopback address"
        ));
    }
    Ok(())
}

/// `control_plane`: the installed one's host, binary and port (its address defaults to https on
/// that host), a URL the provisioner may send credentials to, and exactly one source of token.
pub(super) fn check_control_plane(e: &mut Errors, inv: &mut Inventory, base: &Path) {
    let hosts: Vec<(String, String)> = inv
        .hosts
        .iter()
        .map(|h| (h.name().to_string(), h.address.clone()))
        .collect();
    if let Some(cp) = &mut inv.control_plane {
        if let Some(install) = &mut cp.install {
            install.binary = resolve(base, &install.binary);
            if !Path::new(&install.binary).is_file() {
                e.add(
                    "control_plane.install.binary",
                    format!(
                        "{} is not a file — build it (cargo build --release -p rustfs-controlplane) or fix the path",
                        install.binary
                    ),
                );
            }
            if install.port == 0 {
                e.add("control_plane.install.port", "must be 1–65535");
            }
            match hosts.iter().find(|(name, _)| *name == install.host) {
                None => e.add(
                    "control_plane.install.host",
                    format!("{:?} is not the name of a host in hosts[]", install.host),
                ),
                Some((_, address)) if cp.address.is_empty() => {
                    let a = if address.contains(':') {
                        format!("[{address}]")
                    } else {
                        address.clone()
                    };
                    // The provisioner issues it a certificate from the cluster CA.
                    cp.address = format!("https://{a}:{}", install.port);
                }
                Some(_) => {}
            }
        }
        if !(cp.address.starts_with("http://") || cp.address.starts_with("https://")) {
            e.add(
                "control_plane.address",
                format!("{:?} must be an http:// or https:// URL", cp.address),
            );
        } else if let Err(m) = control_plane_transport(&cp.address) {
            e.add("control_plane.address", m);
        }
        match (&cp.token, &cp.token_file) {
            (Some(_), _) | (_, Some(_)) if cp.install.is_some() => e.add(
                "control_plane.token",
                "not with control_plane.install: the token is read from the installed control plane",
            ),
            (None, None) if cp.install.is_some() => {}
            (Some(_), Some(_)) => e.add("control_plane.token", "set token or token_file, not both"),
            (None, None) => e.add(
                "control_plane.token",
                "required: set token (e.g. ${RUSTFS_CONTROLPLANE_TOKEN}) or token_file (the control plane's admin.token)",
            ),
            (None, Some(f)) => {
                let resolved = resolve(base, f);
                match std::fs::read_to_string(&resolved) {
                    Ok(t) => cp.token = Some(Secret::new(t.trim())),
                    Err(err) => e.add(
                        "control_plane.token_file",
                        format!("cannot read {resolved}: {err}"),
                    ),
                }
                cp.token_file = Some(resolved);
            }
            (Some(_), None) => {}
        }
        if let Some(site) = &cp.site {
            check_name(e, "control_plane.site", site);
        }
    }
}
