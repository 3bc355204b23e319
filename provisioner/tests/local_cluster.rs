//! Local mode end to end: `rustfs-provision apply examples/local-cluster.yaml --yes` starts a
//! 4-node × 4-drive TLS cluster of local processes on loopback addresses (no SSH), it serves S3
//! over https through every node, every node holds the kept RPC secret (0600) its env file names,
//! a second apply changes nothing, a kept secret others may read stops the run, an added secret
//! reaches every node and restarts them, and `destroy --delete-data` removes it.
//! The example file is used as shipped; only its `${…}` variables are pointed at a random
//! `127.A.B.0/24`, free ports and a temp dir so runs never collide.

mod support;

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::cluster::rustfs_bin;
use support::{provision_env, texts};

const LIMIT: Duration = Duration::from_secs(400);
const USER: &str = "localadmin";
const PASSWORD: &str = "local-secret-1";

/// A random `127.A.B` whose `.2`–`.5` share two free ports (S3, console).
fn allocate() -> (String, u16, u16) {
    for _ in 0..50 {
        let r: u32 = rand_u32();
        let (a, b) = (1 + (r % 250) as u8, 1 + ((r >> 8) % 250) as u8);
        let ip = |i: u8| Ipv4Addr::new(127, a, b, i);
        let pick = || -> Option<u16> {
            let first = TcpListener::bind(SocketAddrV4::new(ip(2), 0)).ok()?;
            let port = first.local_addr().ok()?.port();
            let rest: Vec<_> = (3..=5)
                .map(|i| TcpListener::bind(SocketAddrV4::new(ip(i), port)))
                .collect();
            rest.iter().all(|l| l.is_ok()).then_some(port)
        };
        if let (Some(s3), Some(console)) = (pick(), pick()) {
            if s3 != console {
                return (format!("127.{a}.{b}"), s3, console);
            }
        }
    }
    panic!("no free 127.A.B.2-5 with two common free ports");
}

fn rand_u32() -> u32 {
    use std::io::Read;
    let mut b = [0u8; 4];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .unwrap();
    u32::from_le_bytes(b)
}

/// Kills whatever nodes the test left running (on panic), by their pid files.
struct Nodes(PathBuf);

impl Nodes {
    /// The nodes' pids.
    fn pids(&self) -> Vec<u32> {
        (1..=4)
            .filter_map(|n| self.pid(&format!("opt/node{n}/run/rustfs.pid")))
            .collect()
    }

    /// The installed control plane's pid (it runs beside node1).
    fn control_plane(&self) -> Option<u32> {
        self.pid("opt/node1/run/rustfs-controlplane.pid")
    }

