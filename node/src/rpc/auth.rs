//! Internal RPC authentication: short-lived bearer tokens MACed with a key derived from the root
//! credentials, so only nodes started with the same credentials can talk to each other.
//!
//! A token is `EXPIRY.MAC` where `EXPIRY` is a Unix time in seconds and `MAC` is the hex BLAKE3
//! keyed hash of `EXPIRY`. A token past its expiry is refused, so a captured token is useless
//! after [`TOKEN_TTL_SECS`].

use crate::config::Credentials;
use std::time::{SystemTime, UNIX_EPOCH};

/// How long a token is valid.
pub const TOKEN_TTL_SECS: u64 = 300;
/// Tokens further in the future than this are refused too (a forged far-future expiry).
const MAX_AHEAD_SECS: u64 = TOKEN_TTL_SECS + 60;

/// Why a token was refused; logged by the server, never sent in detail to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no RPC token")]
    Missing,
    #[error("malformed RPC token")]
    Malformed,
    #[error("RPC token expired {0} s ago")]
    Expired(u64),
    #[error("RPC token expiry is too far in the future (clock skew or forgery)")]
    TooFarAhead,
    #[error("RPC token signature does not match — are RUSTFS_ROOT_USER/RUSTFS_ROOT_PASSWORD the same on every node?")]
    BadSignature,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Signs and checks RPC tokens for one deployment's credentials.
#[derive(Clone)]
pub struct TokenKey {
    key: [u8; 32],
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    pub fn new(creds: &Credentials) -> Self {
        let mut material = Vec::new();
        material.extend_from_slice(creds.access_key.as_bytes());
        material.push(0);
        material.extend_from_slice(creds.secret_key.as_bytes());
        TokenKey {
            key: blake3::derive_key("rustfs-cluster 2026 internal rpc token v1", &material),
        }
    }

    fn mac(&self, expiry: u64) -> String {
        blake3::keyed_hash(&self.key, expiry.to_string().as_bytes())
            .to_hex()
            .to_string()
    }

    /// A token valid until `expiry` (Unix seconds).
    pub fn token_until(&self, expiry: u64) -> String {
        format!("{expiry}.{}", self.mac(expiry))
    }

    /// A fresh token valid for [`TOKEN_TTL_SECS`], with its expiry.
    pub fn fresh(&self) -> (String, u64) {
        let expiry = now_secs() + TOKEN_TTL_SECS;
        (self.token_until(expiry), expiry)
    }

    /// Checks a token (the value of `Authorization: Bearer …`).
    pub fn verify(&self, token: Option<&str>) -> Result<(), TokenError> {
        let token = token.ok_or(TokenError::Missing)?;
        let (expiry, mac) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let expiry: u64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
        // Constant-time comparison of the MAC before anything about time is revealed.
        let want = self.mac(expiry);
        let same = want.len() == mac.len()
            && want
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(TokenError::BadSignature);
        }
        let now = now_secs();
        if expiry < now {
            return Err(TokenError::Expired(now - expiry));
        }
        if expiry > now + MAX_AHEAD_SECS {
            return Err(TokenError::TooFarAhead);
        }
        Ok(())
    }
}

/// Hands out tokens, renewing them well before they expire.
#[derive(Debug)]
pub struct TokenSource {
    key: TokenKey,
    current: parking_lot::Mutex<(String, u64)>,
}

impl TokenSource {
    pub fn new(key: TokenKey) -> Self {
        let current = parking_lot::Mutex::new(key.fresh());
        TokenSource { key, current }
    }

    pub fn token(&self) -> String {
        let mut cur = self.current.lock();
        if cur.1 < now_secs() + TOKEN_TTL_SECS / 2 {
            *cur = self.key.fresh();
        }
        cur.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> TokenKey {
        TokenKey::new(&Credentials {
            access_key: "admin".into(),
            secret_key: secret.into(),
        })
    }

    #[test]
    fn fresh_tokens_verify() {
        let k = key("secret-one");
        assert_eq!(k.verify(Some(&k.fresh().0)), Ok(()));
        assert_eq!(k.verify(Some(&TokenSource::new(k.clone()).token())), Ok(()));
    }

    #[test]
    fn refusals() {
        let k = key("secret-one");
        let other = key("secret-two");
        assert_eq!(k.verify(None), Err(TokenError::Missing));
        assert_eq!(k.verify(Some("garbage")), Err(TokenError::Malformed));
        assert_eq!(
            k.verify(Some(&other.fresh().0)),
            Err(TokenError::BadSignature)
        );
        let past = now_secs() - 10;
        assert!(matches!(
            k.verify(Some(&k.token_until(past))),
            Err(TokenError::Expired(_))
        ));
        let far = now_secs() + 10 * TOKEN_TTL_SECS;
        assert_eq!(
            k.verify(Some(&k.token_until(far))),
            Err(TokenError::TooFarAhead)
        );
        // A token whose expiry was edited keeps its old MAC and is refused.
        let (t, exp) = k.fresh();
        let forged = t.replacen(&exp.to_string(), &(exp + 1).to_string(), 1);
        assert_eq!(k.verify(Some(&forged)), Err(TokenError::BadSignature));
    }
}
