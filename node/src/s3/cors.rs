//! CORS: `Put/Get/DeleteBucketCors`, the browser's preflight `OPTIONS` answered from the bucket's
//! rules, and the `Access-Control-*` headers added to answers of requests that carry an
//! `Origin`. Rules live in the bucket configuration store, so every node answers alike.
//!
//! A preflight carries no credentials: it is answered from the cached configuration only, never
//! reads a body, and names nothing but what the rules already say.

use super::S3Api;
use crate::object::config::CorsRule;
use crate::object::ObjectLayer;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};

const MAX_RULES: usize = 100;
const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// `pattern` with at most one `*` matches `s` (`*` stands for any run of characters).
fn wildcard(pattern: &str, s: &str, ignore_case: bool) -> bool {
    let (p, s) = if ignore_case {
        (pattern.to_ascii_lowercase(), s.to_ascii_lowercase())
    } else {
        (pattern.to_string(), s.to_string())
    };
    match p.split_once('*') {
        None => p == s,
        Some((head, tail)) => {
            s.len() >= head.len() + tail.len() && s.starts_with(head) && s.ends_with(tail)
        }
    }
}

/// The first rule that allows `origin` to send `method` with `headers`.
fn matching<'a>(
    rules: &'a [CorsRule],
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<&'a CorsRule> {
    rules.iter().find(|r| {
        r.allowed_origins.iter().any(|o| wildcard(o, origin, false))
            && r.allowed_methods.iter().any(|m| m == method)
            && headers
                .iter()
                .all(|h| r.allowed_headers.iter().any(|a| wildcard(a, h, true)))
    })
}

fn set(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

/// The headers that tell the browser what `rule` allows `origin`.
fn allow(h: &mut HeaderMap, rule: &CorsRule, origin: &str) {
    let any = rule.allowed_origins.iter().any(|o| o == "*");
    set(
        h,
        "access-control-allow-origin",
        if any { "*" } else { origin },
    );
    if !any {
        set(h, "access-control-allow-credentials", "true");
    }
    set(
        h,
        "access-control-allow-methods",
        &rule.allowed_methods.join(", "),
    );
    if !rule.expose_headers.is_empty() {
        set(
            h,
            "access-control-expose-headers",
            &rule.expose_headers.join(", "),
        );
    }
    h.append(http::header::VARY, HeaderValue::from_static("Origin"));
}

/// The bucket a path-style request names.
fn bucket_of(path: &str) -> Option<&str> {
    let b = path.trim_start_matches('/').split('/').next()?;
    (!b.is_empty()).then_some(b)
}

/// The bucket's CORS rules: from the cache when fresh; otherwise only an existing bucket's
/// configuration is read (so requests naming made-up buckets never fill the cache).
async fn rules(layer: &ObjectLayer, bucket: &str) -> Option<Vec<CorsRule>> {
    if let Some(c) = layer.configs.get(bucket) {
        return c.cors.clone();
    }
    layer.bucket_info(bucket).await.ok()?;
    layer.bucket_config(bucket).await.ok()?.cors.clone()
}

fn cors_error(status: StatusCode, code: &str, message: &str) -> http::Response<String> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/xml")
        .body(body)
        .expect("static response")
}

/// Answers a preflight request (`OPTIONS` with `Origin` and `Access-Control-Request-Method`).
pub async fn preflight(
    layer: &ObjectLayer,
    req: &http::Request<impl Sized>,
) -> http::Response<String> {
    let h = req.headers();
    let text = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (Some(origin), Some(method)) = (text("origin"), text("access-control-request-method"))
    else {
        return cors_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Insufficient information. Origin request header needed.",
        );
    };
    let Some(bucket) = bucket_of(req.uri().path()) else {
        return cors_error(
            StatusCode::FORBIDDEN,
            "CORSResponse",
            "CORS is not enabled for this bucket.",
        );
    };
    let asked: Vec<String> = text("access-control-request-headers")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let Some(rules) = rules(layer, bucket).await else {
        return cors_error(
            StatusCode::FORBIDDEN,
            "CORSResponse",
            "CORS is not enabled for this bucket.",
        );
    };
    let Some(rule) = matching(&rules, &origin, &method, &asked) else {
        return cors_error(StatusCode::FORBIDDEN, "CORSResponse", "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.");
    };
    let mut resp = http::Response::new(String::new());
    let out = resp.headers_mut();
    allow(out, rule, &origin);
    if !asked.is_empty() {
        set(out, "access-control-allow-headers", &asked.join(", "));
    }
    if let Some(age) = rule.max_age_seconds {
        set(out, "access-control-max-age", &age.to_string());
    }
    out.append(
        http::header::VARY,
        HeaderValue::from_static("Access-Control-Request-Headers, Access-Control-Request-Method"),
    );
    resp
}

/// What a request needs to decorate its answer: its origin, method and bucket.
pub struct Origin {
    origin: String,
    method: String,
    bucket: String,
}

impl Origin {
    /// `Some` for a request that carries `Origin` and names a bucket.
    pub fn of(req: &http::Request<impl Sized>) -> Option<Origin> {
        let origin = req.headers().get("origin")?.to_str().ok()?.to_string();
        Some(Origin {
            origin,
            method: req.method().as_str().to_string(),
            bucket: bucket_of(req.uri().path())?.to_string(),
        })
    }

