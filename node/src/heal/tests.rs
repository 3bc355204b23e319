//! Healing one object on a real 4-drive set in temporary directories: lost and rotten shards,
//! a lost meta, a stale copy, a dangling version, and a heal that cannot complete.

use super::budget::IoBudget;
use super::object::heal_object;
use crate::erasure::{BitrotAlgo, CodecKind};
use crate::object::lock::NsLock;
use crate::object::{ErasureSet, PutOptions};
use crate::store::format::Format;
use crate::store::local::LocalDrive;
use crate::store::{Drive, PartState};
use bytes::Bytes;
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;

struct TestSet {
    _dirs: Vec<tempfile::TempDir>,
    roots: Vec<PathBuf>,
    set: ErasureSet,
}

async fn test_set() -> TestSet {
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let formats = Format::new_pool(uuid::Uuid::new_v4(), 0, 1, 4);
    let mut drives: Vec<Arc<dyn Drive>> = Vec::new();
    for (dir, f) in dirs.iter().zip(&formats) {
        let d = LocalDrive::new(dir.path());
        d.prepare().unwrap();
        d.write_format(f).await.unwrap();
        d.make_bucket("bkt", 1).await.unwrap();
        drives.push(Arc::new(d));
    }
    TestSet {
        roots: dirs.iter().map(|d| d.path().to_path_buf()).collect(),
        _dirs: dirs,
        set: ErasureSet {
            pool: 0,
            index: 0,
            drives,
            parity: 2,
            rrs_parity: 1,
            codec: CodecKind::RsErasure,
            bitrot: BitrotAlgo::Xxh3_128,
            locks: Arc::new(NsLock::local(std::time::Duration::from_secs(30))),
            heal: Default::default(),
        },
    }
}

