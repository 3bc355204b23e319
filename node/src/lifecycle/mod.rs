//! Lifecycle: a bucket's expiration rules, applied as one visitor ([`Expiry`]) of the background
//! scanner's walk (`crate::scanner`), so healing and lifecycle share one pass over the drives. Each decision
//! ([`rules::evaluate`]) is carried out under the key's write lock and only if the version it
//! was made on is still the one there (a version written since is never expired by a decision
//! about its predecessor); object lock is honoured (a locked version is skipped and counted).
//! Figures are this node's, since start (`rustfs_lifecycle_*`, admin `lifecycle/status`).

/// The rules live with the bucket configuration that holds them (`object::lifecycle`).
pub use crate::object::lifecycle as rules;

use crate::object::config::BucketConfig;
use crate::object::set::{agreed_versions, Removal};
use crate::object::{ErasureSet, ObjError, ObjectLayer, WriteCondition};
use rules::{abort_upload, evaluate, Action, Rule};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// This node's lifecycle figures since start.
#[derive(Debug, Default)]
pub struct Counters {
    pub scanned: AtomicU64,
    pub expired: AtomicU64,
    pub noncurrent_removed: AtomicU64,
    pub markers_removed: AtomicU64,
    pub uploads_aborted: AtomicU64,
    pub skipped_locked: AtomicU64,
    pub errors: AtomicU64,
}

/// The figures as the admin API and the metrics show them.
pub use rustfs_common::admin::LifecycleFigures as Figures;

/// This node's lifecycle counters.
pub fn counters() -> &'static Counters {
    static C: OnceLock<Counters> = OnceLock::new();
    C.get_or_init(Counters::default)
}

impl Counters {
    pub fn figures(&self) -> Figures {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Figures {
            objects_scanned: g(&self.scanned),
            current_expired: g(&self.expired),
            noncurrent_removed: g(&self.noncurrent_removed),
            delete_markers_removed: g(&self.markers_removed),
            uploads_aborted: g(&self.uploads_aborted),
            skipped_locked: g(&self.skipped_locked),
            errors: g(&self.errors),
        }
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// How long a lifecycle "day" lasts, in nanoseconds: a day, unless a test shortens it with
/// `RUSTFS_TEST_LIFECYCLE_DAY_SECS`.
pub fn day_nanos() -> i64 {
    static DAY: OnceLock<i64> = OnceLock::new();
    *DAY.get_or_init(|| {
        let secs = std::env::var("RUSTFS_TEST_LIFECYCLE_DAY_SECS")
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|s| *s > 0)
            .unwrap_or(86_400);
        secs * 1_000_000_000
    })
}

/// Lifecycle as a visitor of the scanner's walk: for each bucket with enabled rules, its stale
/// uploads are aborted, then each key is judged by the rules.
pub(crate) struct Expiry {
    layer: Arc<ObjectLayer>,
    /// The bucket being walked: its configuration and enabled rules, `None` when it has none.
    bucket: Option<(Arc<BucketConfig>, Vec<Rule>)>,
}

impl Expiry {
    pub(crate) fn new(layer: Arc<ObjectLayer>) -> Self {
        Expiry {
            layer,
            bucket: None,
        }
    }
}

#[async_trait::async_trait]
impl crate::scanner::Visitor for Expiry {
    async fn enter_bucket(&mut self, set: &Arc<ErasureSet>, bucket: &str) {
        self.bucket = None;
        if bucket == crate::store::SYS_BUCKET {
            return;
        }
        let Ok(cfg) = self.layer.bucket_config(bucket).await else {
            return;
        };
        if let Some(rules) = active_rules(&cfg).map(<[_]>::to_vec) {
            visit_uploads(&self.layer, set, bucket, &rules).await;
            self.bucket = Some((cfg, rules));
        }
    }

    async fn visit(&mut self, set: &Arc<ErasureSet>, bucket: &str, key: &str) {
        if let Some((cfg, rules)) = &self.bucket {
            visit_key(set, bucket, key, cfg, rules).await;
        }
    }
}

/// The rules of a bucket configuration that are enabled.
pub fn active_rules(cfg: &BucketConfig) -> Option<&[Rule]> {
    cfg.lifecycle
        .as_deref()
        .filter(|r| r.iter().any(|r| r.enabled))
}

/// Applies `rules` to `key` of `bucket` on `set`.
async fn visit_key(set: &ErasureSet, bucket: &str, key: &str, cfg: &BucketConfig, rules: &[Rule]) {
    let c = counters();
    bump(&c.scanned);
    let metas = set.read_metas(bucket, key).await;
    let versions: Vec<_> = agreed_versions(&metas)
        .into_iter()
        .map(|a| a.version)
        .collect();
    let now = crate::object::now_nanos();
    for action in evaluate(rules, key, &versions, now, day_nanos()) {
        let (result, done) = match action {
            Action::ExpireCurrent(id, t) if cfg.versioning.keeps_history() => {
                let marker = cfg.versioning.makes_versions().then(uuid::Uuid::new_v4);
                let cond = WriteCondition::IsLatest(id, t);
                (
                    set.add_delete_marker(bucket, key, marker, Some(&cond))
                        .await,
                    &c.expired,
                )
            }
            Action::ExpireCurrent(id, t) => (remove(set, bucket, key, id, t).await, &c.expired),
            Action::Remove(id, t) => {
                let marker = versions
                    .iter()
                    .any(|v| v.version_id == id && v.delete_marker);
                let counter = if marker {
                    &c.markers_removed
                } else {
                    &c.noncurrent_removed
                };
                (remove(set, bucket, key, id, t).await, counter)
            }
        };
        match result {
            Ok(()) => bump(done),
            Err(ObjError::Locked(_)) => bump(&c.skipped_locked),
            // Changed since the decision (a new version, a removal): decided again next cycle.
            Err(ObjError::PreconditionFailed(_) | ObjError::VersionNotFound(_)) => {}
            Err(e) => {
                bump(&c.errors);
                tracing::warn!(bucket, key, error = %e, "lifecycle action failed; retried next cycle");
            }
        }
    }
}

async fn remove(
    set: &ErasureSet,
    bucket: &str,
    key: &str,
    id: Option<uuid::Uuid>,
    written_at: i64,
) -> Result<(), ObjError> {
    let how = Removal {
        bypass_governance: false,
        written_at: Some(written_at),
    };
    set.delete_version(bucket, key, id, how).await.map(|_| ())
}

/// Aborts the uploads of `bucket` on `set` that the rules say are stale.
async fn visit_uploads(layer: &ObjectLayer, set: &ErasureSet, bucket: &str, rules: &[Rule]) {
    let now = crate::object::now_nanos();
    for up in set.uploads(bucket).await {
        if !abort_upload(rules, &up.key, up.initiated_nanos, now, day_nanos()) {
            continue;
        }
        let c = counters();
        match layer
            .abort_multipart(bucket, &up.key, &up.upload_id.to_string())
            .await
        {
            Ok(()) | Err(ObjError::NoSuchUpload(_)) => bump(&c.uploads_aborted),
            Err(e) => {
                bump(&c.errors);
                tracing::warn!(bucket, key = %up.key, error = %e, "aborting a stale upload failed");
            }
        }
    }
}
