//! Cross-cutting request handling: bearer-token authentication, the audit trail of every
//! mutating call, and request metrics.

use super::AppState;
use crate::db::{now_millis, Caller, NewAudit};
use crate::error::{AnsweredCode, Error};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;
use tracing::Instrument;

/// Paths anyone may read.
fn is_public(path: &str) -> bool {
    matches!(path, "/live" | "/metrics" | "/v1/openapi.json")
}

/// Checks `Authorization: Bearer …` on every route but the public ones; the caller is put in
/// the request and response extensions.
pub async fn authenticate(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    if is_public(req.uri().path()) {
        return next.run(req).await;
    }
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_string);
    let Some(token) = token else {
        return Error::Unauthorized(
            "missing `Authorization: Bearer <token>`; the admin token is in the admin-token file written at first start".into(),
        )
        .into_response();
    };
    let caller = match s.db.authenticate(&token).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Error::Unauthorized("the bearer token is unknown or revoked".into())
                .into_response()
        }
        Err(e) => return e.into_response(),
    };
    req.extensions_mut().insert(caller.clone());
    let mut resp = next.run(req).await;
    resp.extensions_mut().insert(caller);
    resp
}

/// Records every mutating call (after it ran) in the audit trail. Bodies are never recorded:
/// they may hold credentials.
pub async fn audit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return resp;
    }
    let entry = NewAudit {
        time: now_millis(),
        actor: resp
            .extensions()
            .get::<Caller>()
            .map(|c| format!("{} ({})", c.name, c.token_id))
            .unwrap_or_else(|| "anonymous".into()),
        method: method.to_string(),
        path,
        status: resp.status().as_u16(),
        code: resp
            .extensions()
            .get::<AnsweredCode>()
            .map(|c| c.0.as_str().to_string()),
    };
    if let Err(e) = s.db.record_audit(&entry).await {
        tracing::error!(error = %e, method = %entry.method, path = %entry.path, "cannot record the audit entry");
    }
    tracing::info!(actor = %entry.actor, method = %entry.method, path = %entry.path, status = entry.status, "api call");
    resp
}

/// Counts and times every request by route.
pub async fn measure(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let span = tracing::debug_span!("request", route = %route, method = %method);
    let resp = next.run(req).instrument(span).await;
    crate::metrics::api_answered(&route, &method, resp.status().as_u16(), started.elapsed());
    resp
}
