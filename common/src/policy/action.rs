//! The action catalogue: every S3, admin and STS action a policy can name, the resource each S3
//! action is checked against, and [`ActionSet`], the bitset a statement's `Action` / `NotAction`
//! list compiles into so that evaluation is one bit test.

use std::fmt;
use std::str::FromStr;

use super::pattern::{Pattern, Syntax};

/// What an action is checked against, which decides the resource string a request builds (see
/// [`crate::policy::RequestContext`]) and whether a statement may omit `Resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionScope {
    /// An S3 action on an object: resource `arn:aws:s3:::bucket/key`.
    Object,
    /// An S3 action on a bucket: resource `arn:aws:s3:::bucket`.
    Bucket,
    /// An S3 action on the whole service (`s3:ListAllMyBuckets`): matched by `arn:aws:s3:::*`.
    Service,
    /// A MinIO admin API action (`admin:*`): no bucket, a statement may omit `Resource`.
    Admin,
    /// A security token service action (`sts:*`): no bucket, a statement may omit `Resource`.
    Sts,
}

impl ActionScope {
    /// Whether the action belongs to the `s3:` namespace.
    pub fn is_s3(self) -> bool {
        matches!(self, Self::Object | Self::Bucket | Self::Service)
    }
}

macro_rules! actions {
    ($($variant:ident => $name:literal, $scope:ident;)*) => {
        /// One action a request performs, with its AWS (S3, STS) or MinIO (admin) name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Action {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Action {
            /// Every action, in declaration order (the order of [`ActionSet`] bits).
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The action's name as written in policies, e.g. `s3:GetObject`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// What the action is checked against.
            pub const fn scope(self) -> ActionScope {
                match self {
                    $(Action::$variant => ActionScope::$scope,)*
                }
            }
        }
    };
}

