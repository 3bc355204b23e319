//! Registering the cluster with the control plane (`PUT /v1/clusters/{cluster}`, see
//! `controlplane/API.md`) once it is healthy: its pools, hosts, drives and the credentials the
//! control plane polls the nodes' admin API with (its own service account, see
//! [`crate::poll_account`]) — so only over https, or http on loopback. Idempotent on the control
//! plane's side, so every `apply` may call it; the answer says whether anything changed.

use rustfs_controlplane_api::{
    Client, ClientError, Connection as ApiConnection, DeployKey, Erasure, HostAccess, HostSpec,
    NodeState, PollCredentials, PoolSpec, RegisterCluster, Scheme,
};

use std::time::Duration;

use crate::error::{Error, Result};
use crate::health::endpoint;
use crate::inventory::{control_plane_transport, Connection, Host, Inventory, Secret};
use crate::plan::Desired;
use crate::render::SERVICE_USER;
use crate::state::StateDir;

/// An HTTP client for the control plane. Over https it trusts the cluster CA (from `state`) —
/// only that CA for a control plane the provisioner installed (its certificate comes from it),
/// and the usual public roots as well for one it did not. Plain http is refused unless the
/// address is this machine's loopback: the provisioner sends it credentials.
pub fn client(inv: &Inventory, state: &StateDir, timeout: Duration) -> Result<reqwest::Client> {
    let Some(cp) = &inv.control_plane else {
        return Err(Error::state("no control plane is configured"));
    };
    let err = |m: String| Error::state(format!("control plane {}: {m}", cp.address));
    control_plane_transport(&cp.address).map_err(err)?;
    let mut b = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .use_rustls_tls();
    if cp.address.starts_with("https://") {
        match crate::pki::ca_pem(state) {
            Some(pem) => {
                let ca = reqwest::Certificate::from_pem(pem.as_bytes())
                    .map_err(|e| err(format!("the cluster CA is not a PEM certificate: {e}")))?;
                b = b.add_root_certificate(ca);
                if cp.install.is_some() {
                    b = b.tls_built_in_root_certs(false);
                }
            }
            None if cp.install.is_some() => {
                return Err(err(
                    "its certificate comes from the cluster CA, but the state directory holds none — run apply".into(),
                ))
            }
            None => {}
        }
    }
    b.build()
        .map_err(|e| err(format!("cannot make an HTTP client: {e}")))
}

/// What the control plane needs to run the hosts' upgrade verbs: its deploy key and the host key
/// each SSH host showed this run (by host name). Local hosts need neither.
#[derive(Debug, Default)]
pub struct UpgradeAccess {
    /// The deploy key (OpenSSH private key), see [`crate::deploy_key`].
    pub deploy_key: Option<String>,
    pub host_keys: std::collections::BTreeMap<String, String>,
}

/// How the control plane reaches `host`'s upgrade verbs, when it can.
fn host_access(inv: &Inventory, host: &Host, access: &UpgradeAccess) -> Option<HostAccess> {
    let install_dir = inv.paths(host).install_dir;
    match host.connection {
        Connection::Local => Some(HostAccess {
            connection: ApiConnection::Local,
            install_dir,
            ssh_port: 22,
            ssh_user: SERVICE_USER.into(),
            host_key: None,
        }),
        Connection::Ssh => {
            access.deploy_key.as_ref()?;
            Some(HostAccess {
                connection: ApiConnection::Ssh,
                install_dir,
                ssh_port: inv.ssh_target(host).port,
                ssh_user: SERVICE_USER.into(),
                host_key: Some(access.host_keys.get(host.name())?.clone()),
            })
        }
    }
}

