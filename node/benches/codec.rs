//! Codec and bitrot-hash benchmarks: `cargo bench -p rustfs-node --bench codec`.
//!
//! Encode and reconstruct one 1 MiB erasure block at 2+2, 4+4 and 8+8 with both Reed-Solomon
//! engines, and hash a 512 KiB shard with each bitrot candidate. Throughput is object bytes/s.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rustfs_node::erasure::stream::BlockEncoder;
use rustfs_node::erasure::{new_codec, shard_size, BitrotAlgo, CodecKind, BLOCK_SIZE};

const GEOMETRIES: [(usize, usize); 3] = [(2, 2), (4, 4), (8, 8)];
const KINDS: [CodecKind; 2] = [CodecKind::RsSimd, CodecKind::RsErasure];

fn block() -> Vec<u8> {
    (0..BLOCK_SIZE)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

fn encode(c: &mut Criterion) {
    let block = block();
    let mut g = c.benchmark_group("encode_1MiB");
    g.throughput(Throughput::Bytes(BLOCK_SIZE as u64));
    for (d, p) in GEOMETRIES {
        for kind in KINDS {
            let codec = new_codec(kind, d, p).unwrap();
            let size = shard_size(BLOCK_SIZE, d);
            let data: Vec<Vec<u8>> = block.chunks(size).map(<[u8]>::to_vec).collect();
            let mut parity = vec![vec![0u8; size]; p];
            g.bench_function(
                BenchmarkId::new(format!("{kind:?}"), format!("{d}+{p}")),
                |b| {
                    b.iter(|| {
                        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
                        let mut out: Vec<&mut [u8]> =
                            parity.iter_mut().map(Vec::as_mut_slice).collect();
                        codec.encode(&refs, &mut out).unwrap();
                    })
                },
            );
        }
    }
    g.finish();
}

fn reconstruct(c: &mut Criterion) {
    let block = block();
    let mut g = c.benchmark_group("reconstruct_1MiB_lose_parity_count_data_shards");
    g.throughput(Throughput::Bytes(BLOCK_SIZE as u64));
    for (d, p) in GEOMETRIES {
        for kind in KINDS {
            let codec = new_codec(kind, d, p).unwrap();
            let size = shard_size(BLOCK_SIZE, d);
            let mut shards: Vec<Vec<u8>> = block.chunks(size).map(<[u8]>::to_vec).collect();
            let mut parity = vec![vec![0u8; size]; p];
            {
                let refs: Vec<&[u8]> = shards.iter().map(Vec::as_slice).collect();
                let mut out: Vec<&mut [u8]> = parity.iter_mut().map(Vec::as_mut_slice).collect();
                codec.encode(&refs, &mut out).unwrap();
            }
            shards.extend(parity);
            g.bench_function(
                BenchmarkId::new(format!("{kind:?}"), format!("{d}+{p}")),
                |b| {
                    b.iter(|| {
                        // Worst case for reads: the first `p` data shards are gone.
                        let mut s: Vec<Option<Vec<u8>>> = shards
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (i >= p).then(|| v.clone()))
                            .collect();
                        codec.reconstruct(&mut s, true).unwrap();
                    })
                },
            );
        }
    }
    g.finish();
}

fn full_block_pipeline(c: &mut Criterion) {
    let block = block();
    let mut g = c.benchmark_group("encode_and_hash_1MiB");
    g.throughput(Throughput::Bytes(BLOCK_SIZE as u64));
    for (d, p) in GEOMETRIES {
        let enc = BlockEncoder::new(
            new_codec(CodecKind::DEFAULT, d, p).unwrap(),
            BitrotAlgo::DEFAULT,
        );
        let mut out = vec![Vec::new(); d + p];
        g.bench_function(format!("{d}+{p}"), |b| {
            b.iter(|| enc.encode(&block, &mut out).unwrap())
        });
    }
    g.finish();
}

fn bitrot(c: &mut Criterion) {
    let shard = vec![0xa5u8; BLOCK_SIZE / 2];
    let mut g = c.benchmark_group("bitrot_512KiB");
    g.throughput(Throughput::Bytes(shard.len() as u64));
    for algo in BitrotAlgo::ALL {
        let mut out = vec![0u8; algo.hash_len()];
        g.bench_function(format!("{algo:?}"), |b| {
            b.iter(|| algo.hash_into(&shard, &mut out))
        });
    }
    g.finish();
}

criterion_group!(benches, encode, reconstruct, full_block_pipeline, bitrot);
criterion_main!(benches);
