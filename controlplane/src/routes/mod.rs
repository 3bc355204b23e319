//! The HTTP surface: one route table (method, path, who may call it, handler) from which the
//! router is built and against which the OpenAPI document is checked, plus the JSON extractor
//! that maps every body problem to a documented error code.

mod clusters;
mod middleware;
mod misc;
mod releases;

use crate::api::TokenScope;
use crate::db::Db;
use crate::error::Error;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::Method;
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    /// Request bodies over this are `payload_too_large`.
    pub max_body_bytes: usize,
    /// Where release binaries are kept (`binaries/SHA256`).
    pub releases: rustfs_hostops::state::StateDir,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// A `read` or an `admin` token.
    Read,
    /// An `admin` token.
    Admin,
}

impl Access {
    /// The token scope needed (`None`: no token).
    pub fn scope(self) -> Option<TokenScope> {
        match self {
            Access::Public => None,
            Access::Read => Some(TokenScope::Read),
            Access::Admin => Some(TokenScope::Admin),
        }
    }

    /// What a route outside the table needs (answered 404 or 405 once the caller is known):
    /// `read` to look (`GET`, `HEAD`), `admin` for anything else.
    pub fn by_method(method: &Method) -> Access {
        if matches!(*method, Method::GET | Method::HEAD) {
            Access::Read
        } else {
            Access::Admin
        }
    }
}

/// One row of the route table.
pub struct Route {
    pub method: Method,
    /// axum path syntax (`/v1/clusters/{cluster}`), identical to the OpenAPI path.
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

fn r(method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>) -> Route {
    Route {
        method,
        path,
        access,
        handler,
    }
}

/// Every route the server answers; the router is built from exactly this. Reading is `Read`,
/// changing anything is `Admin` (a test holds every row to that).
pub fn table() -> Vec<Route> {
    use Access::{Admin, Public, Read};
    use Method as M;
    vec![
        r(M::GET, "/live", Public, get(misc::live)),
        r(M::GET, "/metrics", Public, get(misc::metrics)),
        r(M::GET, "/v1/openapi.json", Public, get(misc::openapi)),
        r(M::GET, "/v1/clusters", Read, get(clusters::list)),
        r(
            M::GET,
            "/v1/clusters/{cluster}",
            Read,
            get(clusters::get_one),
        ),
        r(
            M::PUT,
            "/v1/clusters/{cluster}",
            Admin,
            put(clusters::register),
        ),
        r(
            M::DELETE,
            "/v1/clusters/{cluster}",
            Admin,
            delete(clusters::remove),
        ),
        r(
            M::GET,
            "/v1/clusters/{cluster}/health",
            Read,
            get(clusters::health),
        ),
        r(
            M::GET,
            "/v1/clusters/{cluster}/nodes",
            Read,
            get(clusters::nodes),
        ),
        r(
            M::GET,
            "/v1/clusters/{cluster}/nodes/{node}",
            Read,
            get(clusters::node),
        ),
        r(
            M::GET,
            "/v1/clusters/{cluster}/drives",
            Read,
            get(clusters::drives),
        ),
        r(M::GET, "/v1/sites", Read, get(misc::sites)),
        r(M::GET, "/v1/sites/{site}", Read, get(misc::site)),
        r(M::GET, "/v1/events", Read, get(misc::events)),
        r(M::GET, "/v1/audit", Read, get(misc::audit)),
        r(M::GET, "/v1/releases", Read, get(releases::list)),
        r(M::POST, "/v1/releases", Admin, post(releases::create)),
        r(
            M::GET,
            "/v1/releases/{version}",
            Read,
            get(releases::get_one),
        ),
        r(
            M::DELETE,
            "/v1/releases/{version}",
            Admin,
            delete(releases::remove),
        ),
        r(M::GET, "/v1/tokens", Read, get(misc::tokens)),
        r(M::POST, "/v1/tokens", Admin, post(misc::create_token)),
        r(
            M::DELETE,
            "/v1/tokens/{id}",
            Admin,
            delete(misc::revoke_token),
        ),
    ]
}

/// `(method, path)` of every route, for checks against the OpenAPI document.
pub fn route_keys() -> Vec<(Method, &'static str)> {
    table().into_iter().map(|r| (r.method, r.path)).collect()
}

/// `(method, path)` → who may call it, for the authentication middleware.
pub(crate) type AccessTable = HashMap<(Method, &'static str), Access>;

/// The whole application. Outermost first: metrics, the body limit (by `content-length`,
/// before anything is read), the audit trail, authentication, the route.
pub fn router(state: AppState) -> Router {
    let mut access = AccessTable::new();
    let mut router = Router::new();
    for route in table() {
        access.insert((route.method, route.path), route.access);
        router = router.route(route.path, route.handler);
    }
    let guard = middleware::Guard {
        db: state.db.clone(),
        access: Arc::new(access),
    };
    router
        .fallback(misc::no_route)
        .method_not_allowed_fallback(misc::wrong_method)
        .layer(axum::middleware::from_fn_with_state(
            guard,
            middleware::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::audit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.max_body_bytes,
            middleware::limit_body,
        ))
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(axum::middleware::from_fn(middleware::measure))
        .with_state(state)
}

/// The body limit in force, put in the request by [`middleware::limit_body`] for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub usize);

/// `axum::Json` whose rejections are this API's errors. Beyond serde, it refuses an array
/// where an object is expected (serde would take a struct from a sequence) and accepts integral
/// numbers written as `5.0`, as JSON Schema's `integer` does.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Serialize, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0);
        let axum::Json(mut value) = axum::Json::<Value>::from_request(req, state)
            .await
            .map_err(|e| json_rejection(e, limit))?;
        integral_floats_to_ints(&mut value);
        let parsed: T = serde_path_to_error::deserialize(&value).map_err(|e| {
            Error::InvalidJson(format!(
                "the body does not match the expected shape at `{}`: {}",
                e.path(),
                e.inner()
            ))
        })?;
        let back = serde_json::to_value(&parsed)
            .map_err(|e| Error::Internal(format!("re-encoding the body: {e}")))?;
        if let Some(at) = shape_mismatch(&value, &back, "") {
            return Err(Error::InvalidJson(format!(
                "the body does not match the expected shape at `{at}`: expected an object"
            )));
        }
        Ok(ApiJson(parsed))
    }
}

