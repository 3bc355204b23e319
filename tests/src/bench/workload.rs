//! One measured run: `concurrency` workers issuing PutObject or GetObject back to back until the
//! deadline or the shared op budget runs out, each request bounded by the op timeout.
//!
//! Memory stays at one random buffer of the largest object size (plus a small window): every PUT
//! body is a zero-copy slice of it, and GET bodies are streamed chunk by chunk, never collected,
//! so neither grows with concurrency × object size.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use bytes::Bytes;
use futures::stream::{self, StreamExt, TryStreamExt};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use super::client::{error_chain, sdk_error};
use super::config::{ByteSize, Workload};

/// Objects start at different offsets of the shared buffer so no two keys hold the same bytes.
const VARIANT_WINDOW_BYTES: usize = 64 * 1024;
/// One round of GETs over all keys in this many compares bodies byte for byte; the others check
/// only their length.
const VERIFY_EVERY_ROUNDS: u64 = 16;
/// Errors printed per run; the rest are only counted.
const MAX_PRINTED_ERRORS: u64 = 5;
/// In-flight PutObject calls while writing the objects a GET workload reads.
const SEED_CONCURRENCY: usize = 8;

/// Pre-generated random bytes that every request body is sliced from.
#[derive(Clone)]
pub struct Payload {
    data: Bytes,
}

impl Payload {
    pub fn generate(max_object_bytes: usize) -> Self {
        let mut data = vec![0; max_object_bytes + VARIANT_WINDOW_BYTES];
        StdRng::from_entropy().fill_bytes(&mut data);
        Self { data: data.into() }
    }

    /// The content of object number `variant`, as a view into the shared buffer.
    pub fn object(&self, size: ByteSize, variant: u64) -> Bytes {
        let offset = (variant.wrapping_mul(7919) % VARIANT_WINDOW_BYTES as u64) as usize;
        self.data.slice(offset..offset + size.as_usize())
    }
}

/// What every worker shares: the client, the target bucket and the payload.
pub struct Bench {
    pub client: Client,
    pub bucket: String,
    pub payload: Payload,
    pub op_timeout: Duration,
    pub unsigned_payload: bool,
}

/// The request a run repeats; `seq` is the run-wide request number.
pub enum Op {
    /// PutObject to a fresh key `{key_prefix}/{seq}` holding object variant `seq`.
    Put { key_prefix: String },
    /// GetObject of `keys[seq % len]`, which holds object variant `seq % len`.
    Get { keys: Arc<[String]> },
}

impl Op {
    pub fn put_key(key_prefix: &str, seq: u64) -> String {
        format!("{key_prefix}/{seq}")
    }
}

/// Which run this is.
#[derive(Debug, Clone, Copy)]
pub struct RunSpec {
    pub workload: Workload,
    pub size: ByteSize,
    pub concurrency: usize,
}

/// Raw figures of one run, before they are turned into rates and percentiles.
#[derive(Debug)]
pub struct RunOutcome {
    pub spec: RunSpec,
    pub num_ok: u64,
    pub num_errors: u64,
    /// Errors where a GET returned other bytes than were written (a correctness bug, not load).
    pub num_mismatches: u64,
    /// Requests started; PUT runs wrote (or tried to write) keys `0..num_issued`.
    pub num_issued: u64,
    pub elapsed: Duration,
    /// Latencies of successful requests only.
    pub latencies: Vec<Duration>,
}

