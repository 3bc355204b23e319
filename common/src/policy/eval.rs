//! Deciding requests: [`RequestContext`] (what one request is), [`Policy::evaluate`] (one
//! policy's answer) and [`authorize`] (a caller's identity, session and bucket policies
//! together).
//!
//! One policy: an applicable Deny statement gives [`Decision::Deny`]; otherwise an applicable
//! Allow gives [`Decision::Allow`]; otherwise [`Decision::Default`] (implicit deny). A statement
//! applies when its action set holds the request's action, its `Principal` names the caller
//! (bucket policies), its `Resource` matches (or `NotResource` does not) the request's resource
//! string, and every condition entry holds. Statements with no `Resource` (admin/STS only)
//! skip the resource test.

use super::key::{ConditionKey, ConditionValues};
use super::principal::Caller;
use super::{Action, Effect, Policy, PolicyKind, Statement};

/// A policy's (or [`authorize`]'s) answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Some statement grants it and none refuses it.
    Allow,
    /// Some statement refuses it (explicit deny): nothing can override this.
    Deny,
    /// No statement applies: refused unless another policy grants it (implicit deny).
    Default,
}

/// One request, as policies see it. Build with [`RequestContext::new`] and the `with_*`
/// methods.
///
/// The resource string a policy's `Resource` patterns are matched against is, after
/// `arn:aws:s3:::`, `bucket/key` when an object is named, `bucket` when only a bucket is, and
/// empty otherwise (`s3:ListAllMyBuckets`, admin and STS actions) — so bucket actions need
/// `arn:aws:s3:::bucket` (not `bucket/*`), object actions `bucket/...`, and bucket-less actions
/// a pattern that matches the empty string such as `arn:aws:s3:::*` or `*`, as in AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    action: Action,
    bucket: Option<String>,
    key: Option<String>,
    resource: String,
    username: Option<String>,
    userid: Option<String>,
    values: ConditionValues,
}

impl RequestContext {
    /// An anonymous request for `action` naming no bucket, with no condition values.
    pub fn new(action: Action) -> RequestContext {
        RequestContext {
            action,
            bucket: None,
            key: None,
            resource: String::new(),
            username: None,
            userid: None,
            values: ConditionValues::new(),
        }
    }

    /// Names the bucket (bucket-level actions).
    #[must_use]
    pub fn with_bucket(mut self, bucket: impl Into<String>) -> RequestContext {
        let bucket = bucket.into();
        self.resource = bucket.clone();
        self.bucket = Some(bucket);
        self.key = None;
        self
    }

    /// Names an object (object-level actions).
    #[must_use]
    pub fn with_object(mut self, bucket: impl Into<String>, key: impl Into<String>) -> Self {
        let (bucket, key) = (bucket.into(), key.into());
        self.resource = format!("{bucket}/{key}");
        self.bucket = Some(bucket);
        self.key = Some(key);
        self
    }

    /// Makes the request a signed-in caller's: `username` is its friendly name (the parent
    /// user's for service accounts and STS sessions), `userid` its access key. Also sets the
    /// `aws:username` and `aws:userid` condition keys, and so the `${aws:username}` and
    /// `${aws:userid}` variables.
    #[must_use]
    pub fn with_user(mut self, username: impl Into<String>, userid: impl Into<String>) -> Self {
        let (username, userid) = (username.into(), userid.into());
        self.values
            .set_one(ConditionKey::USERNAME, username.clone());
        self.values.set_one(ConditionKey::USERID, userid.clone());
        self.username = Some(username);
        self.userid = Some(userid);
        self
    }

    /// Sets the values of one condition key (replacing earlier ones).
    #[must_use]
    pub fn with_condition<I, S>(mut self, key: ConditionKey, values: I) -> RequestContext
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.values.set(key, values);
        self
    }

    /// Changes the action, keeping everything else (to check a second action for the same
    /// request, e.g. `s3:BypassGovernanceRetention`).
    pub fn set_action(&mut self, action: Action) {
        self.action = action;
    }

    /// The condition values, to add several at once.
    pub fn values_mut(&mut self) -> &mut ConditionValues {
        &mut self.values
    }

    /// The action.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The bucket, if any.
    pub fn bucket(&self) -> Option<&str> {
        self.bucket.as_deref()
    }

    /// The object key, if any.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The resource string `Resource` patterns are matched against (see the type's doc).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The condition values.
    pub fn values(&self) -> &ConditionValues {
        &self.values
    }

    fn caller(&self) -> Caller<'_> {
        Caller {
            username: self.username.as_deref(),
            userid: self.userid.as_deref(),
        }
    }
}

