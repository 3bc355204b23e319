//! Compiled patterns: the text of a `Resource`, an action name or a string condition value,
//! split once at parse time into literals, wildcards (`*` any run of characters, `/` included;
//! `?` one character) and policy variables (`${aws:username}`, resolved from the request's
//! condition values at match time; one the request has no value for matches nothing). Matching
//! walks the tokens with one backtrack point — linear in practice — and never allocates: a
//! variable is compared in place, never substituted into a new string.

use super::key::{ConditionKey, ConditionValues};

/// Which metacharacters a pattern honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards.
    pub wildcards: bool,
    /// `${...}` is a policy variable (policy version 2012-10-17 only, as in AWS).
    pub variables: bool,
}

impl Syntax {
    pub const WILDCARDS: Syntax = Syntax {
        wildcards: true,
        variables: false,
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Characters matched as they are.
    Lit(Box<str>),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, empty included.
    Any,
    /// `${key}`: the first value of that condition key in the request.
    Var(ConditionKey),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Box<[Token]>,
}

/// Where variables come from when matching.
#[derive(Clone, Copy)]
enum Vars<'a> {
    /// From the request; a variable with no value matches nothing.
    Values(&'a ConditionValues),
    /// Any value: a variable acts as `*` (used to ask whether a pattern could ever match).
    Wild,
}

impl Pattern {
    /// Compiles `src`. The error is the text of a `${...}` variable that names no known
    /// condition key. `${*}`, `${?}` and `${$}` are the literal characters; a `$` not starting a
    /// closed `${...}` is literal.
    pub fn compile(src: &str, syntax: Syntax) -> Result<Pattern, String> {
        let mut tokens = Vec::new();
        let mut lit = String::new();
        let mut rest = src;
        while let Some(c) = rest.chars().next() {
            let mut len = c.len_utf8();
            match c {
                '*' | '?' if syntax.wildcards => {
                    if !lit.is_empty() {
                        tokens.push(Token::Lit(std::mem::take(&mut lit).into()));
                    }
                    let token = if c == '*' { Token::Any } else { Token::One };
                    // `**` is `*`; merging keeps backtracking to one point per run.
                    if !(token == Token::Any && tokens.last() == Some(&Token::Any)) {
                        tokens.push(token);
                    }
                }
                '$' if syntax.variables && rest.starts_with("${") && rest.contains('}') => {
                    let end = rest.find('}').unwrap_or(rest.len());
                    let name = &rest[2..end];
                    len = end + 1;
                    match name {
                        "*" | "?" | "$" => lit.push_str(name),
                        _ => {
                            let key =
                                ConditionKey::parse(name).ok_or_else(|| rest[..len].to_owned())?;
                            if !lit.is_empty() {
                                tokens.push(Token::Lit(std::mem::take(&mut lit).into()));
                            }
                            tokens.push(Token::Var(key));
                        }
                    }
                }
                _ => lit.push(c),
            }
            rest = &rest[len..];
        }
        if !lit.is_empty() {
            tokens.push(Token::Lit(lit.into()));
        }
        Ok(Pattern {
            tokens: tokens.into(),
        })
    }

    /// Whether `input` matches, variables resolved from `values`.
    #[inline]
    pub fn matches(&self, input: &str, values: &ConditionValues) -> bool {
        match_tokens(&self.tokens, input, Vars::Values(values), false)
    }

    /// [`Self::matches`] with case folded on both sides (the `...IgnoreCase` operators).
    pub fn matches_fold(&self, input: &str, values: &ConditionValues) -> bool {
        match_tokens(&self.tokens, input, Vars::Values(values), true)
    }

    /// Whether `input` matches ignoring case, the pattern having no variables (action names).
    pub fn matches_ignore_case(&self, input: &str) -> bool {
        match_tokens(&self.tokens, input, Vars::Wild, true)
    }

    /// Whether some value of the variables makes `input` match.
    pub fn could_match(&self, input: &str) -> bool {
        match_tokens(&self.tokens, input, Vars::Wild, false)
    }

    /// Whether some string starting with `prefix` could match (variables taken as `*`).
    pub fn could_match_prefix(&self, prefix: &str) -> bool {
        let mut at = 0;
        for token in self.tokens.iter() {
            if at == prefix.len() {
                return true;
            }
            let rest = &prefix[at..];
            match token {
                Token::Any | Token::Var(_) => return true,
                Token::One => at += next_char_len(rest),
                Token::Lit(lit) if lit.starts_with(rest) => return true,
                Token::Lit(lit) if rest.starts_with(&**lit) => at += lit.len(),
                Token::Lit(_) => return false,
            }
        }
        at == prefix.len()
    }
}

fn next_char_len(s: &str) -> usize {
    s.chars().next().map_or(0, char::len_utf8)
}

/// Length of the prefix of `input` equal to `lit`, case folded when `fold` is set.
#[inline]
fn prefix_len(input: &str, lit: &str, fold: bool) -> Option<usize> {
    if !fold {
        return input
            .as_bytes()
            .starts_with(lit.as_bytes())
            .then_some(lit.len());
    }
    if lit.is_ascii() {
        // ASCII on both sides folds bytewise; a non-ASCII input character can still fold to
        // ASCII (the Kelvin sign to `k`), so only an ASCII head takes this path.
        match input.as_bytes().get(..lit.len()) {
            Some(head) if head.is_ascii() => {
                return head
                    .eq_ignore_ascii_case(lit.as_bytes())
                    .then_some(lit.len())
            }
            None if input.is_ascii() => return None,
            _ => {}
        }
    }
    let mut want = lit.chars().flat_map(char::to_lowercase);
    let mut next = want.next();
    if next.is_none() {
        return Some(0);
    }
    for (i, c) in input.char_indices() {
        for lc in c.to_lowercase() {
            if next != Some(lc) {
                return None;
            }
            next = want.next();
        }
        if next.is_none() {
            return Some(i + c.len_utf8());
        }
    }
    None
}

/// Glob matching with one backtrack point: after a mismatch, the most recent `*` takes one more
/// character. Correct because every token but `*` has a fixed length once its variable is
/// resolved, so the earliest placement of each segment between stars is never worse.
fn match_tokens(tokens: &[Token], input: &str, vars: Vars<'_>, fold: bool) -> bool {
    let (mut ti, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(token) = tokens.get(ti) {
            let step = match token {
                // A trailing `*` takes whatever is left.
                Token::Any if ti + 1 == tokens.len() => return true,
                Token::Any => None,
                Token::Var(_) if matches!(vars, Vars::Wild) => None,
                Token::One => match next_char_len(&input[si..]) {
                    0 => Some(None),
                    n => Some(Some(n)),
                },
                Token::Lit(lit) => Some(prefix_len(&input[si..], lit, fold)),
                Token::Var(key) => {
                    let Vars::Values(values) = vars else {
                        unreachable!("handled above")
                    };
                    match values.first(key) {
                        Some(value) => Some(prefix_len(&input[si..], value, fold)),
                        None => return false,
                    }
                }
            };
            match step {
                None => {
                    star = Some((ti + 1, si));
                    ti += 1;
                    continue;
                }
                Some(Some(n)) => {
                    si += n;
                    ti += 1;
                    continue;
                }
                Some(None) => {}
            }
        } else if si == input.len() {
            return true;
        }
        match star {
            Some((resume, from)) if from < input.len() => {
                let from = from + next_char_len(&input[from..]);
                star = Some((resume, from));
                ti = resume;
                si = from;
            }
            _ => return false,
        }
    }
}
