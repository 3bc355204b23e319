# Security groups. Nodes: S3 and console from the allowed networks and the operator, SSH from the
# operator only, and the S3 port (which also carries inter-node RPC) from members of the group
# itself, so no other instance in the VPC reaches the RPC API. The load balancer has its own group.

locals {
  s3_cidrs      = distinct(concat(var.operator_cidrs, var.allowed_s3_cidrs))
  console_cidrs = distinct(concat(var.operator_cidrs, var.allowed_console_cidrs))
}

resource "aws_security_group" "node" {
  name_prefix = "${var.name}-node-"
  description = "RustFS cluster ${var.name}: nodes"
  vpc_id      = local.vpc_id
  tags        = merge(local.common_tags, { Name = "${var.name}-node" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "s3" {
  for_each          = toset(local.s3_cidrs)
  security_group_id = aws_security_group.node.id
  description       = "S3 from ${each.key}"
  ip_protocol       = "tcp"
  from_port         = var.ports.s3
  to_port           = var.ports.s3
  cidr_ipv4         = each.key
  tags              = local.common_tags
}

resource "aws_vpc_security_group_ingress_rule" "console" {
  for_each          = toset(local.console_cidrs)
  security_group_id = aws_security_group.node.id
  description       = "console from ${each.key}"
  ip_protocol       = "tcp"
  from_port         = var.ports.console
  to_port           = var.ports.console
  cidr_ipv4         = each.key
  tags              = local.common_tags
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each          = toset(var.operator_cidrs)
  security_group_id = aws_security_group.node.id
  description       = "SSH from the operator ${each.key}"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.key
  tags              = local.common_tags
}

resource "aws_vpc_security_group_ingress_rule" "inter_node" {
  security_group_id            = aws_security_group.node.id
  description                  = "S3 and inter-node RPC between the nodes of ${var.name}"
  ip_protocol                  = "tcp"
  from_port                    = var.ports.s3
  to_port                      = var.ports.s3
  referenced_security_group_id = aws_security_group.node.id
  tags                         = local.common_tags
}

resource "aws_vpc_security_group_ingress_rule" "from_load_balancer" {
  for_each                     = var.load_balancer.enabled ? toset(concat([tostring(var.ports.s3)], var.load_balancer.console ? [tostring(var.ports.console)] : [])) : toset([])
  security_group_id            = aws_security_group.node.id
  description                  = "port ${each.key} and health checks from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.key)
  to_port                      = tonumber(each.key)
  referenced_security_group_id = aws_security_group.lb[0].id
  tags                         = local.common_tags
}

resource "aws_vpc_security_group_egress_rule" "node_all" {
  security_group_id = aws_security_group.node.id
  description       = "packages (cloud-init) and anything the node calls out to"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.common_tags
}

resource "aws_security_group" "lb" {
  count       = var.load_balancer.enabled ? 1 : 0
  name_prefix = "${var.name}-lb-"
  description = "RustFS cluster ${var.name}: network load balancer"
  vpc_id      = local.vpc_id
  tags        = merge(local.common_tags, { Name = "${var.name}-lb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "lb_s3" {
  for_each          = var.load_balancer.enabled ? toset(local.s3_cidrs) : toset([])
  security_group_id = aws_security_group.lb[0].id
  description       = "S3 from ${each.key}"
  ip_protocol       = "tcp"
  from_port         = var.ports.s3
  to_port           = var.ports.s3
  cidr_ipv4         = each.key
  tags              = local.common_tags
}

resource "aws_vpc_security_group_ingress_rule" "lb_console" {
  for_each          = var.load_balancer.enabled && var.load_balancer.console ? toset(local.console_cidrs) : toset([])
  security_group_id = aws_security_group.lb[0].id
  description       = "console from ${each.key}"
  ip_protocol       = "tcp"
  from_port         = var.ports.console
  to_port           = var.ports.console
  cidr_ipv4         = each.key
  tags              = local.common_tags
}

resource "aws_vpc_security_group_egress_rule" "lb_to_nodes" {
  for_each                     = var.load_balancer.enabled ? toset(concat([tostring(var.ports.s3)], var.load_balancer.console ? [tostring(var.ports.console)] : [])) : toset([])
  security_group_id            = aws_security_group.lb[0].id
  description                  = "port ${each.key} and health checks to the nodes"
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.key)
  to_port                      = tonumber(each.key)
  referenced_security_group_id = aws_security_group.node.id
  tags                         = local.common_tags
}
