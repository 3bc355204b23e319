//! Distributed start-up: find which endpoints are this node's, check that every peer runs the same
//! layout with the same credentials, and wait (with backoff, saying what for) until the drives can
//! be formatted or their formats agreed on. Every node runs the same command line; they may start
//! together or in any order.

use super::bootstrap::{build_pool_sets, check_drive_dir, settle_pool, PoolGeometry, Settled};
use crate::config::ServerConfig;
use crate::object::dlock::{DistLocks, Locker};
use crate::object::lock::NsLock;
use crate::object::{ObjectLayer, Pool};
use crate::rpc::auth::RpcKeys;
use crate::rpc::client::{Peer, PeerError};
use crate::rpc::remote::RemoteDrive;
use crate::rpc::server::RpcState;
use crate::rpc::wire::PeerInfo;
use crate::store::local::LocalDrive;
use crate::store::Drive;
use anyhow::{bail, Context, Result};
use futures::future::join_all;
use rustfs_common::endpoint::{Endpoint, PoolEndpoints};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// The normalised layout every node of one cluster must share.
pub fn topology(pools: &[PoolEndpoints]) -> String {
    pools
        .iter()
        .map(|p| {
            p.endpoints
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn is_local_ip(ip: std::net::IpAddr) -> bool {
    std::net::TcpListener::bind((ip, 0)).is_ok()
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
}

/// Which `host:port` of the command line is this node: the one whose port is ours and whose host
/// is our `--address` host (or, with `:PORT`, one of this machine's addresses or its hostname).
pub fn identify(pools: &[PoolEndpoints], addr: SocketAddr) -> Result<String> {
    let mut hosts: Vec<(String, String, u16)> = Vec::new();
    for ep in pools.iter().flat_map(|p| &p.endpoints) {
        if let Endpoint::Url { host, port, .. } = ep {
            let hp = ep.host_port().expect("url endpoint");
            if !hosts.iter().any(|(h, _, _)| *h == hp) {
                hosts.push((hp, host.clone(), *port));
            }
        }
    }
    let me_host = hostname();
    let mine: Vec<&String> = hosts
        .iter()
        .filter(|(_, host, port)| {
            if *port != addr.port() {
                return false;
            }
            let ips: Vec<std::net::IpAddr> = (host.as_str(), *port)
                .to_socket_addrs()
                .map(|a| a.map(|s| s.ip()).collect())
                .unwrap_or_default();
            if addr.ip().is_unspecified() {
                me_host.as_deref() == Some(host.as_str()) || ips.iter().any(|ip| is_local_ip(*ip))
            } else {
                ips.contains(&addr.ip())
            }
        })
        .map(|(hp, _, _)| hp)
        .collect();
    match mine.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!(
            "none of the endpoints is this node: no host resolves to this machine with port {} — check the host names and --address (it must be HOST:PORT of this node or :PORT)",
            addr.port()
        ),
        many => bail!(
            "several endpoints resolve to this machine ({}) — pass --address HOST:PORT to say which one this node is",
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// This node's part of a cluster, ready to serve RPC before the cluster has formed.
pub struct LocalPart {
    pub me: String,
    pub pools: Vec<PoolEndpoints>,
    pub rpc: Arc<RpcState>,
    keys: RpcKeys,
    local: HashMap<String, Arc<LocalDrive>>,
    /// This node's TLS client identity, when nodes talk over mutual TLS.
    tls_client: Option<super::tls::TlsClient>,
}

/// Checks and prepares this node's drives and sets up its RPC state.
pub fn prepare(
    pools: Vec<PoolEndpoints>,
    addr: SocketAddr,
    keys: RpcKeys,
    tls: Option<&super::tls::Tls>,
) -> Result<LocalPart> {
    let tls_client = tls.and_then(|t| t.client.clone());
    for ep in pools.iter().flat_map(|p| &p.endpoints) {
        match (ep, &tls_client, tls.is_some()) {
            (Endpoint::Url { https: true, .. }, None, _) => bail!(
                "{ep}: https endpoints need TLS between nodes — pass --tls-cert, --tls-key and --tls-ca (the cluster CA), or use http:// endpoints on a trusted network"
            ),
            (Endpoint::Url { https: false, .. }, _, true) => bail!(
                "{ep}: TLS is on (--tls-cert), so every endpoint must be https://"
            ),
            _ => {}
        }
    }
    let me = identify(&pools, addr)?;
    let mut local = HashMap::new();
    let mut seen = HashMap::new();
    for ep in pools.iter().flat_map(|p| &p.endpoints) {
        if ep.host_port().as_deref() != Some(me.as_str()) {
            continue;
        }
        let id = check_drive_dir(ep.path())?;
        if let Some(other) = seen.insert(id, ep.path().to_string()) {
            bail!(
                "drives {other} and {} are the same directory — each drive must be distinct",
                ep.path()
            );
        }
        let d = Arc::new(LocalDrive::new(ep.path()));
        d.prepare()
            .with_context(|| format!("preparing drive {}", ep.path()))?;
        local.insert(ep.path().to_string(), d);
    }
    let drives: HashMap<String, Arc<dyn Drive>> = local
        .iter()
        .map(|(p, d)| (p.clone(), d.clone() as Arc<dyn Drive>))
        .collect();
    let info = PeerInfo {
        version: rustfs_common::VERSION.to_string(),
        topology: topology(&pools),
        deployment_id: None,
        ready: false,
    };
    Ok(LocalPart {
        rpc: RpcState::new(keys.clone(), &me, drives, info),
        me,
        pools,
        keys,
        local,
        tls_client,
    })
}

/// Grows a wait from 250 ms to 5 s.
struct Backoff(Duration);

impl Backoff {
    async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
    }
}

/// Waits until the cluster can form, then builds the object layer over local and remote drives.
pub async fn form(cfg: &ServerConfig, part: &LocalPart) -> Result<Arc<ObjectLayer>> {
    let timeout = Duration::from_secs(cfg.rpc_timeout_secs.max(1));
    let mut peers: BTreeMap<String, Peer> = BTreeMap::new();
    for ep in part.pools.iter().flat_map(|p| &p.endpoints) {
        let hp = ep.host_port().expect("url endpoint");
        if hp != part.me && !peers.contains_key(&hp) {
            peers.insert(
                hp.clone(),
                Peer::new(&hp, part.tls_client.as_ref(), part.keys.clone(), timeout),
            );
        }
    }
    let drives: Vec<Vec<Arc<dyn Drive>>> = part
        .pools
        .iter()
        .map(|p| {
            p.endpoints
                .iter()
                .map(|ep| {
                    let hp = ep.host_port().expect("url endpoint");
                    match peers.get(&hp) {
                        None => part.local[ep.path()].clone() as Arc<dyn Drive>,
                        Some(peer) => {
                            Arc::new(RemoteDrive::new(peer.clone(), ep.path(), &ep.to_string()))
                                as Arc<dyn Drive>
                        }
                    }
                })
                .collect()
        })
        .collect();
    let owned: Vec<Vec<bool>> = part
        .pools
        .iter()
        .map(|p| {
            p.endpoints
                .iter()
                .map(|ep| ep.host_port().as_deref() == Some(part.me.as_str()))
                .collect()
        })
        .collect();
    // The node of the very first drive formats fresh drives, so two nodes never race to format.
    let formatter = part.pools[0].endpoints[0]
        .host_port()
        .expect("url endpoint");
    let geometry: Vec<PoolGeometry> = part
        .pools
        .iter()
        .map(|p| PoolGeometry::new(cfg, p))
        .collect::<Result<_>>()?;
    let my_topology = topology(&part.pools);
    let mut verified: HashSet<String> = HashSet::new();
    let mut backoff = Backoff(Duration::from_millis(250));
    loop {
        // Every peer that answers must share our layout and credentials.
        let unverified: Vec<&Peer> = peers
            .iter()
            .filter(|(hp, _)| !verified.contains(*hp))
            .map(|(_, p)| p)
            .collect();
        let infos = join_all(unverified.iter().map(|p| p.info())).await;
        let mut unreachable = Vec::new();
        for (p, info) in unverified.iter().zip(infos) {
            match info {
                Ok(info) if info.topology != my_topology => bail!(
                    "node {} was started with a different pool layout — refusing to join.\n  this node: {my_topology}\n  {}: {}\nstart every node with the same pool arguments",
                    p.addr(),
                    p.addr(),
                    info.topology
                ),
                Ok(_) => {
                    verified.insert(p.addr().to_string());
                }
                Err(e @ PeerError::Refused(_)) => bail!("{e}"),
                Err(e) => unreachable.push(e.to_string()),
            }
        }
        let mut settled = Vec::new();
        let mut waiting = Vec::new();
        let mut deployment = None;
        for (pi, geo) in geometry.iter().enumerate() {
            let formats = read_formats(&drives[pi], &owned[pi]).await?;
            let may_format_fresh =
                part.me == formatter && quorum_reachable(&formats, geo.set_drives, geo.parity);
            match settle_pool(
                pi,
                &drives[pi],
                formats,
                geo,
                deployment,
                may_format_fresh,
                &|slot| owned[pi][slot],
            )
            .await?
            {
                Settled::Ready(f) => {
                    deployment = Some(f.deployment_id);
                    settled.push(f);
                }
                Settled::Waiting(why) => waiting.push(format!("pool {pi}: {why}")),
            }
        }
        if waiting.is_empty() {
            let deployment = deployment.expect("at least one pool");
            part.rpc.set_info(|i| i.deployment_id = Some(deployment));
            let mut pools: Vec<Pool> = Vec::new();
            for (pi, f) in settled.iter().enumerate() {
                let geo = &geometry[pi];
                let home = pools.first().map(super::bootstrap::home_locks);
                let locks = |_: &[Arc<dyn Drive>], si: usize| {
                    if let Some(h) = &home {
                        return h.clone();
                    }
                    let mut lockers = Vec::new();
                    let mut hosts = Vec::new();
                    for ep in
                        &part.pools[pi].endpoints[si * geo.set_drives..(si + 1) * geo.set_drives]
                    {
                        let hp = ep.host_port().expect("url endpoint");
                        if hosts.contains(&hp) {
                            continue;
                        }
                        lockers.push(match peers.get(&hp) {
                            None => Locker::Local(part.rpc.locks.clone()),
                            Some(p) => Locker::Remote(Arc::new(p.clone())),
                        });
                        hosts.push(hp);
                    }
                    Arc::new(NsLock::Distributed(DistLocks {
                        lockers,
                        acquire_timeout: Duration::from_secs(cfg.lock_timeout_secs.max(1)),
                    }))
                };
                pools.push(Pool {
                    sets: build_pool_sets(cfg, pi, &drives[pi], geo, locks),
                    placement_key: *f.deployment_id.as_bytes(),
                });
            }
            tracing::info!(node = %part.me, %deployment, peers = peers.len(), "cluster formed");
            let _ = part.rpc.peers.set(peers.values().cloned().collect());
            return Ok(Arc::new(ObjectLayer::new(pools)));
        }
        tracing::info!(
            node = %part.me,
            waiting_for = %waiting.join("; "),
            unreachable = %unreachable.join("; "),
            "waiting for the cluster to form"
        );
        backoff.wait().await;
    }
}

/// Formats of a pool's drives: `Some(Ok(..))` answered, `None` unreachable. A local drive that
/// cannot be read stops start-up.
async fn read_formats(
    drives: &[Arc<dyn Drive>],
    owned: &[bool],
) -> Result<Vec<Option<Option<crate::store::format::Format>>>> {
    let results = join_all(drives.iter().map(|d| d.read_format())).await;
    let mut out = Vec::new();
    for ((d, r), own) in drives.iter().zip(results).zip(owned) {
        match r {
            Ok(f) => out.push(Some(f)),
            Err(e) if *own => {
                return Err(e)
                    .with_context(|| format!("reading the format of drive {}", d.endpoint()))
            }
            Err(_) => out.push(None),
        }
    }
    Ok(out)
}

/// Whether every set has at least a write quorum of drives answering.
fn quorum_reachable<T>(formats: &[Option<T>], set_drives: usize, parity: usize) -> bool {
    let q = rustfs_common::layout::Quorum::new(set_drives, parity).write();
    formats
        .chunks(set_drives)
        .all(|set| set.iter().filter(|f| f.is_some()).count() >= q)
}
