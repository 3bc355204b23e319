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
/// Node certificate validity.
pub const NODE_VALIDITY_DAYS: i64 = 825;

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

/// The CA's identity. Signing rebuilds the issuer from these and the stored key, so they must
/// never change for an existing CA.
fn ca_params(cluster: &str) -> Result<CertificateParams> {
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
    Ok(params)
}

/// A node's (or the control plane's) TLS material as installed on the host.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeTls {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for NodeTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeTls").finish_non_exhaustive()
    }
}

impl NodeTls {
    /// sha256 over CA, certificate and key, as the facts script computes it on the host.
    pub fn sha256(&self) -> String {
        let mut h = Sha256::new();
        for part in [&self.ca_pem, &self.cert_pem, &self.key_pem] {
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// Whose certificate: a node's (server and client usage: it also calls its peers) or the
/// installed control plane's (server only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf<'a> {
    /// The node of the host with this name.
    Node(&'a str),
    ControlPlane,
}

impl Leaf<'_> {
    /// Certificate, key and recorded names inside the state directory.
    fn paths(&self) -> (String, String, String) {
        let base = match self {
            Leaf::Node(name) => format!("nodes/{name}"),
            Leaf::ControlPlane => "controlplane/tls".to_string(),
        };
        (
            format!("{base}.pem"),
            format!("{base}.key"),
            format!("{base}.sans"),
        )
    }

    fn common_name(&self, cluster: &str) -> String {
        match self {
            Leaf::Node(name) => format!("{name}.{cluster}"),
            Leaf::ControlPlane => format!("controlplane.{cluster}"),
        }
    }

    fn usages(&self) -> Vec<rcgen::ExtendedKeyUsagePurpose> {
        use rcgen::ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
        match self {
            Leaf::Node(_) => vec![ServerAuth, ClientAuth],
            Leaf::ControlPlane => vec![ServerAuth],
        }
    }
}

fn read_opt(path: &std::path::Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The certificate already issued for `leaf` with exactly `sans`, if any.
pub fn existing_tls(state: &StateDir, leaf: Leaf<'_>, sans: &[String]) -> Option<NodeTls> {
    let (cert, key, recorded) = leaf.paths();
    let p = state.path();
    if read_opt(&p.join(&recorded))? != sans.join("\n") {
        return None;
    }
    Some(NodeTls {
        ca_pem: read_opt(&p.join(CA_CERT))?,
        cert_pem: read_opt(&p.join(cert))?,
        key_pem: read_opt(&p.join(key))?,
    })
}

/// The node certificate already issued for `name` with exactly `sans`, if any.
pub fn existing_node_tls(state: &StateDir, name: &str, sans: &[String]) -> Option<NodeTls> {
    existing_tls(state, Leaf::Node(name), sans)
}

/// The certificate of node `name`: see [`ensure_tls`].
pub fn ensure_node_tls(
    state: &StateDir,
    cluster: &str,
    name: &str,
    sans: &[String],
) -> Result<NodeTls> {
    ensure_tls(state, cluster, Leaf::Node(name), sans)
}

/// The certificate of `leaf` (`sans` as DNS names or IPs, random serial) signed by the cluster
/// CA: issued once and kept in the state directory, reissued only when its names change.
/// Creates the CA when missing.
pub fn ensure_tls(
    state: &StateDir,
    cluster: &str,
    leaf: Leaf<'_>,
    sans: &[String],
) -> Result<NodeTls> {
    if let Some(tls) = existing_tls(state, leaf, sans) {
        return Ok(tls);
    }
    ensure_ca(state, cluster)?;
    let ca_key_pem =
        std::fs::read_to_string(state.path().join(CA_KEY)).map_err(|source| Error::Read {
            path: state.path().join(CA_KEY),
            source,
        })?;
    let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(pki)?;
    let issuer = rcgen::Issuer::new(ca_params(cluster)?, ca_key);
    let key = KeyPair::generate().map_err(pki)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(pki)?;
    for san in sans {
        params
            .subject_alt_names
            .push(match san.parse::<std::net::IpAddr>() {
                Ok(ip) => rcgen::SanType::IpAddress(ip),
                Err(_) => rcgen::SanType::DnsName(san.clone().try_into().map_err(pki)?),
            });
    }
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, leaf.common_name(cluster));
    dn.push(DnType::OrganizationName, "RustFS Cluster");
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = leaf.usages();
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial());
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(NODE_VALIDITY_DAYS);
    let cert = params.signed_by(&key, &issuer).map_err(pki)?;
    let (cert_rel, key_rel, sans_rel) = leaf.paths();
    state.write_atomic(&key_rel, key.serialize_pem().as_bytes(), 0o600)?;
    state.write_atomic(&cert_rel, cert.pem().as_bytes(), 0o644)?;
    state.write_atomic(&sans_rel, sans.join("\n").as_bytes(), 0o644)?;
    existing_tls(state, leaf, sans).ok_or_else(|| {
        pki(format!(
            "the certificate of {leaf:?} vanished after writing it"
        ))
    })
}

/// The cluster CA certificate (PEM) when the state directory holds one: what health checks
/// and S3 checks trust with TLS on.
pub fn ca_pem(state: &StateDir) -> Option<String> {
    read_opt(&state.path().join(CA_CERT))
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
    let mut params = ca_params(cluster)?;
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

    #[test]
    fn the_control_plane_gets_a_server_certificate_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path().join("state")).unwrap();
        let sans = vec!["10.0.0.1".to_string()];
        let node = ensure_node_tls(&state, "t", "controlplane", &sans).unwrap();
        let cp = ensure_tls(&state, "t", Leaf::ControlPlane, &sans).unwrap();
        assert_ne!(
            node.cert_pem, cp.cert_pem,
            "a host named controlplane is another leaf"
        );
        assert_eq!(
            existing_tls(&state, Leaf::ControlPlane, &sans).as_ref(),
            Some(&cp)
        );
        let cert = dir.path().join("cp.pem");
        std::fs::write(&cert, &cp.cert_pem).unwrap();
        let verify = |purpose: &str| {
            std::process::Command::new("openssl")
                .args([
                    "verify",
                    "-purpose",
                    purpose,
                    "-verify_ip",
                    "10.0.0.1",
                    "-CAfile",
                ])
                .arg(state.path().join(CA_CERT))
                .arg(&cert)
                .output()
                .expect("openssl is missing: apt-get install openssl")
                .status
                .success()
        };
        assert!(verify("sslserver"));
        assert!(
            !verify("sslclient"),
            "the control plane's certificate is for serving only"
        );
    }

    #[test]
    fn node_certificates_verify_against_the_ca_and_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path().join("state")).unwrap();
        let sans = vec!["10.0.0.1".to_string(), "node1.example.com".to_string()];
        let a = ensure_node_tls(&state, "t", "node1", &sans).unwrap();
        let again = ensure_node_tls(&state, "t", "node1", &sans).unwrap();
        assert_eq!(a, again, "an issued certificate is reused");
        let b = ensure_node_tls(&state, "t", "node2", &["10.0.0.2".to_string()]).unwrap();
        assert_ne!(a.cert_pem, b.cert_pem);
        let cert = dir.path().join("node1.pem");
        std::fs::write(&cert, &a.cert_pem).unwrap();
        // OpenSSL checks the chain, the SAN and both usages.
        for (purpose, name_check) in [
            ("sslserver", ["-verify_ip", "10.0.0.1"]),
            ("sslclient", ["-verify_hostname", "node1.example.com"]),
        ] {
            let out = std::process::Command::new("openssl")
                .args(["verify", "-purpose", purpose])
                .args(name_check)
                .arg("-CAfile")
                .arg(state.path().join(CA_CERT))
                .arg(&cert)
                .output()
                .expect("openssl is missing: apt-get install openssl");
            assert!(
                out.status.success(),
                "{purpose}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Changed names mean a new certificate.
        let c = ensure_node_tls(&state, "t", "node1", &["10.0.0.9".to_string()]).unwrap();
        assert_ne!(a.cert_pem, c.cert_pem);
    }
}
