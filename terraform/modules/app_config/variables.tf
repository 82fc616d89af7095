variable "app" {
  description = "Application name, the first part of every name and of the SSM prefix."
  type        = string
  default     = "gist"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.app))
    error_message = "app must be 2-12 lower-case letters or digits, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name."
  type        = string

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be staging or prod."
  }
}

variable "owner" {
  description = "Owning team (tag)."
  type        = string
}

variable "cost_center" {
  description = "Cost center (tag)."
  type        = string
}

variable "git_sha" {
  description = "Revision of this repository that was applied (tag)."
  type        = string
  default     = "unknown"

  validation {
    condition     = can(regex("^([0-9a-f]{7,40}|unknown)$", var.git_sha))
    error_message = "git_sha must be a hex commit id."
  }
}

variable "extra_tags" {
  description = "More tags; the standard ones win on conflict."
  type        = map(string)
  default     = {}
}

variable "partition" {
  description = "AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "region" {
  description = "AWS region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like eu-central-1."
  }
}

variable "account_id" {
  description = "AWS account id."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the app's SecureString parameters."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (not an alias, not a wildcard)."
  }
}

variable "redis_host" {
  description = "ElastiCache primary endpoint the node's TLS tunnel connects to."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", var.redis_host))
    error_message = "redis_host must be a host name."
  }
}

variable "redis_port" {
  description = "ElastiCache port."
  type        = number
  default     = 6379
}

variable "vpc_cidr" {
  description = "VPC CIDR: the ALB's addresses, trusted for X-Forwarded-For."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && !startswith(var.vpc_cidr, "0.0.0.0/")
    error_message = "vpc_cidr must be a CIDR, not 0.0.0.0/0."
  }
}

variable "write_allowed_cidrs" {
  description = "Client networks allowed to use the API: writes and the reads that reveal CRM data (nginx access control)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.write_allowed_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "write_allowed_cidrs must be CIDRs, and none may be /0."
  }
}

variable "pipedrive_url" {
  description = "The company's Pipedrive (https://<company>.pipedrive.com); empty turns deals off."
  type        = string
  default     = ""

  validation {
    condition     = var.pipedrive_url == "" || can(regex("^https://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", var.pipedrive_url))
    error_message = "pipedrive_url must be https://<company>.pipedrive.com (no path), or empty."
  }
}
