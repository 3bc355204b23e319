//! One behaviour suite for every [`Drive`] implementation: the local drive, and the same drive
//! reached through a real RPC server on loopback as a [`RemoteDrive`]. Whatever the object layer
//! relies on must hold for both.

use super::format::Format;
use super::local::LocalDrive;
use super::meta::{ErasureInfo, MetaSel, ObjectVersion, PartInfo};
use super::uploads::PartRecord;
use super::{CommitSource, Drive, DriveError, WalkEntry, WalkRequest};
use crate::erasure::{BitrotAlgo, CodecKind};
use crate::rpc::auth::RpcKeys;
use crate::rpc::client::Peer;
use crate::rpc::remote::RemoteDrive;
use crate::rpc::server::{router, RpcState};
use crate::rpc::wire::{DriveCall, PeerInfo};
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
            checksum: None,
        }],
        data_dir,
        inline_data: inline,
        attrs: Default::default(),
        storage_class: Default::default(),
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
    commit(d, key, CommitSource::Tmp(tmp), v.clone()).await;
}

/// Commits and settles, as the object layer does after a write quorum.
async fn commit(d: &dyn Drive, key: &str, src: CommitSource, v: ObjectVersion) {
    let id = Uuid::new_v4();
    if d.commit("photos", key, src, v, id).await.unwrap() {
        d.finish_commit(id).await.unwrap();
    }
}

async fn write_tmp(d: &dyn Drive, name: &str, bytes: &[u8]) -> Uuid {
    let tmp = Uuid::new_v4();
    let mut w = d.create_writer(tmp, name).await.unwrap();
    w.write(bytes).await.unwrap();
    w.finish().await.unwrap();
    tmp
}

/// A commit rolled back restores what it replaced, data included; a new key rolled back is gone.
async fn undo_suite(d: &dyn Drive) {
    let old = version(5, None, Some(b"old!!".to_vec()));
    commit(d, "undo/me", CommitSource::None, old.clone()).await;
    let mut new = version(3, Some(Uuid::new_v4()), None);
    new.mod_time_nanos = 2;
    let tmp = write_tmp(d, "part.1", b"new").await;
    let id = Uuid::new_v4();
    let kept = d
        .commit("photos", "undo/me", CommitSource::Tmp(tmp), new.clone(), id)
        .await
        .unwrap();
    assert!(kept, "an overwrite keeps an undo record");
    assert_eq!(
        d.read_meta("photos", "undo/me")
            .await
            .unwrap()
            .latest()
            .unwrap()
            .size,
        3
    );
    d.undo_commit("photos", "undo/me", id, &new, kept)
        .await
        .unwrap();
    let back = d.read_meta("photos", "undo/me").await.unwrap();
    assert_eq!(back.versions.len(), 1);
    assert!(back.latest().unwrap().same_as(&old));
    assert!(d
        .open_shard("photos", "undo/me", new.data_dir.unwrap(), 1)
        .await
        .is_err());
    // A large object overwritten and rolled back keeps its data dir.
    let big = version(4, Some(Uuid::new_v4()), None);
    let tmp = write_tmp(d, "part.1", b"data").await;
    commit(d, "undo/big", CommitSource::Tmp(tmp), big.clone()).await;
    let id = Uuid::new_v4();
    let kept = d
        .commit("photos", "undo/big", CommitSource::None, new_inline(), id)
        .await
        .unwrap();
    d.undo_commit("photos", "undo/big", id, &new_inline(), kept)
        .await
        .unwrap();
    let r = d
        .open_shard("photos", "undo/big", big.data_dir.unwrap(), 1)
        .await
        .unwrap();
    assert_eq!(r.read_at(0, 4).await.unwrap(), b"data");
    // A first commit rolled back leaves nothing.
    let id = Uuid::new_v4();
    let kept = d
        .commit("photos", "undo/fresh", CommitSource::None, new_inline(), id)
        .await
        .unwrap();
    assert!(!kept);
    d.undo_commit("photos", "undo/fresh", id, &new_inline(), kept)
        .await
        .unwrap();
    assert!(matches!(
        d.read_meta("photos", "undo/fresh").await,
        Err(DriveError::NotFound)
    ));
    for key in ["undo/me", "undo/big"] {
        d.delete_version("photos", key, None).await.unwrap();
    }
}

