# The network: either a new VPC with one public subnet per zone, or the caller's subnets.

locals {
  create_vpc = length(var.subnet_ids) == 0
  # Given zones are all used (up to one per node); otherwise the region's first three.
  zone_candidates = length(var.availability_zones) > 0 ? var.availability_zones : try(data.aws_availability_zones.available[0].names, [])
  zones = local.create_vpc ? slice(local.zone_candidates, 0, min(
    length(var.availability_zones) > 0 ? length(var.availability_zones) : 3,
    var.node_count,
    length(local.zone_candidates),
  )) : []

  # One entry per subnet the nodes go into, in order: {id, zone}.
  subnets = local.create_vpc ? [
    for i, z in local.zones : { id = aws_subnet.node[z].id, zone = z }
    ] : [
    for i, s in data.aws_subnet.existing : { id = s.id, zone = s.availability_zone }
  ]
  vpc_id   = local.create_vpc ? aws_vpc.this[0].id : data.aws_subnet.existing[0].vpc_id
  vpc_cidr = local.create_vpc ? aws_vpc.this[0].cidr_block : data.aws_vpc.existing[0].cidr_block

  common_tags = merge(var.tags, { "rustfs:cluster" = var.name })
}

data "aws_availability_zones" "available" {
  count = local.create_vpc && length(var.availability_zones) == 0 ? 1 : 0
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

data "aws_subnet" "existing" {
  count = length(var.subnet_ids)
  id    = var.subnet_ids[count.index]
}

data "aws_vpc" "existing" {
  count = local.create_vpc ? 0 : 1
  id    = data.aws_subnet.existing[0].vpc_id

  lifecycle {
    postcondition {
      condition     = self.enable_dns_support && (var.node_address != "public_dns" || self.enable_dns_hostnames)
      error_message = "VPC ${self.id} needs enableDnsSupport${var.node_address == "public_dns" ? " and enableDnsHostnames (node_address = \"public_dns\" uses the instances' public DNS names, which resolve to private IPs inside the VPC)" : ""}; turn them on or choose node_address = \"private_ip\"."
    }
  }
}

resource "aws_vpc" "this" {
  count                = local.create_vpc ? 1 : 0
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(local.common_tags, { Name = var.name })
}

resource "aws_internet_gateway" "this" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.common_tags, { Name = var.name })
}

resource "aws_route_table" "public" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = merge(local.common_tags, { Name = "${var.name}-public" })
}

resource "aws_route" "internet" {
  count                  = local.create_vpc ? 1 : 0
  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_subnet" "node" {
  for_each                = { for i, z in local.zones : z => i }
  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = each.key
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, each.value)
  map_public_ip_on_launch = false
  tags                    = merge(local.common_tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_route_table_association" "node" {
  for_each       = aws_subnet.node
  subnet_id      = each.value.id
  route_table_id = aws_route_table.public[0].id
}
