//! RPC call and reply bodies (MessagePack): whatever a peer sends as a drive call, lock call, walk
//! request, walk entry, drive reply or error decodes to a value or an error, never panics, and a
//! decoded value re-encodes to a body that decodes to the same value.
//!
//! The first input byte picks the message type; the rest is the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rustfs_node::rpc::wire::{self, DriveCall, DriveReply, LockCall, PeerInfo, WireError};
use rustfs_node::store::{WalkEntry, WalkRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// Decodes `body` as `T`; a value must survive encode → decode (compared by its `Debug` text, as
/// not every wire type is `PartialEq`).
fn round_trip<T: Serialize + DeserializeOwned + Debug>(body: &[u8]) {
    if let Ok(v) = wire::decode::<T>(body) {
        let again = wire::encode(&v);
        let back: T = wire::decode(&again).expect("a re-encoded message decodes");
        assert_eq!(
            format!("{back:?}"),
            format!("{v:?}"),
            "changed on a round trip"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    match kind % 7 {
        0 => round_trip::<DriveCall>(body),
        1 => round_trip::<LockCall>(body),
        2 => round_trip::<WalkRequest>(body),
        3 => round_trip::<Result<WalkEntry, WireError>>(body),
        4 => round_trip::<Result<DriveReply, WireError>>(body),
        5 => round_trip::<WireError>(body),
        _ => {
            // Peer info travels as JSON.
            if let Ok(v) = serde_json::from_slice::<PeerInfo>(body) {
                let back: PeerInfo = serde_json::from_slice(&serde_json::to_vec(&v).unwrap())
                    .expect("re-encoded peer info decodes");
                assert_eq!(back, v);
            }
        }
    }
});
