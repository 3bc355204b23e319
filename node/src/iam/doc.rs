//! The IAM document: what is stored, and the rules every change must keep (no dangling policy
//! names or members, well-formed keys). Fields are added with defaults only (ARCHITECTURE.md,
//! "Versions").

use crate::object::ObjError;
use rustfs_common::policy::{canned, Policy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Why an IAM change was refused.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    /// Input that can never be stored (a short secret, a bad name, a malformed policy).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Exists(String),
    /// The IAM document could not be read or written (quorum, drives).
    #[error(transparent)]
    Store(#[from] ObjError),
}

/// A user: its access key is its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub secret_key: String,
    pub enabled: bool,
    /// Names of the policies attached to the user.
    #[serde(default)]
    pub policies: Vec<String>,
}

/// A group of users sharing policies.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Group {
    pub members: BTreeSet<String>,
    pub enabled: bool,
    pub policies: Vec<String>,
}

/// A child key of a user: the user's policies, narrowed by its own policy, until its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub parent: String,
    pub secret_key: String,
    #[serde(default)]
    pub enabled: bool,
    /// Its own policy document (JSON), which can only narrow the parent's.
    #[serde(default)]
    pub policy: Option<String>,
    /// Nanoseconds since the Unix epoch after which the key is refused.
    #[serde(default)]
    pub expiry_nanos: Option<i64>,
}

/// Everything IAM stores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IamDoc {
    /// Users by access key.
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    /// Custom policies by name (canned ones are built in), as the JSON given.
    pub policies: BTreeMap<String, String>,
    /// Service accounts by access key.
    pub service_accounts: BTreeMap<String, ServiceAccount>,
    pub updated_nanos: i64,
    /// The key session tokens and temporary secrets are derived with (hex; made at the first
    /// STS call; never shown by the admin API).
    pub sts_key: Option<String>,
}

/// Names of `min_len` to 128 letters, digits and `-_.@+=` (what S3 clients and shells take
/// unquoted).
fn check_identifier(what: &str, name: &str, min_len: usize) -> Result<(), IamError> {
    let ok = (min_len..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@+=".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IamError::Invalid(format!(
            "{what} {name:?} must be {min_len} to 128 characters of letters, digits and -_.@+="
        )))
    }
}

/// Access keys as S3 clients accept them; those of temporary credentials
/// ([`super::sts::TEMP_KEY_PREFIX`]) are kept for STS.
pub fn check_access_key(key: &str) -> Result<(), IamError> {
    check_identifier("access key", key, 3)?;
    if super::sts::is_temp_key(key) {
        return Err(IamError::Invalid(format!(
            "access key {key:?} looks like a temporary (STS) key: keys of {} letters and digits starting {} are kept for STS",
            super::sts::TEMP_KEY_LEN,
            super::sts::TEMP_KEY_PREFIX
        )));
    }
    Ok(())
}

/// Secret keys of 8 to 128 printable characters (as the root credentials).
pub fn check_secret_key(secret: &str) -> Result<(), IamError> {
    if (8..=128).contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(IamError::Invalid(
            "secret key must be 8 to 128 printable characters without spaces".into(),
        ))
    }
}

/// Group and policy names.
pub fn check_name(what: &str, name: &str) -> Result<(), IamError> {
    check_identifier(&format!("{what} name"), name, 1)
}

/// Group names: as other names, or an LDAP group's distinguished name (`cn=x,ou=groups,…`:
/// commas between its parts, up to 512 characters), which maps the LDAP group onto policies.
pub fn check_group_name(name: &str) -> Result<(), IamError> {
    if name.contains(',') && name.len() <= 512 {
        for part in name.split(',') {
            let ok = part.contains('=') && check_identifier("", part, 3).is_ok();
            if !ok {
                return Err(IamError::Invalid(format!(
                    "group name {name:?}: an LDAP distinguished name must be attr=value parts of letters, digits and -_.@+= joined by commas"
                )));
            }
        }
        return Ok(());
    }
    check_name("group", name)
}

impl IamDoc {
    /// Whether `name` is a canned or custom policy.
    pub fn has_policy(&self, name: &str) -> bool {
        canned::get(name).is_some() || self.policies.contains_key(name)
    }

