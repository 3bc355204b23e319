//! Identity and access management (ARCHITECTURE.md, "Access control"): the users, groups,
//! service accounts and policies of the cluster, kept as one JSON document of the system bucket
//! (`iam/iam.json`: erasure coded, read and written by quorum, changed under a cluster-wide lock)
//! and held compiled in memory on every node. A change made through one node is written, then
//! every other node is told to reload before the change is acknowledged; every node also reloads
//! every [`RELOAD_INTERVAL`] in case it missed the news while cut off.
//!
//! `access.rs` authenticates (S3 signature keys) and authorises (policies) requests with it.

pub mod access;
mod doc;
pub mod ldap;
pub mod oidc;
pub mod root;
pub mod sts;

pub use doc::{Group, IamDoc, IamError, ServiceAccount, User};

use crate::object::{ObjError, ObjResult, ObjectLayer};
use futures::future::BoxFuture;
use parking_lot::RwLock;
use rustfs_common::policy::{canned, Policy};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Where the IAM document lives in the system bucket.
const DOC_KEY: &str = "iam/iam.json";
/// How often a node reloads the document on its own.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(10);

/// Tells the other nodes to reload the IAM document.
pub type Broadcast = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// Who a signed request comes from, once its access key is known.
pub struct Identity {
    pub secret_key: String,
    /// The user policies name as `aws:username` (a service account's parent).
    pub username: String,
    /// Policies of the user and its enabled groups.
    pub policies: Vec<Arc<Policy>>,
    /// A service account's own narrower policy.
    pub session: Option<Arc<Policy>>,
}

/// The document, compiled for lookups on every request.
#[derive(Default)]
struct Compiled {
    doc: IamDoc,
    /// Canned and custom policies by name.
    policies: HashMap<String, Arc<Policy>>,
    /// Per user: the enabled groups it belongs to.
    groups_of: HashMap<String, Vec<String>>,
    /// Service accounts' own policies by access key.
    sessions: HashMap<String, Arc<Policy>>,
    /// Some policy has an `s3:ExistingObjectTag/…` condition.
    reads_object_tags: bool,
    /// Issues and checks temporary credentials (once the document has an STS key).
    sts: Option<Arc<sts::Signer>>,
}

