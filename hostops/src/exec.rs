//! Running commands on a host, whichever way it is reached: over SSH, or on this machine for
//! `connection: local`. Non-root SSH users run privileged commands through `sudo -n`, which is
//! probed once at connect time so a refusal is reported clearly instead of hanging on a prompt.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};
use crate::hostkeys::HostKeyPolicy;
use crate::ssh::{SshOptions, SshSession};
use crate::target::{Target, Via};

/// What a finished command left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub status: u32,
    pub stdout: String,
    pub stderr: String,
}

/// What to upload: a local file (streamed) or bytes (which may be secret: `Debug` shows only
/// their length).
#[derive(Clone)]
pub enum Payload {
    File(std::path::PathBuf),
    Bytes(Vec<u8>),
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Payload::File(p) => f.debug_tuple("File").field(p).finish(),
            Payload::Bytes(b) => write!(f, "Bytes(<{} bytes>)", b.len()),
        }
    }
}

/// Quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

enum Transport {
    Ssh(Box<SshSession>),
    Local,
}

/// What a command reads on its standard input.
#[derive(Debug, Clone, Copy)]
pub enum Stdin<'a> {
    None,
    Bytes(&'a [u8]),
    /// Streamed from this local file, never held in memory whole.
    File(&'a std::path::Path),
}

/// A connection to one host that runs shell commands.
pub struct HostConn {
    /// The host's display name.
    pub label: String,
    transport: Transport,
    /// Privileged commands go through `sudo -n`.
    sudo: bool,
    /// Logged in with a key whose `authorized_keys` line forces one command: the command line
    /// sent is only that command's argument list ([`HostConn::connect_forced`]).
    forced: bool,
    command_timeout: Duration,
}

impl std::fmt::Debug for HostConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostConn")
            .field("label", &self.label)
            .field("sudo", &self.sudo)
            .finish_non_exhaustive()
    }
}

impl HostConn {
    /// Connects to `target` (SSH or local) and checks that privileged commands can run.
    pub async fn connect(
        target: &Target,
        policy: &HostKeyPolicy,
        opts: SshOptions,
    ) -> Result<HostConn> {
        let label = target.name.clone();
        let (transport, sudo) = match &target.via {
            Via::Local => (Transport::Local, false),
            Via::Ssh(ssh) => {
                let session = SshSession::connect(&label, ssh, policy, opts).await?;
                (Transport::Ssh(Box::new(session)), ssh.user != "root")
            }
        };
        let conn = HostConn {
            label,
            transport,
            sudo,
            forced: false,
            command_timeout: opts.command_timeout,
        };
        if conn.sudo {
            conn.check_sudo().await?;
        }
        Ok(conn)
    }

    /// Connects with a key that may run one forced command (the control plane's deploy key): no
    /// shell and no sudo probe; only [`HostConn::invoke`] works on such a connection. A local
    /// target is driven as by [`HostConn::connect`].
    pub async fn connect_forced(
        target: &Target,
        policy: &HostKeyPolicy,
        opts: SshOptions,
    ) -> Result<HostConn> {
        let Via::Ssh(ssh) = &target.via else {
            return HostConn::connect(target, policy, opts).await;
        };
        let session = SshSession::connect(&target.name, ssh, policy, opts).await?;
        Ok(HostConn {
            label: target.name.clone(),
            transport: Transport::Ssh(Box::new(session)),
            sudo: false,
            forced: true,
            command_timeout: opts.command_timeout,
        })
    }

