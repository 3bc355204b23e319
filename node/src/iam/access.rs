//! Who may do what, per request: the signature keys `s3s` verifies requests with
//! ([`IamAuth`]: root, enabled users, live service accounts) and the access check it runs once
//! the operation is known ([`IamAccess`]: root may do everything; anyone else needs an Allow from
//! the policies of its user and groups, narrowed by a service account's own policy, and no Deny;
//! unsigned requests are refused).

use super::Iam;
use rustfs_common::policy::{authorize, Action, ConditionKey, Decision, RequestContext};
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

/// Whether the caller with `access_key` may do `ctx` (everything for root).
pub fn allowed(iam: &Iam, access_key: &str, ctx: RequestContext) -> bool {
    if access_key == iam.root_access_key() {
        return true;
    }
    let Some(id) = iam.identity(access_key) else {
        return false;
    };
    let ctx = ctx.with_user(id.username, access_key);
    let identity = id.policies.iter().map(|p| p.as_ref());
    authorize(identity, id.session.as_deref(), None, &ctx) == Decision::Allow
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

#[async_trait::async_trait]
impl s3s::access::S3Access for IamAccess {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        let op = cx.s3_op().name().to_owned();
        crate::metrics::http::record_api(cx.extensions_mut(), op.clone());
        let op = op.as_str();
        let Some(access_key) = cx.credentials().map(|c| c.access_key.clone()) else {
            return Err(s3_error!(AccessDenied, "Signature is required"));
        };
        if access_key == self.iam.root_access_key() {
            return Ok(());
        }
        let Some(action) = Action::for_s3_operation(op) else {
            return Err(s3_error!(
                AccessDenied,
                "{op} is allowed to the root user only"
            ));
        };
        let ctx = context(cx, action);
        // A copy also reads its source.
        let source = match op {
            "CopyObject" | "UploadPartCopy" => copy_source(cx.headers()),
            _ => None,
        };
        if !allowed(&self.iam, &access_key, ctx.clone()) {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        if let Some((bucket, key)) = source {
            let mut read = ctx.with_object(bucket, key);
            read.set_action(Action::GetObject);
            if !allowed(&self.iam, &access_key, read) {
                return Err(s3_error!(AccessDenied, "Access Denied to the copy source"));
            }
        }
        Ok(())
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
