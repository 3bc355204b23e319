//! The IAM part of the admin API (`/rustfs/admin/v1/iam/…`): users, groups, policies, their
//! attachments and service accounts. Bodies and answers are JSON; errors are
//! `{"code","message"}` with `InvalidArgument` (400), `NotFound` (404), `Conflict` (409) or
//! `ServiceUnavailable` (503, no quorum for the IAM document). Secret keys are taken, never
//! answered.

use super::admin::json;
use crate::iam::{Group, IamError, ServiceAccount, User};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use rustfs_common::policy::{canned, Action, Policy, MAX_IDENTITY_POLICY_BYTES};
use s3s::{Body, S3Request, S3Response, S3Result};
use serde::{Deserialize, Serialize};

pub const IAM_PREFIX: &str = "/rustfs/admin/v1/iam/";
/// Largest request body (a policy document and a little more).
const MAX_BODY_BYTES: usize = MAX_IDENTITY_POLICY_BYTES + 4096;

/// A route's path below [`IAM_PREFIX`], split into its parts.
fn parts(path: &str) -> Vec<&str> {
    path.strip_prefix(IAM_PREFIX)
        .unwrap_or_default()
        .split('/')
        .filter(|p| !p.is_empty())
        .collect()
}

/// The admin action a route needs, `None` for paths that are no route.
pub fn required_action(method: &Method, path: &str) -> Option<Action> {
    use Action::*;
    let p = parts(path);
    Some(match (method, p.as_slice()) {
        (&Method::GET, ["users"]) => AdminListUsers,
        (&Method::PUT, ["users", _]) => AdminCreateUser,
        (&Method::DELETE, ["users", _]) => AdminDeleteUser,
        (&Method::POST, ["users", _, "enable"]) => AdminEnableUser,
        (&Method::POST, ["users", _, "disable"]) => AdminDisableUser,
        (&Method::GET, ["groups"]) => AdminListGroups,
        (&Method::PUT, ["groups", _]) => AdminAddUserToGroup,
        (&Method::POST, ["groups", _, "remove-members"]) => AdminRemoveUserFromGroup,
        (&Method::DELETE, ["groups", _]) => AdminRemoveUserFromGroup,
        (&Method::GET, ["policies"]) | (&Method::GET, ["policies", _]) => AdminGetPolicy,
        (&Method::PUT, ["policies", _]) => AdminCreatePolicy,
        (&Method::DELETE, ["policies", _]) => AdminDeletePolicy,
        (&Method::POST, ["policies", _, "attach" | "detach"]) => AdminAttachUserOrGroupPolicy,
        (&Method::GET, ["service-accounts"]) => AdminListServiceAccounts,
        (&Method::PUT, ["service-accounts", _]) => AdminCreateServiceAccount,
        (&Method::DELETE, ["service-accounts", _]) => AdminRemoveServiceAccount,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutUser {
    secret_key: String,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Members {
    members: Vec<String>,
}

/// Whom a policy is attached to or detached from: exactly one of the two.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    user: Option<String>,
    group: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutServiceAccount {
    parent: String,
    secret_key: String,
    /// A policy document that narrows the parent's policies.
    policy: Option<serde_json::Value>,
    /// RFC 3339 time after which the key is refused.
    expiry: Option<String>,
}

#[derive(Serialize)]
struct UserView<'a> {
    access_key: &'a str,
    enabled: bool,
    policies: &'a [String],
    groups: Vec<&'a str>,
}

#[derive(Serialize)]
struct ServiceAccountView<'a> {
    access_key: &'a str,
    parent: &'a str,
    enabled: bool,
    has_policy: bool,
    expiry: Option<String>,
}

fn error(status: StatusCode, code: &str, message: String) -> S3Response<Body> {
    let body = serde_json::json!({ "code": code, "message": message });
    json(status, body.to_string().into_bytes())
}

fn from_iam(e: IamError) -> S3Response<Body> {
    let (status, code) = match &e {
        IamError::Invalid(_) => (StatusCode::BAD_REQUEST, "InvalidArgument"),
        IamError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFound"),
        IamError::Exists(_) => (StatusCode::CONFLICT, "Conflict"),
        IamError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
    };
    error(status, code, e.to_string())
}

fn ok<T: Serialize>(value: &T) -> S3Response<Body> {
    json(
        StatusCode::OK,
        serde_json::to_vec_pretty(value).expect("views serialize"),
    )
}

/// The request body, refused when larger than [`MAX_BODY_BYTES`].
async fn read_body(body: Body) -> Result<Vec<u8>, IamError> {
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes().to_vec()),
        Err(e) => Err(IamError::Invalid(format!(
            "request body unreadable or over {MAX_BODY_BYTES} bytes: {e}"
        ))),
    }
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, IamError> {
    serde_json::from_slice(body)
        .map_err(|e| IamError::Invalid(format!("malformed request body: {e}")))
}

/// Serves one IAM route (the caller is already authorised for it).
pub async fn call(iam: &crate::iam::Iam, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
    let path = req.uri.path().to_string();
    let p = parts(&path);
    if !iam.is_loaded() {
        // A listing now would show nothing, as if the node had no users.
        return Ok(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the server is starting: users are not loaded yet; retry shortly".into(),
        ));
    }
    let body = match read_body(req.input).await {
        Ok(b) => b,
        Err(e) => return Ok(from_iam(e)),
    };
    let outcome = match (&req.method, p.as_slice()) {
        (&Method::GET, ["users"]) => {
            let doc = iam.snapshot();
            let users: Vec<UserView> = doc
                .users
                .iter()
                .map(|(k, u)| UserView {
                    access_key: k,
                    enabled: u.enabled,
                    policies: &u.policies,
                    groups: doc
                        .groups
                        .iter()
                        .filter(|(_, g)| g.members.contains(k))
                        .map(|(n, _)| n.as_str())
                        .collect(),
                })
                .collect();
            return Ok(ok(&users));
        }
        (&Method::PUT, ["users", key]) => match parse::<PutUser>(&body) {
            Ok(u) => {
                iam.update(|doc| {
                    let policies = doc.users.get(*key).map(|old| old.policies.clone());
                    let user = User {
                        secret_key: u.secret_key,
                        enabled: u.enabled,
                        policies: policies.unwrap_or_default(),
                    };
                    doc.users.insert(key.to_string(), user);
                    Ok(())
                })
                .await
            }
            Err(e) => Err(e),
        },
        (&Method::DELETE, ["users", key]) => iam.update(|doc| doc.remove_user(key)).await,
        (&Method::POST, ["users", key, state @ ("enable" | "disable")]) => {
            iam.update(|doc| match doc.users.get_mut(*key) {
                Some(u) => {
                    u.enabled = *state == "enable";
                    Ok(())
                }
                None => Err(IamError::NotFound(format!("no user {key}"))),
            })
            .await
        }
        (&Method::GET, ["groups"]) => return Ok(ok(&iam.snapshot().groups)),
        (&Method::PUT, ["groups", name]) => match parse::<Members>(&body) {
            Ok(m) => {
                iam.update(|doc| {
                    let g = doc.groups.entry(name.to_string()).or_insert_with(|| Group {
                        enabled: true,
                        ..Default::default()
                    });
                    g.members.extend(m.members);
                    Ok(())
                })
                .await
            }
            Err(e) => Err(e),
        },
        (&Method::POST, ["groups", name, "remove-members"]) => match parse::<Members>(&body) {
            Ok(m) => {
                iam.update(|doc| match doc.groups.get_mut(*name) {
                    Some(g) => {
                        m.members.iter().for_each(|u| {
                            g.members.remove(u);
                        });
                        Ok(())
                    }
                    None => Err(IamError::NotFound(format!("no group {name}"))),
                })
                .await
            }
            Err(e) => Err(e),
        },
        (&Method::DELETE, ["groups", name]) => {
            iam.update(|doc| match doc.groups.remove(*name) {
                Some(g) if !g.members.is_empty() => Err(IamError::Exists(format!(
                    "group {name} has members; remove them first"
                ))),
                Some(_) => Ok(()),
                None => Err(IamError::NotFound(format!("no group {name}"))),
            })
            .await
        }
        (&Method::GET, ["policies"]) => {
            let doc = iam.snapshot();
            let names: Vec<&str> = canned::NAMES
                .iter()
                .copied()
                .chain(doc.policies.keys().map(String::as_str))
                .collect();
            return Ok(ok(&names));
        }
        (&Method::GET, ["policies", name]) => {
            let doc = iam.snapshot();
            let text = canned::json(name)
                .map(str::to_string)
                .or_else(|| doc.policies.get(*name).cloned());
            return Ok(match text {
                Some(t) => json(StatusCode::OK, t.into_bytes()),
                None => from_iam(IamError::NotFound(format!("no policy named {name}"))),
            });
        }
        (&Method::PUT, ["policies", name]) => match Policy::parse_identity(&body) {
            Ok(_) => {
                let text = String::from_utf8_lossy(&body).into_owned();
                iam.update(|doc| {
                    doc.policies.insert(name.to_string(), text);
                    Ok(())
                })
                .await
            }
            Err(e) => Err(IamError::Invalid(e.to_string())),
        },
        (&Method::DELETE, ["policies", name]) => iam.update(|doc| doc.remove_policy(name)).await,
        (&Method::POST, ["policies", name, how @ ("attach" | "detach")]) => {
            match parse::<Target>(&body) {
                Ok(t) => {
                    iam.update(|doc| attach(doc, name, t, *how == "attach"))
                        .await
                }
                Err(e) => Err(e),
            }
        }
        (&Method::GET, ["service-accounts"]) => {
            let doc = iam.snapshot();
            let views: Vec<ServiceAccountView> = doc
                .service_accounts
                .iter()
                .map(|(k, sa)| ServiceAccountView {
                    access_key: k,
                    parent: &sa.parent,
                    enabled: sa.enabled,
                    has_policy: sa.policy.is_some(),
                    expiry: sa.expiry_nanos.map(rfc3339),
                })
                .collect();
            return Ok(ok(&views));
        }
        (&Method::PUT, ["service-accounts", key]) => match service_account(&body) {
            Ok(sa) => {
                iam.update(|doc| {
                    doc.service_accounts.insert(key.to_string(), sa);
                    Ok(())
                })
                .await
            }
            Err(e) => Err(e),
        },
        (&Method::DELETE, ["service-accounts", key]) => {
            iam.update(|doc| match doc.service_accounts.remove(*key) {
                Some(_) => Ok(()),
                None => Err(IamError::NotFound(format!("no service account {key}"))),
            })
            .await
        }
        _ => {
            return Ok(error(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("no admin API at {} {path}", req.method),
            ))
        }
    };
    Ok(match outcome {
        Ok(()) => json(StatusCode::OK, b"{}".to_vec()),
        Err(e) => from_iam(e),
    })
}

