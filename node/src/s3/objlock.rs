//! Object lock on the wire: `Put/GetObjectLockConfiguration`, `Put/GetObjectRetention`,
//! `Put/GetObjectLegalHold`, the `x-amz-object-lock-*` headers of writes and reads, and buckets
//! created with object lock. The rules themselves are the object layer's
//! (`object::retention`).

use super::headers::timestamp;
use super::versions::parse_version;
use super::S3Api;
use crate::object::config::Versioning;
use crate::object::retention::{
    check_retention_change, DefaultRetention as LockDefault, LockConfig,
};
use crate::object::{now_nanos, ObjError, ObjectInfo};
use crate::store::meta::{LockMode, Retention, VersionAttrs};
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};

/// The longest default retention: 100 years, as S3.
const MAX_DAYS: i64 = 36_500;

fn mode_of(s: &str) -> S3Result<LockMode> {
    match s {
        ObjectLockRetentionMode::GOVERNANCE => Ok(LockMode::Governance),
        ObjectLockRetentionMode::COMPLIANCE => Ok(LockMode::Compliance),
        other => Err(s3_error!(
            MalformedXML,
            "unknown object lock mode {other:?}: use GOVERNANCE or COMPLIANCE"
        )),
    }
}

fn mode_str(m: LockMode) -> &'static str {
    match m {
        LockMode::Governance => ObjectLockRetentionMode::GOVERNANCE,
        LockMode::Compliance => ObjectLockRetentionMode::COMPLIANCE,
    }
}

fn nanos(t: &Timestamp) -> i64 {
    let t = time::OffsetDateTime::from(t.clone());
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// A retain-until date given with a write or PutObjectRetention: in the future.
fn until(t: &Timestamp) -> S3Result<i64> {
    let n = nanos(t);
    if n <= now_nanos() {
        return Err(s3_error!(
            InvalidArgument,
            "The retain until date must be in the future"
        ));
    }
    Ok(n)
}

/// The object-lock settings of a write (`x-amz-object-lock-mode`, `-retain-until-date`,
/// `-legal-hold`), into `attrs`.
pub fn write_attrs(
    attrs: &mut VersionAttrs,
    mode: Option<&ObjectLockMode>,
    until_date: Option<&Timestamp>,
    hold: Option<&ObjectLockLegalHoldStatus>,
) -> S3Result<()> {
    attrs.retention = match (mode, until_date) {
        (None, None) => None,
        (Some(m), Some(t)) => Some(Retention {
            mode: mode_of(m.as_str())?,
            until_nanos: until(t)?,
        }),
        _ => {
            return Err(s3_error!(
            InvalidArgument,
            "x-amz-object-lock-mode and x-amz-object-lock-retain-until-date must both be supplied"
        ))
        }
    };
    attrs.legal_hold = match hold.map(|h| h.as_str()) {
        None | Some(ObjectLockLegalHoldStatus::OFF) => false,
        Some(ObjectLockLegalHoldStatus::ON) => true,
        Some(other) => {
            return Err(s3_error!(
                InvalidArgument,
                "x-amz-object-lock-legal-hold is ON or OFF, not {other:?}"
            ))
        }
    };
    Ok(())
}

/// The `x-amz-object-lock-*` fields of a read's answer.
pub fn read_fields(
    info: &ObjectInfo,
) -> (
    Option<ObjectLockMode>,
    Option<Timestamp>,
    Option<ObjectLockLegalHoldStatus>,
) {
    let (mode, until) = match &info.retention {
        Some(r) => (
            Some(ObjectLockMode::from_static(mode_str(r.mode))),
            Some(timestamp(r.until_nanos)),
        ),
        None => (None, None),
    };
    let hold = info
        .legal_hold
        .then(|| ObjectLockLegalHoldStatus::from_static(ObjectLockLegalHoldStatus::ON));
    (mode, until, hold)
}

/// Turns on object lock for a bucket just created with `x-amz-bucket-object-lock-enabled`.
pub async fn enable_at_creation(api: &S3Api, bucket: &str) -> S3Result<()> {
    api.layer
        .update_bucket_config(bucket, |c| {
            c.versioning = Versioning::Enabled;
            c.object_lock = Some(LockConfig::default());
            Ok(())
        })
        .await?;
    Ok(())
}

fn lock_config(c: &ObjectLockConfiguration) -> S3Result<LockConfig> {
    if c.object_lock_enabled.as_ref().map(|e| e.as_str()) != Some(ObjectLockEnabled::ENABLED) {
        return Err(s3_error!(MalformedXML, "ObjectLockEnabled must be Enabled"));
    }
    let Some(d) = c.rule.as_ref().and_then(|r| r.default_retention.as_ref()) else {
        return Ok(LockConfig::default());
    };
    let mode = mode_of(d.mode.as_ref().map(|m| m.as_str()).unwrap_or_default())?;
    let days = match (d.days, d.years) {
        (Some(days), None) => i64::from(days),
        (None, Some(years)) => i64::from(years) * 365,
        _ => {
            return Err(s3_error!(
                MalformedXML,
                "a default retention has either Days or Years"
            ))
        }
    };
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(s3_error!(
            InvalidArgument,
            "a default retention is 1 day to 100 years"
        ));
    }
    Ok(LockConfig {
        default_retention: Some(LockDefault {
            mode,
            days: days as u32,
        }),
    })
}

