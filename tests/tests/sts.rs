//! STS with the AWS SDK for Rust's own STS client: `AssumeRole` credentials act for their user
//! on every node until the user is disabled, a session policy narrows them, tokens cannot be
//! left out, swapped or forged; `AssumeRoleWithWebIdentity` against a real OpenID issuer run by
//! the test (discovery and JWKS over HTTP, ES256 keys, a key rotation mid-test).

use aws_credential_types::Credentials;
use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_sdk_sts::error::ProvideErrorMetadata;
use rustfs_tests::cluster::Cluster;
use rustfs_tests::iam::{add_user, admin_ok, get, put, ROOT};
use rustfs_tests::{session_client, TestNode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An STS client for `endpoint`, signing with `keys` (none: unsigned calls only).
fn sts(endpoint: &str, keys: Option<(&str, &str)>) -> aws_sdk_sts::Client {
    let mut b = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled());
    if let Some((ak, sk)) = keys {
        b = b.credentials_provider(Credentials::new(ak, sk, None, None, "rustfs-tests"));
    }
    aws_sdk_sts::Client::from_conf(b.build())
}

/// Temporary credentials: access key, secret, session token.
type Temp = (String, String, String);

fn temp_of(c: Option<&aws_sdk_sts::types::Credentials>) -> Temp {
    let c = c.expect("credentials in the answer");
    (
        c.access_key_id().to_string(),
        c.secret_access_key().to_string(),
        c.session_token().to_string(),
    )
}

/// `AssumeRole` as `keys`, optionally with a session policy and a lifetime; the STS error code
/// when refused.
async fn assume_role(
    endpoint: &str,
    keys: (&str, &str),
    policy: Option<&str>,
    seconds: Option<i32>,
) -> Result<Temp, String> {
    sts(endpoint, Some(keys))
        .assume_role()
        .role_arn("arn:aws:iam::000000000000:role/any")
        .role_session_name("test")
        .set_policy(policy.map(str::to_string))
        .set_duration_seconds(seconds)
        .send()
        .await
        .map(|r| temp_of(r.credentials()))
        .map_err(|e| e.code().unwrap_or("no code").to_string())
}

