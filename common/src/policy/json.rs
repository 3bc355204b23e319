//! The policy document's JSON shape, both ways: raw serde types read with the path of any
//! malformed field, validated and compiled statement by statement into a [`Policy`]; and the
//! output shape [`Policy::to_json`] writes.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, value::MapAccessDeserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::condition::Condition;
use super::principal::{PrincipalForm, PrincipalSet};
use super::resource::ResourceSet;
use super::{
    ActionSet, Effect, Policy, PolicyError, PolicyKind, PolicyVersion, Result, Statement,
    MAX_BUCKET_POLICY_BYTES, MAX_IDENTITY_POLICY_BYTES,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(rename = "Version", default)]
    version: Option<String>,
    #[serde(rename = "Id", default)]
    id: Option<String>,
    #[serde(rename = "Statement", default)]
    statement: Option<OneOrMany<RawStatement>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    #[serde(rename = "Sid", default)]
    sid: Option<String>,
    #[serde(rename = "Effect")]
    effect: Effect,
    #[serde(rename = "Principal", default)]
    principal: Option<RawPrincipal>,
    #[serde(rename = "NotPrincipal", default)]
    not_principal: Option<RawPrincipal>,
    #[serde(rename = "Action", default)]
    action: Option<OneOrMany<String>>,
    #[serde(rename = "NotAction", default)]
    not_action: Option<OneOrMany<String>>,
    #[serde(rename = "Resource", default)]
    resource: Option<OneOrMany<String>>,
    #[serde(rename = "NotResource", default)]
    not_resource: Option<OneOrMany<String>>,
    #[serde(rename = "Condition", default)]
    condition: Option<BTreeMap<String, BTreeMap<String, OneOrMany<Scalar>>>>,
}

