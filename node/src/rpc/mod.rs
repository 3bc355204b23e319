//! Internal RPC between the nodes of a cluster (ARCHITECTURE.md, "Inter-node RPC"): HTTP on the
//! node's own port under `/rustfs/rpc/v2/`, every call signed with the cluster RPC secret and
//! bound to its method, path, target node, time and nonce ([`auth`]), and bounded by a deadline.
//! [`calls`] defines every drive call once; [`server`] serves this node's drives and locks;
//! [`client::Peer`] calls another node, and [`remote::RemoteDrive`] turns those calls back into
//! a [`crate::store::Drive`].

pub mod auth;
pub mod calls;
pub mod client;
pub mod remote;
pub mod server;
pub mod tls;
pub mod wire;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod negotiate_tests;
