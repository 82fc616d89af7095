#!/bin/bash
# Print the AMI id of the last Packer run recorded in a manifest (packer/manifest.json):
#   terraform -chdir=terraform/envs/prod apply -var "ami_id=$(packer/scripts/ami-from-manifest.sh)"
# The manifest post-processor appends one entry per build and run; the last run is the one whose
# packer_run_uuid equals last_run_uuid. artifact_id is "<region>:<ami-id>[,<region>:<ami-id>...]".
# With a region argument, that region's AMI is printed (default: the first one).
set -euo pipefail

manifest=${1:-$(dirname "$0")/../manifest.json}
region=${2:-}
python3 - "$manifest" "$region" <<'PY'
import json, re, sys
path, region = sys.argv[1], sys.argv[2]
with open(path) as f:
    m = json.load(f)
run = m.get("last_run_uuid")
builds = [b for b in m.get("builds", []) if b.get("packer_run_uuid") == run]
if not builds:
    sys.exit(f"{path}: no build for last_run_uuid {run}")
pairs = [p.split(":", 1) for p in builds[-1]["artifact_id"].split(",")]
if region:
    pairs = [p for p in pairs if p[0] == region]
if not pairs or not re.fullmatch(r"ami-[0-9a-f]{8,17}", pairs[0][1]):
    sys.exit(f"{path}: no AMI{' in ' + region if region else ''} in {builds[-1]['artifact_id']!r}")
print(pairs[0][1])
PY
