//! The HTTP server: one listener serving S3 (through `s3s`) and, under `/rustfs/` and `/minio/`,
//! health endpoints and internal RPC (axum).

pub mod admin;
pub mod bootstrap;
pub mod cluster;
mod conn;
pub mod heal_api;
pub mod health;
pub mod iam_api;
pub mod lifecycle_api;
pub mod limits;
pub mod linger;
pub mod node_metrics;
pub mod privileges;
pub mod probe;
pub mod scrape;
pub mod sts_api;
pub mod tls;

use crate::config::Credentials;
use crate::heal::{HealConfig, HealManager};
use crate::object::ObjectLayer;
use crate::rpc::server::RpcState;
use crate::s3::S3Api;
use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustfs_common::endpoint::PoolEndpoints;
use s3s::service::{S3Service, S3ServiceBuilder};
use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;
use tower::ServiceExt;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Resp = http::Response<UnsyncBoxBody<Bytes, BoxError>>;

/// What the HTTP server serves; the object layer arrives once the cluster has formed (a node
/// serves RPC and health before that, and answers S3 with 503).
pub struct ServerState {
    layer: OnceLock<Arc<ObjectLayer>>,
    s3: OnceLock<S3Service>,
    root: Arc<crate::iam::root::RootKeys>,
    region: String,
    rpc: Option<Arc<RpcState>>,
    pools: Vec<PoolEndpoints>,
    /// This node's `host:port`, or `local` for a single node.
    this_node: String,
    heal: Arc<OnceLock<Arc<HealManager>>>,
    tls: Option<tls::Tls>,
    limits: limits::ConnLimits,
    /// This node's cluster-network address: RPC is answered only on connections to it.
    cluster_address: OnceLock<std::net::IpAddr>,
    /// IAM, once S3 is served (POST forms check their signer and policies with it).
    iam: OnceLock<Arc<crate::iam::Iam>>,
    /// The OpenID provider `AssumeRoleWithWebIdentity` trusts, if any.
    oidc: OnceLock<Arc<crate::iam::oidc::Oidc>>,
    /// The LDAP server `AssumeRoleWithLDAPIdentity` asks, if any.
    ldap: OnceLock<Arc<crate::iam::ldap::Ldap>>,
    /// The node is stopping: `/rustfs/health/ready` answers 503 so load balancers move away.
    draining: std::sync::atomic::AtomicBool,
}

