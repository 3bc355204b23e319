# Hosts that already exist (bare metal, VMs made elsewhere): no provider, only the inventory
# module. `terraform apply` checks the layout and writes nothing but outputs; then
#   terraform output -raw inventory_yaml > inventory.yaml
#   rustfs-provision validate inventory.yaml && rustfs-provision apply inventory.yaml
# scripts/terraform-test.sh (tests/tests/terraform.rs) applies this example and has the real
# rustfs-provision validate its output.

terraform {
  required_version = ">= 1.9.0"
}

module "inventory" {
  source = "../../modules/inventory"

  cluster_name = var.name
  site         = var.site
  hosts = [
    for i, address in var.addresses : {
      name            = "node${i + 1}"
      address         = address
      cluster_address = length(var.cluster_addresses) > 0 ? var.cluster_addresses[i] : null
      drives          = [for d in range(1, var.drives_per_host + 1) : "/mnt/disk${d}"]
    }
  ]
  parity = var.parity
  binary = { path = var.rustfs_binary }
  ssh = {
    user = var.ssh_user
    key  = var.ssh_private_key_file
  }
  control_plane = var.control_plane_address == null ? null : {
    address = var.control_plane_address
    token   = "$${RUSTFS_CONTROLPLANE_TOKEN}"
  }
}
