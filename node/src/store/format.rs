//! `.rustfs.sys/format.json`: which deployment, pool and set slot a drive belongs to.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Current `format.json` version.
pub const FORMAT_VERSION: u32 = 1;
/// The `format` field of an erasure-coded deployment's drives.
pub const FORMAT_KIND: &str = "rustfs-erasure";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    pub version: u32,
    pub format: String,
    pub deployment_id: Uuid,
    /// Index of the pool this drive belongs to.
    pub pool: usize,
    /// Index of the erasure set inside the pool.
    pub set: usize,
    /// This drive's id.
    pub this: Uuid,
    /// Ids of every drive of every set of the pool, in slot order.
    pub sets: Vec<Vec<Uuid>>,
}

impl Format {
    /// Fresh formats for a pool of `num_sets` × `set_drives` drives, in endpoint order.
    pub fn new_pool(
        deployment_id: Uuid,
        pool: usize,
        num_sets: usize,
        set_drives: usize,
    ) -> Vec<Format> {
        let sets: Vec<Vec<Uuid>> = (0..num_sets)
            .map(|_| (0..set_drives).map(|_| Uuid::new_v4()).collect())
            .collect();
        let mut out = Vec::with_capacity(num_sets * set_drives);
        for (s, ids) in sets.iter().enumerate() {
            for id in ids {
                out.push(Format {
                    version: FORMAT_VERSION,
                    format: FORMAT_KIND.into(),
                    deployment_id,
                    pool,
                    set: s,
                    this: *id,
                    sets: sets.clone(),
                });
            }
        }
        out
    }

    /// The format for the drive in `slot` (endpoint order) of the same pool, as a reference
    /// format describes it: used to format a replaced, empty drive into its old slot.
    pub fn for_slot(&self, slot: usize) -> Option<Format> {
        let per_set = self.sets.first()?.len();
        let (set, idx) = (slot / per_set, slot % per_set);
        let this = *self.sets.get(set)?.get(idx)?;
        Some(Format {
            set,
            this,
            ..self.clone()
        })
    }

    /// The slot (endpoint position inside the pool) this drive's id occupies.
    pub fn slot(&self) -> Option<usize> {
        let per_set = self.sets.first()?.len();
        let idx = self
            .sets
            .get(self.set)?
            .iter()
            .position(|id| *id == self.this)?;
        Some(self.set * per_set + idx)
    }

    /// Whether this build can use a drive with this format: an erasure drive of a format version
    /// it reads. A newer version is refused, never half-understood: a node rolled back past a
    /// format change stops and says so instead of touching the drive.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT_KIND {
            return Err(format!(
                "holds a {:?} drive, not a {FORMAT_KIND:?} one — this is not a RustFS erasure drive; give this node another directory",
                self.format
            ));
        }
        if !(1..=FORMAT_VERSION).contains(&self.version) {
            return Err(format!(
                "has format version {}, this build reads 1 to {FORMAT_VERSION} — it was formatted by a newer build: run that build (or a newer one) on this node; nothing was changed",
                self.version
            ));
        }
        Ok(())
    }

    /// True when `other` describes the same deployment and pool layout.
    pub fn same_layout(&self, other: &Format) -> bool {
        self.deployment_id == other.deployment_id
            && self.pool == other.pool
            && self.sets == other.sets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_trip() {
        let f = Format::new_pool(Uuid::new_v4(), 0, 2, 4);
        assert_eq!(f.len(), 8);
        for (i, d) in f.iter().enumerate() {
            assert_eq!(d.slot(), Some(i));
            assert_eq!(f[0].for_slot(i).unwrap(), *d);
            assert!(d.same_layout(&f[0]));
        }
        assert!(f[0].for_slot(8).is_none());
    }

    #[test]
    fn only_erasure_drives_of_a_known_version_are_used() {
        let f = Format::new_pool(Uuid::new_v4(), 0, 1, 4).remove(0);
        f.check().unwrap();
        let newer = Format {
            version: FORMAT_VERSION + 1,
            ..f.clone()
        };
        assert!(newer
            .check()
            .unwrap_err()
            .contains("formatted by a newer build"));
        let zero = Format {
            version: 0,
            ..f.clone()
        };
        assert!(zero.check().is_err());
        let other = Format {
            format: "xl".into(),
            ..f
        };
        assert!(other
            .check()
            .unwrap_err()
            .contains("not a RustFS erasure drive"));
    }
}
