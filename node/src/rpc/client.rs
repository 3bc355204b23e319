//! The calling side of internal RPC: one [`Peer`] per other node, with pooled connections, a
//! deadline on every call, and offline detection. A peer that fails a call is marked offline and
//! probed in the background; until a probe succeeds, calls to it fail at once instead of waiting.

use super::auth::{RpcKeys, StreamMac, STREAM_BODY};
use super::calls::{CallError, CallResult, DriveRpc, Payload};
use super::wire::{
    self, DriveReply, LockCall, LockReply, LockRequest, PeerInfo, WireError, MAX_CALL_BYTES,
    RPC_PREFIX,
};
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What a peer whose health answers carry no RPC version range speaks: builds before that
/// header served [`RPC_PREFIX`] v2 only.
const RPC_VERSIONS_BEFORE_HEADER: rustfs_common::admin::VersionRange =
    rustfs_common::admin::VersionRange { min: 2, max: 2 };

/// How often an offline peer is probed.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

struct Inner {
    addr: String,
    /// `scheme://host:port`.
    origin: String,
    base: String,
    http: reqwest::Client,
    keys: RpcKeys,
    timeout: Duration,
    online: AtomicBool,
    probing: AtomicBool,
    metrics: PeerMetrics,
}

/// This peer's RPC figures, resolved once.
struct PeerMetrics {
    requests: prometheus::IntCounter,
    errors: prometheus::IntCounter,
    duration: prometheus::Histogram,
    online: prometheus::IntGauge,
}

impl PeerMetrics {
    fn new(addr: &str) -> Self {
        let m = &crate::metrics::global().rpc;
        let online = m.peer_online.with_label_values(&[addr]);
        online.set(1);
        PeerMetrics {
            requests: m.requests.with_label_values(&[addr]),
            errors: m.errors.with_label_values(&[addr]),
            duration: m.duration.with_label_values(&[addr]),
            online,
        }
    }
}

/// Another node, reached over HTTP.
#[derive(Clone)]
pub struct Peer(Arc<Inner>);

/// What the RPC deadline bounds for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// The whole exchange, body included (request/response calls).
    Total,
    /// The wait for the response headers (streamed answers, whose chunks the caller bounds).
    Headers,
    /// Nothing here: a streamed upload, whose every chunk and final answer the caller bounds
    /// (a large upload may rightly take far longer than one deadline).
    Caller,
}

/// Why talking to a peer failed, for bootstrap messages.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("{0} is unreachable: {1}")]
    Unreachable(String, String),
    #[error("{0} refused this node's RPC call — RUSTFS_RPC_SECRET must be the same on every node, and clocks within a minute of each other (its log says which)")]
    Refused(String),
    #[error("{0} answered RPC with status {1}: {2}")]
    Status(String, u16, String),
    /// The peer speaks no RPC version this node speaks.
    #[error("{0} {1}")]
    Incompatible(String, String),
}

