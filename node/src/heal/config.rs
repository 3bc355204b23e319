//! Healing settings (flags with `RUSTFS_*` env forms), flattened into `rustfs server`.

use clap::Args;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct HealConfig {
    /// Pause between two scanner cycles over every erasure set, in seconds.
    #[arg(long, env = "RUSTFS_SCANNER_INTERVAL_SECS", default_value_t = 60)]
    pub scanner_interval_secs: u64,
    /// Every Nth scanner cycle is deep: it reads every shard and checks its bitrot hashes
    /// (0: never).
    #[arg(long, env = "RUSTFS_SCANNER_DEEP_EVERY", default_value_t = 8)]
    pub scanner_deep_every: u64,
    /// Pause after each object the scanner checks, in milliseconds: keeps its metadata load
    /// off client traffic.
    #[arg(long, env = "RUSTFS_SCANNER_SLEEP_MILLIS", default_value_t = 1)]
    pub scanner_sleep_millis: u64,
    /// Bytes per second (in MiB) that healing and deep scans may read and write together on this
    /// node; 0 means no limit.
    #[arg(long, env = "RUSTFS_HEAL_IO_BUDGET_MIB", default_value_t = 256)]
    pub heal_io_budget_mib: u64,
    /// Objects healed at once from the heal queue and a drive rebuild.
    #[arg(long, env = "RUSTFS_HEAL_WORKERS", default_value_t = 2)]
    pub heal_workers: usize,
    /// How often local drives are checked for replacement and peers' drives for their return,
    /// in seconds.
    #[arg(long, env = "RUSTFS_DRIVE_CHECK_SECS", default_value_t = 5)]
    pub drive_check_secs: u64,
    /// Most objects the heal queue holds; beyond, new entries are left to the scanner.
    #[arg(long, env = "RUSTFS_HEAL_QUEUE_MAX", default_value_t = 100_000)]
    pub heal_queue_max: usize,
}

impl HealConfig {
    pub fn budget_bytes_per_sec(&self) -> u64 {
        self.heal_io_budget_mib.saturating_mul(1 << 20)
    }

    pub fn scanner_interval(&self) -> Duration {
        Duration::from_secs(self.scanner_interval_secs)
    }

    pub fn drive_check(&self) -> Duration {
        Duration::from_secs(self.drive_check_secs.max(1))
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.heal_workers == 0 {
            return Err("--heal-workers must be at least 1".into());
        }
        if self.heal_queue_max == 0 {
            return Err("--heal-queue-max must be at least 1".into());
        }
        Ok(())
    }
}

impl Default for HealConfig {
    fn default() -> Self {
        HealConfig {
            scanner_interval_secs: 60,
            scanner_deep_every: 8,
            scanner_sleep_millis: 1,
            heal_io_budget_mib: 256,
            heal_workers: 2,
            drive_check_secs: 5,
            heal_queue_max: 100_000,
        }
    }
}
