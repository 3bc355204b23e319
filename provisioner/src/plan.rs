//! The plan: per host, the actions `apply` would take to make the host match the inventory,
//! derived from its facts. A host that already matches gets no actions, so `plan` after a
//! successful `apply` reports no changes (exit code 0).

use std::fmt;

use crate::checks::{Finding, Severity};
use crate::facts::{Facts, InitSystem, SERVICE_NAME};
use crate::inventory::{Connection, Host, Inventory, Secret};

/// What the inventory wants on every host, computed once on the provisioner's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// sha256 (hex) of the rustfs binary.
    pub binary_sha256: String,
    /// Version label of the binary (`rustfs-VERSION`).
    pub version: String,
    /// sha256 of the rendered env file, when rendering is known.
    pub config_sha256: Option<String>,
    /// sha256 of the rendered unit (systemd hosts) or start script (others), when known.
    pub service_sha256: Option<String>,
    /// sha256 of the rendered upgrade verbs script, when known.
    pub upgrade_sha256: Option<String>,
    /// The control plane's deploy key (public, OpenSSH) when a control plane is configured
    /// ([`crate::deploy_key`]; a placeholder before it is made, which never matches a host).
    pub deploy_key: Option<String>,
    /// sha256 of the host's deploy-key access ([`crate::deploy_key::DeployAccess`]), when known
    /// and the host gets one (SSH hosts with a control plane).
    pub deploy_sha256: Option<String>,
    /// With TLS on: sha256 of the node's CA + certificate + key ([`UNISSUED`] before the
    /// certificate exists); `None` with TLS off.
    pub tls_sha256: Option<String>,
    /// The bearer token Prometheus scrapes the nodes with (`monitoring`); rendered into the env
    /// file, so part of `config_sha256`.
    pub metrics_token: Secret,
    /// The cluster RPC secret file's content ([`crate::rpc_secret`]); a placeholder before it
    /// is made, which never matches a host.
    pub rpc_secret: Secret,
    /// The control plane's files, on the host `control_plane.install` names.
    pub control_plane: Option<crate::cpinstall::CpDesired>,
}

/// Stands for a node certificate not issued yet (never matches a host).
pub const UNISSUED: &str = "unissued";

impl Desired {
    /// The desired state for `inv`, given the binary's sha256.
    pub fn new(inv: &Inventory, binary_sha256: String) -> Self {
        let version = inv
            .binary
            .version
            .clone()
            .unwrap_or_else(|| binary_sha256.chars().take(12).collect());
        Desired {
            binary_sha256,
            version,
            config_sha256: None,
            service_sha256: None,
            upgrade_sha256: None,
            deploy_key: None,
            deploy_sha256: None,
            tls_sha256: None,
            metrics_token: Secret::new(crate::monitoring::UNISSUED_TOKEN),
            rpc_secret: Secret::new(crate::rpc_secret::UNISSUED_SECRET),
            control_plane: None,
        }
    }
}

/// One change on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Upload, verify and link a new binary; the previous one stays for rollback.
    InstallBinary {
        path: String,
        replaces: Option<String>,
    },
    /// Write (or rewrite) the node's env file.
    WriteConfig { path: String, exists: bool },
    /// Install the node's CA-signed certificate, its key and the cluster CA.
    InstallCertificates { dir: String },
    /// Install the cluster RPC secret (0600, owned by the node's user).
    InstallRpcSecret { path: String },
    /// Install the root password file (0600, owned by the node's user).
    InstallRootPassword { path: String },
    /// Install the systemd unit, or the start script where there is no systemd.
    InstallService { init: InitSystem },
    /// Install the upgrade verbs script (`bin/rustfs-upgrade`).
    InstallUpgradeHelper { path: String },
    /// Let the control plane's deploy key in as the node's user, for the upgrade verbs only.
    InstallDeployKey,
    /// Make missing drive directories, 0700 (`connection: local` hosts only).
    CreateDrives { paths: Vec<String> },
    /// Make drive directories 0700 and owned by the node's user (SSH hosts; local hosts: 0700).
    SecureDrives { paths: Vec<String> },
    /// Empty drives the node formats into the cluster on its first start.
    FormatDrives { paths: Vec<String> },
    /// Start (or restart, after a change) the node.
    StartService { restart: bool },
    /// Have the running node read its root password again (`SIGHUP`): a new password is in force
    /// without a restart.
    ReloadService,
    /// Install, configure or start the control plane (`control_plane.install`), after the
    /// cluster is healthy.
    ControlPlane(crate::cpinstall::CpAction),
}

