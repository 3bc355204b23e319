//! Tokens, their scopes, expiry and revocation, the migration that brought scopes, and the
//! audit retention, against real SQLite files.

use super::*;
use crate::api::TokenScope;

async fn open(dir: &std::path::Path) -> Db {
    Db::open(&dir.join("cp.db"), SecretBox::from_key(&[1; 32]))
        .await
        .unwrap()
}

fn new(name: &str, scope: TokenScope, expires_at: Option<i64>) -> NewToken {
    NewToken {
        name: name.into(),
        scope,
        expires_at,
    }
}

#[tokio::test]
async fn tokens_are_hashed_scoped_expiring_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let now = now_millis();
    let hour = 3_600_000;
    let t = db
        .create_token(&new("ci", TokenScope::Read, Some(now + hour)))
        .await
        .unwrap();
    assert!(t.token.starts_with(TOKEN_PREFIX));
    assert_eq!(t.expires_at, Some(rfc3339(now + hour)));
    let TokenCheck::Valid(caller) = db.check_token(&t.token, now).await.unwrap() else {
        panic!("a fresh token is valid");
    };
    assert_eq!(
        (caller.name.as_str(), caller.scope),
        ("ci", TokenScope::Read)
    );
    // the same token an hour later
    assert_eq!(
        db.check_token(&t.token, now + hour).await.unwrap(),
        TokenCheck::Expired(now + hour)
    );
    // a forged token of the right shape, and garbage
    let forged = new_token();
    assert_eq!(
        db.check_token(&forged, now).await.unwrap(),
        TokenCheck::Unknown
    );
    assert_eq!(
        db.check_token("rfcp_wrong", now).await.unwrap(),
        TokenCheck::Unknown
    );
    let (stored,): (String,) = sqlx::query_as("SELECT token_sha256 FROM api_tokens")
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_ne!(stored, t.token);
    assert!(!stored.contains(&t.token[TOKEN_PREFIX.len()..]));
    db.revoke_token(&t.id).await.unwrap();
    assert!(matches!(
        db.check_token(&t.token, now).await.unwrap(),
        TokenCheck::Revoked(_)
    ));
    // revoking twice is fine and keeps the first time
    let first = db.tokens().await.unwrap()[0].revoked_at.clone();
    db.revoke_token(&t.id).await.unwrap();
    let listed = db.tokens().await.unwrap();
    assert_eq!(listed[0].revoked_at, first);
    assert_eq!(listed[0].scope, TokenScope::Read);
    assert_eq!(listed[0].expires_at, Some(rfc3339(now + hour)));
    assert!(matches!(
        db.revoke_token("0000000000000000").await,
        Err(Error::NotFound(_))
    ));
    let e = db
        .create_token(&new("bad\nname", TokenScope::Admin, None))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
}

#[tokio::test]
async fn the_last_working_admin_token_cannot_be_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let a = db
        .create_token(&new("a", TokenScope::Admin, None))
        .await
        .unwrap();
    // read tokens do not count
    let r = db
        .create_token(&new("r", TokenScope::Read, None))
        .await
        .unwrap();
    let e = db.revoke_token(&a.id).await.unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(m) if m.contains("last working admin token")),
        "{e}"
    );
    let b = db
        .create_token(&new("b", TokenScope::Admin, None))
        .await
        .unwrap();
    db.revoke_token(&a.id).await.unwrap();
    // an admin token that has expired does not count either
    let c = db
        .create_token(&new("c", TokenScope::Admin, Some(now_millis() + 3_600_000)))
        .await
        .unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = ? WHERE id = ?")
        .bind(now_millis() - 1)
        .bind(&c.id)
        .execute(&db.write)
        .await
        .unwrap();
    assert!(matches!(
        db.revoke_token(&b.id).await,
        Err(Error::Conflict(_))
    ));
    db.revoke_token(&r.id).await.unwrap();
    let b_now = db.check_token(&b.token, now_millis()).await.unwrap();
    assert!(matches!(b_now, TokenCheck::Valid(_)), "{b_now:?}");
}

/// A database made before token scopes existed: its tokens keep working, as `admin` without
/// expiry.
#[tokio::test]
async fn tokens_from_before_scopes_become_admin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cp.db");
    let first = dir.path().join("first-migration");
    std::fs::create_dir(&first).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0001_initial.sql"),
        first.join("0001_initial.sql"),
    )
    .unwrap();
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let old = SqlitePool::connect_with(opts).await.unwrap();
    sqlx::migrate::Migrator::new(first.as_path())
        .await
        .unwrap()
        .run(&old)
        .await
        .unwrap();
    let token = new_token();
    sqlx::query(
        "INSERT INTO api_tokens (id, name, token_sha256, created_at) VALUES ('00000000000000aa', 'old', ?, 1)",
    )
    .bind(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes())))
    .execute(&old)
    .await
    .unwrap();
    old.close().await;

    let db = open(dir.path()).await;
    assert_eq!(db.applied_migrations().await.unwrap(), vec![1, 2, 3]);
    let TokenCheck::Valid(caller) = db.check_token(&token, now_millis()).await.unwrap() else {
        panic!("an old token keeps working");
    };
    assert_eq!(caller.scope, TokenScope::Admin);
    assert_eq!(db.tokens().await.unwrap()[0].expires_at, None);
}

#[tokio::test]
async fn audit_prune_deletes_only_entries_past_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let day = 86_400_000;
    let now = now_millis();
    // more old entries than one batch, written straight into the file
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 7000) \
         INSERT INTO audit_log (time, actor, method, path, status) \
         SELECT ? - i, 'old', 'PUT', '/v1/clusters/x', 200 FROM n",
    )
    .bind(now - 91 * day)
    .execute(&db.write)
    .await
    .unwrap();
    for age_days in [89, 0] {
        db.record_audit(&NewAudit {
            time: now - age_days * day,
            actor: "new".into(),
            method: "POST".into(),
            path: "/v1/tokens".into(),
            status: 201,
            code: None,
        })
        .await
        .unwrap();
    }
    assert_eq!(db.prune_audit(now - 90 * day).await.unwrap(), 7000);
    assert_eq!(db.prune_audit(now - 90 * day).await.unwrap(), 0);
    let page = db.audit(None, 1000).await.unwrap();
    assert_eq!(page.entries.len(), 2);
    assert!(page.entries.iter().all(|e| e.actor == "new"));
}
