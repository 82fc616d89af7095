# S3 state with S3-native locking (use_lockfile; DynamoDB locking is deprecated). Bucket, region and
# KMS key come from a partial configuration: terraform init -backend-config=backend.hcl
# (see backend.hcl.example; the bucket is created by terraform/bootstrap).
terraform {
  backend "s3" {
    key          = "staging/gist.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
