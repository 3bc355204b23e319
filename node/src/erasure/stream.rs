//! Block ⇄ shard transforms and the shard-file geometry.
//!
//! An object (or a multipart part) is cut into [`BLOCK_SIZE`](super::BLOCK_SIZE) blocks; block `b`
//! becomes `data + parity` shards of [`shard_size`] bytes. Drive `i` stores, for every block, the
//! bitrot hash of its shard followed by the shard bytes, so block `b` of any shard file starts at
//! `b × (hash_len + shard_size(BLOCK_SIZE))` and a range read touches only the blocks it needs.

use super::{shard_size, BitrotAlgo, CodecError, ErasureCodec, BLOCK_SIZE};
use std::sync::Arc;

/// Geometry of the shard files of one erasure-coded stream of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardGeometry {
    pub size: u64,
    pub data: usize,
    pub hash_len: usize,
    pub block_size: usize,
}

impl ShardGeometry {
    pub fn new(size: u64, data: usize, algo: BitrotAlgo) -> Self {
        ShardGeometry {
            size,
            data,
            hash_len: algo.hash_len(),
            block_size: BLOCK_SIZE,
        }
    }

    pub fn num_blocks(&self) -> u64 {
        self.size.div_ceil(self.block_size as u64)
    }

    /// Object bytes in block `b`.
    pub fn block_len(&self, b: u64) -> usize {
        let start = b * self.block_size as u64;
        (self.size - start).min(self.block_size as u64) as usize
    }

    /// Shard bytes (without hash) of block `b`.
    pub fn shard_len(&self, b: u64) -> usize {
        shard_size(self.block_len(b), self.data)
    }

    /// Offset of block `b`'s hash in every shard file.
    pub fn block_offset(&self, b: u64) -> u64 {
        b * (self.hash_len + shard_size(self.block_size, self.data)) as u64
    }

    /// Total length of each shard file.
    pub fn shard_file_len(&self) -> u64 {
        match self.num_blocks() {
            0 => 0,
            n => self.block_offset(n - 1) + (self.hash_len + self.shard_len(n - 1)) as u64,
        }
    }
}

/// Encodes blocks into hashed shards.
pub struct BlockEncoder {
    codec: Arc<dyn ErasureCodec>,
    algo: BitrotAlgo,
}

impl BlockEncoder {
    pub fn new(codec: Arc<dyn ErasureCodec>, algo: BitrotAlgo) -> Self {
        BlockEncoder { codec, algo }
    }

    pub fn total_shards(&self) -> usize {
        self.codec.data_shards() + self.codec.parity_shards()
    }

    /// Encodes `block` into `out[i]` = hash ‖ shard for shard `i` (data shards first). `out` must
    /// hold `total_shards()` buffers; they are cleared and reused, so steady-state encoding does not
    /// allocate.
    pub fn encode(&self, block: &[u8], out: &mut [Vec<u8>]) -> Result<(), CodecError> {
        let d = self.codec.data_shards();
        let h = self.algo.hash_len();
        let size = shard_size(block.len(), d);
        for (i, buf) in out.iter_mut().enumerate() {
            if i < d {
                // Copy the data straight in and zero only the padding of the last shard.
                let lo = (i * size).min(block.len());
                let hi = ((i + 1) * size).min(block.len());
                buf.clear();
                buf.resize(h, 0);
                buf.extend_from_slice(&block[lo..hi]);
                buf.resize(h + size, 0);
            } else {
                // Parity is overwritten by the codec: keep the buffer, never re-zero it.
                buf.resize(h + size, 0);
            }
        }
        {
            let (data, parity) = out.split_at_mut(d);
            let data_refs: Vec<&[u8]> = data.iter().map(|b| &b[h..]).collect();
            let mut parity_refs: Vec<&mut [u8]> = parity.iter_mut().map(|b| &mut b[h..]).collect();
            self.codec.encode(&data_refs, &mut parity_refs)?;
        }
        for buf in out.iter_mut() {
            let (hash, shard) = buf.split_at_mut(h);
            self.algo.hash_into(shard, hash);
        }
        Ok(())
    }
}

