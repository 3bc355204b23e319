//! A typed client of the `/v1` API: one method per route, each answer decoded into its wire type,
//! each refusal into [`ClientError`] with the control plane's own code and message.

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{
    AuditPage, Cluster, ClusterList, CreateRelease, CreateToken, CreatedRelease, CreatedToken,
    DriveList, ErrorBody, ErrorCode, EventPage, HealthSummary, Node, NodeList, RegisterCluster,
    RegisterResponse, ReleaseList, Site, SiteList, TokenList,
};

/// Why a call failed. Messages say what went wrong and, where the caller can, what to do.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A name that cannot be one path segment (empty, `.` or `..`): it would name another route.
    #[error("{0:?} is not a name the control plane has (empty, '.' and '..' are never names)")]
    Name(String),
    /// The address is not an http(s) base URL.
    #[error("control plane address {0:?} is not an http(s) URL — give one like https://cp.example.com:7070")]
    Address(String),
    /// Nothing answered (connection refused, TLS handshake failed, timed out).
    #[error(
        "cannot reach the control plane at {base} ({detail}) — is it running at that address?"
    )]
    Unreachable { base: String, detail: String },
    /// The token is missing, unknown, expired or revoked.
    #[error("the control plane at {base} refused the token ({message}) — use a valid token")]
    Unauthorized { base: String, message: String },
    /// Any other refusal, with the API's error code.
    #[error("the control plane answered HTTP {status} ({}): {message}", code.as_str())]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// An answer that is not the API's (a proxy's error page, a wrong address).
    #[error("the control plane answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// A success whose body is not the expected shape (a different version, a wrong address).
    #[error("unexpected answer from the control plane ({detail}): {body}")]
    Decode { detail: String, body: String },
}

impl ClientError {
    /// The API's error code, when the control plane answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { code, .. } => Some(*code),
            ClientError::Unauthorized { .. } => Some(ErrorCode::Unauthorized),
            _ => None,
        }
    }
}

