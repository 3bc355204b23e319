//! API tokens: stored as sha256 hashes, shown once at creation, revocable.

use super::{now_millis, rfc3339, Db};
use crate::api::{CreatedToken, Token};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};

/// Every token starts with this, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "rfcp_";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh token: the prefix and 256 random bits.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()))
}

/// Who made a request: a token's id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub token_id: String,
    pub name: String,
}

impl Db {
    /// Makes a token; the secret is in the answer and nowhere else.
    pub async fn create_token(&self, name: &str) -> Result<CreatedToken> {
        self.create_token_with(name, &new_token()).await
    }

    /// Stores `token` (made by [`new_token`]) under `name`.
    pub async fn create_token_with(&self, name: &str, token: &str) -> Result<CreatedToken> {
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(|c| c.is_control()) {
            return Err(Error::InvalidArgument(
                "token name must be 1-64 characters without control characters".into(),
            ));
        }
        let id = hex::encode(rand::random::<[u8; 8]>());
        let now = now_millis();
        sqlx::query(
            "INSERT INTO api_tokens (id, name, token_sha256, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(name)
        .bind(hash(token))
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(CreatedToken {
            id,
            name: name.to_string(),
            created_at: rfc3339(now),
            token: token.to_string(),
        })
    }

    pub async fn tokens(&self) -> Result<Vec<Token>> {
        let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, created_at, revoked_at FROM api_tokens ORDER BY created_at, id",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created, revoked)| Token {
                id,
                name,
                created_at: rfc3339(created),
                revoked_at: revoked.map(rfc3339),
            })
            .collect())
    }

    /// Revokes token `id`; revoking twice is fine, an unknown id is `not_found`.
    pub async fn revoke_token(&self, id: &str) -> Result<()> {
        let done =
            sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
                .bind(now_millis())
                .bind(id)
                .execute(&self.write)
                .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!(
                "no token with id {id:?}; `GET /v1/tokens` lists them"
            )));
        }
        Ok(())
    }

    /// The caller a presented token belongs to, if it is known and not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Caller>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT id, name FROM api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL",
        )
        .bind(hash(token))
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|(token_id, name)| Caller { token_id, name }))
    }

    /// How many tokens were ever made (revoked included).
    pub async fn num_tokens(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens")
            .fetch_one(&self.read)
            .await?;
        Ok(n)
    }
}
