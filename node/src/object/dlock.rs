//! Distributed namespace locks (dsync-style): a per-object read/write lock is held when a quorum
//! of the set's nodes grant it. Grants are leases: the holder refreshes them every
//! [`REFRESH_INTERVAL`], and a node forgets a grant not refreshed for [`LEASE`], so a dead holder
//! never blocks the namespace for long. Acquisition retries with jittered, growing backoff and
//! gives up after the acquire timeout (the S3 layer answers 503 SlowDown).

use futures::future::join_all;
use futures::stream::{FuturesUnordered, StreamExt};
use parking_lot::Mutex;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};
use tokio_util::task::TaskTracker;
use uuid::Uuid;

/// A lock call on a peer's lock table.
#[derive(Debug, Serialize, Deserialize)]
pub enum LockCall {
    /// Grant `uid` a read (`write == false`) or write lock on `resource`, if free.
    Lock {
        resource: String,
        uid: Uuid,
        write: bool,
    },
    /// Extend the lease of a held lock; `false` when the peer no longer holds it.
    Refresh {
        resource: String,
        uid: Uuid,
    },
    Unlock {
        resource: String,
        uid: Uuid,
    },
}

/// Who holds a grant: a node (`host:port`) in one run of its process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockOwner {
    pub node: String,
    pub boot: Uuid,
}

/// A peer's lock table, reached over RPC (`rpc::client::Peer`); an unreachable peer refuses.
#[async_trait::async_trait]
pub trait RemoteLocker: Send + Sync {
    async fn lock_call(&self, call: LockCall) -> bool;
}

pub const REFRESH_INTERVAL: Duration = Duration::from_secs(10);
pub const LEASE: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Entry {
    writer: Option<(Uuid, Instant)>,
    readers: HashMap<Uuid, Instant>,
}

impl Entry {
    fn expire(&mut self, now: Instant) {
        if matches!(self.writer, Some((_, t)) if now.duration_since(t) >= LEASE) {
            self.writer = None;
        }
        self.readers.retain(|_, t| now.duration_since(*t) < LEASE);
    }
    fn is_empty(&self) -> bool {
        self.writer.is_none() && self.readers.is_empty()
    }
}

/// One node's grants.
#[derive(Default)]
pub struct LockTable {
    entries: Mutex<HashMap<String, Entry>>,
    owners: Mutex<Owners>,
}

/// Who holds which grant, and each node's current boot: a node that restarted (a new boot)
/// cannot give back what its previous run held, so its first call here drops those grants
/// instead of leaving them to the lease (readers of a key it last wrote would wait it out).
#[derive(Default)]
struct Owners {
    /// Grant uid → (resource, owner).
    grants: HashMap<Uuid, (String, LockOwner)>,
    /// Node → its boot as last seen.
    boots: HashMap<String, Uuid>,
}

/// This process's run: fresh at every start.
static BOOT: LazyLock<Uuid> = LazyLock::new(Uuid::new_v4);
/// This node's name as lockers know it (set once the cluster is prepared).
static THIS_NODE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names this node in the lock calls it makes (`host:port`, as peers list it).
pub fn set_this_node(node: &str) {
    let _ = THIS_NODE.set(node.to_string());
}

/// This node and run, for lock calls (`None` before [`set_this_node`]).
pub fn this_owner() -> Option<LockOwner> {
    Some(LockOwner {
        node: THIS_NODE.get()?.clone(),
        boot: *BOOT,
    })
}

impl LockTable {
    /// Applies a call that `owner` made (a peer; `None` from builds that do not say).
    pub fn apply_from(&self, call: LockCall, owner: Option<LockOwner>) -> bool {
        let Some(owner) = owner else {
            return self.apply(call);
        };
        self.forget_previous_runs(&owner);
        let lock = match &call {
            LockCall::Lock { resource, uid, .. } => Some((resource.clone(), *uid)),
            _ => None,
        };
        let unlock = match &call {
            LockCall::Unlock { uid, .. } => Some(*uid),
            _ => None,
        };
        let granted = self.apply(call);
        let mut owners = self.owners.lock();
        match (lock, unlock) {
            (Some((resource, uid)), _) if granted => {
                owners.grants.insert(uid, (resource, owner));
            }
            (_, Some(uid)) => {
                owners.grants.remove(&uid);
            }
            _ => {}
        }
        granted
    }

