//! Ellipsis expansion and server-pool arguments (`rustfs server ARGS…`, `rustfs_common::ellipsis`
//! and `endpoint::parse_pools`): never a panic, and never more than `MAX_EXPANSION` drives from
//! one argument (`/d{1...999999999}` is refused before anything is expanded), each no longer than
//! its pattern. Every endpoint accepted is a normalised absolute path without `..`, and prints as
//! text that parses back to the same endpoint.
//!
//! The input is the argument list as text, one argument per line, so seeds are readable.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rustfs_common::ellipsis::{self, EllipsisError, MAX_EXPANSION};
use rustfs_common::endpoint::{parse_pools, Endpoint};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let args: Vec<String> = text.split('\n').map(str::to_string).collect();
    for arg in &args {
        match ellipsis::expand(arg) {
            Ok(out) => {
                assert!(
                    !out.is_empty() && out.len() <= MAX_EXPANSION,
                    "{}",
                    out.len()
                );
                for s in &out {
                    assert!(s.len() <= arg.len(), "{s:?} is longer than {arg:?}");
                    assert!(!ellipsis::has_ellipsis(s), "{s:?} still holds a range");
                }
                if !ellipsis::has_ellipsis(arg) {
                    assert_eq!(out, std::slice::from_ref(arg));
                }
            }
            Err(EllipsisError::TooMany { count, .. }) => assert!(count > MAX_EXPANSION),
            Err(_) => {}
        }
    }
    let Ok(pools) = parse_pools(&args) else {
        return;
    };
    assert!(!pools.is_empty());
    for pool in &pools {
        assert!(!pool.endpoints.is_empty() && pool.endpoints.len() <= MAX_EXPANSION);
        assert!(pool.num_nodes() >= 1);
        for ep in &pool.endpoints {
            let path = ep.path();
            assert!(path.starts_with('/'), "{ep:?}");
            assert!(
                !path.split('/').any(|c| c == ".." || c == "."),
                "{ep:?} is not normalised"
            );
            assert!(!path.contains("//") && !path.contains('\0'), "{ep:?}");
            let text = ep.to_string();
            let back = Endpoint::parse(&text)
                .unwrap_or_else(|e| panic!("{ep:?} prints as {text:?}, which is refused: {e}"));
            assert_eq!(&back, ep, "{text:?} parses to another endpoint");
        }
    }
});
