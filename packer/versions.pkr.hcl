# Kept apart so that Debian's packer 1.6.6 (used by the offline tests) can `validate -syntax-only`
# the rest; building needs a current Packer with the amazon plugin.
packer {
  required_version = ">= 1.10.0"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0, < 2.0.0"
    }
  }
}