impl Statement {
    /// Whether the statement applies to the request (its effect aside).
    fn applies(&self, ctx: &RequestContext) -> bool {
        self.actions.contains(ctx.action)
            && self
                .principal
                .as_ref()
                .is_none_or(|p| p.applies(ctx.caller()))
            && self
                .resources
                .as_ref()
                .is_none_or(|r| r.applies(&ctx.resource, &ctx.values))
            && self.conditions.iter().all(|c| c.evaluate(&ctx.values))
    }
}

impl Policy {
    /// This policy's answer for `ctx`. A bucket policy says [`Decision::Default`] for requests
    /// on any other bucket.
    pub fn evaluate(&self, ctx: &RequestContext) -> Decision {
        if let PolicyKind::Bucket(bucket) = &self.kind {
            if ctx.bucket.as_deref() != Some(bucket.as_str()) {
                return Decision::Default;
            }
        }
        let action = ctx.action;
        let may_deny = self.deny_actions.contains(action);
        if !may_deny && !self.allow_actions.contains(action) {
            return Decision::Default;
        }
        let mut allowed = false;
        for statement in &self.statements {
            match statement.effect {
                Effect::Deny if statement.applies(ctx) => return Decision::Deny,
                Effect::Allow if !allowed && statement.applies(ctx) => {
                    if !may_deny {
                        return Decision::Allow;
                    }
                    allowed = true;
                }
                _ => {}
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::Default
        }
    }
}

impl Policy {
    /// Whether the policy is public as S3's `GetBucketPolicyStatus` means it: some Allow
    /// statement applies to anonymous callers without a condition that fixes where they call
    /// from or who they are (`aws:SourceIp`, `aws:userid`, `aws:username`).
    pub fn is_public(&self) -> bool {
        let anonymous = Caller {
            username: None,
            userid: None,
        };
        let fixing = [
            ConditionKey::SOURCE_IP,
            ConditionKey::USERID,
            ConditionKey::USERNAME,
        ];
        self.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && s.principal.as_ref().is_some_and(|p| p.applies(anonymous))
                && !s.conditions.iter().any(|c| fixing.contains(c.key()))
        })
    }
}

/// Decides a request against everything that applies to the caller:
///
/// - `identity`: the policies attached to the user and to each of its groups (for a service
///   account or STS session, its parent's — or its own, as the caller decides);
/// - `session`: the session policy of an STS session or a service account restricted at
///   creation, if any;
/// - `bucket`: the policy of the bucket the request names, if it has one.
///
/// The answer is [`Decision::Deny`] when any of them denies (explicit deny always wins).
/// Otherwise it is [`Decision::Allow`] when some identity policy or the bucket policy allows
/// **and**, if there is a session policy, the session policy allows too: a session policy only
/// narrows, never grants, and it narrows what the bucket policy grants as well as what identity
/// policies grant (stricter than AWS, which lets a bucket policy naming the session itself
/// bypass it). Otherwise [`Decision::Default`]. Anonymous requests have no identity or session
/// policies, so only the bucket policy can allow them. The root user is not subject to
/// policies; the caller does not call this for it.
pub fn authorize<'p>(
    identity: impl IntoIterator<Item = &'p Policy>,
    session: Option<&Policy>,
    bucket: Option<&Policy>,
    ctx: &RequestContext,
) -> Decision {
    let mut identity_allows = false;
    for policy in identity {
        match policy.evaluate(ctx) {
            Decision::Deny => return Decision::Deny,
            Decision::Allow => identity_allows = true,
            Decision::Default => {}
        }
    }
    let session = session.map(|p| p.evaluate(ctx));
    let bucket = bucket.map(|p| p.evaluate(ctx));
    if session == Some(Decision::Deny) || bucket == Some(Decision::Deny) {
        return Decision::Deny;
    }
    let granted = identity_allows || bucket == Some(Decision::Allow);
    let session_permits = session.is_none_or(|d| d == Decision::Allow);
    if granted && session_permits {
        Decision::Allow
    } else {
        Decision::Default
    }
}
