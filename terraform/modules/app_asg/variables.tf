variable "name" {
  description = "Name prefix (<app>-<env>)."
  type        = string
}

variable "vpc_id" {
  description = "VPC id."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for the nodes, one per AZ (at least 2)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "Nodes must be spread over at least 2 AZs."
  }
}

variable "ami_id" {
  description = "AMI built by packer/ (from its manifest: builds[-1].artifact_id, the part after ':')."
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be an AMI id (ami-...)."
  }
}

variable "instance_type" {
  description = "Instance type."
  type        = string
  default     = "t3.small"
}

variable "root_volume_size" {
  description = "Root volume size in GiB (at least the AMI's)."
  type        = number
  default     = 16
}

variable "ebs_kms_key_arn" {
  description = "KMS key for the root volume; null = the account's default EBS key."
  type        = string
  default     = null
}

variable "user_data" {
  description = "cloud-config from modules/app_config (plain text)."
  type        = string
}

variable "instance_policy_json" {
  description = "Inline IAM policy of the node role, from modules/app_config."
  type        = string
}

variable "min_size" {
  description = "Minimum number of nodes."
  type        = number
  default     = 2

  validation {
    condition     = var.min_size >= 1
    error_message = "min_size must be at least 1."
  }
}

variable "max_size" {
  description = "Maximum number of nodes."
  type        = number
  default     = 6
}

variable "desired_capacity" {
  description = "Initial number of nodes (later owned by the scaling policies)."
  type        = number
  default     = 2
}

variable "app_port" {
  description = "Port nginx listens on."
  type        = number
  default     = 8080
}

variable "target_group_arn" {
  description = "ALB target group."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "Target group ARN suffix (CloudWatch dimension, scaling resource label)."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ALB ARN suffix (CloudWatch dimension, scaling resource label)."
  type        = string
}

variable "alb_security_group_id" {
  description = "ALB security group: the only source allowed to the app port."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR."
  type        = string
}

variable "redis_security_group_id" {
  description = "Redis security group (egress target)."
  type        = string
}

variable "redis_port" {
  description = "Redis port."
  type        = number
  default     = 6379
}

variable "health_check_grace_period" {
  description = "Seconds after launch before ELB health counts (boot, secrets, nginx)."
  type        = number
  default     = 120
}

variable "instance_warmup" {
  description = "Seconds until a new node's metrics count / it counts as healthy in a refresh."
  type        = number
  default     = 120
}

variable "refresh_min_healthy_percentage" {
  description = "Instance refresh: capacity that must stay in service."
  type        = number
  default     = 100

  validation {
    condition     = var.refresh_min_healthy_percentage >= 90 && var.refresh_min_healthy_percentage <= 100
    error_message = "refresh_min_healthy_percentage must be 90..100."
  }
}

variable "refresh_max_healthy_percentage" {
  description = "Instance refresh: capacity allowed above desired (launch before terminate)."
  type        = number
  default     = 200

  validation {
    condition     = var.refresh_max_healthy_percentage >= 110 && var.refresh_max_healthy_percentage <= 200
    error_message = "refresh_max_healthy_percentage must be 110..200."
  }
}

variable "requests_per_target" {
  description = "Target tracking: ALB requests per node per minute."
  type        = number
  default     = 3000
}

variable "cpu_target" {
  description = "Target tracking: average CPU percent."
  type        = number
  default     = 50
}

variable "alb_5xx_threshold" {
  description = "ALB 5xx per minute that trips the alarm (and rolls back a refresh)."
  type        = number
  default     = 10
}

variable "target_5xx_threshold" {
  description = "Target 5xx per minute that trips the alarm (and rolls back a refresh)."
  type        = number
  default     = 10
}

variable "latency_p95_seconds" {
  description = "p95 response time alarm threshold."
  type        = number
  default     = 2
}

variable "alarm_topic_arns" {
  description = "SNS topics notified by the alarms."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource (propagated to the nodes)."
  type        = map(string)
  default     = {}
}
