//! The S3 request layer of metrics and the audit log: every request through the front door is
//! measured by an [`S3Probe`] (requests by API and status, latency, bytes in/out, the
//! `x-amz-request-id` header and, when the audit log is on, its entry). What the access check
//! learns on the way is left in the request's [`ApiSlot`] (`metrics::http`).

use crate::audit;
use crate::metrics::http::ApiSlot;
use crate::metrics::Metrics;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// Requests whose answer takes longer than this are logged (uploads included: a slow client
/// shows here too).
const SLOW_REQUEST: std::time::Duration = std::time::Duration::from_secs(5);

/// Counts body bytes as they stream and adds them to a counter when the body is dropped (one
/// counter update per request, whatever the number of frames). A response body also carries
/// the request's audit entry, written when the body is done.
pub struct CountingBody<B> {
    inner: B,
    bytes: u64,
    slot: ApiSlot,
    is_admin: bool,
    sent: bool,
    audit: Option<Box<audit::Entry>>,
    started: Instant,
}

impl<B> CountingBody<B> {
    fn new(inner: B, slot: ApiSlot, is_admin: bool, sent: bool, started: Instant) -> Self {
        CountingBody {
            inner,
            bytes: 0,
            slot,
            is_admin,
            sent,
            audit: None,
            started,
        }
    }
}

impl<B> Drop for CountingBody<B> {
    fn drop(&mut self) {
        if let Some(mut entry) = self.audit.take() {
            entry.bytes_out = self.bytes;
            entry.bytes_in = self.slot.bytes_in();
            entry.duration_ms = self.started.elapsed().as_secs_f64() * 1e3;
            entry.api = self.slot.name(self.is_admin).to_string();
            if let Some((key, user)) = self.slot.caller() {
                entry.access_key = Some(key.clone());
                entry.parent_user = Some(user.clone());
                entry.authenticated = true;
            }
            audit::emit(&entry);
        }
        if self.bytes == 0 {
            return;
        }
        let m = crate::metrics::global();
        let api = self.slot.name(self.is_admin);
        let counter = if self.sent {
            &m.s3.sent_bytes
        } else {
            &m.s3.received_bytes
        };
        counter.with_label_values(&[api]).inc_by(self.bytes);
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for CountingBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(f))) = &r {
            if let Some(d) = f.data_ref() {
                let n = d.len() as u64;
                self.bytes += n;
                if !self.sent {
                    self.slot.add_bytes_in(n);
                }
            }
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// One S3 request being measured: made before the request goes to `s3s`, finished with its
/// response.
pub struct S3Probe {
    started: Instant,
    slot: ApiSlot,
    is_admin: bool,
    request_id: String,
    /// The audit entry as far as the request tells it (when the audit log is on).
    audit: Option<Box<audit::Entry>>,
    m: &'static Metrics,
}

impl S3Probe {
    /// Starts measuring `req` (`is_admin`: a call of the admin API): gives it an [`ApiSlot`] and
    /// a request id, and wraps its body in a byte counter.
    pub fn start<B>(
        req: http::Request<B>,
        is_admin: bool,
    ) -> (Self, http::Request<CountingBody<B>>) {
        let m: &'static Metrics = crate::metrics::global();
        m.s3.inflight.inc();
        let started = Instant::now();
        let slot = ApiSlot::default();
        let request_id = audit::request_id();
        let audit = audit::enabled().then(|| Box::new(audit_entry(&req, &request_id, is_admin)));
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(slot.clone());
        let body = CountingBody::new(body, slot.clone(), is_admin, false, started);
        let probe = S3Probe {
            started,
            slot,
            is_admin,
            request_id,
            audit,
            m,
        };
        (probe, http::Request::from_parts(parts, body))
    }

    /// Records the answer and wraps its body so the bytes sent are counted; `error_code` is
    /// the S3 error code of an error answer, when known.
    pub fn finish<B>(
        mut self,
        resp: http::Response<B>,
        error_code: Option<String>,
    ) -> http::Response<CountingBody<B>> {
        let api = self.slot.name(self.is_admin);
        let m = self.m;
        m.s3.requests
            .with_label_values(&[api, resp.status().as_str()])
            .inc();
        let ttfb = self.started.elapsed();
        m.s3.duration
            .with_label_values(&[api])
            .observe(ttfb.as_secs_f64());
        if ttfb >= SLOW_REQUEST {
            tracing::warn!(api, status = resp.status().as_u16(), request_id = %self.request_id, secs = ttfb.as_secs_f64(), "slow request: its answer took longer than {SLOW_REQUEST:?}");
        }
        let (slot, is_admin, started) = (self.slot.clone(), self.is_admin, self.started);
        let mut audit = self.audit.take();
        if let Some(e) = audit.as_deref_mut() {
            e.status = resp.status().as_u16();
            e.error_code = error_code;
            e.ttfb_ms = ttfb.as_secs_f64() * 1e3;
            if let Some(v) = resp
                .headers()
                .get("x-amz-version-id")
                .and_then(|v| v.to_str().ok())
            {
                e.version_id = Some(v.to_string());
            }
        }
        let mut resp = resp.map(|b| {
            let mut body = CountingBody::new(b, slot, is_admin, true, started);
            body.audit = audit;
            body
        });
        if let Ok(id) = http::HeaderValue::from_str(&self.request_id) {
            resp.headers_mut().insert("x-amz-request-id", id);
        }
        resp
    }
}

impl Drop for S3Probe {
    fn drop(&mut self) {
        self.m.s3.inflight.dec();
    }
}

/// The audit entry of `req` as far as the request itself tells it.
fn audit_entry<B>(req: &http::Request<B>, request_id: &str, is_admin: bool) -> audit::Entry {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let path = req.uri().path();
    let (bucket, key) = if is_admin {
        (None, None)
    } else {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let bucket = parts.next().filter(|b| !b.is_empty()).map(decode);
        let key = parts.next().filter(|k| !k.is_empty()).map(decode);
        (bucket, key)
    };
    let query = req.uri().query().unwrap_or("");
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    // The key a request claims to be signed with: the only part of its credentials logged.
    let claimed = header("authorization")
        .and_then(|a| {
            let c = a.split("Credential=").nth(1)?;
            Some(c.split('/').next()?.to_string())
        })
        .or_else(|| {
            param("X-Amz-Credential").and_then(|c| c.split('/').next().map(str::to_string))
        });
    audit::Entry {
        version: audit::ENTRY_VERSION,
        time: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        request_id: request_id.to_string(),
        node: audit::node().to_string(),
        method: req.method().to_string(),
        path: path.to_string(),
        bucket,
        key,
        version_id: param("versionId"),
        access_key: claimed,
        source: req
            .extensions()
            .get::<crate::iam::access::Caller>()
            .map(|c| c.remote.to_string())
            .unwrap_or_default(),
        user_agent: header("user-agent"),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn counting_body_counts_every_frame() {
        let m = crate::metrics::global();
        let before = m.s3.sent_bytes.with_label_values(&["unknown"]).get();
        let body = http_body_util::StreamBody::new(futures::stream::iter(
            [&b"abc"[..], &b"defgh"[..]]
                .into_iter()
                .map(|b| Ok::<_, std::io::Error>(hyper::body::Frame::data(bytes::Bytes::from(b)))),
        ));
        let (probe, _req) = super::S3Probe::start(http::Request::new(()), false);
        let resp = probe.finish(http::Response::new(body), None);
        let collected = resp.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(&collected[..], b"abcdefgh");
        let after = m.s3.sent_bytes.with_label_values(&["unknown"]).get();
        assert!(after - before >= 8, "{before} → {after}");
    }
}
