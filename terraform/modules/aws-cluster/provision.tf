# Optional: run rustfs-provision from `terraform apply`. First wait until cloud-init on every node
# has mounted its drives (over SSH, as the operator user), then write the inventory and run the
# provisioner on this machine. Both steps run again when an instance or the inventory changes;
# `rustfs-provision apply` is idempotent, so a rerun changes only what differs.

locals {
  inventory_file = coalesce(var.provision.inventory_file, "${path.root}/inventory.yaml")
  shell_quote    = { for a in var.provision.arguments : a => "'${replace(a, "'", "'\\''")}'" }
}

resource "terraform_data" "cloud_init" {
  for_each         = var.provision.enabled && var.provision.wait_for_cloud_init ? local.nodes : {}
  triggers_replace = [aws_instance.node[each.key].id]

  connection {
    type        = "ssh"
    host        = local.node_addresses[each.key]
    user        = var.ssh_user
    private_key = file(pathexpand(var.ssh_private_key_path))
    timeout     = "10m"
  }

  provisioner "remote-exec" {
    inline = [
      "cloud-init status --wait >/dev/null 2>&1 || true",
      "for m in ${join(" ", local.drive_paths)}; do mountpoint -q \"$m\" || { echo \"${each.key}: $m is not mounted; see /var/log/cloud-init-output.log\" >&2; exit 1; }; done",
    ]
  }

  depends_on = [aws_volume_attachment.drive]
}

resource "terraform_data" "provision" {
  count = var.provision.enabled ? 1 : 0
  triggers_replace = [
    sha256(local.inventory_yaml),
    [for n in aws_instance.node : n.id],
  ]

  provisioner "local-exec" {
    interpreter = ["/bin/sh", "-c"]
    command     = <<-EOT
      set -eu
      umask 077
      printf '%s' "$RUSTFS_INVENTORY" >"$RUSTFS_INVENTORY_FILE"
      echo "wrote $RUSTFS_INVENTORY_FILE; running $RUSTFS_PROVISION ${join(" ", [for a in var.provision.arguments : local.shell_quote[a]])}"
      exec "$RUSTFS_PROVISION" ${join(" ", [for a in var.provision.arguments : local.shell_quote[a]])} "$RUSTFS_INVENTORY_FILE"
    EOT
    environment = {
      RUSTFS_INVENTORY      = local.inventory_yaml
      RUSTFS_INVENTORY_FILE = local.inventory_file
      RUSTFS_PROVISION      = var.provision.command
    }
  }

  depends_on = [
    terraform_data.cloud_init,
    aws_volume_attachment.drive,
    aws_vpc_security_group_ingress_rule.s3,
    aws_vpc_security_group_ingress_rule.ssh,
    aws_vpc_security_group_ingress_rule.inter_node,
    aws_route53_record.node,
  ]
}
