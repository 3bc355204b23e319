//! Golden fixtures of the inter-node RPC and of the on-disk files (ARCHITECTURE.md, "Versions").
//! RPC: one file per message in
//! `node/tests/fixtures/rpc/v2/`, written once by the build that introduced the message and never
//! edited. Every later build must decode each file and re-encode it to the very same bytes, and
//! must encode the sample value below to those bytes: that is what lets a node talk to one built
//! from the commit before it (rolling upgrades).
//!
//! A new call, reply or error gets a new sample here and a new file: run this test with
//! `RUSTFS_WRITE_RPC_FIXTURES=1` to write the files that are missing (it never overwrites one).

use crate::erasure::{BitrotAlgo, CodecKind};
use crate::rpc::wire::{
    self, DriveCall, DriveReply, LockCall, LockOwner, LockReply, LockRequest, PeerInfo, WireError,
};
use crate::store::format::Format;
use crate::store::meta::{
    ErasureInfo, LockMode, MetaSel, ObjectMeta, ObjectVersion, PartInfo, Retention, StorageClass,
    StoredChecksum, VersionAttrs,
};
use crate::store::uploads::PartRecord;
use crate::store::{BucketInfo, CommitSource, DiskInfo, PartState, WalkEntry, WalkRequest};
use serde_bytes::ByteBuf;
use std::collections::BTreeMap;
use std::path::PathBuf;
use uuid::Uuid;

/// The message type a fixture holds, i.e. how it is decoded.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `POST /drive` body.
    Call,
    /// `POST /drive` answer: `Result<DriveReply, WireError>`.
    Reply,
    /// `GET /read` 409 body.
    Error,
    /// `POST /write` answer: `Result<(), WireError>`.
    WriteReply,
    /// `POST /walk` body.
    WalkRequest,
    /// One `/walk` frame body: `Result<WalkEntry, WireError>`.
    WalkFrame,
    /// `POST /lock` body.
    LockRequest,
    /// `POST /lock` answer.
    LockReply,
    /// `GET /info` answer (JSON).
    PeerInfo,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rpc/v2")
}

fn id(n: u8) -> Uuid {
    Uuid::from_bytes([n; 16])
}

fn version() -> ObjectVersion {
    ObjectVersion {
        version_id: Some(id(1)),
        delete_marker: false,
        mod_time_nanos: 1_700_000_000_123_456_789,
        size: 5 << 20,
        etag: "d41d8cd98f00b204e9800998ecf8427e-2".into(),
        content_type: Some("application/octet-stream".into()),
        user_meta: BTreeMap::from([
            ("color".to_string(), "blue".to_string()),
            ("$h:cache-control".to_string(), "no-cache".to_string()),
        ]),
        checksum: Some(StoredChecksum {
            algorithm: "CRC32C".into(),
            value: "yZRlqg==-2".into(),
        }),
        erasure: ErasureInfo {
            codec: CodecKind::RsSimd,
            data: 2,
            parity: 2,
            block_size: 1 << 20,
            index: 3,
            distribution: vec![2, 3, 4, 1],
            bitrot: BitrotAlgo::Blake3,
        },
        parts: vec![
            PartInfo {
                number: 1,
                size: 5 << 20,
                etag: "aa".into(),
                checksum: Some("AAAAAA==".into()),
            },
            PartInfo {
                number: 2,
                size: 0,
                etag: "bb".into(),
                checksum: None,
            },
        ],
        data_dir: Some(id(2)),
        inline_data: Some(vec![0, 1, 2, 255]),
        attrs: attrs(),
        storage_class: StorageClass::ReducedRedundancy,
    }
}

fn attrs() -> VersionAttrs {
    VersionAttrs {
        changed_nanos: 1_700_000_001_000_000_000,
        tags: BTreeMap::from([("k".to_string(), "v".to_string())]),
        retention: Some(Retention {
            mode: LockMode::Governance,
            until_nanos: 1_800_000_000_000_000_000,
        }),
        legal_hold: true,
    }
}

