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
}

#[async_trait::async_trait]
impl S3Auth for IamAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if let Some(secret) = self.iam.root().secret_if_root(access_key) {
            return Ok(SecretKey::from(secret));
        }
        if !self.iam.is_loaded() {
            return Err(s3_error!(
                ServiceUnavailable,
                "the server is starting: users are not loaded yet; retry shortly"
            ));
        }
        if super::sts::is_temp_key(access_key) {
            return match self.iam.temp_secret(access_key) {
                Some(secret) => Ok(SecretKey::from(secret)),
                None => Err(s3_error!(
                    InvalidAccessKeyId,
                    "no temporary credentials have been issued by this cluster"
                )),
            };
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

/// Who signed a request, found once per request: root, a user, a service account or
/// temporary credentials (with the identity they act for), or nobody.
#[derive(Clone)]
pub enum Who {
    Anonymous,
    Root(String),
    Known {
        access_key: String,
        id: Arc<super::Identity>,
    },
}

impl Who {
    /// The caller of a request signed by `access_key` (`None`: unsigned), with the session
    /// `token` it carries: an error says why a key is refused.
    pub fn of(iam: &Iam, access_key: Option<&str>, token: Option<&str>) -> S3Result<Who> {
        let Some(key) = access_key else {
            return Ok(Who::Anonymous);
        };
        if iam.root().is_root(key) {
            return Ok(Who::Root(key.to_string()));
        }
        if super::sts::is_temp_key(key) {
            use super::sts::TokenError;
            return match iam.temp_identity(key, token) {
                Ok(id) => Ok(Who::Known {
                    access_key: key.to_string(),
                    id: Arc::new(id),
                }),
                Err(e @ TokenError::Expired) => Err(s3_error!(ExpiredToken, "{e}")),
                Err(e @ TokenError::Missing) => Err(s3_error!(AccessDenied, "{e}")),
                Err(e @ (TokenError::Invalid | TokenError::Revoked)) => {
                    Err(s3_error!(InvalidToken, "{e}"))
                }
            };
        }
        match iam.identity(key) {
            Some(id) => Ok(Who::Known {
                access_key: key.to_string(),
                id: Arc::new(id),
            }),
            None => Err(s3_error!(
                InvalidAccessKeyId,
                "the access key does not exist, is disabled or has expired"
            )),
        }
    }

    /// The access key and the user it belongs to (root's own key for root), for the audit log.
    pub fn key_and_user(&self) -> Option<(&str, &str)> {
        match self {
            Who::Anonymous => None,
            Who::Root(k) => Some((k, k)),
            Who::Known { access_key, id } => Some((access_key, &id.username)),
        }
    }

    /// Records who the caller is in the request's metrics slot (for the audit log).
    pub fn record(&self, extensions: &http::Extensions) {
        if !crate::audit::enabled() {
            return;
        }
        if let Some((key, user)) = self.key_and_user() {
            crate::metrics::http::record_caller(extensions, key, user);
        }
    }
}

/// The session token a request carries: `x-amz-security-token`, or its presigned form.
pub fn session_token<'a>(headers: &'a http::HeaderMap, uri: &'a http::Uri) -> Option<String> {
    if let Some(v) = headers.get("x-amz-security-token") {
        return v.to_str().ok().map(str::to_string);
    }
    form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == "X-Amz-Security-Token")
        .map(|(_, v)| v.into_owned())
}

/// Whether `who` may do `ctx` (everything for root), under its identity policies (admin
/// calls: no bucket policy applies).
pub fn allowed(who: &Who, ctx: RequestContext) -> bool {
    decide(who, None, ctx)
}

/// The secret a signature by `access_key` is checked with (root's, a live user's or service
/// account's, or temporary credentials'), for requests `s3s` does not verify itself (POST
/// forms).
pub fn secret_of(iam: &Iam, access_key: &str) -> Option<String> {
    if let Some(secret) = iam.root().secret_if_root(access_key) {
        return Some(secret);
    }
    if super::sts::is_temp_key(access_key) {
        return iam.temp_secret(access_key);
    }
    iam.identity(access_key).map(|id| id.secret_key)
}

/// Whether `who` may put `bucket/key` (a POST form upload), under its policies and the
/// bucket's; `caller` gives the connection's condition values.
pub async fn may_post_object(
    iam: &Iam,
    who: &Who,
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
    decide(who, policy.as_deref(), ctx)
}

/// Whether `who` may do `ctx` under its identity policies and the policy of the bucket the
/// request names. Only a bucket policy can let an anonymous caller in.
fn decide(who: &Who, bucket: Option<&Policy>, ctx: RequestContext) -> bool {
    match who {
        Who::Anonymous => authorize([], None, bucket, &ctx) == Decision::Allow,
        Who::Root(_) => true,
        Who::Known { access_key, id } => {
            let ctx = ctx.with_user(id.username.clone(), access_key);
            let identity = id.policies.iter().map(|p| p.as_ref());
            authorize(identity, id.session.as_deref(), bucket, &ctx) == Decision::Allow
        }
    }
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
    let Some(version) = crate::object::parse_version_sel(named.map(String::as_str)) else {
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
        let token = session_token(cx.headers(), cx.uri());
        let who = Who::of(&self.iam, access_key.as_deref(), token.as_deref())?;
        who.record(cx.extensions_mut());
        if let Who::Root(_) = who {
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
            cx.extensions_mut()
                .insert(KeyCheck::Policies(Arc::new(KeyPolicies {
                    iam: self.iam.clone(),
                    who,
                    policy,
                    ctx,
                    bypass,
                    needs_tags,
                })));
            return Ok(());
        }
        if !decide(&who, policy.as_deref(), ctx.clone()) {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        if bypass && matches!(op, "DeleteObject" | "PutObjectRetention") {
            let mut b = ctx.clone();
            b.set_action(Action::BypassGovernanceRetention);
            if !decide(&who, policy.as_deref(), b) {
                return Err(s3_error!(
                    AccessDenied,
                    "x-amz-bypass-governance-retention needs s3:BypassGovernanceRetention"
                ));
            }
        }
        if let Some((bucket, key)) = source {
            let policy = self.bucket_policy(Some(&bucket)).await?;
            let mut read = ctx.with_object(bucket, key);
            read.set_action(Action::GetObject);
            if !decide(&who, policy.as_deref(), read) {
                return Err(s3_error!(AccessDenied, "Access Denied to the copy source"));
            }
        }
        Ok(())
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
    who: Who,
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
            decide(&p.who, p.policy.as_deref(), one.clone())
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