impl Bench {
    /// PutObject of object `variant`, bounded by the op timeout.
    pub async fn put(&self, key: &str, size: ByteSize, variant: u64) -> anyhow::Result<()> {
        let body = ByteStream::from(self.payload.object(size, variant));
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body);
        let send = async {
            let result = if self.unsigned_payload {
                request.customize().disable_payload_signing().send().await
            } else {
                request.send().await
            };
            result.map(drop).map_err(sdk_error)
        };
        self.bounded(send)
            .await
            .with_context(|| format!("PutObject {key}"))
    }

    /// GetObject, reading the whole body and checking its length; with `verify`, its bytes too.
    pub async fn get(&self, key: &str, expected: Bytes, verify: bool) -> anyhow::Result<()> {
        let receive = async {
            let request = self.client.get_object().bucket(&self.bucket).key(key);
            let mut body = request.send().await.map_err(sdk_error)?.body;
            let (written, mut received) = (expected.len(), 0);
            while let Some(chunk) = body
                .try_next()
                .await
                .map_err(|e| anyhow!(error_chain(&e)))?
            {
                let end = received + chunk.len();
                if end > written {
                    return BodyMismatch::err(format!(
                        "body is longer than the {written} bytes written"
                    ));
                }
                if verify && expected[received..end] != chunk[..] {
                    return BodyMismatch::err(format!(
                        "body differs from what was written within bytes {received}..{end}"
                    ));
                }
                received = end;
            }
            if received != written {
                return BodyMismatch::err(format!("body has {received} bytes, expected {written}"));
            }
            Ok(())
        };
        self.bounded(receive)
            .await
            .with_context(|| format!("GetObject {key}"))
    }

    /// Writes the objects a GET workload reads: `keys[i]` holds object variant `i`.
    pub async fn seed(&self, keys: &[String], size: ByteSize) -> anyhow::Result<()> {
        stream::iter(keys.iter().zip(0..))
            .map(|(key, variant)| self.put(key, size, variant))
            .buffer_unordered(SEED_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Writes the objects a `versioned-get` run reads: `versions` versions of each key, the
    /// newest holding object variant `i` for `keys[i]` (the older ones other variants).
    pub async fn seed_versions(
        &self,
        keys: &[String],
        size: ByteSize,
        versions: u64,
    ) -> anyhow::Result<()> {
        let num_keys = keys.len() as u64;
        for round in (0..versions).rev() {
            stream::iter(keys.iter().zip(0..))
                .map(|(key, variant)| self.put(key, size, variant + round * num_keys))
                .buffer_unordered(SEED_CONCURRENCY)
                .try_collect::<()>()
                .await?;
        }
        Ok(())
    }

    /// Bounds a whole request, body included (SDK timeouts stop at the response headers).
    async fn bounded(
        &self,
        request: impl std::future::Future<Output = anyhow::Result<()>>,
    ) -> anyhow::Result<()> {
        match tokio::time::timeout(self.op_timeout, request).await {
            Ok(result) => result,
            Err(_) => bail!("timed out after {:?}", self.op_timeout),
        }
    }

    async fn execute(&self, op: &Op, size: ByteSize, seq: u64) -> anyhow::Result<()> {
        match op {
            Op::Put { key_prefix } => self.put(&Op::put_key(key_prefix, seq), size, seq).await,
            Op::Get { keys } => {
                let index = seq % keys.len() as u64;
                let expected = self.payload.object(size, index);
                // Whole rounds over the keys, so every key gets checked, not just one.
                let verify = (seq / keys.len() as u64).is_multiple_of(VERIFY_EVERY_ROUNDS);
                self.get(&keys[index as usize], expected, verify).await
            }
        }
    }
}

/// A GET body that is not what was written: wrong length or, when sampled, wrong bytes.
#[derive(Debug)]
struct BodyMismatch(String);

impl std::fmt::Display for BodyMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BodyMismatch {}

impl BodyMismatch {
    fn err(message: String) -> anyhow::Result<()> {
        Err(Self(message).into())
    }
}

/// Counters every worker of one run updates.
struct RunState {
    spec: RunSpec,
    deadline: Instant,
    max_ops_opt: Option<u64>,
    num_issued: AtomicU64,
    num_errors: AtomicU64,
    num_mismatches: AtomicU64,
}

impl RunState {
    /// Claims the next request number, or `None` once the run is over.
    fn next_seq(&self) -> Option<u64> {
        if Instant::now() >= self.deadline {
            return None;
        }
        let seq = self.num_issued.fetch_add(1, Ordering::Relaxed);
        match self.max_ops_opt {
            Some(max_ops) if seq >= max_ops => None,
            _ => Some(seq),
        }
    }

    fn record_error(&self, err: &anyhow::Error) {
        let num_before = self.num_errors.fetch_add(1, Ordering::Relaxed);
        if err.downcast_ref::<BodyMismatch>().is_some() {
            self.num_mismatches.fetch_add(1, Ordering::Relaxed);
        }
        let RunSpec {
            workload,
            size,
            concurrency,
        } = self.spec;
        if num_before < MAX_PRINTED_ERRORS {
            eprintln!("{workload} {size} x{concurrency}: error: {err:#}");
        } else if num_before == MAX_PRINTED_ERRORS {
            eprintln!("{workload} {size} x{concurrency}: further errors are only counted");
        }
    }
}

/// Runs `op` with `spec.concurrency` workers until `duration` elapses or `max_ops_opt` requests
/// have been issued, whichever comes first.
pub async fn run(
    bench: &Arc<Bench>,
    spec: RunSpec,
    op: Op,
    duration: Duration,
    max_ops_opt: Option<u64>,
) -> RunOutcome {
    let started = Instant::now();
    let state = Arc::new(RunState {
        spec,
        deadline: started + duration,
        max_ops_opt,
        num_issued: AtomicU64::new(0),
        num_errors: AtomicU64::new(0),
        num_mismatches: AtomicU64::new(0),
    });
    let op = Arc::new(op);
    // Spawned, not joined in place, so request signing and body hashing use every core.
    let workers: Vec<_> = (0..spec.concurrency)
        .map(|_| tokio::spawn(worker(bench.clone(), op.clone(), state.clone())))
        .collect();
    let mut latencies = Vec::new();
    for handle in workers {
        match handle.await {
            Ok(worker_latencies) => latencies.extend(worker_latencies),
            Err(err) => state.record_error(&anyhow::Error::new(err).context("worker died")),
        }
    }
    let elapsed = started.elapsed();
    let num_issued = state.num_issued.load(Ordering::Relaxed);
    RunOutcome {
        spec,
        num_ok: latencies.len() as u64,
        num_errors: state.num_errors.load(Ordering::Relaxed),
        num_mismatches: state.num_mismatches.load(Ordering::Relaxed),
        num_issued: max_ops_opt.map_or(num_issued, |max_ops| num_issued.min(max_ops)),
        elapsed,
        latencies,
    }
}

/// Issues requests back to back; returns the latencies of those that succeeded.
async fn worker(bench: Arc<Bench>, op: Arc<Op>, state: Arc<RunState>) -> Vec<Duration> {
    let mut latencies = Vec::new();
    while let Some(seq) = state.next_seq() {
        let started = Instant::now();
        match bench.execute(&op, state.spec.size, seq).await {
            Ok(()) => latencies.push(started.elapsed()),
            Err(err) => state.record_error(&err),
        }
    }
    latencies
}
