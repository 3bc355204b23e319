//! How `rustfs.meta` is laid out (ARCHITECTURE.md, "On-disk format").
//!
//! Version 2, written: magic `RFSM`, format version (u16 LE), index length (u32 LE), XXH3-64 of
//! the index (u64 LE); the index, MessagePack: per version, newest first, its id, mod time, and
//! the length and XXH3-64 of its record; then the records, each one version as named MessagePack
//! (so fields can be added later with defaults), in index order. A reader that wants one version
//! reads the header, the index and that record only, so a GET of the latest costs the same with
//! one version as with thousands.
//!
//! Version 1, still read: the same header, but the body is the whole journal as one MessagePack
//! document. It is rewritten as version 2 by the next change of the object.
//!
//! A file whose magic, version, lengths or checksums are wrong is refused, never half-read.

use super::{ObjectMeta, ObjectVersion};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use uuid::Uuid;

const MAGIC: &[u8; 4] = b"RFSM";
/// Current meta format version.
pub const META_VERSION: u16 = 2;
/// The first format: one MessagePack document of all versions.
const V1: u16 = 1;
const HEADER_LEN: usize = 4 + 2 + 4 + 8;
/// What a partial read takes first: the header, the index and, in most files, the newest record.
const FIRST_READ: usize = 8 << 10;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetaError {
    #[error("object meta is truncated or has no RFSM header")]
    Truncated,
    #[error("object meta format version {0} is not one this server understands (1 to {META_VERSION}); upgrade the server")]
    UnknownVersion(u16),
    #[error("object meta checksum mismatch (corrupt on disk)")]
    Checksum,
    #[error("object meta body does not decode: {0}")]
    Decode(String),
}

/// Why a partial read of a meta file failed.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Meta(#[from] MetaError),
}

/// Which versions of an object a read wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetaSel {
    All,
    /// The newest version of this drive.
    Latest,
    /// The version with this id (`None`: the null version).
    Version(Option<Uuid>),
}

/// Where a meta file's bytes come from: a buffer holding all of it, or the file itself.
pub trait MetaSource {
    /// `len` bytes at `offset`; the caller never asks beyond the length it was given.
    fn read_at(&self, offset: usize, len: usize) -> std::io::Result<Cow<'_, [u8]>>;
}

impl MetaSource for [u8] {
    fn read_at(&self, offset: usize, len: usize) -> std::io::Result<Cow<'_, [u8]>> {
        Ok(Cow::Borrowed(&self[offset..offset + len]))
    }
}

impl MetaSource for std::fs::File {
    fn read_at(&self, offset: usize, len: usize) -> std::io::Result<Cow<'_, [u8]>> {
        let mut buf = vec![0; len];
        std::os::unix::fs::FileExt::read_exact_at(self, &mut buf, offset as u64)?;
        Ok(Cow::Owned(buf))
    }
}

#[derive(Serialize, Deserialize)]
struct IndexEntry {
    id: Option<Uuid>,
    mod_time_nanos: i64,
    len: u32,
    sum: u64,
}

struct Header {
    version: u16,
    len: usize,
    sum: u64,
}

fn header(buf: &[u8]) -> Result<Header, MetaError> {
    if buf.len() < HEADER_LEN || &buf[..4] != MAGIC {
        return Err(MetaError::Truncated);
    }
    let version = u16::from_le_bytes([buf[4], buf[5]]);
    if version != META_VERSION && version != V1 {
        return Err(MetaError::UnknownVersion(version));
    }
    Ok(Header {
        version,
        len: u32::from_le_bytes(buf[6..10].try_into().expect("4 bytes")) as usize,
        sum: u64::from_le_bytes(buf[10..18].try_into().expect("8 bytes")),
    })
}

fn checked(bytes: &[u8], sum: u64) -> Result<&[u8], MetaError> {
    if xxhash_rust::xxh3::xxh3_64(bytes) == sum {
        Ok(bytes)
    } else {
        Err(MetaError::Checksum)
    }
}

fn decode_msgpack<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, MetaError> {
    rmp_serde::from_slice(bytes).map_err(|e| MetaError::Decode(e.to_string()))
}

fn put_header(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&META_VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(body).to_le_bytes());
}

