//! Releases kept to upgrade with: one row per version and architecture.

use super::{now_millis, rfc3339, Db};
use crate::api::Release;
use crate::error::{Error, Result};

/// A release about to be recorded (validated, its binary already kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelease {
    pub version: String,
    pub arch: String,
    pub sha256: String,
    pub size: u64,
    pub source: String,
}

type ReleaseRow = (String, String, String, i64, String, i64);

fn release((version, arch, sha256, size, source, created): ReleaseRow) -> Release {
    Release {
        version,
        arch,
        sha256,
        size: u64::try_from(size).unwrap_or(0),
        source,
        created_at: rfc3339(created),
    }
}

const COLUMNS: &str = "version, arch, sha256, size, source, created_at";

impl Db {
    /// Records `r`; `Ok(false)` when the same binary is recorded under that version and
    /// architecture already. Another binary there is a conflict: a version names one build.
    pub async fn create_release(&self, r: &NewRelease) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let have: Option<(String,)> =
            sqlx::query_as("SELECT sha256 FROM releases WHERE version = ? AND arch = ?")
                .bind(&r.version)
                .bind(&r.arch)
                .fetch_optional(&mut *tx)
                .await?;
        match have {
            Some((sha,)) if sha == r.sha256 => return Ok(false),
            Some((sha,)) => return Err(conflict(&r.version, &r.arch, &sha)),
            None => {}
        }
        sqlx::query(
            "INSERT INTO releases (version, arch, sha256, size, source, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.version)
        .bind(&r.arch)
        .bind(&r.sha256)
        .bind(i64::try_from(r.size).unwrap_or(i64::MAX))
        .bind(&r.source)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Refuses early (before a binary is fetched) what [`Db::create_release`] would refuse.
    pub async fn check_release(&self, version: &str, arch: &str, sha256: &str) -> Result<()> {
        let have: Option<(String,)> =
            sqlx::query_as("SELECT sha256 FROM releases WHERE version = ? AND arch = ?")
                .bind(version)
                .bind(arch)
                .fetch_optional(&self.read)
                .await?;
        match have {
            Some((sha,)) if sha != sha256 => Err(conflict(version, arch, &sha)),
            _ => Ok(()),
        }
    }

    /// Whether some release names the binary `sha256`.
    pub async fn release_binary_in_use(&self, sha256: &str) -> Result<bool> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM releases WHERE sha256 = ?")
            .bind(sha256)
            .fetch_one(&self.read)
            .await?;
        Ok(n > 0)
    }

    /// Every release, newest first.
    pub async fn releases(&self) -> Result<Vec<Release>> {
        let rows: Vec<ReleaseRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM releases ORDER BY created_at DESC, version, arch"
        ))
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(release).collect())
    }

    /// Every architecture of `version`; not found when there is none.
    pub async fn release(&self, version: &str) -> Result<Vec<Release>> {
        let rows: Vec<ReleaseRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM releases WHERE version = ? ORDER BY arch"
        ))
        .bind(version)
        .fetch_all(&self.read)
        .await?;
        if rows.is_empty() {
            return Err(not_found(version));
        }
        Ok(rows.into_iter().map(release).collect())
    }

    /// Forgets `version` (every architecture); returns the sha256s no release names any more,
    /// whose binaries may go.
    pub async fn delete_release(&self, version: &str) -> Result<Vec<String>> {
        let mut tx = self.write.begin().await?;
        let gone: Vec<(String,)> =
            sqlx::query_as("DELETE FROM releases WHERE version = ? RETURNING sha256")
                .bind(version)
                .fetch_all(&mut *tx)
                .await?;
        if gone.is_empty() {
            return Err(not_found(version));
        }
        let mut orphans = Vec::new();
        for (sha,) in gone {
            let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM releases WHERE sha256 = ?")
                .bind(&sha)
                .fetch_one(&mut *tx)
                .await?;
            if left == 0 {
                orphans.push(sha);
            }
        }
        tx.commit().await?;
        Ok(orphans)
    }
}

fn conflict(version: &str, arch: &str, sha: &str) -> Error {
    Error::Conflict(format!(
        "release {version} ({arch}) is kept already with sha256 {sha}; a version names one build — delete it first or give the new build another version"
    ))
}

fn not_found(version: &str) -> Error {
    Error::NotFound(format!(
        "no release {version:?}; `GET /v1/releases` lists the kept ones"
    ))
}
