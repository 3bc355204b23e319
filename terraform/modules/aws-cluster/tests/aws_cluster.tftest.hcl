# The aws-cluster module against a mocked AWS provider: `terraform apply` of the whole module with
# made-up computed values (IDs, IPs, DNS names), then assertions on what it would create in AWS and
# on the inventory it renders. Nothing reaches AWS.

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"] }
  }
  mock_data "aws_ami" {
    defaults = { id = "ami-0123456789abcdef0" }
  }
  mock_resource "aws_lb" {
    defaults = {
      arn      = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/rustfs/0123456789abcdef"
      dns_name = "rustfs-0123.elb.eu-west-1.amazonaws.com"
    }
  }
  mock_resource "aws_lb_target_group" {
    defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/rustfs/0123456789abcdef" }
  }
}

# The two target groups need ARNs of their own to tell their attachments apart.
override_resource {
  target = aws_lb_target_group.this["console"]
  values = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/con/fedcba9876543210" }
}

variables {
  name                 = "prod"
  operator_cidrs       = ["203.0.113.7/32"]
  allowed_s3_cidrs     = ["198.51.100.0/24"]
  ssh_public_key       = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKqS5Mj7E0F8b3rZ1l0dN3uYfEAz5xRkz2hQ2g4o0x5J ops@example"
  ssh_private_key_path = "~/.ssh/id_ed25519"
  binary               = { path = "./rustfs" }
}

