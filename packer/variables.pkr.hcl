variable "region" {
  type        = string
  description = "Region to build in (the AMI stays there; copy with ami_regions if needed)."
  default     = "eu-central-1"
}

variable "deb_path" {
  type        = string
  description = "libnginx-mod-http-gist_<version>_amd64.deb built by ./build.sh package."
}

variable "git_sha" {
  type        = string
  description = "Commit the package and the provisioning were built from."
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "subnet_id" {
  type        = string
  description = "Private build subnet (with NAT or endpoints: Session Manager, no SSH ingress)."
}

variable "base_ami_owner" {
  type        = string
  description = "Owner of the official Debian cloud images."
  default     = "136693071363"
}

variable "deprecate_after_days" {
  type    = number
  default = 90
}

variable "build_instance_profile" {
  type        = string
  description = "Instance profile of the build instance (Session Manager only; terraform/bootstrap)."
  default     = "gist-packer-build"
}
