//! The inventory: what cluster to build on which hosts (YAML, `version: 1`).
//!
//! Loading goes text → YAML tree → `${ENV}` substitution in string values (so a secret can never
//! inject YAML) → typed structs with `deny_unknown_fields` (errors carry the field path) → one
//! validation pass that collects every problem, each naming its field path. Nothing here touches
//! the network.

mod envsubst;
mod network;
mod validate;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use rustfs_hostops::paths::HostPaths;
use rustfs_hostops::target::{Target, Via};

/// How the provisioner reaches a host (`connection:`), and a host's SSH settings resolved.
pub use rustfs_hostops::target::{Connection, SshTarget};

pub use envsubst::substitute;
pub use network::{control_plane_transport, is_loopback_url};
pub use validate::{FieldError, FieldErrors};

/// The only inventory version this provisioner reads.
pub const INVENTORY_VERSION: u32 = 1;
/// Default S3 port.
pub const DEFAULT_S3_PORT: u32 = 9000;
/// Default console port.
pub const DEFAULT_CONSOLE_PORT: u32 = 9001;
/// Default SSH port.
pub const DEFAULT_SSH_PORT: u32 = 22;

/// What `validate`, `plan` and `apply` print for a `tls: false` inventory.
pub const TLS_OFF_WARNING: &str =
    "tls: false — S3 requests and data, and inter-node RPC, cross the network in plaintext; \
remove `tls: false` from the inventory to serve them over TLS with the cluster CA";

/// A whole inventory file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// Schema version; must be 1.
    pub version: u32,
    /// The cluster's identity.
    pub cluster: Cluster,
    /// Where the `rustfs` binary comes from.
    pub binary: BinarySource,
    /// SSH defaults applied to every host that does not override them.
    #[serde(default)]
    pub ssh: SshDefaults,
    /// The machines that run a node.
    pub hosts: Vec<Host>,
    /// Server pools; omitted means one pool holding every host.
    #[serde(default)]
    pub pools: Vec<Pool>,
    /// Parity per erasure set written `EC:N`; omitted means half the set.
    #[serde(default)]
    pub storage_class: Option<String>,
    /// Erasure-set size override (must divide each pool's drives evenly).
    #[serde(default)]
    pub set_drive_count: Option<usize>,
    /// Listening ports of every node.
    #[serde(default)]
    pub ports: Ports,
    /// The cluster's root credentials.
    pub credentials: Credentials,
    /// TLS for S3 and inter-node RPC: on unless the inventory says `tls: false`.
    #[serde(default)]
    pub tls: Tls,
    /// Where the control plane listens; the cluster registers there when set.
    #[serde(default)]
    pub control_plane: Option<ControlPlane>,
    /// Where binaries are installed on each host (default `/opt/rustfs`).
    #[serde(default = "default_install_dir")]
    pub install_dir: String,
    /// Where configuration is written on each host (default `/etc/rustfs`).
    #[serde(default = "default_config_dir")]
    pub config_dir: String,
}

fn default_install_dir() -> String {
    "/opt/rustfs".into()
}

fn default_config_dir() -> String {
    "/etc/rustfs".into()
}

/// The cluster's identity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// Lowercase letters, digits and `-`; names the state directory and the service.
    pub name: String,
}

/// The `rustfs` binary to install: a local file, or a URL with its sha256.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinarySource {
    /// A file on the machine running the provisioner.
    #[serde(default)]
    pub path: Option<String>,
    /// An http(s) URL the binary is fetched from (requires `sha256`).
    #[serde(default)]
    pub url: Option<String>,
    /// Expected sha256 (hex) of the binary; required with `url`, checked when given with `path`.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Version label used in `/opt/rustfs/bin/rustfs-VERSION`; defaults to the sha256 prefix.
    #[serde(default)]
    pub version: Option<String>,
}

/// SSH settings shared by all hosts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshDefaults {
    /// Login user (default `root`; any other user needs passwordless `sudo`).
    #[serde(default)]
    pub user: Option<String>,
    /// SSH port (default 22).
    #[serde(default)]
    pub port: Option<u32>,
    /// Private key file.
    #[serde(default)]
    pub key: Option<String>,
    /// known_hosts file checked for host keys (default `~/.ssh/known_hosts`).
    #[serde(default)]
    pub known_hosts: Option<String>,
}