run "mnmd_4x4_across_three_zones" {
  command = apply

  assert {
    condition     = length(aws_instance.node) == 4 && alltrue([for n in aws_instance.node : n.instance_type == "m6i.large" && n.associate_public_ip_address && n.metadata_options[0].http_tokens == "required"])
    error_message = "four m6i.large nodes with public IPs and IMDSv2 only"
  }
  assert {
    condition     = [for i in range(1, 5) : aws_instance.node["node${i}"].subnet_id] == [aws_subnet.node["eu-west-1a"].id, aws_subnet.node["eu-west-1b"].id, aws_subnet.node["eu-west-1c"].id, aws_subnet.node["eu-west-1a"].id]
    error_message = "nodes go round-robin over the first three zones"
  }
  assert {
    condition     = length(aws_subnet.node) == 3 && aws_vpc.this[0].cidr_block == "10.42.0.0/16" && aws_vpc.this[0].enable_dns_hostnames
    error_message = "a VPC with DNS hostnames and one subnet per zone"
  }
  assert {
    condition     = [for k in sort(keys(aws_subnet.node)) : aws_subnet.node[k].cidr_block] == ["10.42.0.0/20", "10.42.16.0/20", "10.42.32.0/20"]
    error_message = "subnets are carved from the VPC CIDR"
  }
  assert {
    condition     = length(aws_ebs_volume.drive) == 16 && alltrue([for k, v in aws_ebs_volume.drive : v.size == 100 && v.type == "gp3" && v.encrypted])
    error_message = "16 encrypted 100 GiB gp3 volumes"
  }
  assert {
    condition     = alltrue([for k, v in aws_ebs_volume.drive : v.availability_zone == ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1a"][tonumber(trimprefix(split("-", k)[0], "node")) - 1]])
    error_message = "every volume is in the zone of its node"
  }
  assert {
    condition = alltrue([
      for i in range(1, 5) : [for d in range(1, 5) : aws_volume_attachment.drive["node${i}-disk${d}"].device_name] == ["/dev/sdf", "/dev/sdg", "/dev/sdh", "/dev/sdi"] &&
      alltrue([for d in range(1, 5) : aws_volume_attachment.drive["node${i}-disk${d}"].instance_id == aws_instance.node["node${i}"].id && aws_volume_attachment.drive["node${i}-disk${d}"].volume_id == aws_ebs_volume.drive["node${i}-disk${d}"].id])
    ])
    error_message = "each node's volumes are attached to it as /dev/sdf../dev/sdi"
  }
  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.ssh : r.cidr_ipv4]) == toset(["203.0.113.7/32"]) && alltrue([for r in aws_vpc_security_group_ingress_rule.ssh : r.from_port == 22 && r.to_port == 22])
    error_message = "SSH only from the operator"
  }
  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.s3 : r.cidr_ipv4]) == toset(["198.51.100.0/24", "203.0.113.7/32"]) && alltrue([for r in aws_vpc_security_group_ingress_rule.s3 : r.from_port == 9000 && r.to_port == 9000])
    error_message = "S3 from the allowed networks and the operator"
  }
  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.console : r.cidr_ipv4]) == toset(["203.0.113.7/32"]) && alltrue([for r in aws_vpc_security_group_ingress_rule.console : r.from_port == 9001])
    error_message = "console from the operator only (no allowed_console_cidrs)"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.inter_node.referenced_security_group_id == aws_security_group.node.id && aws_vpc_security_group_ingress_rule.inter_node.from_port == 9000 && aws_vpc_security_group_ingress_rule.inter_node.cidr_ipv4 == null
    error_message = "inter-node RPC only from members of the node group itself"
  }
  assert {
    condition = !anytrue(concat(
      [for r in aws_vpc_security_group_ingress_rule.s3 : r.cidr_ipv4 == "0.0.0.0/0"],
      [for r in aws_vpc_security_group_ingress_rule.console : r.cidr_ipv4 == "0.0.0.0/0"],
      [for r in aws_vpc_security_group_ingress_rule.ssh : r.cidr_ipv4 == "0.0.0.0/0"],
    ))
    error_message = "nothing is open to the whole internet"
  }
  assert {
    condition     = length(aws_lb.this) == 0 && length(aws_route53_zone.private) == 0 && length(terraform_data.provision) == 0
    error_message = "no load balancer, private zone or provisioning unless asked for"
  }

  # cloud-init: the operator user with the key and sudo, XFS tools, the drive script.
  assert {
    condition     = startswith(aws_instance.node["node1"].user_data, "#cloud-config\n")
    error_message = "user data is a cloud-config document"
  }
  assert {
    condition = (
      yamldecode(trimprefix(aws_instance.node["node2"].user_data, "#cloud-config\n")).users[1] == {
        name                = "rustfs-admin"
        gecos               = "RustFS operator (rustfs-provision logs in as this user)"
        shell               = "/bin/bash"
        sudo                = "ALL=(ALL) NOPASSWD:ALL"
        lock_passwd         = true
        ssh_authorized_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKqS5Mj7E0F8b3rZ1l0dN3uYfEAz5xRkz2hQ2g4o0x5J ops@example"]
      }
    )
    error_message = "cloud-init installs the SSH key for rustfs-admin with passwordless sudo"
  }
  assert {
    condition     = contains(yamldecode(trimprefix(aws_instance.node["node2"].user_data, "#cloud-config\n")).packages, "xfsprogs") && yamldecode(trimprefix(aws_instance.node["node2"].user_data, "#cloud-config\n")).hostname == "node2"
    error_message = "cloud-init installs xfsprogs and names the host"
  }
  assert {
    condition = alltrue([
      for d in range(1, 5) : strcontains(
        yamldecode(trimprefix(aws_instance.node["node3"].user_data, "#cloud-config\n")).write_files[0].content,
        "setup_drive 'rustfs-d${d}' '${aws_ebs_volume.drive["node3-disk${d}"].id}' '/dev/sd${substr("fghi", d - 1, 1)}' '/mnt/disk${d}'"
      )
    ])
    error_message = "the drive script formats and mounts each of the node's own volumes, by volume ID, label and mount point"
  }
  assert {
    condition = alltrue([for s in [
      "mkfs.xfs -q -L \"$label\" \"$dev\"",
      "xfs defaults,noatime,nofail,x-systemd.device-timeout=30s 0 2",
      "LABEL=%s %s",
      "chattr +i \"$mount_point\"",
    ] : strcontains(yamldecode(trimprefix(aws_instance.node["node1"].user_data, "#cloud-config\n")).write_files[0].content, s)])
    error_message = "drives are XFS, mounted by label, in fstab with nofail, with immutable mount points"
  }

  # The inventory, as rustfs-provision will read it.
  assert {
    condition     = [for h in yamldecode(output.inventory_yaml).hosts : h.address] == [for i in range(1, 5) : aws_instance.node["node${i}"].public_dns]
    error_message = "hosts are addressed by their public DNS names, in node order"
  }
  assert {
    condition     = alltrue([for h in yamldecode(output.inventory_yaml).hosts : h.drives == ["/mnt/disk1", "/mnt/disk2", "/mnt/disk3", "/mnt/disk4"] && !contains(keys(h), "cluster_address")])
    error_message = "every host lists the four mounted drives and no cluster_address"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).ssh == { user = "rustfs-admin", port = 22, key = "~/.ssh/id_ed25519" } && yamldecode(output.inventory_yaml).tls == { enabled = true }
    error_message = "the provisioner logs in as rustfs-admin with the given key; TLS is on"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).credentials == { user = "$${RUSTFS_ROOT_USER}", password = "$${RUSTFS_ROOT_PASSWORD}" }
    error_message = "no credential lands in the inventory or the state"
  }
  assert {
    condition     = length(output.server_args) == 16 && output.server_args[1] == "https://${aws_instance.node["node2"].public_dns}:9000/mnt/disk1"
    error_message = "unnumbered DNS names: every drive listed, drive-major"
  }
  assert {
    condition     = output.erasure[0].set_drive_count == 4 && output.erasure[0].sets == 4 && output.erasure[0].parity == 2
    error_message = "4 × 4: four sets of EC 2+2"
  }
  assert {
    condition     = output.s3_endpoint == "https://${aws_instance.node["node1"].public_dns}:9000"
    error_message = "without a load balancer clients use the first node"
  }
}

