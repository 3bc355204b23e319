//! Every route of the router, attacked through real HTTP on a real SQLite file: no token, a
//! malformed one, a forged one, an expired one and a revoked one are `401 unauthorized`; a
//! `read` token on a mutating route is `403 forbidden`; none of them changes anything or
//! fills the audit trail. The routes come from `routes::table()`, so a route added without
//! the right access fails here.

mod support;

use reqwest::{Client, Method, StatusCode};
use rustfs_controlplane::config::{Config, ServeArgs};
use rustfs_controlplane::routes::{table, Access};
use serde_json::{json, Value};
use sqlx::sqlite::SqliteConnectOptions;
use std::time::Duration;

struct Cp {
    running: support::Running,
    http: Client,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Cp {
    async fn start() -> Cp {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cp.db");
        let cfg = Config::resolve(ServeArgs {
            db: Some(db.clone()),
            ..Default::default()
        })
        .unwrap();
        Cp {
            running: support::start(cfg).await,
            http: Client::new(),
            db,
            _dir: dir,
        }
    }

    async fn call(
        &self,
        auth: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.running.base));
        if let Some(a) = auth {
            req = req.header("authorization", a);
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

    async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let auth = format!("Bearer {}", self.running.token);
        self.call(Some(&auth), method, path, body).await
    }

    /// A new token of `scope`: (id, secret).
    async fn token(&self, name: &str, scope: &str) -> (String, String) {
        let (s, t) = self
            .admin(
                Method::POST,
                "/v1/tokens",
                Some(&json!({"name": name, "scope": scope})),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        assert_eq!(t["scope"], scope);
        (
            t["id"].as_str().unwrap().into(),
            t["token"].as_str().unwrap().into(),
        )
    }

    /// What the database holds that any successful call would change.
    async fn state(&self) -> Value {
        let (_, clusters) = self.admin(Method::GET, "/v1/clusters", None).await;
        let (_, tokens) = self.admin(Method::GET, "/v1/tokens", None).await;
        let (_, audit) = self.admin(Method::GET, "/v1/audit?limit=1000", None).await;
        json!({"clusters": clusters, "tokens": tokens, "audit": audit})
    }
}

fn registration() -> Value {
    json!({
        "credentials": {"access_key": "admin", "secret_key": "a long secret"},
        "pools": [{"hosts": [{"name": "n1", "address": "127.0.0.1", "s3_port": 1, "drives": ["/d1"]}]}]
    })
}

/// A route's path with its parameters filled with things that exist (`{id}`: `token_id`).
fn fill(path: &str, token_id: &str) -> String {
    path.replace("{cluster}", "walk")
        .replace("{node}", "n1")
        .replace("{site}", "default")
        .replace("{id}", token_id)
}

/// The body a route takes, if any: a valid one, so a missing check would show as a write.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    match (method.as_str(), path) {
        ("PUT", "/v1/clusters/{cluster}") => Some(registration()),
        ("POST", "/v1/tokens") => Some(json!({"name": "attacker", "scope": "admin"})),
        ("GET" | "DELETE", _) => None,
        _ => Some(json!({})),
    }
}

