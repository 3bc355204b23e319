//! The S3 front door's checks, before a request reaches `s3s` (README, "Security"):
//!
//! - **Signature policy.** Signature Version 2 is refused unless `--allow-sigv2`, and then needs
//!   a `Date`/`x-amz-date` within 15 minutes (header form) or an `Expires` at most 7 days ahead
//!   (query form). A presigned Signature Version 4 URL may be valid for at most 7 days, as in AWS.
//! - **aws-chunked chunk sizes.** A streaming upload's chunks are checked as they arrive: a chunk
//!   that declares more than [`MAX_CHUNK_BYTES`] ends the request, so no upload can make the
//!   node buffer a huge chunk before its signature is checked.

use bytes::Bytes;
use http_body_util::Full;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Longest validity of a presigned URL (AWS's limit).
pub const MAX_PRESIGN_SECS: u64 = 7 * 24 * 3600;
/// Largest aws-chunked chunk accepted (SDKs send 64 KiB to 8 MiB).
pub const MAX_CHUNK_BYTES: u64 = 16 << 20;
/// Largest body of one PUT (S3's single-upload and part limit).
pub const MAX_PUT_BYTES: u64 = 5 << 30;
/// How far a Signature Version 2 request's date may be from now.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

type Refusal = http::Response<Full<Bytes>>;

fn refuse(status: u16, code: &str, message: &str) -> Option<Refusal> {
    Some(super::error_response(status, code, message))
}

/// A refusal for a request the signature policy or the body limit does not allow, else `None`.
pub fn check<B>(req: &http::Request<B>, allow_sigv2: bool) -> Option<Refusal> {
    let declared = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    };
    let body = declared("x-amz-decoded-content-length").or_else(|| declared("content-length"));
    if req.method() == http::Method::PUT && body.is_some_and(|n| n > MAX_PUT_BYTES) {
        return refuse(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size of 5 GiB for one PUT; use a multipart upload",
        );
    }
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let auth = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let v2_header = auth.is_some_and(|a| a.starts_with("AWS "));
    let v2_query = param("X-Amz-Algorithm").is_none()
        && (param("AWSAccessKeyId").is_some() || param("Signature").is_some());
    if v2_header || v2_query {
        if !allow_sigv2 {
            return refuse(
                400,
                "InvalidRequest",
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256. (This server accepts Signature Version 2 only when started with --allow-sigv2.)",
            );
        }
        return if v2_header {
            check_v2_date(req.headers())
        } else {
            check_v2_expires(param("Expires"))
        };
    }
    if let Some(expires) = param("X-Amz-Expires") {
        match expires.parse::<u64>() {
            Ok(secs) if secs <= MAX_PRESIGN_SECS => {}
            _ => {
                return refuse(
                    400,
                    "AuthorizationQueryParametersError",
                    "X-Amz-Expires must be less than a week (in seconds) that is 604800",
                )
            }
        }
    }
    None
}

fn check_v2_date(headers: &http::HeaderMap) -> Option<Refusal> {
    let date = headers
        .get("x-amz-date")
        .or_else(|| headers.get(http::header::DATE))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    let Some(date) = date else {
        return refuse(
            403,
            "AccessDenied",
            "AWS authentication requires a valid Date or x-amz-date header",
        );
    };
    let now = SystemTime::now();
    let skew = now
        .duration_since(date)
        .or_else(|_| date.duration_since(now))
        .unwrap_or_default();
    if skew > MAX_SKEW {
        return refuse(
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        );
    }
    None
}

fn check_v2_expires(expires: Option<&str>) -> Option<Refusal> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match expires.and_then(|e| e.parse::<u64>().ok()) {
        Some(e) if e <= now + MAX_PRESIGN_SECS => None,
        Some(_) => refuse(
            400,
            "AuthorizationQueryParametersError",
            "Expires must be less than a week (in seconds) from now",
        ),
        None => refuse(
            403,
            "AccessDenied",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        ),
    }
}

/// Where the aws-chunked framing is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Framing {
    /// Reading a chunk header line (`hex-size[;chunk-signature=…]\r\n`).
    Header(Vec<u8>),
    Data(u64),
    /// The `\r\n` after a chunk's data.
    DataEnd(u8),
    /// After the last (empty) chunk: trailers, checked by `s3s`.
    Trailer,
}

/// Longest chunk header line.
const MAX_CHUNK_HEADER: usize = 4096;

