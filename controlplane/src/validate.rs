//! Validation of names and registrations, done before any write so a bad request writes
//! nothing. Messages name the field and say what is allowed.

use crate::api::{CreateToken, PollCredentials, RegisterCluster};
use crate::db::{parse_rfc3339, NewToken};
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

/// `POST /v1/tokens` at `now_millis`: the name is checked when stored; `expires_at` must be an
/// RFC 3339 time in the future.
pub fn token_request(t: &CreateToken, now_millis: i64) -> Result<NewToken> {
    let expires_at = match &t.expires_at {
        None => None,
        Some(s) => {
            let at = parse_rfc3339(s).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "expires_at {s:?} is not an RFC 3339 time such as 2027-01-02T03:04:05Z"
                ))
            })?;
            if at <= now_millis {
                return Err(Error::InvalidArgument(format!(
                    "expires_at {s:?} is not in the future; leave it out for a token that does not expire"
                )));
            }
            Some(at)
        }
    };
    Ok(NewToken {
        name: t.name.clone(),
        scope: t.scope,
        expires_at,
    })
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

    #[test]
    fn token_expiry_is_a_future_rfc3339_time() {
        use crate::api::TokenScope;
        let now = crate::db::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
        let req = |e: Option<&str>| CreateToken {
            name: "ci".into(),
            scope: TokenScope::Read,
            expires_at: e.map(str::to_string),
        };
        let t = token_request(&req(Some("2026-06-01T01:00:00+01:00")), now);
        assert!(t.unwrap_err().to_string().contains("not in the future"));
        let t = token_request(&req(Some("2026-06-02T00:00:00Z")), now).unwrap();
        assert_eq!(t.expires_at, Some(now + 86_400_000));
        assert_eq!(token_request(&req(None), now).unwrap().expires_at, None);
        let e = token_request(&req(Some("tomorrow")), now).unwrap_err();
        assert!(e.to_string().contains("RFC 3339"), "{e}");
    }
}
