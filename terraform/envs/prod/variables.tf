variable "region" {
  description = "AWS region."
  type        = string
}

variable "account_id" {
  description = "The only AWS account this root may touch."
  type        = string
}

variable "ami_id" {
  description = "Node AMI from the Packer manifest (CI: -var ami_id=...). Changing it rolls the fleet."
  type        = string
}

variable "git_sha" {
  description = "Revision being applied (CI: -var git_sha=$(git rev-parse HEAD))."
  type        = string
  default     = "unknown"
}

variable "domain_name" {
  description = "Public DNS name of the API."
  type        = string
}

variable "zone_id" {
  description = "Route 53 zone of domain_name."
  type        = string
}

variable "write_allowed_cidrs" {
  description = "Client networks allowed to use the API (POST/DELETE /user/{login}, GET /user/{login}, /trackedusers)."
  type        = list(string)
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (confirm the subscription once)."
  type        = string
}

variable "pipedrive_url" {
  description = "The company's Pipedrive, https://<company>.pipedrive.com; empty: deals off."
  type        = string
  default     = ""
}
