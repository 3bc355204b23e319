//! GetObjectAttributes: what HEAD tells, and a multipart object's parts, in one XML answer.

use super::headers::{class_name, timestamp};
use super::object::{checksum_type, checksum_values};
use super::versions::{parse_version, version_header};
use super::S3Api;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};

pub async fn handle_get_object_attributes(
    api: &S3Api,
    req: S3Request<GetObjectAttributesInput>,
) -> S3Result<S3Response<GetObjectAttributesOutput>> {
    let i = req.input;
    let mut wanted = Vec::new();
    for a in &i.object_attributes {
        // A header may list several, comma-separated.
        for name in a
            .as_str()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match name {
                ObjectAttributes::ETAG
                | ObjectAttributes::CHECKSUM
                | ObjectAttributes::OBJECT_PARTS
                | ObjectAttributes::STORAGE_CLASS
                | ObjectAttributes::OBJECT_SIZE => wanted.push(name.to_string()),
                other => {
                    return Err(s3_error!(
                        InvalidArgument,
                        "unknown object attribute {other:?}: ask for ETag, Checksum, ObjectParts, StorageClass or ObjectSize"
                    ))
                }
            }
        }
    }
    if wanted.is_empty() {
        return Err(s3_error!(
            InvalidArgument,
            "x-amz-object-attributes names no attribute"
        ));
    }
    let want = |a: &str| wanted.iter().any(|w| w == a);
    let version = parse_version(i.version_id.as_deref())?;
    let (info, parts) = api.layer.object_parts(&i.bucket, &i.key, version).await?;
    let checksum = info
        .checksum
        .as_ref()
        .filter(|_| want(ObjectAttributes::CHECKSUM));
    let (crc32, crc32c, sha256) = checksum_values(checksum);
    let object_parts = (want(ObjectAttributes::OBJECT_PARTS) && info.num_parts > 1).then(|| {
        let marker = i.part_number_marker.unwrap_or(0).max(0);
        let max = i.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
        let after: Vec<_> = parts.iter().filter(|p| p.number as i32 > marker).collect();
        let truncated = after.len() > max;
        let page: Vec<ObjectPart> = after
            .into_iter()
            .take(max)
            .map(|p| {
                let sum = info
                    .checksum
                    .as_ref()
                    .zip(p.checksum.clone())
                    .map(|(c, value)| crate::store::meta::StoredChecksum {
                        algorithm: c.algorithm.clone(),
                        value,
                    });
                let (crc32, crc32c, sha256) = checksum_values(sum.as_ref());
                ObjectPart {
                    part_number: Some(p.number as i32),
                    size: Some(p.size as i64),
                    checksum_crc32: crc32,
                    checksum_crc32c: crc32c,
                    checksum_sha256: sha256,
                    ..Default::default()
                }
            })
            .collect();
        GetObjectAttributesParts {
            total_parts_count: Some(parts.len() as i32),
            part_number_marker: Some(marker),
            next_part_number_marker: page.last().and_then(|p| p.part_number),
            max_parts: Some(max as i32),
            is_truncated: Some(truncated),
            parts: Some(page),
        }
    });
    let version_id = version_header(api, &i.bucket, info.version_id).await;
    Ok(S3Response::new(GetObjectAttributesOutput {
        e_tag: want(ObjectAttributes::ETAG).then(|| ETag::Strong(info.etag.clone())),
        checksum: checksum.map(|c| Checksum {
            checksum_type: checksum_type(Some(&c.value)),
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_sha256: sha256,
            ..Default::default()
        }),
        object_parts,
        object_size: want(ObjectAttributes::OBJECT_SIZE).then_some(info.size as i64),
        storage_class: want(ObjectAttributes::STORAGE_CLASS)
            .then(|| class_name(info.storage_class)),
        last_modified: Some(timestamp(info.mod_time_nanos)),
        version_id,
        ..Default::default()
    }))
}
