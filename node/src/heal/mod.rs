//! Keeping data whole (ARCHITECTURE.md, "Healing, scanner, drive replacement"): heal on read and after partial writes (a persisted,
//! deduplicated queue), a throttled background scanner that checks shard presence and, on a
//! slower deep cycle, bitrot hashes, and the rebuild of a replaced drive, resumable across
//! restarts. Every path ends in [`object::heal_object`], which restores an object's full
//! redundancy and verifies it, or says that it could not.

pub mod budget;
pub mod config;
mod copies;
pub mod cycle;
pub mod manager;
pub mod metrics;
pub mod object;
pub mod queue;
pub mod rebuild;

#[cfg(test)]
mod tests;

pub use config::HealConfig;
pub use manager::HealManager;

pub use crate::object::heal_hook::{HealHook, HealKey, PendingHeal};
