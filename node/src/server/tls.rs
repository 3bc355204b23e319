//! TLS for S3 and inter-node RPC (rustls, ring). One listener serves both: a client certificate
//! is optional at the handshake (S3 clients have none) but, when presented, must chain to the
//! cluster CA or the handshake fails; inter-node RPC is refused on a connection without one, so
//! nodes authenticate each other by certificate as well as by their signed calls.

use anyhow::{bail, Context, Result};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// What a node needs to serve and speak TLS.
#[derive(Clone)]
pub struct Tls {
    pub acceptor: TlsAcceptor,
    /// For outgoing RPC: the CA to trust and this node's identity (certificate + key, PEM).
    pub client: Option<TlsClient>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("mutual", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

pub use crate::rpc::tls::{peer_client, TlsClient};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read the TLS {what} {}", path.display()))
}

/// Loads the node's certificate, key and (optionally) the cluster CA.
pub fn load(cert: &Path, key: &Path, ca: Option<&Path>) -> Result<Tls> {
    let cert_pem = read(cert, "certificate")?;
    let key_pem = read(key, "key")?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate", cert.display()))?;
    if certs.is_empty() {
        bail!("{} holds no PEM certificate", cert.display());
    }
    record_expiry("node", &certs[0], cert)?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem)
        .with_context(|| format!("{} is not a PEM private key", key.display()))?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let (builder, client) = match ca {
        Some(ca) => {
            let ca_pem = read(ca, "CA certificate")?;
            let mut roots = RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(&ca_pem) {
                let c = c.with_context(|| format!("{} is not a PEM certificate", ca.display()))?;
                roots
                    .add(c)
                    .with_context(|| format!("{} is not a usable CA certificate", ca.display()))?;
            }
            if roots.is_empty() {
                bail!("{} holds no CA certificate", ca.display());
            }
            if let Some(first) = CertificateDer::pem_slice_iter(&ca_pem).next() {
                record_expiry("ca", &first?, ca)?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .allow_unauthenticated()
                .build()
                .context("client certificate verifier")?;
            let mut identity_pem = cert_pem.clone();
            identity_pem.extend_from_slice(&key_pem);
            let client = TlsClient {
                ca_pem: ca_pem.clone(),
                identity_pem: identity_pem.clone(),
            };
            peer_client(reqwest::Client::builder(), &client)?
                .build()
                .context("an HTTPS client for peers with this certificate, key and CA")?;
            (
                builder.with_client_cert_verifier(verifier),
                Some(TlsClient {
                    ca_pem,
                    identity_pem,
                }),
            )
        }
        None => (builder.with_no_client_auth(), None),
    };
    let mut config = builder
        .with_single_cert(certs, private)
        .context("the TLS certificate and key do not match")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        client,
    })
}

/// Exports when a certificate expires (`rustfs_tls_certificate_expiry_timestamp_seconds`) and
/// warns at start when it already has or will within 14 days.
fn record_expiry(which: &str, der: &CertificateDer<'_>, path: &Path) -> Result<()> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| anyhow::anyhow!("{} is not a valid X.509 certificate: {e}", path.display()))?;
    let not_after = cert.validity().not_after.timestamp();
    crate::metrics::global()
        .tls_expiry
        .with_label_values(&[which])
        .set(not_after as f64);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let left_days = (not_after - now) / 86_400;
    if not_after <= now {
        tracing::error!(certificate = which, path = %path.display(), "the {which} certificate has expired: peers and clients will refuse it; renew it (rustfs-provision ca, then apply)");
    } else if left_days < 14 {
        tracing::warn!(certificate = which, path = %path.display(), "the {which} certificate expires in {left_days} days; renew it (rustfs-provision ca, then apply)");
    }
    Ok(())
}
