//! The `Principal` / `NotPrincipal` element of bucket policies: `"*"`, `{"AWS": "*"}` or
//! `{"AWS": [...]}` naming users by access key, user name or IAM ARN.
//!
//! A value matches a caller when it is `*` (everyone, anonymous included), the caller's access
//! key (`aws:userid`) or user name, `arn:aws:iam::<account>:user/<name>` with the caller's user
//! name, or `arn:aws:iam::<account>:root` (any signed-in caller: there is one account). The
//! account part is not checked. Partial wildcards are not allowed, as in AWS.

use super::PolicyError;

/// How the element was written, kept for serialization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalForm {
    /// `"Principal": "*"`.
    Star,
    /// `"Principal": {"AWS": [...]}` (a single string is kept as a one-element list).
    Aws(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Name {
    Everyone,
    SignedIn,
    User(String),
}

/// A compiled `Principal` (or, negated, `NotPrincipal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalSet {
    negated: bool,
    form: PrincipalForm,
    names: Vec<Name>,
}

/// Who is calling, for principal matching.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller<'a> {
    pub username: Option<&'a str>,
    pub userid: Option<&'a str>,
}

impl PrincipalSet {
    pub fn compile(
        form: PrincipalForm,
        negated: bool,
        statement: usize,
    ) -> Result<PrincipalSet, PolicyError> {
        let names = match &form {
            PrincipalForm::Star => vec![Name::Everyone],
            PrincipalForm::Aws(values) if values.is_empty() => {
                return Err(PolicyError::EmptyList {
                    statement,
                    field: if negated { "NotPrincipal" } else { "Principal" },
                })
            }
            PrincipalForm::Aws(values) => values
                .iter()
                .map(|v| {
                    parse_name(v).ok_or_else(|| PolicyError::InvalidPrincipal {
                        principal: v.clone(),
                        statement,
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(PrincipalSet {
            negated,
            form,
            names,
        })
    }

    /// Whether the element lets the statement apply to `caller`.
    pub fn applies(&self, caller: Caller<'_>) -> bool {
        let signed_in = caller.userid.is_some() || caller.username.is_some();
        let named = self.names.iter().any(|n| match n {
            Name::Everyone => true,
            Name::SignedIn => signed_in,
            Name::User(name) => {
                caller.userid == Some(name.as_str()) || caller.username == Some(name.as_str())
            }
        });
        named != self.negated
    }

    pub fn is_negated(&self) -> bool {
        self.negated
    }

    pub fn form(&self) -> &PrincipalForm {
        &self.form
    }
}

fn parse_name(value: &str) -> Option<Name> {
    if value == "*" {
        return Some(Name::Everyone);
    }
    if value.is_empty() || value.contains('*') || value.contains('?') {
        return None;
    }
    let Some(rest) = value.strip_prefix("arn:aws:iam::") else {
        return (!value.contains(':')).then(|| Name::User(value.to_owned()));
    };
    let (_account, resource) = rest.split_once(':')?;
    if resource == "root" {
        return Some(Name::SignedIn);
    }
    let path = resource.strip_prefix("user/")?;
    let name = path.rsplit('/').next().filter(|n| !n.is_empty())?;
    Some(Name::User(name.to_owned()))
}
