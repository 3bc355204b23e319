//! The bucket configuration store (ARCHITECTURE.md, "Bucket configuration"): one JSON document
//! per bucket — versioning, object lock, tags, lifecycle, CORS, and room for the policy,
//! replication and notification configurations — kept as an erasure-coded object of the system
//! bucket (`SYS_BUCKET`, key `buckets/<bucket>.json`), so it has the durability of objects and is
//! read and written by quorum. Every node caches what it read; a change made through one node is
//! written, then every other node is told to drop its copy before the change is acknowledged, and
//! cached copies expire after [`CACHE_TTL`] in any case (a node that missed the news while cut
//! off).

use super::{BodyStream, ObjError, ObjResult, ObjectLayer, PutOptions};
use crate::store::SYS_BUCKET;
use futures::future::BoxFuture;
use futures::StreamExt;
use parking_lot::Mutex;
use rustfs_common::policy::Policy;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// How long a node trusts its cached copy of a configuration it was not told about.
pub const CACHE_TTL: Duration = Duration::from_secs(30);
/// Configurations a node caches at most.
const MAX_CACHED: usize = 10_000;

/// A bucket's versioning state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Versioning {
    /// Never enabled: writes replace the `null` version.
    #[default]
    Unversioned,
    /// Every write makes a new version; a delete adds a delete marker.
    Enabled,
    /// Enabled once, now paused: writes replace the `null` version, older versions stay.
    Suspended,
}

impl Versioning {
    /// Whether a write makes a new version (else it replaces the `null` one).
    pub fn makes_versions(self) -> bool {
        self == Versioning::Enabled
    }

    /// Whether a delete leaves a delete marker (else it removes the `null` version).
    pub fn keeps_history(self) -> bool {
        self != Versioning::Unversioned
    }
}

/// One CORS rule of a bucket (`PutBucketCors`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorsRule {
    pub id: Option<String>,
    /// Origins, each with at most one `*` wildcard.
    pub allowed_origins: Vec<String>,
    /// `GET`, `PUT`, `POST`, `DELETE` or `HEAD`.
    pub allowed_methods: Vec<String>,
    /// Request headers a preflight may ask for, each with at most one `*` wildcard.
    pub allowed_headers: Vec<String>,
    /// Response headers the browser may show to the page.
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<i32>,
}

/// Everything configured on one bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BucketConfig {
    pub versioning: Versioning,
    /// Object lock (present: enabled; versioning then stays enabled).
    pub object_lock: Option<super::retention::LockConfig>,
    /// Bucket tags.
    pub tags: Option<BTreeMap<String, String>>,
    /// Lifecycle rules (`PutBucketLifecycleConfiguration`).
    pub lifecycle: Option<Vec<super::lifecycle::Rule>>,
    /// CORS rules, in the order they were given (the first match answers).
    pub cors: Option<Vec<CorsRule>>,
    /// The bucket policy as it was set (`PutBucketPolicy`), validated then; see
    /// [`BucketConfig::bucket_policy`].
    pub policy: Option<String>,
    /// The policy compiled, on first use of this copy.
    #[serde(skip)]
    compiled_policy: CompiledPolicy,
    pub replication: Option<serde_json::Value>,
    pub notification: Option<serde_json::Value>,
    /// When this document was last changed.
    pub updated_nanos: i64,
}

impl BucketConfig {
    /// The bucket policy of `bucket`, compiled once per cached copy. A stored document this build
    /// cannot parse grants nothing (it is logged); it never stops the bucket from being served.
    pub fn bucket_policy(&self, bucket: &str) -> Option<Arc<Policy>> {
        self.compiled_policy
            .0
            .get_or_init(|| {
                let json = self.policy.as_deref()?;
                match Policy::parse_bucket(json.as_bytes(), bucket) {
                    Ok(p) => Some(Arc::new(p)),
                    Err(e) => {
                        tracing::error!(bucket, error = %e, "stored bucket policy does not parse; it grants nothing");
                        None
                    }
                }
            })
            .clone()
    }
}

/// A lazily compiled bucket policy: a cache, so it takes no part in comparisons.
#[derive(Debug, Clone, Default)]
struct CompiledPolicy(OnceLock<Option<Arc<Policy>>>);

impl PartialEq for CompiledPolicy {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Tells the other nodes to drop their cached configuration of a bucket.
pub type Broadcast = Arc<dyn Fn(String) -> BoxFuture<'static, ()> + Send + Sync>;

/// This node's cached configurations.
#[derive(Default)]
pub struct ConfigCache {
    entries: Mutex<HashMap<String, (Arc<BucketConfig>, Instant)>>,
    broadcast: OnceLock<Broadcast>,
}

impl ConfigCache {
    /// Forgets `bucket`'s configuration (another node changed it).
    pub fn invalidate(&self, bucket: &str) {
        self.entries.lock().remove(bucket);
    }

    /// How changes reach the other nodes (set once the cluster has formed).
    pub fn set_broadcast(&self, b: Broadcast) {
        let _ = self.broadcast.set(b);
    }

    /// The cached configuration of `bucket`, if this node holds a fresh one.
    pub fn get(&self, bucket: &str) -> Option<Arc<BucketConfig>> {
        let entries = self.entries.lock();
        let (cfg, at) = entries.get(bucket)?;
        (at.elapsed() < CACHE_TTL).then(|| cfg.clone())
    }

