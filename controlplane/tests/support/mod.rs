//! An in-process control plane for the integration tests: `rustfs_controlplane::server::run` on
//! 127.0.0.1:0 with the given settings, waited for (bounded) and its admin token read.

use rustfs_controlplane::config::Config;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The admin token written at first start.
    pub token: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the control plane with `cfg` and waits until it answers `/live`.
pub async fn start(cfg: Config) -> Running {
    let token_file = cfg.admin_token_file.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        rustfs_controlplane::server::run(cfg, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    let http = reqwest::Client::new();
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
