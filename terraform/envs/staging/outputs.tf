output "app_url" {
  description = "Public URL of the API."
  value       = module.alb.app_url
}

output "alb_dns_name" {
  description = "ALB DNS name."
  value       = module.alb.dns_name
}

output "asg_name" {
  description = "Auto Scaling group (watch a rollout: aws autoscaling describe-instance-refreshes)."
  value       = module.app.asg_name
}

output "launch_template_version" {
  description = "Launch template version the fleet runs."
  value       = module.app.launch_template_latest_version
}

output "redis_primary_endpoint" {
  description = "ElastiCache primary endpoint."
  value       = module.redis.primary_endpoint_address
}

output "ssm_parameter_names" {
  description = "Parameters the nodes read (values are set out of band and never output)."
  value       = module.config.ssm_parameter_names
}

output "kms_alias" {
  description = "Key alias for aws ssm put-parameter --key-id."
  value       = module.secrets.kms_alias_name
}

output "cognito_user_pool_id" {
  description = "Operators' user pool when sign-in is on (auth.mode = \"cognito\"), else null."
  value       = module.alb.cognito_user_pool_id
}
