//! Staging: put the binary and the rendered files on a host, changing only what differs.
//!
//! Everything is uploaded (SFTP) as the login user into a private temp directory, then one
//! privileged script verifies the binary's sha256 on the host, installs it as
//! `bin/rustfs-VERSION` (the previous version stays, linked as `bin/previous`), swings the
//! `bin/current` link atomically, and renames each rendered file into place. Nothing is started.

use crate::error::{Error, Result};
use crate::exec::{shell_quote, HostConn, Payload};
use crate::facts::{Facts, InitSystem, SERVICE_NAME};
use crate::inventory::{Connection, Host, Inventory};
use crate::paths::{deploy_authorized_keys, HostPaths, SERVICE_HOME, UPGRADE_SUDOERS};
use crate::pki::NodeTls;
use crate::plan::{plan_host, Action, Desired};
use crate::render::{Rendered, SERVICE_USER};

/// Installs `rendered` and the binary on the host where `facts` say they differ; returns the
/// actions taken (empty when the host already matched).
pub async fn stage_host(
    conn: &HostConn,
    inv: &Inventory,
    host: &Host,
    facts: &Facts,
    desired: &Desired,
    rendered: &Rendered,
    tls: Option<&NodeTls>,
) -> Result<Vec<Action>> {
    let actions: Vec<Action> = plan_host(inv, host, facts, desired)
        .into_iter()
        .filter(|a| matches!(a, Action::InstallBinary { .. }) || a.is_configure())
        .collect();
    stage_actions(conn, inv, host, facts, desired, rendered, tls, &actions).await?;
    Ok(actions)
}

