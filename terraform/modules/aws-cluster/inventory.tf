# The cluster as rustfs-provision sees it, through the provider-free inventory module: the same
# validation and the same inventory.yaml as any other way of describing hosts.

locals {
  node_addresses = {
    for name, n in aws_instance.node : name => (
      var.node_address == "public_dns" ? n.public_dns :
      var.node_address == "private_dns" ? "${name}.${local.private_zone_name}" : n.private_ip
    )
  }
  node_cluster_addresses = {
    for name, n in aws_instance.node : name => (
      var.cluster_address == "private_dns" ? "${name}.${local.private_zone_name}" :
      var.cluster_address == "private_ip" ? n.private_ip : null
    )
  }
}

module "inventory" {
  source = "../inventory"

  cluster_name = var.name
  site         = var.site
  single_node  = var.single_node
  hosts = [
    # In node order (node1, node2, ..., node10), which is the order of the drives in the sets.
    for name in [for i in range(var.node_count) : "node${i + 1}"] : {
      name            = name
      address         = local.node_addresses[name]
      cluster_address = local.node_cluster_addresses[name]
      drives          = local.drive_paths
    }
  ]
  parity          = var.parity
  set_drive_count = var.set_drive_count
  ports           = var.ports
  tls             = var.tls
  binary          = var.binary
  ssh = {
    user = var.ssh_user
    key  = var.ssh_private_key_path
  }
  credentials   = var.credentials
  control_plane = var.control_plane
}

locals {
  # The inventory holds no secret (credentials are file paths or $${ENV} references, enforced by
  # this module's variables), so it need not stay marked sensitive.
  inventory_yaml = nonsensitive(module.inventory.inventory_yaml)
}
