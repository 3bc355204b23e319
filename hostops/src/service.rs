//! Starting, stopping and removing the node on a host: through systemd where it runs, else
//! through the rendered `bin/rustfs-ctl` script (a pid file and a detached `nohup` process).

use crate::error::Result;
use crate::exec::{shell_quote, HostConn};
use crate::paths::{unit_path, HostPaths};

/// Name of the systemd unit and of the service everywhere.
pub const SERVICE_NAME: &str = "rustfs";

/// The host's init system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitSystem {
    Systemd,
    /// No systemd: the rendered start script (`bin/rustfs-ctl`) manages the node.
    Other,
}

/// Starts the node, or restarts it when `restart` (a running node picks up its new binary,
/// configuration or certificates only on restart).
pub async fn start(
    conn: &HostConn,
    paths: &HostPaths,
    init: InitSystem,
    restart: bool,
) -> Result<()> {
    let script = match init {
        InitSystem::Systemd => {
            let verb = if restart { "restart" } else { "start" };
            format!("systemctl enable --quiet {SERVICE_NAME} && systemctl {verb} {SERVICE_NAME}")
        }
        InitSystem::Other => {
            let ctl = shell_quote(&paths.ctl());
            if restart {
                format!("{ctl} stop && {ctl} start")
            } else {
                format!("{ctl} start")
            }
        }
    };
    let what = if restart {
        "restarting rustfs"
    } else {
        "starting rustfs"
    };
    conn.run_checked(what, &script).await.map(|_| ())
}

/// Has the running node read its root password again (`SIGHUP`; `systemctl reload` runs the
/// unit's `ExecReload`).
pub async fn reload(conn: &HostConn, paths: &HostPaths, init: InitSystem) -> Result<()> {
    let script = match init {
        InitSystem::Systemd => format!("systemctl reload {SERVICE_NAME}"),
        InitSystem::Other => format!("{} reload", shell_quote(&paths.ctl())),
    };
    conn.run_checked("reloading rustfs", &script)
        .await
        .map(|_| ())
}

/// The last lines the node logged, for error messages (best effort, empty when unavailable).
pub async fn log_tail(conn: &HostConn, paths: &HostPaths, init: InitSystem, lines: u32) -> String {
    let script = match init {
        InitSystem::Systemd => {
            format!("journalctl -u {SERVICE_NAME} -n {lines} --no-pager -o cat 2>/dev/null")
        }
        InitSystem::Other => format!(
            "tail -n {lines} {} 2>/dev/null",
            shell_quote(&paths.log_file())
        ),
    };
    conn.run(&script)
        .await
        .map(|o| o.stdout.trim().to_string())
        .unwrap_or_default()
}

/// Stops the node and removes everything the provisioner installed: the service definition, the
/// binaries, the env file, RPC secret and certificates, pid file and log. Drives are left alone.
pub async fn remove(conn: &HostConn, paths: &HostPaths, init: InitSystem) -> Result<()> {
    let mut script = vec!["set -u".to_string()];
    let ctl = shell_quote(&paths.ctl());
    match init {
        InitSystem::Systemd => {
            let unit = shell_quote(&unit_path());
            script.push(format!(
                "if [ -f {unit} ]; then systemctl disable --now --quiet {SERVICE_NAME} || exit 1; rm -f {unit}; systemctl daemon-reload; fi"
            ));
        }
        InitSystem::Other => {
            script.push(format!("if [ -x {ctl} ]; then {ctl} stop || exit 1; fi"));
        }
    }
    let remove = [
        paths.bin_dir(),
        paths.run_dir(),
        paths.log_dir(),
        paths.tls_dir(),
        paths.env_file(),
        paths.rpc_secret_file(),
        paths.root_password_file(),
    ];
    let quoted: Vec<String> = remove.iter().map(|p| shell_quote(p)).collect();
    script.push(format!("rm -rf {}", quoted.join(" ")));
    // The directories themselves go only when nothing else lives there.
    script.push(format!(
        "rmdir {} {} 2>/dev/null; true",
        shell_quote(&paths.install_dir),
        shell_quote(&paths.config_dir)
    ));
    conn.run_checked("removing the service", &script.join("\n"))
        .await
        .map(|_| ())
}

/// Deletes everything on the given drives (the drive directories themselves stay; `rmdir_too`
/// removes them as well when they end up empty).
pub async fn wipe_drives(conn: &HostConn, drives: &[String], rmdir_too: bool) -> Result<()> {
    let mut script = vec!["set -eu".to_string()];
    for d in drives {
        let q = shell_quote(d);
        script.push(format!(
            "if [ -d {q} ]; then find {q} -mindepth 1 -delete; fi"
        ));
        if rmdir_too {
            script.push(format!("rmdir {q} 2>/dev/null || true"));
        }
    }
    conn.run_checked("deleting drive contents", &script.join("\n"))
        .await
        .map(|_| ())
}