actions! {
    // S3, on objects.
    GetObject => "s3:GetObject", Object;
    PutObject => "s3:PutObject", Object;
    DeleteObject => "s3:DeleteObject", Object;
    GetObjectVersion => "s3:GetObjectVersion", Object;
    DeleteObjectVersion => "s3:DeleteObjectVersion", Object;
    GetObjectTagging => "s3:GetObjectTagging", Object;
    PutObjectTagging => "s3:PutObjectTagging", Object;
    DeleteObjectTagging => "s3:DeleteObjectTagging", Object;
    GetObjectVersionTagging => "s3:GetObjectVersionTagging", Object;
    PutObjectVersionTagging => "s3:PutObjectVersionTagging", Object;
    DeleteObjectVersionTagging => "s3:DeleteObjectVersionTagging", Object;
    ListMultipartUploadParts => "s3:ListMultipartUploadParts", Object;
    AbortMultipartUpload => "s3:AbortMultipartUpload", Object;
    GetObjectRetention => "s3:GetObjectRetention", Object;
    PutObjectRetention => "s3:PutObjectRetention", Object;
    BypassGovernanceRetention => "s3:BypassGovernanceRetention", Object;
    GetObjectLegalHold => "s3:GetObjectLegalHold", Object;
    PutObjectLegalHold => "s3:PutObjectLegalHold", Object;
    GetObjectAttributes => "s3:GetObjectAttributes", Object;
    GetObjectVersionAttributes => "s3:GetObjectVersionAttributes", Object;
    GetObjectAcl => "s3:GetObjectAcl", Object;
    PutObjectAcl => "s3:PutObjectAcl", Object;
    ReplicateObject => "s3:ReplicateObject", Object;
    // S3, on buckets.
    ListBucket => "s3:ListBucket", Bucket;
    GetBucketLocation => "s3:GetBucketLocation", Bucket;
    ListBucketVersions => "s3:ListBucketVersions", Bucket;
    ListBucketMultipartUploads => "s3:ListBucketMultipartUploads", Bucket;
    CreateBucket => "s3:CreateBucket", Bucket;
    DeleteBucket => "s3:DeleteBucket", Bucket;
    GetBucketVersioning => "s3:GetBucketVersioning", Bucket;
    PutBucketVersioning => "s3:PutBucketVersioning", Bucket;
    GetLifecycleConfiguration => "s3:GetLifecycleConfiguration", Bucket;
    PutLifecycleConfiguration => "s3:PutLifecycleConfiguration", Bucket;
    GetBucketTagging => "s3:GetBucketTagging", Bucket;
    PutBucketTagging => "s3:PutBucketTagging", Bucket;
    GetBucketPolicy => "s3:GetBucketPolicy", Bucket;
    PutBucketPolicy => "s3:PutBucketPolicy", Bucket;
    DeleteBucketPolicy => "s3:DeleteBucketPolicy", Bucket;
    GetBucketPolicyStatus => "s3:GetBucketPolicyStatus", Bucket;
    GetBucketCors => "s3:GetBucketCORS", Bucket;
    PutBucketCors => "s3:PutBucketCORS", Bucket;
    GetBucketObjectLockConfiguration => "s3:GetBucketObjectLockConfiguration", Bucket;
    PutBucketObjectLockConfiguration => "s3:PutBucketObjectLockConfiguration", Bucket;
    GetBucketAcl => "s3:GetBucketAcl", Bucket;
    PutBucketAcl => "s3:PutBucketAcl", Bucket;
    GetReplicationConfiguration => "s3:GetReplicationConfiguration", Bucket;
    PutReplicationConfiguration => "s3:PutReplicationConfiguration", Bucket;
    GetBucketNotification => "s3:GetBucketNotification", Bucket;
    PutBucketNotification => "s3:PutBucketNotification", Bucket;
    // S3, on the service.
    ListAllMyBuckets => "s3:ListAllMyBuckets", Service;
    // MinIO admin API.
    AdminHeal => "admin:Heal", Admin;
    AdminStorageInfo => "admin:StorageInfo", Admin;
    AdminDataUsageInfo => "admin:DataUsageInfo", Admin;
    AdminTopLocksInfo => "admin:TopLocksInfo", Admin;
    AdminProfiling => "admin:Profiling", Admin;
    AdminPrometheus => "admin:Prometheus", Admin;
    AdminServerTrace => "admin:ServerTrace", Admin;
    AdminConsoleLog => "admin:ConsoleLog", Admin;
    AdminServerInfo => "admin:ServerInfo", Admin;
    AdminObdInfo => "admin:OBDInfo", Admin;
    AdminBandwidthMonitor => "admin:BandwidthMonitor", Admin;
    AdminServerUpdate => "admin:ServerUpdate", Admin;
    AdminServiceRestart => "admin:ServiceRestart", Admin;
    AdminServiceStop => "admin:ServiceStop", Admin;
    AdminServiceFreeze => "admin:ServiceFreeze", Admin;
    AdminConfigUpdate => "admin:ConfigUpdate", Admin;
    AdminCreateUser => "admin:CreateUser", Admin;
    AdminDeleteUser => "admin:DeleteUser", Admin;
    AdminListUsers => "admin:ListUsers", Admin;
    AdminEnableUser => "admin:EnableUser", Admin;
    AdminDisableUser => "admin:DisableUser", Admin;
    AdminGetUser => "admin:GetUser", Admin;
    AdminAddUserToGroup => "admin:AddUserToGroup", Admin;
    AdminRemoveUserFromGroup => "admin:RemoveUserFromGroup", Admin;
    AdminGetGroup => "admin:GetGroup", Admin;
    AdminListGroups => "admin:ListGroups", Admin;
    AdminEnableGroup => "admin:EnableGroup", Admin;
    AdminDisableGroup => "admin:DisableGroup", Admin;
    AdminCreateServiceAccount => "admin:CreateServiceAccount", Admin;
    AdminUpdateServiceAccount => "admin:UpdateServiceAccount", Admin;
    AdminRemoveServiceAccount => "admin:RemoveServiceAccount", Admin;
    AdminListServiceAccounts => "admin:ListServiceAccounts", Admin;
    AdminListTemporaryAccounts => "admin:ListTemporaryAccounts", Admin;
    AdminCreatePolicy => "admin:CreatePolicy", Admin;
    AdminDeletePolicy => "admin:DeletePolicy", Admin;
    AdminGetPolicy => "admin:GetPolicy", Admin;
    AdminAttachUserOrGroupPolicy => "admin:AttachUserOrGroupPolicy", Admin;
    AdminUpdatePolicyAssociation => "admin:UpdatePolicyAssociation", Admin;
    AdminListUserPolicies => "admin:ListUserPolicies", Admin;
    AdminSetBucketQuota => "admin:SetBucketQuota", Admin;
    AdminGetBucketQuota => "admin:GetBucketQuota", Admin;
    AdminForceUnlock => "admin:ForceUnlock", Admin;
    AdminDecommission => "admin:Decommission", Admin;
    AdminRebalance => "admin:Rebalance", Admin;
    AdminExportIam => "admin:ExportIAM", Admin;
    AdminImportIam => "admin:ImportIAM", Admin;
    // Security token service.
    StsAssumeRole => "sts:AssumeRole", Sts;
    StsAssumeRoleWithWebIdentity => "sts:AssumeRoleWithWebIdentity", Sts;
    StsAssumeRoleWithLdapIdentity => "sts:AssumeRoleWithLDAPIdentity", Sts;
}

