//! The object layer over real local drives: races that need two pools or a chosen pool.

use super::{ObjError, ObjectLayer, PutOptions};
use crate::config::{Cli, Command};
use bytes::Bytes;
use clap::Parser;
use futures::StreamExt;
use std::sync::Arc;

/// A single node with two pools of four drives each.
async fn two_pools() -> (tempfile::TempDir, Arc<ObjectLayer>) {
    let dir = tempfile::tempdir().unwrap();
    let a = format!("{}/p1/d{{1...4}}", dir.path().display());
    let b = format!("{}/p2/d{{1...4}}", dir.path().display());
    let Command::Server(cfg) = Cli::parse_from(["rustfs", "server", &a, &b]).command else {
        unreachable!("a server command")
    };
    let pools = rustfs_common::endpoint::parse_pools(&cfg.drives).unwrap();
    let layer = crate::server::bootstrap::build(&cfg, &pools).await.unwrap();
    layer.make_bucket("bkt").await.unwrap();
    (dir, layer)
}

fn body(data: &'static [u8]) -> super::BodyStream {
    futures::stream::once(async move { Ok(Bytes::from_static(data)) }).boxed()
}

async fn holds(layer: &ObjectLayer, pool: usize, key: &str) -> bool {
    match layer.pools[pool]
        .set_for("bkt", key)
        .head("bkt", key, None)
        .await
    {
        Ok(_) => true,
        Err(ObjError::ObjectNotFound(_)) => false,
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_writes_of_a_key_in_two_pools_leave_it_in_one() {
    let (_dir, layer) = two_pools().await;
    for i in 0..20 {
        let key = format!("k{i}");
        // Two nodes whose free-space views differ pick different pools for the same new key.
        let sets = [
            layer.pools[0].set_for("bkt", &key).clone(),
            layer.pools[1].set_for("bkt", &key).clone(),
        ];
        let (other0, other1) = ([sets[1].clone()], [sets[0].clone()]);
        let first = sets[0].put_object_among(
            "bkt",
            &key,
            body(b"from pool 1"),
            PutOptions::default(),
            &other0,
        );
        let second = sets[1].put_object_among(
            "bkt",
            &key,
            body(b"from pool 2"),
            PutOptions::default(),
            &other1,
        );
        let (a, b) = tokio::join!(first, second);
        a.unwrap();
        b.unwrap();
        let (in1, in2) = (holds(&layer, 0, &key).await, holds(&layer, 1, &key).await);
        assert!(in1 ^ in2, "{key}: pool 1 holds it: {in1}, pool 2: {in2}");
        layer.delete_object("bkt", &key, None, false).await.unwrap();
        assert!(
            !holds(&layer, 0, &key).await && !holds(&layer, 1, &key).await,
            "{key} left behind"
        );
    }
}

/// Writes `versions` (made from each drive's own copy of `base`) into drive `i`'s meta.
fn add_versions(
    set: &super::ErasureSet,
    i: usize,
    base: &[crate::store::meta::ObjectVersion],
    made: &[(uuid::Uuid, i64)],
) {
    let path = set.drives[i]
        .local_root()
        .unwrap()
        .join("bkt/k/rustfs.meta");
    let mut meta = crate::store::meta::ObjectMeta::decode(&std::fs::read(&path).unwrap()).unwrap();
    for (id, t) in made {
        let mut v = base[i].clone();
        v.version_id = Some(*id);
        v.mod_time_nanos = *t;
        meta.add_version(v);
    }
    std::fs::write(&path, meta.encode()).unwrap();
}

#[tokio::test]
async fn a_drive_whose_newest_version_is_not_agreed_cannot_hide_the_agreed_latest() {
    let (_dir, layer) = two_pools().await;
    let set = layer.pools[0].set_for("bkt", "k").clone();
    set.put_object("bkt", "k", body(b"first"), PutOptions::default())
        .await
        .unwrap();
    let mut base = Vec::new();
    for d in &set.drives {
        base.push(d.read_meta("bkt", "k").await.unwrap().versions[0].clone());
    }
    let t = base[0].mod_time_nanos;
    // EC 2+2: "first" is on all four drives; B, newer, on drives 0 and 1 (a quorum of two); C,
    // newest, on drive 0 alone (a write that failed). The drives' newest records are C, B, first,
    // first: by them alone "first" would look like the agreed latest.
    let (b, c) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    add_versions(&set, 0, &base, &[(b, t + 10), (c, t + 20)]);
    add_versions(&set, 1, &base, &[(b, t + 10)]);
    let head = set.head("bkt", "k", None).await.unwrap();
    assert_eq!(
        head.version_id,
        Some(b),
        "HEAD picked a version hidden behind a newer one"
    );
    let obj = set.open_object("bkt", "k", None).await.unwrap();
    assert_eq!(obj.info.version_id, Some(b));
    // By id, each drive sends that version alone.
    let first = set.head("bkt", "k", Some(None)).await.unwrap();
    assert_eq!((first.version_id, first.mod_time_nanos), (None, t));
    assert!(matches!(
        set.head("bkt", "k", Some(Some(c))).await,
        Err(ObjError::VersionNotFound(_))
    ));
}
