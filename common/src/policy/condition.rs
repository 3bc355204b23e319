//! The `Condition` element: operators (`StringLike`, `NumericLessThan`, `IpAddress`, `Null` …),
//! the `...IfExists` suffix and the `ForAnyValue:` / `ForAllValues:` set qualifiers, each
//! `operator → key → values` entry compiled at parse time (numbers, dates, CIDRs and string
//! patterns parsed once) and evaluated against a request's [`ConditionValues`].
//!
//! Semantics, as in AWS:
//! - several values for one key are OR'ed (`StringEquals s3:prefix ["a","b"]` is `a` or `b`);
//!   every entry of a statement must hold (AND);
//! - a negated operator (`StringNotEquals`, `StringNotLike`, `NumericNotEquals`,
//!   `DateNotEquals`, `NotIpAddress`) holds when the request value matches none of the values;
//! - an *absent* key (see [`ConditionValues`]) makes a positive operator false and a negated one
//!   true; `...IfExists` makes any operator true; `ForAllValues:` is true and `ForAnyValue:` false;
//! - with a key present, no qualifier asks whether any request value matches (negated: none
//!   does); `ForAnyValue:` asks whether some request value satisfies the operator and
//!   `ForAllValues:` whether every one does, the operator negation applied per value;
//! - a request value that does not parse (a number, a date, a boolean, an IP) matches no value.

use std::net::IpAddr;

use ipnet::IpNet;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::key::{ConditionKey, ConditionValues};
use super::pattern::{Pattern, Syntax};
use super::PolicyError;

macro_rules! operators {
    ($($variant:ident,)*) => {
        /// A condition operator, without `IfExists` or a set qualifier.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operator {
            $(
                #[doc = concat!("`", stringify!($variant), "`")]
                $variant,
            )*
        }

        impl Operator {
            /// Every operator.
            pub const ALL: &'static [Operator] = &[$(Operator::$variant,)*];

            /// The operator's name as written in policies.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Operator::$variant => stringify!($variant),)*
                }
            }
        }
    };
}

operators! {
    StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase,
    StringLike, StringNotLike,
    NumericEquals, NumericNotEquals, NumericLessThan, NumericLessThanEquals,
    NumericGreaterThan, NumericGreaterThanEquals,
    DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals,
    DateGreaterThan, DateGreaterThanEquals,
    Bool, IpAddress, NotIpAddress, Null,
}

impl Operator {
    /// Whether the operator holds when the request value matches *none* of the values.
    pub fn is_negated(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
        )
    }
}

/// A set qualifier, for multi-valued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// `ForAnyValue:` — some request value satisfies the operator (false when absent).
    ForAnyValue,
    /// `ForAllValues:` — every request value satisfies the operator (true when absent).
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

/// The compiled values of one entry, tested against one request value at a time.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    Strings {
        patterns: Vec<Pattern>,
        fold: bool,
    },
    Numbers {
        values: Vec<f64>,
        cmp: Cmp,
    },
    Dates {
        nanos: Vec<i128>,
        cmp: Cmp,
    },
    Bools(Vec<bool>),
    Nets(Vec<IpNet>),
    /// `Null`: the key is absent (`true`) or present (`false`).
    Null(Vec<bool>),
}

/// One `operator → key → values` entry of a statement's `Condition`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    operator: Operator,
    qualifier: Option<Qualifier>,
    if_exists: bool,
    key_written: String,
    key: ConditionKey,
    values: Vec<String>,
    test: Test,
}

/// Splits `ForAllValues:StringLikeIfExists` into its parts.
fn parse_operator(written: &str) -> Option<(Option<Qualifier>, Operator, bool)> {
    let (qualifier, rest) = if let Some(rest) = written.strip_prefix("ForAnyValue:") {
        (Some(Qualifier::ForAnyValue), rest)
    } else if let Some(rest) = written.strip_prefix("ForAllValues:") {
        (Some(Qualifier::ForAllValues), rest)
    } else {
        (None, written)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    let operator = Operator::ALL.iter().find(|o| o.name() == base)?;
    Some((qualifier, *operator, if_exists))
}

/// The operator a mistyped name was probably meant to be: same letters, other case.
fn suggest(written: &str) -> Option<&'static str> {
    let base = written.rsplit(':').next().unwrap_or(written);
    let base = base
        .strip_suffix("IfExists")
        .or_else(|| base.strip_suffix("ifexists"))
        .unwrap_or(base);
    Operator::ALL
        .iter()
        .find(|o| o.name().eq_ignore_ascii_case(base))
        .map(|o| o.name())
}

fn parse_date(s: &str) -> Option<i128> {
    if let Ok(secs) = s.trim().parse::<i64>() {
        return Some(i128::from(secs) * 1_000_000_000);
    }
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp_nanos)
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn parse_bool(s: &str) -> Option<bool> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