run "mnsd_4x1_private_cluster_network_with_load_balancer" {
  command = apply

  variables {
    drives_per_node    = 1
    availability_zones = ["eu-west-1a", "eu-west-1b"]
    cluster_address    = "private_dns"
    load_balancer      = { enabled = true, console = true }
    data_volume        = { size_gib = 500, type = "st1" }
  }

  assert {
    condition     = length(aws_subnet.node) == 2 && length(aws_ebs_volume.drive) == 4 && alltrue([for v in aws_ebs_volume.drive : v.size == 500 && v.type == "st1"])
    error_message = "two zones, one 500 GiB st1 volume per node"
  }
  assert {
    condition     = aws_route53_zone.private[0].name == "prod.rustfs.internal" && [for v in aws_route53_zone.private[0].vpc : v.vpc_id] == [aws_vpc.this[0].id]
    error_message = "a private zone for the node names, in the cluster's VPC"
  }
  assert {
    condition     = alltrue([for i in range(1, 5) : aws_route53_record.node["node${i}"].name == "node${i}.prod.rustfs.internal" && aws_route53_record.node["node${i}"].records == toset([aws_instance.node["node${i}"].private_ip])])
    error_message = "nodeN.prod.rustfs.internal points at node N's private IP"
  }
  assert {
    condition     = [for h in yamldecode(output.inventory_yaml).hosts : h.cluster_address] == [for i in range(1, 5) : "node${i}.prod.rustfs.internal"]
    error_message = "the inventory carries the cluster network names"
  }
  assert {
    condition     = output.server_args == tolist(["https://node{1...4}.prod.rustfs.internal:9000/mnt/disk1"])
    error_message = "numbered names give the ellipsis pool argument"
  }
  assert {
    condition     = aws_lb.this[0].load_balancer_type == "network" && !aws_lb.this[0].internal && aws_lb.this[0].security_groups == toset([aws_security_group.lb[0].id])
    error_message = "an internet-facing network load balancer with its own security group"
  }
  assert {
    condition = (
      aws_lb_target_group.this["s3"].health_check[0].path == "/rustfs/health/ready" &&
      aws_lb_target_group.this["s3"].health_check[0].protocol == "HTTPS" &&
      aws_lb_target_group.this["s3"].health_check[0].port == "9000" &&
      aws_lb_target_group.this["s3"].health_check[0].matcher == "200" &&
      aws_lb_target_group.this["console"].health_check[0].path == "/rustfs/health/ready"
    )
    error_message = "targets are checked with HTTPS GET /rustfs/health/ready on the S3 port"
  }
  assert {
    condition     = aws_lb_listener.this["s3"].port == 9000 && aws_lb_listener.this["s3"].protocol == "TCP" && aws_lb_listener.this["console"].port == 9001
    error_message = "TCP pass-through listeners on the S3 and console ports"
  }
  assert {
    condition     = length(aws_lb_target_group_attachment.this) == 8 && toset([for a in aws_lb_target_group_attachment.this : a.target_id if a.target_group_arn == aws_lb_target_group.this["s3"].arn]) == toset([for n in aws_instance.node : n.id])
    error_message = "every node is a target of both listeners"
  }
  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.from_load_balancer : r.from_port]) == toset([9000, 9001]) && alltrue([for r in aws_vpc_security_group_ingress_rule.from_load_balancer : r.referenced_security_group_id == aws_security_group.lb[0].id])
    error_message = "nodes accept the load balancer's traffic and health checks by its security group"
  }
  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.lb_s3 : r.cidr_ipv4]) == toset(["198.51.100.0/24", "203.0.113.7/32"]) && alltrue([for r in aws_vpc_security_group_egress_rule.lb_to_nodes : r.referenced_security_group_id == aws_security_group.node.id])
    error_message = "the load balancer takes S3 from the allowed networks and talks to the nodes only"
  }
  assert {
    condition     = output.s3_endpoint == "https://rustfs-0123.elb.eu-west-1.amazonaws.com:9000"
    error_message = "clients use the load balancer"
  }
}

