//! Validation of names and registrations, done before any write so a bad request writes
//! nothing. Messages name the field and say what is allowed.

use crate::api::{PollCredentials, RegisterCluster};
use crate::error::{Error, Result};
use std::collections::HashSet;

/// Largest `ca_pem` accepted (a bundle of a few CA certificates).
const MAX_CA_PEM_BYTES: usize = 64 << 10;

/// Cluster and site names: the provisioner's `cluster.name` rule.
pub fn name(what: &str, s: &str) -> Result<()> {
    let ok = (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} {s:?} is not a valid name: use 1-63 of a-z, 0-9 and -, not starting with -"
        )))
    }
}

/// Node names: a host name or an address.
pub fn node_name(what: &str, s: &str) -> Result<()> {
    let ok = (1..=253).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} {s:?} is not a valid node name: use 1-253 of A-Z, a-z, 0-9, '.', '-' and '_'"
        )))
    }
}

/// Token ids as the API hands them out (16 hex digits).
pub fn token_id(s: &str) -> Result<()> {
    if s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "token id {s:?} is not valid: token ids are 16 hex digits, as `GET /v1/tokens` lists them"
        )))
    }
}

fn address(at: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{at}.address {s:?} must be an IP address or DNS name"
        )))
    }
}

fn credentials(c: &PollCredentials) -> Result<()> {
    if c.access_key.is_empty() || c.access_key.chars().count() > 128 {
        return Err(Error::InvalidArgument(
            "credentials.access_key must be 1-128 characters".into(),
        ));
    }
    if c.secret_key.is_empty() || c.secret_key.chars().count() > 128 {
        return Err(Error::InvalidArgument(
            "credentials.secret_key must be 1-128 characters".into(),
        ));
    }
    Ok(())
}

/// Every rule of a registration; the first one broken is the error.
pub fn registration(cluster: &str, r: &RegisterCluster) -> Result<()> {
    name("cluster", cluster)?;
    name("site", &r.site)?;
    credentials(&r.credentials)?;
    if let Some(v) = &r.version {
        if v.is_empty() || v.chars().count() > 64 || v.chars().any(|c| c.is_whitespace()) {
            return Err(Error::InvalidArgument(format!(
                "version {v:?} must be 1-64 characters without spaces"
            )));
        }
    }
    for (i, e) in r.s3_endpoints.iter().enumerate() {
        if !(e.starts_with("http://") || e.starts_with("https://")) || e.chars().count() > 2048 {
            return Err(Error::InvalidArgument(format!(
                "s3_endpoints[{i}] {e:?} must be an http:// or https:// URL"
            )));
        }
    }
    if let Some(pem) = &r.ca_pem {
        if pem.len() > MAX_CA_PEM_BYTES {
            return Err(Error::InvalidArgument(format!(
                "ca_pem is over {MAX_CA_PEM_BYTES} bytes; give the cluster CA certificate(s) only"
            )));
        }
        crate::poller::tls::check_ca_pem(pem).map_err(|e| {
            Error::InvalidArgument(format!(
                "{e}; give the PEM of the cluster CA (e.g. the provisioner's ca.crt)"
            ))
        })?;
    }
    if r.pools.is_empty() {
        return Err(Error::InvalidArgument(
            "pools must list at least one pool".into(),
        ));
    }
    let mut names = HashSet::new();
    let mut endpoints = HashSet::new();
    for (p, pool) in r.pools.iter().enumerate() {
        if pool.hosts.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "pools[{p}].hosts must list at least one host"
            )));
        }
        for (h, host) in pool.hosts.iter().enumerate() {
            let at = format!("pools[{p}].hosts[{h}]");
            address(&at, &host.address)?;
            node_name(&format!("{at}.name"), host.node_name())?;
            if host.s3_port == 0 {
                return Err(Error::InvalidArgument(format!(
                    "{at}.s3_port must be 1-65535"
                )));
            }
            if !names.insert(host.node_name().to_string()) {
                return Err(Error::InvalidArgument(format!(
                    "{at}: node name {:?} appears twice; names must be unique in a cluster",
                    host.node_name()
                )));
            }
            if !endpoints.insert((host.address.clone(), host.s3_port)) {
                return Err(Error::InvalidArgument(format!(
                    "{at}: {}:{} appears twice; one node per address and port",
                    host.address, host.s3_port
                )));
            }
            if host.drives.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "{at}.drives must list at least one drive"
                )));
            }
            let mut paths = HashSet::new();
            for (d, path) in host.drives.iter().enumerate() {
                if !path.starts_with('/')
                    || path.split('/').any(|c| c == "..")
                    || path.contains('\0')
                {
                    return Err(Error::InvalidArgument(format!(
                        "{at}.drives[{d}] {path:?} must be an absolute path without '..'"
                    )));
                }
                if !paths.insert(path) {
                    return Err(Error::InvalidArgument(format!(
                        "{at}.drives[{d}] {path:?} appears twice"
                    )));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "prod-1", "0x"] {
            name("cluster", ok).unwrap();
        }
        for bad in ["", "-a", "Prod", "a_b", "a/b", &"x".repeat(64)] {
            assert!(name("cluster", bad).is_err(), "{bad:?}");
        }
        node_name("node", "10.0.0.1").unwrap();
        node_name("node", "n1.example.com").unwrap();
        assert!(node_name("node", "a b").is_err());
        token_id("0123456789abcdef").unwrap();
        assert!(token_id("xyz").is_err());
    }
}
