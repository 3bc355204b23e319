//! OpenID Connect for `AssumeRoleWithWebIdentity`: the issuer's discovery document and
//! signing keys (JWKS), fetched when first needed and again when a token names a key the
//! cached set lacks (the provider rotated its keys) or the set is an hour old; ID tokens
//! checked for signature, issuer, audience and expiry; the policies they carry read from one
//! claim (`--oidc-claim-name`, default `policy`: a name, comma-separated names or a list).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a fetched key set is trusted without a refresh.
const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);
/// Refreshes on an unknown key id are at least this far apart (a flood of forged key ids must
/// not become a flood of requests to the provider).
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(1);
/// Time allowed for the provider's clock being ahead or behind.
const LEEWAY_SECS: u64 = 30;

/// The OpenID provider `rustfs server` trusts.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OidcConfig {
    /// OpenID Connect issuer URL whose ID tokens `AssumeRoleWithWebIdentity` accepts (its
    /// `/.well-known/openid-configuration` must be reachable from every node).
    #[arg(long, env = "RUSTFS_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// Audience (client id) the tokens must be issued for; repeat for several (in the
    /// environment: comma-separated). Required with `--oidc-issuer`.
    #[arg(long, env = "RUSTFS_OIDC_CLIENT_ID", value_delimiter = ',')]
    pub oidc_client_id: Vec<String>,
    /// The token claim that names the policies of the session.
    #[arg(long, env = "RUSTFS_OIDC_CLAIM_NAME", default_value = "policy")]
    pub oidc_claim_name: String,
    /// PEM certificates to trust for the issuer besides the system's roots.
    #[arg(long, env = "RUSTFS_OIDC_CA_FILE")]
    pub oidc_ca_file: Option<PathBuf>,
}

impl OidcConfig {
    /// Checks the settings before the node starts.
    pub fn validate(&self) -> Result<(), String> {
        let Some(issuer) = &self.oidc_issuer else {
            return Ok(());
        };
        let url = reqwest::Url::parse(issuer)
            .map_err(|e| format!("--oidc-issuer {issuer:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("--oidc-issuer {issuer:?}: use an https:// URL"));
        }
        if self.oidc_client_id.is_empty() {
            return Err(
                "--oidc-issuer needs --oidc-client-id: the audience tokens must be issued for"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Why a web identity token was refused.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The token is malformed, forged, for another audience or issuer.
    #[error("{0}")]
    Invalid(String),
    #[error("the web identity token has expired")]
    Expired,
    /// The provider could not be asked for its keys.
    #[error("cannot reach the OpenID provider: {0}")]
    Unreachable(String),
}

/// What a verified ID token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub subject: String,
    pub policies: Vec<String>,
}

struct Keys {
    jwks_uri: Option<String>,
    set: JwkSet,
    fetched: Option<Instant>,
}

/// The configured provider and its cached keys.
pub struct Oidc {
    issuer: String,
    audiences: Vec<String>,
    claim: String,
    http: reqwest::Client,
    keys: tokio::sync::Mutex<Keys>,
}

impl Oidc {
    /// The provider of `cfg`, if one is configured.
    pub fn new(cfg: &OidcConfig) -> anyhow::Result<Option<Oidc>> {
        let Some(issuer) = &cfg.oidc_issuer else {
            return Ok(None);
        };
        let mut http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(10));
        if let Some(path) = &cfg.oidc_ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                anyhow::anyhow!("cannot read --oidc-ca-file {}: {e}", path.display())
            })?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)? {
                http = http.add_root_certificate(cert);
            }
        }
        Ok(Some(Oidc {
            issuer: issuer.trim_end_matches('/').to_string(),
            audiences: cfg.oidc_client_id.clone(),
            claim: cfg.oidc_claim_name.clone(),
            http: http.build()?,
            keys: tokio::sync::Mutex::new(Keys {
                jwks_uri: None,
                set: JwkSet { keys: vec![] },
                fetched: None,
            }),
        }))
    }

    /// The claims of ID token `token`, if the provider signed it for one of our audiences and
    /// it is still valid.
    pub async fn verify(&self, token: &str) -> Result<Claims, OidcError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| OidcError::Invalid(format!("the web identity token is malformed: {e}")))?;
        if matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return Err(OidcError::Invalid(
                "the web identity token must be signed with the provider's public key".into(),
            ));
        }
        let key = self.key(header.kid.as_deref()).await?;
        let mut v = Validation::new(header.alg);
        v.leeway = LEEWAY_SECS;
        v.set_issuer(&[&self.issuer, &format!("{}/", self.issuer)]);
        v.set_audience(&self.audiences);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data =
            jsonwebtoken::decode::<serde_json::Value>(token, &key, &v).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => OidcError::Expired,
                    _ => OidcError::Invalid(format!("the web identity token is not valid: {e}")),
                }
            })?;
        let claims = data.claims;
        let subject = claims["sub"].as_str().unwrap_or_default().to_string();
        let policies = match &claims[self.claim.as_str()] {
            serde_json::Value::String(s) => s
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        Ok(Claims { subject, policies })
    }

    /// The provider's key `kid`, from the cached set or a fresh one.
    async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, OidcError> {
        let mut keys = self.keys.lock().await;
        let fresh = keys.fetched.is_some_and(|t| t.elapsed() < JWKS_MAX_AGE);
        if fresh {
            if let Some(k) = find(&keys.set, kid) {
                return k;
            }
        }
        let may_refresh = keys
            .fetched
            .is_none_or(|t| t.elapsed() >= MIN_REFRESH_INTERVAL);
        if may_refresh {
            self.refresh(&mut keys).await?;
        }
        find(&keys.set, kid).unwrap_or_else(|| {
            Err(OidcError::Invalid(format!(
                "the OpenID provider has no signing key {:?}",
                kid.unwrap_or("")
            )))
        })
    }

    async fn refresh(&self, keys: &mut Keys) -> Result<(), OidcError> {
        let uri = match &keys.jwks_uri {
            Some(u) => u.clone(),
            None => {
                let url = format!("{}/.well-known/openid-configuration", self.issuer);
                let doc: serde_json::Value = self.get_json(&url).await?;
                let named = doc["issuer"].as_str().unwrap_or_default();
                if named.trim_end_matches('/') != self.issuer {
                    return Err(OidcError::Unreachable(format!(
                        "the discovery document names issuer {named:?}, not {:?}",
                        self.issuer
                    )));
                }
                let Some(uri) = doc["jwks_uri"].as_str() else {
                    return Err(OidcError::Unreachable(
                        "the discovery document has no jwks_uri".into(),
                    ));
                };
                keys.jwks_uri = Some(uri.to_string());
                uri.to_string()
            }
        };
        keys.set = self.get_json(&uri).await?;
        keys.fetched = Some(Instant::now());
        Ok(())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let fail = |e: reqwest::Error| OidcError::Unreachable(format!("{url}: {e}"));
        let r = self.http.get(url).send().await.map_err(fail)?;
        r.error_for_status()
            .map_err(fail)?
            .json()
            .await
            .map_err(fail)
    }
}

/// The key `kid` of `set` (without a key id: the set's only key).
fn find(set: &JwkSet, kid: Option<&str>) -> Option<Result<DecodingKey, OidcError>> {
    let jwk = match kid {
        Some(k) => set.find(k)?,
        None if set.keys.len() == 1 => &set.keys[0],
        None => return None,
    };
    Some(
        DecodingKey::from_jwk(jwk)
            .map_err(|e| OidcError::Invalid(format!("the provider's key is unusable: {e}"))),
    )
}
