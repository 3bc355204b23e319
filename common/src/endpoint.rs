//! Server-pool arguments → endpoints.
//!
//! `rustfs server ARGS...`: each ARG with ellipses is one pool; ARGs without ellipses all together
//! form a single pool (MinIO's legacy form). An endpoint is either a local path (`/data1`) or a URL
//! naming the node that owns the drive (`http://node1:9000/data1`); one command line uses one kind.

use crate::ellipsis::{self, EllipsisError};
use std::collections::HashSet;
use std::fmt;
use thiserror::Error;

/// Port a URL endpoint without an explicit port is served on.
pub const DEFAULT_PORT: u16 = 9000;

#[derive(Debug, Error)]
pub enum EndpointError {
    #[error(transparent)]
    Ellipsis(#[from] EllipsisError),
    #[error("no drives given — pass at least one drive, e.g. `rustfs server /data{{1...4}}`")]
    Empty,
    #[error("'{0}' is not an absolute path or an http(s):// URL")]
    Invalid(String),
    #[error("'{0}': drive path must be absolute and must not contain '..'")]
    BadPath(String),
    #[error("drive {0} is listed more than once")]
    Duplicate(String),
    #[error("mixing local paths and URLs in one command line is not supported: '{0}'")]
    Mixed(String),
    #[error("mixing arguments with and without ellipses is not supported: '{0}' — write every pool with ellipses, or list every drive")]
    MixedStyle(String),
    #[error("'{0}': mixing http and https between endpoints is not supported")]
    MixedScheme(String),
}

/// Where a drive lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A drive on this node.
    Path(String),
    /// A drive on the node at `host:port`.
    Url {
        https: bool,
        host: String,
        port: u16,
        path: String,
    },
}

impl Endpoint {
    /// Parses one expanded argument.
    pub fn parse(s: &str) -> Result<Self, EndpointError> {
        let (https, rest) = if let Some(r) = s.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = s.strip_prefix("https://") {
            (true, r)
        } else if s.starts_with('/') {
            check_path(s)?;
            return Ok(Endpoint::Path(normalize_path(s)));
        } else {
            return Err(EndpointError::Invalid(s.into()));
        };
        let slash = rest
            .find('/')
            .ok_or_else(|| EndpointError::Invalid(s.into()))?;
        let (hostport, path) = rest.split_at(slash);
        check_path(path)?;
        let (host, port) =
            split_host_port(hostport).ok_or_else(|| EndpointError::Invalid(s.into()))?;
        Ok(Endpoint::Url {
            https,
            host,
            port: port.unwrap_or(DEFAULT_PORT),
            path: normalize_path(path),
        })
    }

    /// The drive's path on its node.
    pub fn path(&self) -> &str {
        match self {
            Endpoint::Path(p) => p,
            Endpoint::Url { path, .. } => path,
        }
    }

    /// `host:port` of the owning node, or `None` for a local path.
    pub fn host_port(&self) -> Option<String> {
        match self {
            Endpoint::Path(_) => None,
            Endpoint::Url { host, port, .. } if host.contains(':') => {
                Some(format!("[{host}]:{port}"))
            }
            Endpoint::Url { host, port, .. } => Some(format!("{host}:{port}")),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Path(p) => f.write_str(p),
            Endpoint::Url { https, path, .. } => {
                let scheme = if *https { "https" } else { "http" };
                write!(
                    f,
                    "{scheme}://{}{path}",
                    self.host_port().unwrap_or_default()
                )
            }
        }
    }
}

fn check_path(p: &str) -> Result<(), EndpointError> {
    if !p.starts_with('/') || p.split('/').any(|c| c == "..") || p.contains('\0') {
        return Err(EndpointError::BadPath(p.into()));
    }
    Ok(())
}

fn normalize_path(p: &str) -> String {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        // Brackets hold an IPv6 address and nothing else (anything else would reach the
        // endpoint's host unchecked, and print as a URL that does not parse back).
        host.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse().ok()?)),
        None => (s, None),
    };
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b'_');
    ok.then(|| (host.to_string(), port))
}

/// One server pool: its drives in set order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolEndpoints {
    /// The argument as the operator wrote it (or the legacy list joined by spaces).
    pub arg: String,
    pub endpoints: Vec<Endpoint>,
}

impl PoolEndpoints {
    /// Number of distinct nodes holding this pool's drives (1 for local paths).
    pub fn num_nodes(&self) -> usize {
        let hosts: HashSet<Option<String>> =
            self.endpoints.iter().map(Endpoint::host_port).collect();
        hosts.len()
    }
}