pub async fn handle_put_object_lock_configuration(
    api: &S3Api,
    req: S3Request<PutObjectLockConfigurationInput>,
) -> S3Result<S3Response<PutObjectLockConfigurationOutput>> {
    let i = req.input;
    let Some(c) = i.object_lock_configuration.as_ref() else {
        return Err(s3_error!(MalformedXML, "no ObjectLockConfiguration given"));
    };
    let lock = lock_config(c)?;
    api.layer
        .update_bucket_config(&i.bucket, |cfg| {
            if cfg.object_lock.is_none() && cfg.versioning != Versioning::Enabled {
                return Err(ObjError::InvalidBucketState(
                    "object lock can be enabled only on a bucket with versioning enabled".into(),
                ));
            }
            cfg.versioning = Versioning::Enabled;
            cfg.object_lock = Some(lock);
            Ok(())
        })
        .await?;
    Ok(S3Response::new(PutObjectLockConfigurationOutput::default()))
}

pub async fn handle_get_object_lock_configuration(
    api: &S3Api,
    req: S3Request<GetObjectLockConfigurationInput>,
) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
    let bucket = &req.input.bucket;
    api.layer.bucket_info(bucket).await?;
    let Some(lock) = api.layer.bucket_config(bucket).await?.object_lock.clone() else {
        return Err(s3_error!(
            ObjectLockConfigurationNotFoundError,
            "Object Lock configuration does not exist for this bucket"
        ));
    };
    let rule = lock.default_retention.map(|d| ObjectLockRule {
        default_retention: Some(DefaultRetention {
            days: Some(d.days as i32),
            mode: Some(ObjectLockRetentionMode::from_static(mode_str(d.mode))),
            years: None,
        }),
    });
    Ok(S3Response::new(GetObjectLockConfigurationOutput {
        object_lock_configuration: Some(ObjectLockConfiguration {
            object_lock_enabled: Some(ObjectLockEnabled::from_static(ObjectLockEnabled::ENABLED)),
            rule,
        }),
    }))
}

/// Changes one version's lock attributes on a bucket with object lock.
async fn change_attrs(
    api: &S3Api,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    change: impl FnOnce(&mut VersionAttrs) -> Result<(), ObjError>,
) -> S3Result<()> {
    if api.layer.bucket_config(bucket).await?.object_lock.is_none() {
        return Err(s3_error!(
            InvalidRequest,
            "Bucket is missing Object Lock Configuration"
        ));
    }
    let version = parse_version(version_id)?;
    api.layer
        .update_object_attrs(bucket, key, version, |v| {
            let mut attrs = v.attrs.clone();
            change(&mut attrs)?;
            Ok(attrs)
        })
        .await?;
    Ok(())
}

