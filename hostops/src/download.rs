//! A binary fetched from a URL (or copied from a local file): fetched once, on this machine,
//! into the state directory (`binaries/SHA256`), hashed while it streams and kept only when it
//! matches the expected sha256. From then on it is staged like a local file, so hosts never
//! need to reach the URL.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::state::StateDir;

/// How long a download may take in all.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

fn fail(message: String) -> Error {
    Error::host("localhost", message)
}

/// A binary being written beside its final name (a temp name of its own, so concurrent fetches
/// of one binary never share a file), hashed as it is written. Dropped without [`Part::keep`],
/// it is removed: a refused or interrupted fetch leaves nothing.
struct Part {
    path: PathBuf,
    file: std::fs::File,
    hasher: Sha256,
    bytes: u64,
    kept: bool,
}

impl Part {
    fn create(final_path: &Path) -> Result<Part> {
        let dir = final_path.parent().expect("binaries/ has a parent");
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
        let path = final_path.with_extension(format!("part.{:016x}", rand::random::<u64>()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(&path)
            .map_err(|e| Error::write(&path, e))?;
        Ok(Part {
            path,
            file,
            hasher: Sha256::new(),
            bytes: 0,
            kept: false,
        })
    }

    fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
        self.file
            .write_all(chunk)
            .map_err(|e| Error::write(&self.path, e))
    }

    /// Renames it to `final_path` when its sha256 is `want`; `source` names it in the refusal.
    fn keep(mut self, final_path: &Path, want: &str, source: &str) -> Result<()> {
        let got = hex::encode(std::mem::take(&mut self.hasher).finalize());
        if got != want {
            return Err(fail(format!(
                "{source} has sha256 {got} ({} bytes), but {want} was expected — nothing was kept; check the source or the expected sha256",
                self.bytes
            )));
        }
        self.file
            .sync_all()
            .and_then(|()| std::fs::rename(&self.path, final_path))
            .map_err(|e| Error::write(final_path, e))?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// sha256 (hex) of a file, read in 1 MiB pieces.
pub fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

/// The file with sha256 `want` from `url`, in the state directory's cache: downloaded when
/// missing or damaged, checked either way.
pub async fn cached(state: &StateDir, url: &str, want: &str) -> Result<PathBuf> {
    let want = want.to_ascii_lowercase();
    let path = state.path().join("binaries").join(&want);
    if sha256_of(&path).ok().as_deref() != Some(want.as_str()) {
        download(url, &want, &path).await?;
    }
    Ok(path)
}

/// The local file `source`, copied into the same cache when its sha256 is `want` (hashed while
/// copied, kept only when it matches); the cached copy when it is there already.
pub fn import(state: &StateDir, source: &Path, want: &str) -> Result<PathBuf> {
    let want = want.to_ascii_lowercase();
    let path = state.path().join("binaries").join(&want);
    if sha256_of(&path).ok().as_deref() == Some(want.as_str()) {
        return Ok(path);
    }
    let mut from = std::fs::File::open(source).map_err(|e| Error::read(source, e))?;
    let mut part = Part::create(&path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = from.read(&mut buf).map_err(|e| Error::read(source, e))?;
        if n == 0 {
            break;
        }
        part.write(&buf[..n])?;
    }
    part.keep(&path, &want, &source.display().to_string())?;
    Ok(path)
}

async fn download(url: &str, want: &str, path: &Path) -> Result<()> {
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(DOWNLOAD_TIMEOUT)
        .build()
        .map_err(|e| fail(format!("cannot make an HTTP client: {e}")))?;
    let mut resp = client.get(url).send().await.map_err(|e| {
        fail(format!(
            "downloading {url}: {e} — check the URL and this machine's network"
        ))
    })?;
    if !resp.status().is_success() {
        return Err(fail(format!(
            "downloading {url}: HTTP {} — check the URL",
            resp.status()
        )));
    }
    let mut part = Part::create(path)?;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| fail(format!("downloading {url}: {e} after {} bytes", part.bytes)))?
    {
        part.write(&chunk)?;
    }
    part.keep(path, want, url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Serves `body` with `status` to every request until dropped; returns the base URL.
    fn serve(status: &'static str, body: &'static [u8]) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(body);
            }
        });
        url
    }

    const BODY: &[u8] = b"\x7fELF pretend this is rustfs";

    fn sha(b: &[u8]) -> String {
        hex::encode(Sha256::digest(b))
    }

    #[tokio::test]
    async fn a_matching_download_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        let url = serve("200 OK", BODY);
        let path = cached(&state, &format!("{url}/rustfs"), &sha(BODY))
            .await
            .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), BODY);
        assert!(path.ends_with(sha(BODY)), "{path:?}");
        // Cached: no server needed the second time (port 1 of loopback is never asked).
        let again = cached(&state, "http://127.0.0.1:1/rustfs", &sha(BODY))
            .await
            .unwrap();
        assert_eq!(again, path);
    }

    #[test]
    fn a_local_file_is_imported_only_with_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path().join("state")).unwrap();
        let src = dir.path().join("rustfs");
        std::fs::write(&src, BODY).unwrap();
        let err = import(&state, &src, &"0".repeat(64))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("nothing was kept") && err.contains(&sha(BODY)),
            "{err}"
        );
        let left: Vec<_> = std::fs::read_dir(state.path().join("binaries"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
        let path = import(&state, &src, &sha(BODY)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), BODY);
        std::fs::remove_file(&src).unwrap();
        assert_eq!(import(&state, &src, &sha(BODY)).unwrap(), path, "kept");
        let err = import(&state, &dir.path().join("none"), &"1".repeat(64)).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
    }

    #[tokio::test]
    async fn a_wrong_hash_or_status_is_refused_and_nothing_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        let url = serve("200 OK", BODY);
        let wrong = "0".repeat(64);
        let err = cached(&state, &url, &wrong).await.unwrap_err().to_string();
        assert!(
            err.contains(&sha(BODY)) && err.contains(&wrong) && err.contains("nothing was kept"),
            "{err}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path().join("binaries"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
        let missing = serve("404 Not Found", b"no");
        let err = cached(&state, &missing, &sha(BODY))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("HTTP 404"), "{err}");
    }
}