/// A reader asks for one version and gets that one alone.
async fn read_versions_suite(d: &dyn Drive) {
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for (t, id) in ids.iter().enumerate() {
        let mut v = version(4, None, Some(vec![t as u8; 4]));
        (v.version_id, v.mod_time_nanos) = (Some(*id), t as i64 + 1);
        commit(d, "many", CommitSource::None, v).await;
    }
    let latest = d
        .read_versions("photos", "many", MetaSel::Latest)
        .await
        .unwrap();
    assert_eq!(latest.versions.len(), 1);
    assert_eq!(latest.versions[0].version_id, Some(ids[4]));
    let one = d
        .read_versions("photos", "many", MetaSel::Version(Some(ids[1])))
        .await
        .unwrap();
    assert_eq!(one.versions.len(), 1);
    assert_eq!(one.versions[0].inline_data, Some(vec![1; 4]));
    let none = d
        .read_versions("photos", "many", MetaSel::Version(None))
        .await
        .unwrap();
    assert!(none.versions.is_empty());
    assert_eq!(
        d.read_meta("photos", "many").await.unwrap().versions.len(),
        5
    );
    assert!(matches!(
        d.read_versions("photos", "absent", MetaSel::Latest).await,
        Err(DriveError::NotFound)
    ));
    assert!(matches!(
        d.read_versions("nope", "many", MetaSel::Latest).await,
        Err(DriveError::BucketNotFound)
    ));
    for id in ids {
        d.delete_version("photos", "many", Some(id)).await.unwrap();
    }
}

fn new_inline() -> ObjectVersion {
    let mut v = version(3, None, Some(b"new".to_vec()));
    v.mod_time_nanos = 3;
    v
}

/// A reader that pinned a version keeps reaching its later parts after an overwrite and a delete.
async fn pinned_read_suite(d: &dyn Drive) {
    let mut v = version(6, Some(Uuid::new_v4()), None);
    v.parts.push(super::meta::PartInfo {
        number: 2,
        size: 3,
        etag: "e2".into(),
        checksum: None,
    });
    let tmp = Uuid::new_v4();
    for (name, bytes) in [("part.1", b"one"), ("part.2", b"two")] {
        let mut w = d.create_writer(tmp, name).await.unwrap();
        w.write(bytes).await.unwrap();
        w.finish().await.unwrap();
    }
    commit(d, "pinned", CommitSource::Tmp(tmp), v.clone()).await;
    let data = d
        .open_data("photos", "pinned", v.data_dir.unwrap())
        .await
        .unwrap();
    let first = data.open_part(1).await.unwrap();
    commit(d, "pinned", CommitSource::None, new_inline()).await;
    d.delete_version("photos", "pinned", None).await.unwrap();
    assert_eq!(first.read_at(0, 3).await.unwrap(), b"one");
    let second = data.open_part(2).await.unwrap();
    assert_eq!(second.read_at(0, 3).await.unwrap(), b"two");
    assert!(d
        .open_data("photos", "pinned", v.data_dir.unwrap())
        .await
        .is_err());
}

