# Internet-facing ALB: HTTPS (ACM certificate, DNS-validated) with a TLS 1.3 policy, HTTP only
# redirects, access logs to S3, deletion protection, invalid headers dropped, optional sign-in
# (auth.tf). Its security group takes 80/443 from anywhere; its egress to the nodes is added by the
# app_asg module (it owns the node security group, which is the other end of the chain).

data "aws_elb_service_account" "this" {}
data "aws_caller_identity" "this" {}

# --- Security group -------------------------------------------------------------------------

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "ALB: HTTP/HTTPS from the internet, to the nodes only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each = {
    http_ipv4  = { port = 80, cidr_ipv4 = "0.0.0.0/0", cidr_ipv6 = null }
    https_ipv4 = { port = 443, cidr_ipv4 = "0.0.0.0/0", cidr_ipv6 = null }
    http_ipv6  = { port = 80, cidr_ipv4 = null, cidr_ipv6 = "::/0" }
    https_ipv6 = { port = 443, cidr_ipv4 = null, cidr_ipv6 = "::/0" }
  }

  security_group_id = aws_security_group.alb.id
  description       = "public ${each.key}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr_ipv4
  cidr_ipv6         = each.value.cidr_ipv6
}

# --- Access logs ----------------------------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  bucket        = "${var.name}-alb-logs-${data.aws_caller_identity.this.account_id}"
  force_destroy = !var.deletion_protection
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# ALB access logs support SSE-S3 only (not SSE-KMS).
resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "AlbLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/AWSLogs/${data.aws_caller_identity.this.account_id}/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.this.arn]
    }
  }
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# --- Certificate ----------------------------------------------------------------------------

resource "aws_acm_certificate" "this" {
  domain_name       = var.domain_name
  validation_method = "DNS"
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for o in aws_acm_certificate.this.domain_validation_options : o.domain_name => o
  }

  zone_id         = var.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "this" {
  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = [for r in aws_route53_record.validation : r.fqdn]
}

# --- Load balancer --------------------------------------------------------------------------

resource "aws_lb" "this" {
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  enable_deletion_protection = var.deletion_protection
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"
  idle_timeout               = 60
  tags                       = var.tags

  access_logs {
    bucket  = aws_s3_bucket.logs.id
    prefix  = "alb"
    enabled = true
  }

  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_lb_target_group" "app" {
  name                 = "${var.name}-app"
  port                 = var.app_port
  protocol             = "HTTP"
  target_type          = "instance"
  vpc_id               = var.vpc_id
  deregistration_delay = 30
  tags                 = var.tags

  # /health is the module's own handler: 200 when Redis is up, 503 when it is not. Both mean "nginx
  # and the module answer", which is what decides whether to replace a node. Redis is shared: if a
  # 503 counted as unhealthy, an ElastiCache failover would make every target unhealthy and the ASG
  # (health_check_type = ELB) would replace the whole fleet. Redis trouble is alarmed on instead
  # (target 5xx, ElastiCache alarms), and the instance refresh rolls back on those alarms.
  health_check {
    enabled             = true
    path                = var.health_check_path
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200,503"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"
  tags              = var.tags

  default_action {
    type = "redirect"
    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = aws_acm_certificate_validation.this.certificate_arn
  tags              = var.tags

  # With sign-in on (auth.tf), every request the rules below do not answer is authenticated first.
  dynamic "default_action" {
    for_each = local.auth_cognito ? [1] : []
    content {
      type  = "authenticate-cognito"
      order = 1
      authenticate_cognito {
        user_pool_arn              = aws_cognito_user_pool.console[0].arn
        user_pool_client_id        = aws_cognito_user_pool_client.alb[0].id
        user_pool_domain           = aws_cognito_user_pool_domain.console[0].domain
        on_unauthenticated_request = "authenticate"
        scope                      = "openid email"
        session_cookie_name        = "gist-session"
        session_timeout            = var.auth.session_timeout
      }
    }
  }

  dynamic "default_action" {
    for_each = local.auth_oidc ? [1] : []
    content {
      type  = "authenticate-oidc"
      order = 1
      authenticate_oidc {
        issuer                     = var.auth.oidc.issuer
        authorization_endpoint     = var.auth.oidc.authorization_endpoint
        token_endpoint             = var.auth.oidc.token_endpoint
        user_info_endpoint         = var.auth.oidc.user_info_endpoint
        client_id                  = var.auth.oidc.client_id
        client_secret              = data.aws_ssm_parameter.oidc_client_secret[0].value
        on_unauthenticated_request = "authenticate"
        scope                      = "openid email"
        session_cookie_name        = "gist-session"
        session_timeout            = var.auth.session_timeout
      }
    }
  }

  default_action {
    type             = "forward"
    order            = 10
    target_group_arn = aws_lb_target_group.app.arn
  }
}

# The health endpoint is for the ALB's own checks (which go to the targets directly), not for the
# internet.
resource "aws_lb_listener_rule" "hide_health" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10
  tags         = var.tags

  condition {
    path_pattern {
      values = [var.health_check_path]
    }
  }

  action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      message_body = "{\"error\":\"not_found\"}"
      status_code  = "404"
    }
  }
}

# /metrics (Prometheus, issue 11) is for scrapers inside the VPC, which reach the nodes directly;
# never through the internet-facing ALB. The ALB matches paths literally: other spellings
# (//metrics, /%6Detrics) fall through to the default action (sign-in when on) and reach nginx:
# a 404 today, a VPC-only location once the module has gist_metrics (conf/nginx.prod.conf).
resource "aws_lb_listener_rule" "deny_metrics" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 20
  tags         = var.tags

  condition {
    path_pattern {
      values = ["/metrics", "/metrics/*"]
    }
  }

  action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      message_body = "{\"error\":\"forbidden\"}"
      status_code  = "403"
    }
  }
}

resource "aws_route53_record" "app" {
  zone_id = var.zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}
