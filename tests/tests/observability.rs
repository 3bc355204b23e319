//! Observability with the real parts: Debian's `prometheus` scrapes a 4-node cluster through the
//! nodes' bearer-token-protected `/rustfs/metrics` and evaluates `dashboards/prometheus/alerts.yml`
//! (with `for:` shortened); the alerts are read back from Prometheus' HTTP API. `promtool` checks
//! the rules, runs their unit tests and parses every Grafana panel query.
//!
//! The full drive of `HighDiskUsage` is real: node 4's drive directory is a 64 MiB tmpfs mounted
//! in that node's own mount namespace (`unshare`), filled through `/proc/<pid>/root`.

use aws_sdk_s3::primitives::ByteStream;
use rustfs_tests::cluster::{allocate_addresses, cluster_args, Cluster, CLUSTER_ENV};
use rustfs_tests::{http_status, rustfs_bin, Server};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "observability-test-token-0123456789";
/// Every `for:` of the alert rules becomes this in the test.
const SHORT_FOR: &str = "3s";
const TMPFS_SIZE_MIB: u64 = 64;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn tool(name: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is not installed: `apt-get install prometheus` (scripts/test.sh does it)");
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run tool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Metric names of the table in `dashboards/README.md`.
fn documented_metrics() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("dashboards/README.md")).expect("README");
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3 && cells[1].starts_with("`rustfs_") {
            let name = cells[1].trim_matches('`').to_string();
            if cells[2] == "histogram" {
                for s in ["_bucket", "_sum", "_count"] {
                    out.insert(format!("{name}{s}"));
                }
            } else {
                out.insert(name);
            }
        }
    }
    assert!(
        out.len() > 40,
        "metric table not found in dashboards/README.md"
    );
    out
}

