//! Command line of `rustfs-bench`: one clap struct (every flag also read from `RUSTFS_BENCH_*`),
//! the size and workload value types, and the single validation pass that turns flags into a
//! [`BenchConfig`] — including the loopback-only guard on the endpoint.

use std::fmt;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, ensure, Context};
use clap::{Parser, ValueEnum};

/// Upper bound on `--concurrency`; far beyond what a loopback comparison needs.
const MAX_CONCURRENCY: usize = 1024;
/// Upper bound on `--versions`: enough to show whether a GET's cost grows with them.
const MAX_VERSIONS: u64 = 10_000;

const AFTER_HELP: &str = "\
Fairness: request checksum calculation and response checksum validation are set to WhenRequired,
so no CRC is computed on either side unless the operation demands it (S3 default behaviour
differs between SDKs and servers). Retries are disabled so every failure is counted. Payloads are
SigV4-signed (SHA-256 over the body) unless --unsigned-payload is given; the client pays the same
cost against every endpoint, but on a small machine it competes with the server for CPU.

Safety: only loopback endpoints (127.0.0.0/8, ::1, localhost) are accepted unless --allow-remote.";

/// `rustfs-bench`: drive PUT/GET load against any S3 endpoint and print comparable figures.
#[derive(Debug, Parser)]
#[command(name = "rustfs-bench", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// S3 endpoint URL; plain http only (the client has no TLS)
    #[arg(long, env = "RUSTFS_BENCH_ENDPOINT")]
    pub endpoint: String,

    /// Access key id used to sign requests
    #[arg(long, env = "RUSTFS_BENCH_ACCESS_KEY")]
    pub access_key: String,

    /// Secret access key (or use --secret-key-file)
    #[arg(
        long,
        env = "RUSTFS_BENCH_SECRET_KEY",
        hide_env_values = true,
        required_unless_present = "secret_key_file",
        conflicts_with = "secret_key_file"
    )]
    pub secret_key: Option<String>,

    /// File holding the secret access key (trailing newline ignored)
    #[arg(long, env = "RUSTFS_BENCH_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Region used for signing (and as LocationConstraint when creating the bucket)
    #[arg(long, env = "RUSTFS_BENCH_REGION", default_value = "us-east-1")]
    pub region: String,

    /// Bucket to load; created if missing (and removed again if created here, unless --keep)
    #[arg(long, env = "RUSTFS_BENCH_BUCKET", default_value = "rustfs-bench")]
    pub bucket: String,

    /// Comma-separated numbers of concurrent in-flight requests; each is one run
    #[arg(
        long,
        env = "RUSTFS_BENCH_CONCURRENCY",
        value_delimiter = ',',
        default_value = "1,8,32"
    )]
    pub concurrency: Vec<usize>,

    /// Length of each run; a run also stops at --max-ops, whichever comes first
    #[arg(long, env = "RUSTFS_BENCH_DURATION_SECS", default_value_t = 10)]
    pub duration_secs: u64,

    /// Maximum number of requests issued per run
    #[arg(long, env = "RUSTFS_BENCH_MAX_OPS")]
    pub max_ops: Option<u64>,

    /// Comma-separated object sizes for the `put` and `get` workloads (e.g. 1MiB,64MiB,500KB)
    #[arg(
        long,
        env = "RUSTFS_BENCH_SIZES",
        value_delimiter = ',',
        default_value = "1MiB,64MiB"
    )]
    pub sizes: Vec<ByteSize>,

    /// Object size for the `small-put` and `small-get` workloads
    #[arg(long, env = "RUSTFS_BENCH_SMALL_SIZE", default_value = "4KiB")]
    pub small_size: ByteSize,

    /// Comma-separated workloads, run in the order given
    #[arg(
        long,
        env = "RUSTFS_BENCH_WORKLOADS",
        value_delimiter = ',',
        default_value = "put,get,small-put,small-get"
    )]
    pub workloads: Vec<Workload>,

    /// Versions written per key before a `versioned-get` run; the newest is read
    #[arg(long, env = "RUSTFS_BENCH_VERSIONS", default_value_t = 100)]
    pub versions: u64,

    /// Number of distinct objects written before a GET workload and read round-robin
    #[arg(long, env = "RUSTFS_BENCH_NUM_GET_OBJECTS", default_value_t = 8)]
    pub num_get_objects: u64,

    /// Per-request timeout; a request exceeding it counts as an error
    #[arg(long, env = "RUSTFS_BENCH_OP_TIMEOUT_SECS", default_value_t = 120)]
    pub op_timeout_secs: u64,

    /// Send PUT bodies as UNSIGNED-PAYLOAD instead of hashing them with SHA-256
    #[arg(long, env = "RUSTFS_BENCH_UNSIGNED_PAYLOAD")]
    pub unsigned_payload: bool,

    /// Print one JSON object per run instead of a table
    #[arg(long, env = "RUSTFS_BENCH_JSON")]
    pub json: bool,

    /// Leave the objects (and a bucket created here) in place after the runs
    #[arg(long, env = "RUSTFS_BENCH_KEEP")]
    pub keep: bool,

    /// Allow an endpoint that is not a loopback address
    #[arg(long, env = "RUSTFS_BENCH_ALLOW_REMOTE")]
    pub allow_remote: bool,
}

