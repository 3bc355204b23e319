//! Erasure-set layout and quorum math (ARCHITECTURE.md, "Placement and quorums").
//!
//! * Set size: with 4 or more nodes one drive per node up to 16 (4 nodes → sets of 4, 8 → 8,
//!   12 → 12, 16+ → 16); with 1–3 nodes the largest size ≤ 16 that splits the drives evenly and
//!   takes the same number of drives from each node (MinIO's symmetry rule).
//! * Parity defaults to half the set; `EC:N` overrides it within `0..=set/2`.
//! * Read quorum = data shards; write quorum = data shards, plus one when data == parity, so two
//!   halves of a partitioned set can never both accept a write.

use siphasher::sip::SipHasher24;
use std::hash::Hasher;
use std::str::FromStr;
use thiserror::Error;

/// Largest erasure set.
pub const MAX_SET_DRIVES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LayoutError {
    #[error("{total} drives on {nodes} node(s) cannot be split into equal erasure sets of at most {MAX_SET_DRIVES} drives with the same number of drives per node — use a drive count per pool that is a multiple of 2..16")]
    NoSetSize { total: usize, nodes: usize },
    #[error("RUSTFS_ERASURE_SET_DRIVE_COUNT={want} does not divide the pool's {total} drives into sets of at most {MAX_SET_DRIVES} with equal drives per node")]
    BadOverride { want: usize, total: usize },
    #[error("storage class '{0}' is not of the form EC:N (N = parity drives per set)")]
    BadStorageClass(String),
    #[error("storage class EC:{parity} is outside 0..={max} for erasure sets of {set} drives")]
    ParityOutOfRange {
        parity: usize,
        max: usize,
        set: usize,
    },
}

/// A storage class written `EC:N`: N parity shards per set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageClass {
    pub parity: usize,
}

impl FromStr for StorageClass {
    type Err = LayoutError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s
            .strip_prefix("EC:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| LayoutError::BadStorageClass(s.into()))?;
        Ok(StorageClass { parity: n })
    }
}

/// Chooses the erasure-set size for a pool of `total` drives spread evenly over `nodes` nodes.
pub fn set_drive_count(
    total: usize,
    nodes: usize,
    override_opt: Option<usize>,
) -> Result<usize, LayoutError> {
    let nodes = nodes.max(1);
    let fits = |s: usize| {
        (1..=MAX_SET_DRIVES).contains(&s) && total.is_multiple_of(s) && {
            if nodes >= 4 {
                s <= nodes
            } else {
                s.is_multiple_of(nodes)
            }
        }
    };
    if let Some(want) = override_opt {
        return if fits(want) {
            Ok(want)
        } else {
            Err(LayoutError::BadOverride { want, total })
        };
    }
    let cap = if nodes >= 4 {
        nodes.min(MAX_SET_DRIVES)
    } else {
        MAX_SET_DRIVES
    };
    (1..=cap)
        .rev()
        .find(|&s| fits(s))
        .filter(|&s| s > 1 || total == 1)
        .ok_or(LayoutError::NoSetSize { total, nodes })
}

/// Default parity for a set: half of it.
pub fn default_parity(set_drives: usize) -> usize {
    set_drives / 2
}

/// Validates a storage class against a set size, returning the parity to use.
pub fn parity_for(set_drives: usize, class: Option<StorageClass>) -> Result<usize, LayoutError> {
    match class {
        None => Ok(default_parity(set_drives)),
        Some(StorageClass { parity }) if parity <= set_drives / 2 && parity < set_drives => {
            Ok(parity)
        }
        Some(StorageClass { parity }) => Err(LayoutError::ParityOutOfRange {
            parity,
            max: set_drives / 2,
            set: set_drives,
        }),
    }
}

/// The erasure geometry of one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quorum {
    pub data: usize,
    pub parity: usize,
}

impl Quorum {
    pub fn new(set_drives: usize, parity: usize) -> Self {
        Quorum {
            data: set_drives - parity,
            parity,
        }
    }

    /// Drives that must answer with the object for a read.
    pub fn read(&self) -> usize {
        self.data
    }

    /// Drives that must acknowledge a write; one more than the data shards when data == parity.
    pub fn write(&self) -> usize {
        if self.data == self.parity {
            self.data + 1
        } else {
            self.data
        }
    }

    /// Drives this object can lose and still be read.
    pub fn tolerance(&self) -> usize {
        self.parity
    }
}

/// Parity for a write while `offline` drives of the set are unavailable: raised by the number of
/// offline drives (never above half the set) so the object still gets the promised redundancy.
pub fn parity_for_write(set_drives: usize, parity: usize, offline: usize) -> usize {
    if offline == 0 {
        return parity;
    }
    (parity + offline).min(set_drives / 2).max(parity)
}

fn sip(key: &[u8; 16], name: &str) -> u64 {
    let mut h = SipHasher24::new_with_key(key);
    h.write(name.as_bytes());
    h.finish()
}

/// The set of a pool that holds `object` (`bucket/key`), keyed by the deployment id so placement
/// is stable for a deployment and unpredictable across deployments.
pub fn set_index(deployment_key: &[u8; 16], object: &str, num_sets: usize) -> usize {
    (sip(deployment_key, object) % num_sets.max(1) as u64) as usize
}

