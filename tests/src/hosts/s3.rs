//! Real S3 clients against a cluster on test hosts: the AWS SDK for Rust and the aws CLI, over
//! https trusting only the cluster CA (or plain http). Every object goes up through one node and
//! comes back through others.

use std::path::Path;
use std::process::Command;

use aws_credential_types::Credentials;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};

/// An SDK client for `endpoint`; for `https://` endpoints it trusts `ca_pem` and nothing else.
pub fn sdk_client(endpoint: &str, user: &str, password: &str, ca_pem: Option<&str>) -> Client {
    let http = match ca_pem {
        Some(pem) => aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .tls_context(
                TlsContext::builder()
                    .with_trust_store(TrustStore::empty().with_pem_certificate(pem.as_bytes()))
                    .build()
                    .expect("the cluster CA makes a TLS context"),
            )
            .build_https(),
        None => aws_smithy_http_client::Builder::new().build_http(),
    };
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(user, password, None, None, "test-hosts"))
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// Creates `bucket` through the first endpoint (unless it exists), then PUTs an object through
/// each endpoint and GETs it back through every endpoint.
pub async fn sdk_round_trips(clients: &[(String, Client)], bucket: &str, prefix: &str) {
    let (first_ep, first) = &clients[0];
    if let Err(e) = first.create_bucket().bucket(bucket).send().await {
        let code = e.as_service_error().and_then(|s| s.meta().code());
        assert_eq!(
            code,
            Some("BucketAlreadyOwnedByYou"),
            "CreateBucket via {first_ep}: {}",
            aws_sdk_s3::error::DisplayErrorContext(&e)
        );
    }
    for (i, (ep, c)) in clients.iter().enumerate() {
        let body = crate::pattern((3 << 20) / 2 + i, i as u64);
        let key = format!("{prefix}/{i}");
        c.put_object()
            .bucket(bucket)
            .key(&key)
            .body(body.clone().into())
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PutObject {key} via {ep}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            });
        for (other_ep, other) in clients {
            let got = other
                .get_object()
                .bucket(bucket)
                .key(&key)
                .send()
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "GetObject {key} via {other_ep}: {}",
                        aws_sdk_s3::error::DisplayErrorContext(e)
                    )
                });
            let bytes = got.body.collect().await.unwrap().into_bytes();
            assert!(bytes.as_ref() == body.as_slice(), "{key} via {other_ep}");
        }
    }
}

/// Runs the aws CLI against `endpoint` (with `--ca-bundle` for https); stdout, panicking with
/// stderr when it fails.
pub fn aws_cli(
    endpoint: &str,
    ca_bundle: Option<&Path>,
    user: &str,
    password: &str,
    args: &[&str],
) -> String {
    let mut cmd = Command::new("aws");
    cmd.arg("--endpoint-url").arg(endpoint);
    if let Some(ca) = ca_bundle {
        cmd.arg("--ca-bundle").arg(ca);
    }
    let out = cmd
        .args(args)
        .env("AWS_ACCESS_KEY_ID", user)
        .env("AWS_SECRET_ACCESS_KEY", password)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("NO_PROXY", "*")
        .output()
        .expect("the aws CLI is missing: pip install awscli (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "aws {args:?} via {endpoint}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `aws s3 cp` up through endpoint i and down through endpoint i+1, then a listing.
pub fn cli_round_trips(
    endpoints: &[String],
    ca_bundle: Option<&Path>,
    user: &str,
    password: &str,
    bucket: &str,
    dir: &Path,
) {
    let n = endpoints.len();
    for i in 0..n {
        let src = dir.join(format!("cli-{i}.bin"));
        let data = crate::pattern(700_000 + i, 100 + i as u64);
        std::fs::write(&src, &data).unwrap();
        let url = format!("s3://{bucket}/cli/{i}");
        aws_cli(
            &endpoints[i],
            ca_bundle,
            user,
            password,
            &["s3", "cp", src.to_str().unwrap(), &url],
        );
        let dst = dir.join(format!("cli-{i}.back"));
        let next = &endpoints[(i + 1) % n];
        aws_cli(
            next,
            ca_bundle,
            user,
            password,
            &["s3", "cp", &url, dst.to_str().unwrap()],
        );
        assert_eq!(std::fs::read(&dst).unwrap(), data, "{url} via {next}");
    }
    let listing = aws_cli(
        &endpoints[0],
        ca_bundle,
        user,
        password,
        &["s3", "ls", &format!("s3://{bucket}/cli/")],
    );
    assert_eq!(listing.lines().count(), n, "{listing}");
}
