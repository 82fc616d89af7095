# Non-secret staging settings. ami_id and git_sha come from CI (-var), see docs/deploy.md.
region              = "eu-central-1"
account_id          = "123456789012"
domain_name         = "gist-api.staging.example.com"
zone_id             = "Z0000000000000EXAMPLE"
write_allowed_cidrs = ["203.0.113.0/24"]
alarm_email         = "oncall@example.com"