impl ServerState {
    pub fn new(
        creds: Credentials,
        region: String,
        rpc: Option<Arc<RpcState>>,
        pools: Vec<PoolEndpoints>,
        this_node: String,
        tls: Option<tls::Tls>,
        limits: limits::ConnLimits,
    ) -> Arc<Self> {
        Arc::new(ServerState {
            layer: OnceLock::new(),
            s3: OnceLock::new(),
            root: crate::iam::root::RootKeys::new(creds),
            region,
            rpc,
            pools,
            this_node,
            heal: Arc::new(OnceLock::new()),
            tls,
            limits,
            cluster_address: OnceLock::new(),
            iam: OnceLock::new(),
            oidc: OnceLock::new(),
            ldap: OnceLock::new(),
            draining: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The identity providers STS trusts (before [`Self::set_layer`]).
    pub fn set_identity_providers(
        &self,
        oidc: Option<crate::iam::oidc::Oidc>,
        ldap: Option<crate::iam::ldap::Ldap>,
    ) {
        if let Some(o) = oidc {
            let _ = self.oidc.set(Arc::new(o));
        }
        if let Some(l) = ldap {
            let _ = self.ldap.set(Arc::new(l));
        }
    }

    /// Answers RPC only on connections to `ip` (see [`check_cluster_address`]).
    pub fn set_cluster_address(&self, ip: std::net::IpAddr) {
        let _ = self.cluster_address.set(ip.to_canonical());
    }

    /// Whether the node is stopping (see [`run`]).
    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The root credentials in force (a `SIGHUP` may replace them: [`Self::reload_root`]).
    pub fn root(&self) -> &crate::iam::root::RootKeys {
        &self.root
    }

    /// Reads the root credentials from the environment again (`SIGHUP`): the new pair is in
    /// force at once, the old one refused. An error keeps the pair in force.
    pub fn reload_root(&self) -> Result<bool, String> {
        crate::iam::root::reload(&self.root, self.iam.get().map(|i| &**i))
    }

    /// IAM, once S3 is served.
    pub(crate) fn iam(&self) -> Option<&Arc<crate::iam::Iam>> {
        self.iam.get()
    }

    /// Starts serving S3 from `layer`.
    pub async fn set_layer(&self, layer: Arc<ObjectLayer>) {
        layer.sync_buckets().await;
        let mut builder = S3ServiceBuilder::new(S3Api::new(layer.clone(), self.region.clone()));
        let mut s3_config = s3s::config::S3Config::default();
        s3_config.xml_max_body_size = self.limits.max_xml_body_bytes;
        builder.set_config(Arc::new(s3s::config::StaticConfigProvider::new(Arc::new(
            s3_config,
        ))));
        let iam = crate::iam::Iam::new(layer.clone(), self.root.clone());
        iam.start();
        builder.set_auth(crate::iam::access::IamAuth { iam: iam.clone() });
        builder.set_access(crate::iam::access::IamAccess { iam: iam.clone() });
        let _ = self.iam.set(iam.clone());
        builder.set_route(admin::AdminRoute {
            layer: layer.clone(),
            pools: self.pools.clone(),
            this_node: self.this_node.clone(),
            iam: iam.clone(),
            heal: self.heal.clone(),
            peers: self
                .rpc
                .as_ref()
                .and_then(|r| r.peers.get().cloned())
                .unwrap_or_default(),
            sts: sts_api::Sts {
                iam: iam.clone(),
                oidc: self.oidc.get().cloned(),
                ldap: self.ldap.get().cloned(),
            },
        });
        let configs = layer.configs.clone();
        let _ = self.layer.set(layer);
        let _ = self.s3.set(builder.build());
        if let Some(rpc) = &self.rpc {
            let _ = rpc.configs.set(configs.clone());
            let _ = rpc.iam.set(iam.clone());
            let peers = rpc.peers.get().cloned().unwrap_or_default();
            let to_tell = peers.clone();
            iam.set_broadcast(Arc::new(move || {
                let peers = to_tell.clone();
                Box::pin(async move {
                    futures::future::join_all(peers.iter().map(|p| p.reload_iam())).await;
                })
            }));
            configs.set_broadcast(Arc::new(move |bucket: String| {
                let peers = peers.clone();
                Box::pin(async move {
                    futures::future::join_all(peers.iter().map(|p| p.invalidate_config(&bucket)))
                        .await;
                })
            }));
            rpc.set_info(|i| i.ready = true);
        }
    }

    pub fn layer(&self) -> Option<&Arc<ObjectLayer>> {
        self.layer.get()
    }

    /// Starts healing (queue, scanner, drive monitor) over the layer set by [`Self::set_layer`].
    pub fn start_healing(&self, cfg: HealConfig) -> Option<Arc<HealManager>> {
        let layer = self.layer.get()?.clone();
        let mgr = self
            .heal
            .get_or_init(|| HealManager::start(layer, cfg))
            .clone();
        if let Some(rpc) = &self.rpc {
            let _ = rpc.heal.set(mgr.clone());
        }
        Some(mgr)
    }

    pub fn heal(&self) -> Option<&Arc<HealManager>> {
        self.heal.get()
    }
}

fn boxed<B>(r: http::Response<B>) -> Resp
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    r.map(|b| b.map_err(Into::into).boxed_unsync())
}

fn starting() -> Resp {
    let mut r = boxed(crate::s3::error_response(
        503,
        "ServiceUnavailable",
        "the server is starting: the cluster has not formed yet; retry shortly",
    ));
    r.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    r
}

/// Checks `--cluster-address`: an address of this machine that this node's endpoint names.
pub fn check_cluster_address(ip: std::net::IpAddr, me: &str) -> anyhow::Result<()> {
    use std::net::ToSocketAddrs;
    if std::net::TcpListener::bind((ip, 0)).is_err() {
        anyhow::bail!("--cluster-address {ip} is not an address of this machine");
    }
    let named: Vec<std::net::IpAddr> = me
        .to_socket_addrs()
        .map(|a| a.map(|a| a.ip().to_canonical()).collect())
        .unwrap_or_default();
    if !named.contains(&ip.to_canonical()) {
        anyhow::bail!(
            "this node's endpoint {me} resolves to {named:?}, not to --cluster-address {ip}: peers call a node at its endpoint, so name the nodes by their cluster addresses in the pool arguments"
        );
    }
    Ok(())
}

/// What the server knows about one connection.
#[derive(Clone, Copy)]
struct ConnInfo {
    /// The connection presented a client certificate the cluster CA signed (always true
    /// without mutual TLS).
    peer_cert: bool,
    /// The local address the connection arrived at.
    local: std::net::SocketAddr,
    /// The caller's address (logged with refused RPC calls).
    remote: std::net::SocketAddr,
}

/// What one connection is served: S3, health and (for peers) RPC.
fn connection_service(
    state: Arc<ServerState>,
    health: axum::Router,
    rpc: Option<axum::Router>,
    conn: ConnInfo,
) -> impl hyper::service::Service<
    http::Request<Incoming>,
    Response = Resp,
    Error = Infallible,
    Future = impl std::future::Future<Output = Result<Resp, Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let state = state.clone();
        let health = health.clone();
        let rpc = rpc.clone();
        async move {
            let path = req.uri().path();
            let wrong_address = state
                .cluster_address
                .get()
                .is_some_and(|ip| *ip != conn.local.ip().to_canonical());
            let resp: Resp = if path.starts_with("/rustfs/rpc/") {
                match rpc {
                    Some(_) if !conn.peer_cert => text(
                        403,
                        "inter-node RPC needs a client certificate signed by the cluster CA",
                    ),
                    Some(_) if wrong_address => text(
                        403,
                        "inter-node RPC is answered only on this node's cluster address",
                    ),
                    Some(rpc) => {
                        let mut req = req;
                        req.extensions_mut().insert(conn.remote);
                        boxed(rpc.oneshot(req).await.unwrap_or_else(|e| match e {}))
                    }
                    None => text(404, "this node runs alone: no internal RPC"),
                }
            } else if path.starts_with("/rustfs/health/") || path.starts_with("/minio/health/") {
                boxed(health.oneshot(req).await.unwrap_or_else(|e| match e {}))
            } else if path == crate::metrics::http::METRICS_PATH {
                {
                    let layer = state.layer().map(|l| l.as_ref());
                    let heal = state.heal().map(|h| h.as_ref());
                    boxed(scrape::serve(layer, heal, req.headers()).await)
                }
            } else {
                let mut req = req;
                let caller = crate::iam::access::Caller {
                    remote: conn.remote,
                    tls: state.tls.is_some(),
                };
                req.extensions_mut().insert(caller);
                serve_s3(&state, req).await
            };
            Ok::<_, Infallible>(resp)
        }
    })
}