impl Action {
    /// Configuration it installs on the host (the `configure` step; `stage` does it too).
    pub fn is_configure(&self) -> bool {
        matches!(
            self,
            Action::WriteConfig { .. }
                | Action::InstallCertificates { .. }
                | Action::InstallRpcSecret { .. }
                | Action::InstallRootPassword { .. }
                | Action::InstallService { .. }
                | Action::InstallUpgradeHelper { .. }
                | Action::InstallDeployKey
                | Action::CreateDrives { .. }
                | Action::SecureDrives { .. }
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::InstallBinary { path, replaces } => {
                write!(f, "install binary {path} and point bin/current at it")?;
                if let Some(old) = replaces {
                    write!(f, " (keeping {old})")?;
                }
                Ok(())
            }
            Action::WriteConfig { path, exists } => {
                let verb = if *exists { "rewrite" } else { "write" };
                write!(f, "{verb} configuration {path}")
            }
            Action::InstallCertificates { dir } => {
                write!(f, "install TLS certificate, key and cluster CA in {dir}")
            }
            Action::InstallRpcSecret { path } => {
                write!(f, "install the cluster RPC secret {path}")
            }
            Action::InstallRootPassword { path } => {
                write!(f, "install the root password {path}")
            }
            Action::SecureDrives { paths } => write!(
                f,
                "make drive directories {} private to the node (mode 0700)",
                paths.join(", ")
            ),
            Action::InstallService { init } => match init {
                InitSystem::Systemd => write!(f, "install systemd unit {SERVICE_NAME}.service"),
                InitSystem::Other => write!(f, "install start script (no systemd on this host)"),
            },
            Action::InstallUpgradeHelper { path } => write!(f, "install upgrade verbs {path}"),
            Action::InstallDeployKey => write!(
                f,
                "let the control plane's deploy key in as {}, for the upgrade verbs only",
                crate::render::SERVICE_USER
            ),
            Action::CreateDrives { paths } => {
                write!(f, "create drive directories {}", paths.join(", "))
            }
            Action::FormatDrives { paths } => {
                write!(
                    f,
                    "format empty drive(s) {} on first start",
                    paths.join(", ")
                )
            }
            Action::StartService { restart } => {
                let verb = if *restart { "restart" } else { "start" };
                write!(f, "{verb} {SERVICE_NAME}")
            }
            Action::ReloadService => {
                write!(f, "reload {SERVICE_NAME} (new root password, no restart)")
            }
            Action::ControlPlane(a) => write!(f, "{a}"),
        }
    }
}

/// The plan for one host.
#[derive(Debug, Clone)]
pub struct HostPlan {
    pub host: String,
    pub address: String,
    /// One-line summary of the host's facts.
    pub summary: String,
    pub actions: Vec<Action>,
    pub findings: Vec<Finding>,
}

/// The plan for the whole cluster.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub hosts: Vec<HostPlan>,
    /// Findings about the cluster as a whole (clock skew).
    pub findings: Vec<Finding>,
}

impl Plan {
    /// Number of actions over all hosts.
    pub fn num_changes(&self) -> usize {
        self.hosts.iter().map(|h| h.actions.len()).sum()
    }

    /// Whether any finding is an error (the plan cannot be applied).
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .chain(self.hosts.iter().flat_map(|h| &h.findings))
            .any(|f| f.severity == Severity::Error)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for h in &self.hosts {
            writeln!(f, "host {} ({}): {}", h.host, h.address, h.summary)?;
            if h.actions.is_empty() {
                writeln!(f, "  = no changes")?;
            }
            for a in &h.actions {
                writeln!(f, "  + {a}")?;
            }
            for finding in &h.findings {
                writeln!(f, "  ! {finding}")?;
            }
        }
        for finding in &self.findings {
            writeln!(f, "! {finding}")?;
        }
        let n = self.num_changes();
        if n == 0 {
            write!(f, "plan: no changes")
        } else {
            let hosts = self.hosts.iter().filter(|h| !h.actions.is_empty()).count();
            write!(f, "plan: {n} change(s) on {hosts} host(s)")
        }
    }
}

/// One-line description of a host's facts.
pub fn summarize(facts: &Facts) -> String {
    let init = match facts.init {
        InitSystem::Systemd => "systemd",
        InitSystem::Other => "no systemd",
    };
    format!(
        "{} {}, {} cpu(s), {:.1} GiB, {init}, clock {:+}s",
        facts.os,
        facts.arch,
        facts.num_cpus,
        facts.memory_bytes as f64 / (1u64 << 30) as f64,
        facts.clock_offset_secs
    )
}