/// Names that could leave the drive never reach a path, from a local caller or a peer.
async fn hostile_names_suite(d: &dyn Drive) {
    for bucket in ["..", "../etc", "/etc", ".rustfs.sys"] {
        assert!(
            matches!(d.stat_bucket(bucket).await, Err(DriveError::InvalidName(_))),
            "{bucket}"
        );
        assert!(
            matches!(
                d.read_meta(bucket, "k").await,
                Err(DriveError::InvalidName(_))
            ),
            "{bucket}"
        );
        assert!(d.make_bucket(bucket, 1).await.is_err(), "{bucket}");
    }
    for key in ["../../etc/passwd", "/etc/passwd", "a/../../b", "a\0b"] {
        assert!(
            matches!(
                d.read_meta("photos", key).await,
                Err(DriveError::InvalidName(_))
            ),
            "{key}"
        );
        assert!(
            d.delete_version("photos", key, None).await.is_err(),
            "{key:?}"
        );
    }
    for name in ["../x", "/etc/passwd", "a/b"] {
        assert!(d.read_sys_file(name).await.is_err(), "{name}");
        assert!(d.write_sys_file(name, b"x").await.is_err(), "{name}");
        let written = async {
            let w = d.create_writer(Uuid::new_v4(), name).await?;
            w.finish().await
        };
        assert!(written.await.is_err(), "{name}");
    }
    for prefix in ["/etc/", "../../", "a/../../..", "../", "/"] {
        let got = walk_keys(
            d,
            "photos",
            WalkRequest {
                prefix: prefix.into(),
                recursive: false,
                ..Default::default()
            },
        )
        .await;
        assert!(got.is_empty(), "{prefix:?} listed {got:?}");
    }
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
    assert_eq!(d.read_format().await.unwrap(), Some(f.clone()));
    // A drive formatted by a newer build is refused, and left as it is.
    let newer = Format {
        version: crate::store::format::FORMAT_VERSION + 1,
        ..f.clone()
    };
    d.write_format(&newer).await.unwrap();
    let e = d.read_format().await.unwrap_err().to_string();
    assert!(e.contains("formatted by a newer build"), "{e}");
    d.write_format(&f).await.unwrap();
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
    commit(
        d.as_ref(),
        "2026/cat.jpg",
        CommitSource::Tmp(tmp),
        version(300_000, Some(data_dir), None),
    )
    .await;
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
    undo_suite(d.as_ref()).await;
    read_versions_suite(d.as_ref()).await;
    pinned_read_suite(d.as_ref()).await;
    // An inline object beside it, and a listing of both.
    commit(
        d.as_ref(),
        "readme.txt",
        CommitSource::None,
        version(5, None, Some(b"hello".to_vec())),
    )
    .await;
    hostile_names_suite(d.as_ref()).await;
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
    let part = |tmp: Uuid, etag: &str| PartRecord {
        checksum: None,
        number: 1,
        size: 10,
        etag: etag.into(),
        mod_time_nanos: 1,
        data_id: Some(tmp),
    };
    let tmp = write_tmp(d.as_ref(), "part", b"part-bytes").await;
    d.commit_part("photos", upload, &part(tmp, "first"), tmp)
        .await
        .unwrap();
    // Part 1 uploaded again: the record and the shard file it names change together.
    let tmp2 = write_tmp(d.as_ref(), "part", b"part-BYTES").await;
    d.commit_part("photos", upload, &part(tmp2, "second"), tmp2)
        .await
        .unwrap();
    assert_eq!(
        d.list_parts("photos", upload).await.unwrap(),
        vec![part(tmp2, "second")]
    );
    // Completing names the parts by ETag: a drive holding another upload of a part refuses.
    let mut done = version(10, Some(Uuid::new_v4()), None);
    done.parts[0].etag = "first".into();
    done.parts[0].size = 10;
    assert!(d
        .commit(
            "photos",
            "assembled",
            CommitSource::Upload(upload),
            done.clone(),
            Uuid::new_v4()
        )
        .await
        .is_err());
    done.parts[0].etag = "second".into();
    commit(
        d.as_ref(),
        "assembled",
        CommitSource::Upload(upload),
        done.clone(),
    )
    .await;
    let r = d
        .open_shard("photos", "assembled", done.data_dir.unwrap(), 1)
        .await
        .unwrap();
    assert_eq!(r.read_at(0, 10).await.unwrap(), b"part-BYTES");
    assert!(
        d.read_upload("photos", upload).await.is_ok(),
        "the upload stays until removed"
    );
    d.delete_upload("photos", upload).await.unwrap();
    d.delete_version("photos", "assembled", None).await.unwrap();
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

/// A local drive served by a real RPC server on loopback, and the remote drive reaching it;
/// `older` stands in front of the server as a peer of an older build would answer.
async fn served(
    dir: &tempfile::TempDir,
    older: Option<axum::middleware::FromFnLayer<OlderPeer, (), (axum::extract::Request,)>>,
) -> (RemoteDrive, tokio::task::JoinHandle<()>) {
    let local = local_drive(dir);
    let path = dir.path().join("d1").display().to_string();
    let keys = RpcKeys::from_secrets("suite-secret-suite-secret-suite-secret").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let drives: HashMap<String, Arc<dyn Drive>> = [(path.clone(), local as Arc<dyn Drive>)]
        .into_iter()
        .collect();
    let state = RpcState::new(
        keys.clone(),
        &addr,
        drives,
        PeerInfo {
            version: "test".into(),
            topology: String::new(),
            deployment_id: None,
            ready: true,
        },
    );
    let mut app = router(state);
    if let Some(layer) = older {
        app = app.layer(layer);
    }
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let peer = Peer::new(&addr, None, keys, Duration::from_secs(5));
    let remote = RemoteDrive::new(peer, &path, &format!("http://{addr}{path}"));
    (remote, server)
}

type OlderPeer = fn(
    axum::extract::Request,
    axum::middleware::Next,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = axum::response::Response> + Send>,
>;

static REFUSED_BY_OLDER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Answers a drive call added after the first v2 builds as those builds do: 400, undecodable.
fn older_peer(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = axum::response::Response> + Send>> {
    Box::pin(async move {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        if let Ok(DriveCall::ReadVersions(..)) = crate::rpc::wire::decode::<DriveCall>(&bytes) {
            REFUSED_BY_OLDER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let status = axum::http::StatusCode::BAD_REQUEST;
            return axum::response::IntoResponse::into_response((status, "undecodable drive call"));
        }
        next.run(axum::extract::Request::from_parts(
            parts,
            axum::body::Body::from(bytes),
        ))
        .await
    })
}

#[tokio::test]
async fn remote_drive_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let (remote, server) = served(&dir, None).await;
    assert!(!remote.is_local());
    drive_suite(Arc::new(remote)).await;
    server.abort();
}

#[tokio::test]
async fn remote_drive_reads_versions_from_a_peer_of_an_older_build() {
    let dir = tempfile::tempdir().unwrap();
    let layer = axum::middleware::from_fn(older_peer as OlderPeer);
    let (remote, server) = served(&dir, Some(layer)).await;
    remote
        .write_format(&Format::new_pool(Uuid::new_v4(), 0, 1, 4).remove(0))
        .await
        .unwrap();
    remote.make_bucket("photos", 1).await.unwrap();
    read_versions_suite(&remote).await;
    assert!(REFUSED_BY_OLDER.load(std::sync::atomic::Ordering::Relaxed) >= 5);
    server.abort();
}
