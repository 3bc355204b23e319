//! A peer's RPC versions, read from its health answers over real HTTP: the version both speak,
//! or a refusal that names the peer and says which side must move.

use super::auth::RpcKeys;
use super::client::{Peer, PeerError};
use std::io::{Read, Write};
use std::time::Duration;

/// A peer that answers every request `200` with `header` (when given), on loopback.
fn fake_peer(header: Option<&'static str>) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let extra = header
                .map(|h| format!("x-rustfs-rpc-versions: {h}\r\n"))
                .unwrap_or_default();
            let head = format!(
                "HTTP/1.1 200 OK\r\n{extra}content-length: 2\r\nconnection: close\r\n\r\nok"
            );
            let _ = s.write_all(head.as_bytes());
        }
    });
    addr
}

fn peer(addr: &str) -> Peer {
    let keys = RpcKeys::from_secrets("negotiate-secret-negotiate-secret-0123").unwrap();
    Peer::new(addr, None, keys, Duration::from_secs(5))
}

#[tokio::test]
async fn a_peer_is_spoken_to_in_a_version_both_have() {
    assert_eq!(peer(&fake_peer(Some("2-2"))).negotiate().await.unwrap(), 2);
    assert_eq!(peer(&fake_peer(Some("1-3"))).negotiate().await.unwrap(), 2);
    // a build from before the header speaks 2
    assert_eq!(peer(&fake_peer(None)).negotiate().await.unwrap(), 2);
}

#[tokio::test]
async fn a_peer_with_no_version_in_common_is_refused_by_name() {
    let addr = fake_peer(Some("3-4"));
    let e = peer(&addr).negotiate().await.unwrap_err();
    assert!(matches!(e, PeerError::Incompatible(..)), "{e}");
    let text = e.to_string();
    assert!(text.starts_with(&addr), "{text}");
    assert!(text.contains("RPC 3-4, this node 2-2"), "{text}");
    // info() asks first, so formation waits with this message instead of misreading the peer
    let e = peer(&addr).info().await.unwrap_err();
    assert!(matches!(e, PeerError::Incompatible(..)), "{e}");
    let e = peer(&fake_peer(Some("banana")))
        .negotiate()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot read"), "{e}");
}
