#!/usr/bin/env bash
# HTTP throughput of the module's read endpoints, as ratios against a baseline measured in the same
# run on the same nginx: a static `return 200` location (what NGINX alone costs) and, for Redis,
# redis-benchmark's GET rate (what one Redis round trip costs). Loopback only; ~1 minute.
#   bench/http_bench.sh BUILD_DIR
set -euo pipefail

BUILD_DIR=${1:?usage: $0 BUILD_DIR}
MODULE=$BUILD_DIR/ngx_http_gist_module.so
DURATION=${BENCH_DURATION:-5s}
USERS=${BENCH_USERS:-200}
work=$(mktemp -d /tmp/gist-http-bench.XXXXXX)
redis_port=$((20000 + RANDOM % 10000))
http_port=$((30000 + RANDOM % 10000))

cleanup() {
    [[ -f $work/nginx.pid ]] && nginx -p "$work" -c "$work/nginx.conf" -s stop 2>/dev/null || true
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --logfile "$work/redis.log"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

# Seed tracked users in the module's schema (docs/design.md), each with 5 gists.
{
    for i in $(seq "$USERS"); do
        pages='[{"url":"u","etag":"e","next":"","gists":['
        for g in 1 2 3 4 5; do
            ((g > 1)) && pages+=','
            pages+="{\"id\":\"g${i}x${g}\",\"html_url\":\"https://gist.github.com/g${i}x${g}\",\"description\":null,\"files\":[\"f.txt\"],\"created_at\":\"2026-01-0${g}T00:00:00Z\",\"updated_at\":\"2026-01-0${g}T00:00:00Z\"}"
        done
        pages+=']}]'
        printf 'HSET gist:user:user%s login user%s tracked_since 2026-11-23T00:00:00Z last_scanned_at 2026-11-23T00:00:00Z gist_count 5 pages %q\n' \
            "$i" "$i" "$pages"
        printf 'ZADD gist:users 0 user%s\n' "$i"
    done
} | sed "s/\\\\//g" | redis-cli -p "$redis_port" >/dev/null

mkdir -p "$work/logs" "$work/tmp"
cat >"$work/nginx.conf" <<CONF
load_module $MODULE;
worker_processes 2;
pid nginx.pid;
error_log logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path tmp;
    gist_redis 127.0.0.1:$redis_port;
    gist_github_api_url http://127.0.0.1:9;
    server {
        listen 127.0.0.1:$http_port;
        location = /baseline     { default_type application/json; return 200 '{"status":"ok"}'; }
        location /user/          { gist_user; }
        location = /trackedusers { gist_tracked_users; }
        location = /health       { gist_health; }
    }
}
CONF
nginx -p "$work" -c "$work/nginx.conf"
sleep 0.5

rate() { # rate PATH → requests/s
    wrk -t2 -c32 -d"$DURATION" "http://127.0.0.1:$http_port$1" | awk '/Requests\/sec/ {print $2}'
}
base=$(rate /baseline)
redis_get=$(redis-benchmark -p "$redis_port" -t get -n 100000 -c 32 --csv | awk -F'"' '/^"GET"/ {print $4}')
printf '%-28s %12s %10s\n' endpoint 'req/s' 'ratio'
printf '%-28s %12.0f %10s\n' 'baseline (return 200)' "$base" 1.00
for path in /health /user/user7 "/trackedusers ($USERS users)"; do
    p=${path%% *}
    r=$(rate "$p")
    printf '%-28s %12.0f %10.2f\n' "$path" "$r" "$(echo "$r / $base" | bc -l)"
done
printf '%-28s %12.0f %10.2f   (redis-benchmark GET, 32 clients)\n' 'redis GET' "$redis_get" \
    "$(echo "$redis_get / $base" | bc -l)"
echo "ratios: module endpoint rate / static NGINX rate, same nginx, same run (2 workers, wrk -t2 -c32 -d$DURATION)"
