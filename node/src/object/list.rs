//! Listing: every drive of a set walks its directory tree in key order; the walks are merged and
//! each key is resolved by quorum (a key on too few drives is not listed); sets and pools are then
//! merged again in key order. Pages stop the walks early, so a page costs O(page), not O(bucket).

use super::set::ErasureSet;
use super::{ObjResult, ObjectInfo, ObjectLayer};
use crate::store::{DriveResult, WalkEntry, WalkRequest};
use futures::future::join_all;
use std::sync::Arc;
use tokio::sync::mpsc;

/// One listed item.
#[derive(Debug, Clone, PartialEq, Eq)]
// Nearly every entry is an object: boxing it would add an allocation per entry and save nothing.
#[allow(clippy::large_enum_variant)]
pub enum ListEntry {
    Object(ObjectInfo),
    Prefix(String),
}

impl ListEntry {
    pub fn key(&self) -> &str {
        match self {
            ListEntry::Object(o) => &o.key,
            ListEntry::Prefix(p) => p,
        }
    }
}

/// A page of a listing.
#[derive(Debug, Default)]
pub struct ListPage {
    pub entries: Vec<ListEntry>,
    /// More entries follow the last one.
    pub truncated: bool,
}

/// Merges sorted channels, yielding all heads that share the smallest key together.
pub(crate) struct Merger<T> {
    rxs: Vec<mpsc::Receiver<T>>,
    heads: Vec<Option<T>>,
    started: bool,
}

impl<T> Merger<T> {
    pub(crate) fn new(rxs: Vec<mpsc::Receiver<T>>) -> Self {
        let heads = rxs.iter().map(|_| None).collect();
        Merger {
            rxs,
            heads,
            started: false,
        }
    }

    pub(crate) async fn next_group(&mut self, key: impl Fn(&T) -> &str) -> Option<Vec<(usize, T)>> {
        if !self.started {
            self.started = true;
            for (h, rx) in self.heads.iter_mut().zip(&mut self.rxs) {
                *h = rx.recv().await;
            }
        }
        let min = self.heads.iter().flatten().map(&key).min()?.to_string();
        let mut group = Vec::new();
        for i in 0..self.heads.len() {
            if self.heads[i].as_ref().map(&key) == Some(min.as_str()) {
                let item = self.heads[i].take().expect("checked above");
                group.push((i, item));
                self.heads[i] = self.rxs[i].recv().await;
            }
        }
        Some(group)
    }
}

impl ErasureSet {
    /// Walks the set, yielding quorum-resolved entries in key order.
    async fn walk_resolved(
        self: Arc<Self>,
        bucket: String,
        req: WalkRequest,
    ) -> mpsc::Receiver<ListEntry> {
        let (tx, rx) = mpsc::channel(64);
        let walks = join_all(self.drives.iter().map(|d| d.walk(&bucket, req.clone()))).await;
        let rxs: Vec<mpsc::Receiver<DriveResult<WalkEntry>>> =
            walks.into_iter().filter_map(Result::ok).collect();
        tokio::spawn(async move {
            let mut m = Merger::new(rxs);
            let key = |r: &DriveResult<WalkEntry>| match r {
                Ok(e) => e.key().to_string(),
                Err(_) => String::new(),
            };
            while let Some(group) = m
                .next_group(|r| match r {
                    Ok(e) => e.key(),
                    Err(_) => "",
                })
                .await
            {
                let first_key = key(&group[0].1);
                if first_key.is_empty() {
                    for (_, r) in &group {
                        if let Err(e) = r {
                            tracing::warn!(error = %e, "drive walk failed");
                        }
                    }
                    continue;
                }
                let entry = if group
                    .iter()
                    .any(|(_, r)| matches!(r, Ok(WalkEntry::Prefix(_))))
                {
                    Some(ListEntry::Prefix(first_key))
                } else {
                    let mut results: Vec<DriveResult<crate::store::meta::ObjectMeta>> =
                        (0..self.drives.len())
                            .map(|_| Err(crate::store::DriveError::NotFound))
                            .collect();
                    for (slot, (_, r)) in group.into_iter().enumerate() {
                        if let Ok(WalkEntry::Object { meta, .. }) = r {
                            results[slot] = Ok(meta);
                        }
                    }
                    match self.resolve(&bucket, &first_key, &results, None) {
                        Ok(r) if !r.version.delete_marker => Some(ListEntry::Object(
                            ObjectInfo::from_version(&bucket, &first_key, &r.version),
                        )),
                        _ => None,
                    }
                };
                if let Some(e) = entry {
                    if tx.send(e).await.is_err() {
                        return;
                    }
                }
            }
        });
        rx
    }
}

