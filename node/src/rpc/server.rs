//! The RPC side of a node: serves its local drives, its lock table and its peer info to the
//! other nodes, under [`RPC_PREFIX`], behind token authentication.

use super::auth::TokenKey;
use super::wire::{self, DriveCall, DriveReply, LockCall, PeerInfo, WireError, RPC_PREFIX};
use crate::object::dlock::LockTable;
use crate::store::{Drive, DriveError, DriveResult, ShardReader, WalkRequest};
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_bytes::ByteBuf;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Shard files opened for a peer stay pinned this long after their last read.
const HANDLE_IDLE: Duration = Duration::from_secs(120);

struct OpenHandle {
    reader: Arc<dyn ShardReader>,
    last_used: Instant,
}

/// Everything the RPC routes serve.
pub struct RpcState {
    key: TokenKey,
    drives: HashMap<String, Arc<dyn Drive>>,
    pub locks: Arc<LockTable>,
    info: Mutex<PeerInfo>,
    handles: Mutex<HashMap<u64, OpenHandle>>,
    next_handle: AtomicU64,
    /// This node's heal manager, once the cluster has formed (its figures are served to peers).
    pub heal: std::sync::OnceLock<Arc<crate::heal::HealManager>>,
    /// The other nodes, once the cluster has formed.
    pub peers: std::sync::OnceLock<Vec<crate::rpc::client::Peer>>,
}

