//! The CLI verbs as library functions: connect to every host (in parallel, with a limit), gather
//! facts, validate hosts and compute the plan; report status; create the CA.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::checks::{self, check_cluster, check_host};
use crate::error::{Error, Result};
use crate::exec::HostConn;
use crate::facts::{self, Facts, InitSystem};
use crate::hostkeys::HostKeyPolicy;
use crate::inventory::{Host, Inventory};
use crate::pki::{self, CaInfo};
use crate::plan::{plan_host, summarize, Action, Desired, HostPlan, Plan, UNISSUED};
use crate::render::{render, Rendered};
use crate::ssh::SshOptions;
use crate::state::StateDir;
use crate::{deploy_key, monitoring, rpc_secret, stage};
use rustfs_hostops::Error as OpsError;

/// Options shared by the commands that reach hosts.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// State directory; `None` means [`StateDir::default_path`].
    pub state_dir: Option<PathBuf>,
    /// Record host keys seen for the first time.
    pub accept_new: bool,
    pub ssh: SshOptions,
    /// Hosts worked on at once.
    pub concurrency: usize,
}

impl RunOptions {
    /// Opens the cluster's state directory.
    pub fn state(&self, inv: &Inventory) -> Result<StateDir> {
        StateDir::open(
            self.state_dir
                .clone()
                .unwrap_or_else(|| StateDir::default_path(&inv.cluster.name)),
        )
        .map_err(Error::from)
    }
}

/// sha256 of the binary the inventory names (hashing a local file, checking it against a given
/// sha256), and the binary's architecture when it is a local ELF file.
pub fn binary_identity(inv: &Inventory) -> Result<(String, Option<&'static str>)> {
    let Some(path) = &inv.binary.path else {
        let sha = inv.binary.sha256.clone().unwrap_or_default();
        return Ok((sha, None));
    };
    let rerr = |source| Error::read(path, source);
    let mut f = std::fs::File::open(path).map_err(rerr)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut head = Vec::new();
    loop {
        let n = f.read(&mut buf).map_err(rerr)?;
        if n == 0 {
            break;
        }
        if head.len() < 64 {
            head.extend_from_slice(&buf[..n.min(64)]);
        }
        hasher.update(&buf[..n]);
    }
    let sha = hex::encode(hasher.finalize());
    if let Some(want) = &inv.binary.sha256 {
        if !want.eq_ignore_ascii_case(&sha) {
            return Err(Error::host(
                "localhost",
                format!("binary {path} has sha256 {sha}, but the inventory's binary.sha256 is {want} — rebuild or fix the inventory"),
            ));
        }
    }
    Ok((sha, checks::elf_arch(&head)))
}

/// Several hosts failed; every failure is listed.
#[derive(Debug)]
pub struct HostFailures(pub Vec<Error>);

impl std::fmt::Display for HostFailures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let [e] = &self.0[..] {
            if matches!(
                e,
                Error::Ops(OpsError::State(_) | OpsError::Read { .. } | OpsError::Pki(_))
            ) {
                // About this machine (the state directory, a local file), not a host.
                return write!(f, "{e}");
            }
        }
        let n = self.0.len();
        write!(f, "{n} host(s) failed")?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Connects to every host and gathers its facts, `opts.concurrency` hosts at a time. Returns one
/// result per host, in inventory order.
pub async fn gather_all(
    inv: &Inventory,
    opts: &RunOptions,
    state: &StateDir,
) -> Vec<Result<Facts>> {
    let policy = HostKeyPolicy {
        known_hosts: inv.known_hosts_path(),
        state: state.clone(),
        accept_new: opts.accept_new,
    };
    let limit = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let work = inv.hosts.iter().map(|host| {
        let limit = limit.clone();
        let policy = &policy;
        async move {
            let _permit = limit.acquire().await.map_err(|_| Error::state("closed"))?;
            let conn = HostConn::connect(&inv.target(host), policy, opts.ssh).await?;
            let facts = facts::gather(&conn, inv, host).await;
            conn.close().await;
            facts
        }
    });
    futures::future::join_all(work).await
}

