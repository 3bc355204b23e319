//! The metric table of `dashboards/README.md` and the families a binary registers: one entry
//! type for the node's and the control plane's catalogs, and the check that keeps the table and
//! each registry in step (run by their tests).

/// One metric family a collector registered: what the documentation table must list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    pub name: String,
    /// `counter`, `gauge` or `histogram`.
    pub kind: &'static str,
    pub labels: Vec<String>,
    pub help: String,
}

/// One row of the table: `| `name` | kind | labels | source | meaning |`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub kind: String,
    pub labels: Vec<String>,
    pub source: String,
}

/// The metric rows of a markdown document.
pub fn rows(markdown: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for line in markdown.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 6 || !cells[1].starts_with("`rustfs_") {
            continue;
        }
        let labels = cells[3]
            .split(',')
            .map(|l| l.trim().trim_matches('`').to_string())
            .filter(|l| !l.is_empty() && l != "—")
            .collect();
        rows.push(Row {
            name: cells[1].trim_matches('`').to_string(),
            kind: cells[2].to_string(),
            labels,
            source: cells[4].to_string(),
        });
    }
    rows
}

/// The row to add for `e`, registered by `source`.
pub fn table_row(e: &CatalogEntry, source: &str) -> String {
    let labels = if e.labels.is_empty() {
        "—".to_string()
    } else {
        e.labels
            .iter()
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "| `{}` | {} | {} | {source} | {} |",
        e.name, e.kind, labels, e.help
    )
}

/// Where the table and `catalog` (everything `source` registers) disagree: a family missing
/// from the table or listed under another source, type or labels, and a row of `source` that is
/// not registered. Empty when they agree.
pub fn problems(markdown: &str, source: &str, catalog: &[CatalogEntry]) -> Vec<String> {
    let docs = rows(markdown);
    let mut problems = Vec::new();
    for e in catalog {
        match docs.iter().find(|d| d.name == e.name) {
            None => problems.push(format!("missing from the table: {}", table_row(e, source))),
            Some(d) => {
                if d.source != source {
                    problems.push(format!(
                        "{} is registered by {source}; its Source cell says {:?}: make it `{source}`",
                        e.name, d.source
                    ));
                }
                if d.kind != e.kind || d.labels != e.labels {
                    problems.push(format!(
                        "{} is documented as {} {:?}, registered as {} {:?}: {}",
                        e.name,
                        d.kind,
                        d.labels,
                        e.kind,
                        e.labels,
                        table_row(e, source)
                    ));
                }
            }
        }
    }
    for d in docs.iter().filter(|d| d.source == source) {
        if !catalog.iter().any(|e| e.name == d.name) {
            problems.push(format!(
                "{} is documented as registered by {source} but is not",
                d.name
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
| Metric | Type | Labels | Source | Meaning |
|---|---|---|---|---|
| `rustfs_a_total` | counter | `x`, `y` | node | A |
| `rustfs_b` | gauge | — | node | B |
| `rustfs_c` | gauge | — | controlplane | C |
";

    fn entry(name: &str, kind: &'static str, labels: &[&str]) -> CatalogEntry {
        CatalogEntry {
            name: name.into(),
            kind,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            help: "help".into(),
        }
    }

    #[test]
    fn agreement_and_each_kind_of_drift_are_told() {
        let ok = [
            entry("rustfs_a_total", "counter", &["x", "y"]),
            entry("rustfs_b", "gauge", &[]),
        ];
        assert!(problems(TABLE, "node", &ok).is_empty());
        let drift = [
            entry("rustfs_a_total", "counter", &["x"]),
            entry("rustfs_c", "gauge", &[]),
            entry("rustfs_new", "gauge", &[]),
        ];
        let p = problems(TABLE, "node", &drift).join("\n");
        assert!(p.contains("rustfs_a_total is documented as counter"), "{p}");
        assert!(p.contains("rustfs_c is registered by node"), "{p}");
        assert!(
            p.contains("missing from the table: | `rustfs_new` | gauge | — | node | help |"),
            "{p}"
        );
        assert!(
            p.contains("rustfs_b is documented as registered by node but is not"),
            "{p}"
        );
    }
}
