//! The control plane as its own process for the end-to-end suites: `rustfs-controlplane serve`
//! on a real SQLite file in a temp dir, its endpoint read from stdout, its admin token from the
//! file it writes, killed with SIGKILL on drop.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `$RUSTFS_CONTROLPLANE_BIN`, else next to this test executable's target dir.
fn controlplane_bin() -> PathBuf {
    rustfs_tests::workspace_bin(
        "rustfs-controlplane",
        "RUSTFS_CONTROLPLANE_BIN",
        "rustfs-controlplane",
    )
}

/// One `rustfs-controlplane serve` process with its database in `dir`.
pub struct ControlPlane {
    child: Option<Child>,
    pub base: String,
    pub token: String,
    dir: PathBuf,
}

impl ControlPlane {
    pub fn start(dir: &Path) -> ControlPlane {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("controlplane.log"))
            .expect("log file");
        let mut child = Command::new(controlplane_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(dir.join("cp.db"))
            .env("RUSTFS_CP_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start rustfs-controlplane");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(ep) = line.trim().strip_prefix("endpoint:") {
                    let _ = tx.send(ep.trim().to_string());
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(b) => b,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "control plane did not report its endpoint in 30 s; log:\n{}",
                    std::fs::read_to_string(dir.join("controlplane.log")).unwrap_or_default()
                );
            }
        };
        let token = std::fs::read_to_string(dir.join("admin.token"))
            .expect("admin token file")
            .trim()
            .to_string();
        ControlPlane {
            child: Some(child),
            base,
            token,
            dir: dir.to_path_buf(),
        }
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    /// The typed client (`rustfs-controlplane-api`) calling with `token`.
    pub fn client(&self, token: &str) -> rustfs_controlplane_api::Client {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("http client");
        rustfs_controlplane_api::Client::new(&self.base, token, http).expect("control plane URL")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("controlplane.log")).unwrap_or_default()
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(10));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let r = req.send().await.expect("control plane answers");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET /metrics` (Prometheus text).
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .expect("control plane answers")
            .text()
            .await
            .expect("metrics text")
    }

    pub async fn get(&self, path: &str) -> Value {
        let (s, v) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(s, 200, "GET {path}: {v}");
        v
    }

    /// Polls `GET path` until `ok` holds, for at most `limit`; returns the last answer.
    pub async fn wait_for(
        &self,
        path: &str,
        limit: Duration,
        what: &str,
        ok: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let v = self.get(path).await;
            if ok(&v) {
                return v;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: not within {limit:?}; last answer {v}\ncontrol plane log:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The `hosts` of a registration: node `n{i+1}` at `addresses[i]` (`IP:PORT`) with one drive,
/// `drive(i)`.
pub fn host_specs(addresses: &[String], drive: impl Fn(usize) -> String) -> Vec<Value> {
    addresses
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (ip, port) = a.rsplit_once(':').unwrap();
            serde_json::json!({
                "name": format!("n{}", i + 1),
                "address": ip,
                "s3_port": port.parse::<u16>().unwrap(),
                "drives": [drive(i)],
            })
        })
        .collect()
}

pub fn has_event(page: &Value, kind: &str, node: &str, drive: Option<&str>) -> bool {
    page["events"].as_array().is_some_and(|es| {
        es.iter().any(|e| {
            e["kind"] == kind && e["node"] == node && drive.is_none_or(|d| e["drive"] == d)
        })
    })
}

pub fn node_state(h: &Value, node: &str) -> String {
    h["nodes"]
        .as_array()
        .and_then(|ns| ns.iter().find(|n| n["name"] == node))
        .and_then(|n| n["state"].as_str())
        .unwrap_or_default()
        .to_string()
}