/// The deployment id the provisioner recorded for this cluster, if any.
pub fn known_deployment(state: &StateDir) -> Option<String> {
    std::fs::read_to_string(state.path().join("deployment_id"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `plan`: facts from every host → host checks → actions.
pub async fn plan(inv: &Inventory, opts: &RunOptions) -> Result<Plan, HostFailures> {
    let one = |e: Error| HostFailures(vec![e]);
    let state = opts.state(inv).map_err(one)?;
    let (sha, arch) = binary_identity(inv).map_err(one)?;
    let desired = Desired {
        metrics_token: monitoring::planned_token(&state),
        rpc_secret: rpc_secret::planned(&state).map_err(one)?,
        deploy_key: deploy_key::planned(inv, &state).map_err(one)?,
        ..Desired::new(inv, sha)
    };
    let deployment = known_deployment(&state);
    let results = gather_all(inv, opts, &state).await;
    let mut failures = Vec::new();
    let mut gathered = Vec::new();
    for (host, r) in inv.hosts.iter().zip(results) {
        match r {
            Ok(f) => gathered.push((host, f)),
            Err(e) => failures.push(e),
        }
    }
    if !failures.is_empty() {
        return Err(HostFailures(failures));
    }
    let mut plan = Plan::default();
    for (host, f) in &gathered {
        let (mut desired, _) = desired_for(inv, &state, host, f, &desired).map_err(one)?;
        if inv.tls.enabled {
            // Planning never issues certificates; an unissued one is simply pending.
            let tls = pki::existing_node_tls(&state, host.name(), &node_names(host));
            desired.tls_sha256 = Some(tls.map_or_else(|| UNISSUED.to_string(), |t| t.sha256()));
        }
        plan.hosts.push(HostPlan {
            host: host.name().to_string(),
            address: host.address.clone(),
            summary: summarize(f),
            actions: plan_host(inv, host, f, &desired),
            findings: check_host(inv, host, f, deployment.as_deref(), arch),
        });
    }
    let named: Vec<(&str, &Facts)> = gathered.iter().map(|(h, f)| (h.name(), f)).collect();
    plan.findings = check_cluster(&named);
    Ok(plan)
}

/// The names a node's certificate carries: its address, its cluster address (other nodes reach
/// it there), and its name when that differs.
pub fn node_names(host: &Host) -> Vec<String> {
    let mut names = vec![host.address.clone()];
    if let Some(c) = host
        .cluster_address
        .as_ref()
        .filter(|c| **c != host.address)
    {
        names.push(c.clone());
    }
    if host.name() != host.address {
        names.push(host.name().to_string());
    }
    names
}

/// The desired state of one host: the cluster-wide part plus its rendered files.
pub fn desired_for(
    inv: &Inventory,
    state: &StateDir,
    host: &Host,
    facts: &Facts,
    base: &Desired,
) -> Result<(Desired, Rendered)> {
    let rendered = render(inv, host, &base.metrics_token, base.deploy_key.as_deref())?;
    let control_plane = match crate::cpinstall::target(inv) {
        Some((install, h)) if h.name() == host.name() => {
            Some(crate::cpinstall::desired(inv, install, host, state)?)
        }
        _ => None,
    };
    let desired = Desired {
        config_sha256: Some(rendered.env_sha256()),
        service_sha256: Some(rendered.service_sha256(facts.init == InitSystem::Systemd)),
        upgrade_sha256: Some(crate::render::sha256_hex(rendered.upgrade.1.as_bytes())),
        deploy_sha256: rendered.deploy.as_ref().map(|d| d.sha256()),
        control_plane,
        ..base.clone()
    };
    Ok((desired, rendered))
}

/// `stage`: on every host, install the binary and the rendered files where they differ (after
/// [`plan`] found no errors). Returns the actions taken per host; nothing is started.
pub async fn stage(
    inv: &Inventory,
    opts: &RunOptions,
) -> Result<Vec<(String, Vec<Action>)>, HostFailures> {
    let one = |e: Error| HostFailures(vec![e]);
    let state = opts.state(inv).map_err(one)?;
    let (sha, _) = binary_identity(inv).map_err(one)?;
    let base = Desired {
        metrics_token: monitoring::ensure_token(&state).map_err(one)?,
        rpc_secret: rpc_secret::ensure(&state).map_err(one)?,
        deploy_key: deploy_key::wanted(inv, &state).map_err(one)?,
        ..Desired::new(inv, sha)
    };
    // Certificates are issued up front, on this machine, before any host is touched.
    let mut tls = Vec::new();
    for host in &inv.hosts {
        tls.push(if inv.tls.enabled {
            Some(
                pki::ensure_node_tls(&state, &inv.cluster.name, host.name(), &node_names(host))
                    .map_err(|e| one(e.into()))?,
            )
        } else {
            None
        });
    }
    let policy = HostKeyPolicy {
        known_hosts: inv.known_hosts_path(),
        state: state.clone(),
        accept_new: opts.accept_new,
    };
    let limit = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let work = inv.hosts.iter().zip(&tls).map(|(host, tls)| {
        let (limit, policy, base, state) = (limit.clone(), &policy, &base, &state);
        async move {
            let _permit = limit.acquire().await.map_err(|_| Error::state("closed"))?;
            let conn = HostConn::connect(&inv.target(host), policy, opts.ssh).await?;
            let result = async {
                let facts = facts::gather(&conn, inv, host).await?;
                let (mut desired, rendered) = desired_for(inv, state, host, &facts, base)?;
                desired.tls_sha256 = tls.as_ref().map(|t| t.sha256());
                stage::stage_host(&conn, inv, host, &facts, &desired, &rendered, tls.as_ref()).await
            }
            .await;
            conn.close().await;
            result.map(|actions| (host.name().to_string(), actions))
        }
    });
    let mut done = Vec::new();
    let mut failures = Vec::new();
    for r in futures::future::join_all(work).await {
        match r {
            Ok(x) => done.push(x),
            Err(e) => failures.push(e),
        }
    }
    if failures.is_empty() {
        Ok(done)
    } else {
        Err(HostFailures(failures))
    }
}

/// One host's line in `status`.
#[derive(Debug)]
pub struct HostStatus {
    pub host: String,
    pub address: String,
    /// The facts, or why the host could not be reached.
    pub facts: Result<Facts>,
    /// The node's answer to the cluster health check.
    pub health: crate::health::NodeHealth,
}

impl std::fmt::Display for HostStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): ", self.host, self.address)?;
        match &self.facts {
            Err(e) => write!(f, "unreachable — {e}"),
            Ok(facts) => {
                let version = facts
                    .install
                    .current_target
                    .as_deref()
                    .and_then(|t| t.rsplit('/').next())
                    .unwrap_or("not installed");
                let service = match (
                    facts.install.service_installed,
                    facts.install.service_active,
                ) {
                    (_, true) => "running",
                    (true, false) => "stopped",
                    (false, false) => "no service",
                };
                write!(f, "reachable, {version}, {service}")?;
                if facts.install.service_installed || facts.install.service_active {
                    write!(f, ", {}", self.health)?;
                }
                Ok(())
            }
        }
    }
}

