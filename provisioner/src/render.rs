//! Configuration files rendered with handlebars (strict mode: a missing value is an error; no
//! HTML escaping). Templates live as files under `provisioner/templates/`: the env file (identical
//! pool arguments on every node), the systemd unit, and a start/stop script for hosts without
//! systemd. Values are single-quoted in the env file, which both systemd and `sh` read literally.

use handlebars::Handlebars;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::deploy_key::DeployAccess;
use crate::error::{Error, Result};
use crate::exec::shell_quote;
use crate::facts::SERVICE_NAME;
use crate::inventory::{Connection, Host, Inventory, Secret};
use crate::paths::unit_path;

const ENV_TEMPLATE: &str = include_str!("../templates/rustfs.env.hbs");
const UNIT_TEMPLATE: &str = include_str!("../templates/rustfs.service.hbs");
const CTL_TEMPLATE: &str = include_str!("../templates/rustfs-ctl.sh.hbs");
const UPGRADE_TEMPLATE: &str = include_str!("../templates/rustfs-upgrade.sh.hbs");
const CP_ENV_TEMPLATE: &str = include_str!("../templates/rustfs-controlplane.env.hbs");
const CP_UNIT_TEMPLATE: &str = include_str!("../templates/rustfs-controlplane.service.hbs");
const PROMETHEUS_TEMPLATE: &str = include_str!("../templates/prometheus.yml.hbs");

/// The handlebars engine with every template registered by name (`env`, `unit`, `ctl`, `upgrade`,
/// `cp-env`, `cp-unit`, `prometheus`): strict (a missing value is an error), no HTML escaping.
pub fn engine() -> Result<Handlebars<'static>> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    for (name, text) in [
        ("env", ENV_TEMPLATE),
        ("unit", UNIT_TEMPLATE),
        ("ctl", CTL_TEMPLATE),
        ("upgrade", UPGRADE_TEMPLATE),
        ("cp-env", CP_ENV_TEMPLATE),
        ("cp-unit", CP_UNIT_TEMPLATE),
        ("prometheus", PROMETHEUS_TEMPLATE),
    ] {
        hb.register_template_string(name, text)
            .map_err(|e| Error::Render(format!("template {name}: {e}")))?;
    }
    Ok(hb)
}

/// Renders template `name` with `ctx`.
pub fn render_one(hb: &Handlebars<'_>, name: &str, ctx: &impl Serialize) -> Result<String> {
    hb.render(name, ctx)
        .map_err(|e| Error::Render(format!("template {name}: {e}")))
}

/// What the start/stop script of hosts without systemd runs (`rustfs-ctl`, and the control
/// plane's `rustfs-controlplane-ctl`).
#[derive(Serialize)]
pub struct CtlContext {
    pub cluster: String,
    /// The program's name: the script is `NAME-ctl`.
    pub name: String,
    /// What it is, for comments (`the node`).
    pub what: String,
    pub binary: String,
    /// Arguments after the binary (shell words, expanded after the env file is read).
    pub args: String,
    pub env_file: String,
    pub pidfile: String,
    pub log_file: String,
    /// Set as `RUSTFS_RUN_AS` when the script runs as root: the program binds its ports, then
    /// drops to this user. `None`: it runs as whoever starts it.
    pub run_as: Option<String>,
    /// The script has `reload` (SIGHUP): the node re-reads its root password.
    pub reload: bool,
}

/// What the upgrade verbs script (`rustfs-upgrade`) is rendered with; paths are shell-quoted.
#[derive(Serialize)]
struct UpgradeContext {
    cluster: String,
    service: &'static str,
    service_user: &'static str,
    /// An SSH host: the deploy key's login (as the service user) is let through to root.
    ssh: bool,
    #[serde(rename = "self")]
    self_path: String,
    bin_dir: String,
    ctl: String,
    log_file: String,
}

/// The account the node runs as (the systemd unit's user; on hosts without systemd the node
/// drops to it after binding).
pub const SERVICE_USER: &str = "rustfs";