fn assert_error(got: &(StatusCode, Value), status: u16, code: &str, what: &str) {
    assert_eq!(got.0.as_u16(), status, "{what}: {}", got.1);
    assert_eq!(got.1["code"], code, "{what}: {}", got.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_every_bad_credential() {
    let cp = Cp::start().await;
    let (_, reader) = cp.token("dashboards", "read").await;
    let (revoked_id, revoked) = cp.token("leaked", "admin").await;
    let (s, _) = cp
        .admin(Method::DELETE, &format!("/v1/tokens/{revoked_id}"), None)
        .await;
    assert_eq!(s, 204);
    // an admin token that has expired: made valid for an hour, then its hour is over
    let (s, t) = cp
        .admin(
            Method::POST,
            "/v1/tokens",
            Some(&json!({"name": "contractor", "scope": "admin",
                          "expires_at": "2999-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["expires_at"], "2999-01-01T00:00:00.000Z");
    let expired = t["token"].as_str().unwrap().to_string();
    let pool = sqlx::SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(&cp.db)
            .busy_timeout(Duration::from_secs(5)),
    )
    .await
    .unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = 1 WHERE id = ?")
        .bind(t["id"].as_str().unwrap())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    // the target of DELETE /v1/tokens/{id}: a token that must survive the attacks
    let (victim_id, victim) = cp.token("victim", "read").await;
    let forged = format!("rfcp_{}", "ab".repeat(32));
    let admin_secret = cp.running.token.clone();
    let attacks: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("empty bearer", Some("Bearer ".into())),
        ("not bearer", Some(format!("Basic {admin_secret}"))),
        ("lower-case scheme", Some(format!("bearer{admin_secret}"))),
        ("garbage", Some("Bearer not-a-token".into())),
        ("forged", Some(format!("Bearer {forged}"))),
        (
            "admin token one character off",
            Some(format!(
                "Bearer {}{}",
                &admin_secret[..admin_secret.len() - 1],
                if admin_secret.ends_with('0') {
                    '1'
                } else {
                    '0'
                }
            )),
        ),
        ("revoked", Some(format!("Bearer {revoked}"))),
        ("expired", Some(format!("Bearer {expired}"))),
    ];
    let before = cp.state().await;

    let routes = table();
    let mut public = Vec::new();
    for r in &routes {
        let path = fill(r.path, &victim_id);
        let body = body_for(&r.method, r.path);
        let what = format!("{} {}", r.method, r.path);
        if r.access == Access::Public {
            public.push(r.path);
            let (s, _) = cp.call(None, r.method.clone(), &path, None).await;
            assert_eq!(s, 200, "{what} is public");
            continue;
        }
        for (attack, auth) in &attacks {
            let got = cp
                .call(auth.as_deref(), r.method.clone(), &path, body.as_ref())
                .await;
            assert_error(&got, 401, "unauthorized", &format!("{what}, {attack}"));
            assert!(
                got.1["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{what}, {attack}: {}",
                got.1
            );
        }
        // a read token reads, and may change nothing
        let got = cp
            .call(
                Some(&format!("Bearer {reader}")),
                r.method.clone(),
                &path,
                body.as_ref(),
            )
            .await;
        if r.method == Method::GET {
            assert!(
                !matches!(got.0.as_u16(), 401 | 403),
                "{what} with a read token: {:?}",
                got
            );
        } else {
            assert_error(&got, 403, "forbidden", &format!("{what}, read token"));
            assert!(
                got.1["message"].as_str().unwrap().contains("admin"),
                "{}",
                got.1
            );
        }
    }
    assert_eq!(public, ["/live", "/metrics", "/v1/openapi.json"]);
    // unknown routes and methods are behind the token too
    for (m, p) in [
        (Method::POST, "/v1/nothing"),
        (Method::PATCH, "/v1/clusters/walk"),
    ] {
        let got = cp.call(None, m, p, None).await;
        assert_error(&got, 401, "unauthorized", p);
    }

    // nothing changed, and the audit trail has only the read token's refused calls
    let after = cp.state().await;
    assert_eq!(after["clusters"], before["clusters"]);
    assert_eq!(after["tokens"], before["tokens"]);
    let new_entries: Vec<&Value> = after["audit"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !before["audit"]["entries"].as_array().unwrap().contains(e))
        .collect();
    let mutating = routes.iter().filter(|r| r.access == Access::Admin).count();
    assert_eq!(new_entries.len(), mutating, "{new_entries:?}");
    for e in new_entries {
        assert!(
            e["actor"].as_str().unwrap().starts_with("dashboards ("),
            "{e}"
        );
        assert_eq!(
            (e["status"].as_u64(), e["code"].as_str()),
            (Some(403), Some("forbidden"))
        );
    }
    // the victim token still works
    let (s, _) = cp
        .call(
            Some(&format!("Bearer {victim}")),
            Method::GET,
            "/v1/sites",
            None,
        )
        .await;
    assert_eq!(s, 200);
    cp.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_have_scopes_and_expiry_and_the_last_admin_stays() {
    let cp = Cp::start().await;
    let (_, list) = cp.admin(Method::GET, "/v1/tokens", None).await;
    let first = &list["tokens"][0];
    assert_eq!(
        (
            first["name"].as_str(),
            first["scope"].as_str(),
            &first["expires_at"]
        ),
        (Some("admin"), Some("admin"), &Value::Null),
        "the first-start token is admin without expiry"
    );
    let admin_id = first["id"].as_str().unwrap().to_string();
    // the only admin token cannot be revoked
    let got = cp
        .admin(Method::DELETE, &format!("/v1/tokens/{admin_id}"), None)
        .await;
    assert_error(&got, 409, "conflict", "last admin");
    assert!(
        got.1["message"]
            .as_str()
            .unwrap()
            .contains("create another"),
        "{}",
        got.1
    );
    // bad requests
    for (body, code) in [
        (json!({"name": "x"}), "invalid_json"),
        (json!({"name": "x", "scope": "root"}), "invalid_json"),
        (
            json!({"name": "x", "scope": "read", "expires_at": "soon"}),
            "invalid_argument",
        ),
        (
            json!({"name": "x", "scope": "read", "expires_at": "2001-01-01T00:00:00Z"}),
            "invalid_argument",
        ),
        (json!({"name": "", "scope": "read"}), "invalid_argument"),
    ] {
        let got = cp.admin(Method::POST, "/v1/tokens", Some(&body)).await;
        assert_error(&got, 400, code, &body.to_string());
    }
    // a second admin token can revoke the first one, after which the first is refused
    let (second_id, second) = cp.token("ops", "admin").await;
    let auth = format!("Bearer {second}");
    let (s, _) = cp
        .call(
            Some(&auth),
            Method::DELETE,
            &format!("/v1/tokens/{admin_id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let got = cp.admin(Method::GET, "/v1/clusters", None).await;
    assert_error(&got, 401, "unauthorized", "revoked first admin");
    assert!(
        got.1["message"].as_str().unwrap().contains("revoked"),
        "{}",
        got.1
    );
    // the list shows both, without secrets
    let (_, list) = cp.call(Some(&auth), Method::GET, "/v1/tokens", None).await;
    let text = list.to_string();
    assert!(!text.contains(&second) && !text.contains(&cp.running.token));
    let tokens = list["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens[0]["revoked_at"].is_string());
    assert_eq!(tokens[1]["id"], second_id.as_str());
    cp.running.stop().await;
}
