//! SSH sessions with russh: public-key authentication, strict host keys (see [`crate::hostkeys`]),
//! keepalive, a deadline on connecting and on every command, and exit statuses that are always
//! checked — a command that ends without one is a failure, never a success.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{load_secret_key, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::ChannelMsg;
use tokio::net::TcpStream;

use crate::error::{Error, Result};
use crate::exec::{Output, Stdin};
use crate::hostkeys::{HostKeyPolicy, Trusted};
use crate::target::SshTarget;

/// Deadlines and keepalive of SSH sessions.
#[derive(Debug, Clone, Copy)]
pub struct SshOptions {
    /// TCP connect + key exchange + authentication.
    pub connect_timeout: Duration,
    /// One remote command, from exec to exit status.
    pub command_timeout: Duration,
    /// Keepalive interval; the session is dropped after 3 unanswered keepalives.
    pub keepalive: Duration,
}

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions {
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(120),
            keepalive: Duration::from_secs(15),
        }
    }
}

struct Client {
    label: String,
    target: SshTarget,
    policy: HostKeyPolicy,
    /// The verdict of the host-key check, kept so the caller sees our error, not russh's.
    verdict: Arc<Mutex<Option<Result<Trusted>>>>,
    /// The fingerprint of the key the host presented.
    seen: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> std::result::Result<bool, Self::Error> {
        let key = server_public_key.public_key();
        let verdict = self.policy.verify(
            &self.label,
            &self.target.address,
            self.target.port,
            &key,
            self.target.host_key.as_deref(),
        );
        let ok = verdict.is_ok();
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(crate::hostkeys::fingerprint(&key));
        *self.verdict.lock().unwrap_or_else(|p| p.into_inner()) = Some(verdict);
        Ok(ok)
    }
}

/// An authenticated SSH session to one host.
pub struct SshSession {
    label: String,
    handle: client::Handle<Client>,
    opts: SshOptions,
    /// How the host key was trusted.
    pub trusted: Trusted,
    /// The host key's fingerprint (`SHA256:…`), as checked.
    pub host_key: String,
}

