output "s3_endpoints" {
  description = "Each site's load balancer S3 URL."
  value = {
    (var.sites.primary.name)   = module.primary.s3_endpoint
    (var.sites.secondary.name) = module.secondary.s3_endpoint
  }
}

output "node_s3_endpoints" {
  description = "Each site's node S3 URLs."
  value = {
    (var.sites.primary.name)   = [for n in module.primary.nodes : n.s3_endpoint]
    (var.sites.secondary.name) = [for n in module.secondary.nodes : n.s3_endpoint]
  }
}

output "inventories" {
  description = "Each site's inventory for rustfs-provision."
  value = {
    (var.sites.primary.name)   = module.primary.inventory_yaml
    (var.sites.secondary.name) = module.secondary.inventory_yaml
  }
}