/// Per-host SSH overrides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSsh {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub port: Option<u32>,
    #[serde(default)]
    pub key: Option<String>,
    /// Pinned host-key fingerprint (`SHA256:…`, as `ssh-keygen -lf` prints it).
    #[serde(default)]
    pub host_key: Option<String>,
}

/// One machine running one node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Name used in pools and output (default: the address).
    #[serde(default)]
    pub name: Option<String>,
    /// IP address or DNS name clients, the provisioner's checks and the control plane use (and
    /// the other nodes too, unless `cluster_address` is set).
    pub address: String,
    /// Address on a dedicated cluster network: the pool endpoints name it, so inter-node RPC
    /// goes there. Every host has one or none does.
    #[serde(default)]
    pub cluster_address: Option<String>,
    #[serde(default)]
    pub connection: Connection,
    #[serde(default)]
    pub ssh: HostSsh,
    /// Absolute paths of this host's drives (directories, ideally each its own filesystem).
    pub drives: Vec<String>,
}

impl Host {
    /// The host's display name.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.address)
    }

    /// The address the other nodes reach this one at: `cluster_address`, else `address`.
    pub fn rpc_address(&self) -> &str {
        self.cluster_address.as_deref().unwrap_or(&self.address)
    }
}

/// One server pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// Names (or addresses) of the hosts in this pool.
    pub hosts: Vec<String>,
}

/// Ports every node listens on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ports {
    #[serde(default = "default_s3_port")]
    pub s3: u32,
    #[serde(default = "default_console_port")]
    pub console: u32,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            s3: DEFAULT_S3_PORT,
            console: DEFAULT_CONSOLE_PORT,
        }
    }
}

fn default_s3_port() -> u32 {
    DEFAULT_S3_PORT
}

fn default_console_port() -> u32 {
    DEFAULT_CONSOLE_PORT
}

/// A secret string: never shown by `Debug` or `Display`.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself; call only where it is written to its destination.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Root credentials: each part given inline (usually `${ENV}`) or as a file, never both.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[serde(default)]
    pub user: Option<Secret>,
    #[serde(default)]
    pub user_file: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub password_file: Option<String>,
}

impl Credentials {
    /// The root user once the inventory is loaded (files read, `${ENV}` expanded).
    pub fn root_user(&self) -> &str {
        self.user.as_ref().map_or("", |s| s.expose())
    }

    /// The root password once the inventory is loaded.
    pub fn root_password(&self) -> &str {
        self.password.as_ref().map_or("", |s| s.expose())
    }
}

/// TLS settings, written `tls: true|false` or `tls: { enabled: BOOL }`; on when omitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// Serve S3 and inter-node RPC over TLS with certificates from the cluster CA.
    pub enabled: bool,
}

impl Default for Tls {
    fn default() -> Self {
        Tls { enabled: true }
    }
}

impl<'de> Deserialize<'de> for Tls {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        /// The long form; unknown fields are errors (with their path).
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Long {
            #[serde(default = "enabled_by_default")]
            enabled: bool,
        }
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = Tls;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false or a mapping with `enabled`")
            }
            fn visit_bool<E: serde::de::Error>(self, enabled: bool) -> std::result::Result<Tls, E> {
                Ok(Tls { enabled })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Tls, A::Error> {
                let long = Long::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Tls {
                    enabled: long.enabled,
                })
            }
        }
        d.deserialize_any(Either)
    }
}

fn enabled_by_default() -> bool {
    true
}

/// The control plane the cluster registers with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlPlane {
    /// Base URL, e.g. `https://cp.example.com:7070` (`http://` only on loopback: the provisioner
    /// sends it credentials); with `install`, defaults to `https://HOST_ADDRESS:PORT` of the host
    /// it is installed on.
    #[serde(default)]
    pub address: String,
    /// Bearer token for the control plane's API (usually `${ENV}`), or `token_file`.
    #[serde(default)]
    pub token: Option<Secret>,
    /// File holding the bearer token (e.g. the control plane's `admin.token`).
    #[serde(default)]
    pub token_file: Option<String>,
    /// Site the cluster belongs to (default `default`).
    #[serde(default)]
    pub site: Option<String>,
    /// Install and run the control plane on one of the hosts (its token is then read from it).
    #[serde(default)]
    pub install: Option<ControlPlaneInstall>,
}

/// `control_plane.install`: where and what to install.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlPlaneInstall {
    /// The `hosts[].name` to run it on (a `connection: local` host runs it as a local process).
    pub host: String,
    /// A local `rustfs-controlplane` binary.
    pub binary: String,
    /// Port of its API (default 7070).
    #[serde(default = "default_cp_port")]
    pub port: u16,
}

