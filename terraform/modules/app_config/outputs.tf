output "name" {
  description = "Name prefix for resources: <app>-<environment>."
  value       = local.name
}

output "tags" {
  description = "Standard tags (provider default_tags and ASG propagate_at_launch)."
  value       = local.tags
}

output "ssm_prefix" {
  description = "SSM path that holds this environment's parameters."
  value       = local.ssm_prefix
}

output "ssm_parameter_names" {
  description = "Full SSM names of the node's secrets, by short name."
  value       = local.ssm_parameter_names
}

output "instance_policy_json" {
  description = "The node role's inline IAM policy."
  value       = jsonencode(local.instance_policy)
}

output "node_env" {
  description = "Content of /etc/gist/node.env."
  value       = local.node_env
}

output "user_data" {
  description = "cloud-config for the launch template (plain text; base64-encode it there)."
  value       = local.user_data
}
