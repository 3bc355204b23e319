output "inventory_yaml" {
  description = "The inventory for rustfs-provision: terraform output -raw inventory_yaml > inventory.yaml"
  value       = module.inventory.inventory_yaml
  sensitive   = true
}

output "server_command" {
  description = "The rustfs server command line of every node."
  value       = module.inventory.server_command
}

output "erasure" {
  description = "The erasure layout."
  value       = module.inventory.erasure
}
