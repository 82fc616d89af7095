# ElastiCache Redis, cluster mode disabled (one primary endpoint: the node's tunnel needs a single
# upstream and hiredis 0.14 is not cluster-aware), a replica in another AZ, automatic failover,
# encryption at rest (KMS) and in transit (TLS required; the nodes reach it through their local TLS
# tunnel), AUTH token generated here and handed to the nodes through SSM (SecureString).
#
# The token is in the Terraform state: the state bucket is SSE-KMS with restricted access (bootstrap/).

resource "random_password" "auth" {
  length  = 64
  special = true
  # ElastiCache AUTH tokens: printable ASCII, no '/', '"', '@' or spaces.
  override_special = "!&#$^<>-"
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_elasticache_parameter_group" "this" {
  name   = "${var.name}-redis7"
  family = "redis7"
  tags   = var.tags

  # The module's state is durable (tracked users, seen gists): never evict.
  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }
}

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "ElastiCache: Redis port from the nodes only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-redis" })
}

resource "aws_vpc_security_group_ingress_rule" "from_nodes" {
  for_each = toset(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from the nodes"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = each.value
}

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = "/${var.name}/elasticache/slow-log"
  retention_in_days = 30
  tags              = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "${var.name} gist state"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = var.port
  num_cache_clusters   = var.num_cache_clusters
  parameter_group_name = aws_elasticache_parameter_group.this.name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = [aws_security_group.redis.id]

  multi_az_enabled           = true
  automatic_failover_enabled = true

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.auth.result
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = var.snapshot_retention_limit
  snapshot_window            = "03:00-04:00"
  maintenance_window         = "sun:04:30-sun:05:30"
  final_snapshot_identifier  = "${var.name}-final"
  apply_immediately          = var.apply_immediately
  auto_minor_version_upgrade = true

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  tags = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_ssm_parameter" "auth_token" {
  name        = var.auth_token_parameter_name
  description = "${var.name} ElastiCache AUTH token (managed by Terraform)"
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = random_password.auth.result
  tags        = var.tags
}

# --- Alarms ---------------------------------------------------------------------------------

locals {
  # Member ids of a cluster-mode-disabled group are <id>-001, -002, ...: known at plan time, unlike
  # the member_clusters attribute, so they can drive for_each.
  member_clusters = [for i in range(1, var.num_cache_clusters + 1) : format("%s-%03d", var.name, i)]
  alarms = {
    engine-cpu      = { metric = "EngineCPUUtilization", threshold = 80, statistic = "Average" }
    memory          = { metric = "DatabaseMemoryUsagePercentage", threshold = 80, statistic = "Maximum" }
    replication-lag = { metric = "ReplicationLag", threshold = 30, statistic = "Maximum" }
    connections     = { metric = "CurrConnections", threshold = var.max_connections_alarm, statistic = "Maximum" }
  }
}

resource "aws_cloudwatch_metric_alarm" "redis" {
  for_each = {
    for pair in setproduct(keys(local.alarms), local.member_clusters) :
    "${pair[0]}-${pair[1]}" => { alarm = local.alarms[pair[0]], cluster = pair[1] }
  }

  alarm_name          = "${var.name}-redis-${each.key}"
  namespace           = "AWS/ElastiCache"
  metric_name         = each.value.alarm.metric
  dimensions          = { CacheClusterId = each.value.cluster }
  statistic           = each.value.alarm.statistic
  period              = 300
  evaluation_periods  = 2
  threshold           = each.value.alarm.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = var.alarm_topic_arns
  ok_actions          = var.alarm_topic_arns
  tags                = var.tags
}
