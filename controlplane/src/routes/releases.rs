//! `/v1/releases`: node binaries kept, checked against their sha256, to upgrade clusters with.
//! A binary is taken from a file on this machine or downloaded, hashed as it is copied, and
//! kept under its sha256 in the releases directory only when the hash matches.

use super::{ApiJson, AppState};
use crate::api::{CreateRelease, CreatedRelease, ReleaseList};
use crate::db::NewRelease;
use crate::error::{Error, Result};
use crate::validate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rustfs_hostops::download;

pub async fn create(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<CreateRelease>,
) -> Result<Response> {
    let arch = validate::release(&body)?;
    s.db.check_release(&body.version, &arch, &body.sha256)
        .await?;
    // Nothing is kept unless the bytes hash to `sha256`: a refusal leaves no file behind.
    let refused = |e: rustfs_hostops::Error| Error::InvalidArgument(e.to_string());
    let (kept, source) = match (&body.path, &body.url) {
        (Some(path), _) => {
            let (dir, path, sha) = (s.releases.clone(), path.clone(), body.sha256.clone());
            let from = path.clone();
            let kept = tokio::task::spawn_blocking(move || {
                download::import(&dir, std::path::Path::new(&from), &sha)
            })
            .await
            .map_err(|e| Error::Internal(format!("the copy stopped: {e}")))?
            .map_err(refused)?;
            (kept, path)
        }
        (None, Some(url)) => (
            download::cached(&s.releases, url, &body.sha256)
                .await
                .map_err(refused)?,
            url.clone(),
        ),
        (None, None) => unreachable!("validate::release wants a path or a url"),
    };
    let size = std::fs::metadata(&kept)
        .map_err(|e| Error::Internal(format!("{}: {e}", kept.display())))?
        .len();
    let recorded =
        s.db.create_release(&NewRelease {
            version: body.version.clone(),
            arch: arch.clone(),
            sha256: body.sha256.clone(),
            size,
            source,
        })
        .await;
    let created = match recorded {
        Ok(created) => created,
        // Refused after all (another request won the race): no binary stays unnamed.
        Err(e) => {
            if !s
                .db
                .release_binary_in_use(&body.sha256)
                .await
                .unwrap_or(true)
            {
                let _ = std::fs::remove_file(&kept);
            }
            return Err(e);
        }
    };
    let release =
        s.db.release(&body.version)
            .await?
            .into_iter()
            .find(|r| r.arch == arch)
            .ok_or_else(|| Error::Internal("the release just kept is gone".into()))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(CreatedRelease { created, release })).into_response())
}

pub async fn list(State(s): State<AppState>) -> Result<Json<ReleaseList>> {
    Ok(Json(ReleaseList {
        releases: s.db.releases().await?,
    }))
}

pub async fn get_one(
    State(s): State<AppState>,
    Path(version): Path<String>,
) -> Result<Json<ReleaseList>> {
    validate::release_version(&version)?;
    Ok(Json(ReleaseList {
        releases: s.db.release(&version).await?,
    }))
}

/// Forgets a version; binaries no other release names are deleted.
pub async fn remove(State(s): State<AppState>, Path(version): Path<String>) -> Result<StatusCode> {
    validate::release_version(&version)?;
    for sha in s.db.delete_release(&version).await? {
        let file = s.releases.path().join("binaries").join(&sha);
        if let Err(e) = std::fs::remove_file(&file) {
            tracing::warn!(file = %file.display(), error = %e, "cannot delete a released binary");
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