/// A version-1 file of `meta`, as builds before version 2 wrote it (tests and golden fixtures).
#[cfg(test)]
pub(crate) fn encode_v1(meta: &ObjectMeta) -> Vec<u8> {
    let body = rmp_serde::to_vec_named(meta).expect("meta serializes");
    let mut v1 = Vec::new();
    put_header(&mut v1, &body);
    v1[4..6].copy_from_slice(&V1.to_le_bytes());
    v1.extend_from_slice(&body);
    v1
}

impl ObjectMeta {
    pub fn encode(&self) -> Vec<u8> {
        let records: Vec<Vec<u8>> = self
            .versions
            .iter()
            .map(|v| rmp_serde::to_vec_named(v).expect("object versions always serialize"))
            .collect();
        let index: Vec<IndexEntry> = self
            .versions
            .iter()
            .zip(&records)
            .map(|(v, r)| IndexEntry {
                id: v.version_id,
                mod_time_nanos: v.mod_time_nanos,
                len: r.len() as u32,
                sum: xxhash_rust::xxh3::xxh3_64(r),
            })
            .collect();
        let index = rmp_serde::to_vec_named(&index).expect("meta index always serializes");
        let size = HEADER_LEN + index.len() + records.iter().map(Vec::len).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        put_header(&mut out, &index);
        out.extend_from_slice(&index);
        records.iter().for_each(|r| out.extend_from_slice(r));
        out
    }

    /// Every version of a whole meta file.
    pub fn decode(buf: &[u8]) -> Result<Self, MetaError> {
        Self::decode_selected(buf, MetaSel::All)
    }

    /// The versions `sel` asks for of a whole meta file; only their records are decoded.
    pub fn decode_selected(buf: &[u8], sel: MetaSel) -> Result<Self, MetaError> {
        read_selected(buf, buf.len(), sel).map_err(|e| match e {
            SelectError::Meta(e) => e,
            SelectError::Io(e) => unreachable!("reading a buffer in bounds cannot fail: {e}"),
        })
    }
}

/// Reads the versions `sel` asks for from a meta file of `len` bytes: the header and index, then
/// only the wanted records (all of a version-1 file, which has no index).
pub fn read_selected<S: MetaSource + ?Sized>(
    src: &S,
    len: usize,
    sel: MetaSel,
) -> Result<ObjectMeta, SelectError> {
    let first = src.read_at(0, len.min(FIRST_READ))?;
    let h = header(&first)?;
    if h.version == V1 {
        let all = if first.len() == len {
            first
        } else {
            src.read_at(0, len)?
        };
        let body = &all[HEADER_LEN..];
        if body.len() != h.len {
            return Err(MetaError::Truncated.into());
        }
        let mut meta: ObjectMeta = decode_msgpack(checked(body, h.sum)?)?;
        meta.select(sel);
        return Ok(meta);
    }
    let index_end = HEADER_LEN + h.len;
    if index_end > len {
        return Err(MetaError::Truncated.into());
    }
    let head = if index_end <= first.len() {
        first
    } else {
        src.read_at(0, index_end)?
    };
    let index: Vec<IndexEntry> = decode_msgpack(checked(&head[HEADER_LEN..index_end], h.sum)?)?;
    let records: usize = index.iter().map(|e| e.len as usize).sum();
    if index_end + records != len {
        return Err(MetaError::Truncated.into());
    }
    let mut versions = Vec::new();
    let mut offset = index_end;
    for (i, e) in index.iter().enumerate() {
        let wanted = match sel {
            MetaSel::All => true,
            MetaSel::Latest => i == 0,
            MetaSel::Version(id) => e.id == id,
        };
        let end = offset + e.len as usize;
        if wanted {
            let record = if end <= head.len() {
                Cow::Borrowed(&head[offset..end])
            } else {
                src.read_at(offset, e.len as usize)?
            };
            let v: ObjectVersion = decode_msgpack(checked(&record, e.sum)?)?;
            versions.push(v);
            if sel != MetaSel::All {
                break;
            }
        }
        offset = end;
    }
    Ok(ObjectMeta { versions })
}

#[cfg(test)]
mod tests {
    use super::super::tests::version;
    use super::*;
    use proptest::prelude::*;

