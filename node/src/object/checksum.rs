//! `x-amz-checksum-*`: running checksums over a body, and the composite checksum of a multipart
//! object — the checksum of its parts' checksums with `-N` appended, as S3 computes it.

use super::ChecksumAlgo;
use base64::Engine as _;
use sha2::Digest;

/// A running checksum of one algorithm.
pub(crate) enum Checksummer {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Sha256(sha2::Sha256),
}

impl Checksummer {
    pub fn new(algo: ChecksumAlgo) -> Self {
        match algo {
            ChecksumAlgo::Crc32 => Checksummer::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgo::Crc32c => Checksummer::Crc32c(0),
            ChecksumAlgo::Sha256 => Checksummer::Sha256(sha2::Sha256::new()),
        }
    }

    pub fn update(&mut self, b: &[u8]) {
        match self {
            Checksummer::Crc32(h) => h.update(b),
            Checksummer::Crc32c(c) => *c = crc32c::crc32c_append(*c, b),
            Checksummer::Sha256(h) => h.update(b),
        }
    }

    /// The checksum, base64 as S3 sends it.
    pub fn finish(self) -> String {
        let raw = match self {
            Checksummer::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Checksummer::Crc32c(c) => c.to_be_bytes().to_vec(),
            Checksummer::Sha256(h) => h.finalize().to_vec(),
        };
        base64::engine::general_purpose::STANDARD.encode(raw)
    }
}

/// The composite checksum of an object whose parts have the (base64) checksums `parts`, in part
/// order; `None` when one of them does not decode.
pub(crate) fn composite<'a>(
    algo: ChecksumAlgo,
    parts: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut c = Checksummer::new(algo);
    let mut n = 0;
    for p in parts {
        c.update(&base64::engine::general_purpose::STANDARD.decode(p).ok()?);
        n += 1;
    }
    Some(format!("{}-{n}", c.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_is_the_checksum_of_the_part_checksums() {
        // Two parts "a" and "b": CRC32("a") = e8b7be43, CRC32("b") = 71beeff9, and the
        // composite is CRC32 over those eight bytes.
        let part = |s: &[u8]| {
            let mut c = Checksummer::new(ChecksumAlgo::Crc32);
            c.update(s);
            c.finish()
        };
        let (a, b) = (part(b"a"), part(b"b"));
        assert_eq!(a, "6Le+Qw==");
        let mut whole = Checksummer::new(ChecksumAlgo::Crc32);
        whole.update(&[0xe8, 0xb7, 0xbe, 0x43, 0x71, 0xbe, 0xef, 0xf9]);
        assert_eq!(
            composite(ChecksumAlgo::Crc32, [a.as_str(), b.as_str()]),
            Some(format!("{}-2", whole.finish()))
        );
        assert_eq!(composite(ChecksumAlgo::Crc32, ["not base64!"]), None);
    }
}
