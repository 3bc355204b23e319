//! Bucket policies and ACLs (ARCHITECTURE.md, "Access control"): `Put/Get/DeleteBucketPolicy`,
//! `GetBucketPolicyStatus`, and the ACL surface mapped onto the bucket policy — the bucket policy
//! is the one place anonymous access comes from, so ACLs are a view of it, not a second store:
//!
//! - a bucket's canned ACL `public-read` (CreateBucket's `x-amz-acl`, PutBucketAcl) adds two
//!   statements with reserved Sids to the bucket policy, granting everyone listing and reading;
//!   `private` removes them (and the policy, if nothing else is left);
//! - `GetBucketAcl` / `GetObjectAcl` answer the owner's FULL_CONTROL, plus READ for AllUsers when
//!   the bucket policy lets anonymous callers list the bucket / read the object;
//! - objects carry no ACLs of their own: `private` and the `bucket-owner-*` canned ACLs are
//!   accepted (they change nothing), any other canned ACL or explicit grant is refused with
//!   `AccessControlListNotSupported`, as AWS does for buckets whose owner enforces ownership.

use super::S3Api;
use http::StatusCode;
use rustfs_common::policy::{Action, Decision, Policy, RequestContext, MAX_BUCKET_POLICY_BYTES};
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};

/// Sids of the statements the canned ACL `public-read` adds to a bucket policy.
const PUBLIC_READ_SIDS: [&str; 2] = [
    "RustfsCannedAclPublicReadBucket",
    "RustfsCannedAclPublicReadObjects",
];

/// The AllUsers group of S3 ACLs.
const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";

/// Checks a bucket policy document for `bucket`, as `PutBucketPolicy` must.
fn parse_policy(bucket: &str, json: &str) -> S3Result<Policy> {
    if json.len() > MAX_BUCKET_POLICY_BYTES {
        return Err(s3_error!(
            MalformedPolicy,
            "the policy is {} bytes, over the {MAX_BUCKET_POLICY_BYTES}-byte limit; shorten it",
            json.len()
        ));
    }
    Policy::parse_bucket(json.as_bytes(), bucket).map_err(|e| s3_error!(MalformedPolicy, "{e}"))
}

/// Stores `policy` (`None`: removes it) as `bucket`'s policy; every node enforces it on return.
async fn set_policy(api: &S3Api, bucket: &str, policy: Option<String>) -> S3Result<()> {
    api.layer
        .update_bucket_config(bucket, |c| {
            c.policy = policy;
            Ok(())
        })
        .await?;
    Ok(())
}

pub async fn handle_put_bucket_policy(
    api: &S3Api,
    req: S3Request<PutBucketPolicyInput>,
) -> S3Result<S3Response<PutBucketPolicyOutput>> {
    let i = req.input;
    parse_policy(&i.bucket, &i.policy)?;
    set_policy(api, &i.bucket, Some(i.policy)).await?;
    Ok(S3Response::with_status(
        PutBucketPolicyOutput {},
        StatusCode::NO_CONTENT,
    ))
}

pub async fn handle_get_bucket_policy(
    api: &S3Api,
    req: S3Request<GetBucketPolicyInput>,
) -> S3Result<S3Response<GetBucketPolicyOutput>> {
    let bucket = &req.input.bucket;
    api.layer.bucket_info(bucket).await?;
    match &api.layer.bucket_config(bucket).await?.policy {
        Some(p) => Ok(S3Response::new(GetBucketPolicyOutput {
            policy: Some(p.clone()),
        })),
        None => Err(s3_error!(
            NoSuchBucketPolicy,
            "The bucket policy does not exist"
        )),
    }
}

pub async fn handle_delete_bucket_policy(
    api: &S3Api,
    req: S3Request<DeleteBucketPolicyInput>,
) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
    set_policy(api, &req.input.bucket, None).await?;
    Ok(S3Response::with_status(
        DeleteBucketPolicyOutput {},
        StatusCode::NO_CONTENT,
    ))
}

pub async fn handle_get_bucket_policy_status(
    api: &S3Api,
    req: S3Request<GetBucketPolicyStatusInput>,
) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
    let bucket = &req.input.bucket;
    api.layer.bucket_info(bucket).await?;
    let cfg = api.layer.bucket_config(bucket).await?;
    let Some(policy) = cfg.bucket_policy(bucket) else {
        return Err(s3_error!(
            NoSuchBucketPolicy,
            "The bucket policy does not exist"
        ));
    };
    Ok(S3Response::new(GetBucketPolicyStatusOutput {
        policy_status: Some(PolicyStatus {
            is_public: Some(policy.is_public()),
        }),
    }))
}

/// Whether an anonymous caller may do `ctx` under `bucket`'s policy.
async fn anonymous_may(api: &S3Api, bucket: &str, ctx: RequestContext) -> S3Result<bool> {
    let cfg = api.layer.bucket_config(bucket).await?;
    Ok(cfg
        .bucket_policy(bucket)
        .is_some_and(|p| p.evaluate(&ctx) == Decision::Allow))
}

