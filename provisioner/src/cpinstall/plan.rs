//! Planning the control plane's install from its host's facts: what the facts script asks the host
//! (lines prefixed `cp_`), and the actions that bring it to what the inventory wants.

use super::{CpDesired, CpPaths, CP_NAME};
use crate::exec::shell_quote;
use crate::facts::{InitSystem, InstallFacts};
use crate::inventory::{Connection, Host, Inventory};
use crate::plan::UNISSUED;
use crate::render::sha256_hex;

/// The facts script's part for the control plane (its lines are prefixed `cp_`).
pub fn facts_script(inv: &Inventory, host: &Host) -> String {
    let p = CpPaths::of(inv, host);
    let (svc, active) = match host.connection {
        Connection::Ssh => (
            format!(
                "if [ -d /run/systemd/system ]; then s={}; else s={}; fi",
                shell_quote(&p.unit),
                shell_quote(&p.ctl)
            ),
            format!(
                "if [ -d /run/systemd/system ]; then systemctl is-active --quiet {CP_NAME} && a=1; else [ -x {c} ] && {c} status >/dev/null 2>&1 && a=1; fi",
                c = shell_quote(&p.ctl)
            ),
        ),
        Connection::Local => (
            format!("s={}", shell_quote(&p.ctl)),
            format!(
                "[ -x {c} ] && {c} status >/dev/null 2>&1 && a=1",
                c = shell_quote(&p.ctl)
            ),
        ),
    };
    format!(
        r#"cpsha() {{ if [ -f "$1" ]; then sha256sum "$1" | cut -d' ' -f1; fi; }}
echo "cp_binary_sha256=$(cpsha {bin})"
echo "cp_config_sha256=$(cpsha {env})"
if [ -f {crt} ] && [ -f {key} ]; then echo "cp_tls_sha256=$(cat {crt} {key} | sha256sum | cut -d' ' -f1)"; fi
{svc}
if [ -f "$s" ]; then echo cp_service_installed=1; echo "cp_service_sha256=$(cpsha "$s")"; fi
a=0; {active}; echo "cp_service_active=$a""#,
        bin = shell_quote(&p.binary),
        env = shell_quote(&p.env_file),
        crt = shell_quote(&p.tls_cert),
        key = shell_quote(&p.tls_key),
    )
}

/// Reads the `cp_` lines of the facts output.
pub fn parse_facts(text: &str) -> InstallFacts {
    let mut f = InstallFacts::default();
    let some = |v: &str| (!v.is_empty()).then(|| v.to_string());
    for line in text.lines() {
        match line.split_once('=') {
            Some(("cp_binary_sha256", v)) => f.current_sha256 = some(v),
            Some(("cp_config_sha256", v)) => f.config_sha256 = some(v),
            Some(("cp_tls_sha256", v)) => f.tls_sha256 = some(v),
            Some(("cp_service_installed", v)) => f.service_installed = v == "1",
            Some(("cp_service_sha256", v)) => f.service_sha256 = some(v),
            Some(("cp_service_active", v)) => f.service_active = v == "1",
            _ => {}
        }
    }
    f
}

/// What `apply` does to the control plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpAction {
    InstallBinary {
        path: String,
    },
    WriteConfig {
        path: String,
    },
    /// Its server certificate (from the cluster CA) and key.
    InstallCertificate {
        path: String,
    },
    InstallService {
        init: InitSystem,
    },
    Start {
        restart: bool,
    },
}

impl std::fmt::Display for CpAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CpAction::InstallBinary { path } => write!(f, "install control plane binary {path}"),
            CpAction::WriteConfig { path } => write!(f, "write control plane configuration {path}"),
            CpAction::InstallCertificate { path } => {
                write!(
                    f,
                    "install the control plane's TLS certificate {path} (cluster CA)"
                )
            }
            CpAction::InstallService { init } => match init {
                InitSystem::Systemd => write!(f, "install systemd unit {CP_NAME}.service"),
                InitSystem::Other => write!(f, "install control plane start script"),
            },
            CpAction::Start { restart: false } => write!(f, "start the control plane"),
            CpAction::Start { restart: true } => {
                write!(f, "restart the control plane (its files changed)")
            }
        }
    }
}

/// The actions that bring the control plane on a host with `facts` (init system `init`) to
/// `desired`; empty when it matches.
pub fn plan(
    paths: &CpPaths,
    init: InitSystem,
    facts: &InstallFacts,
    desired: &CpDesired,
) -> Vec<CpAction> {
    let mut actions = Vec::new();
    if facts.current_sha256.as_deref() != Some(desired.binary_sha256.as_str()) {
        actions.push(CpAction::InstallBinary {
            path: paths.binary.clone(),
        });
    }
    if facts.config_sha256 != Some(sha256_hex(desired.env.as_bytes())) {
        actions.push(CpAction::WriteConfig {
            path: paths.env_file.clone(),
        });
    }
    let tls = desired.tls.as_ref().map_or_else(
        || UNISSUED.to_string(),
        |t| sha256_hex(format!("{}{}", t.cert_pem, t.key_pem).as_bytes()),
    );
    if facts.tls_sha256.as_deref() != Some(tls.as_str()) {
        actions.push(CpAction::InstallCertificate {
            path: paths.tls_cert.clone(),
        });
    }
    let svc = sha256_hex(desired.service(init).as_bytes());
    if !facts.service_installed || facts.service_sha256.as_deref() != Some(svc.as_str()) {
        actions.push(CpAction::InstallService { init });
    }
    if !facts.service_active {
        actions.push(CpAction::Start { restart: false });
    } else if !actions.is_empty() {
        actions.push(CpAction::Start { restart: true });
    }
    actions
}
