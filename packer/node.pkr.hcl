# The gist node AMI: official Debian 12 + nginx + libnginx-mod-http-gist + the node's units.
#   packer init packer && packer build -var deb_path=build/libnginx-mod-http-gist_..._amd64.deb \
#     -var git_sha=$(git rev-parse HEAD) -var subnet_id=subnet-... packer
# The AMI id lands in packer/manifest.json (builds[-1].artifact_id = "<region>:<ami-id>").

locals {
  stamp   = formatdate("YYYYMMDD-hhmmss", timestamp())
  ami_tag = substr(var.git_sha, 0, 12)
}

source "amazon-ebs" "node" {
  region = var.region
  # Latest official Debian 12 image (Debian cloud team account). Resolved at build time only; the
  # fleet never picks an AMI by itself (terraform gets the built AMI id explicitly).
  source_ami_filter {
    owners      = [var.base_ami_owner]
    most_recent = true
    filters = {
      name                = "debian-12-amd64-*"
      architecture        = "x86_64"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
  }
  instance_type   = var.instance_type
  ami_name        = "gist-node-${local.ami_tag}-${local.stamp}"
  ami_description = "gist node: Debian 12, nginx, libnginx-mod-http-gist (${var.git_sha})"

  # Build in a private subnet over Session Manager: no public IP, no SSH ingress.
  subnet_id                   = var.subnet_id
  associate_public_ip_address = false
  communicator                = "ssh"
  ssh_username                = "admin"
  ssh_interface               = "session_manager"
  # Pre-created profile with only AmazonSSMManagedInstanceCore (terraform/bootstrap).
  iam_instance_profile = var.build_instance_profile

  # IMDSv2 on the build instance, and the AMI itself marked IMDSv2-only.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
  imds_support = "v2.0"

  encrypt_boot = true
  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 8
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = true
  }

  deprecate_at = timeadd(timestamp(), "${var.deprecate_after_days * 24}h")

  run_tags = {
    Name      = "packer-gist-node"
    Project   = "gist"
    ManagedBy = "packer"
  }
  tags = {
    Name         = "gist-node"
    Project      = "gist"
    ManagedBy    = "packer"
    GitSha       = var.git_sha
    BaseAMI      = "{{ .SourceAMI }}"
    BaseAMIName  = "{{ .SourceAMIName }}"
    NginxVersion = "1.22.1"
  }
  snapshot_tags = {
    Name    = "gist-node"
    Project = "gist"
    GitSha  = var.git_sha
  }
}

build {
  sources = ["source.amazon-ebs.node"]

  provisioner "shell" {
    inline = ["mkdir -p /tmp/gist-node"]
  }

  # Everything provision.sh needs, flat in one directory (the boot test stages the same files).
  provisioner "file" {
    sources = [
      var.deb_path,
      "${path.root}/../conf/nginx.prod.conf",
      "${path.root}/../conf/redis-tunnel.conf",
      "${path.root}/files/gist-fetch-secrets",
      "${path.root}/files/gist-secrets.service",
      "${path.root}/files/nginx-redis-tunnel.service",
      "${path.root}/files/nginx-gist.conf",
    ]
    destination = "/tmp/gist-node/"
  }

  provisioner "shell" {
    script          = "${path.root}/scripts/provision.sh"
    execute_command = "chmod +x {{ .Path }}; sudo -n bash {{ .Path }} /tmp/gist-node"
  }

  provisioner "shell" {
    inline = ["sudo -n rm -rf /tmp/gist-node"]
  }

  post-processor "manifest" {
    output     = "${path.root}/manifest.json"
    strip_path = true
    custom_data = {
      git_sha = var.git_sha
      deb     = basename(var.deb_path)
    }
  }
}
