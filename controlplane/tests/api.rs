//! The REST API through real HTTP against an in-process server on a real SQLite file: auth,
//! idempotent registration, the documented error codes with no partial writes, the audit trail,
//! tokens, metrics, and a walk over every operation of the OpenAPI document.

mod support;

use reqwest::{Client, Method, StatusCode};
use rustfs_controlplane::config::{Config, ServeArgs};
use serde_json::{json, Value};

struct Cp {
    base: String,
    token: String,
    http: Client,
    _dir: tempfile::TempDir,
    running: Option<support::Running>,
}

impl Cp {
    async fn start() -> Cp {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::resolve(ServeArgs {
            db: Some(dir.path().join("cp.db")),
            listen: Some("127.0.0.1:0".into()),
            poll_interval_millis: Some(500),
            poll_timeout_millis: Some(500),
            ..Default::default()
        })
        .unwrap();
        let running = support::start(cfg).await;
        let (base, token) = (running.base.clone(), running.token.clone());
        let http = Client::new();
        Cp {
            base,
            token,
            http,
            _dir: dir,
            running: Some(running),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&str>) -> (StatusCode, Value) {
        self.call_as(Some(&self.token), method, path, body).await
    }

    async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn stop(mut self) {
        self.running.take().unwrap().stop().await;
    }
}

fn registration(site: &str) -> Value {
    json!({
        "site": site,
        "version": "0.1.0",
        "credentials": {"access_key": "admin", "secret_key": "a long secret"},
        "pools": [{"hosts": [
            {"name": "n1", "address": "127.0.0.1", "s3_port": 1, "drives": ["/d1", "/d2"]},
            {"name": "n2", "address": "127.0.0.2", "s3_port": 1, "drives": ["/d1", "/d2"]}
        ]}]
    })
}

fn assert_error(got: &(StatusCode, Value), status: u16, code: &str) {
    assert_eq!(got.0.as_u16(), status, "{:?}", got.1);
    assert_eq!(got.1["code"], code, "{:?}", got.1);
    assert!(
        got.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{:?}",
        got.1
    );
}

#[tokio::test]
async fn auth_is_required_and_tokens_work() {
    let cp = Cp::start().await;
    let none = cp.call_as(None, Method::GET, "/v1/clusters", None).await;
    assert_error(&none, 401, "unauthorized");
    let wrong = cp
        .call_as(Some("rfcp_00"), Method::GET, "/v1/clusters", None)
        .await;
    assert_error(&wrong, 401, "unauthorized");
    let put = cp
        .call_as(
            Some("wrong"),
            Method::PUT,
            "/v1/clusters/prod",
            Some(&registration("dc1").to_string()),
        )
        .await;
    assert_error(&put, 401, "unauthorized");
    // nothing was written by the refused call
    let (s, list) = cp.call(Method::GET, "/v1/clusters", None).await;
    assert_eq!(s, 200);
    assert_eq!(list["clusters"], json!([]));
    // public routes need no token
    for p in ["/live", "/metrics", "/v1/openapi.json"] {
        let (s, _) = cp.call_as(None, Method::GET, p, None).await;
        assert_eq!(s, 200, "{p}");
    }
    // a new token works until revoked; its secret is never listed
    let (s, t) = cp
        .call(
            Method::POST,
            "/v1/tokens",
            Some(r#"{"name":"ci","scope":"read"}"#),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let secret = t["token"].as_str().unwrap().to_string();
    let (s, _) = cp
        .call_as(Some(&secret), Method::GET, "/v1/sites", None)
        .await;
    assert_eq!(s, 200);
    let (_, list) = cp.call(Method::GET, "/v1/tokens", None).await;
    assert!(!list.to_string().contains(&secret));
    assert_eq!(list["tokens"].as_array().unwrap().len(), 2);
    let id = t["id"].as_str().unwrap();
    let (s, _) = cp
        .call(Method::DELETE, &format!("/v1/tokens/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let revoked = cp
        .call_as(Some(&secret), Method::GET, "/v1/sites", None)
        .await;
    assert_error(&revoked, 401, "unauthorized");
    assert_error(
        &cp.call(Method::DELETE, "/v1/tokens/not-hex", None).await,
        400,
        "invalid_argument",
    );
    assert_error(
        &cp.call(Method::DELETE, "/v1/tokens/0123456789abcdef", None)
            .await,
        404,
        "not_found",
    );
    // the audit trail has the token calls by the admin and none of the refused ones: calls
    // without a valid token are not recorded (anyone could fill the table with them)
    let (_, audit) = cp.call(Method::GET, "/v1/audit?limit=1000", None).await;
    let entries = audit["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .all(|e| e["status"] != 401 && e["actor"] != "anonymous"),
        "{audit}"
    );
    assert!(entries
        .iter()
        .any(|e| e["actor"].as_str().unwrap().starts_with("admin")
            && e["method"] == "POST"
            && e["status"] == 201));
    assert!(!audit.to_string().contains("a long secret"));
    cp.stop().await;
}

#[tokio::test]
async fn registering_twice_changes_nothing() {
    let cp = Cp::start().await;
    let body = registration("dc1").to_string();
    let (s, first) = cp.call(Method::PUT, "/v1/clusters/prod", Some(&body)).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["created"], true);
    assert_eq!(first["changed"], true);
    assert_eq!(first["cluster"]["pools"][0]["hosts"], json!(["n1", "n2"]));
    assert!(!first.to_string().contains("a long secret"));
    let (s, second) = cp.call(Method::PUT, "/v1/clusters/prod", Some(&body)).await;
    assert_eq!(s, 200);
    assert_eq!(second["created"], false);
    assert_eq!(second["changed"], false);
    assert_eq!(
        first["cluster"]["updated_at"],
        second["cluster"]["updated_at"]
    );
    let (_, ev) = cp
        .call(
            Method::GET,
            "/v1/events?cluster=prod&kind=cluster_registered",
            None,
        )
        .await;
    assert_eq!(ev["events"].as_array().unwrap().len(), 1);
    let (_, ev) = cp
        .call(Method::GET, "/v1/events?kind=cluster_updated", None)
        .await;
    assert_eq!(ev["events"], json!([]));
    // a real change is one
    let mut changed = registration("dc1");
    changed["version"] = json!("0.2.0");
    let (s, third) = cp
        .call(Method::PUT, "/v1/clusters/prod", Some(&changed.to_string()))
        .await;
    assert_eq!(s, 200);
    assert_eq!(third["changed"], true);
    let (s, site) = cp.call(Method::GET, "/v1/sites/dc1", None).await;
    assert_eq!(s, 200);
    assert_eq!(site["clusters"], json!(["prod"]));
    let (s, nodes) = cp.call(Method::GET, "/v1/clusters/prod/nodes", None).await;
    assert_eq!(s, 200);
    assert_eq!(nodes["nodes"].as_array().unwrap().len(), 2);
    cp.stop().await;
}

#[tokio::test]
async fn bad_input_gets_the_documented_code_and_writes_nothing() {
    let cp = Cp::start().await;
    let good = registration("dc1");
    let mut unknown = good.clone();
    unknown["colour"] = json!("blue");
    let mut nested_unknown = good.clone();
    nested_unknown["pools"][0]["hosts"][0]["zone"] = json!("a");
    let mut wrong_type = good.clone();
    wrong_type["pools"][0]["hosts"][0]["s3_port"] = json!("nine thousand");
    let mut dup = good.clone();
    dup["pools"][0]["hosts"][1]["name"] = json!("n1");
    let mut rel = good.clone();
    rel["pools"][0]["hosts"][0]["drives"] = json!(["data1"]);
    let mut bad_site = good.clone();
    bad_site["site"] = json!("DC 1");
    let mut no_pools = good.clone();
    no_pools["pools"] = json!([]);
    let mut no_creds = good.clone();
    no_creds.as_object_mut().unwrap().remove("credentials");
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("/v1/clusters/prod", "{not json".into(), 400, "invalid_json"),
        ("/v1/clusters/prod", "".into(), 400, "invalid_json"),
        (
            "/v1/clusters/prod",
            unknown.to_string(),
            400,
            "invalid_json",
        ),
        (
            "/v1/clusters/prod",
            nested_unknown.to_string(),
            400,
            "invalid_json",
        ),
        (
            "/v1/clusters/prod",
            wrong_type.to_string(),
            400,
            "invalid_json",
        ),
        (
            "/v1/clusters/prod",
            no_creds.to_string(),
            400,
            "invalid_json",
        ),
        (
            "/v1/clusters/prod",
            dup.to_string(),
            400,
            "invalid_argument",
        ),
        (
            "/v1/clusters/prod",
            rel.to_string(),
            400,
            "invalid_argument",
        ),
        (
            "/v1/clusters/prod",
            bad_site.to_string(),
            400,
            "invalid_argument",
        ),
        (
            "/v1/clusters/prod",
            no_pools.to_string(),
            400,
            "invalid_argument",
        ),
        (
            "/v1/clusters/Not_Valid",
            good.to_string(),
            400,
            "invalid_argument",
        ),
        ("/v1/clusters/-x", good.to_string(), 400, "invalid_argument"),
    ];
    for (path, body, status, code) in &cases {
        let got = cp.call(Method::PUT, path, Some(body)).await;
        assert_error(&got, *status, code);
    }
    // no content type, too large
    let r = cp
        .http
        .put(format!("{}/v1/clusters/prod", cp.base))
        .bearer_auth(&cp.token)
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let e: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(e["code"], "unsupported_media_type");
    let mut huge = good.clone();
    huge["s3_endpoints"] = json!(vec!["http://x"; 200_000]);
    let got = cp
        .call(Method::PUT, "/v1/clusters/prod", Some(&huge.to_string()))
        .await;
    assert_error(&got, 413, "payload_too_large");
    // nothing of any of it was stored
    let (_, list) = cp.call(Method::GET, "/v1/clusters", None).await;
    assert_eq!(list["clusters"], json!([]));
    let (_, sites) = cp.call(Method::GET, "/v1/sites", None).await;
    assert_eq!(sites["sites"], json!([]));
    let (_, ev) = cp.call(Method::GET, "/v1/events", None).await;
    assert_eq!(ev["events"], json!([]));
    // other ids and parameters
    assert_error(
        &cp.call(Method::GET, "/v1/clusters/nope", None).await,
        404,
        "not_found",
    );
    assert_error(
        &cp.call(Method::GET, "/v1/clusters/UPPER", None).await,
        400,
        "invalid_argument",
    );
    assert_error(
        &cp.call(Method::GET, "/v1/sites/nope", None).await,
        404,
        "not_found",
    );
    assert_error(
        &cp.call(Method::GET, "/v1/nothing-here", None).await,
        404,
        "not_found",
    );
    assert_error(
        &cp.call(Method::PATCH, "/v1/clusters/prod", None).await,
        405,
        "method_not_allowed",
    );
    for q in [
        "limit=0",
        "limit=x",
        "since=yesterday",
        "kind=bogus",
        "colour=red",
        "after=-1",
    ] {
        let got = cp.call(Method::GET, &format!("/v1/events?{q}"), None).await;
        assert_error(&got, 400, "invalid_argument");
    }
    assert_error(
        &cp.call(
            Method::POST,
            "/v1/tokens",
            Some(r#"{"name":"","scope":"read"}"#),
        )
        .await,
        400,
        "invalid_argument",
    );
    assert_error(
        &cp.call(
            Method::POST,
            "/v1/tokens",
            Some(r#"{"name":"x","admin":true}"#),
        )
        .await,
        400,
        "invalid_json",
    );
    // metrics counted the API calls
    let (_, m) = cp.call_as(None, Method::GET, "/metrics", None).await;
    let m = m.as_str().unwrap().to_string();
    assert!(m.contains("rustfs_controlplane_api_requests_total{method=\"PUT\",route=\"/v1/clusters/{cluster}\",status=\"400\"}"), "{m}");
    cp.stop().await;
}

/// A path's parameters filled with ids that exist.
fn fill(path: &str, token_id: &str) -> String {
    path.replace("{cluster}", "walk")
        .replace("{node}", "n1")
        .replace("{site}", "dc1")
        .replace("{id}", token_id)
        .replace("{version}", "walk-1.0")
}

/// Calls every operation of the served OpenAPI document and checks each answer is one it
/// documents, with the documented shape (required fields present, error codes from the set).
#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let cp = Cp::start().await;
    let (s, doc) = cp
        .call_as(None, Method::GET, "/v1/openapi.json", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let schemas = doc["components"]["schemas"].clone();
    let codes: Vec<Value> = schemas["Error"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    let (_, t) = cp
        .call(
            Method::POST,
            "/v1/tokens",
            Some(r#"{"name":"walk","scope":"read"}"#),
        )
        .await;
    let token_id = t["id"].as_str().unwrap().to_string();
    let (s, _) = cp
        .call(
            Method::PUT,
            "/v1/clusters/walk",
            Some(&registration("dc1").to_string()),
        )
        .await;
    assert_eq!(s, 201);
    let mut ops: Vec<(String, String, Value)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.clone(), path.clone(), op.clone()));
        }
    }
    // deletes last, so the other operations find what they name
    ops.sort_by_key(|(m, p, _)| (m == "delete", p.clone()));
    assert_eq!(ops.len(), 22);
    let binary = cp._dir.path().join("rustfs-walk");
    std::fs::write(&binary, b"walk").unwrap();
    let release = json!({
        "version": "walk-1.0",
        "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"walk")),
        "path": binary,
    })
    .to_string();
    for (method, path, op) in &ops {
        let url = fill(path, &token_id);
        let body = op.get("requestBody").map(|_| {
            if path == "/v1/tokens" {
                r#"{"name":"walked","scope":"admin"}"#.to_string()
            } else if path == "/v1/releases" {
                release.clone()
            } else {
                registration("dc1").to_string()
            }
        });
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let (status, answer) = cp.call(m, &url, body.as_deref()).await;
        let documented = &op["responses"][status.as_str()];
        assert!(
            documented.is_object(),
            "{method} {path}: answered {status}, which is not documented: {answer}"
        );
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        if let Some(r) = documented["content"]["application/json"]["schema"]["$ref"].as_str() {
            let name = r.rsplit('/').next().unwrap();
            for field in schemas[name]["required"].as_array().unwrap() {
                let f = field.as_str().unwrap();
                assert!(
                    answer.get(f).is_some(),
                    "{method} {path}: no {f} in {answer}"
                );
            }
        }
        // and without a token, protected operations answer the documented 401
        if op["security"] != json!([]) {
            let (s, e) = cp
                .call_as(
                    None,
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &url,
                    None,
                )
                .await;
            assert_eq!(s, 401);
            assert!(op["responses"]["401"].is_object());
            assert!(codes.contains(&e["code"]), "{e}");
        }
    }
    cp.stop().await;
}
