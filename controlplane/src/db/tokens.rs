//! API tokens: stored as sha256 hashes, shown once at creation, each with a scope (`read` or
//! `admin`) and an optional expiry, revocable.

use super::{now_millis, rfc3339, Db};
use crate::api::{CreatedToken, Token, TokenScope};
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

/// Who made a request: a token's id, name and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub token_id: String,
    pub name: String,
    pub scope: TokenScope,
}

/// What a presented token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    Valid(Caller),
    /// No token has this hash: mistyped, forged, or from another control plane.
    Unknown,
    /// Revoked at these unix milliseconds.
    Revoked(i64),
    /// Expired at these unix milliseconds.
    Expired(i64),
}

/// A token about to be made (already validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub scope: TokenScope,
    /// Unix milliseconds; `None`: never expires.
    pub expires_at: Option<i64>,
}

/// id, name, scope, created_at, expires_at, revoked_at
type TokenRow = (String, String, String, i64, Option<i64>, Option<i64>);
/// id, name, scope, expires_at, revoked_at
type CheckRow = (String, String, String, Option<i64>, Option<i64>);

fn scope_of(stored: &str) -> Result<TokenScope> {
    TokenScope::parse(stored).ok_or_else(|| {
        Error::Internal(format!(
            "stored token scope {stored:?} is neither read nor admin"
        ))
    })
}

impl Db {
    /// Makes a token; the secret is in the answer and nowhere else.
    pub async fn create_token(&self, t: &NewToken) -> Result<CreatedToken> {
        self.create_token_with(t, &new_token()).await
    }

    /// Stores `token` (made by [`new_token`]) as `t`.
    pub async fn create_token_with(&self, t: &NewToken, token: &str) -> Result<CreatedToken> {
        let name = &t.name;
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(|c| c.is_control()) {
            return Err(Error::InvalidArgument(
                "token name must be 1-64 characters without control characters".into(),
            ));
        }
        let id = hex::encode(rand::random::<[u8; 8]>());
        let now = now_millis();
        sqlx::query(
            "INSERT INTO api_tokens (id, name, token_sha256, created_at, scope, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(name)
        .bind(hash(token))
        .bind(now)
        .bind(t.scope.as_str())
        .bind(t.expires_at)
        .execute(&self.write)
        .await?;
        Ok(CreatedToken {
            id,
            name: name.clone(),
            scope: t.scope,
            created_at: rfc3339(now),
            expires_at: t.expires_at.map(rfc3339),
            token: token.to_string(),
        })
    }

    pub async fn tokens(&self) -> Result<Vec<Token>> {
        let rows: Vec<TokenRow> = sqlx::query_as(
            "SELECT id, name, scope, created_at, expires_at, revoked_at FROM api_tokens \
             ORDER BY created_at, id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, name, scope, created, expires, revoked)| {
                Ok(Token {
                    id,
                    name,
                    scope: scope_of(&scope)?,
                    created_at: rfc3339(created),
                    expires_at: expires.map(rfc3339),
                    revoked_at: revoked.map(rfc3339),
                })
            })
            .collect()
    }

    /// Revokes token `id`; revoking twice is fine, an unknown id is `not_found`, and the last
    /// admin token that still works is `conflict` (nobody could administer the control plane
    /// after it).
    pub async fn revoke_token(&self, id: &str) -> Result<()> {
        let now = now_millis();
        let mut tx = self.write.begin().await?;
        let row: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT scope, revoked_at FROM api_tokens WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((scope, revoked)) = row else {
            return Err(Error::NotFound(format!(
                "no token with id {id:?}; `GET /v1/tokens` lists them"
            )));
        };
        if revoked.is_some() {
            return Ok(());
        }
        if scope_of(&scope)? == TokenScope::Admin {
            let (others,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM api_tokens WHERE scope = 'admin' AND id != ? \
                 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
            )
            .bind(id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if others == 0 {
                return Err(Error::Conflict(format!(
                    "token {id} is the last working admin token; create another one first \
                     (POST /v1/tokens with \"scope\": \"admin\"), then revoke this one"
                )));
            }
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a presented token is at `now_millis`.
    pub async fn check_token(&self, token: &str, now_millis: i64) -> Result<TokenCheck> {
        let row: Option<CheckRow> = sqlx::query_as(
            "SELECT id, name, scope, expires_at, revoked_at FROM api_tokens \
             WHERE token_sha256 = ?",
        )
        .bind(hash(token))
        .fetch_optional(&self.read)
        .await?;
        let Some((token_id, name, scope, expires, revoked)) = row else {
            return Ok(TokenCheck::Unknown);
        };
        if let Some(at) = revoked {
            return Ok(TokenCheck::Revoked(at));
        }
        if let Some(at) = expires.filter(|&at| at <= now_millis) {
            return Ok(TokenCheck::Expired(at));
        }
        Ok(TokenCheck::Valid(Caller {
            token_id,
            name,
            scope: scope_of(&scope)?,
        }))
    }

    /// How many tokens were ever made (revoked included).
    pub async fn num_tokens(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens")
            .fetch_one(&self.read)
            .await?;
        Ok(n)
    }
}
