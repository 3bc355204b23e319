# An optional network load balancer in front of the nodes' S3 (and console) port. Its target
# health check asks each node /rustfs/health/ready, which answers 200 only once the node serves S3
# as part of its cluster; with TLS the check speaks HTTPS (the load balancer does not verify the
# node's certificate, clients do).

locals {
  lb_listeners = var.load_balancer.enabled ? merge(
    { s3 = var.ports.s3 },
    var.load_balancer.console ? { console = var.ports.console } : {},
  ) : {}
  # With an ACM certificate the listener terminates TLS and re-encrypts to the nodes.
  lb_terminates_tls = var.load_balancer.certificate_arn != null
}

resource "aws_lb" "this" {
  count                            = var.load_balancer.enabled ? 1 : 0
  name_prefix                      = "rustfs"
  load_balancer_type               = "network"
  internal                         = var.load_balancer.internal
  subnets                          = [for s in local.subnets : s.id]
  security_groups                  = [aws_security_group.lb[0].id]
  enable_cross_zone_load_balancing = true
  tags                             = merge(local.common_tags, { Name = var.name })
}

resource "aws_lb_target_group" "this" {
  for_each             = local.lb_listeners
  name_prefix          = each.key == "s3" ? "s3" : "con"
  port                 = each.value
  protocol             = local.lb_terminates_tls ? "TLS" : "TCP"
  target_type          = "instance"
  vpc_id               = local.vpc_id
  deregistration_delay = 30

  health_check {
    enabled             = true
    protocol            = var.tls ? "HTTPS" : "HTTP"
    port                = tostring(var.ports.s3)
    path                = "/rustfs/health/ready"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = merge(local.common_tags, { Name = "${var.name}-${each.key}" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_target_group_attachment" "this" {
  for_each         = { for pair in setproduct(keys(local.lb_listeners), keys(local.nodes)) : "${pair[0]}-${pair[1]}" => { listener = pair[0], node = pair[1] } }
  target_group_arn = aws_lb_target_group.this[each.value.listener].arn
  target_id        = aws_instance.node[each.value.node].id
  port             = local.lb_listeners[each.value.listener]
}

resource "aws_lb_listener" "this" {
  for_each          = local.lb_listeners
  load_balancer_arn = aws_lb.this[0].arn
  port              = each.value
  protocol          = local.lb_terminates_tls ? "TLS" : "TCP"
  certificate_arn   = var.load_balancer.certificate_arn
  ssl_policy        = local.lb_terminates_tls ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[each.key].arn
  }

  tags = local.common_tags
}
