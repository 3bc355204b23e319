//! Staging: put the binary and the rendered files on a host, changing only what differs.
//!
//! Everything is uploaded (SFTP) as the login user into a private temp directory, then one
//! privileged script verifies the binary's sha256 on the host, installs it as
//! `bin/rustfs-VERSION` (the previous version stays, linked as `bin/previous`), swings the
//! `bin/current` link atomically, and renames each rendered file into place. Nothing is started.

use crate::error::{Error, Result};
use crate::exec::{shell_quote, HostConn, Payload};
use crate::facts::{Facts, InitSystem, SERVICE_NAME};
use crate::inventory::{Host, Inventory};
use crate::paths::HostPaths;
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
        .filter(|a| {
            matches!(
                a,
                Action::InstallBinary { .. }
                    | Action::WriteConfig { .. }
                    | Action::InstallService { .. }
                    | Action::InstallCertificates { .. }
                    | Action::CreateDrives { .. }
            )
        })
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
    let paths = HostPaths::of(inv, host);
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
                if systemd {
                    // The service user reads the key through its group.
                    script.push(ensure_user());
                    script.push(format!(
                        "install -m 0640 -g {SERVICE_USER} \"$T\"/node.key {k}.rustfs-tmp && mv -f {k}.rustfs-tmp {k}",
                        k = shell_quote(&format!("{dir}/node.key"))
                    ));
                } else {
                    script.push(place("node.key", &format!("{dir}/node.key"), "0600"));
                }
            }
            Action::CreateDrives { paths } => {
                let quoted: Vec<String> = paths.iter().map(|d| shell_quote(d)).collect();
                script.push(format!("mkdir -p {}", quoted.join(" ")));
            }
            Action::InstallService { .. } if systemd => {
                uploads.push((
                    format!("{tmp}/{SERVICE_NAME}.service"),
                    Payload::Bytes(rendered.unit.1.clone().into_bytes()),
                ));
                script.push(ensure_user());
                let drives: Vec<String> = host.drives.iter().map(|d| shell_quote(d)).collect();
                script.push(format!("chown {SERVICE_USER}: {}", drives.join(" ")));
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
            _ => {}
        }
    }
    if let Err(e) = conn.upload(&uploads).await {
        let _ = conn.run(&format!("rm -rf {}", shell_quote(&tmp))).await;
        return Err(e);
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
