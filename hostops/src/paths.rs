//! Where things live on a host. SSH hosts use the inventory's `install_dir` and `config_dir` as
//! they are; `connection: local` hosts share one machine, so each gets `install_dir/NAME` and
//! `config_dir/NAME` of its own (binary, pid file, log, env file, certificates).

use crate::service::SERVICE_NAME;
use crate::target::Connection;

/// The RPC secret's file name, in the config directory.
pub const RPC_SECRET: &str = "rpc.secret";
/// The root password's file name, in the config directory.
pub const ROOT_PASSWORD: &str = "root.password";

/// The paths of one host's install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    /// Binaries, `run/` and `log/` live here.
    pub install_dir: String,
    /// The env file, the RPC secret and `tls/` live here.
    pub config_dir: String,
}

impl HostPaths {
    /// The paths of host `name` reached over `connection`, given the cluster's directories.
    pub fn new(
        install_dir: &str,
        config_dir: &str,
        connection: Connection,
        name: &str,
    ) -> HostPaths {
        match connection {
            Connection::Ssh => HostPaths {
                install_dir: install_dir.to_string(),
                config_dir: config_dir.to_string(),
            },
            Connection::Local => HostPaths {
                install_dir: format!("{install_dir}/{name}"),
                config_dir: format!("{config_dir}/{name}"),
            },
        }
    }
    pub fn bin_dir(&self) -> String {
        format!("{}/bin", self.install_dir)
    }
    /// The `bin/current` link the service runs.
    pub fn current(&self) -> String {
        format!("{}/bin/current", self.install_dir)
    }
    /// `bin/rustfs-VERSION`.
    pub fn versioned(&self, version: &str) -> String {
        format!("{}/bin/{SERVICE_NAME}-{version}", self.install_dir)
    }
    /// The start/stop script of hosts without systemd.
    pub fn ctl(&self) -> String {
        format!("{}/bin/{SERVICE_NAME}-ctl", self.install_dir)
    }
    /// The upgrade verbs (`bin/rustfs-upgrade`), the only command the deploy key may run.
    pub fn upgrade_helper(&self) -> String {
        format!("{}/bin/{SERVICE_NAME}-upgrade", self.install_dir)
    }
    pub fn run_dir(&self) -> String {
        format!("{}/run", self.install_dir)
    }
    pub fn pidfile(&self) -> String {
        format!("{}/run/{SERVICE_NAME}.pid", self.install_dir)
    }
    pub fn log_dir(&self) -> String {
        format!("{}/log", self.install_dir)
    }
    pub fn log_file(&self) -> String {
        format!("{}/log/{SERVICE_NAME}.log", self.install_dir)
    }
    pub fn env_file(&self) -> String {
        format!("{}/{SERVICE_NAME}.env", self.config_dir)
    }
    pub fn tls_dir(&self) -> String {
        format!("{}/tls", self.config_dir)
    }
    /// The cluster RPC secret (`RUSTFS_RPC_SECRET_FILE`), beside the env file.
    pub fn rpc_secret_file(&self) -> String {
        format!("{}/{}", self.config_dir, RPC_SECRET)
    }
    /// The root password (`RUSTFS_ROOT_PASSWORD_FILE`), beside the env file: a reload, not a
    /// restart, puts a new one in force.
    pub fn root_password_file(&self) -> String {
        format!("{}/{ROOT_PASSWORD}", self.config_dir)
    }
}

/// Home of the service user on SSH hosts: it holds the deploy key's `.ssh/authorized_keys`.
pub const SERVICE_HOME: &str = "/var/lib/rustfs";

/// The sudo rule letting the service user run the upgrade verbs (and nothing else) as root.
pub const UPGRADE_SUDOERS: &str = "/etc/sudoers.d/rustfs-upgrade";

/// The deploy key's `authorized_keys` file on SSH hosts.
pub fn deploy_authorized_keys() -> String {
    format!("{SERVICE_HOME}/.ssh/authorized_keys")
}

/// Path of the systemd unit.
pub fn unit_path() -> String {
    format!("/etc/systemd/system/{SERVICE_NAME}.service")
}
