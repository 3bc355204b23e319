//! The RPC side of a node: serves its local drives, its lock table and its peer info to the
//! other nodes, under [`RPC_PREFIX`], behind call authentication ([`super::auth`]).
//!
//! Peers are authenticated, not trusted: names they send reach a drive only through its own
//! checks (`store::local::paths`), bodies and frames are bounded, and read lengths are capped.

use super::auth::{RpcKeys, TokenError, Verified, Verifier, FRAME_MAC_LEN, STREAM_BODY};
use super::wire::{
    self, DriveCall, DriveReply, LockReply, LockRequest, PeerInfo, WireError, MAX_CALL_BYTES,
    MAX_FRAME_BYTES, RPC_PREFIX,
};
use crate::object::dlock::LockTable;
use crate::store::{DataReader, Drive, DriveError, DriveResult, ShardReader, WalkRequest};
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http_body_util::BodyExt;
use parking_lot::Mutex;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Handles a peer opened stay alive this long after their last use.
const HANDLE_IDLE: Duration = Duration::from_secs(120);

/// Something a peer holds open on this node.
pub(super) enum Opened {
    /// A pinned data dir.
    Data(Arc<dyn DataReader>),
    /// A shard file, and the data dir handle it was opened through (kept alive by its reads).
    Shard(Arc<dyn ShardReader>, Option<u64>),
}

struct OpenHandle {
    opened: Opened,
    last_used: Instant,
}

/// Everything the RPC routes serve.
pub struct RpcState {
    verifier: Verifier,
    drives: HashMap<String, Arc<dyn Drive>>,
    pub locks: Arc<LockTable>,
    info: Mutex<PeerInfo>,
    handles: Mutex<HashMap<u64, OpenHandle>>,
    next_handle: AtomicU64,
    /// This node's heal manager, once the cluster has formed (its figures are served to peers).
    pub heal: std::sync::OnceLock<Arc<crate::heal::HealManager>>,
    /// The other nodes, once the cluster has formed.
    pub peers: std::sync::OnceLock<Vec<crate::rpc::client::Peer>>,
    /// This node's cached bucket configurations, once the cluster has formed.
    pub configs: std::sync::OnceLock<Arc<crate::object::config::ConfigCache>>,
    /// IAM, once S3 is served: reloaded when a peer changed it.
    pub iam: std::sync::OnceLock<Arc<crate::iam::Iam>>,
}

impl RpcState {
    /// `keys`: the cluster's RPC keys; `this_node`: this node's `host:port` (calls addressed to
    /// any other node are refused); `drives`: this node's local drives by path.
    pub fn new(
        keys: RpcKeys,
        this_node: &str,
        drives: HashMap<String, Arc<dyn Drive>>,
        info: PeerInfo,
    ) -> Arc<Self> {
        let state = Arc::new(RpcState {
            verifier: Verifier::new(keys, this_node),
            drives,
            locks: Arc::new(LockTable::default()),
            info: Mutex::new(info),
            handles: Mutex::new(HashMap::new()),
            next_handle: AtomicU64::new(1),
            heal: std::sync::OnceLock::new(),
            peers: std::sync::OnceLock::new(),
            configs: std::sync::OnceLock::new(),
            iam: std::sync::OnceLock::new(),
        });
        let weak = Arc::downgrade(&state);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                let Some(s) = weak.upgrade() else { break };
                s.handles
                    .lock()
                    .retain(|_, h| h.last_used.elapsed() < HANDLE_IDLE);
                s.locks.purge_expired();
            }
        });
        state
    }

    /// Updates what this node reports about itself.
    pub fn set_info(&self, f: impl FnOnce(&mut PeerInfo)) {
        f(&mut self.info.lock());
    }

    pub fn info(&self) -> PeerInfo {
        self.info.lock().clone()
    }

    fn drive(&self, path: &str) -> DriveResult<&Arc<dyn Drive>> {
        self.drives
            .get(path)
            .ok_or_else(|| DriveError::Offline(format!("{path} (not a drive of this node)")))
    }

    pub(super) fn open(&self, opened: Opened) -> u64 {
        let h = self.next_handle.fetch_add(1, Ordering::Relaxed);
        self.handles.lock().insert(
            h,
            OpenHandle {
                opened,
                last_used: Instant::now(),
            },
        );
        h
    }

    async fn drive_call(&self, path: &str, call: DriveCall) -> DriveResult<DriveReply> {
        self.serve_call(self.drive(path)?, call).await
    }

    /// Forgets handle `h` (the peer closed it).
    pub(super) fn close(&self, h: u64) {
        self.handles.lock().remove(&h);
    }

    /// What handle `h` holds, marking it (and the data dir it came from) used.
    pub(super) fn touch(&self, h: u64) -> DriveResult<Opened> {
        let mut handles = self.handles.lock();
        let now = Instant::now();
        let entry = handles.get_mut(&h).ok_or(DriveError::NotFound)?;
        entry.last_used = now;
        let (opened, parent) = match &entry.opened {
            Opened::Data(d) => (Opened::Data(d.clone()), None),
            Opened::Shard(r, p) => (Opened::Shard(r.clone(), *p), *p),
        };
        if let Some(p) = parent.and_then(|p| handles.get_mut(&p)) {
            p.last_used = now;
        }
        Ok(opened)
    }

    fn reader(&self, handle: u64) -> DriveResult<Arc<dyn ShardReader>> {
        match self.touch(handle)? {
            Opened::Shard(r, _) => Ok(r),
            Opened::Data(_) => Err(DriveError::NotFound),
        }
    }
}

