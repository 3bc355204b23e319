use super::auth::ScrapeAuth;
use super::*;
use ::http::{HeaderMap, HeaderValue, StatusCode};

fn bearer(v: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        ::http::header::AUTHORIZATION,
        HeaderValue::from_str(v).expect("header"),
    );
    h
}

#[test]
fn scrape_auth() {
    let t = ScrapeAuth::Token("0123456789abcdef-token".into());
    assert!(t.check(&bearer("Bearer 0123456789abcdef-token")).is_ok());
    assert_eq!(
        t.check(&HeaderMap::new()).unwrap_err().0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.check(&bearer("Bearer 0123456789abcdef-tokem"))
            .unwrap_err()
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.check(&bearer("Basic 0123456789abcdef-token"))
            .unwrap_err()
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert!(ScrapeAuth::Public.check(&HeaderMap::new()).is_ok());
    let (status, why) = ScrapeAuth::Unconfigured
        .check(&bearer("Bearer anything-at-all-here"))
        .unwrap_err();
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(why.contains("RUSTFS_METRICS_TOKEN") && why.contains("RUSTFS_METRICS_PUBLIC"));
}

fn server_config(extra: &[&str]) -> crate::config::ServerConfig {
    use clap::Parser;
    let mut args = vec!["rustfs", "server"];
    args.extend_from_slice(extra);
    args.push("/tmp/d{1...4}");
    let crate::config::Command::Server(c) = crate::config::Cli::parse_from(args).command else {
        unreachable!("a server command")
    };
    c
}

#[test]
fn scrape_auth_from_flags() {
    let c = server_config(&["--metrics-public"]);
    assert!(matches!(c.scrape_auth(), Ok(ScrapeAuth::Public)));
    let c = server_config(&["--metrics-token", "0123456789abcdef"]);
    assert!(matches!(c.scrape_auth(), Ok(ScrapeAuth::Token(_))));
    let c = server_config(&["--metrics-token", "short"]);
    assert!(c.scrape_auth().unwrap_err().contains("at least 16"));
    let c = server_config(&["--metrics-token", "0123456789abcdef", "--metrics-public"]);
    assert!(c.scrape_auth().unwrap_err().contains("choose one"));
}

#[tokio::test]
async fn drive_errors_are_counted_and_missing_objects_are_not() {
    use crate::store::Drive;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("d1");
    std::fs::create_dir_all(&path).expect("mkdir");
    let d = crate::store::local::LocalDrive::new(&path);
    d.prepare().expect("prepare");
    let errors = global()
        .drive
        .io_errors
        .with_label_values(&[&path.display().to_string()]);
    assert_eq!(errors.get(), 0);
    // Without a format the drive counts as gone: an error.
    assert!(d.read_meta("bucket", "key").await.is_err());
    assert_eq!(errors.get(), 1);
    // Formatted, a missing object is an answer, not an error.
    std::fs::write(path.join(crate::store::SYS_DIR).join("format.json"), b"{}").expect("format");
    assert!(matches!(
        d.read_meta("bucket", "key").await,
        Err(crate::store::DriveError::NotFound | crate::store::DriveError::BucketNotFound)
    ));
    assert_eq!(errors.get(), 1);
}
