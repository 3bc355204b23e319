//! Multipart upload operations.

use super::headers::{
    body_stream, checksum_spec, put_options, stored_headers, timestamp, user_meta,
};
use super::object::{conditions, open_copy_source};
use super::S3Api;
use crate::object::multipart::CompletePart;
use crate::object::ChecksumAlgo;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};

pub async fn handle_create_multipart_upload(
    api: &S3Api,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let i = req.input;
    super::acl::check_object_acl(i.acl.as_ref())?;
    let meta = user_meta(i.metadata, stored_headers!(i));
    let mut opts = put_options(&req.headers, i.content_type, meta, None, None, None);
    opts.attrs.tags = super::tagging::parse_tagging_header(i.tagging.as_deref())?;
    opts.storage_class = super::headers::storage_class(i.storage_class.as_ref())?;
    let checksum = upload_checksum(i.checksum_algorithm.as_ref(), i.checksum_type.as_ref())?;
    super::objlock::write_attrs(
        &mut opts.attrs,
        i.object_lock_mode.as_ref(),
        i.object_lock_retain_until_date.as_ref(),
        i.object_lock_legal_hold_status.as_ref(),
    )?;
    let id = api
        .layer
        .create_multipart(&i.bucket, &i.key, opts, checksum)
        .await?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(i.bucket),
        key: Some(i.key),
        upload_id: Some(id.to_string()),
        checksum_algorithm: checksum.map(|a| ChecksumAlgorithm::from(a.name().to_string())),
        checksum_type: checksum.map(|_| ChecksumType::from_static(ChecksumType::COMPOSITE)),
        ..Default::default()
    }))
}

/// The checksum algorithm an upload is created with: CRC32, CRC32C or SHA256, composite (the
/// object's checksum is the checksum of its parts' checksums).
fn upload_checksum(
    algo: Option<&ChecksumAlgorithm>,
    kind: Option<&ChecksumType>,
) -> S3Result<Option<ChecksumAlgo>> {
    if kind.is_some_and(|k| k.as_str() != ChecksumType::COMPOSITE) {
        return Err(s3_error!(
            InvalidRequest,
            "only COMPOSITE checksums are offered for multipart uploads"
        ));
    }
    algo.map(|a| {
        ChecksumAlgo::parse(a.as_str()).ok_or_else(|| {
            s3_error!(
                InvalidRequest,
                "checksum algorithm {} is not offered: use CRC32, CRC32C or SHA256",
                a.as_str()
            )
        })
    })
    .transpose()
}

/// A part's checksum as S3's fields.
fn part_sums(
    p: &crate::object::multipart::PartMeta,
) -> (Option<String>, Option<String>, Option<String>) {
    super::object::checksum_values(p.checksum.as_ref())
}

pub async fn handle_upload_part(
    api: &S3Api,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let trailers = req.trailing_headers.clone();
    let i = req.input;
    let checksum = checksum_spec(
        &req.headers,
        trailers,
        i.checksum_crc32,
        i.checksum_crc32c,
        i.checksum_sha256,
    );
    let opts = put_options(
        &req.headers,
        None,
        Default::default(),
        i.content_length,
        i.content_md5,
        checksum,
    );
    let part = api
        .layer
        .upload_part(
            &i.bucket,
            &i.key,
            &i.upload_id,
            i.part_number,
            body_stream(i.body),
            opts,
        )
        .await?;
    let (crc32, crc32c, sha256) = part_sums(&part);
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(ETag::Strong(part.etag)),
        checksum_crc32: crc32,
        checksum_crc32c: crc32c,
        checksum_sha256: sha256,
        ..Default::default()
    }))
}

pub async fn handle_upload_part_copy(
    api: &S3Api,
    req: S3Request<UploadPartCopyInput>,
) -> S3Result<S3Response<UploadPartCopyOutput>> {
    let i = req.input;
    let src = open_copy_source(api, &i.copy_source, conditions!(copy i)).await?;
    let size = src.info.size;
    let (start, end) = match &i.copy_source_range {
        None => (0, size),
        Some(r) => {
            // Unlike a GET range, a copy range is never clamped: both ends must lie inside the
            // source (as S3 answers).
            match Range::parse(r) {
                Ok(Range::Int {
                    first,
                    last: Some(last),
                }) if first <= last && last < size => (first, last + 1),
                Ok(Range::Int { last: Some(_), .. }) => {
                    return Err(s3_error!(
                        InvalidArgument,
                        "x-amz-copy-source-range {r:?} is not valid for the source object of size {size}"
                    ))
                }
                _ => {
                    return Err(s3_error!(
                        InvalidArgument,
                        "invalid x-amz-copy-source-range {r:?}: use bytes=first-last"
                    ))
                }
            }
        }
    };
    let body = src.stream(start, end).await?;
    let opts = crate::object::PutOptions {
        content_length: Some(end - start),
        ..Default::default()
    };
    let part = api
        .layer
        .upload_part(
            &i.bucket,
            &i.key,
            &i.upload_id,
            i.part_number,
            Box::pin(body),
            opts,
        )
        .await?;
    let (crc32, crc32c, sha256) = part_sums(&part);
    Ok(S3Response::new(UploadPartCopyOutput {
        copy_part_result: Some(CopyPartResult {
            e_tag: Some(ETag::Strong(part.etag)),
            last_modified: Some(timestamp(part.mod_time_nanos)),
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_sha256: sha256,
            ..Default::default()
        }),
        ..Default::default()
    }))
}

