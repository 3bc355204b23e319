//! JSON bodies: the control plane's request bodies (`PUT /v1/clusters/{name}`, `POST /v1/tokens`)
//! through the exact extractor the routes use (`ApiJson`) and their validation, and the admin API
//! answers a node sends (`/rustfs/admin/v1/info`, `/heal/status`) that the control plane and the
//! provisioner read. Nothing panics, and every value accepted re-encodes to JSON that decodes to
//! the same value.
//!
//! The first input byte picks the body type; the rest is the body.

#![no_main]

use axum::extract::FromRequest;
use libfuzzer_sys::fuzz_target;
use rustfs_common::admin::{HealStatus, ServerInfo};
use rustfs_controlplane::api::{CreateToken, RegisterCluster};
use rustfs_controlplane::routes::ApiJson;
use rustfs_controlplane::validate;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// `serde_json::from_slice` as a client reads it: a value must survive a round trip.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(body: &[u8]) -> Option<T> {
    let v: T = serde_json::from_slice(body).ok()?;
    let again = serde_json::to_vec(&v).expect("a decoded body encodes");
    let back: T = serde_json::from_slice(&again).expect("a re-encoded body decodes");
    assert_eq!(
        back,
        v,
        "changed on a round trip through {:?}",
        String::from_utf8_lossy(&again)
    );
    Some(v)
}

/// The route's extractor on `body`, as a request with a JSON content type.
fn extract<T: Serialize + DeserializeOwned + Send>(body: &[u8]) -> Option<T> {
    let req = axum::http::Request::builder()
        .method("PUT")
        .uri("/v1/x")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_vec()))
        .expect("a request");
    futures::executor::block_on(ApiJson::<T>::from_request(req, &()))
        .ok()
        .map(|ApiJson(v)| v)
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    match kind % 4 {
        0 => {
            round_trip::<RegisterCluster>(body);
            if let Some(r) = extract::<RegisterCluster>(body) {
                let _ = validate::registration("fuzz", &r);
                round_trip::<RegisterCluster>(&serde_json::to_vec(&r).unwrap());
            }
        }
        1 => {
            round_trip::<CreateToken>(body);
            if let Some(t) = extract::<CreateToken>(body) {
                let _ = validate::token_request(&t, 1_800_000_000_000);
            }
        }
        2 => {
            round_trip::<ServerInfo>(body);
        }
        _ => {
            round_trip::<HealStatus>(body);
        }
    }
});
