#!/usr/bin/env bash
# Infrastructure tests, all offline: terraform/tests/run.sh [BUILD_DIR]
#
# Each check is one counted test; the last line is "N passed, N failed, N skipped". A check that
# cannot run on this machine (no root, no moto, no systemd-nspawn, no module built yet) is SKIPPED
# with its reason, never counted as passed. Exit status: non-zero if any check failed.
#
# BUILD_DIR holds ngx_http_gist_module.so (./build.sh test passes it). Environment:
#   GIST_TEST_CACHE       cache for slow things (default /var/cache/ngx-gist-test): debootstrap
#                         rootfs tarball, npm packages, Debian's stream module
#   GIST_INFRA_MODULE_SO  use this .so instead of BUILD_DIR's (development only)
#   GIST_TEST_ONLY        run only the checks whose name contains this string
#   GIST_TEST_NO_BOOT=1   skip the debootstrap + nspawn boot (reported as skipped)
#   GIST_TEST_KEEP=1      keep the logs (and work files) of passing checks too
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=$(realpath -m "${1:-$ROOT/build}")
export GIST_TEST_CACHE=${GIST_TEST_CACHE:-/var/cache/ngx-gist-test}
MODULE_SO=${GIST_INFRA_MODULE_SO:-$BUILD_DIR/ngx_http_gist_module.so}
export TF_CLI_CONFIG_FILE=/dev/null TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export DEBIAN_FRONTEND=noninteractive

# Not root (a developer's checkout): a cache under $HOME instead.
if ! mkdir -p "$GIST_TEST_CACHE" 2>/dev/null || [[ ! -w $GIST_TEST_CACHE ]]; then
    GIST_TEST_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/ngx-gist-test
fi
WORK=$(mktemp -d /tmp/gist-infra-test.XXXXXX)
LOGS=$WORK/logs
mkdir -p "$LOGS" "$GIST_TEST_CACHE"
passed=0 failed=0 skipped=0
failed_names=()
CLEANUPS=()
cleanup() {
    local c
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do c=${CLEANUPS[i]}; eval "$c" || true; done
    if [[ -n ${GIST_TEST_KEEP:-} ]]; then echo "logs kept in $LOGS" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }
note() { printf '    %s\n' "$*" >&2; }

# check NAME FUNCTION [ARGS...]: run FUNCTION in a subshell, its output to a log. Exit 0 = pass,
# 77 = skip (the reason is the log's last line), anything else = fail (the log's tail is shown).
check() {
    local name=$1 log rc start
    shift
    if [[ -n ${GIST_TEST_ONLY:-} && $name != *"$GIST_TEST_ONLY"* ]]; then return 0; fi
    log="$LOGS/$(tr -c 'A-Za-z0-9_.-' '_' <<<"$name").log"
    start=$SECONDS
    ("$@") >"$log" 2>&1 </dev/null
    rc=$?
    case $rc in
        0) passed=$((passed + 1)); say "ok   - $name ($((SECONDS - start))s)" ;;
        77) skipped=$((skipped + 1)); say "SKIP - $name: $(tail -n 1 "$log")" ;;
        *)
            failed=$((failed + 1)); failed_names+=("$name")
            say "FAIL - $name (rc=$rc, $((SECONDS - start))s)"
            tail -n 40 "$log" | sed 's/^/    | /' >&2
            ;;
    esac
}
skip() { echo "$*"; exit 77; }

# --- tools, installed when missing (idempotent) -----------------------------------------------
apt_updated=0
need_apt() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    if [[ $(id -u) -ne 0 ]]; then note "not root: cannot install ${missing[*]}"; return 1; fi
    note "installing ${missing[*]}"
    if ((!apt_updated)); then apt-get update -qq >/dev/null && apt_updated=1; fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
need_apt shellcheck packer openssl curl dpkg-dev iproute2 python3 redis-server ||
    note "some tools could not be installed; the checks that need them will fail or skip"
