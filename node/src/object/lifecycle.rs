//! Lifecycle rules and what they decide for one key: pure functions of the rules, the key's
//! versions (newest first) and the time, so every decision is unit-tested without a cluster.
//! They are part of a bucket's configuration ([`super::config`]); the scanner's visitor that
//! applies them is `crate::lifecycle` (which re-exports this module as `lifecycle::rules`).

use crate::store::meta::ObjectVersion;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Which objects a rule applies to: all of these must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    pub prefix: String,
    /// Tags the version must carry (every one).
    pub tags: BTreeMap<String, String>,
    pub size_greater_than: Option<u64>,
    pub size_less_than: Option<u64>,
}

impl Filter {
    fn matches_key(&self, key: &str) -> bool {
        key.starts_with(&self.prefix)
    }

    fn matches(&self, key: &str, v: &ObjectVersion) -> bool {
        self.matches_key(key)
            && self
                .tags
                .iter()
                .all(|(k, val)| v.attrs.tags.get(k) == Some(val))
            && self.size_greater_than.is_none_or(|n| v.size > n)
            && self.size_less_than.is_none_or(|n| v.size < n)
    }
}

/// One lifecycle rule of a bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rule {
    pub id: Option<String>,
    pub enabled: bool,
    pub filter: Filter,
    /// The current version expires this many days after it was written...
    pub expiration_days: Option<u32>,
    /// ...or on this date (nanoseconds since the epoch).
    pub expiration_date_nanos: Option<i64>,
    /// A delete marker with no versions left behind it is removed.
    pub expired_object_delete_marker: bool,
    /// A noncurrent version is removed this many days after it became noncurrent...
    pub noncurrent_days: Option<u32>,
    /// ...except the newest this many noncurrent versions.
    pub newer_noncurrent_versions: Option<u32>,
    /// An upload not completed this many days after it started is aborted.
    pub abort_upload_days: Option<u32>,
}

/// What lifecycle does to one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The current version (`version id`, `mod time`) expires: a delete marker goes over it in a
    /// bucket that keeps history, else it is removed.
    ExpireCurrent(Option<Uuid>, i64),
    /// A noncurrent version, or a delete marker with nothing behind it, is removed.
    Remove(Option<Uuid>, i64),
}

/// What the rules decide for `key`, whose versions are `versions` (newest first), at `now`
/// (nanoseconds), a lifecycle day lasting `day` nanoseconds.
pub fn evaluate(
    rules: &[Rule],
    key: &str,
    versions: &[ObjectVersion],
    now: i64,
    day: i64,
) -> Vec<Action> {
    let mut out = Vec::new();
    let Some(latest) = versions.first() else {
        return out;
    };
    let rules: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.enabled && r.filter.matches_key(key))
        .collect();
    let after = |t: i64, days: u32| now >= t.saturating_add(i64::from(days).saturating_mul(day));
    if latest.delete_marker {
        if versions.len() == 1 && rules.iter().any(|r| r.expired_object_delete_marker) {
            out.push(Action::Remove(latest.version_id, latest.mod_time_nanos));
        }
    } else if rules.iter().any(|r| {
        r.filter.matches(key, latest)
            && (r
                .expiration_days
                .is_some_and(|d| after(latest.mod_time_nanos, d))
                || r.expiration_date_nanos.is_some_and(|t| now >= t))
    }) {
        out.push(Action::ExpireCurrent(
            latest.version_id,
            latest.mod_time_nanos,
        ));
    }
    // Noncurrent versions: each became noncurrent when the next newer one was written.
    for (i, pair) in versions.windows(2).enumerate() {
        let (newer, v) = (&pair[0], &pair[1]);
        let noncurrent_seen = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let expired = rules.iter().any(|r| {
            r.filter.matches(key, v)
                && r.noncurrent_days
                    .is_some_and(|d| after(newer.mod_time_nanos, d))
                && r.newer_noncurrent_versions
                    .is_none_or(|keep| noncurrent_seen > keep)
        });
        if expired {
            out.push(Action::Remove(v.version_id, v.mod_time_nanos));
        }
    }
    out
}