fn plain_version() -> ObjectVersion {
    ObjectVersion {
        version_id: None,
        delete_marker: true,
        mod_time_nanos: 7,
        size: 0,
        etag: String::new(),
        content_type: None,
        user_meta: BTreeMap::new(),
        checksum: None,
        erasure: ErasureInfo {
            codec: CodecKind::RsErasure,
            data: 1,
            parity: 0,
            block_size: 1 << 20,
            index: 1,
            distribution: vec![1],
            bitrot: BitrotAlgo::Xxh3_128,
        },
        parts: Vec::new(),
        data_dir: None,
        inline_data: None,
        attrs: VersionAttrs::default(),
        storage_class: StorageClass::Standard,
    }
}

fn format() -> Format {
    Format {
        version: 1,
        format: "rustfs-erasure".into(),
        deployment_id: id(3),
        pool: 1,
        set: 2,
        this: id(4),
        sets: vec![vec![id(4), id(5)], vec![id(6), id(7)]],
    }
}

fn part_record() -> PartRecord {
    PartRecord {
        number: 3,
        size: 5 << 20,
        etag: "cc".into(),
        mod_time_nanos: 42,
        data_id: Some(id(8)),
        checksum: Some(StoredChecksum {
            algorithm: "SHA256".into(),
            value: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into(),
        }),
    }
}

fn meta() -> ObjectMeta {
    ObjectMeta {
        versions: vec![version(), plain_version()],
    }
}

/// The name of a call's fixture; the exhaustive match makes a new call fail to compile here
/// until it has a sample (and so a fixture).
fn call_name(c: &DriveCall) -> &'static str {
    use DriveCall as C;
    match c {
        C::IsOnline => "IsOnline",
        C::DiskInfo => "DiskInfo",
        C::ReadFormat => "ReadFormat",
        C::WriteFormat(..) => "WriteFormat",
        C::ReadSysFile(..) => "ReadSysFile",
        C::WriteSysFile(..) => "WriteSysFile",
        C::MakeBucket(..) => "MakeBucket",
        C::ListBuckets => "ListBuckets",
        C::StatBucket(..) => "StatBucket",
        C::DeleteBucket(..) => "DeleteBucket",
        C::ReadMeta(..) => "ReadMeta",
        C::RemoveTmp(..) => "RemoveTmp",
        C::Commit(..) => "Commit",
        C::UndoCommit(..) => "UndoCommit",
        C::FinishCommit(..) => "FinishCommit",
        C::DeleteVersion(..) => "DeleteVersion",
        C::OpenShard(..) => "OpenShard",
        C::OpenData(..) => "OpenData",
        C::OpenPart(..) => "OpenPart",
        C::CloseHandle(..) => "CloseHandle",
        C::WriteUpload(..) => "WriteUpload",
        C::ReadUpload(..) => "ReadUpload",
        C::ListUploads(..) => "ListUploads",
        C::CommitPart(..) => "CommitPart",
        C::ListParts(..) => "ListParts",
        C::DeleteUpload(..) => "DeleteUpload",
        C::CheckParts(..) => "CheckParts",
        C::UpdateAttrs(..) => "UpdateAttrs",
        C::ReadVersions(..) => "ReadVersions",
    }
}

fn calls() -> Vec<DriveCall> {
    use DriveCall as C;
    let b = || "bucket".to_string();
    vec![
        C::IsOnline,
        C::DiskInfo,
        C::ReadFormat,
        C::WriteFormat(format()),
        C::ReadSysFile("credentials.json".into()),
        C::WriteSysFile("healing.json".into(), ByteBuf::from(b"{\"a\":1}".to_vec())),
        C::MakeBucket(b(), 1_700_000_000_000_000_000),
        C::ListBuckets,
        C::StatBucket(b()),
        C::DeleteBucket(b()),
        C::ReadMeta(b(), "dir/key".into()),
        C::RemoveTmp(id(9)),
        C::Commit(
            b(),
            "dir/key".into(),
            CommitSource::Tmp(id(10)),
            Box::new(version()),
            id(11),
        ),
        C::UndoCommit(b(), "k".into(), id(11), Box::new(plain_version()), true),
        C::FinishCommit(id(11)),
        C::DeleteVersion(b(), "k".into(), Some(id(1))),
        C::OpenShard(b(), "k".into(), id(2), 1),
        C::OpenData(b(), "k".into(), id(2)),
        C::OpenPart(17, 2),
        C::CloseHandle(17),
        C::WriteUpload(b(), id(12), ByteBuf::from(vec![1, 2, 3])),
        C::ReadUpload(b(), id(12)),
        C::ListUploads(b()),
        C::CommitPart(b(), id(12), part_record(), id(13)),
        C::ListParts(b(), id(12)),
        C::DeleteUpload(b(), id(12)),
        C::CheckParts(b(), "k".into(), Box::new(version()), true),
        C::UpdateAttrs(b(), "k".into(), None, 99, attrs()),
        C::ReadVersions(b(), "k".into(), MetaSel::Version(Some(id(1)))),
    ]
    .into_iter()
    .chain([
        C::Commit(
            b(),
            "k".into(),
            CommitSource::None,
            Box::new(plain_version()),
            id(14),
        ),
        C::Commit(
            b(),
            "k".into(),
            CommitSource::Upload(id(12)),
            Box::new(version()),
            id(15),
        ),
        C::ReadVersions(b(), "k".into(), MetaSel::All),
        C::ReadVersions(b(), "k".into(), MetaSel::Latest),
        C::ReadVersions(b(), "k".into(), MetaSel::Version(None)),
    ])
    .collect()
}

