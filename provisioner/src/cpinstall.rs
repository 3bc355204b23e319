//! Installing the control plane itself (`control_plane.install`): `rustfs-controlplane serve` on
//! one host of the inventory, as the systemd unit `rustfs-controlplane.service` where systemd runs
//! and through `bin/rustfs-controlplane-ctl` elsewhere (always on `connection: local` hosts, so
//! local mode runs it as a local process). Like the node it is planned from facts and changed only
//! where it differs: the binary (`bin/rustfs-controlplane`), its env file, its TLS certificate
//! (from the cluster CA, issued by `apply`: it serves HTTPS), its service definition, and a start
//! or restart. After it answers `/live`, its admin token is read off the host and kept
//! in the provisioner's state (`controlplane/admin.token`, 0600) for registering and `status`.
//! Its database stays on the host (`/var/lib/rustfs-controlplane`; local hosts: under the host's
//! install directory) and is deleted only by `destroy --delete-data`.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::exec::{shell_quote, HostConn, Payload};
use crate::facts::InitSystem;
use crate::inventory::{Connection, ControlPlaneInstall, Host, Inventory, Secret};
use crate::pki::{self, Leaf, NodeTls};
use crate::render::{engine, render_one, CtlContext, SERVICE_USER};
use crate::state::StateDir;

/// The program and service name.
pub const CP_NAME: &str = "rustfs-controlplane";
/// Where the admin token is kept in the provisioner's state directory.
pub const TOKEN_IN_STATE: &str = "controlplane/admin.token";
/// How long the control plane may take to answer `/live` after a start.
const LIVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the control plane lives on its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpPaths {
    pub binary: String,
    pub env_file: String,
    pub ctl: String,
    pub unit: String,
    pub pidfile: String,
    pub log_file: String,
    /// Database, admin token and sealing key.
    pub data_dir: String,
    /// Its TLS certificate and key (`RUSTFS_CP_TLS_CERT` / `RUSTFS_CP_TLS_KEY`), 0600.
    pub tls_cert: String,
    pub tls_key: String,
}

impl CpPaths {
    pub fn of(inv: &Inventory, host: &Host) -> CpPaths {
        let p = inv.paths(host);
        let data_dir = match host.connection {
            Connection::Ssh => format!("/var/lib/{CP_NAME}"),
            Connection::Local => format!("{}/controlplane", p.install_dir),
        };
        CpPaths {
            binary: format!("{}/{CP_NAME}", p.bin_dir()),
            env_file: format!("{}/{CP_NAME}.env", p.config_dir),
            ctl: format!("{}/{CP_NAME}-ctl", p.bin_dir()),
            unit: format!("/etc/systemd/system/{CP_NAME}.service"),
            pidfile: format!("{}/{CP_NAME}.pid", p.run_dir()),
            log_file: format!("{}/{CP_NAME}.log", p.log_dir()),
            data_dir,
            tls_cert: format!("{}/{CP_NAME}.crt", p.config_dir),
            tls_key: format!("{}/{CP_NAME}.key", p.config_dir),
        }
    }

    fn token_file(&self) -> String {
        format!("{}/admin.token", self.data_dir)
    }
}

/// The host `control_plane.install` names, with its settings.
pub fn target(inv: &Inventory) -> Option<(&ControlPlaneInstall, &Host)> {
    let install = inv.control_plane.as_ref()?.install.as_ref()?;
    let host = inv.hosts.iter().find(|h| h.name() == install.host)?;
    Some((install, host))
}

/// The control plane's files for its host, rendered, the binary's sha256 and its certificate.
#[derive(Clone, PartialEq, Eq)]
pub struct CpDesired {
    pub binary_path: String,
    pub binary_sha256: String,
    pub env: String,
    pub unit: String,
    pub ctl: String,
    /// The names its certificate carries ([`names`]).
    pub tls_names: Vec<String>,
    /// Its certificate when issued with those names; `None` until `apply` issues it.
    pub tls: Option<NodeTls>,
}

impl std::fmt::Debug for CpDesired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpDesired")
            .field("binary_sha256", &self.binary_sha256)
            .finish_non_exhaustive()
    }
}

impl CpDesired {
    pub(crate) fn service(&self, init: InitSystem) -> &str {
        match init {
            InitSystem::Systemd => &self.unit,
            InitSystem::Other => &self.ctl,
        }
    }
}

#[derive(Serialize)]
struct EnvContext<'a> {
    cluster: &'a str,
    data_dir: &'a str,
    tls_cert: &'a str,
    tls_key: &'a str,
    listen: String,
    service_user: &'static str,
    env_file: &'a str,
    binary: &'a str,
}

/// The names the control plane's certificate carries: its host's (address, cluster address,
/// name) and the host of `control_plane.address` when that is another.
pub fn names(inv: &Inventory, host: &Host) -> Vec<String> {
    let mut names = crate::commands::node_names(host);
    let url_host = inv.control_plane.as_ref().and_then(|cp| {
        let rest = cp.address.split_once("://")?.1;
        let authority = rest.split('/').next()?;
        Some(match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next()?.to_string(),
            None => authority.split(':').next()?.to_string(),
        })
    });
    if let Some(h) = url_host.filter(|h| !h.is_empty() && !names.contains(h)) {
        names.push(h);
    }
    names
}