fn default_cp_port() -> u16 {
    7070
}

impl Inventory {
    /// Reads, substitutes, parses and validates an inventory file.
    pub fn load(path: &Path) -> Result<Inventory> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::read(path, source))?;
        Self::from_str_with(path, &text, &|name| std::env::var(name).ok())
    }

    /// Parses and validates inventory text, resolving `${VAR}` with `env` and relative paths
    /// against `path`'s directory.
    pub fn from_str_with(
        path: &Path,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Inventory> {
        let invalid = |errors: FieldErrors| Error::Invalid {
            path: path.into(),
            errors,
        };
        let mut value: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| Error::Yaml {
                path: path.into(),
                message: e.to_string(),
            })?;
        // Unset variables are reported together with every other problem, not one at a time.
        let mut errors = match substitute(&mut value, env) {
            Ok(()) => Vec::new(),
            Err(FieldErrors(e)) => e,
        };
        let mut inv: Inventory = match serde_path_to_error::deserialize(value) {
            Ok(inv) => inv,
            Err(e) => {
                let field = e.path().to_string();
                let field = if field == "." { String::new() } else { field };
                errors.push(FieldError::new(field, e.into_inner().to_string()));
                return Err(invalid(FieldErrors(errors)));
            }
        };
        let base = path.parent().unwrap_or(Path::new("."));
        if let Err(FieldErrors(more)) = validate::validate(&mut inv, base) {
            // A field whose variable is unset is already reported; skip follow-on complaints.
            let unset: Vec<String> = errors.iter().map(|e| e.path.clone()).collect();
            errors.extend(more.into_iter().filter(|e| !unset.contains(&e.path)));
        }
        if errors.is_empty() {
            Ok(inv)
        } else {
            Err(invalid(FieldErrors(errors)))
        }
    }

    /// Things that work but weaken the cluster, for the CLI to print (`validate`, `plan`,
    /// `apply`): today a plaintext (`tls: false`) cluster.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.tls.enabled {
            out.push(TLS_OFF_WARNING.to_string());
        }
        out
    }

    /// Resolved SSH settings for `host`.
    /// What host operations need to reach `host`.
    pub fn target(&self, host: &Host) -> Target {
        Target {
            name: host.name().to_string(),
            via: match host.connection {
                Connection::Local => Via::Local,
                Connection::Ssh => Via::Ssh(self.ssh_target(host)),
            },
        }
    }

    /// Where `host`'s install lives (`connection: local` hosts get directories of their own).
    pub fn paths(&self, host: &Host) -> HostPaths {
        HostPaths::new(
            &self.install_dir,
            &self.config_dir,
            host.connection,
            host.name(),
        )
    }

    pub fn ssh_target(&self, host: &Host) -> SshTarget {
        let port = host.ssh.port.or(self.ssh.port).unwrap_or(DEFAULT_SSH_PORT);
        SshTarget {
            address: host.address.clone(),
            port: u16::try_from(port).unwrap_or(22),
            user: host
                .ssh
                .user
                .clone()
                .or_else(|| self.ssh.user.clone())
                .unwrap_or_else(|| "root".into()),
            key_path: host
                .ssh
                .key
                .clone()
                .or_else(|| self.ssh.key.clone())
                .map(|k| expand_home(&k))
                .unwrap_or_default(),
            host_key: host.ssh.host_key.clone(),
        }
    }

    /// The known_hosts file consulted for host keys.
    pub fn known_hosts_path(&self) -> PathBuf {
        expand_home(
            self.ssh
                .known_hosts
                .as_deref()
                .unwrap_or("~/.ssh/known_hosts"),
        )
    }

    /// The pools with their host indexes (one pool of every host when none are listed).
    pub fn pool_hosts(&self) -> Vec<Vec<usize>> {
        if self.pools.is_empty() {
            return vec![(0..self.hosts.len()).collect()];
        }
        self.pools
            .iter()
            .map(|p| p.hosts.iter().filter_map(|h| self.host_index(h)).collect())
            .collect()
    }

    /// Finds a host by name or address.
    pub fn host_index(&self, name: &str) -> Option<usize> {
        self.hosts
            .iter()
            .position(|h| h.name() == name || h.address == name)
    }
}

/// Expands a leading `~/` to `$HOME`.
pub fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(p),
    }
}
