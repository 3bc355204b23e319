//! Sites, events, the audit trail, tokens, and the public routes (liveness, metrics, OpenAPI).

use super::{ApiJson, AppState};
use crate::api::{event_kind, CreateToken, SiteList, TokenList};
use crate::db::{now_millis, parse_rfc3339, EventFilter};
use crate::error::{Error, Result};
use crate::validate;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::HashMap;

pub async fn live() -> &'static str {
    "ok"
}

pub async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(),
    )
        .into_response()
}

pub async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

pub async fn no_route() -> Error {
    Error::NotFound("no such route; `GET /v1/openapi.json` lists the API".into())
}

pub async fn wrong_method() -> Error {
    Error::MethodNotAllowed(
        "this route does not take that method; `GET /v1/openapi.json` lists the API".into(),
    )
}

pub async fn sites(State(s): State<AppState>) -> Result<Json<SiteList>> {
    Ok(Json(SiteList {
        sites: s.db.sites().await?,
    }))
}

pub async fn site(State(s): State<AppState>, Path(name): Path<String>) -> Result<Response> {
    validate::name("site", &name)?;
    Ok(Json(s.db.site(&name).await?).into_response())
}

/// Query parameters, each checked; an unknown one is an error, not silently ignored.
struct Params(HashMap<String, String>);

impl Params {
    fn new(q: HashMap<String, String>, allowed: &[&str]) -> Result<Params> {
        if let Some(k) = q.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::InvalidArgument(format!(
                "unknown query parameter {k:?}; allowed: {}",
                allowed.join(", ")
            )));
        }
        Ok(Params(q))
    }

    fn time(&self, key: &str) -> Result<Option<i64>> {
        self.0
            .get(key)
            .map(|v| {
                parse_rfc3339(v).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "{key}={v:?} is not an RFC 3339 time such as 2026-01-02T03:04:05Z"
                    ))
                })
            })
            .transpose()
    }

    fn int(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>> {
        self.0
            .get(key)
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "{key}={v:?} must be an integer from {min} to {max}"
                        ))
                    })
            })
            .transpose()
    }
}

pub async fn events(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let p = Params::new(
        q,
        &[
            "cluster", "node", "kind", "since", "until", "after", "limit",
        ],
    )?;
    if let Some(c) = p.0.get("cluster") {
        validate::name("cluster", c)?;
    }
    if let Some(n) = p.0.get("node") {
        validate::node_name("node", n)?;
    }
    if let Some(k) = p.0.get("kind") {
        if !event_kind::ALL.contains(&k.as_str()) {
            return Err(Error::InvalidArgument(format!(
                "kind={k:?} is not an event kind; use one of {}",
                event_kind::ALL.join(", ")
            )));
        }
    }
    let f = EventFilter {
        cluster: p.0.get("cluster").cloned(),
        node: p.0.get("node").cloned(),
        kind: p.0.get("kind").cloned(),
        since_millis: p.time("since")?,
        until_millis: p.time("until")?,
        after: p.int("after", 0, i64::MAX)?,
        limit: p.int("limit", 1, 1000)?.unwrap_or(100) as u32,
    };
    Ok(Json(s.db.events(&f).await?).into_response())
}

pub async fn audit(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let p = Params::new(q, &["after", "limit"])?;
    let after = p.int("after", 0, i64::MAX)?;
    let limit = p.int("limit", 1, 1000)?.unwrap_or(100) as u32;
    Ok(Json(s.db.audit(after, limit).await?).into_response())
}

pub async fn tokens(State(s): State<AppState>) -> Result<Json<TokenList>> {
    Ok(Json(TokenList {
        tokens: s.db.tokens().await?,
    }))
}

pub async fn create_token(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<CreateToken>,
) -> Result<Response> {
    let t =
        s.db.create_token(&validate::token_request(&body, now_millis())?)
            .await?;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

pub async fn revoke_token(State(s): State<AppState>, Path(id): Path<String>) -> Result<StatusCode> {
    validate::token_id(&id)?;
    s.db.revoke_token(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
