variable "name" {
  description = "Name prefix (<app>-<env>); also the replication group id (at most 40 characters)."
  type        = string

  validation {
    condition     = length(var.name) <= 40
    error_message = "name must be at most 40 characters."
  }
}

variable "vpc_id" {
  description = "VPC id."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets, in at least 2 AZs."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Redis needs subnets in at least 2 AZs for multi-AZ failover."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect (the nodes)."
  type        = list(string)
}

variable "node_type" {
  description = "Cache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
}

variable "port" {
  description = "Redis port."
  type        = number
  default     = 6379
}

variable "num_cache_clusters" {
  description = "Primary + replicas (at least 2: multi-AZ with automatic failover)."
  type        = number
  default     = 2

  validation {
    condition     = var.num_cache_clusters >= 2
    error_message = "num_cache_clusters must be at least 2."
  }
}

variable "kms_key_arn" {
  description = "KMS key for at-rest encryption and the AUTH token parameter."
  type        = string
}

variable "auth_token_parameter_name" {
  description = "SSM name for the AUTH token (<ssm prefix>/redis_auth_token)."
  type        = string
}

variable "snapshot_retention_limit" {
  description = "Days of automatic snapshots."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_limit >= 1
    error_message = "Keep at least one day of snapshots."
  }
}

variable "apply_immediately" {
  description = "Apply changes now instead of in the maintenance window."
  type        = bool
  default     = false
}

variable "max_connections_alarm" {
  description = "CurrConnections alarm threshold."
  type        = number
  default     = 5000
}

variable "alarm_topic_arns" {
  description = "SNS topics notified by the alarms."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
