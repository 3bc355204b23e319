//! Cross-cutting request handling: the body limit, bearer-token authentication with scopes
//! and expiry, the audit trail of every authenticated mutating call, and request metrics.

use super::{Access, AccessTable, AppState, BodyLimit};
use crate::api::TokenScope;
use crate::db::{now_millis, rfc3339, Caller, Db, NewAudit, TokenCheck};
use crate::error::{AnsweredCode, Error};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// What [`authenticate`] needs: the tokens, and who may call each route.
#[derive(Debug, Clone)]
pub struct Guard {
    pub db: Db,
    pub access: Arc<AccessTable>,
}

impl Guard {
    /// Who may call `method` on the matched route (`HEAD` is answered like `GET`); routes
    /// outside the table by their method ([`Access::by_method`]).
    fn access(&self, method: &Method, route: Option<&MatchedPath>) -> Access {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        route
            .and_then(|r| self.access.get(&(method.clone(), r.as_str())))
            .copied()
            .unwrap_or_else(|| Access::by_method(method))
    }
}

/// Refuses a body whose `content-length` is over the limit before reading any of it; a
/// chunked body is cut at the limit while it is read (axum's `DefaultBodyLimit`).
pub async fn limit_body(State(limit): State<usize>, mut req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > limit as u64) {
        return Error::PayloadTooLarge(format!(
            "the body is {n} bytes, over the {limit}-byte limit (max_body_bytes)"
        ))
        .into_response();
    }
    req.extensions_mut().insert(BodyLimit(limit));
    next.run(req).await
}

/// Checks `Authorization: Bearer …` against the route's [`Access`]: no token, an unknown,
/// revoked or expired one is `unauthorized`; a `read` token where `admin` is needed is
/// `forbidden`. The caller is put in the request and response extensions (for the audit).
pub async fn authenticate(State(g): State<Guard>, mut req: Request, next: Next) -> Response {
    let access = g.access(req.method(), req.extensions().get::<MatchedPath>());
    let Some(needed) = access.scope() else {
        return next.run(req).await;
    };
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
    let caller = match g.db.check_token(&token, now_millis()).await {
        Ok(TokenCheck::Valid(c)) => c,
        Ok(TokenCheck::Unknown) => {
            return Error::Unauthorized(
                "the bearer token is not one this control plane issued; check for a typo or a token of another control plane".into(),
            )
            .into_response()
        }
        Ok(TokenCheck::Revoked(at)) => {
            return Error::Unauthorized(format!(
                "the bearer token was revoked at {}; ask an admin for a new one",
                rfc3339(at)
            ))
            .into_response()
        }
        Ok(TokenCheck::Expired(at)) => {
            return Error::Unauthorized(format!(
                "the bearer token expired at {}; ask an admin for a new one",
                rfc3339(at)
            ))
            .into_response()
        }
        Err(e) => return e.into_response(),
    };
    if !caller.scope.covers(needed) {
        let mut resp = Error::Forbidden(format!(
            "token {:?} has scope `{}`, which may only read (GET); {} {} needs an `{}` token",
            caller.name,
            caller.scope,
            req.method(),
            req.uri().path(),
            TokenScope::Admin
        ))
        .into_response();
        resp.extensions_mut().insert(caller);
        return resp;
    }
    req.extensions_mut().insert(caller.clone());
    let mut resp = next.run(req).await;
    resp.extensions_mut().insert(caller);
    resp
}

/// Records every authenticated mutating call (after it ran, refused or not) in the audit
/// trail. Calls without a valid token are not recorded: anyone could fill the table with
/// them. Bodies are never recorded: they may hold credentials.
pub async fn audit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return resp;
    }
    let Some(caller) = resp.extensions().get::<Caller>() else {
        return resp;
    };
    let entry = NewAudit {
        time: now_millis(),
        actor: format!("{} ({})", caller.name, caller.token_id),
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
