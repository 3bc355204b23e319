//! Validation of names and registrations, done before any write so a bad request writes
//! nothing. Messages name the field and say what is allowed.

use crate::api::{
    Connection, CreateRelease, CreateToken, HostAccess, PollCredentials, RegisterCluster,
};
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

fn absolute(at: &str, path: &str) -> Result<()> {
    if !path.starts_with('/') || path.split('/').any(|c| c == "..") || path.contains('\0') {
        return Err(Error::InvalidArgument(format!(
            "{at} {path:?} must be an absolute path without '..'"
        )));
    }
    Ok(())
}

fn access(at: &str, a: &HostAccess, have_key: bool) -> Result<()> {
    absolute(&format!("{at}.install_dir"), &a.install_dir)?;
    if a.connection == Connection::Local {
        return Ok(());
    }
    if !have_key {
        return Err(Error::InvalidArgument(format!(
            "{at}: an ssh host needs the cluster's deploy_key"
        )));
    }
    let user_ok = a.ssh_user.len() <= 32
        && a.ssh_user
            .starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && a.ssh_user
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !user_ok {
        return Err(Error::InvalidArgument(format!(
            "{at}.ssh_user {:?} is not a user name (a-z, 0-9, _ and -)",
            a.ssh_user
        )));
    }
    if a.ssh_port == 0 {
        return Err(Error::InvalidArgument(format!(
            "{at}.ssh_port must be 1-65535"
        )));
    }
    match &a.host_key {
        Some(k) if k.starts_with("SHA256:") && k.len() <= 100 => Ok(()),
        _ => Err(Error::InvalidArgument(format!(
            "{at}.host_key must be the host key's fingerprint (SHA256:…, as ssh-keygen -lf prints it): the control plane trusts no other key"
        ))),
    }
}

/// Architectures a release may be built for (`uname -m` names).
pub const ARCHES: [&str; 2] = ["x86_64", "aarch64"];

/// A release version: 1–64 of `A-Z a-z 0-9 . _ + -`, not starting with `-` (the hosts' upgrade
/// verbs accept exactly these).
pub fn release_version(v: &str) -> Result<()> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && !v.starts_with('-')
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c));
    if !ok {
        return Err(Error::InvalidArgument(format!(
            "version {v:?} must be 1-64 of A-Z a-z 0-9 . _ + - (not starting with -)"
        )));
    }
    Ok(())
}

/// A release request; returns its architecture (the control plane's own by default).
pub fn release(r: &CreateRelease) -> Result<String> {
    release_version(&r.version)?;
    if r.sha256.len() != 64 || !r.sha256.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(Error::InvalidArgument(format!(
            "sha256 {:?} must be 64 lowercase hex digits (sha256sum prints them)",
            r.sha256
        )));
    }
    let arch = r
        .arch
        .clone()
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    if !ARCHES.contains(&arch.as_str()) {
        return Err(Error::InvalidArgument(format!(
            "arch {arch:?} is not one of {}",
            ARCHES.join(", ")
        )));
    }
    match (&r.path, &r.url) {
        (Some(p), None) => absolute("path", p)?,
        (None, Some(u))
            if (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 2048 => {}
        (None, Some(u)) => {
            return Err(Error::InvalidArgument(format!(
                "url {u:?} must be an http:// or https:// URL"
            )))
        }
        _ => {
            return Err(Error::InvalidArgument(
                "give exactly one of path (a file on the control plane's machine) and url".into(),
            ))
        }
    }
    Ok(arch)
}

/// Every rule of a registration; the first one broken is the error.
pub fn registration(cluster: &str, r: &RegisterCluster) -> Result<()> {
    name("cluster", cluster)?;
    name("site", &r.site)?;
    credentials(&r.credentials)?;
    if let Some(key) = &r.deploy_key {
        let k = key.0.trim();
        if k.len() > 16 * 1024
            || !k.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")
            || !k.ends_with("-----END OPENSSH PRIVATE KEY-----")
        {
            return Err(Error::InvalidArgument(
                "deploy_key must be an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY----- …), as rustfs-provision makes in its state directory".into(),
            ));
        }
    }
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
            if let Some(a) = &host.access {
                access(&format!("{at}.access"), a, r.deploy_key.is_some())?;
            }
            if host.drives.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "{at}.drives must list at least one drive"
                )));
            }
            let mut paths = HashSet::new();
            for (d, path) in host.drives.iter().enumerate() {
                absolute(&format!("{at}.drives[{d}]"), path)?;
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

    #[test]
    fn host_access_needs_a_deploy_key_a_pinned_host_key_and_sane_paths() {
        let body = |access: &str, key: bool| {
            let key = if key {
                r#","deploy_key":"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n""#
            } else {
                ""
            };
            let text = format!(
                r#"{{"credentials":{{"access_key":"a","secret_key":"s"}}{key},
                "pools":[{{"hosts":[{{"address":"10.0.0.1","drives":["/d1"],"access":{access}}}]}}]}}"#
            );
            let r: RegisterCluster = serde_json::from_str(&text).unwrap();
            registration("c", &r)
        };
        let ssh = r#"{"connection":"ssh","install_dir":"/opt/rustfs","host_key":"SHA256:abc"}"#;
        body(ssh, true).unwrap();
        body(r#"{"connection":"local","install_dir":"/tmp/x/n1"}"#, false).unwrap();
        for (access, key, want) in [
            (ssh, false, "needs the cluster's deploy_key"),
            (
                r#"{"connection":"ssh","install_dir":"/opt/rustfs"}"#,
                true,
                "host_key must be",
            ),
            (
                r#"{"connection":"ssh","install_dir":"opt","host_key":"SHA256:a"}"#,
                true,
                "absolute path",
            ),
            (
                r#"{"connection":"local","install_dir":"/opt/../etc"}"#,
                false,
                "absolute path",
            ),
            (
                r#"{"connection":"ssh","install_dir":"/o","host_key":"SHA256:a","ssh_user":"root;id"}"#,
                true,
                "not a user name",
            ),
        ] {
            let e = body(access, key).unwrap_err().to_string();
            assert!(e.contains(want), "{access}: {e}");
        }
        let bad_key: RegisterCluster = serde_json::from_str(
            r#"{"credentials":{"access_key":"a","secret_key":"s"},"deploy_key":"ssh-ed25519 AAAA",
            "pools":[{"hosts":[{"address":"10.0.0.1","drives":["/d1"]}]}]}"#,
        )
        .unwrap();
        let e = registration("c", &bad_key).unwrap_err().to_string();
        assert!(e.contains("OpenSSH private key"), "{e}");
        assert!(
            !format!("{bad_key:?}").contains("AAAA"),
            "Debug hides the key"
        );
    }
}
