//! Erasure coding: the codec ([`codec`]), bitrot hashing ([`bitrot`]) and the streaming block
//! encoder/decoder that turns an object into per-drive shard files and back ([`stream`]).

pub mod bitrot;
pub mod codec;
pub mod stream;

pub use bitrot::BitrotAlgo;
pub use codec::{new_codec, shard_size, CodecError, CodecKind, ErasureCodec};

/// Object bytes per erasure block.
pub const BLOCK_SIZE: usize = 1 << 20;
