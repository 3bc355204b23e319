//! Bitrot hashes: every shard block on disk is preceded by a hash of its bytes, checked on every
//! read before a byte is returned. The algorithm is recorded per object so it can change later.

use serde::{Deserialize, Serialize};

/// A bitrot hash algorithm. `benches/codec.rs` measures them; [`BitrotAlgo::DEFAULT`] is chosen by
/// those figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BitrotAlgo {
    /// XXH3, 128-bit: not cryptographic, but bitrot is random damage, not an adversary.
    Xxh3_128,
    /// HighwayHash-256 with a fixed key (MinIO's choice).
    Highway256,
    /// BLAKE3, 256-bit.
    Blake3,
}

impl BitrotAlgo {
    pub const DEFAULT: BitrotAlgo = BitrotAlgo::Xxh3_128;
    pub const ALL: [BitrotAlgo; 3] = [
        BitrotAlgo::Xxh3_128,
        BitrotAlgo::Highway256,
        BitrotAlgo::Blake3,
    ];

    /// Bytes of hash stored before each shard block.
    pub fn hash_len(self) -> usize {
        match self {
            BitrotAlgo::Xxh3_128 => 16,
            BitrotAlgo::Highway256 | BitrotAlgo::Blake3 => 32,
        }
    }

    /// Writes the hash of `data` into `out` (`out.len() == hash_len()`).
    pub fn hash_into(self, data: &[u8], out: &mut [u8]) {
        match self {
            BitrotAlgo::Xxh3_128 => {
                out.copy_from_slice(&xxhash_rust::xxh3::xxh3_128(data).to_le_bytes())
            }
            BitrotAlgo::Highway256 => {
                use highway::{HighwayHash, HighwayHasher, Key};
                let words = HighwayHasher::new(Key(HIGHWAY_KEY)).hash256(data);
                for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
                    chunk.copy_from_slice(&w.to_le_bytes());
                }
            }
            BitrotAlgo::Blake3 => out.copy_from_slice(blake3::hash(data).as_bytes()),
        }
    }

    /// True when `expected` is the hash of `data`.
    pub fn verify(self, data: &[u8], expected: &[u8]) -> bool {
        let mut buf = [0u8; 32];
        let out = &mut buf[..self.hash_len()];
        self.hash_into(data, out);
        out == expected
    }
}

const HIGHWAY_KEY: [u64; 4] = [
    0x4be7_34fa_8e23_8acd,
    0x263e_c4ee_ac14_b4a7,
    0x2a63_9f5e_1a0c_b7a3,
    0x5b7d_9b2c_04d8_e1f3,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_a_flipped_bit() {
        for algo in BitrotAlgo::ALL {
            let data = vec![7u8; 4096];
            let mut h = vec![0u8; algo.hash_len()];
            algo.hash_into(&data, &mut h);
            assert!(algo.verify(&data, &h));
            let mut bad = data.clone();
            bad[1000] ^= 1;
            assert!(!algo.verify(&bad, &h), "{algo:?}");
        }
    }
}
