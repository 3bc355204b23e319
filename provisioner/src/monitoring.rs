//! Monitoring for a provisioned cluster: the bearer token Prometheus scrapes the nodes with, and a
//! ready-to-run Prometheus directory generated from the inventory.
//!
//! The token is made once (32 random bytes, hex) and kept in the state directory as
//! `prometheus/metrics.token` (0600); every node's env file carries it as `RUSTFS_METRICS_TOKEN`.
//! `prometheus/` also gets `prometheus.yml` (one target per node, labelled with the cluster and the
//! node's name, plus the control plane when one is configured), `alerts.yml` (the project's alert
//! rules) and, with TLS on or an installed control plane, `ca.pem`, all referenced by relative paths, so the directory can be
//! copied to the Prometheus host as it is.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::health::endpoint;
use crate::inventory::{Inventory, Secret};
use crate::state::StateDir;
use crate::{pki, render};

/// The project's alert rules, shipped beside the generated configuration.
pub const ALERT_RULES: &str = include_str!("../../dashboards/prometheus/alerts.yml");

/// Directory (inside the state directory) of the generated Prometheus files.
pub const PROMETHEUS_DIR: &str = "prometheus";
/// The scrape token, inside the state directory.
pub const METRICS_TOKEN: &str = "prometheus/metrics.token";
/// Stands for a token not made yet (planning never makes one), so the env file shows as pending.
pub const UNISSUED_TOKEN: &str = "unissued-metrics-token";

/// The scrape token when it exists.
pub fn existing_token(state: &StateDir) -> Option<Secret> {
    std::fs::read_to_string(state.path().join(METRICS_TOKEN))
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| t.len() >= 16)
        .map(Secret::new)
}

/// The scrape token, made and kept now when it does not exist yet.
pub fn ensure_token(state: &StateDir) -> Result<Secret> {
    if let Some(t) = existing_token(state) {
        return Ok(t);
    }
    let bytes: [u8; 32] = rand::random();
    let token = hex::encode(bytes);
    state.write_atomic(METRICS_TOKEN, token.as_bytes(), 0o600)?;
    Ok(Secret::new(token))
}

/// The scrape token for planning: the kept one, or a placeholder that never matches a host.
pub fn planned_token(state: &StateDir) -> Secret {
    existing_token(state).unwrap_or_else(|| Secret::new(UNISSUED_TOKEN))
}

#[derive(Serialize)]
struct Target {
    name: String,
    target: String,
}

#[derive(Serialize)]
struct ControlPlaneTarget {
    scheme: String,
    target: String,
    /// Its certificate comes from the cluster CA (the provisioner installed it).
    cluster_ca: bool,
}

#[derive(Serialize)]
struct Context {
    cluster: String,
    scheme: &'static str,
    tls: bool,
    nodes: Vec<Target>,
    control_plane: Option<ControlPlaneTarget>,
}

/// `prometheus.yml` for `inv` (paths relative to the file).
pub fn prometheus_yml(inv: &Inventory) -> Result<String> {
    let nodes = inv
        .hosts
        .iter()
        .map(|h| Target {
            name: h.name().to_string(),
            target: endpoint(inv, h)
                .split_once("://")
                .map_or_else(String::new, |(_, t)| t.to_string()),
        })
        .collect();
    let control_plane = inv.control_plane.as_ref().and_then(|cp| {
        let (scheme, rest) = cp.address.split_once("://")?;
        let target = rest.split('/').next().unwrap_or(rest).to_string();
        Some(ControlPlaneTarget {
            cluster_ca: scheme == "https" && cp.install.is_some(),
            scheme: scheme.to_string(),
            target,
        })
    });
    let ctx = Context {
        cluster: inv.cluster.name.clone(),
        scheme: if inv.tls.enabled { "https" } else { "http" },
        tls: inv.tls.enabled,
        nodes,
        control_plane,
    };
    render::render_one(&render::engine()?, "prometheus", &ctx)
}

