//! ListObjects (V1) and ListObjectsV2.

use super::headers::timestamp;
use super::S3Api;
use crate::object::list::{ListEntry, ListPage};
use base64::Engine as _;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result};

const MAX_KEYS: i32 = 1000;

struct Rendered {
    contents: Vec<Object>,
    prefixes: Vec<CommonPrefix>,
    last: Option<String>,
}

fn render(page: &ListPage, encode: bool, owner: bool) -> Rendered {
    let enc = |s: &str| {
        if encode {
            rustfs_common::names::url_encode(s)
        } else {
            s.to_string()
        }
    };
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    for e in &page.entries {
        match e {
            ListEntry::Object(o) => contents.push(Object {
                key: Some(enc(&o.key)),
                size: Some(o.size as i64),
                e_tag: Some(ETag::Strong(o.etag.clone())),
                last_modified: Some(timestamp(o.mod_time_nanos)),
                storage_class: Some(super::headers::class_name(o.storage_class)),
                owner: owner.then(super::headers::owner),
                ..Default::default()
            }),
            ListEntry::Prefix(p) => prefixes.push(CommonPrefix {
                prefix: Some(enc(p)),
            }),
        }
    }
    Rendered {
        contents,
        prefixes,
        last: page.entries.last().map(|e| e.key().to_string()),
    }
}

pub(super) fn wants_url(e: &Option<EncodingType>) -> S3Result<bool> {
    match e {
        None => Ok(false),
        Some(e) if e.as_str().eq_ignore_ascii_case("url") => Ok(true),
        Some(e) => Err(s3_error!(
            InvalidArgument,
            "invalid encoding-type {}: only 'url' is supported",
            e.as_str()
        )),
    }
}

pub(super) fn max_keys(m: Option<i32>) -> S3Result<usize> {
    match m {
        Some(m) if m < 0 => Err(s3_error!(
            InvalidArgument,
            "max-keys must be between 0 and {MAX_KEYS}"
        )),
        Some(m) => Ok(m.min(MAX_KEYS) as usize),
        None => Ok(MAX_KEYS as usize),
    }
}

pub async fn handle_list_objects(
    api: &S3Api,
    req: S3Request<ListObjectsInput>,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let i = req.input;
    let encode = wants_url(&i.encoding_type)?;
    let max = max_keys(i.max_keys)?;
    let prefix = i.prefix.clone().unwrap_or_default();
    let delimiter = super::headers::delimiter(i.delimiter);
    let page = api
        .layer
        .list_page(
            &i.bucket,
            &prefix,
            delimiter.as_deref(),
            i.marker.as_deref().filter(|m| !m.is_empty()),
            max,
        )
        .await?;
    // ListObjects (V1) always names the owner; V2 only when asked (`fetch-owner=true`).
    let r = render(&page, encode, true);
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(i.bucket),
        prefix: Some(prefix),
        marker: i.marker,
        max_keys: Some(max as i32),
        is_truncated: Some(page.truncated),
        next_marker: if page.truncated { r.last } else { None },
        contents: Some(r.contents),
        common_prefixes: Some(r.prefixes),
        delimiter,
        encoding_type: i.encoding_type,
        ..Default::default()
    }))
}

pub async fn handle_list_objects_v2(
    api: &S3Api,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let i = req.input;
    let encode = wants_url(&i.encoding_type)?;
    let max = max_keys(i.max_keys)?;
    let prefix = i.prefix.clone().unwrap_or_default();
    let token_key = match &i.continuation_token {
        Some(t) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| s3_error!(InvalidArgument, "the continuation token is not valid"))?,
        ),
        None => None,
    };
    let start = match (token_key, i.start_after.clone().filter(|s| !s.is_empty())) {
        (Some(t), Some(s)) => Some(t.max(s)),
        (t, s) => t.or(s),
    };
    let delimiter = super::headers::delimiter(i.delimiter);
    let page = api
        .layer
        .list_page(
            &i.bucket,
            &prefix,
            delimiter.as_deref(),
            start.as_deref(),
            max,
        )
        .await?;
    let r = render(&page, encode, i.fetch_owner == Some(true));
    let next = if page.truncated {
        r.last
            .map(|k| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k))
    } else {
        None
    };
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(i.bucket),
        prefix: Some(prefix),
        max_keys: Some(max as i32),
        key_count: Some((r.contents.len() + r.prefixes.len()) as i32),
        continuation_token: i.continuation_token,
        is_truncated: Some(page.truncated),
        next_continuation_token: next,
        contents: Some(r.contents),
        common_prefixes: Some(r.prefixes),
        delimiter,
        encoding_type: i.encoding_type,
        start_after: i.start_after,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use rustfs_common::names::url_encode;

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("a b/ü+&"), "a%20b/%C3%BC%2B%26");
    }
}
