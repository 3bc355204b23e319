//! Turning one round of node answers into new observed state and events (pure: no I/O).
//!
//! - A node is up when its live endpoint answers 200; it is down after `down_after` failed polls
//!   in a row. `node_down` on the way down, `node_up` on the way back from down.
//! - A drive's state comes from the admin info of the node that holds it, else from any node
//!   that reports it; a drive nobody reports is offline when its node is down, else unchanged.
//!   Events on every change except unknown → online.
//! - Sets come from the first admin answer, with drives online counted from the merged drive
//!   states; `set_tolerance_changed` when a tolerance moved.
//! - `version_changed` when a node reports a version other than the one last seen.

use super::fetch::NodeAnswer;
use crate::api::{event_kind, ClusterStatus, DriveState, NodeState, SetHealth};
use crate::db::{DriveUpdate, HostUpdate, Observation, ObservedEvent, PollTarget};
use rustfs_common::admin::{DriveInfo, ServerInfo};
use serde_json::json;
use std::collections::HashMap;

/// The path part of a drive endpoint (`http://h:p/data1` → `/data1`).
fn endpoint_path(endpoint: &str) -> &str {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = endpoint.strip_prefix(scheme) {
            return rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
        }
    }
    endpoint
}

struct Seen<'a> {
    drive: &'a DriveInfo,
    from_owner: bool,
    pool: u32,
    set: u32,
}

/// Every drive any answering node reported, keyed by (`host:port`, path), the owner's report
/// preferred.
fn merge_drives<'a>(infos: &[&'a ServerInfo]) -> HashMap<(String, String), Seen<'a>> {
    let mut out: HashMap<(String, String), Seen<'a>> = HashMap::new();
    for info in infos {
        for pool in &info.pools {
            for set in &pool.sets {
                for d in &set.drives {
                    let key = (d.node.clone(), endpoint_path(&d.endpoint).to_string());
                    let from_owner = d.node == info.this_node;
                    let replace = out.get(&key).is_none_or(|s| from_owner && !s.from_owner);
                    if replace {
                        out.insert(
                            key,
                            Seen {
                                drive: d,
                                from_owner,
                                pool: pool.index as u32,
                                set: set.index as u32,
                            },
                        );
                    }
                }
            }
        }
    }
    out
}

