//! The cluster RPC secret: what nodes authenticate their calls to each other with, separate from
//! the S3 root credentials (so rotating those never breaks the cluster).
//!
//! Made once (32 random bytes, hex: 64 characters) and kept in the state directory like the CA,
//! as `rpc.secret` (0600). Every host gets it as `CONFIG_DIR/rpc.secret`, 0600 and owned by the
//! service user, and its env file names it in `RUSTFS_RPC_SECRET_FILE`. The file may hold several
//! whitespace-separated secrets, each at least 32 characters: nodes sign with the first and accept
//! every one, so a secret is rotated by editing the state file (new secret second, apply; then
//! first, apply; then alone, apply). A changed secret restarts the nodes. A state file that other
//! users may read, or that holds something that is not a secret, stops every command that would
//! use it, before any host is touched.

use crate::error::{Error, Result};
use crate::inventory::Secret;
use crate::state::StateDir;

/// The secret file, inside the state directory.
pub use rustfs_hostops::paths::RPC_SECRET;
/// Stands for a secret not made yet (planning never makes one), so it shows as pending.
pub const UNISSUED_SECRET: &str = "unissued-rpc-secret";
/// Fewest characters a secret may have (the node refuses shorter ones).
pub const MIN_SECRET_CHARS: usize = 32;

/// The file's secrets, checked, in the form installed on hosts: one per line.
pub fn parse(text: &str) -> std::result::Result<Secret, String> {
    let secrets: Vec<&str> = text.split_whitespace().collect();
    if secrets.is_empty() {
        return Err(
            "is empty — remove it to have a new secret made, or write one (openssl rand -hex 32)"
                .into(),
        );
    }
    for (i, s) in secrets.iter().enumerate() {
        let n = i + 1;
        if !s.chars().all(|c| c.is_ascii_graphic() && c != '\'') {
            return Err(format!(
                "secret {n} holds characters other than printable ASCII (or a quote) — use hex, e.g. openssl rand -hex 32"
            ));
        }
        if s.len() < MIN_SECRET_CHARS {
            return Err(format!(
                "secret {n} has {} characters; each needs at least {MIN_SECRET_CHARS} (openssl rand -hex 32 makes one)",
                s.len()
            ));
        }
    }
    Ok(Secret::new(secrets.join("\n") + "\n"))
}

/// The kept secret(s) when the file exists. A file other users may read, or one that does not
/// hold valid secrets, is an error that says what to do.
pub fn existing(state: &StateDir) -> Result<Option<Secret>> {
    let Some(text) = state.read_private(RPC_SECRET, "the cluster RPC secret")? else {
        return Ok(None);
    };
    let path = state.path().join(RPC_SECRET);
    parse(&text)
        .map(Some)
        .map_err(|m| Error::state(format!("{}: {m}", path.display())))
}

/// The secret(s), made and kept now when there are none yet.
pub fn ensure(state: &StateDir) -> Result<Secret> {
    if let Some(s) = existing(state)? {
        return Ok(s);
    }
    let bytes: [u8; 32] = rand::random();
    let secret = format!("{}\n", hex::encode(bytes));
    state.write_atomic(RPC_SECRET, secret.as_bytes(), 0o600)?;
    Ok(Secret::new(secret))
}

/// The secret for planning: the kept one, or a placeholder that never matches a host.
pub fn planned(state: &StateDir) -> Result<Secret> {
    Ok(existing(state)?.unwrap_or_else(|| Secret::new(UNISSUED_SECRET)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode_of(p: &std::path::Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_secret_is_made_once_private_and_long() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        assert_eq!(planned(&state).unwrap().expose(), UNISSUED_SECRET);
        let s = ensure(&state).unwrap();
        let line = s.expose().trim();
        assert_eq!(line.len(), 64);
        assert!(line.chars().all(|c| c.is_ascii_hexdigit()), "{line}");
        assert_eq!(ensure(&state).unwrap(), s);
        assert_eq!(planned(&state).unwrap(), s);
        assert_eq!(mode_of(&dir.path().join(RPC_SECRET)), 0o600);
        // Another state directory gets another secret.
        let other = tempfile::tempdir().unwrap();
        assert_ne!(ensure(&StateDir::open(other.path()).unwrap()).unwrap(), s);
    }

    #[test]
    fn several_secrets_are_kept_in_order_one_per_line() {
        let a = "a".repeat(32);
        let b = "b".repeat(64);
        let s = parse(&format!("  {a} {b}\n\n")).unwrap();
        assert_eq!(s.expose(), format!("{a}\n{b}\n"));
    }

    #[test]
    fn bad_secret_files_are_refused_with_what_to_do() {
        for (text, want) in [
            ("", "is empty"),
            (" \n", "is empty"),
            ("short", "secret 1 has 5 characters; each needs at least 32"),
            (
                &format!("{} tooshort", "a".repeat(40)),
                "secret 2 has 8 characters",
            ),
            (&format!("{}'", "a".repeat(40)), "printable ASCII"),
            (&format!("{}é", "a".repeat(40)), "printable ASCII"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_file_others_may_read_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        let path = dir.path().join(RPC_SECRET);
        let secret = "c".repeat(64);
        std::fs::write(&path, &secret).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        for err in [
            existing(&state).unwrap_err(),
            ensure(&state).unwrap_err(),
            planned(&state).unwrap_err(),
        ] {
            let msg = err.to_string();
            assert!(
                msg.contains("has mode 0644: other users may read the cluster RPC secret")
                    && msg.contains("chmod 600"),
                "{msg}"
            );
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), secret);
        assert_eq!(mode_of(&path), 0o644);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            existing(&state).unwrap().unwrap().expose(),
            format!("{secret}\n")
        );
        // A file that holds no valid secret is refused too, naming the file.
        std::fs::write(&path, "x").unwrap();
        let msg = ensure(&state).unwrap_err().to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains("secret 1 has 1"),
            "{msg}"
        );
    }
}