impl Compiled {
    fn new(doc: IamDoc) -> Compiled {
        let mut policies: HashMap<String, Arc<Policy>> = canned::NAMES
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    Arc::new(canned::get(n).expect("canned").clone()),
                )
            })
            .collect();
        // A stored policy this build cannot parse grants nothing (refusing to start over it
        // would take S3 down); it is logged at every load.
        for (name, json) in &doc.policies {
            match Policy::parse_identity(json.as_bytes()) {
                Ok(p) => {
                    policies.insert(name.clone(), Arc::new(p));
                }
                Err(e) => {
                    tracing::error!(policy = %name, error = %e, "stored IAM policy does not parse; it grants nothing")
                }
            }
        }
        let mut groups_of: HashMap<String, Vec<String>> = HashMap::new();
        for (name, g) in doc.groups.iter().filter(|(_, g)| g.enabled) {
            for m in &g.members {
                groups_of.entry(m.clone()).or_default().push(name.clone());
            }
        }
        let mut sessions = HashMap::new();
        let mut broken = Vec::new();
        for (key, sa) in &doc.service_accounts {
            if let Some(json) = &sa.policy {
                match Policy::parse_identity(json.as_bytes()) {
                    Ok(p) => {
                        sessions.insert(key.clone(), Arc::new(p));
                    }
                    // Its policy would narrow the key: without it the key is refused.
                    Err(e) => {
                        tracing::error!(service_account = %key, error = %e, "stored service-account policy does not parse; the key is refused");
                        broken.push(key.clone());
                    }
                }
            }
        }
        let mut doc = doc;
        for key in broken {
            if let Some(sa) = doc.service_accounts.get_mut(&key) {
                sa.enabled = false;
            }
        }
        let reads_object_tags = policies
            .values()
            .chain(sessions.values())
            .any(|p| p.reads_existing_object_tags());
        let sts = doc.sts_key.as_deref().and_then(|k| {
            let signer = sts::Signer::new(k);
            if signer.is_none() {
                tracing::error!(
                    "the stored STS key is malformed; temporary credentials are refused"
                );
            }
            signer.map(Arc::new)
        });
        Compiled {
            doc,
            policies,
            groups_of,
            sessions,
            reads_object_tags,
            sts,
        }
    }

    /// The identity temporary credentials act for, as their session says, looked up now (a
    /// disabled or removed user's sessions end with it).
    fn session_identity(&self, session: &sts::Session) -> Result<Identity, sts::TokenError> {
        let (username, policies) = match session.src {
            sts::Source::User => {
                let live = self.doc.users.get(&session.sub).is_some_and(|u| u.enabled);
                if !live {
                    return Err(sts::TokenError::Revoked);
                }
                (session.sub.clone(), self.policies_of(&session.sub))
            }
            sts::Source::Oidc => {
                let named = session.policies.iter();
                let policies = named
                    .filter_map(|n| self.policies.get(n).cloned())
                    .collect();
                (session.sub.clone(), policies)
            }
            sts::Source::Ldap => {
                let groups = session
                    .groups
                    .iter()
                    .filter_map(|g| self.doc.groups.get(g).filter(|g| g.enabled));
                let policies = groups
                    .flat_map(|g| &g.policies)
                    .filter_map(|n| self.policies.get(n).cloned())
                    .collect();
                (session.sub.clone(), policies)
            }
        };
        // The inline policy was checked when the session was issued.
        let session_policy = match &session.policy {
            Some(json) => Some(Arc::new(
                Policy::parse_identity(json.as_bytes()).map_err(|_| sts::TokenError::Invalid)?,
            )),
            None => None,
        };
        Ok(Identity {
            secret_key: String::new(),
            username,
            policies,
            session: session_policy,
        })
    }

    fn policies_of(&self, user: &str) -> Vec<Arc<Policy>> {
        let Some(u) = self.doc.users.get(user) else {
            return Vec::new();
        };
        let groups = self.groups_of.get(user).into_iter().flatten();
        let group_policies = groups.flat_map(|g| &self.doc.groups[g].policies);
        u.policies
            .iter()
            .chain(group_policies)
            .filter_map(|name| self.policies.get(name).cloned())
            .collect()
    }

    fn identity(&self, access_key: &str, now_nanos: i64) -> Option<Identity> {
        if let Some(u) = self.doc.users.get(access_key) {
            return u.enabled.then(|| Identity {
                secret_key: u.secret_key.clone(),
                username: access_key.to_string(),
                policies: self.policies_of(access_key),
                session: None,
            });
        }
        let sa = self.doc.service_accounts.get(access_key)?;
        let parent = self.doc.users.get(&sa.parent)?;
        let live = sa.enabled && parent.enabled && sa.expiry_nanos.is_none_or(|t| now_nanos < t);
        live.then(|| Identity {
            secret_key: sa.secret_key.clone(),
            username: sa.parent.clone(),
            policies: self.policies_of(&sa.parent),
            session: self.sessions.get(access_key).cloned(),
        })
    }
}

/// This node's view of IAM.
pub struct Iam {
    pub(crate) layer: Arc<ObjectLayer>,
    root: Arc<root::RootKeys>,
    state: RwLock<Arc<Compiled>>,
    loaded: std::sync::atomic::AtomicBool,
    broadcast: OnceLock<Broadcast>,
}

impl Iam {
    /// IAM over `layer`, not loaded yet: until [`Self::start`] has read the document, only the
    /// root key is served and other keys are answered "retry" ([`Self::is_loaded`]).
    pub fn new(layer: Arc<ObjectLayer>, root: Arc<root::RootKeys>) -> Arc<Iam> {
        Arc::new(Iam {
            layer,
            root,
            state: RwLock::new(Arc::default()),
            loaded: std::sync::atomic::AtomicBool::new(false),
            broadcast: OnceLock::new(),
        })
    }

