//! `rustfs-provision apply` end to end against real test hosts (network namespaces running
//! OpenSSH, the real `rustfs` binary): plan → apply → S3 through every node with the AWS SDK and
//! the aws CLI → a clean plan → a second apply that touches nothing → drift and a changed setting
//! restart only what changed (a secret whose mode drifted is fixed without a restart) → refused
//! host keys, unreachable hosts and foreign drives stop the run before anything changes →
//! destroy. The inventory says `tls: false` (and apply warns about it); the hosts get the RPC
//! secret and private drives, and the node is started as root told to drop to `rustfs`.
//! Prints the apply timings as figures.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::cluster::{Cluster, RUN_LIMIT};

/// Bound on one apply that starts or restarts nodes (the health wait inside is 180 s at most).
const APPLY_LIMIT: Duration = Duration::from_secs(400);

const USER: &str = "admin";
const PASSWORD: &str = "password123";

fn no_extra(_: usize) -> String {
    String::new()
}

fn endpoints(c: &Cluster) -> Vec<String> {
    c.hosts
        .iter()
        .map(|h| format!("http://{}:9000", h.address))
        .collect()
}

/// `aws s3 cp` up through node i and down through node i+1.
fn cli_round_trips(endpoints: &[String], bucket: &str, dir: &Path) {
    let aws = |ep: &str, args: &[&str]| {
        let out = Command::new("aws")
            .arg("--endpoint-url")
            .arg(ep)
            .args(args)
            .env("AWS_ACCESS_KEY_ID", USER)
            .env("AWS_SECRET_ACCESS_KEY", PASSWORD)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("NO_PROXY", "*")
            .output()
            .expect("the aws CLI is missing: pip install awscli (scripts/test.sh installs it)");
        assert!(
            out.status.success(),
            "aws {args:?} via {ep}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let n = endpoints.len();
    for i in 0..n {
        let src = dir.join(format!("cli-{i}.bin"));
        let data: Vec<u8> = (0..700_000u32).map(|j| (j % 251) as u8 ^ i as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let url = format!("s3://{bucket}/cli/{i}");
        aws(&endpoints[i], &["s3", "cp", src.to_str().unwrap(), &url]);
        let dst = dir.join(format!("cli-{i}.back"));
        aws(
            &endpoints[(i + 1) % n],
            &["s3", "cp", &url, dst.to_str().unwrap()],
        );
        assert_eq!(std::fs::read(&dst).unwrap(), data, "{url}");
    }
    let listing = aws(&endpoints[0], &["s3", "ls", &format!("s3://{bucket}/cli/")]);
    assert_eq!(listing.lines().count(), n, "{listing}");
}

/// What the hosts hold after the first apply: the RPC secret (the state's, 0600, the node's
/// user's, named by the env file), drives 0700 of the node's user, and a node started as root
/// with `RUSTFS_RUN_AS` under `umask 077` (so what it wrote is private).
fn least_privilege(c: &Cluster) {
    let kept = std::fs::read_to_string(c.path("state/rpc.secret")).unwrap();
    let uid: u32 = String::from_utf8_lossy(
        &Command::new("id")
            .args(["-u", "rustfs"])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .parse()
    .expect("the provisioner made the rustfs user");
    let state_mode = std::fs::metadata(c.path("state/rpc.secret"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(state_mode & 0o777, 0o600);
    for (i, h) in c.hosts.iter().enumerate() {
        let etc = h.private_dir(1);
        let secret = etc.join("rpc.secret");
        assert_eq!(
            std::fs::read_to_string(&secret).unwrap(),
            kept,
            "{}",
            h.name
        );
        let meta = std::fs::metadata(&secret).unwrap();
        assert_eq!(
            (meta.permissions().mode() & 0o777, meta.uid()),
            (0o600, uid)
        );
        let env = std::fs::read_to_string(etc.join("rustfs.env")).unwrap();
        let named = format!(
            "RUSTFS_RPC_SECRET_FILE='{}'",
            c.path("etc/rpc.secret").display()
        );
        assert!(env.contains(&named), "{env}");
        for d in &h.drives {
            let meta = std::fs::metadata(d).unwrap();
            assert_eq!(
                (meta.permissions().mode() & 0o777, meta.uid()),
                (0o700, uid),
                "{d:?}"
            );
            let format = std::fs::metadata(d.join(".rustfs.sys/format.json")).unwrap();
            assert_eq!(
                format.permissions().mode() & 0o077,
                0,
                "{d:?}: the node's files are its own only"
            );
        }
        let pid = c.node_pid(i).expect("node pid");
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        assert!(
            environ
                .split(|b| *b == 0)
                .any(|v| v == b"RUSTFS_RUN_AS=rustfs"),
            "{}: the node was not told to drop root",
            h.name
        );
    }
}

fn pids(c: &Cluster) -> Vec<Option<u32>> {
    (0..c.hosts.len()).map(|i| c.node_pid(i)).collect()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn apply_brings_up_a_cluster_then_changes_only_what_differs() {
    let c = Cluster::start_real(4, 4);
    let inv = c.inventory(&no_extra);

    // plan shows the whole install on every host.
    let (code, out, err) = c.plan(&inv, &["--accept-new"]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("plan: 36 change(s) on 4 host(s)"), "{out}");

    // Without a terminal to ask on, apply refuses to change anything unless --yes.
    let (code, out, err) = c.run("apply", &inv, &[], RUN_LIMIT);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("re-run with --yes"), "{err}");
    assert!(!c.hosts[0].private_dir(0).join("bin/current").exists());

    let started = Instant::now();
    let (code, out, err) = c.run("apply", &inv, &["--yes"], APPLY_LIMIT);
    let first_apply = started.elapsed();
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("S3 verified through 4 node(s)"), "{out}");
    assert!(err.contains("warning: tls: false"), "{err}");
    for h in &c.hosts {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&h.name) && l.ends_with("ok, changed")),
            "{out}"
        );
        // The drives were formatted into one deployment, recorded in the state directory.
        for d in &h.drives {
            assert!(d.join(".rustfs.sys/format.json").is_file(), "{d:?}");
        }
    }
    let deployment = std::fs::read_to_string(c.path("state/deployment_id")).unwrap();
    assert_eq!(deployment.trim().len(), 36, "{deployment}");
    least_privilege(&c);

    // Real clients through every node.
    let eps = endpoints(&c);
    support::s3::sdk_round_trips(&eps, USER, PASSWORD, "e2e-sdk", None);
    cli_round_trips(&eps, "e2e-sdk", c.dir.path());

    // Everything matches now.
    let (code, out, err) = c.plan(&inv, &[]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("plan: no changes"), "{out}");

    // A second apply touches nothing: same processes, same files.
    let before = pids(&c);
    assert!(before.iter().all(|p| p.is_some_and(alive)), "{before:?}");
    let env_mtime = |i: usize| {
        std::fs::metadata(c.hosts[i].private_dir(1).join("rustfs.env"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let mtimes: Vec<_> = (0..4).map(env_mtime).collect();
    let started = Instant::now();
    let (code, out, err) = c.run("apply", &inv, &["--yes"], APPLY_LIMIT);
    let reapply = started.elapsed();
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("apply: no changes;"), "{out}");
    assert_eq!(out.matches("ok, no changes").count(), 4, "{out}");
    assert_eq!(pids(&c), before);
    assert_eq!((0..4).map(env_mtime).collect::<Vec<_>>(), mtimes);

    // Drift on one host: only that host is rewritten and restarted.
    let env2 = c.hosts[1].private_dir(1).join("rustfs.env");
    let mut text = std::fs::read_to_string(&env2).unwrap();
    text.push_str("RUSTFS_LOG_FORMAT='json'\n");
    std::fs::write(&env2, text).unwrap();
    let (code, out, err) = c.run("apply", &inv, &["--yes"], APPLY_LIMIT);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("h2: rewrite configuration"), "{out}");
    assert!(!out.contains("install binary"), "{out}");
    let after = pids(&c);
    assert_ne!(after[1], before[1], "h2 was restarted");
    for i in [0, 2, 3] {
        assert_eq!(after[i], before[i], "host {i} was left alone");
    }
    assert!(!std::fs::read_to_string(&env2).unwrap().contains("json"));

    // A secret whose mode drifted is made private again, without restarting the node.
    let secret3 = c.hosts[2].private_dir(1).join("rpc.secret");
    std::fs::set_permissions(&secret3, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out, err) = c.run("apply", &inv, &["--yes"], APPLY_LIMIT);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("h3: install the cluster RPC secret"), "{out}");
    assert_eq!(pids(&c), after, "no node was restarted");
    let mode = std::fs::metadata(&secret3).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // A changed setting: every env file re-rendered, every node restarted, no binary upload.
    let text = std::fs::read_to_string(&inv).unwrap() + "storage_class: EC:1\n";
    std::fs::write(&inv, text).unwrap();
    let (code, out, err) = c.plan(&inv, &[]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("plan: 8 change(s) on 4 host(s)"), "{out}");
    let (code, out, err) = c.run("apply", &inv, &["--yes"], APPLY_LIMIT);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(out.matches("ok, changed, restarted").count(), 4, "{out}");
    assert!(!out.contains("install binary"), "{out}");
    let restarted = pids(&c);
    for i in 0..4 {
        assert_ne!(restarted[i], after[i]);
        let env = std::fs::read_to_string(c.hosts[i].private_dir(1).join("rustfs.env")).unwrap();
        assert!(
            env.contains("RUSTFS_STORAGE_CLASS_STANDARD='EC:1'"),
            "{env}"
        );
    }

    // status: every host reachable, running and healthy.
    let (code, out, err) = c.run("status", &inv, &[], RUN_LIMIT);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(out.matches(", running, healthy").count(), 4, "{out}");

    // A host whose key no longer matches its pin stops the run before anything changes.
    let wrong = c.path("wrong_key");
    support::keygen(&wrong);
    let wrong_fp = support::fingerprint(&wrong.with_extension("pub"));
    let current = std::fs::read_to_string(&inv).unwrap();
    let pinned = c.path("pinned.yaml");
    std::fs::rename(
        c.inventory(&|i| {
            if i == 0 {
                format!(", ssh: {{ host_key: \"{wrong_fp}\" }}")
            } else {
                String::new()
            }
        }),
        &pinned,
    )
    .unwrap();
    std::fs::write(&inv, current).unwrap();
    let (code, out, err) = c.run("apply", &pinned, &["--yes"], RUN_LIMIT);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    let actual = c.hosts[0].fingerprint();
    assert!(
        err.contains("apply failed on host h1 at step 'connect'")
            && err.contains(&format!(
                "HOST KEY CHANGED — expected {wrong_fp}, got {actual}"
            )),
        "{err}"
    );
    assert_eq!(pids(&c), restarted, "nothing was restarted");

    // An unreachable host fails the run, named, and the others are left as they were.
    c.hosts[3].disconnect();
    let (code, out, err) = c.run("apply", &inv, &["--yes"], RUN_LIMIT);
    c.hosts[3].reconnect();
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("apply failed on host h4 at step 'connect'"),
        "{err}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("h4") && l.ends_with("FAILED at connect")),
        "{out}"
    );
    assert_eq!(out.matches("not reached").count(), 3, "{out}");
    assert_eq!(pids(&c), restarted);

    // destroy: services stopped and removed, drives kept.
    let (code, out, err) = c.run("destroy", &inv, &["--yes"], APPLY_LIMIT);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(out.matches("removed (drives kept)").count(), 4, "{out}");
    for (i, pid) in restarted.iter().enumerate() {
        assert!(!alive(pid.unwrap()), "node {i} still runs");
        assert!(!c.hosts[i].private_dir(0).join("bin").exists());
        assert!(!c.hosts[i].private_dir(1).join("rustfs.env").exists());
        assert!(!c.hosts[i].private_dir(1).join("rpc.secret").exists());
        assert!(c.hosts[i].drives[0]
            .join(".rustfs.sys/format.json")
            .is_file());
    }
    eprintln!(
        "figures: apply on 4 bare hosts x 4 drives {:.1}s; no-change re-apply {:.1}s",
        first_apply.as_secs_f64(),
        reapply.as_secs_f64()
    );
}

#[test]
fn apply_refuses_a_drive_of_another_deployment_and_changes_nothing() {
    let c = Cluster::start(2, 2);
    let inv = c.inventory(&no_extra);
    let sys = c.hosts[1].drives[1].join(".rustfs.sys");
    std::fs::create_dir_all(&sys).unwrap();
    std::fs::write(
        sys.join("format.json"),
        r#"{"version":1,"deployment_id":"0a0b0c0d-1111-2222-3333-444455556666"}"#,
    )
    .unwrap();
    let (code, out, err) = c.run("apply", &inv, &["--yes", "--accept-new"], RUN_LIMIT);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("apply failed on host h2 at step 'validate host'")
            && err.contains("belongs to deployment 0a0b0c0d-1111-2222-3333-444455556666"),
        "{err}"
    );
    for h in &c.hosts {
        assert!(
            !h.private_dir(0).join("bin").exists(),
            "{} was changed",
            h.name
        );
    }
}
