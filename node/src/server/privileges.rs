//! Dropping root: on a host without systemd the start script runs the node as root with
//! `RUSTFS_RUN_AS=rustfs`; the node binds its port, then becomes that user (its groups
//! included) before it opens a drive, and checks that root cannot be regained.

use anyhow::{bail, Context, Result};
use nix::unistd::{getuid, initgroups, setgid, setuid, Uid, User};
use std::ffi::CString;

/// Becomes `user` when running as root; a no-op without `user` or when already that user.
pub fn drop_to(user: Option<&str>) -> Result<()> {
    let Some(name) = user else {
        return Ok(());
    };
    let target = User::from_name(name)
        .with_context(|| format!("looking up --run-as user {name}"))?
        .with_context(|| format!("--run-as {name}: no such user on this host"))?;
    let me = getuid();
    if me == target.uid {
        return Ok(());
    }
    if !me.is_root() {
        bail!(
            "--run-as {name} needs the node to start as root (it runs as uid {me}); start it as {name} directly instead"
        );
    }
    let cname = CString::new(name).context("--run-as: the user name has a NUL")?;
    initgroups(&cname, target.gid).context("setting the groups of --run-as")?;
    setgid(target.gid).context("switching to the group of --run-as")?;
    setuid(target.uid).context("switching to --run-as")?;
    if setuid(Uid::from_raw(0)).is_ok() {
        bail!("--run-as {name}: root could be regained after dropping it; refusing to serve");
    }
    tracing::info!(
        user = name,
        uid = target.uid.as_raw(),
        "dropped root privileges"
    );
    Ok(())
}
