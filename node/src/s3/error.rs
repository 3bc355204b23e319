//! The one place object-layer errors become S3 errors (code, status, message).

use crate::object::ObjError;
use http::StatusCode;
use rustfs_common::names::NameError;
use s3s::{S3Error, S3ErrorCode};

impl From<ObjError> for S3Error {
    fn from(e: ObjError) -> Self {
        use S3ErrorCode as C;
        let msg = e.to_string();
        let code = match &e {
            ObjError::Name(NameError::Bucket(_)) => C::InvalidBucketName,
            ObjError::Name(NameError::KeyTooLong) => C::KeyTooLongError,
            ObjError::Name(_) => C::InvalidArgument,
            ObjError::BucketNotFound(_) => C::NoSuchBucket,
            ObjError::BucketExists(_) => C::BucketAlreadyOwnedByYou,
            ObjError::BucketNotEmpty(_) => C::BucketNotEmpty,
            ObjError::ObjectNotFound(_) => C::NoSuchKey,
            ObjError::NoSuchUpload(_) => C::NoSuchUpload,
            ObjError::ReadQuorum(_) | ObjError::WriteQuorum(_) => C::ServiceUnavailable,
            ObjError::LockTimeout(_) => C::SlowDown,
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
            ObjError::Internal(_) => {
                tracing::error!(error = %msg, "internal error");
                C::InternalError
            }
        };
        let mut err = S3Error::with_message(code, msg);
        if matches!(
            e,
            ObjError::ReadQuorum(_) | ObjError::WriteQuorum(_) | ObjError::LockTimeout(_)
        ) {
            err.set_status_code(StatusCode::SERVICE_UNAVAILABLE);
        }
        err
    }
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
