//! The provisioner's error type: a host operation's ([`rustfs_hostops::Error`]) or the
//! inventory's and templates' own, rendered by the binary.

use std::path::PathBuf;

use crate::inventory::FieldErrors;
use rustfs_hostops::Error as OpsError;

/// Result alias for the provisioner library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the provisioner can fail with. Messages are lowercase and say what to do when the
/// operator can fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing files, reaching or driving a host, host keys, the CA, the state.
    #[error(transparent)]
    Ops(#[from] OpsError),
    #[error("{path}: not valid YAML: {message}")]
    Yaml { path: PathBuf, message: String },
    /// The inventory failed validation; every problem found is listed.
    #[error("{path}: {errors}")]
    Invalid { path: PathBuf, errors: FieldErrors },
    #[error("rendering configuration: {0}")]
    Render(String),
}

impl Error {
    /// A host-level failure with a message.
    pub fn host(host: impl Into<String>, message: impl Into<String>) -> Self {
        OpsError::host(host, message).into()
    }
    /// A file that could not be read.
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        OpsError::read(path, source).into()
    }
    /// A file that could not be written.
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        OpsError::write(path, source).into()
    }
    /// The state directory, the control plane or the cluster are not as expected.
    pub fn state(message: impl Into<String>) -> Self {
        OpsError::State(message.into()).into()
    }
    /// The cluster CA cannot be used.
    pub fn pki(message: impl Into<String>) -> Self {
        OpsError::Pki(message.into()).into()
    }
}