# Node.js may come from elsewhere than Debian (with its own npm): only install Debian's when absent.
command -v node >/dev/null || need_apt nodejs || note "node.js not installable"
command -v npm >/dev/null || need_apt npm || note "npm not installable"
need_apt cloud-init >/dev/null 2>&1 || true

NODE_DIR=$HERE
if [[ ! -f $NODE_DIR/node_modules/@cdktf/hcl2json/package.json ]]; then
    note "npm install (terraform/tests/node_modules)"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --silent >/dev/null 2>&1) || note "npm install failed"
fi

# Debian's stream module (for the Redis tunnel config), extracted, not installed on the host.
stream_so() {
    local dir=$GIST_TEST_CACHE/stream-module so
    so=$(find "$dir" -name ngx_stream_module.so 2>/dev/null | head -n 1)
    if [[ -z $so ]]; then
        mkdir -p "$dir/deb" && (cd "$dir/deb" && apt-get download -qq libnginx-mod-stream) >/dev/null 2>&1 || return 1
        dpkg-deb -x "$dir"/deb/libnginx-mod-stream_*.deb "$dir/root" || return 1
        so=$(find "$dir" -name ngx_stream_module.so | head -n 1)
    fi
    [[ -n $so ]] && echo "$so"
}

have_module() { [[ -f $MODULE_SO ]]; }
no_module_reason="module not built: $MODULE_SO missing (./build.sh builds it)"

# ==============================================================================================
# Static checks
# ==============================================================================================

t_terraform_fmt() {
    command -v terraform || skip "terraform not installed"
    terraform fmt -check -recursive -diff "$ROOT/terraform"
}

t_app_config() {
    command -v terraform || skip "terraform not installed"
    local d=$WORK/app_config
    cp -r "$ROOT/terraform/modules/app_config" "$d" && rm -rf "$d/.terraform"
    cd "$d" || return 1
    terraform init -backend=false -input=false -no-color &&
        terraform validate -no-color &&
        terraform test -no-color
}

# modules/alb needs the AWS provider; its variables alone do not: the sign-in option's input rules.
t_alb_auth_vars() {
    command -v terraform || skip "terraform not installed"
    local d=$WORK/alb_vars
    mkdir -p "$d/tests"
    cp "$ROOT/terraform/modules/alb/variables.tf" "$d/" && cp "$HERE/alb_auth.tftest.hcl" "$d/tests/" || return 1
    printf 'terraform {\n  required_version = ">= 1.11.0"\n}\n' >"$d/versions.tf"
    cd "$d" || return 1
    terraform init -backend=false -input=false -no-color &&
        terraform validate -no-color &&
        terraform test -no-color
}

t_user_data() {
    command -v terraform || skip "terraform not installed"
    command -v cloud-init >/dev/null || skip "cloud-init not installable here"
    local d=$WORK/user_data
    cp -r "$ROOT/terraform/modules/app_config" "$d" && rm -rf "$d/.terraform" "$d/tests"
    cd "$d" || return 1
    cat >fixture.auto.tfvars <<'EOF'
environment         = "staging"
owner               = "platform"
cost_center         = "cc-1"
region              = "eu-central-1"
account_id          = "123456789012"
kms_key_arn         = "arn:aws:kms:eu-central-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666"
redis_host          = "master.gist-staging.abc123.euc1.cache.amazonaws.com"
vpc_cidr            = "10.30.0.0/16"
write_allowed_cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
EOF
    terraform init -backend=false -input=false -no-color >/dev/null &&
        terraform apply -auto-approve -input=false -no-color >/dev/null || return 1
    terraform output -raw user_data >user-data.yaml
    terraform output -raw node_env >node.env
    cat user-data.yaml
    cloud-init schema --config-file user-data.yaml || return 1
    # The env file must be what systemd's EnvironmentFile= and gist-fetch-secrets accept.
    # shellcheck source=/dev/null
    (set -a && . ./node.env && set +a &&
        [[ $GIST_SSM_PREFIX == /gist/staging && $GIST_WRITE_ALLOWED_CIDRS == "203.0.113.0/24 198.51.100.7/32" ]])
}

