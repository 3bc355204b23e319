//! Walking a bucket in key order for listings.
//!
//! A listing's prefix is split at its last `/`: the part before it names the directory to start
//! from and must itself be a valid key path (no `..`, no leading `/`, no NUL, no empty component),
//! else no key can carry the prefix and the walk yields nothing; the part after it only filters
//! names. No other listing input (delimiter, markers, tokens) ever reaches a path: they are
//! compared with keys, nothing more.

use super::paths::Fs;
use crate::store::meta::ObjectMeta;
use crate::store::{DriveError, DriveResult, WalkEntry, WalkRequest, SYS_DIR};
use rustfs_common::names::{check_key, dir_key, META_FILE};
use std::fs;
use std::io;
use std::path::Path;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Where a walk for `prefix` starts: the directory part (validated, ends with `/`, or empty) and
/// the name filter. `None` when no valid key can start with `prefix`.
pub(crate) fn walk_base(prefix: &str) -> Option<(&str, &str)> {
    let (base, filter) = match prefix.rfind('/') {
        Some(i) => (&prefix[..=i], &prefix[i + 1..]),
        None => ("", prefix),
    };
    if !base.is_empty() && check_key(base).is_err() {
        return None;
    }
    if filter.contains('\0') {
        return None;
    }
    Some((base, filter))
}

impl Fs {
    /// Walks `bucket` in key order, sending entries until the receiver goes away.
    pub fn walk(&self, bucket: &str, req: &WalkRequest, tx: &mpsc::Sender<DriveResult<WalkEntry>>) {
        let Some((base, filter)) = walk_base(&req.prefix) else {
            return;
        };
        let bucket_dir = match self.bucket(bucket) {
            Ok(d) => d,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        let dir = bucket_dir.join(base.trim_end_matches('/'));
        // A directory object equal to the prefix ("dir/") lives beside the directory, not in it.
        if filter.is_empty()
            && !base.is_empty()
            && req.start_after.as_deref().is_none_or(|a| a < base)
        {
            if let Ok(obj) = self.object(bucket, base) {
                if let Ok(buf) = fs::read(obj.join(META_FILE)) {
                    let entry = ObjectMeta::decode(&buf)
                        .map(|meta| WalkEntry::Object {
                            key: base.to_string(),
                            meta,
                        })
                        .map_err(|e| DriveError::Corrupt(e.to_string()));
                    if tx.blocking_send(entry).is_err() {
                        return;
                    }
                }
            }
        }
        if let Err(e) = self.walk_dir(&dir, base, filter, req, tx) {
            if e.kind() != io::ErrorKind::NotFound && e.kind() != io::ErrorKind::NotADirectory {
                let _ = tx.blocking_send(Err(self.err(e)));
            }
        }
    }

    /// Returns `Ok(false)` when the receiver is gone (stop walking).
    fn walk_dir(
        &self,
        dir: &Path,
        base: &str,
        filter: &str,
        req: &WalkRequest,
        tx: &mpsc::Sender<DriveResult<WalkEntry>>,
    ) -> io::Result<bool> {
        let entries = self.read_dir_names(dir)?;
        let is_object_dir = entries.iter().any(|(n, d)| !d && n == META_FILE);
        // (sort key, is_descend, dir name)
        let mut items: Vec<(String, bool, String)> = Vec::new();
        for (name, is_dir) in entries {
            if !is_dir || (base.is_empty() && name == SYS_DIR) {
                continue;
            }
            if is_object_dir
                && Uuid::parse_str(&name).is_ok()
                && !dir.join(&name).join(META_FILE).exists()
            {
                continue; // a data dir of the object stored here
            }
            let key_part = dir_key(&name);
            if !key_part.starts_with(filter) {
                continue;
            }
            if key_part.ends_with('/') {
                items.push((key_part, false, name));
            } else {
                items.push((key_part.clone(), false, name.clone()));
                items.push((format!("{key_part}/"), true, name));
            }
        }
        items.sort();
        let after = req.start_after.as_deref().unwrap_or("");
        for (sort_key, descend, name) in items {
            let full = format!("{base}{sort_key}");
            let path = dir.join(&name);
            if descend {
                if !after.is_empty() && full.as_str() <= after && !after.starts_with(&full) {
                    continue;
                }
                if req.recursive {
                    if !self.walk_dir(&path, &full, "", req, tx)? {
                        return Ok(false);
                    }
                } else if full.as_str() > after
                    && self.has_children(&path)
                    && tx.blocking_send(Ok(WalkEntry::Prefix(full))).is_err()
                {
                    return Ok(false);
                }
            } else {
                if full.as_str() <= after {
                    continue;
                }
                if !req.recursive && full.ends_with('/') {
                    // "dir/" rolls up into the common prefix "dir/" (reported by the descend item).
                    if !dir.join(sort_key.trim_end_matches('/')).exists()
                        && tx.blocking_send(Ok(WalkEntry::Prefix(full))).is_err()
                    {
                        return Ok(false);
                    }
                    continue;
                }
                let meta_path = path.join(META_FILE);
                let entry = match fs::read(&meta_path) {
                    Ok(buf) => match ObjectMeta::decode(&buf) {
                        Ok(meta) => Ok(WalkEntry::Object { key: full, meta }),
                        Err(e) => Err(DriveError::Corrupt(format!("{}: {e}", meta_path.display()))),
                    },
                    Err(_) => continue, // a plain directory, not an object
                };
                if tx.blocking_send(entry).is_err() {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// True when `dir` holds anything besides an object's own meta and data dirs.
    pub fn has_children(&self, dir: &Path) -> bool {
        let Ok(entries) = self.read_dir_names(dir) else {
            return false;
        };
        let is_object_dir = entries.iter().any(|(n, d)| !d && n == META_FILE);
        entries.iter().any(|(n, d)| {
            *d && !(is_object_dir
                && Uuid::parse_str(n).is_ok()
                && !dir.join(n).join(META_FILE).exists())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::walk_base;

    #[test]
    fn prefixes_that_no_key_can_carry_walk_nothing() {
        for bad in [
            "/etc/",
            "/",
            "../../",
            "a/../../../",
            "a/../../..",
            "./",
            "a//",
            "a\0/",
            "\0",
            "x/rustfs.meta/",
        ] {
            assert!(walk_base(bad).is_none(), "{bad:?}");
        }
        assert_eq!(walk_base(""), Some(("", "")));
        assert_eq!(walk_base("pho"), Some(("", "pho")));
        assert_eq!(
            walk_base(".."),
            Some(("", "..")),
            "a name filter, never a path"
        );
        assert_eq!(walk_base("2026/ca"), Some(("2026/", "ca")));
        assert_eq!(walk_base("a/b/"), Some(("a/b/", "")));
    }
}