/// Carries out exactly `actions` (those of them that install something; starting is not done
/// here): one upload into a private temp directory, then one privileged script.
#[allow(clippy::too_many_arguments)]
pub async fn stage_actions(
    conn: &HostConn,
    inv: &Inventory,
    host: &Host,
    facts: &Facts,
    desired: &Desired,
    rendered: &Rendered,
    tls: Option<&NodeTls>,
    actions: &[Action],
) -> Result<()> {
    if actions.is_empty() {
        return Ok(());
    }
    let systemd = facts.init == InitSystem::Systemd;
    // On SSH hosts the node runs as the service user (systemd's `User=`, or dropping to it after
    // binding); local nodes run as whoever runs the provisioner and own what it writes.
    let ssh = host.connection == Connection::Ssh;
    let paths = inv.paths(host);
    let tmp = conn.temp_dir().await?;
    let mut uploads = Vec::new();
    let mut script = vec![
        "set -eu".to_string(),
        format!("T={}", shell_quote(&tmp)),
        "trap 'rm -rf \"$T\"' EXIT".to_string(),
        format!(
            "mkdir -p {b} {r} {l} {c}",
            b = shell_quote(&paths.bin_dir()),
            r = shell_quote(&paths.run_dir()),
            l = shell_quote(&paths.log_dir()),
            c = shell_quote(&paths.config_dir),
        ),
    ];
    for action in actions {
        match action {
            Action::InstallBinary { .. } => {
                let Some(local) = &inv.binary.path else {
                    return Err(Error::host(
                        &conn.label,
                        "binary.url was not downloaded before staging (a bug: the CLI fetches it first)",
                    ));
                };
                uploads.push((format!("{tmp}/rustfs"), Payload::File(local.into())));
                script.push(binary_script(&paths, desired));
            }
            Action::WriteConfig { .. } => {
                uploads.push((
                    format!("{tmp}/{SERVICE_NAME}.env"),
                    Payload::Bytes(rendered.env.1.clone().into_bytes()),
                ));
                script.push(place(
                    &format!("{SERVICE_NAME}.env"),
                    &rendered.env.0,
                    "0600",
                ));
            }
            Action::InstallCertificates { dir } => {
                let Some(tls) = tls else {
                    return Err(Error::host(&conn.label, "no node certificate was issued"));
                };
                for (name, pem) in [
                    ("ca.crt", &tls.ca_pem),
                    ("node.crt", &tls.cert_pem),
                    ("node.key", &tls.key_pem),
                ] {
                    uploads.push((
                        format!("{tmp}/{name}"),
                        Payload::Bytes(pem.clone().into_bytes()),
                    ));
                }
                script.push(format!("mkdir -p {}", shell_quote(dir)));
                script.push(place("ca.crt", &format!("{dir}/ca.crt"), "0644"));
                script.push(place("node.crt", &format!("{dir}/node.crt"), "0644"));
                script.push(place_private(ssh, "node.key", &format!("{dir}/node.key")));
            }
            Action::InstallRpcSecret { path } => {
                uploads.push((
                    format!("{tmp}/rpc.secret"),
                    Payload::Bytes(desired.rpc_secret.expose().as_bytes().to_vec()),
                ));
                script.push(place_private(ssh, "rpc.secret", path));
            }
            Action::InstallRootPassword { path } => {
                let password = inv.credentials.root_password().as_bytes().to_vec();
                uploads.push((
                    format!("{tmp}/{}", crate::paths::ROOT_PASSWORD),
                    Payload::Bytes(password),
                ));
                script.push(place_private(ssh, crate::paths::ROOT_PASSWORD, path));
            }
            Action::CreateDrives { paths } => {
                let quoted: Vec<String> = paths.iter().map(|d| shell_quote(d)).collect();
                script.push(format!("mkdir -p -m 0700 {}", quoted.join(" ")));
            }
            Action::SecureDrives { paths } => {
                if ssh {
                    script.push(ensure_user());
                }
                for d in paths {
                    script.push(secure_drive(ssh, d));
                }
            }
            Action::InstallService { .. } if systemd => {
                uploads.push((
                    format!("{tmp}/{SERVICE_NAME}.service"),
                    Payload::Bytes(rendered.unit.1.clone().into_bytes()),
                ));
                script.push(ensure_user());
                script.push(place(
                    &format!("{SERVICE_NAME}.service"),
                    &rendered.unit.0,
                    "0644",
                ));
                script.push("systemctl daemon-reload".into());
            }
            Action::InstallService { .. } => {
                uploads.push((
                    format!("{tmp}/{SERVICE_NAME}-ctl"),
                    Payload::Bytes(rendered.ctl.1.clone().into_bytes()),
                ));
                script.push(place(
                    &format!("{SERVICE_NAME}-ctl"),
                    &rendered.ctl.0,
                    "0755",
                ));
            }
            Action::InstallUpgradeHelper { path } => {
                uploads.push((
                    format!("{tmp}/{SERVICE_NAME}-upgrade"),
                    Payload::Bytes(rendered.upgrade.1.clone().into_bytes()),
                ));
                script.push(place(&format!("{SERVICE_NAME}-upgrade"), path, "0755"));
            }
            Action::InstallDeployKey => {
                let Some(access) = &rendered.deploy else {
                    return Err(Error::host(&conn.label, "no deploy key was rendered"));
                };
                for (name, text) in [
                    ("authorized_keys", &access.authorized_keys),
                    ("sudoers", &access.sudoers),
                ] {
                    uploads.push((
                        format!("{tmp}/{name}"),
                        Payload::Bytes(text.clone().into_bytes()),
                    ));
                }
                script.push(deploy_key_script());
            }
            _ => {}
        }
    }
    if let Err(e) = conn.upload(&uploads).await {
        let _ = conn.run(&format!("rm -rf {}", shell_quote(&tmp))).await;
        return Err(e.into());
    }
    conn.run_checked("installing the staged files", &script.join("\n"))
        .await?;
    Ok(())
}

/// Shell line creating the service account unless it exists.
pub(crate) fn ensure_user() -> String {
    format!(
        "id -u {u} >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin {u}",
        u = SERVICE_USER
    )
}

