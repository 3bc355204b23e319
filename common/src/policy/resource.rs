//! The `Resource` / `NotResource` element: `arn:aws:s3:::bucket` and `arn:aws:s3:::bucket/key`
//! patterns (or a bare `*`), compiled once, matched against the request's resource string
//! (`bucket`, `bucket/key`, or empty for service-level and admin requests — see
//! [`crate::policy::RequestContext`]). `*` crosses `/`, as in AWS.

use super::key::ConditionValues;
use super::pattern::{Pattern, Syntax};
use super::PolicyError;

/// The prefix every S3 resource ARN starts with.
pub const S3_ARN_PREFIX: &str = "arn:aws:s3:::";

#[derive(Debug, Clone, PartialEq, Eq)]
struct ResourcePattern {
    written: String,
    pattern: Pattern,
}

/// A compiled `Resource` (or, negated, `NotResource`) list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceSet {
    negated: bool,
    items: Vec<ResourcePattern>,
}

impl ResourceSet {
    /// Compiles a non-empty list. For a bucket policy, `bucket` is the policy's bucket and every
    /// pattern must be able to name it or something inside it.
    pub fn compile(
        written: Vec<String>,
        negated: bool,
        statement: usize,
        variables: bool,
        bucket: Option<&str>,
    ) -> Result<ResourceSet, PolicyError> {
        let syntax = Syntax {
            wildcards: true,
            variables,
        };
        let mut items = Vec::with_capacity(written.len());
        for resource in written {
            let invalid = || PolicyError::InvalidResource {
                resource: resource.clone(),
                statement,
            };
            let body = if resource == "*" {
                "*"
            } else {
                match resource.strip_prefix(S3_ARN_PREFIX) {
                    Some(body) if !body.is_empty() && !body.starts_with('/') => body,
                    _ => return Err(invalid()),
                }
            };
            let pattern = Pattern::compile(body, syntax).map_err(|variable| {
                PolicyError::UnknownVariable {
                    variable,
                    statement,
                }
            })?;
            if let Some(bucket) = bucket {
                if !pattern.could_match(bucket)
                    && !pattern.could_match_prefix(&format!("{bucket}/"))
                {
                    return Err(PolicyError::ResourceOutsideBucket {
                        resource,
                        bucket: bucket.to_owned(),
                        statement,
                    });
                }
            }
            items.push(ResourcePattern {
                written: resource,
                pattern,
            });
        }
        Ok(ResourceSet { negated, items })
    }

    /// Whether the element lets the statement apply to `resource`: some pattern matches
    /// (`Resource`), or none does (`NotResource`).
    #[inline]
    pub fn applies(&self, resource: &str, values: &ConditionValues) -> bool {
        self.items
            .iter()
            .any(|item| item.pattern.matches(resource, values))
            != self.negated
    }

    /// `NotResource` rather than `Resource`.
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// The resources as written.
    pub fn written(&self) -> Vec<&str> {
        self.items.iter().map(|i| i.written.as_str()).collect()
    }
}