    /// Drops the grants of `owner.node`'s earlier runs, the first time its new run calls.
    fn forget_previous_runs(&self, owner: &LockOwner) {
        let mut owners = self.owners.lock();
        let previous = owners.boots.insert(owner.node.clone(), owner.boot);
        if previous.is_none_or(|b| b == owner.boot) {
            return;
        }
        let stale: Vec<(Uuid, String)> = owners
            .grants
            .iter()
            .filter(|(_, (_, o))| o.node == owner.node && o.boot != owner.boot)
            .map(|(uid, (resource, _))| (*uid, resource.clone()))
            .collect();
        for (uid, _) in &stale {
            owners.grants.remove(uid);
        }
        drop(owners);
        if !stale.is_empty() {
            tracing::info!(node = %owner.node, grants = stale.len(), "a node restarted: dropping the lock grants its previous run held");
        }
        for (uid, resource) in stale {
            self.apply(LockCall::Unlock { resource, uid });
        }
    }

    pub fn apply(&self, call: LockCall) -> bool {
        let now = Instant::now();
        let mut entries = self.entries.lock();
        match call {
            LockCall::Lock {
                resource,
                uid,
                write,
            } => {
                let e = entries.entry(resource).or_default();
                e.expire(now);
                if write {
                    if e.writer.is_none() && e.readers.is_empty() {
                        e.writer = Some((uid, now));
                        return true;
                    }
                    matches!(e.writer, Some((w, _)) if w == uid)
                } else if e.writer.is_none() {
                    e.readers.insert(uid, now);
                    true
                } else {
                    false
                }
            }
            LockCall::Refresh { resource, uid } => {
                let Some(e) = entries.get_mut(&resource) else {
                    return false;
                };
                e.expire(now);
                match &mut e.writer {
                    Some((w, t)) if *w == uid => {
                        *t = now;
                        true
                    }
                    _ => match e.readers.get_mut(&uid) {
                        Some(t) => {
                            *t = now;
                            true
                        }
                        None => false,
                    },
                }
            }
            LockCall::Unlock { resource, uid } => {
                let Some(e) = entries.get_mut(&resource) else {
                    return false;
                };
                let mut had = false;
                if matches!(e.writer, Some((w, _)) if w == uid) {
                    e.writer = None;
                    had = true;
                }
                had |= e.readers.remove(&uid).is_some();
                if e.is_empty() {
                    entries.remove(&resource);
                }
                had
            }
        }
    }

    /// Drops grants whose lease ran out.
    pub fn purge_expired(&self) {
        let now = Instant::now();
        let mut entries = self.entries.lock();
        entries.retain(|_, e| {
            e.expire(now);
            !e.is_empty()
        });
        self.owners.lock().grants.retain(|uid, (resource, _)| {
            entries.get(resource).is_some_and(|e| {
                matches!(e.writer, Some((w, _)) if w == *uid) || e.readers.contains_key(uid)
            })
        });
    }

    pub fn num_held(&self) -> usize {
        self.entries.lock().len()
    }
}

/// A node that takes part in locking: this node's own table or a peer.
#[derive(Clone)]
pub enum Locker {
    Local(Arc<LockTable>),
    Remote(Arc<dyn RemoteLocker>),
}

impl Locker {
    async fn call(&self, call: LockCall) -> bool {
        match self {
            Locker::Local(t) => t.apply(call),
            Locker::Remote(p) => p.lock_call(call).await,
        }
    }
}

/// The lockers of one erasure set (one per distinct node) and the acquire timeout.
pub struct DistLocks {
    pub lockers: Vec<Locker>,
    pub acquire_timeout: Duration,
}

/// A held distributed lock; released (on every locker, in the background) when dropped.
pub struct DistGuard {
    lockers: Vec<Locker>,
    resource: String,
    uid: Uuid,
    refresher: tokio::task::JoinHandle<()>,
    released: Released,
}

impl Drop for DistGuard {
    fn drop(&mut self) {
        self.refresher.abort();
        *self.released.lock() = true;
        HELD.lock().remove(&self.uid);
        let (lockers, resource, uid) = (self.lockers.clone(), self.resource.clone(), self.uid);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            RELEASES.spawn_on(release(lockers, resource, uid), &rt);
        }
    }
}

/// Tells every peer this node's new run, so each drops at once the grants an earlier run of
/// this node left behind (a node that died holding locks). The call itself is an `Unlock` of
/// nothing, which builds that predate owners answer harmlessly.
pub async fn announce<L: RemoteLocker>(peers: &[L]) {
    join_all(peers.iter().map(|p| {
        p.lock_call(LockCall::Unlock {
            resource: String::new(),
            uid: Uuid::nil(),
        })
    }))
    .await;
}

/// A held lock's lockers and resource.
type Holding = (Vec<Locker>, String);

/// Locks this node holds now, by uid: what a stopping node gives back ([`release_all`]).
static HELD: LazyLock<Mutex<HashMap<Uuid, Holding>>> = LazyLock::new(Default::default);
/// Releases on their way to the lockers.
static RELEASES: LazyLock<TaskTracker> = LazyLock::new(TaskTracker::new);

