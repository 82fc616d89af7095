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
  description = <<-EOT
    Roles (CI deployer, break-glass) that may read and write the state and manage its bucket and key;
    nobody else can. Include the role that runs this root: the state key's policy names only these
    roles (KMS refuses a policy that would lock out its own creator).
  EOT
  type        = list(string)

  validation {
    condition = length(var.state_admin_role_arns) > 0 && alltrue([
      for a in var.state_admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", a))
    ])
    error_message = "state_admin_role_arns: at least one role ARN, no wildcards (they are KMS key policy principals too)."
  }
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

# The key policy names the state admins only. Without the usual "account root: kms:*" statement IAM
# policies cannot grant this key to anyone else: a role with kms:Decrypt on * still cannot read the
# state. (Lost admins: AWS Support can restore access to an unmanageable key.)
data "aws_iam_policy_document" "state_key" {
  statement {
    sid = "StateAdminsUseTheKey"
    actions = [
      "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:DescribeKey",
    ]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = var.state_admin_role_arns
    }
  }
  statement {
    sid = "StateAdminsManageTheKey"
    actions = [
      "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags",
      "kms:ListKeyPolicies", "kms:ListGrants", "kms:PutKeyPolicy", "kms:EnableKeyRotation",
      "kms:DisableKeyRotation", "kms:RotateKeyOnDemand", "kms:UpdateKeyDescription", "kms:EnableKey",
      "kms:DisableKey", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
      "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
    ]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = var.state_admin_role_arns
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "gist Terraform state (holds the Redis AUTH token)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.state_key.json
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

# Only the state admins may read, write or delete the state, any of its versions, or the rules that
# protect it (even a role with s3:* in IAM is denied); nobody without TLS. The account root user can
# always delete a bucket policy, should the admins be lost.
data "aws_iam_policy_document" "state" {
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
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
    sid    = "OnlyStateAdminsTouchTheState"
    effect = "Deny"
    actions = [
      "s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject", "s3:ReplicateObject",
      "s3:ReplicateDelete", "s3:BypassGovernanceRetention",
    ]
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
  statement {
    sid    = "OnlyStateAdminsChangeTheBucket"
    effect = "Deny"
    actions = [
      "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
      "s3:PutLifecycleConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls",
      "s3:PutBucketAcl", "s3:PutBucketObjectLockConfiguration", "s3:PutReplicationConfiguration",
      "s3:DeleteBucket",
    ]
    resources = [aws_s3_bucket.state.arn]
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