impl Condition {
    /// Compiles one entry. `statement` numbers errors; `variables` is whether policy variables
    /// are honoured in string values (policy version 2012-10-17).
    pub(crate) fn compile(
        operator_written: &str,
        key_written: &str,
        values: Vec<String>,
        statement: usize,
        variables: bool,
    ) -> Result<Condition, PolicyError> {
        let (qualifier, operator, if_exists) =
            parse_operator(operator_written).ok_or_else(|| PolicyError::UnknownOperator {
                operator: operator_written.to_owned(),
                statement,
                suggestion: suggest(operator_written),
            })?;
        if operator == Operator::Null && (if_exists || qualifier.is_some()) {
            return Err(PolicyError::NullModifier {
                operator: operator_written.to_owned(),
                statement,
            });
        }
        let key =
            ConditionKey::parse(key_written).ok_or_else(|| PolicyError::UnknownConditionKey {
                key: key_written.to_owned(),
                statement,
            })?;
        if matches!(operator, Operator::IpAddress | Operator::NotIpAddress)
            && key != ConditionKey::SOURCE_IP
        {
            return Err(PolicyError::IpOperatorKey {
                operator: operator_written.to_owned(),
                key: key_written.to_owned(),
                statement,
            });
        }
        if values.is_empty() {
            return Err(PolicyError::EmptyConditionValues {
                operator: operator_written.to_owned(),
                key: key_written.to_owned(),
                statement,
            });
        }
        let invalid = |value: &str, expected: &'static str| PolicyError::InvalidConditionValue {
            operator: operator_written.to_owned(),
            key: key_written.to_owned(),
            value: value.to_owned(),
            statement,
            expected,
        };
        fn all<T>(
            values: &[String],
            parse: impl Fn(&str) -> Option<T>,
            err: impl Fn(&str) -> PolicyError,
        ) -> Result<Vec<T>, PolicyError> {
            values
                .iter()
                .map(|v| parse(v).ok_or_else(|| err(v)))
                .collect()
        }
        use Operator::*;
        let cmp = match operator {
            NumericLessThan | DateLessThan => Cmp::Lt,
            NumericLessThanEquals | DateLessThanEquals => Cmp::Le,
            NumericGreaterThan | DateGreaterThan => Cmp::Gt,
            NumericGreaterThanEquals | DateGreaterThanEquals => Cmp::Ge,
            _ => Cmp::Eq,
        };
        let test = match operator {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => {
                let syntax = Syntax {
                    wildcards: matches!(operator, StringLike | StringNotLike),
                    variables,
                };
                let patterns = values
                    .iter()
                    .map(|v| Pattern::compile(v, syntax))
                    .collect::<Result<_, _>>()
                    .map_err(|variable| PolicyError::UnknownVariable {
                        variable,
                        statement,
                    })?;
                let fold = matches!(operator, StringEqualsIgnoreCase | StringNotEqualsIgnoreCase);
                Test::Strings { patterns, fold }
            }
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Test::Numbers {
                values: all(&values, parse_number, |v| invalid(v, "a number"))?,
                cmp,
            },
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Test::Dates {
                nanos: all(&values, parse_date, |v| {
                    invalid(
                        v,
                        "an RFC 3339 date such as 2025-01-31T00:00:00Z, or Unix seconds",
                    )
                })?,
                cmp,
            },
            Bool => Test::Bools(all(&values, parse_bool, |v| invalid(v, "true or false"))?),
            IpAddress | NotIpAddress => Test::Nets(all(&values, parse_net, |v| {
                invalid(v, "an IP address or a CIDR such as 10.0.0.0/8")
            })?),
            Null => Test::Null(all(&values, parse_bool, |v| invalid(v, "true or false"))?),
        };
        Ok(Condition {
            operator,
            qualifier,
            if_exists,
            key_written: key_written.to_owned(),
            key,
            values,
            test,
        })
    }

    /// The operator as written: qualifier, name and `IfExists`.
    pub fn operator_name(&self) -> String {
        let qualifier = match self.qualifier {
            Some(Qualifier::ForAnyValue) => "ForAnyValue:",
            Some(Qualifier::ForAllValues) => "ForAllValues:",
            None => "",
        };
        let suffix = if self.if_exists { "IfExists" } else { "" };
        format!("{qualifier}{}{suffix}", self.operator.name())
    }

    /// The base operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The key as written in the policy.
    pub fn key_name(&self) -> &str {
        &self.key_written
    }

    /// The key.
    pub fn key(&self) -> &ConditionKey {
        &self.key
    }

    /// The values as written (numbers and booleans as their JSON text).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether the entry holds for a request carrying `values`.
    pub fn evaluate(&self, values: &ConditionValues) -> bool {
        let present = values.get(&self.key);
        if let Test::Null(expect_absent) = &self.test {
            return expect_absent.contains(&present.is_none());
        }
        let negated = self.operator.is_negated();
        let Some(request) = present else {
            return self.if_exists
                || match self.qualifier {
                    Some(Qualifier::ForAllValues) => true,
                    Some(Qualifier::ForAnyValue) => false,
                    None => negated,
                };
        };
        let satisfies = |v: &String| self.matches_one(v, values) != negated;
        match self.qualifier {
            None => request.iter().any(|v| self.matches_one(v, values)) != negated,
            Some(Qualifier::ForAnyValue) => request.iter().any(satisfies),
            Some(Qualifier::ForAllValues) => request.iter().all(satisfies),
        }
    }

    /// Whether one request value matches any of the entry's values (before negation).
    fn matches_one(&self, request: &str, values: &ConditionValues) -> bool {
        match &self.test {
            Test::Strings { patterns, fold } => patterns.iter().any(|p| {
                if *fold {
                    p.matches_fold(request, values)
                } else {
                    p.matches(request, values)
                }
            }),
            Test::Numbers { values, cmp } => {
                parse_number(request).is_some_and(|r| values.iter().any(|v| cmp.holds(r, *v)))
            }
            Test::Dates { nanos, cmp } => {
                parse_date(request).is_some_and(|r| nanos.iter().any(|v| cmp.holds(r, *v)))
            }
            Test::Bools(bools) => parse_bool(request).is_some_and(|r| bools.contains(&r)),
            Test::Nets(nets) => request
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|ip| nets.iter().any(|n| n.contains(&ip.to_canonical()))),
            Test::Null(_) => false,
        }
    }
}
