//! The `rustfs-provision` binary's offline commands: init, validate, ca.

mod support;

use std::time::Duration;

use support::{provision, texts};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn init_writes_a_template_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory.yaml");
    let p = path.to_str().unwrap();
    let out = provision(&["init", p], LIMIT);
    assert!(out.status.success(), "{:?}", texts(&out));
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with("# RustFS cluster inventory"));
    std::fs::write(&path, "mine").unwrap();
    let out = provision(&["init", p], LIMIT);
    assert_eq!(out.status.code(), Some(1));
    assert!(texts(&out)
        .1
        .contains("already exists — refusing to overwrite it"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
}

#[test]
fn validate_lists_every_problem_with_its_field_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rustfs"), "bin").unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(
        &path,
        "version: 1\ncluster: { name: demo }\nbinary: { path: ./rustfs }\n\
         hosts:\n\
         \x20 - { address: 127.0.0.2, connection: local, drives: [/d1, /d2] }\n\
         \x20 - { address: 127.0.0.3, connection: local, drives: [/d1, /d2] }\n\
         \x20 - { address: 127.0.0.4, connection: local, drives: [d1, /d2] }\n\
         \x20 - { address: 127.0.0.2, connection: local, drives: [/d1, /d2] }\n\
         storage_class: EC:3\nports: { s3: 70000 }\n\
         credentials: { user: '${PROVISION_TEST_NEVER_SET}', password: password123 }\n",
    )
    .unwrap();
    let out = provision(&["validate", path.to_str().unwrap()], LIMIT);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for want in [
        "5 problem(s) in the inventory",
        "credentials.user: environment variable PROVISION_TEST_NEVER_SET is not set",
        "hosts[2].drives[0]: must be an absolute path",
        "hosts[3].address: duplicate address 127.0.0.2 (also hosts[0])",
        "ports.s3: 70000 is out of range 1..=65535",
        "storage_class: EC:3 exceeds half of the erasure sets of 4 drives in the pool (at most EC:2)",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
}

#[test]
fn validate_accepts_a_good_inventory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rustfs"), "bin").unwrap();
    let path = dir.path().join("good.yaml");
    std::fs::write(
        &path,
        "version: 1\ncluster: { name: demo }\nbinary: { path: ./rustfs }\nhosts:\n\
         \x20 - { address: 127.0.0.2, connection: local, drives: [/d1, /d2] }\n\
         \x20 - { address: 127.0.0.3, connection: local, drives: [/d1, /d2] }\n\
         credentials: { user: admin, password: password123 }\n",
    )
    .unwrap();
    let out = provision(&["validate", path.to_str().unwrap()], LIMIT);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("valid — cluster demo, 2 host(s), 4 drive(s), 1 pool(s)"));
    assert!(!stdout.contains("password123") && !stderr.contains("password123"));
    // TLS is on by default: nothing to warn about.
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn validate_refuses_a_borrowed_cluster_address_and_warns_about_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rustfs"), "bin").unwrap();
    std::fs::write(dir.path().join("id"), "key").unwrap();
    let path = dir.path().join("net.yaml");
    let write = |second: &str| {
        std::fs::write(
            &path,
            format!(
                "version: 1\ncluster: {{ name: demo }}\nbinary: {{ path: ./rustfs }}\n\
                 ssh: {{ key: ./id }}\nhosts:\n\
                 \x20 - {{ address: 10.0.0.1, cluster_address: 10.1.0.1, drives: [/d1, /d2] }}\n\
                 \x20 - {{ address: 10.0.0.2, cluster_address: {second}, drives: [/d1, /d2] }}\n\
                 credentials: {{ user: admin, password: password123 }}\ntls: false\n"
            ),
        )
        .unwrap()
    };
    write("10.0.0.1");
    let out = provision(&["validate", path.to_str().unwrap()], LIMIT);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("hosts[1].cluster_address: 10.0.0.1 is the address of hosts[0] (10.0.0.1): a cluster address must be this host's own address on the cluster network"),
        "{err}"
    );
    write("10.1.0.2");
    let out = provision(&["validate", path.to_str().unwrap()], LIMIT);
    let (stdout, err) = texts(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        stdout.contains("valid — cluster demo, 2 host(s)"),
        "{stdout}"
    );
    assert!(
        err.contains("warning: tls: false — S3 requests and data, and inter-node RPC, cross the network in plaintext"),
        "{err}"
    );
}

