#!/usr/bin/env bash
# Rescan benchmark (issue 5): 10,000 tracked users against a fast stub GitHub, one NGINX instance
# with 2 workers, gist_rescan_interval 20s, two whole intervals measured. Everything on 127.0.0.1;
# bounded (gives up after 280 s). Figures: GitHub requests per user per interval (ideal 1), share
# of 304s, spread of the rescans over time, Redis memory per tracked user, CPU per rescan.
#
#   bench/rescan_bench.sh [module.so | build dir] [extra rescan_bench.py options, e.g. --users 2000]
# RESCAN_BENCH_USERS / RESCAN_BENCH_INTERVAL / RESCAN_BENCH_INTERVALS override the defaults.
# Default module: build/ngx_http_gist_module.so. Needs python3, nginx, redis-server, redis-cli.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODULE=${1:-$HERE/../build/ngx_http_gist_module.so}
[[ $# -gt 0 ]] && shift
[[ -d $MODULE ]] && MODULE=$MODULE/ngx_http_gist_module.so
if [[ ! -f $MODULE ]]; then
    echo "rescan_bench.sh: no module at $MODULE (build it first: ./build.sh)" >&2
    exit 2
fi
for c in python3 nginx redis-server redis-cli; do
    command -v "$c" >/dev/null || { echo "rescan_bench.sh: $c not found" >&2; exit 2; }
done
exec python3 "$HERE/rescan_bench.py" --module "$MODULE" --users "${RESCAN_BENCH_USERS:-10000}" \
    --interval "${RESCAN_BENCH_INTERVAL:-20}" --intervals "${RESCAN_BENCH_INTERVALS:-2}" "$@"
