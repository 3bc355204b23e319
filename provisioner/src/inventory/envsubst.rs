//! `${VAR}` substitution inside the inventory's string values.
//!
//! Substitution runs on the parsed YAML tree, not the text: a value containing `:` or `#` can
//! never change the document's structure, and comments may mention `${VAR}` freely. Forms:
//! `${VAR}` (must be set), `${VAR:-default}` (default when unset or empty), `$$` (a literal `$`).
//! A string that was exactly one substitution and yields a number or boolean becomes that scalar,
//! so `port: ${SSH_PORT}` works.

use serde_yaml_ng::Value;

use super::validate::{FieldError, FieldErrors};

/// Substitutes every string in `value`, collecting one error per unset variable.
pub fn substitute(
    value: &mut Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), FieldErrors> {
    let mut errors = Vec::new();
    walk(value, String::new(), env, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(FieldErrors(errors))
    }
}

fn walk(
    value: &mut Value,
    path: String,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<FieldError>,
) {
    match value {
        Value::String(s) if s.contains('$') => match expand(s, env) {
            Ok(out) => {
                let whole = s.starts_with("${") && s.ends_with('}') && s.matches("${").count() == 1;
                *value = match serde_yaml_ng::from_str::<Value>(&out) {
                    Ok(v @ (Value::Number(_) | Value::Bool(_))) if whole => v,
                    _ => Value::String(out),
                };
            }
            Err(msg) => errors.push(FieldError::new(path, msg)),
        },
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, format!("{path}[{i}]"), env, errors);
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map.iter_mut() {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => serde_yaml_ng::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                let child = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                walk(v, child, env, errors);
            }
        }
        Value::Tagged(t) => walk(&mut t.value, path, env, errors),
        _ => {}
    }
}

/// Expands one string.
fn expand(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unterminated ${{…}} in {s:?}"))?;
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("invalid variable name {name:?} in ${{{expr}}}"));
            }
            match (env(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(format!(
                        "environment variable {name} is not set — export it, or write ${{{name}:-default}}"
                    ))
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "USER_X" => Some("alice".into()),
            "PORT" => Some("2222".into()),
            "TRICKY" => Some("a: b # c".into()),
            _ => None,
        }
    }

    #[test]
    fn expands_forms() {
        assert_eq!(expand("${USER_X}", &env).unwrap(), "alice");
        assert_eq!(expand("x-${USER_X}-y", &env).unwrap(), "x-alice-y");
        assert_eq!(expand("${NOPE:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(expand("cost $$5 $x", &env).unwrap(), "cost $5 $x");
        assert!(expand("${NOPE}", &env)
            .unwrap_err()
            .contains("NOPE is not set"));
        assert!(expand("${BAD-NAME}", &env).is_err());
        assert!(expand("${OPEN", &env).is_err());
    }

    #[test]
    fn substitutes_tree_with_paths_and_keeps_structure() {
        let mut v: Value =
            serde_yaml_ng::from_str("a:\n  port: ${PORT}\n  s: ${TRICKY}\nl: [ok, '${MISSING}']\n")
                .unwrap();
        let err = substitute(&mut v, &env).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].path, "l[1]");
        let mut v: Value =
            serde_yaml_ng::from_str("a:\n  port: ${PORT}\n  s: ${TRICKY}\n").unwrap();
        substitute(&mut v, &env).unwrap();
        assert_eq!(v["a"]["port"].as_u64(), Some(2222));
        assert_eq!(v["a"]["s"].as_str(), Some("a: b # c"));
    }
}
