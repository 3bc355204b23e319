//! Object and bucket tagging: `Put/Get/DeleteObjectTagging`, `Put/Get/DeleteBucketTagging`, the
//! `x-amz-tagging` header of PutObject, CopyObject and CreateMultipartUpload, and the limits S3
//! puts on tags. Object tags are attributes of a version, changed in place
//! (`object::attrs`); bucket tags live in the bucket configuration store.

use super::versions::{parse_version, version_header};
use super::S3Api;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};
use std::collections::BTreeMap;

/// Tags one object version may carry.
pub const MAX_OBJECT_TAGS: usize = 10;
/// Tags one bucket may carry.
pub const MAX_BUCKET_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

/// Checks one tag as S3 does: key 1–128 and value 0–256 characters of letters, digits, white
/// space and `+ - = . _ : / @`; no `aws:` keys.
fn check_tag(key: &str, value: &str) -> S3Result<()> {
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "+-=._:/@".contains(c);
    let key_len = key.chars().count();
    if key_len == 0 || key_len > MAX_KEY_CHARS {
        return Err(s3_error!(
            InvalidTag,
            "The TagKey you have provided is invalid: a tag key is 1 to {MAX_KEY_CHARS} characters"
        ));
    }
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(s3_error!(
            InvalidTag,
            "The TagValue you have provided is invalid: a tag value is at most {MAX_VALUE_CHARS} characters"
        ));
    }
    if !key.chars().all(allowed) || !value.chars().all(allowed) {
        return Err(s3_error!(
            InvalidTag,
            "The tag {key:?} has characters that are not allowed: use letters, digits, spaces and + - = . _ : / @"
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(s3_error!(
            InvalidTag,
            "Your TagKey cannot be prefixed with aws:"
        ));
    }
    Ok(())
}

/// Checks a tag set (at most `max` tags, unique keys) and turns it into a map.
fn check_tags(
    pairs: impl IntoIterator<Item = (String, String)>,
    max: usize,
) -> S3Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        check_tag(&k, &v)?;
        if out.insert(k, v).is_some() {
            return Err(s3_error!(
                InvalidTag,
                "Cannot provide multiple Tags with the same key"
            ));
        }
        if out.len() > max {
            return Err(s3_error!(
                InvalidTag,
                "Tags cannot be more than {max} (object tags at most {MAX_OBJECT_TAGS}, bucket tags at most {MAX_BUCKET_TAGS})"
            ));
        }
    }
    Ok(out)
}

fn from_tagging(t: Tagging, max: usize) -> S3Result<BTreeMap<String, String>> {
    check_tags(
        t.tag_set
            .into_iter()
            .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default())),
        max,
    )
}

