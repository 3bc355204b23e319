//! An in-process control plane for the integration tests: `rustfs_controlplane::server::run` on
//! 127.0.0.1:0 with the given settings, waited for (bounded) and its admin token read; plus a
//! CA and certificates made with rcgen for the HTTPS tests, and raw-socket helpers.

#![allow(dead_code)] // each test binary uses its own part of this

pub mod pki;
pub mod raw;

use rustfs_controlplane::config::Config;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

pub struct Running {
    /// `http://127.0.0.1:PORT` (`https://` when serving TLS).
    pub base: String,
    /// `127.0.0.1:PORT`.
    pub addr: std::net::SocketAddr,
    /// The admin token written at first start.
    pub token: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the control plane with `cfg` (plain HTTP) and waits until it answers `/live`.
pub async fn start(cfg: Config) -> Running {
    start_with(cfg, reqwest::Client::new()).await
}

/// Starts the control plane with `cfg` and waits until `http` gets an answer from `/live`.
pub async fn start_with(cfg: Config, http: reqwest::Client) -> Running {
    let token_file = cfg.admin_token_file.clone();
    let scheme = if cfg.tls.is_some() { "https" } else { "http" };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("{scheme}://{addr}");
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        rustfs_controlplane::server::run(cfg, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let live = http
            .get(format!("{base}/live"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if live && token_file.exists() {
            break;
        }
        assert!(Instant::now() < deadline, "control plane did not come up");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "admin token file must be private");
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_string();
    Running {
        base,
        addr,
        token,
        stop: Some(tx),
        task: Some(task),
    }
}

impl Running {
    /// Shuts the server down and waits for it.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
    }
}

/// Polls `f` every 25 ms until it returns `Some`, for at most `limit`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
