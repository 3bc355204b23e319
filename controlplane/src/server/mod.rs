//! Putting it together: open the database, make sure an admin token exists, load the TLS
//! certificate, start the poller and the retention, and serve the API through the
//! [`listen`] loop until `shutdown` resolves.

pub mod listen;
pub mod tls;

use crate::api::TokenScope;
use crate::config::Config;
use crate::db::{new_token, Db, NewToken};
use crate::routes::{router, AppState};
use crate::secrets::{write_private, SecretBox};
use std::future::Future;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Everything checked and loaded before anyone is told where to connect.
pub struct Ready {
    pub db: Db,
    tls: Option<TlsAcceptor>,
}

impl Ready {
    /// `https` when serving TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ready")
            .field("db", &self.db)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Loads the TLS certificate, opens the database (migrating it) and creates the admin token on
/// first start.
pub async fn open(cfg: &Config) -> anyhow::Result<Ready> {
    let tls = cfg
        .tls
        .as_ref()
        .map(tls::acceptor)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let secrets = SecretBox::load_or_create(&cfg.secret_key_file)?;
    let db = Db::open(&cfg.db, secrets).await?;
    if db.num_tokens().await? == 0 {
        // file first: a crash in between leaves no token nobody can read
        let token = new_token();
        write_private(&cfg.admin_token_file, format!("{token}\n").as_bytes())?;
        let admin = NewToken {
            name: "admin".into(),
            scope: TokenScope::Admin,
            expires_at: None,
        };
        db.create_token_with(&admin, &token).await?;
        tracing::info!(file = %cfg.admin_token_file.display(), "admin token created");
    }
    Ok(Ready { db, tls })
}

/// Serves on `listener` until `shutdown` resolves, polling in the background.
pub async fn run(
    cfg: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let ready = open(&cfg).await?;
    serve(cfg, ready, listener, shutdown).await
}

/// Like [`run`] with everything already [`open`]ed.
pub async fn serve(
    cfg: Config,
    ready: Ready,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Ready { db, tls } = ready;
    let addr = listener.local_addr()?;
    if tls.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "serving plain HTTP on a non-loopback address: API tokens and the cluster credentials \
             sent here cross the network unencrypted; pass --tls-cert and --tls-key (a certificate \
             from the cluster CA) to serve HTTPS"
        );
    }
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
    let releases = rustfs_hostops::state::StateDir::open(&cfg.releases_dir)
        .map_err(|e| anyhow::anyhow!("releases directory: {e}"))?;
    let app = router(AppState {
        db: db.clone(),
        max_body_bytes: cfg.http.max_body_bytes,
        releases,
    });
    tracing::info!(%addr, tls = tls.is_some(), db = %cfg.db.display(), "control plane serving");
    listen::serve(listener, app, tls, cfg.http.clone(), shutdown).await;
    let _ = stop_tx.send(true);
    let _ = poller.await;
    let _ = retention.await;
    db.close().await;
    Ok(())
}
