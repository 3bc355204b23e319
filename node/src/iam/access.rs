//! Who may do what, per request: the signature keys `s3s` verifies requests with
//! ([`IamAuth`]: root, enabled users, live service accounts) and the access check it runs once
//! the operation is known ([`IamAccess`]: root may do everything; anyone else needs an Allow from
//! the policies of its user and groups or the bucket's policy, narrowed by a service account's
//! own policy, and no Deny; an unsigned request only what the bucket policy grants everyone).

use super::Iam;
use rustfs_common::policy::{authorize, Action, ConditionKey, Decision, Policy, RequestContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{s3_error, S3Result};
use std::net::SocketAddr;
use std::sync::Arc;

/// The connection a request came on, for the `aws:SourceIp` and `aws:SecureTransport` keys.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub remote: SocketAddr,
    pub tls: bool,
}

/// The secret keys requests are signed with.
pub struct IamAuth {
    pub iam: Arc<Iam>,
    pub root_secret_key: String,
}

#[async_trait::async_trait]
impl S3Auth for IamAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if access_key == self.iam.root_access_key() {
            return Ok(SecretKey::from(self.root_secret_key.clone()));
        }
        if !self.iam.is_loaded() {
            return Err(s3_error!(
                ServiceUnavailable,
                "the server is starting: users are not loaded yet; retry shortly"
            ));
        }
        match self.iam.identity(access_key) {
            Some(id) => Ok(SecretKey::from(id.secret_key)),
            None => Err(s3_error!(
                InvalidAccessKeyId,
                "the access key does not exist, is disabled or has expired"
            )),
        }
    }
}

/// Whether the caller with `access_key` may do `ctx` (everything for root), under its identity
/// policies (admin calls: no bucket policy applies).
pub fn allowed(iam: &Iam, access_key: &str, ctx: RequestContext) -> bool {
    decide(iam, Some(access_key), None, ctx).is_some()
}

/// The secret a signature by `access_key` is checked with (root's, or a live user's or
/// service account's), for requests `s3s` does not verify itself (POST forms).
pub fn secret_of(iam: &Iam, access_key: &str, root_secret: &str) -> Option<String> {
    if access_key == iam.root_access_key() {
        return Some(root_secret.to_string());
    }
    iam.identity(access_key).map(|id| id.secret_key)
}

/// Whether `access_key` may put `bucket/key` (a POST form upload), under its policies and the
/// bucket's; `caller` gives the connection's condition values.
pub async fn may_post_object(
    iam: &Iam,
    access_key: &str,
    bucket: &str,
    key: &str,
    caller: Option<Caller>,
) -> bool {
    let mut ctx = RequestContext::new(Action::PutObject).with_object(bucket, key);
    if let Some(c) = caller {
        let values = ctx.values_mut();
        values.set_one(
            ConditionKey::SOURCE_IP,
            c.remote.ip().to_canonical().to_string(),
        );
        values.set_one(ConditionKey::SECURE_TRANSPORT, c.tls.to_string());
    }
    let policy = match iam.layer.bucket_config(bucket).await {
        Ok(cfg) => cfg.bucket_policy(bucket),
        Err(_) => return false,
    };
    decide(iam, Some(access_key), policy.as_deref(), ctx).is_some()
}

/// The user a signed-in caller's key belongs to (root's own key for root), for the audit log.
pub fn user_of(iam: &Iam, access_key: &str) -> Option<String> {
    if access_key == iam.root_access_key() {
        return Some(access_key.to_string());
    }
    iam.identity(access_key).map(|id| id.username)
}

/// Whether the caller (`None`: anonymous) may do `ctx` under its identity policies and the
/// policy of the bucket the request names: `Some(user)` (the user the caller's key belongs to;
/// empty for anonymous) when allowed. Only a bucket policy can let an anonymous caller in.
fn decide(
    iam: &Iam,
    access_key: Option<&str>,
    bucket: Option<&Policy>,
    ctx: RequestContext,
) -> Option<String> {
    let Some(access_key) = access_key else {
        let allowed = authorize([], None, bucket, &ctx) == Decision::Allow;
        return allowed.then(String::new);
    };
    if access_key == iam.root_access_key() {
        return Some(access_key.to_string());
    }
    let id = iam.identity(access_key)?;
    let ctx = ctx.with_user(id.username.clone(), access_key);
    let identity = id.policies.iter().map(|p| p.as_ref());
    let allowed = authorize(identity, id.session.as_deref(), bucket, &ctx) == Decision::Allow;
    allowed.then_some(id.username)
}

