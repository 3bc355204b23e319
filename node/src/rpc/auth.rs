//! Internal RPC authentication (ARCHITECTURE.md, "Inter-node RPC").
//!
//! Nodes share a cluster RPC secret (`RUSTFS_RPC_SECRET` / `RUSTFS_RPC_SECRET_FILE`), separate
//! from the S3 root credentials, so rotating those never breaks the cluster. Every call carries
//!
//! ```text
//! Authorization: RustFS-RPC2 <unix millis>.<nonce, 32 hex>.<body>.<mac, 64 hex>
//! ```
//!
//! where `<body>` is the hex BLAKE3 hash of the request body (or `stream` for a shard upload,
//! whose body is framed with a MAC per frame, see [`StreamMac`]) and the MAC is a keyed BLAKE3 of
//! the method, the path with its query, the target node (`host:port`), the time, the nonce and
//! the body field. A node accepts a call only if the MAC matches, the time is within
//! [`MAX_SKEW`] of its clock and not before the node started, and the nonce was not seen before:
//! a captured call replayed — to the same node, another path or another node — is refused.
//!
//! Several secrets may be given (whitespace separated): the first signs, all verify, so the
//! secret can be rotated with rolling restarts and no failed call (README, "Rotating secrets").

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// How far a call's time may be from this node's clock.
pub const MAX_SKEW_MILLIS: u64 = 60_000;
/// Scheme of the `Authorization` header.
pub const SCHEME: &str = "RustFS-RPC2";
/// The body field of a streamed upload.
pub const STREAM_BODY: &str = "stream";
/// The shortest secret accepted.
pub const MIN_SECRET_LEN: usize = 32;
/// Calls signed up to this long before the node began listening are still accepted: peers'
/// clocks differ by a little, and their first calls are signed while this node starts.
const START_SLACK_MILLIS: u64 = 2_000;

/// When this process began (before it bound its port); see [`mark_start`].
static PROCESS_START_MILLIS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Records the start of this process: call before binding the listener. Calls signed (minus
/// [`START_SLACK_MILLIS`]) before it are replays from before a restart, whose nonces this
/// process cannot know, and are refused.
pub fn mark_start() {
    let _ = PROCESS_START_MILLIS.set(now_millis());
}

/// Why a call was refused; logged by the server, sent to the caller as a short reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no RPC authorization")]
    Missing,
    #[error("malformed RPC authorization")]
    Malformed,
    #[error("RPC signature does not match — is RUSTFS_RPC_SECRET the same on every node?")]
    BadSignature,
    #[error("the caller's clock is {0} ms off this node's (more than {MAX_SKEW_MILLIS} ms): synchronise clocks (NTP)")]
    Skew(i64),
    #[error(
        "RPC call was signed before this node started (a replay, or a clock more than 2 s behind)"
    )]
    BeforeStart,
    #[error("RPC call was already seen (replay)")]
    Replay,
    #[error("RPC body does not match its signature")]
    BodyMismatch,
}

/// Why a configured secret is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the RPC secret is empty: set RUSTFS_RPC_SECRET or RUSTFS_RPC_SECRET_FILE to the same random secret on every node (e.g. `openssl rand -hex 32`)")]
    Empty,
    #[error("an RPC secret is {0} characters: use at least {MIN_SECRET_LEN} random characters (e.g. `openssl rand -hex 32`)")]
    TooShort(usize),
}

pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn call_key(secret: &str) -> [u8; 32] {
    blake3::derive_key(
        "rustfs-cluster 2026-12 internal rpc call mac v2",
        secret.as_bytes(),
    )
}

fn message(method: &str, path: &str, target: &str, ts: u64, nonce: &str, body: &str) -> String {
    format!("{SCHEME}\n{method}\n{path}\n{target}\n{ts}\n{nonce}\n{body}")
}

/// The cluster's RPC keys: the first signs, all verify.
#[derive(Clone)]
pub struct RpcKeys {
    keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for RpcKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RpcKeys({} keys)", self.keys.len())
    }
}

/// A signed call: its header value and what its stream frames are keyed with.
pub struct Signed {
    pub header: String,
    pub stream: StreamMac,
}