impl RpcState {
    /// `drives`: this node's local drives by path.
    pub fn new(
        key: TokenKey,
        drives: HashMap<String, Arc<dyn Drive>>,
        info: PeerInfo,
    ) -> Arc<Self> {
        let state = Arc::new(RpcState {
            key,
            drives,
            locks: Arc::new(LockTable::default()),
            info: Mutex::new(info),
            handles: Mutex::new(HashMap::new()),
            next_handle: AtomicU64::new(1),
            heal: std::sync::OnceLock::new(),
            peers: std::sync::OnceLock::new(),
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

    async fn drive_call(&self, path: &str, call: DriveCall) -> DriveResult<DriveReply> {
        let d = self.drive(path)?;
        if let DriveCall::ReadSysFile(name) | DriveCall::WriteSysFile(name, _) = &call {
            check_file_name(name)?;
        }
        use DriveCall as C;
        use DriveReply as R;
        let bytes = |v: Vec<u8>| R::Bytes(ByteBuf::from(v));
        let list = |v: Vec<Vec<u8>>| R::BytesList(v.into_iter().map(ByteBuf::from).collect());
        Ok(match call {
            C::IsOnline => R::Bool(d.is_online().await),
            C::DiskInfo => R::DiskInfo(d.disk_info().await?),
            C::ReadFormat => R::Format(d.read_format().await?),
            C::WriteFormat(f) => R::Unit.after(d.write_format(&f).await)?,
            C::ReadSysFile(n) => bytes(d.read_sys_file(&n).await?),
            C::WriteSysFile(n, b) => R::Unit.after(d.write_sys_file(&n, &b).await)?,
            C::MakeBucket(b, t) => R::Unit.after(d.make_bucket(&b, t).await)?,
            C::ListBuckets => R::Buckets(d.list_buckets().await?),
            C::StatBucket(b) => R::Bucket(d.stat_bucket(&b).await?),
            C::DeleteBucket(b) => R::Unit.after(d.delete_bucket(&b).await)?,
            C::ReadMeta(b, k) => R::Meta(d.read_meta(&b, &k).await?),
            C::RemoveTmp(id) => R::Unit.after(d.remove_tmp(id).await)?,
            C::Commit(b, k, src, v) => R::Unit.after(d.commit(&b, &k, src, *v).await)?,
            C::DeleteVersion(b, k, v) => R::Unit.after(d.delete_version(&b, &k, v).await)?,
            C::OpenShard(b, k, dd, part) => {
                let reader: Arc<dyn ShardReader> = d.open_shard(&b, &k, dd, part).await?.into();
                let h = self.next_handle.fetch_add(1, Ordering::Relaxed);
                self.handles.lock().insert(
                    h,
                    OpenHandle {
                        reader,
                        last_used: Instant::now(),
                    },
                );
                R::Handle(h)
            }
            C::CloseShard(h) => {
                self.handles.lock().remove(&h);
                R::Unit
            }
            C::WriteUpload(b, id, m) => R::Unit.after(d.write_upload(&b, id, &m).await)?,
            C::ReadUpload(b, id) => bytes(d.read_upload(&b, id).await?),
            C::ListUploads(b) => list(d.list_uploads(&b).await?),
            C::CommitPart(b, id, n, tmp, m) => {
                R::Unit.after(d.commit_part(&b, id, n, tmp, &m).await)?
            }
            C::ListParts(b, id) => list(d.list_parts(&b, id).await?),
            C::DeleteUpload(b, id) => R::Unit.after(d.delete_upload(&b, id).await)?,
            C::CheckParts(b, k, v, deep) => R::Parts(d.check_parts(&b, &k, &v, deep).await?),
        })
    }

    fn reader(&self, handle: u64) -> DriveResult<Arc<dyn ShardReader>> {
        let mut handles = self.handles.lock();
        let h = handles.get_mut(&handle).ok_or(DriveError::NotFound)?;
        h.last_used = Instant::now();
        Ok(h.reader.clone())
    }
}

/// A peer names files only inside the directories a drive call implies: one plain component.
fn check_file_name(name: &str) -> DriveResult<()> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if plain {
        Ok(())
    } else {
        Err(DriveError::Corrupt(format!(
            "refused file name {name:?} from a peer: one plain path component expected"
        )))
    }
}

impl DriveReply {
    fn after(self, r: DriveResult<()>) -> DriveResult<DriveReply> {
        r.map(|()| self)
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

#[cfg(test)]
mod tests {
    #[test]
    fn peers_cannot_name_files_outside_a_drive_directory() {
        for ok in ["part", "part.12", "credentials.json"] {
            assert!(super::check_file_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "../x", "a/b", "/etc/passwd", "a\0b"] {
            assert!(super::check_file_name(bad).is_err(), "{bad}");
        }
    }
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

/// Streams the request body into a shard file; answers once it is fsynced.
async fn handle_write(
    State(s): State<Arc<RpcState>>,
    Query(q): Query<WriteQuery>,
    body: Body,
) -> Response {
    let r: DriveResult<()> = async {
        check_file_name(&q.name)?;
        let d = s.drive(&q.drive)?;
        let mut w = d.create_writer(q.tmp, &q.name).await?;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| DriveError::Io {
                drive: q.drive.clone(),
                source: std::io::Error::other(format!("shard stream from peer broke: {e}")),
            })?;
            w.write(&chunk).await?;
        }
        w.finish().await
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
    let r = match s.reader(q.handle) {
        Ok(reader) => reader.read_at(q.offset, q.len).await,
        Err(e) => Err(e),
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
    match wire::decode::<LockCall>(&body) {
        Ok(call) => msgpack(wire::encode(&s.locks.apply(call))),
        Err(e) => bad_request(format!("undecodable lock call: {e}")),
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

/// Refuses calls without a valid token, and says so in the log (with the caller's address when
/// the connection carries it).
async fn authenticate(State(s): State<Arc<RpcState>>, req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match s.key.verify(token) {
        Ok(()) => next.run(req).await,
        Err(e) => {
            let peer = req
                .extensions()
                .get::<std::net::SocketAddr>()
                .map(ToString::to_string)
                .unwrap_or_else(|| "unknown".into());
            tracing::warn!(peer, path = %req.uri().path(), reason = %e, "refused an RPC call");
            (StatusCode::UNAUTHORIZED, format!("rpc call refused: {e}")).into_response()
        }
    }
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
            &format!("{RPC_PREFIX}/heal/status"),
            get(handle_heal_status),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}
