//! The IAM policy language, as AWS defines it for S3 and MinIO extends it with `admin:` actions:
//! parsing and validating policy documents, and deciding requests against them. Pure — no I/O,
//! no storage: the node keeps policies and attachments and calls in here per request.
//!
//! - [`Policy::parse_identity`] / [`Policy::parse_bucket`] turn JSON into a validated, compiled
//!   [`Policy`] (actions as a bitset, resource and string patterns tokenised, numbers, dates and
//!   CIDRs parsed); [`Policy::to_json`] writes it back.
//! - [`RequestContext`] describes one request; [`Policy::evaluate`] answers a [`Decision`] for
//!   one policy, [`authorize`] combines a caller's identity, session and bucket policies.
//! - [`canned`] holds MinIO's built-in policies (`readonly`, `readwrite`, …).
//!
//! Submodules: `action` (the action catalogue and [`ActionSet`]), `resource` and `principal`
//! (those elements), `condition` and `key` (operators, keys, request values), `pattern`
//! (wildcards and `${...}` variables), `json` (the document shape both ways), `eval`.

mod action;
pub mod canned;
mod condition;
mod eval;
mod json;
mod key;
mod pattern;
mod principal;
mod resource;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use action::{Action, ActionScope, ActionSet, UnknownAction};
pub use condition::{Condition, Operator, Qualifier};
pub use eval::{authorize, Decision, RequestContext};
pub use key::{ConditionKey, ConditionValues};
pub use resource::S3_ARN_PREFIX;

use principal::PrincipalSet;
use resource::ResourceSet;

/// Largest identity (user, group, session) policy document accepted, in bytes.
pub const MAX_IDENTITY_POLICY_BYTES: usize = 20 * 1024;
/// Largest bucket policy document accepted, in bytes (AWS's limit is 20 KB too).
pub const MAX_BUCKET_POLICY_BYTES: usize = 20 * 1024;

/// Why a policy document was refused. Statements are numbered from 1 in document order; JSON
/// paths (`Statement[0].Effect`) index from 0.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// The document exceeds [`MAX_IDENTITY_POLICY_BYTES`] / [`MAX_BUCKET_POLICY_BYTES`].
    #[error("policy document is {size_bytes} bytes, over the {limit_bytes}-byte limit; split it into several policies")]
    TooLarge {
        size_bytes: usize,
        limit_bytes: usize,
    },
    /// Not JSON, or JSON of the wrong shape; `path` locates the bad field (`Statement[0].Effect`).
    #[error("malformed policy JSON{}: {message}", at_path(path))]
    Json { path: String, message: String },
    /// A `Version` other than 2012-10-17 or 2008-10-17.
    #[error("unsupported policy Version {0}; use 2012-10-17")]
    Version(String),
    /// `Statement` missing or empty.
    #[error("policy has no statements; add at least one to Statement")]
    NoStatements,
    /// Both `X` and `NotX` (`Action`, `Resource`, `Principal`) in one statement.
    #[error("statement {statement} has both {field} and Not{field}; use one of them")]
    Both {
        statement: usize,
        field: &'static str,
    },
    /// An `Action`, `NotAction`, `Resource`, `NotResource` or `Principal` list with nothing in it.
    #[error("statement {statement} has an empty {field} list")]
    EmptyList {
        statement: usize,
        field: &'static str,
    },
    /// A statement with neither `Action` nor `NotAction`.
    #[error("statement {statement} has neither Action nor NotAction; list the actions it covers")]
    MissingAction { statement: usize },
    /// An action (or wildcard pattern) that names no known action.
    #[error("unknown action {action} in statement {statement}")]
    UnknownAction { action: String, statement: usize },
    /// An admin or STS action in a bucket policy.
    #[error("action {action} in statement {statement} cannot be used in a bucket policy; bucket policies cover s3 actions only")]
    ActionNotInBucketPolicy { action: String, statement: usize },
    /// A statement with neither `Resource` nor `NotResource` that needs one.
    #[error("statement {statement} has neither Resource nor NotResource; name what it covers, e.g. arn:aws:s3:::bucket/* (only admin and sts actions in an identity policy may omit it)")]
    MissingResource { statement: usize },
    /// A resource that is not `*` or `arn:aws:s3:::<bucket>[/<key>]`.
    #[error("invalid resource {resource} in statement {statement}; write arn:aws:s3:::bucket, arn:aws:s3:::bucket/key or *")]
    InvalidResource { resource: String, statement: usize },
    /// A bucket policy resource that cannot name the policy's bucket or anything in it.
    #[error("resource {resource} in statement {statement} is outside bucket {bucket}; a bucket policy may only name its own bucket")]
    ResourceOutsideBucket {
        resource: String,
        bucket: String,
        statement: usize,
    },
    /// A `${...}` naming no known condition key.
    #[error("unknown policy variable {variable} in statement {statement}; use a condition key such as ${{aws:username}}, or ${{$}} for a literal $")]
    UnknownVariable { variable: String, statement: usize },
    /// An unknown condition operator; `suggestion` is the right spelling when only case differs.
    #[error("unknown condition operator {operator} in statement {statement}{}", suggestion.map(|s| format!("; did you mean {s}?")).unwrap_or_default())]
    UnknownOperator {
        operator: String,
        statement: usize,
        suggestion: Option<&'static str>,
    },
    /// `Null` with `IfExists` or a set qualifier.
    #[error("condition operator {operator} in statement {statement} cannot take IfExists or a set qualifier; use Null alone")]
    NullModifier { operator: String, statement: usize },
    /// An unknown condition key.
    #[error("unknown condition key {key} in statement {statement}")]
    UnknownConditionKey { key: String, statement: usize },
    /// `IpAddress` / `NotIpAddress` on a key other than `aws:SourceIp`.
    #[error("condition operator {operator} in statement {statement} applies to aws:SourceIp only, not {key}")]
    IpOperatorKey {
        operator: String,
        key: String,
        statement: usize,
    },
    /// A condition operator with no keys under it.
    #[error("condition operator {operator} in statement {statement} names no keys; remove it or add a key")]
    EmptyConditionBlock { operator: String, statement: usize },
    /// A condition key with an empty list of values.
    #[error("condition {operator} on {key} in statement {statement} has no values")]
    EmptyConditionValues {
        operator: String,
        key: String,
        statement: usize,
    },
    /// A condition value that does not parse for its operator (number, date, boolean, IP).
    #[error("invalid value {value} for {operator} on {key} in statement {statement}: expected {expected}")]
    InvalidConditionValue {
        operator: String,
        key: String,
        value: String,
        statement: usize,
        expected: &'static str,
    },
    /// `Principal` or `NotPrincipal` in an identity policy.
    #[error("statement {statement} has a Principal; an identity policy applies to whoever it is attached to — remove it, or set the document as a bucket policy")]
    PrincipalInIdentityPolicy { statement: usize },
    /// A bucket policy statement with neither `Principal` nor `NotPrincipal`.
    #[error("statement {statement} has no Principal; a bucket policy statement must name one, e.g. \"Principal\": {{\"AWS\": [\"*\"]}}")]
    MissingPrincipal { statement: usize },
    /// A principal value that is not `*`, an access key, a user name or an IAM user/root ARN.
    #[error("invalid principal {principal} in statement {statement}; write *, an access key, a user name or arn:aws:iam::<account>:user/<name>")]
    InvalidPrincipal { principal: String, statement: usize },
    /// Two statements with the same `Sid`.
    #[error("duplicate Sid {sid} in statements {first} and {second}; make each Sid unique")]
    DuplicateSid {
        sid: String,
        first: usize,
        second: usize,
    },
}