fn msgpack(body: Vec<u8>) -> Response {
    ([(http::header::CONTENT_TYPE, "application/msgpack")], body).into_response()
}

fn reply<T: serde::Serialize>(r: DriveResult<T>) -> Response {
    let r: Result<T, WireError> = r.map_err(WireError::from);
    msgpack(wire::encode(&r))
}

fn bad_request(msg: String) -> Response {
    (StatusCode::BAD_REQUEST, msg).into_response()
}

#[derive(Deserialize)]
struct DriveQuery {
    drive: String,
}

async fn handle_drive(
    State(s): State<Arc<RpcState>>,
    Query(q): Query<DriveQuery>,
    body: Bytes,
) -> Response {
    match wire::decode::<DriveCall>(&body) {
        Ok(call) => reply(s.drive_call(&q.drive, call).await),
        Err(e) => bad_request(format!("undecodable drive call: {e}")),
    }
}

#[derive(Deserialize)]
struct WriteQuery {
    drive: String,
    tmp: Uuid,
    name: String,
}

/// Streams the request body into a shard file; answers once it is fsynced. The body is a
/// sequence of frames (length, data, MAC), each checked before it is written, ending with an
/// empty frame: a stream cut short, reordered or altered is refused.
async fn handle_write(
    State(s): State<Arc<RpcState>>,
    Query(q): Query<WriteQuery>,
    Extension(auth): Extension<Arc<Verified>>,
    body: Body,
) -> Response {
    let broke = |what: String| DriveError::Io {
        drive: q.drive.clone(),
        source: std::io::Error::other(what),
    };
    let r: DriveResult<()> = async {
        let d = s.drive(&q.drive)?;
        let mut w = d.create_writer(q.tmp, &q.name).await?;
        let mut stream = body.into_data_stream();
        let mut buf = BytesMut::new();
        let mut seq = 0u64;
        loop {
            match wire::take_frame_with(&mut buf, FRAME_MAC_LEN) {
                Err(e) => return Err(broke(e.to_string())),
                Ok(Some(frame)) => {
                    let (data, mac) = frame.split_at(frame.len() - FRAME_MAC_LEN);
                    if !auth.stream.check(seq, data, mac) {
                        return Err(broke(format!("shard stream frame {seq} fails its MAC")));
                    }
                    seq += 1;
                    if data.is_empty() {
                        return w.finish().await;
                    }
                    w.write(data).await?;
                    continue;
                }
                Ok(None) => {}
            }
            match stream.next().await {
                Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                Some(Err(e)) => return Err(broke(format!("shard stream from peer broke: {e}"))),
                None => return Err(broke("shard stream ended before its last frame".into())),
            }
        }
    }
    .await;
    reply(r)
}

#[derive(Deserialize)]
struct ReadQuery {
    handle: u64,
    offset: u64,
    len: usize,
}

/// Raw shard bytes on success (200), a MessagePack `WireError` otherwise (409).
async fn handle_read(State(s): State<Arc<RpcState>>, Query(q): Query<ReadQuery>) -> Response {
    let r = if q.len > MAX_FRAME_BYTES {
        Err(DriveError::InvalidName(format!(
            "read of {} bytes refused: at most {MAX_FRAME_BYTES} per call",
            q.len
        )))
    } else {
        match s.reader(q.handle) {
            Ok(reader) => reader.read_at(q.offset, q.len).await,
            Err(e) => Err(e),
        }
    };
    match r {
        Ok(b) => (
            [(http::header::CONTENT_TYPE, "application/octet-stream")],
            b,
        )
            .into_response(),
        Err(e) => (StatusCode::CONFLICT, wire::encode(&WireError::from(e))).into_response(),
    }
}

#[derive(Deserialize)]
struct WalkQuery {
    drive: String,
    bucket: String,
}

