//! The STS API (`POST /` with a form body, as AWS STS): `AssumeRole` for IAM users (signed
//! with SigV4, service `sts`), `AssumeRoleWithWebIdentity` (an OpenID ID token, unsigned) and
//! `AssumeRoleWithLDAPIdentity` (an LDAP username and password, unsigned).
//! Answers and errors are AWS's query-protocol XML, so the AWS SDKs and CLI work unchanged.
//! The credentials themselves are `iam::sts`.

use crate::iam::access::Who;
use crate::iam::ldap::{Ldap, LdapError};
use crate::iam::oidc::{Oidc, OidcError};
use crate::iam::sts::{self, Session, Source};
use crate::iam::Iam;
use crate::s3::xml_escape;
use http::{HeaderMap, Method, StatusCode, Uri};
use rustfs_common::policy::Policy;
use s3s::{Body, S3Request, S3Response, S3Result};
use std::collections::HashMap;
use std::sync::Arc;

/// The largest STS form accepted (a web identity token and a session policy fit easily).
const MAX_FORM_BYTES: usize = 64 * 1024;
const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// The actions served.
const ACTIONS: [&str; 3] = [
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "AssumeRoleWithLDAPIdentity",
];

/// Whether a request is an STS call: a form POSTed to `/`.
pub fn is_sts(method: &Method, uri: &Uri, headers: &HeaderMap) -> bool {
    method == Method::POST
        && uri.path() == "/"
        && headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

/// What the STS API needs.
pub struct Sts {
    pub iam: Arc<Iam>,
    pub oidc: Option<Arc<Oidc>>,
    pub ldap: Option<Arc<Ldap>>,
}

/// An STS error: HTTP status, AWS error code and message.
struct StsError(StatusCode, &'static str, String);

fn sender(code: &'static str, message: impl Into<String>) -> StsError {
    StsError(StatusCode::BAD_REQUEST, code, message.into())
}

impl Sts {
    /// Answers one STS call.
    pub async fn call(&self, mut req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let body = req.input.store_all_limited(MAX_FORM_BYTES).await;
        let form: HashMap<String, String> = match &body {
            Ok(b) => form_urlencoded::parse(b).into_owned().collect(),
            Err(_) => HashMap::new(),
        };
        let action = form.get("Action").cloned().unwrap_or_default();
        // The API label of metrics and audit: a known action, never what a caller made up.
        let api = ACTIONS.iter().find(|a| **a == action).unwrap_or(&"STS");
        crate::metrics::http::record_api(&mut req.extensions, api.to_string());
        let outcome = match body {
            Ok(_) => self.answer(&req, &action, &form).await,
            Err(_) => Err(sender(
                "InvalidParameterValue",
                format!("the STS form is over {MAX_FORM_BYTES} bytes or could not be read"),
            )),
        };
        let answer = match outcome {
            Ok(result) => xml(
                StatusCode::OK,
                format!(
                    "<{action}Response xmlns=\"{XMLNS}\"><{action}Result>{result}</{action}Result></{action}Response>"
                ),
            ),
            Err(StsError(status, code, message)) => error_xml(status, code, &message),
        };
        Ok(answer)
    }

    async fn answer(
        &self,
        req: &S3Request<Body>,
        action: &str,
        form: &HashMap<String, String>,
    ) -> Result<String, StsError> {
        if form.get("Version").is_some_and(|v| v != "2011-06-15") {
            return Err(sender(
                "InvalidParameterValue",
                "Version must be 2011-06-15",
            ));
        }
        let lifetime = sts::lifetime(form.get("DurationSeconds").map(String::as_str))
            .map_err(|e| sender("ValidationError", e))?;
        let policy = match form.get("Policy").filter(|p| !p.is_empty()) {
            None => None,
            Some(p) if p.len() > sts::MAX_SESSION_POLICY => {
                return Err(sender(
                    "PackedPolicyTooLarge",
                    format!(
                        "the session policy is over {} characters",
                        sts::MAX_SESSION_POLICY
                    ),
                ))
            }
            Some(p) => match Policy::parse_identity(p.as_bytes()) {
                Ok(_) => Some(p.clone()),
                Err(e) => return Err(sender("MalformedPolicyDocument", e.to_string())),
            },
        };
        let session = match action {
            "AssumeRole" => self.assume_role(req)?,
            "AssumeRoleWithWebIdentity" => self.web_identity(form).await?,
            "AssumeRoleWithLDAPIdentity" => self.ldap_identity(form).await?,
            "" => return Err(sender("MissingAction", "the form has no Action")),
            other => {
                return Err(sender(
                    "InvalidAction",
                    format!(
                        "{other} is not an STS action this server offers ({})",
                        ACTIONS.join(", ")
                    ),
                ))
            }
        };
        let who = session.sub.clone();
        let issued = self
            .iam
            .issue(Session { policy, ..session }, lifetime)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "cannot issue temporary credentials");
                StsError(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    format!("cannot issue temporary credentials right now: {e}"),
                )
            })?;
        let expiration = issued
            .expiration
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Ok(format!(
            "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts:::assumed-role/{}</Arn><AssumedRoleId>{}</AssumedRoleId></AssumedRoleUser>",
            issued.access_key,
            xml_escape(&issued.secret_key),
            issued.session_token,
            xml_escape(&who),
            issued.access_key,
        ))
    }

    /// `AssumeRole`: credentials acting for the IAM user who signed the call.
    fn assume_role(&self, req: &S3Request<Body>) -> Result<Session, StsError> {
        let denied = |m: &str| StsError(StatusCode::FORBIDDEN, "AccessDenied", m.to_string());
        let Some(c) = &req.credentials else {
            return Err(denied("AssumeRole needs a request signed by an IAM user"));
        };
        let token = crate::iam::access::session_token(&req.headers, &req.uri);
        let who = Who::of(&self.iam, Some(&c.access_key), token.as_deref())
            .map_err(|e| denied(e.message().unwrap_or("the caller's key is refused")))?;
        who.record(&req.extensions);
        match who {
            Who::Root(_) => Err(denied(
                "the root user cannot assume a role: create an IAM user and sign with its keys",
            )),
            Who::Known { access_key, .. } if self.iam.is_user(&access_key) => {
                Ok(Session::new(Source::User, access_key))
            }
            _ => Err(denied(
                "only IAM users may assume a role (not service accounts or temporary credentials)",
            )),
        }
    }

    /// `AssumeRoleWithWebIdentity`: credentials for the subject of an OpenID ID token, under
    /// the policies its claim names.
    async fn web_identity(&self, form: &HashMap<String, String>) -> Result<Session, StsError> {
        let Some(oidc) = &self.oidc else {
            return Err(sender(
                "InvalidParameterValue",
                "this cluster trusts no OpenID provider (rustfs server --oidc-issuer)",
            ));
        };
        let Some(token) = form.get("WebIdentityToken").filter(|t| !t.is_empty()) else {
            return Err(sender("MissingParameter", "WebIdentityToken is required"));
        };
        let claims = oidc.verify(token).await.map_err(|e| match e {
            OidcError::Invalid(m) => sender("InvalidIdentityToken", m),
            OidcError::Expired => sender("ExpiredTokenException", e.to_string()),
            OidcError::Unreachable(m) => sender(
                "IDPCommunicationError",
                format!("cannot reach the OpenID provider: {m}"),
            ),
        })?;
        let known: Vec<String> = claims
            .policies
            .into_iter()
            .filter(|p| self.iam.has_policy(p))
            .collect();
        if known.is_empty() {
            return Err(StsError(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "the token's policy claim names no policy this cluster has".into(),
            ));
        }
        Ok(Session {
            policies: known,
            ..Session::new(Source::Oidc, claims.subject)
        })
    }
}

