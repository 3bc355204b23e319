# 4 nodes × 4 drives (multi-node multi-drive) on AWS: four sets of EC 2+2 spread over three zones,
# surviving the loss of any one node, behind a network load balancer. `terraform apply` creates the
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

module "cluster" {
  source = "../../modules/aws-cluster"

  name            = var.name
  site            = var.region
  node_count      = 4
  drives_per_node = 4
  instance_type   = var.instance_type
  architecture    = var.architecture
  data_volume     = { size_gib = var.drive_size_gib }

  operator_cidrs       = var.operator_cidrs
  allowed_s3_cidrs     = var.allowed_s3_cidrs
  ssh_public_key       = file(pathexpand(var.ssh_public_key_file))
  ssh_private_key_path = pathexpand(var.ssh_private_key_file)

  load_balancer = { enabled = true }

  # Relative to the inventory file, which is written beside this file.
  binary = { path = var.rustfs_binary }
  provision = {
    enabled = var.provision
    command = var.rustfs_provision
  }
}
