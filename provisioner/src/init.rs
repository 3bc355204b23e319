//! `init`: writes a commented starting inventory (the same text as `examples/inventory.yaml`).

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// The commented inventory `init` writes.
pub const TEMPLATE: &str = include_str!("../templates/inventory.yaml");

/// Writes [`TEMPLATE`] to `path`, refusing to replace an existing file.
pub fn write_template(path: &Path) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                rustfs_hostops::Error::AlreadyExists(path.into()).into()
            } else {
                Error::write(path, source)
            }
        })?;
    f.write_all(TEMPLATE.as_bytes())
        .map_err(|source| Error::write(path, source))
}
