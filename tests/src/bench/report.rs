//! Turns raw run outcomes into the figures `rustfs-bench` prints: an aligned table on stdout by
//! default, or one JSON object per line with `--json`.

use std::time::Duration;

use serde_json::json;

use super::workload::RunOutcome;

const MIB: f64 = (1 << 20) as f64;

/// The figures of one run.
#[derive(Debug)]
pub struct RunReport {
    pub workload: &'static str,
    pub object_size: String,
    pub object_size_bytes: u64,
    pub concurrency: usize,
    /// Successful requests.
    pub num_ok: u64,
    pub num_errors: u64,
    pub elapsed_secs: f64,
    pub mib_per_sec: f64,
    pub ops_per_sec: f64,
    /// Latency percentiles of successful requests; `None` when none succeeded.
    pub p50_millis: Option<f64>,
    pub p99_millis: Option<f64>,
}

impl RunReport {
    pub fn new(outcome: RunOutcome) -> Self {
        let RunOutcome {
            spec,
            num_ok,
            num_errors,
            elapsed,
            mut latencies,
            ..
        } = outcome;
        latencies.sort_unstable();
        let elapsed_secs = elapsed.as_secs_f64().max(f64::EPSILON);
        let ok_bytes = num_ok as f64 * spec.size.0 as f64;
        Self {
            workload: spec.workload.name(),
            object_size: spec.size.to_string(),
            object_size_bytes: spec.size.0,
            concurrency: spec.concurrency,
            num_ok,
            num_errors,
            elapsed_secs,
            mib_per_sec: ok_bytes / MIB / elapsed_secs,
            ops_per_sec: num_ok as f64 / elapsed_secs,
            p50_millis: percentile(&latencies, 0.50).map(millis),
            p99_millis: percentile(&latencies, 0.99).map(millis),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "workload": self.workload,
            "object_size": self.object_size,
            "object_size_bytes": self.object_size_bytes,
            "concurrency": self.concurrency,
            "ops": self.num_ok,
            "errors": self.num_errors,
            "elapsed_secs": self.elapsed_secs,
            "mib_per_sec": self.mib_per_sec,
            "ops_per_sec": self.ops_per_sec,
            "p50_ms": self.p50_millis,
            "p99_ms": self.p99_millis,
        })
    }

    pub fn to_table_row(&self) -> String {
        let ms = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
        format!(
            "{:<10} {:>8} {:>5} {:>8} {:>7} {:>10.1} {:>10.1} {:>9} {:>9}",
            self.workload,
            self.object_size,
            self.concurrency,
            self.num_ok,
            self.num_errors,
            self.mib_per_sec,
            self.ops_per_sec,
            ms(self.p50_millis),
            ms(self.p99_millis),
        )
    }
}

pub fn table_header() -> String {
    format!(
        "{:<10} {:>8} {:>5} {:>8} {:>7} {:>10} {:>10} {:>9} {:>9}",
        "workload", "size", "conc", "ops", "errors", "MiB/s", "ops/s", "p50_ms", "p99_ms"
    )
}

/// Nearest-rank percentile of an ascending slice.
fn percentile(sorted: &[Duration], quantile: f64) -> Option<Duration> {
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

fn millis(latency: Duration) -> f64 {
    latency.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<_> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 0.50), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&sorted, 0.99), Some(Duration::from_millis(99)));
        assert_eq!(
            percentile(&sorted[..1], 0.99),
            Some(Duration::from_millis(1))
        );
        assert_eq!(percentile(&[], 0.5), None);
    }
}
