use super::*;
use crate::api::{PollCredentials, Scheme};
use crate::db::{DriveTarget, HostTarget};
use rustfs_common::admin::{NodeInfo, PoolInfo, SetInfo};

fn target() -> PollTarget {
    let hosts: Vec<HostTarget> = (1..=4)
        .map(|i| HostTarget {
            id: i,
            name: format!("n{i}"),
            address: format!("127.0.0.{i}"),
            s3_port: 9000,
            state: NodeState::Up,
            failures: 0,
            version: Some("1".into()),
        })
        .collect();
    let drives = (1..=4)
        .map(|i| DriveTarget {
            id: 10 + i,
            host_id: i,
            path: "/d1".into(),
            state: DriveState::Online,
        })
        .collect();
    PollTarget {
        cluster_id: 1,
        name: "c".into(),
        scheme: Scheme::Http,
        ca_pem: None,
        credentials: Ok(PollCredentials {
            access_key: "a".into(),
            secret_key: "s".into(),
        }),
        status: ClusterStatus::Healthy,
        hosts,
        drives,
        sets: vec![SetHealth {
            pool: 0,
            set: 0,
            data: 2,
            parity: 2,
            read_quorum: 2,
            write_quorum: 3,
            drives_total: 4,
            drives_online: 4,
            read_tolerance: 2,
            write_tolerance: 1,
        }],
    }
}

/// Admin info as node `me` (1-based) reports it, with `offline` nodes' drives offline.
fn info(me: usize, offline: &[usize], version: &str) -> ServerInfo {
    let node = |i: usize| format!("127.0.0.{i}:9000");
    ServerInfo {
        version: version.into(),
        rpc: Default::default(),
        formats: Default::default(),
        deployment_id: "d".into(),
        this_node: node(me),
        nodes: (1..=4)
            .map(|i| NodeInfo {
                address: node(i),
                online: !offline.contains(&i),
            })
            .collect(),
        pools: vec![PoolInfo {
            index: 0,
            sets: vec![SetInfo {
                index: 0,
                data: 2,
                parity: 2,
                read_quorum: 2,
                write_quorum: 3,
                drives_online: 4 - offline.len(),
                read_tolerance: 0,
                write_tolerance: 0,
                drives: (1..=4)
                    .map(|i| DriveInfo {
                        endpoint: format!("http://{}/d1", node(i)),
                        node: node(i),
                        online: !offline.contains(&i),
                        total_bytes: 100,
                        used_bytes: 10,
                        free_bytes: 90,
                    })
                    .collect(),
            }],
        }],
    }
}

fn up(i: ServerInfo) -> NodeAnswer {
    NodeAnswer {
        live: Ok(()),
        info: Some(Ok(i)),
        tls_failed: false,
    }
}

fn dead() -> NodeAnswer {
    NodeAnswer::failed("connection refused".into())
}

fn kinds(o: &Observation) -> Vec<&str> {
    o.events.iter().map(|e| e.kind).collect()
}

#[test]
fn all_up_is_healthy_and_quiet() {
    let t = target();
    let a: Vec<_> = (1..=4).map(|i| up(info(i, &[], "1"))).collect();
    let o = judge(&t, &a, 0, 2);
    assert_eq!(o.status, ClusterStatus::Healthy);
    assert!(o.events.is_empty(), "{:?}", o.events);
    assert_eq!(o.sets.as_ref().unwrap()[0].write_tolerance, 1);
}

#[test]
fn a_dead_node_is_down_after_the_threshold() {
    let mut t = target();
    let a: Vec<_> = (1..=3)
        .map(|i| up(info(i, &[4], "1")))
        .chain([dead()])
        .collect();
    let o = judge(&t, &a, 0, 2);
    // first failure: not yet down, but its drive is reported offline by the others
    assert_eq!(o.hosts[3].state, NodeState::Up);
    assert_eq!(o.hosts[3].failures, 1);
    assert_eq!(kinds(&o), vec!["drive_offline", "set_tolerance_changed"]);
    assert_eq!(o.status, ClusterStatus::Degraded);
    assert_eq!(o.sets.as_ref().unwrap()[0].write_tolerance, 0);
    t.hosts[3].failures = 1;
    t.drives[3].state = DriveState::Offline;
    t.sets = o.sets.clone().unwrap();
    let o = judge(&t, &a, 0, 2);
    assert_eq!(o.hosts[3].state, NodeState::Down);
    assert_eq!(kinds(&o), vec!["node_down"]);
    // back: node_up and drive_online
    t.hosts[3].state = NodeState::Down;
    t.hosts[3].failures = 2;
    let back: Vec<_> = (1..=4).map(|i| up(info(i, &[], "1"))).collect();
    let o = judge(&t, &back, 0, 2);
    assert_eq!(
        kinds(&o),
        vec!["node_up", "drive_online", "set_tolerance_changed"]
    );
    assert_eq!(o.hosts[3].failures, 0);
    assert_eq!(o.status, ClusterStatus::Healthy);
}

#[test]
fn the_owner_report_wins_and_versions_are_tracked() {
    let t = target();
    // node 2 thinks node 1's drive is offline; node 1 itself says it is online
    let a = vec![
        up(info(1, &[], "2")),
        up(info(2, &[1], "1")),
        up(info(3, &[], "1")),
        up(info(4, &[], "1")),
    ];
    let o = judge(&t, &a, 0, 2);
    assert_eq!(o.drives[0].state, DriveState::Online);
    assert_eq!(kinds(&o), vec!["version_changed"]);
    assert_eq!(o.hosts[0].version.as_deref(), Some("2"));
}

#[test]
fn garbage_and_silence_never_panic() {
    let t = target();
    let a = vec![
        NodeAnswer {
            live: Ok(()),
            info: Some(Err("not the expected JSON".into())),
            tls_failed: false,
        },
        dead(),
        dead(),
        dead(),
    ];
    let o = judge(&t, &a, 0, 1);
    assert!(o.sets.is_none());
    assert_eq!(o.hosts[0].error.as_deref(), Some("not the expected JSON"));
    assert_eq!(kinds(&o).iter().filter(|k| **k == "node_down").count(), 3);
    // no fresh set info: the last known sets stand, and nodes down make it degraded
    assert_eq!(o.status, ClusterStatus::Degraded);
    let none: Vec<_> = (0..4).map(|_| dead()).collect();
    let o = judge(&t, &none, 0, 1);
    assert_eq!(o.status, ClusterStatus::Down);
}