/// Shell lines giving the service user a home and a shell (sshd runs the deploy key's forced
/// command through it; its password stays unusable) and installing the key's authorized_keys
/// and sudo rule (checked by `visudo` first: a broken rule would lock out every sudo user).
fn deploy_key_script() -> String {
    let home = shell_quote(SERVICE_HOME);
    let keys = deploy_authorized_keys();
    format!(
        r#"command -v visudo >/dev/null 2>&1 || {{ echo "sudo is not installed: the control plane's deploy key needs it for the upgrade verbs - install it (apt-get install sudo)" >&2; exit 5; }}
{user}
usermod -d {home} -s {shell} -p '*' {u}
install -d -m 0700 -o {u} -g {u} {home} {home}/.ssh
install -m 0600 -o {u} -g {u} "$T"/authorized_keys {keys_tmp} && mv -f {keys_tmp} {keys_q}
visudo -cqf "$T"/sudoers
install -m 0440 "$T"/sudoers {sudo_tmp} && mv -f {sudo_tmp} {sudoers}"#,
        user = ensure_user(),
        u = SERVICE_USER,
        shell = crate::deploy_key::LOGIN_SHELL,
        keys_q = shell_quote(&keys),
        keys_tmp = shell_quote(&format!("{keys}.rustfs-tmp")),
        // sudo ignores files in sudoers.d whose names hold a dot: the temp name is never read.
        sudo_tmp = shell_quote(&format!("{UPGRADE_SUDOERS}.rustfs-tmp")),
        sudoers = shell_quote(UPGRADE_SUDOERS),
    )
}

/// Shell lines installing the secret `$T/name` at `dest`: 0600 and, on SSH hosts (`ssh`), owned
/// by the service user (created when missing), atomically.
pub(crate) fn place_private(ssh: bool, name: &str, dest: &str) -> String {
    if !ssh {
        return place(name, dest, "0600");
    }
    let d = shell_quote(dest);
    let t = shell_quote(&format!("{dest}.rustfs-tmp"));
    format!(
        "{user}\ninstall -m 0600 -o {SERVICE_USER} -g {SERVICE_USER} \"$T\"/{n} {t} && mv -f {t} {d}",
        user = ensure_user(),
        n = shell_quote(name)
    )
}

/// Shell lines making drive directory `d` 0700 and, on SSH hosts, the service user's: what a
/// node that ran as root (a start script before least privilege) wrote is handed over too, once.
fn secure_drive(ssh: bool, d: &str) -> String {
    let q = shell_quote(d);
    if ssh {
        format!(
            "[ \"$(stat -c %U {q})\" = {SERVICE_USER} ] || chown -R {SERVICE_USER}: {q}\nchmod 0700 {q}"
        )
    } else {
        format!("chmod 0700 {q}")
    }
}

/// Shell lines installing `$T/name` at `dest` with `mode`, atomically (temp name, then rename).
pub(crate) fn place(name: &str, dest: &str, mode: &str) -> String {
    let d = shell_quote(dest);
    let t = shell_quote(&format!("{dest}.rustfs-tmp"));
    format!(
        "install -m {mode} \"$T\"/{n} {t} && mv -f {t} {d}",
        n = shell_quote(name)
    )
}

fn binary_script(paths: &HostPaths, desired: &Desired) -> String {
    let bin = paths.bin_dir();
    let name = format!("{SERVICE_NAME}-{}", desired.version);
    format!(
        r#"got=$(sha256sum "$T/rustfs" | cut -d' ' -f1)
if [ "$got" != {sha} ]; then echo "uploaded binary has sha256 $got, expected {sha_plain} — upload corrupted, re-run" >&2; exit 3; fi
B={bin}
install -m 0755 "$T/rustfs" "$B/{name}.rustfs-tmp" && mv -f "$B/{name}.rustfs-tmp" "$B/{name}"
if [ -L "$B/current" ]; then prev=$(readlink "$B/current"); if [ "$prev" != {name_q} ]; then ln -sfn "$prev" "$B/previous.rustfs-tmp" && mv -Tf "$B/previous.rustfs-tmp" "$B/previous"; fi; fi
ln -sfn {name_q} "$B/current.rustfs-tmp" && mv -Tf "$B/current.rustfs-tmp" "$B/current""#,
        sha = shell_quote(&desired.binary_sha256),
        sha_plain = desired.binary_sha256,
        bin = shell_quote(&bin),
        name_q = shell_quote(&name),
    )
}