    /// Runs `program ARGS…` as root with `stdin`. On a forced-command connection the host runs
    /// its forced command (which must be `program`) and receives `ARGS…` as its command line;
    /// arguments are then words without spaces or quotes, which the program checks.
    pub async fn invoke(&self, program: &str, args: &[&str], stdin: Stdin<'_>) -> Result<Output> {
        if self.forced {
            if let Some(bad) = args.iter().find(|a| {
                a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"\\".contains(c))
            }) {
                return Err(Error::host(
                    &self.label,
                    format!("argument {bad:?} cannot travel on a forced-command login"),
                ));
            }
            return self.run_raw(&args.join(" "), stdin).await;
        }
        let mut cmd = shell_quote(program);
        for a in args {
            cmd.push(' ');
            cmd.push_str(&shell_quote(a));
        }
        if self.sudo {
            cmd = format!("sudo -n {cmd}");
        }
        self.run_raw(&cmd, stdin).await
    }

    fn refuse_forced(&self) -> Result<()> {
        if self.forced {
            return Err(Error::host(
                &self.label,
                "this login may only run its forced command (a bug: use invoke)",
            ));
        }
        Ok(())
    }

    /// The fingerprint of the host key checked at connect time (`None`: a local host).
    pub fn host_key(&self) -> Option<&str> {
        match &self.transport {
            Transport::Ssh(s) => Some(&s.host_key),
            Transport::Local => None,
        }
    }

    async fn check_sudo(&self) -> Result<()> {
        let out = self.run_raw("sudo -n true", Stdin::None).await?;
        if out.status == 127 {
            return Err(Error::host(
                &self.label,
                "the login user is not root and sudo is not installed — install sudo (with NOPASSWD for this user) or connect as root",
            ));
        }
        if out.status != 0 {
            return Err(Error::host(
                &self.label,
                format!(
                    "sudo -n was refused ({}) — allow passwordless sudo (NOPASSWD) for this user or connect as root",
                    out.stderr.trim()
                ),
            ));
        }
        Ok(())
    }

    /// Runs `script` with `sh`, as root (through `sudo -n` when needed).
    pub async fn run(&self, script: &str) -> Result<Output> {
        self.refuse_forced()?;
        let cmd = if self.sudo {
            format!("sudo -n sh -c {}", shell_quote(script))
        } else {
            format!("sh -c {}", shell_quote(script))
        };
        self.run_raw(&cmd, Stdin::None).await
    }

    /// Like [`HostConn::run`], but a non-zero exit status is an error naming `what`.
    pub async fn run_checked(&self, what: &str, script: &str) -> Result<Output> {
        let out = self.run(script).await?;
        if out.status != 0 {
            return Err(Error::host(
                &self.label,
                format!(
                    "{what} failed with exit status {}: {}",
                    out.status,
                    out.stderr.trim()
                ),
            ));
        }
        Ok(out)
    }

    async fn run_raw(&self, cmd: &str, stdin: Stdin<'_>) -> Result<Output> {
        match &self.transport {
            Transport::Ssh(s) => s.run(cmd, stdin).await,
            Transport::Local => run_local(&self.label, cmd, stdin, self.command_timeout).await,
        }
    }

    /// Makes a private (0700) temp directory as the login user — writable for uploads without
    /// sudo — and returns its path.
    pub async fn temp_dir(&self) -> Result<String> {
        self.refuse_forced()?;
        let out = self
            .run_raw(
                "mktemp -d \"${TMPDIR:-/tmp}/rustfs-stage.XXXXXX\"",
                Stdin::None,
            )
            .await?;
        let dir = out.stdout.trim().to_string();
        if out.status != 0 || !dir.starts_with('/') {
            return Err(Error::host(
                &self.label,
                format!("cannot make a temp directory: {}", out.stderr.trim()),
            ));
        }
        Ok(dir)
    }

    /// Uploads files into place as the login user (over SFTP, or copied when local).
    pub async fn upload(&self, files: &[(String, Payload)]) -> Result<()> {
        self.refuse_forced()?;
        match &self.transport {
            Transport::Ssh(s) => s.upload(files).await,
            Transport::Local => {
                for (dst, payload) in files {
                    let res = match payload {
                        Payload::File(p) => tokio::fs::copy(p, dst).await.map(|_| ()),
                        Payload::Bytes(b) => tokio::fs::write(dst, b).await,
                    };
                    res.map_err(|e| Error::host(&self.label, format!("cannot write {dst}: {e}")))?;
                }
                Ok(())
            }
        }
    }

    /// Closes the connection.
    pub async fn close(&self) {
        if let Transport::Ssh(s) = &self.transport {
            s.close().await;
        }
    }
}

async fn run_local(label: &str, cmd: &str, stdin: Stdin<'_>, timeout: Duration) -> Result<Output> {
    let err = |m: String| Error::host(label, m);
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| err(format!("cannot start sh: {e}")))?;
    // Input is fed while output is read, so neither side's pipe buffer can stall the other.
    let input = child.stdin.take();
    let feed = async move {
        let Some(mut input) = input else {
            return Ok(());
        };
        match stdin {
            Stdin::None => Ok(()),
            Stdin::Bytes(bytes) => input.write_all(bytes).await,
            Stdin::File(path) => {
                let mut file = tokio::fs::File::open(path).await?;
                tokio::io::copy(&mut file, &mut input).await.map(drop)
            }
        }
    };
    let (fed, out) = tokio::time::timeout(timeout, async {
        tokio::join!(feed, child.wait_with_output())
    })
    .await
    .map_err(|_| {
        err(format!(
            "local command did not finish within {}s",
            timeout.as_secs()
        ))
    })?;
    // A command that exits without reading all its input is judged by its exit status.
    if let Err(e) = fed {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(err(format!("cannot send input: {e}")));
        }
    }
    let out = out.map_err(|e| err(format!("local command failed: {e}")))?;
    let status = out
        .status
        .code()
        .and_then(|c| u32::try_from(c).ok())
        .ok_or_else(|| err("local command was killed by a signal".into()))?;
    Ok(Output {
        status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
        assert_eq!(shell_quote("/d 1"), "'/d 1'");
    }
}