impl ObjectLayer {
    /// One page of `bucket`'s objects under `prefix`, after `start_after`, rolled up at
    /// `delimiter`, at most `max` entries.
    pub async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<&str>,
        max: usize,
    ) -> ObjResult<ListPage> {
        self.bucket_info(bucket).await?;
        let delimiter = delimiter.filter(|d| !d.is_empty());
        let req = WalkRequest {
            prefix: prefix.into(),
            start_after: start_after.map(str::to_string),
            recursive: delimiter != Some("/"),
        };
        let mut rxs = Vec::new();
        for set in self.sets() {
            rxs.push(
                set.clone()
                    .walk_resolved(bucket.to_string(), req.clone())
                    .await,
            );
        }
        let mut merger = Merger::new(rxs);
        let mut page = ListPage::default();
        let mut last_prefix: Option<String> = None;
        while let Some(group) = merger.next_group(ListEntry::key).await {
            // The same key in several pools: the newest wins.
            let entry = group
                .into_iter()
                .map(|(_, e)| e)
                .max_by_key(|e| match e {
                    ListEntry::Object(o) => o.mod_time_nanos,
                    ListEntry::Prefix(_) => i64::MIN,
                })
                .expect("groups are never empty");
            let entry = match (delimiter, &entry) {
                (Some(d), ListEntry::Object(o)) if d != "/" => {
                    match o.key[prefix.len()..].find(d) {
                        Some(pos) => {
                            ListEntry::Prefix(o.key[..prefix.len() + pos + d.len()].to_string())
                        }
                        None => entry,
                    }
                }
                _ => entry,
            };
            if let ListEntry::Prefix(p) = &entry {
                if last_prefix.as_deref() == Some(p)
                    || start_after.is_some_and(|s| s.starts_with(p.as_str()))
                {
                    continue;
                }
                last_prefix = Some(p.clone());
            }
            if page.entries.len() == max {
                page.truncated = true;
                break;
            }
            page.entries.push(entry);
        }
        Ok(page)
    }
}

/// One entry of a version listing: a version (or delete marker) with whether it is the key's
/// latest, or a common prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
// Nearly every entry is a version: boxing it would add an allocation per entry and save nothing.
#[allow(clippy::large_enum_variant)]
pub enum VersionEntry {
    Version { info: ObjectInfo, is_latest: bool },
    Prefix(String),
}

/// A page of a version listing.
#[derive(Debug, Default)]
pub struct VersionsPage {
    pub entries: Vec<VersionEntry>,
    /// More entries follow: the next page starts after this key and (when the page ended
    /// inside a key's versions) this version.
    pub next: Option<(String, Option<Option<uuid::Uuid>>)>,
}

/// Per key, every agreed version (newest first); or a common prefix.
enum KeyVersions {
    Key(String, Vec<crate::store::meta::ObjectVersion>),
    Prefix(String),
}

impl KeyVersions {
    fn key(&self) -> &str {
        match self {
            KeyVersions::Key(k, _) | KeyVersions::Prefix(k) => k,
        }
    }
}

impl ErasureSet {
    /// Walks the set, yielding each key's agreed versions in key order.
    async fn walk_versions(
        self: Arc<Self>,
        bucket: String,
        req: WalkRequest,
    ) -> mpsc::Receiver<KeyVersions> {
        let (tx, rx) = mpsc::channel(64);
        let walks = join_all(self.drives.iter().map(|d| d.walk(&bucket, req.clone()))).await;
        let rxs: Vec<mpsc::Receiver<DriveResult<WalkEntry>>> =
            walks.into_iter().filter_map(Result::ok).collect();
        tokio::spawn(async move {
            let mut m = Merger::new(rxs);
            while let Some(group) = m
                .next_group(|r| match r {
                    Ok(e) => e.key(),
                    Err(_) => "",
                })
                .await
            {
                let key = match &group[0].1 {
                    Ok(e) => e.key().to_string(),
                    Err(_) => continue,
                };
                let entry = if group
                    .iter()
                    .any(|(_, r)| matches!(r, Ok(WalkEntry::Prefix(_))))
                {
                    KeyVersions::Prefix(key)
                } else {
                    let metas: Vec<DriveResult<crate::store::meta::ObjectMeta>> = group
                        .into_iter()
                        .filter_map(|(_, r)| match r {
                            Ok(WalkEntry::Object { meta, .. }) => Some(Ok(meta)),
                            _ => None,
                        })
                        .collect();
                    let versions: Vec<_> = super::set::agreed_versions(&metas)
                        .into_iter()
                        .map(|a| a.version)
                        .collect();
                    if versions.is_empty() {
                        continue;
                    }
                    KeyVersions::Key(key, versions)
                };
                if tx.send(entry).await.is_err() {
                    return;
                }
            }
        });
        rx
    }
}