/// A value or an array of values (`"Action": "s3:GetObject"` or `["s3:GetObject"]`).
struct OneOrMany<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value or an array of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(OneOrMany(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|v| OneOrMany(vec![v]))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::<E>::new(s)).map(|v| OneOrMany(vec![v]))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                T::deserialize(de::value::BoolDeserializer::<E>::new(b)).map(|v| OneOrMany(vec![v]))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                T::deserialize(de::value::I64Deserializer::<E>::new(n)).map(|v| OneOrMany(vec![v]))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                T::deserialize(de::value::U64Deserializer::<E>::new(n)).map(|v| OneOrMany(vec![v]))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                T::deserialize(de::value::F64Deserializer::<E>::new(n)).map(|v| OneOrMany(vec![v]))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A condition value: a string, number or boolean, kept as its text.
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Scalar, E> {
                Ok(Scalar(s.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Scalar, E> {
                Ok(Scalar(b.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Scalar, E> {
                Ok(Scalar(n.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Scalar, E> {
                Ok(Scalar(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Scalar, E> {
                Ok(Scalar(n.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `"*"` or `{"AWS": "*" | [...]}`.
struct RawPrincipal(PrincipalForm);

impl<'de> Deserialize<'de> for RawPrincipal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPrincipal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"*\" or {\"AWS\": [...]}")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawPrincipal, E> {
                if s == "*" {
                    Ok(RawPrincipal(PrincipalForm::Star))
                } else {
                    Err(E::custom(format!(
                        "principal {s} must be written {{\"AWS\": [\"{s}\"]}}; only \"*\" stands alone"
                    )))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawPrincipal, A::Error> {
                let mut aws = None;
                while let Some(kind) = map.next_key::<String>()? {
                    if kind != "AWS" {
                        return Err(de::Error::custom(format!(
                            "unsupported principal type {kind}; only AWS principals are supported"
                        )));
                    }
                    aws = Some(map.next_value::<OneOrMany<String>>()?.0);
                }
                aws.map(|names| RawPrincipal(PrincipalForm::Aws(names)))
                    .ok_or_else(|| {
                        de::Error::custom("principal names no one; write {\"AWS\": [...]}")
                    })
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses and compiles a document of the given kind.
pub(super) fn parse(json: &[u8], kind: PolicyKind) -> Result<Policy> {
    let limit_bytes = match kind {
        PolicyKind::Identity => MAX_IDENTITY_POLICY_BYTES,
        PolicyKind::Bucket(_) => MAX_BUCKET_POLICY_BYTES,
    };
    if json.len() > limit_bytes {
        return Err(PolicyError::TooLarge {
            size_bytes: json.len(),
            limit_bytes,
        });
    }
    let malformed = |path: String, e: &serde_json::Error| PolicyError::Json {
        path,
        message: e.to_string(),
    };
    let mut de = serde_json::Deserializer::from_slice(json);
    let raw: RawPolicy = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| malformed(e.path().to_string(), e.inner()))?;
    de.end().map_err(|e| malformed(String::new(), &e))?;

    let version = match raw.version.as_deref() {
        None | Some("2012-10-17") => PolicyVersion::V2012_10_17,
        Some("2008-10-17") => PolicyVersion::V2008_10_17,
        Some(other) => return Err(PolicyError::Version(other.to_owned())),
    };
    let raw_statements = raw.statement.map(|s| s.0).unwrap_or_default();
    if raw_statements.is_empty() {
        return Err(PolicyError::NoStatements);
    }
    let bucket = match &kind {
        PolicyKind::Identity => None,
        PolicyKind::Bucket(bucket) => Some(bucket.as_str()),
    };
    let variables = version == PolicyVersion::V2012_10_17;
    let statements = raw_statements
        .into_iter()
        .enumerate()
        .map(|(i, raw)| compile_statement(raw, i + 1, bucket, variables))
        .collect::<Result<Vec<_>>>()?;
    for (i, a) in statements.iter().enumerate() {
        let Some(sid) = a.sid.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        if let Some(j) = statements[i + 1..]
            .iter()
            .position(|b| b.sid.as_deref() == Some(sid))
        {
            return Err(PolicyError::DuplicateSid {
                sid: sid.to_owned(),
                first: i + 1,
                second: i + j + 2,
            });
        }
    }
    let covered = |effect| {
        statements
            .iter()
            .filter(|s| s.effect == effect)
            .fold(ActionSet::EMPTY, |set, s| set.union(s.actions))
    };
    let reads_object_tags = statements.iter().any(|s| {
        s.conditions
            .iter()
            .any(|c| c.key().is_existing_object_tag())
    });
    Ok(Policy {
        reads_object_tags,
        allow_actions: covered(Effect::Allow),
        deny_actions: covered(Effect::Deny),
        kind,
        version,
        id: raw.id,
        statements,
    })
}

/// Picks the one of `X` / `NotX` that is set: `(values, negated)`.
fn exactly_one<T>(
    positive: Option<OneOrMany<T>>,
    negative: Option<OneOrMany<T>>,
    statement: usize,
    (field, not_field): (&'static str, &'static str),
) -> Result<Option<(Vec<T>, bool)>> {
    let (values, negated) = match (positive, negative) {
        (Some(_), Some(_)) => return Err(PolicyError::Both { statement, field }),
        (Some(p), None) => (p.0, false),
        (None, Some(n)) => (n.0, true),
        (None, None) => return Ok(None),
    };
    if values.is_empty() {
        let field = if negated { not_field } else { field };
        return Err(PolicyError::EmptyList { statement, field });
    }
    Ok(Some((values, negated)))
}

fn compile_statement(
    raw: RawStatement,
    statement: usize,
    bucket: Option<&str>,
    variables: bool,
) -> Result<Statement> {
    let principal = match (raw.principal, raw.not_principal, bucket) {
        (None, None, None) => None,
        (_, _, None) => return Err(PolicyError::PrincipalInIdentityPolicy { statement }),
        (Some(_), Some(_), Some(_)) => {
            return Err(PolicyError::Both {
                statement,
                field: "Principal",
            })
        }
        (None, None, Some(_)) => return Err(PolicyError::MissingPrincipal { statement }),
        (Some(p), None, Some(_)) => Some(PrincipalSet::compile(p.0, false, statement)?),
        (None, Some(p), Some(_)) => Some(PrincipalSet::compile(p.0, true, statement)?),
    };

    let (actions_written, not_action) = exactly_one(
        raw.action,
        raw.not_action,
        statement,
        ("Action", "NotAction"),
    )?
    .ok_or(PolicyError::MissingAction { statement })?;
    let domain = if bucket.is_some() {
        ActionSet::s3()
    } else {
        ActionSet::all()
    };
    let mut listed = ActionSet::EMPTY;
    for pattern in &actions_written {
        let matched = ActionSet::matching(pattern);
        if matched.is_empty() {
            return Err(PolicyError::UnknownAction {
                action: pattern.clone(),
                statement,
            });
        }
        if matched.intersection(domain).is_empty() {
            return Err(PolicyError::ActionNotInBucketPolicy {
                action: pattern.clone(),
                statement,
            });
        }
        listed = listed.union(matched.intersection(domain));
    }
    let actions = if not_action {
        domain.difference(listed)
    } else {
        listed
    };

    let resources = match exactly_one(
        raw.resource,
        raw.not_resource,
        statement,
        ("Resource", "NotResource"),
    )? {
        Some((written, negated)) => Some(ResourceSet::compile(
            written, negated, statement, variables, bucket,
        )?),
        None if bucket.is_none() && !not_action && listed.is_resourceless() => None,
        None => return Err(PolicyError::MissingResource { statement }),
    };

    let mut conditions = Vec::new();
    for (operator, entries) in raw.condition.unwrap_or_default() {
        if entries.is_empty() {
            return Err(PolicyError::EmptyConditionBlock {
                operator,
                statement,
            });
        }
        for (key, values) in entries {
            let values = values.0.into_iter().map(|s| s.0).collect();
            conditions.push(Condition::compile(
                &operator, &key, values, statement, variables,
            )?);
        }
    }

    Ok(Statement {
        sid: raw.sid,
        effect: raw.effect,
        principal,
        actions_written,
        not_action,
        actions,
        resources,
        conditions,
    })
}

#[derive(Serialize)]
struct OutPolicy<'a> {
    #[serde(rename = "Version")]
    version: &'static str,
    #[serde(rename = "Id", skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "Statement")]
    statement: Vec<OutStatement<'a>>,
}

#[derive(Serialize)]
struct OutStatement<'a> {
    #[serde(rename = "Sid", skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(rename = "Effect")]
    effect: Effect,
    #[serde(rename = "Principal", skip_serializing_if = "Option::is_none")]
    principal: Option<&'a PrincipalForm>,
    #[serde(rename = "NotPrincipal", skip_serializing_if = "Option::is_none")]
    not_principal: Option<&'a PrincipalForm>,
    #[serde(rename = "Action", skip_serializing_if = "Option::is_none")]
    action: Option<&'a [String]>,
    #[serde(rename = "NotAction", skip_serializing_if = "Option::is_none")]
    not_action: Option<&'a [String]>,
    #[serde(rename = "Resource", skip_serializing_if = "Option::is_none")]
    resource: Option<Vec<&'a str>>,
    #[serde(rename = "NotResource", skip_serializing_if = "Option::is_none")]
    not_resource: Option<Vec<&'a str>>,
    #[serde(rename = "Condition", skip_serializing_if = "BTreeMap::is_empty")]
    condition: BTreeMap<String, BTreeMap<&'a str, &'a [String]>>,
}

impl Serialize for PrincipalForm {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            PrincipalForm::Star => s.serialize_str("*"),
            PrincipalForm::Aws(names) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("AWS", names)?;
                map.end()
            }
        }
    }
}

impl Serialize for Policy {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let statement = self
            .statements
            .iter()
            .map(|st| {
                let principal = st.principal.as_ref().map(|p| (p.form(), p.is_negated()));
                let resources = st.resources.as_ref().map(|r| (r.written(), r.is_negated()));
                let mut condition: BTreeMap<String, BTreeMap<&str, &[String]>> = BTreeMap::new();
                for c in &st.conditions {
                    condition
                        .entry(c.operator_name())
                        .or_default()
                        .insert(c.key_name(), c.values());
                }
                OutStatement {
                    sid: st.sid.as_deref(),
                    effect: st.effect,
                    principal: principal.filter(|p| !p.1).map(|p| p.0),
                    not_principal: principal.filter(|p| p.1).map(|p| p.0),
                    action: (!st.not_action).then_some(st.actions_written.as_slice()),
                    not_action: st.not_action.then_some(st.actions_written.as_slice()),
                    resource: resources.clone().filter(|r| !r.1).map(|r| r.0),
                    not_resource: resources.filter(|r| r.1).map(|r| r.0),
                    condition,
                }
            })
            .collect();
        OutPolicy {
            version: self.version.as_str(),
            id: self.id.as_deref(),
            statement,
        }
        .serialize(s)
    }
}

/// [`Policy::to_json`].
pub(super) fn to_json(policy: &Policy) -> String {
    serde_json::to_string(policy).unwrap_or_else(|e| unreachable!("policy serializes: {e}"))
}
