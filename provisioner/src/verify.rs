//! The last phase of `apply`: an S3 round trip through every node with the AWS SDK, signed with
//! the cluster's root credentials. Each node gets a PUT of an object large enough to be
//! erasure-coded across the nodes (not inlined), a GET through it and through the next node, and a
//! DELETE. The objects live in a bucket of their own, removed afterwards when this run made it.
//! With TLS on, the SDK speaks https and trusts only the cluster CA.

use aws_sdk_s3::config::SharedHttpClient;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};

use crate::error::{Error, Result};
use crate::health::endpoint;
use crate::inventory::{Host, Inventory};

/// The bucket the round trips use.
pub const VERIFY_BUCKET: &str = "rustfs-provision-verify";
/// Size of each test object: past the inline threshold, a block and a half.
const OBJECT_BYTES: usize = (1 << 20) + (1 << 19);

/// The SDK's HTTP client: plain http, or https trusting only `ca_pem` when TLS is on.
fn http_client(inv: &Inventory, ca_pem: Option<&str>) -> Result<SharedHttpClient> {
    if !inv.tls.enabled {
        return Ok(aws_smithy_http_client::Builder::new().build_http());
    }
    let Some(pem) = ca_pem else {
        return Err(Error::pki(
            "TLS is on but the state directory holds no cluster CA — run `rustfs-provision ca` or `apply`",
        ));
    };
    let context = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(pem.as_bytes()))
        .build()
        .map_err(|e| Error::pki(format!("the cluster CA cannot be used for S3 checks: {e}")))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https())
}

/// An S3 client for one node (`ca_pem`: the cluster CA, needed when TLS is on).
pub fn s3_client(inv: &Inventory, host: &Host, ca_pem: Option<&str>) -> Result<Client> {
    let user = inv
        .credentials
        .user
        .as_ref()
        .map(|s| s.expose().to_string());
    let pass = inv
        .credentials
        .password
        .as_ref()
        .map(|s| s.expose().to_string());
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint(inv, host))
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            user.unwrap_or_default(),
            pass.unwrap_or_default(),
            None,
            None,
            "rustfs-provision",
        ))
        .http_client(http_client(inv, ca_pem)?)
        .build();
    Ok(Client::from_conf(conf))
}

fn fail(host: &Host, what: &str, e: impl std::fmt::Display) -> Error {
    Error::host(host.name(), format!("S3 check: {what} failed: {e}"))
}

/// Runs the round trip through every host; returns how many objects went through.
pub async fn round_trip(inv: &Inventory, hosts: &[&Host], ca_pem: Option<&str>) -> Result<usize> {
    let Some(first) = hosts.first() else {
        return Ok(0);
    };
    let clients: Vec<Client> = hosts
        .iter()
        .map(|h| s3_client(inv, h, ca_pem))
        .collect::<Result<_>>()?;
    let made_bucket = match clients[0]
        .create_bucket()
        .bucket(VERIFY_BUCKET)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) => {
            let code = e.as_service_error().and_then(|s| s.meta().code());
            if matches!(
                code,
                Some("BucketAlreadyOwnedByYou") | Some("BucketAlreadyExists")
            ) {
                false
            } else {
                return Err(fail(
                    first,
                    "CreateBucket",
                    aws_sdk_s3::error::DisplayErrorContext(e),
                ));
            }
        }
    };
    let nonce: u64 = rand::random();
    for (i, host) in hosts.iter().enumerate() {
        let key = format!("apply/{}-{nonce:016x}", host.name());
        let body: Vec<u8> = (0..OBJECT_BYTES)
            .map(|j| (j as u64 ^ nonce ^ i as u64) as u8)
            .collect();
        let c = &clients[i];
        c.put_object()
            .bucket(VERIFY_BUCKET)
            .key(&key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .map_err(|e| fail(host, "PutObject", aws_sdk_s3::error::DisplayErrorContext(e)))?;
        let next = (i + 1) % hosts.len();
        for j in [i, next] {
            let got = clients[j]
                .get_object()
                .bucket(VERIFY_BUCKET)
                .key(&key)
                .send()
                .await
                .map_err(|e| {
                    fail(
                        hosts[j],
                        "GetObject",
                        aws_sdk_s3::error::DisplayErrorContext(e),
                    )
                })?;
            let bytes = got
                .body
                .collect()
                .await
                .map_err(|e| fail(hosts[j], "reading GetObject's body", e))?
                .into_bytes();
            if bytes.as_ref() != body.as_slice() {
                return Err(fail(
                    hosts[j],
                    "GetObject",
                    format!(
                        "{key} came back different ({} bytes, {} written)",
                        bytes.len(),
                        body.len()
                    ),
                ));
            }
        }
        c.delete_object()
            .bucket(VERIFY_BUCKET)
            .key(&key)
            .send()
            .await
            .map_err(|e| {
                fail(
                    host,
                    "DeleteObject",
                    aws_sdk_s3::error::DisplayErrorContext(e),
                )
            })?;
    }
    if made_bucket {
        clients[0]
            .delete_bucket()
            .bucket(VERIFY_BUCKET)
            .send()
            .await
            .map_err(|e| {
                fail(
                    first,
                    "DeleteBucket",
                    aws_sdk_s3::error::DisplayErrorContext(e),
                )
            })?;
    }
    Ok(hosts.len())
}