    fn meta_of(n: usize, inline: usize) -> ObjectMeta {
        let mut m = ObjectMeta::default();
        for t in 0..n as i64 {
            m.add_version(version(
                Some(Uuid::new_v4()),
                t,
                Some(vec![t as u8; inline]),
            ));
        }
        m
    }

    /// A source that records which byte ranges were read.
    struct Counting<'a>(&'a [u8], std::cell::RefCell<usize>);

    impl MetaSource for Counting<'_> {
        fn read_at(&self, offset: usize, len: usize) -> std::io::Result<Cow<'_, [u8]>> {
            *self.1.borrow_mut() += len;
            self.0.read_at(offset, len)
        }
    }

    proptest! {
        #[test]
        fn round_trip(inline in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..512)), t in any::<i64>()) {
            let mut m = ObjectMeta::default();
            m.add_version(version(None, t, inline));
            m.add_version(version(Some(Uuid::new_v4()), t / 2, None));
            let back = ObjectMeta::decode(&m.encode()).unwrap();
            prop_assert_eq!(back, m);
        }

        #[test]
        fn any_corruption_is_refused(pos in 0usize..400, bit in 0u8..8) {
            let mut m = ObjectMeta::default();
            m.add_version(version(None, 1, Some(vec![9; 100])));
            let mut buf = m.encode();
            let pos = pos % buf.len();
            buf[pos] ^= 1 << bit;
            prop_assert!(ObjectMeta::decode(&buf).is_err());
        }

        #[test]
        fn selections_agree_with_the_whole_journal(n in 1usize..20, pick in any::<prop::sample::Index>()) {
            let m = meta_of(n, 64);
            let buf = m.encode();
            let latest = ObjectMeta::decode_selected(&buf, MetaSel::Latest).unwrap();
            prop_assert_eq!(&latest.versions[..], &m.versions[..1]);
            let want = &m.versions[pick.index(n)];
            let one = ObjectMeta::decode_selected(&buf, MetaSel::Version(want.version_id)).unwrap();
            prop_assert_eq!(&one.versions[..], std::slice::from_ref(want));
            let none = ObjectMeta::decode_selected(&buf, MetaSel::Version(None)).unwrap();
            prop_assert!(none.versions.is_empty());
        }
    }

    #[test]
    fn the_latest_of_many_versions_reads_only_the_index_and_its_record() {
        let m = meta_of(100, 4096);
        let buf = m.encode();
        let src = Counting(&buf, Default::default());
        let latest = read_selected(&src, buf.len(), MetaSel::Latest).unwrap();
        assert_eq!(latest.versions[..], m.versions[..1]);
        let read = *src.1.borrow();
        assert!(
            read < 16 << 10,
            "{read} of {} bytes read for the latest version",
            buf.len()
        );
        let old = m.versions[99].version_id;
        let src = Counting(&buf, Default::default());
        let one = read_selected(&src, buf.len(), MetaSel::Version(old)).unwrap();
        assert_eq!(one.versions[..], m.versions[99..]);
        assert!(*src.1.borrow() < 24 << 10);
    }

    #[test]
    fn version_one_files_are_still_read() {
        let m = meta_of(3, 10);
        let mut v1 = encode_v1(&m);
        assert_eq!(ObjectMeta::decode(&v1).unwrap(), m);
        let latest = ObjectMeta::decode_selected(&v1, MetaSel::Latest).unwrap();
        assert_eq!(latest.versions[..], m.versions[..1]);
        v1[HEADER_LEN + 3] ^= 1;
        assert_eq!(ObjectMeta::decode(&v1), Err(MetaError::Checksum));
    }

    #[test]
    fn truncated_and_future_versions_are_refused() {
        let m = meta_of(2, 10);
        let buf = m.encode();
        assert_eq!(
            ObjectMeta::decode(&buf[..buf.len() - 1]),
            Err(MetaError::Truncated)
        );
        assert_eq!(
            ObjectMeta::decode_selected(&buf[..buf.len() - 1], MetaSel::Latest),
            Err(MetaError::Truncated)
        );
        let mut future = buf.clone();
        future[4] = 9;
        assert_eq!(
            ObjectMeta::decode(&future),
            Err(MetaError::UnknownVersion(9))
        );
    }
}
