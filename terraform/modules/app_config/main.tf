# Provider-free logic shared by every environment: names, tags, SSM names, the instance's IAM policy
# and the node's user-data. No resources and no providers, so `terraform init -backend=false`,
# `validate` and `test` run offline (terraform/tests/run.sh).

terraform {
  required_version = ">= 1.11.0, < 2.0.0"
}

locals {
  name       = "${var.app}-${var.environment}"
  ssm_prefix = "/${var.app}/${var.environment}"

  tags = merge(var.extra_tags, {
    Project     = var.app
    Environment = var.environment
    Owner       = var.owner
    CostCenter  = var.cost_center
    ManagedBy   = "terraform"
    GitSha      = var.git_sha
  })

  secret_names = ["github_token", "pipedrive_token", "redis_auth_token"]
  ssm_parameter_names = {
    for s in local.secret_names : s => "${local.ssm_prefix}/${s}"
  }

  ssm_parameter_arn_pattern = "arn:${var.partition}:ssm:${var.region}:${var.account_id}:parameter${local.ssm_prefix}/*"

  # Least privilege for the node: read this app+environment's parameters, decrypt them only through
  # SSM with the app's key. Session Manager (instead of SSH) is attached separately as the AWS
  # managed policy AmazonSSMManagedInstanceCore, which also allows ssm:GetParameter(s) on every
  # parameter of the account: the explicit Deny takes that back for anything outside this path.
  instance_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadAppParameters"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter", "ssm:GetParameters"]
        Resource = [local.ssm_parameter_arn_pattern]
      },
      {
        Sid      = "DecryptAppParametersViaSsm"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.kms_key_arn]
        Condition = {
          StringEquals = {
            "kms:ViaService" = "ssm.${var.region}.amazonaws.com"
          }
        }
      },
      {
        Sid         = "NoOtherParameters"
        Effect      = "Deny"
        Action      = ["ssm:GetParameter*"]
        NotResource = [local.ssm_parameter_arn_pattern]
      },
    ]
  }

  node_env = templatefile("${path.module}/node.env.tftpl", {
    ssm_prefix          = local.ssm_prefix
    redis_host          = var.redis_host
    redis_port          = var.redis_port
    vpc_cidr            = var.vpc_cidr
    write_allowed_cidrs = join(" ", var.write_allowed_cidrs)
    pipedrive_url       = var.pipedrive_url
  })

  user_data = templatefile("${path.module}/user_data.yaml.tftpl", {
    node_env = local.node_env
  })
}