fn body(data: &[u8]) -> crate::object::BodyStream {
    let b = Bytes::copy_from_slice(data);
    futures::stream::once(async move { Ok(b) }).boxed()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn read(set: &ErasureSet, key: &str) -> Vec<u8> {
    let obj = set.open_object("bkt", key, None).await.unwrap();
    let size = obj.info.size;
    let mut s = obj.stream(0, size).await.unwrap();
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

/// Every drive holds the latest version with shards that pass a deep check.
async fn fully_redundant(set: &ErasureSet, key: &str) -> bool {
    for d in &set.drives {
        let Ok(meta) = d.read_meta("bkt", key).await else {
            return false;
        };
        let v = meta.latest().unwrap();
        if v.data_dir.is_some() {
            match d.check_parts("bkt", key, v, true).await {
                Ok(p) if p.iter().all(|s| *s == PartState::Ok) => {}
                _ => return false,
            }
        }
    }
    true
}

fn data_dir(root: &std::path::Path, key: &str) -> PathBuf {
    let dir = root.join("bkt").join(key);
    std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.path().is_dir())
        .expect("a data dir")
        .path()
}

#[tokio::test]
async fn lost_and_rotten_shards_are_rebuilt_and_verified() {
    let t = test_set().await;
    let data = pattern(3 << 20, 7);
    t.set
        .put_object("bkt", "big", body(&data), PutOptions::default())
        .await
        .unwrap();
    // Drive 0 loses its shard file, drive 1's shard rots in the middle.
    std::fs::remove_file(data_dir(&t.roots[0], "big").join("part.1")).unwrap();
    let rotten = data_dir(&t.roots[1], "big").join("part.1");
    let mut bytes = std::fs::read(&rotten).unwrap();
    bytes[1_000_000] ^= 0xff;
    std::fs::write(&rotten, bytes).unwrap();
    assert_eq!(read(&t.set, "big").await, data, "reads reconstruct");
    assert!(!fully_redundant(&t.set, "big").await);

    // A shallow heal finds the missing file but not the rot; a deep one finds both.
    let budget = IoBudget::unlimited();
    let r = heal_object(&t.set, "bkt", "big", false, &budget)
        .await
        .unwrap();
    assert_eq!((r.drives_healed, r.complete), (1, true), "{r:?}");
    assert!(!fully_redundant(&t.set, "big").await);
    let r = heal_object(&t.set, "bkt", "big", true, &budget)
        .await
        .unwrap();
    assert_eq!((r.drives_healed, r.complete), (1, true), "{r:?}");
    assert!(r.bytes_written > 0);
    assert!(fully_redundant(&t.set, "big").await);
    assert_eq!(read(&t.set, "big").await, data);
    // Nothing left to do.
    let r = heal_object(&t.set, "bkt", "big", true, &budget)
        .await
        .unwrap();
    assert!(!r.changed() && r.complete, "{r:?}");
}

#[tokio::test]
async fn a_lost_meta_and_a_stale_copy_are_replaced() {
    let t = test_set().await;
    let budget = IoBudget::unlimited();
    let small = pattern(10_000, 3);
    t.set
        .put_object("bkt", "small", body(&small), PutOptions::default())
        .await
        .unwrap();
    std::fs::remove_file(t.roots[2].join("bkt/small/rustfs.meta")).unwrap();
    // Drive 3 keeps an old copy of "big" while the others take a new one.
    let old = pattern(2 << 20, 1);
    t.set
        .put_object("bkt", "big", body(&old), PutOptions::default())
        .await
        .unwrap();
    let stale = std::fs::read(t.roots[3].join("bkt/big/rustfs.meta")).unwrap();
    let stale_dir = data_dir(&t.roots[3], "big");
    let saved = tempfile::tempdir().unwrap();
    let saved_dir = saved.path().join("d");
    std::fs::rename(&stale_dir, &saved_dir).unwrap();
    let new = pattern(2 << 20, 2);
    t.set
        .put_object("bkt", "big", body(&new), PutOptions::default())
        .await
        .unwrap();
    std::fs::remove_dir_all(data_dir(&t.roots[3], "big")).unwrap();
    std::fs::rename(&saved_dir, &stale_dir).unwrap();
    std::fs::write(t.roots[3].join("bkt/big/rustfs.meta"), stale).unwrap();

    for key in ["small", "big"] {
        let r = heal_object(&t.set, "bkt", key, false, &budget)
            .await
            .unwrap();
        assert_eq!((r.drives_healed, r.complete), (1, true), "{key}: {r:?}");
        assert!(fully_redundant(&t.set, key).await, "{key}");
    }
    assert_eq!(read(&t.set, "small").await, small);
    assert_eq!(read(&t.set, "big").await, new);
    assert!(!stale_dir.exists(), "the stale data dir is gone");
}

#[tokio::test]
async fn a_version_on_too_few_drives_is_removed() {
    let t = test_set().await;
    let data = pattern(1000, 9);
    t.set
        .put_object("bkt", "dangling", body(&data), PutOptions::default())
        .await
        .unwrap();
    // A delete that three drives saw and one missed.
    for d in &t.set.drives[1..] {
        d.delete_version("bkt", "dangling", None).await.unwrap();
    }
    let r = heal_object(&t.set, "bkt", "dangling", false, &IoBudget::unlimited())
        .await
        .unwrap();
    assert_eq!((r.dangling_removed, r.complete), (1, true), "{r:?}");
    assert!(t.set.drives[0].read_meta("bkt", "dangling").await.is_err());
}

#[tokio::test]
async fn a_heal_short_of_good_copies_says_so() {
    let t = test_set().await;
    let data = pattern(2 << 20, 5);
    t.set
        .put_object("bkt", "k", body(&data), PutOptions::default())
        .await
        .unwrap();
    for root in &t.roots[..3] {
        std::fs::remove_file(data_dir(root, "k").join("part.1")).unwrap();
    }
    let r = heal_object(&t.set, "bkt", "k", false, &IoBudget::unlimited())
        .await
        .unwrap();
    assert!(!r.complete && r.drives_healed == 0, "{r:?}");
    assert!(r.problem.unwrap().contains("good copies"));
}