    fn pid(&self, file: &str) -> Option<u32> {
        std::fs::read_to_string(self.0.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for pid in self.pids().into_iter().chain(self.control_plane()) {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    }
}

/// A `rustfs-controlplane` process on a loopback port with its own database and admin token.
struct ControlPlane {
    child: std::process::Child,
    url: String,
    token_file: PathBuf,
    token: String,
}

impl ControlPlane {
    fn start(dir: &Path) -> ControlPlane {
        use std::io::{BufRead, BufReader};
        let bin = rustfs_bin().with_file_name("rustfs-controlplane");
        assert!(
            bin.is_file(),
            "{} is missing: cargo build -p rustfs-controlplane (scripts/test.sh builds every binary)",
            bin.display()
        );
        let token_file = dir.join("cp-admin.token");
        let mut child = std::process::Command::new(bin)
            .arg("serve")
            .arg("--db")
            .arg(dir.join("cp.db"))
            .args(["--listen", "127.0.0.1:0"])
            .arg("--admin-token-file")
            .arg(&token_file)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start rustfs-controlplane");
        // It prints `endpoint: http://ADDR` once it listens.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = lines
            .find_map(|l| l.ok()?.strip_prefix("endpoint: ").map(String::from))
            .expect("rustfs-controlplane exited before listening");
        let token = std::fs::read_to_string(&token_file)
            .unwrap()
            .trim()
            .to_string();
        ControlPlane {
            child,
            url,
            token_file,
            token,
        }
    }

    /// `GET path` with the admin token; the body (panics unless 200).
    fn get(&self, path: &str) -> String {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let r = reqwest::Client::new()
                .get(format!("{}{path}", self.url))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "GET {path}");
            r.text().await.unwrap()
        })
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Prometheus (Debian's package) on `listen` with the generated `dir/prometheus.yml` and
/// waits until `want` rustfs targets are up.
fn scrape_with_generated_config(dir: &Path, listen: &str, want: usize) {
    use std::process::{Command, Stdio};
    let config = dir.join("prometheus.yml");
    let check = Command::new("promtool")
        .args(["check", "config"])
        .arg(&config)
        .output()
        .expect("promtool (apt-get install prometheus; scripts/test.sh installs it)");
    assert!(check.status.success(), "promtool: {}", texts(&check).1);
    let data = tempfile::tempdir().unwrap();
    let mut child = KillOnDrop(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.path().display()))
            .arg(format!("--web.listen-address={listen}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let up = rt.block_on(async {
            let r = reqwest::get(format!("http://{listen}/api/v1/targets?state=active")).await;
            match r {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(e) => e.to_string(),
            }
        });
        if up.matches("\"health\":\"up\"").count() == want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Prometheus did not scrape {want} nodes within 60 s: {up}"
        );
        assert!(child.0.try_wait().unwrap().is_none(), "prometheus exited");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The state's RPC secret (0600) is on every node, 0600, named by its env file; its drives are
/// 0700.
fn rpc_secret_is_installed(dir: &Path, state: &Path) {
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let kept = state.join("rpc.secret");
    assert_eq!(mode(&kept), 0o600);
    let secret = std::fs::read_to_string(&kept).unwrap();
    assert!(secret.lines().all(|l| l.len() >= 32), "{secret}");
    for n in 1..=4 {
        let etc = dir.join(format!("etc/node{n}"));
        let on_node = etc.join("rpc.secret");
        assert_eq!(std::fs::read_to_string(&on_node).unwrap(), secret);
        assert_eq!(mode(&on_node), 0o600, "{on_node:?}");
        let env = std::fs::read_to_string(etc.join("rustfs.env")).unwrap();
        assert!(
            env.contains(&format!("RUSTFS_RPC_SECRET_FILE='{}'", on_node.display())),
            "{env}"
        );
        for d in 1..=4 {
            let drive = dir.join(format!("node{n}/data{d}"));
            assert_eq!(mode(&drive), 0o700, "{drive:?}");
        }
    }
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn local_cluster_example_applies_serves_s3_and_is_destroyed() {
    let dir = tempfile::Builder::new()
        .prefix("rustfs-local-")
        .tempdir()
        .unwrap();
    let nodes = Nodes(dir.path().to_path_buf());
    let (net, port, console) = allocate();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/local-cluster.yaml");
    let state = dir.path().join("state");
    let env = [
        ("RUSTFS_LOCAL_NET", net.clone()),
        ("RUSTFS_LOCAL_PORT", port.to_string()),
        ("RUSTFS_LOCAL_CONSOLE_PORT", console.to_string()),
        ("RUSTFS_LOCAL_DIR", dir.path().display().to_string()),
        ("RUSTFS_BINARY", rustfs_bin().display().to_string()),
        ("RUSTFS_ROOT_USER", USER.to_string()),
        ("RUSTFS_ROOT_PASSWORD", PASSWORD.to_string()),
    ];
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.insert(1, example.to_str().unwrap());
        all.extend_from_slice(&["--state-dir", state.to_str().unwrap()]);
        let out = provision_env(&all, &env, LIMIT);
        let (stdout, stderr) = texts(&out);
        (out.status.code().unwrap_or(-1), stdout, stderr)
    };

    let (code, out, err) = run(&["apply", "--yes"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("S3 verified through 4 node(s)"), "{out}");
    assert!(out.contains("create drive directories"), "{out}");
    assert_eq!(nodes.pids().len(), 4);

    // TLS by default: the nodes speak https with certificates of the cluster CA in the state
    // directory, and apply says where it is.
    let ca_path = state.join("ca/ca.pem");
    assert!(
        out.contains(&format!("aws --ca-bundle {}", ca_path.display())),
        "{out}"
    );
    let ca = std::fs::read_to_string(&ca_path).unwrap();
    let endpoints: Vec<String> = (2..=5)
        .map(|i| format!("https://{net}.{i}:{port}"))
        .collect();
    support::s3::sdk_round_trips(&endpoints, USER, PASSWORD, "local-e2e", Some(&ca));
    rpc_secret_is_installed(dir.path(), &state);

    let (code, out, err) = run(&["status"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(out.matches(", running, healthy").count(), 4, "{out}");

    let before = nodes.pids();
    let (code, out, err) = run(&["apply", "--yes"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("apply: no changes;"), "{out}");
    assert_eq!(nodes.pids(), before);

    // A kept secret that others may read stops every run before anything is touched.
    let kept = state.join("rpc.secret");
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o644)).unwrap();
    for verb in [&["apply", "--yes"][..], &["plan"][..]] {
        let (code, out, err) = run(verb);
        assert_eq!(code, 1, "{verb:?}\nstdout:\n{out}\nstderr:\n{err}");
        assert!(
            err.contains("has mode 0644: other users may read the cluster RPC secret")
                && err.contains(&format!("chmod 600 {}", kept.display())),
            "{verb:?}: {err}"
        );
    }
    assert_eq!(nodes.pids(), before, "nothing was restarted");
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Rotation, first step: a second secret appended (nodes keep signing with the first) reaches
    // every node, and a changed secret restarts them all; then nothing is left to change.
    let second = "5ec0nd5ec0nd5ec0nd5ec0nd5ec0nd5ec0nd5ec0nd5ec0nd";
    let rotated = format!("{}{second}\n", std::fs::read_to_string(&kept).unwrap());
    std::fs::write(&kept, &rotated).unwrap();
    let (code, out, err) = run(&["apply", "--yes"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.matches("install the cluster RPC secret").count() >= 4,
        "on every node: {out}"
    );
    assert_eq!(out.matches("ok, changed, restarted").count(), 4, "{out}");
    let after = nodes.pids();
    assert!(
        before.iter().all(|p| !after.contains(p)),
        "{before:?} {after:?}"
    );
    rpc_secret_is_installed(dir.path(), &state);
    let before = after;
    let (code, out, err) = run(&["apply", "--yes"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("apply: no changes;"), "{out}");
    assert_eq!(nodes.pids(), before);

    // The generated Prometheus directory works as written: a real Prometheus scrapes every node
    // with the provisioner's token.
    assert!(
        out.contains("Prometheus configuration and scrape token in"),
        "{out}"
    );
    scrape_with_generated_config(&state.join("prometheus"), &format!("{net}.6:{port}"), 4);

    // With a control plane in the inventory, apply registers the cluster there (once).
    let cp = ControlPlane::start(dir.path());
    let with_cp = dir.path().join("with-cp.yaml");
    let text = std::fs::read_to_string(&example).unwrap()
        + &format!(
            "control_plane: {{ address: \"{}\", token_file: \"{}\" }}\n",
            cp.url,
            cp.token_file.display()
        );
    std::fs::write(&with_cp, text).unwrap();
    let run_cp = |args: &[&str]| {
        let mut all = args.to_vec();
        all.insert(1, with_cp.to_str().unwrap());
        all.extend_from_slice(&["--state-dir", state.to_str().unwrap()]);
        let out = provision_env(&all, &env, LIMIT);
        let (stdout, stderr) = texts(&out);
        (out.status.code().unwrap_or(-1), stdout, stderr)
    };
    let (code, out, err) = run_cp(&["apply", "--yes"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("control plane: cluster local registered"),
        "{out}"
    );
    let nodes_json = cp.get("/v1/clusters/local/nodes");
    for i in 2..=5 {
        assert!(
            nodes_json.contains(&format!("\"{net}.{i}\"")),
            "{nodes_json}"
        );
    }
    let (code, out, err) = run_cp(&["apply", "--yes"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("already registered, unchanged"), "{out}");
    // A wrong token is refused with a message that says what to fix.
    std::fs::write(&cp.token_file, "wrong-token\n").unwrap();
    let (code, _, err) = run_cp(&["apply", "--yes"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("at step 'register with the control plane'")
            && err.contains("set control_plane.token or token_file to a valid token"),
        "{err}"
    );
    drop(cp);

    // `control_plane.install` runs the control plane itself, beside node1 (a local process here),
    // registers there with the token read off it, and `status` shows its view.
    let cp_port = {
        let l = TcpListener::bind(format!("{net}.2:0")).unwrap();
        l.local_addr().unwrap().port()
    };
    let with_install = dir.path().join("with-install.yaml");
    let text = std::fs::read_to_string(&example).unwrap()
        + &format!(
            "control_plane: {{ install: {{ host: node1, binary: \"{}\", port: {cp_port} }} }}\n",
            rustfs_bin().with_file_name("rustfs-controlplane").display()
        );
    std::fs::write(&with_install, text).unwrap();
    let run_inst = |args: &[&str]| {
        let mut all = args.to_vec();
        all.insert(1, with_install.to_str().unwrap());
        all.extend_from_slice(&["--state-dir", state.to_str().unwrap()]);
        let out = provision_env(&all, &env, LIMIT);
        let (stdout, stderr) = texts(&out);
        (out.status.code().unwrap_or(-1), stdout, stderr)
    };
    let (code, out, err) = run_inst(&["plan"]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("+ install control plane binary"), "{out}");
    assert!(out.contains("+ start the control plane"), "{out}");
    assert!(
        out.contains("+ install the control plane's TLS certificate"),
        "{out}"
    );
    let (code, out, err) = run_inst(&["apply", "--yes"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("control plane: cluster local registered"),
        "{out}"
    );
    assert_eq!(
        nodes.pids(),
        before,
        "installing the control plane restarts no node"
    );
    let cp_pid = nodes.control_plane().expect("the control plane runs");
    assert!(state.join("controlplane/admin.token").is_file());
    // It serves HTTPS with a certificate from the cluster CA (key 0600), and nothing in plain.
    let cp_url = format!("https://{net}.2:{cp_port}");
    let key = dir.path().join("etc/node1/rustfs-controlplane.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let trusting = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let live = rt.block_on(async { trusting.get(format!("{cp_url}/live")).send().await });
    assert!(live.is_ok_and(|r| r.status() == 200), "{cp_url}/live");
    let plain = rt.block_on(async {
        reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap()
            .get(format!("http://{net}.2:{cp_port}/live"))
            .send()
            .await
    });
    assert!(
        !plain.is_ok_and(|r| r.status().is_success()),
        "plain http is not served"
    );
    // Its poller sees every node up within a few rounds.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (code, out, err) = run_inst(&["status"]);
        assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
        let view = format!("control plane {cp_url}: cluster local");
        assert!(out.contains(&view), "{out}");
        if out.contains("cluster local healthy, nodes up 4/4") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the installed control plane did not see 4 nodes up within 30 s:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let (code, out, err) = run_inst(&["plan"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let (code, out, err) = run_inst(&["apply", "--yes"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("apply: no changes;"), "{out}");
    assert!(out.contains("already registered, unchanged"), "{out}");
    assert_eq!(nodes.control_plane(), Some(cp_pid));

    // Deleting data needs the cluster's name typed (or given): a wrong one changes nothing.
    let (code, _, err) = run_inst(&["destroy", "--delete-data", "--confirm-delete-data", "nope"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not this cluster's name"), "{err}");
    assert!(before
        .iter()
        .all(|p| Path::new(&format!("/proc/{p}")).exists()));

    let (code, out, err) =
        run_inst(&["destroy", "--delete-data", "--confirm-delete-data", "local"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(out.matches("removed, data deleted").count(), 4, "{out}");
    for p in before.iter().chain([&cp_pid]) {
        assert!(
            !Path::new(&format!("/proc/{p}")).exists(),
            "process {p} still runs"
        );
    }
    // Nothing is left of the cluster (the test's own files stay).
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("node") || n == "opt" || n == "etc")
        .collect();
    assert!(
        left.is_empty(),
        "destroy --delete-data left {left:?} behind"
    );
    assert!(!state.join("controlplane/admin.token").exists());
    assert!(!state.join("deployment_id").exists());
    // The addresses are free again.
    for i in 2..=5 {
        let ip: Ipv4Addr = format!("{net}.{i}").parse().unwrap();
        TcpListener::bind(SocketAddrV4::new(ip, port)).expect("port still taken after destroy");
    }
}
