//! One behaviour suite for every [`Drive`] implementation: the local drive, and the same drive
//! reached through a real RPC server on loopback as a [`RemoteDrive`]. Whatever the object layer
//! relies on must hold for both.

use super::format::Format;
use super::local::LocalDrive;
use super::meta::{ErasureInfo, ObjectVersion, PartInfo};
use super::remote::RemoteDrive;
use super::{CommitSource, Drive, DriveError, WalkEntry, WalkRequest};
use crate::config::Credentials;
use crate::erasure::{BitrotAlgo, CodecKind};
use crate::rpc::auth::{TokenKey, TokenSource};
use crate::rpc::client::Peer;
use crate::rpc::server::{router, RpcState};
use crate::rpc::wire::PeerInfo;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

fn version(size: u64, data_dir: Option<Uuid>, inline: Option<Vec<u8>>) -> ObjectVersion {
    ObjectVersion {
        version_id: None,
        delete_marker: false,
        mod_time_nanos: 1,
        size,
        etag: "etag".into(),
        content_type: Some("text/plain".into()),
        user_meta: BTreeMap::new(),
        checksum: None,
        erasure: ErasureInfo {
            codec: CodecKind::RsErasure,
            data: 2,
            parity: 2,
            block_size: 1 << 20,
            index: 1,
            distribution: vec![1, 2, 3, 4],
            bitrot: BitrotAlgo::Xxh3_128,
        },
        parts: vec![PartInfo {
            number: 1,
            size,
            etag: "etag".into(),
        }],
        data_dir,
        inline_data: inline,
    }
}

async fn walk_keys(d: &dyn Drive, bucket: &str, req: WalkRequest) -> Vec<String> {
    let mut rx = d.walk(bucket, req).await.expect("walk starts");
    let mut out = Vec::new();
    while let Some(e) = rx.recv().await {
        out.push(match e.expect("walk entry") {
            WalkEntry::Object { key, .. } => key,
            WalkEntry::Prefix(p) => p,
        });
    }
    out
}

/// Shard 0 of `data` encoded 2+2 with hashes, as a PUT writes it.
fn encoded_shard(data: &[u8]) -> Vec<u8> {
    use crate::erasure::stream::BlockEncoder;
    let codec = crate::erasure::new_codec(CodecKind::RsErasure, 2, 2).unwrap();
    let enc = BlockEncoder::new(codec, BitrotAlgo::Xxh3_128);
    let mut bufs = vec![Vec::new(); 4];
    let mut out = Vec::new();
    for block in data.chunks(crate::erasure::BLOCK_SIZE) {
        enc.encode(block, &mut bufs).unwrap();
        out.extend_from_slice(&bufs[0]);
    }
    out
}

async fn commit_shard(d: &dyn Drive, key: &str, v: &ObjectVersion, shard: &[u8]) {
    let tmp = Uuid::new_v4();
    let mut w = d.create_writer(tmp, "part.1").await.unwrap();
    w.write(shard).await.unwrap();
    w.finish().await.unwrap();
    d.commit("photos", key, CommitSource::Tmp(tmp), v.clone())
        .await
        .unwrap();
}

/// Shard checks, shallow and deep, and a heal's rewrite of a data dir in place.
async fn check_parts_suite(d: &dyn Drive) {
    use super::PartState::{Corrupt, Missing, Ok};
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let v = version(data.len() as u64, Some(Uuid::new_v4()), None);
    let good = encoded_shard(&data);
    commit_shard(d, "checked", &v, &good).await;
    assert_eq!(
        d.check_parts("photos", "checked", &v, false).await.unwrap(),
        [Ok]
    );
    assert_eq!(
        d.check_parts("photos", "checked", &v, true).await.unwrap(),
        [Ok]
    );
    // Rotten bytes keep the length: only a deep check sees them.
    let mut rotten = good.clone();
    rotten[1_000_000] ^= 0x55;
    commit_shard(d, "checked", &v, &rotten).await;
    assert_eq!(
        d.check_parts("photos", "checked", &v, false).await.unwrap(),
        [Ok]
    );
    assert_eq!(
        d.check_parts("photos", "checked", &v, true).await.unwrap(),
        [Corrupt]
    );
    commit_shard(d, "checked", &v, &good[..good.len() - 1]).await;
    assert_eq!(
        d.check_parts("photos", "checked", &v, false).await.unwrap(),
        [Corrupt]
    );
    // A heal rewrites the same data dir: the good copy replaces the broken one.
    commit_shard(d, "checked", &v, &good).await;
    assert_eq!(
        d.check_parts("photos", "checked", &v, true).await.unwrap(),
        [Ok]
    );
    let other = version(data.len() as u64, Some(Uuid::new_v4()), None);
    assert_eq!(
        d.check_parts("photos", "checked", &other, true)
            .await
            .unwrap(),
        [Missing]
    );
    assert!(matches!(
        d.check_parts("nope", "checked", &v, false).await,
        Err(DriveError::BucketNotFound)
    ));
    d.delete_version("photos", "checked", None).await.unwrap();
}

