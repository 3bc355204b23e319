//! What an `apply` run did, host by host, and the summary table printed at its end.

use std::time::Duration;

use crate::inventory::Inventory;
use crate::plan::Action;
use crate::progress::{table, Step};

/// How a host came out of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not finished (the run stopped before this host's turn).
    Pending,
    /// Nothing needed changing.
    Unchanged,
    /// Changed; `restarted` when a running node was restarted.
    Changed { restarted: bool },
    /// Failed at a step.
    Failed { step: Step, message: String },
}

/// One host's part of the run.
#[derive(Debug, Clone)]
pub struct HostReport {
    pub host: String,
    pub address: String,
    /// Actions taken (or, when the run stopped before them, planned).
    pub actions: Vec<Action>,
    pub outcome: Outcome,
}

/// The run's result.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    pub hosts: Vec<HostReport>,
    /// The first failure: host (or `cluster`), step, message.
    pub failure: Option<(String, Step, String)>,
    pub elapsed: Duration,
    /// Whether the user declined the confirmation (nothing was changed).
    pub declined: bool,
    /// Time spent waiting for cluster health.
    pub health_wait: Option<Duration>,
    /// Nodes the S3 round trip went through.
    pub verified_nodes: usize,
    /// What the control plane registration said, when one is configured.
    pub registration: Option<String>,
    /// The cluster's deployment id, when known.
    pub deployment_id: Option<String>,
    /// The generated Prometheus directory (`monitoring`), once the cluster is verified.
    pub monitoring: Option<std::path::PathBuf>,
}

impl ApplyReport {
    pub(super) fn new(inv: &Inventory) -> ApplyReport {
        ApplyReport {
            hosts: inv
                .hosts
                .iter()
                .map(|h| HostReport {
                    host: h.name().to_string(),
                    address: h.address.clone(),
                    actions: Vec::new(),
                    outcome: Outcome::Pending,
                })
                .collect(),
            failure: None,
            elapsed: Duration::ZERO,
            declined: false,
            health_wait: None,
            verified_nodes: 0,
            registration: None,
            deployment_id: None,
            monitoring: None,
        }
    }

    /// Number of actions taken over all hosts.
    pub fn num_changes(&self) -> usize {
        self.hosts
            .iter()
            .filter(|h| matches!(h.outcome, Outcome::Changed { .. }))
            .map(|h| h.actions.len())
            .sum()
    }

    pub(super) fn fail(&mut self, i: Option<usize>, step: Step, message: String) {
        let who = match i {
            Some(i) => {
                self.hosts[i].outcome = Outcome::Failed {
                    step,
                    message: message.clone(),
                };
                self.hosts[i].host.clone()
            }
            None => "cluster".to_string(),
        };
        if self.failure.is_none() {
            self.failure = Some((who, step, message));
        }
    }

    /// The summary table printed at the end of a run.
    pub fn summary(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .hosts
            .iter()
            .map(|h| {
                let result = match &h.outcome {
                    Outcome::Pending => "not reached".to_string(),
                    Outcome::Unchanged => "ok, no changes".to_string(),
                    Outcome::Changed { restarted: true } => "ok, changed, restarted".to_string(),
                    Outcome::Changed { restarted: false } => "ok, changed".to_string(),
                    Outcome::Failed { step, .. } => format!("FAILED at {step}"),
                };
                vec![
                    h.host.clone(),
                    h.address.clone(),
                    h.actions.len().to_string(),
                    result,
                ]
            })
            .collect();
        table(&["HOST", "ADDRESS", "CHANGES", "RESULT"], &rows)
    }
}
