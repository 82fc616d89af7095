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

variable "auth" {
  description = <<-EOT
    Sign-in at the load balancer for everything it forwards to the nodes (the console and the whole
    API): mode "off" (default), "cognito" (a user pool created by this module; users are created by an
    administrator, no self sign-up, MFA required) or "oidc" (an external issuer; its client secret is
    read from the SSM SecureString named in oidc.client_secret_parameter, never from a variable).
    session_timeout is the ALB session cookie's lifetime in seconds.
  EOT
  type = object({
    mode                  = optional(string, "off")
    session_timeout       = optional(number, 28800)
    cognito_domain_prefix = optional(string)
    oidc = optional(object({
      issuer                  = string
      authorization_endpoint  = string
      token_endpoint          = string
      user_info_endpoint      = string
      client_id               = string
      client_secret_parameter = string
    }))
  })
  default = {}

  validation {
    condition     = contains(["off", "cognito", "oidc"], var.auth.mode)
    error_message = "auth.mode must be off, cognito or oidc."
  }
  validation {
    condition = var.auth.mode != "oidc" || try(alltrue([
      for u in [var.auth.oidc.issuer, var.auth.oidc.authorization_endpoint, var.auth.oidc.token_endpoint,
      var.auth.oidc.user_info_endpoint] : can(regex("^https://[^/\\s]+", u))
    ]) && var.auth.oidc.client_id != "" && startswith(var.auth.oidc.client_secret_parameter, "/"), false)
    error_message = "auth.mode = \"oidc\" needs auth.oidc: https issuer and endpoints, a client_id, and the SSM parameter name (/…) of the client secret."
  }
  validation {
    condition     = var.auth.session_timeout >= 300 && var.auth.session_timeout <= 604800
    error_message = "auth.session_timeout must be between 300 s and 7 days."
  }
  validation {
    condition     = var.auth.cognito_domain_prefix == null || can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", coalesce(var.auth.cognito_domain_prefix, "x")))
    error_message = "auth.cognito_domain_prefix: lower-case letters, digits and inner hyphens, at most 63."
  }
}
