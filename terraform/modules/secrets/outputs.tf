output "kms_key_arn" {
  description = "ARN of the key that encrypts the app's parameters."
  value       = aws_kms_key.ssm.arn
}

output "kms_alias_name" {
  description = "Alias of that key (for aws ssm put-parameter --key-id)."
  value       = aws_kms_alias.ssm.name
}

output "parameter_arns" {
  description = "ARNs of the out-of-band parameters, by short name."
  value       = { for k, p in aws_ssm_parameter.secret : k => p.arn }
}