/// Validated settings for one invocation.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Endpoint URL as given, already checked for scheme and (unless allowed) loopback host.
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    pub bucket: String,
    pub concurrency: Vec<usize>,
    pub duration: Duration,
    pub max_ops_opt: Option<u64>,
    pub sizes: Vec<ByteSize>,
    pub small_size: ByteSize,
    pub workloads: Vec<Workload>,
    pub num_get_objects: u64,
    pub versions: u64,
    pub op_timeout: Duration,
    pub unsigned_payload: bool,
    pub json: bool,
    pub keep: bool,
}

impl Cli {
    /// The one validation pass: every user mistake is reported here, before any request is sent.
    pub fn validate(self) -> anyhow::Result<BenchConfig> {
        check_endpoint(&self.endpoint, self.allow_remote)?;
        let secret_key = match (self.secret_key, &self.secret_key_file) {
            (Some(key), None) => key,
            (None, Some(path)) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read secret key file {}", path.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            _ => bail!("pass exactly one of --secret-key and --secret-key-file"),
        };
        ensure!(
            !self.concurrency.is_empty(),
            "--concurrency needs at least one value"
        );
        for &n in &self.concurrency {
            ensure!(
                (1..=MAX_CONCURRENCY).contains(&n),
                "--concurrency {n} is out of range; use 1..={MAX_CONCURRENCY}"
            );
        }
        ensure!(self.duration_secs > 0, "--duration-secs must be at least 1");
        ensure!(self.max_ops != Some(0), "--max-ops must be at least 1");
        ensure!(
            !self.workloads.is_empty(),
            "--workloads needs at least one value"
        );
        let needs_sizes = self.workloads.iter().any(|w| !w.is_small());
        ensure!(
            !needs_sizes || !self.sizes.is_empty(),
            "--sizes needs at least one value"
        );
        for size in self.sizes.iter().chain([&self.small_size]) {
            ensure!(size.0 > 0, "object sizes must be at least 1 byte");
            ensure!(
                usize::try_from(size.0).is_ok_and(|s| s <= isize::MAX as usize),
                "object size {size} does not fit in memory"
            );
        }
        ensure!(
            self.num_get_objects > 0,
            "--num-get-objects must be at least 1"
        );
        ensure!(
            (1..=MAX_VERSIONS).contains(&self.versions),
            "--versions {} is out of range; use 1..={MAX_VERSIONS}",
            self.versions
        );
        ensure!(
            self.op_timeout_secs > 0,
            "--op-timeout-secs must be at least 1"
        );
        Ok(BenchConfig {
            endpoint: self.endpoint,
            access_key: self.access_key,
            secret_key,
            region: self.region,
            bucket: self.bucket,
            concurrency: self.concurrency,
            duration: Duration::from_secs(self.duration_secs),
            max_ops_opt: self.max_ops,
            sizes: self.sizes,
            small_size: self.small_size,
            workloads: self.workloads,
            num_get_objects: self.num_get_objects,
            versions: self.versions,
            op_timeout: Duration::from_secs(self.op_timeout_secs),
            unsigned_payload: self.unsigned_payload,
            json: self.json,
            keep: self.keep,
        })
    }
}

impl BenchConfig {
    /// Object sizes a workload runs with, in the order given on the command line.
    pub fn sizes_for(&self, workload: Workload) -> Vec<ByteSize> {
        if workload.is_small() {
            vec![self.small_size]
        } else {
            self.sizes.clone()
        }
    }

    /// Largest object any selected workload will PUT or GET.
    pub fn max_object_bytes(&self) -> usize {
        let sizes = self.workloads.iter().flat_map(|&w| self.sizes_for(w));
        sizes.map(|s| s.as_usize()).max().unwrap_or(0)
    }
}

/// Rejects anything but `http://` and, unless `allow_remote`, any host that is not loopback.
/// `localhost` must also resolve to loopback addresses only, so a rewritten hosts file cannot
/// redirect load elsewhere.
fn check_endpoint(endpoint: &str, allow_remote: bool) -> anyhow::Result<()> {
    let uri: http::Uri = endpoint
        .parse()
        .with_context(|| format!("--endpoint {endpoint:?} is not a valid URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => bail!(
            "--endpoint {endpoint}: https is not supported (the client has no TLS); use http://"
        ),
        _ => bail!("--endpoint {endpoint:?} must start with http://"),
    }
    let host = uri
        .host()
        .with_context(|| format!("--endpoint {endpoint:?} has no host"))?;
    if allow_remote || is_loopback_host(host, uri.port_u16().unwrap_or(80))? {
        return Ok(());
    }
    bail!(
        "refusing to send load to {host}: it is not a loopback address (127.0.0.0/8, ::1, \
         localhost); pass --allow-remote if you really mean to load a remote endpoint"
    )
}