impl ObjectLayer {
    /// One page of `bucket`'s versions under `prefix`, rolled up at `delimiter`, starting after
    /// `key_marker` (and, within that key, after version `version_marker`), at most `max`.
    pub async fn list_versions_page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        key_marker: Option<&str>,
        version_marker: Option<Option<uuid::Uuid>>,
        max: usize,
    ) -> ObjResult<VersionsPage> {
        self.bucket_info(bucket).await?;
        let delimiter = delimiter.filter(|d| !d.is_empty());
        let mut page = VersionsPage::default();
        // The rest of the marker key's versions first.
        if let (Some(key), Some(after)) = (key_marker, version_marker) {
            if key.starts_with(prefix) {
                let set = self.set_for(bucket, key).await?;
                let metas = set.read_metas(bucket, key).await;
                let versions: Vec<_> = super::set::agreed_versions(&metas)
                    .into_iter()
                    .map(|a| a.version)
                    .collect();
                if let Some(pos) = versions.iter().position(|v| v.version_id == after) {
                    for (i, v) in versions.iter().enumerate().skip(pos + 1) {
                        if page.entries.len() == max {
                            page.next = Some((key.to_string(), Some(versions[i - 1].version_id)));
                            return Ok(page);
                        }
                        page.entries.push(VersionEntry::Version {
                            info: ObjectInfo::from_version(bucket, key, v),
                            is_latest: i == 0,
                        });
                    }
                }
            }
        }
        let req = WalkRequest {
            prefix: prefix.into(),
            start_after: key_marker.map(str::to_string),
            recursive: delimiter != Some("/"),
        };
        let mut rxs = Vec::new();
        for set in self.sets() {
            rxs.push(
                set.clone()
                    .walk_versions(bucket.to_string(), req.clone())
                    .await,
            );
        }
        let mut merger = Merger::new(rxs);
        let mut last_prefix: Option<String> = None;
        while let Some(group) = merger.next_group(KeyVersions::key).await {
            let entry = group
                .into_iter()
                .map(|(_, e)| e)
                .next()
                .expect("groups are never empty");
            let rolled = match (&entry, delimiter) {
                (KeyVersions::Prefix(p), _) => Some(p.clone()),
                (KeyVersions::Key(k, _), Some(d)) if d != "/" => k[prefix.len()..]
                    .find(d)
                    .map(|pos| k[..prefix.len() + pos + d.len()].to_string()),
                _ => None,
            };
            if let Some(p) = rolled {
                if last_prefix.as_deref() == Some(p.as_str())
                    || key_marker.is_some_and(|m| m.starts_with(p.as_str()))
                {
                    continue;
                }
                if page.entries.len() == max {
                    page.next = page.entries.last().map(next_marker);
                    return Ok(page);
                }
                last_prefix = Some(p.clone());
                page.entries.push(VersionEntry::Prefix(p));
                continue;
            }
            let KeyVersions::Key(key, versions) = entry else {
                continue;
            };
            for (i, v) in versions.iter().enumerate() {
                if page.entries.len() == max {
                    page.next = page.entries.last().map(next_marker);
                    return Ok(page);
                }
                page.entries.push(VersionEntry::Version {
                    info: ObjectInfo::from_version(bucket, &key, v),
                    is_latest: i == 0,
                });
            }
        }
        Ok(page)
    }
}

/// The markers that resume a listing after `e`.
fn next_marker(e: &VersionEntry) -> (String, Option<Option<uuid::Uuid>>) {
    match e {
        VersionEntry::Version { info, .. } => (info.key.clone(), Some(info.version_id)),
        VersionEntry::Prefix(p) => (p.clone(), None),
    }
}
