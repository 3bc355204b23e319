//! The keys the control plane polls the nodes with: a service account of its own, never the
//! root credentials (least privilege; rotating the root password does not touch it).
//!
//! `apply` makes, once the cluster is healthy: the IAM user [`PARENT_USER`] with the canned
//! `diagnostics` policy (admin info and heal status, nothing of S3), and a service account of it
//! whose keys are kept in `STATE/controlplane.keys` (0600) and registered with the control plane.
//! The parent's own secret is random and thrown away: only the service account is ever used. A
//! later `apply` checks that the kept keys still read the admin info and makes a new service
//! account (removing the one it replaces) when they do not: after someone removed it, or the
//! cluster was rebuilt.

use std::time::{Duration, Instant};

use rand::distributions::{Alphanumeric, DistString};
use rustfs_admin_client::{AdminClient, AdminError, Keys};
use rustfs_controlplane_api::PollCredentials;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::inventory::{Host, Inventory};
use crate::state::StateDir;

/// The kept keys, inside the state directory.
pub const KEYS_FILE: &str = "controlplane.keys";
/// The IAM user the control plane's service account belongs to.
pub const PARENT_USER: &str = "rustfs-controlplane";
/// The canned policy that user gets.
pub const POLICY: &str = "diagnostics";
/// How long new keys may take to be honoured (IAM changes reach every node within a second).
const SETTLE: Duration = Duration::from_secs(10);
/// How long a node that has just started may answer 503 (it reads IAM after the cluster forms).
const STARTING: Duration = Duration::from_secs(60);

#[derive(Serialize, Deserialize)]
struct Kept {
    access_key: String,
    secret_key: String,
}

impl From<&Kept> for Keys {
    fn from(k: &Kept) -> Keys {
        Keys {
            access_key: k.access_key.clone(),
            secret_key: k.secret_key.clone(),
        }
    }
}

/// The kept keys, if any. A file other users may read is an error that says what to do.
fn kept(state: &StateDir) -> Result<Option<Kept>> {
    let Some(text) = state.read_private(KEYS_FILE, "the control plane's keys")? else {
        return Ok(None);
    };
    let path = state.path().join(KEYS_FILE);
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::state(format!(
            "{}: not the control plane's keys ({e}) — remove it to have new keys made",
            path.display()
        ))
    })
}

/// Whether `node`'s keys read the admin info, waiting up to `settle` for new keys to be honoured
/// and up to [`STARTING`] for a node that has just started (503 until it has read IAM).
async fn works(node: &AdminClient, settle: Duration) -> Result<bool> {
    let started = Instant::now();
    loop {
        let e = match node.call("GET", "info", "").await {
            Ok(_) => return Ok(true),
            Err(e) => e,
        };
        let starting = matches!(e, AdminError::Refused { status: 503, .. });
        let wait = (starting && started.elapsed() < STARTING)
            || (e.is_denied() && started.elapsed() < settle);
        if wait {
            tokio::time::sleep(Duration::from_millis(200)).await;
        } else if e.is_denied() {
            return Ok(false);
        } else {
            return Err(failed(node, "reading the admin info", e));
        }
    }
}

fn failed(node: &AdminClient, what: &str, e: AdminError) -> Error {
    Error::state(format!(
        "control plane keys: {what} through {}: {e}",
        node.endpoint()
    ))
}

