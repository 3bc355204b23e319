//! Versioning: version ids on the wire, Get/PutBucketVersioning and ListObjectVersions.

use super::headers::timestamp;
use super::list::{max_keys, wants_url};
use super::S3Api;
use crate::object::config::Versioning;
use crate::object::list::VersionEntry;
use crate::object::VersionSel;
use rustfs_common::names::url_encode;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};
use uuid::Uuid;

/// A `versionId` parameter: `null` is the null version, anything else must be a version id.
pub fn parse_version(v: Option<&str>) -> S3Result<VersionSel> {
    crate::object::parse_version_sel(v)
        .ok_or_else(|| s3_error!(InvalidArgument, "Invalid version id specified"))
}

/// A version id on the wire (`null` for the null version).
pub fn version_str(id: Option<Uuid>) -> String {
    id.map_or_else(|| "null".to_string(), |u| u.to_string())
}

/// The `x-amz-version-id` of a version in `bucket`: none while the bucket was never versioned.
pub async fn version_header(api: &S3Api, bucket: &str, id: Option<Uuid>) -> Option<String> {
    match api.layer.bucket_config(bucket).await {
        Ok(c) if c.versioning != Versioning::Unversioned => Some(version_str(id)),
        _ => id.map(|u| u.to_string()),
    }
}

pub async fn handle_get_bucket_versioning(
    api: &S3Api,
    req: S3Request<GetBucketVersioningInput>,
) -> S3Result<S3Response<GetBucketVersioningOutput>> {
    api.layer.bucket_info(&req.input.bucket).await?;
    let cfg = api.layer.bucket_config(&req.input.bucket).await?;
    let status = match cfg.versioning {
        Versioning::Unversioned => None,
        Versioning::Enabled => Some(BucketVersioningStatus::from_static(
            BucketVersioningStatus::ENABLED,
        )),
        Versioning::Suspended => Some(BucketVersioningStatus::from_static(
            BucketVersioningStatus::SUSPENDED,
        )),
    };
    Ok(S3Response::new(GetBucketVersioningOutput {
        status,
        ..Default::default()
    }))
}

pub async fn handle_put_bucket_versioning(
    api: &S3Api,
    req: S3Request<PutBucketVersioningInput>,
) -> S3Result<S3Response<PutBucketVersioningOutput>> {
    let i = req.input;
    let state = match i
        .versioning_configuration
        .status
        .as_ref()
        .map(|s| s.as_str())
    {
        Some(BucketVersioningStatus::ENABLED) => Versioning::Enabled,
        Some(BucketVersioningStatus::SUSPENDED) => Versioning::Suspended,
        Some(other) => {
            return Err(s3_error!(
                MalformedXML,
                "versioning status {other:?} is neither Enabled nor Suspended"
            ))
        }
        None => {
            return Err(s3_error!(
                MalformedXML,
                "the versioning configuration has no Status"
            ))
        }
    };
    if i.versioning_configuration
        .mfa_delete
        .as_ref()
        .is_some_and(|m| m.as_str() == MFADelete::ENABLED)
    {
        return Err(s3_error!(
            NotImplemented,
            "MFA delete is not supported; leave MfaDelete unset or Disabled"
        ));
    }
    api.layer
        .update_bucket_config(&i.bucket, |cfg| {
            if cfg.object_lock.is_some() && state != Versioning::Enabled {
                return Err(crate::object::ObjError::InvalidBucketState(
                    "versioning cannot be suspended on a bucket with object lock".into(),
                ));
            }
            cfg.versioning = state;
            Ok(())
        })
        .await?;
    Ok(S3Response::new(PutBucketVersioningOutput {}))
}

pub async fn handle_list_object_versions(
    api: &S3Api,
    req: S3Request<ListObjectVersionsInput>,
) -> S3Result<S3Response<ListObjectVersionsOutput>> {
    let i = req.input;
    let encode = wants_url(&i.encoding_type)?;
    let max = max_keys(i.max_keys)?;
    let prefix = i.prefix.clone().unwrap_or_default();
    let key_marker = i.key_marker.clone().filter(|k| !k.is_empty());
    let version_marker = match (&key_marker, i.version_id_marker.as_deref()) {
        (_, None | Some("")) => None,
        (None, Some(_)) => {
            return Err(s3_error!(
                InvalidArgument,
                "A version-id marker cannot be specified without a key marker."
            ))
        }
        (Some(_), Some(v)) => parse_version(Some(v))?,
    };
    let delimiter = super::headers::delimiter(i.delimiter);
    let page = api
        .layer
        .list_versions_page(
            &i.bucket,
            &prefix,
            delimiter.as_deref(),
            key_marker.as_deref(),
            version_marker,
            max,
        )
        .await?;
    let enc = |s: &str| if encode { url_encode(s) } else { s.to_string() };
    let owner = super::headers::owner;
    let (mut versions, mut markers, mut prefixes) = (Vec::new(), Vec::new(), Vec::new());
    for e in &page.entries {
        match e {
            VersionEntry::Version { info, is_latest } if info.delete_marker => {
                markers.push(DeleteMarkerEntry {
                    is_latest: Some(*is_latest),
                    key: Some(enc(&info.key)),
                    last_modified: Some(timestamp(info.mod_time_nanos)),
                    owner: Some(owner()),
                    version_id: Some(version_str(info.version_id)),
                })
            }
            VersionEntry::Version { info, is_latest } => versions.push(ObjectVersion {
                e_tag: Some(ETag::Strong(info.etag.clone())),
                is_latest: Some(*is_latest),
                key: Some(enc(&info.key)),
                last_modified: Some(timestamp(info.mod_time_nanos)),
                owner: Some(owner()),
                size: Some(info.size as i64),
                storage_class: Some(super::headers::class_name(info.storage_class)),
                version_id: Some(version_str(info.version_id)),
                ..Default::default()
            }),
            VersionEntry::Prefix(p) => prefixes.push(CommonPrefix {
                prefix: Some(enc(p)),
            }),
        }
    }
    let (next_key, next_version) = match &page.next {
        Some((k, v)) => (Some(enc(k)), v.map(version_str)),
        None => (None, None),
    };
    Ok(S3Response::new(ListObjectVersionsOutput {
        name: Some(i.bucket),
        prefix: Some(prefix),
        delimiter,
        encoding_type: i.encoding_type,
        key_marker: i.key_marker,
        version_id_marker: i.version_id_marker,
        max_keys: Some(max as i32),
        is_truncated: Some(page.next.is_some()),
        next_key_marker: next_key,
        next_version_id_marker: next_version,
        versions: Some(versions),
        delete_markers: Some(markers),
        common_prefixes: Some(prefixes),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids_parse_as_aws_sends_them() {
        assert_eq!(parse_version(None).unwrap(), None);
        assert_eq!(parse_version(Some("null")).unwrap(), Some(None));
        let id = Uuid::new_v4();
        assert_eq!(
            parse_version(Some(&id.to_string())).unwrap(),
            Some(Some(id))
        );
        assert!(parse_version(Some("not-a-version")).is_err());
        assert_eq!(version_str(None), "null");
    }
}
