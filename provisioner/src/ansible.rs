//! What the Ansible path (`ansible/`) takes from the provisioner, so that both install the same
//! cluster: [`render`] writes every host's files exactly as `apply` installs them (the same
//! handlebars templates, the same state directory: CA, node certificates, RPC secret, scrape
//! token) plus a manifest of where each goes, and [`inventory`] turns `inventory.yaml` into
//! Ansible's dynamic-inventory JSON. The playbooks only copy files and start services; they never
//! render anything themselves, so there is one source of truth for the content.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

use crate::commands::{binary_identity, known_deployment, node_names, RunOptions};
use crate::error::{Error, Result};
use crate::facts::SERVICE_NAME;
use crate::health::endpoint;
use crate::inventory::{Connection, Inventory};
use crate::paths::unit_path;
use crate::render::{render as render_host, SERVICE_USER};
use crate::{cpinstall, monitoring, pki, poll_account, register, rpc_secret};
use rustfs_controlplane_api::PollCredentials;

/// The Ansible inventory group every node is in.
pub const GROUP: &str = "rustfs_nodes";
/// Where [`render`] writes by default, inside the state directory.
pub const RENDER_DIR: &str = "ansible";

/// What `render` wrote and where each file goes on its host (printed as JSON).
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub cluster: String,
    /// Whether this run wrote or created anything (files, CA, certificates, secrets).
    pub changed: bool,
    /// The directory holding one sub-directory of rendered files per host.
    pub dir: String,
    pub state_dir: String,
    /// The deployment id the state directory records (`None` before the first start).
    pub deployment_id: Option<String>,
    pub tls: bool,
    /// The cluster CA certificate (with TLS on), for health checks and clients.
    pub ca: Option<String>,
    pub service: &'static str,
    pub service_user: &'static str,
    pub unit_file: String,
    pub binary: Binary,
    pub hosts: BTreeMap<String, HostManifest>,
    pub control_plane: Option<ControlPlane>,
}

/// The binary every host runs.
#[derive(Debug, Serialize)]
pub struct Binary {
    /// Absolute path on this machine.
    pub path: String,
    pub sha256: String,
    pub version: String,
    /// File name under `bin/` (`rustfs-VERSION`); `bin/current` links to it.
    pub name: String,
    /// `uname -m` spelling, when the binary is a recognisable ELF file.
    pub arch: Option<&'static str>,
}

/// One host: its paths on the host and its rendered files on this machine.
#[derive(Debug, Serialize)]
pub struct HostManifest {
    pub address: String,
    pub endpoint: String,
    pub drives: Vec<String>,
    pub install_dir: String,
    pub config_dir: String,
    pub bin_dir: String,
    pub run_dir: String,
    pub log_dir: String,
    pub tls_dir: String,
    pub env_file: String,
    pub ctl_file: String,
    /// The upgrade verbs script (`bin/rustfs-upgrade`).
    pub upgrade_file: String,
    pub rpc_secret_file: String,
    pub root_password_file: String,
    /// Rendered files on this machine: `env`, `unit`, `ctl`, `rpc_secret`, `root_password`, and with TLS `ca`,
    /// `cert`, `key`.
    pub files: BTreeMap<&'static str, String>,
}

/// Registration with the control plane (`register.yml`).
#[derive(Debug, Serialize)]
pub struct ControlPlane {
    /// `PUT` this URL with `body_file` and the bearer token in `token_file`.
    pub url: String,
    pub body_file: String,
    /// `None` when there is no token yet (`control_plane.install` before the first apply).
    pub token_file: Option<String>,
    /// The CA to trust for it: the cluster CA when the provisioner installed it.
    pub ca: Option<String>,
}

/// Writes `bytes` at `path` with `mode` unless it already holds them; true when it wrote.
fn write_if_changed(path: &Path, bytes: &[u8], mode: u32) -> Result<bool> {
    let werr = |source| Error::write(path, source);
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        let perm = std::fs::metadata(path).map_err(werr)?.permissions();
        if perm.mode() & 0o777 == mode {
            return Ok(false);
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(werr)?;
        return Ok(true);
    }
    let tmp = path.with_extension("rustfs-tmp");
    let _ = std::fs::remove_file(&tmp);
    std::fs::write(&tmp, bytes).map_err(werr)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).map_err(werr)?;
    std::fs::rename(&tmp, path).map_err(werr)?;
    Ok(true)
}

