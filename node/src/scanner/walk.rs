//! Walking a set's drives: every key of a bucket that any drive holds, merged in key order.

use crate::object::list::Merger;
use crate::object::ErasureSet;
use crate::store::{DriveResult, WalkEntry, WalkRequest};
use futures::future::join_all;
use tokio::sync::mpsc;

/// Every key of `bucket` under `prefix` that any drive of the set holds, in key order.
pub(crate) async fn walk_keys(
    set: &ErasureSet,
    bucket: &str,
    prefix: &str,
) -> mpsc::Receiver<String> {
    let req = WalkRequest {
        prefix: prefix.into(),
        start_after: None,
        recursive: true,
    };
    walk_keys_after(set, bucket, req).await
}

/// Like [`walk_keys`], from `req` (its `start_after` resumes a walk).
pub(crate) async fn walk_keys_after(
    set: &ErasureSet,
    bucket: &str,
    req: WalkRequest,
) -> mpsc::Receiver<String> {
    let walks = join_all(set.drives.iter().map(|d| d.walk(bucket, req.clone()))).await;
    let rxs: Vec<mpsc::Receiver<DriveResult<WalkEntry>>> =
        walks.into_iter().filter_map(Result::ok).collect();
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        let mut m = Merger::new(rxs);
        while let Some(group) = m
            .next_group(|r| match r {
                Ok(e) => e.key(),
                Err(_) => "",
            })
            .await
        {
            let key = group.iter().find_map(|(_, r)| match r {
                Ok(WalkEntry::Object { key, .. }) => Some(key.clone()),
                _ => None,
            });
            if let Some(key) = key {
                if tx.send(key).await.is_err() {
                    return;
                }
            }
        }
    });
    rx
}
