//! Temporary credentials (ARCHITECTURE.md, "Access control"): what `AssumeRole*` hands out and
//! how every node checks it without a shared table. The access key is random
//! ([`TEMP_KEY_PREFIX`] + 16 letters and digits); its secret is derived from it with the
//! cluster's STS key (HMAC-SHA256), so any node can check a signature; the session token is a
//! JWT (HS256, same key) saying whom the credentials act for, under which policies, until when.
//! A request with a temporary key must carry its token (`x-amz-security-token`), and the token
//! must name that key. The STS key lives in the IAM document; whom a session acts for is looked
//! up at every request, so disabling a user or detaching a policy takes effect at once.

use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::time::Duration;

/// Temporary access keys start with this (as AWS's do).
pub const TEMP_KEY_PREFIX: &str = "ASIA";
/// Length of a temporary access key.
pub const TEMP_KEY_LEN: usize = 20;
/// Shortest and longest lifetime `DurationSeconds` may ask for, and the default.
pub const MIN_DURATION: Duration = Duration::from_secs(900);
pub const MAX_DURATION: Duration = Duration::from_secs(12 * 3600);
pub const DEFAULT_DURATION: Duration = Duration::from_secs(3600);
/// Longest inline session policy (`Policy`), as AWS.
pub const MAX_SESSION_POLICY: usize = 2048;

/// Whether `key` has the shape of a temporary access key.
pub fn is_temp_key(key: &str) -> bool {
    key.len() == TEMP_KEY_LEN
        && key.starts_with(TEMP_KEY_PREFIX)
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Where a session's identity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// `AssumeRole` by an IAM user: the user's policies.
    User,
    /// `AssumeRoleWithWebIdentity`: the policies the OpenID provider's claim names.
    Oidc,
    /// `AssumeRoleWithLDAPIdentity`: the policies of the user's LDAP groups.
    Ldap,
}

/// What a session token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The access key the token belongs to.
    pub ak: String,
    /// Expiry and issue time, seconds since the Unix epoch.
    pub exp: i64,
    pub iat: i64,
    pub src: Source,
    /// Whom the credentials act for: the IAM user, the OpenID subject or the LDAP user
    /// (`aws:username` in policies).
    pub sub: String,
    /// Policy names the identity provider gave (OpenID).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// The user's groups (LDAP: distinguished names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// An inline session policy, which narrows whatever the rest grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl Session {
    /// A session acting for `sub`, before [`Signer::issue`] gives it its key and times.
    pub fn new(src: Source, sub: String) -> Session {
        Session {
            ak: String::new(),
            exp: 0,
            iat: 0,
            src,
            sub,
            policies: vec![],
            groups: vec![],
            policy: None,
        }
    }
}

/// Temporary credentials as handed out.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: String,
    pub expiration: time::OffsetDateTime,
}

/// Why a session token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("temporary credentials need their session token (x-amz-security-token)")]
    Missing,
    #[error("the session token is malformed, forged or not for this access key")]
    Invalid,
    #[error("the session token has expired; ask STS for new credentials")]
    Expired,
    #[error("the temporary credentials' user is gone or disabled")]
    Revoked,
}

/// Issues and checks sessions with the cluster's STS key.
pub struct Signer {
    key: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

/// A new STS key (hex), for the IAM document.
pub fn new_key() -> String {
    hex::encode(rand::thread_rng().gen::<[u8; 32]>())
}

impl Signer {
    /// A signer with the hex `key` of the IAM document; `None` if it is not hex.
    pub fn new(key_hex: &str) -> Option<Signer> {
        let key = hex::decode(key_hex).ok().filter(|k| k.len() >= 32)?;
        Some(Signer {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            key,
        })
    }

    /// The secret of temporary access key `access_key`.
    pub fn secret_of(&self, access_key: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(b"rustfs-sts-secret:");
        mac.update(access_key.as_bytes());
        let digest = mac.finalize().into_bytes();
        base64::engine::general_purpose::STANDARD.encode(&digest[..30])
    }

