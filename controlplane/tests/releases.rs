//! `/v1/releases` through the typed client against a real control plane: a binary is kept from a
//! path or a URL only when its sha256 matches (a refusal keeps no file), the same release twice
//! is a no-op, another build under a kept version is a conflict, bad input is refused before
//! anything is read, and deleting a release deletes its binary.

mod support;

use rustfs_controlplane::api::{Client, ClientError, CreateRelease, ErrorCode};
use rustfs_controlplane::config::{Config, ServeArgs};
use sha2::Digest;
use std::io::{Read, Write};
use std::path::Path;

fn sha(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Files kept in the releases directory (temp files included).
fn kept(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("releases/binaries"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Serves `body` with `status` to every request on loopback until the test ends.
fn serve(status: &'static str, body: Vec<u8>) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/rustfs", l.local_addr().unwrap());
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
            let _ = s.write_all(&body);
        }
    });
    url
}

fn release(version: &str, sha256: &str) -> CreateRelease {
    CreateRelease {
        version: version.into(),
        sha256: sha256.into(),
        arch: None,
        path: None,
        url: None,
    }
}

#[tokio::test]
async fn releases_are_kept_only_as_their_sha256_says() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::resolve(ServeArgs {
        db: Some(dir.path().join("cp.db")),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    })
    .unwrap();
    let running = support::start(cfg).await;
    let api = Client::new(&running.base, &running.token, reqwest::Client::new()).unwrap();
    let code = |e: ClientError| (e.code(), e.to_string());

    // from a path
    let v1 = b"#!/bin/sh\necho 1.0\n".to_vec();
    let file = dir.path().join("rustfs-1.0");
    std::fs::write(&file, &v1).unwrap();
    let from_path = CreateRelease {
        path: Some(file.display().to_string()),
        ..release("1.0", &sha(&v1))
    };
    let r = api.create_release(&from_path).await.unwrap();
    assert!(r.created);
    assert_eq!(r.release.size, v1.len() as u64);
    assert_eq!(r.release.arch, std::env::consts::ARCH);
    assert_eq!(r.release.source, file.display().to_string());
    assert_eq!(kept(dir.path()), [sha(&v1)]);
    assert!(
        !api.create_release(&from_path).await.unwrap().created,
        "idempotent"
    );

    // another build under the same version: conflict, nothing kept
    let other = b"#!/bin/sh\necho other\n".to_vec();
    std::fs::write(&file, &other).unwrap();
    let e = api
        .create_release(&CreateRelease {
            sha256: sha(&other),
            ..from_path.clone()
        })
        .await
        .unwrap_err();
    let (c, m) = code(e);
    assert_eq!(c, Some(ErrorCode::Conflict), "{m}");
    assert!(m.contains("a version names one build"), "{m}");

    // a wrong sha256: refused, no file left, no row
    let e = api
        .create_release(&CreateRelease {
            path: Some(file.display().to_string()),
            ..release("2.0", &sha(b"something else"))
        })
        .await
        .unwrap_err();
    let (c, m) = code(e);
    assert_eq!(c, Some(ErrorCode::InvalidArgument), "{m}");
    assert!(m.contains("nothing was kept"), "{m}");
    assert_eq!(
        api.release("2.0").await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );

    // from a URL, and a URL answering 404
    let v2 = b"#!/bin/sh\necho 2.0\n".to_vec();
    let url = serve("200 OK", v2.clone());
    let r = api
        .create_release(&CreateRelease {
            url: Some(url.clone()),
            arch: Some("aarch64".into()),
            ..release("2.0", &sha(&v2))
        })
        .await
        .unwrap();
    assert_eq!(
        (r.release.arch.as_str(), r.release.source.as_str()),
        ("aarch64", url.as_str())
    );
    let missing = serve("404 Not Found", b"no".to_vec());
    let e = api
        .create_release(&CreateRelease {
            url: Some(missing),
            // (a sha256 kept already would be taken from the cache without asking the URL)
            ..release("3.0", &sha(b"never served"))
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("HTTP 404"), "{e}");
    let mut both = vec![sha(&v1), sha(&v2)];
    both.sort();
    assert_eq!(kept(dir.path()), both);

    // bad input, refused before anything is read
    for (bad, want) in [
        (release("../../etc", &sha(&v1)), "version"),
        (release("-rf", &sha(&v1)), "version"),
        (release("4.0", "ABC"), "sha256"),
        (
            CreateRelease {
                arch: Some("sparc".into()),
                path: Some("/x".into()),
                ..release("4.0", &sha(&v1))
            },
            "arch",
        ),
        (release("4.0", &sha(&v1)), "exactly one of path"),
        (
            CreateRelease {
                path: Some("relative/rustfs".into()),
                ..release("4.0", &sha(&v1))
            },
            "absolute path",
        ),
        (
            CreateRelease {
                url: Some("file:///etc/passwd".into()),
                ..release("4.0", &sha(&v1))
            },
            "http:// or https://",
        ),
    ] {
        let (c, m) = code(api.create_release(&bad).await.unwrap_err());
        assert_eq!(c, Some(ErrorCode::InvalidArgument), "{bad:?}: {m}");
        assert!(m.contains(want), "{bad:?}: {m}");
    }
    let e = api.release("..").await.unwrap_err();
    assert!(matches!(e, ClientError::Name(_)), "{e}");
    assert_eq!(
        api.release("1.0;id").await.unwrap_err().code(),
        Some(ErrorCode::InvalidArgument)
    );

    // listed newest first; deleting a release deletes its binary
    let all = api.releases().await.unwrap().releases;
    let versions: Vec<&str> = all.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["2.0", "1.0"]);
    api.delete_release("1.0").await.unwrap();
    assert_eq!(kept(dir.path()), [sha(&v2)]);
    assert_eq!(
        api.delete_release("1.0").await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );
    running.stop().await;
}