/// Writes the Prometheus directory (making the token and, with TLS, the CA when missing);
/// returns its path.
pub fn write_prometheus_dir(inv: &Inventory, state: &StateDir) -> Result<PathBuf> {
    ensure_token(state)?;
    state.write_atomic(
        &format!("{PROMETHEUS_DIR}/prometheus.yml"),
        prometheus_yml(inv)?.as_bytes(),
        0o644,
    )?;
    state.write_atomic(
        &format!("{PROMETHEUS_DIR}/alerts.yml"),
        ALERT_RULES.as_bytes(),
        0o644,
    )?;
    let cp_installed = inv
        .control_plane
        .as_ref()
        .is_some_and(|cp| cp.install.is_some());
    if inv.tls.enabled || cp_installed {
        let ca = pki::ensure_ca(state, &inv.cluster.name)?;
        let pem = std::fs::read(&ca.cert_path)
            .map_err(|source| Error::read(ca.cert_path.clone(), source))?;
        state.write_atomic(&format!("{PROMETHEUS_DIR}/ca.pem"), &pem, 0o644)?;
    }
    Ok(state.path().join(PROMETHEUS_DIR))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(extra: &str) -> Inventory {
        let yaml = format!(
            "version: 1\ncluster: {{ name: mon }}\n\
             binary: {{ url: \"https://example.invalid/rustfs\", sha256: \"{sha}\" }}\n\
             hosts:\n  - {{ name: n1, address: 10.0.0.1, connection: local, drives: [/d1, /d2] }}\n\
             \x20 - {{ name: n2, address: 10.0.0.2, connection: local, drives: [/d1, /d2] }}\n\
             credentials: {{ user: admin, password: secret-password }}\n{extra}",
            sha = "a".repeat(64)
        );
        Inventory::from_str_with(std::path::Path::new("inv.yaml"), &yaml, &|_| None).unwrap()
    }

    #[test]
    fn the_token_is_made_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        assert_eq!(planned_token(&state).expose(), UNISSUED_TOKEN);
        let t = ensure_token(&state).unwrap();
        assert_eq!(t.expose().len(), 64);
        assert_eq!(ensure_token(&state).unwrap(), t);
        assert_eq!(planned_token(&state), t);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(METRICS_TOKEN))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn the_scrape_config_lists_every_node_and_the_control_plane() {
        let inv = inventory(
            "tls: { enabled: true }\ncontrol_plane: { address: \"https://cp.example.com:7070\", token: t }\n",
        );
        let yml = prometheus_yml(&inv).unwrap();
        assert!(yml.contains("scheme: https"), "{yml}");
        assert!(yml.contains("ca_file: ca.pem"), "{yml}");
        assert!(yml.contains("credentials_file: metrics.token"), "{yml}");
        assert!(yml.contains("targets: [\"10.0.0.1:9000\"]"), "{yml}");
        assert!(yml.contains("node: n2"), "{yml}");
        assert!(yml.contains("targets: [\"cp.example.com:7070\"]"), "{yml}");
        // A control plane the provisioner did not install is not assumed to use the cluster CA.
        assert_eq!(yml.matches("ca_file: ca.pem").count(), 1, "{yml}");
        // TLS is the default.
        let default = prometheus_yml(&inventory("")).unwrap();
        assert!(default.contains("scheme: https"), "{default}");
        let plain = prometheus_yml(&inventory("tls: false\n")).unwrap();
        assert!(plain.contains("scheme: http\n"), "{plain}");
        assert!(!plain.contains("tls_config"), "{plain}");
        assert!(!plain.contains("rustfs-controlplane"), "{plain}");
    }

    #[test]
    fn an_installed_control_plane_is_scraped_trusting_the_cluster_ca() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("rustfs-controlplane");
        std::fs::write(&bin, b"cp").unwrap();
        let inv = inventory(&format!(
            "tls: false\ncontrol_plane: {{ install: {{ host: n1, binary: \"{}\" }} }}\n",
            bin.display()
        ));
        let yml = prometheus_yml(&inv).unwrap();
        let cp = yml.split("job_name: rustfs-controlplane").nth(1).unwrap();
        assert!(cp.contains("scheme: https"), "{yml}");
        assert!(cp.contains("ca_file: ca.pem"), "{yml}");
        let state = StateDir::open(dir.path().join("state")).unwrap();
        let out = write_prometheus_dir(&inv, &state).unwrap();
        assert!(out.join("ca.pem").is_file(), "the CA is written for it");
    }

    #[test]
    fn the_directory_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        let inv = inventory("tls: { enabled: true }\n");
        let out = write_prometheus_dir(&inv, &state).unwrap();
        for f in ["prometheus.yml", "alerts.yml", "ca.pem", "metrics.token"] {
            assert!(out.join(f).is_file(), "{f} missing");
        }
    }
}
