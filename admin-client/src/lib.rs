//! Calling a node's admin API (`/rustfs/admin/v1/…`, ARCHITECTURE.md "Access control"): requests
//! are signed with AWS SigV4 for the `s3` service, like any S3 request, with the caller's keys.
//! Used by `rustfs admin`, the control plane's poller and the provisioner, so the three sign the
//! same way and read the node's errors the same way.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4;
use std::fmt;
use std::time::SystemTime;

/// Where the admin API lives on every node.
pub const ADMIN_PREFIX: &str = "/rustfs/admin/v1/";
/// Largest answer read (a cluster's info is a few KiB per drive).
pub const MAX_ANSWER_BYTES: usize = 8 << 20;

/// An access key and its secret.
#[derive(Clone)]
pub struct Keys {
    pub access_key: String,
    pub secret_key: String,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keys({}, <secret>)", self.access_key)
    }
}

/// What a request signs for its body.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// The body's bytes (hashed into the signature).
    Bytes(&'a [u8]),
    /// `UNSIGNED-PAYLOAD` (a GET, or a body the caller streams).
    Unsigned,
}

/// The headers that sign `method url` (with `Host`, `X-Amz-Date`, `X-Amz-Content-Sha256` and
/// `Authorization`).
pub fn sign_headers(
    keys: &Keys,
    region: &str,
    method: &str,
    url: &str,
    payload: Payload<'_>,
) -> Result<http::HeaderMap, String> {
    let err = |e: &dyn fmt::Display| format!("cannot sign {method} {url}: {e}");
    let identity = Credentials::new(
        keys.access_key.clone(),
        keys.secret_key.clone(),
        None,
        None,
        "rustfs-admin-client",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| err(&e))?
        .into();
    let mut req = http::Request::builder()
        .method(method)
        .uri(url)
        .body(())
        .map_err(|e| err(&e))?;
    // The Host header as HTTP clients send it: a scheme's default port is left out.
    let uri = req.uri();
    let authority = uri.authority().ok_or_else(|| err(&"the URL has no host"))?;
    let default_port = matches!(
        (uri.scheme_str(), authority.port_u16()),
        (Some("https"), Some(443)) | (Some("http"), Some(80))
    );
    let host = if default_port {
        authority.host().to_string()
    } else {
        authority.to_string()
    };
    req.headers_mut().insert(
        http::header::HOST,
        host.parse()
            .map_err(|e: http::header::InvalidHeaderValue| err(&e))?,
    );
    let body = match payload {
        Payload::Bytes(b) => SignableBody::Bytes(b),
        Payload::Unsigned => SignableBody::UnsignedPayload,
    };
    let signable = SignableRequest::new(
        method,
        url,
        req.headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or_default())),
        body,
    )
    .map_err(|e| err(&e))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| err(&e))?.into_parts();
    instructions.apply_to_request_http1x(&mut req);
    Ok(req.headers().clone())
}

/// A failed admin call.
#[derive(Debug)]
pub enum AdminError {
    /// No answer: the node is down, unreachable, or TLS failed.
    Transport(reqwest::Error),
    /// The node answered with an error status.
    Refused {
        status: u16,
        /// `AccessDenied`, `InvalidAccessKeyId`, `NotFound`, … (empty when the node said none).
        code: String,
        message: String,
    },
    /// Signing failed, the answer was too large or not the JSON expected.
    Other(String),
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminError::Transport(e) => f.write_str(&rustfs_common::error_chain(e)),
            AdminError::Refused {
                status,
                code,
                message,
            } => match code.as_str() {
                "" => write!(f, "HTTP {status}: {message}"),
                _ => write!(f, "HTTP {status} {code}: {message}"),
            },
            AdminError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for AdminError {}

impl AdminError {
    /// The node did not recognise the keys, or refused them this call.
    pub fn is_denied(&self) -> bool {
        matches!(self, AdminError::Refused { status: 403, .. })
    }
}

/// Code and message of an error answer: the admin API's JSON `{"code","message"}`, or S3's XML
/// `<Code>`/`<Message>` (a refused signature), or the text itself.
pub fn error_of(text: &str) -> (String, String) {
    let tag = |name: &str| {
        text.split_once(&format!("<{name}>"))
            .and_then(|(_, rest)| rest.split_once(&format!("</{name}>")))
            .map(|(v, _)| v.to_string())
    };
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        if !s("message").is_empty() {
            return (s("code"), s("message"));
        }
    }
    match (tag("Code"), tag("Message")) {
        (Some(code), Some(message)) => (code, message),
        (Some(code), None) => (code, String::new()),
        _ => (String::new(), text.chars().take(300).collect()),
    }
}