/// The S3 front door: CORS preflights (unauthenticated, answered from the bucket's rules), then
/// every other request, whose answer gets the CORS headers its origin is allowed.
async fn serve_s3(state: &Arc<ServerState>, req: http::Request<Incoming>) -> Resp {
    let Some(s3) = state.s3.get() else {
        return starting();
    };
    let layer = state.layer.get().expect("set with the S3 service").clone();
    if crate::s3::cors::is_preflight(&req) {
        return boxed(crate::s3::cors::preflight(&layer, &req).await);
    }
    let origin = crate::s3::cors::Origin::of(&req);
    let mut resp = serve_signed(state, s3, layer.clone(), req).await;
    if let Some(o) = origin {
        o.decorate(&layer, resp.headers_mut()).await;
    }
    resp
}

/// Requests that must prove who sent them: the signature policy and POST Object forms first,
/// then `s3s`. What a refusal leaves unread of a small body is discarded before the answer
/// goes, so the client reads the answer instead of a reset (`linger`).
async fn serve_signed(
    state: &Arc<ServerState>,
    s3: &s3s::service::S3Service,
    layer: Arc<ObjectLayer>,
    req: http::Request<Incoming>,
) -> Resp {
    let (linger, req) = linger::wrap(req);
    let resp = answer_signed(state, s3, layer, req).await;
    linger.discard().await;
    resp
}

async fn answer_signed(
    state: &Arc<ServerState>,
    s3: &s3s::service::S3Service,
    layer: Arc<ObjectLayer>,
    req: http::Request<linger::LingerBody>,
) -> Resp {
    let is_admin = req.uri().path().starts_with(admin::ADMIN_PREFIX);
    let (probe, mut req) = probe::S3Probe::start(req, is_admin);
    let noted = |r: &http::Response<_>| {
        r.extensions()
            .get::<crate::s3::ErrorCode>()
            .map(|c| c.0.clone())
    };
    if let Some(refusal) = crate::s3::guard::check(&req, state.limits.allow_sigv2) {
        let code = noted(&refusal);
        return boxed(probe.finish(refusal, code));
    }
    if crate::s3::post_object::is_form_post(&req) {
        crate::metrics::http::record_api(req.extensions_mut(), "PostObject".into());
        let resp = crate::s3::post_object::handle(state.root(), state.iam(), layer, req).await;
        let code = noted(&resp);
        return boxed(probe.finish(resp, code));
    }
    let is_sts = sts_api::is_sts(req.method(), req.uri(), req.headers());
    let req = crate::s3::guard::capped_chunks(req);
    match s3.call(req).await {
        Ok(r) => {
            let r = if is_sts { sts_api::as_sts_error(r) } else { r };
            let code = crate::s3::code_of(&r);
            boxed(probe.finish(r, code))
        }
        Err(e) => {
            tracing::error!(error = ?e, "s3 service error");
            boxed(probe.finish(text(500, ""), Some("InternalError".into())))
        }
    }
}