impl Peer {
    /// `addr` is `host:port` of the peer; `timeout` bounds every call (and every chunk of a
    /// streaming call).
    /// With `tls`, the peer is reached over https, trusting only the cluster CA and presenting
    /// this node's certificate.
    pub fn new(
        addr: &str,
        tls: Option<&super::tls::TlsClient>,
        keys: RpcKeys,
        timeout: Duration,
    ) -> Self {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true);
        if let Some(tls) = tls {
            builder = super::tls::peer_client(builder, tls)
                .expect("the TLS client identity was checked when it was loaded");
        }
        let http = builder
            .build()
            .expect("reqwest client with checked settings");
        let scheme = if tls.is_some() { "https" } else { "http" };
        Peer(Arc::new(Inner {
            addr: addr.to_string(),
            origin: format!("{scheme}://{addr}"),
            base: format!("{scheme}://{addr}{RPC_PREFIX}"),
            http,
            keys,
            timeout,
            online: AtomicBool::new(true),
            probing: AtomicBool::new(false),
            metrics: PeerMetrics::new(addr),
        }))
    }

    pub fn addr(&self) -> &str {
        &self.0.addr
    }

    pub fn timeout(&self) -> Duration {
        self.0.timeout
    }

    pub fn is_online(&self) -> bool {
        self.0.online.load(Ordering::Relaxed)
    }

    /// A request to `path` (with its query) under the RPC prefix carrying `body`, signed for
    /// this peer.
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> reqwest::RequestBuilder {
        let signed = self.0.keys.sign(
            method.as_str(),
            &format!("{RPC_PREFIX}{path}"),
            &self.0.addr,
            &RpcKeys::body_hash(&body),
        );
        self.0
            .http
            .request(method, format!("{}{path}", self.0.base))
            .header(reqwest::header::AUTHORIZATION, signed.header)
            .body(body)
    }

    /// A streamed POST to `path`, signed for this peer; its body must be framed with the
    /// returned MAC key (see `rpc::auth::StreamMac`).
    pub(crate) fn stream_request(&self, path: &str) -> (reqwest::RequestBuilder, StreamMac) {
        let signed = self.0.keys.sign(
            "POST",
            &format!("{RPC_PREFIX}{path}"),
            &self.0.addr,
            STREAM_BODY,
        );
        let req = self
            .0
            .http
            .post(format!("{}{path}", self.0.base))
            .header(reqwest::header::AUTHORIZATION, signed.header);
        (req, signed.stream)
    }

    pub(crate) fn offline_error(&self) -> CallError {
        CallError::Offline(self.0.addr.clone())
    }

    /// A reply that is not what the call expects.
    pub(crate) fn malformed(&self, what: String) -> CallError {
        CallError::Malformed {
            peer: self.0.addr.clone(),
            what,
        }
    }

    /// Marks the peer offline (once) and probes it until it answers again.
    pub(crate) fn mark_offline(&self, why: &str) {
        if self.0.online.swap(false, Ordering::Relaxed) {
            self.0.metrics.online.set(0);
            tracing::warn!(peer = %self.0.addr, reason = why, "peer marked offline");
        }
        if self.0.probing.swap(true, Ordering::Relaxed) {
            return;
        }
        let peer = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_INTERVAL).await;
                let probe = peer
                    .request(reqwest::Method::GET, "/ping", Vec::new())
                    .timeout(peer.0.timeout.min(Duration::from_secs(2)))
                    .send()
                    .await;
                if matches!(probe, Ok(r) if r.status().is_success()) {
                    peer.0.online.store(true, Ordering::Relaxed);
                    peer.0.metrics.online.set(1);
                    peer.0.probing.store(false, Ordering::Relaxed);
                    tracing::info!(peer = %peer.0.addr, "peer is back online");
                    return;
                }
            }
        });
    }

    /// Sends a request built by `build` unless the peer is offline; a transport failure or a
    /// missed deadline marks the peer offline.
    pub(crate) async fn send(
        &self,
        build: reqwest::RequestBuilder,
        deadline: Deadline,
    ) -> CallResult<reqwest::Response> {
        if !self.is_online() {
            return Err(self.offline_error());
        }
        let m = &self.0.metrics;
        m.requests.inc();
        let timer = m.duration.start_timer();
        let resp = self.send_timed(build, deadline).await;
        timer.observe_duration();
        if resp.is_err() {
            m.errors.inc();
        }
        resp
    }

    async fn send_timed(
        &self,
        build: reqwest::RequestBuilder,
        deadline: Deadline,
    ) -> CallResult<reqwest::Response> {
        let resp = match deadline {
            Deadline::Total => build.timeout(self.0.timeout).send().await,
            Deadline::Caller => build.send().await,
            Deadline::Headers => match tokio::time::timeout(self.0.timeout, build.send()).await {
                Ok(r) => r,
                Err(_) => {
                    self.mark_offline("no answer within the RPC deadline");
                    return Err(self.offline_error());
                }
            },
        };
        match resp {
            Ok(r) if r.status() == reqwest::StatusCode::UNAUTHORIZED => {
                Err(PeerError::Refused(self.0.addr.clone()).into())
            }
            Ok(r) => Ok(r),
            Err(e) => {
                self.mark_offline(&e.to_string());
                Err(self.offline_error())
            }
        }
    }

    /// Reads a whole (bounded) body under the deadline.
    /// A reply longer than [`MAX_CALL_BYTES`] is refused (a broken or hostile peer).
    pub(crate) async fn body(&self, r: reqwest::Response) -> CallResult<Bytes> {
        use futures::StreamExt;
        let too_long = |n: u64| {
            self.malformed(format!(
                "reply of {n} bytes refused (at most {MAX_CALL_BYTES})"
            ))
        };
        if let Some(n) = r.content_length().filter(|n| *n > MAX_CALL_BYTES as u64) {
            return Err(too_long(n));
        }
        let mut out = bytes::BytesMut::new();
        let mut stream = r.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                self.mark_offline(&e.to_string());
                self.offline_error()
            })?;
            if out.len() + chunk.len() > MAX_CALL_BYTES {
                return Err(too_long((out.len() + chunk.len()) as u64));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    }

    /// A MessagePack request/response call.
    async fn call<T: for<'de> serde::Deserialize<'de>>(
        &self,
        path: &str,
        body: Vec<u8>,
    ) -> CallResult<T> {
        let r = self
            .send(
                self.request(reqwest::Method::POST, path, body),
                Deadline::Total,
            )
            .await?;
        self.decode_reply(path, r).await
    }

    async fn decode_reply<T: for<'de> serde::Deserialize<'de>>(
        &self,
        path: &str,
        r: reqwest::Response,
    ) -> CallResult<T> {
        let status = r.status();
        let bytes = self.body(r).await?;
        let body = || String::from_utf8_lossy(&bytes).into_owned();
        match status {
            s if s.is_success() => {}
            // A call the peer could not decode: one its (older) build does not have.
            reqwest::StatusCode::BAD_REQUEST => {
                return Err(CallError::Unsupported {
                    peer: self.0.addr.clone(),
                    path: path.to_string(),
                    body: body(),
                })
            }
            s => return Err(self.malformed(format!("rpc {path} answered {s}: {}", body()))),
        }
        wire::decode(&bytes)
            .map_err(|e| self.malformed(format!("rpc {path} answer does not decode: {e}")))
    }

    /// One call on the peer's drive at `drive` (its path on the peer), answering the call's own
    /// type. `limit`: a call that may rightly take long (a deep shard check reads whole files) is
    /// bounded by it instead of the RPC deadline, and a slow answer does not mark the peer
    /// offline.
    pub async fn drive_call<C: DriveRpc>(
        &self,
        drive: &str,
        call: C,
        limit: Option<Duration>,
    ) -> CallResult<C::Reply> {
        let path = format!("/drive?drive={}", rustfs_common::names::url_encode(drive));
        let body = wire::encode(&call.into_call());
        let r: Result<DriveReply, WireError> = match limit {
            None => self.call(&path, body).await?,
            Some(limit) => {
                let req = self.request(reqwest::Method::POST, &path, body);
                let r = self.send(req.timeout(limit), Deadline::Caller).await?;
                self.decode_reply(&path, r).await?
            }
        };
        C::Reply::from_reply(r?)
            .map_err(|other| self.malformed(format!("unexpected reply {other:?} to {path}")))
    }

    /// One call on the peer's lock table; an unreachable peer counts as a refusal. Both sides'
    /// clocks ride along (see `object::clock`).
    pub async fn lock_call(&self, call: LockCall) -> bool {
        let clock = crate::object::clock::hlc();
        let req = LockRequest {
            call,
            hlc: clock.peek(),
            owner: crate::object::dlock::this_owner(),
        };
        match self.call::<LockReply>("/lock", wire::encode(&req)).await {
            Ok(reply) => {
                clock.observe(reply.hlc);
                reply.granted
            }
            Err(_) => false,
        }
    }

    /// Tells the peer to drop its cached configuration of `bucket` (bounded by the deadline;
    /// a peer that does not answer lets its copy expire).
    pub async fn invalidate_config(&self, bucket: &str) {
        let r = self
            .send(
                self.request(
                    reqwest::Method::POST,
                    "/config/invalidate",
                    bucket.as_bytes().to_vec(),
                ),
                Deadline::Total,
            )
            .await;
        if let Err(e) = r {
            tracing::warn!(peer = %self.0.addr, bucket, error = %e, "could not tell a peer about a configuration change; its copy expires within 30 s");
        }
    }

    /// Has the peer reload IAM (bounded by the deadline; a peer that does not answer reloads on
    /// its own within `iam::RELOAD_INTERVAL`).
    pub async fn reload_iam(&self) {
        let r = self
            .send(
                self.request(reqwest::Method::POST, "/iam/reload", Vec::new()),
                Deadline::Total,
            )
            .await;
        match r {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                tracing::warn!(peer = %self.0.addr, status = %r.status(), "a peer could not reload IAM; it retries on its own")
            }
            Err(e) => {
                tracing::warn!(peer = %self.0.addr, error = %e, "could not tell a peer about an IAM change; it reloads on its own")
            }
        }
    }

    /// The peer's healing figures (`GET /rustfs/rpc/v2/heal/status`).
    pub async fn heal_status(&self) -> Result<rustfs_common::admin::HealFigures, PeerError> {
        self.get_json("/heal/status", "heal status").await
    }

    /// The peer's lifecycle figures (`GET /rustfs/rpc/v2/lifecycle/status`).
    pub async fn lifecycle_status(
        &self,
    ) -> Result<rustfs_common::admin::LifecycleFigures, PeerError> {
        self.get_json("/lifecycle/status", "lifecycle status").await
    }

    /// A JSON answer to a GET of `path`, bounded by the RPC deadline; asked even while the peer
    /// is marked offline, so the answer says why it is unreachable.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<T, PeerError> {
        let addr = self.0.addr.clone();
        let r = self
            .request(reqwest::Method::GET, path, Vec::new())
            .timeout(self.0.timeout)
            .send()
            .await
            .map_err(|e| PeerError::Unreachable(addr.clone(), e.to_string()))?;
        if !r.status().is_success() {
            let s = r.status().as_u16();
            return Err(PeerError::Status(
                addr,
                s,
                r.text().await.unwrap_or_default(),
            ));
        }
        r.json()
            .await
            .map_err(|e| PeerError::Unreachable(addr, format!("{what} does not decode: {e}")))
    }

    /// The RPC version this node and the peer speak ([`wire::negotiate`]), from the range its
    /// health answers carry (unauthenticated, outside any RPC version, so a peer of another
    /// version still says which it speaks). A build from before that header speaks 2 only.
    pub async fn negotiate(&self) -> Result<u32, PeerError> {
        let addr = self.0.addr.clone();
        let url = format!("{}/rustfs/health/live", self.0.origin);
        let r = self
            .0
            .http
            .get(url)
            .timeout(self.0.timeout)
            .send()
            .await
            .map_err(|e| PeerError::Unreachable(addr.clone(), e.to_string()))?;
        let theirs = match r.headers().get(wire::RPC_VERSIONS_HEADER) {
            None => RPC_VERSIONS_BEFORE_HEADER,
            Some(v) => v
                .to_str()
                .ok()
                .and_then(wire::parse_versions)
                .ok_or_else(|| {
                    PeerError::Incompatible(
                        addr.clone(),
                        format!("announces RPC versions {v:?}, which this node cannot read"),
                    )
                })?,
        };
        wire::negotiate(wire::RPC_VERSIONS, theirs).map_err(|m| PeerError::Incompatible(addr, m))
    }

    /// What the peer says about itself, once it speaks an RPC version this node speaks; works
    /// while the peer is marked offline (bootstrap).
    pub async fn info(&self) -> Result<PeerInfo, PeerError> {
        self.negotiate().await?;
        let addr = self.0.addr.clone();
        let r = self
            .request(reqwest::Method::GET, "/info", Vec::new())
            .timeout(self.0.timeout)
            .send()
            .await
            .map_err(|e| PeerError::Unreachable(addr.clone(), e.to_string()))?;
        match r.status() {
            s if s.is_success() => {}
            reqwest::StatusCode::UNAUTHORIZED => return Err(PeerError::Refused(addr)),
            s => {
                let text = r.text().await.unwrap_or_default();
                return Err(PeerError::Status(addr, s.as_u16(), text));
            }
        }
        let info = r
            .json()
            .await
            .map_err(|e| PeerError::Status(addr, 200, format!("undecodable peer info: {e}")))?;
        self.0.online.store(true, Ordering::Relaxed);
        self.0.metrics.online.set(1);
        Ok(info)
    }
}

#[async_trait::async_trait]
impl crate::object::dlock::RemoteLocker for Peer {
    async fn lock_call(&self, call: LockCall) -> bool {
        Peer::lock_call(self, call).await
    }
}