fn attach(doc: &mut crate::iam::IamDoc, name: &str, t: Target, on: bool) -> Result<(), IamError> {
    let list = match (&t.user, &t.group) {
        (Some(u), None) => {
            &mut doc
                .users
                .get_mut(u)
                .ok_or_else(|| IamError::NotFound(format!("no user {u}")))?
                .policies
        }
        (None, Some(g)) => {
            &mut doc
                .groups
                .get_mut(g)
                .ok_or_else(|| IamError::NotFound(format!("no group {g}")))?
                .policies
        }
        _ => {
            return Err(IamError::Invalid(
                "give exactly one of user and group".into(),
            ))
        }
    };
    let present = list.iter().any(|p| p == name);
    match (on, present) {
        (true, false) => list.push(name.to_string()),
        (false, true) => list.retain(|p| p != name),
        (true, true) => {}
        (false, false) => {
            return Err(IamError::NotFound(format!(
                "policy {name} is not attached there"
            )))
        }
    }
    Ok(())
}

fn service_account(body: &[u8]) -> Result<ServiceAccount, IamError> {
    let req: PutServiceAccount = parse(body)?;
    let expiry_nanos = match req.expiry {
        None => None,
        Some(t) => {
            let at =
                time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| IamError::Invalid(format!("expiry {t:?} is not RFC 3339: {e}")))?;
            Some(at.unix_timestamp_nanos() as i64)
        }
    };
    Ok(ServiceAccount {
        parent: req.parent,
        secret_key: req.secret_key,
        enabled: true,
        policy: req.policy.map(|p| p.to_string()),
        expiry_nanos,
    })
}

fn rfc3339(nanos: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos as i128)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
