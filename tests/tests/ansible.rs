//! The Ansible path (`ansible/`) for real: `ansible-playbook` with the project's dynamic inventory
//! against 4 container test hosts running systemd as PID 1 (see `rustfs_tests::hosts`).
//!
//! - An unreachable host stops `site.yml` by name before any host is changed.
//! - `site.yml` brings up a TLS cluster that serves S3 through every node (AWS SDK, trusting only
//!   the cluster CA); the env file and unit on every host are byte-identical to what
//!   `rustfs-provision render` writes, and `rustfs-provision plan` (apply's own comparison of every
//!   installed file, the binary and the drives) finds nothing to change; a second run reports
//!   `changed=0` everywhere and restarts nothing.
//! - `upgrade.yml` moves the cluster to another build one node at a time while S3 traffic runs,
//!   with no failed request (the traffic goes through a client-side load balancer that, like any
//!   load balancer in front of the cluster, sends requests only to nodes whose
//!   `/rustfs/health/ready` answers and moves a request whose connection was refused to another
//!   node; every answer a node gave counts).
//! - `register.yml` registers the cluster with a real control plane (on loopback), which then
//!   sees every node up; a second run changes nothing.
//! - Bad layouts (unequal drive counts, three nodes with EC 2+2) stop before any play runs.
//!
//! Needs root, Docker, `ansible-playbook` (pip install ansible-core; scripts/test.sh does).
//! Prints its phases' wall times as `bench:` lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "controlplane/harness.rs"]
#[allow(dead_code)]
mod harness;

use rustfs_tests::hosts::s3::{sdk_client, sdk_round_trips};
use rustfs_tests::hosts::{ContainerHost, Init, InitChoice, Run, TestHosts};

const USER: &str = "admin";
const PASSWORD: &str = "password123";
/// Bound on a playbook run that starts or restarts nodes (each wait inside is bounded too).
const PLAY_LIMIT: Duration = Duration::from_secs(600);
/// Bound on a run that fails early or changes nothing.
const QUICK_LIMIT: Duration = Duration::from_secs(180);

fn ansible_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ansible")
}

fn provision_bin() -> PathBuf {
    rustfs_tests::workspace_bin(
        "rustfs-provision",
        "RUSTFS_PROVISION_BIN",
        "rustfs-provision",
    )
}

/// Runs `cmd`, killing it if it runs past `limit`; output drained on threads.
fn run_bounded(mut cmd: Command, limit: Duration) -> Run {
    let what = format!("{cmd:?}");
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {what}: {e} (ansible-core: pip install ansible-core)")
        });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let run = Run {
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        elapsed: started.elapsed(),
    };
    assert!(
        status.is_some(),
        "{what} still running after {limit:?}, killed; {run}"
    );
    run
}

/// `ansible-playbook playbooks/NAME` from `ansible/` with the inventory, the provisioner and its
/// state directory given the way an operator gives them (environment variables).
fn playbook(inventory: &Path, state: &Path, work: &Path, name: &str, limit: Duration) -> Run {
    let dir = ansible_dir();
    let mut cmd = Command::new("ansible-playbook");
    cmd.current_dir(&dir)
        .arg(format!("playbooks/{name}"))
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("RUSTFS_INVENTORY", inventory)
        .env("RUSTFS_PROVISION", provision_bin())
        .env("RUSTFS_PROVISION_STATE_DIR", state)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", work.join("ansible-tmp"))
        // SSH master connections live in this test's directory and end soon after the run.
        .env("ANSIBLE_SSH_CONTROL_PATH_DIR", work.join("cp"))
        .env(
            "ANSIBLE_SSH_ARGS",
            "-o ControlMaster=auto -o ControlPersist=5s",
        )
        .env("NO_PROXY", "*");
    run_bounded(cmd, limit)
}

/// `changed=N` of every host in the play recap.
fn recap_changed(run: &Run) -> Vec<(String, u32)> {
    let recap = run
        .stdout
        .split("PLAY RECAP")
        .nth(1)
        .unwrap_or_else(|| panic!("no PLAY RECAP: {run}"));
    recap
        .lines()
        .filter_map(|l| {
            let (host, rest) = l.split_once(" : ")?;
            let changed = rest
                .split_whitespace()
                .find_map(|f| f.strip_prefix("changed="))?
                .parse()
                .ok()?;
            Some((host.trim().to_string(), changed))
        })
        .collect()
}

