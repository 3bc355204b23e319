# Two sites: one 4 × 4 cluster in each of two AWS regions, each its own erasure-coded cluster with
# its own VPC, named after its site. Both can register with one control plane, which files them
# under their sites; bucket replication between the sites is configured there (issue 17), not here.
# Each cluster gets its own inventory (inventory-SITE.yaml beside this file) and its own
# provisioner state directory (~/.local/state/rustfs-provision/NAME-SITE).

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
  alias  = "primary"
  region = var.sites.primary.region

  default_tags {
    tags = { "managed-by" = "terraform", project = "rustfs", site = var.sites.primary.name }
  }
}

provider "aws" {
  alias  = "secondary"
  region = var.sites.secondary.region

  default_tags {
    tags = { "managed-by" = "terraform", project = "rustfs", site = var.sites.secondary.name }
  }
}

locals {
  common = {
    operator_cidrs       = var.operator_cidrs
    ssh_public_key       = file(pathexpand(var.ssh_public_key_file))
    ssh_private_key_path = pathexpand(var.ssh_private_key_file)
    control_plane = var.control_plane_address == null ? null : {
      address = var.control_plane_address
      token   = "$${RUSTFS_CONTROLPLANE_TOKEN}"
    }
  }
}

module "primary" {
  source    = "../../modules/aws-cluster"
  providers = { aws = aws.primary }

  name            = "${var.name}-${var.sites.primary.name}"
  site            = var.sites.primary.name
  node_count      = 4
  drives_per_node = 4
  vpc_cidr        = "10.50.0.0/16"

  operator_cidrs       = local.common.operator_cidrs
  allowed_s3_cidrs     = var.allowed_s3_cidrs
  ssh_public_key       = local.common.ssh_public_key
  ssh_private_key_path = local.common.ssh_private_key_path
  control_plane        = local.common.control_plane
  load_balancer        = { enabled = true }

  binary = { path = var.rustfs_binary }
  provision = {
    enabled        = var.provision
    command        = var.rustfs_provision
    inventory_file = "${path.root}/inventory-${var.sites.primary.name}.yaml"
  }
}

module "secondary" {
  source    = "../../modules/aws-cluster"
  providers = { aws = aws.secondary }

  name            = "${var.name}-${var.sites.secondary.name}"
  site            = var.sites.secondary.name
  node_count      = 4
  drives_per_node = 4
  # A CIDR of its own, so the two VPCs can be peered for replication traffic.
  vpc_cidr = "10.51.0.0/16"

  operator_cidrs       = local.common.operator_cidrs
  allowed_s3_cidrs     = var.allowed_s3_cidrs
  ssh_public_key       = local.common.ssh_public_key
  ssh_private_key_path = local.common.ssh_private_key_path
  control_plane        = local.common.control_plane
  load_balancer        = { enabled = true }

  binary = { path = var.rustfs_binary }
  provision = {
    enabled        = var.provision
    command        = var.rustfs_provision
    inventory_file = "${path.root}/inventory-${var.sites.secondary.name}.yaml"
  }
}