    /// The rules every stored document keeps; a change that breaks one is refused whole.
    pub fn validate(&self, root_access_key: &str) -> Result<(), IamError> {
        for (key, u) in &self.users {
            check_access_key(key)?;
            check_secret_key(&u.secret_key)?;
            if key == root_access_key || self.service_accounts.contains_key(key) {
                return Err(IamError::Exists(format!("access key {key} is taken")));
            }
            for p in &u.policies {
                if !self.has_policy(p) {
                    return Err(IamError::NotFound(format!("no policy named {p}")));
                }
            }
        }
        for (name, g) in &self.groups {
            check_group_name(name)?;
            if let Some(m) = g.members.iter().find(|m| !self.users.contains_key(*m)) {
                return Err(IamError::NotFound(format!("no user {m} (group {name})")));
            }
            if let Some(p) = g.policies.iter().find(|p| !self.has_policy(p)) {
                return Err(IamError::NotFound(format!("no policy named {p}")));
            }
        }
        for (name, json) in &self.policies {
            check_name("policy", name)?;
            if canned::get(name).is_some() {
                return Err(IamError::Exists(format!(
                    "{name} is a built-in policy; choose another name"
                )));
            }
            Policy::parse_identity(json.as_bytes())
                .map_err(|e| IamError::Invalid(format!("policy {name}: {e}")))?;
        }
        for (key, sa) in &self.service_accounts {
            check_access_key(key)?;
            check_secret_key(&sa.secret_key)?;
            if key == root_access_key {
                return Err(IamError::Exists(format!("access key {key} is taken")));
            }
            if !self.users.contains_key(&sa.parent) {
                return Err(IamError::NotFound(format!(
                    "no user {} (parent)",
                    sa.parent
                )));
            }
            if let Some(json) = &sa.policy {
                Policy::parse_identity(json.as_bytes())
                    .map_err(|e| IamError::Invalid(format!("service account {key}: {e}")))?;
            }
        }
        Ok(())
    }

    /// Removes a user with its group memberships and service accounts.
    pub fn remove_user(&mut self, key: &str) -> Result<(), IamError> {
        self.users
            .remove(key)
            .ok_or_else(|| IamError::NotFound(format!("no user {key}")))?;
        for g in self.groups.values_mut() {
            g.members.remove(key);
        }
        self.service_accounts.retain(|_, sa| sa.parent != key);
        Ok(())
    }

    /// Removes a custom policy; refused while anything is attached to it.
    pub fn remove_policy(&mut self, name: &str) -> Result<(), IamError> {
        let users = self.users.values().map(|u| &u.policies);
        let groups = self.groups.values().map(|g| &g.policies);
        if users.chain(groups).any(|ps| ps.iter().any(|p| p == name)) {
            return Err(IamError::Exists(format!(
                "policy {name} is attached; detach it first"
            )));
        }
        self.policies
            .remove(name)
            .map(drop)
            .ok_or_else(|| IamError::NotFound(format!("no custom policy named {name}")))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An enabled user with `policies`, for tests here and in `iam::tests`.
    pub(crate) fn user(policies: &[&str]) -> User {
        User {
            secret_key: "secret-secret".into(),
            enabled: true,
            policies: policies.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn dangling_names_and_bad_keys_are_refused() {
        let mut doc = IamDoc::default();
        doc.users.insert("alice".into(), user(&["readonly"]));
        doc.validate("root-user").unwrap();
        doc.users.insert("bob".into(), user(&["nosuch"]));
        assert!(matches!(
            doc.validate("root-user"),
            Err(IamError::NotFound(_))
        ));
        doc.users.remove("bob");
        doc.users.insert("root-user".into(), user(&[]));
        assert!(matches!(
            doc.validate("root-user"),
            Err(IamError::Exists(_))
        ));
        doc.users.remove("root-user");
        doc.users.insert("a b".into(), user(&[]));
        assert!(matches!(
            doc.validate("root-user"),
            Err(IamError::Invalid(_))
        ));
        doc.users.remove("a b");
        doc.policies.insert("mine".into(), "{not json".into());
        assert!(matches!(
            doc.validate("root-user"),
            Err(IamError::Invalid(_))
        ));
        doc.policies.insert("mine".into(), canned::READWRITE.into());
        doc.validate("root-user").unwrap();
        doc.policies
            .insert("readonly".into(), canned::READWRITE.into());
        assert!(matches!(
            doc.validate("root-user"),
            Err(IamError::Exists(_))
        ));
    }

    #[test]
    fn removing_a_user_takes_its_memberships_and_service_accounts() {
        let mut doc = IamDoc::default();
        doc.users.insert("alice".into(), user(&[]));
        doc.groups.insert(
            "devs".into(),
            Group {
                members: ["alice".to_string()].into(),
                enabled: true,
                policies: vec![],
            },
        );
        doc.service_accounts.insert(
            "alice-app".into(),
            ServiceAccount {
                parent: "alice".into(),
                secret_key: "secret-secret".into(),
                enabled: true,
                policy: None,
                expiry_nanos: None,
            },
        );
        doc.remove_user("alice").unwrap();
        assert!(doc.groups["devs"].members.is_empty());
        assert!(doc.service_accounts.is_empty());
        doc.validate("root").unwrap();
    }
}