const _: () = assert!(Action::ALL.len() <= 128, "ActionSet is a u128");

impl Action {
    /// Looks an action up by name, ignoring ASCII case as AWS does (`s3:getobject` is
    /// `s3:GetObject`). Wildcards are not expanded here; see [`ActionSet::matching`].
    pub fn from_name(name: &str) -> Option<Action> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The action AWS checks for an S3 API operation named as in the S3 API reference
    /// (`HeadObject` → `s3:GetObject`, `UploadPart` → `s3:PutObject`, `HeadBucket` →
    /// `s3:ListBucket`). `None` for operations with no policy action of their own. A
    /// `CopyObject` / `UploadPartCopy` also needs `s3:GetObject` on the source, which the caller
    /// checks separately; a request naming a version needs the `...Version` action instead, which
    /// the caller picks.
    pub fn for_s3_operation(operation: &str) -> Option<Action> {
        use Action::*;
        Some(match operation {
            "GetObject" | "HeadObject" => GetObject,
            "PutObject"
            | "CopyObject"
            | "CreateMultipartUpload"
            | "UploadPart"
            | "UploadPartCopy"
            | "CompleteMultipartUpload"
            | "PostObject" => PutObject,
            "DeleteObject" | "DeleteObjects" => DeleteObject,
            "AbortMultipartUpload" => AbortMultipartUpload,
            "ListParts" => ListMultipartUploadParts,
            "ListMultipartUploads" => ListBucketMultipartUploads,
            "ListObjects" | "ListObjectsV2" | "HeadBucket" => ListBucket,
            "ListObjectVersions" => ListBucketVersions,
            "ListBuckets" => ListAllMyBuckets,
            "CreateBucket" => CreateBucket,
            "DeleteBucket" => DeleteBucket,
            "GetBucketLocation" => GetBucketLocation,
            "GetBucketVersioning" => GetBucketVersioning,
            "PutBucketVersioning" => PutBucketVersioning,
            "GetBucketLifecycleConfiguration" => GetLifecycleConfiguration,
            "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => {
                PutLifecycleConfiguration
            }
            "GetBucketTagging" => GetBucketTagging,
            "PutBucketTagging" | "DeleteBucketTagging" => PutBucketTagging,
            "GetBucketPolicy" => GetBucketPolicy,
            "PutBucketPolicy" => PutBucketPolicy,
            "DeleteBucketPolicy" => DeleteBucketPolicy,
            "GetBucketPolicyStatus" => GetBucketPolicyStatus,
            "GetBucketCors" => GetBucketCors,
            "PutBucketCors" | "DeleteBucketCors" => PutBucketCors,
            "GetObjectLockConfiguration" => GetBucketObjectLockConfiguration,
            "PutObjectLockConfiguration" => PutBucketObjectLockConfiguration,
            "GetObjectRetention" => GetObjectRetention,
            "PutObjectRetention" => PutObjectRetention,
            "GetObjectLegalHold" => GetObjectLegalHold,
            "PutObjectLegalHold" => PutObjectLegalHold,
            "GetObjectAttributes" => GetObjectAttributes,
            "GetObjectTagging" => GetObjectTagging,
            "PutObjectTagging" => PutObjectTagging,
            "DeleteObjectTagging" => DeleteObjectTagging,
            "GetBucketAcl" => GetBucketAcl,
            "PutBucketAcl" => PutBucketAcl,
            "GetObjectAcl" => GetObjectAcl,
            "PutObjectAcl" => PutObjectAcl,
            "GetBucketReplication" => GetReplicationConfiguration,
            "PutBucketReplication" | "DeleteBucketReplication" => PutReplicationConfiguration,
            "GetBucketNotificationConfiguration" => GetBucketNotification,
            "PutBucketNotificationConfiguration" => PutBucketNotification,
            _ => return None,
        })
    }

    fn bit(self) -> u128 {
        1u128 << (self as u8)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of [`Action::from_str`]: no action has that name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action {0}")]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

/// A set of actions, one bit each: what a statement's `Action` list (or the complement of its
/// `NotAction` list) compiles into.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ActionSet(u128);

impl ActionSet {
    /// No action.
    pub const EMPTY: ActionSet = ActionSet(0);

    /// Every action in the catalogue.
    pub fn all() -> ActionSet {
        Self::of_scope(|_| true)
    }

    /// Every `s3:` action.
    pub fn s3() -> ActionSet {
        Self::of_scope(ActionScope::is_s3)
    }

    fn of_scope(keep: impl Fn(ActionScope) -> bool) -> ActionSet {
        Action::ALL
            .iter()
            .filter(|a| keep(a.scope()))
            .fold(Self::EMPTY, |set, &a| set.with(a))
    }

    /// The actions whose name matches `pattern`: `*` matches any run of characters, `?` one
    /// character, and case is ignored (`s3:Get*`, `s3:*Object`, `*`). Empty when none match.
    pub fn matching(pattern: &str) -> ActionSet {
        if !pattern.contains(['*', '?']) {
            return Action::from_name(pattern).map_or(Self::EMPTY, |a| Self::EMPTY.with(a));
        }
        let Ok(compiled) = Pattern::compile(pattern, Syntax::WILDCARDS) else {
            return Self::EMPTY;
        };
        Action::ALL
            .iter()
            .filter(|a| compiled.matches_ignore_case(a.name()))
            .fold(Self::EMPTY, |set, &a| set.with(a))
    }

    /// This set with `action` added.
    #[must_use]
    pub fn with(self, action: Action) -> ActionSet {
        ActionSet(self.0 | action.bit())
    }

    /// Whether `action` is in the set.
    #[inline]
    pub fn contains(self, action: Action) -> bool {
        self.0 & action.bit() != 0
    }

    /// Actions in either set.
    #[must_use]
    pub fn union(self, other: ActionSet) -> ActionSet {
        ActionSet(self.0 | other.0)
    }

    /// Actions in both sets.
    #[must_use]
    pub fn intersection(self, other: ActionSet) -> ActionSet {
        ActionSet(self.0 & other.0)
    }

    /// Actions of `self` not in `other`.
    #[must_use]
    pub fn difference(self, other: ActionSet) -> ActionSet {
        ActionSet(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every action in the set is an admin or STS action (which take no resource).
    pub fn is_resourceless(self) -> bool {
        !self.is_empty() && self.intersection(Self::s3()).is_empty()
    }

    /// The actions in the set, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Action> {
        Action::ALL
            .iter()
            .copied()
            .filter(move |a| self.contains(*a))
    }
}

impl FromIterator<Action> for ActionSet {
    fn from_iter<I: IntoIterator<Item = Action>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, ActionSet::with)
    }
}
