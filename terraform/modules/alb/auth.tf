# Sign-in at the load balancer (var.auth). With it on, the HTTPS listener's default action (what
# every path that no rule answers by itself gets) is authenticate-cognito/-oidc, then forward. So
# the console, the writes and the reads that reveal CRM data are all behind sign-in, and no spelling
# of a path (//user/x, /%75ser/x, /User/x) can skip it: the listener rules only answer by
# themselves (fixed responses for /health and /metrics), none forwards.
#
# The nodes still apply their own address allow-list (write_allowed_cidrs): sign-in comes on top of
# it, not instead (nginx does not verify the ALB's signed x-amzn-oidc-data header).

data "aws_region" "this" {}

locals {
  auth_cognito = var.auth.mode == "cognito"
  auth_oidc    = var.auth.mode == "oidc"
  auth_on      = var.auth.mode != "off"
  # Cognito hosted UI domains are global per region: make the default unique with the account id.
  cognito_domain = coalesce(var.auth.cognito_domain_prefix, "${var.name}-${data.aws_caller_identity.this.account_id}")
}

# --- Cognito (auth.mode = "cognito") ----------------------------------------------------------

resource "aws_cognito_user_pool" "console" {
  count = local.auth_cognito ? 1 : 0

  name                = "${var.name}-console"
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  username_attributes = ["email"]
  mfa_configuration   = "ON"
  tags                = var.tags

  # Operators are created by an administrator (aws cognito-idp admin-create-user); nobody signs up.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  software_token_mfa_configuration {
    enabled = true
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  auto_verified_attributes = ["email"]
  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
}

resource "aws_cognito_user_pool_domain" "console" {
  count = local.auth_cognito ? 1 : 0

  domain       = local.cognito_domain
  user_pool_id = aws_cognito_user_pool.console[0].id
}

# The ALB is the OAuth client: authorization code flow, its secret, its fixed callback path.
resource "aws_cognito_user_pool_client" "alb" {
  count = local.auth_cognito ? 1 : 0

  name                                 = "${var.name}-alb"
  user_pool_id                         = aws_cognito_user_pool.console[0].id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = ["https://${var.domain_name}/oauth2/idpresponse"]
  explicit_auth_flows                  = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true
}

# --- External OIDC issuer (auth.mode = "oidc") ------------------------------------------------

# The client secret is set out of band in SSM (like the app's tokens) and read at plan time.
data "aws_ssm_parameter" "oidc_client_secret" {
  count = local.auth_oidc ? 1 : 0

  name            = var.auth.oidc.client_secret_parameter
  with_decryption = true
}

# --- The ALB reaches the identity provider's token and user info endpoints over HTTPS ----------

resource "aws_vpc_security_group_egress_rule" "alb_to_idp" {
  count = local.auth_on ? 1 : 0

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS to the identity provider (token and user info endpoints)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