fn s3(endpoint: &str, t: &Temp) -> aws_sdk_s3::Client {
    session_client(endpoint, &t.0, &t.1, Some(t.2.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assumed_roles_act_for_their_user_on_every_node_until_revoked() {
    let c = Cluster::start(4, 1);
    c.wait_healthy();
    let ep: Vec<String> = c.nodes.iter().map(|n| n.endpoint.clone()).collect();
    let root = c.client(0);
    root.create_bucket().bucket("data").send().await.unwrap();
    for key in ["pub/a", "priv/b"] {
        assert_eq!(put(&root, "data", key).await, "");
    }
    add_user(&ep[0], "erin", &["readonly"]).await;
    let erin = ("erin", "erin-secret-key");
    let t = assume_role(&ep[0], erin, None, None).await.unwrap();
    assert!(t.0.starts_with("ASIA") && t.0.len() == 20, "{}", t.0);
    // Issued through node 1, honoured by every node at once, with erin's policies.
    for (i, e) in ep.iter().enumerate() {
        let temp = s3(e, &t);
        assert_eq!(get(&temp, "data", "pub/a").await, "", "node {}", i + 1);
        assert_eq!(
            put(&temp, "data", "x").await,
            "AccessDenied",
            "node {}",
            i + 1
        );
    }
    // A presigned GET carries the token in its query.
    let presigned = s3(&ep[2], &t)
        .get_object()
        .bucket("data")
        .key("pub/a")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(60)).unwrap(),
        )
        .await
        .unwrap();
    assert!(presigned.uri().contains("X-Amz-Security-Token"));
    let r = reqwest::get(presigned.uri()).await.unwrap();
    assert_eq!(r.status(), 200);
    // Without its token, or with another session's, the key is refused.
    let bare = session_client(&ep[1], &t.0, &t.1, None);
    assert_eq!(get(&bare, "data", "pub/a").await, "AccessDenied");
    let other = assume_role(&ep[1], erin, None, None).await.unwrap();
    let swapped = (t.0.clone(), t.1.clone(), other.2.clone());
    assert_eq!(
        get(&s3(&ep[1], &swapped), "data", "pub/a").await,
        "InvalidToken"
    );
    let wrong_secret = (t.0.clone(), other.1.clone(), t.2.clone());
    assert_eq!(
        get(&s3(&ep[1], &wrong_secret), "data", "pub/a").await,
        "SignatureDoesNotMatch"
    );
    // A session policy narrows what the user may do.
    let only_pub = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/pub/*"}]}"#;
    let narrow = assume_role(&ep[3], erin, Some(only_pub), Some(900))
        .await
        .unwrap();
    assert_eq!(get(&s3(&ep[0], &narrow), "data", "pub/a").await, "");
    assert_eq!(
        get(&s3(&ep[0], &narrow), "data", "priv/b").await,
        "AccessDenied"
    );
    // Temporary credentials cannot assume a role in turn.
    let chained = sts(&ep[0], None)
        .assume_role()
        .role_arn("arn:aws:iam::000000000000:role/any")
        .role_session_name("x")
        .customize()
        .config_override(
            aws_sdk_sts::config::Config::builder().credentials_provider(Credentials::new(
                &t.0,
                &t.1,
                Some(t.2.clone()),
                None,
                "t",
            )),
        )
        .send()
        .await
        .map_err(|e| e.code().unwrap_or("").to_string());
    assert_eq!(chained.err().as_deref(), Some("AccessDenied"));
    // Disabling erin ends her sessions on every node.
    let started = Instant::now();
    admin_ok(&ep[1], "POST", "users/erin/disable", "").await;
    for (i, e) in ep.iter().enumerate() {
        assert_eq!(
            get(&s3(e, &t), "data", "pub/a").await,
            "InvalidToken",
            "node {}",
            i + 1
        );
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        assume_role(&ep[2], erin, None, None).await.err().as_deref(),
        Some("InvalidClientTokenId"),
        "a disabled user's key cannot sign"
    );
}

/// Bad STS input gets a clear error and issues nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sts_calls_are_refused_with_their_reason() {
    const METRICS_TOKEN: &str = "sts-test-metrics-token";
    let node = TestNode::start_with(4, &[("RUSTFS_METRICS_TOKEN", METRICS_TOKEN)]);
    let ep = node.server.endpoint.clone();
    node.client()
        .create_bucket()
        .bucket("data")
        .send()
        .await
        .unwrap();
    // Before any STS call, a key of the temporary shape is unknown.
    let made_up = (
        "ASIAAAAAAAAAAAAAAAAA".to_string(),
        "x".repeat(40),
        "a.b.c".to_string(),
    );
    assert_eq!(
        get(&s3(&ep, &made_up), "data", "k").await,
        "InvalidAccessKeyId"
    );
    add_user(&ep, "fred", &["readwrite"]).await;
    let fred = ("fred", "fred-secret-key");
    let refused = |r: Result<Temp, String>| r.err().unwrap_or_else(|| "issued".into());
    assert_eq!(
        refused(assume_role(&ep, ROOT, None, None).await),
        "AccessDenied"
    );
    assert_eq!(
        refused(assume_role(&ep, fred, None, Some(899)).await),
        "ValidationError"
    );
    assert_eq!(
        refused(assume_role(&ep, fred, None, Some(43_201)).await),
        "ValidationError"
    );
    assert_eq!(
        refused(assume_role(&ep, fred, Some("{not json"), None).await),
        "MalformedPolicyDocument"
    );
    let huge = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/{}"}}]}}"#,
        "k".repeat(3000)
    );
    assert_eq!(
        refused(assume_role(&ep, fred, Some(&huge), None).await),
        "PackedPolicyTooLarge"
    );
    // A service account may not assume a role.
    admin_ok(
        &ep,
        "PUT",
        "service-accounts/fred-app",
        r#"{"parent":"fred","secret_key":"fred-app-secret"}"#,
    )
    .await;
    let sa_keys = ("fred-app", "fred-app-secret");
    assert_eq!(
        refused(assume_role(&ep, sa_keys, None, None).await),
        "AccessDenied"
    );
    // Unsigned, an unknown action, and a web identity with no provider configured.
    let form = |body: &str| {
        let body = body.to_string();
        let ep = ep.clone();
        async move {
            let r = reqwest::Client::new()
                .post(format!("{ep}/"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, body) = form("Action=AssumeRole&Version=2011-06-15").await;
    assert!(
        status == 403 && body.contains("<Code>AccessDenied</Code>"),
        "{body}"
    );
    let (status, body) = form("Action=GetFederationToken&Version=2011-06-15").await;
    assert!(
        status == 400 && body.contains("<Code>InvalidAction</Code>"),
        "{body}"
    );
    let (status, body) = form(&format!("Action=AssumeRole&Padding={}", "x".repeat(70_000))).await;
    assert!(status == 400 && body.contains("over 65536 bytes"), "{body}");
    // A made-up action never becomes a metrics label (a caller could mint series at will).
    let metrics = reqwest::Client::new()
        .get(format!("{ep}/rustfs/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("api=\"STS\"") && !metrics.contains("GetFederationToken"),
        "{metrics}"
    );
    let (status, body) =
        form("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=x").await;
    assert!(
        status == 400 && body.contains("--oidc-issuer"),
        "{status} {body}"
    );
    // A token tampered with is refused, and the real one still works.
    let t = assume_role(&ep, fred, None, None).await.unwrap();
    let mut tampered = t.clone();
    tampered.2.insert(tampered.2.len() - 2, 'x');
    assert_eq!(get(&s3(&ep, &tampered), "data", "k").await, "InvalidToken");
    assert_eq!(put(&s3(&ep, &t), "data", "k").await, "");
    // A user's key cannot be named like a temporary one.
    let r = rustfs_tests::iam::admin(
        &ep,
        ROOT,
        "PUT",
        "users/ASIABBBBBBBBBBBBBBBB",
        r#"{"secret_key":"some-secret-key"}"#,
    )
    .await;
    assert!(r.status == 400 && r.body.contains("STS"), "{}", r.body);
}

/// A minimal OpenID provider: discovery and a JWKS whose keys the test replaces.
struct Issuer {
    url: String,
    jwks: Arc<Mutex<serde_json::Value>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Issuer {
    async fn start() -> Issuer {
        use axum::routing::get;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let jwks = Arc::new(Mutex::new(serde_json::json!({ "keys": [] })));
        let discovery = serde_json::json!({
            "issuer": url,
            "jwks_uri": format!("{url}/jwks"),
            "authorization_endpoint": format!("{url}/authorize"),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        });
        let served = jwks.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || {
                    let d = discovery.clone();
                    async move { axum::Json(d) }
                }),
            )
            .route(
                "/jwks",
                get(move || {
                    let j = served.lock().unwrap().clone();
                    async move { axum::Json(j) }
                }),
            );
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Issuer {
            url,
            jwks,
            _task: task,
        }
    }

    /// Publishes exactly `keys`.
    fn publish(&self, keys: &[&Key]) {
        let keys: Vec<serde_json::Value> = keys.iter().map(|k| k.jwk.clone()).collect();
        *self.jwks.lock().unwrap() = serde_json::json!({ "keys": keys });
    }
}

/// An ES256 signing key and its public JWK.
struct Key {
    kid: String,
    encoding: jsonwebtoken::EncodingKey,
    jwk: serde_json::Value,
}

impl Key {
    fn new(kid: &str) -> Key {
        use base64::Engine;
        let pair = rcgen::KeyPair::generate().unwrap();
        let raw = pair.public_key_raw();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        Key {
            kid: kid.into(),
            encoding: jsonwebtoken::EncodingKey::from_ec_der(&pair.serialize_der()),
            jwk: serde_json::json!({
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                "x": b64(&raw[1..33]), "y": b64(&raw[33..65]),
            }),
        }
    }

    /// An ID token for `sub` with `claims` added, valid for `secs` (negative: expired).
    fn token(&self, issuer: &str, sub: &str, secs: i64, claims: serde_json::Value) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut c = serde_json::json!({
            "iss": issuer, "aud": "rustfs-test", "sub": sub, "iat": now, "exp": now + secs,
        });
        for (k, v) in claims.as_object().unwrap() {
            c[k] = v.clone();
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &c, &self.encoding).unwrap()
    }
}

async fn web_identity(endpoint: &str, token: &str) -> Result<Temp, String> {
    sts(endpoint, None)
        .assume_role_with_web_identity()
        .role_arn("arn:aws:iam::000000000000:role/web")
        .role_session_name("web")
        .web_identity_token(token)
        .send()
        .await
        .map(|r| temp_of(r.credentials()))
        .map_err(|e| e.code().unwrap_or("no code").to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_identities_get_the_policies_their_claim_names_across_a_key_rotation() {
    let issuer = Issuer::start().await;
    let (k1, k2, stranger) = (Key::new("k1"), Key::new("k2"), Key::new("k2"));
    issuer.publish(&[&k1]);
    let node = TestNode::start_with(
        4,
        &[
            ("RUSTFS_OIDC_ISSUER", issuer.url.as_str()),
            ("RUSTFS_OIDC_CLIENT_ID", "rustfs-test"),
        ],
    );
    let ep = node.server.endpoint.clone();
    let root = node.client();
    root.create_bucket().bucket("data").send().await.unwrap();
    assert_eq!(put(&root, "data", "k").await, "");
    let claim = |p: serde_json::Value| serde_json::json!({ "policy": p });

    let t = web_identity(
        &ep,
        &k1.token(&issuer.url, "ann", 300, claim("readonly".into())),
    )
    .await
    .unwrap();
    assert_eq!(get(&s3(&ep, &t), "data", "k").await, "");
    assert_eq!(put(&s3(&ep, &t), "data", "n").await, "AccessDenied");
    let rw = web_identity(
        &ep,
        &k1.token(
            &issuer.url,
            "bob",
            300,
            claim(serde_json::json!(["readwrite"])),
        ),
    )
    .await
    .unwrap();
    assert_eq!(put(&s3(&ep, &rw), "data", "n").await, "");

    // Refused: another audience, expired, unknown policy, a key the provider never published,
    // a symmetric signature.
    let refused = |token: String| {
        let ep = ep.clone();
        async move {
            web_identity(&ep, &token)
                .await
                .err()
                .unwrap_or("issued".into())
        }
    };
    let mut other_aud = claim("readonly".into());
    other_aud["aud"] = "someone-else".into();
    assert_eq!(
        refused(k1.token(&issuer.url, "ann", 300, other_aud)).await,
        "InvalidIdentityToken"
    );
    assert_eq!(
        refused(k1.token(&issuer.url, "ann", -120, claim("readonly".into()))).await,
        "ExpiredTokenException"
    );
    assert_eq!(
        refused(k1.token(&issuer.url, "ann", 300, claim("no-such-policy".into()))).await,
        "AccessDenied"
    );
    assert_eq!(
        refused(k1.token("http://127.0.0.1:1", "ann", 300, claim("readonly".into()))).await,
        "InvalidIdentityToken"
    );
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = Some("k1".into());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let forged = jsonwebtoken::encode(
        &hs,
        &serde_json::json!({"iss": issuer.url, "aud": "rustfs-test", "sub": "eve", "exp": now + 300, "policy": "readwrite"}),
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    assert_eq!(refused(forged).await, "InvalidIdentityToken");

    // The provider rotates to k2: its tokens are accepted once the node refetches the keys
    // (at most one refetch a second), and k1's are not.
    issuer.publish(&[&k2]);
    let token = k2.token(&issuer.url, "ann", 300, claim("readonly".into()));
    let deadline = Instant::now() + Duration::from_secs(10);
    let rotated = loop {
        match web_identity(&ep, &token).await {
            Ok(t) => break t,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(e, "InvalidIdentityToken");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("k2's token still refused after 10 s: {e}"),
        }
    };
    assert_eq!(get(&s3(&ep, &rotated), "data", "k").await, "");
    assert_eq!(
        refused(k1.token(&issuer.url, "ann", 300, claim("readonly".into()))).await,
        "InvalidIdentityToken"
    );
    assert_eq!(
        refused(stranger.token(&issuer.url, "ann", 300, claim("readonly".into()))).await,
        "InvalidIdentityToken",
        "a key with a published kid but not the published key"
    );
}

/// `AssumeRoleWithLDAPIdentity` (no AWS SDK has it): the credentials, or the STS error code.
async fn ldap_identity(endpoint: &str, user: &str, password: &str) -> Result<Temp, String> {
    let r = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .form(&[
            ("Action", "AssumeRoleWithLDAPIdentity"),
            ("Version", "2011-06-15"),
            ("LDAPUsername", user),
            ("LDAPPassword", password),
        ])
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    let field = |name: &str| {
        let start = body.find(&format!("<{name}>"))? + name.len() + 2;
        let end = start + body[start..].find(&format!("</{name}>"))?;
        Some(body[start..end].to_string())
    };
    match (
        field("AccessKeyId"),
        field("SecretAccessKey"),
        field("SessionToken"),
    ) {
        (Some(ak), Some(sk), Some(token)) => Ok((ak, sk, token)),
        _ => Err(field("Code").unwrap_or(body)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ldap_users_get_the_policies_of_their_groups_over_ldaps_and_starttls() {
    use rustfs_tests::ldap::Slapd;
    let slapd = Slapd::start();
    let ca = slapd.ca_pem_path.display().to_string();
    let template = format!("uid={{username}},ou=people,{}", slapd.base_dn);
    let groups = format!("ou=groups,{}", slapd.base_dn);
    let settings = |url: &str, starttls: bool, ca: Option<&str>| {
        let mut env = vec![
            ("RUSTFS_LDAP_URL".to_string(), url.to_string()),
            ("RUSTFS_LDAP_USER_DN_TEMPLATE".into(), template.clone()),
            ("RUSTFS_LDAP_GROUP_SEARCH_BASE".into(), groups.clone()),
        ];
        if starttls {
            env.push(("RUSTFS_LDAP_STARTTLS".into(), "true".into()));
        }
        if let Some(ca) = ca {
            env.push(("RUSTFS_LDAP_CA_FILE".into(), ca.to_string()));
        }
        env
    };
    let start = |env: &[(String, String)]| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        TestNode::start_with(4, &env)
    };
    let node = start(&settings(&slapd.ldaps_url, false, Some(&ca)));
    let ep = node.server.endpoint.clone();
    let root = node.client();
    root.create_bucket().bucket("data").send().await.unwrap();
    assert_eq!(put(&root, "data", "k").await, "");

    // Before any group is mapped, a good password still gets nothing.
    assert_eq!(
        ldap_identity(&ep, "alice", "alice-pass")
            .await
            .err()
            .as_deref(),
        Some("AccessDenied")
    );
    let (readers, writers) = (slapd.group_dn("readers"), slapd.group_dn("writers"));
    // An IAM group named by the LDAP group's DN carries its policies.
    // With the admin CLI, as the README shows it.
    let map = |ep: String, group: String, policy: &'static str| async move {
        for args in [
            vec!["group", "add", group.as_str()],
            vec!["policy", "attach", policy, "--group", group.as_str()],
        ] {
            let out = std::process::Command::new(rustfs_tests::rustfs_bin())
                .arg("admin")
                .args(&args)
                .env("RUSTFS_ENDPOINT", &ep)
                .env("AWS_ACCESS_KEY_ID", ROOT.0)
                .env("AWS_SECRET_ACCESS_KEY", ROOT.1)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "rustfs admin {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    map(ep.clone(), readers.clone(), "readonly").await;
    map(ep.clone(), writers.clone(), "readwrite").await;
    let alice = ldap_identity(&ep, "alice", "alice-pass").await.unwrap();
    assert_eq!(get(&s3(&ep, &alice), "data", "k").await, "");
    assert_eq!(put(&s3(&ep, &alice), "data", "a").await, "AccessDenied");
    let bob = ldap_identity(&ep, "bob", "bob-pass").await.unwrap();
    assert_eq!(put(&s3(&ep, &bob), "data", "b").await, "");

    // A wrong or empty password, a made-up user, DN and filter injection: all refused.
    for (user, password) in [
        ("alice", "bob-pass"),
        ("alice", ""),
        ("nobody", "x"),
        ("alice,ou=people", "alice-pass"),
        ("*", "alice-pass"),
    ] {
        assert_eq!(
            ldap_identity(&ep, user, password).await.err().as_deref(),
            Some("AccessDenied"),
            "{user:?} / {password:?}"
        );
    }
    // The group's policies are looked up at each request: detaching ends what they granted.
    admin_ok(
        &ep,
        "POST",
        "policies/readonly/detach",
        &format!(r#"{{"group":"{readers}"}}"#),
    )
    .await;
    assert_eq!(get(&s3(&ep, &alice), "data", "k").await, "AccessDenied");

    // StartTLS on ldap:// works the same; the server's certificate must be trusted.
    let starttls = start(&settings(&slapd.ldap_url, true, Some(&ca)));
    let sep = starttls.server.endpoint.clone();
    map(sep.clone(), writers.clone(), "readwrite").await;
    starttls
        .client()
        .create_bucket()
        .bucket("data")
        .send()
        .await
        .unwrap();
    let bob = ldap_identity(&sep, "bob", "bob-pass").await.unwrap();
    assert_eq!(put(&s3(&sep, &bob), "data", "b").await, "");
    let untrusted = start(&settings(&slapd.ldaps_url, false, None));
    assert_eq!(
        ldap_identity(&untrusted.server.endpoint, "bob", "bob-pass")
            .await
            .err()
            .as_deref(),
        Some("ServiceUnavailable"),
        "a server certificate signed by an unknown CA is refused"
    );
    // Passwords in the clear are refused at start.
    let dir = tempfile::tempdir().unwrap();
    let args = vec![format!("{}/d{{1...4}}", dir.path().display())];
    let plain = settings(&slapd.ldap_url, false, Some(&ca));
    let env: Vec<(&str, &str)> = plain
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let err = rustfs_tests::Server::start_failing(&args, &env);
    assert!(err.contains("in the clear"), "{err}");
}