/// `status`: per host, reachable or not, installed version, service state and cluster health.
pub async fn status(inv: &Inventory, opts: &RunOptions) -> Result<Vec<HostStatus>> {
    let state = opts.state(inv)?;
    let hosts: Vec<&Host> = inv.hosts.iter().collect();
    let ca_pem = pki::ca_pem(&state);
    let (results, health) = futures::join!(
        gather_all(inv, opts, &state),
        crate::health::probe_all(inv, &hosts, ca_pem.as_deref())
    );
    Ok(inv
        .hosts
        .iter()
        .zip(results)
        .zip(health)
        .map(|((h, facts), health)| HostStatus {
            host: h.name().to_string(),
            address: h.address.clone(),
            facts,
            health,
        })
        .collect())
}

/// `status`: the control plane's view of the cluster (no lines without a control plane).
pub async fn control_plane_view(inv: &Inventory, opts: &RunOptions) -> Result<Vec<String>> {
    if inv.control_plane.is_none() {
        return Ok(Vec::new());
    }
    let state = opts.state(inv)?;
    let Some(token) = crate::cpinstall::token(inv, &state) else {
        return Err(Error::state(
            "control plane: no token (set control_plane.token, or apply once to install it)",
        ));
    };
    crate::register::view(inv, &state, &token).await
}

/// With `binary.url`: the binary downloaded into (or found in) the state directory and checked;
/// `binary.path` then points at it.
pub async fn fetch_binary(inv: &mut Inventory, opts: &RunOptions) -> Result<()> {
    let state = opts.state(inv)?;
    let (Some(url), None, Some(sha256)) = (&inv.binary.url, &inv.binary.path, &inv.binary.sha256)
    else {
        return Ok(());
    };
    let path = crate::download::cached(&state, url, sha256).await?;
    inv.binary.path = Some(path.display().to_string());
    Ok(())
}

/// `prometheus`: writes the Prometheus directory into the state directory; returns its path.
pub fn prometheus(inv: &Inventory, opts: &RunOptions) -> Result<std::path::PathBuf> {
    monitoring::write_prometheus_dir(inv, &opts.state(inv)?)
}

/// `ca`: creates the cluster CA in the state directory unless it exists.
pub fn ca(inv: &Inventory, opts: &RunOptions) -> Result<CaInfo> {
    let state = opts.state(inv)?;
    Ok(pki::ensure_ca(&state, &inv.cluster.name)?)
}
