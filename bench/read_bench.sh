#!/usr/bin/env bash
# The read endpoints against NGINX alone, Redis memory per user, Redis under 100,000 users and
# worker RSS (issue 8; bench/read_bench.py says how). ~3 minutes.
#   bench/read_bench.sh BUILD_DIR
set -euo pipefail
exec python3 "$(dirname "${BASH_SOURCE[0]}")/read_bench.py" "$@"