t_policy() {
    [[ -f $NODE_DIR/node_modules/@cdktf/hcl2json/package.json ]] || { echo "@cdktf/hcl2json not installed"; return 1; }
    node --test "$HERE/policy.test.mjs"
}

t_packer() {
    command -v packer || skip "packer not installable here"
    cd "$ROOT/packer" || return 1
    packer fmt -check -diff . || return 1
    # Debian's packer 1.6.6 rejects the packer{} block (required_plugins): validate the rest.
    local d=$WORK/packer
    mkdir -p "$d" && cp node.pkr.hcl variables.pkr.hcl "$d/"
    packer validate -syntax-only "$d" || return 1
    # versions.pkr.hcl is at least formatted and parseable HCL.
    terraform fmt -check - <versions.pkr.hcl >/dev/null
}

t_shellcheck() {
    command -v shellcheck || skip "shellcheck not installed"
    local files=() f
    while IFS= read -r -d '' f; do
        if [[ $f == *.sh ]] || head -n 1 "$f" | grep -Eq '^#!.*(ba)?sh'; then files+=("$f"); fi
    done < <(find "$ROOT/packaging" "$ROOT/packer" "$ROOT/terraform" -type f \
        -not -path '*/node_modules/*' -not -path '*/.terraform/*' -print0)
    printf '%s\n' "${files[@]}"
    ((${#files[@]} >= 8)) || { echo "only ${#files[@]} scripts found"; return 1; }
    shellcheck -x -S style "${files[@]}"
}

t_systemd_units() {
    command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
    local f
    # Structural lint of the unit files (systemd-analyze verify needs the units' binaries and a
    # running systemd; the boot test runs them for real).
    for f in "$ROOT"/packer/files/*.service "$ROOT/packer/files/nginx-gist.conf"; do
        python3 - "$f" <<'EOF' || return 1
import sys, configparser
p = configparser.ConfigParser(strict=False, interpolation=None)
p.optionxform = str
p.read(sys.argv[1])
if not p.sections():
    sys.exit(f"{sys.argv[1]}: no sections")
print(sys.argv[1], p.sections())
EOF
    done
    grep -q '^Requires=gist-secrets.service' "$ROOT/packer/files/nginx-gist.conf"
}

# nginx -t on the production configs, with the real module and stubbed secrets in a temp prefix.
render_prod_conf() { # render_prod_conf DIR: a copy of conf/nginx.prod.conf pointed at DIR
    local d=$1
    mkdir -p "$d/gist" "$d/logs"
    printf 'ghp_test' >"$d/gist/github_token"
    printf 'pd_test' >"$d/gist/pipedrive_token"
    printf 'redis-test-password' >"$d/gist/redis_auth_token"
    chmod 0600 "$d"/gist/*_token
    echo 'set_real_ip_from 10.0.0.0/16;' >"$d/gist/realip.conf"
    echo 'allow 10.0.0.0/16;' >"$d/gist/vpc-allow.conf"
    echo '203.0.113.0/24 1;' >"$d/gist/write-allow.conf"
    printf 'gist_pipedrive_api_url https://acme.pipedrive.com;\ngist_pipedrive_token_file %s/gist/pipedrive_token;\n' "$d" \
        >"$d/gist/pipedrive.conf"
    # shellcheck disable=SC2016 # nginx variables
    printf 'set $redis_upstream "127.0.0.1:6379";\nset $redis_tls_name "localhost";\n' >"$d/gist/redis-tunnel-upstream.conf"
    sed -e "s|include /etc/nginx/modules-enabled/\*.conf;|load_module $MODULE_SO;|" \
        -e "s|/etc/gist/|$d/gist/|g" -e "s|/run/nginx.pid|$d/nginx.pid|" \
        -e "s|/var/log/nginx/|$d/logs/|g" "$ROOT/conf/nginx.prod.conf" >"$d/nginx.conf"
}

t_nginx_prod_conf() {
    have_module || skip "$no_module_reason"
    local d=$WORK/nginx-prod
    render_prod_conf "$d"
    grep -n 'load_module\|gist_' "$d/nginx.conf"
    nginx -t -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" || { cat "$d/logs/error.log"; return 1; }
    # add_header is inherited only into a block without add_header of its own: every block that has
    # one must repeat nosniff (the boot test checks the answers; this names the block at fault).
    python3 - "$ROOT/conf/nginx.prod.conf" <<'PY'
import re, sys
stack, blocks = [], {}
for n, line in enumerate(open(sys.argv[1]), 1):
    code = line.split('#', 1)[0]
    for m in re.finditer(r'([^{};]*)\{|\}|([^{};]*;)', code):
        if m.group(0) == '}':
            stack.pop()
        elif m.group(1) is not None:
            stack.append(f'{m.group(1).strip()} (line {n})')
            blocks.setdefault(stack[-1], [])
        elif m.group(2).strip().startswith('add_header') and stack:
            blocks[stack[-1]].append(m.group(2).split())
bad = [b for b, h in blocks.items() if h and not any(x[1:3] == ['X-Content-Type-Options', 'nosniff'] for x in h)]
http = [b for b in blocks if b.startswith('http ')]
if not http or not any(x[1:4] == ['X-Content-Type-Options', 'nosniff', 'always;'] for x in blocks[http[0]]):
    sys.exit('http {} must have add_header X-Content-Type-Options nosniff always;')
if bad:
    sys.exit('add_header without nosniff (stops the inheritance) in: ' + ', '.join(bad))
print('nosniff in http {} and in every block with its own add_header:', [b for b, h in blocks.items() if h])
PY
}

t_nginx_tunnel_conf() {
    local so d=$WORK/nginx-tunnel
    so=$(stream_so) || skip "Debian's libnginx-mod-stream could not be downloaded"
    mkdir -p "$d/gist" "$d/run"
    # shellcheck disable=SC2016 # nginx variables
    printf 'set $redis_upstream "127.0.0.1:6379";\nset $redis_tls_name "localhost";\n' >"$d/gist/redis-tunnel-upstream.conf"
    sed -e "s|/usr/lib/nginx/modules/ngx_stream_module.so|$so|" -e "s|/etc/gist/|$d/gist/|g" \
        -e "s|/run/redis-tunnel/|$d/run/|g" "$ROOT/conf/redis-tunnel.conf" >"$d/nginx.conf"
    nginx -t -p "$d" -c "$d/nginx.conf" -e stderr
}

# --- the Debian package -------------------------------------------------------------------------
DEB=""
build_deb() {
    local out=$WORK/deb
    mkdir -p "$out"
    GIST_DEB_BUILD_DIR=$(dirname "$MODULE_SO")
    DEB=$("$ROOT/packaging/build-deb.sh" "$GIST_DEB_BUILD_DIR" "$out" | tail -n 1)
    [[ -f $DEB ]]
}

t_deb() {
    have_module || skip "$no_module_reason"
    [[ $(basename "$MODULE_SO") == ngx_http_gist_module.so ]] || { echo "module must be named ngx_http_gist_module.so"; return 1; }
    local deb abi f
    [[ -n $DEB && -f $DEB ]] || { cat "$LOGS/build-deb.log"; echo "packaging/build-deb.sh built no .deb"; return 1; }
    deb=$DEB
    echo "$deb"
    [[ $(basename "$deb") =~ ^libnginx-mod-http-gist_[0-9][^_]*_amd64\.deb$ ]] || return 1
    dpkg-deb -I "$deb"
    dpkg-deb -c "$deb"
    abi=$(dpkg-query -W -f='${Provides}' nginx | grep -o 'nginx-abi-[^, ]*')
    [[ $(dpkg-deb -f "$deb" Package) == libnginx-mod-http-gist ]] || return 1
    [[ $(dpkg-deb -f "$deb" Architecture) == amd64 ]] || return 1
    local dep
    dep=$(dpkg-deb -f "$deb" Depends)
    for f in "$abi" libhiredis0.14 libcurl4; do
        [[ $dep == *"$f"* ]] || { echo "Depends lacks $f: $dep"; return 1; }
    done
    local list
    list=$(dpkg-deb -c "$deb")
    grep -q ' \./usr/lib/nginx/modules/ngx_http_gist_module\.so$' <<<"$list" || return 1
    grep -q ' \./usr/share/nginx/modules-available/mod-http-gist\.conf$' <<<"$list" || return 1
    grep -q ' \./usr/share/doc/libnginx-mod-http-gist/copyright$' <<<"$list" || return 1
    ! grep -v ' root/root ' <<<"$list" || { echo "files not owned by root"; return 1; }
    local x=$WORK/deb-x
    dpkg-deb -R "$deb" "$x"
    [[ $(cat "$x/usr/share/nginx/modules-available/mod-http-gist.conf") == 'load_module modules/ngx_http_gist_module.so;' ]] || return 1
    for f in postinst prerm postrm; do
        [[ -x $x/DEBIAN/$f ]] || return 1
        sh -n "$x/DEBIAN/$f" && shellcheck -s sh "$x/DEBIAN/$f" || return 1
    done
    (cd "$x" && md5sum --quiet -c DEBIAN/md5sums) || return 1
    # The packaged .so loads into this nginx (same ABI) through the modules-available snippet.
    local d=$WORK/deb-load
    mkdir -p "$d/logs"
    printf 'load_module %s/usr/lib/nginx/modules/ngx_http_gist_module.so;\nevents {}\nhttp { gist_redis 127.0.0.1:6379; server { listen 127.0.0.1:1; location = /health { gist_health; } } }\n' \
        "$x" >"$d/nginx.conf"
    nginx -t -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log"
}

# --- the secrets fetch script against moto --------------------------------------------------------
MOTO_PORT=""
start_moto() { # start_moto [NETNS]: moto_server on 127.0.0.1 (in NETNS if given); sets MOTO_PORT
    local ns=${1:-} port pid i
    port=$((20000 + RANDOM % 20000))
    if [[ -n $ns ]]; then
        ip netns exec "$ns" moto_server -H 127.0.0.1 -p "$port" >"$LOGS/moto-$ns.log" 2>&1 &
    else
        moto_server -H 127.0.0.1 -p "$port" >"$LOGS/moto.log" 2>&1 &
    fi
    pid=$!
    CLEANUPS+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
    for ((i = 0; i < 100; i++)); do
        if ${ns:+ip netns exec "$ns"} curl -sf -o /dev/null "http://127.0.0.1:$port/moto-api/"; then
            MOTO_PORT=$port
            return 0
        fi
        sleep 0.2
    done
    return 1
}

moto_aws() { # moto_aws [NETNS] -- aws args...
    local ns=$1
    shift
    ${ns:+ip netns exec "$ns"} env AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
        aws --region us-east-1 --endpoint-url "http://127.0.0.1:$MOTO_PORT" "$@"
}

seed_ssm() { # seed_ssm NETNS PREFIX REDIS_PASSWORD: KMS key + the three SecureStrings
    local ns=$1 prefix=$2 redis_pw=$3 key
    key=$(moto_aws "$ns" kms create-key --query KeyMetadata.KeyId --output text) || return 1
    moto_aws "$ns" kms create-alias --alias-name alias/gist-test-ssm --target-key-id "$key" || return 1
    moto_aws "$ns" ssm put-parameter --overwrite --type SecureString --key-id alias/gist-test-ssm \
        --name "$prefix/github_token" --value "ghp_boottest0123456789" >/dev/null &&
        moto_aws "$ns" ssm put-parameter --overwrite --type SecureString --key-id alias/gist-test-ssm \
            --name "$prefix/pipedrive_token" --value "pd_boottest0123456789" >/dev/null &&
        moto_aws "$ns" ssm put-parameter --overwrite --type SecureString --key-id alias/gist-test-ssm \
            --name "$prefix/redis_auth_token" --value "$redis_pw" >/dev/null
}

moto_ready=0
setup_moto_host() {
    command -v moto_server >/dev/null || return 1
    command -v aws >/dev/null || need_apt awscli || return 1
    start_moto "" && seed_ssm "" /gist/e2e 'redis-e2e-password-0123456789' && moto_ready=1
}
no_moto_reason="moto_server not found (it comes with the cpp machine image's Python; PyPI is not reachable to install it)"

fetch_secrets() { # fetch_secrets CONF_DIR [VAR=value...]: run the real script against host moto
    local dir=$1
    shift
    env -i PATH="$PATH" HOME="$WORK" GIST_CONF_DIR="$dir" \
        GIST_IMDS_ENDPOINT="http://127.0.0.1:$MOTO_PORT" GIST_SSM_ENDPOINT="http://127.0.0.1:$MOTO_PORT" \
        GIST_SSM_PREFIX=/gist/e2e GIST_REDIS_HOST=master.gist-e2e.abc.euc1.cache.amazonaws.com \
        GIST_VPC_CIDR=10.30.0.0/16 GIST_WRITE_ALLOWED_CIDRS="203.0.113.0/24 198.51.100.7/32" \
        GIST_PIPEDRIVE_URL=https://acme.pipedrive.com \
        "$@" "$ROOT/packer/files/gist-fetch-secrets"
}

t_secrets_fetch() {
    ((moto_ready)) || skip "$no_moto_reason"
    local d=$WORK/secrets-ok
    fetch_secrets "$d" || return 1
    ls -la "$d"
    [[ $(cat "$d/github_token") == ghp_boottest0123456789 ]] || return 1
    [[ $(cat "$d/redis_auth_token") == redis-e2e-password-0123456789 ]] || return 1
    [[ $(stat -c '%a %U' "$d/github_token" "$d/pipedrive_token" "$d/redis_auth_token" | sort -u) == "600 root" ]] || return 1
    grep -qx 'set_real_ip_from 10.30.0.0/16;' "$d/realip.conf" || return 1
    grep -qx 'allow 10.30.0.0/16;' "$d/vpc-allow.conf" || return 1
    grep -qx '198.51.100.7/32 1;' "$d/write-allow.conf" || return 1
    grep -qx 'gist_pipedrive_api_url https://acme.pipedrive.com;' "$d/pipedrive.conf" || return 1
    # shellcheck disable=SC2016 # nginx variables
    grep -qx 'set $redis_upstream "master.gist-e2e.abc.euc1.cache.amazonaws.com:6379";' "$d/redis-tunnel-upstream.conf" || return 1
    # The rendered files are what the production config includes: nginx -t with them.
    if have_module; then
        local n=$WORK/secrets-nginx
        render_prod_conf "$n"
        cp "$d"/* "$n/gist/"
        nginx -t -p "$n" -c "$n/nginx.conf" -e "$n/logs/error.log" || return 1
    fi
}

t_secrets_missing() {
    ((moto_ready)) || skip "$no_moto_reason"
    local d=$WORK/secrets-missing out
    fetch_secrets "$d" || return 1 # a previous good fetch: its files must not survive a failed one
    moto_aws "" ssm delete-parameter --name /gist/e2e/pipedrive_token || return 1
    out=$(fetch_secrets "$d" 2>&1) && { echo "succeeded without pipedrive_token: $out"; return 1; }
    echo "$out"
    grep -q 'cannot read SSM parameter /gist/e2e/pipedrive_token.*ParameterNotFound' <<<"$out" || return 1
    [[ ! -e $d/github_token && ! -e $d/pipedrive_token && ! -e $d/redis_auth_token ]] || { echo "secrets left behind"; return 1; }
    moto_aws "" ssm put-parameter --type SecureString --key-id alias/gist-test-ssm \
        --name /gist/e2e/pipedrive_token --value "pd_boottest0123456789" >/dev/null
}

t_secrets_refused() {
    ((moto_ready)) || skip "$no_moto_reason"
    local d=$WORK/secrets-refused out
    moto_aws "" ssm put-parameter --type String --name /gist/e2e-plain/github_token --value x >/dev/null || return 1
    out=$(fetch_secrets "$d" GIST_SSM_PREFIX=/gist/e2e-plain 2>&1) && return 1
    grep -q 'is String, not SecureString' <<<"$out" || { echo "$out"; return 1; }
    moto_aws "" ssm put-parameter --type SecureString --key-id alias/gist-test-ssm \
        --name /gist/e2e-unset/github_token --value UNSET >/dev/null || return 1
    out=$(fetch_secrets "$d" GIST_SSM_PREFIX=/gist/e2e-unset 2>&1) && return 1
    grep -q "placeholder UNSET" <<<"$out" || { echo "$out"; return 1; }
    # Settings end up in nginx configuration: anything but plain names/CIDRs is refused.
    out=$(fetch_secrets "$d" 'GIST_REDIS_HOST=evil;} include /etc/shadow' 2>&1) && return 1
    grep -q 'GIST_REDIS_HOST .* is not a host name' <<<"$out" || { echo "$out"; return 1; }
    out=$(fetch_secrets "$d" 'GIST_WRITE_ALLOWED_CIDRS=0.0.0.0/0; 1' 2>&1) && return 1
    grep -q 'is not an IPv4 CIDR' <<<"$out" || { echo "$out"; return 1; }
    [[ ! -e $d/github_token ]]
}

t_manifest() {
    local f=$HERE/fixtures/packer-manifest.json s=$ROOT/packer/scripts/ami-from-manifest.sh
    [[ $("$s" "$f") == ami-0123456789abcdef0 ]] || return 1
    [[ $("$s" "$f" eu-west-1) == ami-0fedcba9876543210 ]] || return 1
    ! "$s" "$f" us-east-1
}

# ==============================================================================================
say "infrastructure tests (logs: kept on failure in $LOGS)"
check "terraform fmt -check" t_terraform_fmt
check "terraform init/validate/test: modules/app_config" t_app_config
check "terraform test: modules/alb variables (sign-in option)" t_alb_auth_vars
check "user-data renders and passes cloud-init schema" t_user_data
check "policy rules over .tf/.pkr.hcl (node:test + hcl2json)" t_policy
check "packer fmt -check + validate -syntax-only" t_packer
check "AMI id from the Packer manifest (last run, per region)" t_manifest
check "shellcheck on every script" t_shellcheck
check "systemd units parse; nginx requires gist-secrets" t_systemd_units
check "nginx -t: conf/nginx.prod.conf with the module; nosniff not lost to add_header" t_nginx_prod_conf
check "nginx -t: conf/redis-tunnel.conf with the stream module" t_nginx_tunnel_conf
have_module && build_deb >"$LOGS/build-deb.log" 2>&1
check "deb: builds; fields, contents, maintainer scripts; loads into nginx" t_deb
setup_moto_host >"$LOGS/moto-setup.log" 2>&1 || true
check "secrets: fetch via IMDSv2 + SSM (moto), root-only files, rendered includes" t_secrets_fetch
check "secrets: a missing parameter fails closed" t_secrets_missing
check "secrets: non-SecureString, placeholder and injected settings refused" t_secrets_refused

# The real thing: debootstrap rootfs, provision.sh unchanged, nspawn boot in a netns with moto and
# a TLS Redis. Separate file: it is long.
# shellcheck source=/dev/null # checked on its own
. "$HERE/boot.sh"

if ((failed)); then
    # Keep the logs for a look; everything else is cleaned up.
    trap - EXIT
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[i]}" || true; done
    say "failed: ${failed_names[*]} (logs in $LOGS)"
    say "$passed passed, $failed failed, $skipped skipped"
    exit 1
fi
say "$passed passed, $failed failed, $skipped skipped"