impl RpcKeys {
    /// Keys from the secret setting: whitespace-separated secrets, each ≥ 32 characters.
    pub fn from_secrets(setting: &str) -> Result<Self, SecretError> {
        let secrets: Vec<&str> = setting.split_whitespace().collect();
        if secrets.is_empty() {
            return Err(SecretError::Empty);
        }
        if let Some(short) = secrets.iter().find(|s| s.len() < MIN_SECRET_LEN) {
            return Err(SecretError::TooShort(short.len()));
        }
        Ok(RpcKeys {
            keys: secrets.iter().map(|s| call_key(s)).collect(),
        })
    }

    fn mac(key: &[u8; 32], msg: &str) -> blake3::Hash {
        blake3::keyed_hash(key, msg.as_bytes())
    }

    /// Signs a call to `target` (`host:port`) of `path` (with its query); `body` is the body's
    /// hex BLAKE3 or [`STREAM_BODY`].
    pub fn sign(&self, method: &str, path: &str, target: &str, body: &str) -> Signed {
        self.sign_at(method, path, target, body, now_millis(), rand::random())
    }

    /// [`sign`](Self::sign) with a given time and nonce, for tests and fuzzing that need calls
    /// from another time; callers always sign now with a fresh nonce.
    pub fn sign_at(
        &self,
        method: &str,
        path: &str,
        target: &str,
        body: &str,
        ts: u64,
        nonce: [u8; 16],
    ) -> Signed {
        let nonce = hex::encode(nonce);
        let mac = Self::mac(
            &self.keys[0],
            &message(method, path, target, ts, &nonce, body),
        );
        Signed {
            header: format!("{SCHEME} {ts}.{nonce}.{body}.{}", mac.to_hex()),
            stream: StreamMac::new(&mac),
        }
    }

    pub fn body_hash(body: &[u8]) -> String {
        blake3::hash(body).to_hex().to_string()
    }
}

/// A call's authorization as parsed and checked by the server.
#[derive(Debug)]
pub struct Verified {
    /// The body field: a hash the body must match, or [`STREAM_BODY`].
    pub body: String,
    pub stream: StreamMac,
}

/// Checks calls addressed to this node.
pub struct Verifier {
    keys: RpcKeys,
    this_node: String,
    started_millis: u64,
    nonces: Mutex<Nonces>,
}

#[derive(Default)]
struct Nonces {
    seen: HashMap<[u8; 16], u64>,
    pruned_millis: u64,
}

impl Verifier {
    pub fn new(keys: RpcKeys, this_node: &str) -> Self {
        Verifier {
            keys,
            this_node: this_node.to_string(),
            started_millis: PROCESS_START_MILLIS
                .get()
                .copied()
                .unwrap_or_else(now_millis)
                .saturating_sub(START_SLACK_MILLIS),
            nonces: Mutex::new(Nonces::default()),
        }
    }

    /// Checks the `Authorization` value of a `method` call of `path` (with its query).
    pub fn verify(
        &self,
        method: &str,
        path: &str,
        header: Option<&str>,
    ) -> Result<Verified, TokenError> {
        let value = header.ok_or(TokenError::Missing)?;
        let fields = value
            .strip_prefix(SCHEME)
            .and_then(|v| v.strip_prefix(' '))
            .ok_or(TokenError::Malformed)?;
        let parts: Vec<&str> = fields.split('.').collect();
        let [ts, nonce, body, mac] = parts.as_slice() else {
            return Err(TokenError::Malformed);
        };
        let ts: u64 = ts.parse().map_err(|_| TokenError::Malformed)?;
        let nonce_bytes: [u8; 16] = hex::decode(nonce)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(TokenError::Malformed)?;
        let mac = blake3::Hash::from_hex(mac).map_err(|_| TokenError::Malformed)?;
        let msg = message(method, path, &self.this_node, ts, nonce, body);
        // blake3::Hash compares in constant time.
        if !self.keys.keys.iter().any(|k| RpcKeys::mac(k, &msg) == mac) {
            return Err(TokenError::BadSignature);
        }
        let now = now_millis();
        // In i128: a signed time past i64::MAX must be refused as skewed, not overflow.
        let skew = i128::from(ts) - i128::from(now);
        if skew.unsigned_abs() > u128::from(MAX_SKEW_MILLIS) {
            let clamped = i64::try_from(skew).unwrap_or(if skew < 0 { i64::MIN } else { i64::MAX });
            return Err(TokenError::Skew(clamped));
        }
        if ts < self.started_millis {
            return Err(TokenError::BeforeStart);
        }
        let mut n = self.nonces.lock();
        if now.saturating_sub(n.pruned_millis) > 1000 {
            let oldest = now.saturating_sub(2 * MAX_SKEW_MILLIS);
            n.seen.retain(|_, t| *t >= oldest);
            n.pruned_millis = now;
        }
        if n.seen.insert(nonce_bytes, ts).is_some() {
            return Err(TokenError::Replay);
        }
        Ok(Verified {
            body: body.to_string(),
            stream: StreamMac::new(&mac),
        })
    }