async fn handle_walk(
    State(s): State<Arc<RpcState>>,
    Query(q): Query<WalkQuery>,
    body: Bytes,
) -> Response {
    let req: WalkRequest = match wire::decode(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("undecodable walk request: {e}")),
    };
    let rx = match s.drive(&q.drive) {
        Ok(d) => d.walk(&q.bucket, req).await,
        Err(e) => Err(e),
    };
    let rx = match rx {
        Ok(rx) => rx,
        Err(e) => {
            let r: Result<(), WireError> = Err(e.into());
            return Body::from(wire::frame(&wire::encode(&r))).into_response();
        }
    };
    let frames = futures::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        let r = item.map_err(WireError::from);
        Some((
            Ok::<_, std::convert::Infallible>(Bytes::from(wire::frame(&wire::encode(&r)))),
            rx,
        ))
    });
    Body::from_stream(frames).into_response()
}

async fn handle_lock(State(s): State<Arc<RpcState>>, body: Bytes) -> Response {
    match wire::decode::<LockRequest>(&body) {
        Ok(req) => {
            let clock = crate::object::clock::hlc();
            clock.observe(req.hlc);
            let granted = s.locks.apply_from(req.call, req.owner);
            msgpack(wire::encode(&LockReply {
                granted,
                hlc: clock.peek(),
            }))
        }
        Err(e) => bad_request(format!("undecodable lock call: {e}")),
    }
}

/// Another node changed a bucket's configuration: drop this node's copy.
async fn handle_config_invalidate(State(s): State<Arc<RpcState>>, body: Bytes) -> Response {
    let bucket = String::from_utf8_lossy(&body);
    if let Some(c) = s.configs.get() {
        c.invalidate(&bucket);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// A peer changed IAM: reload it before answering, so the change is in force here once the
/// peer acknowledges it.
async fn handle_iam_reload(State(s): State<Arc<RpcState>>) -> Response {
    let Some(iam) = s.iam.get() else {
        return StatusCode::NO_CONTENT.into_response();
    };
    match iam.reload().await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

async fn handle_info(State(s): State<Arc<RpcState>>) -> Response {
    axum::Json(s.info()).into_response()
}

async fn handle_heal_status(State(s): State<Arc<RpcState>>) -> Response {
    match s.heal.get() {
        Some(m) => axum::Json(m.figures()).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "healing has not started: the cluster has not formed yet",
        )
            .into_response(),
    }
}

/// Refuses calls whose authorization does not verify (saying why in the log, with the caller's
/// address when the connection carries it), and non-stream bodies that are too large or do not
/// match their signed hash.
async fn authenticate(State(s): State<Arc<RpcState>>, req: Request, next: Next) -> Response {
    let header = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
    let refused = |req: &Request, e: TokenError| {
        let peer = req
            .extensions()
            .get::<std::net::SocketAddr>()
            .map(ToString::to_string)
            .unwrap_or_else(|| "unknown".into());
        tracing::warn!(peer, path = %req.uri().path(), reason = %e, "refused an RPC call");
        (StatusCode::UNAUTHORIZED, format!("rpc call refused: {e}")).into_response()
    };
    let verified = match s.verifier.verify(req.method().as_str(), path, header) {
        Ok(v) => v,
        Err(e) => return refused(&req, e),
    };
    let is_write = req.uri().path() == format!("{RPC_PREFIX}/write");
    if (verified.body == STREAM_BODY) != is_write {
        return refused(&req, TokenError::BodyMismatch);
    }
    if is_write {
        let mut req = req;
        req.extensions_mut().insert(Arc::new(verified));
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let body = match http_body_util::Limited::new(body, MAX_CALL_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("rpc body refused: {e} (at most {MAX_CALL_BYTES} bytes)"),
            )
                .into_response()
        }
    };
    let req = Request::from_parts(parts, Body::from(body.clone()));
    if RpcKeys::body_hash(&body) != verified.body {
        return refused(&req, TokenError::BodyMismatch);
    }
    next.run(req).await
}

/// The RPC routes, all under [`RPC_PREFIX`].
pub fn router(state: Arc<RpcState>) -> Router {
    Router::new()
        .route(&format!("{RPC_PREFIX}/ping"), get(|| async { "ok" }))
        .route(&format!("{RPC_PREFIX}/info"), get(handle_info))
        .route(&format!("{RPC_PREFIX}/drive"), post(handle_drive))
        .route(&format!("{RPC_PREFIX}/write"), post(handle_write))
        .route(&format!("{RPC_PREFIX}/read"), get(handle_read))
        .route(&format!("{RPC_PREFIX}/walk"), post(handle_walk))
        .route(&format!("{RPC_PREFIX}/lock"), post(handle_lock))
        .route(
            &format!("{RPC_PREFIX}/config/invalidate"),
            post(handle_config_invalidate),
        )
        .route(&format!("{RPC_PREFIX}/iam/reload"), post(handle_iam_reload))
        .route(
            &format!("{RPC_PREFIX}/heal/status"),
            get(handle_heal_status),
        )
        .route(
            &format!("{RPC_PREFIX}/lifecycle/status"),
            get(|| async { axum::Json(crate::lifecycle::counters().figures()) }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_CALL_BYTES))
        .with_state(state)
}
