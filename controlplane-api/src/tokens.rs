//! API tokens: what a token may do (its scope), when it stops working, and the shapes of
//! `GET|POST /v1/tokens`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// `GET` routes only (dashboards, `rustfs-provision status`, monitoring).
    Read,
    /// Every route: registering clusters, tokens, everything `read` may.
    Admin,
}

impl TokenScope {
    pub const ALL: [TokenScope; 2] = [TokenScope::Read, TokenScope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Admin => "admin",
        }
    }

    /// The scope stored as `s` (as written by [`TokenScope::as_str`]).
    pub fn parse(s: &str) -> Option<TokenScope> {
        TokenScope::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether a token of this scope may call a route that needs `needed`.
    pub fn covers(self, needed: TokenScope) -> bool {
        self == TokenScope::Admin || needed == TokenScope::Read
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// 1-64 characters without control characters; shown in the audit trail.
    pub name: String,
    /// `read` or `admin`; required, so nobody gets admin by leaving it out.
    pub scope: TokenScope,
    /// RFC 3339 time after which the token stops working (in the future); `None`: never.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A token's record (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub id: String,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

/// Answer to `POST /v1/tokens`: the only time the secret is shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub id: String,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub token: String,
}

impl fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("scope", &self.scope)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_cover_as_documented() {
        assert!(TokenScope::Admin.covers(TokenScope::Admin));
        assert!(TokenScope::Admin.covers(TokenScope::Read));
        assert!(TokenScope::Read.covers(TokenScope::Read));
        assert!(!TokenScope::Read.covers(TokenScope::Admin));
        for s in TokenScope::ALL {
            assert_eq!(TokenScope::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(TokenScope::parse("root"), None);
    }

    #[test]
    fn create_needs_a_scope_and_refuses_unknown_ones() {
        let e = serde_json::from_str::<CreateToken>(r#"{"name":"ci"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `scope`"), "{e}");
        let e = serde_json::from_str::<CreateToken>(r#"{"name":"ci","scope":"root"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant"), "{e}");
        let c: CreateToken = serde_json::from_str(r#"{"name":"ci","scope":"read"}"#).unwrap();
        assert_eq!((c.scope, c.expires_at), (TokenScope::Read, None));
    }

    #[test]
    fn created_token_debug_hides_the_secret() {
        let t = CreatedToken {
            id: "0123456789abcdef".into(),
            name: "ci".into(),
            scope: TokenScope::Read,
            created_at: "t".into(),
            expires_at: None,
            token: "rfcp_secret".into(),
        };
        assert!(!format!("{t:?}").contains("rfcp_secret"));
    }
}
