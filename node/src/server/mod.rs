//! The HTTP server: one listener serving S3 (through `s3s`) and, under `/rustfs/` and `/minio/`,
//! health endpoints and internal RPC (axum).

pub mod admin;
pub mod bootstrap;
pub mod cluster;
pub mod heal_api;
pub mod health;
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
use s3s::auth::SimpleAuth;
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
    creds: Credentials,
    region: String,
    rpc: Option<Arc<RpcState>>,
    pools: Vec<PoolEndpoints>,
    /// This node's `host:port`, or `local` for a single node.
    this_node: String,
    heal: Arc<OnceLock<Arc<HealManager>>>,
    tls: Option<tls::Tls>,
}

impl ServerState {
    pub fn new(
        creds: Credentials,
        region: String,
        rpc: Option<Arc<RpcState>>,
        pools: Vec<PoolEndpoints>,
        this_node: String,
        tls: Option<tls::Tls>,
    ) -> Arc<Self> {
        Arc::new(ServerState {
            layer: OnceLock::new(),
            s3: OnceLock::new(),
            creds,
            region,
            rpc,
            pools,
            this_node,
            heal: Arc::new(OnceLock::new()),
            tls,
        })
    }

    /// Starts serving S3 from `layer`.
    pub async fn set_layer(&self, layer: Arc<ObjectLayer>) {
        layer.sync_buckets().await;
        let mut builder = S3ServiceBuilder::new(S3Api::new(layer.clone(), self.region.clone()));
        builder.set_auth(SimpleAuth::from_single(
            self.creds.access_key.clone(),
            self.creds.secret_key.clone(),
        ));
        builder.set_access(crate::metrics::http::ApiRecorder);
        builder.set_route(admin::AdminRoute {
            layer: layer.clone(),
            pools: self.pools.clone(),
            this_node: self.this_node.clone(),
            root_access_key: self.creds.access_key.clone(),
            heal: self.heal.clone(),
            peers: self
                .rpc
                .as_ref()
                .and_then(|r| r.peers.get().cloned())
                .unwrap_or_default(),
        });
        let _ = self.s3.set(builder.build());
        let _ = self.layer.set(layer);
        if let Some(rpc) = &self.rpc {
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
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ServiceUnavailable</Code><Message>the server is starting: the cluster has not formed yet; retry shortly</Message></Error>";
    boxed(
        http::Response::builder()
            .status(503)
            .header(http::header::CONTENT_TYPE, "application/xml")
            .header(http::header::RETRY_AFTER, "1")
            .body(http_body_util::Full::new(Bytes::from(body)))
            .expect("static response"),
    )
}

/// What one connection is served: S3, health and (for peers) RPC. `peer_cert`: the connection
/// presented a client certificate the cluster CA signed (always true without mutual TLS).
fn connection_service(
    state: Arc<ServerState>,
    health: axum::Router,
    rpc: Option<axum::Router>,
    peer_cert: bool,
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
            let resp: Resp = if path.starts_with("/rustfs/rpc/") {
                match rpc {
                    Some(_) if !peer_cert => text(
                        403,
                        "inter-node RPC needs a client certificate signed by the cluster CA",
                    ),
                    Some(rpc) => boxed(rpc.oneshot(req).await.unwrap_or_else(|e| match e {})),
                    None => text(404, "this node runs alone: no internal RPC"),
                }
            } else if path.starts_with("/rustfs/health/") || path.starts_with("/minio/health/") {
                boxed(health.oneshot(req).await.unwrap_or_else(|e| match e {}))
            } else if path == crate::metrics::http::METRICS_PATH {
                boxed(crate::metrics::http::serve(&state, req.headers()).await)
            } else {
                match state.s3.get() {
                    None => starting(),
                    Some(s3) => {
                        let (probe, req) = crate::metrics::http::S3Probe::start(req);
                        match s3.call(req.map(s3s::Body::http_body)).await {
                            Ok(r) => boxed(probe.finish(r)),
                            Err(e) => {
                                tracing::error!(error = ?e, "s3 service error");
                                text(500, "")
                            }
                        }
                    }
                }
            };
            Ok::<_, Infallible>(resp)
        }
    })
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

/// Serves until `shutdown` resolves, then drains open connections.
pub async fn run(
    state: Arc<ServerState>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let health = health::router(state.clone());
    let rpc = state.rpc.clone().map(crate::rpc::server::router);
    let mutual = state.tls.as_ref().is_some_and(|t| t.client.is_some());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                match state.tls.clone() {
                    None => {
                        let svc = connection_service(state.clone(), health.clone(), rpc.clone(), true);
                        let conn = server.serve_connection_with_upgrades(TokioIo::new(stream), svc);
                        let conn = graceful.watch(conn.into_owned());
                        tokio::spawn(async move {
                            if let Err(e) = conn.await {
                                tracing::debug!(error = %e, "connection ended with error");
                            }
                        });
                    }
                    Some(tls) => {
                        let (state, health, rpc, server) = (state.clone(), health.clone(), rpc.clone(), server.clone());
                        let watcher = graceful.watcher();
                        tokio::spawn(async move {
                            let handshake = tokio::time::timeout(
                                std::time::Duration::from_secs(10),
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
                            let svc = connection_service(state, health, rpc, peer_cert);
                            let conn = server.serve_connection_with_upgrades(TokioIo::new(stream), svc);
                            if let Err(e) = watcher.watch(conn.into_owned()).await {
                                tracing::debug!(error = %e, "connection ended with error");
                            }
                        });
                    }
                }
            }
            () = &mut shutdown => break,
        }
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => tracing::warn!("connections still open after 10 s; closing"),
    }
    Ok(())
}
