# prod: a thin root over the modules; sizes are literal here so a review sees them.

module "config" {
  source = "../../modules/app_config"

  environment         = "prod"
  owner               = "platform"
  cost_center         = "gist"
  git_sha             = var.git_sha
  region              = var.region
  account_id          = var.account_id
  kms_key_arn         = module.secrets.kms_key_arn
  redis_host          = module.redis.primary_endpoint_address
  redis_port          = module.redis.port
  vpc_cidr            = module.network.vpc_cidr
  write_allowed_cidrs = var.write_allowed_cidrs
  pipedrive_url       = var.pipedrive_url
}

module "network" {
  source = "../../modules/network"

  name               = module.config.name
  region             = var.region
  cidr               = "10.40.0.0/16"
  az_count           = 3
  single_nat_gateway = false
}

module "secrets" {
  source = "../../modules/secrets"

  name = module.config.name
  parameter_names = {
    github_token    = module.config.ssm_parameter_names["github_token"]
    pipedrive_token = module.config.ssm_parameter_names["pipedrive_token"]
  }
}

# Not KMS-encrypted on purpose: CloudWatch alarms cannot publish to a topic encrypted with the AWS
# managed SNS key, and alarm notifications carry no secrets.
resource "aws_sns_topic" "alarms" {
  name = "${module.config.name}-alarms"
}

resource "aws_sns_topic_subscription" "alarms_email" {
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

module "alb" {
  source = "../../modules/alb"

  name                = module.config.name
  vpc_id              = module.network.vpc_id
  public_subnet_ids   = module.network.public_subnet_ids
  domain_name         = var.domain_name
  zone_id             = var.zone_id
  deletion_protection = true

  # Sign-in at the ALB for the console and the whole API (Cognito user pool created by the module;
  # operators are added with aws cognito-idp admin-create-user, see docs/deploy.md).
  auth = {
    mode = "cognito"
  }
}

module "redis" {
  source = "../../modules/redis"

  name                       = module.config.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.app.security_group_id]
  node_type                  = "cache.m7g.large"
  num_cache_clusters         = 2
  kms_key_arn                = module.secrets.kms_key_arn
  auth_token_parameter_name  = module.config.ssm_parameter_names["redis_auth_token"]
  snapshot_retention_limit   = 7
  apply_immediately          = false
  alarm_topic_arns           = [aws_sns_topic.alarms.arn]
}

module "app" {
  source = "../../modules/app_asg"

  name                    = module.config.name
  vpc_id                  = module.network.vpc_id
  vpc_cidr                = module.network.vpc_cidr
  private_subnet_ids      = module.network.private_subnet_ids
  ami_id                  = var.ami_id
  instance_type           = "c7i.large"
  user_data               = module.config.user_data
  instance_policy_json    = module.config.instance_policy_json
  min_size                = 3
  max_size                = 12
  desired_capacity        = 3
  target_group_arn        = module.alb.target_group_arn
  target_group_arn_suffix = module.alb.target_group_arn_suffix
  alb_arn_suffix          = module.alb.arn_suffix
  alb_security_group_id   = module.alb.security_group_id
  redis_security_group_id = module.redis.security_group_id
  redis_port              = module.redis.port
  alarm_topic_arns        = [aws_sns_topic.alarms.arn]

  refresh_min_healthy_percentage = 100
  refresh_max_healthy_percentage = 150
}
