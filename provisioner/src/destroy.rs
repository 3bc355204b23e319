//! `destroy`: stop every node and remove what `apply` installed. Drive contents are deleted only
//! when asked (`--delete-data`, confirmed by typing the cluster's name); then the recorded
//! deployment id is forgotten too, so the emptied drives count as fresh for the next `apply`.
//! Unreachable hosts are reported and the others are still cleaned up.

use crate::commands::RunOptions;
use crate::error::{Error, Result};
use crate::exec::HostConn;
use crate::facts;
use crate::hostkeys::HostKeyPolicy;
use crate::inventory::{Connection, Host, Inventory};
use crate::progress::{table, Progress, Step};
use crate::{cpinstall, service};

/// One host's result.
#[derive(Debug)]
pub struct DestroyedHost {
    pub host: String,
    pub address: String,
    /// `Err((step, message))` when the host could not be cleaned up.
    pub result: std::result::Result<(), (Step, String)>,
}

/// The run's result.
#[derive(Debug)]
pub struct DestroyReport {
    pub hosts: Vec<DestroyedHost>,
    pub data_deleted: bool,
}

impl DestroyReport {
    pub fn num_failed(&self) -> usize {
        self.hosts.iter().filter(|h| h.result.is_err()).count()
    }

    /// The summary table.
    pub fn summary(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .hosts
            .iter()
            .map(|h| {
                let result = match &h.result {
                    Ok(()) if self.data_deleted => "removed, data deleted".to_string(),
                    Ok(()) => "removed (drives kept)".to_string(),
                    Err((step, m)) => format!("FAILED at {step}: {m}"),
                };
                vec![h.host.clone(), h.address.clone(), result]
            })
            .collect();
        table(&["HOST", "ADDRESS", "RESULT"], &rows)
    }
}

async fn destroy_host(
    inv: &Inventory,
    host: &Host,
    policy: &HostKeyPolicy,
    opts: &RunOptions,
    delete_data: bool,
    progress: &Progress,
) -> std::result::Result<(), (Step, String)> {
    let msg = |e: Error| match e {
        Error::Ops(rustfs_hostops::Error::Host { message, .. }) => message,
        other => other.to_string(),
    };
    progress.step(host.name(), Step::Connect);
    let conn = HostConn::connect(&inv.target(host), policy, opts.ssh)
        .await
        .map_err(|e| (Step::Connect, msg(e.into())))?;
    let result = async {
        progress.step(host.name(), Step::Facts);
        let f = facts::gather(&conn, inv, host)
            .await
            .map_err(|e| (Step::Facts, msg(e)))?;
        progress.step(host.name(), Step::Remove);
        if cpinstall::target(inv).is_some_and(|(_, h)| h.name() == host.name()) {
            cpinstall::remove(
                &conn,
                &cpinstall::CpPaths::of(inv, host),
                f.init,
                delete_data,
            )
            .await
            .map_err(|e| (Step::Remove, msg(e)))?;
            progress.did(
                host.name(),
                "stopped the control plane and removed its files",
            );
        }
        service::remove(&conn, &inv.paths(host), f.init)
            .await
            .map_err(|e| (Step::Remove, msg(e.into())))?;
        progress.did(host.name(), "stopped rustfs and removed its files");
        if delete_data {
            progress.step(host.name(), Step::Wipe);
            let local = host.connection == Connection::Local;
            service::wipe_drives(&conn, &host.drives, local)
                .await
                .map_err(|e| (Step::Wipe, msg(e.into())))?;
            progress.did(
                host.name(),
                &format!("deleted the contents of {}", host.drives.join(", ")),
            );
        }
        Ok(())
    }
    .await;
    conn.close().await;
    progress.finish(
        host.name(),
        if result.is_ok() { "removed" } else { "failed" },
    );
    result
}

/// After a local cluster's data is deleted: the directories local mode made around the drives and
/// installs (`node1/`, `opt/`, `etc/` and the directory holding them) go too, when empty. Only
/// empty directories are removed, and never one just below `/`.
fn remove_empty_local_dirs(inv: &Inventory) {
    use std::path::Path;
    if !inv.hosts.iter().any(|h| h.connection == Connection::Local) {
        return;
    }
    let mut dirs: Vec<&Path> = vec![Path::new(&inv.install_dir), Path::new(&inv.config_dir)];
    for h in inv
        .hosts
        .iter()
        .filter(|h| h.connection == Connection::Local)
    {
        dirs.extend(h.drives.iter().filter_map(|d| Path::new(d).parent()));
    }
    let parents: Vec<&Path> = dirs.iter().filter_map(|d| d.parent()).collect();
    for d in dirs.into_iter().chain(parents) {
        if d.components().count() > 2 {
            // Fails, harmlessly, while anything is left inside.
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Stops and removes the cluster on every host (all at once, `opts.concurrency` at a time).
pub async fn destroy(
    inv: &Inventory,
    opts: &RunOptions,
    delete_data: bool,
    progress: &Progress,
) -> Result<DestroyReport> {
    let state = opts.state(inv)?;
    let policy = HostKeyPolicy {
        known_hosts: inv.known_hosts_path(),
        state: state.clone(),
        accept_new: opts.accept_new,
    };
    let sem = tokio::sync::Semaphore::new(opts.concurrency.max(1));
    let work = inv.hosts.iter().map(|host| {
        let (sem, policy) = (&sem, &policy);
        async move {
            let _permit = sem.acquire().await;
            destroy_host(inv, host, policy, opts, delete_data, progress).await
        }
    });
    let results = futures::future::join_all(work).await;
    let hosts: Vec<DestroyedHost> = inv
        .hosts
        .iter()
        .zip(results)
        .map(|(h, result)| DestroyedHost {
            host: h.name().to_string(),
            address: h.address.clone(),
            result,
        })
        .collect();
    let all_ok = hosts.iter().all(|h| h.result.is_ok());
    if delete_data && all_ok {
        let id = state.path().join("deployment_id");
        if id.exists() {
            std::fs::remove_file(&id).map_err(|source| Error::write(id, source))?;
        }
        let token = state.path().join(cpinstall::TOKEN_IN_STATE);
        if token.exists() {
            std::fs::remove_file(&token).map_err(|source| Error::write(token, source))?;
        }
        remove_empty_local_dirs(inv);
    }
    Ok(DestroyReport {
        hosts,
        data_deleted: delete_data,
    })
}
