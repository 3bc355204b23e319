//! The provisioner's own state directory: host keys accepted with `--accept-new` and the cluster
//! CA. Files are replaced atomically (write to a temp file, then rename); private keys are 0600.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// File (inside the state directory) holding host keys recorded by `--accept-new`.
pub const HOST_KEYS_FILE: &str = "host_keys.json";

/// A host key first seen and accepted by `--accept-new`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedHostKey {
    /// `SHA256:…` fingerprint.
    pub fingerprint: String,
    /// The key in OpenSSH form (`ssh-ed25519 AAAA…`).
    pub public_key: String,
    /// Unix seconds when it was recorded.
    pub first_seen_secs: u64,
}

/// The state directory of one cluster.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// Opens (creating it 0700 when missing) the state directory at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|source| Error::Write {
            path: root.clone(),
            source,
        })?;
        let _ = std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700));
        Ok(StateDir { root })
    }

    /// The default location: `$XDG_STATE_HOME/rustfs-provision/CLUSTER`, else
    /// `~/.local/state/rustfs-provision/CLUSTER`.
    pub fn default_path(cluster: &str) -> PathBuf {
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/state")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("rustfs-provision").join(cluster)
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Host keys recorded so far, by `address:port`.
    pub fn host_keys(&self) -> Result<BTreeMap<String, RecordedHostKey>> {
        let path = self.root.join(HOST_KEYS_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::State(format!("{} is corrupt: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(source) => Err(Error::Read { path, source }),
        }
    }

    /// Records a host key. Hosts are verified concurrently, so the read-modify-write is
    /// serialized within the process (one provisioner run per cluster at a time).
    pub fn record_host_key(&self, host_port: &str, key: RecordedHostKey) -> Result<()> {
        static WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _guard = WRITER.lock().unwrap_or_else(|p| p.into_inner());
        let mut all = self.host_keys()?;
        all.insert(host_port.to_string(), key);
        let json = serde_json::to_vec_pretty(&all)
            .map_err(|e| Error::State(format!("cannot encode host keys: {e}")))?;
        self.write_atomic(HOST_KEYS_FILE, &json, 0o600)
    }

    /// The text of the private file `rel` (`what` names it in errors), `None` when it does not
    /// exist. Anything but a regular file, or one other users may read, is an error that says
    /// what to do: a secret that may have leaked is not used.
    pub fn read_private(&self, rel: &str, what: &str) -> Result<Option<String>> {
        let path = self.root.join(rel);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Read { path, source }),
        };
        if !meta.is_file() {
            return Err(Error::State(format!(
                "{} is not a regular file — replace it with {what} (or remove it to have one made)",
                path.display()
            )));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::State(format!(
                "{p} has mode {mode:04o}: other users may read {what} — run `chmod 600 {p}` (and rotate it if someone else could have read it); refusing to use it",
                p = path.display()
            )));
        }
        std::fs::read_to_string(&path)
            .map(Some)
            .map_err(|source| Error::Read { path, source })
    }

    /// Writes `rel` inside the state directory atomically with `mode`.
    pub fn write_atomic(&self, rel: &str, bytes: &[u8], mode: u32) -> Result<()> {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.into(),
                source,
            })?;
        }
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let werr = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .map_err(werr)?;
        f.write_all(bytes).map_err(werr)?;
        f.sync_all().map_err(werr)?;
        std::fs::rename(&tmp, &path).map_err(werr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_records_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path().join("s")).unwrap();
        std::thread::scope(|scope| {
            for i in 0..16 {
                let state = &state;
                scope.spawn(move || {
                    let key = RecordedHostKey {
                        fingerprint: format!("SHA256:{i}"),
                        public_key: "ssh-ed25519 AAAA".into(),
                        first_seen_secs: 1,
                    };
                    state
                        .record_host_key(&format!("10.0.0.{i}:22"), key)
                        .unwrap();
                });
            }
        });
        assert_eq!(state.host_keys().unwrap().len(), 16);
    }
}
