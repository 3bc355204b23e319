//! The upgrade verbs of one host: `bin/rustfs-upgrade`, a script the provisioner renders and
//! installs (its verbs are listed in it). The control plane reaches it through its deploy key,
//! whose login can run nothing else ([`HostConn::connect_forced`]); on a local host, or with an
//! operator's login, it runs the script directly. Every argument is checked by the script too.

use std::path::Path;

use crate::error::{Error, Result};
use crate::exec::{HostConn, Output, Stdin};
use crate::paths::HostPaths;

/// What `status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostStatus {
    /// The version `bin/current` points at (`None`: nothing installed).
    pub current: Option<String>,
    /// The version `bin/previous` points at, kept for rollback.
    pub previous: Option<String>,
    /// The node's service is running.
    pub active: bool,
    /// Free bytes where binaries are staged.
    pub free_bytes: u64,
}

/// The node's service, as the verbs drive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceVerb {
    Start,
    /// Stops it; the node drains first (`--shutdown-drain-secs`).
    Stop,
    Restart,
}

/// The upgrade verbs on the host of `conn`.
pub struct UpgradeVerbs<'a> {
    conn: &'a HostConn,
    script: String,
}

impl<'a> UpgradeVerbs<'a> {
    pub fn new(conn: &'a HostConn, paths: &HostPaths) -> Self {
        UpgradeVerbs {
            conn,
            script: paths.upgrade_helper(),
        }
    }

    async fn call(&self, what: &str, args: &[&str], stdin: Stdin<'_>) -> Result<Output> {
        let out = self.conn.invoke(&self.script, args, stdin).await?;
        if out.status != 0 {
            let detail = out.stderr.trim();
            let hint = if out.status == 127 || detail.contains("not found") {
                " — is bin/rustfs-upgrade installed? (rustfs-provision apply installs it)"
            } else {
                ""
            };
            return Err(Error::host(
                &self.conn.label,
                format!("{what} failed (exit {}): {detail}{hint}", out.status),
            ));
        }
        Ok(out)
    }

    /// What is installed and whether the node runs.
    pub async fn status(&self) -> Result<HostStatus> {
        let out = self
            .call("reading the install", &["status"], Stdin::None)
            .await?;
        parse_status(&out.stdout).map_err(|m| {
            Error::host(
                &self.conn.label,
                format!("unexpected status answer ({m}): {}", out.stdout.trim()),
            )
        })
    }

    /// Whether `version` is staged with sha256 `sha256`.
    pub async fn has(&self, version: &str, sha256: &str) -> Result<bool> {
        let out = self
            .conn
            .invoke(&self.script, &["has", version, sha256], Stdin::None)
            .await?;
        match out.status {
            0 => Ok(true),
            1 => Ok(false),
            code => Err(Error::host(
                &self.conn.label,
                format!(
                    "checking for {version} failed (exit {code}): {}",
                    out.stderr.trim()
                ),
            )),
        }
    }

    /// Streams `binary` to the host as `bin/rustfs-VERSION`; the host keeps it only if its
    /// sha256 is `sha256`. Nothing restarts.
    pub async fn stage(&self, version: &str, sha256: &str, binary: &Path) -> Result<()> {
        let what = format!("staging {version}");
        self.call(&what, &["stage", version, sha256], Stdin::File(binary))
            .await
            .map(drop)
    }

    /// Points `bin/current` at `version` (staged before); the version it pointed at becomes
    /// `bin/previous`. Takes effect at the next start.
    pub async fn switch(&self, version: &str) -> Result<()> {
        let what = format!("switching to {version}");
        self.call(&what, &["switch", version], Stdin::None)
            .await
            .map(drop)
    }

    pub async fn service(&self, verb: ServiceVerb) -> Result<()> {
        let (arg, what) = match verb {
            ServiceVerb::Start => ("start", "starting the node"),
            ServiceVerb::Stop => ("stop", "stopping the node"),
            ServiceVerb::Restart => ("restart", "restarting the node"),
        };
        self.call(what, &[arg], Stdin::None).await.map(drop)
    }

    /// The node's last `lines` log lines (1–1000), for an operator reading why it failed.
    pub async fn logs(&self, lines: u32) -> Result<String> {
        let n = lines.clamp(1, 1000).to_string();
        let out = self
            .call("reading the node's log", &["logs", &n], Stdin::None)
            .await?;
        Ok(out.stdout)
    }
}

fn parse_status(text: &str) -> std::result::Result<HostStatus, String> {
    let mut s = HostStatus {
        current: None,
        previous: None,
        active: false,
        free_bytes: 0,
    };
    let mut seen = 0;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let version = (!value.is_empty()).then(|| value.to_string());
        match key {
            "current" => s.current = version,
            "previous" => s.previous = version,
            "active" => s.active = value == "1",
            "free_kb" => {
                let kb: u64 = value
                    .parse()
                    .map_err(|_| format!("free_kb {value:?} is not a number"))?;
                s.free_bytes = kb.saturating_mul(1024);
            }
            _ => continue,
        }
        seen += 1;
    }
    if seen < 4 {
        return Err("missing fields".into());
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read_and_a_short_answer_refused() {
        let s = parse_status("current=2.0\nprevious=1.0\nactive=1\nfree_kb=4\n").unwrap();
        assert_eq!(s.current.as_deref(), Some("2.0"));
        assert_eq!(s.previous.as_deref(), Some("1.0"));
        assert!(s.active);
        assert_eq!(s.free_bytes, 4096);
        let s = parse_status("current=\nprevious=\nactive=0\nfree_kb=0\n").unwrap();
        assert_eq!((s.current, s.previous, s.active), (None, None, false));
        assert!(parse_status("current=2.0\n").is_err());
        assert!(parse_status("current=\nprevious=\nactive=0\nfree_kb=5.8e+10\n").is_err());
    }
}
