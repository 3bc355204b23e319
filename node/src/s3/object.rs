//! Object operations: PutObject, GetObject, HeadObject, DeleteObject(s), CopyObject.

use super::headers::{
    body_stream, checksum_spec, put_options, split_meta, stored_headers, timestamp, ts_secs,
    user_meta,
};
use super::tagging::{parse_tagging_header, tag_count};
use super::versions::{parse_version, version_header, version_str};
use super::S3Api;
use crate::object::{ObjError, ObjectInfo, PutOptions};
use http::StatusCode;
use s3s::dto::*;
use s3s::{s3_error, S3Error, S3Request, S3Response, S3Result};

/// The HTTP preconditions of a read (or of a copy's source).
pub(super) struct Conditions<'a> {
    pub if_match: Option<&'a ETagCondition>,
    pub if_none_match: Option<&'a ETagCondition>,
    pub if_modified_since: Option<&'a Timestamp>,
    pub if_unmodified_since: Option<&'a Timestamp>,
}

/// `Conditions` of a GetObject/HeadObject input (`conditions!(input)`) or of a copy's source
/// (`conditions!(copy input)`).
macro_rules! conditions {
    (copy $i:expr) => {
        $crate::s3::object::Conditions {
            if_match: $i.copy_source_if_match.as_ref(),
            if_none_match: $i.copy_source_if_none_match.as_ref(),
            if_modified_since: $i.copy_source_if_modified_since.as_ref(),
            if_unmodified_since: $i.copy_source_if_unmodified_since.as_ref(),
        }
    };
    ($i:expr) => {
        $crate::s3::object::Conditions {
            if_match: $i.if_match.as_ref(),
            if_none_match: $i.if_none_match.as_ref(),
            if_modified_since: $i.if_modified_since.as_ref(),
            if_unmodified_since: $i.if_unmodified_since.as_ref(),
        }
    };
}
pub(super) use conditions;

/// Evaluates If-Match / If-None-Match / If-(Un)Modified-Since in RFC 7232 order.
fn check_conditions(info: &ObjectInfo, c: Conditions<'_>) -> S3Result<()> {
    let Conditions {
        if_match,
        if_none_match,
        if_modified_since,
        if_unmodified_since,
    } = c;
    let matches = |c: &ETagCondition| match c {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == info.etag,
    };
    let mtime = info.mod_time_nanos.div_euclid(1_000_000_000);
    if let Some(c) = if_match {
        if !matches(c) {
            return Err(s3_error!(
                PreconditionFailed,
                "If-Match: the object's ETag does not match"
            ));
        }
    } else if let Some(t) = if_unmodified_since {
        if mtime > ts_secs(t) {
            return Err(s3_error!(
                PreconditionFailed,
                "If-Unmodified-Since: the object was modified since"
            ));
        }
    }
    if let Some(c) = if_none_match {
        if matches(c) {
            return Err(S3Error::new(s3s::S3ErrorCode::NotModified));
        }
    } else if let Some(t) = if_modified_since {
        if mtime <= ts_secs(t) {
            return Err(S3Error::new(s3s::S3ErrorCode::NotModified));
        }
    }
    Ok(())
}

fn checksum_fields(
    info: &ObjectInfo,
    wanted: bool,
) -> (Option<String>, Option<String>, Option<String>) {
    checksum_values(info.checksum.as_ref().filter(|_| wanted))
}

/// A stored checksum as S3's (CRC32, CRC32C, SHA256) fields.
pub(super) fn checksum_values(
    c: Option<&crate::store::meta::StoredChecksum>,
) -> (Option<String>, Option<String>, Option<String>) {
    match c {
        Some(c) => match c.algorithm.as_str() {
            "CRC32" => (Some(c.value.clone()), None, None),
            "CRC32C" => (None, Some(c.value.clone()), None),
            "SHA256" => (None, None, Some(c.value.clone())),
            _ => (None, None, None),
        },
        None => (None, None, None),
    }
}

