//! The cluster's PKI: a CA created once with rcgen and kept in the provisioner's state directory
//! (`ca/ca.pem`, `ca/ca.key` 0600). Creating it again is a no-op that reports the existing one.

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SerialNumber,
};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::state::StateDir;

/// CA certificate path inside the state directory.
pub const CA_CERT: &str = "ca/ca.pem";
/// CA private key path inside the state directory.
pub const CA_KEY: &str = "ca/ca.key";
/// CA validity.
pub const CA_VALIDITY_DAYS: i64 = 3650;

/// The cluster CA as stored.
#[derive(Debug, Clone)]
pub struct CaInfo {
    pub cert_path: std::path::PathBuf,
    /// sha256 of the DER certificate, hex with colons.
    pub fingerprint: String,
    /// Whether this call created it.
    pub created: bool,
}

fn pki(e: impl std::fmt::Display) -> Error {
    Error::Pki(e.to_string())
}

/// Random positive 128-bit serial.
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}

fn fingerprint_of_der(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn der_of_pem(pem: &str) -> Result<Vec<u8>> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| pki(format!("stored CA certificate is not valid PEM: {e}")))
}

/// Creates the cluster CA unless it exists; either way returns where it is.
pub fn ensure_ca(state: &StateDir, cluster: &str) -> Result<CaInfo> {
    let cert_path = state.path().join(CA_CERT);
    let key_path = state.path().join(CA_KEY);
    match (cert_path.exists(), key_path.exists()) {
        (true, true) => {
            let pem = std::fs::read_to_string(&cert_path).map_err(|source| Error::Read {
                path: cert_path.clone(),
                source,
            })?;
            let key = std::fs::read_to_string(&key_path).map_err(|source| Error::Read {
                path: key_path.clone(),
                source,
            })?;
            KeyPair::from_pem(&key).map_err(|e| pki(format!("{}: {e}", key_path.display())))?;
            return Ok(CaInfo {
                fingerprint: fingerprint_of_der(&der_of_pem(&pem)?),
                cert_path,
                created: false,
            });
        }
        (false, false) => {}
        _ => {
            return Err(pki(format!(
                "only one of {} and {} exists — restore the missing file from backup; refusing to create a new CA over half of an old one",
                cert_path.display(),
                key_path.display()
            )))
        }
    }
    let key = KeyPair::generate().map_err(pki)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(pki)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("RustFS cluster {cluster} CA"));
    dn.push(DnType::OrganizationName, "RustFS Cluster");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.serial_number = Some(random_serial());
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(CA_VALIDITY_DAYS);
    let cert = params.self_signed(&key).map_err(pki)?;
    // Key first: a crash between the writes leaves a key without a cert, which is reported.
    state.write_atomic(CA_KEY, key.serialize_pem().as_bytes(), 0o600)?;
    state.write_atomic(CA_CERT, cert.pem().as_bytes(), 0o644)?;
    Ok(CaInfo {
        fingerprint: fingerprint_of_der(cert.der()),
        cert_path,
        created: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path().join("state")).unwrap();
        let first = ensure_ca(&state, "t").unwrap();
        assert!(first.created);
        let second = ensure_ca(&state, "t").unwrap();
        assert!(!second.created);
        assert_eq!(first.fingerprint, second.fingerprint);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(state.path().join(CA_KEY))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_file(state.path().join(CA_CERT)).unwrap();
        assert!(ensure_ca(&state, "t")
            .unwrap_err()
            .to_string()
            .contains("only one of"));
    }
}