/// A client for one node's admin API.
#[derive(Debug, Clone)]
pub struct AdminClient {
    http: reqwest::Client,
    /// `https://host:port` (no trailing slash).
    endpoint: String,
    keys: Keys,
    region: String,
}

impl AdminClient {
    pub fn new(http: reqwest::Client, endpoint: &str, keys: Keys) -> AdminClient {
        AdminClient {
            http,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            keys,
            region: "us-east-1".into(),
        }
    }

    /// Signs for `region` instead of `us-east-1`.
    pub fn with_region(mut self, region: &str) -> AdminClient {
        self.region = region.to_string();
        self
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `METHOD /rustfs/admin/v1/PATH` with `body`; the answer's text on success.
    pub async fn call(&self, method: &str, path: &str, body: &str) -> Result<String, AdminError> {
        let url = format!("{}{ADMIN_PREFIX}{path}", self.endpoint);
        let payload = match method {
            "GET" | "HEAD" | "DELETE" if body.is_empty() => Payload::Unsigned,
            _ => Payload::Bytes(body.as_bytes()),
        };
        let headers = sign_headers(&self.keys, &self.region, method, &url, payload)
            .map_err(AdminError::Other)?;
        let method: reqwest::Method = method
            .parse()
            .map_err(|e| AdminError::Other(format!("{method}: {e}")))?;
        let mut r = self
            .http
            .request(method, &url)
            .headers(headers)
            .body(body.to_string())
            .send()
            .await
            .map_err(AdminError::Transport)?;
        let status = r.status();
        let mut answer = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(AdminError::Transport)? {
            answer.extend_from_slice(&chunk);
            if answer.len() > MAX_ANSWER_BYTES {
                return Err(AdminError::Other(format!(
                    "{path}: the answer is over {MAX_ANSWER_BYTES} bytes"
                )));
            }
        }
        let text = String::from_utf8_lossy(&answer).into_owned();
        if status.is_success() {
            return Ok(text);
        }
        let (code, message) = error_of(&text);
        Err(AdminError::Refused {
            status: status.as_u16(),
            code,
            message,
        })
    }

    /// A GET whose JSON answer is decoded into `T`.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, AdminError> {
        let text = self.call("GET", path, "").await?;
        serde_json::from_str(&text)
            .map_err(|e| AdminError::Other(format!("{path}: not the expected JSON: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_read_from_json_and_from_xml() {
        assert_eq!(
            error_of(r#"{"code":"NotFound","message":"no user bob"}"#),
            ("NotFound".into(), "no user bob".into())
        );
        assert_eq!(
            error_of(
                "<Error><Code>InvalidAccessKeyId</Code><Message>unknown key</Message></Error>"
            ),
            ("InvalidAccessKeyId".into(), "unknown key".into())
        );
        assert_eq!(
            error_of("bad gateway"),
            (String::new(), "bad gateway".into())
        );
    }

    #[test]
    fn signing_covers_the_body_and_names_the_key() {
        let keys = Keys {
            access_key: "AKEXAMPLE".into(),
            secret_key: "secret-secret".into(),
        };
        let url = "https://node1:9000/rustfs/admin/v1/iam/users/bob";
        let a = sign_headers(&keys, "us-east-1", "PUT", url, Payload::Bytes(b"{}")).unwrap();
        let auth = a["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKEXAMPLE/"),
            "{auth}"
        );
        assert_eq!(a["host"], "node1:9000");
        let d = sign_headers(&keys, "r", "GET", "https://node1:443/x", Payload::Unsigned).unwrap();
        assert_eq!(
            d["host"], "node1",
            "a default port is not sent, so it is not signed"
        );
        assert_ne!(a["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        let g = sign_headers(&keys, "us-east-1", "GET", url, Payload::Unsigned).unwrap();
        assert_eq!(g["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        assert!(format!("{keys:?}").contains("<secret>"));
        assert!(sign_headers(&keys, "us-east-1", "GET", "/no-host", Payload::Unsigned).is_err());
    }
}