/// Renders the control plane's files for `host`, hashes its binary and finds its certificate in
/// `state` (issued by `apply`, never here).
pub fn desired(
    inv: &Inventory,
    install: &ControlPlaneInstall,
    host: &Host,
    state: &StateDir,
) -> Result<CpDesired> {
    let paths = CpPaths::of(inv, host);
    let binary_sha256 = crate::download::sha256_of(std::path::Path::new(&install.binary))
        .map_err(|source| Error::read(&install.binary, source))?;
    let listen = match host.connection {
        Connection::Ssh => format!("0.0.0.0:{}", install.port),
        Connection::Local => format!("{}:{}", host.address, install.port),
    };
    let hb = engine()?;
    let ctx = EnvContext {
        cluster: &inv.cluster.name,
        data_dir: &paths.data_dir,
        tls_cert: &paths.tls_cert,
        tls_key: &paths.tls_key,
        listen,
        service_user: SERVICE_USER,
        env_file: &paths.env_file,
        binary: &paths.binary,
    };
    let ctl = CtlContext {
        cluster: inv.cluster.name.clone(),
        name: CP_NAME.to_string(),
        what: "the control plane".to_string(),
        binary: paths.binary.clone(),
        args: "serve".to_string(),
        env_file: paths.env_file.clone(),
        pidfile: paths.pidfile.clone(),
        log_file: paths.log_file.clone(),
        // The control plane has no privilege drop of its own: without systemd it runs as the
        // user the script is started as.
        run_as: None,
        reload: false,
    };
    let tls_names = names(inv, host);
    Ok(CpDesired {
        tls: pki::existing_tls(state, Leaf::ControlPlane, &tls_names),
        tls_names,
        binary_path: install.binary.clone(),
        binary_sha256,
        env: render_one(&hb, "cp-env", &ctx)?,
        unit: render_one(&hb, "cp-unit", &ctx)?,
        ctl: render_one(&hb, "ctl", &ctl)?,
    })
}

/// Carries out `actions` on the control plane's host: one upload, one privileged script, then
/// the start or restart. On SSH hosts (`ssh`) its certificate and key belong to the service user.
pub async fn install(
    conn: &HostConn,
    paths: &CpPaths,
    init: InitSystem,
    ssh: bool,
    desired: &CpDesired,
    actions: &[CpAction],
) -> Result<()> {
    if actions.is_empty() {
        return Ok(());
    }
    let systemd = init == InitSystem::Systemd;
    let tmp = conn.temp_dir().await?;
    let mut uploads = Vec::new();
    let dirs = [
        &paths.binary,
        &paths.env_file,
        &paths.pidfile,
        &paths.log_file,
    ]
    .iter()
    .filter_map(|p| std::path::Path::new(p.as_str()).parent())
    .map(|d| shell_quote(&d.display().to_string()))
    .collect::<Vec<_>>()
    .join(" ");
    let mut script = vec![
        "set -eu".to_string(),
        format!("T={}", shell_quote(&tmp)),
        "trap 'rm -rf \"$T\"' EXIT".to_string(),
        format!("mkdir -p {dirs}"),
    ];
    if systemd {
        script.push(crate::stage::ensure_user());
    } else {
        script.push(format!("mkdir -p -m 0700 {}", shell_quote(&paths.data_dir)));
    }
    for a in actions {
        match a {
            CpAction::InstallBinary { .. } => {
                uploads.push((
                    format!("{tmp}/{CP_NAME}"),
                    Payload::File(desired.binary_path.clone().into()),
                ));
                script.push(format!(
                    r#"got=$(sha256sum "$T/{CP_NAME}" | cut -d' ' -f1)
if [ "$got" != {sha} ]; then echo "uploaded control plane binary has sha256 $got, expected {sha} — upload corrupted, re-run" >&2; exit 3; fi"#,
                    sha = desired.binary_sha256
                ));
                script.push(crate::stage::place(CP_NAME, &paths.binary, "0755"));
            }
            CpAction::WriteConfig { .. } => {
                uploads.push((
                    format!("{tmp}/{CP_NAME}.env"),
                    Payload::Bytes(desired.env.clone().into_bytes()),
                ));
                script.push(crate::stage::place(
                    &format!("{CP_NAME}.env"),
                    &paths.env_file,
                    "0644",
                ));
            }
            CpAction::InstallCertificate { .. } => {
                let Some(tls) = &desired.tls else {
                    return Err(Error::host(
                        &conn.label,
                        "the control plane's certificate was not issued",
                    ));
                };
                for (name, pem, dest) in [
                    ("cp.crt", &tls.cert_pem, &paths.tls_cert),
                    ("cp.key", &tls.key_pem, &paths.tls_key),
                ] {
                    uploads.push((
                        format!("{tmp}/{name}"),
                        Payload::Bytes(pem.clone().into_bytes()),
                    ));
                    script.push(crate::stage::place_private(ssh, name, dest));
                }
            }
            CpAction::InstallService { .. } if systemd => {
                uploads.push((
                    format!("{tmp}/{CP_NAME}.service"),
                    Payload::Bytes(desired.unit.clone().into_bytes()),
                ));
                script.push(crate::stage::place(
                    &format!("{CP_NAME}.service"),
                    &paths.unit,
                    "0644",
                ));
                script.push("systemctl daemon-reload".into());
            }
            CpAction::InstallService { .. } => {
                uploads.push((
                    format!("{tmp}/{CP_NAME}-ctl"),
                    Payload::Bytes(desired.ctl.clone().into_bytes()),
                ));
                script.push(crate::stage::place(
                    &format!("{CP_NAME}-ctl"),
                    &paths.ctl,
                    "0755",
                ));
            }
            CpAction::Start { restart } => {
                let ctl = shell_quote(&paths.ctl);
                script.push(match (systemd, restart) {
                    (true, false) => {
                        format!("systemctl enable --quiet {CP_NAME} && systemctl start {CP_NAME}")
                    }
                    (true, true) => {
                        format!("systemctl enable --quiet {CP_NAME} && systemctl restart {CP_NAME}")
                    }
                    (false, false) => format!("{ctl} start"),
                    (false, true) => format!("{ctl} stop && {ctl} start"),
                });
            }
        }
    }
    if let Err(e) = conn.upload(&uploads).await {
        let _ = conn.run(&format!("rm -rf {}", shell_quote(&tmp))).await;
        return Err(e.into());
    }
    conn.run_checked("installing the control plane", &script.join("\n"))
        .await?;
    Ok(())
}