fn text(status: u16, body: &'static str) -> Resp {
    boxed(
        http::Response::builder()
            .status(status)
            .body(http_body_util::Full::new(Bytes::from_static(
                body.as_bytes(),
            )))
            .expect("static response"),
    )
}

/// Serves until `shutdown` resolves, then stops in three steps: for `--shutdown-drain-secs`
/// it goes on serving while `/rustfs/health/ready` answers 503 (load balancers move away), then
/// it stops accepting, and requests in flight get `--shutdown-timeout-secs` to finish.
pub async fn run(
    state: Arc<ServerState>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let health = health::router(state.clone());
    let rpc = state.rpc.clone().map(crate::rpc::server::router);
    let mutual = state.tls.as_ref().is_some_and(|t| t.client.is_some());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    server
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(state.limits.header_timeout())
        .max_buf_size(state.limits.max_header_bytes);
    server
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .max_header_list_size(state.limits.max_header_bytes as u32);
    let slots = Arc::new(tokio::sync::Semaphore::new(state.limits.max_connections));
    let idle_timeout = state.limits.idle_timeout();
    let drain = state.limits.shutdown_drain();
    let stopping = state.clone();
    let shutdown = async move {
        shutdown.await;
        stopping
            .draining
            .store(true, std::sync::atomic::Ordering::Release);
        if !drain.is_zero() {
            tracing::info!(
                "draining: /rustfs/health/ready answers 503 for {}s, then no new connections",
                drain.as_secs()
            );
            tokio::time::sleep(drain).await;
        }
    };
    tokio::pin!(shutdown);
    loop {
        // A connection is accepted only with a free slot: beyond the cap, clients wait in the
        // listen backlog instead of costing memory here.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(s) => s,
                Err(e) => {
                    // Out of descriptors or memory: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let local = match stream.local_addr() {
            Ok(a) => a,
            Err(_) => continue,
        };
        let (stream, activity) = conn::Watched::new(stream);
        let (state, health, rpc, server) =
            (state.clone(), health.clone(), rpc.clone(), server.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _slot = slot;
            let served = async {
                match state.tls.clone() {
                    None => {
                        let info = ConnInfo {
                            peer_cert: true,
                            local,
                            remote,
                        };
                        let svc = connection_service(state, health, rpc, info);
                        let conn = server.serve_connection_with_upgrades(TokioIo::new(stream), svc);
                        if let Err(e) = watcher.watch(conn.into_owned()).await {
                            tracing::debug!(error = %e, "connection ended with error");
                        }
                    }
                    Some(tls) => {
                        let handshake = tokio::time::timeout(
                            state.limits.header_timeout(),
                            tls.acceptor.accept(stream),
                        );
                        let stream = match handshake.await {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::info!(%remote, error = %e, "TLS handshake refused");
                                return;
                            }
                            Err(_) => {
                                tracing::info!(%remote, "TLS handshake timed out");
                                return;
                            }
                        };
                        let peer_cert = !mutual || stream.get_ref().1.peer_certificates().is_some();
                        let svc = connection_service(
                            state,
                            health,
                            rpc,
                            ConnInfo {
                                peer_cert,
                                local,
                                remote,
                            },
                        );
                        let conn = server.serve_connection_with_upgrades(TokioIo::new(stream), svc);
                        if let Err(e) = watcher.watch(conn.into_owned()).await {
                            tracing::debug!(error = %e, "connection ended with error");
                        }
                    }
                }
            };
            tokio::select! {
                () = served => {}
                () = conn::idle(activity, idle_timeout) => {
                    tracing::debug!(%remote, "closed a connection idle past the idle timeout");
                }
            }
        });
    }
    // Stop listening before draining: a connection made now would wait in the backlog, unserved,
    // until the process exits — a peer's RPC or a client's request would hang for its whole
    // deadline instead of being refused at once and going elsewhere.
    drop(listener);
    let deadline = state.limits.shutdown_timeout();
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(deadline) => tracing::warn!("connections still open after {}s; closing", deadline.as_secs()),
    }
    Ok(())
}
