//! The S3 client `rustfs-bench` uses against every endpoint, configured identically for all of
//! them, plus the setup and teardown calls around the measured runs (bucket, cleanup).

use std::time::Duration;

use anyhow::{anyhow, Context};
use aws_credential_types::Credentials;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete,
    ObjectIdentifier, VersioningConfiguration,
};
use aws_sdk_s3::Client;
use futures::stream::{self, StreamExt};

use super::config::BenchConfig;

/// Connecting to a loopback server either succeeds at once or not at all.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// In-flight DeleteObject calls during cleanup.
const CLEANUP_CONCURRENCY: usize = 16;
/// Cleanup gives up after this many failed deletes rather than hammer a broken endpoint.
const CLEANUP_MAX_FAILURES: usize = 32;

/// Builds a plain-HTTP client with retries off and checksums only where the API requires them,
/// so the figures measure the server, not SDK defaults that differ between endpoints.
pub fn build_client(config: &BenchConfig) -> Client {
    let credentials = Credentials::new(
        config.access_key.clone(),
        config.secret_key.clone(),
        None,
        None,
        "rustfs-bench",
    );
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(config.op_timeout)
        .build();
    let s3_config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .endpoint_url(config.endpoint.clone())
        .force_path_style(true)
        .region(Region::new(config.region.clone()))
        .credentials_provider(credentials)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts)
        .build();
    Client::from_conf(s3_config)
}

/// Renders an SDK error on one line: the S3 error code and message for service errors
/// ("HTTP 403 AccessDenied: …"), the source chain otherwise ("dispatch failure: … refused").
pub fn sdk_error<E>(err: SdkError<E, HttpResponse>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let SdkError::ServiceError(service) = &err else {
        return anyhow!(error_chain(&err));
    };
    let status = service.raw().status().as_u16();
    let code = service.err().code().unwrap_or("(no error code)");
    match service.err().message() {
        Some(message) => anyhow!("HTTP {status} {code}: {message}"),
        None => anyhow!("HTTP {status} {code}"),
    }
}

pub use rustfs_common::error_chain;

/// Makes sure `bucket` exists; returns whether it was created by this call.
pub async fn ensure_bucket(
    client: &Client,
    config: &BenchConfig,
    bucket: &str,
) -> anyhow::Result<bool> {
    match client.head_bucket().bucket(bucket).send().await {
        Ok(_) => return Ok(false),
        Err(SdkError::ServiceError(err)) if err.err().is_not_found() => {}
        Err(err) => {
            return Err(sdk_error(err)).with_context(|| {
                format!(
                    "HeadBucket {bucket} on {} failed (is the server up, are the credentials \
                     right?)",
                    config.endpoint
                )
            })
        }
    }
    let mut create = client.create_bucket().bucket(bucket);
    // us-east-1 is the one region S3 wants without a LocationConstraint.
    if config.region != "us-east-1" {
        let location = BucketLocationConstraint::from(config.region.as_str());
        let bucket_config = CreateBucketConfiguration::builder()
            .location_constraint(location)
            .build();
        create = create.create_bucket_configuration(bucket_config);
    }
    create
        .send()
        .await
        .map_err(sdk_error)
        .with_context(|| format!("CreateBucket {bucket} on {} failed", config.endpoint))?;
    Ok(true)
}

/// Makes sure `bucket` exists with versioning enabled; returns whether it was created here.
pub async fn ensure_versioned_bucket(
    client: &Client,
    config: &BenchConfig,
    bucket: &str,
) -> anyhow::Result<bool> {
    let created = ensure_bucket(client, config, bucket).await?;
    let enabled = VersioningConfiguration::builder()
        .status(BucketVersioningStatus::Enabled)
        .build();
    client
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(enabled)
        .send()
        .await
        .map_err(sdk_error)
        .with_context(|| format!("PutBucketVersioning {bucket} (does the server version?)"))?;
    Ok(created)
}

/// Deletes every version and delete marker under `prefix` in a versioned bucket and, if
/// `remove_bucket`, the bucket. Problems are reported on stderr; cleanup never fails the run.
pub async fn cleanup_versions(client: &Client, bucket: &str, prefix: &str, remove_bucket: bool) {
    let result = async {
        // Each round lists from the start what is left (no markers into deleted versions).
        let (mut num, mut last_first) = (0, None);
        loop {
            let page = client
                .list_object_versions()
                .bucket(bucket)
                .prefix(prefix)
                .send()
                .await
                .map_err(sdk_error)
                .context("ListObjectVersions")?;
            let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
            let markers = page
                .delete_markers()
                .iter()
                .map(|m| (m.key(), m.version_id()));
            let ids: Vec<ObjectIdentifier> = versions
                .chain(markers)
                .map(|(key, version)| {
                    ObjectIdentifier::builder()
                        .key(key.unwrap_or_default())
                        .set_version_id(version.map(str::to_owned))
                        .build()
                })
                .collect::<Result<_, _>>()?;
            let first = ids
                .first()
                .map(|id| (id.key().to_owned(), id.version_id().map(str::to_owned)));
            if first.is_none() {
                break;
            }
            anyhow::ensure!(first != last_first, "versions {first:?} are not going away");
            last_first = first;
            num += ids.len();
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()?;
            let out = client
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(sdk_error)
                .context("DeleteObjects")?;
            if let Some(e) = out.errors().first() {
                anyhow::bail!("DeleteObjects: {:?} {:?}", e.key(), e.message());
            }
        }
        eprintln!("cleanup: deleted {num} versions in {bucket}");
        if remove_bucket {
            client
                .delete_bucket()
                .bucket(bucket)
                .send()
                .await
                .map_err(sdk_error)
                .with_context(|| format!("DeleteBucket {bucket}"))?;
        }
        anyhow::Ok(())
    };
    if let Err(err) = result.await {
        eprintln!("cleanup of {bucket}: {err:#}");
    }
}

/// Deletes `keys` (absent keys are fine: DeleteObject is idempotent) and, if `remove_bucket`,
/// the bucket itself. Problems are reported on stderr; cleanup never fails the run.
pub async fn cleanup(client: &Client, bucket: &str, keys: Vec<String>, remove_bucket: bool) {
    let num_keys = keys.len();
    eprintln!("cleanup: deleting {num_keys} objects");
    let mut failures = stream::iter(keys)
        .map(|key| async move {
            let result = client.delete_object().bucket(bucket).key(&key).send().await;
            result.map_err(|err| format!("DeleteObject {key}: {}", sdk_error(err)))
        })
        .buffer_unordered(CLEANUP_CONCURRENCY)
        .filter_map(|result| async move { result.err() })
        .take(CLEANUP_MAX_FAILURES)
        .boxed();
    let mut num_failed = 0;
    let mut first_failure = None;
    while let Some(failure) = failures.next().await {
        num_failed += 1;
        first_failure.get_or_insert(failure);
    }
    if let Some(first) = first_failure {
        let cut_short = if num_failed == CLEANUP_MAX_FAILURES {
            " (gave up)"
        } else {
            ""
        };
        eprintln!("cleanup: {num_failed} of {num_keys} deletes failed{cut_short}; first: {first}");
        return;
    }
    if remove_bucket {
        if let Err(err) = client.delete_bucket().bucket(bucket).send().await {
            eprintln!("cleanup: DeleteBucket {bucket}: {}", sdk_error(err));
        }
    }
}
