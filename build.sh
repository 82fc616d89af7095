#!/usr/bin/env bash
# The one entry point. Run as root on Debian 12:
#   ./build.sh          build (installs build dependencies with apt-get when missing)
#   ./build.sh run      build, then start redis-server and nginx on 127.0.0.1 (port 8080)
#   ./build.sh stop     stop what `run` started
#   ./build.sh test     build, then every test: lib/ unit tests (CTest) and t/ integration tests (prove)
#   ./build.sh package  build the Debian package libnginx-mod-http-gist (packaging/)
#   ./build.sh bench    benchmarks (ratios against a baseline measured in the same run)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_DIR=${GIST_BUILD_DIR:-$ROOT/build}
RUN_DIR=${GIST_RUN_DIR:-$ROOT/run}
RUN_PORT=${GIST_RUN_PORT:-8080}
RUN_REDIS_PORT=${GIST_RUN_REDIS_PORT:-6379}

log() { printf '==> %s\n' "$*" >&2; }

# Debian packages the build, the product and the tests need.
BUILD_PKGS=(build-essential cmake pkg-config git nginx nginx-dev libhiredis-dev libcurl4-openssl-dev
            nlohmann-json3-dev libgtest-dev libgmock-dev googletest redis-server redis-tools curl perl)
TEST_PKGS=(libjson-pp-perl libyaml-libyaml-perl wrk valgrind bc prometheus chromium)

need_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing: ${missing[*]}"
        if [[ $(id -u) -ne 0 ]]; then
            echo "build.sh: missing packages (${missing[*]}); run as root or install them" >&2
            exit 1
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # Packaged services (nginx, redis) must not start system-wide instances on install.
        local policy=/usr/sbin/policy-rc.d had_policy=0
        [[ -e $policy ]] && had_policy=1
        ((had_policy)) || printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        ((had_policy)) || rm -f "$policy"
    fi
}

# The console's browser test (t/console.t): playwright-core from npm drives Debian's chromium; no
# browser is ever downloaded. Node and npm come from the machine, or Debian's packages.
browser_test_deps() {
    command -v npm >/dev/null || need_packages nodejs npm
    if [[ ! -d $ROOT/t/browser/node_modules/playwright-core ]]; then
        log "npm ci in t/browser"
        (cd "$ROOT/t/browser" && npm ci --no-audit --no-fund)
    fi
}

cmd_build() {
    need_packages "${BUILD_PKGS[@]}"
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
    cmake --build "$BUILD_DIR" -j "$(nproc)"
    log "module: $BUILD_DIR/ngx_http_gist_module.so"
}

cmd_stop() {
    if [[ -f $RUN_DIR/nginx.pid ]]; then
        nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -s quit 2>/dev/null || true
    fi
    if [[ -f $RUN_DIR/redis.pid ]]; then
        kill "$(cat "$RUN_DIR/redis.pid")" 2>/dev/null || true
        rm -f "$RUN_DIR/redis.pid"
    fi
}

cmd_run() {
    cmd_build
    cmd_stop
    mkdir -p "$RUN_DIR/logs" "$RUN_DIR/redis" "$RUN_DIR/tmp"
    log "starting redis-server on 127.0.0.1:$RUN_REDIS_PORT"
    redis-server --bind 127.0.0.1 --port "$RUN_REDIS_PORT" --dir "$RUN_DIR/redis" --appendonly yes \
        --daemonize yes --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/logs/redis.log"
    sed -e "s|@MODULE@|$BUILD_DIR/ngx_http_gist_module.so|g" \
        -e "s|@PORT@|$RUN_PORT|g" -e "s|@REDIS_PORT@|$RUN_REDIS_PORT|g" \
        -e "s|@ROOT@|$ROOT|g" \
        "$ROOT/conf/nginx.local.conf.in" >"$RUN_DIR/nginx.conf"
    nginx -t -q -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf"
    nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf"
    log "serving on http://127.0.0.1:$RUN_PORT  (try: curl -X POST 127.0.0.1:$RUN_PORT/user/octocat)"
    log "logs in $RUN_DIR/logs; stop with ./build.sh stop"
}

cmd_test() {
    need_packages "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
    browser_test_deps
    cmd_build
    local failed=0
    log "unit tests (ctest)"
    ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error -j "$(nproc)" || failed=1
    if [[ -x $ROOT/terraform/tests/run.sh ]]; then
        log "infrastructure tests (terraform/tests/run.sh)"
        "$ROOT/terraform/tests/run.sh" "$BUILD_DIR" || failed=1
    fi
    log "integration tests (prove t/)"
    (cd "$ROOT" && GIST_MODULE="$BUILD_DIR/ngx_http_gist_module.so" GIST_TEST_OUTPUT="$BUILD_DIR/test-output" \
        prove -I t/lib -r t/) || failed=1
    if ((failed)); then
        log "FAILED"
        exit 1
    fi
    log "all tests passed"
}

cmd_bench() {
    need_packages "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
    cmd_build
    exec "$ROOT/bench/run.sh" "$BUILD_DIR"
}

case "${1:-build}" in
    build) cmd_build ;;
    run) cmd_run ;;
    stop) cmd_stop ;;
    test) cmd_test ;;
    bench) cmd_bench ;;
    package) cmd_build; exec "$ROOT/packaging/build-deb.sh" "$BUILD_DIR" ;;
    *) echo "usage: $0 [build|run|stop|test|bench|package]" >&2; exit 2 ;;
esac
