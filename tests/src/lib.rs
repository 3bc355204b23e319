//! End-to-end harness for RustFS Cluster: starts the real `rustfs` binary on temporary drives,
//! waits for readiness, kills and restarts it, and hands out AWS SDK clients.
//!
//! Servers bind port 0 and report their address on stdout, so no test depends on a free port.
//! Every wait is bounded; every process is killed on drop.

pub mod cluster;
pub mod hosts;
pub mod iam;
pub mod ldap;
pub mod pki;
pub mod raw;

use aws_credential_types::Credentials;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::Client;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "rustfs-test-admin";
pub const SECRET_KEY: &str = "rustfs-test-secret-key";
/// The cluster RPC secret every test node shares (`RUSTFS_RPC_SECRET`).
pub const RPC_SECRET: &str = "rustfs-test-rpc-secret-0123456789abcdef";

/// The `rustfs` binary: `$RUSTFS_BIN`, else next to this test executable's target dir.
pub fn rustfs_bin() -> PathBuf {
    workspace_bin("rustfs", "RUSTFS_BIN", "rustfs-node")
}

/// A workspace binary `name`: `$env`, else next to this test executable's target dir.
/// `package` names what to build when it is missing.
pub fn workspace_bin(name: &str, env: &str, package: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        return p.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    for dir in exe.ancestors().skip(1).take(3) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "{name} not found next to {}: run `cargo build -p {package} --bin {name}` first or set {env}",
        exe.display()
    );
}

/// One running (or stopped) `rustfs server` process.
pub struct Server {
    /// `--address`: `127.0.0.1:0` for single nodes, a fixed address for cluster nodes.
    address: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    child: Option<Child>,
    pub endpoint: String,
    log: PathBuf,
    /// The `rustfs` binary this server runs (default: [`rustfs_bin`]).
    binary: Option<PathBuf>,
}

impl Server {
    /// Starts `rustfs server ARGS` with the test credentials and waits until it is ready.
    pub fn start(args: &[String], env: &[(&str, &str)], log: &Path) -> Server {
        let mut s = Server::new("127.0.0.1:0", args, env, log);
        s.spawn().unwrap_or_else(|e| panic!("{e}"));
        s
    }

    /// A server that is not started yet.
    pub fn new(address: &str, args: &[String], env: &[(&str, &str)], log: &Path) -> Server {
        Server {
            address: address.to_string(),
            args: args.to_vec(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
            endpoint: String::new(),
            log: log.to_path_buf(),
            binary: None,
        }
    }

    /// Runs `binary` instead of this workspace's `rustfs` from the next start on (another
    /// build: a mixed-version cluster, an upgrade).
    pub fn set_binary(&mut self, binary: &Path) {
        self.binary = Some(binary.to_path_buf());
    }

    fn binary(&self) -> PathBuf {
        self.binary.clone().unwrap_or_else(rustfs_bin)
    }

    /// Sets (or replaces) an environment variable for the next start.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Starts the server expecting it to exit with an error; returns its stderr.
    pub fn start_failing(args: &[String], env: &[(&str, &str)]) -> String {
        Self::start_failing_at("127.0.0.1:0", args, env)
    }

    /// Like [`Server::start_failing`], listening on `address`.
    pub fn start_failing_at(address: &str, args: &[String], env: &[(&str, &str)]) -> String {
        let err_file = tempfile::NamedTempFile::new().expect("temp file");
        let mut child = Command::new(rustfs_bin())
            .arg("server")
            .arg("--address")
            .arg(address)
            .args(args)
            .env("RUSTFS_ROOT_USER", ACCESS_KEY)
            .env("RUSTFS_ROOT_PASSWORD", SECRET_KEY)
            .env("RUSTFS_RPC_SECRET", RPC_SECRET)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err_file.reopen().expect("reopen"))
            .spawn()
            .expect("run rustfs");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait") {
                break Some(st);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = std::fs::read_to_string(err_file.path()).unwrap_or_default();
        match status {
            Some(st) if !st.success() => stderr,
            _ => panic!("server {args:?} was expected to refuse to start but kept running; stderr:\n{stderr}"),
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        self.spawn_process()?;
        self.wait_ready(Duration::from_secs(30))
    }

    /// Starts the process and waits until it reports its endpoint (not until it is ready).
    pub fn spawn_process(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| e.to_string())?;
        let mut child = Command::new(self.binary())
            .arg("server")
            .arg("--address")
            .arg(&self.address)
            .args(&self.args)
            .env("RUSTFS_ROOT_USER", ACCESS_KEY)
            .env("RUSTFS_ROOT_PASSWORD", SECRET_KEY)
            .env("RUSTFS_RPC_SECRET", RPC_SECRET)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary().display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(ep) = line.trim().strip_prefix("endpoint:") {
                    let _ = tx.send(ep.trim().to_string());
                }
            }
        });
        self.child = Some(child);
        let endpoint = rx.recv_timeout(Duration::from_secs(60)).map_err(|_| {
            format!(
                "rustfs did not report its endpoint within 60 s; log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            )
        })?;
        self.endpoint = endpoint;
        Ok(())
    }

    fn wait_ready(&self, limit: Duration) -> Result<(), String> {
        self.wait_for("/rustfs/health/live", limit)
    }

    /// Polls `GET path` until it answers 200, for at most `limit`.
    pub fn wait_for(&self, path: &str, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        let url = format!("{}{path}", self.endpoint);
        while Instant::now() < deadline {
            if http_status(&url) == Some(200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("{url} did not answer 200 within {limit:?}"))
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `sig` (e.g. `libc::SIGSTOP`) to the process.
    pub fn signal(&self, sig: i32) {
        let pid = self.pid() as i32;
        let rc = unsafe_kill(pid, sig);
        assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
    }

    /// SIGTERM, then waits (bounded) for a clean exit; `false` if it had to be killed.
    pub fn terminate(&mut self, limit: Duration) -> bool {
        let Some(mut c) = self.child.take() else {
            return true;
        };
        unsafe_kill(c.id() as i32, libc::SIGTERM);
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = c.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again with the same arguments (on a new port).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn().unwrap_or_else(|e| panic!("{e}"));
    }

    /// Peak resident memory of the process so far, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM line")
    }

    pub fn client(&self) -> Client {
        client(&self.endpoint, ACCESS_KEY, SECRET_KEY)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

#[allow(unsafe_code)]
fn unsafe_kill(pid: i32, sig: i32) -> i32 {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(pid, sig) }
}

/// An S3 client for `endpoint`: path style, no retries (tests see every error).
pub fn client(endpoint: &str, access_key: &str, secret_key: &str) -> Client {
    session_client(endpoint, access_key, secret_key, None)
}

/// [`client`] with temporary credentials' session token.
pub fn session_client(
    endpoint: &str,
    access_key: &str,
    secret_key: &str,
    session_token: Option<String>,
) -> Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            access_key,
            secret_key,
            session_token,
            None,
            "rustfs-tests",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .request_checksum_calculation(RequestChecksumCalculation::WhenSupported)
        .response_checksum_validation(ResponseChecksumValidation::WhenSupported)
        .build();
    Client::from_conf(conf)
}