/// Whether `perm` (`MODE OWNER` as the facts report it) is `mode`, owned by the node's user on
/// SSH hosts (on `connection: local` hosts the node runs as whoever runs the provisioner).
fn perm_is(host: &Host, perm: Option<&str>, mode: &str) -> bool {
    let Some((have_mode, owner)) = perm.and_then(|p| p.split_once(' ')) else {
        return false;
    };
    have_mode == mode
        && (host.connection == Connection::Local || owner == crate::render::SERVICE_USER)
}

/// The actions that bring a host with `facts` to `desired`.
pub fn plan_host(inv: &Inventory, host: &Host, facts: &Facts, desired: &Desired) -> Vec<Action> {
    let paths = inv.paths(host);
    let mut actions = Vec::new();
    let install = &facts.install;
    let binary_changed = install.current_sha256.as_deref() != Some(desired.binary_sha256.as_str());
    if binary_changed {
        actions.push(Action::InstallBinary {
            path: paths.versioned(&desired.version),
            replaces: install.current_target.clone(),
        });
    }
    let config_changed = match (&install.config_sha256, &desired.config_sha256) {
        (None, _) => true,
        (Some(have), Some(want)) => have != want,
        (Some(_), None) => false,
    };
    if config_changed {
        actions.push(Action::WriteConfig {
            path: paths.env_file(),
            exists: install.config_sha256.is_some(),
        });
    }
    let tls_changed = desired
        .tls_sha256
        .as_ref()
        .is_some_and(|want| install.tls_sha256.as_ref() != Some(want));
    if tls_changed {
        actions.push(Action::InstallCertificates {
            dir: paths.tls_dir(),
        });
    }
    let secret_sha256 = crate::render::sha256_hex(desired.rpc_secret.expose().as_bytes());
    let secret_changed = install.rpc_secret_sha256.as_deref() != Some(secret_sha256.as_str());
    if secret_changed || !perm_is(host, install.rpc_secret_perm.as_deref(), "600") {
        actions.push(Action::InstallRpcSecret {
            path: paths.rpc_secret_file(),
        });
    }
    let password_sha256 = crate::render::sha256_hex(inv.credentials.root_password().as_bytes());
    let password_changed =
        install.root_password_sha256.as_deref() != Some(password_sha256.as_str());
    if password_changed || !perm_is(host, install.root_password_perm.as_deref(), "600") {
        actions.push(Action::InstallRootPassword {
            path: paths.root_password_file(),
        });
    }
    let service_changed = match (&install.service_sha256, &desired.service_sha256) {
        _ if !install.service_installed => true,
        (Some(have), Some(want)) => have != want,
        _ => false,
    };
    if service_changed {
        actions.push(Action::InstallService { init: facts.init });
    }
    if desired.upgrade_sha256.is_some() && install.upgrade_sha256 != desired.upgrade_sha256 {
        actions.push(Action::InstallUpgradeHelper {
            path: paths.upgrade_helper(),
        });
    }
    if desired.deploy_sha256.is_some() && install.deploy_sha256 != desired.deploy_sha256 {
        actions.push(Action::InstallDeployKey);
    }
    let missing: Vec<String> = facts
        .drives
        .iter()
        .filter(|d| !d.exists && host.connection == Connection::Local)
        .map(|d| d.path.clone())
        .collect();
    if !missing.is_empty() {
        actions.push(Action::CreateDrives {
            paths: missing.clone(),
        });
    }
    let loose: Vec<String> = facts
        .drives
        .iter()
        .filter(|d| d.is_dir && !perm_is(host, d.perm.as_deref(), "700"))
        .map(|d| d.path.clone())
        .collect();
    if !loose.is_empty() {
        actions.push(Action::SecureDrives { paths: loose });
    }
    let empty: Vec<String> = facts
        .drives
        .iter()
        .filter(|d| (d.is_dir && d.empty && d.formatted.is_none()) || missing.contains(&d.path))
        .map(|d| d.path.clone())
        .collect();
    if !empty.is_empty() {
        actions.push(Action::FormatDrives { paths: empty });
    }
    if !install.service_active {
        actions.push(Action::StartService { restart: false });
    } else if binary_changed || config_changed || service_changed || tls_changed || secret_changed {
        actions.push(Action::StartService { restart: true });
    } else if password_changed {
        actions.push(Action::ReloadService);
    }
    if let (Some(have), Some(want)) = (&facts.control_plane, &desired.control_plane) {
        let paths = crate::cpinstall::CpPaths::of(inv, host);
        actions.extend(
            crate::cpinstall::plan(&paths, facts.init, have, want)
                .into_iter()
                .map(Action::ControlPlane),
        );
    }
    actions
}

#[cfg(test)]
mod tests;