/// The files one host gets, with their destinations. `Debug` shows paths only: the env file
/// holds the root credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// `(path, content)` of the env file (installed 0600).
    pub env: (String, String),
    pub unit: (String, String),
    pub ctl: (String, String),
    /// The upgrade verbs (`bin/rustfs-upgrade`, root's, 0755).
    pub upgrade: (String, String),
    /// The deploy key's access (SSH hosts, when a control plane is configured).
    pub deploy: Option<DeployAccess>,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("env", &self.env.0)
            .field("unit", &self.unit.0)
            .field("ctl", &self.ctl.0)
            .field("upgrade", &self.upgrade.0)
            .finish()
    }
}

impl Rendered {
    /// sha256 (hex) of the env file.
    pub fn env_sha256(&self) -> String {
        sha256_hex(self.env.1.as_bytes())
    }
    /// sha256 (hex) of the service definition the host uses.
    pub fn service_sha256(&self, systemd: bool) -> String {
        let content = if systemd { &self.unit.1 } else { &self.ctl.1 };
        sha256_hex(content.as_bytes())
    }
}

/// sha256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[derive(Serialize)]
struct Context {
    cluster: String,
    volumes: String,
    /// Empty (every interface) on SSH hosts; the host's own address on local hosts.
    listen_host: String,
    /// The host's `cluster_address`, when it has one.
    cluster_address: Option<String>,
    s3_port: u32,
    console_port: u32,
    storage_class: Option<String>,
    set_drive_count: Option<usize>,
    root_user: String,
    root_password_file: String,
    metrics_token: String,
    tls: bool,
    tls_dir: String,
    rpc_secret_file: String,
    service_user: &'static str,
    env_file: String,
    binary: String,
    drives: String,
    pidfile: String,
    log_file: String,
}

/// The server-pool arguments every node gets. One pool: the endpoints listed one by one (any
/// addresses and paths work), drive-major so consecutive drives sit on different hosts. Several
/// pools: one ellipsis argument per pool, which needs numbered addresses and drive paths.
/// Endpoints name each host's cluster address when it has one, so inter-node RPC goes there.
pub fn volumes(inv: &Inventory) -> Result<String> {
    let scheme = if inv.tls.enabled { "https" } else { "http" };
    let port = inv.ports.s3;
    let pools = inv.pool_hosts();
    if pools.len() == 1 {
        let hosts: Vec<&Host> = pools[0].iter().map(|&i| &inv.hosts[i]).collect();
        let per_host = hosts.first().map_or(0, |h| h.drives.len());
        let mut out = Vec::new();
        for d in 0..per_host {
            for h in &hosts {
                out.push(format!(
                    "{scheme}://{}:{port}{}",
                    h.rpc_address(),
                    h.drives[d]
                ));
            }
        }
        return Ok(out.join(" "));
    }
    let mut args = Vec::new();
    for (p, members) in pools.iter().enumerate() {
        let addrs: Vec<&str> = members
            .iter()
            .map(|&i| inv.hosts[i].rpc_address())
            .collect();
        let first = &inv.hosts[members[0]];
        let (Some(a), Some(d)) = (
            compress(&addrs),
            compress(&first.drives.iter().map(String::as_str).collect::<Vec<_>>()),
        ) else {
            return Err(Error::Render(format!(
                "pools[{p}]: with several pools, host addresses and drive paths must be numbered consecutively (10.0.0.{{1...4}}, /mnt/disk{{1...4}})"
            )));
        };
        let same_drives = members.iter().all(|&i| inv.hosts[i].drives == first.drives);
        if !same_drives {
            return Err(Error::Render(format!(
                "pools[{p}]: with several pools, every host of a pool needs the same drive paths"
            )));
        }
        args.push(format!("{scheme}://{a}:{port}{d}"));
    }
    Ok(args.join(" "))
}

