//! Start-up: check drives, format or verify them, build pools and sets, and settle credentials.

use crate::config::{
    credentials_from_env, generate_credentials, BitrotChoice, CodecChoice, Credentials,
    ServerConfig,
};
use crate::erasure::{BitrotAlgo, CodecKind};
use crate::object::lock::NsLock;
use crate::object::{ErasureSet, ObjectLayer, Pool};
use crate::store::format::Format;
use crate::store::local::LocalDrive;
use crate::store::{Drive, SYS_DIR};
use anyhow::{bail, Context, Result};
use rustfs_common::endpoint::PoolEndpoints;
use rustfs_common::layout::{parity_for, set_drive_count, StorageClass};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

const CREDENTIALS_FILE: &str = "credentials.json";

/// A drive directory must exist (it is created when missing), be a directory and be writable.
/// Returns its (device, inode) so the same directory listed twice is caught.
pub(crate) fn check_drive_dir(path: &str) -> Result<(u64, u64)> {
    let p = Path::new(path);
    if !p.exists() {
        std::fs::create_dir_all(p)
            .with_context(|| format!("drive {path} does not exist and cannot be created"))?;
    }
    let meta = std::fs::metadata(p).with_context(|| format!("drive {path} cannot be read"))?;
    if !meta.is_dir() {
        bail!("drive {path} is not a directory — pass a directory (one per disk)");
    }
    let probe = p.join(SYS_DIR).join(format!(".probe-{}", Uuid::new_v4()));
    std::fs::create_dir_all(p.join(SYS_DIR))
        .and_then(|()| std::fs::write(&probe, b"ok"))
        .and_then(|()| std::fs::remove_file(&probe))
        .with_context(|| {
            format!("drive {path} is not writable by this user — fix its ownership or permissions")
        })?;
    Ok((meta.dev(), meta.ino()))
}

/// The erasure geometry of one pool, from its drives and the configuration.
pub(crate) struct PoolGeometry {
    pub set_drives: usize,
    pub num_sets: usize,
    pub parity: usize,
    /// Parity of `REDUCED_REDUNDANCY` objects.
    pub rrs_parity: usize,
}

impl PoolGeometry {
    pub fn new(cfg: &ServerConfig, pool: &PoolEndpoints) -> Result<Self> {
        let class = |c: &Option<String>| c.as_deref().map(str::parse::<StorageClass>).transpose();
        let set_drives = set_drive_count(
            pool.endpoints.len(),
            pool.num_nodes(),
            cfg.erasure_set_drive_count,
        )?;
        let parity = parity_for(set_drives, class(&cfg.storage_class_standard)?)?;
        let rrs_parity = match class(&cfg.storage_class_rrs)? {
            None => parity.min(1),
            Some(StorageClass { parity: rrs }) if rrs <= parity => rrs,
            Some(StorageClass { parity: rrs }) => bail!(
                "RUSTFS_STORAGE_CLASS_RRS=EC:{rrs} is more parity than the standard class's EC:{parity}: reduced redundancy must not be more redundant; lower it or raise RUSTFS_STORAGE_CLASS_STANDARD"
            ),
        };
        Ok(PoolGeometry {
            set_drives,
            num_sets: pool.endpoints.len() / set_drives,
            parity,
            rrs_parity,
        })
    }
}

/// The outcome of settling a pool's formats.
pub(crate) enum Settled {
    /// The pool's reference format (its layout and deployment).
    Ready(Format),
    /// Not yet: why.
    Waiting(String),
}