/// The pool for a new object: chosen by a hash of its name, weighted by each pool's free bytes,
/// so pools fill in proportion to their free space and a name always maps to the same pool for
/// the same free-space figures. `None` when no pool has free space.
pub fn weighted_pool(deployment_key: &[u8; 16], object: &str, free_bytes: &[u64]) -> Option<usize> {
    let total: u128 = free_bytes.iter().map(|f| *f as u128).sum();
    if total == 0 {
        return None;
    }
    let mut point = (sip(deployment_key, object) as u128 * total) >> 64;
    for (i, f) in free_bytes.iter().enumerate() {
        if point < *f as u128 {
            return Some(i);
        }
        point -= *f as u128;
    }
    Some(free_bytes.len() - 1)
}

/// Rotation of the shard order inside a set: `distribution[i]` is the 1-based shard number stored
/// on the set's drive `i`.
pub fn shard_distribution(object: &str, set_drives: usize) -> Vec<usize> {
    let start = (sip(&[0x5a; 16], object) % set_drives as u64) as usize;
    (0..set_drives)
        .map(|i| 1 + (start + i) % set_drives)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_fill_by_free_space() {
        let key = [7u8; 16];
        let count = |free: &[u64]| {
            let mut n = vec![0usize; free.len()];
            for i in 0..10_000 {
                if let Some(p) = weighted_pool(&key, &format!("b/k{i}"), free) {
                    n[p] += 1;
                }
            }
            n
        };
        assert_eq!(count(&[0, 0]), vec![0, 0]);
        assert_eq!(count(&[5, 0]), vec![10_000, 0]);
        let even = count(&[1 << 40, 1 << 40]);
        assert!(even[0] > 4_500 && even[1] > 4_500, "{even:?}");
        let skewed = count(&[1 << 40, 3 << 40]);
        assert!(skewed[1] > 2 * skewed[0], "{skewed:?}");
        assert_eq!(
            weighted_pool(&key, "b/x", &[10, 20]),
            weighted_pool(&key, "b/x", &[10, 20])
        );
    }
    use proptest::prelude::*;

    #[test]
    fn set_sizes_table() {
        // (total drives, nodes, set size, data, parity) — the seed's rows first.
        let rows = [
            (4, 4, 4, 2, 2),
            (8, 8, 8, 4, 4),
            (12, 12, 12, 6, 6),
            (16, 16, 16, 8, 8),
            (16, 4, 4, 2, 2), // 4 nodes × 4 drives: one drive per node per set
            (32, 8, 8, 4, 4), // 8 nodes × 4 drives
            (48, 12, 12, 6, 6),
            (80, 20, 16, 8, 8), // 20 nodes × 4 drives: sets of 16
            (4, 1, 4, 2, 2),    // single node, 4 drives
            (16, 1, 16, 8, 8),
            (32, 1, 16, 8, 8),
            (6, 1, 6, 3, 3),
            (1, 1, 1, 1, 0), // one drive: no parity
            (8, 2, 8, 4, 4), // 2 nodes × 4 drives
            (12, 3, 12, 6, 6),
            (6, 6, 6, 3, 3),
            (10, 5, 5, 3, 2),
        ];
        for (total, nodes, set, data, parity) in rows {
            let s = set_drive_count(total, nodes, None).unwrap();
            assert_eq!(s, set, "total={total} nodes={nodes}");
            let q = Quorum::new(s, default_parity(s));
            assert_eq!(
                (q.data, q.parity),
                (data, parity),
                "total={total} nodes={nodes}"
            );
        }
    }

    #[test]
    fn set_size_refusals_and_override() {
        assert!(set_drive_count(17, 17, None).is_err());
        assert_eq!(set_drive_count(16, 1, Some(8)).unwrap(), 8);
        assert!(set_drive_count(16, 1, Some(5)).is_err());
        assert!(set_drive_count(16, 1, Some(32)).is_err());
        assert!(set_drive_count(8, 2, Some(3)).is_err());
    }

    #[test]
    fn quorums() {
        let q = Quorum::new(4, 2);
        assert_eq!((q.read(), q.write()), (2, 3));
        let q = Quorum::new(6, 2);
        assert_eq!((q.read(), q.write()), (4, 4));
        let q = Quorum::new(16, 8);
        assert_eq!((q.read(), q.write()), (8, 9));
        let q = Quorum::new(1, 0);
        assert_eq!((q.read(), q.write()), (1, 1));
    }

    #[test]
    fn storage_class() {
        assert_eq!("EC:2".parse::<StorageClass>().unwrap().parity, 2);
        assert!("EC2".parse::<StorageClass>().is_err());
        assert!("EC:-1".parse::<StorageClass>().is_err());
        assert_eq!(parity_for(4, Some(StorageClass { parity: 0 })).unwrap(), 0);
        assert_eq!(parity_for(4, Some(StorageClass { parity: 1 })).unwrap(), 1);
        assert!(parity_for(4, Some(StorageClass { parity: 3 })).is_err());
        assert_eq!(parity_for(8, None).unwrap(), 4);
    }

    #[test]
    fn raised_parity() {
        assert_eq!(parity_for_write(8, 2, 0), 2);
        assert_eq!(parity_for_write(8, 2, 1), 3);
        assert_eq!(parity_for_write(8, 2, 5), 4);
        assert_eq!(parity_for_write(4, 2, 1), 2);
    }

    proptest! {
        #[test]
        fn placement_is_stable(name in ".{1,64}", sets in 1usize..64, size in 1usize..17) {
            let key = [7u8; 16];
            let a = set_index(&key, &name, sets);
            prop_assert!(a < sets);
            prop_assert_eq!(a, set_index(&key, &name, sets));
            let d = shard_distribution(&name, size);
            prop_assert_eq!(&d, &shard_distribution(&name, size));
            let mut sorted = d.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, (1..=size).collect::<Vec<_>>());
        }
    }
}