/// An ACL: the owner's FULL_CONTROL, and READ for everyone when `public`.
fn acl(public: bool) -> (Option<Owner>, Option<Grants>) {
    let owner = super::headers::owner();
    let grant = |grantee: Grantee, permission: &'static str| Grant {
        grantee: Some(grantee),
        permission: Some(Permission::from_static(permission)),
    };
    let mut grants = vec![grant(
        Grantee {
            display_name: owner.display_name.clone(),
            email_address: None,
            id: owner.id.clone(),
            type_: Type::from_static(Type::CANONICAL_USER),
            uri: None,
        },
        Permission::FULL_CONTROL,
    )];
    if public {
        grants.push(grant(
            Grantee {
                display_name: None,
                email_address: None,
                id: None,
                type_: Type::from_static(Type::GROUP),
                uri: Some(ALL_USERS.into()),
            },
            Permission::READ,
        ));
    }
    (Some(owner), Some(grants))
}

pub async fn handle_get_bucket_acl(
    api: &S3Api,
    req: S3Request<GetBucketAclInput>,
) -> S3Result<S3Response<GetBucketAclOutput>> {
    let bucket = &req.input.bucket;
    api.layer.bucket_info(bucket).await?;
    let list = RequestContext::new(Action::ListBucket).with_bucket(bucket.as_str());
    let (owner, grants) = acl(anonymous_may(api, bucket, list).await?);
    Ok(S3Response::new(GetBucketAclOutput { grants, owner }))
}

pub async fn handle_get_object_acl(
    api: &S3Api,
    req: S3Request<GetObjectAclInput>,
) -> S3Result<S3Response<GetObjectAclOutput>> {
    let i = &req.input;
    let version = super::versions::parse_version(i.version_id.as_deref())?;
    api.layer.head_object(&i.bucket, &i.key, version).await?;
    let read =
        RequestContext::new(Action::GetObject).with_object(i.bucket.as_str(), i.key.as_str());
    let (owner, grants) = acl(anonymous_may(api, &i.bucket, read).await?);
    Ok(S3Response::new(GetObjectAclOutput {
        grants,
        owner,
        request_charged: None,
    }))
}

/// Refuses the explicit grants of an input with `grant_*` fields (CreateBucket, PutBucketAcl,
/// PutObjectAcl), and its AccessControlPolicy body when given as a second argument.
macro_rules! refuse_grants {
    ($i:expr $(, $acp:expr)?) => {
        $crate::s3::acl::refuse_explicit_grants(
            $i.grant_full_control.is_some()
                || $i.grant_read.is_some()
                || $i.grant_read_acp.is_some()
                || $i.grant_write.is_some()
                || $i.grant_write_acp.is_some()
                $(|| $acp.is_some())?,
        )
    };
}
pub(crate) use refuse_grants;

/// Refuses explicit grants (headers or an AccessControlPolicy body): no ACLs are kept.
pub fn refuse_explicit_grants(explicit: bool) -> S3Result<()> {
    if explicit {
        return Err(s3_error!(
            AccessControlListNotSupported,
            "ACL grants are not kept: give access with a bucket policy (PutBucketPolicy) or IAM policies; the canned ACLs private and, on buckets, public-read are accepted"
        ));
    }
    Ok(())
}

/// Whether a bucket's canned ACL is one this server keeps (`public-read`: true).
pub fn check_bucket_acl(acl: &str) -> S3Result<bool> {
    match acl {
        BucketCannedACL::PRIVATE => Ok(false),
        BucketCannedACL::PUBLIC_READ => Ok(true),
        other => Err(s3_error!(
            AccessControlListNotSupported,
            "the canned ACL {other} is not supported on buckets: use private or public-read, or a bucket policy"
        )),
    }
}

/// Applies a bucket's canned ACL: `public-read` adds the public-read statements to the bucket
/// policy, `private` removes them; others are refused.
pub async fn apply_bucket_acl(api: &S3Api, bucket: &str, acl: &str) -> S3Result<()> {
    let public = check_bucket_acl(acl)?;
    let mut refused = None;
    api.layer
        .update_bucket_config(bucket, |c| {
            match with_public_read(bucket, c.policy.as_deref(), public) {
                Ok(p) => c.policy = p,
                Err(e) => refused = Some(e),
            }
            Ok(())
        })
        .await?;
    refused.map_or(Ok(()), Err)
}

