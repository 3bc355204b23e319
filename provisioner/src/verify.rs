//! The last phase of `apply`: an S3 round trip through every node with the AWS SDK, signed with
//! the cluster's root credentials. Each node gets a PUT of an object large enough to be
//! erasure-coded across the nodes (not inlined), a GET through it and through the next node, and a
//! DELETE. The objects live in a bucket of their own, removed afterwards when this run made it.

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use crate::error::{Error, Result};
use crate::health::endpoint;
use crate::inventory::{Host, Inventory};

/// The bucket the round trips use.
pub const VERIFY_BUCKET: &str = "rustfs-provision-verify";
/// Size of each test object: past the inline threshold, a block and a half.
const OBJECT_BYTES: usize = (1 << 20) + (1 << 19);

/// An S3 client for one node.
pub fn s3_client(inv: &Inventory, host: &Host) -> Client {
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
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(conf)
}

fn fail(host: &Host, what: &str, e: impl std::fmt::Display) -> Error {
    Error::host(host.name(), format!("S3 check: {what} failed: {e}"))
}

/// Runs the round trip through every host; returns how many objects went through.
pub async fn round_trip(inv: &Inventory, hosts: &[&Host]) -> Result<usize> {
    let Some(first) = hosts.first() else {
        return Ok(0);
    };
    let clients: Vec<Client> = hosts.iter().map(|h| s3_client(inv, h)).collect();
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
