//! The control plane's own SSH key (its deploy key), as cephadm gives its orchestrator one: an
//! ed25519 pair made once in the state directory (`controlplane_ssh_key`, 0600, and `.pub`).
//! `apply` installs the public half on every SSH host for the service user, locked to the
//! upgrade verbs (`bin/rustfs-upgrade`) by `restrict,command=…`; a sudo rule lets that one
//! script, and nothing else, run as root. The operator's own SSH login is never handed over.

use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::ssh_key::LineEnding;
use russh::keys::{PrivateKey, PublicKey};

use crate::error::{Error, Result};
use crate::inventory::Inventory;
use crate::paths::{HostPaths, SERVICE_HOME};
use crate::render::SERVICE_USER;
use crate::state::StateDir;

/// The private key's file in the state directory (the public key is beside it, `.pub`).
pub const DEPLOY_KEY: &str = "controlplane_ssh_key";

/// The kept key pair.
pub struct DeployKey {
    /// OpenSSH private key (PEM-like text).
    pub private_openssh: String,
    /// `ssh-ed25519 AAAA… rustfs-controlplane@CLUSTER`.
    pub public_openssh: String,
}

impl std::fmt::Debug for DeployKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeployKey")
            .field("public_openssh", &self.public_openssh)
            .finish_non_exhaustive()
    }
}

/// The deploy key, made and kept now when there is none yet. A key file other users may read,
/// or one that is not an OpenSSH private key, stops the run and says what to do.
pub fn ensure(state: &StateDir, cluster: &str) -> Result<DeployKey> {
    let what = "the control plane's SSH deploy key";
    if let Some(text) = state.read_private(DEPLOY_KEY, what)? {
        let path = state.path().join(DEPLOY_KEY);
        let key = PrivateKey::from_openssh(&text).map_err(|e| {
            Error::state(format!(
                "{}: not an OpenSSH private key ({e}) — remove it to have a new one made (then apply installs it everywhere)",
                path.display()
            ))
        })?;
        return Ok(DeployKey {
            public_openssh: public_line(key.public_key())?,
            private_openssh: text,
        });
    }
    let seed: [u8; 32] = rand::random();
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    key.set_comment(format!("rustfs-controlplane@{cluster}"));
    let private_openssh = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| Error::state(format!("cannot encode the deploy key: {e}")))?
        .to_string();
    let public_openssh = public_line(key.public_key())?;
    state.write_atomic(DEPLOY_KEY, private_openssh.as_bytes(), 0o600)?;
    state.write_atomic(
        &format!("{DEPLOY_KEY}.pub"),
        format!("{public_openssh}\n").as_bytes(),
        0o644,
    )?;
    Ok(DeployKey {
        private_openssh,
        public_openssh,
    })
}

/// Stands for a deploy key not made yet (never matches a host).
pub const UNISSUED: &str = "ssh-ed25519 unissued";

/// For `plan`: the kept public key, or [`UNISSUED`], when a control plane is configured.
pub fn planned(inv: &Inventory, state: &StateDir) -> Result<Option<String>> {
    if inv.control_plane.is_none() {
        return Ok(None);
    }
    let public = std::fs::read_to_string(state.path().join(format!("{DEPLOY_KEY}.pub")));
    Ok(Some(match public {
        Ok(p) if state.path().join(DEPLOY_KEY).exists() => p.trim().to_string(),
        _ => UNISSUED.to_string(),
    }))
}

/// For `stage` and `apply`: the public key, made now when missing, when a control plane is
/// configured.
pub fn wanted(inv: &Inventory, state: &StateDir) -> Result<Option<String>> {
    if inv.control_plane.is_none() {
        return Ok(None);
    }
    ensure(state, &inv.cluster.name).map(|k| Some(k.public_openssh))
}

fn public_line(key: &PublicKey) -> Result<String> {
    key.to_openssh()
        .map_err(|e| Error::state(format!("cannot encode the deploy key's public half: {e}")))
}

/// What a host gets for the deploy key: its `authorized_keys` (the key, forced to the upgrade
/// verbs) and the sudo rule for that one script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployAccess {
    pub authorized_keys: String,
    pub sudoers: String,
}

impl DeployAccess {
    pub fn new(public_openssh: &str, paths: &HostPaths) -> DeployAccess {
        let helper = paths.upgrade_helper();
        DeployAccess {
            authorized_keys: format!(
                "restrict,command=\"{helper}\" {}\n",
                public_openssh.trim()
            ),
            sudoers: format!(
                "# Written by rustfs-provision: the control plane's deploy key logs in as {SERVICE_USER}\n\
                 # and may run the upgrade verbs as root, nothing else.\n\
                 {SERVICE_USER} ALL=(root) NOPASSWD: {helper}\n"
            ),
        }
    }

    /// sha256 of what the facts probe reads back: the sudo rule, the authorized_keys file and
    /// the service user's home and shell (the key's login needs both).
    pub fn sha256(&self) -> String {
        crate::render::sha256_hex(
            format!(
                "{}--\n{}--\n{SERVICE_HOME}:{LOGIN_SHELL}\n",
                self.sudoers, self.authorized_keys
            )
            .as_bytes(),
        )
    }
}

/// The service user's shell once it has the deploy key: sshd runs the forced command through it.
pub const LOGIN_SHELL: &str = "/bin/sh";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Connection;

    #[test]
    fn the_key_is_made_once_kept_private_and_refused_when_readable() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        let a = ensure(&state, "c1").unwrap();
        assert!(a.public_openssh.starts_with("ssh-ed25519 "), "{a:?}");
        assert!(a.public_openssh.ends_with(" rustfs-controlplane@c1"));
        assert!(!format!("{a:?}").contains("PRIVATE"));
        let b = ensure(&state, "c1").unwrap();
        assert_eq!(a.public_openssh, b.public_openssh, "kept, not remade");
        use std::os::unix::fs::PermissionsExt;
        let path = dir.path().join(DEPLOY_KEY);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = ensure(&state, "c1").unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::write(&path, "garbage").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = ensure(&state, "c1").unwrap_err().to_string();
        assert!(e.contains("not an OpenSSH private key"), "{e}");
    }

    #[test]
    fn the_key_may_run_only_the_upgrade_verbs() {
        let paths = HostPaths::new("/opt/rustfs", "/etc/rustfs", Connection::Ssh, "n1");
        let access = DeployAccess::new("ssh-ed25519 AAAAC3Nz c\n", &paths);
        assert_eq!(
            access.authorized_keys,
            "restrict,command=\"/opt/rustfs/bin/rustfs-upgrade\" ssh-ed25519 AAAAC3Nz c\n"
        );
        assert!(access
            .sudoers
            .ends_with("rustfs ALL=(root) NOPASSWD: /opt/rustfs/bin/rustfs-upgrade\n"));
        assert_eq!(access.sha256().len(), 64);
    }
}
