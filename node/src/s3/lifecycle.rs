//! `Put/GetBucketLifecycleConfiguration` and `DeleteBucketLifecycle`: the S3 form of the rules
//! that `crate::lifecycle` applies, checked as S3 checks them (no transitions: this store has
//! one tier).

use super::headers::timestamp;
use super::S3Api;
use crate::lifecycle::rules::{Filter, Rule};
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};
use std::collections::BTreeMap;

const MAX_RULES: usize = 1000;

fn positive(v: Option<i32>, what: &str) -> S3Result<Option<u32>> {
    match v {
        None => Ok(None),
        Some(n) if n > 0 => Ok(Some(n as u32)),
        Some(_) => Err(s3_error!(
            InvalidArgument,
            "'{what}' for lifecycle must be a positive integer"
        )),
    }
}

fn size(v: Option<i64>) -> S3Result<Option<u64>> {
    v.map(|n| {
        u64::try_from(n)
            .map_err(|_| s3_error!(InvalidArgument, "object size limits cannot be negative"))
    })
    .transpose()
}

fn tags(set: impl IntoIterator<Item = Tag>) -> BTreeMap<String, String> {
    set.into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect()
}

fn filter(r: &LifecycleRule) -> S3Result<Filter> {
    let Some(f) = &r.filter else {
        return Ok(Filter {
            prefix: r.prefix.clone().unwrap_or_default(),
            ..Default::default()
        });
    };
    let mut out = match &f.and {
        Some(a) => Filter {
            prefix: a.prefix.clone().unwrap_or_default(),
            tags: tags(a.tags.clone().unwrap_or_default()),
            size_greater_than: size(a.object_size_greater_than)?,
            size_less_than: size(a.object_size_less_than)?,
        },
        None => Filter {
            prefix: f.prefix.clone().unwrap_or_default(),
            tags: tags(f.tag.clone()),
            size_greater_than: size(f.object_size_greater_than)?,
            size_less_than: size(f.object_size_less_than)?,
        },
    };
    if let (Some(gt), Some(lt)) = (out.size_greater_than, out.size_less_than) {
        if gt >= lt {
            return Err(s3_error!(
                InvalidArgument,
                "ObjectSizeGreaterThan must be less than ObjectSizeLessThan"
            ));
        }
    }
    out.tags.retain(|k, _| !k.is_empty());
    Ok(out)
}

