//! `rustfs-provision` against container test hosts (Debian bookworm, real sshd, systemd as PID 1
//! where the engine allows it; see `rustfs_tests::hosts`): plan → apply a 4-host × 4-drive TLS
//! cluster → S3 through every node with the AWS SDK and the aws CLI, trusting only the cluster CA
//! → a clean plan and a second apply that restarts nothing → the node is a real systemd unit that
//! comes back after a host reboot → inter-node RPC with a certificate from another CA is refused →
//! a paused and a disconnected host fail the run by name while the others keep serving →
//! destroy. A smaller cluster takes the start-script path with sshd as PID 1, on hosts with a
//! second network that carries its inter-node traffic (`cluster_address`). Prints the apply
//! timings as figures (`bench:` lines).
//!
//! Needs root and Docker; the host image is built on first use (scripts/test-host-image.sh).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rustfs_tests::hosts::s3::{cli_round_trips, sdk_client, sdk_round_trips};
use rustfs_tests::hosts::{provision, ContainerHost, Init, InitChoice, Run, TestHosts};

const USER: &str = "admin";
const PASSWORD: &str = "password123";
/// Bound on one run that starts nodes (the health wait inside it is bounded too).
const APPLY_LIMIT: Duration = Duration::from_secs(400);
/// Bound on a run that starts nothing.
const RUN_LIMIT: Duration = Duration::from_secs(90);
/// Bound on waiting for S3 to answer after a fault.
const S3_LIMIT: Duration = Duration::from_secs(120);

/// One cluster on test hosts: the inventory, its state directory, the binary it installs.
struct Deploy {
    hosts: TestHosts,
    inventory: PathBuf,
    state: PathBuf,
}

impl Deploy {
    fn new(hosts: TestHosts, name: &str) -> Deploy {
        Deploy::with(hosts, name, "")
    }

    /// With `more` appended to the inventory.
    fn with(hosts: TestHosts, name: &str, more: &str) -> Deploy {
        let bin = hosts.path("rustfs");
        std::fs::copy(rustfs_tests::rustfs_bin(), &bin).unwrap();
        // TLS is the default: the inventory does not mention it.
        let extra = format!("credentials: {{ user: {USER}, password: {PASSWORD} }}\n{more}");
        let inventory = hosts.inventory(name, &bin, &extra);
        let state = hosts.path("state");
        Deploy {
            hosts,
            inventory,
            state,
        }
    }

    /// `rustfs-provision VERB INVENTORY --state-dir STATE --connect-timeout-secs 5 EXTRA…`.
    fn run(&self, verb: &str, extra: &[&str], limit: Duration) -> Run {
        let mut args = vec![
            verb,
            self.inventory.to_str().unwrap(),
            "--state-dir",
            self.state.to_str().unwrap(),
            "--connect-timeout-secs",
            "5",
        ];
        args.extend_from_slice(extra);
        provision(&args, limit)
    }

    fn ca_path(&self) -> PathBuf {
        self.state.join("ca/ca.pem")
    }

    fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.ca_path())
            .expect("apply leaves the cluster CA in the state dir")
    }

    fn clients(&self, which: &[usize]) -> Vec<(String, aws_sdk_s3::Client)> {
        let ca = self.ca_pem();
        let eps = self.hosts.endpoints("https");
        which
            .iter()
            .map(|&i| {
                (
                    eps[i].clone(),
                    sdk_client(&eps[i], USER, PASSWORD, Some(&ca)),
                )
            })
            .collect()
    }
}

