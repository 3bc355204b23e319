//! HTTP clients for polling, one per trust root: a cluster registered with `ca_pem` is polled by
//! a client that trusts exactly that CA (bundle) and nothing else; one without it by a client
//! with the built-in web roots. A failed TLS handshake is told apart from other failures so it
//! can be reported (and counted) as what it is.

use std::collections::HashMap;
use std::time::Duration;

/// Parses `pem` as one or more CA certificates and checks they make a usable trust root.
/// Returns the number of certificates.
pub fn check_ca_pem(pem: &str) -> Result<usize, String> {
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
        .map_err(|e| format!("ca_pem is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("ca_pem holds no certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    let n = certs.len();
    builder(Some(pem), Duration::from_secs(1))?
        .build()
        .map_err(|e| format!("ca_pem is not a usable CA certificate: {}", chain(&e)))?;
    Ok(n)
}

fn builder(ca_pem: Option<&str>, timeout: Duration) -> Result<reqwest::ClientBuilder, String> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = ca_pem {
        // the cluster's own CA only: a public certificate for the node's address is not enough
        b = b.tls_built_in_root_certs(false);
        for cert in reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| format!("the registered ca_pem is not valid PEM: {e}"))?
        {
            b = b.add_root_certificate(cert);
        }
    }
    Ok(b)
}

/// One client per trust root, built once and reused every round.
#[derive(Default)]
pub struct Clients(HashMap<Option<String>, reqwest::Client>);

impl Clients {
    /// The client for a cluster with `ca_pem` (`None`: the built-in roots).
    pub fn get(
        &mut self,
        ca_pem: Option<&str>,
        timeout: Duration,
    ) -> Result<reqwest::Client, String> {
        let key = ca_pem.map(str::to_string);
        if let Some(c) = self.0.get(&key) {
            return Ok(c.clone());
        }
        let c = builder(ca_pem, timeout)?
            .build()
            .map_err(|e| format!("the registered ca_pem is not usable: {}", chain(&e)))?;
        self.0.insert(key, c.clone());
        Ok(c)
    }

    /// Drops the clients of roots no registered cluster uses any more.
    pub fn retain(&mut self, in_use: &[Option<&str>]) {
        self.0.retain(|k, _| in_use.contains(&k.as_deref()));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An error and all its sources, `: `-joined.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        src = s.source();
    }
    msg
}

/// The TLS error under `e`, if the request failed in the TLS handshake.
pub fn tls_failure<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        // rustls errors reach hyper in an io::Error (in another io::Error), whose `source`
        // skips its payload: unwrap those by hand
        let mut io = err.downcast_ref::<std::io::Error>();
        while let Some(inner) = io.and_then(|e| e.get_ref()) {
            if let Some(t) = inner.downcast_ref::<rustls::Error>() {
                return Some(t);
            }
            io = inner.downcast_ref::<std::io::Error>();
        }
        cur = err.source();
    }
    None
}

/// What to tell the operator about a failed handshake.
pub fn explain(t: &rustls::Error) -> String {
    match t {
        rustls::Error::InvalidCertificate(c) => format!(
            "TLS: the node's certificate does not verify ({c:?}); check that the registered \
             ca_pem is the CA that signed the node certificates and that they name the node's \
             address"
        ),
        other => format!("TLS handshake failed ({other}); does the node serve https on this port?"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_pem_must_parse_as_certificates() {
        assert!(check_ca_pem("no pem here")
            .unwrap_err()
            .contains("no certificate"));
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(check_ca_pem(garbage).is_err());
    }

    /// Regression: hyper hands the handshake error over as an io::Error inside an io::Error,
    /// whose `source()` skips the rustls error; it must still be found.
    #[test]
    fn a_rustls_error_is_found_under_nested_io_errors() {
        use std::io::{Error as IoError, ErrorKind};
        let bad = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let e = IoError::other(IoError::new(ErrorKind::InvalidData, bad));
        let t = tls_failure(&e).expect("found");
        assert!(explain(t).contains("does not verify"), "{}", explain(t));
        assert!(tls_failure(&IoError::other("refused")).is_none());
    }

    #[test]
    fn clients_are_shared_per_root_and_forgotten_when_unused() {
        let mut c = Clients::default();
        let t = Duration::from_secs(1);
        c.get(None, t).unwrap();
        c.get(None, t).unwrap();
        assert_eq!(c.len(), 1);
        c.retain(&[]);
        assert!(c.is_empty());
    }
}
