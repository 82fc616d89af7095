# The app's KMS key and its SecureString parameters. Terraform creates the parameters but never their
# values: they start as the placeholder "UNSET" (which gist-fetch-secrets refuses, so a node never
# starts with it) and are set out of band:
#   aws ssm put-parameter --overwrite --type SecureString --key-id alias/<name>-ssm \
#       --name /gist/<env>/github_token --value "$TOKEN"
# The Redis AUTH token parameter is written by the redis module.

resource "aws_kms_key" "ssm" {
  description             = "${var.name}: SSM SecureString parameters"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = var.tags
}

resource "aws_kms_alias" "ssm" {
  name          = "alias/${var.name}-ssm"
  target_key_id = aws_kms_key.ssm.key_id
}

resource "aws_ssm_parameter" "secret" {
  for_each = var.parameter_names

  name        = each.value
  description = "${var.name} ${each.key} (value set out of band, never by Terraform)"
  type        = "SecureString"
  key_id      = aws_kms_key.ssm.arn
  value       = "UNSET"
  tags        = var.tags

  lifecycle {
    ignore_changes = [value]
  }
}
