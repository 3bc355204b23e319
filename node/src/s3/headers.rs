//! Translation between S3 request/response fields and the object layer's stored metadata.

use crate::object::{BodyStream, ChecksumAlgo, ExpectedChecksum, ObjectInfo, PutOptions};
use futures::StreamExt;
use http::HeaderMap;
use s3s::dto::{StreamingBlob, Timestamp};
use s3s::TrailingHeaders;
use std::collections::{BTreeMap, HashMap};

/// Prefix of stored standard headers inside `user_meta` (user keys cannot start with `$`,
/// `x-amz-meta-` names are HTTP tokens).
const HDR: &str = "$h:";

pub fn timestamp(nanos: i64) -> Timestamp {
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos as i128)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .into()
}

/// Seconds since the epoch of an HTTP-date timestamp.
pub fn ts_secs(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

pub fn body_stream(blob: Option<StreamingBlob>) -> BodyStream {
    match blob {
        Some(b) => Box::pin(b.map(|r| r.map_err(|e| std::io::Error::other(e.to_string())))),
        None => Box::pin(futures::stream::empty()),
    }
}

/// Standard headers stored with an object and returned on GET/HEAD.
#[derive(Default)]
pub struct StoredHeaders {
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
}

/// The standard headers of a write input (`PutObject`, `CopyObject`, `CreateMultipartUpload`).
macro_rules! stored_headers {
    ($input:expr) => {
        $crate::s3::headers::StoredHeaders {
            cache_control: $input.cache_control,
            content_disposition: $input.content_disposition,
            content_encoding: $input.content_encoding,
            content_language: $input.content_language,
        }
    };
}
pub(crate) use stored_headers;

pub fn user_meta(
    meta: Option<HashMap<String, String>>,
    h: StoredHeaders,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = meta
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.to_lowercase(), v))
        .collect();
    for (k, v) in [
        ("cache-control", h.cache_control),
        ("content-disposition", h.content_disposition),
        (
            "content-encoding",
            h.content_encoding.and_then(stored_encoding),
        ),
        ("content-language", h.content_language),
    ] {
        if let Some(v) = v {
            out.insert(format!("{HDR}{k}"), v);
        }
    }
    out
}

/// The `Content-Encoding` kept with an object: the transfer's own `aws-chunked` is not part of
/// it (`gzip, aws-chunked` is stored as `gzip`, a bare `aws-chunked` as nothing).
fn stored_encoding(v: String) -> Option<String> {
    let kept: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(","))
}

/// Splits stored metadata into the user's `x-amz-meta-*` map and the standard headers.
pub fn split_meta(info: &ObjectInfo) -> (HashMap<String, String>, StoredHeaders) {
    let mut user = HashMap::new();
    let mut h = StoredHeaders::default();
    for (k, v) in &info.user_meta {
        match k.strip_prefix(HDR) {
            Some("cache-control") => h.cache_control = Some(v.clone()),
            Some("content-disposition") => h.content_disposition = Some(v.clone()),
            Some("content-encoding") => h.content_encoding = Some(v.clone()),
            Some("content-language") => h.content_language = Some(v.clone()),
            Some(_) => {}
            None => {
                user.insert(k.clone(), v.clone());
            }
        }
    }
    (user, h)
}

/// Declared body length: `x-amz-decoded-content-length` for `aws-chunked` bodies, else
/// `Content-Length`.
pub fn declared_length(headers: &HeaderMap, content_length: Option<i64>) -> Option<u64> {
    if headers.contains_key(super::guard::UNKNOWN_LENGTH) {
        return None;
    }
    if let Some(v) = headers.get("x-amz-decoded-content-length") {
        return v.to_str().ok()?.parse().ok();
    }
    let streaming = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("STREAMING-"));
    if streaming {
        None
    } else {
        content_length.and_then(|l| u64::try_from(l).ok())
    }
}