/// The registration body for `inv`.
pub fn request(
    inv: &Inventory,
    version: Option<String>,
    ca_pem: Option<String>,
    credentials: PollCredentials,
    access: &UpgradeAccess,
) -> RegisterCluster {
    let pools = inv
        .pool_hosts()
        .into_iter()
        .map(|members| PoolSpec {
            hosts: members
                .into_iter()
                .map(|i| {
                    let h = &inv.hosts[i];
                    HostSpec {
                        name: Some(h.name().to_string()),
                        address: h.address.clone(),
                        s3_port: u16::try_from(inv.ports.s3).unwrap_or(9000),
                        drives: h.drives.clone(),
                        access: host_access(inv, h, access),
                    }
                })
                .collect(),
        })
        .collect();
    let parity = inv
        .storage_class
        .as_deref()
        .and_then(|c| c.strip_prefix("EC:"))
        .and_then(|n| n.parse().ok());
    RegisterCluster {
        site: inv
            .control_plane
            .as_ref()
            .and_then(|c| c.site.clone())
            .unwrap_or_else(|| rustfs_controlplane_api::DEFAULT_SITE.to_string()),
        version,
        scheme: if inv.tls.enabled {
            Scheme::Https
        } else {
            Scheme::Http
        },
        ca_pem,
        erasure: Erasure {
            set_drive_count: inv.set_drive_count.and_then(|n| u32::try_from(n).ok()),
            parity,
        },
        s3_endpoints: inv.hosts.iter().map(|h| endpoint(inv, h)).collect(),
        credentials,
        deploy_key: access.deploy_key.clone().map(DeployKey),
        pools,
    }
}

/// The typed client of the configured control plane, calling with `token`.
pub fn api(inv: &Inventory, state: &StateDir, token: &Secret, timeout: Duration) -> Result<Client> {
    let Some(cp) = &inv.control_plane else {
        return Err(Error::state("no control plane is configured"));
    };
    Client::new(&cp.address, token.expose(), client(inv, state, timeout)?)
        .map_err(|e| Error::state(e.to_string()))
}

/// Registers (or updates) the cluster; returns a one-line account of what the control plane did.
pub async fn register(
    inv: &Inventory,
    state: &StateDir,
    desired: &Desired,
    ca_pem: Option<String>,
    credentials: PollCredentials,
    access: &UpgradeAccess,
    token: &Secret,
) -> Result<String> {
    if inv.control_plane.is_none() {
        return Ok("no control plane configured".into());
    }
    let body = request(
        inv,
        Some(desired.version.clone()),
        ca_pem,
        credentials,
        access,
    );
    let r = api(inv, state, token, Duration::from_secs(30))?
        .register_cluster(&inv.cluster.name, &body)
        .await
        .map_err(|e| match e {
            ClientError::Unauthorized { .. } => Error::state(format!(
                "{e} — set control_plane.token or token_file to a valid token"
            )),
            e => Error::state(format!("registration: {e}")),
        })?;
    Ok(if r.created {
        format!("cluster {} registered", r.cluster.name)
    } else if r.changed {
        format!("cluster {} updated", r.cluster.name)
    } else {
        format!("cluster {} already registered, unchanged", r.cluster.name)
    })
}

