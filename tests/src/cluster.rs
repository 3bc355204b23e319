//! A local multi-node cluster: N `rustfs` processes on distinct loopback addresses
//! (`127.A.B.1` … `127.A.B.N`, one port), each with M drives of its own under one temp dir, all
//! given the same command line. Nodes can be killed, frozen (SIGSTOP), thawed and restarted.

use crate::{client, Server, ACCESS_KEY, SECRET_KEY};
use aws_sdk_s3::Client;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Settings every test cluster node gets: short deadlines so failures show quickly.
pub const CLUSTER_ENV: &[(&str, &str)] = &[
    ("RUSTFS_RPC_TIMEOUT_SECS", "2"),
    ("RUSTFS_LOCK_TIMEOUT_SECS", "10"),
];

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub nodes: Vec<Server>,
    /// `127.A.B.i:PORT` of node i (0-based).
    pub addresses: Vec<String>,
    pub args: Vec<String>,
}

/// Finds `n` loopback addresses in a random `127.A.B.0/24` sharing one free port. The port is
/// picked by the kernel on the first address and checked on the others.
pub fn allocate_addresses(n: usize) -> Vec<String> {
    for _ in 0..50 {
        let (a, b) = (
            1 + rand::random::<u8>() % 250,
            1 + rand::random::<u8>() % 250,
        );
        let ip = |i: usize| Ipv4Addr::new(127, a, b, i as u8 + 1);
        let Ok(first) = TcpListener::bind(SocketAddrV4::new(ip(0), 0)) else {
            continue;
        };
        let port = first.local_addr().expect("local addr").port();
        let all_free = (1..n).all(|i| TcpListener::bind(SocketAddrV4::new(ip(i), port)).is_ok());
        drop(first);
        if all_free {
            return (0..n).map(|i| format!("{}:{port}", ip(i))).collect();
        }
    }
    panic!("could not find {n} free loopback addresses with a common port");
}

/// The command line of a cluster: every drive listed, consecutive drives on different nodes so
/// each erasure set spans the nodes.
pub fn cluster_args(root: &Path, addresses: &[String], drives_per_node: usize) -> Vec<String> {
    let mut args = Vec::new();
    for d in 1..=drives_per_node {
        for (n, addr) in addresses.iter().enumerate() {
            args.push(format!("http://{addr}{}/n{}/d{d}", root.display(), n + 1));
        }
    }
    args
}

impl Cluster {
    /// Starts `nodes` × `drives` all at once and waits until every node is ready.
    pub fn start(nodes: usize, drives: usize) -> Cluster {
        Self::start_staggered(nodes, drives, Duration::ZERO)
    }

    /// Starts the nodes one after another, `gap` apart, then waits until every node is ready.
    pub fn start_staggered(nodes: usize, drives: usize, gap: Duration) -> Cluster {
        Self::start_with(nodes, drives, gap, CLUSTER_ENV)
    }

    /// Like [`Cluster::start`], node `i` running `binary(i)` (`None`: this workspace's).
    pub fn start_binaries(
        nodes: usize,
        drives: usize,
        binary: impl Fn(usize) -> Option<PathBuf>,
    ) -> Cluster {
        Self::start_inner(nodes, drives, Duration::ZERO, CLUSTER_ENV, &binary)
    }

    /// Like [`Cluster::start_staggered`], with `env` instead of [`CLUSTER_ENV`].
    pub fn start_with(nodes: usize, drives: usize, gap: Duration, env: &[(&str, &str)]) -> Cluster {
        Self::start_inner(nodes, drives, gap, env, &|_| None)
    }

    fn start_inner(
        nodes: usize,
        drives: usize,
        gap: Duration,
        env: &[(&str, &str)],
        binary: &dyn Fn(usize) -> Option<PathBuf>,
    ) -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("rustfs-cluster-")
            .tempdir()
            .expect("tempdir");
        let addresses = allocate_addresses(nodes);
        let args = cluster_args(dir.path(), &addresses, drives);
        let mut servers = Vec::new();
        for (i, addr) in addresses.iter().enumerate() {
            let log = dir.path().join(format!("node{}.log", i + 1));
            let mut s = Server::new(addr, &args, env, &log);
            if let Some(b) = binary(i) {
                s.set_binary(&b);
            }
            s.spawn_process().unwrap_or_else(|e| panic!("{e}"));
            servers.push(s);
            std::thread::sleep(gap);
        }
        let c = Cluster {
            dir,
            nodes: servers,
            addresses,
            args,
        };
        for i in 0..nodes {
            c.wait_ready(i);
        }
        c
    }

    /// Waits (bounded) until node `i` serves S3.
    pub fn wait_ready(&self, i: usize) {
        let n = &self.nodes[i];
        n.wait_for("/rustfs/health/ready", Duration::from_secs(90))
            .unwrap_or_else(|e| panic!("node {}: {e}\nlog:\n{}", i + 1, n.log()));
    }

    pub fn client(&self, i: usize) -> Client {
        client(&self.nodes[i].endpoint, ACCESS_KEY, SECRET_KEY)
    }

    /// Drive `d` (1-based) of node `n` (0-based).
    pub fn drive(&self, n: usize, d: usize) -> PathBuf {
        self.dir.path().join(format!("n{}/d{d}", n + 1))
    }

    pub fn kill(&mut self, i: usize) {
        self.nodes[i].kill();
    }

    /// Starts a killed node again with the same command line and waits until it is ready.
    pub fn restart(&mut self, i: usize) {
        self.nodes[i].kill();
        self.nodes[i]
            .spawn_process()
            .unwrap_or_else(|e| panic!("{e}"));
        self.wait_ready(i);
    }

    /// Waits (bounded) until every node sees every drive it needs online: each one answers
    /// `/rustfs/health/cluster?maintenance=true` with 200, so any one of them may be stopped
    /// next (what a rolling restart waits for between nodes).
    pub fn wait_healthy(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        for i in 0..self.nodes.len() {
            while self.health(i, "cluster?maintenance=true") != Some(200) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "node {} does not see a healthy cluster after 60 s",
                    i + 1
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// `GET /rustfs/health/<what>` on node `i`.
    pub fn health(&self, i: usize, what: &str) -> Option<u16> {
        crate::http_status(&format!("{}/rustfs/health/{what}", self.nodes[i].endpoint))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            // A frozen process must be thawed to die cleanly.
            if n.is_running() {
                n.signal(libc::SIGCONT);
            }
            n.kill();
        }
    }
}