/// Expands the server arguments into pools, refusing malformed, duplicate or mixed endpoints.
pub fn parse_pools(args: &[String]) -> Result<Vec<PoolEndpoints>, EndpointError> {
    if args.is_empty() {
        return Err(EndpointError::Empty);
    }
    let with = args.iter().filter(|a| ellipsis::has_ellipsis(a)).count();
    let pools: Vec<PoolEndpoints> = if with == 0 {
        let endpoints = args
            .iter()
            .map(|a| Endpoint::parse(a))
            .collect::<Result<_, _>>()?;
        vec![PoolEndpoints {
            arg: args.join(" "),
            endpoints,
        }]
    } else if with == args.len() {
        let mut pools = Vec::new();
        for arg in args {
            let endpoints = ellipsis::expand(arg)?
                .iter()
                .map(|s| Endpoint::parse(s))
                .collect::<Result<_, _>>()?;
            pools.push(PoolEndpoints {
                arg: arg.clone(),
                endpoints,
            });
        }
        pools
    } else {
        let odd = args
            .iter()
            .find(|a| !ellipsis::has_ellipsis(a))
            .cloned()
            .unwrap_or_default();
        return Err(EndpointError::MixedStyle(odd));
    };

    let mut seen = HashSet::new();
    let first = &pools[0].endpoints[0];
    for ep in pools.iter().flat_map(|p| &p.endpoints) {
        match (first, ep) {
            (Endpoint::Path(_), Endpoint::Url { .. })
            | (Endpoint::Url { .. }, Endpoint::Path(_)) => {
                return Err(EndpointError::Mixed(ep.to_string()));
            }
            (Endpoint::Url { https: a, .. }, Endpoint::Url { https: b, .. }) if a != b => {
                return Err(EndpointError::MixedScheme(ep.to_string()));
            }
            _ => {}
        }
        if !seen.insert((ep.host_port(), ep.path().to_string())) {
            return Err(EndpointError::Duplicate(ep.to_string()));
        }
    }
    Ok(pools)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn local_pool() {
        let pools = parse_pools(&args(&["/data{1...4}"])).unwrap();
        assert_eq!(pools.len(), 1);
        assert_eq!(pools[0].endpoints.len(), 4);
        assert_eq!(pools[0].num_nodes(), 1);
        assert_eq!(pools[0].endpoints[3], Endpoint::Path("/data4".into()));
    }

    #[test]
    fn several_pools_and_urls() {
        let pools = parse_pools(&args(&[
            "http://node{1...4}.example.com/data{1...4}",
            "http://node{5...8}.example.com:9001/data{1...2}",
        ]))
        .unwrap();
        assert_eq!(pools.len(), 2);
        assert_eq!(pools[0].num_nodes(), 4);
        assert_eq!(pools[1].endpoints.len(), 8);
        assert_eq!(
            pools[0].endpoints[1].host_port().unwrap(),
            "node2.example.com:9000"
        );
        assert_eq!(
            pools[1].endpoints[0].host_port().unwrap(),
            "node5.example.com:9001"
        );
    }

    #[test]
    fn legacy_list_is_one_pool() {
        let pools = parse_pools(&args(&["/a", "/b", "/c", "/d"])).unwrap();
        assert_eq!(pools.len(), 1);
        assert_eq!(pools[0].endpoints.len(), 4);
    }

    #[test]
    fn refusals() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "no drives"),
            (&["/d{1...2}", "/d{2...3}"], "more than once"),
            (&["/a", "/a/"], "more than once"),
            (&["relative/d{1...4}"], "absolute path"),
            (&["/d/../x{1...4}"], "'..'"),
            (&["/d{1...4}", "http://h/d{1...4}"], "mixing local"),
            (&["/d{1...4}", "/x"], "with and without"),
            (&["http://h:notaport/d{1...4}"], "not an absolute"),
            (
                &["http://a{1...2}/d{1...2}", "https://b{1...2}/d{1...2}"],
                "http and https",
            ),
        ];
        for (a, want) in cases {
            let err = parse_pools(&args(a)).unwrap_err().to_string();
            assert!(err.contains(want), "{a:?}: {err}");
        }
    }

    #[test]
    fn ipv6_hosts() {
        let ep = Endpoint::parse("http://[::1]:9000/d").unwrap();
        assert_eq!(ep.host_port().unwrap(), "[::1]:9000");
    }

    /// Fuzzing (`fuzz/fuzz_targets/endpoints.rs`) found that brackets took any text as the host:
    /// `http://[0\x1a1]:9/d` was accepted and printed as a URL that is refused.
    #[test]
    fn brackets_hold_only_ipv6_addresses() {
        for bad in [
            "http://[0\u{1a}1]:9/000//d.",
            "http://[]:9000/d",
            "http://[node1]:9000/d",
            "http://[a b]/d",
            "http://[10.0.0.1]:9000/d",
        ] {
            assert!(
                matches!(Endpoint::parse(bad), Err(EndpointError::Invalid(_))),
                "{bad:?}"
            );
        }
        for good in ["http://[::1]/d", "https://[fe80::1:2]:9443/d"] {
            let ep = Endpoint::parse(good).unwrap();
            assert_eq!(Endpoint::parse(&ep.to_string()).unwrap(), ep, "{good}");
        }
    }
}