/// The control plane polls with a service account of its own (kept 0600 in the state dir), not
/// the root key: those keys read the admin info, and are refused S3 and IAM.
fn control_plane_has_least_privilege(d: &Deploy) {
    use rustfs_admin_client::{AdminClient, Keys};
    use std::os::unix::fs::PermissionsExt;
    let file = d.state.join("controlplane.keys");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", file.display());
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let (ak, sk) = (
        kept["access_key"].as_str().unwrap(),
        kept["secret_key"].as_str().unwrap(),
    );
    assert_ne!(ak, USER, "the control plane must not hold the root key");
    let ca = reqwest::Certificate::from_pem(d.ca_pem().as_bytes()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let ep = &d.hosts.endpoints("https")[1];
    let keys = Keys {
        access_key: ak.into(),
        secret_key: sk.into(),
    };
    let poller = AdminClient::new(http, ep, keys);
    runtime().block_on(async {
        poller.call("GET", "info", "").await.expect("admin info");
        let e = poller.call("GET", "iam/users", "").await.unwrap_err();
        assert!(e.is_denied(), "{e}");
        let s3 = sdk_client(ep, ak, sk, Some(&d.ca_pem()));
        let e = s3.list_buckets().send().await.unwrap_err();
        assert_eq!(rustfs_tests::error_code(e), "AccessDenied");
    });
}

/// The control plane's deploy key (made by apply, kept 0600) logs in as the service user and runs
/// the upgrade verbs through `rustfs-hostops`, as the orchestrator will: status, stage (a wrong
/// sha256 stages nothing), switch; a shell command, SFTP and root's login are refused.
fn deploy_key_runs_only_the_upgrade_verbs(d: &Deploy) {
    use rustfs_hostops::exec::{HostConn, Stdin};
    use rustfs_hostops::hostkeys::HostKeyPolicy;
    use rustfs_hostops::paths::HostPaths;
    use rustfs_hostops::ssh::SshOptions;
    use rustfs_hostops::upgrade::UpgradeVerbs;
    use rustfs_hostops::{Connection, SshTarget, Target, Via};
    use std::os::unix::fs::PermissionsExt;
    let key = d.state.join("controlplane_ssh_key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", key.display());
    let h = &d.hosts.hosts[1];
    let target = |user: &str| Target {
        name: h.name.clone(),
        via: Via::Ssh(SshTarget {
            address: h.address.clone(),
            port: 22,
            user: user.into(),
            key_path: key.clone(),
            host_key: None,
        }),
    };
    let policy = HostKeyPolicy {
        known_hosts: d.hosts.known_hosts.clone(),
        state: rustfs_hostops::state::StateDir::open(&d.state).unwrap(),
        accept_new: false,
    };
    let opts = SshOptions::default();
    let paths = HostPaths::new("/opt/rustfs", "/etc/rustfs", Connection::Ssh, &h.name);
    runtime().block_on(async {
        let conn = HostConn::connect_forced(&target("rustfs"), &policy, opts)
            .await
            .expect("the deploy key logs in as the service user");
        let verbs = UpgradeVerbs::new(&conn, &paths);
        let status = verbs.status().await.expect("status");
        assert!(status.active, "{status:?}");
        assert!(status.current.is_some(), "{status:?}");
        assert!(status.free_bytes > 0, "{status:?}");

        let bin = d.hosts.path("next-rustfs");
        std::fs::write(&bin, b"#!/bin/sh\necho next\n").unwrap();
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            std::fs::read(&bin).unwrap(),
        ));
        let e = verbs
            .stage("9.9.9", &"0".repeat(64), &bin)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("nothing was staged"), "{e}");
        assert!(!verbs.has("9.9.9", &sha).await.unwrap());
        verbs.stage("9.9.9", &sha, &bin).await.expect("stage");
        assert!(verbs.has("9.9.9", &sha).await.unwrap());
        let e = verbs.switch("../../bin/sh").await.unwrap_err();
        assert!(e.to_string().contains("not a version"), "{e}");
        assert!(verbs.logs(5).await.is_ok());

        // Anything but a verb: the forced command refuses it, and nothing runs.
        for line in ["id", "sh -c id", "status; id", "cat /etc/shadow"] {
            let args: Vec<&str> = line.split(' ').collect();
            let out = conn.invoke("unused", &args, Stdin::None).await.unwrap();
            assert_eq!(out.status, 2, "{line}: {out:?}");
            assert!(!out.stdout.contains("uid="), "{line}: {out:?}");
        }
        conn.close().await;
        // SFTP: sshd runs the forced command instead of the subsystem, so nothing is written.
        let Via::Ssh(ssh) = target("rustfs").via else {
            unreachable!()
        };
        let raw = rustfs_hostops::ssh::SshSession::connect(&h.name, &ssh, &policy, opts)
            .await
            .unwrap();
        let file = rustfs_hostops::exec::Payload::Bytes(b"x".to_vec());
        assert!(raw
            .upload(&[("/tmp/deploy-key-sftp".into(), file)])
            .await
            .is_err());
        raw.close().await;
        // The key is the service user's only: root does not take it.
        let e = HostConn::connect_forced(&target("root"), &policy, opts)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("was refused for user root"), "{e}");
    });
    assert!(h
        .exec_text("ls /tmp/deploy-key-sftp 2>&1 || true")
        .contains("No such"));
    // What staging left is removed again; the node still runs its own binary.
    h.exec_text("rm -f /opt/rustfs/bin/rustfs-9.9.9");
}

