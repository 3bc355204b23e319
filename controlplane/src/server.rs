//! Putting it together: open the database, make sure an admin token exists, start the poller
//! and the event retention, serve the API until `shutdown` resolves.

use crate::config::Config;
use crate::db::{new_token, Db};
use crate::routes::{router, AppState};
use crate::secrets::{write_private, SecretBox};
use std::future::Future;
use tokio::net::TcpListener;

/// Opens the database (migrating it) and creates the admin token on first start.
pub async fn open(cfg: &Config) -> crate::error::Result<Db> {
    let secrets = SecretBox::load_or_create(&cfg.secret_key_file)?;
    let db = Db::open(&cfg.db, secrets).await?;
    if db.num_tokens().await? == 0 {
        // file first: a crash in between leaves no token nobody can read
        let token = new_token();
        write_private(&cfg.admin_token_file, format!("{token}\n").as_bytes())?;
        db.create_token_with("admin", &token).await?;
        tracing::info!(file = %cfg.admin_token_file.display(), "admin token created");
    }
    Ok(db)
}

/// Serves on `listener` until `shutdown` resolves, polling in the background.
pub async fn run(
    cfg: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = open(&cfg).await?;
    serve(cfg, db, listener, shutdown).await
}

/// Like [`run`] with a database already [`open`]ed.
pub async fn serve(
    cfg: Config,
    db: Db,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(crate::poller::run(
        db.clone(),
        cfg.poller.clone(),
        stop_rx.clone(),
    ));
    let retention = tokio::spawn(crate::retention::run(
        db.clone(),
        cfg.retention.clone(),
        stop_rx,
    ));
    let app = router(AppState { db: db.clone() });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop_tx.send(true);
    let _ = poller.await;
    let _ = retention.await;
    db.close().await;
    Ok(())
}
