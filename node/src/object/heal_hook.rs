//! How the object layer asks for healing without knowing the healer: every erasure set holds a
//! [`HealHook`], which `heal::HealManager` connects to its queue once it runs (the heal layer
//! sits above this one: ARCHITECTURE.md, "Inside the node").

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use tokio::sync::mpsc;

/// An object to heal: the set that holds it and its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HealKey {
    pub pool: usize,
    pub set: usize,
    pub bucket: String,
    pub key: String,
}

/// Held by every erasure set; connected to the heal manager's queue once it runs. Sending never
/// blocks a request: when the channel is full the object is left to the scanner.
#[derive(Debug, Default)]
pub struct HealHook(OnceLock<mpsc::Sender<HealKey>>);

impl HealHook {
    pub fn connect(&self, tx: mpsc::Sender<HealKey>) {
        let _ = self.0.set(tx);
    }

    pub fn send(&self, key: HealKey) {
        self.pending(key).send();
    }

    pub(crate) fn pending(&self, key: HealKey) -> PendingHeal {
        PendingHeal {
            key,
            tx: self.0.get().cloned(),
        }
    }
}

/// A heal to queue later (when a read that found a damaged copy has finished).
#[derive(Debug)]
pub struct PendingHeal {
    key: HealKey,
    tx: Option<mpsc::Sender<HealKey>>,
}

impl PendingHeal {
    pub fn send(self) {
        if let Some(tx) = self.tx {
            if tx.try_send(self.key.clone()).is_err() {
                tracing::debug!(bucket = %self.key.bucket, key = %self.key.key, "heal channel full; the scanner will find the object");
            }
        }
    }
}

impl super::ErasureSet {
    /// A heal of `bucket/key` in this set, to send when the caller is done.
    pub(crate) fn heal_request(&self, bucket: &str, key: &str) -> PendingHeal {
        self.heal.pending(self.heal_key(bucket, key))
    }

    /// Queues a heal of `bucket/key` now (a write that some drives missed).
    pub(crate) fn queue_heal(&self, bucket: &str, key: &str) {
        self.heal.send(self.heal_key(bucket, key));
    }

    fn heal_key(&self, bucket: &str, key: &str) -> HealKey {
        HealKey {
            pool: self.pool,
            set: self.index,
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}
