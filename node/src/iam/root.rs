//! The root credentials, replaceable while the node runs: `SIGHUP` (`systemctl reload rustfs`)
//! reads `RUSTFS_ROOT_USER_FILE` / `RUSTFS_ROOT_PASSWORD_FILE` again, so the root password is
//! rotated without a restart (README, "Rotating secrets"). Every check reads the current pair, so a
//! request signed with the old password is refused from the moment the node has reloaded.

use parking_lot::RwLock;
use std::sync::Arc;

/// Root credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
}

/// Reads `NAME` or `NAME_FILE` (both set is an error).
pub(crate) fn secret_env(name: &str) -> Result<Option<String>, String> {
    let direct = std::env::var(name).ok().filter(|v| !v.is_empty());
    let file = std::env::var(format!("{name}_FILE"))
        .ok()
        .filter(|v| !v.is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => Err(format!(
            "both {name} and {name}_FILE are set — set only one"
        )),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_string()))
            .map_err(|e| format!("{name}_FILE={path}: {e}")),
        (None, None) => Ok(None),
    }
}

/// Credentials from `RUSTFS_ROOT_USER` / `RUSTFS_ROOT_PASSWORD` (or `_FILE`), validated.
pub fn credentials_from_env() -> Result<Option<Credentials>, String> {
    let user = secret_env("RUSTFS_ROOT_USER")?;
    let pass = secret_env("RUSTFS_ROOT_PASSWORD")?;
    match (user, pass) {
        (None, None) => Ok(None),
        (Some(access_key), Some(secret_key)) => {
            if access_key.len() < 3 || access_key.len() > 128 {
                return Err("RUSTFS_ROOT_USER must be 3 to 128 characters".into());
            }
            if secret_key.len() < 8 || secret_key.len() > 128 {
                return Err("RUSTFS_ROOT_PASSWORD must be 8 to 128 characters".into());
            }
            Ok(Some(Credentials {
                access_key,
                secret_key,
            }))
        }
        _ => Err("set both RUSTFS_ROOT_USER and RUSTFS_ROOT_PASSWORD, or neither".into()),
    }
}

/// The current root credentials of this node.
pub struct RootKeys(RwLock<Arc<Credentials>>);

impl RootKeys {
    pub fn new(creds: Credentials) -> Arc<RootKeys> {
        Arc::new(RootKeys(RwLock::new(Arc::new(creds))))
    }

    /// The pair in force now.
    pub fn get(&self) -> Arc<Credentials> {
        self.0.read().clone()
    }

    pub fn is_root(&self, access_key: &str) -> bool {
        self.0.read().access_key == access_key
    }

    /// Root's secret when `access_key` is root's.
    pub fn secret_if_root(&self, access_key: &str) -> Option<String> {
        let c = self.0.read();
        (c.access_key == access_key).then(|| c.secret_key.clone())
    }

    /// Puts `creds` in force; whether anything changed.
    pub fn replace(&self, creds: Credentials) -> bool {
        let mut cur = self.0.write();
        if cur.access_key == creds.access_key && cur.secret_key == creds.secret_key {
            return false;
        }
        *cur = Arc::new(creds);
        true
    }
}

/// Reads the root credentials from the environment again and puts them in force: what a `SIGHUP`
/// does. `iam` (once S3 is served) refuses an access key an IAM user already has.
pub fn reload(root: &RootKeys, iam: Option<&super::Iam>) -> Result<bool, String> {
    let fresh = credentials_from_env()?
        .ok_or("RUSTFS_ROOT_USER and RUSTFS_ROOT_PASSWORD (or their _FILE forms) are not set: there is nothing to reload")?;
    if let Some(iam) = iam {
        if !root.is_root(&fresh.access_key) && iam.is_taken(&fresh.access_key) {
            return Err(format!(
                "the new root access key {} belongs to an IAM user or service account; choose another",
                fresh.access_key
            ));
        }
    }
    Ok(root.replace(fresh))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_pair_is_the_only_one_honoured() {
        let root = RootKeys::new(Credentials {
            access_key: "admin".into(),
            secret_key: "old-secret".into(),
        });
        assert_eq!(root.secret_if_root("admin").as_deref(), Some("old-secret"));
        assert!(!root.replace(Credentials {
            access_key: "admin".into(),
            secret_key: "old-secret".into(),
        }));
        assert!(root.replace(Credentials {
            access_key: "admin2".into(),
            secret_key: "new-secret".into(),
        }));
        assert!(!root.is_root("admin"));
        assert_eq!(root.secret_if_root("admin"), None);
        assert_eq!(root.secret_if_root("admin2").as_deref(), Some("new-secret"));
        assert_eq!(root.get().access_key, "admin2");
    }
}
