//! The heal IO budget: a token bucket of bytes per second shared by every heal and deep scan on
//! this node, so background work never takes more of the drives than the operator allows.

use parking_lot::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct IoBudget {
    bytes_per_sec: u64,
    /// (tokens available, may go negative; last refill)
    state: Mutex<(f64, Instant)>,
}

impl IoBudget {
    /// `bytes_per_sec == 0`: unlimited.
    pub fn new(bytes_per_sec: u64) -> Self {
        IoBudget {
            bytes_per_sec,
            state: Mutex::new((bytes_per_sec as f64, Instant::now())),
        }
    }

    pub fn unlimited() -> Self {
        Self::new(0)
    }

    /// Takes `bytes` from the budget, waiting until the bucket has paid for them. Bursts are
    /// capped at one second's worth.
    pub async fn spend(&self, bytes: u64) {
        let wait = self.take(bytes);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    fn take(&self, bytes: u64) -> Duration {
        if self.bytes_per_sec == 0 {
            return Duration::ZERO;
        }
        let rate = self.bytes_per_sec as f64;
        let mut st = self.state.lock();
        let now = Instant::now();
        st.0 = (st.0 + now.duration_since(st.1).as_secs_f64() * rate).min(rate);
        st.1 = now;
        st.0 -= bytes as f64;
        if st.0 >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-st.0 / rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debt_is_paid_in_time_at_the_rate() {
        let b = IoBudget::new(1000);
        assert_eq!(b.take(1000), Duration::ZERO, "one second's burst is free");
        let wait = b.take(500);
        assert!(
            wait > Duration::from_millis(400) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        assert_eq!(IoBudget::unlimited().take(u64::MAX), Duration::ZERO);
    }
}
