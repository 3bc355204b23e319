//! The one place object-layer errors become S3 errors (code, status, message).

use crate::object::ObjError;
use http::StatusCode;
use rustfs_common::names::NameError;
use s3s::{S3Error, S3ErrorCode};

impl From<ObjError> for S3Error {
    fn from(e: ObjError) -> Self {
        use S3ErrorCode as C;
        let msg = e.to_string();
        if let ObjError::DeleteMarker {
            version_id,
            requested,
            ..
        } = &e
        {
            // As AWS: the latest is a marker → 404 NoSuchKey; a marker asked for by id → 405.
            let (code, status) = if *requested {
                (C::MethodNotAllowed, StatusCode::METHOD_NOT_ALLOWED)
            } else {
                (C::NoSuchKey, StatusCode::NOT_FOUND)
            };
            let mut err = S3Error::with_message(code, msg);
            err.set_status_code(status);
            let mut h = http::HeaderMap::new();
            h.insert(
                "x-amz-delete-marker",
                http::HeaderValue::from_static("true"),
            );
            let id = version_id.map_or("null".to_string(), |v| v.to_string());
            h.insert(
                "x-amz-version-id",
                http::HeaderValue::from_str(&id).expect("a uuid is a header value"),
            );
            err.set_headers(h);
            return err;
        }
        let code = match &e {
            ObjError::Name(NameError::Bucket(_)) => C::InvalidBucketName,
            ObjError::Name(NameError::KeyTooLong) => C::KeyTooLongError,
            ObjError::Name(_) => C::InvalidArgument,
            ObjError::BucketNotFound(_) => C::NoSuchBucket,
            ObjError::BucketExists(_) => C::BucketAlreadyOwnedByYou,
            ObjError::BucketNotEmpty(_) => C::BucketNotEmpty,
            ObjError::ObjectNotFound(_) => C::NoSuchKey,
            ObjError::VersionNotFound(_) => C::NoSuchVersion,
            ObjError::DeleteMarker { .. } => unreachable!("answered above"),
            ObjError::NoSuchUpload(_) => C::NoSuchUpload,
            ObjError::PreconditionFailed(_) => C::PreconditionFailed,
            ObjError::ReadQuorum(_) | ObjError::WriteQuorum(_) => C::ServiceUnavailable,
            ObjError::LockTimeout(_) | ObjError::Busy(_) => C::SlowDown,
            ObjError::StorageFull(_) => {
                let mut err = S3Error::with_message(
                    C::Custom("XRustfsStorageFull".into()),
                    format!("{msg}; free space or add a pool"),
                );
                err.set_status_code(StatusCode::INSUFFICIENT_STORAGE);
                return err;
            }
            ObjError::BadDigest | ObjError::ChecksumMismatch(_) => C::BadDigest,
            ObjError::IncompleteBody { .. } | ObjError::Body(_) => C::IncompleteBody,
            ObjError::InvalidPart(_) => C::InvalidPart,
            ObjError::InvalidPartOrder => C::InvalidPartOrder,
            ObjError::EntityTooSmall(_) => C::EntityTooSmall,
            ObjError::InvalidArgument(_) => C::InvalidArgument,
            ObjError::InvalidBucketState(_) => C::InvalidBucketState,
            ObjError::InvalidRequest(_) => C::InvalidRequest,
            ObjError::Locked(_) => C::AccessDenied,
            ObjError::Internal(_) => {
                tracing::error!(error = %msg, "internal error");
                C::InternalError
            }
        };
        let mut err = S3Error::with_message(code, msg);
        if matches!(
            e,
            ObjError::ReadQuorum(_)
                | ObjError::WriteQuorum(_)
                | ObjError::LockTimeout(_)
                | ObjError::Busy(_)
        ) {
            err.set_status_code(StatusCode::SERVICE_UNAVAILABLE);
        }
        err
    }
}

/// An S3 XML error answered before a request reaches `s3s` (the front door's refusals).
/// The S3 error code of an answer built by [`error_response`], carried in its extensions.
#[derive(Debug, Clone)]
pub struct ErrorCode(pub String);

/// The S3 error code of an error answer, for the audit log: the one [`error_response`] noted,
/// or the `<Code>` of an XML error body `s3s` wrote (small, held in memory). `None` for a
/// success, or when the audit log is off (nothing is looked at then).
pub fn code_of(r: &http::Response<s3s::Body>) -> Option<String> {
    if r.status().as_u16() < 300 || !crate::audit::enabled() {
        return None;
    }
    if let Some(c) = r.extensions().get::<ErrorCode>() {
        return Some(c.0.clone());
    }
    let body = r.body().bytes()?;
    let text = std::str::from_utf8(&body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    Some(text[start..end].to_string())
}

/// `s` made safe as XML text or attribute value.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn error_response(
    status: u16,
    code: &str,
    message: &str,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let esc = xml_escape;
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>",
        esc(code),
        esc(message)
    );
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/xml")
        .extension(ErrorCode(code.to_string()))
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .expect("a static status and header")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_errors_are_503_never_500() {
        for e in [
            ObjError::ReadQuorum("b/k".into()),
            ObjError::WriteQuorum("b/k".into()),
            ObjError::LockTimeout("b/k".into()),
        ] {
            let s3: S3Error = e.into();
            assert_eq!(s3.status_code(), Some(StatusCode::SERVICE_UNAVAILABLE));
        }
        let full: S3Error = ObjError::StorageFull("b/k".into()).into();
        assert_eq!(full.status_code(), Some(StatusCode::INSUFFICIENT_STORAGE));
        let nf: S3Error = ObjError::ObjectNotFound("b/k".into()).into();
        assert_eq!(*nf.code(), S3ErrorCode::NoSuchKey);
    }
}