/// The running node's main pid and start time: changes exactly when it was (re)started.
fn node_identity(h: &ContainerHost) -> String {
    let id = h
        .exec_ok("systemctl show rustfs -p MainPID -p ExecMainStartTimestampMonotonic --value")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(!id.starts_with("0 "), "{}: no running node ({id})", h.name);
    id
}

fn identities(hosts: &TestHosts) -> Vec<String> {
    hosts.hosts.iter().map(node_identity).collect()
}

fn sha256_file(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

/// One S3 workload through a client-side load balancer: each worker PUTs an object and reads it
/// back, sending each request to the next node in service. A node is in service while its
/// `/rustfs/health/ready` answers 200 (polled every 200 ms); a request whose connection fails
/// before any answer takes it out of service and goes to the next node. Anything a node answered
/// that is not success, a timeout, or wrong bytes is a failed request.
struct Traffic {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    moved: Arc<AtomicU64>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Traffic {
    fn start(endpoints: Vec<String>, ca: String, bucket: &str) -> Traffic {
        let t = Traffic {
            stop: Arc::new(AtomicBool::new(false)),
            ok: Arc::new(AtomicU64::new(0)),
            moved: Arc::new(AtomicU64::new(0)),
            failures: Arc::new(std::sync::Mutex::new(Vec::new())),
            thread: None,
        };
        let (stop, ok, moved, failures) = (
            t.stop.clone(),
            t.ok.clone(),
            t.moved.clone(),
            t.failures.clone(),
        );
        let bucket = bucket.to_string();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(traffic(endpoints, ca, bucket, stop, ok, moved, failures));
        });
        Traffic {
            thread: Some(thread),
            ..t
        }
    }

    /// Stops the workload; (requests answered, requests moved to another node, failures).
    fn finish(mut self) -> (u64, u64, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().expect("traffic thread");
        let failures = self.failures.lock().unwrap().clone();
        (
            self.ok.load(Ordering::SeqCst),
            self.moved.load(Ordering::SeqCst),
            failures,
        )
    }
}