/// A new root password in the inventory: `apply` installs it and reloads the nodes (no restart,
/// so no request fails); the new password works through every node, the old one is refused, and
/// the control plane (its own keys) keeps polling. Then back to the original password.
fn root_password_rotates_without_a_restart(
    d: &Deploy,
    before: &[String],
    cp_active: &dyn Fn(&ContainerHost) -> bool,
) {
    const NEW: &str = "rotated-password-456";
    let text = std::fs::read_to_string(&d.inventory).unwrap();
    let old_line = format!("password: {PASSWORD}");
    assert!(text.contains(&old_line), "{text}");
    let set = |from: &str, to: &str| {
        let t = std::fs::read_to_string(&d.inventory).unwrap();
        std::fs::write(&d.inventory, t.replace(from, to)).unwrap();
    };
    set(&old_line, &format!("password: {NEW}"));
    let run = d.run("plan", &[], RUN_LIMIT);
    assert_eq!(run.code, 2, "{run}");
    assert_eq!(run.stdout.matches("reload rustfs").count(), 4, "{run}");
    assert!(!run.stdout.contains("restart rustfs"), "{run}");
    let run = d.run("apply", &["--yes"], APPLY_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(identities(d), before, "a password change restarted a node");
    for h in &d.hosts.hosts {
        assert_eq!(
            h.exec_text("stat -c '%a %U' /etc/rustfs/root.password"),
            "600 rustfs"
        );
        h.exec_ok(&format!("! grep -q {NEW} /etc/rustfs/rustfs.env"));
    }
    let ca = d.ca_pem();
    runtime().block_on(async {
        for ep in d.hosts.endpoints("https") {
            let new = sdk_client(&ep, USER, NEW, Some(&ca));
            new.list_buckets().send().await.expect("the new password");
            let old = sdk_client(&ep, USER, PASSWORD, Some(&ca));
            let e = old.list_buckets().send().await.unwrap_err();
            assert_eq!(rustfs_tests::error_code(e), "SignatureDoesNotMatch", "{ep}");
        }
    });
    assert!(cp_active(&d.hosts.hosts[0]));
    wait_until(
        "the control plane still sees 4 nodes up",
        Duration::from_secs(60),
        || {
            d.run("status", &[], RUN_LIMIT)
                .stdout
                .contains("cluster hosts healthy, nodes up 4/4")
        },
    );
    set(&format!("password: {NEW}"), &old_line);
    let run = d.run("apply", &["--yes"], APPLY_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(identities(d), before);
    s3_still_answers(d, &[0, 1, 2, 3], "after-rotation");
}

/// What identifies the running node on a host: systemd's main pid and start time, or the pid
/// file of the start script. Changes exactly when the node was (re)started.
fn node_identity(h: &ContainerHost) -> String {
    let script = match h.init {
        Init::Systemd => {
            "systemctl show rustfs -p MainPID -p ExecMainStartTimestampMonotonic --value"
        }
        Init::Sshd => "cat /opt/rustfs/run/rustfs.pid && kill -0 $(cat /opt/rustfs/run/rustfs.pid)",
    };
    let id = h
        .exec_ok(script)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        !id.is_empty() && !id.starts_with("0 "),
        "{}: no running node ({id:?})",
        h.name
    );
    id
}

fn identities(d: &Deploy) -> Vec<String> {
    d.hosts.hosts.iter().map(node_identity).collect()
}

/// Polls `f` until it returns true, for at most `limit`.
fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// PUT + GET through the given nodes, retried until it works (a node that lost a peer waits out
/// an RPC deadline before marking it offline).
fn s3_still_answers(d: &Deploy, which: &[usize], prefix: &str) {
    let rt = runtime();
    let clients = d.clients(which);
    let deadline = Instant::now() + S3_LIMIT;
    loop {
        let attempt = rt.block_on(async {
            let body = rustfs_tests::pattern(600_000, 7);
            for (ep, c) in &clients {
                let key = format!("{prefix}/{}", ep.replace([':', '/'], "_"));
                c.put_object()
                    .bucket("hosts-sdk")
                    .key(&key)
                    .body(body.clone().into())
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "PutObject via {ep}: {}",
                            aws_sdk_s3::error::DisplayErrorContext(e)
                        )
                    })?;
                let got = c
                    .get_object()
                    .bucket("hosts-sdk")
                    .key(&key)
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "GetObject via {ep}: {}",
                            aws_sdk_s3::error::DisplayErrorContext(e)
                        )
                    })?;
                let bytes = got
                    .body
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .into_bytes();
                if bytes.as_ref() != body.as_slice() {
                    return Err(format!("{key} came back different via {ep}"));
                }
            }
            Ok::<_, String>(())
        });
        match attempt {
            Ok(()) => return,
            Err(e) if Instant::now() < deadline => {
                eprintln!("s3 not answering yet: {e}");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(e) => panic!("S3 did not answer within {S3_LIMIT:?}: {e}"),
        }
    }
}

