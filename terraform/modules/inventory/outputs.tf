output "inventory_yaml" {
  description = "The inventory.yaml that rustfs-provision reads (version 1). Sensitive because literal credentials would be in it; by default it holds only $${RUSTFS_ROOT_USER}/$${RUSTFS_ROOT_PASSWORD} references. Write it with `terraform output -raw inventory_yaml > inventory.yaml`."
  value       = local.inventory_yaml
  sensitive   = true

  precondition {
    condition     = length(local.pool_errors) == 0
    error_message = "pools: ${join("; ", local.pool_errors)}."
  }
}

output "server_args" {
  description = "The `rustfs server` pool arguments, the same on every node: one argument with ellipses per pool (https://node{1...4}:9000/mnt/disk{1...4}) when the hosts' endpoint addresses and drive paths are numbered consecutively; otherwise (one pool only) every drive listed one by one, drive-major."
  value       = tolist(local.server_args)

  precondition {
    condition     = length(var.pools) <= 1 || length(local.pools_without_ellipsis) == 0
    error_message = "pools: with several pools each pool is one argument with ellipses, so the endpoint addresses of its hosts (cluster_address, else address) must be numbered consecutively (node{1...4}, 10.0.0.{1...4}) and its hosts must share the same consecutively numbered drive paths (/mnt/disk{1...4}); not so in ${join(", ", [for i in local.pools_without_ellipsis : "pools[${i}]"])}."
  }
}

output "server_command" {
  description = "The whole `rustfs server` command line of every node (credentials, TLS files and ports go in its environment)."
  value       = "rustfs server ${join(" ", local.server_args)}"
}

output "volumes" {
  description = "The pool arguments as one space-separated string: the value of RUSTFS_VOLUMES."
  value       = join(" ", local.server_args)
}

output "erasure" {
  description = "Per pool: its hosts, drives per host, erasure-set size, number of sets, data and parity shards, read and write quorum."

  precondition {
    condition     = length(local.unsettable_pools) == 0
    error_message = "hosts: ${join("; ", local.unsettable_pools)}."
  }

  value = [
    for i, m in local.pool_members : {
      hosts           = m[*].name
      drives_per_host = local.layouts[i].per_host
      set_drive_count = local.set_sizes[i]
      sets            = local.set_sizes[i] == null ? null : local.layouts[i].total / local.set_sizes[i]
      parity          = local.set_sizes[i] == null ? null : coalesce(var.parity, floor(local.set_sizes[i] / 2))
      data            = local.set_sizes[i] == null ? null : local.set_sizes[i] - coalesce(var.parity, floor(local.set_sizes[i] / 2))
      read_quorum     = local.set_sizes[i] == null ? null : local.set_sizes[i] - coalesce(var.parity, floor(local.set_sizes[i] / 2))
      write_quorum = local.set_sizes[i] == null ? null : (
        local.set_sizes[i] - coalesce(var.parity, floor(local.set_sizes[i] / 2)) == coalesce(var.parity, floor(local.set_sizes[i] / 2)) ?
        local.set_sizes[i] - coalesce(var.parity, floor(local.set_sizes[i] / 2)) + 1 :
        local.set_sizes[i] - coalesce(var.parity, floor(local.set_sizes[i] / 2))
      )
    }
  ]
}

output "nodes" {
  description = "The hosts that run a node: name, address (SSH and clients), cluster_address (null without a cluster network) and s3_endpoint (the URL clients use on that node)."
  value = [
    for h in local.node_hosts : {
      name            = h.name
      address         = h.address
      cluster_address = h.cluster_address
      s3_endpoint     = format("%s://%s:%d", local.scheme, strcontains(h.address, ":") ? "[${h.address}]" : h.address, var.ports.s3)
    }
  ]
}

output "s3_endpoints" {
  description = "Every node's S3 URL for clients (address and S3 port)."
  value       = tolist([for h in local.node_hosts : format("%s://%s:%d", local.scheme, strcontains(h.address, ":") ? "[${h.address}]" : h.address, var.ports.s3)])
}

output "load_balancer" {
  description = "For a load balancer in front of the nodes: the hosts with the load_balancer role (name, address, ssh_user), the backends (address:port of every node's S3 port on the address clients reach), the protocol the backends speak and the readiness path to health-check."
  value = {
    hosts             = [for h in local.lb_hosts : { name = h.name, address = h.address, ssh_user = coalesce(h.ssh_user, var.ssh.user) }]
    backends          = [for h in local.node_hosts : format("%s:%d", strcontains(h.address, ":") ? "[${h.address}]" : h.address, var.ports.s3)]
    backend_protocol  = local.scheme
    health_check_path = "/rustfs/health/ready"
  }
}

output "site" {
  description = "The cluster's site (var.site, else the hosts' site, else \"default\")."
  value       = local.site
}
