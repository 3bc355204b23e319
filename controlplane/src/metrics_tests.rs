use super::*;

/// The table cannot drift from the code: every family the control plane registers is listed
/// with source `controlplane`, its type and labels, every `controlplane` row is registered, and
/// every `rustfs_controlplane_` row says `controlplane`.
#[test]
fn docs_table_matches_the_registry() {
    use rustfs_common::metric_table::{problems, rows};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../dashboards/README.md");
    let text = std::fs::read_to_string(path).expect("dashboards/README.md");
    let mut problems = problems(&text, "controlplane", &catalog());
    for r in rows(&text) {
        if r.name.starts_with("rustfs_controlplane_") && r.source != "controlplane" {
            problems.push(format!(
                "{}: control-plane metrics have source `controlplane`, not {:?}",
                r.name, r.source
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
    assert_eq!(c.len(), 10);
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
