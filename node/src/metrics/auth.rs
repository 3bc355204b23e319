//! Who may scrape `/rustfs/metrics`: Prometheus presenting the configured bearer token
//! (`--metrics-token`, `RUSTFS_METRICS_TOKEN` or `RUSTFS_METRICS_TOKEN_FILE`), or anyone when
//! the operator says so explicitly (`--metrics-public`, `RUSTFS_METRICS_PUBLIC=true`). With
//! neither, every scrape is refused with a message saying how to configure one.

use http::{HeaderMap, StatusCode};

/// How scrapes are authenticated.
#[derive(Clone)]
pub enum ScrapeAuth {
    /// `Authorization: Bearer <token>` must match.
    Token(String),
    /// No authentication (a trusted network).
    Public,
    /// Nothing configured: refuse every scrape.
    Unconfigured,
}

impl std::fmt::Debug for ScrapeAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ScrapeAuth::Token(_) => "Token(..)",
            ScrapeAuth::Public => "Public",
            ScrapeAuth::Unconfigured => "Unconfigured",
        })
    }
}

impl ScrapeAuth {
    /// From the configured token (empty counts as none) and `--metrics-public`
    /// (`config::ServerConfig::scrape_auth` reads the flags and environment).
    pub fn new(token: Option<String>, public: bool) -> Result<Self, String> {
        let token = token.filter(|t| !t.is_empty());
        match (token, public) {
            (Some(_), true) => Err(
                "both a metrics token and --metrics-public are set — choose one: a token for \
                 authenticated scrapes, or public metrics on a trusted network"
                    .into(),
            ),
            (Some(t), false) if t.len() < 16 => Err(format!(
                "the metrics token is {} characters; use at least 16 (e.g. `openssl rand -hex 32`)",
                t.len()
            )),
            (Some(t), false) => Ok(ScrapeAuth::Token(t)),
            (None, true) => Ok(ScrapeAuth::Public),
            (None, false) => Ok(ScrapeAuth::Unconfigured),
        }
    }

    /// `Ok` when the request may scrape; else the status and the reason to answer with.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), (StatusCode, &'static str)> {
        let expected = match self {
            ScrapeAuth::Public => return Ok(()),
            ScrapeAuth::Unconfigured => {
                return Err((
                    StatusCode::FORBIDDEN,
                    "metrics are disabled: start the node with RUSTFS_METRICS_TOKEN (and give \
                     Prometheus that bearer token) or with RUSTFS_METRICS_PUBLIC=true\n",
                ))
            }
            ScrapeAuth::Token(t) => t,
        };
        let given = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match given {
            None => Err((
                StatusCode::UNAUTHORIZED,
                "metrics need `Authorization: Bearer <token>` with the node's RUSTFS_METRICS_TOKEN\n",
            )),
            Some(g) if constant_time_eq(g.trim().as_bytes(), expected.as_bytes()) => Ok(()),
            Some(_) => Err((
                StatusCode::FORBIDDEN,
                "the bearer token does not match this node's RUSTFS_METRICS_TOKEN\n",
            )),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