fn reply_name(r: &DriveReply) -> &'static str {
    use DriveReply as R;
    match r {
        R::Unit => "Unit",
        R::Bool(..) => "Bool",
        R::DiskInfo(..) => "DiskInfo",
        R::Format(..) => "Format",
        R::Bytes(..) => "Bytes",
        R::BytesList(..) => "BytesList",
        R::Buckets(..) => "Buckets",
        R::Bucket(..) => "Bucket",
        R::Meta(..) => "Meta",
        R::Handle(..) => "Handle",
        R::Parts(..) => "Parts",
        R::PartRecords(..) => "PartRecords",
    }
}

fn replies() -> Vec<DriveReply> {
    use DriveReply as R;
    let bucket = BucketInfo {
        name: "bucket".into(),
        created_nanos: 1_700_000_000_000_000_000,
    };
    vec![
        R::Unit,
        R::Bool(true),
        R::DiskInfo(DiskInfo {
            total_bytes: 1 << 40,
            free_bytes: 1 << 39,
            used_bytes: (1 << 39) - 4096,
        }),
        R::Format(Some(format())),
        R::Bytes(ByteBuf::from(vec![0, 128, 255])),
        R::BytesList(vec![ByteBuf::from(vec![1]), ByteBuf::new()]),
        R::Buckets(vec![bucket.clone()]),
        R::Bucket(bucket),
        R::Meta(meta()),
        R::Handle(u64::MAX - 1),
        R::Parts(vec![PartState::Ok, PartState::Missing, PartState::Corrupt]),
        R::PartRecords(vec![part_record()]),
    ]
    .into_iter()
    .chain([R::Format(None), R::Bool(false)])
    .collect()
}

fn error_name(e: &WireError) -> &'static str {
    use WireError as E;
    match e {
        E::NotFound => "NotFound",
        E::BucketNotFound => "BucketNotFound",
        E::BucketExists => "BucketExists",
        E::BucketNotEmpty => "BucketNotEmpty",
        E::DiskFull => "DiskFull",
        E::Offline(..) => "Offline",
        E::Corrupt(..) => "Corrupt",
        E::InvalidName(..) => "InvalidName",
        E::Io(..) => "Io",
    }
}

fn errors() -> Vec<WireError> {
    use WireError as E;
    vec![
        E::NotFound,
        E::BucketNotFound,
        E::BucketExists,
        E::BucketNotEmpty,
        E::DiskFull,
        E::Offline("node n2:9000".into()),
        E::Corrupt("meta checksum mismatch".into()),
        E::InvalidName("key component \"..\"".into()),
        E::Io("/data/d1".into(), "permission denied".into()),
    ]
}

