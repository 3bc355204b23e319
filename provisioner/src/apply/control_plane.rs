//! The control-plane phase of `apply` (`control_plane.install`): after the cluster is healthy and
//! before registering, the control plane's certificate is issued (when it has none with its
//! current names) and its actions are carried out on its host (see [`crate::cpinstall`]).

use super::{message, ApplyReport, Live};
use crate::inventory::{Connection, Inventory};
use crate::plan::Action;
use crate::progress::{Progress, Step};
use crate::state::StateDir;
use crate::{cpinstall, pki};

/// With `control_plane.install`: carries out the control plane's actions on its host, waits until
/// it answers and keeps its admin token. False (and the report says why) when that failed.
pub(super) async fn install(
    inv: &Inventory,
    state: &StateDir,
    live: &[Live<'_>],
    report: &mut ApplyReport,
    progress: &Progress,
) -> bool {
    let (Some((_, host)), Some(cp)) = (cpinstall::target(inv), &inv.control_plane) else {
        return true;
    };
    let Some(l) = live.iter().find(|l| l.host.name() == host.name()) else {
        return true;
    };
    let (Some(desired), Some(_)) = (&l.desired.control_plane, &l.facts.control_plane) else {
        report.fail(
            Some(l.index),
            Step::ControlPlane,
            "the control plane's facts were not gathered".into(),
        );
        return false;
    };
    let todo: Vec<cpinstall::CpAction> = l
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::ControlPlane(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let have_token = state.path().join(cpinstall::TOKEN_IN_STATE).is_file();
    if todo.is_empty() && have_token {
        return true;
    }
    progress.step(l.host.name(), Step::ControlPlane);
    let paths = cpinstall::CpPaths::of(inv, l.host);
    let ssh = l.host.connection == Connection::Ssh;
    let result = async {
        // Its certificate is issued here, on this machine, when the plan installs one.
        let mut desired = desired.clone();
        if todo
            .iter()
            .any(|a| matches!(a, cpinstall::CpAction::InstallCertificate { .. }))
        {
            desired.tls = Some(pki::ensure_tls(
                state,
                &inv.cluster.name,
                pki::Leaf::ControlPlane,
                &desired.tls_names,
            )?);
        }
        cpinstall::install(&l.conn, &paths, l.facts.init, ssh, &desired, &todo).await?;
        for a in &todo {
            progress.did(l.host.name(), &a.to_string());
        }
        cpinstall::wait_and_fetch_token(inv, &l.conn, &paths, l.facts.init, &cp.address, state)
            .await
    }
    .await;
    match result {
        Ok(_) => {
            progress.note(&format!("control plane answers at {}", cp.address));
            true
        }
        Err(e) => {
            report.fail(Some(l.index), Step::ControlPlane, message(&e));
            false
        }
    }
}