fn private_dir(dir: &Path) -> Result<()> {
    let werr = |source| Error::write(dir, source);
    std::fs::create_dir_all(dir).map_err(werr)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(werr)
}

fn absolute(p: &Path) -> Result<String> {
    std::fs::canonicalize(p)
        .map(|p| p.to_string_lossy().into_owned())
        .map_err(|source| Error::read(p, source))
}

/// Only SSH hosts: a `connection: local` cluster runs as local processes, which is
/// `rustfs-provision apply`'s job, not Ansible's.
fn refuse_local(inv: &Inventory) -> Result<()> {
    match inv
        .hosts
        .iter()
        .position(|h| h.connection == Connection::Local)
    {
        Some(i) => Err(Error::state(format!(
            "hosts[{i}] ({}) has connection: local — the Ansible path installs on SSH hosts only; run `rustfs-provision apply` for a local cluster",
            inv.hosts[i].name()
        ))),
        None => Ok(()),
    }
}

/// Renders every host's files (or those named in `only`) into `out` (default: `ansible/` in
/// the state directory), making the CA, certificates, RPC secret and scrape token first when
/// missing, exactly as `apply` would. Touches no host.
pub fn render(
    inv: &Inventory,
    opts: &RunOptions,
    out: Option<&Path>,
    only: &[String],
) -> Result<Manifest> {
    refuse_local(inv)?;
    if let Some(name) = only
        .iter()
        .find(|n| !inv.hosts.iter().any(|h| h.name() == n.as_str()))
    {
        return Err(Error::state(format!(
            "--host {name}: no such host in the inventory"
        )));
    }
    let state = opts.state(inv)?;
    let (sha256, arch) = binary_identity(inv)?;
    let mut changed = monitoring::existing_token(&state).is_none()
        || rpc_secret::existing(&state)?.is_none()
        || (inv.tls.enabled && pki::ca_pem(&state).is_none());
    let token = monitoring::ensure_token(&state)?;
    let secret = rpc_secret::ensure(&state)?;
    let dir = out.map_or_else(|| state.path().join(RENDER_DIR), Path::to_path_buf);
    private_dir(&dir)?;
    // Absolute paths throughout: Ansible reads these files from wherever it runs.
    let dir = PathBuf::from(absolute(&dir)?);
    let state_path = PathBuf::from(absolute(state.path())?);
    let mut hosts = BTreeMap::new();
    for host in inv.hosts.iter() {
        if !only.is_empty() && !only.iter().any(|n| n == host.name()) {
            continue;
        }
        // The deploy key is installed by `rustfs-provision apply` only (see ansible/README.md).
        let rendered = render_host(inv, host, &token, None)?;
        let hdir = dir.join(host.name());
        private_dir(&hdir)?;
        let mut files: Vec<(&'static str, &str, String, u32)> = vec![
            ("env", "rustfs.env", rendered.env.1.clone(), 0o600),
            ("unit", "rustfs.service", rendered.unit.1.clone(), 0o644),
            ("ctl", "rustfs-ctl", rendered.ctl.1.clone(), 0o755),
            (
                "upgrade",
                "rustfs-upgrade",
                rendered.upgrade.1.clone(),
                0o755,
            ),
            (
                "rpc_secret",
                "rpc.secret",
                secret.expose().to_string(),
                0o600,
            ),
            (
                "root_password",
                crate::paths::ROOT_PASSWORD,
                inv.credentials.root_password().to_string(),
                0o600,
            ),
        ];
        if inv.tls.enabled {
            let names = node_names(host);
            changed |= pki::existing_node_tls(&state, host.name(), &names).is_none();
            let tls = pki::ensure_node_tls(&state, &inv.cluster.name, host.name(), &names)?;
            files.push(("ca", "ca.crt", tls.ca_pem, 0o644));
            files.push(("cert", "node.crt", tls.cert_pem, 0o644));
            files.push(("key", "node.key", tls.key_pem, 0o600));
        }
        let mut written = BTreeMap::new();
        for (key, name, content, mode) in files {
            let path = hdir.join(name);
            changed |= write_if_changed(&path, content.as_bytes(), mode)?;
            written.insert(key, path.to_string_lossy().into_owned());
        }
        let paths = inv.paths(host);
        hosts.insert(
            host.name().to_string(),
            HostManifest {
                address: host.address.clone(),
                endpoint: endpoint(inv, host),
                drives: host.drives.clone(),
                bin_dir: paths.bin_dir(),
                run_dir: paths.run_dir(),
                log_dir: paths.log_dir(),
                tls_dir: paths.tls_dir(),
                env_file: paths.env_file(),
                ctl_file: paths.ctl(),
                upgrade_file: paths.upgrade_helper(),
                rpc_secret_file: paths.rpc_secret_file(),
                root_password_file: paths.root_password_file(),
                install_dir: paths.install_dir,
                config_dir: paths.config_dir,
                files: written,
            },
        );
    }
    let desired = crate::plan::Desired::new(inv, sha256);
    let ca = (inv.tls.enabled).then(|| state_path.join(pki::CA_CERT));
    let control_plane = match &inv.control_plane {
        None => None,
        Some(cp) => {
            let ca_pem = ca.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
            // The control plane's own keys once an `apply` made them; root until then.
            let keys = poll_account::kept_credentials(&state)?.unwrap_or_else(|| PollCredentials {
                access_key: inv.credentials.root_user().to_string(),
                secret_key: inv.credentials.root_password().to_string(),
            });
            // No deploy key: the control plane cannot upgrade hosts Ansible manages.
            let access = register::UpgradeAccess::default();
            let body = register::request(inv, Some(desired.version.clone()), ca_pem, keys, &access);
            let body = serde_json::to_vec_pretty(&body)
                .map_err(|e| Error::Render(format!("registration body: {e}")))?;
            let body_file = dir.join("register.json");
            changed |= write_if_changed(&body_file, &body, 0o600)?;
            let token_file = match cpinstall::token(inv, &state) {
                Some(t) => {
                    let f = dir.join("controlplane.token");
                    changed |= write_if_changed(&f, t.expose().as_bytes(), 0o600)?;
                    Some(f.to_string_lossy().into_owned())
                }
                None => None,
            };
            Some(ControlPlane {
                url: format!(
                    "{}/v1/clusters/{}",
                    cp.address.trim_end_matches('/'),
                    inv.cluster.name
                ),
                body_file: body_file.to_string_lossy().into_owned(),
                token_file,
                ca: cp
                    .install
                    .as_ref()
                    .and(ca.as_ref())
                    .map(|p| p.to_string_lossy().into_owned()),
            })
        }
    };
    let binary_path = inv.binary.path.as_deref().unwrap_or_default();
    Ok(Manifest {
        cluster: inv.cluster.name.clone(),
        changed,
        dir: dir.to_string_lossy().into_owned(),
        state_dir: state_path.to_string_lossy().into_owned(),
        deployment_id: known_deployment(&state),
        tls: inv.tls.enabled,
        ca: ca.map(|p| p.to_string_lossy().into_owned()),
        service: SERVICE_NAME,
        service_user: SERVICE_USER,
        unit_file: unit_path(),
        binary: Binary {
            path: absolute(Path::new(binary_path))?,
            name: format!("{SERVICE_NAME}-{}", desired.version),
            sha256: desired.binary_sha256,
            version: desired.version,
            arch,
        },
        hosts,
        control_plane,
    })
}

