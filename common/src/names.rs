//! Bucket and object-key validation, applied before any path is built from a name.

use thiserror::Error;

/// Longest object key S3 accepts, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// Longest single `/`-separated key component (a file-system name limit).
pub const MAX_COMPONENT_BYTES: usize = 255;
/// File name of the per-object meta inside an object's directory.
pub const META_FILE: &str = "rustfs.meta";
/// Suffix that stores a key ending in `/` (a "directory object") as a plain directory name.
pub const DIR_OBJECT_SUFFIX: &str = "__XLDIR__";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("bucket name '{0}' is invalid: use 3–63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit")]
    Bucket(String),
    #[error("object key is empty")]
    EmptyKey,
    #[error("object key is longer than {MAX_KEY_BYTES} bytes")]
    KeyTooLong,
    #[error("object key has a path component longer than {MAX_COMPONENT_BYTES} bytes")]
    ComponentTooLong,
    #[error("object key '{0}' is not allowed: it contains a NUL, '.' or '..' component, an empty component, a leading '/', or a reserved name")]
    Key(String),
}

/// Percent-encodes a key or query value: unreserved characters and `/` stay (S3's
/// `encoding-type=url`, and drive paths in internal RPC URLs).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// S3 bucket naming rules (the strict, DNS-compatible ones).
pub fn check_bucket(name: &str) -> Result<(), NameError> {
    let bad = || NameError::Bucket(name.into());
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return Err(bad());
    }
    let edge_ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !edge_ok(b[0]) || !edge_ok(b[b.len() - 1]) {
        return Err(bad());
    }
    if !b.iter().all(|&c| edge_ok(c) || c == b'.' || c == b'-') {
        return Err(bad());
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Err(bad());
    }
    if name.starts_with("xn--") || name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        return Err(bad());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(bad());
    }
    Ok(())
}

/// Object keys that could escape a drive or collide with the on-disk layout are refused.
pub fn check_key(key: &str) -> Result<(), NameError> {
    if key.is_empty() {
        return Err(NameError::EmptyKey);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(NameError::KeyTooLong);
    }
    let bad = || NameError::Key(key.escape_debug().to_string());
    if key.starts_with('/') || key.contains('\0') || key.contains('\\') {
        return Err(bad());
    }
    let body = key.strip_suffix('/').unwrap_or(key);
    if body.is_empty() {
        return Err(bad());
    }
    for c in body.split('/') {
        if c.is_empty() || c == "." || c == ".." || c == META_FILE || c.ends_with(DIR_OBJECT_SUFFIX)
        {
            return Err(bad());
        }
        if c.len() > MAX_COMPONENT_BYTES - DIR_OBJECT_SUFFIX.len() {
            return Err(NameError::ComponentTooLong);
        }
    }
    Ok(())
}

/// The relative directory (under the bucket) that holds `key`'s meta and data: a key ending in
/// `/` maps to `<key-without-slash>__XLDIR__` so `a/` and `a` never share a directory.
pub fn key_dir(key: &str) -> String {
    match key.strip_suffix('/') {
        Some(k) => format!("{k}{DIR_OBJECT_SUFFIX}"),
        None => key.to_string(),
    }
}

/// Inverse of [`key_dir`].
pub fn dir_key(dir: &str) -> String {
    match dir.strip_suffix(DIR_OBJECT_SUFFIX) {
        Some(k) => format!("{k}/"),
        None => dir.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        for ok in ["abc", "my-bucket", "my.bucket.1", "a1b", &"a".repeat(63)] {
            assert!(check_bucket(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "ABC",
            "-abc",
            "abc-",
            "a..b",
            "a.-b",
            "a_b",
            "192.168.1.1",
            "xn--abc",
            "x-s3alias",
            &"a".repeat(64),
            ".rustfs.sys",
            "a b",
        ] {
            assert!(check_bucket(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys() {
        for ok in [
            "a",
            "a/b/c",
            "dir/",
            "a b",
            "ünïcødé/ключ",
            "a.b",
            "..a",
            "a/.b",
        ] {
            assert!(check_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/a",
            "a/../b",
            "..",
            ".",
            "a/./b",
            "a//b",
            "a\0b",
            "a/rustfs.meta",
            "x__XLDIR__/y",
            "/",
            "a\\b",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_key(&"a".repeat(1025)), Err(NameError::KeyTooLong));
        assert_eq!(
            check_key(&"a".repeat(300)),
            Err(NameError::ComponentTooLong)
        );
    }

    #[test]
    fn dir_objects_round_trip() {
        assert_eq!(key_dir("a/b/"), "a/b__XLDIR__");
        assert_eq!(dir_key("a/b__XLDIR__"), "a/b/");
        assert_eq!(key_dir("a/b"), "a/b");
        assert_eq!(dir_key("a/b"), "a/b");
    }
}
