//! The HTTP side of metrics: the S3 request layer (requests by API and status, latency, bytes
//! in/out) and the `/rustfs/metrics` endpoint.
//!
//! The API name comes from `s3s` itself: the service's access check (`iam::access::IamAccess`),
//! which `s3s` calls with the resolved operation, writes it into a slot the request carries in
//! its extensions ([`record_api`]). Requests refused before that (bad signature, unknown route) count
//! as `api="unknown"`; the admin API counts as `api="Admin"`.

use super::Metrics;
use crate::server::ServerState;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

/// Path of the metrics endpoint.
pub const METRICS_PATH: &str = "/rustfs/metrics";

/// Where the access check leaves the S3 operation name of a request.
#[derive(Clone, Default)]
pub struct ApiSlot(Arc<OnceLock<String>>);

impl ApiSlot {
    fn name(&self, is_admin: bool) -> &str {
        match self.0.get() {
            Some(n) => n.as_str(),
            None if is_admin => "Admin",
            None => "unknown",
        }
    }
}

/// Records the S3 operation name of a request, for the access check to call (`iam::access`).
pub fn record_api(extensions: &mut http::Extensions, name: String) {
    if let Some(slot) = extensions.get::<ApiSlot>() {
        let _ = slot.0.set(name);
    }
}

/// Counts body bytes as they stream and adds them to a counter when the body is dropped (one
/// counter update per request, whatever the number of frames).
pub struct CountingBody<B> {
    inner: B,
    bytes: u64,
    slot: ApiSlot,
    is_admin: bool,
    sent: bool,
}

impl<B> CountingBody<B> {
    fn new(inner: B, slot: ApiSlot, is_admin: bool, sent: bool) -> Self {
        CountingBody {
            inner,
            bytes: 0,
            slot,
            is_admin,
            sent,
        }
    }
}

impl<B> Drop for CountingBody<B> {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let m = super::global();
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
                self.bytes += d.len() as u64;
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
    m: &'static Metrics,
}

impl S3Probe {
    /// Starts measuring `req`: gives it an [`ApiSlot`] and wraps its body in a byte counter.
    pub fn start<B>(req: http::Request<B>) -> (Self, http::Request<CountingBody<B>>) {
        let m: &'static Metrics = super::global();
        m.s3.inflight.inc();
        let slot = ApiSlot::default();
        let is_admin = req
            .uri()
            .path()
            .starts_with(crate::server::admin::ADMIN_PREFIX);
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(slot.clone());
        let body = CountingBody::new(body, slot.clone(), is_admin, false);
        let probe = S3Probe {
            started: Instant::now(),
            slot,
            is_admin,
            m,
        };
        (probe, http::Request::from_parts(parts, body))
    }

    /// Records the answer and wraps its body so the bytes sent are counted.
    pub fn finish<B>(self, resp: http::Response<B>) -> http::Response<CountingBody<B>> {
        let api = self.slot.name(self.is_admin);
        let m = self.m;
        m.s3.requests
            .with_label_values(&[api, resp.status().as_str()])
            .inc();
        m.s3.duration
            .with_label_values(&[api])
            .observe(self.started.elapsed().as_secs_f64());
        let (slot, is_admin) = (self.slot.clone(), self.is_admin);
        resp.map(|b| CountingBody::new(b, slot, is_admin, true))
    }
}

impl Drop for S3Probe {
    fn drop(&mut self) {
        self.m.s3.inflight.dec();
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> http::Response<http_body_util::Full<Bytes>> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(http_body_util::Full::new(body.into()))
        .expect("static response")
}

/// `GET /rustfs/metrics`: checks the scrape credentials, refreshes the scrape-time figures and
/// answers with every metric.
pub async fn serve(
    state: &ServerState,
    headers: &HeaderMap,
) -> http::Response<http_body_util::Full<Bytes>> {
    let m = super::global();
    if let Err((status, why)) = m.auth().check(headers) {
        let mut r = text(status, why);
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer realm=\"rustfs-metrics\""),
            );
        }
        return r;
    }
    let _one_scrape_at_a_time = m.scrape.lock().await;
    super::cluster::refresh(m, state.layer().map(|l| l.as_ref())).await;
    m.heal.refresh(state.heal().map(|h| h.as_ref()));
    let mut r = text(StatusCode::OK, m.encode());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(prometheus::TEXT_FORMAT),
    );
    r
}
