//! The inter-node `Authorization` header: `Verifier::verify` never panics on any header, method or
//! path, and on correctly MACed headers (signed here with the cluster key at any time, nonce and
//! body field) it answers exactly what the protocol says: accepted once within the clock skew,
//! then a replay; refused for another node, path or method, as stale, or as malformed.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rustfs_node::rpc::auth::{now_millis, RpcKeys, TokenError, Verifier, MAX_SKEW_MILLIS};
use std::sync::OnceLock;

const SECRET: &str = "fuzz-0123456789abcdef0123456789abcdef";
const THIS_NODE: &str = "node2:9000";

#[derive(Debug, Arbitrary)]
enum Time {
    /// Milliseconds from now.
    Near(i32),
    /// Any distance from now, wrapping around the u64 range (so times near 2^63 are reached).
    Offset(i64),
    /// Any time at all.
    Any(u64),
}

#[derive(Debug, Arbitrary)]
enum Header {
    Absent,
    Raw(String),
    Signed {
        time: Time,
        nonce: [u8; 16],
        body: String,
        /// Signed for another node than the one that verifies.
        other_target: bool,
        /// Verified for a method and path other than the signed ones (when they differ).
        other_call: Option<(String, String)>,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    method: String,
    path: String,
    header: Header,
}

fn keys() -> &'static RpcKeys {
    static KEYS: OnceLock<RpcKeys> = OnceLock::new();
    KEYS.get_or_init(|| RpcKeys::from_secrets(SECRET).expect("a long secret"))
}

fuzz_target!(|input: Input| {
    let verifier = Verifier::new(keys().clone(), THIS_NODE);
    let (time, nonce, body, other_target, other_call) = match input.header {
        Header::Absent => {
            let r = verifier.verify(&input.method, &input.path, None);
            assert!(matches!(r, Err(TokenError::Missing)));
            return;
        }
        Header::Raw(h) => {
            // Without the key nothing verifies; it must only not panic.
            let _ = verifier.verify(&input.method, &input.path, Some(&h));
            return;
        }
        Header::Signed {
            time,
            nonce,
            body,
            other_target,
            other_call,
        } => (time, nonce, body, other_target, other_call),
    };
    let ts = match time {
        Time::Near(ms) => now_millis().saturating_add_signed(i64::from(ms)),
        Time::Offset(d) => now_millis().wrapping_add_signed(d),
        Time::Any(t) => t,
    };
    let target = if other_target {
        "node3:9000"
    } else {
        THIS_NODE
    };
    let signed = keys().sign_at(&input.method, &input.path, target, &body, ts, nonce);
    let (method, path) = match &other_call {
        Some((m, p)) if (m, p) != (&input.method, &input.path) => (m.as_str(), p.as_str()),
        _ => (input.method.as_str(), input.path.as_str()),
    };
    let moved = (method, path) != (input.method.as_str(), input.path.as_str());
    let r = verifier.verify(method, path, Some(&signed.header));
    let now = now_millis();
    if body.contains('.') {
        // The body field cannot hold the separator; such a call cannot be signed correctly.
        assert!(matches!(r, Err(TokenError::Malformed)), "{r:?}");
        return;
    }
    if other_target || (moved && !ambiguous(&input.method, &input.path, method, path)) {
        assert!(matches!(r, Err(TokenError::BadSignature)), "{r:?}");
        return;
    }
    if moved {
        return;
    }
    let skew = i128::from(ts) - i128::from(now);
    // Leave a margin for the clock moving between signing, verifying and reading it here.
    if skew.unsigned_abs() > u128::from(MAX_SKEW_MILLIS) + 1000 {
        assert!(matches!(r, Err(TokenError::Skew(_))), "{r:?}");
    } else if skew.unsigned_abs() + 1000 < u128::from(MAX_SKEW_MILLIS) && skew >= 1000 {
        let ok = r.expect("a fresh call verifies");
        assert_eq!(ok.body, body);
        let again = verifier.verify(method, path, Some(&signed.header));
        assert!(matches!(again, Err(TokenError::Replay)), "{again:?}");
    } else if skew < -1000 && skew.unsigned_abs() + 1000 < u128::from(MAX_SKEW_MILLIS) {
        // Within the skew, but before this verifier started.
        assert!(matches!(r, Err(TokenError::BeforeStart)), "{r:?}");
    }
});

/// Method and path are joined with newlines under the MAC; headers and request lines cannot hold
/// one, so (`a\nb`, `c`) and (`a`, `b\nc`) signing alike is no forgery. Such pairs are skipped.
fn ambiguous(m1: &str, p1: &str, m2: &str, p2: &str) -> bool {
    format!("{m1}\n{p1}") == format!("{m2}\n{p2}")
}
