//! TLS of outgoing RPC: peers are reached over https trusting only the cluster CA, presenting
//! this node's certificate (ARCHITECTURE.md, "Mutual TLS"; the listener's side is `server::tls`).

use anyhow::{Context, Result};

/// For outgoing RPC: the CA to trust and this node's identity (certificate + key, PEM).
#[derive(Debug, Clone)]
pub struct TlsClient {
    pub ca_pem: Vec<u8>,
    pub identity_pem: Vec<u8>,
}

/// An HTTP client for peers: trusts only the cluster CA and presents this node's certificate.
pub fn peer_client(
    builder: reqwest::ClientBuilder,
    tls: &TlsClient,
) -> Result<reqwest::ClientBuilder> {
    let ca = reqwest::Certificate::from_pem(&tls.ca_pem).context("cluster CA certificate")?;
    let identity = reqwest::Identity::from_pem(&tls.identity_pem)
        .context("this node's certificate and key as a client identity")?;
    Ok(builder
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .identity(identity))
}