/// Settles the formats of one pool's drives: formats fresh drives (when `may_format_fresh`),
/// formats empty drives this node owns into their slots, and refuses foreign or reordered drives.
/// `formats[i]`: `None` when drive `i` did not answer, `Some(None)` when it is not formatted.
pub(crate) async fn settle_pool(
    pool: usize,
    drives: &[Arc<dyn Drive>],
    formats: Vec<Option<Option<Format>>>,
    geo: &PoolGeometry,
    deployment: Option<Uuid>,
    may_format_fresh: bool,
    owned: &dyn Fn(usize) -> bool,
) -> Result<Settled> {
    let (num_sets, set_drives) = (geo.num_sets, geo.set_drives);
    // The reference: the layout most formatted drives agree on.
    let mut votes: HashMap<(Uuid, usize, Vec<Vec<Uuid>>), usize> = HashMap::new();
    for f in formats.iter().flatten().flatten() {
        *votes
            .entry((f.deployment_id, f.pool, f.sets.clone()))
            .or_default() += 1;
    }
    let reference = match votes.into_iter().max_by_key(|(_, n)| *n) {
        None if !may_format_fresh => {
            return Ok(Settled::Waiting(
                "no drive is formatted yet and the first node cannot reach a write quorum of every set to format them".into(),
            ))
        }
        None => {
            let id = deployment.unwrap_or_else(Uuid::new_v4);
            let fresh = Format::new_pool(id, pool, num_sets, set_drives);
            for ((d, f), answered) in drives.iter().zip(&fresh).zip(&formats) {
                if answered.is_some() {
                    // A peer that answered the read may fail the write (it went away, or a
                    // connection broke under load): try again next round, where the drives
                    // formatted now make the reference and the rest are formatted into it.
                    if let Err(e) = d.write_format(f).await {
                        return Ok(Settled::Waiting(format!(
                            "formatting drive {} failed: {e}",
                            d.endpoint()
                        )));
                    }
                }
            }
            tracing::info!(pool, deployment_id = %id, drives = drives.len(), "formatted fresh drives");
            return Ok(Settled::Ready(fresh[0].clone()));
        }
        Some(((id, p, sets), _)) => formats
            .iter()
            .flatten()
            .flatten()
            .find(|f| f.deployment_id == id && f.pool == p && f.sets == sets)
            .cloned()
            .expect("the reference came from a format"),
    };
    if let Some(dep) = deployment {
        if reference.deployment_id != dep {
            bail!(
                "pool {pool} belongs to deployment {}, pool 0 to {dep} — refusing to mix deployments; pass fresh drives for the new pool",
                reference.deployment_id
            );
        }
    }
    if reference.pool != pool
        || reference.sets.len() != num_sets
        || reference.sets[0].len() != set_drives
    {
        bail!(
            "pool {pool}: the drives were formatted as pool {} with {} sets of {} drives, but the command line gives {num_sets} sets of {set_drives} — start with the original pool arguments",
            reference.pool,
            reference.sets.len(),
            reference.sets[0].len()
        );
    }
    for (slot, (d, f)) in drives.iter().zip(&formats).enumerate() {
        let problem = match f {
            Some(Some(f)) if f.deployment_id != reference.deployment_id => format!(
                "drive {} belongs to deployment {}, the other drives to {} — refusing to start; pass a fresh drive or the right path",
                d.endpoint(),
                f.deployment_id,
                reference.deployment_id
            ),
            Some(Some(f)) if !f.same_layout(&reference) || f.slot() != Some(slot) => format!(
                "drive {} holds slot {:?} of pool {}, but is listed at position {slot} of pool {pool} — keep the drives in their original order",
                d.endpoint(),
                f.slot(),
                f.pool
            ),
            Some(None) if owned(slot) => {
                let f = reference.for_slot(slot).expect("slot inside the layout");
                // The rebuild tracker goes first: a crash before the format leaves a drive that is
                // formatted again and rebuilt on the next start.
                d.write_sys_file(
                    crate::heal::rebuild::TRACKER_FILE,
                    &crate::heal::rebuild::new_tracker_json(),
                )
                .await
                .with_context(|| format!("starting the rebuild of replaced drive {}", d.endpoint()))?;
                d.write_format(&f).await.with_context(|| format!("formatting replaced drive {}", d.endpoint()))?;
                tracing::warn!(drive = d.endpoint(), slot, "formatted an empty drive into its slot; its data will be rebuilt by healing");
                continue;
            }
            _ => continue,
        };
        if owned(slot) {
            bail!("{problem}");
        }
        tracing::warn!("{problem} (on another node; that node refuses to start)");
    }
    Ok(Settled::Ready(reference))
}

