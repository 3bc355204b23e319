//! Host-key trust: a host is accepted only when its key matches the fingerprint pinned in the
//! inventory, an entry of the known_hosts file, or a key recorded earlier by `--accept-new` in the
//! provisioner's state. A key that differs from any of those stops the run with both fingerprints.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use russh::keys::known_hosts::{check_known_hosts_path, known_host_keys_path};
use russh::keys::{HashAlg, PublicKey};

use crate::error::{Error, Result};
use crate::state::{RecordedHostKey, StateDir};

/// `SHA256:…` fingerprint of a key, as OpenSSH prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// How host keys are trusted for one run.
#[derive(Debug, Clone)]
pub struct HostKeyPolicy {
    /// The known_hosts file consulted.
    pub known_hosts: PathBuf,
    /// Where `--accept-new` records keys and where recorded keys are checked.
    pub state: StateDir,
    /// Record keys of hosts seen for the first time instead of refusing them.
    pub accept_new: bool,
}

/// How a key came to be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trusted {
    Pinned,
    KnownHosts,
    Recorded,
    /// First seen in this run and recorded (`--accept-new`).
    NewlyRecorded,
}

impl HostKeyPolicy {
    /// Decides whether `key`, presented by `label` at `address:port`, is trusted.
    pub fn verify(
        &self,
        label: &str,
        address: &str,
        port: u16,
        key: &PublicKey,
        pinned: Option<&str>,
    ) -> Result<Trusted> {
        let actual = fingerprint(key);
        if let Some(pin) = pinned {
            return if pin == actual {
                Ok(Trusted::Pinned)
            } else {
                Err(Error::HostKeyChanged {
                    host: label.into(),
                    expected: pin.into(),
                    actual,
                    source_desc: "the fingerprint pinned in the inventory (ssh.host_key)".into(),
                })
            };
        }
        let kh = self.known_hosts.display().to_string();
        match check_known_hosts_path(address, port, key, &self.known_hosts) {
            Ok(true) => return Ok(Trusted::KnownHosts),
            Ok(false) => {}
            Err(russh::keys::Error::KeyChanged { line }) => {
                let expected = known_host_keys_path(address, port, &self.known_hosts)
                    .ok()
                    .and_then(|keys| {
                        keys.into_iter()
                            .find(|(l, _)| *l == line)
                            .map(|(_, k)| fingerprint(&k))
                    })
                    .unwrap_or_else(|| format!("the key on line {line}"));
                return Err(Error::HostKeyChanged {
                    host: label.into(),
                    expected,
                    actual,
                    source_desc: format!("{kh} line {line}"),
                });
            }
            Err(e) => {
                return Err(Error::host(label, format!("cannot read {kh}: {e}")));
            }
        }
        let host_port = format!("{address}:{port}");
        let recorded = self.state.host_keys()?;
        if let Some(rec) = recorded.get(&host_port) {
            return if rec.fingerprint == actual {
                Ok(Trusted::Recorded)
            } else {
                Err(Error::HostKeyChanged {
                    host: label.into(),
                    expected: rec.fingerprint.clone(),
                    actual,
                    source_desc: self
                        .state
                        .path()
                        .join(crate::state::HOST_KEYS_FILE)
                        .display()
                        .to_string(),
                })
            };
        }
        if !self.accept_new {
            return Err(Error::HostKeyUnknown {
                host: label.into(),
                actual,
                known_hosts: kh,
            });
        }
        let public_key = key
            .to_openssh()
            .map_err(|e| Error::State(format!("cannot encode host key of {label}: {e}")))?;
        let first_seen_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.state.record_host_key(
            &host_port,
            RecordedHostKey {
                fingerprint: actual,
                public_key,
                first_seen_secs,
            },
        )?;
        Ok(Trusted::NewlyRecorded)
    }
}
