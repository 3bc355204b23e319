//! The `rustfs-controlplane` binary as the provisioner and operators start it: HTTPS from
//! `--tls-cert` plus `RUSTFS_CP_TLS_KEY` (the `endpoint:` line says `https://`), one of the two
//! alone refused at start naming the other, and the warning about plain HTTP on an address
//! other than loopback (and its absence on loopback or with TLS).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::pki::Ca;

const BOUND: Duration = Duration::from_secs(30);

/// A started `rustfs-controlplane serve`, killed on drop; its stdout and stderr lines.
struct Proc {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

fn lines(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

impl Proc {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rustfs-controlplane"));
        cmd.arg("serve").args(args);
        // only what the test sets
        for (k, _) in std::env::vars() {
            if k.starts_with("RUSTFS_CP_") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd
            .envs(env.iter().copied())
            .env("RUSTFS_CP_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        Proc {
            child,
            stdout,
            stderr,
        }
    }

    /// The URL of the `endpoint:` line.
    fn endpoint(&self) -> String {
        let line = self
            .stdout
            .recv_timeout(BOUND)
            .expect("an endpoint line on stdout");
        line.strip_prefix("endpoint: ").unwrap().to_string()
    }

    /// stderr up to and including the first line containing `marker`.
    fn stderr_until(&self, marker: &str) -> String {
        let deadline = Instant::now() + BOUND;
        let mut seen = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    seen.push_str(&line);
                    seen.push('\n');
                    if line.contains(marker) {
                        return seen;
                    }
                }
                Err(_) => panic!("no {marker:?} on stderr within {BOUND:?}; saw:\n{seen}"),
            }
        }
    }

    /// All of stdout and stderr, for a process that has exited (the reader threads end at EOF).
    fn output(&self) -> (String, String) {
        let drain = |rx: &mpsc::Receiver<String>| {
            let mut all = Vec::new();
            while let Ok(line) = rx.recv_timeout(BOUND) {
                all.push(line);
            }
            all.join("\n")
        };
        (drain(&self.stdout), drain(&self.stderr))
    }

    /// The exit code, for a process expected to stop by itself.
    fn exit_code(&mut self) -> i32 {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the process did not exit");
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PLAIN_WARNING: &str = "serving plain HTTP on a non-loopback address";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_from_a_flag_and_an_env_var() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("cluster CA");
    let (cert, key) = ca.server_files(dir.path());
    let db = dir.path().join("cp.db");
    // on every address, so the plain-HTTP warning would show if TLS were not on
    let p = Proc::start(
        &[
            "--listen",
            "0.0.0.0:0",
            "--db",
            db.to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
        ],
        &[("RUSTFS_CP_TLS_KEY", key.to_str().unwrap())],
    );
    let endpoint = p.endpoint();
    let port = endpoint
        .strip_prefix("https://0.0.0.0:")
        .unwrap_or_else(|| panic!("{endpoint}"));
    let log = p.stderr_until("control plane serving");
    assert!(!log.contains(PLAIN_WARNING), "{log}");
    let token = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();
    let r = ca
        .client()
        .get(format!("https://127.0.0.1:{port}/v1/clusters"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn a_certificate_without_its_key_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cp.db");
    let mut p = Proc::start(
        &["--listen", "127.0.0.1:0", "--db", db.to_str().unwrap()],
        &[("RUSTFS_CP_TLS_CERT", "/nonexistent/cert.pem")],
    );
    assert_ne!(p.exit_code(), 0);
    let (_, log) = p.output();
    assert!(
        log.contains("--tls-cert is set but --tls-key is not"),
        "{log}"
    );
    assert!(
        !db.exists(),
        "nothing is created before the settings are valid"
    );
    // a key that does not fit the certificate is refused too, naming both files
    let ca = Ca::new("cluster CA");
    let (cert, _) = ca.server_files(dir.path());
    let other = tempfile::tempdir().unwrap();
    let (_, wrong_key) = ca.server_files(other.path());
    let mut p = Proc::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--db",
            db.to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            wrong_key.to_str().unwrap(),
        ],
        &[],
    );
    assert_ne!(p.exit_code(), 0);
    let (out, log) = p.output();
    assert!(log.contains("cannot serve the certificate"), "{log}");
    assert!(!out.contains("endpoint:"), "no endpoint announced: {out}");
}

#[test]
fn plain_http_warns_unless_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cp.db");
    let public = Proc::start(
        &["--listen", "0.0.0.0:0", "--db", db.to_str().unwrap()],
        &[],
    );
    assert!(public.endpoint().starts_with("http://0.0.0.0:"));
    let log = public.stderr_until("control plane serving");
    assert!(log.contains(PLAIN_WARNING), "{log}");
    assert!(log.contains("--tls-cert"), "{log}");
    drop(public);
    let local = Proc::start(
        &["--listen", "127.0.0.1:0", "--db", db.to_str().unwrap()],
        &[],
    );
    assert!(local.endpoint().starts_with("http://127.0.0.1:"));
    let log = local.stderr_until("control plane serving");
    assert!(!log.contains(PLAIN_WARNING), "{log}");
}
