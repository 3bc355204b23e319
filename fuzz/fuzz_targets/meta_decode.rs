//! `rustfs.meta` decoding: whatever bytes are on a drive, `ObjectMeta::decode` answers an error or
//! a value, never panics, and a value re-encodes to bytes that decode to the same value.
//!
//! The first input byte picks the mode: odd bytes are decoded as a whole file; even bytes wrap
//! the rest in a valid header (magic, version, length, XXH3) so mutations reach the MessagePack
//! body, which a random file never would past the checksum.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rustfs_node::store::meta::{ObjectMeta, META_VERSION};

fn with_header(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(18 + body.len());
    out.extend_from_slice(b"RFSM");
    out.extend_from_slice(&META_VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let file = if mode & 1 == 1 {
        rest.to_vec()
    } else {
        with_header(rest)
    };
    if let Ok(meta) = ObjectMeta::decode(&file) {
        let again = meta.encode();
        let back = ObjectMeta::decode(&again).expect("a re-encoded meta decodes");
        assert_eq!(back, meta, "meta changed on a round trip");
        assert_eq!(back.encode(), again, "encoding is not deterministic");
    }
});