#[allow(clippy::too_many_arguments)]
async fn traffic(
    endpoints: Vec<String>,
    ca: String,
    bucket: String,
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    moved: Arc<AtomicU64>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
) {
    use aws_sdk_s3::error::SdkError;
    let clients: Arc<Vec<aws_sdk_s3::Client>> = Arc::new(
        endpoints
            .iter()
            .map(|e| sdk_client(e, USER, PASSWORD, Some(&ca)))
            .collect(),
    );
    let up: Arc<Vec<AtomicBool>> =
        Arc::new(endpoints.iter().map(|_| AtomicBool::new(true)).collect());
    let probe = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let checker = {
        let (up, stop, endpoints) = (up.clone(), stop.clone(), endpoints.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                for (i, ep) in endpoints.iter().enumerate() {
                    let ready = probe
                        .get(format!("{ep}/rustfs/health/ready"))
                        .send()
                        .await
                        .is_ok_and(|r| r.status() == 200);
                    up[i].store(ready, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let fail = |failures: &std::sync::Mutex<Vec<String>>, m: String| {
        eprintln!("traffic: FAILED {m}");
        failures.lock().unwrap().push(m);
    };
    let mut workers = Vec::new();
    for w in 0..3u64 {
        let (clients, up, stop, ok, moved, failures, bucket) = (
            clients.clone(),
            up.clone(),
            stop.clone(),
            ok.clone(),
            moved.clone(),
            failures.clone(),
            bucket.clone(),
        );
        workers.push(tokio::spawn(async move {
            let n = clients.len();
            let mut next = w as usize;
            let mut seq = 0u64;
            // The next node in service (waiting, bounded, while none is).
            let pick = |next: &mut usize| -> Option<usize> {
                for _ in 0..n {
                    let i = *next % n;
                    *next += 1;
                    if up[i].load(Ordering::SeqCst) {
                        return Some(i);
                    }
                }
                None
            };
            while !stop.load(Ordering::SeqCst) {
                seq += 1;
                let key = format!("traffic/{w}/{seq}");
                let body = rustfs_tests::pattern(64 * 1024 + (seq as usize % 7) * 1000, seq + w);
                for get in [false, true] {
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        let Some(i) = pick(&mut next) else {
                            if attempts > 150 {
                                fail(&failures, format!("{key}: no node in service for 30 s"));
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            continue;
                        };
                        let c = &clients[i];
                        let call = async {
                            if get {
                                match c.get_object().bucket(&bucket).key(&key).send().await {
                                    Ok(o) => match o.body.collect().await.map(|b| b.into_bytes()) {
                                        Ok(b) if b.as_ref() == body.as_slice() => Ok(Ok(())),
                                        Ok(_) => Ok(Err("came back with other bytes".to_string())),
                                        Err(e) => Ok(Err(format!("reading the body: {e}"))),
                                    },
                                    Err(SdkError::DispatchFailure(e)) => Err(format!("{e:?}")),
                                    Err(e) => Ok(Err(aws_sdk_s3::error::DisplayErrorContext(e).to_string())),
                                }
                            } else {
                                match c
                                    .put_object()
                                    .bucket(&bucket)
                                    .key(&key)
                                    .body(body.clone().into())
                                    .send()
                                    .await
                                {
                                    Ok(_) => Ok(Ok(())),
                                    Err(SdkError::DispatchFailure(e)) => Err(format!("{e:?}")),
                                    Err(e) => Ok(Err(aws_sdk_s3::error::DisplayErrorContext(e).to_string())),
                                }
                            }
                        };
                        let op = if get { "GET" } else { "PUT" };
                        let sent_at = time::OffsetDateTime::now_utc().time();
                        match tokio::time::timeout(Duration::from_secs(30), call).await {
                            Err(_) => fail(&failures, format!("{op} {key} via node {i}: no answer in 30 s (sent at {sent_at} UTC)")),
                            Ok(Ok(Ok(()))) => {
                                ok.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(Ok(Err(e))) => fail(&failures, format!("{op} {key} via node {i}: {e}")),
                            Ok(Err(refused)) if attempts < 150 => {
                                // Never reached a serving node: out of service, next node.
                                eprintln!("traffic: {op} {key} via node {i} not connected ({refused}); moving on");
                                up[i].store(false, Ordering::SeqCst);
                                moved.fetch_add(1, Ordering::SeqCst);
                                continue;
                            }
                            Ok(Err(refused)) => fail(&failures, format!("{op} {key}: {refused}")),
                        }
                        break;
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await.expect("traffic worker");
    }
    checker.await.expect("health checker");
}

/// An inventory for `hosts` installing `bin`.
fn write_inventory(hosts: &TestHosts, bin: &Path) -> PathBuf {
    hosts.inventory(
        "ansible",
        bin,
        &format!("credentials: {{ user: {USER}, password: {PASSWORD} }}\n"),
    )
}

#[test]
fn site_and_upgrade_playbooks_on_container_hosts() {
    let hosts = TestHosts::start(4, 2, InitChoice::Force(Init::Systemd));
    let work = hosts.dir.path().to_path_buf();
    let state = work.join("state");
    let v1 = work.join("rustfs-v1");
    std::fs::copy(rustfs_tests::rustfs_bin(), &v1).unwrap();
    let inventory = write_inventory(&hosts, &v1);
    let play = |name: &str, limit: Duration| playbook(&inventory, &state, &work, name, limit);

    // An unreachable host: the run stops by name at the first check; no host got anything.
    let h4 = &hosts.hosts[3];
    h4.disconnect();
    let run = play("site.yml", QUICK_LIMIT);
    h4.reconnect();
    assert_ne!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains(&format!("cannot reach h4 ({}", h4.address))
            && run.stdout.contains("nothing was changed on any host"),
        "{run}"
    );
    eprintln!(
        "unreachable h4, site.yml said: {}",
        run.stdout
            .lines()
            .filter(|l| l.contains("cannot reach"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for h in &hosts.hosts {
        h.exec_ok(
            "test ! -e /opt/rustfs && test ! -e /etc/rustfs && test ! -e /etc/systemd/system/rustfs.service \
             && ! id rustfs 2>/dev/null && test -z \"$(find /data/drive1 /data/drive2 -mindepth 1)\"",
        );
    }

    // site.yml: a TLS cluster serving S3 through every node.
    let run = play("site.yml", PLAY_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    let first = run.elapsed;
    let ca_path = state.join("ca/ca.pem");
    let ca = std::fs::read_to_string(&ca_path).expect("the cluster CA in the state dir");
    let endpoints = hosts.endpoints("https");
    let clients: Vec<_> = endpoints
        .iter()
        .map(|e| (e.clone(), sdk_client(e, USER, PASSWORD, Some(&ca))))
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(sdk_round_trips(&clients, "ansible", "site"));
    for h in &hosts.hosts {
        assert_eq!(
            h.exec_text("systemctl is-enabled rustfs"),
            "enabled",
            "{}",
            h.name
        );
        assert_eq!(
            h.exec_text("systemctl show rustfs -p User --value"),
            "rustfs"
        );
        assert_eq!(
            h.exec_text("stat -c '%a %U' /data/drive1 /etc/rustfs/rustfs.env /etc/rustfs/tls/node.key /etc/rustfs/rpc.secret"),
            "700 rustfs\n600 root\n600 rustfs\n600 rustfs",
            "{}",
            h.name
        );
        // Byte-identical to what rustfs-provision renders for this inventory.
        let rendered = state.join("ansible").join(&h.name);
        for (on_host, local) in [
            ("/etc/rustfs/rustfs.env", "rustfs.env"),
            ("/etc/systemd/system/rustfs.service", "rustfs.service"),
        ] {
            assert_eq!(
                h.exec_ok(&format!("cat {on_host}")),
                std::fs::read_to_string(rendered.join(local)).unwrap(),
                "{}: {on_host}",
                h.name
            );
        }
    }
    // apply's own view: every file, the binary and the drives are what it would install.
    let plan = rustfs_tests::hosts::provision(
        &[
            "plan",
            inventory.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ],
        QUICK_LIMIT,
    );
    assert_eq!(plan.code, 0, "rustfs-provision plan after site.yml: {plan}");
    assert!(plan.stdout.contains("plan: no changes"), "{plan}");

    // A second run changes nothing and restarts nothing.
    let before = identities(&hosts);
    let run = play("site.yml", PLAY_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    let second = run.elapsed;
    let changed = recap_changed(&run);
    assert!(changed.len() >= 4, "{run}");
    assert!(
        changed.iter().all(|(_, n)| *n == 0),
        "changes on a second run: {changed:?}\n{run}"
    );
    assert_eq!(
        identities(&hosts),
        before,
        "a second site.yml restarted a node"
    );

    // upgrade.yml: another build (the same program with other bytes), one node at a time, under
    // S3 traffic.
    let v2 = work.join("rustfs-v2");
    let mut bytes = std::fs::read(&v1).unwrap();
    bytes.extend_from_slice(b"\0rustfs ansible upgrade test build\n");
    std::fs::write(&v2, bytes).unwrap();
    std::fs::set_permissions(&v2, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (sha1, sha2) = (sha256_file(&v1), sha256_file(&v2));
    write_inventory(&hosts, &v2);
    let traffic = Traffic::start(endpoints.clone(), ca.clone(), "ansible");
    std::thread::sleep(Duration::from_secs(2));
    let run = play("upgrade.yml", PLAY_LIMIT);
    let (answered, moved, failures) = traffic.finish();
    assert_eq!(run.code, 0, "{run}");
    let upgrade = run.elapsed;
    eprintln!("upgrade under traffic: {answered} requests answered, {moved} moved off a node that refused the connection, {} failed", failures.len());
    if !failures.is_empty() {
        for h in &hosts.hosts {
            eprintln!(
                "--- {}: the node's log, last lines\n{}",
                h.name,
                h.exec_text(
                    "journalctl -u rustfs --no-pager -o short-precise | grep -v 'heal::manager' | tail -n 60"
                )
            );
        }
    }
    assert!(
        failures.is_empty(),
        "failed requests during the upgrade: {failures:#?}"
    );
    assert!(
        answered >= 20,
        "too little traffic to prove anything: {answered}"
    );
    let mut windows = Vec::new();
    for (h, old) in hosts.hosts.iter().zip(&before) {
        assert_eq!(
            h.exec_text("readlink /opt/rustfs/bin/current /opt/rustfs/bin/previous"),
            format!("rustfs-{}\nrustfs-{}", &sha2[..12], &sha1[..12]),
            "{}",
            h.name
        );
        // The running process's own binary (readable by its user only).
        let running = h.exec_ok(
            "runuser -u rustfs -- sha256sum /proc/$(systemctl show rustfs -p MainPID --value)/exe",
        );
        assert!(running.starts_with(&sha2), "{}: runs {running}", h.name);
        assert_ne!(&node_identity(h), old, "{} was not restarted", h.name);
        let at = |p: &str| -> u64 {
            h.exec_ok(&format!("systemctl show rustfs -p {p} --value"))
                .trim()
                .parse()
                .unwrap()
        };
        // (stopped, started again): containers share the kernel's monotonic clock.
        windows.push((
            at("InactiveEnterTimestampMonotonic"),
            at("ActiveEnterTimestampMonotonic"),
            h.name.clone(),
        ));
    }
    windows.sort();
    for pair in windows.windows(2) {
        assert!(
            pair[1].0 > pair[0].1,
            "{} stopped before {} was back: {windows:?}",
            pair[1].2,
            pair[0].2
        );
    }
    let plan = rustfs_tests::hosts::provision(
        &[
            "plan",
            inventory.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ],
        QUICK_LIMIT,
    );
    assert_eq!(
        plan.code, 0,
        "rustfs-provision plan after upgrade.yml: {plan}"
    );
    rt.block_on(sdk_round_trips(&clients, "ansible", "upgraded"));

    // register.yml: the cluster in a real control plane, which then polls every node over TLS.
    let cp_dir = work.join("controlplane");
    std::fs::create_dir_all(&cp_dir).unwrap();
    let cp = harness::ControlPlane::start(&cp_dir);
    hosts.inventory(
        "ansible",
        &v2,
        &format!(
            "credentials: {{ user: {USER}, password: {PASSWORD} }}\ncontrol_plane: {{ address: \"{}\", token: \"{}\", site: lab }}\n",
            cp.base, cp.token
        ),
    );
    let run = play("register.yml", QUICK_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("cluster ansible registered"), "{run}");
    let registered = rt.block_on(cp.get("/v1/clusters/ansible"));
    assert_eq!(registered["site"], "lab", "{registered}");
    assert_eq!(registered["version"], sha2[..12], "{registered}");
    assert_eq!(
        registered["s3_endpoints"],
        serde_json::json!(endpoints),
        "{registered}"
    );
    rt.block_on(cp.wait_for(
        "/v1/clusters/ansible/health",
        Duration::from_secs(90),
        "the control plane sees 4 nodes up",
        |h| h["nodes_up"] == 4,
    ));
    let run = play("register.yml", QUICK_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("already registered, unchanged"),
        "{run}"
    );
    assert!(recap_changed(&run).iter().all(|(_, n)| *n == 0), "{run}");
    eprintln!(
        "bench: ansible site.yml 4 hosts x 2 drives (TLS): {:.1}s; no-change re-run: {:.1}s; upgrade.yml under traffic: {:.1}s",
        first.as_secs_f64(),
        second.as_secs_f64(),
        upgrade.as_secs_f64()
    );
}

/// An inventory that does not validate stops the run before any play: the dynamic inventory
/// refuses it, naming the field. Hosts are loopback addresses no play ever reaches.
#[test]
fn bad_layouts_stop_before_any_host_is_touched() {
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("rustfs");
    std::fs::write(&bin, b"not run").unwrap();
    let key = work.path().join("id");
    std::fs::write(&key, "not used").unwrap();
    let inventory = |name: &str, drives: &[usize], extra: &str| -> PathBuf {
        let mut hosts = String::new();
        for (i, n) in drives.iter().enumerate() {
            let list: Vec<String> = (1..=*n).map(|d| format!("/data/d{d}")).collect();
            hosts.push_str(&format!(
                "  - {{ name: h{}, address: 127.0.0.{}, drives: [{}] }}\n",
                i + 1,
                i + 2,
                list.join(", ")
            ));
        }
        let path = work.path().join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!(
                "version: 1\ncluster: {{ name: {name} }}\nbinary: {{ path: {} }}\nssh: {{ user: root, key: {} }}\nhosts:\n{hosts}credentials: {{ user: {USER}, password: {PASSWORD} }}\n{extra}",
                bin.display(),
                key.display()
            ),
        )
        .unwrap();
        path
    };
    for (inv, want) in [
        (
            inventory("unequal", &[4, 4, 3, 4], ""),
            "hosts[2].drives: 3 drive(s), but h1 has 4: every host of a pool needs the same drive count",
        ),
        (
            inventory("three", &[4, 4, 4], "set_drive_count: 4\nstorage_class: EC:2\n"),
            "set_drive_count: RUSTFS_ERASURE_SET_DRIVE_COUNT=4 does not divide the pool's 12 drives",
        ),
    ] {
        let state = work.path().join("state");
        let run = playbook(&inv, &state, work.path(), "site.yml", QUICK_LIMIT);
        eprintln!("{}: site.yml said:\n{}", inv.display(), run.stderr.trim());
        assert_ne!(run.code, 0, "{run}");
        assert!(run.stderr.contains(want), "{want:?} not in {run}");
        assert!(!run.stdout.contains("PLAY ["), "a play ran: {run}");
        assert!(!state.exists(), "the state directory was made: {run}");
    }
}