pub async fn handle_complete_multipart_upload(
    api: &S3Api,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let i = req.input;
    let parts = i.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
    let mut wanted = Vec::with_capacity(parts.len());
    for p in parts {
        let n = p
            .part_number
            .ok_or_else(|| s3_error!(MalformedXML, "a part is missing its PartNumber"))?;
        let etag = p
            .e_tag
            .ok_or_else(|| s3_error!(MalformedXML, "part {n} is missing its ETag"))?;
        wanted.push(CompletePart {
            number: n,
            etag: etag.value().to_string(),
            checksum: p.checksum_crc32.or(p.checksum_crc32c).or(p.checksum_sha256),
        });
    }
    let condition = super::headers::write_condition(i.if_match.as_ref(), i.if_none_match.as_ref());
    let info = api
        .layer
        .complete_multipart(&i.bucket, &i.key, &i.upload_id, &wanted, condition.as_ref())
        .await?;
    let version_id = super::versions::version_header(api, &i.bucket, info.version_id).await;
    let (crc32, crc32c, sha256) = super::object::checksum_values(info.checksum.as_ref());
    Ok(S3Response::new(CompleteMultipartUploadOutput {
        version_id,
        checksum_type: super::object::checksum_type(info.checksum.as_ref().map(|c| &c.value)),
        checksum_crc32: crc32,
        checksum_crc32c: crc32c,
        checksum_sha256: sha256,
        bucket: Some(i.bucket.clone()),
        key: Some(i.key.clone()),
        e_tag: Some(ETag::Strong(info.etag)),
        location: Some(format!("/{}/{}", i.bucket, i.key)),
        ..Default::default()
    }))
}

pub async fn handle_abort_multipart_upload(
    api: &S3Api,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let i = req.input;
    api.layer
        .abort_multipart(&i.bucket, &i.key, &i.upload_id)
        .await?;
    Ok(S3Response::with_status(
        AbortMultipartUploadOutput::default(),
        http::StatusCode::NO_CONTENT,
    ))
}

pub async fn handle_list_parts(
    api: &S3Api,
    req: S3Request<ListPartsInput>,
) -> S3Result<S3Response<ListPartsOutput>> {
    let i = req.input;
    let (up, parts) = api
        .layer
        .list_parts(&i.bucket, &i.key, &i.upload_id)
        .await?;
    let marker = i.part_number_marker.unwrap_or(0).max(0) as u32;
    let max = i.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
    let after: Vec<_> = parts.into_iter().filter(|p| p.number > marker).collect();
    let truncated = after.len() > max;
    let page: Vec<Part> = after
        .into_iter()
        .take(max)
        .map(|p| {
            let (crc32, crc32c, sha256) = part_sums(&p);
            Part {
                part_number: Some(p.number as i32),
                size: Some(p.size as i64),
                e_tag: Some(ETag::Strong(p.etag)),
                last_modified: Some(timestamp(p.mod_time_nanos)),
                checksum_crc32: crc32,
                checksum_crc32c: crc32c,
                checksum_sha256: sha256,
                ..Default::default()
            }
        })
        .collect();
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(i.bucket),
        key: Some(i.key),
        upload_id: Some(i.upload_id),
        max_parts: Some(max as i32),
        is_truncated: Some(truncated),
        part_number_marker: i.part_number_marker,
        next_part_number_marker: if truncated {
            page.last().and_then(|p| p.part_number)
        } else {
            None
        },
        parts: Some(page),
        storage_class: Some(super::headers::class_name(up.storage_class)),
        checksum_algorithm: up
            .checksum
            .map(|a| ChecksumAlgorithm::from(a.name().to_string())),
        ..Default::default()
    }))
}

pub async fn handle_list_multipart_uploads(
    api: &S3Api,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let i = req.input;
    let prefix = i.prefix.clone().unwrap_or_default();
    let max = i.max_uploads.unwrap_or(1000).clamp(0, 1000) as usize;
    let key_marker = i.key_marker.clone().unwrap_or_default();
    let id_marker = i.upload_id_marker.clone().unwrap_or_default();
    let all = api.layer.list_uploads(&i.bucket, &prefix).await?;
    let after: Vec<_> = all
        .into_iter()
        .filter(|u| {
            key_marker.is_empty()
                || u.key > key_marker
                || (u.key == key_marker
                    && !id_marker.is_empty()
                    && u.upload_id.to_string() > id_marker)
        })
        .collect();
    let truncated = after.len() > max;
    let page: Vec<_> = after.into_iter().take(max).collect();
    let (next_key, next_id) = match (truncated, page.last()) {
        (true, Some(u)) => (Some(u.key.clone()), Some(u.upload_id.to_string())),
        _ => (None, None),
    };
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(i.bucket),
        prefix: Some(prefix),
        key_marker: i.key_marker,
        upload_id_marker: i.upload_id_marker,
        max_uploads: Some(max as i32),
        is_truncated: Some(truncated),
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        uploads: Some(
            page.into_iter()
                .map(|u| MultipartUpload {
                    key: Some(u.key),
                    upload_id: Some(u.upload_id.to_string()),
                    initiated: Some(timestamp(u.initiated_nanos)),
                    storage_class: Some(super::headers::class_name(u.storage_class)),
                    ..Default::default()
                })
                .collect(),
        ),
        delimiter: super::headers::delimiter(i.delimiter),
        encoding_type: i.encoding_type,
        ..Default::default()
    }))
}
