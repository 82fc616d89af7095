# One-time, per AWS account: the bucket and key for the environments' remote state. Its own state is
# local (keep terraform.tfstate of this root somewhere safe, or import the bucket later).
#   terraform -chdir=terraform/bootstrap init && terraform -chdir=terraform/bootstrap apply
# then write envs/<env>/backend.hcl from the outputs.

terraform {
  required_version = ">= 1.11.0, < 2.0.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

variable "region" {
  description = "AWS region of the state bucket."
  type        = string
}

variable "account_id" {
  description = "The only AWS account this root may touch."
  type        = string
}

variable "state_admin_role_arns" {
  description = "Roles (CI deployer, break-glass) that may read and write the state."
  type        = list(string)
}

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Project   = "gist"
      ManagedBy = "terraform"
      Component = "tfstate"
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "gist Terraform state (holds the Redis AUTH token)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "state" {
  name          = "alias/gist-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

resource "aws_s3_bucket" "state" {
  bucket = "gist-tfstate-${var.account_id}"

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    id     = "old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
  }
}

data "aws_iam_policy_document" "state" {
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
  statement {
    sid       = "OnlyStateAdmins"
    effect    = "Deny"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = var.state_admin_role_arns
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}

output "backend_hcl" {
  description = "Content for envs/<env>/backend.hcl."
  value       = <<-EOT
    bucket     = "${aws_s3_bucket.state.id}"
    region     = "${var.region}"
    kms_key_id = "${aws_kms_key.state.arn}"
  EOT
}

# --- Packer build instance profile: Session Manager only (packer/ uses ssh_interface = session_manager)

data "aws_partition" "this" {}

data "aws_iam_policy_document" "packer_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "packer_build" {
  name               = "gist-packer-build"
  assume_role_policy = data.aws_iam_policy_document.packer_assume.json
}

resource "aws_iam_role_policy_attachment" "packer_build_ssm" {
  role       = aws_iam_role.packer_build.name
  policy_arn = "arn:${data.aws_partition.this.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

# AmazonSSMManagedInstanceCore allows ssm:GetParameter(s) on every parameter of the account; the
# build instance needs none (no secret is ever baked into the image).
data "aws_iam_policy_document" "packer_build_no_parameters" {
  statement {
    sid       = "NoParameters"
    effect    = "Deny"
    actions   = ["ssm:GetParameter*"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "packer_build_no_parameters" {
  name   = "no-ssm-parameters"
  role   = aws_iam_role.packer_build.id
  policy = data.aws_iam_policy_document.packer_build_no_parameters.json
}

resource "aws_iam_instance_profile" "packer_build" {
  name = "gist-packer-build"
  role = aws_iam_role.packer_build.name
}