/// An inter-node RPC from a client presenting a certificate of another CA: the node refuses the
/// handshake. Without any client certificate the RPC is refused with 403.
fn foreign_rpc_is_refused(d: &Deploy, target: &ContainerHost) {
    let (cert, key) =
        rustfs_tests::pki::Ca::new("someone else's CA").leaf(&d.hosts.hosts[0].address);
    let ca = reqwest::Certificate::from_pem(d.ca_pem().as_bytes()).unwrap();
    let client = |identity: Option<reqwest::Identity>| {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca.clone())
            .no_proxy()
            .timeout(Duration::from_secs(10));
        if let Some(id) = identity {
            b = b.identity(id);
        }
        b.build().unwrap()
    };
    let url = format!("https://{}:9000/rustfs/rpc/v2/info", target.address);
    let rt = runtime();
    let anonymous = rt
        .block_on(async { client(None).get(&url).send().await })
        .expect("RPC over TLS without a client certificate");
    assert_eq!(anonymous.status(), 403, "RPC without a client certificate");
    let id = reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap();
    let r = rt.block_on(async { client(Some(id)).get(&url).send().await });
    assert!(
        r.is_err(),
        "{}: RPC with another CA's certificate was accepted: {r:?}",
        target.name
    );
}

/// A run that must fail at `connect` on `host` (and nowhere else), changing nothing.
fn fails_at_connect(d: &Deploy, host: &str, before: &[String]) {
    let run = d.run("apply", &["--yes"], RUN_LIMIT);
    eprintln!("{host} unreachable, apply said: {}", run.stderr.trim());
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains(&format!("apply failed on host {host} at step 'connect'")),
        "{run}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with(host) && l.ends_with("FAILED at connect")),
        "{run}"
    );
    assert_eq!(run.stdout.matches("not reached").count(), 3, "{run}");
    for (h, id) in d.hosts.hosts.iter().zip(before) {
        if h.name != host {
            assert_eq!(&node_identity(h), id, "{} was restarted", h.name);
        }
    }
}

