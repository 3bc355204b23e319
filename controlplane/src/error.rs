//! The control plane's error type and its single mapping to the wire shape `{"code","message"}`.

use crate::api::{ErrorBody, ErrorCode};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the server, each mapped to one [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidJson(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidJson(_) => ErrorCode::InvalidJson,
            Error::InvalidArgument(_) => ErrorCode::InvalidArgument,
            Error::Unauthorized(_) => ErrorCode::Unauthorized,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Error::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Error::Db(e) if is_busy(e) => ErrorCode::Unavailable,
            Error::Db(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) => {
                ErrorCode::Unavailable
            }
            Error::Db(_) | Error::Migrate(_) | Error::Internal(_) => ErrorCode::Internal,
        }
    }
}

fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default();
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes
            code.parse::<i64>()
                .is_ok_and(|c| c & 0xff == 5 || c & 0xff == 6)
        }
        sqlx::Error::Io(_) => true,
        _ => false,
    }
}

/// The error code an answer carried, kept as a response extension for the audit trail and
/// metrics.
#[derive(Debug, Clone, Copy)]
pub struct AnsweredCode(pub ErrorCode);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let code = self.code();
        if code == ErrorCode::Internal {
            tracing::error!(error = %self, "internal error");
        }
        let status =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            code,
            message: self.to_string(),
        };
        let mut r = (status, axum::Json(body)).into_response();
        r.extensions_mut().insert(AnsweredCode(code));
        r
    }
}
