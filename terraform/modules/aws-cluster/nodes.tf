# The nodes: one instance per node, spread round-robin over the subnets (and so the zones), each
# with drives_per_node EBS volumes in its zone. cloud-init creates the SSH user and formats and
# mounts the volumes; everything else on the hosts is rustfs-provision's job.

locals {
  device_letters = "fghijklmnopqrstuvwxyz"

  nodes = {
    for i in range(var.node_count) : "node${i + 1}" => {
      index     = i
      subnet_id = local.subnets[i % length(local.subnets)].id
      zone      = local.subnets[i % length(local.subnets)].zone
    }
  }
  drives = {
    for pair in setproduct(keys(local.nodes), range(1, var.drives_per_node + 1)) : "${pair[0]}-disk${pair[1]}" => {
      node   = pair[0]
      number = pair[1]
      zone   = local.nodes[pair[0]].zone
      # /dev/sdf, /dev/sdg, ...: the names AWS recommends for EBS data volumes.
      device = "/dev/sd${substr(local.device_letters, pair[1] - 1, 1)}"
      mount  = "/mnt/disk${pair[1]}"
      label  = "rustfs-d${pair[1]}"
    }
  }
  drive_paths = [for d in range(1, var.drives_per_node + 1) : "/mnt/disk${d}"]

  private_zone_name = coalesce(var.private_zone_name, "${var.name}.rustfs.internal")
  use_private_zone  = var.node_address == "private_dns" || var.cluster_address == "private_dns"
}

data "aws_ami" "debian" {
  count       = var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["136693071363"] # Debian's official cloud images

  filter {
    name   = "name"
    values = ["debian-12-${var.architecture == "arm64" ? "arm64" : "amd64"}-*"]
  }

  filter {
    name   = "architecture"
    values = [var.architecture]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

resource "aws_ebs_volume" "drive" {
  for_each          = local.drives
  availability_zone = each.value.zone
  size              = var.data_volume.size_gib
  type              = var.data_volume.type
  iops              = var.data_volume.iops
  throughput        = var.data_volume.throughput
  encrypted         = var.data_volume.encrypted
  kms_key_id        = var.data_volume.kms_key_id
  tags = merge(local.common_tags, {
    Name           = "${var.name}-${each.key}"
    "rustfs:node"  = each.value.node
    "rustfs:drive" = each.value.mount
  })
}

resource "aws_instance" "node" {
  for_each                    = local.nodes
  ami                         = coalesce(var.ami_id, try(data.aws_ami.debian[0].id, null))
  instance_type               = var.instance_type
  subnet_id                   = each.value.subnet_id
  vpc_security_group_ids      = [aws_security_group.node.id]
  associate_public_ip_address = var.associate_public_ip

  user_data = join("\n", ["#cloud-config", yamlencode({
    hostname                  = each.key
    fqdn                      = "${each.key}.${local.private_zone_name}"
    prefer_fqdn_over_hostname = false
    manage_etc_hosts          = true
    ssh_pwauth                = false
    disable_root              = true
    package_update            = true
    packages                  = ["xfsprogs"]
    users = ["default", {
      name                = var.ssh_user
      gecos               = "RustFS operator (rustfs-provision logs in as this user)"
      shell               = "/bin/bash"
      sudo                = "ALL=(ALL) NOPASSWD:ALL"
      lock_passwd         = true
      ssh_authorized_keys = [trimspace(var.ssh_public_key)]
    }]
    write_files = [{
      path        = "/usr/local/sbin/rustfs-setup-drives"
      permissions = "0755"
      owner       = "root:root"
      content = templatefile("${path.module}/templates/setup-drives.sh.tftpl", {
        drives = [
          for d in range(1, var.drives_per_node + 1) : merge(local.drives["${each.key}-disk${d}"], {
            volume_id = aws_ebs_volume.drive["${each.key}-disk${d}"].id
          })
        ]
      })
    }]
    runcmd = [["/usr/local/sbin/rustfs-setup-drives"]]
  })])

  metadata_options {
    http_tokens   = "required" # IMDSv2 only
    http_endpoint = "enabled"
  }

  root_block_device {
    volume_size = var.root_volume_size_gib
    volume_type = "gp3"
    encrypted   = true
  }

  tags = merge(local.common_tags, { Name = "${var.name}-${each.key}", "rustfs:node" = each.key })

  lifecycle {
    # A newer default AMI or an edited cloud-init must not replace a node holding data: change
    # nodes one at a time on purpose (terraform apply -replace=...) and let the cluster heal.
    ignore_changes = [ami, user_data]

    precondition {
      condition     = length(local.subnets) > 0
      error_message = "no subnet to place the nodes in: give availability_zones or subnet_ids (the region lists no available zone)."
    }
  }
}

resource "aws_volume_attachment" "drive" {
  for_each    = local.drives
  device_name = each.value.device
  volume_id   = aws_ebs_volume.drive[each.key].id
  instance_id = aws_instance.node[each.value.node].id
  # Stop the node before detaching (terraform destroy), so its filesystems are unmounted cleanly.
  stop_instance_before_detaching = true
}
