#!/bin/sh
# Ansible dynamic inventory for RustFS Cluster: the project's inventory.yaml (the file
# `rustfs-provision` and the Terraform inventory module use) as Ansible hosts, read and validated by
# `rustfs-provision ansible-inventory`, so one file serves all three tools.
#
#   RUSTFS_INVENTORY=/path/to/inventory.yaml ansible-playbook playbooks/site.yml
#
# Every node is in group rustfs_nodes (and rustfs_pool_N); hosts are reached as the inventory says
# (address, ssh.user/port/key, known_hosts checked strictly, become for a user other than root).
# RUSTFS_PROVISION names the rustfs-provision binary when it is not on PATH.
set -eu
case "${1:-}" in
--list)
  # No inventory named: no hosts (the playbooks then stop, saying to set RUSTFS_INVENTORY).
  if [ -z "${RUSTFS_INVENTORY:-}" ]; then
    echo '{"_meta": {"hostvars": {}}}'
    exit 0
  fi
  exec "${RUSTFS_PROVISION:-rustfs-provision}" ansible-inventory "$RUSTFS_INVENTORY" ;;
--host) echo '{}' ;;
*)
  echo "usage: $0 --list | --host NAME" >&2
  exit 2
  ;;
esac
