# terraform test (offline: this module has no providers). Run by terraform/tests/run.sh.

variables {
  environment         = "prod"
  owner               = "platform"
  cost_center         = "cc-1234"
  git_sha             = "0123456789abcdef0123456789abcdef01234567"
  region              = "eu-central-1"
  account_id          = "123456789012"
  kms_key_arn         = "arn:aws:kms:eu-central-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
  redis_host          = "master.gist-prod.abcdef.euc1.cache.amazonaws.com"
  vpc_cidr            = "10.20.0.0/16"
  write_allowed_cidrs = ["203.0.113.0/24"]
}

run "names_and_tags" {
  command = plan

  assert {
    condition     = output.name == "gist-prod" && output.ssm_prefix == "/gist/prod"
    error_message = "name or ssm prefix"
  }
  assert {
    condition = output.ssm_parameter_names == {
      github_token     = "/gist/prod/github_token"
      pipedrive_token  = "/gist/prod/pipedrive_token"
      redis_auth_token = "/gist/prod/redis_auth_token"
    }
    error_message = "ssm parameter names"
  }
  assert {
    condition     = output.tags.ManagedBy == "terraform" && output.tags.GitSha == var.git_sha && output.tags.Environment == "prod"
    error_message = "standard tags"
  }
}

run "extra_tags_do_not_override_standard_ones" {
  command = plan
  variables {
    extra_tags = { Environment = "dev", Team = "x" }
  }
  assert {
    condition     = output.tags.Environment == "prod" && output.tags.Team == "x"
    error_message = "extra_tags must not override standard tags"
  }
}

run "instance_policy_is_least_privilege" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(output.instance_policy_json).Statement : [
        for a in s.Action : a != "*" && !endswith(a, ":*")
      ]
    ]))
    error_message = "no wildcard actions"
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(output.instance_policy_json).Statement : [for r in s.Resource : r != "*"] if s.Effect == "Allow"
    ]))
    error_message = "no wildcard resources in Allow"
  }
  assert {
    condition = sort(flatten([
      for s in jsondecode(output.instance_policy_json).Statement : s.Action if s.Effect == "Allow"
      ])) == sort([
      "kms:Decrypt", "ssm:GetParameter", "ssm:GetParameters",
    ])
    error_message = "exactly GetParameter(s) and Decrypt"
  }
  assert {
    condition     = jsondecode(output.instance_policy_json).Statement[0].Resource == ["arn:aws:ssm:eu-central-1:123456789012:parameter/gist/prod/*"]
    error_message = "SSM read scoped to this app and environment"
  }
  assert {
    condition     = jsondecode(output.instance_policy_json).Statement[1].Condition.StringEquals["kms:ViaService"] == "ssm.eu-central-1.amazonaws.com"
    error_message = "kms:Decrypt only via SSM"
  }
  assert {
    condition = jsondecode(output.instance_policy_json).Statement[2] == {
      Sid         = "NoOtherParameters"
      Effect      = "Deny"
      Action      = ["ssm:GetParameter*"]
      NotResource = ["arn:aws:ssm:eu-central-1:123456789012:parameter/gist/prod/*"]
    }
    error_message = "explicit Deny of every other parameter (AmazonSSMManagedInstanceCore allows GetParameter on *)"
  }
}

run "user_data_renders_node_env" {
  command = plan

  assert {
    condition     = startswith(output.user_data, "#cloud-config\n")
    error_message = "user_data must be cloud-config"
  }
  assert {
    condition     = strcontains(output.user_data, "      GIST_SSM_PREFIX=/gist/prod\n")
    error_message = "node.env content indented under write_files content"
  }
  assert {
    condition     = strcontains(output.node_env, "GIST_REDIS_HOST=master.gist-prod.abcdef.euc1.cache.amazonaws.com\n")
    error_message = "redis host"
  }
  assert {
    condition     = strcontains(output.node_env, "GIST_WRITE_ALLOWED_CIDRS=\"203.0.113.0/24\"\n")
    error_message = "write allow-list"
  }
  assert {
    condition     = !strcontains(output.user_data, "token=") && !strcontains(lower(output.user_data), "password")
    error_message = "user_data carries no secrets"
  }
}

run "rejects_unknown_environment" {
  command = plan
  variables {
    environment = "dev"
  }
  expect_failures = [var.environment]
}

run "rejects_world_open_write_cidr" {
  command = plan
  variables {
    write_allowed_cidrs = ["0.0.0.0/0"]
  }
  expect_failures = [var.write_allowed_cidrs]
}

run "rejects_kms_alias_instead_of_key_arn" {
  command = plan
  variables {
    kms_key_arn = "alias/gist"
  }
  expect_failures = [var.kms_key_arn]
}

run "pipedrive_url_reaches_the_node" {
  command = plan

  variables {
    pipedrive_url = "https://acme.pipedrive.com"
  }

  assert {
    condition     = strcontains(output.node_env, "GIST_PIPEDRIVE_URL=\"https://acme.pipedrive.com\"\n")
    error_message = "the Pipedrive URL must reach node.env"
  }
}

run "pipedrive_url_must_be_https_without_path" {
  command = plan

  variables {
    pipedrive_url = "http://acme.pipedrive.com/api"
  }

  expect_failures = [var.pipedrive_url]
}
