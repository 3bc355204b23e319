//! Serving HTTPS: the certificate chain and key from PEM files, checked to belong together, in
//! a rustls server config (ring provider, TLS 1.2 and 1.3, HTTP/1.1 by ALPN).

use crate::config::TlsFiles;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Loads `files` into an acceptor; every error names the file and what to do.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let cert = files.cert.display();
    let key = files.key.display();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| format!("cannot read the TLS certificate {cert}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the TLS certificate {cert} is not valid PEM: {e}"))?;
    if chain.is_empty() {
        return Err(format!(
            "the TLS certificate {cert} holds no -----BEGIN CERTIFICATE----- block; pass the PEM certificate chain, leaf first"
        ));
    }
    let private = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        format!("cannot read a PEM private key (PKCS#8, PKCS#1 or SEC1) from {key}: {e}")
    })?;
    warn_if_readable_by_others(&files.key);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| {
            format!("the TLS key {key} cannot serve the certificate {cert} (is it that certificate's key?): {e}")
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn warn_if_readable_by_others(path: &std::path::Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                file = %path.display(),
                "the TLS private key is readable by other users; run `chmod 600` on it"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair};

    fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn errors_name_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let good_cert = write(dir.path(), "cert.pem", &cert.pem());
        let good_key = write(dir.path(), "key.pem", &key.serialize_pem());
        let files = |cert: &std::path::Path, key: &std::path::Path| TlsFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        };
        assert!(acceptor(&files(&good_cert, &good_key)).is_ok());

        let missing = dir.path().join("nope.pem");
        let e = acceptor(&files(&missing, &good_key))
            .err()
            .expect("refused");
        assert!(
            e.contains("cannot read the TLS certificate") && e.contains("nope.pem"),
            "{e}"
        );
        let empty = write(dir.path(), "empty.pem", "no pem here\n");
        let e = acceptor(&files(&empty, &good_key)).err().expect("refused");
        assert!(e.contains("holds no -----BEGIN CERTIFICATE-----"), "{e}");
        let e = acceptor(&files(&good_cert, &empty)).err().expect("refused");
        assert!(
            e.contains("cannot read a PEM private key") && e.contains("empty.pem"),
            "{e}"
        );
        let other = write(
            dir.path(),
            "other.pem",
            &KeyPair::generate().unwrap().serialize_pem(),
        );
        let e = acceptor(&files(&good_cert, &other)).err().expect("refused");
        assert!(e.contains("is it that certificate's key?"), "{e}");
    }
}