impl Framing {
    /// Advances over `buf`; an error names what was wrong.
    fn feed(&mut self, mut buf: &[u8]) -> Result<(), String> {
        while !buf.is_empty() {
            match self {
                Framing::Header(line) => {
                    let end = buf.iter().position(|b| *b == b'\n');
                    let take = end.map_or(buf.len(), |i| i + 1);
                    line.extend_from_slice(&buf[..take]);
                    buf = &buf[take..];
                    if line.len() > MAX_CHUNK_HEADER {
                        return Err("an aws-chunked chunk header is too long".into());
                    }
                    if end.is_some() {
                        let text = String::from_utf8_lossy(line);
                        let hex = text.split([';', '\r', '\n']).next().unwrap_or("");
                        let size = u64::from_str_radix(hex.trim(), 16)
                            .map_err(|_| format!("bad aws-chunked chunk size {hex:?}"))?;
                        if size > MAX_CHUNK_BYTES {
                            return Err(format!(
                                "an aws-chunked chunk of {size} bytes is over the {MAX_CHUNK_BYTES}-byte limit"
                            ));
                        }
                        *self = if size == 0 {
                            Framing::Trailer
                        } else {
                            Framing::Data(size)
                        };
                    }
                }
                Framing::Data(left) => {
                    let n = (*left).min(buf.len() as u64);
                    buf = &buf[n as usize..];
                    *left -= n;
                    if *left == 0 {
                        *self = Framing::DataEnd(2);
                    }
                }
                Framing::DataEnd(left) => {
                    let n = (*left as usize).min(buf.len());
                    buf = &buf[n..];
                    *left -= n as u8;
                    if *left == 0 {
                        *self = Framing::Header(Vec::new());
                    }
                }
                Framing::Trailer => return Ok(()),
            }
        }
        Ok(())
    }
}

/// Set by the front door on a PUT whose length is unknown (see [`capped_chunks`]); a client's own
/// header of this name is removed first, so it cannot be forged.
pub const UNKNOWN_LENGTH: &str = "x-rustfs-unknown-length";

/// True (and the request marked) for an `UNSIGNED-PAYLOAD` PUT sent with `Transfer-Encoding:
/// chunked` and no `Content-Length` (`curl -T -`, streaming tools). `s3s` refuses those with
/// `MissingContentLength`, as AWS and MinIO do; Ceph RGW takes them, and so do we: the request
/// gets `Content-Length: MAX_PUT_BYTES` to pass that check (the length is not signed, since the
/// client sent none) and [`UNKNOWN_LENGTH`], which tells the write path to take the body as it
/// comes instead of checking it against that number.
fn unknown_length<B>(req: &mut http::Request<B>) -> bool {
    let h = req.headers_mut();
    h.remove(UNKNOWN_LENGTH);
    let unsigned = h
        .get("x-amz-content-sha256")
        .is_some_and(|v| v.as_bytes() == b"UNSIGNED-PAYLOAD");
    let chunked = h
        .get(http::header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if req.method() != http::Method::PUT
        || !unsigned
        || !chunked
        || req.headers().contains_key(http::header::CONTENT_LENGTH)
    {
        return false;
    }
    let h = req.headers_mut();
    h.insert(http::header::CONTENT_LENGTH, MAX_PUT_BYTES.into());
    h.insert(UNKNOWN_LENGTH, http::HeaderValue::from_static("1"));
    true
}

/// The request's body for `s3s`: an aws-chunked one is checked chunk by chunk as it streams; one
/// of unknown length (see [`unknown_length`]) ends with an error past [`MAX_PUT_BYTES`].
pub fn capped_chunks<B>(mut req: http::Request<B>) -> http::Request<s3s::Body>
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if unknown_length(&mut req) {
        return req.map(|b| {
            let limited = http_body_util::Limited::new(b, MAX_PUT_BYTES as usize);
            s3s::Body::http_body(http_body_util::BodyExt::map_err(
                limited,
                std::io::Error::other,
            ))
        });
    }
    let chunked = req
        .headers()
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("STREAMING-"));
    if !chunked {
        return req.map(|b| {
            s3s::Body::http_body(http_body_util::BodyExt::map_err(b, |e| {
                std::io::Error::other(e.into())
            }))
        });
    }
    req.map(framed)
}

