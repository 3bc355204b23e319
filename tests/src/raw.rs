//! Hand-built but properly SigV4-signed requests (signed by `aws-sigv4`, the SDK's own signer),
//! for what an SDK refuses to send: malformed XML, a body cut off by a crash, raw headers.

use crate::{ACCESS_KEY, SECRET_KEY};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use futures::Stream;
use std::time::SystemTime;

/// What the server answered.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub body: String,
}

/// Signs `method url` with the test credentials; `payload` `None` means `UNSIGNED-PAYLOAD`.
pub fn signed_headers(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    payload: Option<&[u8]>,
) -> Vec<(String, String)> {
    let body = match payload {
        Some(b) => SignableBody::Bytes(b),
        None => SignableBody::UnsignedPayload,
    };
    sign_with((ACCESS_KEY, SECRET_KEY), method, url, headers, body, None).0
}

/// Signs with a given `x-amz-content-sha256` value (e.g. `STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
pub fn signed_headers_with_payload_hash(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    payload_hash: &str,
) -> Vec<(String, String)> {
    let body = SignableBody::Precomputed(payload_hash.to_string());
    sign_with((ACCESS_KEY, SECRET_KEY), method, url, headers, body, None).0
}

/// A presigned URL for `method url`, valid for `expires` (any length: the signer is not the
/// judge of what a server accepts).
pub fn presigned_url(method: &str, url: &str, expires: std::time::Duration) -> String {
    sign_with(
        (ACCESS_KEY, SECRET_KEY),
        method,
        url,
        &[],
        SignableBody::UnsignedPayload,
        Some(expires),
    )
    .1
}

/// The signed headers and the (possibly presigned) URL.
fn sign_with(
    (access_key, secret_key): (&str, &str),
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: SignableBody<'_>,
    presign: Option<std::time::Duration>,
) -> (Vec<(String, String)>, String) {
    let identity = Credentials::new(access_key, secret_key, None, None, "rustfs-tests").into();
    let mut settings = SigningSettings::default();
    if let Some(expires) = presign {
        settings.signature_location = aws_sigv4::http_request::SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
    } else {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut all: Vec<(&str, String)> = vec![("host", host)];
    all.extend(headers.iter().map(|(k, v)| (*k, v.clone())));
    let signable =
        SignableRequest::new(method, url, all.iter().map(|(k, v)| (*k, v.as_str())), body)
            .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut req = http::Request::builder()
        .method(method)
        .uri(url)
        .body(())
        .expect("request");
    instructions.apply_to_request_http1x(&mut req);
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    for (k, v) in req.headers() {
        out.push((k.to_string(), v.to_str().unwrap_or_default().to_string()));
    }
    (out, req.uri().to_string())
}

fn builder(method: &str, url: &str, headers: Vec<(String, String)>) -> reqwest::RequestBuilder {
    let client = reqwest::Client::new();
    let mut b = client.request(method.parse().expect("method"), url);
    for (k, v) in headers {
        b = b.header(k, v);
    }
    b
}

/// Sends a signed request with a byte body.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> RawResponse {
    send_as((ACCESS_KEY, SECRET_KEY), method, url, headers, body).await
}

/// Sends a request signed with `keys` (access key, secret key) with a byte body.
pub async fn send_as(
    keys: (&str, &str),
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> RawResponse {
    let signable = SignableBody::Bytes(&body);
    let h = sign_with(keys, method, url, headers, signable, None).0;
    let r = builder(method, url, h)
        .body(body)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    RawResponse {
        status,
        body: r.text().await.unwrap_or_default(),
    }
}

/// Sends a signed (UNSIGNED-PAYLOAD) PUT whose body is a stream of `content_length` bytes.
pub async fn put_stream<S>(
    url: &str,
    content_length: u64,
    body: S,
) -> Result<RawResponse, reqwest::Error>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    let headers = [("content-length", content_length.to_string())];
    let h = signed_headers("PUT", url, &headers, None);
    let r = builder("PUT", url, h)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok(RawResponse {
        status,
        body: r.text().await.unwrap_or_default(),
    })
}
