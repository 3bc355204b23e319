//! Ellipsis patterns: `/data{1...4}`, `http://node{01...16}.example.com/disk{1...8}`.
//!
//! A pattern holds one or more `{A...B}` ranges. The expansion is the cartesian product of all
//! ranges with the **leftmost range varying fastest**: for `http://node{1...4}/d{1...2}` the order is
//! node1/d1, node2/d1, node3/d1, node4/d1, node1/d2, … so consecutive drives sit on different hosts
//! and an erasure set of consecutive drives spans hosts (ARCHITECTURE.md, "Placement and quorums").

use thiserror::Error;

/// Upper bound on the drives one argument may expand to; guards against `{1...99999999}` typos.
pub const MAX_EXPANSION: usize = 65_536;

/// A malformed ellipsis pattern.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EllipsisError {
    #[error("'{arg}': unbalanced '{{' or '}}' — write ranges as {{1...4}}")]
    Unbalanced { arg: String },
    #[error("'{arg}': range '{{{range}}}' is not of the form {{START...END}} with three dots")]
    BadRange { arg: String, range: String },
    #[error("'{arg}': range '{{{range}}}' has START greater than END")]
    Reversed { arg: String, range: String },
    #[error(
        "'{arg}': range '{{{range}}}' mixes widths; zero-pad both ends alike, e.g. {{01...16}}"
    )]
    MixedWidth { arg: String, range: String },
    #[error("'{arg}' expands to {count} entries, more than the limit of {MAX_EXPANSION}")]
    TooMany { arg: String, count: usize },
}

#[derive(Debug, Clone)]
enum Piece {
    Lit(String),
    Range { start: u64, end: u64, width: usize },
}

/// True when `arg` is meant as a pattern: any `{` or `}` makes it one, so a typo such as
/// `{1..4}` is refused with a clear error instead of becoming a literal directory name.
pub fn has_ellipsis(arg: &str) -> bool {
    arg.contains('{') || arg.contains('}')
}

fn parse(arg: &str) -> Result<Vec<Piece>, EllipsisError> {
    let mut pieces = Vec::new();
    let mut rest = arg;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(EllipsisError::Unbalanced { arg: arg.into() });
        }
        let close = rest[open..]
            .find('}')
            .map(|i| open + i)
            .ok_or_else(|| EllipsisError::Unbalanced { arg: arg.into() })?;
        let inner = &rest[open + 1..close];
        if inner.contains('{') {
            return Err(EllipsisError::Unbalanced { arg: arg.into() });
        }
        if open > 0 {
            pieces.push(Piece::Lit(rest[..open].to_string()));
        }
        pieces.push(parse_range(arg, inner)?);
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Lit(rest.to_string()));
    }
    Ok(pieces)
}

fn parse_range(arg: &str, inner: &str) -> Result<Piece, EllipsisError> {
    let bad = || EllipsisError::BadRange {
        arg: arg.into(),
        range: inner.into(),
    };
    let (a, b) = inner.split_once("...").ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 18 && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return Err(bad());
    }
    let start: u64 = a.parse().map_err(|_| bad())?;
    let end: u64 = b.parse().map_err(|_| bad())?;
    if start > end {
        return Err(EllipsisError::Reversed {
            arg: arg.into(),
            range: inner.into(),
        });
    }
    let padded = a.len() > 1 && a.starts_with('0');
    let width = if padded {
        if a.len() != b.len() {
            return Err(EllipsisError::MixedWidth {
                arg: arg.into(),
                range: inner.into(),
            });
        }
        a.len()
    } else {
        0
    };
    Ok(Piece::Range { start, end, width })
}

/// Expands one argument. An argument without ranges expands to itself.
pub fn expand(arg: &str) -> Result<Vec<String>, EllipsisError> {
    let pieces = parse(arg)?;
    let mut count: usize = 1;
    for p in &pieces {
        if let Piece::Range { start, end, .. } = p {
            let n = usize::try_from(end - start + 1).unwrap_or(usize::MAX);
            count = count.saturating_mul(n);
        }
    }
    if count > MAX_EXPANSION {
        return Err(EllipsisError::TooMany {
            arg: arg.into(),
            count,
        });
    }
    let mut out = Vec::with_capacity(count);
    for mut index in 0..count {
        let mut s = String::with_capacity(arg.len());
        // Leftmost range varies fastest: peel digits off `index` left to right.
        for p in &pieces {
            match p {
                Piece::Lit(l) => s.push_str(l),
                Piece::Range { start, end, width } => {
                    let n = (end - start + 1) as usize;
                    let v = start + (index % n) as u64;
                    index /= n;
                    s.push_str(&format!("{v:0width$}"));
                }
            }
        }
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_single_range() {
        assert_eq!(
            expand("/data{1...4}").unwrap(),
            ["/data1", "/data2", "/data3", "/data4"]
        );
    }

    #[test]
    fn zero_padded() {
        let v = expand("/d{01...12}").unwrap();
        assert_eq!(v.len(), 12);
        assert_eq!(v[0], "/d01");
        assert_eq!(v[11], "/d12");
    }

    #[test]
    fn several_ranges_leftmost_fastest() {
        let v = expand("http://n{1...2}:9000/d{1...2}").unwrap();
        assert_eq!(
            v,
            [
                "http://n1:9000/d1",
                "http://n2:9000/d1",
                "http://n1:9000/d2",
                "http://n2:9000/d2"
            ]
        );
    }

    #[test]
    fn plain_arg_is_itself() {
        assert_eq!(expand("/data").unwrap(), ["/data"]);
        assert!(!has_ellipsis("/data"));
        assert!(has_ellipsis("/d{1...2}"));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        let cases = [
            ("/d{1...4", "unbalanced"),
            ("/d1...4}", "unbalanced"),
            ("/d{1..4}", "three dots"),
            ("/d{a...c}", "three dots"),
            ("/d{4...1}", "greater"),
            ("/d{01...100}", "zero-pad"),
            ("/d{1...{2}}", "unbalanced"),
            ("/d{1...100000}", "limit"),
        ];
        for (arg, want) in cases {
            let err = expand(arg).unwrap_err().to_string();
            assert!(err.contains(want), "{arg}: {err}");
        }
    }
}