/// Filters of `GET /v1/events` (all optional).
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A client of one control plane, calling with one bearer token. `Debug` never shows the token.
#[derive(Clone)]
pub struct Client {
    base: Url,
    token: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the control plane at `base` (e.g. `https://cp:7070`). `http` carries the
    /// trust roots and timeouts the caller chose (the cluster CA for one it installed).
    pub fn new(base: &str, token: &str, http: reqwest::Client) -> Result<Client, ClientError> {
        let bad = || ClientError::Address(base.to_string());
        let url = Url::parse(base.trim_end_matches('/')).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
            return Err(bad());
        }
        Ok(Client {
            base: url,
            token: token.to_string(),
            http,
        })
    }

    /// The base URL, as given.
    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `base/v1/SEGMENTS…`, each segment percent-encoded; a segment that URL resolution would
    /// drop or climb out of (empty, `.`, `..`) is refused, so a name never reaches another route.
    fn url(&self, segments: &[&str]) -> Result<Url, ClientError> {
        if let Some(bad) = segments.iter().find(|s| matches!(**s, "" | "." | "..")) {
            return Err(ClientError::Name(bad.to_string()));
        }
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked in new: the base URL can be a base")
            .pop_if_empty()
            .push("v1")
            .extend(segments);
        Ok(url)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let text = self.send(method, segments, build).await?;
        // `204 No Content` decodes as `()` from `null`.
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text).map_err(|e| ClientError::Decode {
            detail: e.to_string(),
            body: text.chars().take(500).collect(),
        })
    }

    async fn send(
        &self,
        method: Method,
        segments: &[&str],
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<String, ClientError> {
        let req = self
            .http
            .request(method, self.url(segments)?)
            .bearer_auth(&self.token);
        let resp = build(req).send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            return Ok(text);
        }
        Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(e) if status == StatusCode::UNAUTHORIZED => ClientError::Unauthorized {
                base: self.base().to_string(),
                message: e.message,
            },
            Ok(e) => ClientError::Api {
                status: status.as_u16(),
                code: e.code,
                message: e.message,
            },
            Err(_) => ClientError::Http {
                status: status.as_u16(),
                body: text.chars().take(500).collect(),
            },
        })
    }

    fn unreachable(&self, e: &reqwest::Error) -> ClientError {
        ClientError::Unreachable {
            base: self.base().to_string(),
            detail: rustfs_common::error_chain(e),
        }
    }

    /// `PUT /v1/clusters/{cluster}`: registers or updates a cluster (idempotent).
    pub async fn register_cluster(
        &self,
        cluster: &str,
        body: &RegisterCluster,
    ) -> Result<RegisterResponse, ClientError> {
        self.call(Method::PUT, &["clusters", cluster], |r| r.json(body))
            .await
    }

    /// `GET /v1/clusters`.
    pub async fn clusters(&self) -> Result<ClusterList, ClientError> {
        self.call(Method::GET, &["clusters"], |r| r).await
    }

    /// `GET /v1/clusters/{cluster}`.
    pub async fn cluster(&self, cluster: &str) -> Result<Cluster, ClientError> {
        self.call(Method::GET, &["clusters", cluster], |r| r).await
    }

    /// `DELETE /v1/clusters/{cluster}`.
    pub async fn delete_cluster(&self, cluster: &str) -> Result<(), ClientError> {
        self.send(Method::DELETE, &["clusters", cluster], |r| r)
            .await
            .map(drop)
    }

    /// `GET /v1/clusters/{cluster}/health`.
    pub async fn cluster_health(&self, cluster: &str) -> Result<HealthSummary, ClientError> {
        self.call(Method::GET, &["clusters", cluster, "health"], |r| r)
            .await
    }

    /// `GET /v1/clusters/{cluster}/nodes`.
    pub async fn nodes(&self, cluster: &str) -> Result<NodeList, ClientError> {
        self.call(Method::GET, &["clusters", cluster, "nodes"], |r| r)
            .await
    }

    /// `GET /v1/clusters/{cluster}/nodes/{node}`.
    pub async fn node(&self, cluster: &str, node: &str) -> Result<Node, ClientError> {
        self.call(Method::GET, &["clusters", cluster, "nodes", node], |r| r)
            .await
    }

    /// `GET /v1/clusters/{cluster}/drives`.
    pub async fn drives(&self, cluster: &str) -> Result<DriveList, ClientError> {
        self.call(Method::GET, &["clusters", cluster, "drives"], |r| r)
            .await
    }

    /// `GET /v1/sites`.
    pub async fn sites(&self) -> Result<SiteList, ClientError> {
        self.call(Method::GET, &["sites"], |r| r).await
    }

    /// `GET /v1/sites/{site}`.
    pub async fn site(&self, site: &str) -> Result<Site, ClientError> {
        self.call(Method::GET, &["sites", site], |r| r).await
    }

    /// `GET /v1/events` with filters.
    pub async fn events(&self, query: &EventQuery) -> Result<EventPage, ClientError> {
        self.call(Method::GET, &["events"], |r| r.query(query))
            .await
    }

    /// `GET /v1/audit`.
    pub async fn audit(
        &self,
        after: Option<i64>,
        limit: Option<u32>,
    ) -> Result<AuditPage, ClientError> {
        let q = EventQuery {
            after,
            limit,
            ..EventQuery::default()
        };
        self.call(Method::GET, &["audit"], |r| r.query(&q)).await
    }

    /// `POST /v1/releases`: the control plane fetches and checks the binary before answering.
    pub async fn create_release(
        &self,
        body: &CreateRelease,
    ) -> Result<CreatedRelease, ClientError> {
        self.call(Method::POST, &["releases"], |r| r.json(body))
            .await
    }

    /// `GET /v1/releases`.
    pub async fn releases(&self) -> Result<ReleaseList, ClientError> {
        self.call(Method::GET, &["releases"], |r| r).await
    }

    /// `GET /v1/releases/{version}`: one entry per architecture.
    pub async fn release(&self, version: &str) -> Result<ReleaseList, ClientError> {
        self.call(Method::GET, &["releases", version], |r| r).await
    }

    /// `DELETE /v1/releases/{version}`: every architecture of it, binaries included.
    pub async fn delete_release(&self, version: &str) -> Result<(), ClientError> {
        self.send(Method::DELETE, &["releases", version], |r| r)
            .await
            .map(drop)
    }

    /// `GET /v1/tokens` (never the secrets).
    pub async fn tokens(&self) -> Result<TokenList, ClientError> {
        self.call(Method::GET, &["tokens"], |r| r).await
    }

    /// `POST /v1/tokens`: the secret is in the answer, and only there.
    pub async fn create_token(&self, body: &CreateToken) -> Result<CreatedToken, ClientError> {
        self.call(Method::POST, &["tokens"], |r| r.json(body)).await
    }

    /// `DELETE /v1/tokens/{id}`.
    pub async fn revoke_token(&self, id: &str) -> Result<(), ClientError> {
        self.send(Method::DELETE, &["tokens", id], |r| r)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_built_below_v1_with_each_segment_encoded() {
        let c = Client::new("https://cp:7070/", "t", reqwest::Client::new()).unwrap();
        assert_eq!(c.base(), "https://cp:7070");
        assert_eq!(
            c.url(&["clusters", "a/../b", "health"]).unwrap().as_str(),
            "https://cp:7070/v1/clusters/a%2F..%2Fb/health"
        );
        let c = Client::new("http://127.0.0.1:7070/prefix", "t", reqwest::Client::new()).unwrap();
        assert_eq!(
            c.url(&["sites"]).unwrap().as_str(),
            "http://127.0.0.1:7070/prefix/v1/sites"
        );
    }

    #[test]
    fn dot_segments_never_leave_their_route() {
        let c = Client::new("https://cp:7070", "t", reqwest::Client::new()).unwrap();
        for bad in ["..", ".", ""] {
            let e = c.url(&["releases", bad]).unwrap_err();
            assert!(matches!(e, ClientError::Name(_)), "{bad:?}: {e}");
        }
        assert!(c.url(&["releases", "..."]).is_ok(), "only the dot segments");
    }

    #[test]
    fn a_base_that_is_not_http_is_refused() {
        for bad in ["cp:7070", "ftp://cp", "", "mailto:x@y"] {
            let e = Client::new(bad, "t", reqwest::Client::new()).unwrap_err();
            assert!(matches!(e, ClientError::Address(_)), "{bad}: {e}");
        }
    }

    #[test]
    fn the_token_never_shows_in_debug() {
        let c = Client::new("https://cp", "s3cr3t-token", reqwest::Client::new()).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
