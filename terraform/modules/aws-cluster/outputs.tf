output "inventory_yaml" {
  description = "The inventory.yaml for rustfs-provision: `terraform output -raw inventory_yaml > inventory.yaml`. Holds no secret: credentials are $${RUSTFS_ROOT_USER}/$${RUSTFS_ROOT_PASSWORD} references or file paths."
  value       = local.inventory_yaml
}

output "server_args" {
  description = "The `rustfs server` pool arguments every node runs with (ellipses when the endpoint names are numbered, e.g. with cluster_address = \"private_dns\")."
  value       = module.inventory.server_args
}

output "server_command" {
  description = "The whole `rustfs server` command line of every node."
  value       = module.inventory.server_command
}

output "erasure" {
  description = "The erasure layout: set size, number of sets, data and parity shards, read and write quorum."
  value       = module.inventory.erasure
}

output "nodes" {
  description = "Per node: instance ID, zone, private and public IP, the inventory address and cluster address, its S3 URL and its data volume IDs (by mount point)."
  value = [
    for i in range(var.node_count) : {
      name            = "node${i + 1}"
      instance_id     = aws_instance.node["node${i + 1}"].id
      zone            = local.nodes["node${i + 1}"].zone
      private_ip      = aws_instance.node["node${i + 1}"].private_ip
      public_ip       = aws_instance.node["node${i + 1}"].public_ip
      address         = local.node_addresses["node${i + 1}"]
      cluster_address = local.node_cluster_addresses["node${i + 1}"]
      s3_endpoint     = module.inventory.s3_endpoints[i]
      volumes         = { for d in range(1, var.drives_per_node + 1) : "/mnt/disk${d}" => aws_ebs_volume.drive["node${i + 1}-disk${d}"].id }
    }
  ]
}

output "s3_endpoint" {
  description = "Where S3 clients connect: the load balancer when there is one, else the first node."
  value       = var.load_balancer.enabled ? format("%s://%s:%d", var.tls ? "https" : "http", aws_lb.this[0].dns_name, var.ports.s3) : module.inventory.s3_endpoints[0]
}

output "load_balancer_dns_name" {
  description = "DNS name of the network load balancer (null without one); point your S3 name at it (CNAME or alias)."
  value       = var.load_balancer.enabled ? aws_lb.this[0].dns_name : null
}

output "load_balancer_zone_id" {
  description = "Hosted zone ID of the load balancer, for a Route 53 alias record (null without one)."
  value       = var.load_balancer.enabled ? aws_lb.this[0].zone_id : null
}

output "security_group_id" {
  description = "Security group of the nodes (members reach each other's S3/RPC port); add rules or members for clients inside the VPC."
  value       = aws_security_group.node.id
}

output "vpc_id" {
  description = "The VPC of the nodes (created or given through subnet_ids)."
  value       = local.vpc_id
}

output "subnet_ids" {
  description = "The subnets the nodes are spread over, in order."
  value       = [for s in local.subnets : s.id]
}

output "private_zone_id" {
  description = "The Route 53 private zone naming the nodes (null when not made)."
  value       = local.use_private_zone ? aws_route53_zone.private[0].zone_id : null
}

output "ssh_user" {
  description = "The user rustfs-provision (and you) log in as: ssh -i KEY USER@ADDRESS."
  value       = var.ssh_user
}