/// The control plane's keys: the kept ones when they still work, else a new service account
/// made with the root credentials through `host`.
pub async fn ensure(
    inv: &Inventory,
    state: &StateDir,
    host: &Host,
    http: reqwest::Client,
) -> Result<PollCredentials> {
    let endpoint = crate::health::endpoint(inv, host);
    let root = AdminClient::new(
        http.clone(),
        &endpoint,
        Keys {
            access_key: inv.credentials.root_user().to_string(),
            secret_key: inv.credentials.root_password().to_string(),
        },
    );
    let old = kept(state)?;
    if let Some(k) = &old {
        if works(
            &AdminClient::new(http.clone(), &endpoint, k.into()),
            Duration::ZERO,
        )
        .await?
        {
            return Ok(PollCredentials {
                access_key: k.access_key.clone(),
                secret_key: k.secret_key.clone(),
            });
        }
    }
    let call = |method: &'static str, path: String, body: serde_json::Value| {
        let root = &root;
        async move {
            let body = if body.is_null() {
                String::new()
            } else {
                body.to_string()
            };
            root.call(method, &path, &body)
                .await
                .map_err(|e| failed(root, &format!("{method} {path}"), e))
        }
    };
    #[derive(Deserialize)]
    struct UserView {
        access_key: String,
    }
    let started = Instant::now();
    let users: Vec<UserView> = loop {
        match root.get_json("iam/users").await {
            Ok(users) => break users,
            Err(AdminError::Refused { status: 503, .. }) if started.elapsed() < STARTING => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => return Err(failed(&root, "listing IAM users", e)),
        }
    };
    if !users.iter().any(|u| u.access_key == PARENT_USER) {
        let secret = Alphanumeric.sample_string(&mut rand::thread_rng(), 40);
        call(
            "PUT",
            format!("iam/users/{PARENT_USER}"),
            serde_json::json!({ "secret_key": secret }),
        )
        .await?;
    }
    call(
        "POST",
        format!("iam/policies/{POLICY}/attach"),
        serde_json::json!({ "user": PARENT_USER }),
    )
    .await?;
    let mut rng = rand::thread_rng();
    let new = Kept {
        access_key: Alphanumeric.sample_string(&mut rng, 20).to_uppercase(),
        secret_key: Alphanumeric.sample_string(&mut rng, 40),
    };
    call(
        "PUT",
        format!("iam/service-accounts/{}", new.access_key),
        serde_json::json!({ "parent": PARENT_USER, "secret_key": new.secret_key }),
    )
    .await?;
    let json = serde_json::to_vec_pretty(&new)
        .map_err(|e| Error::state(format!("cannot encode the control plane's keys: {e}")))?;
    state.write_atomic(KEYS_FILE, &json, 0o600)?;
    if let Some(old) = old.filter(|o| o.access_key != new.access_key) {
        match root
            .call(
                "DELETE",
                &format!("iam/service-accounts/{}", old.access_key),
                "",
            )
            .await
        {
            Ok(_) | Err(AdminError::Refused { status: 404, .. }) => {}
            Err(e) => return Err(failed(&root, "removing the replaced service account", e)),
        }
    }
    let fresh = AdminClient::new(http, &endpoint, (&new).into());
    if !works(&fresh, SETTLE).await? {
        return Err(Error::state(format!(
            "control plane keys: the new service account {} is refused by {endpoint} — is user {PARENT_USER} disabled? (`rustfs admin user enable {PARENT_USER}`)",
            new.access_key
        )));
    }
    Ok(PollCredentials {
        access_key: new.access_key,
        secret_key: new.secret_key,
    })
}

/// The kept keys for a registration made without reaching the cluster (Ansible's manifest):
/// `None` before any `apply` made them.
pub fn kept_credentials(state: &StateDir) -> Result<Option<PollCredentials>> {
    Ok(kept(state)?.map(|k| PollCredentials {
        access_key: k.access_key,
        secret_key: k.secret_key,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn kept_keys_must_be_private_and_well_formed() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        assert!(kept(&state).unwrap().is_none());
        let path = dir.path().join(KEYS_FILE);
        std::fs::write(&path, r#"{"access_key":"AK","secret_key":"SK"}"#).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = kept(&state).err().unwrap().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(kept(&state).unwrap().unwrap().access_key, "AK");
        assert_eq!(kept_credentials(&state).unwrap().unwrap().secret_key, "SK");
        std::fs::write(&path, "not json").unwrap();
        let e = kept(&state).err().unwrap().to_string();
        assert!(e.contains("remove it"), "{e}");
    }
}
