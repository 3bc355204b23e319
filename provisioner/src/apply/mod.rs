//! `apply`: make every host match the inventory, then prove the cluster works.
//!
//! Phases: connect → gather facts → validate hosts → plan ([`prepare`]; nothing is changed yet, so
//! an unreachable or unfit host stops the run with every other host untouched) → stage (binary)
//! → configure (env file, certificates, RPC secret, service definition, drive directories) → start (or
//! restart what changed) → wait for cluster health → register with the control plane → verify
//! (an S3 round trip through every node) ([`execute`]). Each mutating step is derived from the
//! host's facts, so a host that already matches is not touched and a second `apply` changes
//! nothing. Hosts are worked on in parallel, `--concurrency` at a time; when a host fails a
//! mutating phase the others finish that phase and the run stops there.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::checks::{check_cluster, check_host};
use crate::commands::{binary_identity, desired_for, known_deployment, node_names, RunOptions};
use crate::error::{Error, Result};
use crate::exec::HostConn;
use crate::facts::{self, Facts};
use crate::health;
use crate::hostkeys::HostKeyPolicy;
use crate::inventory::{Host, Inventory};
use crate::pki;
use crate::plan::{plan_host, summarize, Action, Desired, HostPlan, Plan, UNISSUED};
use crate::progress::{Progress, Step};
use crate::render::Rendered;
use crate::state::StateDir;
use crate::{
    cpinstall, deploy_key, monitoring, poll_account, register, rpc_secret, service, stage, verify,
};

/// Options of `apply`.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub run: RunOptions,
    /// How long to wait for every node to report a healthy cluster.
    pub health_timeout: Duration,
}

mod control_plane;
mod report;

pub use report::{ApplyReport, HostReport, Outcome};

/// A connected host, its facts and what it should look like.
struct Live<'a> {
    index: usize,
    host: &'a Host,
    conn: HostConn,
    facts: Facts,
    desired: Desired,
    rendered: Rendered,
    actions: Vec<Action>,
}

/// Every host connected and planned; nothing changed yet.
pub struct Prepared<'a> {
    inv: &'a Inventory,
    opts: ApplyOptions,
    state: StateDir,
    live: Vec<Live<'a>>,
    /// The plan, for the user to confirm.
    pub plan: Plan,
    report: ApplyReport,
    started: Instant,
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

/// Runs `f` over `items`, at most `limit` at a time; results in input order.
async fn limited<T, F, Fut>(
    limit: usize,
    items: impl IntoIterator<Item = T>,
    f: F,
) -> Vec<Fut::Output>
where
    F: Fn(T) -> Fut,
    Fut: Future,
{
    let sem = Semaphore::new(limit.max(1));
    let sem = &sem;
    let work = items.into_iter().map(|item| {
        let fut = f(item);
        async move {
            let _permit = sem.acquire().await;
            fut.await
        }
    });
    futures::future::join_all(work).await
}

fn message(e: &Error) -> String {
    match e {
        Error::Ops(rustfs_hostops::Error::Host { message, .. }) => message.clone(),
        other => other.to_string(),
    }
}