/// Which `x-amz-checksum-*` to verify: a header value, or a trailer announced in `x-amz-trailer`.
pub fn checksum_spec(
    headers: &HeaderMap,
    trailers: Option<TrailingHeaders>,
    crc32: Option<String>,
    crc32c: Option<String>,
    sha256: Option<String>,
) -> Option<(ChecksumAlgo, ExpectedChecksum)> {
    let known = |algo, v: String| -> Option<(ChecksumAlgo, ExpectedChecksum)> {
        Some((algo, Box::new(move || Some(v))))
    };
    if let Some(v) = crc32 {
        return known(ChecksumAlgo::Crc32, v);
    }
    if let Some(v) = crc32c {
        return known(ChecksumAlgo::Crc32c, v);
    }
    if let Some(v) = sha256 {
        return known(ChecksumAlgo::Sha256, v);
    }
    let trailer = headers
        .get("x-amz-trailer")?
        .to_str()
        .ok()?
        .trim()
        .to_ascii_lowercase();
    let algo = match trailer.as_str() {
        "x-amz-checksum-crc32" => ChecksumAlgo::Crc32,
        "x-amz-checksum-crc32c" => ChecksumAlgo::Crc32c,
        "x-amz-checksum-sha256" => ChecksumAlgo::Sha256,
        _ => return None,
    };
    Some((
        algo,
        Box::new(move || {
            trailers?.read(|h| {
                h.get(trailer.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })?
        }),
    ))
}

/// The precondition of a write from its `If-Match` / `If-None-Match` headers (`If-Match` wins
/// when both are sent).
pub fn write_condition(
    if_match: Option<&s3s::dto::ETagCondition>,
    if_none_match: Option<&s3s::dto::ETagCondition>,
) -> Option<crate::object::WriteCondition> {
    use crate::object::WriteCondition as W;
    use s3s::dto::ETagCondition as E;
    match (if_match, if_none_match) {
        (Some(E::Any), _) => Some(W::IfMatch(None)),
        (Some(E::ETag(e)), _) => Some(W::IfMatch(Some(e.value().to_string()))),
        (None, Some(E::Any)) => Some(W::IfNoneMatchAny),
        (None, Some(E::ETag(e))) => Some(W::IfNoneMatch(e.value().to_string())),
        (None, None) => None,
    }
}

/// Fills the common write options.
pub fn put_options(
    headers: &HeaderMap,
    content_type: Option<String>,
    meta: BTreeMap<String, String>,
    content_length: Option<i64>,
    content_md5: Option<String>,
    checksum: Option<(ChecksumAlgo, ExpectedChecksum)>,
) -> PutOptions {
    PutOptions {
        condition: None,
        version_id: None,
        content_type,
        user_meta: meta,
        content_length: declared_length(headers, content_length),
        content_md5,
        checksum,
        attrs: Default::default(),
        storage_class: Default::default(),
    }
}

/// The storage class an `x-amz-storage-class` names (none: `STANDARD`); classes this store does not
/// have are refused, as MinIO does.
pub fn storage_class(
    c: Option<&s3s::dto::StorageClass>,
) -> s3s::S3Result<crate::store::meta::StorageClass> {
    match c {
        None => Ok(Default::default()),
        Some(c) => crate::store::meta::StorageClass::parse(c.as_str()).ok_or_else(|| {
            s3s::s3_error!(
                InvalidStorageClass,
                "storage class {} is not offered here: use STANDARD or REDUCED_REDUNDANCY",
                c.as_str()
            )
        }),
    }
}

/// A storage class as the S3 type `T` names it (listings name every class).
pub fn class_name<T: From<String>>(c: crate::store::meta::StorageClass) -> T {
    T::from(c.as_str().to_string())
}

/// The owner reported for buckets and objects: the cluster's one account (IAM users come later).
pub fn owner() -> s3s::dto::Owner {
    s3s::dto::Owner {
        display_name: Some("rustfs".into()),
        id: Some("rustfs".into()),
    }
}

/// A `delimiter=` parameter: an empty one is no delimiter (and is not echoed back).
pub fn delimiter(d: Option<String>) -> Option<String> {
    d.filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::stored_encoding;

    #[test]
    fn aws_chunked_is_not_stored_as_the_object_encoding() {
        assert_eq!(
            stored_encoding("gzip, aws-chunked".into()),
            Some("gzip".into())
        );
        assert_eq!(
            stored_encoding("aws-chunked,gzip".into()),
            Some("gzip".into())
        );
        assert_eq!(stored_encoding("AWS-CHUNKED".into()), None);
        assert_eq!(stored_encoding("br, gzip".into()), Some("br,gzip".into()));
    }
}
