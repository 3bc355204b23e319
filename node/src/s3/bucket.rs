//! Bucket operations.

use super::headers::timestamp;
use super::S3Api;
use http::StatusCode;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

pub async fn handle_create_bucket(
    api: &S3Api,
    req: S3Request<CreateBucketInput>,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let i = &req.input;
    super::acl::refuse_grants!(i)?;
    let acl = i
        .acl
        .as_ref()
        .map(|a| a.as_str())
        .filter(|a| *a != BucketCannedACL::PRIVATE);
    if let Some(acl) = acl {
        super::acl::check_bucket_acl(acl)?;
    }
    api.layer.make_bucket(&i.bucket).await?;
    // A bucket that cannot record what it was created with must not be left behind without it.
    let configured = async {
        if i.object_lock_enabled_for_bucket == Some(true) {
            super::objlock::enable_at_creation(api, &i.bucket).await?;
        }
        if let Some(acl) = acl {
            super::acl::apply_bucket_acl(api, &i.bucket, acl).await?;
        }
        S3Result::Ok(())
    };
    if let Err(e) = configured.await {
        let _ = api.layer.delete_bucket(&i.bucket).await;
        return Err(e);
    }
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{}", req.input.bucket)),
    }))
}

pub async fn handle_delete_bucket(
    api: &S3Api,
    req: S3Request<DeleteBucketInput>,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    api.layer.delete_bucket(&req.input.bucket).await?;
    Ok(S3Response::with_status(
        DeleteBucketOutput {},
        StatusCode::NO_CONTENT,
    ))
}

pub async fn handle_head_bucket(
    api: &S3Api,
    req: S3Request<HeadBucketInput>,
) -> S3Result<S3Response<HeadBucketOutput>> {
    api.layer.bucket_info(&req.input.bucket).await?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(api.region.clone()),
        ..Default::default()
    }))
}

pub async fn handle_list_buckets(
    api: &S3Api,
    _req: S3Request<ListBucketsInput>,
) -> S3Result<S3Response<ListBucketsOutput>> {
    let buckets = api
        .layer
        .list_buckets()
        .await?
        .into_iter()
        .map(|b| Bucket {
            name: Some(b.name),
            creation_date: Some(timestamp(b.created_nanos)),
            ..Default::default()
        })
        .collect();
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        owner: Some(super::headers::owner()),
        ..Default::default()
    }))
}

pub async fn handle_get_bucket_location(
    api: &S3Api,
    req: S3Request<GetBucketLocationInput>,
) -> S3Result<S3Response<GetBucketLocationOutput>> {
    api.layer.bucket_info(&req.input.bucket).await?;
    // us-east-1 is reported as an empty constraint, as AWS does.
    let location_constraint =
        (api.region != "us-east-1").then(|| BucketLocationConstraint::from(api.region.clone()));
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint,
    }))
}
