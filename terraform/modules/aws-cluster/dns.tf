# A private hosted zone naming the nodes (nodeN.<zone> → private IP), made only when the inventory
# uses those names: for the hosts' address or for the cluster network. Numbered names give the
# pool argument its ellipsis form, as the seed recommends: https://node{1...4}.<zone>:9000/...

resource "aws_route53_zone" "private" {
  count         = local.use_private_zone ? 1 : 0
  name          = local.private_zone_name
  comment       = "RustFS cluster ${var.name}: node names"
  force_destroy = true

  vpc {
    vpc_id = local.vpc_id
  }

  tags = local.common_tags
}

resource "aws_route53_record" "node" {
  for_each = local.use_private_zone ? local.nodes : {}
  zone_id  = aws_route53_zone.private[0].zone_id
  name     = "${each.key}.${local.private_zone_name}"
  type     = "A"
  ttl      = 60
  records  = [aws_instance.node[each.key].private_ip]
}
