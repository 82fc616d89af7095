# terraform test for modules/alb's variables alone (the module itself needs the AWS provider, which
# cannot be downloaded here): run.sh copies variables.tf next to this file's tests/ directory.
# It proves the sign-in option's input rules.

variables {
  name              = "gist-prod"
  vpc_id            = "vpc-0123456789abcdef0"
  public_subnet_ids = ["subnet-a", "subnet-b"]
  domain_name       = "gist-api.example.com"
  zone_id           = "Z0000000000000EXAMPLE"
}

run "off_by_default" {
  command = plan
  assert {
    condition     = var.auth.mode == "off" && var.auth.session_timeout == 28800 && var.auth.oidc == null
    error_message = "auth must default to mode off"
  }
}

run "cognito" {
  command = plan
  variables {
    auth = { mode = "cognito", cognito_domain_prefix = "gist-prod-login" }
  }
}

run "oidc_with_issuer" {
  command = plan
  variables {
    auth = {
      mode = "oidc"
      oidc = {
        issuer                  = "https://login.example.com"
        authorization_endpoint  = "https://login.example.com/authorize"
        token_endpoint          = "https://login.example.com/token"
        user_info_endpoint      = "https://login.example.com/userinfo"
        client_id               = "gist-alb"
        client_secret_parameter = "/gist/prod/oidc_client_secret"
      }
    }
  }
}

run "rejects_unknown_mode" {
  command = plan
  variables {
    auth = { mode = "basic" }
  }
  expect_failures = [var.auth]
}

run "rejects_oidc_without_settings" {
  command = plan
  variables {
    auth = { mode = "oidc" }
  }
  expect_failures = [var.auth]
}

run "rejects_plain_http_issuer" {
  command = plan
  variables {
    auth = {
      mode = "oidc"
      oidc = {
        issuer                  = "http://login.example.com"
        authorization_endpoint  = "https://login.example.com/authorize"
        token_endpoint          = "https://login.example.com/token"
        user_info_endpoint      = "https://login.example.com/userinfo"
        client_id               = "gist-alb"
        client_secret_parameter = "/gist/prod/oidc_client_secret"
      }
    }
  }
  expect_failures = [var.auth]
}

run "rejects_secret_that_is_not_a_parameter_name" {
  command = plan
  variables {
    auth = {
      mode = "oidc"
      oidc = {
        issuer                  = "https://login.example.com"
        authorization_endpoint  = "https://login.example.com/authorize"
        token_endpoint          = "https://login.example.com/token"
        user_info_endpoint      = "https://login.example.com/userinfo"
        client_id               = "gist-alb"
        client_secret_parameter = "s3cr3t-value"
      }
    }
  }
  expect_failures = [var.auth]
}

run "rejects_bad_domain_prefix" {
  command = plan
  variables {
    auth = { mode = "cognito", cognito_domain_prefix = "Gist_Prod" }
  }
  expect_failures = [var.auth]
}

run "rejects_endless_session" {
  command = plan
  variables {
    auth = { mode = "cognito", session_timeout = 2592000 }
  }
  expect_failures = [var.auth]
}
