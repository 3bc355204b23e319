//! The RustFS provisioner (`rustfs-provision`): installs and configures a cluster over SSH from an
//! inventory.
//!
//! Nothing is built here yet; the provisioner issue brings the library and its binary.
