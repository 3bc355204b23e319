//! `rustfs-provision` against real test hosts (network namespaces running OpenSSH): plan from
//! gathered facts, strict host keys, pinned fingerprints, `--accept-new`, unreachable hosts.

mod support;

use std::net::TcpListener;
use std::path::Path;

use support::cluster::{Cluster, RUN_LIMIT};
use support::{keygen, provision, texts};

fn no_extra(_: usize) -> String {
    String::new()
}

/// The uid of the service account (the provisioner makes it on the hosts, which share this
/// machine's /etc).
fn service_uid() -> u32 {
    let out = std::process::Command::new("id")
        .args(["-u", "rustfs"])
        .output()
        .unwrap();
    assert!(out.status.success(), "no rustfs user after staging");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn plan_shows_facts_derived_actions_and_accept_new_records_keys() {
    let c = Cluster::start(2, 2);
    let inv = c.inventory(&no_extra);

    let (code, out, err) = c.plan(&inv, &["--accept-new"]);
    assert_eq!(
        code, 2,
        "changes pending means exit 2\nstdout:\n{out}\nstderr:\n{err}"
    );
    for h in &c.hosts {
        assert!(
            out.contains(&format!("host {} ({})", h.name, h.address)),
            "{out}"
        );
        let drives: Vec<String> = h.drives.iter().map(|d| d.display().to_string()).collect();
        assert!(
            out.contains(&format!(
                "format empty drive(s) {} on first start",
                drives.join(", ")
            )),
            "{out}"
        );
    }
    assert!(out.contains("cpu(s)") && out.contains("systemd"), "{out}");
    assert!(
        out.contains("install binary") && out.contains("/opt/bin/rustfs-"),
        "{out}"
    );
    // Binary, env file, RPC secret, root password, start script, upgrade verbs, drives made
    // private, format, start.
    assert!(out.contains("plan: 18 change(s) on 2 host(s)"), "{out}");
    assert!(out.contains("install the cluster RPC secret"), "{out}");
    assert!(out.contains("private to the node (mode 0700)"), "{out}");
    assert!(
        !c.path("state/rpc.secret").exists(),
        "plan must not make the RPC secret"
    );
    // The inventory says `tls: false`: plan warns about plaintext.
    assert!(
        err.contains("warning: tls: false — S3 requests and data, and inter-node RPC, cross the network in plaintext"),
        "{err}"
    );

    // --accept-new recorded both keys in the provisioner's state, with OpenSSH's fingerprints.
    let recorded = std::fs::read_to_string(c.path("state/host_keys.json")).unwrap();
    for h in &c.hosts {
        assert!(
            recorded.contains(&format!("{}:22", h.address)),
            "{recorded}"
        );
        assert!(recorded.contains(&h.fingerprint()), "{recorded}");
    }
    // Recorded keys are trusted without --accept-new from now on.
    let (code, out, err) = c.plan(&inv, &[]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");

    // A drive formatted by another deployment is refused, naming the deployment.
    let sys = c.hosts[1].drives[0].join(".rustfs.sys");
    std::fs::create_dir_all(&sys).unwrap();
    std::fs::write(
        sys.join("format.json"),
        r#"{ "version": 1, "deployment_id": "0a0b0c0d-1111-2222-3333-444455556666" }"#,
    )
    .unwrap();
    let (code, out, err) = c.plan(&inv, &[]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains(
            "belongs to deployment 0a0b0c0d-1111-2222-3333-444455556666 — refusing to format it"
        ),
        "{out}"
    );
    assert!(err.contains("some hosts cannot run this cluster"), "{err}");
}

#[test]
fn unknown_host_key_is_refused_by_default() {
    let c = Cluster::start(1, 2);
    let inv = c.inventory(&no_extra);
    let (code, out, err) = c.plan(&inv, &[]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    let fp = c.hosts[0].fingerprint();
    assert!(
        err.contains(&format!("host h1: unknown host key {fp}")) && err.contains("--accept-new"),
        "{err}"
    );
    assert!(!c.path("state/host_keys.json").exists());
}

#[test]
fn known_hosts_entry_is_trusted_and_a_changed_key_is_refused() {
    let c = Cluster::start(1, 2);
    let inv = c.inventory(&no_extra);
    std::fs::write(c.path("known_hosts"), c.hosts[0].known_hosts_line()).unwrap();
    let (code, out, err) = c.plan(&inv, &[]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");

    // The host "was reinstalled": known_hosts now holds another key for its address.
    let other = c.path("other_key");
    keygen(&other);
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let mut parts = other_pub.split_whitespace();
    let line = format!(
        "{} {} {}\n",
        c.hosts[0].address,
        parts.next().unwrap(),
        parts.next().unwrap()
    );
    std::fs::write(c.path("known_hosts"), line).unwrap();
    // --accept-new never overrides a changed key.
    let (code, out, err) = c.plan(&inv, &["--accept-new"]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    let expected = support::fingerprint(&other.with_extension("pub"));
    let actual = c.hosts[0].fingerprint();
    assert!(
        err.contains(&format!(
            "HOST KEY CHANGED — expected {expected}, got {actual}"
        )),
        "{err}"
    );
}

#[test]
fn pinned_fingerprint_mismatch_names_both_fingerprints() {
    let c = Cluster::start(2, 2);
    let wrong = c.path("wrong_key");
    keygen(&wrong);
    let wrong_fp = support::fingerprint(&wrong.with_extension("pub"));
    let right_fp = c.hosts[0].fingerprint();
    // Host 0 pins the right key, host 1 a wrong one.
    let pins = [right_fp.clone(), wrong_fp.clone()];
    let inv = c.inventory(&|i| format!(", ssh: {{ host_key: \"{}\" }}", pins[i]));
    let (code, out, err) = c.plan(&inv, &[]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    let actual = c.hosts[1].fingerprint();
    assert!(
        err.contains(&format!(
            "host h2: HOST KEY CHANGED — expected {wrong_fp}, got {actual}"
        )),
        "{err}"
    );
    assert!(err.contains("1 host(s) failed"), "{err}");
}

#[test]
fn unreachable_hosts_fail_with_a_clear_message_in_bounded_time() {
    let mut c = Cluster::start(2, 2);
    c.hosts[1].stop_sshd();
    // A "host" that accepts TCP but never speaks SSH: only the connect timeout ends the wait.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let inv = c.inventory(&no_extra);
    let text = std::fs::read_to_string(&inv).unwrap().replace(
        "hosts:\n",
        &format!(
            "hosts:\n  - {{ name: h9, address: 127.0.0.1, ssh: {{ port: {silent_port} }}, drives: [/x1, /x2] }}\n"
        ),
    );
    std::fs::write(&inv, text).unwrap();
    let (code, out, err) = c.plan(&inv, &["--accept-new", "--connect-timeout-secs", "2"]);
    drop(silent);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("2 host(s) failed"), "{err}");
    let addr = &c.hosts[1].address;
    assert!(
        err.contains(&format!(
            "host h2: cannot connect to {addr}:22: Connection refused"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "host h9: no SSH session with 127.0.0.1:{silent_port} within 2s"
        )),
        "{err}"
    );
}

#[test]
fn status_reports_each_host() {
    let c = Cluster::start(2, 1);
    let inv = c.inventory(&no_extra);
    let state = c.path("state");
    let out = provision(
        &[
            "status",
            inv.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--accept-new",
        ],
        RUN_LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for h in &c.hosts {
        assert!(
            stdout.contains(&format!(
                "{} ({}): reachable, not installed, no service",
                h.name, h.address
            )),
            "{stdout}"
        );
    }
}

fn stage(c: &Cluster, inv: &Path) -> (i32, String, String) {
    let state = c.path("state");
    let out = provision(
        &[
            "stage",
            inv.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--accept-new",
        ],
        RUN_LIMIT,
    );
    let (stdout, stderr) = texts(&out);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn stage_installs_over_sftp_then_changes_nothing_and_keeps_the_previous_binary() {
    use std::os::unix::fs::PermissionsExt;
    let c = Cluster::start(2, 2);
    let inv = c.inventory(&no_extra);

    let (code, out, err) = stage(&c, &inv);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    for h in &c.hosts {
        for what in [
            "install binary",
            "write configuration",
            "install the cluster RPC secret",
            "install the root password",
            "install start script",
            "make drive directories",
        ] {
            assert!(out.contains(&format!("host {}: {what}", h.name)), "{out}");
        }
    }
    assert!(out.contains("stage: 14 change(s) made"), "{out}");
    let kept = std::fs::read_to_string(c.path("state/rpc.secret")).unwrap();
    assert_eq!(kept.trim().len(), 64, "{kept}");
    let original = std::fs::read("/bin/true").unwrap();
    for h in &c.hosts {
        let (opt, etc) = (h.private_dir(0), h.private_dir(1));
        let current = std::fs::read_link(opt.join("bin/current")).unwrap();
        assert!(
            current.to_str().unwrap().starts_with("rustfs-"),
            "{current:?}"
        );
        assert_eq!(std::fs::read(opt.join("bin/current")).unwrap(), original);
        let env = etc.join("rustfs.env");
        assert_eq!(
            std::fs::metadata(&env).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let text = std::fs::read_to_string(&env).unwrap();
        for other in &c.hosts {
            assert!(
                text.contains(&format!("http://{}:9000", other.address)),
                "{text}"
            );
        }
        // The secret (0600, the node's user's) is the state's, and the env file names it.
        let secret = etc.join("rpc.secret");
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), kept);
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&secret).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.uid(), service_uid());
        let on_host = c.path("etc/rpc.secret");
        assert!(
            text.contains(&format!("RUSTFS_RPC_SECRET_FILE='{}'", on_host.display())),
            "{text}"
        );
        // Drives: 0700, the node's user's.
        for d in &h.drives {
            let meta = std::fs::metadata(d).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{d:?}");
            assert_eq!(meta.uid(), service_uid(), "{d:?}");
        }
        let ctl = std::fs::metadata(opt.join("bin/rustfs-ctl")).unwrap();
        assert_eq!(ctl.permissions().mode() & 0o777, 0o755);
        let script = std::fs::read_to_string(opt.join("bin/rustfs-ctl")).unwrap();
        assert!(script.contains("RUSTFS_RUN_AS=rustfs"), "{script}");
        // Nothing else leaked into the host's directories (temp names are renamed away).
        let mut bin: Vec<String> = std::fs::read_dir(opt.join("bin"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        bin.sort();
        assert_eq!(bin.len(), 4, "{bin:?}");
        let verbs = std::fs::metadata(opt.join("bin/rustfs-upgrade")).unwrap();
        assert_eq!(verbs.permissions().mode() & 0o777, 0o755);
    }

    // Only what staging does not do is left in the plan.
    let (code, out, err) = c.plan(&inv, &[]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        !out.contains("install binary") && !out.contains("configuration"),
        "{out}"
    );
    assert!(!out.contains("start script"), "{out}");
    assert!(
        !out.contains("RPC secret") && !out.contains("drive directories"),
        "{out}"
    );
    assert!(out.contains("plan: 4 change(s) on 2 host(s)"), "{out}");

    // A second stage touches nothing.
    let (code, out, err) = stage(&c, &inv);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("stage: no changes"), "{out}");

    // A new binary and a new port: both re-staged, the old binary kept as `previous`.
    let old_target = std::fs::read_link(c.hosts[0].private_dir(0).join("bin/current")).unwrap();
    std::fs::copy("/bin/false", c.path("rustfs")).unwrap();
    let text = std::fs::read_to_string(&inv).unwrap() + "ports: { s3: 9100, console: 9101 }\n";
    std::fs::write(&inv, text).unwrap();
    let (code, out, err) = stage(&c, &inv);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains(&format!("(keeping {})", old_target.display())),
        "{out}"
    );
    assert!(out.contains("rewrite configuration"), "{out}");
    assert!(!out.contains("start script"), "{out}");
    for h in &c.hosts {
        let opt = h.private_dir(0);
        assert_eq!(
            std::fs::read_link(opt.join("bin/previous")).unwrap(),
            old_target
        );
        assert_eq!(
            std::fs::read(opt.join("bin/current")).unwrap(),
            std::fs::read("/bin/false").unwrap()
        );
        let env = std::fs::read_to_string(h.private_dir(1).join("rustfs.env")).unwrap();
        assert!(env.contains("RUSTFS_ADDRESS=':9100'"), "{env}");
    }
}

#[test]
fn non_root_users_work_through_sudo_and_a_refusal_is_explained() {
    let c = Cluster::start_with(2, 2, &|i| Some(i == 0));
    let user = support::OPERATOR;
    let inv = c.inventory(&|_| format!(", ssh: {{ user: {user} }}"));
    let (code, out, err) = c.plan(&inv, &["--accept-new"]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("1 host(s) failed"), "{err}");
    assert!(
        err.contains("host h2: sudo -n was refused (sudo: a password is required)")
            && err.contains("allow passwordless sudo (NOPASSWD) for this user or connect as root"),
        "{err}"
    );

    // Only the host where the operator may sudo: facts and staging run as root through sudo.
    let text = std::fs::read_to_string(&inv).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.contains("name: h2"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&inv, text).unwrap();
    let (code, out, err) = stage(&c, &inv);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("stage: 7 change(s) made"), "{out}");
    let opt = c.hosts[0].private_dir(0);
    let meta = std::fs::symlink_metadata(opt.join("bin/current")).unwrap();
    assert!(meta.file_type().is_symlink());
    use std::os::unix::fs::MetadataExt;
    // Installed by root (through sudo), not by the login user.
    assert_eq!(std::fs::metadata(opt.join("bin/current")).unwrap().uid(), 0);
}

#[test]
fn stage_with_tls_installs_ca_signed_node_certificates_once() {
    let c = Cluster::start(2, 1);
    let inv = c.inventory_tls(&no_extra, true);

    let (code, out, err) = c.plan(&inv, &["--accept-new"]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("install TLS certificate, key and cluster CA in"),
        "{out}"
    );
    assert!(
        !c.path("state/ca/ca.pem").exists(),
        "plan must not create the CA"
    );

    let (code, out, err) = stage(&c, &inv);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("stage: 16 change(s) made"), "{out}");
    let ca = c.path("state/ca/ca.pem");
    for h in &c.hosts {
        let tls = h.private_dir(1).join("tls");
        // The node's certificate chains to the cluster CA and names the node's address.
        let verify = std::process::Command::new("openssl")
            .args([
                "verify",
                "-purpose",
                "sslserver",
                "-verify_ip",
                &h.address,
                "-CAfile",
            ])
            .arg(&ca)
            .arg(tls.join("node.crt"))
            .output()
            .expect("openssl is missing: apt-get install openssl");
        assert!(
            verify.status.success(),
            "{}",
            String::from_utf8_lossy(&verify.stderr)
        );
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let key = std::fs::metadata(tls.join("node.key")).unwrap();
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
        assert_eq!(key.uid(), service_uid(), "the key is the node's user's");
        let env = std::fs::read_to_string(h.private_dir(1).join("rustfs.env")).unwrap();
        assert!(
            env.contains(&format!("https://{}:9000", h.address)),
            "{env}"
        );
    }

    let (code, out, err) = stage(&c, &inv);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("stage: no changes"), "{out}");
    let (code, out, _) = c.plan(&inv, &[]);
    assert_eq!(code, 2);
    assert!(!out.contains("TLS certificate"), "{out}");
}