#[test]
fn ca_is_created_once_in_the_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rustfs"), "bin").unwrap();
    let path = dir.path().join("inv.yaml");
    std::fs::write(
        &path,
        "version: 1\ncluster: { name: demo }\nbinary: { path: ./rustfs }\nhosts:\n\
         \x20 - { address: 127.0.0.2, connection: local, drives: [/d1, /d2] }\n\
         credentials: { user: admin, password: password123 }\n",
    )
    .unwrap();
    let state = dir.path().join("state");
    let args = [
        "ca",
        path.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
    ];
    let first = provision(&args, LIMIT);
    let (out1, err1) = texts(&first);
    assert!(first.status.success(), "{err1}");
    assert!(out1.starts_with("cluster CA created"), "{out1}");
    let pem = std::fs::read_to_string(state.join("ca/ca.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let second = provision(&args, LIMIT);
    let (out2, _) = texts(&second);
    assert!(out2.starts_with("cluster CA exists"), "{out2}");
    // Same CA: the fingerprint after "sha256" is unchanged.
    assert_eq!(out1.rsplit("sha256").next(), out2.rsplit("sha256").next());
    assert_eq!(
        std::fs::read_to_string(state.join("ca/ca.pem")).unwrap(),
        pem
    );
}

#[test]
fn local_connection_plans_and_stages_without_ssh() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    std::fs::copy("/bin/true", dir.path().join("rustfs")).unwrap();
    for d in ["d1", "d2"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let path = dir.path().join("local.yaml");
    std::fs::write(
        &path,
        format!(
            "version: 1\ncluster: {{ name: local }}\nbinary: {{ path: ./rustfs }}\nhosts:\n\
             \x20 - {{ name: l1, address: 127.0.0.1, connection: local, drives: [{root}/d1, {root}/d2] }}\n\
             credentials: {{ user: admin, password: password123 }}\n\
             ports: {{ s3: 1, console: 2 }}\n\
             install_dir: {root}/opt\nconfig_dir: {root}/etc\n"
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let run = |verb: &str| {
        let out = provision(
            &[
                verb,
                path.to_str().unwrap(),
                "--state-dir",
                state.to_str().unwrap(),
            ],
            LIMIT,
        );
        let (stdout, stderr) = texts(&out);
        (out.status.code(), stdout, stderr)
    };
    let (code, out, err) = run("plan");
    assert_eq!(code, Some(2), "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("host l1 (127.0.0.1)"), "{out}");
    // Binary, env file, TLS certificates (on by default), RPC secret, root password, start
    // script, upgrade verbs, drives made private, format, start.
    assert!(out.contains("plan: 10 change(s) on 1 host(s)"), "{out}");
    let (code, out, err) = run("stage");
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("stage: 8 change(s) made"), "{out}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("etc/l1/rpc.secret")), 0o600);
    assert_eq!(mode(&dir.path().join("d1")), 0o700);
    // Local hosts get install_dir/NAME of their own.
    assert!(dir.path().join("opt/l1/bin/current").exists());
    let (code, out, _) = run("stage");
    assert_eq!(code, Some(0));
    assert!(out.contains("stage: no changes"), "{out}");
}

/// Serves `body` to every request on 127.0.0.1 (a thread, until the test ends); the base URL.
fn serve(body: Vec<u8>) -> String {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let _ = s.read(&mut [0u8; 4096]);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    url
}

#[test]
fn binary_url_is_downloaded_checked_and_staged() {
    use sha2::{Digest, Sha256};
    let body = std::fs::read("/bin/true").unwrap();
    let sha = hex::encode(Sha256::digest(&body));
    let url = serve(body.clone());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    let inventory = |sha: &str, name: &str| {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!(
                "version: 1\ncluster: {{ name: {name} }}\n\
                 binary: {{ url: \"{url}/rustfs\", sha256: \"{sha}\" }}\nhosts:\n\
                 \x20 - {{ name: l1, address: 127.0.0.1, connection: local, drives: [{root}/{name}/d1, {root}/{name}/d2] }}\n\
                 credentials: {{ user: admin, password: password123 }}\n\
                 ports: {{ s3: 1, console: 2 }}\n\
                 install_dir: {root}/{name}/opt\nconfig_dir: {root}/{name}/etc\n"
            ),
        )
        .unwrap();
        path
    };
    let stage = |path: &std::path::Path, state: &str| {
        let out = provision(
            &["stage", path.to_str().unwrap(), "--state-dir", state],
            LIMIT,
        );
        let (stdout, stderr) = texts(&out);
        (out.status.code(), stdout, stderr)
    };
    let state = format!("{root}/state");
    let (code, out, err) = stage(&inventory(&sha, "good"), &state);
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(
        std::fs::read(format!("{state}/binaries/{sha}")).unwrap(),
        body,
        "kept in the state directory"
    );
    assert_eq!(
        std::fs::read(format!("{root}/good/opt/l1/bin/current")).unwrap(),
        body,
        "staged on the host"
    );
    // A hash that does not match stops the run before the host is touched.
    let wrong = "0".repeat(64);
    let (code, _, err) = stage(&inventory(&wrong, "bad"), &format!("{root}/state-bad"));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&sha) && err.contains(&wrong) && err.contains("nothing was kept"),
        "{err}"
    );
    assert!(!dir.path().join("bad/opt").exists());
}