/// `x-amz-checksum-type` of a checksum returned: a multipart object's is the checksum of its
/// parts' checksums (`…-N`).
pub(super) fn checksum_type(value: Option<&String>) -> Option<ChecksumType> {
    value.map(|v| {
        ChecksumType::from_static(if v.contains('-') {
            ChecksumType::COMPOSITE
        } else {
            ChecksumType::FULL_OBJECT
        })
    })
}

/// True when the client sent `x-amz-checksum-mode: ENABLED`.
fn wants_checksum(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
}

/// Builds a GetObject/HeadObject output with every header an object carries, plus `extra` fields.
macro_rules! object_output {
    ($ty:ident, $info:expr, $checksum:expr, { $($field:ident: $val:expr),* $(,)? }) => {{
        let info: &ObjectInfo = $info;
        let (user, h) = split_meta(info);
        let (crc32, crc32c, sha256) = checksum_fields(info, $checksum);
        let checksum_type = checksum_type(crc32.as_ref().or(crc32c.as_ref()).or(sha256.as_ref()));
        let (lock_mode, lock_until, legal_hold) = super::objlock::read_fields(info);
        $ty {
            $($field: $val,)*
            object_lock_mode: lock_mode,
            object_lock_retain_until_date: lock_until,
            object_lock_legal_hold_status: legal_hold,
            accept_ranges: Some("bytes".into()),
            content_type: info.content_type.clone(),
            e_tag: Some(ETag::Strong(info.etag.clone())),
            last_modified: Some(timestamp(info.mod_time_nanos)),
            metadata: (!user.is_empty()).then_some(user),
            cache_control: h.cache_control,
            content_disposition: h.content_disposition,
            content_encoding: h.content_encoding,
            content_language: h.content_language,
            parts_count: (info.num_parts > 1).then_some(info.num_parts as i32),
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_sha256: sha256,
            checksum_type,
            storage_class: (!info.storage_class.is_standard())
                .then(|| super::headers::class_name(info.storage_class)),
            ..Default::default()
        }
    }};
}

