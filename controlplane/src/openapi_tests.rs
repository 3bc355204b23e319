use super::*;
use std::collections::BTreeSet;

/// The document and the router's table list the same operations, so neither drifts.
#[test]
fn documented_routes_are_exactly_the_router_routes() {
    let documented: BTreeSet<(String, String)> = documented_routes().into_iter().collect();
    let routed: BTreeSet<(String, String)> = crate::routes::route_keys()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        documented.len(),
        ops().len(),
        "an operation is documented twice"
    );
    assert_eq!(documented, routed);
    let doc = document();
    let n: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(n, routed.len());
    // and so do the scopes they need
    for r in crate::routes::table() {
        let op = &doc["paths"][r.path][r.method.as_str().to_lowercase()];
        let want = match r.access.scope() {
            None => serde_json::json!([]),
            Some(s) => serde_json::json!([{"bearer": [s.as_str()]}]),
        };
        assert_eq!(op["security"], want, "{} {}", r.method, r.path);
        assert_eq!(
            op["responses"]["403"].is_object(),
            r.access == crate::routes::Access::Admin,
            "{} {}",
            r.method,
            r.path
        );
    }
}

#[test]
fn every_schema_reference_resolves() {
    let doc = document();
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for part in text.split("#/components/schemas/").skip(1) {
        let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
        assert!(schemas.contains_key(&name), "missing schema {name}");
    }
}
