output "s3_endpoint" {
  description = "The internal load balancer's S3 URL (reachable inside the VPC)."
  value       = module.cluster.s3_endpoint
}

output "node1_s3_endpoint" {
  description = "node1's S3 URL, for the aws CLI with --ca-bundle (the name is in the node's certificate)."
  value       = module.cluster.nodes[0].s3_endpoint
}

output "node_s3_endpoints" {
  description = "Every node's S3 URL (the names in the nodes' TLS certificates)."
  value       = [for n in module.cluster.nodes : n.s3_endpoint]
}

output "nodes" {
  description = "Instances, zones, addresses and volumes."
  value       = module.cluster.nodes
}

output "erasure" {
  description = "The erasure layout."
  value       = module.cluster.erasure
}

output "inventory_yaml" {
  description = "The inventory for rustfs-provision (also written to inventory.yaml here by the provision step)."
  value       = module.cluster.inventory_yaml
}

output "ssh_user" {
  description = "Log in with ssh -i KEY USER@ADDRESS."
  value       = module.cluster.ssh_user
}
