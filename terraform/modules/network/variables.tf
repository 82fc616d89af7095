variable "name" {
  description = "Name prefix (<app>-<env>)."
  type        = string
}

variable "region" {
  description = "AWS region (for endpoint service names)."
  type        = string
}

variable "cidr" {
  description = "VPC CIDR (a /16: public subnets are /24, private ones /20)."
  type        = string
}

variable "az_count" {
  description = "Number of availability zones."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (staging) instead of one per AZ (prod)."
  type        = bool
  default     = false
}

variable "interface_endpoints" {
  description = "Interface endpoints in the private subnets."
  type        = list(string)
  default     = ["ssm", "kms", "ec2messages", "ssmmessages"]
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow logs."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
