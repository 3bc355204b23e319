//! Access-control helpers shared by the suites: admin API calls as root or a user, and S3 calls
//! that answer the S3 error code ("" for success) so a table of expectations reads plainly.

use crate::raw::{self, RawResponse};
use crate::{client, ACCESS_KEY, SECRET_KEY};
use aws_sdk_s3::Client;

pub const ROOT: (&str, &str) = (ACCESS_KEY, SECRET_KEY);

pub async fn admin(
    endpoint: &str,
    keys: (&str, &str),
    method: &str,
    path: &str,
    body: &str,
) -> RawResponse {
    let url = format!("{endpoint}/rustfs/admin/v1/iam/{path}");
    raw::send_as(keys, method, &url, &[], body.as_bytes().to_vec()).await
}

/// Runs an admin call as root that must succeed.
pub async fn admin_ok(endpoint: &str, method: &str, path: &str, body: &str) -> String {
    let r = admin(endpoint, ROOT, method, path, body).await;
    assert_eq!(r.status, 200, "{method} {path}: {}", r.body);
    r.body
}

pub async fn add_user(endpoint: &str, user: &str, policies: &[&str]) -> Client {
    let secret = format!("{user}-secret-key");
    admin_ok(
        endpoint,
        "PUT",
        &format!("users/{user}"),
        &format!(r#"{{"secret_key":"{secret}"}}"#),
    )
    .await;
    for p in policies {
        admin_ok(
            endpoint,
            "POST",
            &format!("policies/{p}/attach"),
            &format!(r#"{{"user":"{user}"}}"#),
        )
        .await;
    }
    client(endpoint, user, &secret)
}

/// The S3 error code of an SDK error ("" when the call succeeded).
pub async fn put(c: &Client, bucket: &str, key: &str) -> String {
    match c
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(b"data".to_vec().into())
        .send()
        .await
    {
        Ok(_) => String::new(),
        Err(e) => crate::error_code(e),
    }
}

pub async fn get(c: &Client, bucket: &str, key: &str) -> String {
    match c.get_object().bucket(bucket).key(key).send().await {
        Ok(_) => String::new(),
        Err(e) => crate::error_code(e),
    }
}

pub async fn delete(c: &Client, bucket: &str, key: &str) -> String {
    match c.delete_object().bucket(bucket).key(key).send().await {
        Ok(_) => String::new(),
        Err(e) => crate::error_code(e),
    }
}

pub async fn list(c: &Client, bucket: &str, prefix: Option<&str>) -> String {
    match c
        .list_objects_v2()
        .bucket(bucket)
        .set_prefix(prefix.map(str::to_string))
        .send()
        .await
    {
        Ok(_) => String::new(),
        Err(e) => crate::error_code(e),
    }
}