/// Splits a hashed shard block read from a drive into its shard bytes, or `None` when it is short
/// or its hash does not match (bitrot).
pub fn verify_shard(algo: BitrotAlgo, mut raw: Vec<u8>, shard_len: usize) -> Option<Vec<u8>> {
    let h = algo.hash_len();
    if raw.len() != h + shard_len || !algo.verify(&raw[h..], &raw[..h]) {
        return None;
    }
    raw.drain(..h);
    Some(raw)
}

/// Rebuilds block bytes from verified shards (`None` = missing), reconstructing data shards
/// when needed, and appends the first `block_len` bytes to `out`.
pub fn decode_block(
    codec: &dyn ErasureCodec,
    shards: &mut [Option<Vec<u8>>],
    block_len: usize,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let d = codec.data_shards();
    if shards[..d].iter().any(Option::is_none) {
        codec.reconstruct(shards, true)?;
    }
    let mut left = block_len;
    for s in shards[..d].iter().flatten() {
        let n = left.min(s.len());
        out.extend_from_slice(&s[..n]);
        left -= n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erasure::{new_codec, CodecKind};

    #[test]
    fn geometry() {
        let g = ShardGeometry::new((BLOCK_SIZE as u64) * 2 + 10, 2, BitrotAlgo::Xxh3_128);
        assert_eq!(g.num_blocks(), 3);
        assert_eq!(g.block_len(2), 10);
        assert_eq!(g.shard_len(0), BLOCK_SIZE / 2);
        assert_eq!(g.shard_len(2), 6);
        assert_eq!(g.block_offset(1), (16 + BLOCK_SIZE / 2) as u64);
        assert_eq!(
            g.shard_file_len(),
            2 * (16 + BLOCK_SIZE as u64 / 2) + 16 + 6
        );
        assert_eq!(
            ShardGeometry::new(0, 2, BitrotAlgo::Blake3).shard_file_len(),
            0
        );
    }

    #[test]
    fn encode_verify_decode_with_loss_and_rot() {
        let codec = new_codec(CodecKind::RsSimd, 2, 2).unwrap();
        let enc = BlockEncoder::new(codec.clone(), BitrotAlgo::DEFAULT);
        let block: Vec<u8> = (0..1001u32).map(|i| (i * 7) as u8).collect();
        let mut out = vec![Vec::new(); 4];
        enc.encode(&block, &mut out).unwrap();
        let len = shard_size(block.len(), 2);
        let mut rotten = out[1].clone();
        rotten[20] ^= 0xff;
        assert!(verify_shard(BitrotAlgo::DEFAULT, rotten, len).is_none());
        let mut shards: Vec<Option<Vec<u8>>> = vec![
            None,
            None,
            verify_shard(BitrotAlgo::DEFAULT, out[2].clone(), len),
            verify_shard(BitrotAlgo::DEFAULT, out[3].clone(), len),
        ];
        let mut bytes = Vec::new();
        decode_block(codec.as_ref(), &mut shards, block.len(), &mut bytes).unwrap();
        assert_eq!(bytes, block);
    }

    /// Buffers are reused across blocks without re-zeroing: a shorter block after a longer one
    /// must still decode from parity alone, with both engines.
    #[test]
    fn reused_buffers_decode_from_parity() {
        for kind in [CodecKind::RsSimd, CodecKind::RsErasure] {
            let codec = new_codec(kind, 2, 2).unwrap();
            let enc = BlockEncoder::new(codec.clone(), BitrotAlgo::DEFAULT);
            let mut out = vec![Vec::new(); 4];
            enc.encode(&[0xffu8; 5000], &mut out).unwrap();
            let short: Vec<u8> = (0..777u32).map(|i| (i * 13) as u8).collect();
            enc.encode(&short, &mut out).unwrap();
            let len = shard_size(short.len(), 2);
            let mut shards = vec![
                None,
                None,
                verify_shard(BitrotAlgo::DEFAULT, out[2].clone(), len),
                verify_shard(BitrotAlgo::DEFAULT, out[3].clone(), len),
            ];
            let mut bytes = Vec::new();
            decode_block(codec.as_ref(), &mut shards, short.len(), &mut bytes).unwrap();
            assert_eq!(bytes, short, "{kind:?}");
        }
    }
}
