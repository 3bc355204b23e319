//! Figures computed when Prometheus scrapes (`super::scrape`), from the same sources as the admin info: this
//! node (build, uptime, clock), its local drives (capacity, usage, online), every erasure set as
//! this node sees it (online drives, quorums, tolerance) and the cluster's capacity.
//!
//! Drive figures cover this node's drives only, so sums over instances count each drive once;
//! set and cluster figures are every node's own view (take `min`/`max` across instances).
//! Object counts come from a background walk of one local drive per set, at most once a
//! minute, so a scrape never waits for a listing.

use crate::metrics::Metrics;
use crate::object::{ErasureSet, ObjectLayer};
use crate::store::{DiskInfo, Drive, WalkEntry, WalkRequest};
use futures::future::join_all;
use parking_lot::Mutex;
use prometheus::{Gauge, GaugeVec, IntGauge, IntGaugeVec};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one drive may take to report its capacity during a scrape.
const DRIVE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the object counts are refreshed (at most).
const USAGE_REFRESH: Duration = Duration::from_secs(60);

pub(crate) struct NodeGauges {
    /// Set once at start; kept so the family stays owned here.
    _build_info: IntGaugeVec,
    uptime: Gauge,
    time: Gauge,
    ready: IntGauge,
    drive_total: GaugeVec,
    drive_used: GaugeVec,
    drive_free: GaugeVec,
    drive_usage: GaugeVec,
    drive_online: IntGaugeVec,
    set_drives: IntGaugeVec,
    set_online: IntGaugeVec,
    set_read_quorum: IntGaugeVec,
    set_write_quorum: IntGaugeVec,
    set_read_tolerance: IntGaugeVec,
    set_write_tolerance: IntGaugeVec,
    set_objects: IntGaugeVec,
    set_object_bytes: GaugeVec,
    raw_total: Gauge,
    raw_free: Gauge,
    usable_total: Gauge,
    usable_free: Gauge,
    nodes_total: IntGauge,
    nodes_online: IntGauge,
    drives_total: IntGauge,
    drives_online: IntGauge,
    buckets: IntGauge,
    usage: UsageCounter,
}

const DRIVE: &[&str] = &["drive", "pool", "set"];
const SET: &[&str] = &["pool", "set"];

impl NodeGauges {
    /// The gauges, registered in `m`.
    pub(crate) fn new(m: &Metrics) -> Self {
        let g = |n: &str, h: &str| m.gauge(n, h);
        let gv = |n: &str, h: &str, l: &[&str]| m.gauge_vec(n, h, l);
        let ig = |n: &str, h: &str| m.int_gauge(n, h);
        let igv = |n: &str, h: &str, l: &[&str]| m.int_gauge_vec(n, h, l);
        let build_info = igv(
            "rustfs_build_info",
            "Always 1; the node's version, RPC versions and format levels in the labels",
            &[
                "version",
                "rpc_min",
                "rpc_max",
                "meta_format",
                "drive_format",
            ],
        );
        let (rpc, formats) = (
            crate::rpc::wire::RPC_VERSIONS,
            crate::store::format_levels(),
        );
        build_info
            .with_label_values(&[
                rustfs_common::VERSION,
                &rpc.min.to_string(),
                &rpc.max.to_string(),
                &formats.meta.to_string(),
                &formats.drive.to_string(),
            ])
            .set(1);
        NodeGauges {
            _build_info: build_info,
            uptime: g("rustfs_node_uptime_seconds", "Seconds since this node started"),
            time: g("rustfs_node_time_seconds", "This node's clock (Unix seconds) when scraped; compare with the scrape timestamp for clock skew"),
            ready: ig("rustfs_node_ready", "1 once the cluster has formed and this node serves S3"),
            drive_total: gv("rustfs_drive_total_bytes", "Size of the file system holding a local drive", DRIVE),
            drive_used: gv("rustfs_drive_used_bytes", "Bytes used on the file system holding a local drive", DRIVE),
            drive_free: gv("rustfs_drive_free_bytes", "Bytes free on the file system holding a local drive", DRIVE),
            drive_usage: gv("rustfs_drive_usage_percent", "Used share of a local drive, 0 to 100", DRIVE),
            drive_online: igv("rustfs_drive_online", "1 when a local drive is formatted and answers, else 0", DRIVE),
            set_drives: igv("rustfs_set_drives_total", "Drives of an erasure set", SET),
            set_online: igv("rustfs_set_drives_online", "Drives of an erasure set online, as this node sees them", SET),
            set_read_quorum: igv("rustfs_set_read_quorum", "Drives an erasure set needs to read (default parity)", SET),
            set_write_quorum: igv("rustfs_set_write_quorum", "Drives an erasure set needs to write (default parity)", SET),
            set_read_tolerance: igv("rustfs_set_read_tolerance", "Online drives above the read quorum; negative when reads fail", SET),
            set_write_tolerance: igv("rustfs_set_write_tolerance", "Online drives above the write quorum; negative when writes fail", SET),
            set_objects: igv("rustfs_set_objects", "Objects in an erasure set (latest versions, not delete markers), counted on a local drive", SET),
            set_object_bytes: gv("rustfs_set_objects_size_bytes", "Logical size of the objects counted in rustfs_set_objects", SET),
            raw_total: g("rustfs_cluster_capacity_raw_total_bytes", "Sum of the sizes of every drive of the cluster that answered"),
            raw_free: g("rustfs_cluster_capacity_raw_free_bytes", "Sum of the free bytes of every drive of the cluster that answered"),
            usable_total: g("rustfs_cluster_capacity_usable_total_bytes", "Raw capacity times each set's data share (what objects can fill)"),
            usable_free: g("rustfs_cluster_capacity_usable_free_bytes", "Raw free bytes times each set's data share"),
            nodes_total: ig("rustfs_cluster_nodes_total", "Nodes of the cluster"),
            nodes_online: ig("rustfs_cluster_nodes_online", "Nodes with at least one drive online, as this node sees them"),
            drives_total: ig("rustfs_cluster_drives_total", "Drives of the cluster"),
            drives_online: ig("rustfs_cluster_drives_online", "Drives of the cluster online, as this node sees them"),
            buckets: ig("rustfs_cluster_buckets", "Buckets of the cluster"),
            usage: UsageCounter::default(),
        }
    }
}