/// Builds a pool's erasure sets over its drives; `locks` makes each set's namespace lock.
pub(crate) fn build_pool_sets(
    cfg: &ServerConfig,
    pool: usize,
    drives: &[Arc<dyn Drive>],
    geo: &PoolGeometry,
    locks: impl Fn(&[Arc<dyn Drive>], usize) -> Arc<NsLock>,
) -> Vec<Arc<ErasureSet>> {
    let codec = match cfg.codec {
        CodecChoice::RsSimd => CodecKind::RsSimd,
        CodecChoice::RsErasure => CodecKind::RsErasure,
    };
    let bitrot = match cfg.bitrot {
        BitrotChoice::Xxh3 => BitrotAlgo::Xxh3_128,
        BitrotChoice::Highway => BitrotAlgo::Highway256,
        BitrotChoice::Blake3 => BitrotAlgo::Blake3,
    };
    tracing::info!(
        pool,
        num_sets = geo.num_sets,
        set_drives = geo.set_drives,
        data = geo.set_drives - geo.parity,
        parity = geo.parity,
        rrs_parity = geo.rrs_parity,
        "pool ready"
    );
    drives
        .chunks(geo.set_drives)
        .enumerate()
        .map(|(si, chunk)| {
            Arc::new(ErasureSet {
                pool,
                index: si,
                drives: chunk.to_vec(),
                parity: geo.parity,
                rrs_parity: geo.rrs_parity,
                codec,
                bitrot,
                locks: locks(chunk, si),
                heal: Default::default(),
            })
        })
        .collect()
}

/// Builds the object layer of a single node (local paths) from the command line.
pub async fn build(cfg: &ServerConfig, pools: &[PoolEndpoints]) -> Result<Arc<ObjectLayer>> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    let mut deployment = None;
    for (pi, pool) in pools.iter().enumerate() {
        let geo = PoolGeometry::new(cfg, pool)?;
        let mut drives: Vec<Arc<dyn Drive>> = Vec::new();
        for ep in &pool.endpoints {
            let id = check_drive_dir(ep.path())?;
            if let Some(other) = seen.insert(id, ep.path().to_string()) {
                bail!(
                    "drives {other} and {} are the same directory — each drive must be distinct",
                    ep.path()
                );
            }
            let d = LocalDrive::new(ep.path());
            d.prepare()
                .with_context(|| format!("preparing drive {}", ep.path()))?;
            drives.push(Arc::new(d));
        }
        let mut formats = Vec::new();
        for d in &drives {
            let f = d
                .read_format()
                .await
                .with_context(|| format!("reading the format of drive {}", d.endpoint()))?;
            formats.push(Some(f));
        }
        let reference =
            match settle_pool(pi, &drives, formats, &geo, deployment, true, &|_| true).await? {
                Settled::Ready(f) => f,
                Settled::Waiting(why) => bail!("pool {pi}: {why}"),
            };
        deployment = Some(reference.deployment_id);
        let placement_key = *reference.deployment_id.as_bytes();
        let home = out.first().map(|p: &Pool| home_locks(p));
        out.push(Pool {
            sets: build_pool_sets(cfg, pi, &drives, &geo, |_, _| match &home {
                None => Arc::new(NsLock::local(std::time::Duration::from_secs(
                    cfg.lock_timeout_secs.max(1),
                ))),
                Some(h) => h.clone(),
            }),
            placement_key,
        });
    }
    Ok(Arc::new(ObjectLayer::new(out)))
}

/// The lock every set of a later pool takes: the first pool's lock for the same key.
pub(crate) fn home_locks(first: &Pool) -> Arc<NsLock> {
    Arc::new(NsLock::Home(crate::object::lock::HomeLocks {
        placement_key: first.placement_key,
        sets: first.sets.iter().map(|s| s.locks.clone()).collect(),
    }))
}

/// Root credentials: from the environment, else the ones stored on the drives, else fresh ones
/// (stored so a restart keeps them). Returns whether they were generated now.
pub async fn credentials(layer: &ObjectLayer) -> Result<(Credentials, bool)> {
    if let Some(c) = credentials_from_env().map_err(anyhow::Error::msg)? {
        return Ok((c, false));
    }
    let drives: Vec<Arc<dyn Drive>> = layer.sets().flat_map(|s| s.drives.clone()).collect();
    for d in &drives {
        if let Ok(b) = d.read_sys_file(CREDENTIALS_FILE).await {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) {
                if let (Some(a), Some(s)) = (v["access_key"].as_str(), v["secret_key"].as_str()) {
                    return Ok((
                        Credentials {
                            access_key: a.into(),
                            secret_key: s.into(),
                        },
                        false,
                    ));
                }
            }
        }
    }
    let c = generate_credentials();
    let body =
        serde_json::json!({ "access_key": c.access_key, "secret_key": c.secret_key }).to_string();
    for d in &drives {
        d.write_sys_file(CREDENTIALS_FILE, body.as_bytes())
            .await
            .ok();
    }
    Ok((c, true))
}