pub async fn handle_put_object_retention(
    api: &S3Api,
    req: S3Request<PutObjectRetentionInput>,
) -> S3Result<S3Response<PutObjectRetentionOutput>> {
    let i = req.input;
    let new = match &i.retention {
        Some(ObjectLockRetention {
            mode: Some(m),
            retain_until_date: Some(t),
        }) => Some(Retention {
            mode: mode_of(m.as_str())?,
            until_nanos: until(t)?,
        }),
        Some(ObjectLockRetention {
            mode: None,
            retain_until_date: None,
        })
        | None => None,
        _ => {
            return Err(s3_error!(
                MalformedXML,
                "a retention has both Mode and RetainUntilDate, or neither"
            ))
        }
    };
    let bypass = i.bypass_governance_retention == Some(true);
    change_attrs(api, &i.bucket, &i.key, i.version_id.as_deref(), |a| {
        check_retention_change(a.retention.as_ref(), new.as_ref(), bypass, now_nanos())?;
        a.retention = new;
        Ok(())
    })
    .await?;
    Ok(S3Response::new(PutObjectRetentionOutput::default()))
}

pub async fn handle_get_object_retention(
    api: &S3Api,
    req: S3Request<GetObjectRetentionInput>,
) -> S3Result<S3Response<GetObjectRetentionOutput>> {
    let i = req.input;
    let version = parse_version(i.version_id.as_deref())?;
    let info = api.layer.head_object(&i.bucket, &i.key, version).await?;
    let Some(r) = info.retention else {
        return Err(s3_error!(
            NoSuchObjectLockConfiguration,
            "The specified object does not have a ObjectLock configuration"
        ));
    };
    Ok(S3Response::new(GetObjectRetentionOutput {
        retention: Some(ObjectLockRetention {
            mode: Some(ObjectLockRetentionMode::from_static(mode_str(r.mode))),
            retain_until_date: Some(timestamp(r.until_nanos)),
        }),
    }))
}

pub async fn handle_put_object_legal_hold(
    api: &S3Api,
    req: S3Request<PutObjectLegalHoldInput>,
) -> S3Result<S3Response<PutObjectLegalHoldOutput>> {
    let i = req.input;
    let on = match i
        .legal_hold
        .as_ref()
        .and_then(|h| h.status.as_ref())
        .map(|s| s.as_str())
    {
        Some(ObjectLockLegalHoldStatus::ON) => true,
        Some(ObjectLockLegalHoldStatus::OFF) => false,
        _ => return Err(s3_error!(MalformedXML, "a legal hold has Status ON or OFF")),
    };
    change_attrs(api, &i.bucket, &i.key, i.version_id.as_deref(), |a| {
        a.legal_hold = on;
        Ok(())
    })
    .await?;
    Ok(S3Response::new(PutObjectLegalHoldOutput::default()))
}

pub async fn handle_get_object_legal_hold(
    api: &S3Api,
    req: S3Request<GetObjectLegalHoldInput>,
) -> S3Result<S3Response<GetObjectLegalHoldOutput>> {
    let i = req.input;
    if api
        .layer
        .bucket_config(&i.bucket)
        .await?
        .object_lock
        .is_none()
    {
        return Err(s3_error!(
            InvalidRequest,
            "Bucket is missing Object Lock Configuration"
        ));
    }
    let version = parse_version(i.version_id.as_deref())?;
    let info = api.layer.head_object(&i.bucket, &i.key, version).await?;
    let status = if info.legal_hold {
        ObjectLockLegalHoldStatus::ON
    } else {
        ObjectLockLegalHoldStatus::OFF
    };
    Ok(S3Response::new(GetObjectLegalHoldOutput {
        legal_hold: Some(ObjectLockLegalHold {
            status: Some(ObjectLockLegalHoldStatus::from_static(status)),
        }),
    }))
}