/// Every sample message: its fixture's file name, its type and its bytes as this build encodes
/// them.
fn samples() -> Vec<(String, Kind, Vec<u8>)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut add = |base: String, ext: &str, kind: Kind, bytes: Vec<u8>| {
        let n = seen.entry(base.clone()).or_default();
        let name = match *n {
            0 => format!("{base}.{ext}"),
            n => format!("{base}.{n}.{ext}"),
        };
        *seen.get_mut(&base).expect("just added") += 1;
        out.push((name, kind, bytes));
    };
    for c in calls() {
        let bytes = wire::encode(&c);
        add(
            format!("call.{}", call_name(&c)),
            "msgpack",
            Kind::Call,
            bytes,
        );
    }
    for r in replies() {
        let name = format!("reply.ok.{}", reply_name(&r));
        add(
            name,
            "msgpack",
            Kind::Reply,
            wire::encode(&Ok::<_, WireError>(r)),
        );
    }
    for e in errors() {
        let name = format!("reply.err.{}", error_name(&e));
        add(
            name,
            "msgpack",
            Kind::Reply,
            wire::encode(&Err::<DriveReply, _>(e)),
        );
    }
    for e in errors() {
        let name = format!("error.{}", error_name(&e));
        add(name, "msgpack", Kind::Error, wire::encode(&e));
    }
    add(
        "write_reply.ok".into(),
        "msgpack",
        Kind::WriteReply,
        wire::encode(&Ok::<(), WireError>(())),
    );
    add(
        "write_reply.err".into(),
        "msgpack",
        Kind::WriteReply,
        wire::encode(&Err::<(), _>(WireError::DiskFull)),
    );
    for req in [
        WalkRequest {
            prefix: "photos/".into(),
            start_after: Some("photos/2024/".into()),
            recursive: false,
        },
        WalkRequest::default(),
    ] {
        add(
            "walk_request".into(),
            "msgpack",
            Kind::WalkRequest,
            wire::encode(&req),
        );
    }
    let frames: Vec<Result<WalkEntry, WireError>> = vec![
        Ok(WalkEntry::Object {
            key: "photos/a.jpg".into(),
            meta: meta(),
        }),
        Ok(WalkEntry::Prefix("photos/2025/".into())),
        Err(WireError::BucketNotFound),
    ];
    for f in frames {
        add(
            "walk_frame".into(),
            "msgpack",
            Kind::WalkFrame,
            wire::encode(&f),
        );
    }
    let owner = LockOwner {
        node: "n1:9000".into(),
        boot: id(16),
    };
    let locks = [
        (
            LockCall::Lock {
                resource: "bucket/key".into(),
                uid: id(17),
                write: true,
            },
            Some(owner.clone()),
        ),
        (
            LockCall::Refresh {
                resource: "bucket/key".into(),
                uid: id(17),
            },
            Some(owner),
        ),
        (
            LockCall::Unlock {
                resource: String::new(),
                uid: Uuid::nil(),
            },
            None,
        ),
    ];
    for (call, owner) in locks {
        let req = LockRequest {
            call,
            hlc: 1_700_000_000_000_000_123,
            owner,
        };
        add(
            "lock_request".into(),
            "msgpack",
            Kind::LockRequest,
            wire::encode(&req),
        );
    }
    let reply = LockReply {
        granted: true,
        hlc: 1_700_000_000_000_000_456,
    };
    add(
        "lock_reply".into(),
        "msgpack",
        Kind::LockReply,
        wire::encode(&reply),
    );
    let info = PeerInfo {
        version: "0.1.0".into(),
        topology: "http://n{1...4}:9000/d{1...4}".into(),
        deployment_id: Some(id(18)),
        ready: true,
    };
    let json = serde_json::to_vec(&info).expect("peer info serializes");
    add("peer_info".into(), "json", Kind::PeerInfo, json);
    out
}

/// Decodes `bytes` as `kind` with this build's types and encodes the value again.
fn reencode(kind: Kind, bytes: &[u8]) -> Result<Vec<u8>, String> {
    fn again<T: serde::Serialize + serde::de::DeserializeOwned>(
        b: &[u8],
    ) -> Result<Vec<u8>, String> {
        Ok(wire::encode(&wire::decode::<T>(b)?))
    }
    match kind {
        Kind::Call => again::<DriveCall>(bytes),
        Kind::Reply => again::<Result<DriveReply, WireError>>(bytes),
        Kind::Error => again::<WireError>(bytes),
        Kind::WriteReply => again::<Result<(), WireError>>(bytes),
        Kind::WalkRequest => again::<WalkRequest>(bytes),
        Kind::WalkFrame => again::<Result<WalkEntry, WireError>>(bytes),
        Kind::LockRequest => again::<LockRequest>(bytes),
        Kind::LockReply => again::<LockReply>(bytes),
        Kind::PeerInfo => {
            let v: PeerInfo = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
            serde_json::to_vec(&v).map_err(|e| e.to_string())
        }
    }
}