fn rule(r: &LifecycleRule) -> S3Result<Rule> {
    if r.id.as_ref().is_some_and(|id| id.len() > 255) {
        return Err(s3_error!(
            InvalidArgument,
            "a rule ID is at most 255 characters"
        ));
    }
    if r.transitions.as_ref().is_some_and(|t| !t.is_empty())
        || r.noncurrent_version_transitions
            .as_ref()
            .is_some_and(|t| !t.is_empty())
    {
        return Err(s3_error!(
            NotImplemented,
            "lifecycle transitions are not supported: this store has one storage tier"
        ));
    }
    let enabled = match r.status.as_str() {
        ExpirationStatus::ENABLED => true,
        ExpirationStatus::DISABLED => false,
        other => {
            return Err(s3_error!(
                MalformedXML,
                "rule Status {other:?} is neither Enabled nor Disabled"
            ))
        }
    };
    let filter = filter(r)?;
    let exp = r.expiration.as_ref();
    let expiration_days = positive(exp.and_then(|e| e.days), "Days")?;
    let expiration_date_nanos = exp
        .and_then(|e| e.date.clone())
        .map(|d| time::OffsetDateTime::from(d).unix_timestamp_nanos() as i64);
    let expired_object_delete_marker =
        exp.and_then(|e| e.expired_object_delete_marker) == Some(true);
    let set_in_expiration = [
        expiration_days.is_some(),
        expiration_date_nanos.is_some(),
        exp.and_then(|e| e.expired_object_delete_marker).is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if set_in_expiration > 1 {
        return Err(s3_error!(
            MalformedXML,
            "an Expiration has one of Days, Date or ExpiredObjectDeleteMarker"
        ));
    }
    let nc = r.noncurrent_version_expiration.as_ref();
    let noncurrent_days = positive(nc.and_then(|n| n.noncurrent_days), "NoncurrentDays")?;
    let newer_noncurrent_versions = positive(
        nc.and_then(|n| n.newer_noncurrent_versions),
        "NewerNoncurrentVersions",
    )?;
    if nc.is_some() && noncurrent_days.is_none() {
        return Err(s3_error!(
            MalformedXML,
            "a NoncurrentVersionExpiration needs NoncurrentDays"
        ));
    }
    let abort_upload_days = positive(
        r.abort_incomplete_multipart_upload
            .as_ref()
            .and_then(|a| a.days_after_initiation),
        "DaysAfterInitiation",
    )?;
    if abort_upload_days.is_some() && !filter.tags.is_empty() {
        return Err(s3_error!(
            InvalidRequest,
            "AbortIncompleteMultipartUpload cannot be specified with Tags"
        ));
    }
    let out = Rule {
        id: r.id.clone(),
        enabled,
        filter,
        expiration_days,
        expiration_date_nanos,
        expired_object_delete_marker,
        noncurrent_days,
        newer_noncurrent_versions,
        abort_upload_days,
    };
    if out.expiration_days.is_none()
        && out.expiration_date_nanos.is_none()
        && !out.expired_object_delete_marker
        && out.noncurrent_days.is_none()
        && out.abort_upload_days.is_none()
    {
        return Err(s3_error!(
            MalformedXML,
            "a lifecycle rule needs at least one action"
        ));
    }
    Ok(out)
}

pub async fn handle_put_bucket_lifecycle_configuration(
    api: &S3Api,
    req: S3Request<PutBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
    let i = req.input;
    let given = i
        .lifecycle_configuration
        .map(|c| c.rules)
        .unwrap_or_default();
    if given.is_empty() || given.len() > MAX_RULES {
        return Err(s3_error!(
            MalformedXML,
            "a lifecycle configuration has 1 to {MAX_RULES} rules"
        ));
    }
    let rules = given.iter().map(rule).collect::<S3Result<Vec<_>>>()?;
    let mut ids: Vec<&str> = rules.iter().filter_map(|r| r.id.as_deref()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(s3_error!(InvalidArgument, "rule IDs must be unique"));
    }
    api.layer
        .update_bucket_config(&i.bucket, |c| {
            c.lifecycle = Some(rules);
            Ok(())
        })
        .await?;
    Ok(S3Response::new(
        PutBucketLifecycleConfigurationOutput::default(),
    ))
}

fn to_dto(r: &Rule) -> LifecycleRule {
    let f = &r.filter;
    let tag_set: Vec<Tag> = f
        .tags
        .iter()
        .map(|(k, v)| Tag {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect();
    let and = LifecycleRuleAndOperator {
        prefix: Some(f.prefix.clone()),
        tags: (!tag_set.is_empty()).then_some(tag_set),
        object_size_greater_than: f.size_greater_than.map(|n| n as i64),
        object_size_less_than: f.size_less_than.map(|n| n as i64),
    };
    let filter = LifecycleRuleFilter {
        and: Some(and),
        ..Default::default()
    };
    let expiration = (r.expiration_days.is_some()
        || r.expiration_date_nanos.is_some()
        || r.expired_object_delete_marker)
        .then(|| LifecycleExpiration {
            days: r.expiration_days.map(|d| d as i32),
            date: r.expiration_date_nanos.map(timestamp),
            expired_object_delete_marker: r.expired_object_delete_marker.then_some(true),
        });
    LifecycleRule {
        id: r.id.clone(),
        status: ExpirationStatus::from_static(if r.enabled {
            ExpirationStatus::ENABLED
        } else {
            ExpirationStatus::DISABLED
        }),
        filter: Some(filter),
        expiration,
        noncurrent_version_expiration: r.noncurrent_days.map(|d| NoncurrentVersionExpiration {
            noncurrent_days: Some(d as i32),
            newer_noncurrent_versions: r.newer_noncurrent_versions.map(|n| n as i32),
        }),
        abort_incomplete_multipart_upload: r.abort_upload_days.map(|d| {
            AbortIncompleteMultipartUpload {
                days_after_initiation: Some(d as i32),
            }
        }),
        noncurrent_version_transitions: None,
        prefix: None,
        transitions: None,
    }
}

pub async fn handle_get_bucket_lifecycle_configuration(
    api: &S3Api,
    req: S3Request<GetBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
    let bucket = &req.input.bucket;
    api.layer.bucket_info(bucket).await?;
    let Some(rules) = api.layer.bucket_config(bucket).await?.lifecycle.clone() else {
        return Err(s3_error!(
            NoSuchLifecycleConfiguration,
            "The lifecycle configuration does not exist"
        ));
    };
    Ok(S3Response::new(GetBucketLifecycleConfigurationOutput {
        rules: Some(rules.iter().map(to_dto).collect()),
        ..Default::default()
    }))
}

pub async fn handle_delete_bucket_lifecycle(
    api: &S3Api,
    req: S3Request<DeleteBucketLifecycleInput>,
) -> S3Result<S3Response<DeleteBucketLifecycleOutput>> {
    api.layer
        .update_bucket_config(&req.input.bucket, |c| {
            c.lifecycle = None;
            Ok(())
        })
        .await?;
    Ok(S3Response::with_status(
        DeleteBucketLifecycleOutput {},
        http::StatusCode::NO_CONTENT,
    ))
}
