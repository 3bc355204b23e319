//! Certificates for TLS tests, made with rcgen: a cluster CA and node certificates it signs, as
//! the provisioner issues them (the node's IP as SAN, server and client usage).

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use std::path::Path;

/// A CA: its certificate (PEM) and what signs with it.
pub struct Ca {
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// A new self-signed CA named `name`.
    pub fn new(name: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        Ca {
            cert_pem: cert.pem(),
            issuer: Issuer::new(p, key),
        }
    }

    /// (certificate PEM, key PEM) for `ip`, server and client usage, valid until
    /// [`LEAF_NOT_AFTER`].
    pub fn leaf(&self, ip: &str) -> (String, String) {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.subject_alt_names = vec![SanType::IpAddress(ip.parse().unwrap())];
        p.distinguished_name.push(DnType::CommonName, ip);
        let (y, m, d) = LEAF_NOT_AFTER_YMD;
        p.not_after = rcgen::date_time_ymd(y, m, d);
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// When node certificates expire: 2035-01-01.
pub const LEAF_NOT_AFTER_YMD: (i32, u8, u8) = (2035, 1, 1);
/// The same, in Unix seconds.
pub const LEAF_NOT_AFTER: i64 = 2_051_222_400;

/// Writes `body` to `path`; returns the path as a string (for env vars and flags).
pub fn write(path: &Path, body: &str) -> String {
    std::fs::write(path, body).unwrap();
    path.display().to_string()
}