/// On-disk files, in `node/tests/fixtures/disk/`: each object meta format a release wrote, the
/// drive format and a multipart part record, written by the first build that had this test (meta
/// format 2 is also what `v0.1.0` writes). Every later build must read each one back to the sample
/// (and write the current ones byte for byte), or a rollback and a roll forward would meet files
/// one side cannot read. Never edited; a new format level adds a file.
#[test]
fn on_disk_fixtures_are_read_by_this_build() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/disk");
    let write = std::env::var_os("RUSTFS_WRITE_RPC_FIXTURES").is_some();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("rustfs.meta.v2", meta().encode()),
        ("rustfs.meta.v1", crate::store::meta::encode_v1(&meta())),
        (
            "format.json",
            serde_json::to_vec_pretty(&format()).expect("format serializes"),
        ),
        (
            "part.json",
            serde_json::to_vec(&part_record()).expect("part record serializes"),
        ),
    ];
    for (name, bytes) in &files {
        let path = dir.join(name);
        if write && !path.exists() {
            std::fs::create_dir_all(&dir).expect("fixture dir");
            std::fs::write(&path, bytes).expect("fixture written");
        }
        let fixture = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{name}: {e} (RUSTFS_WRITE_RPC_FIXTURES=1 adds it)"));
        match *name {
            "rustfs.meta.v2" => {
                assert_eq!(ObjectMeta::decode(&fixture).unwrap(), meta(), "{name}");
                assert_eq!(&fixture, bytes, "{name}: this build writes it differently");
            }
            "rustfs.meta.v1" => {
                assert_eq!(ObjectMeta::decode(&fixture).unwrap(), meta(), "{name}");
                let one = ObjectMeta::decode_selected(&fixture, MetaSel::Latest).unwrap();
                assert_eq!(one.versions[..], meta().versions[..1], "{name}");
            }
            "format.json" => {
                let f: Format = serde_json::from_slice(&fixture).unwrap();
                assert_eq!(f, format(), "{name}");
                assert_eq!(&fixture, bytes, "{name}: this build writes it differently");
            }
            _ => {
                let p: PartRecord = serde_json::from_slice(&fixture).unwrap();
                assert_eq!(p, part_record(), "{name}");
                assert_eq!(&fixture, bytes, "{name}: this build writes it differently");
            }
        }
    }
}

#[test]
fn golden_fixtures_decode_and_reencode_to_the_same_bytes() {
    let dir = dir();
    let write = std::env::var_os("RUSTFS_WRITE_RPC_FIXTURES").is_some();
    let samples = samples();
    let mut failures = Vec::new();
    for (name, kind, bytes) in &samples {
        let path = dir.join(name);
        if write && !path.exists() {
            std::fs::create_dir_all(&dir).expect("fixture dir");
            std::fs::write(&path, bytes).expect("fixture written");
        }
        let fixture = match std::fs::read(&path) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{name}: {e} (RUSTFS_WRITE_RPC_FIXTURES=1 adds it)"));
                continue;
            }
        };
        if &fixture != bytes {
            failures.push(format!("{name}: this build encodes the sample differently"));
        }
        match reencode(*kind, &fixture) {
            Ok(again) if again == fixture => {}
            Ok(_) => failures.push(format!("{name}: decodes but re-encodes differently")),
            Err(e) => failures.push(format!("{name}: does not decode: {e}")),
        }
    }
    let known: std::collections::HashSet<&str> = samples.iter().map(|(n, ..)| n.as_str()).collect();
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let name = entry.expect("dir entry").file_name();
        let name = name.to_string_lossy();
        if name != "README.md" && !known.contains(name.as_ref()) {
            failures.push(format!(
                "{name}: a fixture without a sample (never delete one)"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "wire changed:\n{}",
        failures.join("\n")
    );
}