/// Whether an upload of `key` started at `initiated` is to be aborted.
pub fn abort_upload(rules: &[Rule], key: &str, initiated: i64, now: i64, day: i64) -> bool {
    rules.iter().any(|r| {
        r.enabled
            && r.filter.matches_key(key)
            && r.abort_upload_days
                .is_some_and(|d| now >= initiated.saturating_add(i64::from(d).saturating_mul(day)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 1_000;

    fn v(id: u128, t: i64, marker: bool) -> ObjectVersion {
        let mut v = crate::store::meta::tests_support::version();
        v.version_id = Some(Uuid::from_u128(id));
        v.mod_time_nanos = t;
        v.delete_marker = marker;
        v
    }

    fn rule(f: impl FnOnce(&mut Rule)) -> Vec<Rule> {
        let mut r = Rule {
            enabled: true,
            ..Default::default()
        };
        f(&mut r);
        vec![r]
    }

    #[test]
    fn current_versions_expire_by_age_or_date() {
        let rules = rule(|r| r.expiration_days = Some(2));
        let versions = [v(1, 0, false)];
        assert!(evaluate(&rules, "k", &versions, 1_999, DAY).is_empty());
        assert_eq!(
            evaluate(&rules, "k", &versions, 2_000, DAY),
            [Action::ExpireCurrent(Some(Uuid::from_u128(1)), 0)]
        );
        let dated = rule(|r| r.expiration_date_nanos = Some(500));
        assert_eq!(evaluate(&dated, "k", &versions, 500, DAY).len(), 1);
        let disabled = rule(|r| {
            r.expiration_days = Some(0);
            r.enabled = false;
        });
        assert!(evaluate(&disabled, "k", &versions, 9_999, DAY).is_empty());
    }

    #[test]
    fn filters_by_prefix_tags_and_size() {
        let mut tagged = v(1, 0, false);
        tagged.attrs.tags.insert("tier".into(), "tmp".into());
        tagged.size = 42;
        let rules = rule(|r| {
            r.expiration_days = Some(0);
            r.filter.prefix = "logs/".into();
            r.filter.tags.insert("tier".into(), "tmp".into());
            r.filter.size_greater_than = Some(10);
            r.filter.size_less_than = Some(100);
        });
        assert_eq!(
            evaluate(&rules, "logs/a", &[tagged.clone()], 0, DAY).len(),
            1
        );
        assert!(evaluate(&rules, "data/a", &[tagged.clone()], 0, DAY).is_empty());
        let mut small = tagged.clone();
        small.size = 5;
        assert!(evaluate(&rules, "logs/a", &[small], 0, DAY).is_empty());
        let mut untagged = tagged;
        untagged.attrs.tags.clear();
        assert!(evaluate(&rules, "logs/a", &[untagged], 0, DAY).is_empty());
    }

    #[test]
    fn noncurrent_versions_expire_keeping_the_newest() {
        // Newest first: v4 current; v3 noncurrent since 4_000, v2 since 3_000, v1 since 2_000.
        let versions = [
            v(4, 4_000, false),
            v(3, 3_000, false),
            v(2, 2_000, false),
            v(1, 1_000, false),
        ];
        let rules = rule(|r| r.noncurrent_days = Some(1));
        let ids = |a: Vec<Action>| -> Vec<u128> {
            a.iter()
                .map(|a| match a {
                    Action::Remove(Some(id), _) | Action::ExpireCurrent(Some(id), _) => {
                        id.as_u128()
                    }
                    _ => 0,
                })
                .collect()
        };
        assert_eq!(ids(evaluate(&rules, "k", &versions, 4_500, DAY)), [2, 1]);
        assert_eq!(ids(evaluate(&rules, "k", &versions, 5_000, DAY)), [3, 2, 1]);
        let keep_two = rule(|r| {
            r.noncurrent_days = Some(1);
            r.newer_noncurrent_versions = Some(2);
        });
        assert_eq!(ids(evaluate(&keep_two, "k", &versions, 9_000, DAY)), [1]);
    }

    #[test]
    fn lone_delete_markers_are_removed_when_asked() {
        let rules = rule(|r| r.expired_object_delete_marker = true);
        let lone = [v(2, 10, true)];
        assert_eq!(
            evaluate(&rules, "k", &lone, 10, DAY),
            [Action::Remove(Some(Uuid::from_u128(2)), 10)]
        );
        let covering = [v(2, 10, true), v(1, 5, false)];
        assert!(evaluate(&rules, "k", &covering, 10, DAY).is_empty());
    }

    #[test]
    fn stale_uploads_are_aborted() {
        let rules = rule(|r| r.abort_upload_days = Some(3));
        assert!(!abort_upload(&rules, "k", 0, 2_999, DAY));
        assert!(abort_upload(&rules, "k", 0, 3_000, DAY));
    }
}