fn at_path(path: &str) -> String {
    if matches!(path, "" | "." | "?") {
        String::new()
    } else {
        format!(" at {path}")
    }
}

/// Result of policy parsing.
pub type Result<T, E = PolicyError> = std::result::Result<T, E>;

/// Whether a statement grants or refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Effect {
    /// Grants, unless something denies.
    Allow,
    /// Refuses, whatever grants.
    Deny,
}

/// Which kind of document a policy is; decides `Principal` and resource rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to users, groups or sessions; no `Principal`.
    Identity,
    /// Set on one bucket; every statement has a `Principal` and only names that bucket.
    Bucket(String),
}

/// The `Version` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersion {
    /// `2012-10-17`, the current language (also assumed when `Version` is missing, as in MinIO).
    V2012_10_17,
    /// `2008-10-17`: accepted; `${...}` is not a variable there, as in AWS.
    V2008_10_17,
}

impl PolicyVersion {
    /// The version as written.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyVersion::V2012_10_17 => "2012-10-17",
            PolicyVersion::V2008_10_17 => "2008-10-17",
        }
    }
}

/// A validated, compiled policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    kind: PolicyKind,
    version: PolicyVersion,
    id: Option<String>,
    statements: Vec<Statement>,
    /// Actions some Allow statement covers.
    allow_actions: ActionSet,
    /// Actions some Deny statement covers.
    deny_actions: ActionSet,
    /// Some condition names `s3:ExistingObjectTag/…`.
    reads_object_tags: bool,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    principal: Option<PrincipalSet>,
    /// `Action` / `NotAction` entries as written.
    actions_written: Vec<String>,
    not_action: bool,
    /// The actions the statement covers: the listed ones, or for `NotAction` every other one.
    actions: ActionSet,
    /// `None` only for admin/STS-only statements that omit `Resource`.
    resources: Option<ResourceSet>,
    conditions: Vec<Condition>,
}

impl Policy {
    /// Parses an identity policy (user, group, service account or session policy).
    pub fn parse_identity(json: &[u8]) -> Result<Policy> {
        json::parse(json, PolicyKind::Identity)
    }

    /// Parses the bucket policy of `bucket`.
    pub fn parse_bucket(json: &[u8], bucket: &str) -> Result<Policy> {
        json::parse(json, PolicyKind::Bucket(bucket.to_owned()))
    }

    /// The document written back as compact JSON. Lists are always arrays; everything else is as
    /// parsed, so parsing the result gives an equal policy.
    pub fn to_json(&self) -> String {
        json::to_json(self)
    }

    /// Identity or bucket policy.
    pub fn kind(&self) -> &PolicyKind {
        &self.kind
    }

    /// The `Version` element (2012-10-17 when the document had none).
    pub fn version(&self) -> PolicyVersion {
        self.version
    }

    /// The `Id` element.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Actions that some Allow statement covers: a cheap upper bound on what the policy grants.
    pub fn allowed_actions(&self) -> ActionSet {
        self.allow_actions
    }

    /// Whether a condition names `s3:ExistingObjectTag/<tag>`: a request it may decide needs
    /// the tags of the object it names ([`RequestContext::with_condition`] with
    /// [`ConditionKey::existing_object_tag`]).
    pub fn reads_existing_object_tags(&self) -> bool {
        self.reads_object_tags
    }
}

impl Statement {
    /// The `Sid` element.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The `Effect` element.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The actions covered: those listed in `Action`, or every other one for `NotAction` (every
    /// s3 one in a bucket policy).
    pub fn actions(&self) -> ActionSet {
        self.actions
    }

    /// The condition entries.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }
}