/// `rustfs_*` identifiers in a PromQL expression (label values in quotes are skipped).
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_quote = false;
    let b = expr.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            in_quote = !in_quote;
        }
        let starts_word = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if !in_quote && starts_word && expr[i..].starts_with("rustfs_") {
            let end = expr[i..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .map_or(expr.len(), |e| i + e);
            out.push(expr[i..end].to_string());
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

#[test]
fn alert_rules_pass_promtool_checks_and_unit_tests() {
    let dir = repo().join("dashboards/prometheus");
    let promtool = tool("promtool");
    run(Command::new(&promtool)
        .args(["check", "rules", "alerts.yml"])
        .current_dir(&dir));
    let out = run(Command::new(&promtool)
        .args(["test", "rules", "alerts_test.yml"])
        .current_dir(&dir));
    assert!(out.contains("SUCCESS"), "{out}");
    // Every alert has a unit test, and every rule references documented metrics only.
    let rules = std::fs::read_to_string(dir.join("alerts.yml")).expect("alerts.yml");
    let tests = std::fs::read_to_string(dir.join("alerts_test.yml")).expect("alerts_test.yml");
    let known = documented_metrics();
    for line in rules.lines() {
        if let Some(name) = line.trim().strip_prefix("- alert: ") {
            assert!(
                tests.contains(&format!("alertname: {name}")),
                "alert {name} has no promtool unit test"
            );
        }
        for m in metric_names(line) {
            assert!(
                known.contains(&m),
                "alerts.yml uses {m}, which dashboards/README.md does not list"
            );
        }
    }
}

#[test]
fn every_dashboard_query_parses_and_uses_documented_metrics() {
    let dir = repo().join("dashboards/grafana");
    let known = documented_metrics();
    let mut rules = String::from("groups:\n  - name: dashboard-queries\n    rules:\n");
    let mut num_queries = 0;
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("dashboards/grafana") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        files += 1;
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let d: Value = serde_json::from_slice(&std::fs::read(&path).expect("read"))
            .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
        assert!(
            d["__inputs"]
                .as_array()
                .is_some_and(|i| i.iter().any(|x| x["name"] == "DS_PROMETHEUS")),
            "{name}: no DS_PROMETHEUS data-source input"
        );
        let panels = d["panels"].as_array().expect("panels");
        assert!(!panels.is_empty(), "{name} has no panels");
        for p in panels {
            let title = p["title"].as_str().unwrap_or("?");
            assert_eq!(
                p["datasource"]["uid"], "${DS_PROMETHEUS}",
                "{name}/{title}: data source is not the input"
            );
            let targets = p["targets"].as_array().expect("targets");
            assert!(!targets.is_empty(), "{name}/{title} has no query");
            for t in targets {
                let expr = t["expr"].as_str().expect("expr");
                for m in metric_names(expr) {
                    assert!(
                        known.contains(&m),
                        "{name}/{title}: {m} is not in the metric table of dashboards/README.md"
                    );
                }
                let concrete = expr
                    .replace("$__rate_interval", "1m")
                    .replace("$__interval", "1m")
                    .replace("$job", "rustfs")
                    .replace("$instance", ".+")
                    .replace("$cluster", ".+");
                assert!(
                    !concrete.contains('$'),
                    "{name}/{title}: unknown variable in {expr}"
                );
                num_queries += 1;
                rules.push_str(&format!(
                    "      - record: dashboard:query{num_queries}\n        expr: {}\n",
                    serde_json::to_string(&concrete).expect("json string")
                ));
            }
        }
    }
    assert!(
        files >= 5,
        "expected one dashboard per role (control plane included), found {files}"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("queries.yml");
    std::fs::write(&file, rules).expect("write");
    // promtool parses every expression with Prometheus' own PromQL parser.
    let out = run(Command::new(tool("promtool"))
        .arg("check")
        .arg("rules")
        .arg(&file));
    assert!(
        out.contains(&format!("{num_queries} rules found")),
        "promtool: {out}"
    );
}

/// A `prometheus` process, killed on drop.
struct Prometheus {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(dir: &Path, targets: &[String]) -> Prometheus {
        let rules = std::fs::read_to_string(repo().join("dashboards/prometheus/alerts.yml"))
            .expect("alerts.yml");
        let short: String = rules
            .lines()
            .map(|l| match l.find("for: ") {
                Some(i) if l.trim_start().starts_with("for: ") => {
                    format!("{}for: {SHORT_FOR}\n", &l[..i])
                }
                _ => format!("{l}\n"),
            })
            .collect();
        std::fs::write(dir.join("alerts.yml"), short).expect("rules");
        std::fs::write(dir.join("token"), TOKEN).expect("token");
        let config = format!(
            "global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n  evaluation_interval: 1s\n\
             rule_files: [alerts.yml]\n\
             scrape_configs:\n  - job_name: rustfs\n    metrics_path: /rustfs/metrics\n\
             \x20   authorization:\n      type: Bearer\n      credentials_file: {}\n\
             \x20   static_configs:\n      - targets: [{}]\n",
            dir.join("token").display(),
            targets.join(", ")
        );
        std::fs::write(dir.join("prometheus.yml"), config).expect("config");
        run(Command::new(tool("promtool"))
            .args(["check", "config"])
            .arg(dir.join("prometheus.yml")));
        let addr = allocate_addresses(1).remove(0);
        let log = dir.join("prometheus.log");
        let child = Command::new(tool("prometheus"))
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start prometheus");
        let p = Prometheus {
            child,
            url: format!("http://{addr}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while http_status(&format!("{}/-/ready", p.url)) != Some(200) {
            assert!(
                Instant::now() < deadline,
                "prometheus not ready within 60 s; log:\n{}",
                std::fs::read_to_string(&p.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }

    async fn api(&self, path: &str) -> Value {
        let url = format!("{}/api/v1/{path}", self.url);
        let text = reqwest::get(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"))
            .text()
            .await
            .expect("body");
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"));
        assert_eq!(v["status"], "success", "{url}: {text}");
        v["data"].clone()
    }

    /// Instant query: the result vector.
    async fn query(&self, q: &str) -> Vec<Value> {
        let enc: String = q
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        self.api(&format!("query?query={enc}")).await["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// State (`pending`/`firing`) of `alert` for `instance`, if active.
    async fn alert_state(&self, alert: &str, instance: Option<&str>) -> Option<String> {
        let data = self.api("alerts").await;
        data["alerts"].as_array()?.iter().find_map(|a| {
            let l = &a["labels"];
            (l["alertname"] == alert && instance.is_none_or(|i| l["instance"] == i))
                .then(|| a["state"].as_str().unwrap_or("").to_string())
        })
    }

    /// Polls (bounded) until `pred` holds for the state of `alert`.
    async fn wait_alert(
        &self,
        alert: &str,
        instance: Option<&str>,
        what: &str,
        pred: impl Fn(Option<&str>) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let st = self.alert_state(alert, instance).await;
            if pred(st.as_deref()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{alert} for {instance:?} did not become {what} within 90 s (state {st:?}); alerts: {}\ntargets: {}",
                self.api("alerts").await,
                self.api("targets").await
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// A wrapper for the `rustfs` binary: with `RUSTFS_TEST_TMPFS` set, the node runs in its own
/// mount namespace where that directory is a small tmpfs (gone with the process).
fn wrapper(dir: &Path) -> PathBuf {
    let script = format!(
        r#"#!/bin/sh
set -e
if [ -n "$RUSTFS_TEST_TMPFS" ]; then
  if [ "$(id -u)" = 0 ]; then ns="--mount"; else ns="--user --map-root-user --mount"; fi
  exec unshare $ns --propagation private sh -c 'mkdir -p "$RUSTFS_TEST_TMPFS" && mount -t tmpfs -o size={TMPFS_SIZE_MIB}m rustfs-test "$RUSTFS_TEST_TMPFS" && exec "$0" "$@"' "{bin}" "$@"
fi
exec "{bin}" "$@"
"#,
        bin = rustfs_bin().display()
    );
    let path = dir.join("rustfs-wrapper.sh");
    std::fs::write(&path, script).expect("wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_cluster_and_alerts_fire_and_resolve() {
    let work = tempfile::Builder::new()
        .prefix("rustfs-obs-")
        .tempdir()
        .expect("tempdir");
    // Only this test starts nodes in this test binary, so pointing the harness at the wrapper
    // affects nothing else.
    std::env::set_var("RUSTFS_BIN", wrapper(work.path()));
    let dir = tempfile::Builder::new()
        .prefix("rustfs-cluster-")
        .tempdir()
        .expect("tempdir");
    let addresses = allocate_addresses(4);
    let args = cluster_args(dir.path(), &addresses, 1);
    let full_dir = dir.path().join("n4");
    let full_dir_s = full_dir.display().to_string();
    let mut nodes = Vec::new();
    for (i, addr) in addresses.iter().enumerate() {
        let mut env: Vec<(&str, &str)> = CLUSTER_ENV.to_vec();
        env.push(("RUSTFS_METRICS_TOKEN", TOKEN));
        if i == 3 {
            env.push(("RUSTFS_TEST_TMPFS", &full_dir_s));
        }
        let log = dir.path().join(format!("node{}.log", i + 1));
        let mut s = Server::new(addr, &args, &env, &log);
        s.spawn_process().unwrap_or_else(|e| panic!("{e}"));
        nodes.push(s);
    }
    let mut c = Cluster {
        dir,
        nodes,
        addresses: addresses.clone(),
        args,
    };
    for i in 0..4 {
        c.wait_ready(i);
    }
    // Scrapes without the token are refused.
    let metrics_url = format!("{}/rustfs/metrics", c.nodes[0].endpoint);
    assert_eq!(http_status(&metrics_url), Some(401));

    // Some S3 traffic, so request, RPC and lock series exist.
    let s3 = c.client(0);
    s3.create_bucket()
        .bucket("metrics")
        .send()
        .await
        .expect("create bucket");
    for i in 0..5 {
        s3.put_object()
            .bucket("metrics")
            .key(format!("k{i}"))
            .body(ByteStream::from(vec![7u8; 1000 * (i + 1)]))
            .send()
            .await
            .expect("put");
    }
    s3.get_object()
        .bucket("metrics")
        .key("k0")
        .send()
        .await
        .expect("get");

    let prom = Prometheus::start(work.path(), &addresses);
    // All targets up.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = prom.query("up{job=\"rustfs\"} == 1").await;
        if up.len() == 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every node is up in Prometheus: {:?}\ntargets: {}",
            up,
            prom.api("targets").await
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Key series, from every node where they are per node.
    for (q, want) in [
        ("count(rustfs_build_info)", 4.0),
        (
            "count(rustfs_build_info{rpc_min=\"2\", rpc_max=\"2\", meta_format=\"2\", drive_format=\"1\"})",
            4.0,
        ),
        ("count(rustfs_drive_total_bytes)", 4.0),
        ("count(rustfs_drive_online == 1)", 4.0),
        ("count(rustfs_set_write_tolerance == 1)", 4.0),
        ("count(rustfs_cluster_capacity_usable_total_bytes > 0)", 4.0),
        ("count(rustfs_process_resident_memory_bytes > 0)", 4.0),
        ("count(rustfs_rpc_peer_online == 1)", 12.0),
        (
            "sum(rustfs_s3_requests_total{api=\"PutObject\", status=\"200\"})",
            5.0,
        ),
        (
            "sum(rustfs_s3_received_bytes_total{api=\"PutObject\"})",
            15000.0,
        ),
        (
            "sum(rustfs_s3_requests_total{api=\"GetObject\", status=\"200\"})",
            1.0,
        ),
        (
            "count(sum by (instance) (rustfs_rpc_requests_total) > 0)",
            4.0,
        ),
        (
            "sum(rustfs_lock_wait_seconds_count{kind=\"write\"}) > 0",
            f64::NAN,
        ),
        (
            "sum(rustfs_s3_request_duration_seconds_count{api=\"PutObject\"})",
            5.0,
        ),
    ] {
        let r = prom.query(q).await;
        let got: Option<f64> = r
            .first()
            .and_then(|s| s["value"][1].as_str())
            .and_then(|v| v.parse().ok());
        match got {
            Some(g) if want.is_nan() || g >= want => {}
            _ => panic!("{q}: want ≥ {want}, got {r:?}"),
        }
    }
    let n4 = addresses[3].as_str();
    let n2 = addresses[1].as_str();
    assert_eq!(prom.alert_state("NodeDown", None).await, None);
    assert_eq!(prom.alert_state("HighDiskUsage", Some(n4)).await, None);

    // Kill node 2: NodeDown fires for it (and its set runs below full tolerance).
    c.kill(1);
    prom.wait_alert("NodeDown", Some(n2), "firing", |s| s == Some("firing"))
        .await;
    prom.wait_alert("ErasureSetDegraded", None, "firing", |s| {
        s == Some("firing")
    })
    .await;
    assert_eq!(
        prom.alert_state("NodeDown", Some(addresses[0].as_str()))
            .await,
        None,
        "a live node reported down"
    );
    // Restart it: resolved.
    c.restart(1);
    prom.wait_alert("NodeDown", Some(n2), "resolved", |s| s.is_none())
        .await;
    prom.wait_alert("ErasureSetDegraded", None, "resolved", |s| s.is_none())
        .await;

    // Fill node 4's drive (a 64 MiB tmpfs in its mount namespace) past 80 %: HighDiskUsage fires
    // for that drive; free the space: resolved.
    let filler = PathBuf::from(format!(
        "/proc/{}/root{}/filler",
        c.nodes[3].pid(),
        full_dir_s
    ));
    let mib = vec![0xA5u8; 1024 * 1024];
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", filler.display()));
        for _ in 0..(TMPFS_SIZE_MIB * 88 / 100) {
            f.write_all(&mib).expect("fill tmpfs");
        }
        f.sync_all().expect("sync");
    }
    prom.wait_alert("HighDiskUsage", Some(n4), "firing", |s| s == Some("firing"))
        .await;
    let usage = prom
        .query(&format!("rustfs_drive_usage_percent{{instance=\"{n4}\"}}"))
        .await;
    let pct: f64 = usage[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(pct > 80.0, "node 4's drive is {pct} % used");
    std::fs::remove_file(&filler).expect("free the space");
    prom.wait_alert("HighDiskUsage", Some(n4), "resolved", |s| s.is_none())
        .await;
    drop(prom);
    drop(c);
}
