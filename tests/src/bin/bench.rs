//! `rustfs-bench`: S3 load tool that prints comparable PUT/GET figures for any S3 endpoint
//! (RustFS Cluster, MinIO, …), using the AWS SDK for Rust configured the same way for each.
//!
//! ```text
//! rustfs-bench --endpoint http://127.0.0.1:9000 --access-key K --secret-key S [--region us-east-1]
//!              [--bucket rustfs-bench] [--concurrency 1,8,32] [--duration-secs 10] [--max-ops N]
//!              [--sizes 1MiB,64MiB] [--small-size 4KiB] [--workloads put,get,small-put,small-get]
//!              [--json] [--keep] [--unsigned-payload] [--allow-remote]
//! ```
//!
//! Every flag can also be set through `RUSTFS_BENCH_<FLAG>` (e.g. `RUSTFS_BENCH_SECRET_KEY`);
//! the secret may come from `--secret-key-file` instead.
//!
//! The bucket is created if missing. Each workload × object size × concurrency is one run that
//! stops after `--duration-secs` or `--max-ops` requests, whichever comes first; every request is
//! bounded by `--op-timeout-secs`. `put`/`small-put` write a fresh key per request from one
//! pre-generated random buffer (zero-copy slices, so memory is the largest object size, not
//! concurrency × size); `get`/`small-get` first write `--num-get-objects` objects, then read them
//! round-robin, streaming each body, checking its length and, in one round in 16, its bytes.
//!
//! Each run prints workload, size, concurrency, successful ops, errors, MiB/s, ops/s and p50/p99
//! latency of successful requests: an aligned table on stdout, or JSON lines with `--json`.
//! Progress and the first few errors of each run go to stderr. Created objects (and the bucket,
//! if it was created here) are deleted at the end unless `--keep`. The exit code is non-zero if
//! setup fails, every request of some run failed, or a GET returned other bytes than written.
//!
//! Checksums are `WhenRequired` both ways and retries are off, so no endpoint is measured with
//! extra CRC work or hidden retries. Only loopback endpoints are accepted unless `--allow-remote`:
//! tests must never send load anywhere else.

#[path = "../bench/mod.rs"]
mod bench;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let result = match bench::config::Cli::parse().validate() {
        Ok(config) => bench::run(config).await,
        Err(err) => Err(err),
    };
    // Printed here rather than returned so the message is one line, never a backtrace.
    result.unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        ExitCode::FAILURE
    })
}