/// Gives back every lock this node still holds and waits (at most `limit`) until every release
/// reached its lockers. A node calls this as it stops, after its connections drained: grants it
/// left behind would make other nodes wait out their lease for keys it last wrote (a rolling
/// restart right after a PUT would stall readers of that key).
pub async fn release_all(limit: Duration) {
    let held: Vec<(Uuid, Holding)> = HELD.lock().drain().collect();
    for (uid, (lockers, resource)) in held {
        RELEASES.spawn(release(lockers, resource, uid));
    }
    RELEASES.close();
    if tokio::time::timeout(limit, RELEASES.wait()).await.is_err() {
        tracing::warn!("some lock releases did not reach their nodes before the deadline; those grants expire with their lease");
    }
}

/// Whether one acquisition's grants have been given back (its round failed, or its guard was
/// dropped): a grant answered after that is given back at once by whoever sees it.
type Released = Arc<Mutex<bool>>;

async fn release(lockers: Vec<Locker>, resource: String, uid: Uuid) {
    join_all(lockers.iter().map(|l| {
        l.call(LockCall::Unlock {
            resource: resource.clone(),
            uid,
        })
    }))
    .await;
}

impl DistLocks {
    /// Grants needed: a majority for writers; for readers, enough to intersect every writer's
    /// majority.
    fn quorum(&self, write: bool) -> usize {
        let n = self.lockers.len();
        let w = n / 2 + 1;
        if write {
            w
        } else {
            n - w + 1
        }
    }

    /// Takes the lock, or gives up after the acquire timeout (`None`).
    pub async fn acquire(&self, resource: String, write: bool) -> Option<DistGuard> {
        let uid = Uuid::new_v4();
        let deadline = Instant::now() + self.acquire_timeout;
        let mut backoff = Duration::from_millis(5);
        loop {
            if let Some(released) = self.round(&resource, uid, write).await {
                let refresher =
                    tokio::spawn(refresh_loop(self.lockers.clone(), resource.clone(), uid));
                HELD.lock()
                    .insert(uid, (self.lockers.clone(), resource.clone()));
                return Some(DistGuard {
                    lockers: self.lockers.clone(),
                    resource,
                    uid,
                    refresher,
                    released,
                });
            }
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(resource, write, "lock not acquired before the timeout");
                return None;
            }
            let jitter = rand::thread_rng().gen_range(0..=backoff.as_millis() as u64);
            let wait = (backoff + Duration::from_millis(jitter)).min(deadline - now);
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(Duration::from_millis(500));
        }
    }

    /// One attempt: asks every locker and decides as soon as a quorum granted or too many
    /// refused for one to, so a locker that is slow to answer (a node stopping, paused or cut
    /// off, until the RPC deadline) delays nobody while a quorum answers. Answers still out are
    /// settled in the background: a late grant is given back once the attempt failed or its
    /// guard is gone.
    async fn round(&self, resource: &str, uid: Uuid, write: bool) -> Option<Released> {
        let quorum = self.quorum(write);
        let n = self.lockers.len();
        let mut pending: FuturesUnordered<_> = self
            .lockers
            .iter()
            .map(|l| {
                let (l, resource) = (l.clone(), resource.to_string());
                async move {
                    let granted = l
                        .call(LockCall::Lock {
                            resource,
                            uid,
                            write,
                        })
                        .await;
                    (l, granted)
                }
            })
            .collect();
        let (mut granted, mut refused) = (Vec::new(), 0);
        while granted.len() < quorum && n - refused >= quorum {
            match pending.next().await {
                Some((l, true)) => granted.push(l),
                Some((_, false)) => refused += 1,
                None => break,
            }
        }
        let won = granted.len() >= quorum;
        let released: Released = Arc::new(Mutex::new(!won));
        if !pending.is_empty() {
            let (released, resource) = (released.clone(), resource.to_string());
            tokio::spawn(async move {
                while let Some((l, granted)) = pending.next().await {
                    if granted && *released.lock() {
                        release(vec![l], resource.clone(), uid).await;
                    }
                }
            });
        }
        if won {
            return Some(released);
        }
        // Give back partial grants so two contenders cannot starve each other.
        release(granted, resource.to_string(), uid).await;
        None
    }
}