    /// Adds the `Access-Control-*` headers of the first rule that allows the request.
    pub async fn decorate(&self, layer: &ObjectLayer, headers: &mut HeaderMap) {
        let Some(rules) = rules(layer, &self.bucket).await else {
            return;
        };
        if let Some(rule) = matching(&rules, &self.origin, &self.method, &[]) {
            allow(headers, rule, &self.origin);
        }
    }
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(req: &http::Request<impl Sized>) -> bool {
    req.method() == Method::OPTIONS
}

fn check_rule(r: &CORSRule) -> S3Result<CorsRule> {
    if r.allowed_origins.is_empty() || r.allowed_methods.is_empty() {
        return Err(s3_error!(
            MalformedXML,
            "a CORS rule needs at least one AllowedOrigin and one AllowedMethod"
        ));
    }
    if let Some(m) = r
        .allowed_methods
        .iter()
        .find(|m| !METHODS.contains(&m.as_str()))
    {
        return Err(s3_error!(
            InvalidRequest,
            "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
        ));
    }
    let headers = r.allowed_headers.clone().unwrap_or_default();
    for p in r.allowed_origins.iter().chain(&headers) {
        if p.matches('*').count() > 1 {
            return Err(s3_error!(
                InvalidRequest,
                "AllowedOrigin and AllowedHeader {p:?} can have at most one * wildcard"
            ));
        }
    }
    if r.max_age_seconds.is_some_and(|a| a < 0) {
        return Err(s3_error!(
            InvalidRequest,
            "MaxAgeSeconds cannot be negative"
        ));
    }
    Ok(CorsRule {
        id: r.id.clone(),
        allowed_origins: r.allowed_origins.clone(),
        allowed_methods: r.allowed_methods.clone(),
        allowed_headers: headers,
        expose_headers: r.expose_headers.clone().unwrap_or_default(),
        max_age_seconds: r.max_age_seconds,
    })
}

pub async fn handle_put_bucket_cors(
    api: &S3Api,
    req: S3Request<PutBucketCorsInput>,
) -> S3Result<S3Response<PutBucketCorsOutput>> {
    let i = req.input;
    let given = &i.cors_configuration.cors_rules;
    if given.is_empty() || given.len() > MAX_RULES {
        return Err(s3_error!(
            MalformedXML,
            "a CORS configuration has 1 to {MAX_RULES} rules"
        ));
    }
    let rules = given.iter().map(check_rule).collect::<S3Result<Vec<_>>>()?;
    api.layer
        .update_bucket_config(&i.bucket, |c| {
            c.cors = Some(rules);
            Ok(())
        })
        .await?;
    Ok(S3Response::new(PutBucketCorsOutput {}))
}

pub async fn handle_get_bucket_cors(
    api: &S3Api,
    req: S3Request<GetBucketCorsInput>,
) -> S3Result<S3Response<GetBucketCorsOutput>> {
    let bucket = &req.input.bucket;
    api.layer.bucket_info(bucket).await?;
    let Some(rules) = api.layer.bucket_config(bucket).await?.cors.clone() else {
        return Err(s3_error!(
            NoSuchCORSConfiguration,
            "The CORS configuration does not exist"
        ));
    };
    let opt = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    Ok(S3Response::new(GetBucketCorsOutput {
        cors_rules: Some(
            rules
                .iter()
                .map(|r| CORSRule {
                    id: r.id.clone(),
                    allowed_origins: r.allowed_origins.clone(),
                    allowed_methods: r.allowed_methods.clone(),
                    allowed_headers: opt(&r.allowed_headers),
                    expose_headers: opt(&r.expose_headers),
                    max_age_seconds: r.max_age_seconds,
                })
                .collect(),
        ),
    }))
}

pub async fn handle_delete_bucket_cors(
    api: &S3Api,
    req: S3Request<DeleteBucketCorsInput>,
) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
    api.layer
        .update_bucket_config(&req.input.bucket, |c| {
            c.cors = None;
            Ok(())
        })
        .await?;
    Ok(S3Response::with_status(
        DeleteBucketCorsOutput {},
        StatusCode::NO_CONTENT,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        CorsRule {
            allowed_origins: v(origins),
            allowed_methods: v(methods),
            allowed_headers: v(headers),
            ..Default::default()
        }
    }

    #[test]
    fn rules_match_origin_method_and_headers() {
        let rules = [
            rule(&["https://*.example.com"], &["GET"], &["x-amz-*"]),
            rule(&["*"], &["HEAD"], &[]),
        ];
        let h = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matching(
            &rules,
            "https://app.example.com",
            "GET",
            &h(&["x-amz-date"])
        )
        .is_some());
        assert!(matching(
            &rules,
            "https://app.example.com",
            "GET",
            &h(&["authorization"])
        )
        .is_none());
        assert!(matching(&rules, "https://evil.com", "GET", &[]).is_none());
        assert!(matching(&rules, "https://example.com", "GET", &[]).is_none());
        assert!(matching(&rules, "https://evil.com", "HEAD", &[]).is_some());
        assert!(matching(&rules, "https://app.example.com", "PUT", &[]).is_none());
        assert!(wildcard("X-Amz-*", "x-amz-meta-a", true));
        assert!(!wildcard("a*b", "ab-", false));
        assert!(!wildcard("ab*ba", "aba", false));
    }
}