/// Ansible's dynamic-inventory JSON (`--list`) for `inv`, read from `file`: every host in group
/// [`GROUP`] (and `rustfs_pool_N`), reached as the inventory says (address, SSH user, port, key,
/// known_hosts checked strictly; `become` for a user other than root).
pub fn inventory(inv: &Inventory, file: &Path) -> Result<Value> {
    refuse_local(inv)?;
    let file: PathBuf = std::fs::canonicalize(file).map_err(|source| Error::read(file, source))?;
    // Absolute: Ansible runs ssh from wherever it is started.
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let known_hosts = abs(&inv.known_hosts_path());
    let mut hostvars = serde_json::Map::new();
    for h in &inv.hosts {
        let ssh = inv.ssh_target(h);
        let mut vars = json!({
            "ansible_host": ssh.address,
            "ansible_port": ssh.port,
            "ansible_user": ssh.user,
            "ansible_become": ssh.user != "root",
            "ansible_ssh_common_args": format!(
                "-o StrictHostKeyChecking=yes -o UserKnownHostsFile={}",
                known_hosts.display()
            ),
        });
        if !ssh.key_path.as_os_str().is_empty() {
            vars["ansible_ssh_private_key_file"] = json!(abs(&ssh.key_path).to_string_lossy());
        }
        hostvars.insert(h.name().to_string(), vars);
    }
    let names = |idx: &[usize]| -> Vec<&str> { idx.iter().map(|&i| inv.hosts[i].name()).collect() };
    let all: Vec<usize> = (0..inv.hosts.len()).collect();
    let mut out = json!({
        "all": {
            "children": [GROUP],
            "vars": {
                "rustfs_inventory": file.to_string_lossy(),
                "rustfs_cluster": inv.cluster.name,
            },
        },
        GROUP: { "hosts": names(&all) },
        "_meta": { "hostvars": hostvars },
    });
    for (p, members) in inv.pool_hosts().iter().enumerate() {
        let group = format!("rustfs_pool_{}", p + 1);
        out["all"]["children"]
            .as_array_mut()
            .expect("children is an array")
            .push(json!(group));
        out[&group] = json!({ "hosts": names(members) });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory_file(dir: &Path, extra: &str) -> PathBuf {
        let bin = dir.join("rustfs");
        std::fs::write(&bin, b"\x7fELF not really").unwrap();
        let key = dir.join("id");
        std::fs::write(&key, "key").unwrap();
        let mut hosts = String::new();
        for i in 1..=4 {
            hosts.push_str(&format!(
                "  - {{ name: n{i}, address: 10.0.0.{i}, drives: [/d1, /d2] }}\n"
            ));
        }
        let text = format!(
            "version: 1\ncluster: {{ name: t }}\nbinary: {{ path: {} }}\nssh: {{ user: admin, key: {}, known_hosts: /kh }}\nhosts:\n{hosts}credentials: {{ user: admin, password: password123 }}\n{extra}",
            bin.display(),
            key.display()
        );
        let file = dir.join("inventory.yaml");
        std::fs::write(&file, text).unwrap();
        file
    }

    #[test]
    fn rendered_files_are_what_apply_installs_and_a_second_render_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = inventory_file(dir.path(), "");
        let inv = Inventory::load(&file).unwrap();
        let opts = RunOptions {
            state_dir: Some(dir.path().join("state")),
            accept_new: false,
            ssh: Default::default(),
            concurrency: 1,
        };
        let m = render(&inv, &opts, None, &[]).unwrap();
        assert!(m.changed);
        assert_eq!(m.hosts.len(), 4);
        let state = opts.state(&inv).unwrap();
        let token = monitoring::existing_token(&state).unwrap();
        let h = &m.hosts["n2"];
        let want = render_host(&inv, &inv.hosts[1], &token, None).unwrap();
        let read = |k: &str| std::fs::read_to_string(&h.files[k]).unwrap();
        assert_eq!(read("env"), want.env.1);
        assert_eq!(read("unit"), want.unit.1);
        assert_eq!(read("ctl"), want.ctl.1);
        assert_eq!(
            read("rpc_secret"),
            rpc_secret::existing(&state).unwrap().unwrap().expose()
        );
        assert_eq!(h.env_file, "/etc/rustfs/rustfs.env");
        let mode = std::fs::metadata(&h.files["key"])
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(m.binary.name, format!("rustfs-{}", &m.binary.sha256[..12]));
        let again = render(&inv, &opts, None, &[]).unwrap();
        assert!(!again.changed, "a second render changed something");
        // Only the named host; an unknown one is refused.
        let one = render(&inv, &opts, None, &["n3".into()]).unwrap();
        assert_eq!(one.hosts.keys().collect::<Vec<_>>(), ["n3"]);
        let err = render(&inv, &opts, None, &["nope".into()]).unwrap_err();
        assert!(err.to_string().contains("--host nope"), "{err}");
    }

    #[test]
    fn the_dynamic_inventory_reaches_hosts_as_the_inventory_says() {
        let dir = tempfile::tempdir().unwrap();
        let file = inventory_file(dir.path(), "");
        let inv = Inventory::load(&file).unwrap();
        let v = inventory(&inv, &file).unwrap();
        assert_eq!(v[GROUP]["hosts"], json!(["n1", "n2", "n3", "n4"]));
        assert_eq!(v["rustfs_pool_1"]["hosts"], json!(["n1", "n2", "n3", "n4"]));
        let n1 = &v["_meta"]["hostvars"]["n1"];
        assert_eq!(n1["ansible_host"], "10.0.0.1");
        assert_eq!(n1["ansible_user"], "admin");
        assert_eq!(n1["ansible_become"], true);
        assert!(n1["ansible_ssh_common_args"]
            .as_str()
            .unwrap()
            .contains("StrictHostKeyChecking=yes -o UserKnownHostsFile=/kh"));
        assert_eq!(
            v["all"]["vars"]["rustfs_inventory"],
            json!(std::fs::canonicalize(&file).unwrap())
        );
    }
}