    /// New credentials for `session` (its `ak`, `iat` and `exp` are filled in here), valid for
    /// `lifetime`.
    pub fn issue(&self, mut session: Session, lifetime: Duration) -> Issued {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut rng = rand::thread_rng();
        let suffix: String = (0..TEMP_KEY_LEN - TEMP_KEY_PREFIX.len())
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        let access_key = format!("{TEMP_KEY_PREFIX}{suffix}");
        // Whole seconds, as the token's `exp` and as AWS answers it.
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("0 is valid");
        let expiration = now + lifetime;
        session.ak = access_key.clone();
        session.iat = now.unix_timestamp();
        session.exp = expiration.unix_timestamp();
        let session_token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &session, &self.encoding)
                .expect("a session serializes");
        Issued {
            secret_key: self.secret_of(&access_key),
            access_key,
            session_token,
            expiration,
        }
    }

    /// The session `token` carries, if it is genuine, unexpired and for `access_key`.
    pub fn verify(&self, access_key: &str, token: &str) -> Result<Session, TokenError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.validate_aud = false;
        v.set_required_spec_claims(&["exp"]);
        let data =
            jsonwebtoken::decode::<Session>(token, &self.decoding, &v).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        if data.claims.ak != access_key {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }
}

/// `DurationSeconds` as given (none: the default), checked against the allowed range.
pub fn lifetime(seconds: Option<&str>) -> Result<Duration, String> {
    let Some(s) = seconds else {
        return Ok(DEFAULT_DURATION);
    };
    let d = s
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| format!("DurationSeconds {s:?} is not a number of seconds"))?;
    if !(MIN_DURATION..=MAX_DURATION).contains(&d) {
        return Err(format!(
            "DurationSeconds must be {} to {} seconds",
            MIN_DURATION.as_secs(),
            MAX_DURATION.as_secs()
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session::new(Source::User, "alice".into())
    }

    #[test]
    fn issued_credentials_check_out_and_forgeries_do_not() {
        let signer = Signer::new(&new_key()).unwrap();
        let c = signer.issue(session(), DEFAULT_DURATION);
        assert!(is_temp_key(&c.access_key), "{}", c.access_key);
        assert_eq!(signer.secret_of(&c.access_key), c.secret_key);
        let s = signer.verify(&c.access_key, &c.session_token).unwrap();
        assert_eq!((s.sub.as_str(), s.src), ("alice", Source::User));
        // Another key's token, another cluster's key, a changed claim, garbage.
        let other = signer.issue(session(), DEFAULT_DURATION);
        assert_eq!(
            signer.verify(&c.access_key, &other.session_token),
            Err(TokenError::Invalid)
        );
        let elsewhere = Signer::new(&new_key()).unwrap();
        assert_eq!(
            elsewhere.verify(&c.access_key, &c.session_token),
            Err(TokenError::Invalid)
        );
        assert_ne!(elsewhere.secret_of(&c.access_key), c.secret_key);
        let mut parts: Vec<String> = c.session_token.split('.').map(str::to_string).collect();
        let mut claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&parts[1])
                .unwrap(),
        )
        .unwrap();
        claims["sub"] = "root".into();
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims).unwrap());
        assert_eq!(
            signer.verify(&c.access_key, &parts.join(".")),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            signer.verify(&c.access_key, "x.y.z"),
            Err(TokenError::Invalid)
        );
        // An unsigned ("alg": "none") token is refused.
        let none = format!(
            "{}.{}.",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            parts[1]
        );
        assert_eq!(
            signer.verify(&c.access_key, &none),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn expired_tokens_are_told_apart() {
        let signer = Signer::new(&new_key()).unwrap();
        let c = signer.issue(session(), DEFAULT_DURATION);
        let mut s = signer.verify(&c.access_key, &c.session_token).unwrap();
        s.exp = time::OffsetDateTime::now_utc().unix_timestamp() - 1;
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &s, &signer.encoding).unwrap();
        assert_eq!(
            signer.verify(&c.access_key, &token),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn lifetimes_stay_in_range() {
        assert_eq!(lifetime(None), Ok(DEFAULT_DURATION));
        assert_eq!(lifetime(Some("900")), Ok(MIN_DURATION));
        assert_eq!(lifetime(Some("43200")), Ok(MAX_DURATION));
        assert!(lifetime(Some("899")).is_err());
        assert!(lifetime(Some("43201")).is_err());
        assert!(lifetime(Some("1h")).is_err());
    }

    #[test]
    fn only_keys_of_the_temporary_shape_are_temporary() {
        assert!(is_temp_key("ASIAABCDEFGHIJ012345"));
        assert!(!is_temp_key("ASIAabcdefghij012345"));
        assert!(!is_temp_key("ASIA"));
        assert!(!is_temp_key("AKIAABCDEFGHIJ012345"));
    }
}
