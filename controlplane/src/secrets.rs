//! Secrets at rest: cluster credentials are sealed with XChaCha20-Poly1305 under a 256-bit key
//! kept in a file readable only by its owner (created at first start), and files holding
//! secrets (that key, the admin token) are written with mode 0600.

use crate::error::{Error, Result};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

const NONCE_LEN: usize = 24;

/// Seals and opens small secrets with the control plane's key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key>)")
    }
}

impl SecretBox {
    pub fn from_key(key: &[u8; 32]) -> SecretBox {
        SecretBox {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// Loads the key from `path` (64 hex digits), creating it (mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> Result<SecretBox> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32);
                let Some(bytes) = bytes else {
                    return Err(Error::InvalidArgument(format!(
                        "secret key file {} must hold 64 hex digits; restore it from backup (the stored cluster credentials cannot be read without it)",
                        path.display()
                    )));
                };
                let mut key = [0u8; 32];
                key.copy_from_slice(&bytes);
                Ok(SecretBox::from_key(&key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                write_private(path, hex::encode(key).as_bytes())?;
                Ok(SecretBox::from_key(&key))
            }
            Err(e) => Err(Error::Internal(format!(
                "cannot read secret key file {}: {e}",
                path.display()
            ))),
        }
    }

    /// `nonce || ciphertext+tag`.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let mut out = nonce.to_vec();
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain)
            .expect("XChaCha20-Poly1305 encryption of a small buffer cannot fail");
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::Internal("sealed secret is truncated".into()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), body)
            .map_err(|_| {
                Error::Internal(
                    "stored credentials do not open with this secret key: was the key file replaced? restore it or register the cluster again".into(),
                )
            })
    }
}

/// Writes `contents` to a new file readable only by the owner (mode 0600), atomically.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    let err = |e: std::io::Error| Error::Internal(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(err)?;
    f.write_all(contents).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)?;
    Ok(())
}

/// Refuses a secret file that others can read.
fn check_private(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::Internal(format!("cannot stat {}: {e}", path.display())))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::InvalidArgument(format!(
            "secret key file {} is readable by others; run `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let b = SecretBox::from_key(&[7; 32]);
        let s = b.seal(b"secret");
        assert_ne!(&s[NONCE_LEN..], b"secret");
        assert_eq!(b.open(&s).unwrap(), b"secret");
        let mut bad = s.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(b.open(&bad).is_err());
        assert!(SecretBox::from_key(&[8; 32]).open(&s).is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let a = SecretBox::load_or_create(&p).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let b = SecretBox::load_or_create(&p).unwrap();
        assert_eq!(b.open(&a.seal(b"x")).unwrap(), b"x");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = SecretBox::load_or_create(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }
}