    pub fn num_nonces(&self) -> usize {
        self.nonces.lock().seen.len()
    }
}

/// MACs the frames of one streamed call: each frame's MAC covers its sequence number, length and
/// data, keyed from the call's own MAC, so frames cannot be reordered, dropped, moved to another
/// call or cut short (the stream ends with an empty frame).
#[derive(Debug, Clone)]
pub struct StreamMac {
    key: [u8; 32],
}

/// Length of one frame's MAC.
pub const FRAME_MAC_LEN: usize = 32;

impl StreamMac {
    fn new(call_mac: &blake3::Hash) -> Self {
        StreamMac {
            key: blake3::derive_key(
                "rustfs-cluster 2026-12 rpc stream frame",
                call_mac.as_bytes(),
            ),
        }
    }

    pub fn frame_mac(&self, seq: u64, data: &[u8]) -> [u8; FRAME_MAC_LEN] {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(&seq.to_le_bytes());
        h.update(&(data.len() as u64).to_le_bytes());
        h.update(data);
        *h.finalize().as_bytes()
    }

    pub fn check(&self, seq: u64, data: &[u8], mac: &[u8]) -> bool {
        let Ok(mac): Result<[u8; FRAME_MAC_LEN], _> = mac.try_into() else {
            return false;
        };
        blake3::Hash::from(self.frame_mac(seq, data)) == blake3::Hash::from(mac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

    fn keys() -> RpcKeys {
        RpcKeys::from_secrets(SECRET).unwrap()
    }

    #[test]
    fn secrets_must_be_long_and_present() {
        assert_eq!(
            RpcKeys::from_secrets(" \n").unwrap_err(),
            SecretError::Empty
        );
        assert_eq!(
            RpcKeys::from_secrets("short").unwrap_err(),
            SecretError::TooShort(5)
        );
        assert!(RpcKeys::from_secrets(&format!("{SECRET}\n{SECRET}x")).is_ok());
    }

    #[test]
    fn a_signed_call_verifies_once_and_only_where_it_was_sent() {
        let v = Verifier::new(keys(), "node2:9000");
        let body = RpcKeys::body_hash(b"call");
        let s = keys().sign(
            "POST",
            "/rustfs/rpc/v2/drive?drive=%2Fd1",
            "node2:9000",
            &body,
        );
        let ok = v
            .verify("POST", "/rustfs/rpc/v2/drive?drive=%2Fd1", Some(&s.header))
            .unwrap();
        assert_eq!(ok.body, body);
        assert_eq!(
            v.verify("POST", "/rustfs/rpc/v2/drive?drive=%2Fd1", Some(&s.header))
                .unwrap_err(),
            TokenError::Replay
        );
        let s = keys().sign(
            "POST",
            "/rustfs/rpc/v2/drive?drive=%2Fd1",
            "node2:9000",
            &body,
        );
        for (method, path) in [
            ("POST", "/rustfs/rpc/v2/drive?drive=%2Fd2"),
            ("POST", "/rustfs/rpc/v2/lock"),
            ("GET", "/rustfs/rpc/v2/drive?drive=%2Fd1"),
        ] {
            assert_eq!(
                v.verify(method, path, Some(&s.header)).unwrap_err(),
                TokenError::BadSignature,
                "{method} {path}"
            );
        }
        let other_node = Verifier::new(keys(), "node3:9000");
        assert_eq!(
            other_node
                .verify("POST", "/rustfs/rpc/v2/drive?drive=%2Fd1", Some(&s.header))
                .unwrap_err(),
            TokenError::BadSignature
        );
    }

    #[test]
    fn forged_stale_and_malformed_calls_are_refused() {
        let v = Verifier::new(keys(), "n:1");
        assert_eq!(
            v.verify("GET", "/p", None).unwrap_err(),
            TokenError::Missing
        );
        for bad in ["Bearer x", "RustFS-RPC2 1.2.3", "RustFS-RPC2 a.b.c.d", ""] {
            assert_eq!(
                v.verify("GET", "/p", Some(bad)).unwrap_err(),
                TokenError::Malformed,
                "{bad}"
            );
        }
        let other = RpcKeys::from_secrets(&format!("{SECRET}-other")).unwrap();
        let s = other.sign("GET", "/p", "n:1", "x");
        assert_eq!(
            v.verify("GET", "/p", Some(&s.header)).unwrap_err(),
            TokenError::BadSignature
        );
        // A time edited into the header breaks the MAC; a correctly MACed old call is stale.
        let k = keys();
        let old = now_millis() - 2 * MAX_SKEW_MILLIS;
        let nonce = "00".repeat(16);
        let mac = RpcKeys::mac(&k.keys[0], &message("GET", "/p", "n:1", old, &nonce, "x"));
        let header = format!("{SCHEME} {old}.{nonce}.x.{}", mac.to_hex());
        assert!(matches!(
            v.verify("GET", "/p", Some(&header)).unwrap_err(),
            TokenError::Skew(_)
        ));
        let s = k.sign("GET", "/p", "n:1", "x");
        let (ts, rest) = s.header[SCHEME.len() + 1..].split_once('.').unwrap();
        let bumped = format!("{SCHEME} {}.{rest}", ts.parse::<u64>().unwrap() + 1);
        assert_eq!(
            v.verify("GET", "/p", Some(&bumped)).unwrap_err(),
            TokenError::BadSignature
        );
    }

    /// A correctly signed time at or past 2^63 ms made `ts as i64 - now as i64` overflow (a
    /// panic in debug builds); it is a skew like any other far-off time.
    #[test]
    fn signed_times_past_i64_max_are_skewed_not_overflowed() {
        let v = Verifier::new(keys(), "n:1");
        for ts in [1 << 63, (1 << 63) + now_millis() - 1, u64::MAX, 0] {
            let s = keys().sign_at("GET", "/p", "n:1", "x", ts, [7; 16]);
            assert!(
                matches!(
                    v.verify("GET", "/p", Some(&s.header)),
                    Err(TokenError::Skew(_))
                ),
                "{ts}"
            );
        }
    }

    #[test]
    fn rotation_accepts_every_listed_secret() {
        let new = format!("{SECRET}-new");
        let both = RpcKeys::from_secrets(&format!("{new} {SECRET}")).unwrap();
        let v = Verifier::new(both, "n:1");
        let from_old = keys().sign("GET", "/p", "n:1", "x");
        let from_new = RpcKeys::from_secrets(&new)
            .unwrap()
            .sign("GET", "/p", "n:1", "x");
        assert!(v.verify("GET", "/p", Some(&from_old.header)).is_ok());
        assert!(v.verify("GET", "/p", Some(&from_new.header)).is_ok());
    }

    #[test]
    fn stream_frames_are_bound_to_their_call_and_position() {
        let s = keys().sign("POST", "/w", "n:1", STREAM_BODY);
        let v = Verifier::new(keys(), "n:1")
            .verify("POST", "/w", Some(&s.header))
            .unwrap();
        let mac = s.stream.frame_mac(0, b"shard");
        assert!(v.stream.check(0, b"shard", &mac));
        assert!(!v.stream.check(1, b"shard", &mac), "reordered");
        assert!(!v.stream.check(0, b"shard!", &mac), "altered");
        let other = keys().sign("POST", "/w", "n:1", STREAM_BODY);
        assert!(
            !other.stream.check(0, b"shard", &mac),
            "moved to another call"
        );
    }
}
