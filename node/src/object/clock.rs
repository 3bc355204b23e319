//! The node's hybrid logical clock (ARCHITECTURE.md, "Versions of an object"): version times
//! that never go backwards on a node and always exceed every time the node has heard of.
//!
//! A version's time orders it among the versions of its key. Wall clocks of two nodes may differ
//! by seconds; if each stamped its writes with its own wall clock, a write acknowledged later
//! could sort before an earlier one. So every lock call carries the caller's clock and every
//! answer the locker's, and each node's clock moves past every time it observes. A writer holds
//! the key's write lock from a majority of lockers; any earlier writer released its lock at one
//! of them (its release carrying a time past its version's), so the next writer's clock — and
//! with it the next version's time — is past every acknowledged version of the key.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;

/// The clock of this process.
pub struct Hlc {
    last: AtomicI64,
    /// Added to the wall clock: only for tests that simulate skewed nodes
    /// (`RUSTFS_TEST_CLOCK_OFFSET_MILLIS`).
    offset_nanos: i64,
}

static CLOCK: OnceLock<Hlc> = OnceLock::new();

/// The process's clock.
pub fn hlc() -> &'static Hlc {
    CLOCK.get_or_init(|| Hlc {
        last: AtomicI64::new(0),
        offset_nanos: std::env::var("RUSTFS_TEST_CLOCK_OFFSET_MILLIS")
            .ok()
            .and_then(|v| v.parse::<i64>().ok())
            .map_or(0, |ms| ms.saturating_mul(1_000_000)),
    })
}

impl Hlc {
    /// The wall clock (with the test offset), nanoseconds since the Unix epoch.
    pub fn wall_nanos(&self) -> i64 {
        (time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64)
            .saturating_add(self.offset_nanos)
    }

    /// A fresh time: past the wall clock's and every time issued or observed before.
    pub fn now(&self) -> i64 {
        let wall = self.wall_nanos();
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = wall.max(last.saturating_add(1));
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Moves the clock past `seen` (a time another node sent).
    pub fn observe(&self, seen: i64) {
        self.last.fetch_max(seen, Ordering::Relaxed);
    }

    /// The latest time issued or observed, without issuing one.
    pub fn peek(&self) -> i64 {
        self.last.load(Ordering::Relaxed).max(self.wall_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_only_grow_and_pass_what_was_observed() {
        let c = Hlc {
            last: AtomicI64::new(0),
            offset_nanos: 0,
        };
        let a = c.now();
        let b = c.now();
        assert!(b > a);
        let far = c.wall_nanos() + 30_000_000_000;
        c.observe(far);
        assert!(
            c.now() > far,
            "a node 30 s ahead moves this one past its time"
        );
        let behind = Hlc {
            last: AtomicI64::new(0),
            offset_nanos: -30_000_000_000,
        };
        behind.observe(b);
        assert!(behind.now() > b);
    }
}
