//! Object lock: a bucket's lock configuration (enabled at creation, or later on a versioned
//! bucket; versioning then stays enabled), its default retention applied to new versions, and the
//! rules that keep a locked version: a version under legal hold, under COMPLIANCE retention, or
//! under GOVERNANCE retention without the bypass, cannot be deleted, and its retention can only
//! be lengthened. Checked under the key's write lock by every path that removes a version
//! (DELETE, DeleteObjects, lifecycle).

use super::{ObjError, ObjResult};
use crate::store::meta::{LockMode, ObjectVersion, Retention};
use serde::{Deserialize, Serialize};

const DAY_NANOS: i64 = 86_400 * 1_000_000_000;

/// A bucket's default retention: new versions get `mode` for `days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultRetention {
    pub mode: LockMode,
    pub days: u32,
}

/// A bucket's object-lock configuration (present: object lock is enabled).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockConfig {
    pub default_retention: Option<DefaultRetention>,
}

impl LockConfig {
    /// The retention a version written at `now_nanos` gets when its request named none.
    pub fn retention_at(&self, now_nanos: i64) -> Option<Retention> {
        self.default_retention.map(|d| Retention {
            mode: d.mode,
            until_nanos: now_nanos.saturating_add(i64::from(d.days).saturating_mul(DAY_NANOS)),
        })
    }
}

/// Whether the retention `r` still holds at `now_nanos`.
fn active(r: &Retention, now_nanos: i64) -> bool {
    r.until_nanos > now_nanos
}

/// Refuses to remove `v` while it is locked; `bypass_governance`: the request carried
/// `x-amz-bypass-governance-retention: true`.
pub fn check_removal(v: &ObjectVersion, bypass_governance: bool, now_nanos: i64) -> ObjResult<()> {
    if v.attrs.legal_hold {
        return Err(ObjError::Locked(
            "the version is under a legal hold; remove the hold first".into(),
        ));
    }
    match &v.attrs.retention {
        Some(r) if active(r, now_nanos) => match r.mode {
            LockMode::Compliance => Err(ObjError::Locked(
                "the version is under COMPLIANCE retention until its retain-until date".into(),
            )),
            LockMode::Governance if !bypass_governance => Err(ObjError::Locked(
                "the version is under GOVERNANCE retention; send x-amz-bypass-governance-retention: true to override"
                    .into(),
            )),
            LockMode::Governance => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Checks a change of retention from `old` to `new`: COMPLIANCE can only be lengthened, never
/// weakened; GOVERNANCE can be shortened, removed or weakened only with the bypass.
pub fn check_retention_change(
    old: Option<&Retention>,
    new: Option<&Retention>,
    bypass_governance: bool,
    now_nanos: i64,
) -> ObjResult<()> {
    let Some(old) = old.filter(|o| active(o, now_nanos)) else {
        return Ok(());
    };
    let stronger = new.is_some_and(|n| {
        n.until_nanos >= old.until_nanos
            && (n.mode == LockMode::Compliance || old.mode == LockMode::Governance)
    });
    if stronger {
        return Ok(());
    }
    match old.mode {
        LockMode::Compliance => Err(ObjError::Locked(
            "COMPLIANCE retention can only be lengthened".into(),
        )),
        LockMode::Governance if !bypass_governance => Err(ObjError::Locked(
            "shortening or removing GOVERNANCE retention needs x-amz-bypass-governance-retention: true"
                .into(),
        )),
        LockMode::Governance => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(mode: LockMode, until: i64) -> Retention {
        Retention {
            mode,
            until_nanos: until,
        }
    }

    #[test]
    fn compliance_only_lengthens_governance_needs_the_bypass() {
        use LockMode::*;
        let now = 1_000;
        let c = r(Compliance, 2_000);
        assert!(check_retention_change(Some(&c), Some(&r(Compliance, 3_000)), false, now).is_ok());
        assert!(check_retention_change(Some(&c), Some(&r(Compliance, 1_500)), true, now).is_err());
        assert!(check_retention_change(Some(&c), Some(&r(Governance, 3_000)), true, now).is_err());
        assert!(check_retention_change(Some(&c), None, true, now).is_err());
        let g = r(Governance, 2_000);
        assert!(check_retention_change(Some(&g), Some(&r(Compliance, 2_000)), false, now).is_ok());
        assert!(check_retention_change(Some(&g), Some(&r(Governance, 1_500)), false, now).is_err());
        assert!(check_retention_change(Some(&g), None, true, now).is_ok());
        // An expired retention no longer binds.
        assert!(check_retention_change(Some(&c), None, false, 2_000).is_ok());
    }

    #[test]
    fn locked_versions_are_not_removed() {
        let mut v: ObjectVersion = crate::store::meta::tests_support::version();
        assert!(check_removal(&v, false, 0).is_ok());
        v.attrs.retention = Some(r(LockMode::Governance, 10));
        assert!(check_removal(&v, false, 5).is_err());
        assert!(check_removal(&v, true, 5).is_ok());
        assert!(check_removal(&v, false, 10).is_ok());
        v.attrs.retention = Some(r(LockMode::Compliance, 10));
        assert!(check_removal(&v, true, 5).is_err());
        v.attrs.retention = None;
        v.attrs.legal_hold = true;
        assert!(check_removal(&v, true, 5).is_err());
    }
}
