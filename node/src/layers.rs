//! The node's layers (ARCHITECTURE.md, "Inside the node"): each top-level module of `src/` may
//! name (`crate::X`) only the modules below it in [`ORDER`], so the modules form a DAG pointing
//! down and no cycle can come back. This test reads the sources: test-only code (`tests.rs`
//! files, `#[cfg(test)] mod tests` blocks, `#[cfg(test)]` modules) and comments are not counted.
//!
//! [`DEBTS`] lists the upward references not removed yet; the list may only shrink (a debt that
//! no longer exists fails the test until it is deleted here).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top to bottom: a module may name the modules after it.
const ORDER: &[&str] = &[
    "server",    // the composition root: wires everything together
    "config",    // the CLI and its settings (each module's settings are its own)
    "admin_cli", // `rustfs admin`
    "s3",        // S3 operations → object-layer calls
    "rpc",       // the node's face to its peers: serves drives, locks, figures; RemoteDrive
    "iam",       // users, policies, the access check
    "audit",     // the audit log
    "heal",      // healing: queue, scanner cycles, rebuild
    "lifecycle", // lifecycle rules and the scanner's expiry visitor
    "scanner",   // the background walk and its Visitor trait
    "object",    // pools, sets, quorums, locks (drives only as `dyn Drive`)
    "store",     // one drive: the `Drive` trait, meta, the local drive
    "metrics",   // the figures' registry
    "erasure",   // pure computation
];

/// Upward references still to remove: (from, to, why).
const DEBTS: &[(&str, &str, &str)] = &[];

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).expect("source dir") {
            rust_files(&e.expect("dir entry").path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The production lines of a file: up to its `#[cfg(test)] mod …` block, comments dropped.
fn production_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let next = lines.get(i + 1).map(|l| l.trim_start()).unwrap_or("");
        if t == "#[cfg(test)]" && next.starts_with("mod ") && next.ends_with('{') {
            break;
        }
        if t == "#[cfg(test)]" && (next.starts_with("mod ") || next.starts_with("pub mod ")) {
            continue; // a test-only module file: skipped below by name
        }
        if !t.starts_with("//") {
            out.push(*line);
        }
    }
    out
}

/// Test-only module files (`#[cfg(test)] mod NAME;` in their parent).
fn test_only(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(f).expect("source file");
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for w in lines.windows(2) {
            let Some(name) = w[1]
                .strip_prefix("mod ")
                .or_else(|| w[1].strip_prefix("pub mod "))
                .and_then(|r| r.strip_suffix(';'))
            else {
                continue;
            };
            if w[0] == "#[cfg(test)]" {
                let dir = match f.file_name().and_then(|n| n.to_str()) {
                    Some("mod.rs" | "lib.rs") => f.parent().expect("parent").to_path_buf(),
                    _ => f.with_extension(""),
                };
                out.insert(dir.join(format!("{name}.rs")));
                out.insert(dir.join(name));
            }
        }
    }
    out
}

/// The top-level modules `line` names as `crate::X` or `crate::{X, …}`.
fn named(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in line.match_indices("crate::") {
        let prefix_ok =
            i == 0 || !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
        if !prefix_ok {
            continue;
        }
        let rest = &line[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        out.push(ident(&group[j..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// Every reference between top-level modules: (from, to) → files.
fn edges() -> BTreeMap<(String, String), BTreeSet<String>> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let skip = test_only(&files);
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&root).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a path")
            .trim_end_matches(".rs")
            .to_string();
        let test_file =
            f.file_name().is_some_and(|n| n == "tests.rs") || skip.iter().any(|s| f.starts_with(s));
        if matches!(top.as_str(), "lib" | "main") || test_file {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("source file");
        for line in production_lines(&text) {
            for to in named(line) {
                if to != top {
                    let key = (top.clone(), to);
                    out.entry(key)
                        .or_default()
                        .insert(rel.display().to_string());
                }
            }
        }
    }
    out
}

#[test]
fn modules_only_name_the_layers_below_them() {
    let rank = |m: &str| ORDER.iter().position(|o| *o == m);
    let edges = edges();
    let mut failures = Vec::new();
    for ((from, to), files) in &edges {
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        match (rank(from), rank(to)) {
            (None, _) => failures.push(format!("module {from} is not in layers::ORDER")),
            (_, None) => failures.push(format!("{from} names {to}, which is not in ORDER")),
            (Some(f), Some(t)) if t > f => {}
            _ if DEBTS.iter().any(|(a, b, _)| a == from && b == to) => {}
            _ => failures.push(format!(
                "{from} names {to}, a layer above it ({}): move what it needs down, or pass it in",
                files.join(", ")
            )),
        }
    }
    for (from, to, _) in DEBTS {
        if !edges.contains_key(&(from.to_string(), to.to_string())) {
            failures.push(format!("{from} no longer names {to}: delete the debt"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn references_are_found_in_paths_and_groups() {
    assert_eq!(named("use crate::store::Drive;"), ["store"]);
    assert_eq!(
        named("use crate::{object::{a, b}, heal};  x::crate::no"),
        ["object", "heal"]
    );
    assert_eq!(named("let m = crate::metrics::global();"), ["metrics"]);
}
