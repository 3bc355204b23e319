//! Releases: node binaries the control plane keeps, by version and architecture, to upgrade
//! clusters with (`/v1/releases`).

use serde::{Deserialize, Serialize};

/// `POST /v1/releases`: a binary to keep, from a file on the control plane's machine (`path`)
/// or an http(s) URL it downloads (`url`); exactly one. Kept only when its sha256 is `sha256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRelease {
    /// The version the binary reports (`rustfs --version`), 1–64 of `A-Z a-z 0-9 . _ + -`.
    pub version: String,
    /// 64 lowercase hex digits.
    pub sha256: String,
    /// `x86_64` or `aarch64`; default: the control plane's own.
    #[serde(default)]
    pub arch: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// A kept release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub version: String,
    pub arch: String,
    pub sha256: String,
    pub size: u64,
    /// Where it came from (the path or URL given).
    pub source: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseList {
    pub releases: Vec<Release>,
}

/// Answer to `POST /v1/releases`: `201` with `created`, or `200` when the same release was kept
/// already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedRelease {
    pub created: bool,
    pub release: Release,
}
