//! The admin API (`/rustfs/admin/v1/…`): SigV4-signed like S3 (s3s verifies the signature), for
//! root or a user whose policies allow the route's `admin:` action. `GET /rustfs/admin/v1/info` reports nodes, drives, sets and their tolerance;
//! `heal/status`, `POST heal`, `lifecycle/status` and `iam/…` are in their own modules.

use crate::object::ObjectLayer;
use futures::future::join_all;
use http::{Extensions, HeaderMap, Method, StatusCode, Uri};
use rustfs_common::admin::{DriveInfo, NodeInfo, PoolInfo, ServerInfo, SetInfo};
use rustfs_common::endpoint::PoolEndpoints;
use rustfs_common::policy::{Action, RequestContext};
use s3s::route::S3Route;
use s3s::{s3_error, Body, S3Request, S3Response, S3Result};
use std::sync::Arc;

pub const ADMIN_PREFIX: &str = "/rustfs/admin/v1/";

pub struct AdminRoute {
    pub layer: Arc<ObjectLayer>,
    pub pools: Vec<PoolEndpoints>,
    pub this_node: String,
    pub iam: Arc<crate::iam::Iam>,
    pub heal: Arc<std::sync::OnceLock<Arc<crate::heal::HealManager>>>,
    /// The other nodes (distributed mode), asked for their heal figures.
    pub peers: Vec<crate::rpc::client::Peer>,
    /// The STS API, served on the same route (`s3s` takes one).
    pub sts: super::sts_api::Sts,
}

impl AdminRoute {
    async fn info(&self) -> ServerInfo {
        let mut nodes: Vec<NodeInfo> = Vec::new();
        let mut pools = Vec::new();
        let mut deployment_id = String::new();
        for (pi, (pool, eps)) in self.layer.pools.iter().zip(&self.pools).enumerate() {
            if deployment_id.is_empty() {
                deployment_id = uuid::Uuid::from_bytes(pool.placement_key).to_string();
            }
            let mut sets = Vec::new();
            for set in &pool.sets {
                let base = set.index * set.num_drives();
                let online = join_all(set.drives.iter().map(|d| d.is_online())).await;
                let disks = join_all(set.drives.iter().map(|d| d.disk_info())).await;
                let mut drives = Vec::new();
                for i in 0..set.drives.len() {
                    let node = eps.endpoints[base + i]
                        .host_port()
                        .unwrap_or_else(|| "local".into());
                    let usage = disks[i].as_ref().ok().copied().unwrap_or_default();
                    match nodes.iter_mut().find(|n| n.address == node) {
                        Some(n) => n.online |= online[i],
                        None => nodes.push(NodeInfo {
                            address: node.clone(),
                            online: online[i],
                        }),
                    }
                    drives.push(DriveInfo {
                        endpoint: eps.endpoints[base + i].to_string(),
                        node,
                        online: online[i] && disks[i].is_ok(),
                        total_bytes: usage.total_bytes,
                        used_bytes: usage.used_bytes,
                        free_bytes: usage.free_bytes,
                    });
                }
                let q = set.default_quorum();
                let up = drives.iter().filter(|d| d.online).count();
                sets.push(SetInfo {
                    index: set.index,
                    data: q.data,
                    parity: q.parity,
                    read_quorum: q.read(),
                    write_quorum: q.write(),
                    drives_online: up,
                    read_tolerance: up as i64 - q.read() as i64,
                    write_tolerance: up as i64 - q.write() as i64,
                    drives,
                });
            }
            pools.push(PoolInfo { index: pi, sets });
        }
        ServerInfo {
            version: rustfs_common::VERSION.to_string(),
            rpc: crate::rpc::wire::RPC_VERSIONS,
            formats: crate::store::format_levels(),
            deployment_id,
            this_node: self.this_node.clone(),
            nodes,
            pools,
        }
    }
}

pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> S3Response<Body> {
    let mut r = S3Response::with_status(Body::from(body), status);
    r.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

#[async_trait::async_trait]
impl S3Route for AdminRoute {
    fn is_match(&self, m: &Method, uri: &Uri, h: &HeaderMap, _e: &mut Extensions) -> bool {
        uri.path().starts_with(ADMIN_PREFIX) || super::sts_api::is_sts(m, uri, h)
    }

    async fn check_access(&self, req: &mut S3Request<Body>) -> S3Result<()> {
        if !req.uri.path().starts_with(ADMIN_PREFIX) {
            // STS: each action decides who may call it (web identities sign nothing).
            return Ok(());
        }
        let Some(c) = &req.credentials else {
            return Err(s3_error!(
                AccessDenied,
                "the admin API needs a SigV4-signed request"
            ));
        };
        let token = crate::iam::access::session_token(&req.headers, &req.uri);
        let who = crate::iam::access::Who::of(&self.iam, Some(&c.access_key), token.as_deref())?;
        who.record(&req.extensions);
        if let crate::iam::access::Who::Root(_) = who {
            return Ok(());
        }
        let path = req.uri.path();
        let action = match (&req.method, path) {
            _ if path.starts_with(super::iam_api::IAM_PREFIX) => {
                super::iam_api::required_action(&req.method, path)
            }
            // Reading state is diagnostics (the control plane's service account has just that);
            // starting a heal is admin:Heal.
            (
                &Method::GET,
                "/rustfs/admin/v1/info"
                | "/rustfs/admin/v1/lifecycle/status"
                | "/rustfs/admin/v1/heal/status",
            ) => Some(Action::AdminServerInfo),
            (_, "/rustfs/admin/v1/heal") => Some(Action::AdminHeal),
            _ => None,
        };
        if action.is_some_and(|a| crate::iam::access::allowed(&who, RequestContext::new(a))) {
            return Ok(());
        }
        Err(s3_error!(
            AccessDenied,
            "this admin API needs the root user or a policy allowing it"
        ))
    }

    async fn call(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        if !req.uri.path().starts_with(ADMIN_PREFIX) {
            return self.sts.call(req).await;
        }
        match (req.method.clone(), req.uri.path()) {
            (Method::GET, "/rustfs/admin/v1/info") => {
                let info = self.info().await;
                let body = serde_json::to_vec_pretty(&info)
                    .map_err(|e| s3_error!(InternalError, "admin info: {e}"))?;
                Ok(json(StatusCode::OK, body))
            }
            (Method::GET, "/rustfs/admin/v1/heal/status") => {
                let status = super::heal_api::status(self).await;
                let body = serde_json::to_vec_pretty(&status)
                    .map_err(|e| s3_error!(InternalError, "heal status: {e}"))?;
                Ok(json(StatusCode::OK, body))
            }
            (Method::GET, "/rustfs/admin/v1/lifecycle/status") => {
                let status = super::lifecycle_api::status(self).await;
                let body = serde_json::to_vec_pretty(&status)
                    .map_err(|e| s3_error!(InternalError, "lifecycle status: {e}"))?;
                Ok(json(StatusCode::OK, body))
            }
            (Method::POST, "/rustfs/admin/v1/heal") => super::heal_api::start(self, &req.uri).await,
            (_, path) if path.starts_with(super::iam_api::IAM_PREFIX) => {
                super::iam_api::call(&self.iam, req).await
            }
            (_, path) => Ok(json(
                StatusCode::NOT_FOUND,
                serde_json::json!({
                    "code": "NotFound",
                    "message": format!("no admin API at {path}")
                })
                .to_string()
                .into_bytes(),
            )),
        }
    }
}