run "existing_subnets_private_addresses_plain_http" {
  command = apply

  override_data {
    target = data.aws_subnet.existing[0]
    values = { id = "subnet-0aaa", vpc_id = "vpc-0existing", availability_zone = "us-east-1a" }
  }
  override_data {
    target = data.aws_subnet.existing[1]
    values = { id = "subnet-0bbb", vpc_id = "vpc-0existing", availability_zone = "us-east-1b" }
  }
  override_data {
    target = data.aws_vpc.existing[0]
    values = { id = "vpc-0existing", cidr_block = "10.9.0.0/16", enable_dns_support = true, enable_dns_hostnames = false }
  }

  variables {
    subnet_ids          = ["subnet-0aaa", "subnet-0bbb"]
    associate_public_ip = false
    node_address        = "private_ip"
    tls                 = false
    node_count          = 6
    drives_per_node     = 2
    parity              = 2
    load_balancer       = { enabled = true, internal = true }
  }

  assert {
    condition     = length(aws_vpc.this) == 0 && length(aws_subnet.node) == 0 && length(aws_internet_gateway.this) == 0
    error_message = "given subnets: no network is created"
  }
  assert {
    condition     = aws_security_group.node.vpc_id == "vpc-0existing" && [for i in range(1, 7) : aws_instance.node["node${i}"].subnet_id] == ["subnet-0aaa", "subnet-0bbb", "subnet-0aaa", "subnet-0bbb", "subnet-0aaa", "subnet-0bbb"]
    error_message = "nodes alternate over the given subnets, in their VPC"
  }
  assert {
    condition     = alltrue([for i in range(1, 7) : aws_ebs_volume.drive["node${i}-disk1"].availability_zone == (i % 2 == 1 ? "us-east-1a" : "us-east-1b")])
    error_message = "volumes follow their node's subnet zone"
  }
  assert {
    condition     = alltrue([for n in aws_instance.node : !n.associate_public_ip_address])
    error_message = "no public addresses"
  }
  assert {
    condition     = [for h in yamldecode(output.inventory_yaml).hosts : h.address] == [for i in range(1, 7) : aws_instance.node["node${i}"].private_ip] && yamldecode(output.inventory_yaml).tls == { enabled = false }
    error_message = "hosts are addressed by private IP; tls = false is written as such"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).storage_class == "EC:2" && output.erasure[0].set_drive_count == 6 && output.erasure[0].sets == 2
    error_message = "6 nodes × 2 drives: two sets of 6 with EC:2"
  }
  assert {
    condition     = aws_lb.this[0].internal && aws_lb_target_group.this["s3"].health_check[0].protocol == "HTTP" && length(aws_lb_listener.this) == 1
    error_message = "an internal load balancer checking plain HTTP, S3 only"
  }
  assert {
    condition     = output.s3_endpoint == "http://rustfs-0123.elb.eu-west-1.amazonaws.com:9000"
    error_message = "plain http endpoint through the load balancer"
  }
}

run "single_node_with_tls_terminating_load_balancer" {
  command = apply

  variables {
    node_count    = 1
    single_node   = true
    load_balancer = { enabled = true, certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0b6c4a42-0000-4000-8000-000000000000" }
    credentials   = { password_file = "/run/secrets/rustfs-password" }
  }

  assert {
    condition     = length(aws_instance.node) == 1 && length(aws_subnet.node) == 1 && length(aws_ebs_volume.drive) == 4
    error_message = "one node, one subnet, four drives"
  }
  assert {
    condition     = output.server_args == tolist(["https://${aws_instance.node["node1"].public_dns}:9000/mnt/disk{1...4}"]) && output.erasure[0].sets == 1
    error_message = "a single node: one set of its four drives"
  }
  assert {
    condition     = aws_lb_listener.this["s3"].protocol == "TLS" && aws_lb_listener.this["s3"].certificate_arn != null && aws_lb_target_group.this["s3"].protocol == "TLS"
    error_message = "with a certificate the listener terminates TLS and re-encrypts to the node"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).credentials == { user = "$${RUSTFS_ROOT_USER}", password_file = "/run/secrets/rustfs-password" }
    error_message = "a password file replaces the password reference"
  }
}