pub async fn handle_put_object(
    api: &S3Api,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let trailers = req.trailing_headers.clone();
    let headers = req.headers;
    let input = req.input;
    super::acl::check_object_acl(input.acl.as_ref())?;
    if input.if_none_match.is_some() || input.if_match.is_some() {
        match api.layer.head_object(&input.bucket, &input.key, None).await {
            Ok(info) => check_conditions(
                &info,
                Conditions {
                    if_match: input.if_match.as_ref(),
                    if_none_match: input.if_none_match.as_ref(),
                    if_modified_since: None,
                    if_unmodified_since: None,
                },
            )
            .map_err(|_| {
                s3_error!(
                    PreconditionFailed,
                    "the conditional write's precondition failed"
                )
            })?,
            Err(ObjError::ObjectNotFound(_)) if input.if_match.is_some() => {
                return Err(s3_error!(
                    NoSuchKey,
                    "If-Match given but the object does not exist"
                ))
            }
            Err(ObjError::ObjectNotFound(_) | ObjError::DeleteMarker { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let checksum = checksum_spec(
        &headers,
        trailers,
        input.checksum_crc32,
        input.checksum_crc32c,
        input.checksum_sha256,
    );
    let meta = user_meta(input.metadata, stored_headers!(input));
    let mut opts = put_options(
        &headers,
        input.content_type,
        meta,
        input.content_length,
        input.content_md5,
        checksum,
    );
    // Checked again under the write lock, where it decides; the check above only saves
    // uploading a body that would be refused.
    opts.condition =
        super::headers::write_condition(input.if_match.as_ref(), input.if_none_match.as_ref());
    opts.attrs.tags = parse_tagging_header(input.tagging.as_deref())?;
    opts.storage_class = super::headers::storage_class(input.storage_class.as_ref())?;
    super::objlock::write_attrs(
        &mut opts.attrs,
        input.object_lock_mode.as_ref(),
        input.object_lock_retain_until_date.as_ref(),
        input.object_lock_legal_hold_status.as_ref(),
    )?;
    let info = api
        .layer
        .put_object(&input.bucket, &input.key, body_stream(input.body), opts)
        .await?;
    let (crc32, crc32c, sha256) = checksum_fields(&info, true);
    let version_id = version_header(api, &input.bucket, info.version_id).await;
    Ok(S3Response::new(PutObjectOutput {
        e_tag: Some(ETag::Strong(info.etag)),
        version_id,
        checksum_crc32: crc32,
        checksum_crc32c: crc32c,
        checksum_sha256: sha256,
        ..Default::default()
    }))
}

pub async fn handle_get_object(
    api: &S3Api,
    req: S3Request<GetObjectInput>,
) -> S3Result<S3Response<GetObjectOutput>> {
    let input = req.input;
    if input.part_number.is_some() {
        return Err(s3_error!(
            NotImplemented,
            "GetObject with partNumber is not supported yet"
        ));
    }
    let version = parse_version(input.version_id.as_deref())?;
    let obj = api
        .layer
        .open_object(&input.bucket, &input.key, version)
        .await?;
    let info = obj.info.clone();
    check_conditions(&info, conditions!(input))?;
    let version_id = version_header(api, &input.bucket, info.version_id).await;
    let (start, end, ranged) = match &input.range {
        Some(r) => {
            let span = r.check(info.size).map_err(|_| {
                s3_error!(
                    InvalidRange,
                    "the requested range is not satisfiable for an object of {} bytes",
                    info.size
                )
            })?;
            (span.start, span.end, true)
        }
        None => (0, info.size, false),
    };
    let body = obj.stream(start, end).await?;
    let checksum = wants_checksum(input.checksum_mode.as_ref()) && !ranged;
    let out = object_output!(GetObjectOutput, &info, checksum, {
        version_id: version_id,
        tag_count: tag_count(&info.tags),
        body: Some(StreamingBlob::wrap(body)),
        content_length: Some((end - start) as i64),
        content_range: ranged.then(|| format!("bytes {start}-{}/{}", end.saturating_sub(1), info.size)),
    });
    Ok(if ranged {
        S3Response::with_status(out, StatusCode::PARTIAL_CONTENT)
    } else {
        S3Response::new(out)
    })
}

pub async fn handle_head_object(
    api: &S3Api,
    req: S3Request<HeadObjectInput>,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let input = req.input;
    let version = parse_version(input.version_id.as_deref())?;
    let info = api
        .layer
        .head_object(&input.bucket, &input.key, version)
        .await?;
    check_conditions(&info, conditions!(input))?;
    let checksum = wants_checksum(input.checksum_mode.as_ref());
    let version_id = version_header(api, &input.bucket, info.version_id).await;
    Ok(S3Response::new(
        object_output!(HeadObjectOutput, &info, checksum, {
            content_length: Some(info.size as i64),
            version_id: version_id,
        }),
    ))
}

pub async fn handle_delete_object(
    api: &S3Api,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    let input = req.input;
    let version = parse_version(input.version_id.as_deref())?;
    let d = api
        .layer
        .delete_object(
            &input.bucket,
            &input.key,
            version,
            input.bypass_governance_retention == Some(true),
        )
        .await?;
    let out = DeleteObjectOutput {
        delete_marker: d.delete_marker.then_some(true),
        version_id: (version.is_some() || d.delete_marker).then(|| version_str(d.version_id)),
        ..Default::default()
    };
    Ok(S3Response::with_status(out, StatusCode::NO_CONTENT))
}

pub async fn handle_delete_objects(
    api: &S3Api,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let input = req.input;
    if input.delete.objects.len() > 1000 {
        return Err(s3_error!(
            MalformedXML,
            "at most 1000 keys can be deleted in one request"
        ));
    }
    api.layer.bucket_info(&input.bucket).await?;
    let quiet = input.delete.quiet.unwrap_or(false);
    let bypass = input.bypass_governance_retention == Some(true);
    let check = req
        .extensions
        .get::<crate::iam::access::KeyCheck>()
        .cloned();
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for o in input.delete.objects {
        let allowed = match &check {
            Some(c) => c.allows(&o.key, o.version_id.as_deref()).await,
            None => false,
        };
        let outcome = match parse_version(o.version_id.as_deref()) {
            Ok(_) if !allowed => Err(s3_error!(AccessDenied, "Access Denied")),
            Ok(version) => api
                .layer
                .delete_object(&input.bucket, &o.key, version, bypass)
                .await
                .map(|d| (version, d))
                .map_err(S3Error::from),
            Err(e) => Err(e),
        };
        match outcome {
            Ok((version, d)) => {
                if !quiet {
                    let marker_id =
                        (version.is_none() && d.delete_marker).then(|| version_str(d.version_id));
                    deleted.push(DeletedObject {
                        key: Some(o.key),
                        version_id: version.map(|_| version_str(d.version_id)),
                        delete_marker: d.delete_marker.then_some(true),
                        delete_marker_version_id: marker_id,
                    })
                }
            }
            Err(s3) => {
                errors.push(Error {
                    code: Some(s3.code().as_str().to_string()),
                    message: s3.message().map(str::to_string),
                    key: Some(o.key),
                    version_id: o.version_id,
                });
            }
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        ..Default::default()
    }))
}

/// Resolves a copy source, checks its conditions and opens it for reading `range`.
pub(super) async fn open_copy_source(
    api: &S3Api,
    src: &CopySource,
    conditions: Conditions<'_>,
) -> S3Result<crate::object::get::OpenObject> {
    let CopySource::Bucket {
        bucket,
        key,
        version_id,
    } = src
    else {
        return Err(s3_error!(
            NotImplemented,
            "access point copy sources are not supported"
        ));
    };
    let version = parse_version(version_id.as_deref())?;
    let obj = api.layer.open_object(bucket, key, version).await?;
    check_conditions(&obj.info, conditions)
        .map_err(|_| s3_error!(PreconditionFailed, "a copy-source precondition failed"))?;
    Ok(obj)
}

pub async fn handle_copy_object(
    api: &S3Api,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let input = req.input;
    super::acl::check_object_acl(input.acl.as_ref())?;
    let src = open_copy_source(api, &input.copy_source, conditions!(copy input)).await?;
    let replace = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    let same = matches!(&input.copy_source, CopySource::Bucket { bucket, key, .. } if **bucket == *input.bucket && **key == *input.key);
    if same && !replace && input.storage_class.is_none() {
        return Err(s3_error!(
            InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
        ));
    }
    let info = src.info.clone();
    let (content_type, meta) = if replace {
        let meta = user_meta(input.metadata, stored_headers!(input));
        (input.content_type, meta)
    } else {
        (info.content_type.clone(), info.user_meta.clone())
    };
    let mut attrs = crate::store::meta::VersionAttrs {
        tags: match &input.tagging_directive {
            Some(d) if d.as_str() == TaggingDirective::REPLACE => {
                parse_tagging_header(input.tagging.as_deref())?
            }
            _ => info.tags.clone(),
        },
        ..Default::default()
    };
    // The copy is a new version: it gets the lock the request names, not the source's.
    super::objlock::write_attrs(
        &mut attrs,
        input.object_lock_mode.as_ref(),
        input.object_lock_retain_until_date.as_ref(),
        input.object_lock_legal_hold_status.as_ref(),
    )?;
    let storage_class = super::headers::storage_class(input.storage_class.as_ref())?;
    let body = src.stream(0, info.size).await?;
    let opts = PutOptions {
        content_type,
        user_meta: meta,
        content_length: Some(info.size),
        attrs,
        storage_class,
        ..Default::default()
    };
    let out = api
        .layer
        .put_object(&input.bucket, &input.key, Box::pin(body), opts)
        .await?;
    let copy_source_version_id = match &input.copy_source {
        CopySource::Bucket { bucket, .. } => version_header(api, bucket, info.version_id).await,
        _ => None,
    };
    let version_id = version_header(api, &input.bucket, out.version_id).await;
    Ok(S3Response::new(CopyObjectOutput {
        copy_source_version_id,
        version_id,
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(ETag::Strong(out.etag)),
            last_modified: Some(timestamp(out.mod_time_nanos)),
            ..Default::default()
        }),
        ..Default::default()
    }))
}
