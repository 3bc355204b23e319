use super::*;

/// Rows of the metric table in `dashboards/README.md`: (name, kind, labels, source).
fn documented() -> Vec<(String, String, Vec<String>, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../dashboards/README.md");
    let text = std::fs::read_to_string(path).expect("dashboards/README.md");
    let mut rows = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `name` | kind | labels | source | meaning |
        if cells.len() < 6 || !cells[1].starts_with("`rustfs_") {
            continue;
        }
        let labels = cells[3]
            .split(',')
            .map(|l| l.trim().trim_matches('`').to_string())
            .filter(|l| !l.is_empty() && l != "—")
            .collect();
        rows.push((
            cells[1].trim_matches('`').to_string(),
            cells[2].to_string(),
            labels,
            cells[4].to_string(),
        ));
    }
    rows
}

fn table_row(e: &CatalogEntry) -> String {
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
        "| `{}` | {} | {} | controlplane | {} |",
        e.name, e.kind, labels, e.help
    )
}

/// The table cannot drift from the code: every family the control plane registers is listed
/// with source `controlplane`, its type and labels, and every `controlplane` row is registered.
#[test]
fn docs_table_matches_the_registry() {
    let catalog = catalog();
    let docs = documented();
    let mut problems = Vec::new();
    for e in &catalog {
        match docs.iter().find(|d| d.0 == e.name) {
            None => problems.push(format!("missing from the table: {}", table_row(e))),
            Some((_, kind, labels, source)) => {
                if source != "controlplane" {
                    problems.push(format!(
                        "{} is registered by the control plane; its Source cell says {source:?}: \
                         make it `controlplane`",
                        e.name
                    ));
                }
                if kind != e.kind || *labels != e.labels {
                    problems.push(format!(
                        "{} is documented as {kind} {labels:?}, registered as {} {:?}: {}",
                        e.name,
                        e.kind,
                        e.labels,
                        table_row(e)
                    ));
                }
            }
        }
    }
    for (name, _, _, source) in &docs {
        if source == "controlplane" && !catalog.iter().any(|e| e.name == *name) {
            problems.push(format!(
                "{name} is documented as registered by the control plane but is not"
            ));
        }
        if name.starts_with("rustfs_controlplane_") && source != "controlplane" {
            problems.push(format!(
                "{name}: control-plane metrics have source `controlplane`, not {source:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "dashboards/README.md and the control plane's metrics disagree:\n{}",
        problems.join("\n")
    );
}

#[test]
fn names_follow_the_convention() {
    let c = catalog();
    assert_eq!(c.len(), 8);
    for e in c {
        assert!(e.name.starts_with("rustfs_controlplane_"), "{}", e.name);
        match e.kind {
            "counter" => assert!(e.name.ends_with("_total"), "{}", e.name),
            "histogram" => assert!(e.name.ends_with("_seconds"), "{}", e.name),
            _ => {}
        }
        assert!(!e.help.is_empty(), "{} has no help", e.name);
    }
}

#[test]
fn reachability_follows_the_nodes_of_each_cluster() {
    set_reachable("mt-a", &[("n1", true), ("n2", false)]);
    set_reachable("mt-b", &[("n1", true)]);
    let text = render();
    assert!(text.contains(r#"rustfs_controlplane_node_reachable{cluster="mt-a",node="n1"} 1"#));
    assert!(text.contains(r#"rustfs_controlplane_node_reachable{cluster="mt-a",node="n2"} 0"#));
    // n2 left the registration
    set_reachable("mt-a", &[("n1", false)]);
    let text = render();
    assert!(text.contains(r#"rustfs_controlplane_node_reachable{cluster="mt-a",node="n1"} 0"#));
    assert!(!text.contains(r#"cluster="mt-a",node="n2""#), "{text}");
    // mt-b was deleted
    retain_clusters(&["mt-a"]);
    let text = render();
    assert!(!text.contains(r#"cluster="mt-b""#), "{text}");
    forget_cluster("mt-a");
    assert!(!render().contains(r#"cluster="mt-a""#));
}
