output "asg_name" {
  description = "Auto Scaling group name."
  value       = aws_autoscaling_group.node.name
}

output "launch_template_id" {
  description = "Launch template id."
  value       = aws_launch_template.node.id
}

output "launch_template_latest_version" {
  description = "Launch template version the ASG runs."
  value       = aws_launch_template.node.latest_version
}

output "security_group_id" {
  description = "Node security group."
  value       = aws_security_group.node.id
}

output "instance_role_arn" {
  description = "Node IAM role."
  value       = aws_iam_role.node.arn
}

output "alarm_names" {
  description = "Alarms that roll back an instance refresh."
  value = [
    aws_cloudwatch_metric_alarm.alb_5xx.alarm_name,
    aws_cloudwatch_metric_alarm.target_5xx.alarm_name,
    aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_name,
  ]
}
