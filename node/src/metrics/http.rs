//! What the request path learns about one S3 request for its figures and its audit entry: the
//! operation name, the caller and the bytes received, left in an [`ApiSlot`] the request carries
//! in its extensions. The request layer that fills and reads it is `server::probe::S3Probe`;
//! the endpoint is `server::scrape`.
//!
//! The API name comes from `s3s` itself: the service's access check (`iam::access::IamAccess`),
//! which `s3s` calls with the resolved operation, writes it into the slot ([`record_api`]).
//! Requests refused before that (bad signature, unknown route) count as `api="unknown"`; the
//! admin API counts as `api="Admin"`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Path of the metrics endpoint.
pub const METRICS_PATH: &str = "/rustfs/metrics";

/// What the request path learns about one request as it goes: the operation name and the
/// caller (from the access check), and the bytes received.
#[derive(Default)]
struct Info {
    api: OnceLock<String>,
    /// Access key and the user it belongs to.
    caller: OnceLock<(String, String)>,
    bytes_in: AtomicU64,
}

/// Where the access check leaves what it learnt about a request (see [`Info`]).
#[derive(Clone, Default)]
pub struct ApiSlot(Arc<Info>);

impl ApiSlot {
    /// The operation's name: as recorded, else `Admin` for the admin API, else `unknown`.
    pub fn name(&self, is_admin: bool) -> &str {
        match self.0.api.get() {
            Some(n) => n.as_str(),
            None if is_admin => "Admin",
            None => "unknown",
        }
    }

    /// The access key and its user, when the access check recorded them.
    pub fn caller(&self) -> Option<&(String, String)> {
        self.0.caller.get()
    }

    /// Request body bytes received so far.
    pub fn bytes_in(&self) -> u64 {
        self.0.bytes_in.load(Ordering::Relaxed)
    }

    /// Adds `n` request body bytes received.
    pub fn add_bytes_in(&self, n: u64) {
        self.0.bytes_in.fetch_add(n, Ordering::Relaxed);
    }
}

/// Records the S3 operation name of a request, for the access check to call (`iam::access`).
pub fn record_api(extensions: &mut http::Extensions, name: String) {
    if let Some(slot) = extensions.get::<ApiSlot>() {
        let _ = slot.0.api.set(name);
    }
}

/// Records who a request's signature proved the caller to be: its access key and the user the
/// key belongs to (for the audit log; callers skip it while the audit log is off).
pub fn record_caller(extensions: &http::Extensions, access_key: &str, user: &str) {
    if let Some(slot) = extensions.get::<ApiSlot>() {
        let _ = slot
            .0
            .caller
            .set((access_key.to_string(), user.to_string()));
    }
}