/// The request as policies see it: action, bucket and key, and the condition values S3 defines.
fn context(cx: &mut s3s::access::S3AccessContext<'_>, action: Action) -> RequestContext {
    let mut ctx = RequestContext::new(action);
    ctx = match cx.s3_path() {
        s3s::path::S3Path::Root => ctx,
        s3s::path::S3Path::Bucket { bucket } => ctx.with_bucket(bucket.as_ref()),
        s3s::path::S3Path::Object { bucket, key } => {
            // Actions on a bucket (ListBucket, ...) are asked about the bucket, not a key.
            if action.scope() == rustfs_common::policy::ActionScope::Bucket {
                ctx.with_bucket(bucket.as_ref())
            } else {
                ctx.with_object(bucket.as_ref(), key.as_ref())
            }
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let values = ctx.values_mut();
    values.set_one(
        ConditionKey::CURRENT_TIME,
        now.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    );
    values.set_one(ConditionKey::EPOCH_TIME, now.unix_timestamp().to_string());
    if let Some(caller) = cx.extensions_mut().get::<Caller>().copied() {
        values.set_one(
            ConditionKey::SOURCE_IP,
            caller.remote.ip().to_canonical().to_string(),
        );
        values.set_one(ConditionKey::SECURE_TRANSPORT, caller.tls.to_string());
    }
    if let Some(agent) = cx
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    {
        values.set_one(ConditionKey::USER_AGENT, agent.to_string());
    }
    if let Some(query) = cx.uri().query() {
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let key = match k.as_ref() {
                "prefix" => ConditionKey::PREFIX,
                "delimiter" => ConditionKey::DELIMITER,
                "max-keys" => ConditionKey::MAX_KEYS,
                "versionId" => ConditionKey::VERSION_ID,
                _ => continue,
            };
            values.set_one(key, v.into_owned());
        }
    }
    for (header, key) in [
        ("x-amz-acl", ConditionKey::X_AMZ_ACL),
        ("x-amz-storage-class", ConditionKey::X_AMZ_STORAGE_CLASS),
        ("x-amz-object-lock-mode", ConditionKey::OBJECT_LOCK_MODE),
    ] {
        if let Some(v) = cx.headers().get(header).and_then(|v| v.to_str().ok()) {
            values.set_one(key, v.to_string());
        }
    }
    ctx
}

/// The S3 access check: records the operation name for metrics, then decides.
pub struct IamAccess {
    pub iam: Arc<Iam>,
}

/// `ctx` with the `s3:ExistingObjectTag/<tag>` values of the object (version) it names, for
/// policies that decide by them; unchanged when it names none or the object is missing.
async fn with_object_tags(iam: &Iam, mut ctx: RequestContext) -> RequestContext {
    let (Some(bucket), Some(key)) = (ctx.bucket(), ctx.key()) else {
        return ctx;
    };
    let named = ctx
        .values()
        .get(&ConditionKey::VERSION_ID)
        .and_then(|v| v.first());
    let Ok(version) = crate::s3::parse_version(named.map(String::as_str)) else {
        return ctx;
    };
    let Ok(info) = iam.layer.head_object(bucket, key, version).await else {
        return ctx;
    };
    for (tag, value) in info.tags {
        ctx = ctx.with_condition(ConditionKey::existing_object_tag(&tag), [value]);
    }
    ctx
}

impl IamAccess {
    /// The policy of `bucket` (from this node's cached bucket configuration).
    async fn bucket_policy(&self, bucket: Option<&str>) -> S3Result<Option<Arc<Policy>>> {
        let Some(bucket) = bucket else {
            return Ok(None);
        };
        let cfg = self.iam.layer.bucket_config(bucket).await.map_err(|e| {
            tracing::warn!(bucket, error = %e, "cannot read the bucket configuration to authorise a request");
            s3_error!(ServiceUnavailable, "the bucket's policy cannot be read right now; retry shortly")
        })?;
        Ok(cfg.bucket_policy(bucket))
    }
}

#[async_trait::async_trait]
impl s3s::access::S3Access for IamAccess {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        let op = cx.s3_op().name().to_owned();
        crate::metrics::http::record_api(cx.extensions_mut(), op.clone());
        let op = op.as_str();
        let access_key = cx.credentials().map(|c| c.access_key.clone());
        let access_key = access_key.as_deref();
        if let Some(root) = access_key.filter(|k| *k == self.iam.root_access_key()) {
            crate::metrics::http::record_caller(cx.extensions_mut(), root, root);
            cx.extensions_mut().insert(KeyCheck::Root);
            return Ok(());
        }
        let Some(action) = Action::for_s3_operation(op) else {
            return Err(s3_error!(
                AccessDenied,
                "{op} is allowed to the root user only"
            ));
        };
        let mut ctx = context(cx, action);
        // A request naming a version is asked about the `…Version` action (same scope).
        if ctx.values().get(&ConditionKey::VERSION_ID).is_some() {
            ctx.set_action(for_version(action));
        }
        // A copy also reads its source.
        let source = match op {
            "CopyObject" | "UploadPartCopy" => copy_source(cx.headers()),
            _ => None,
        };
        let bypass = cx
            .headers()
            .get("x-amz-bypass-governance-retention")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        let policy = self.bucket_policy(ctx.bucket()).await?;
        let needs_tags = self.iam.reads_object_tags()
            || policy
                .as_ref()
                .is_some_and(|p| p.reads_existing_object_tags());
        let ctx = if needs_tags && op != "DeleteObjects" {
            with_object_tags(&self.iam, ctx).await
        } else {
            ctx
        };
        if op == "DeleteObjects" {
            // Decided per key by the handler (`KeyCheck`): a Deny on some keys must hold even
            // when the request names the bucket only.
            record_who(cx, &self.iam, access_key, None);
            cx.extensions_mut()
                .insert(KeyCheck::Policies(Arc::new(KeyPolicies {
                    iam: self.iam.clone(),
                    access_key: access_key.map(str::to_string),
                    policy,
                    ctx,
                    bypass,
                    needs_tags,
                })));
            return Ok(());
        }
        let verdict = decide(&self.iam, access_key, policy.as_deref(), ctx.clone());
        if bypass && verdict.is_some() && matches!(op, "DeleteObject" | "PutObjectRetention") {
            let mut b = ctx.clone();
            b.set_action(Action::BypassGovernanceRetention);
            if decide(&self.iam, access_key, policy.as_deref(), b).is_none() {
                record_who(cx, &self.iam, access_key, None);
                return Err(s3_error!(
                    AccessDenied,
                    "x-amz-bypass-governance-retention needs s3:BypassGovernanceRetention"
                ));
            }
        }
        record_who(cx, &self.iam, access_key, verdict.as_deref());
        if verdict.is_none() {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        if let Some((bucket, key)) = source {
            let policy = self.bucket_policy(Some(&bucket)).await?;
            let mut read = ctx.with_object(bucket, key);
            read.set_action(Action::GetObject);
            if decide(&self.iam, access_key, policy.as_deref(), read).is_none() {
                return Err(s3_error!(AccessDenied, "Access Denied to the copy source"));
            }
        }
        Ok(())
    }
}

/// Records who a signed request came from, allowed or not (a refused key is still a proven
/// one); `user`: the user the decision already found.
fn record_who(
    cx: &mut s3s::access::S3AccessContext<'_>,
    iam: &Iam,
    access_key: Option<&str>,
    user: Option<&str>,
) {
    let Some(key) = access_key else { return };
    let user = match user {
        Some(u) if !u.is_empty() => Some(u.to_string()),
        _ => user_of(iam, key),
    };
    if let Some(user) = user {
        crate::metrics::http::record_caller(cx.extensions_mut(), key, &user);
    }
}

/// The action AWS checks instead of `action` when the request names a version.
fn for_version(action: Action) -> Action {
    match action {
        Action::GetObject => Action::GetObjectVersion,
        Action::DeleteObject => Action::DeleteObjectVersion,
        Action::GetObjectTagging => Action::GetObjectVersionTagging,
        Action::PutObjectTagging => Action::PutObjectVersionTagging,
        Action::DeleteObjectTagging => Action::DeleteObjectVersionTagging,
        Action::GetObjectAttributes => Action::GetObjectVersionAttributes,
        other => other,
    }
}

/// How `DeleteObjects` decides each key it names (left in the request's extensions by the
/// access check; a handler that finds none refuses every key).
#[derive(Clone)]
pub enum KeyCheck {
    /// The root user: every key.
    Root,
    /// Anyone else: the caller's policies and the bucket's, per key.
    Policies(Arc<KeyPolicies>),
}

/// What deciding one key of a `DeleteObjects` takes.
pub struct KeyPolicies {
    iam: Arc<Iam>,
    access_key: Option<String>,
    policy: Option<Arc<Policy>>,
    /// The request's context (its bucket and conditions).
    ctx: RequestContext,
    /// `x-amz-bypass-governance-retention: true`: also needs `s3:BypassGovernanceRetention`.
    bypass: bool,
    /// Some policy decides by the tags of the object: read each key's.
    needs_tags: bool,
}

impl KeyCheck {
    /// Whether the caller may delete `key` (its version `version` when set).
    pub async fn allows(&self, key: &str, version: Option<&str>) -> bool {
        let KeyCheck::Policies(p) = self else {
            return true;
        };
        let bucket = p.ctx.bucket().unwrap_or_default().to_string();
        let mut one = p.ctx.clone().with_object(bucket, key);
        if let Some(v) = version {
            one = one.with_condition(ConditionKey::VERSION_ID, [v]);
        }
        if p.needs_tags {
            one = with_object_tags(&p.iam, one).await;
        }
        let action = if version.is_some() {
            Action::DeleteObjectVersion
        } else {
            Action::DeleteObject
        };
        let mut actions = vec![action];
        if p.bypass {
            actions.push(Action::BypassGovernanceRetention);
        }
        actions.into_iter().all(|a| {
            one.set_action(a);
            decide(
                &p.iam,
                p.access_key.as_deref(),
                p.policy.as_deref(),
                one.clone(),
            )
            .is_some()
        })
    }
}

/// The bucket and key of `x-amz-copy-source` (`/bucket/key` or `bucket/key`, URL-encoded,
/// optionally with `?versionId=`).
fn copy_source(headers: &http::HeaderMap) -> Option<(String, String)> {
    let raw = headers.get("x-amz-copy-source")?.to_str().ok()?;
    let path = raw.split('?').next()?.trim_start_matches('/');
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let (bucket, key) = decoded.split_once('/')?;
    Some((bucket.to_string(), key.to_string()))
}