#[test]
fn tls_cluster_on_container_hosts() {
    // The control plane is installed on h1 too, and polls the nodes over TLS.
    let hosts = TestHosts::start(4, 4, InitChoice::Auto);
    let cp_bin = hosts.path("rustfs-controlplane");
    std::fs::copy(
        rustfs_tests::workspace_bin(
            "rustfs-controlplane",
            "RUSTFS_CONTROLPLANE_BIN",
            "rustfs-controlplane",
        ),
        &cp_bin,
    )
    .unwrap();
    let install = format!(
        "control_plane: {{ install: {{ host: h1, binary: {} }} }}\n",
        cp_bin.display()
    );
    let d = Deploy::with(hosts, "hosts", &install);
    let systemd = d.hosts.init == Init::Systemd;
    let cp_active = |h: &ContainerHost| {
        if systemd {
            h.exec_text("systemctl is-active rustfs-controlplane") == "active"
        } else {
            h.exec_text("/opt/rustfs/bin/rustfs-controlplane-ctl status || true")
                .starts_with("running")
        }
    };

    // plan: the whole install on every host, exit 2.
    let run = d.run("plan", &[], RUN_LIMIT);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stdout.contains("on 4 host(s)"), "{run}");
    let unit_or_script = if systemd {
        "install systemd unit rustfs.service"
    } else {
        "install start script"
    };
    for needle in [
        "install binary",
        "install TLS certificate",
        unit_or_script,
        "start rustfs",
    ] {
        assert_eq!(
            run.stdout.matches(needle).count(),
            4,
            "{needle:?} on every host: {run}"
        );
    }
    for needle in ["install control plane binary", "start the control plane"] {
        assert_eq!(run.stdout.matches(needle).count(), 1, "{needle:?}: {run}");
    }

    let run = d.run("apply", &["--yes"], APPLY_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    let first_apply = run.elapsed;
    assert!(
        run.stdout.contains("S3 verified through 4 node(s)"),
        "{run}"
    );
    assert_eq!(run.stdout.matches("ok, changed").count(), 4, "{run}");
    assert!(
        run.stdout
            .contains("control plane: cluster hosts registered"),
        "{run}"
    );
    // The installed control plane runs (a unit of the service user with systemd) and polls
    // every node over TLS with the cluster CA it was given: `status` shows them up.
    assert!(
        cp_active(&d.hosts.hosts[0]),
        "control plane not running on h1"
    );
    if systemd {
        assert_eq!(
            d.hosts.hosts[0].exec_text("systemctl show rustfs-controlplane -p User --value"),
            "rustfs"
        );
    }
    wait_until(
        "the control plane sees 4 nodes up over TLS",
        Duration::from_secs(60),
        || {
            d.run("status", &[], RUN_LIMIT)
                .stdout
                .contains("cluster hosts healthy, nodes up 4/4")
        },
    );

    // Each node is a real systemd unit, running as the service user (or the start script's).
    for h in &d.hosts.hosts {
        if systemd {
            assert_eq!(
                h.exec_text("systemctl is-active rustfs"),
                "active",
                "{}",
                h.name
            );
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
            // Logged to the journal under its own name (not as the `current` link it runs from).
            h.exec_ok("journalctl -t rustfs --no-pager -o cat | grep -q 'serving S3'");
            assert_eq!(
                h.exec_text("systemctl show rustfs -p UMask --value"),
                "0077"
            );
        }
        // Least privilege: the drives, the TLS key and the RPC secret are the node's only.
        assert_eq!(
            h.exec_text(
                "stat -c '%a %U' /data/drive1 /etc/rustfs/tls/node.key /etc/rustfs/rpc.secret"
            ),
            "700 rustfs\n600 rustfs\n600 rustfs",
            "{}",
            h.name
        );
        h.exec_ok(
            "grep -qx \"RUSTFS_RPC_SECRET_FILE='/etc/rustfs/rpc.secret'\" /etc/rustfs/rustfs.env",
        );
        if !systemd {
            assert!(h
                .exec_text("/opt/rustfs/bin/rustfs-ctl status")
                .starts_with("running"));
        }
        for d in &h.drives {
            h.exec_ok(&format!("test -f {d}/.rustfs.sys/format.json"));
        }
    }

    // Real clients through every node, trusting only the cluster CA.
    runtime().block_on(sdk_round_trips(
        &d.clients(&[0, 1, 2, 3]),
        "hosts-sdk",
        "sdk",
    ));
    cli_round_trips(
        &d.hosts.endpoints("https"),
        Some(&d.ca_path()),
        USER,
        PASSWORD,
        "hosts-sdk",
        d.hosts.dir.path(),
    );

    // Everything matches: plan exits 0, a second apply changes and restarts nothing.
    let run = d.run("plan", &[], RUN_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("plan: no changes"), "{run}");
    let before = identities(&d);
    let run = d.run("apply", &["--yes"], APPLY_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    let reapply = run.elapsed;
    assert!(run.stdout.contains("apply: no changes;"), "{run}");
    assert_eq!(run.stdout.matches("ok, no changes").count(), 4, "{run}");
    assert_eq!(identities(&d), before, "a no-change apply restarted a node");
    eprintln!(
        "bench: apply 4 bare container hosts x 4 drives (TLS, {:?}): {:.1}s; no-change re-apply: {:.1}s",
        d.hosts.init,
        first_apply.as_secs_f64(),
        reapply.as_secs_f64()
    );

    control_plane_has_least_privilege(&d);
    deploy_key_runs_only_the_upgrade_verbs(&d);
    root_password_rotates_without_a_restart(&d, &before, &cp_active);

    foreign_rpc_is_refused(&d, &d.hosts.hosts[1]);

    // A paused host (its kernel still completes TCP handshakes, sshd never answers) and a host
    // cut off the network each fail the run by name at `connect`; the others keep serving.
    let paused = &d.hosts.hosts[3];
    paused.pause();
    fails_at_connect(&d, "h4", &before);
    s3_still_answers(&d, &[0, 1, 2], "while-h4-paused");
    paused.unpause();
    let cut = &d.hosts.hosts[2];
    cut.disconnect();
    fails_at_connect(&d, "h3", &before);
    s3_still_answers(&d, &[0, 1, 3], "while-h3-cut-off");
    cut.reconnect();

    if systemd {
        // A host that crashes and boots again brings its node back by itself (the unit is
        // enabled); one shut down cleanly does too.
        let h = &d.hosts.hosts[1];
        h.kill();
        h.start();
        wait_until(
            "rustfs active again after a crash",
            Duration::from_secs(60),
            || h.exec_text("systemctl is-active rustfs") == "active",
        );
        let h = &d.hosts.hosts[0];
        h.stop();
        h.start();
        wait_until(
            "rustfs active again after a reboot",
            Duration::from_secs(60),
            || h.exec_text("systemctl is-active rustfs") == "active",
        );
        assert_ne!(node_identity(h), before[0]);
        wait_until(
            "the control plane active again after h1's reboot",
            Duration::from_secs(60),
            || cp_active(h),
        );
    }
    let run = d.run("status", &[], RUN_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    wait_until(
        "every node healthy over TLS",
        Duration::from_secs(120),
        || {
            let run = d.run("status", &[], RUN_LIMIT);
            run.stdout.matches(", running, healthy").count() == 4
        },
    );
    s3_still_answers(&d, &[0, 1, 2, 3], "after-faults");

    // destroy: services stopped and removed, drives kept.
    let run = d.run("destroy", &["--yes"], APPLY_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    for h in &d.hosts.hosts {
        if systemd {
            assert_ne!(h.exec_text("systemctl is-active rustfs"), "active");
            h.exec_ok("test ! -e /etc/systemd/system/rustfs.service");
        }
        h.exec_ok("test ! -e /opt/rustfs/bin && test -f /data/drive1/.rustfs.sys/format.json");
    }
    // The control plane is gone too; its database stays (deleted only with --delete-data).
    let h1 = &d.hosts.hosts[0];
    assert!(!cp_active(h1));
    h1.exec_ok(
        "test ! -e /etc/systemd/system/rustfs-controlplane.service && test -f /var/lib/rustfs-controlplane/controlplane.db",
    );
}

/// The provisioner's path for hosts without systemd (sshd is PID 1; the node runs under the
/// rendered start script, started as root and told to drop to `rustfs`), on hosts with two
/// networks: each host's `cluster_address` is on the second one, so the pool endpoints (and
/// with them inter-node RPC and the nodes' certificates) name it, while clients and the
/// provisioner's checks use `address`.
#[test]
fn start_script_path_with_a_cluster_network() {
    let d = Deploy::new(
        TestHosts::start_on_two_networks(4, 1, InitChoice::Force(Init::Sshd)),
        "plain",
    );
    let cluster: Vec<String> = d
        .hosts
        .hosts
        .iter()
        .map(|h| h.cluster_address.clone().expect("a cluster address"))
        .collect();
    let run = d.run("apply", &["--yes"], APPLY_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("S3 verified through 4 node(s)"),
        "{run}"
    );
    // The endpoints every node gets name the cluster addresses only.
    let volumes = cluster
        .iter()
        .map(|a| format!("https://{a}:9000/data/drive1"))
        .collect::<Vec<_>>()
        .join(" ");
    for h in &d.hosts.hosts {
        assert!(
            h.exec_text("/opt/rustfs/bin/rustfs-ctl status")
                .starts_with("running"),
            "{}",
            h.name
        );
        h.exec_ok("test ! -d /run/systemd/system && test ! -e /etc/systemd/system/rustfs.service");
        let env = h.exec_ok("cat /etc/rustfs/rustfs.env");
        assert!(
            env.contains(&format!("RUSTFS_VOLUMES='{volumes}'")),
            "{}: {env}",
            h.name
        );
        // Started as root, it dropped to the service user, which owns its files. (The process's
        // status, not its environ: root without CAP_SYS_PTRACE may not read another user's.)
        h.exec_ok(
            "test \"$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$(cat /opt/rustfs/run/rustfs.pid)/status)\" = \"$(id -u rustfs) $(id -u rustfs) $(id -u rustfs) $(id -u rustfs)\"",
        );
        assert_eq!(
            h.exec_text("stat -c '%a %U' /data/drive1 /etc/rustfs/rpc.secret"),
            "700 rustfs\n600 rustfs",
            "{}",
            h.name
        );
        // Its certificate names both of its addresses (peers check the cluster one).
        let cert = d.state.join(format!("nodes/{}.pem", h.name));
        for ip in [&h.address, h.cluster_address.as_ref().unwrap()] {
            let out = std::process::Command::new("openssl")
                .args([
                    "verify",
                    "-purpose",
                    "sslserver",
                    "-verify_ip",
                    ip,
                    "-CAfile",
                ])
                .arg(d.ca_path())
                .arg(&cert)
                .output()
                .expect("openssl is missing: apt-get install openssl");
            assert!(
                out.status.success(),
                "{} for {ip}: {}",
                h.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // Clients use the client addresses.
    runtime().block_on(sdk_round_trips(
        &d.clients(&[0, 1, 2, 3]),
        "plain-sdk",
        "sdk",
    ));
    // The nodes talk to each other over the cluster network: every connection a node opened to
    // a peer's S3/RPC port goes to a cluster address.
    for h in &d.hosts.hosts {
        let peers = h.exec_ok("ss -Htn state established '( dport = :9000 )'");
        let remotes: Vec<&str> = peers
            .lines()
            .filter_map(|l| l.split_whitespace().last())
            .filter_map(|r| r.rsplit_once(':').map(|(ip, _)| ip))
            .collect();
        assert!(!remotes.is_empty(), "{}: no connection to a peer", h.name);
        for r in &remotes {
            assert!(
                cluster.iter().any(|c| c == r),
                "{}: connection to {r}, not a cluster address: {peers}",
                h.name
            );
        }
    }
    let before = identities(&d);
    let run = d.run("apply", &["--yes"], APPLY_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("apply: no changes;"), "{run}");
    assert_eq!(identities(&d), before);
    // A killed node is started again by the next apply, and only that one.
    let h = &d.hosts.hosts[2];
    h.exec_ok("kill -9 $(cat /opt/rustfs/run/rustfs.pid)");
    let run = d.run("apply", &["--yes"], APPLY_LIMIT);
    assert_eq!(run.code, 0, "{run}");
    let after = identities(&d);
    for i in [0, 1, 3] {
        assert_eq!(after[i], before[i]);
    }
    assert_ne!(after[2], before[2]);
}