    fn put(&self, bucket: &str, cfg: Arc<BucketConfig>) {
        let mut entries = self.entries.lock();
        // Requests name buckets that do not exist too (anonymous ones included): keep the map
        // bounded by forgetting what expired, and everything if that is not enough.
        if entries.len() >= MAX_CACHED {
            entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            if entries.len() >= MAX_CACHED {
                entries.clear();
            }
        }
        entries.insert(bucket.to_string(), (cfg, Instant::now()));
    }
}

fn doc_key(bucket: &str) -> String {
    format!("buckets/{bucket}.json")
}

fn body(data: Vec<u8>) -> BodyStream {
    futures::stream::once(async move { Ok(bytes::Bytes::from(data)) }).boxed()
}

impl ObjectLayer {
    /// The configuration of `bucket` (defaults when none was ever set).
    pub async fn bucket_config(&self, bucket: &str) -> ObjResult<Arc<BucketConfig>> {
        if let Some(c) = self.configs.get(bucket) {
            return Ok(c);
        }
        let cfg = Arc::new(self.read_bucket_config(bucket).await?);
        self.configs.put(bucket, cfg.clone());
        Ok(cfg)
    }

    async fn read_bucket_config(&self, bucket: &str) -> ObjResult<BucketConfig> {
        let Some(buf) = self.read_sys_doc(&doc_key(bucket)).await? else {
            return Ok(BucketConfig::default());
        };
        serde_json::from_slice(&buf).map_err(|e| {
            ObjError::Internal(format!(
                "the configuration of bucket {bucket} does not decode: {e}"
            ))
        })
    }

    /// A document of the system bucket (erasure coded, read by quorum), `None` when absent.
    pub(crate) async fn read_sys_doc(&self, key: &str) -> ObjResult<Option<Vec<u8>>> {
        let set = self.pools[0].set_for(SYS_BUCKET, key);
        let obj = match set.open_object(SYS_BUCKET, key, None).await {
            Ok(o) => o,
            Err(ObjError::ObjectNotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let size = obj.info.size;
        let mut stream = obj.stream(0, size).await?;
        let mut buf = Vec::with_capacity(size as usize);
        while let Some(chunk) = stream.next().await {
            buf.extend_from_slice(&chunk.map_err(|e| ObjError::Internal(e.to_string()))?);
        }
        Ok(Some(buf))
    }

    /// Writes a JSON document of the system bucket (by write quorum).
    pub(crate) async fn write_sys_doc(&self, key: &str, data: Vec<u8>) -> ObjResult<()> {
        let set = self.pools[0].set_for(SYS_BUCKET, key);
        let opts = PutOptions {
            content_type: Some("application/json".into()),
            content_length: Some(data.len() as u64),
            ..Default::default()
        };
        set.put_object(SYS_BUCKET, key, body(data), opts).await?;
        Ok(())
    }

    /// Runs `f` under the cluster-wide lock that serialises the changes of system document `key`.
    pub(crate) async fn with_sys_doc_lock<T>(
        &self,
        key: &str,
        f: impl std::future::Future<Output = ObjResult<T>>,
    ) -> ObjResult<T> {
        let set = self.pools[0].set_for(SYS_BUCKET, key);
        let _g = set.locks.update(SYS_BUCKET, key).await?;
        f.await
    }

    /// Changes `bucket`'s configuration with `change` (read, changed and written under one
    /// lock), and tells every node before returning.
    pub async fn update_bucket_config(
        &self,
        bucket: &str,
        change: impl FnOnce(&mut BucketConfig) -> ObjResult<()>,
    ) -> ObjResult<Arc<BucketConfig>> {
        self.bucket_info(bucket).await?;
        let key = doc_key(bucket);
        let cfg = self
            .with_sys_doc_lock(&key, async {
                let mut cfg = self.read_bucket_config(bucket).await?;
                change(&mut cfg)?;
                cfg.updated_nanos = super::now_nanos();
                let data = serde_json::to_vec(&cfg).expect("configurations serialize");
                self.write_sys_doc(&key, data).await?;
                Ok(cfg)
            })
            .await?;
        let cfg = Arc::new(cfg);
        self.configs.put(bucket, cfg.clone());
        self.broadcast_config(bucket).await;
        Ok(cfg)
    }

    /// Removes `bucket`'s configuration (the bucket is gone).
    pub async fn delete_bucket_config(&self, bucket: &str) -> ObjResult<()> {
        let key = doc_key(bucket);
        let set = self.pools[0].set_for(SYS_BUCKET, &key);
        set.delete(SYS_BUCKET, &key).await?;
        self.configs.invalidate(bucket);
        self.broadcast_config(bucket).await;
        Ok(())
    }

    async fn broadcast_config(&self, bucket: &str) {
        if let Some(b) = self.configs.broadcast.get() {
            b(bucket.to_string()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_of_older_and_newer_servers_decode() {
        let old: BucketConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(old, BucketConfig::default());
        let newer: BucketConfig =
            serde_json::from_str(r#"{"versioning":"Enabled","future_field":1}"#).unwrap();
        assert_eq!(newer.versioning, Versioning::Enabled);
    }
}
