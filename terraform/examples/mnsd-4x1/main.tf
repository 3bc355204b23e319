# 4 nodes × 1 drive (multi-node single-drive) on AWS: one erasure set of EC 2+2 over four nodes in
# two zones, surviving the loss of any one node (or its drive). `terraform apply` creates the
# instances and volumes and, with provision = true, runs rustfs-provision apply on them.
# Walkthrough: README.md, "Terraform on AWS".

terraform {
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = { "managed-by" = "terraform", project = "rustfs" }
  }
}

data "aws_availability_zones" "available" {
  state = "available"
}

module "cluster" {
  source = "../../modules/aws-cluster"

  name            = var.name
  site            = var.region
  node_count      = 4
  drives_per_node = 1
  instance_type   = var.instance_type
  architecture    = var.architecture
  data_volume     = { size_gib = var.drive_size_gib, throughput = 250 }
  # Two zones, two nodes each: losing one node keeps the write quorum (3 of 4); losing a zone
  # keeps the data readable (2 of 4) until it is back. Use 4 zones to survive a zone for writes too.
  availability_zones = slice(data.aws_availability_zones.available.names, 0, 2)

  operator_cidrs       = var.operator_cidrs
  allowed_s3_cidrs     = var.allowed_s3_cidrs
  ssh_public_key       = file(pathexpand(var.ssh_public_key_file))
  ssh_private_key_path = pathexpand(var.ssh_private_key_file)

  # Internal load balancer: S3 for clients inside the VPC (and peered networks) only.
  load_balancer = { enabled = true, internal = true }

  # Relative to the inventory file, which is written beside this file.
  binary = { path = var.rustfs_binary }
  provision = {
    enabled = var.provision
    command = var.rustfs_provision
  }
}