fn integral_floats_to_ints(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0) {
                if f >= 0.0 && f <= u64::MAX as f64 {
                    *v = Value::from(f as u64);
                } else if f < 0.0 && f >= i64::MIN as f64 {
                    *v = Value::from(f as i64);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(integral_floats_to_ints),
        Value::Object(m) => m.values_mut().for_each(integral_floats_to_ints),
        _ => {}
    }
}

/// Where the request has something other than an object where the parsed type has one.
fn shape_mismatch(input: &Value, parsed: &Value, at: &str) -> Option<String> {
    match (input, parsed) {
        (Value::Object(i), Value::Object(p)) => i.iter().find_map(|(k, iv)| {
            p.get(k)
                .and_then(|pv| shape_mismatch(iv, pv, &format!("{at}.{k}")))
        }),
        (_, Value::Object(_)) => Some(if at.is_empty() {
            ".".into()
        } else {
            at.to_string()
        }),
        (Value::Array(i), Value::Array(p)) => i
            .iter()
            .zip(p)
            .enumerate()
            .find_map(|(n, (iv, pv))| shape_mismatch(iv, pv, &format!("{at}[{n}]"))),
        _ => None,
    }
}

fn json_rejection(e: JsonRejection, limit: Option<usize>) -> Error {
    match e {
        JsonRejection::MissingJsonContentType(_) => Error::UnsupportedMediaType(
            "send the body as JSON with `content-type: application/json`".into(),
        ),
        e if e.status().as_u16() == 413 => Error::PayloadTooLarge(match limit {
            Some(n) => format!("the body is over the {n}-byte limit (max_body_bytes)"),
            None => "the body is over the limit (max_body_bytes)".into(),
        }),
        JsonRejection::JsonSyntaxError(e) => Error::InvalidJson(format!(
            "the body is not valid JSON: {}",
            std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.body_text())
        )),
        e => Error::InvalidJson(format!("cannot read the body: {}", e.body_text())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Reading is open to `read` tokens, changing anything needs `admin`, and only the three
    /// documented routes are public.
    #[test]
    fn every_route_needs_the_scope_its_method_implies() {
        for r in table() {
            match r.path {
                "/live" | "/metrics" | "/v1/openapi.json" => {
                    assert_eq!(r.access, Access::Public, "{} {}", r.method, r.path)
                }
                _ => assert_eq!(
                    r.access,
                    Access::by_method(&r.method),
                    "{} {}",
                    r.method,
                    r.path
                ),
            }
        }
    }

    #[test]
    fn arrays_for_objects_are_found_and_floats_normalised() {
        let input = json!({"erasure": [null, null], "pools": [{"hosts": [7]}]});
        let parsed = json!({"erasure": {"parity": null}, "pools": [{"hosts": [{"a": 1}]}]});
        assert_eq!(shape_mismatch(&input, &parsed, ""), Some(".erasure".into()));
        let input = json!({"erasure": {}, "pools": [{"hosts": [7]}]});
        assert_eq!(
            shape_mismatch(&input, &parsed, ""),
            Some(".pools[0].hosts[0]".into())
        );
        let mut v = json!({"p": 5704.0, "q": [1.5, -2.0]});
        integral_floats_to_ints(&mut v);
        assert_eq!(v, json!({"p": 5704, "q": [1.5, -2]}));
    }
}
