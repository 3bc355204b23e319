# Bad input to the aws-cluster module fails at plan time with its own rule, before anything is
# created. Each run breaks one thing of a valid 4 × 4 cluster.

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
  ssh_private_key_path = "~/.ssh/id_ed25519"
  binary               = { path = "./rustfs" }
}

run "valid_baseline" {
  command = plan
  assert {
    condition     = length(aws_instance.node) == 4 && length(aws_ebs_volume.drive) == 16
    error_message = "the baseline must plan, or the runs below prove nothing"
  }
}

run "three_nodes_with_ec_2_2" {
  command = plan
  variables {
    node_count = 3
    parity     = 2
  }
  expect_failures = [var.node_count]
}

run "single_node_with_four_instances" {
  command = plan
  variables {
    single_node = true
  }
  expect_failures = [var.node_count]
}

run "single_node_with_one_drive" {
  command = plan
  variables {
    single_node     = true
    node_count      = 1
    drives_per_node = 1
  }
  expect_failures = [var.drives_per_node]
}

run "too_many_drives" {
  command = plan
  variables {
    drives_per_node = 17
  }
  expect_failures = [var.drives_per_node]
}

run "bad_cluster_name" {
  command = plan
  variables {
    name = "Prod_Cluster"
  }
  expect_failures = [var.name]
}

run "ssh_open_to_the_internet" {
  command = plan
  variables {
    operator_cidrs = ["0.0.0.0/0"]
  }
  expect_failures = [var.operator_cidrs]
}

run "operator_cidr_not_a_cidr" {
  command = plan
  variables {
    operator_cidrs = ["203.0.113.7"]
  }
  expect_failures = [var.operator_cidrs]
}

run "allowed_s3_cidr_not_a_cidr" {
  command = plan
  variables {
    allowed_s3_cidrs = ["anywhere"]
  }
  expect_failures = [var.allowed_s3_cidrs]
}

run "public_dns_without_public_addresses" {
  command = plan
  variables {
    associate_public_ip = false
  }
  expect_failures = [var.node_address]
}

run "unknown_cluster_address_kind" {
  command = plan
  variables {
    cluster_address = "public_ip"
  }
  expect_failures = [var.cluster_address]
}

run "not_an_ssh_public_key" {
  command = plan
  variables {
    ssh_public_key = "-----BEGIN OPENSSH PRIVATE KEY-----"
  }
  expect_failures = [var.ssh_public_key]
}

run "root_as_ssh_user" {
  command = plan
  variables {
    ssh_user = "root"
  }
  expect_failures = [var.ssh_user]
}

run "literal_control_plane_token" {
  command = plan
  variables {
    control_plane = { address = "https://cp.example.com:7070", token = "s3cr3t-token" }
  }
  expect_failures = [var.control_plane]
}

run "st1_volume_too_small" {
  command = plan
  variables {
    data_volume = { type = "st1", size_gib = 100 }
  }
  expect_failures = [var.data_volume]
}

run "throughput_on_gp2" {
  command = plan
  variables {
    data_volume = { type = "gp2", throughput = 250 }
  }
  expect_failures = [var.data_volume]
}

run "vpc_cidr_too_small" {
  command = plan
  variables {
    vpc_cidr = "10.0.0.0/28"
  }
  expect_failures = [var.vpc_cidr]
}

run "not_a_subnet_id" {
  command = plan
  variables {
    subnet_ids = ["10.0.1.0/24"]
  }
  expect_failures = [var.subnet_ids]
}

run "certificate_without_tls" {
  command = plan
  variables {
    tls           = false
    load_balancer = { enabled = true, certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/x" }
  }
  expect_failures = [var.load_balancer]
}

run "existing_vpc_without_dns_hostnames" {
  command = plan
  override_data {
    target = data.aws_subnet.existing[0]
    values = { id = "subnet-0aaa", vpc_id = "vpc-0existing", availability_zone = "us-east-1a" }
  }
  override_data {
    target = data.aws_vpc.existing[0]
    values = { id = "vpc-0existing", cidr_block = "10.9.0.0/16", enable_dns_support = true, enable_dns_hostnames = false }
  }
  variables {
    subnet_ids = ["subnet-0aaa"]
  }
  expect_failures = [data.aws_vpc.existing]
}

run "no_provision_arguments" {
  command = plan
  variables {
    provision = { enabled = true, arguments = [] }
  }
  expect_failures = [var.provision]
}
