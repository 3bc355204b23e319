//! `rustfs.meta`: the per-object, per-drive journal of versions (ARCHITECTURE.md, "On-disk
//! format"). The types are here; how they are laid out in the file is in `codec.rs`.

use crate::erasure::{BitrotAlgo, CodecKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

mod codec;
#[cfg(test)]
pub(crate) use codec::encode_v1;
pub use codec::{read_selected, MetaError, MetaSel, MetaSource, SelectError, META_VERSION};

/// How an object's bytes are spread over its set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureInfo {
    pub codec: CodecKind,
    pub data: usize,
    pub parity: usize,
    pub block_size: usize,
    /// 1-based shard number held by this drive.
    pub index: usize,
    /// `distribution[i]` = shard number on the set's drive `i`.
    pub distribution: Vec<usize>,
    pub bitrot: BitrotAlgo,
}

/// One part of an object: a whole simple object is part 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartInfo {
    pub number: u32,
    pub size: u64,
    pub etag: String,
    /// The part's own `x-amz-checksum-*` (base64; its algorithm is the object's), when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// A checksum the client asked for (`x-amz-checksum-*`), stored as the base64 value S3 returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StoredChecksum {
    pub algorithm: String,
    pub value: String,
}

/// The S3 storage class a version was written with (`x-amz-storage-class`). It names the parity
/// the version got: the set's standard parity, or the lower reduced-redundancy one (see
/// ARCHITECTURE.md, "Storage classes").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StorageClass {
    #[default]
    Standard,
    ReducedRedundancy,
}

impl StorageClass {
    pub fn is_standard(&self) -> bool {
        *self == StorageClass::Standard
    }

    /// The name S3 uses.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageClass::Standard => "STANDARD",
            StorageClass::ReducedRedundancy => "REDUCED_REDUNDANCY",
        }
    }

    /// The class an `x-amz-storage-class` names, `None` for classes this store does not have.
    pub fn parse(name: &str) -> Option<StorageClass> {
        match name {
            "STANDARD" => Some(StorageClass::Standard),
            "REDUCED_REDUNDANCY" => Some(StorageClass::ReducedRedundancy),
            _ => None,
        }
    }
}

/// One version of an object as stored on one drive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectVersion {
    /// `None` is the S3 "null" version (unversioned writes replace it).
    pub version_id: Option<Uuid>,
    pub delete_marker: bool,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mod_time_nanos: i64,
    pub size: u64,
    pub etag: String,
    pub content_type: Option<String>,
    /// `x-amz-meta-*` (without prefix) and stored standard headers (`cache-control`, …).
    pub user_meta: BTreeMap<String, String>,
    pub checksum: Option<StoredChecksum>,
    pub erasure: ErasureInfo,
    pub parts: Vec<PartInfo>,
    pub data_dir: Option<Uuid>,
    /// This drive's hashed shard stream for small objects, instead of a data dir.
    #[serde(with = "serde_bytes", default)]
    pub inline_data: Option<Vec<u8>>,
    /// What can change without a new version (tags, ...).
    #[serde(default)]
    pub attrs: VersionAttrs,
    #[serde(default, skip_serializing_if = "StorageClass::is_standard")]
    pub storage_class: StorageClass,
}

/// A version's attributes that change in place (PutObjectTagging and the like), stamped with the
/// time of their last change so that drives that missed a change are outvoted by the newest copy
/// (see ARCHITECTURE.md, "Versions of an object").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionAttrs {
    /// Hybrid-logical time of the last change; 0: never changed since the version was written.
    #[serde(default)]
    pub changed_nanos: i64,
    /// Object tags, in key order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Object-lock retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// Object-lock legal hold.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legal_hold: bool,
}

/// An object-lock retention mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockMode {
    /// Removable early with `x-amz-bypass-governance-retention`.
    Governance,
    /// Removable by nobody until it ends.
    Compliance,
}

/// A version's object-lock retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub mode: LockMode,
    /// Retain-until date, nanoseconds since the Unix epoch.
    pub until_nanos: i64,
}

impl ObjectVersion {
    /// True when two drives hold the same version (ignoring per-drive fields).
    pub fn same_as(&self, other: &ObjectVersion) -> bool {
        self.version_id == other.version_id
            && self.mod_time_nanos == other.mod_time_nanos
            && self.delete_marker == other.delete_marker
            && self.size == other.size
            && self.etag == other.etag
            && self.data_dir == other.data_dir
            && self.erasure.data == other.erasure.data
            && self.erasure.distribution == other.erasure.distribution
    }
}

/// The journal of versions of one object on one drive, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub versions: Vec<ObjectVersion>,
}

impl ObjectMeta {
    pub fn latest(&self) -> Option<&ObjectVersion> {
        self.versions.first()
    }

    /// Adds `v` as the newest version. A version with the same id (the null version included) is
    /// replaced; the data dirs no longer referenced are returned for removal.
    pub fn add_version(&mut self, v: ObjectVersion) -> Vec<Uuid> {
        let mut freed = Vec::new();
        self.versions.retain(|old| {
            if old.version_id == v.version_id {
                freed.extend(old.data_dir.filter(|d| Some(*d) != v.data_dir));
                false
            } else {
                true
            }
        });
        self.versions.push(v);
        self.versions
            .sort_by_key(|v| std::cmp::Reverse(v.mod_time_nanos));
        freed
    }

    /// Keeps only the versions `sel` asks for.
    pub fn select(&mut self, sel: MetaSel) {
        match sel {
            MetaSel::All => {}
            MetaSel::Latest => self.versions.truncate(1),
            MetaSel::Version(id) => self.versions.retain(|v| v.version_id == id),
        }
    }

    /// Removes the version with `version_id`, returning it.
    pub fn remove_version(&mut self, version_id: Option<Uuid>) -> Option<ObjectVersion> {
        let pos = self
            .versions
            .iter()
            .position(|v| v.version_id == version_id)?;
        Some(self.versions.remove(pos))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn version(id: Option<Uuid>, t: i64, inline: Option<Vec<u8>>) -> ObjectVersion {
        ObjectVersion {
            version_id: id,
            delete_marker: false,
            mod_time_nanos: t,
            size: 42,
            etag: "abc".into(),
            content_type: Some("text/plain".into()),
            user_meta: BTreeMap::from([("k".into(), "v".into())]),
            checksum: None,
            erasure: ErasureInfo {
                codec: CodecKind::RsSimd,
                data: 2,
                parity: 2,
                block_size: 1 << 20,
                index: 1,
                distribution: vec![1, 2, 3, 4],
                bitrot: BitrotAlgo::DEFAULT,
            },
            parts: vec![PartInfo {
                number: 1,
                size: 42,
                etag: "abc".into(),
                checksum: None,
            }],
            data_dir: inline.is_none().then(Uuid::new_v4),
            inline_data: inline,
            attrs: Default::default(),
            storage_class: Default::default(),
        }
    }

    #[test]
    fn null_version_is_replaced() {
        let mut m = ObjectMeta::default();
        let a = version(None, 1, None);
        let old_dir = a.data_dir;
        m.add_version(a);
        let freed = m.add_version(version(None, 2, None));
        assert_eq!(m.versions.len(), 1);
        assert_eq!(freed, vec![old_dir.unwrap()]);
        m.add_version(version(Some(Uuid::new_v4()), 3, None));
        assert_eq!(m.latest().unwrap().mod_time_nanos, 3);
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// A version for tests elsewhere in the crate.
    pub fn version() -> super::ObjectVersion {
        super::tests::version(None, 1, None)
    }
}