fn tag_set(tags: &BTreeMap<String, String>) -> TagSet {
    tags.iter()
        .map(|(k, v)| Tag {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect()
}

/// The tags of an `x-amz-tagging` header (URL query encoded: `k1=v1&k2=v2`).
pub fn parse_tagging_header(h: Option<&str>) -> S3Result<BTreeMap<String, String>> {
    match h {
        None => Ok(BTreeMap::new()),
        Some(h) => check_tags(
            form_urlencoded::parse(h.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())),
            MAX_OBJECT_TAGS,
        ),
    }
}

/// The `x-amz-tagging-count` of a version.
pub fn tag_count(tags: &BTreeMap<String, String>) -> Option<i32> {
    (!tags.is_empty()).then_some(tags.len() as i32)
}

pub async fn handle_put_object_tagging(
    api: &S3Api,
    req: S3Request<PutObjectTaggingInput>,
) -> S3Result<S3Response<PutObjectTaggingOutput>> {
    let i = req.input;
    let tags = from_tagging(i.tagging, MAX_OBJECT_TAGS)?;
    let version = parse_version(i.version_id.as_deref())?;
    let info = api
        .layer
        .update_object_attrs(&i.bucket, &i.key, version, |v| {
            let mut attrs = v.attrs.clone();
            attrs.tags = tags;
            Ok(attrs)
        })
        .await?;
    Ok(S3Response::new(PutObjectTaggingOutput {
        version_id: version_header(api, &i.bucket, info.version_id).await,
    }))
}

pub async fn handle_get_object_tagging(
    api: &S3Api,
    req: S3Request<GetObjectTaggingInput>,
) -> S3Result<S3Response<GetObjectTaggingOutput>> {
    let i = req.input;
    let version = parse_version(i.version_id.as_deref())?;
    let info = api.layer.head_object(&i.bucket, &i.key, version).await?;
    Ok(S3Response::new(GetObjectTaggingOutput {
        tag_set: tag_set(&info.tags),
        version_id: version_header(api, &i.bucket, info.version_id).await,
    }))
}

pub async fn handle_delete_object_tagging(
    api: &S3Api,
    req: S3Request<DeleteObjectTaggingInput>,
) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
    let i = req.input;
    let version = parse_version(i.version_id.as_deref())?;
    let info = api
        .layer
        .update_object_attrs(&i.bucket, &i.key, version, |v| {
            let mut attrs = v.attrs.clone();
            attrs.tags.clear();
            Ok(attrs)
        })
        .await?;
    Ok(S3Response::new(DeleteObjectTaggingOutput {
        version_id: version_header(api, &i.bucket, info.version_id).await,
    }))
}

pub async fn handle_put_bucket_tagging(
    api: &S3Api,
    req: S3Request<PutBucketTaggingInput>,
) -> S3Result<S3Response<PutBucketTaggingOutput>> {
    let i = req.input;
    let tags = from_tagging(i.tagging, MAX_BUCKET_TAGS)?;
    api.layer
        .update_bucket_config(&i.bucket, |c| {
            c.tags = Some(tags);
            Ok(())
        })
        .await?;
    Ok(S3Response::new(PutBucketTaggingOutput {}))
}

pub async fn handle_get_bucket_tagging(
    api: &S3Api,
    req: S3Request<GetBucketTaggingInput>,
) -> S3Result<S3Response<GetBucketTaggingOutput>> {
    let bucket = &req.input.bucket;
    api.layer.bucket_info(bucket).await?;
    match &api.layer.bucket_config(bucket).await?.tags {
        Some(tags) if !tags.is_empty() => Ok(S3Response::new(GetBucketTaggingOutput {
            tag_set: tag_set(tags),
        })),
        _ => Err(s3_error!(NoSuchTagSet, "The TagSet does not exist")),
    }
}

pub async fn handle_delete_bucket_tagging(
    api: &S3Api,
    req: S3Request<DeleteBucketTaggingInput>,
) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
    api.layer
        .update_bucket_config(&req.input.bucket, |c| {
            c.tags = None;
            Ok(())
        })
        .await?;
    Ok(S3Response::new(DeleteBucketTaggingOutput {}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_limits_are_those_of_s3() {
        assert!(parse_tagging_header(Some("a=1&b=two%20words")).is_ok());
        assert_eq!(parse_tagging_header(Some("a=1&b=2")).unwrap().len(), 2);
        let eleven = (0..11)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(parse_tagging_header(Some(&eleven)).is_err());
        assert!(parse_tagging_header(Some("a=1&a=2")).is_err());
        assert!(parse_tagging_header(Some(&format!("{}=v", "k".repeat(129)))).is_err());
        assert!(parse_tagging_header(Some(&format!("k={}", "v".repeat(257)))).is_err());
        assert!(parse_tagging_header(Some("aws:x=1")).is_err());
        assert!(parse_tagging_header(Some("=1")).is_err());
        assert!(parse_tagging_header(Some("a=%3Cb%3E")).is_err());
        assert!(check_tags(
            (0..50).map(|i| (format!("k{i}"), "v".into())),
            MAX_BUCKET_TAGS
        )
        .is_ok());
    }
}
