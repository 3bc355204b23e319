//! RPC frame streams (walk entries, MACed shard-stream frames): a peer's bytes, arriving in any
//! split, are cut into the same frames as the whole stream at once, never panic, and a declared
//! length over `MAX_FRAME_BYTES` is refused before anything is buffered for it. Every frame body is
//! then decoded as a walk result, and whatever decodes survives a re-encode.

#![no_main]

use arbitrary::Arbitrary;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rustfs_node::rpc::auth::FRAME_MAC_LEN;
use rustfs_node::rpc::wire::{self, take_frame_with, FrameTooLarge, WireError, MAX_FRAME_BYTES};
use rustfs_node::store::WalkEntry;

#[derive(Debug, Arbitrary)]
struct Input {
    /// Walk streams have no trailer, shard streams a frame MAC.
    mac_trailer: bool,
    /// How the stream arrives: chunk `i` is `chunks[i]` bytes long (0 = a read that got nothing).
    chunks: Vec<u16>,
    stream: Vec<u8>,
}

/// Frames of `stream` when it arrives in pieces of the given sizes (then the rest at once).
fn frames_split(
    stream: &[u8],
    chunks: &[u16],
    trailer: usize,
) -> (Vec<bytes::Bytes>, Option<FrameTooLarge>) {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut rest = stream;
    let mut sizes = chunks
        .iter()
        .map(|&c| usize::from(c))
        .chain(std::iter::repeat(usize::MAX));
    loop {
        loop {
            match take_frame_with(&mut buf, trailer) {
                Ok(Some(f)) => {
                    assert!(f.len() <= MAX_FRAME_BYTES + trailer, "frame over the limit");
                    out.push(f);
                }
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
        if rest.is_empty() {
            return (out, None);
        }
        let n = sizes.next().unwrap_or(usize::MAX).min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
    }
}

fuzz_target!(|input: Input| {
    let trailer = if input.mac_trailer { FRAME_MAC_LEN } else { 0 };
    let whole = frames_split(&input.stream, &[], trailer);
    let split = frames_split(&input.stream, &input.chunks, trailer);
    assert_eq!(whole, split, "frames depend on how the stream was split");
    if let Some(FrameTooLarge(len)) = whole.1 {
        assert!(len > MAX_FRAME_BYTES);
    }
    for f in &whole.0 {
        let body = &f[..f.len() - trailer];
        if let Ok(entry) = wire::decode::<Result<WalkEntry, WireError>>(body) {
            let again = wire::encode(&entry);
            let back: Result<WalkEntry, WireError> =
                wire::decode(&again).expect("a re-encoded walk entry decodes");
            assert_eq!(format!("{back:?}"), format!("{entry:?}"));
        }
    }
});