/// Judges one round for `t`; `answers[i]` belongs to `t.hosts[i]`.
pub fn judge(t: &PollTarget, answers: &[NodeAnswer], time: i64, down_after: u32) -> Observation {
    let mut events = Vec::new();
    let mut hosts = Vec::new();
    let infos: Vec<&ServerInfo> = answers
        .iter()
        .filter_map(|a| a.info.as_ref().and_then(|i| i.as_ref().ok()))
        .collect();
    let mut new_state: HashMap<i64, NodeState> = HashMap::new();
    for (h, a) in t.hosts.iter().zip(answers) {
        let hp = h.host_port();
        let own_info = infos.iter().find(|i| i.this_node == hp);
        let error = match (&a.live, &a.info) {
            (Err(e), _) => Some(e.clone()),
            (Ok(()), Some(Err(e))) => Some(e.clone()),
            _ => None,
        };
        let (state, failures) = match &a.live {
            Ok(()) => (NodeState::Up, 0),
            Err(_) => {
                let failures = h.failures.saturating_add(1);
                let state = if failures >= down_after {
                    NodeState::Down
                } else {
                    h.state
                };
                (state, failures)
            }
        };
        match (h.state, state) {
            (NodeState::Down, NodeState::Up) => events.push(ObservedEvent {
                node: Some(h.name.clone()),
                drive: None,
                kind: event_kind::NODE_UP,
                message: format!("node {} is up", h.name),
                details: json!({"address": hp}),
            }),
            (NodeState::Up | NodeState::Unknown, NodeState::Down) => events.push(ObservedEvent {
                node: Some(h.name.clone()),
                drive: None,
                kind: event_kind::NODE_DOWN,
                message: format!(
                    "node {} is down: {}",
                    h.name,
                    error.clone().unwrap_or_default()
                ),
                details: json!({"address": hp, "failed_polls": failures, "error": error}),
            }),
            _ => {}
        }
        let version = own_info.map(|i| i.version.clone());
        if let (Some(old), Some(new)) = (&h.version, &version) {
            if old != new {
                events.push(ObservedEvent {
                    node: Some(h.name.clone()),
                    drive: None,
                    kind: event_kind::VERSION_CHANGED,
                    message: format!("node {} runs {new} (was {old})", h.name),
                    details: json!({"from": old, "to": new}),
                });
            }
        }
        new_state.insert(h.id, state);
        hosts.push(HostUpdate {
            id: h.id,
            state,
            failures,
            version,
            answered: a.live.is_ok(),
            error,
        });
    }

    let merged = merge_drives(&infos);
    let mut drives = Vec::new();
    let mut offline_any = false;
    for d in &t.drives {
        let Some(h) = t.hosts.iter().find(|h| h.id == d.host_id) else {
            continue;
        };
        let seen = merged.get(&(h.host_port(), d.path.clone()));
        let state = match seen {
            Some(s) if s.drive.online => DriveState::Online,
            Some(_) => DriveState::Offline,
            None if new_state.get(&h.id) == Some(&NodeState::Down) => DriveState::Offline,
            None => d.state,
        };
        offline_any |= state == DriveState::Offline;
        let kind = match (d.state, state) {
            (DriveState::Online | DriveState::Unknown, DriveState::Offline) => {
                Some(event_kind::DRIVE_OFFLINE)
            }
            (DriveState::Offline, DriveState::Online) => Some(event_kind::DRIVE_ONLINE),
            _ => None,
        };
        if let Some(kind) = kind {
            let word = if state == DriveState::Online {
                "online"
            } else {
                "offline"
            };
            events.push(ObservedEvent {
                node: Some(h.name.clone()),
                drive: Some(d.path.clone()),
                kind,
                message: format!("drive {}:{} is {word}", h.name, d.path),
                details: json!({"pool": seen.map(|s| s.pool), "set": seen.map(|s| s.set)}),
            });
        }
        drives.push(DriveUpdate {
            id: d.id,
            state,
            state_changed: state != d.state,
            pool: seen.map(|s| s.pool),
            set: seen.map(|s| s.set),
            total_bytes: seen.map(|s| s.drive.total_bytes),
            used_bytes: seen.map(|s| s.drive.used_bytes),
            free_bytes: seen.map(|s| s.drive.free_bytes),
        });
    }

    let sets = infos.first().map(|info| {
        let mut out = Vec::new();
        for pool in &info.pools {
            for set in &pool.sets {
                let online = set
                    .drives
                    .iter()
                    .filter(|d| {
                        let key = (d.node.clone(), endpoint_path(&d.endpoint).to_string());
                        merged.get(&key).map_or(d.online, |s| s.drive.online)
                    })
                    .count() as i64;
                out.push(SetHealth {
                    pool: pool.index as u32,
                    set: set.index as u32,
                    data: set.data as u32,
                    parity: set.parity as u32,
                    read_quorum: set.read_quorum as u32,
                    write_quorum: set.write_quorum as u32,
                    drives_total: set.drives.len() as u32,
                    drives_online: online as u32,
                    read_tolerance: online - set.read_quorum as i64,
                    write_tolerance: online - set.write_quorum as i64,
                });
            }
        }
        out
    });
    if let Some(new_sets) = &sets {
        for s in new_sets {
            let Some(old) = t.sets.iter().find(|o| o.pool == s.pool && o.set == s.set) else {
                continue;
            };
            if old.read_tolerance != s.read_tolerance || old.write_tolerance != s.write_tolerance {
                events.push(ObservedEvent {
                    node: None,
                    drive: None,
                    kind: event_kind::SET_TOLERANCE_CHANGED,
                    message: format!(
                        "pool {} set {}: write tolerance {} (was {}), read tolerance {} (was {})",
                        s.pool,
                        s.set,
                        s.write_tolerance,
                        old.write_tolerance,
                        s.read_tolerance,
                        old.read_tolerance
                    ),
                    details: json!({
                        "pool": s.pool, "set": s.set,
                        "read_tolerance": {"from": old.read_tolerance, "to": s.read_tolerance},
                        "write_tolerance": {"from": old.write_tolerance, "to": s.write_tolerance},
                    }),
                });
            }
        }
    }

    let any_answered = answers.iter().any(|a| a.live.is_ok());
    let any_down = hosts.iter().any(|h| h.state == NodeState::Down);
    let known_sets = sets.as_deref().unwrap_or(&t.sets);
    let status = if !t.hosts.is_empty()
        && !any_answered
        && hosts.iter().all(|h| h.state == NodeState::Down)
    {
        ClusterStatus::Down
    } else if known_sets.is_empty() {
        if any_down {
            ClusterStatus::Degraded
        } else {
            ClusterStatus::Unknown
        }
    } else if known_sets.iter().any(|s| s.read_tolerance < 0) {
        ClusterStatus::Down
    } else if known_sets.iter().any(|s| s.write_tolerance < 0) {
        ClusterStatus::ReadOnly
    } else if any_down || offline_any || known_sets.iter().any(|s| s.drives_online < s.drives_total)
    {
        ClusterStatus::Degraded
    } else {
        ClusterStatus::Healthy
    };
    Observation {
        time,
        status,
        hosts,
        drives,
        sets,
        events,
    }
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