/// A state as the API names it (`healthy`, `read_only`, `down`, …).
fn api_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The control plane's view of the cluster (`GET /v1/clusters/{cluster}/health`), as lines for
/// `status`: overall state, nodes up/down, drives offline, and each node the control plane does
/// not see up.
pub async fn view(inv: &Inventory, state: &StateDir, token: &Secret) -> Result<Vec<String>> {
    let Some(cp) = &inv.control_plane else {
        return Ok(Vec::new());
    };
    let h = api(inv, state, token, Duration::from_secs(10))?
        .cluster_health(&inv.cluster.name)
        .await
        .map_err(|e| Error::state(e.to_string()))?;
    let mut lines = vec![format!(
        "control plane {}: cluster {} {}, nodes up {}/{} (down {}, unknown {}), drives offline {}/{}",
        cp.address,
        h.cluster,
        api_name(&h.status),
        h.nodes_up,
        h.nodes_total,
        h.nodes_down,
        h.nodes_unknown,
        h.drives_offline,
        h.drives_total
    )];
    for n in h.nodes.iter().filter(|n| n.state != NodeState::Up) {
        lines.push(format!(
            "  node {} ({}) is {}{}",
            n.name,
            n.address,
            api_name(&n.state),
            n.last_error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
    }
    for d in &h.offline_drives {
        lines.push(format!("  drive {}:{} offline", d.node, d.path));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn request_lists_every_pool_host_and_drive_and_hides_nothing_it_needs() {
        let text = r#"
version: 1
cluster: { name: t }
binary: { url: "https://example.invalid/rustfs", sha256: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }
hosts:
  - { name: a, address: 127.0.0.2, connection: local, drives: [/d1, /d2] }
  - { name: b, address: 127.0.0.3, connection: local, drives: [/d1, /d2] }
storage_class: EC:1
credentials: { user: admin, password: password123 }
control_plane: { address: "http://127.0.0.1:7070", token: tok, site: dc1 }
"#;
        let inv = Inventory::from_str_with(Path::new("i.yaml"), text, &|_| None).unwrap();
        let keys = PollCredentials {
            access_key: "POLLKEY".into(),
            secret_key: "pollsecret".into(),
        };
        let r = request(
            &inv,
            Some("1.0".into()),
            None,
            keys,
            &UpgradeAccess::default(),
        );
        assert_eq!(r.site, "dc1");
        assert_eq!(r.erasure.parity, Some(1));
        assert_eq!(r.pools.len(), 1);
        assert_eq!(r.pools[0].hosts[1].address, "127.0.0.3");
        assert_eq!(r.pools[0].hosts[1].drives, vec!["/d1", "/d2"]);
        // TLS is the default.
        assert_eq!(r.s3_endpoints[0], "https://127.0.0.2:9000");
        assert_eq!(r.credentials.access_key, "POLLKEY");
        // The wire shape the control plane reads (it rejects unknown fields).
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["credentials"]["secret_key"], "pollsecret");
        assert!(
            !json.to_string().contains("password123"),
            "never the root key"
        );
        assert_eq!(json["scheme"], "https");
    }

    #[test]
    fn hosts_carry_how_the_control_plane_reaches_their_upgrade_verbs() {
        let key = tempfile::NamedTempFile::new().unwrap();
        let text = format!(
            r#"
version: 1
cluster: {{ name: t }}
binary: {{ path: /bin/true }}
ssh: {{ key: "{}", port: 2222 }}
hosts:
  - {{ name: a, address: 10.0.0.1, drives: [/d1, /d2] }}
  - {{ name: b, address: 10.0.0.2, drives: [/d1, /d2] }}
credentials: {{ user: admin, password: password123 }}
control_plane: {{ address: "http://127.0.0.1:7070", token: tok }}
"#,
            key.path().display()
        );
        let inv = Inventory::from_str_with(Path::new("i.yaml"), &text, &|_| None).unwrap();
        let keys = || PollCredentials {
            access_key: "k".into(),
            secret_key: "s".into(),
        };
        let none = request(&inv, None, None, keys(), &UpgradeAccess::default());
        assert!(none.deploy_key.is_none());
        assert!(none.pools[0].hosts.iter().all(|h| h.access.is_none()));
        let access = UpgradeAccess {
            deploy_key: Some("-----BEGIN OPENSSH PRIVATE KEY-----".into()),
            host_keys: [("a".to_string(), "SHA256:aaa".to_string())].into(),
        };
        let r = request(&inv, None, None, keys(), &access);
        let a = r.pools[0].hosts[0].access.as_ref().unwrap();
        assert_eq!(a.connection, ApiConnection::Ssh);
        assert_eq!((a.ssh_port, a.ssh_user.as_str()), (2222, "rustfs"));
        assert_eq!(a.host_key.as_deref(), Some("SHA256:aaa"));
        assert_eq!(a.install_dir, "/opt/rustfs");
        assert!(
            r.pools[0].hosts[1].access.is_none(),
            "a host whose key this run did not see gets no access"
        );
        assert!(
            !format!("{r:?}").contains("BEGIN OPENSSH"),
            "Debug hides the key"
        );
    }
}
