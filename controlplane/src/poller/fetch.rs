//! Talking to one node: `GET /rustfs/health/live`, then `GET /rustfs/admin/v1/info` signed with
//! AWS SigV4 by the cluster's credentials. Every failure is a message, never a panic: the node
//! may be slow, down, speak garbage or fail TLS.

use super::tls;
use crate::api::PollCredentials;
use rustfs_admin_client::{sign_headers, Keys, Payload};
use rustfs_common::admin::ServerInfo;

/// Admin info larger than this is refused (a sane answer is a few KiB per drive).
const MAX_INFO_BYTES: usize = 8 << 20;

/// What one node answered this round.
#[derive(Debug, Clone)]
pub struct NodeAnswer {
    /// `Ok`: the live endpoint answered 200.
    pub live: Result<(), String>,
    /// `None` when not asked (the node was not live, or no usable credentials).
    pub info: Option<Result<ServerInfo, String>>,
    /// The TLS handshake failed (an untrusted certificate, or no TLS on the other end).
    pub tls_failed: bool,
}

impl NodeAnswer {
    /// An answer that failed before any request (`live` carries `error`).
    pub fn failed(error: String) -> NodeAnswer {
        NodeAnswer {
            live: Err(error),
            info: None,
            tls_failed: false,
        }
    }
}

/// A failed request as the operator should read it; `true` when it failed in the TLS handshake.
fn describe(e: &reqwest::Error) -> (String, bool) {
    if let Some(t) = tls::tls_failure(e) {
        return (tls::explain(t), true);
    }
    let msg = tls::chain(e);
    if e.is_timeout() {
        (format!("timed out ({msg})"), false)
    } else {
        (msg, false)
    }
}

/// `Err((message, tls_failed))` when the node is not live.
async fn live(client: &reqwest::Client, base: &str) -> Result<(), (String, bool)> {
    let r = client
        .get(format!("{base}/rustfs/health/live"))
        .send()
        .await
        .map_err(|e| {
            let (msg, tls) = describe(&e);
            (format!("health: {msg}"), tls)
        })?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err((
            format!("health: answered HTTP {}", r.status().as_u16()),
            false,
        ))
    }
}

async fn info(
    client: &reqwest::Client,
    base: &str,
    creds: &PollCredentials,
) -> Result<ServerInfo, String> {
    let url = format!("{base}/rustfs/admin/v1/info");
    let keys = Keys {
        access_key: creds.access_key.clone(),
        secret_key: creds.secret_key.clone(),
    };
    let headers = sign_headers(&keys, "us-east-1", "GET", &url, Payload::Unsigned)?;
    let mut r = client
        .get(&url)
        .headers(headers)
        .send()
        .await
        .map_err(|e| format!("admin info: {}", describe(&e).0))?;
    let status = r.status();
    let mut body = Vec::new();
    while let Some(chunk) = r
        .chunk()
        .await
        .map_err(|e| format!("admin info: {}", describe(&e).0))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_INFO_BYTES {
            return Err(format!("admin info: answer over {MAX_INFO_BYTES} bytes"));
        }
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        return Err(format!(
            "admin info: answered HTTP {}: {text}",
            status.as_u16()
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("admin info: not the expected JSON: {e}"))
}

/// Polls one node at `base` (`http://host:port`).
pub async fn poll_node(
    client: &reqwest::Client,
    base: &str,
    creds: Option<&PollCredentials>,
) -> NodeAnswer {
    let (live, tls_failed) = match live(client, base).await {
        Ok(()) => (Ok(()), false),
        Err((msg, tls)) => (Err(msg), tls),
    };
    let info = match (&live, creds) {
        (Ok(()), Some(c)) => Some(info(client, base, c).await),
        _ => None,
    };
    NodeAnswer {
        live,
        info,
        tls_failed,
    }
}