fn is_loopback_host(host: &str, port: u16) -> anyhow::Result<bool> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ip.to_canonical().is_loopback());
    }
    if !bare.trim_end_matches('.').eq_ignore_ascii_case("localhost") {
        return Ok(false);
    }
    let addrs: Vec<_> = (bare, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {bare}"))?
        .collect();
    Ok(!addrs.is_empty() && addrs.iter().all(|a| a.ip().to_canonical().is_loopback()))
}

/// The load patterns `rustfs-bench` can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// PutObject of each `--sizes` object, a fresh key per request
    Put,
    /// GetObject of each `--sizes` object, reading and length-checking the whole body
    Get,
    /// PutObject of `--small-size` objects
    SmallPut,
    /// GetObject of `--small-size` objects
    SmallGet,
    /// GetObject of the newest of `--versions` versions of `--small-size` objects, in the
    /// versioned bucket `<bucket>-versioned` (created for the run if missing)
    VersionedGet,
}

impl Workload {
    pub fn is_small(self) -> bool {
        matches!(self, Self::SmallPut | Self::SmallGet | Self::VersionedGet)
    }

    pub fn is_get(self) -> bool {
        matches!(self, Self::Get | Self::SmallGet | Self::VersionedGet)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Put => "put",
            Self::Get => "get",
            Self::SmallPut => "small-put",
            Self::SmallGet => "small-get",
            Self::VersionedGet => "versioned-get",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A byte count parsed from `4096`, `4KiB`, `64MiB`, `1GiB` or decimal `500KB`, `1MB`, `1GB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub fn as_usize(self) -> usize {
        // validate() guarantees every configured size fits in usize.
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (digits, unit) = s.split_at(split);
        let value: u64 = digits
            .parse()
            .map_err(|_| format!("{s:?} is not a size; use e.g. 4096, 4KiB, 64MiB or 1GB"))?;
        let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kib" | "k" => 1 << 10,
            "mib" | "m" => 1 << 20,
            "gib" | "g" => 1 << 30,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            other => {
                return Err(format!(
                    "unknown size unit {other:?}; use B, KiB, MiB, GiB, KB, MB or GB"
                ))
            }
        };
        value
            .checked_mul(multiplier)
            .map(ByteSize)
            .ok_or_else(|| format!("size {s:?} is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        for (factor, unit) in UNITS {
            if self.0 >= factor && self.0.is_multiple_of(factor) {
                return write!(f, "{}{unit}", self.0 / factor);
            }
        }
        write!(f, "{}B", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_size_round_trips() {
        for (text, bytes, shown) in [
            ("4KiB", 4096, "4KiB"),
            ("64MiB", 64 << 20, "64MiB"),
            ("1gib", 1 << 30, "1GiB"),
            ("500KB", 500_000, "500000B"),
            ("1000", 1000, "1000B"),
        ] {
            let size: ByteSize = text.parse().unwrap();
            assert_eq!(size.0, bytes, "{text}");
            assert_eq!(size.to_string(), shown);
        }
        assert!("MiB".parse::<ByteSize>().is_err());
        assert!("4XB".parse::<ByteSize>().is_err());
        assert!("99999999999GiB".parse::<ByteSize>().is_err());
    }

    #[test]
    fn only_loopback_endpoints_pass_without_allow_remote() {
        // `localhost` is left out: checking it resolves names, and unit tests do no I/O.
        for ok in [
            "http://127.0.0.1:9000",
            "http://127.8.9.1",
            "http://[::1]:9000",
        ] {
            check_endpoint(ok, false).unwrap();
        }
        for bad in [
            "http://10.0.0.1:9000",
            "http://example.com",
            "http://127.0.0.1.nip.io",
            "https://127.0.0.1",
        ] {
            assert!(check_endpoint(bad, false).is_err(), "{bad}");
        }
        check_endpoint("http://10.0.0.1:9000", true).unwrap();
    }

    #[test]
    fn versions_out_of_range_are_refused() {
        let parse = |versions: &str| {
            Cli::try_parse_from([
                "rustfs-bench",
                "--endpoint=http://127.0.0.1:9000",
                "--access-key=a",
                "--secret-key=b",
                "--workloads=versioned-get",
                &format!("--versions={versions}"),
            ])
            .unwrap()
            .validate()
        };
        assert_eq!(parse("100").unwrap().versions, 100);
        for bad in ["0", "10001"] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains("--versions"), "{err}");
        }
    }
}
