//! Multipart upload operations.

use super::headers::{
    body_stream, checksum_spec, put_options, stored_headers, timestamp, user_meta,
};
use super::object::{conditions, open_copy_source};
use super::S3Api;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};

pub async fn handle_create_multipart_upload(
    api: &S3Api,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let i = req.input;
    let meta = user_meta(i.metadata, stored_headers!(i));
    let mut opts = put_options(&req.headers, i.content_type, meta, None, None, None);
    opts.attrs.tags = super::tagging::parse_tagging_header(i.tagging.as_deref())?;
    super::objlock::write_attrs(
        &mut opts.attrs,
        i.object_lock_mode.as_ref(),
        i.object_lock_retain_until_date.as_ref(),
        i.object_lock_legal_hold_status.as_ref(),
    )?;
    let id = api.layer.create_multipart(&i.bucket, &i.key, opts).await?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(i.bucket),
        key: Some(i.key),
        upload_id: Some(id.to_string()),
        ..Default::default()
    }))
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
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(ETag::Strong(part.etag)),
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
    Ok(S3Response::new(UploadPartCopyOutput {
        copy_part_result: Some(CopyPartResult {
            e_tag: Some(ETag::Strong(part.etag)),
            last_modified: Some(timestamp(part.mod_time_nanos)),
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
        wanted.push((n, etag.value().to_string()));
    }
    let condition = super::headers::write_condition(i.if_match.as_ref(), i.if_none_match.as_ref());
    let info = api
        .layer
        .complete_multipart(&i.bucket, &i.key, &i.upload_id, &wanted, condition.as_ref())
        .await?;
    let version_id = super::versions::version_header(api, &i.bucket, info.version_id).await;
    Ok(S3Response::new(CompleteMultipartUploadOutput {
        version_id,
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
    let (_, parts) = api
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
        .map(|p| Part {
            part_number: Some(p.number as i32),
            size: Some(p.size as i64),
            e_tag: Some(ETag::Strong(p.etag)),
            last_modified: Some(timestamp(p.mod_time_nanos)),
            ..Default::default()
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
                    ..Default::default()
                })
                .collect(),
        ),
        delimiter: super::headers::delimiter(i.delimiter),
        encoding_type: i.encoding_type,
        ..Default::default()
    }))
}
