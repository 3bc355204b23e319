//! The HTTP server: one listener serving S3 (through `s3s`) and, under `/rustfs/` and `/minio/`,
//! health endpoints (axum).

pub mod bootstrap;

use crate::config::Credentials;
use crate::object::ObjectLayer;
use crate::s3::S3Api;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::ServiceExt;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Resp = http::Response<UnsyncBoxBody<Bytes, BoxError>>;

fn admin_router() -> axum::Router {
    let live = || async { "ok" };
    axum::Router::new()
        .route("/rustfs/health/live", get(live))
        .route("/rustfs/health/ready", get(live))
        .route("/minio/health/live", get(live))
        .route("/minio/health/ready", get(live))
}

/// Serves until `shutdown` resolves, then drains open connections.
pub async fn run(
    layer: Arc<ObjectLayer>,
    creds: Credentials,
    region: String,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut builder = S3ServiceBuilder::new(S3Api::new(layer, region));
    builder.set_auth(SimpleAuth::from_single(creds.access_key, creds.secret_key));
    let s3 = builder.build();
    let admin = admin_router();
    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let s3 = s3.clone();
        let admin = admin.clone();
        async move {
            let path = req.uri().path();
            let resp: Resp = if path.starts_with("/rustfs/") || path.starts_with("/minio/") {
                let r = admin.oneshot(req).await.unwrap_or_else(|e| match e {});
                r.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed_unsync())
            } else {
                match s3.call(req.map(s3s::Body::from)).await {
                    Ok(r) => r.map(|b| b.map_err(|e| e as BoxError).boxed_unsync()),
                    Err(e) => {
                        tracing::error!(error = ?e, "s3 service error");
                        http::Response::builder()
                            .status(500)
                            .body(
                                http_body_util::Empty::new()
                                    .map_err(|e: Infallible| match e {})
                                    .boxed_unsync(),
                            )
                            .expect("static response")
                    }
                }
            };
            Ok::<_, Infallible>(resp)
        }
    });
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let conn = server.serve_connection_with_upgrades(TokioIo::new(stream), service.clone());
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with error");
                    }
                });
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