/// `["n1", "n2", "n3"]` → `n{1...3}`: one numbered run with a common prefix and suffix.
fn compress(items: &[&str]) -> Option<String> {
    if items.len() == 1 {
        return Some(items[0].to_string());
    }
    let split = |s: &str| -> Option<(String, u64, usize, String)> {
        let end = s.rfind(|c: char| c.is_ascii_digit())? + 1;
        let start = s[..end]
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        Some((
            s[..start].to_string(),
            s[start..end].parse().ok()?,
            end - start,
            s[end..].to_string(),
        ))
    };
    let parts: Vec<_> = items.iter().map(|s| split(s)).collect::<Option<_>>()?;
    let (prefix, first, width, suffix) = parts[0].clone();
    for (k, (p, n, w, s)) in parts.iter().enumerate() {
        if *p != prefix || *s != suffix || *n != first + k as u64 || (*w != width && width > 1) {
            return None;
        }
    }
    let last = first + items.len() as u64 - 1;
    let (a, b) = if width > 1 {
        (format!("{first:0width$}"), format!("{last:0width$}"))
    } else {
        (first.to_string(), last.to_string())
    };
    Some(format!("{prefix}{{{a}...{b}}}{suffix}"))
}

/// Renders `host`'s files; the nodes' scrape token is `metrics_token`.
/// `deploy_key` (the control plane's public key) gives SSH hosts the deploy key's access too.
pub fn render(
    inv: &Inventory,
    host: &Host,
    metrics_token: &Secret,
    deploy_key: Option<&str>,
) -> Result<Rendered> {
    let hb = engine()?;
    let paths = inv.paths(host);
    let env_file = paths.env_file();
    let listen_host = match host.connection {
        Connection::Ssh => String::new(),
        Connection::Local => host.address.clone(),
    };
    let ctx = Context {
        cluster: inv.cluster.name.clone(),
        volumes: volumes(inv)?,
        listen_host,
        cluster_address: host.cluster_address.clone(),
        s3_port: inv.ports.s3,
        console_port: inv.ports.console,
        storage_class: inv.storage_class.clone(),
        set_drive_count: inv.set_drive_count,
        root_user: inv.credentials.root_user().to_string(),
        root_password_file: paths.root_password_file(),
        metrics_token: metrics_token.expose().to_string(),
        tls: inv.tls.enabled,
        tls_dir: paths.tls_dir(),
        rpc_secret_file: paths.rpc_secret_file(),
        service_user: SERVICE_USER,
        env_file: env_file.clone(),
        binary: paths.current(),
        drives: host.drives.join(" "),
        pidfile: paths.pidfile(),
        log_file: paths.log_file(),
    };
    let ctl = CtlContext {
        cluster: ctx.cluster.clone(),
        name: SERVICE_NAME.to_string(),
        what: "the node".to_string(),
        binary: ctx.binary.clone(),
        args: "server $RUSTFS_VOLUMES".to_string(),
        env_file: ctx.env_file.clone(),
        pidfile: ctx.pidfile.clone(),
        log_file: ctx.log_file.clone(),
        // Local nodes run as whoever runs the provisioner; a host's node never stays root.
        run_as: (host.connection == Connection::Ssh).then(|| SERVICE_USER.to_string()),
        reload: true,
    };
    let upgrade = UpgradeContext {
        cluster: ctx.cluster.clone(),
        service: SERVICE_NAME,
        service_user: SERVICE_USER,
        ssh: host.connection == Connection::Ssh,
        self_path: shell_quote(&paths.upgrade_helper()),
        bin_dir: shell_quote(&paths.bin_dir()),
        ctl: shell_quote(&paths.ctl()),
        log_file: shell_quote(&paths.log_file()),
    };
    Ok(Rendered {
        env: (env_file, render_one(&hb, "env", &ctx)?),
        unit: (unit_path(), render_one(&hb, "unit", &ctx)?),
        ctl: (paths.ctl(), render_one(&hb, "ctl", &ctl)?),
        upgrade: (
            paths.upgrade_helper(),
            render_one(&hb, "upgrade", &upgrade)?,
        ),
        deploy: deploy_key
            .filter(|_| host.connection == Connection::Ssh)
            .map(|key| DeployAccess::new(key, &paths)),
    })
}

#[cfg(test)]
mod tests;