/// Waits until the control plane answers `/live`, then reads its admin token off the host and
/// keeps it in the state directory. On a timeout, the error carries its last log lines.
pub async fn wait_and_fetch_token(
    inv: &Inventory,
    conn: &HostConn,
    paths: &CpPaths,
    init: InitSystem,
    url: &str,
    state: &StateDir,
) -> Result<Secret> {
    let client = crate::register::client(inv, state, Duration::from_secs(3))?;
    let started = Instant::now();
    loop {
        let ok = client
            .get(format!("{url}/live"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            break;
        }
        if started.elapsed() > LIVE_TIMEOUT {
            let log = match init {
                InitSystem::Systemd => format!("journalctl -u {CP_NAME} -n 20 --no-pager -o cat"),
                InitSystem::Other => format!("tail -n 20 {}", shell_quote(&paths.log_file)),
            };
            let tail = conn.run(&log).await.map(|o| o.stdout).unwrap_or_default();
            return Err(Error::host(
                &conn.label,
                format!(
                    "the control plane did not answer {url}/live within {}s; its last log lines:\n      {}",
                    LIVE_TIMEOUT.as_secs(),
                    tail.trim().replace('\n', "\n      ")
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let out = conn
        .run_checked(
            "reading the control plane's admin token",
            &format!("cat {}", shell_quote(&paths.token_file())),
        )
        .await?;
    let token = out.stdout.trim().to_string();
    if token.is_empty() {
        return Err(Error::host(
            &conn.label,
            format!("{} is empty", paths.token_file()),
        ));
    }
    state.write_atomic(TOKEN_IN_STATE, token.as_bytes(), 0o600)?;
    Ok(Secret::new(token))
}

/// The token to call the control plane with: the inventory's, else the one kept from installing it.
pub fn token(inv: &Inventory, state: &StateDir) -> Option<Secret> {
    let cp = inv.control_plane.as_ref()?;
    cp.token.clone().or_else(|| {
        std::fs::read_to_string(state.path().join(TOKEN_IN_STATE))
            .ok()
            .map(|t| Secret::new(t.trim()))
    })
}

/// Stops the control plane and removes its binary, script, unit, env file and certificate; with
/// `delete_data`, its database too.
pub async fn remove(
    conn: &HostConn,
    paths: &CpPaths,
    init: InitSystem,
    delete_data: bool,
) -> Result<()> {
    let ctl = shell_quote(&paths.ctl);
    let unit = shell_quote(&paths.unit);
    let mut script = vec![match init {
        InitSystem::Systemd => format!(
            "if [ -f {unit} ]; then systemctl disable --now --quiet {CP_NAME} || exit 1; rm -f {unit}; systemctl daemon-reload; fi"
        ),
        InitSystem::Other => format!("if [ -x {ctl} ]; then {ctl} stop || exit 1; fi"),
    }];
    let mut gone = vec![
        &paths.binary,
        &paths.ctl,
        &paths.env_file,
        &paths.tls_cert,
        &paths.tls_key,
        &paths.pidfile,
        &paths.log_file,
    ];
    if delete_data {
        gone.push(&paths.data_dir);
    }
    let quoted: Vec<String> = gone.iter().map(|p| shell_quote(p)).collect();
    script.push(format!("rm -rf {}", quoted.join(" ")));
    conn.run_checked("removing the control plane", &script.join("\n"))
        .await?;
    Ok(())
}

mod plan;
#[cfg(test)]
mod tests;

pub use plan::{facts_script, parse_facts, plan, CpAction};
