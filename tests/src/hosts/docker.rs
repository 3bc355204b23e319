//! The Docker CLI as the test hosts use it: one call per operation, every failure with the
//! command and its stderr; the host image (built by `scripts/test-host-image.sh`); and the labels
//! that mark what this harness created, so a test process that died without cleaning up has its
//! leftovers removed by the next one (only resources carrying the label of a dead process).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Label on every container and network the harness creates; its value is the creating pid.
pub const OWNER_LABEL: &str = "rustfs-test-hosts.owner";

/// Runs `docker ARGS`; stdout on success, else the command and its stderr.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run docker: {e} — install docker.io and start dockerd"))?;
    check(args, out)
}

/// Like [`docker`], panicking on failure.
pub fn docker_ok(args: &[&str]) -> String {
    docker(args).unwrap_or_else(|e| panic!("{e}"))
}

fn check(args: &[&str], out: Output) -> Result<String, String> {
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "docker {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `docker exec CONTAINER sh -c SCRIPT`, with its full output (success or not).
pub fn exec(container: &str, script: &str) -> Output {
    Command::new("docker")
        .args(["exec", container, "sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker exec: {e}"))
}

/// The script that builds the host image and prints its tag.
pub fn image_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/test-host-image.sh")
}

/// The host image's tag, built on first use in this process (a few minutes, once per recipe;
/// afterwards the cached image is found at once).
pub fn image() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let script = image_script();
        let out = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed ({}): see its output above",
            script.display(),
            out.status
        );
        let tag = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            tag.starts_with("rustfs-test-host:"),
            "unexpected tag {tag:?}"
        );
        tag
    })
}

/// Fails with what is missing unless a Docker daemon answers.
pub fn require_docker() {
    if let Err(e) = docker(&["version", "--format", "{{.Server.Version}}"]) {
        panic!("container test hosts need a running Docker daemon: {e}");
    }
}

/// Removes containers and networks left by test processes of this harness that no longer run.
pub fn reap_stale() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let filter = format!("label={OWNER_LABEL}");
        let fmt = format!("{{{{.ID}}}} {{{{.Label \"{OWNER_LABEL}\"}}}}");
        let dead = |listing: String| -> Vec<String> {
            listing
                .lines()
                .filter_map(|l| l.split_once(' '))
                .filter(|(_, pid)| !std::path::Path::new(&format!("/proc/{pid}")).exists())
                .map(|(id, _)| id.to_string())
                .collect()
        };
        if let Ok(list) = docker(&["ps", "-a", "--filter", &filter, "--format", &fmt]) {
            for id in dead(list) {
                let _ = docker(&["rm", "-f", "-v", &id]);
            }
        }
        if let Ok(list) = docker(&["network", "ls", "--filter", &filter, "--format", &fmt]) {
            for id in dead(list) {
                let _ = docker(&["network", "rm", &id]);
            }
        }
    });
}
