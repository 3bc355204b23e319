# The provision step end to end with the real rustfs-provision, against a mocked AWS: `terraform
# apply` writes the inventory the module renders and runs `rustfs-provision validate` on it, so
# the run fails unless the provisioner accepts that exact file. scripts/terraform-test.sh runs it
# (terraform test -test-directory=tests/provisioner) with:
#   rustfs_provision  the rustfs-provision binary
#   workdir           an empty directory holding a `rustfs` file and an `id_ed25519` key file

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
  }
  mock_data "aws_ami" {
    defaults = { id = "ami-0123456789abcdef0" }
  }
}

variables {
  name                 = "prod"
  operator_cidrs       = ["203.0.113.7/32"]
  ssh_public_key       = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKqS5Mj7E0F8b3rZ1l0dN3uYfEAz5xRkz2hQ2g4o0x5J ops@example"
  ssh_private_key_path = "${var.workdir}/id_ed25519"
  binary               = { path = "./rustfs" }
}

run "mnmd_4x4_inventory_is_valid" {
  command = apply

  variables {
    provision = {
      enabled             = true
      command             = var.rustfs_provision
      arguments           = ["validate"]
      inventory_file      = "${var.workdir}/mnmd.yaml"
      wait_for_cloud_init = false
    }
  }

  assert {
    condition     = length(terraform_data.provision) == 1 && length(terraform_data.cloud_init) == 0
    error_message = "the provision step ran (and so did rustfs-provision validate), without the cloud-init wait"
  }
}

run "cluster_network_and_single_drives_inventory_is_valid" {
  command = apply

  variables {
    drives_per_node = 1
    node_count      = 8
    parity          = 3
    node_address    = "private_dns"
    credentials     = { password_file = "${var.workdir}/password" }
    provision = {
      enabled             = true
      command             = var.rustfs_provision
      arguments           = ["validate"]
      inventory_file      = "${var.workdir}/mnsd.yaml"
      wait_for_cloud_init = false
    }
  }

  assert {
    condition     = output.server_args == tolist(["https://node{1...8}.prod.rustfs.internal:9000/mnt/disk1"])
    error_message = "private DNS names give the ellipsis form"
  }
}
