variable "name" {
  description = "Name prefix (<app>-<env>); at most 28 characters (target group names are limited to 32)."
  type        = string

  validation {
    condition     = length(var.name) <= 28
    error_message = "name must be at most 28 characters."
  }
}

variable "vpc_id" {
  description = "VPC id."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets, one per AZ (at least 2)."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least 2 AZs."
  }
}

variable "domain_name" {
  description = "DNS name of the API (certificate and alias record)."
  type        = string
}

variable "zone_id" {
  description = "Route 53 hosted zone of domain_name."
  type        = string
}

variable "app_port" {
  description = "Port nginx listens on in the nodes."
  type        = number
  default     = 8080
}

variable "health_check_path" {
  description = "Target group health check path (the module's gist_health location)."
  type        = string
  default     = "/health"
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
}

variable "deletion_protection" {
  description = "ALB deletion protection (and keep the log bucket on destroy)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days to keep ALB access logs."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
