//! Internal RPC between the nodes of a cluster (DESIGN §3.4): HTTP on the node's own port under
//! `/rustfs/rpc/v1/`, every call authenticated with a short-lived token ([`auth`]) and bounded by a
//! deadline. [`server`] serves this node's drives and locks; [`client::Peer`] calls another node,
//! and `store::remote::RemoteDrive` turns those calls back into a [`crate::store::Drive`].

pub mod auth;
pub mod client;
pub mod server;
pub mod wire;