/// `body` with its aws-chunked framing checked as it streams.
fn framed<B>(body: B) -> s3s::Body
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut framing = Framing::Header(Vec::new());
    let check =
        move |chunk: Result<Bytes, B::Error>| -> Result<http_body::Frame<Bytes>, std::io::Error> {
            let chunk = chunk.map_err(|e| std::io::Error::other(e.into()))?;
            framing
                .feed(&chunk)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            Ok(http_body::Frame::data(chunk))
        };
    let stream = futures::StreamExt::map(http_body_util::BodyExt::into_data_stream(body), check);
    s3s::Body::http_body(http_body_util::StreamBody::new(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, headers: &[(&str, &str)]) -> http::Request<()> {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    fn code(r: Option<Refusal>) -> Option<(u16, String)> {
        r.map(|r| {
            let status = r.status().as_u16();
            let body = futures::executor::block_on(http_body_util::BodyExt::collect(r.into_body()))
                .unwrap()
                .to_bytes();
            let text = String::from_utf8_lossy(&body).to_string();
            let code = text
                .split("<Code>")
                .nth(1)
                .and_then(|s| s.split("</Code>").next())
                .unwrap_or("")
                .to_string();
            (status, code)
        })
    }

    #[test]
    fn sigv2_is_refused_unless_allowed_and_then_needs_a_fresh_date() {
        let header = req("/b/k", &[("authorization", "AWS AKID:c2ln")]);
        assert_eq!(
            code(check(&header, false)),
            Some((400, "InvalidRequest".into()))
        );
        assert_eq!(
            code(check(&header, true)),
            Some((403, "AccessDenied".into()))
        );
        let now = httpdate::fmt_http_date(SystemTime::now());
        let fresh = req(
            "/b/k",
            &[("authorization", "AWS AKID:c2ln"), ("date", &now)],
        );
        assert_eq!(code(check(&fresh, true)), None);
        let old = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3600));
        let stale = req(
            "/b/k",
            &[("authorization", "AWS AKID:c2ln"), ("date", &old)],
        );
        assert_eq!(
            code(check(&stale, true)),
            Some((403, "RequestTimeTooSkewed".into()))
        );
        let q = req("/b/k?AWSAccessKeyId=A&Signature=s&Expires=99999999999", &[]);
        assert_eq!(code(check(&q, false)), Some((400, "InvalidRequest".into())));
        assert_eq!(
            code(check(&q, true)),
            Some((400, "AuthorizationQueryParametersError".into()))
        );
    }

    #[test]
    fn a_put_over_5_gib_is_refused_before_its_body() {
        let big = http::Request::builder()
            .method("PUT")
            .uri("/b/k")
            .header("content-length", (MAX_PUT_BYTES + 1).to_string())
            .body(())
            .unwrap();
        assert_eq!(
            code(check(&big, false)),
            Some((400, "EntityTooLarge".into()))
        );
        let chunked = http::Request::builder()
            .method("PUT")
            .uri("/b/k")
            .header(
                "x-amz-decoded-content-length",
                (MAX_PUT_BYTES + 1).to_string(),
            )
            .body(())
            .unwrap();
        assert_eq!(
            code(check(&chunked, false)),
            Some((400, "EntityTooLarge".into()))
        );
        assert_eq!(
            code(check(
                &req("/b/k", &[("content-length", "5368709120")]),
                false
            )),
            None
        );
    }

    #[test]
    fn presigned_urls_live_at_most_a_week() {
        let ok = req(
            "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=604800",
            &[],
        );
        assert_eq!(code(check(&ok, false)), None);
        for bad in ["604801", "691200", "-1", "x"] {
            let r = req(
                &format!("/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires={bad}"),
                &[],
            );
            assert_eq!(
                code(check(&r, false)),
                Some((400, "AuthorizationQueryParametersError".into())),
                "{bad}"
            );
        }
        assert_eq!(code(check(&req("/b/k?list-type=2", &[]), false)), None);
    }

    #[test]
    fn chunk_framing_accepts_real_streams_split_anywhere_and_refuses_huge_chunks() {
        let sig = format!(";chunk-signature={}", "a".repeat(64));
        let body = format!(
            "5{sig}\r\nhello\r\n3{sig}\r\nabc\r\n0{sig}\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
        );
        let bytes = body.as_bytes();
        for cut in 0..bytes.len() {
            let mut f = Framing::Header(Vec::new());
            f.feed(&bytes[..cut]).unwrap();
            f.feed(&bytes[cut..]).unwrap();
            assert_eq!(f, Framing::Trailer, "cut at {cut}");
        }
        let mut f = Framing::Header(Vec::new());
        assert!(f
            .feed(format!("{:x}{sig}\r\n", MAX_CHUNK_BYTES + 1).as_bytes())
            .is_err());
        let mut f = Framing::Header(Vec::new());
        assert!(f.feed(b"ffffffffffffffff\r\n").is_err());
        let mut f = Framing::Header(Vec::new());
        assert!(f.feed(&vec![b'1'; MAX_CHUNK_HEADER + 1]).is_err());
        let mut f = Framing::Header(Vec::new());
        assert!(f.feed(b"zz\r\n").is_err());
    }

    #[test]
    fn only_an_unsigned_chunked_put_without_a_length_is_taken_as_unknown_length() {
        let put = |headers: &[(&str, &str)]| {
            let mut r = req("/b/k", headers);
            *r.method_mut() = http::Method::PUT;
            r
        };
        let unsigned = ("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        let chunked = ("transfer-encoding", "chunked");
        let mut r = put(&[unsigned, chunked]);
        assert!(unknown_length(&mut r));
        assert_eq!(r.headers()[UNKNOWN_LENGTH], "1");
        assert_eq!(
            r.headers()["content-length"],
            MAX_PUT_BYTES.to_string().as_str()
        );
        // A client's own marker is dropped, whatever else the request is.
        let mut r = put(&[unsigned, ("content-length", "3"), (UNKNOWN_LENGTH, "1")]);
        assert!(!unknown_length(&mut r));
        assert!(!r.headers().contains_key(UNKNOWN_LENGTH));
        assert_eq!(r.headers()["content-length"], "3");
        // Signed payloads, GETs and bodies with a length are left alone.
        let mut r = put(&[("x-amz-content-sha256", "0123"), chunked]);
        assert!(!unknown_length(&mut r));
        let mut r = req("/b/k", &[unsigned, chunked]);
        assert!(!unknown_length(&mut r));
        assert!(!r.headers().contains_key("content-length"));
    }
}