    /// Loads the document in the background (retrying while the drives cannot give a read
    /// quorum), then reloads every [`RELOAD_INTERVAL`] until the node stops. S3 is served
    /// meanwhile, so a restarting node answers root at once.
    pub fn start(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut wait = Duration::from_millis(100);
            loop {
                let Some(iam) = weak.upgrade() else { return };
                match iam.reload().await {
                    Ok(()) => break,
                    Err(e) => tracing::warn!(error = %e, "cannot load IAM yet; retrying"),
                }
                drop(iam);
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            loop {
                tokio::time::sleep(RELOAD_INTERVAL).await;
                let Some(iam) = weak.upgrade() else { return };
                if let Err(e) = iam.reload().await {
                    tracing::warn!(error = %e, "IAM reload failed; keeping the previous state");
                }
            }
        });
    }

    /// Whether the document has been read since the node started.
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(std::sync::atomic::Ordering::Acquire)
    }

    /// How changes reach the other nodes (set once the cluster has formed).
    pub fn set_broadcast(&self, b: Broadcast) {
        let _ = self.broadcast.set(b);
    }

    /// Reads the document again (another node changed it).
    pub async fn reload(&self) -> ObjResult<()> {
        let doc = self.read_doc().await?;
        self.install(doc);
        Ok(())
    }

    async fn read_doc(&self) -> ObjResult<IamDoc> {
        match self.layer.read_sys_doc(DOC_KEY).await? {
            None => Ok(IamDoc::default()),
            Some(buf) => serde_json::from_slice(&buf)
                .map_err(|e| ObjError::Internal(format!("the IAM document does not decode: {e}"))),
        }
    }

    fn install(&self, doc: IamDoc) {
        *self.state.write() = Arc::new(Compiled::new(doc));
        self.loaded
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// The root credentials in force.
    pub fn root(&self) -> &root::RootKeys {
        &self.root
    }

    /// Whether a user or service account has `access_key`.
    pub fn is_taken(&self, access_key: &str) -> bool {
        let state = self.state.read();
        state.doc.users.contains_key(access_key)
            || state.doc.service_accounts.contains_key(access_key)
    }

    /// The identity of a signed-in caller other than root, if its key is live.
    pub fn identity(&self, access_key: &str) -> Option<Identity> {
        let state = self.state.read().clone();
        state.identity(access_key, crate::object::now_nanos())
    }

    /// The identity of temporary credentials `access_key`, proven by their session `token`.
    pub fn temp_identity(
        &self,
        access_key: &str,
        token: Option<&str>,
    ) -> Result<Identity, sts::TokenError> {
        let token = token.ok_or(sts::TokenError::Missing)?;
        let state = self.state.read().clone();
        let signer = state.sts.as_ref().ok_or(sts::TokenError::Invalid)?;
        let session = signer.verify(access_key, token)?;
        state.session_identity(&session)
    }

    /// Whether `access_key` is an IAM user's (not a service account's).
    pub fn is_user(&self, access_key: &str) -> bool {
        self.state.read().doc.users.contains_key(access_key)
    }

    /// The enabled IAM groups that name LDAP groups `dns` (distinguished names, compared
    /// without regard to case) and carry some policy.
    pub fn groups_named(&self, dns: &[String]) -> Vec<String> {
        let state = self.state.read().clone();
        state
            .doc
            .groups
            .iter()
            .filter(|(name, g)| {
                g.enabled
                    && !g.policies.is_empty()
                    && dns.iter().any(|dn| dn.eq_ignore_ascii_case(name))
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Whether a canned or custom policy is called `name`.
    pub fn has_policy(&self, name: &str) -> bool {
        self.state.read().policies.contains_key(name)
    }

    /// The secret of temporary access key `access_key` (none before the first STS call).
    pub fn temp_secret(&self, access_key: &str) -> Option<String> {
        let state = self.state.read().clone();
        state.sts.as_ref().map(|s| s.secret_of(access_key))
    }

    /// New temporary credentials for `session`, valid for `lifetime`; makes the cluster's STS
    /// key at the first call.
    pub async fn issue(
        &self,
        session: sts::Session,
        lifetime: Duration,
    ) -> Result<sts::Issued, IamError> {
        let signer = self.state.read().sts.clone();
        let signer =
            match signer {
                Some(s) => s,
                None => {
                    self.update(|doc| {
                        doc.sts_key.get_or_insert_with(sts::new_key);
                        Ok(())
                    })
                    .await?;
                    self.state.read().sts.clone().ok_or_else(|| {
                        IamError::Invalid("the stored STS key is malformed".into())
                    })?
                }
            };
        Ok(signer.issue(session, lifetime))
    }

    /// Whether some IAM policy decides by the tags of the object a request names.
    pub fn reads_object_tags(&self) -> bool {
        self.state.read().reads_object_tags
    }

    /// A copy of the current document (for the admin API's listings).
    pub fn snapshot(&self) -> IamDoc {
        self.state.read().doc.clone()
    }

    /// Changes the document with `change` (read, validated, written under the cluster-wide
    /// lock), installs it here and has every other node reload before returning.
    pub async fn update(
        &self,
        change: impl FnOnce(&mut IamDoc) -> Result<(), IamError>,
    ) -> Result<(), IamError> {
        let root = self.root.get().access_key.clone();
        let doc = self
            .layer
            .with_sys_doc_lock(DOC_KEY, async {
                let mut doc = self.read_doc().await?;
                let mut outcome = change(&mut doc);
                if outcome.is_ok() {
                    outcome = doc.validate(&root);
                }
                let Ok(()) = outcome else {
                    return Ok(outcome.map(|()| doc));
                };
                doc.updated_nanos = crate::object::now_nanos();
                let data = serde_json::to_vec(&doc).expect("the IAM document serializes");
                self.layer.write_sys_doc(DOC_KEY, data).await?;
                Ok(Ok(doc))
            })
            .await
            .map_err(IamError::Store)??;
        self.install(doc);
        if let Some(b) = self.broadcast.get() {
            b().await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::doc::tests::user;
    use super::*;

    /// A stored policy a newer parser refuses grants nothing and narrows to nothing; it never
    /// stops the node from loading IAM.
    #[test]
    fn unparsable_stored_policies_grant_nothing_and_refuse_their_keys() {
        let mut doc = IamDoc::default();
        doc.policies.insert("broken".into(), "{not a policy".into());
        doc.users
            .insert("alice".into(), user(&["broken", "readonly"]));
        doc.service_accounts.insert(
            "alice-app".into(),
            ServiceAccount {
                parent: "alice".into(),
                secret_key: "secret-secret".into(),
                enabled: true,
                policy: Some("{not a policy".into()),
                expiry_nanos: None,
            },
        );
        let c = Compiled::new(doc);
        let alice = c.identity("alice", 0).unwrap();
        assert_eq!(alice.policies.len(), 1, "only readonly applies");
        assert!(c.identity("alice-app", 0).is_none());
    }

    #[test]
    fn disabled_and_expired_keys_have_no_identity() {
        let mut doc = IamDoc::default();
        doc.users.insert("bob".into(), user(&[]));
        let sa = |expiry_nanos| ServiceAccount {
            parent: "bob".into(),
            secret_key: "secret-secret".into(),
            enabled: true,
            policy: None,
            expiry_nanos,
        };
        doc.service_accounts.insert("bob-old".into(), sa(Some(100)));
        doc.service_accounts
            .insert("bob-new".into(), sa(Some(1_000)));
        let c = Compiled::new(doc.clone());
        assert!(c.identity("bob-old", 500).is_none());
        assert_eq!(c.identity("bob-new", 500).unwrap().username, "bob");
        doc.users.get_mut("bob").unwrap().enabled = false;
        let c = Compiled::new(doc);
        assert!(c.identity("bob", 500).is_none());
        assert!(
            c.identity("bob-new", 500).is_none(),
            "a disabled parent disables its keys"
        );
    }
}