/// `current` (a bucket policy, if any) with the public-read statements added or removed;
/// `None` when no statement is left.
fn with_public_read(bucket: &str, current: Option<&str>, public: bool) -> S3Result<Option<String>> {
    let mut doc = match current {
        Some(json) => serde_json::from_str::<serde_json::Value>(json)
            .map_err(|e| s3_error!(MalformedPolicy, "the stored bucket policy is not JSON: {e}"))?,
        None => serde_json::json!({ "Version": "2012-10-17", "Statement": [] }),
    };
    let statements = match doc.get_mut("Statement") {
        Some(serde_json::Value::Array(a)) => std::mem::take(a),
        Some(one) => vec![one.take()],
        None => Vec::new(),
    };
    let mut statements: Vec<serde_json::Value> = statements
        .into_iter()
        .filter(|s| {
            !s.get("Sid")
                .and_then(|v| v.as_str())
                .is_some_and(|sid| PUBLIC_READ_SIDS.contains(&sid))
        })
        .collect();
    if public {
        let everyone = serde_json::json!({ "AWS": ["*"] });
        statements.push(serde_json::json!({
            "Sid": PUBLIC_READ_SIDS[0], "Effect": "Allow", "Principal": everyone,
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": [format!("arn:aws:s3:::{bucket}")],
        }));
        statements.push(serde_json::json!({
            "Sid": PUBLIC_READ_SIDS[1], "Effect": "Allow", "Principal": everyone,
            "Action": ["s3:GetObject"],
            "Resource": [format!("arn:aws:s3:::{bucket}/*")],
        }));
    }
    if statements.is_empty() {
        return Ok(None);
    }
    doc["Statement"] = serde_json::Value::Array(statements);
    let json = doc.to_string();
    parse_policy(bucket, &json)?;
    Ok(Some(json))
}

pub async fn handle_put_bucket_acl(
    api: &S3Api,
    req: S3Request<PutBucketAclInput>,
) -> S3Result<S3Response<PutBucketAclOutput>> {
    let i = req.input;
    refuse_grants!(i, i.access_control_policy)?;
    api.layer.bucket_info(&i.bucket).await?;
    let acl = i
        .acl
        .as_ref()
        .map_or(BucketCannedACL::PRIVATE, |a| a.as_str());
    apply_bucket_acl(api, &i.bucket, acl).await?;
    Ok(S3Response::new(PutBucketAclOutput {}))
}

/// Checks an object's canned ACL (PutObject, CopyObject, CreateMultipartUpload, PutObjectAcl):
/// those that grant nothing beyond the owner are accepted, others refused.
pub fn check_object_acl(acl: Option<&ObjectCannedACL>) -> S3Result<()> {
    match acl.map(|a| a.as_str()) {
        None
        | Some(ObjectCannedACL::PRIVATE)
        | Some(ObjectCannedACL::BUCKET_OWNER_FULL_CONTROL)
        | Some(ObjectCannedACL::BUCKET_OWNER_READ) => Ok(()),
        Some(other) => Err(s3_error!(
            AccessControlListNotSupported,
            "objects carry no ACLs of their own, so the canned ACL {other} cannot be kept: make objects public with a bucket policy (PutBucketPolicy) or the bucket's canned ACL public-read (PutBucketAcl)"
        )),
    }
}

pub async fn handle_put_object_acl(
    api: &S3Api,
    req: S3Request<PutObjectAclInput>,
) -> S3Result<S3Response<PutObjectAclOutput>> {
    let i = req.input;
    refuse_grants!(i, i.access_control_policy)?;
    check_object_acl(i.acl.as_ref())?;
    let version = super::versions::parse_version(i.version_id.as_deref())?;
    api.layer.head_object(&i.bucket, &i.key, version).await?;
    Ok(S3Response::new(PutObjectAclOutput::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_read_is_added_to_and_removed_from_a_policy() {
        let own = r#"{"Version":"2012-10-17","Statement":{"Sid":"Mine","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/*"}}"#;
        let public = with_public_read("photos", Some(own), true)
            .unwrap()
            .unwrap();
        let p = parse_policy("photos", &public).unwrap();
        assert_eq!(p.statements().len(), 3, "{public}");
        assert!(p.is_public());
        let anon_get = RequestContext::new(Action::GetObject).with_object("photos", "a/b.jpg");
        assert_eq!(p.evaluate(&anon_get), Decision::Allow);
        // Twice public-read is the same policy; private leaves the operator's own statement.
        assert_eq!(
            with_public_read("photos", Some(&public), true)
                .unwrap()
                .unwrap(),
            public
        );
        let private = with_public_read("photos", Some(&public), false)
            .unwrap()
            .unwrap();
        let p = parse_policy("photos", &private).unwrap();
        assert_eq!(p.statements().len(), 1);
        assert!(!p.is_public());
        // Nothing left: no policy at all.
        let only = with_public_read("photos", None, true).unwrap();
        assert_eq!(
            with_public_read("photos", only.as_deref(), false).unwrap(),
            None
        );
    }

    #[test]
    fn object_acls_that_grant_beyond_the_owner_are_refused() {
        for ok in ["private", "bucket-owner-full-control", "bucket-owner-read"] {
            assert!(check_object_acl(Some(&ObjectCannedACL::from(ok.to_string()))).is_ok());
        }
        assert!(check_object_acl(None).is_ok());
        for refused in ["public-read", "public-read-write", "authenticated-read"] {
            let e =
                check_object_acl(Some(&ObjectCannedACL::from(refused.to_string()))).unwrap_err();
            assert_eq!(e.code(), &s3s::S3ErrorCode::AccessControlListNotSupported);
        }
    }
}