/// The suite: `d` is a fresh, prepared drive.
async fn drive_suite(d: Arc<dyn Drive>) {
    // Format and system files.
    assert_eq!(d.read_format().await.unwrap(), None);
    let f = Format::new_pool(Uuid::new_v4(), 0, 1, 4).remove(0);
    d.write_format(&f).await.unwrap();
    assert_eq!(d.read_format().await.unwrap(), Some(f));
    assert!(d.is_online().await);
    d.write_sys_file("creds.json", b"{}").await.unwrap();
    assert_eq!(d.read_sys_file("creds.json").await.unwrap(), b"{}");
    assert!(matches!(
        d.read_sys_file("missing.json").await,
        Err(DriveError::NotFound)
    ));
    assert!(d.disk_info().await.unwrap().total_bytes > 0);

    // Buckets.
    d.make_bucket("photos", 42).await.unwrap();
    assert!(matches!(
        d.make_bucket("photos", 43).await,
        Err(DriveError::BucketExists)
    ));
    assert_eq!(d.stat_bucket("photos").await.unwrap().created_nanos, 42);
    assert_eq!(d.list_buckets().await.unwrap().len(), 1);
    assert!(matches!(
        d.read_meta("nope", "k").await,
        Err(DriveError::BucketNotFound)
    ));
    assert!(matches!(
        d.read_meta("photos", "k").await,
        Err(DriveError::NotFound)
    ));

    // A shard written in pieces, committed, then read at offsets through a pinned handle.
    let tmp = Uuid::new_v4();
    let data_dir = Uuid::new_v4();
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut w = d.create_writer(tmp, "part.1").await.unwrap();
    for chunk in bytes.chunks(70_000) {
        w.write(chunk).await.unwrap();
    }
    w.finish().await.unwrap();
    d.commit(
        "photos",
        "2026/cat.jpg",
        CommitSource::Tmp(tmp),
        version(300_000, Some(data_dir), None),
    )
    .await
    .unwrap();
    let meta = d.read_meta("photos", "2026/cat.jpg").await.unwrap();
    assert_eq!(meta.latest().unwrap().data_dir, Some(data_dir));
    let r = d
        .open_shard("photos", "2026/cat.jpg", data_dir, 1)
        .await
        .unwrap();
    assert_eq!(r.read_at(0, 10).await.unwrap(), &bytes[..10]);
    assert_eq!(r.read_at(250_000, 50_000).await.unwrap(), &bytes[250_000..]);
    assert!(
        r.read_at(299_990, 100).await.is_err(),
        "reads past the end fail"
    );
    check_parts_suite(d.as_ref()).await;
    // An inline object beside it, and a listing of both.
    d.commit(
        "photos",
        "readme.txt",
        CommitSource::None,
        version(5, None, Some(b"hello".to_vec())),
    )
    .await
    .unwrap();
    assert_eq!(
        walk_keys(
            d.as_ref(),
            "photos",
            WalkRequest {
                recursive: true,
                ..Default::default()
            }
        )
        .await,
        ["2026/cat.jpg", "readme.txt"]
    );
    assert_eq!(
        walk_keys(d.as_ref(), "photos", WalkRequest::default()).await,
        ["2026/", "readme.txt"]
    );
    assert!(matches!(
        d.walk("nope", WalkRequest::default()).await,
        Err(DriveError::BucketNotFound)
    ));
    assert!(matches!(
        d.delete_bucket("photos").await,
        Err(DriveError::BucketNotEmpty)
    ));

    // Multipart staging.
    let upload = Uuid::new_v4();
    d.write_upload("photos", upload, b"upload-meta")
        .await
        .unwrap();
    assert_eq!(
        d.read_upload("photos", upload).await.unwrap(),
        b"upload-meta"
    );
    assert_eq!(
        d.list_uploads("photos").await.unwrap(),
        vec![b"upload-meta".to_vec()]
    );
    let tmp = Uuid::new_v4();
    let mut w = d.create_writer(tmp, "part").await.unwrap();
    w.write(b"part-bytes").await.unwrap();
    w.finish().await.unwrap();
    d.commit_part("photos", upload, 1, tmp, b"part-meta")
        .await
        .unwrap();
    assert_eq!(
        d.list_parts("photos", upload).await.unwrap(),
        vec![b"part-meta".to_vec()]
    );
    d.delete_upload("photos", upload).await.unwrap();
    assert!(d.read_upload("photos", upload).await.is_err());
    let tmp = Uuid::new_v4();
    d.create_writer(tmp, "x")
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    d.remove_tmp(tmp).await.unwrap();

    // Deletes: versions go, then the bucket can.
    d.delete_version("photos", "2026/cat.jpg", None)
        .await
        .unwrap();
    d.delete_version("photos", "readme.txt", None)
        .await
        .unwrap();
    assert!(matches!(
        d.delete_version("photos", "readme.txt", None).await,
        Err(DriveError::NotFound)
    ));
    d.delete_bucket("photos").await.unwrap();
    assert!(d.list_buckets().await.unwrap().is_empty());
}

fn local_drive(dir: &tempfile::TempDir) -> Arc<LocalDrive> {
    let d = Arc::new(LocalDrive::new(dir.path().join("d1")));
    std::fs::create_dir_all(dir.path().join("d1")).unwrap();
    d.prepare().unwrap();
    d
}

#[tokio::test]
async fn local_drive_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    drive_suite(local_drive(&dir)).await;
}

#[tokio::test]
async fn remote_drive_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let local = local_drive(&dir);
    let path = dir.path().join("d1").display().to_string();
    let creds = Credentials {
        access_key: "suite-admin".into(),
        secret_key: "suite-secret".into(),
    };
    let key = TokenKey::new(&creds);
    let drives: HashMap<String, Arc<dyn Drive>> = [(path.clone(), local as Arc<dyn Drive>)]
        .into_iter()
        .collect();
    let state = RpcState::new(
        key.clone(),
        drives,
        PeerInfo {
            version: "test".into(),
            topology: String::new(),
            deployment_id: None,
            ready: true,
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    let peer = Peer::new(
        &addr,
        None,
        Arc::new(TokenSource::new(key)),
        Duration::from_secs(5),
    );
    let remote = RemoteDrive::new(peer, &path, &format!("http://{addr}{path}"));
    assert!(!remote.is_local());
    drive_suite(Arc::new(remote)).await;
    server.abort();
}
