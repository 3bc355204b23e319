//! `/v1/clusters/…`: registration, views and health summaries.

use super::{ApiJson, AppState};
use crate::api::{ClusterList, DriveList, NodeList, RegisterCluster, RegisterResponse};
use crate::error::Result;
use crate::validate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

pub async fn register(
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<RegisterCluster>,
) -> Result<Response> {
    validate::registration(&name, &body)?;
    let done = s.db.register_cluster(&name, &body).await?;
    let cluster = s.db.cluster(&name).await?;
    let status = if done.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(RegisterResponse {
            created: done.created,
            changed: done.changed,
            cluster,
        }),
    )
        .into_response())
}

pub async fn list(State(s): State<AppState>) -> Result<Json<ClusterList>> {
    Ok(Json(ClusterList {
        clusters: s.db.clusters().await?,
    }))
}

pub async fn get_one(State(s): State<AppState>, Path(name): Path<String>) -> Result<Response> {
    validate::name("cluster", &name)?;
    Ok(Json(s.db.cluster(&name).await?).into_response())
}

pub async fn remove(State(s): State<AppState>, Path(name): Path<String>) -> Result<StatusCode> {
    validate::name("cluster", &name)?;
    s.db.delete_cluster(&name).await?;
    crate::metrics::forget_cluster(&name);
    Ok(StatusCode::NO_CONTENT)
}

pub async fn health(State(s): State<AppState>, Path(name): Path<String>) -> Result<Response> {
    validate::name("cluster", &name)?;
    Ok(Json(s.db.health(&name).await?).into_response())
}

pub async fn nodes(State(s): State<AppState>, Path(name): Path<String>) -> Result<Json<NodeList>> {
    validate::name("cluster", &name)?;
    Ok(Json(NodeList {
        nodes: s.db.nodes(&name).await?,
    }))
}

pub async fn node(
    State(s): State<AppState>,
    Path((name, node)): Path<(String, String)>,
) -> Result<Response> {
    validate::name("cluster", &name)?;
    validate::node_name("node", &node)?;
    Ok(Json(s.db.node(&name, &node).await?).into_response())
}

pub async fn drives(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<DriveList>> {
    validate::name("cluster", &name)?;
    Ok(Json(DriveList {
        drives: s.db.drives(&name).await?,
    }))
}