async fn refresh_loop(lockers: Vec<Locker>, resource: String, uid: Uuid) {
    loop {
        tokio::time::sleep(REFRESH_INTERVAL).await;
        let ok = join_all(lockers.iter().map(|l| {
            l.call(LockCall::Refresh {
                resource: resource.clone(),
                uid,
            })
        }))
        .await;
        let held = ok.iter().filter(|g| **g).count();
        if held < lockers.len() / 2 + 1 {
            tracing::warn!(
                resource,
                held,
                of = lockers.len(),
                "lock lease held by fewer than a majority of nodes"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(n: usize) -> DistLocks {
        let tables: Vec<Locker> = (0..n)
            .map(|_| Locker::Local(Arc::new(LockTable::default())))
            .collect();
        DistLocks {
            lockers: tables,
            acquire_timeout: Duration::from_millis(200),
        }
    }

    #[tokio::test]
    async fn writers_exclude_everyone_readers_share() {
        let l = local(4);
        let r1 = l.acquire("b/k".into(), false).await.expect("reader");
        let r2 = l.acquire("b/k".into(), false).await.expect("second reader");
        assert!(
            l.acquire("b/k".into(), true).await.is_none(),
            "writer while read-locked"
        );
        drop((r1, r2));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let w = l
            .acquire("b/k".into(), true)
            .await
            .expect("writer after readers left");
        assert!(l.acquire("b/k".into(), false).await.is_none());
        assert!(
            l.acquire("b/other".into(), true).await.is_some(),
            "other keys are free"
        );
        drop(w);
    }

    #[tokio::test]
    async fn a_minority_of_dead_lockers_is_tolerated() {
        // Two of five tables already hold a stranger's write lock (as if their holder died):
        // a majority of three still grants.
        let l = local(5);
        for t in &l.lockers[..2] {
            t.call(LockCall::Lock {
                resource: "b/k".into(),
                uid: Uuid::new_v4(),
                write: true,
            })
            .await;
        }
        assert!(l.acquire("b/k".into(), true).await.is_some());
    }

    #[tokio::test]
    async fn a_locker_that_does_not_answer_delays_nobody() {
        // A node that accepts connections and never answers (stopping, paused): a quorum of the
        // others decides at once instead of after the RPC deadline.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap().to_string();
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        });
        let keys =
            crate::rpc::auth::RpcKeys::from_secrets("dlock-test-secret-dlock-test-secret").unwrap();
        let mut l = local(3);
        l.lockers
            .push(Locker::Remote(Arc::new(crate::rpc::client::Peer::new(
                &addr,
                None,
                keys,
                Duration::from_secs(30),
            ))));
        l.acquire_timeout = Duration::from_secs(30);
        let started = Instant::now();
        let w = l
            .acquire("b/k".into(), true)
            .await
            .expect("a majority grants");
        drop(w);
        let r = l
            .acquire("b/k".into(), false)
            .await
            .expect("readers after the writer left");
        drop(r);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited {:?} for a silent locker",
            started.elapsed()
        );
        holder.abort();
    }

    #[test]
    fn a_restarted_node_drops_what_its_previous_run_held() {
        let t = LockTable::default();
        let run = |boot: u128| LockOwner {
            node: "n1:9000".into(),
            boot: Uuid::from_u128(boot),
        };
        let other = LockOwner {
            node: "n2:9000".into(),
            boot: Uuid::from_u128(7),
        };
        let lock = |resource: &str, uid: u128| LockCall::Lock {
            resource: resource.into(),
            uid: Uuid::from_u128(uid),
            write: true,
        };
        assert!(t.apply_from(lock("a", 1), Some(run(1))));
        assert!(t.apply_from(lock("b", 2), Some(other.clone())));
        // The same run, again: nothing is dropped.
        assert!(!t.apply_from(lock("a", 3), Some(run(1))), "a is held");
        // n1 restarted: its first call (any call) frees what run 1 held, not n2's grants.
        assert!(!t.apply_from(
            LockCall::Unlock {
                resource: String::new(),
                uid: Uuid::nil()
            },
            Some(run(2))
        ));
        assert!(
            t.apply_from(lock("a", 4), Some(other.clone())),
            "a was freed"
        );
        assert!(
            !t.apply_from(lock("b", 5), Some(run(2))),
            "n2's grant stays"
        );
        // Calls without an owner (older builds) change nothing of this.
        assert!(!t.apply_from(lock("b", 6), None));
    }

    #[test]
    fn leases_expire() {
        let t = LockTable::default();
        let uid = Uuid::new_v4();
        assert!(t.apply(LockCall::Lock {
            resource: "r".into(),
            uid,
            write: true
        }));
        t.entries
            .lock()
            .get_mut("r")
            .expect("entry")
            .writer
            .as_mut()
            .expect("writer")
            .1 -= LEASE;
        assert!(t.apply(LockCall::Lock {
            resource: "r".into(),
            uid: Uuid::new_v4(),
            write: true
        }));
        assert!(!t.apply(LockCall::Refresh {
            resource: "r".into(),
            uid
        }));
    }
}