impl std::fmt::Debug for SshSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshSession")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl SshSession {
    /// Connects, checks the host key and authenticates, all within `opts.connect_timeout`.
    pub async fn connect(
        label: &str,
        target: &SshTarget,
        policy: &HostKeyPolicy,
        opts: SshOptions,
    ) -> Result<SshSession> {
        let err = |m: String| Error::host(label, m);
        let key = load_secret_key(&target.key_path, None).map_err(|e| {
            err(format!(
                "cannot load SSH key {}: {e} (passphrase-protected keys are not supported yet)",
                target.key_path.display()
            ))
        })?;
        let verdict = Arc::new(Mutex::new(None));
        let seen = Arc::new(Mutex::new(None));
        let handler = Client {
            label: label.into(),
            target: target.clone(),
            policy: policy.clone(),
            verdict: verdict.clone(),
            seen: seen.clone(),
        };
        let config = Arc::new(client::Config {
            keepalive_interval: Some(opts.keepalive),
            keepalive_max: 3,
            nodelay: true,
            ..Default::default()
        });
        let addr = format!("{}:{}", target.address, target.port);
        let secs = opts.connect_timeout.as_secs_f32();
        let connect = async {
            let stream = TcpStream::connect((target.address.as_str(), target.port))
                .await
                .map_err(|e| err(format!("cannot connect to {addr}: {e}")))?;
            let handshake = client::connect_stream(config, stream, handler).await;
            let mut handle = match handshake {
                Ok(h) => h,
                Err(e) => {
                    let taken = verdict.lock().unwrap_or_else(|p| p.into_inner()).take();
                    return Err(match taken {
                        Some(Err(key_err)) => key_err,
                        _ => err(format!("SSH handshake with {addr} failed: {e}")),
                    });
                }
            };
            let hash = handle
                .best_supported_rsa_hash()
                .await
                .map_err(|e| err(format!("SSH negotiation with {addr} failed: {e}")))?
                .flatten();
            let auth = handle
                .authenticate_publickey(
                    target.user.clone(),
                    PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                )
                .await
                .map_err(|e| err(format!("SSH authentication failed: {e}")))?;
            if !auth.success() {
                return Err(err(format!(
                    "SSH key {} was refused for user {} — add its public key to ~{}/.ssh/authorized_keys",
                    target.key_path.display(),
                    target.user,
                    target.user
                )));
            }
            Ok(handle)
        };
        let handle = tokio::time::timeout(opts.connect_timeout, connect)
            .await
            .map_err(|_| {
                err(format!(
                    "no SSH session with {addr} within {secs}s — is the host up and sshd listening on port {}?",
                    target.port
                ))
            })??;
        let trusted = verdict
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .and_then(|v| v.ok())
            .ok_or_else(|| err("host key was never checked".into()))?;
        let host_key = seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default();
        Ok(SshSession {
            label: label.into(),
            handle,
            opts,
            trusted,
            host_key,
        })
    }

    /// Runs `command` through the remote shell, feeding `stdin`, within the command timeout.
    pub async fn run(&self, command: &str, stdin: Stdin<'_>) -> Result<Output> {
        let err = |m: String| Error::host(&self.label, m);
        let work = async {
            let mut channel = self
                .handle
                .channel_open_session()
                .await
                .map_err(|e| err(format!("cannot open an SSH channel: {e}")))?;
            channel
                .exec(true, command)
                .await
                .map_err(|e| err(format!("cannot start a remote command: {e}")))?;
            let sent = match stdin {
                Stdin::None => Ok(()),
                Stdin::Bytes(bytes) => channel.data(bytes).await,
                Stdin::File(path) => {
                    let file = tokio::fs::File::open(path)
                        .await
                        .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
                    channel.data(file).await
                }
            };
            sent.map_err(|e| err(format!("cannot send input: {e}")))?;
            channel
                .eof()
                .await
                .map_err(|e| err(format!("cannot close input: {e}")))?;
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            let mut status = None;
            let mut signal = None;
            while let Some(msg) = channel.wait().await {
                match msg {
                    ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
                    ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
                    ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                    ChannelMsg::ExitSignal { signal_name, .. } => {
                        signal = Some(format!("{signal_name:?}"))
                    }
                    _ => {}
                }
            }
            let stderr_text = String::from_utf8_lossy(&stderr).into_owned();
            let status = match (status, signal) {
                (Some(s), _) => s,
                (None, Some(sig)) => {
                    return Err(err(format!(
                        "remote command killed by signal {sig}: {}",
                        stderr_text.trim()
                    )))
                }
                (None, None) => {
                    return Err(err(
                        "remote command ended without an exit status (connection lost?) — treating it as failed"
                            .into(),
                    ))
                }
            };
            Ok(Output {
                status,
                stdout: String::from_utf8_lossy(&stdout).into_owned(),
                stderr: stderr_text,
            })
        };
        tokio::time::timeout(self.opts.command_timeout, work)
            .await
            .map_err(|_| {
                err(format!(
                    "remote command did not finish within {}s",
                    self.opts.command_timeout.as_secs()
                ))
            })?
    }

    /// Uploads `files` (`(remote path, source)`) over one SFTP session, within the command
    /// timeout for each file.
    pub async fn upload(&self, files: &[(String, crate::exec::Payload)]) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        let err = |m: String| Error::host(&self.label, m);
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| err(format!("cannot open an SSH channel for SFTP: {e}")))?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|e| err(format!("the host refused the SFTP subsystem: {e}")))?;
        let sftp = russh_sftp::client::SftpSession::new(channel.into_stream())
            .await
            .map_err(|e| err(format!("SFTP session failed: {e}")))?;
        for (remote, payload) in files {
            let work = async {
                let mut dst = sftp
                    .create(remote.as_str())
                    .await
                    .map_err(|e| err(format!("SFTP cannot create {remote}: {e}")))?;
                match payload {
                    crate::exec::Payload::Bytes(b) => dst.write_all(b).await,
                    crate::exec::Payload::File(p) => {
                        let mut src = tokio::fs::File::open(p)
                            .await
                            .map_err(|e| err(format!("cannot read {}: {e}", p.display())))?;
                        tokio::io::copy(&mut src, &mut dst).await.map(|_| ())
                    }
                }
                .map_err(|e| err(format!("SFTP upload to {remote} failed: {e}")))?;
                dst.shutdown()
                    .await
                    .map_err(|e| err(format!("SFTP upload to {remote} failed: {e}")))
            };
            tokio::time::timeout(self.opts.command_timeout, work)
                .await
                .map_err(|_| err(format!("SFTP upload to {remote} did not finish in time")))??;
        }
        let _ = sftp.close().await;
        Ok(())
    }

    /// Ends the session politely.
    pub async fn close(&self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}
