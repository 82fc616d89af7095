#!/usr/bin/env bash
# The one entry point. Run as root on Debian 12:
#   ./build.sh          build (installs build dependencies with apt-get when missing)
#   ./build.sh run      build, then start redis-server and nginx on 127.0.0.1 (port 8080)
#   ./build.sh stop     stop what `run` started
#   ./build.sh test     build, then every test: lib/ unit tests (CTest) and t/ integration tests (prove)
#   ./build.sh package  build the Debian package libnginx-mod-http-gist (packaging/)
#   ./build.sh bench    benchmarks (ratios against a baseline measured in the same run)
#   ./build.sh test-sanitize  unit tests and t/ with the module built with ASan + UBSan (build-sanitize/),
#                       then a short run of every fuzzer; any sanitizer report fails
#   ./build.sh fuzz     the libFuzzer targets (fuzz/), each for GIST_FUZZ_SECONDS (60) seconds
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_DIR=${GIST_BUILD_DIR:-$ROOT/build}
RUN_DIR=${GIST_RUN_DIR:-$ROOT/run}
RUN_PORT=${GIST_RUN_PORT:-8080}
RUN_REDIS_PORT=${GIST_RUN_REDIS_PORT:-6379}
SANITIZE_DIR=${GIST_SANITIZE_BUILD_DIR:-$ROOT/build-sanitize}
FUZZ_DIR=${GIST_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}

log() { printf '==> %s\n' "$*" >&2; }

# Debian packages the build, the product and the tests need.
BUILD_PKGS=(build-essential cmake pkg-config git nginx nginx-dev libhiredis-dev libcurl4-openssl-dev
            nlohmann-json3-dev libgtest-dev libgmock-dev googletest redis-server redis-tools curl perl)
TEST_PKGS=(libjson-pp-perl libyaml-libyaml-perl wrk valgrind bc prometheus chromium)
FUZZ_PKGS=(clang-14 libclang-rt-14-dev)

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

# Builds fuzz/ with clang (libFuzzer + ASan + UBSan) and runs every target for $1 seconds from
# its seed corpus (fuzz/corpus/<target>, read only) and its working corpus (build-fuzz/corpus).
# Crashes land in build-fuzz/artifacts/. Prints executions per target and in total.
run_fuzzers() {
    local seconds=$1 failed=0 total=0 src t n dict out
    cmake -S "$ROOT/fuzz" -B "$FUZZ_DIR" -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
    cmake --build "$FUZZ_DIR" -j "$(nproc)"
    mkdir -p "$FUZZ_DIR/artifacts"
    for src in "$ROOT"/fuzz/fuzz_*.cpp; do
        t=$(basename "$src" .cpp)
        t=${t#fuzz_}
        case $t in
            gists_page | stored_pages | pipedrive_response) dict=$ROOT/fuzz/json.dict ;;
            link_header) dict=$ROOT/fuzz/link.dict ;;
            rfc3339) dict=$ROOT/fuzz/rfc3339.dict ;;
            *) dict= ;;
        esac
        mkdir -p "$FUZZ_DIR/corpus/$t"
        out=$FUZZ_DIR/$t.log
        if ! UBSAN_OPTIONS=print_stacktrace=1 "$FUZZ_DIR/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
                -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/artifacts/$t-" ${dict:+-dict="$dict"} \
                "$FUZZ_DIR/corpus/$t" "$ROOT/fuzz/corpus/$t" >"$out" 2>&1; then
            failed=1
            tail -n 40 "$out" >&2
            log "fuzz $t: FAILED (input saved in $FUZZ_DIR/artifacts/, log $out)"
        fi
        n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -n 1)
        total=$((total + ${n:-0}))
        log "fuzz $t: ${n:-0} executions in ${seconds}s"
    done
    log "fuzz: $total executions in total"
    return "$failed"
}

cmd_fuzz() {
    need_packages "${BUILD_PKGS[@]}" "${FUZZ_PKGS[@]}"
    if run_fuzzers "${GIST_FUZZ_SECONDS:-60}"; then
        log "fuzz: no finding"
    else
        log "FAILED"
        exit 1
    fi
}

# The module, lib/ and the unit tests with -fsanitize=address,undefined (gcc). NGINX itself is not
# instrumented: the ASan runtime the module links against is preloaded into every nginx the tests
# start (GIST_NGINX_ENV, see t/lib/GistTest.pm), reports go to files in the test's dir, and a test
# with a report fails. Then every fuzzer for GIST_FUZZ_SHORT_SECONDS (10) seconds.
cmd_test_sanitize() {
    need_packages "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${FUZZ_PKGS[@]}"
    local failed=0 start=$SECONDS t0 asan cxx times=()
    cmake -S "$ROOT" -B "$SANITIZE_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGIST_SANITIZE=ON >/dev/null
    cmake --build "$SANITIZE_DIR" -j "$(nproc)"
    times+=("build $((SECONDS - start))s")
    local module=$SANITIZE_DIR/ngx_http_gist_module.so
    # The ASan runtime the module links, and libstdc++ with it: nginx is C, and without
    # libstdc++ loaded at startup ASan cannot intercept __cxa_throw (every C++ throw then aborts).
    asan=$(ldd "$module" | awk '$1 ~ /^libasan\.so/ { print $3 }')
    cxx=$(ldd "$module" | awk '$1 ~ /^libstdc\+\+\.so/ { print $3 }')
    if [[ ! -f $asan || ! -f $cxx ]]; then
        echo "build.sh: $module does not link an ASan runtime and libstdc++" >&2
        exit 1
    fi

    log "unit tests (ctest, ASan + UBSan)"
    t0=$SECONDS
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir "$SANITIZE_DIR" --output-on-failure --no-tests=error -j "$(nproc)" || failed=1
    times+=("unit $((SECONDS - t0))s")

    log "integration tests (prove t/, nginx with $asan preloaded)"
    t0=$SECONDS
    # detect_leaks=0: NGINX is not instrumented and frees its pools only at exit.
    local opts=halt_on_error=1:log_path=%%SANITIZER_LOG%%
    (cd "$ROOT" && GIST_MODULE="$module" \
        GIST_NGINX_ENV="LD_PRELOAD=$asan:$cxx ASAN_OPTIONS=detect_leaks=0:$opts UBSAN_OPTIONS=print_stacktrace=1:$opts" \
        prove -I t/lib -r t/) || failed=1
    times+=("prove $((SECONDS - t0))s")

    log "fuzzers, ${GIST_FUZZ_SHORT_SECONDS:-10}s each"
    t0=$SECONDS
    run_fuzzers "${GIST_FUZZ_SHORT_SECONDS:-10}" || failed=1
    times+=("fuzz $((SECONDS - t0))s")
    log "test-sanitize took $((SECONDS - start))s (${times[*]})"
    if ((failed)); then
        log "FAILED"
        exit 1
    fi
    log "all tests passed with sanitizers, no sanitizer report"
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
    test-sanitize) cmd_test_sanitize ;;
    fuzz) cmd_fuzz ;;
    package) cmd_build; exec "$ROOT/packaging/build-deb.sh" "$BUILD_DIR" ;;
    *) echo "usage: $0 [build|run|stop|test|test-sanitize|fuzz|bench|package]" >&2; exit 2 ;;
esac