/// An STS error answer (AWS query protocol).
fn error_xml(status: StatusCode, code: &str, message: &str) -> S3Response<Body> {
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error></ErrorResponse>",
            xml_escape(code),
            xml_escape(message)
        ),
    )
}

/// An STS call `s3s` refused before the STS API saw it (a bad signature, an unknown or
/// disabled key), answered as STS errors are, so STS clients can read it.
pub fn as_sts_error(r: http::Response<Body>) -> http::Response<Body> {
    if r.status().as_u16() < 400 {
        return r;
    }
    let Some(body) = r.body().bytes() else {
        return r;
    };
    let text = String::from_utf8_lossy(&body);
    let field = |name: &str| {
        let start = text.find(&format!("<{name}>"))? + name.len() + 2;
        let end = start + text[start..].find(&format!("</{name}>"))?;
        Some(text[start..end].to_string())
    };
    if text.contains("<ErrorResponse") {
        return r;
    }
    let code = match field("Code").as_deref() {
        Some("InvalidAccessKeyId") => "InvalidClientTokenId".to_string(),
        Some(c) => c.to_string(),
        None => "AccessDenied".to_string(),
    };
    // The message is XML-escaped already: unescape what `xml_escape` will escape again.
    let message = field("Message")
        .unwrap_or_default()
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let a = error_xml(r.status(), &code, &message);
    let mut out = http::Response::new(a.output);
    *out.status_mut() = r.status();
    *out.headers_mut() = a.headers;
    out
}

impl Sts {
    /// `AssumeRoleWithLDAPIdentity`: credentials for a directory user who proves its password
    /// to the LDAP server, under the policies of its groups.
    async fn ldap_identity(&self, form: &HashMap<String, String>) -> Result<Session, StsError> {
        let Some(ldap) = &self.ldap else {
            return Err(sender(
                "InvalidParameterValue",
                "this cluster has no LDAP server configured (rustfs server --ldap-url)",
            ));
        };
        let (Some(user), Some(password)) = (form.get("LDAPUsername"), form.get("LDAPPassword"))
        else {
            return Err(sender(
                "MissingParameter",
                "LDAPUsername and LDAPPassword are required",
            ));
        };
        let dns = ldap.login(user, password).await.map_err(|e| match e {
            LdapError::BadCredentials => {
                StsError(StatusCode::FORBIDDEN, "AccessDenied", e.to_string())
            }
            LdapError::Unreachable(_) => {
                tracing::warn!(error = %e, "LDAP login failed");
                StsError(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    e.to_string(),
                )
            }
        })?;
        let groups = self.iam.groups_named(&dns);
        if groups.is_empty() {
            return Err(StsError(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                format!("none of {user}'s LDAP groups is mapped to a policy (an IAM group named by the group's DN)"),
            ));
        }
        Ok(Session {
            groups,
            ..Session::new(Source::Ldap, user.clone())
        })
    }
}

fn xml(status: StatusCode, body: String) -> S3Response<Body> {
    let mut r = S3Response::with_status(Body::from(body), status);
    r.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/xml"),
    );
    r
}