/// Connects to every host, gathers facts, validates the hosts and computes the plan. Changes
/// nothing. A failure comes back as the run's report.
pub async fn prepare<'a>(
    inv: &'a Inventory,
    opts: &ApplyOptions,
    progress: &Progress,
) -> Result<Prepared<'a>, ApplyReport> {
    let started = Instant::now();
    let mut report = ApplyReport::new(inv);
    let cluster_fail = |mut report: ApplyReport, step: Step, e: Error| {
        report.fail(None, step, e.to_string());
        report.elapsed = started.elapsed();
        report
    };
    let state = match opts.run.state(inv) {
        Ok(s) => s,
        Err(e) => return Err(cluster_fail(report, Step::Plan, e)),
    };
    let (sha, arch) = match binary_identity(inv) {
        Ok(x) => x,
        Err(e) => return Err(cluster_fail(report, Step::Plan, e)),
    };
    // The scrape token and the RPC secret are made up front, like the certificates: the hosts'
    // files carry them. A kept secret other users may read stops the run here.
    let made = monitoring::ensure_token(&state).and_then(|t| {
        Ok((
            t,
            rpc_secret::ensure(&state)?,
            deploy_key::wanted(inv, &state)?,
        ))
    });
    let base = match made {
        Ok((metrics_token, rpc_secret, deploy_key)) => Desired {
            metrics_token,
            rpc_secret,
            deploy_key,
            ..Desired::new(inv, sha)
        },
        Err(e) => return Err(cluster_fail(report, Step::Plan, e)),
    };
    let deployment = known_deployment(&state);
    report.deployment_id = deployment.clone();
    let policy = HostKeyPolicy {
        known_hosts: inv.known_hosts_path(),
        state: state.clone(),
        accept_new: opts.run.accept_new,
    };
    let policy = &policy;
    let gathered = limited(opts.run.concurrency, inv.hosts.iter(), |host| async move {
        progress.step(host.name(), Step::Connect);
        let conn = HostConn::connect(&inv.target(host), policy, opts.run.ssh)
            .await
            .map_err(|e| (Step::Connect, e.into()))?;
        progress.step(host.name(), Step::Facts);
        match facts::gather(&conn, inv, host).await {
            Ok(f) => Ok((conn, f)),
            Err(e) => {
                conn.close().await;
                Err((Step::Facts, e))
            }
        }
    })
    .await;
    let mut live = Vec::new();
    for (i, (host, r)) in inv.hosts.iter().zip(gathered).enumerate() {
        match r {
            Ok((conn, facts)) => match desired_for(inv, &state, host, &facts, &base) {
                Ok((desired, rendered)) => live.push(Live {
                    index: i,
                    host,
                    conn,
                    facts,
                    desired,
                    rendered,
                    actions: Vec::new(),
                }),
                Err(e) => report.fail(Some(i), Step::Plan, message(&e)),
            },
            Err((step, e)) => {
                progress.finish(host.name(), &format!("failed: {step}"));
                report.fail(Some(i), step, message(&e));
            }
        }
    }
    let mut plan = Plan::default();
    for l in &mut live {
        progress.step(l.host.name(), Step::Validate);
        if inv.tls.enabled {
            // Planning never issues certificates; an unissued one is simply pending.
            let tls = pki::existing_node_tls(&state, l.host.name(), &node_names(l.host));
            l.desired.tls_sha256 = Some(tls.map_or_else(|| UNISSUED.to_string(), |t| t.sha256()));
        }
        l.actions = plan_host(inv, l.host, &l.facts, &l.desired);
        report.hosts[l.index].actions = l.actions.clone();
        let findings = check_host(inv, l.host, &l.facts, deployment.as_deref(), arch);
        plan.hosts.push(HostPlan {
            host: l.host.name().to_string(),
            address: l.host.address.clone(),
            summary: summarize(&l.facts),
            actions: l.actions.clone(),
            findings,
        });
    }
    let named: Vec<(&str, &Facts)> = live.iter().map(|l| (l.host.name(), &l.facts)).collect();
    plan.findings = check_cluster(&named);
    for (l, hp) in live.iter().zip(&plan.hosts) {
        if let Some(f) = hp
            .findings
            .iter()
            .find(|f| f.severity == crate::checks::Severity::Error)
        {
            report.fail(Some(l.index), Step::Validate, f.message.clone());
        }
    }
    if let Some(f) = plan
        .findings
        .iter()
        .find(|f| f.severity == crate::checks::Severity::Error)
    {
        report.fail(None, Step::Validate, f.message.clone());
    }
    if report.failure.is_some() {
        for l in &live {
            l.conn.close().await;
        }
        report.elapsed = started.elapsed();
        return Err(report);
    }
    Ok(Prepared {
        inv,
        opts: opts.clone(),
        state,
        live,
        plan,
        report,
        started,
    })
}

impl Prepared<'_> {
    /// Closes every connection without changing anything (the user declined).
    pub async fn abandon(self) -> ApplyReport {
        for l in &self.live {
            l.conn.close().await;
        }
        let mut report = self.report;
        report.declined = true;
        report.elapsed = self.started.elapsed();
        report
    }
}

/// Actions of the stage phase (the binary) and of the configure phase (everything else installed).
fn is_stage(a: &Action) -> bool {
    matches!(a, Action::InstallBinary { .. })
}

fn is_configure(a: &Action) -> bool {
    a.is_configure()
}

/// Carries out a prepared plan; the report says how far it got.
pub async fn execute(p: Prepared<'_>, progress: &Progress) -> ApplyReport {
    let Prepared {
        inv,
        opts,
        state,
        mut live,
        plan: _,
        mut report,
        started,
    } = p;
    run_phases(inv, &opts, &state, &mut live, &mut report, progress).await;
    for l in &live {
        l.conn.close().await;
        match &report.hosts[l.index].outcome {
            Outcome::Failed { step, .. } => {
                progress.finish(l.host.name(), &format!("failed: {step}"))
            }
            Outcome::Pending => progress.finish(l.host.name(), "stopped"),
            _ => progress.finish(l.host.name(), "done"),
        }
    }
    report.elapsed = started.elapsed();
    report
}