/// Status of a plain `GET url` (loopback, HTTP/1.1, 2 s timeouts), `None` when unreachable.
pub fn http_status(url: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (hostport, path) = rest.split_at(rest.find('/')?);
    let addr: std::net::SocketAddr = hostport.parse().ok()?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).ok()?;
    std::str::from_utf8(&buf[9..12]).ok()?.parse().ok()
}

/// A single node on `n` fresh drives in a temporary directory.
pub struct TestNode {
    pub dir: tempfile::TempDir,
    pub server: Server,
}

impl TestNode {
    pub fn start(num_drives: usize) -> TestNode {
        Self::start_with(num_drives, &[])
    }

    pub fn start_with(num_drives: usize, env: &[(&str, &str)]) -> TestNode {
        let dir = tempfile::Builder::new()
            .prefix("rustfs-e2e-")
            .tempdir()
            .expect("tempdir");
        let arg = format!("{}/d{{1...{num_drives}}}", dir.path().display());
        let server = Server::start(&[arg], env, &dir.path().join("server.log"));
        TestNode { dir, server }
    }

    /// Drive `i` (1-based).
    pub fn drive(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("d{i}"))
    }

    pub fn client(&self) -> Client {
        self.server.client()
    }
}

/// Deterministic pseudo-random bytes (xorshift), so failures are reproducible.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Every file under `root` (relative path → size), skipping the transient areas (writes in
/// progress, undo records of commits not yet settled, trash readers still hold).
pub fn tree(root: &Path) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p
                .strip_prefix(root)
                .expect("under root")
                .display()
                .to_string();
            if [".rustfs.sys/tmp", ".rustfs.sys/undo", ".rustfs.sys/trash"]
                .iter()
                .any(|t| rel.contains(t))
            {
                continue;
            }
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(p),
                Ok(m) => {
                    out.insert(rel, m.len());
                }
                Err(_) => {}
            }
        }
    }
    out
}

/// The whole body of `bucket/key`.
pub async fn get_bytes(c: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let r = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("get");
    r.body.collect().await.expect("body").into_bytes().to_vec()
}

/// The S3 error code of a failed SDK call (or what went wrong when it is not an S3 error).
pub fn error_code<E, R>(e: aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!("not an S3 error: {e:?}")
                .chars()
                .take(300)
                .collect()
        })
}
