output "primary_endpoint_address" {
  description = "Primary endpoint (follows failover)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "reader_endpoint_address" {
  description = "Reader endpoint."
  value       = aws_elasticache_replication_group.this.reader_endpoint_address
}

output "port" {
  description = "Redis port."
  value       = var.port
}

output "security_group_id" {
  description = "Redis security group."
  value       = aws_security_group.redis.id
}

output "auth_token_parameter_name" {
  description = "SSM name of the AUTH token (the value itself is never an output)."
  value       = aws_ssm_parameter.auth_token.name
}