/// Object counts per set from the last background walk.
#[derive(Default)]
struct UsageCounter {
    state: Mutex<UsageState>,
}

#[derive(Default)]
struct UsageState {
    running: bool,
    started: Option<Instant>,
    /// (pool, set) → (objects, bytes)
    sets: Vec<((usize, usize), (i64, f64))>,
    buckets: Option<i64>,
}

/// Drive `i` of `set`: online, and its capacity when it answered in time.
async fn probe(d: &Arc<dyn Drive>) -> (bool, Option<DiskInfo>) {
    let online = d.is_online().await;
    if !online {
        return (false, None);
    }
    match tokio::time::timeout(DRIVE_PROBE_TIMEOUT, d.disk_info()).await {
        Ok(Ok(i)) => (true, Some(i)),
        _ => (false, None),
    }
}

fn node_of(d: &dyn Drive) -> String {
    if d.is_local() {
        return "local".into();
    }
    let ep = d.endpoint();
    let rest = ep.split("://").nth(1).unwrap_or(ep);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// Refreshes every scrape-time figure of `n` (call under [`Metrics::scrape`]).
pub(crate) async fn refresh(n: &'static NodeGauges, m: &Metrics, layer: Option<&ObjectLayer>) {
    n.uptime.set(m.uptime_secs());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    n.time.set(now);
    let Some(layer) = layer else {
        n.ready.set(0);
        return;
    };
    n.ready.set(1);
    for v in [&n.drive_total, &n.drive_used, &n.drive_free, &n.drive_usage] {
        v.reset();
    }
    n.drive_online.reset();
    let (mut raw_total, mut raw_free, mut usable_total, mut usable_free) = (0.0, 0.0, 0.0, 0.0);
    let (mut drives_total, mut drives_online) = (0, 0);
    let mut nodes: Vec<(String, bool)> = Vec::new();
    let sets: Vec<&Arc<ErasureSet>> = layer.sets().collect();
    for set in &sets {
        let probes = join_all(set.drives.iter().map(probe)).await;
        let (pool, idx) = (set.pool.to_string(), set.index.to_string());
        let q = set.default_quorum();
        let data_share = q.data as f64 / set.num_drives().max(1) as f64;
        let mut up = 0i64;
        for (d, (online, info)) in set.drives.iter().zip(&probes) {
            drives_total += 1;
            let node = node_of(d.as_ref());
            match nodes.iter_mut().find(|(a, _)| *a == node) {
                Some((_, o)) => *o |= *online,
                None => nodes.push((node, *online)),
            }
            if *online {
                up += 1;
                drives_online += 1;
            }
            if let Some(i) = info {
                raw_total += i.total_bytes as f64;
                raw_free += i.free_bytes as f64;
                usable_total += i.total_bytes as f64 * data_share;
                usable_free += i.free_bytes as f64 * data_share;
            }
            if d.is_local() {
                let labels = [d.endpoint(), pool.as_str(), idx.as_str()];
                n.drive_online
                    .with_label_values(&labels)
                    .set(i64::from(*online));
                if let Some(i) = info {
                    n.drive_total
                        .with_label_values(&labels)
                        .set(i.total_bytes as f64);
                    n.drive_used
                        .with_label_values(&labels)
                        .set(i.used_bytes as f64);
                    n.drive_free
                        .with_label_values(&labels)
                        .set(i.free_bytes as f64);
                    if i.total_bytes > 0 {
                        n.drive_usage
                            .with_label_values(&labels)
                            .set(100.0 * i.used_bytes as f64 / i.total_bytes as f64);
                    }
                }
            }
        }
        let l = [pool.as_str(), idx.as_str()];
        n.set_drives
            .with_label_values(&l)
            .set(set.num_drives() as i64);
        n.set_online.with_label_values(&l).set(up);
        n.set_read_quorum.with_label_values(&l).set(q.read() as i64);
        n.set_write_quorum
            .with_label_values(&l)
            .set(q.write() as i64);
        n.set_read_tolerance
            .with_label_values(&l)
            .set(up - q.read() as i64);
        n.set_write_tolerance
            .with_label_values(&l)
            .set(up - q.write() as i64);
    }
    n.raw_total.set(raw_total);
    n.raw_free.set(raw_free);
    n.usable_total.set(usable_total);
    n.usable_free.set(usable_free);
    n.drives_total.set(drives_total);
    n.drives_online.set(drives_online);
    n.nodes_total.set(nodes.len() as i64);
    n.nodes_online
        .set(nodes.iter().filter(|(_, o)| *o).count() as i64);
    publish_usage(n);
    start_usage_walk(n, &sets);
}

/// Copies the last walk's counts into the gauges.
fn publish_usage(n: &NodeGauges) {
    let st = n.usage.state.lock();
    for ((pool, set), (objects, bytes)) in &st.sets {
        let l = [pool.to_string(), set.to_string()];
        let l = [l[0].as_str(), l[1].as_str()];
        n.set_objects.with_label_values(&l).set(*objects);
        n.set_object_bytes.with_label_values(&l).set(*bytes);
    }
    if let Some(b) = st.buckets {
        n.buckets.set(b);
    }
}

/// Starts a background walk when the last one is older than [`USAGE_REFRESH`].
fn start_usage_walk(n: &'static NodeGauges, sets: &[&Arc<ErasureSet>]) {
    {
        let mut st = n.usage.state.lock();
        if st.running || st.started.is_some_and(|t| t.elapsed() < USAGE_REFRESH) {
            return;
        }
        st.running = true;
        st.started = Some(Instant::now());
    }
    let sets: Vec<Arc<ErasureSet>> = sets.iter().map(|s| Arc::clone(s)).collect();
    tokio::spawn(async move {
        let mut out = Vec::new();
        let mut buckets = None;
        for set in &sets {
            let Some(d) = set.drives.iter().find(|d| d.is_local()) else {
                continue;
            };
            if let Some((b, objects, bytes)) = count_drive(d.as_ref()).await {
                buckets = Some(buckets.unwrap_or(0).max(b));
                out.push(((set.pool, set.index), (objects, bytes)));
            }
        }
        let mut st = n.usage.state.lock();
        st.running = false;
        st.sets = out;
        st.buckets = buckets;
    });
}

/// (buckets, objects, bytes) on one drive; `None` when the drive cannot list.
async fn count_drive(d: &dyn Drive) -> Option<(i64, i64, f64)> {
    let buckets = d.list_buckets().await.ok()?;
    let (mut objects, mut bytes) = (0i64, 0f64);
    for b in &buckets {
        let req = WalkRequest {
            recursive: true,
            ..Default::default()
        };
        let Ok(mut rx) = d.walk(&b.name, req).await else {
            continue;
        };
        while let Some(entry) = rx.recv().await {
            if let Ok(WalkEntry::Object { meta, .. }) = entry {
                if let Some(v) = meta.latest().filter(|v| !v.delete_marker) {
                    objects += 1;
                    bytes += v.size as f64;
                }
            }
        }
    }
    Some((buckets.len() as i64, objects, bytes))
}