async fn run_phases(
    inv: &Inventory,
    opts: &ApplyOptions,
    state: &StateDir,
    live: &mut [Live<'_>],
    report: &mut ApplyReport,
    progress: &Progress,
) {
    let limit = opts.run.concurrency;
    // Certificates are issued on this machine, before any host is touched.
    let mut tls = Vec::new();
    for l in live.iter_mut() {
        if !inv.tls.enabled
            || !l
                .actions
                .iter()
                .any(|a| matches!(a, Action::InstallCertificates { .. }))
        {
            tls.push(None);
            continue;
        }
        match pki::ensure_node_tls(state, &inv.cluster.name, l.host.name(), &node_names(l.host)) {
            Ok(t) => {
                l.desired.tls_sha256 = Some(t.sha256());
                tls.push(Some(t));
            }
            Err(e) => {
                report.fail(None, Step::Configure, e.to_string());
                return;
            }
        }
    }
    for (step, pick) in [
        (Step::Stage, is_stage as fn(&Action) -> bool),
        (Step::Configure, is_configure),
    ] {
        let results = limited(limit, live.iter().zip(&tls), |(l, tls)| async move {
            let todo: Vec<Action> = l.actions.iter().filter(|a| pick(a)).cloned().collect();
            if todo.is_empty() {
                return Ok(());
            }
            progress.step(l.host.name(), step);
            stage::stage_actions(
                &l.conn,
                inv,
                l.host,
                &l.facts,
                &l.desired,
                &l.rendered,
                tls.as_ref(),
                &todo,
            )
            .await?;
            for a in &todo {
                progress.did(l.host.name(), &a.to_string());
            }
            Ok::<_, Error>(())
        })
        .await;
        if !record(live, report, step, results) {
            return;
        }
    }
    let results = limited(limit, live.iter(), |l| async move {
        let paths = inv.paths(l.host);
        let restart = l.actions.iter().find_map(|a| match a {
            Action::StartService { restart } => Some(*restart),
            _ => None,
        });
        if let Some(restart) = restart {
            progress.step(l.host.name(), Step::Start);
            service::start(&l.conn, &paths, l.facts.init, restart).await?;
            progress.did(
                l.host.name(),
                if restart {
                    "restarted rustfs"
                } else {
                    "started rustfs"
                },
            );
        } else if l.actions.contains(&Action::ReloadService) {
            progress.step(l.host.name(), Step::Start);
            service::reload(&l.conn, &paths, l.facts.init).await?;
            progress.did(l.host.name(), "reloaded rustfs (new root password)");
        }
        Ok(())
    })
    .await;
    if !record(live, report, Step::Start, results) {
        return;
    }
    for l in live.iter() {
        let restarted = l.actions.contains(&Action::StartService { restart: true });
        report.hosts[l.index].outcome = if l.actions.is_empty() {
            Outcome::Unchanged
        } else {
            Outcome::Changed { restarted }
        };
    }

    // Cluster-wide phases.
    let hosts: Vec<&Host> = live.iter().map(|l| l.host).collect();
    for l in live.iter() {
        progress.step(l.host.name(), Step::Health);
    }
    // With TLS on, health and S3 checks trust the cluster CA and nothing else.
    let cluster_ca = pki::ca_pem(state);
    let cluster_ca = cluster_ca.as_deref().filter(|_| inv.tls.enabled);
    match health::wait_healthy(inv, &hosts, cluster_ca, opts.health_timeout).await {
        Ok(waited) => {
            report.health_wait = Some(waited);
            progress.note(&format!(
                "cluster healthy on all {} node(s) after {:.1}s",
                hosts.len(),
                waited.as_secs_f64()
            ));
        }
        Err(sick) => {
            let mut details = Vec::new();
            for (name, answer) in &sick {
                let mut line = format!("{name}: {answer}");
                if let Some(l) = live.iter().find(|l| l.host.name() == name) {
                    let tail =
                        service::log_tail(&l.conn, &inv.paths(l.host), l.facts.init, 5).await;
                    if !tail.is_empty() {
                        line.push_str(&format!(
                            "\n      last log lines:\n      {}",
                            tail.replace('\n', "\n      ")
                        ));
                    }
                }
                details.push(line);
            }
            let first = live
                .iter()
                .find(|l| l.host.name() == sick[0].0)
                .map(|l| l.index);
            report.fail(
                first,
                Step::Health,
                format!(
                    "the cluster did not become healthy within {}s:\n    {}",
                    opts.health_timeout.as_secs(),
                    details.join("\n    ")
                ),
            );
            return;
        }
    }
    // The drives are formatted now: remember whose they are, so the next run knows them as ours.
    match record_deployment(state, live).await {
        Ok(id) => report.deployment_id = Some(id),
        Err(e) => {
            report.fail(None, Step::Health, e.to_string());
            return;
        }
    }
    if !control_plane::install(inv, state, live, report, progress).await {
        return;
    }
    if let Some(cp) = &inv.control_plane {
        progress.note(&format!(
            "registering with the control plane at {}",
            cp.address
        ));
        let Some(token) = cpinstall::token(inv, state) else {
            report.fail(
                None,
                Step::Register,
                "no token for the control plane: set control_plane.token or token_file".into(),
            );
            return;
        };
        let desired = &live[0].desired;
        let ca_pem = if inv.tls.enabled {
            pki::ensure_ca(state, &inv.cluster.name)
                .ok()
                .and_then(|ca| std::fs::read_to_string(ca.cert_path).ok())
        } else {
            None
        };
        let keys = match health::client_with_timeout(inv, cluster_ca, Duration::from_secs(30)) {
            Ok(http) => poll_account::ensure(inv, state, hosts[0], http).await,
            Err(e) => Err(Error::state(e)),
        };
        let keys = match keys {
            Ok(k) => k,
            Err(e) => {
                report.fail(None, Step::Register, e.to_string());
                return;
            }
        };
        let access = register::UpgradeAccess {
            deploy_key: match deploy_key::ensure(state, &inv.cluster.name) {
                Ok(k) => Some(k.private_openssh),
                Err(e) => {
                    report.fail(None, Step::Register, e.to_string());
                    return;
                }
            },
            host_keys: live
                .iter()
                .filter_map(|l| Some((l.host.name().to_string(), l.conn.host_key()?.to_string())))
                .collect(),
        };
        match register::register(inv, state, desired, ca_pem, keys, &access, &token).await {
            Ok(what) => report.registration = Some(what),
            Err(e) => {
                report.fail(None, Step::Register, e.to_string());
                return;
            }
        }
    }
    for l in live.iter() {
        progress.step(l.host.name(), Step::Verify);
    }
    match verify::round_trip(inv, &hosts, cluster_ca).await {
        Ok(n) => {
            report.verified_nodes = n;
            progress.note(&format!(
                "S3 PUT/GET/DELETE round trip ok through all {n} node(s)"
            ));
            match monitoring::write_prometheus_dir(inv, state) {
                Ok(dir) => report.monitoring = Some(dir),
                Err(e) => report.fail(None, Step::Verify, e.to_string()),
            }
        }
        Err(e) => {
            let i = match &e {
                Error::Ops(rustfs_hostops::Error::Host { host, .. }) => {
                    live.iter().find(|l| l.host.name() == host).map(|l| l.index)
                }
                _ => None,
            };
            report.fail(i, Step::Verify, message(&e));
        }
    }
}

/// Records per-host results of a phase; false when any host failed.
fn record(
    live: &[Live<'_>],
    report: &mut ApplyReport,
    step: Step,
    results: Vec<Result<()>>,
) -> bool {
    let mut ok = true;
    for (l, r) in live.iter().zip(results) {
        if let Err(e) = r {
            report.fail(Some(l.index), step, message(&e));
            ok = false;
        }
    }
    ok
}

/// Reads the deployment id off every drive; they must agree. Stores it in the state directory.
async fn record_deployment(state: &StateDir, live: &[Live<'_>]) -> Result<String> {
    let mut ids = std::collections::BTreeSet::new();
    for l in live {
        let found = facts::deployment_ids(&l.conn, l.host).await?;
        for (path, id) in l.host.drives.iter().zip(found) {
            let Some(id) = id else {
                return Err(Error::host(
                    l.host.name(),
                    format!("drive {path} is not formatted although the cluster reports healthy"),
                ));
            };
            ids.insert(id);
        }
    }
    let mut ids = ids.into_iter();
    let (Some(id), None) = (ids.next(), ids.next()) else {
        return Err(Error::state(
            "the drives carry different deployment ids — several clusters share these hosts; check the inventory",
        ));
    };
    match known_deployment(state) {
        Some(known) if known == id => {}
        Some(known) => {
            return Err(Error::state(format!(
                "the cluster's drives belong to deployment {id}, but the state directory records {known}"
            )))
        }
        None => state.write_atomic("deployment_id", format!("{id}\n").as_bytes(), 0o644)?,
    }
    Ok(id)
}
