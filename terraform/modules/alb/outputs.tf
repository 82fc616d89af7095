output "dns_name" {
  description = "ALB DNS name."
  value       = aws_lb.this.dns_name
}

output "app_url" {
  description = "Public URL of the API."
  value       = "https://${var.domain_name}"
}

output "arn_suffix" {
  description = "ALB ARN suffix (CloudWatch dimension)."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn" {
  description = "Target group of the nodes."
  value       = aws_lb_target_group.app.arn
}

output "target_group_arn_suffix" {
  description = "Target group ARN suffix (CloudWatch dimension)."
  value       = aws_lb_target_group.app.arn_suffix
}

output "security_group_id" {
  description = "ALB security group."
  value       = aws_security_group.alb.id
}

output "https_listener_arn" {
  description = "HTTPS listener."
  value       = aws_lb_listener.https.arn
}

output "cognito_user_pool_id" {
  description = "User pool of the operators when auth.mode = \"cognito\" (add users with aws cognito-idp admin-create-user), else null."
  value       = one(aws_cognito_user_pool.console[*].id)
}

output "sign_in_url" {
  description = "Cognito hosted UI domain when auth.mode = \"cognito\", else null."
  value       = local.auth_cognito ? "https://${local.cognito_domain}.auth.${data.aws_region.this.region}.amazoncognito.com" : null
}
