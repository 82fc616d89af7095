# shellcheck shell=bash disable=SC2154 # run.sh's variables
# Sourced by run.sh: the node, for real. A Debian 12 rootfs (debootstrap, cached as a tarball), the
# Packer provisioning script run unchanged in it with the .deb built from BUILD_DIR, then booted with
# systemd-nspawn inside a network namespace of our own where moto plays IMDSv2 + SSM and a real
# redis-server speaks TLS with requirepass (as ElastiCache does). Only the namespace's loopback is
# ever addressed.
#
# Checks: provisioning; boot with all parameters (units active, /health 200 with Redis up through
# the tunnel, secrets root-only, workers unprivileged, write access control, rate limit, JSON log);
# boot with the wrong Redis certificate name (the tunnel refuses it, /health says 503); boot with a
# parameter missing (gist-secrets fails, nginx never starts, the reason in the journal); then the
# package's remove/reinstall/upgrade/purge behaviour in the same rootfs.

BOOT_NS=gistboot$$
ROOTFS=$WORK/rootfs
REDIS_TLS_NAME=redis.gist-boottest.internal
REDIS_PORT=6390
REDIS_PW='boottest-redis-auth-0123456789abcdef'
SEED_PKGS=(systemd systemd-sysv dbus ca-certificates curl iproute2 procps
    nginx libnginx-mod-stream awscli libhiredis0.14 libcurl4)
boot_ready=0
boot_skip_reason=""

boot_prereqs() {
    [[ -z ${GIST_TEST_NO_BOOT:-} ]] || { boot_skip_reason="GIST_TEST_NO_BOOT is set"; return 1; }
    [[ $(id -u) -eq 0 ]] || { boot_skip_reason="needs root"; return 1; }
    have_module || { boot_skip_reason=$no_module_reason; return 1; }
    [[ -n $DEB && -f $DEB ]] || { boot_skip_reason="no .deb was built"; return 1; }
    command -v moto_server >/dev/null || { boot_skip_reason=$no_moto_reason; return 1; }
    need_apt debootstrap systemd-container openssl >/dev/null 2>&1 ||
        { boot_skip_reason="debootstrap/systemd-container not installable"; return 1; }
    local libs
    libs=$(ldd "$(command -v redis-server)" 2>&1)
    [[ $libs == *libssl* ]] || { boot_skip_reason="redis-server has no TLS"; return 1; }
    ip netns add "$BOOT_NS" 2>/dev/null || { boot_skip_reason="cannot create a network namespace (ip netns add)"; return 1; }
    CLEANUPS+=("ip netns del $BOOT_NS 2>/dev/null")
    ip -n "$BOOT_NS" link set lo up || { boot_skip_reason="cannot bring up lo in the namespace"; return 1; }
    return 0
}

# The Debian archive the host uses (not named here: it comes from the host's apt sources).
debian_mirror() {
    local u
    u=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1)
    [[ -n $u ]] || u=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n 1)
    echo "$u"
}

# Base rootfs: minbase + systemd + what provision.sh installs (so its apt step is fast), cached.
rootfs_tarball() {
    local key tar tmp mirror
    key=$(printf '%s\n' bookworm "${SEED_PKGS[@]}" | sha256sum | cut -c1-12)
    tar=$GIST_TEST_CACHE/rootfs-bookworm-$key.tar
    if [[ -f $tar ]]; then echo "$tar"; return 0; fi
    mirror=$(debian_mirror)
    [[ -n $mirror ]] || { echo "no Debian mirror in the host's apt sources" >&2; return 1; }
    tmp=$GIST_TEST_CACHE/build.$$
    rm -rf "$tmp"
    (
        set -e
        debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates,curl \
            bookworm "$tmp" "$mirror" >&2
        # Same apt sources as the host (Debian's cloud images carry bookworm-security too).
        rm -f "$tmp/etc/apt/sources.list"
        cp /etc/apt/sources.list.d/*.sources "$tmp/etc/apt/sources.list.d/" 2>/dev/null ||
            cp /etc/apt/sources.list "$tmp/etc/apt/sources.list"
        find "$tmp/etc/apt/sources.list.d" -name '*.disabled*' -delete
        cp /etc/resolv.conf "$tmp/etc/resolv.conf"
        printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
        chmod 0755 "$tmp/usr/sbin/policy-rc.d"
        chroot "$tmp" apt-get update -qq
        chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${SEED_PKGS[@]}" >&2
        chroot "$tmp" apt-get clean
        rm -f "$tmp/usr/sbin/policy-rc.d"
        tar --numeric-owner -C "$tmp" -cf "$tar.part" .
        mv "$tar.part" "$tar"
    )
    local rc=$?
    rm -rf "$tmp" "$tar.part"
    ((rc == 0)) && echo "$tar"
}

t_boot_provision() {
    local tar stage=$ROOTFS/tmp/gist-node
    tar=$(rootfs_tarball) || return 1
    echo "rootfs: $tar"
    mkdir -p "$ROOTFS" && tar --numeric-owner -C "$ROOTFS" -xf "$tar" || return 1
    # The same files Packer uploads (node.pkr.hcl's file provisioner), the same script.
    mkdir -p "$stage"
    cp "$DEB" "$ROOT/conf/nginx.prod.conf" "$ROOT/conf/redis-tunnel.conf" "$ROOT"/packer/files/* "$stage/" || return 1
    cp "$ROOT/packer/scripts/provision.sh" "$stage/provision.sh"
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d" && chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
    mount -t proc proc "$ROOTFS/proc" || return 1
    chroot "$ROOTFS" /bin/bash /tmp/gist-node/provision.sh /tmp/gist-node
    local rc=$?
    umount "$ROOTFS/proc"
    rm -rf "$stage" "$ROOTFS/usr/sbin/policy-rc.d"
    ((rc == 0)) || return 1
    touch "$WORK/provisioned"
    # What the image must (not) contain.
    [[ -L $ROOTFS/etc/nginx/modules-enabled/50-mod-http-gist.conf ]] || { echo "module not enabled"; return 1; }
    [[ ! -e $ROOTFS/etc/nginx/modules-enabled/50-mod-stream.conf ]] || { echo "stream module loaded into the app nginx"; return 1; }
    cmp "$ROOTFS/usr/share/nginx/modules-available/mod-http-gist.conf" <(echo 'load_module modules/ngx_http_gist_module.so;') || return 1
    [[ ! -e $ROOTFS/etc/gist/github_token && ! -e $ROOTFS/etc/gist/redis_auth_token ]] || { echo "secrets baked into the image"; return 1; }
    chroot "$ROOTFS" apt-mark showhold | grep -x nginx >/dev/null || { echo "nginx not held"; return 1; }
    local u
    for u in gist-secrets.service nginx-redis-tunnel.service nginx.service; do
        chroot "$ROOTFS" systemctl is-enabled "$u" || return 1
    done
    # Test fixtures that in AWS come from elsewhere: user-data's node.env (with the test hooks that
    # point IMDS/SSM at moto), and a CA for the fake ElastiCache certificate (Amazon's CAs are in the
    # real bundle already).
    cat >"$ROOTFS/etc/gist/node.env" <<EOF
GIST_SSM_PREFIX=/gist/boottest
GIST_REDIS_HOST=127.0.0.1
GIST_REDIS_PORT=$REDIS_PORT
GIST_REDIS_TLS_NAME=$REDIS_TLS_NAME
GIST_VPC_CIDR=127.0.0.0/8
GIST_WRITE_ALLOWED_CIDRS="192.0.2.0/24"
GIST_IMDS_ENDPOINT=http://127.0.0.1:$MOTO_BOOT_PORT
GIST_SSM_ENDPOINT=http://127.0.0.1:$MOTO_BOOT_PORT
EOF
    cp "$WORK/tls/ca.crt" "$ROOTFS/usr/local/share/ca-certificates/gist-boottest.crt"
    chroot "$ROOTFS" update-ca-certificates >/dev/null || return 1
    : >"$ROOTFS/etc/machine-id"
}

boot_tls_and_services() { # CA + server cert, moto and TLS redis-server inside the namespace
    local t=$WORK/tls
    mkdir -p "$t"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=gist boot test CA' \
        -keyout "$t/ca.key" -out "$t/ca.crt" 2>/dev/null || return 1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$REDIS_TLS_NAME" -keyout "$t/redis.key" -out "$t/redis.csr" 2>/dev/null &&
        openssl x509 -req -in "$t/redis.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 2 \
            -extfile <(printf 'subjectAltName=DNS:%s\n' "$REDIS_TLS_NAME") -out "$t/redis.crt" 2>/dev/null || return 1
    chmod 0644 "$t"/*
    ip netns exec "$BOOT_NS" redis-server --port 0 --tls-port "$REDIS_PORT" --bind 127.0.0.1 \
        --tls-cert-file "$t/redis.crt" --tls-key-file "$t/redis.key" --tls-ca-cert-file "$t/ca.crt" \
        --tls-auth-clients no --requirepass "$REDIS_PW" --save '' --appendonly no \
        --dir "$WORK" --logfile "$LOGS/redis-boot.log" --daemonize no &
    local rpid=$!
    CLEANUPS+=("kill $rpid 2>/dev/null; wait $rpid 2>/dev/null")
    start_moto "$BOOT_NS" || return 1
    MOTO_BOOT_PORT=$MOTO_PORT
    seed_ssm "$BOOT_NS" /gist/boottest "$REDIS_PW"
}

NSPAWN_PID=""
boot_start() { # boot_start LOG
    systemd-nspawn -q -D "$ROOTFS" --network-namespace-path="/run/netns/$BOOT_NS" --register=no \
        --keep-unit --console=pipe -b >"$1" 2>&1 </dev/null &
    NSPAWN_PID=$!
    CLEANUPS+=("kill -9 $NSPAWN_PID 2>/dev/null")
}
boot_stop() {
    [[ -n $NSPAWN_PID ]] || return 0
    kill -TERM "$NSPAWN_PID" 2>/dev/null
    local i
    for ((i = 0; i < 60; i++)); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$NSPAWN_PID" 2>/dev/null
    wait "$NSPAWN_PID" 2>/dev/null
    NSPAWN_PID=""
}
in_node() { # in_node CMD...: run inside the booted container
    local leader
    leader=$(pgrep -P "$NSPAWN_PID" | head -n 1)
    [[ -n $leader ]] || return 1
    nsenter -t "$leader" -m -u -i -n -p -- "$@"
}
ns_curl() { ip netns exec "$BOOT_NS" curl -s --max-time 5 "$@"; }
wait_state() { # wait_state UNIT STATE SECONDS: until UNIT is STATE, or boot finished without it
    local i state system settled=0
    for ((i = 0; i < $3 * 2; i++)); do
        state=$(in_node systemctl is-active "$1" 2>/dev/null)
        [[ $state == "$2" ]] && return 0
        system=$(in_node systemctl is-system-running 2>/dev/null)
        # "running" can be reported a moment before a unit queued last starts: believe it only
        # when it holds for two seconds.
        if [[ $system == running || $system == degraded ]] && [[ $state != activating ]]; then
            if ((++settled >= 4)); then
                echo "boot finished ($system) with $1 $state"
                return 1
            fi
        else
            settled=0
        fi
        sleep 0.5
    done
    return 1
}

t_boot_ok() {
    local log=$LOGS/boot-ok.console code body
    boot_start "$log"
    trap boot_stop EXIT
    if ! wait_state nginx.service active 90; then
        echo "nginx did not become active"
        in_node systemctl --no-pager status gist-secrets nginx-redis-tunnel nginx 2>&1 | tail -40
        in_node journalctl --no-pager -b -u gist-secrets -u nginx-redis-tunnel -u nginx 2>&1 | tail -40
        tail -30 "$log"
        return 1
    fi
    in_node systemctl is-active gist-secrets.service nginx-redis-tunnel.service || return 1
    in_node journalctl --no-pager -b -u gist-secrets | tail -5
    # /health through the module, Redis reached through the separate tunnel instance (TLS + AUTH).
    local i
    for ((i = 0; i < 20; i++)); do
        code=$(ns_curl -o "$WORK/health.json" -w '%{http_code}' http://127.0.0.1:8080/health)
        [[ $code == 200 ]] && break
        sleep 0.5
    done
    body=$(cat "$WORK/health.json")
    echo "/health: $code $body"
    if [[ $code != 200 ]] || ! python3 -c 'import json,sys; sys.exit(json.loads(sys.argv[1]).get("redis") != "up")' "$body"; then
        in_node journalctl --no-pager -b -u nginx-redis-tunnel | tail -20
        return 1
    fi
    # Secrets: root-only files; nothing else readable by the workers.
    [[ $(stat -c '%a %u' "$ROOTFS"/etc/gist/*_token | sort -u) == "600 0" ]] || { stat -c '%n %a %u' "$ROOTFS"/etc/gist/*; return 1; }
    # Workers unprivileged (www-data), the tunnel a separate, unprivileged nginx.
    in_node ps -eo user:20,group:20,args | grep nginx
    in_node ps -eo user:20,args | grep '^www-data .*nginx: worker process' >/dev/null || return 1
    in_node ps -eo user:20,args | grep '^root .*nginx: worker' && { echo "root worker"; return 1; }
    in_node ps -eo user:20,args | grep '^redis-tunnel .*nginx: master process.*redis-tunnel' >/dev/null || return 1
    [[ $(stat -c '%a %U %G' "$ROOTFS/run/redis-tunnel" 2>/dev/null || in_node stat -c '%a %U %G' /run/redis-tunnel) == "750 redis-tunnel gist-redis" ]] || return 1
    # Write access control: only GIST_WRITE_ALLOWED_CIDRS (the real client address comes from
    # X-Forwarded-For, trusted from the VPC range only).
    code=$(ns_curl -o /dev/null -w '%{http_code}' -X DELETE http://127.0.0.1:8080/user/octocat)
    echo "DELETE from a non-allowed client: $code"
    [[ $code == 403 ]] || return 1
    code=$(ns_curl -o /dev/null -w '%{http_code}' -X DELETE -H 'X-Forwarded-For: 192.0.2.10' http://127.0.0.1:8080/user/octocat)
    echo "DELETE from an allowed client: $code"
    [[ $code != 403 && $code != 429 && $code != 000 ]] || return 1
    code=$(ns_curl -o /dev/null -w '%{http_code}' -X DELETE -H 'X-Forwarded-For: 192.0.2.10, 203.0.113.9' http://127.0.0.1:8080/user/octocat)
    echo "DELETE with a spoofed allowed hop before the real one: $code"
    [[ $code == 403 ]] || return 1
    # Rate limit on writes (burst 10): the 14th quick write from one client is refused with 429.
    local codes=""
    for ((i = 0; i < 14; i++)); do
        codes+=" $(ns_curl -o /dev/null -w '%{http_code}' -X DELETE -H 'X-Forwarded-For: 192.0.2.11' http://127.0.0.1:8080/user/octocat)"
    done
    echo "14 writes:$codes"
    [[ $codes == *429 ]] || return 1
    body=$(ns_curl -X DELETE -H 'X-Forwarded-For: 192.0.2.11' http://127.0.0.1:8080/user/octocat)
    echo "rate-limited body: $body"
    [[ $body == '{"error":"rate_limited"}' ]] || return 1
    # JSON access log.
    tail -n 1 "$ROOTFS/var/log/nginx/access.log" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d); sys.exit(0 if d["status"]==429 and d["remote_addr"]=="192.0.2.11" and d["method"]=="DELETE" else 1)'
}

# The edge inside nginx (issue 12), whatever the ALB's literal path rules miss. Clients are told
# apart by X-Forwarded-For, trusted from the "VPC" (127.0.0.0/8 here): no header = a VPC address
# (the ALB's health checks), 198.51.100.x = the internet, 192.0.2.x = GIST_WRITE_ALLOWED_CIDRS.
t_boot_edge() {
    local log=$LOGS/boot-edge.console code p i codes
    boot_start "$log"
    trap boot_stop EXIT
    wait_state nginx.service active 90 || { in_node journalctl --no-pager -b -u nginx | tail -20; return 1; }
    local outside=(-H 'X-Forwarded-For: 198.51.100.23') allowed=(-H 'X-Forwarded-For: 192.0.2.30')
    st() { ns_curl --path-as-is -o /dev/null -w '%{http_code}' "$@"; }
    # /health: VPC only, however the path is spelled (the ALB hides the literal /health only).
    for p in /health //health /%68ealth ///health /./health /%2Fhealth; do
        code=$(st "${outside[@]}" "http://127.0.0.1:8080$p")
        echo "outside GET $p: $code"
        [[ $code == 403 ]] || return 1
    done
    for p in /health //health /%68ealth; do
        code=$(st "http://127.0.0.1:8080$p")
        echo "VPC GET $p: $code"
        [[ $code == 200 || $code == 503 ]] || return 1
    done
    # Reads that reveal CRM data: the allow-list, like writes.
    for p in /trackedusers //trackedusers /%74rackedusers /user/octocat //user/octocat /%75ser/octocat; do
        code=$(st "${outside[@]}" "http://127.0.0.1:8080$p")
        echo "outside GET $p: $code"
        [[ $code == 403 ]] || return 1
        code=$(st -I "${outside[@]}" "http://127.0.0.1:8080$p")
        echo "outside HEAD $p: $code"
        [[ $code == 403 ]] || return 1
    done
    code=$(st "${allowed[@]}" http://127.0.0.1:8080/trackedusers)
    echo "allowed GET /trackedusers: $code"
    [[ $code == 200 ]] || return 1
    code=$(st "${allowed[@]}" http://127.0.0.1:8080/user/octocat)
    echo "allowed GET /user/octocat: $code"
    [[ $code == 404 ]] || return 1 # not_tracked, from the module
    [[ $(ns_curl "${outside[@]}" http://127.0.0.1:8080/trackedusers) == '{"error":"forbidden"}' ]] || return 1
    [[ $(ns_curl "${outside[@]}" http://127.0.0.1:8080//health) == '{"error":"forbidden"}' ]] || return 1
    # nosniff on every kind of answer: the module's (200, 404, 503), nginx's return (403, 404), the
    # deny page, the rate-limit page, and nginx's own HTML error pages (413, 400).
    nosniff() { # nosniff STATUS_ERE CURL_ARGS...
        local want=$1 h
        shift
        h=$(ns_curl --path-as-is -o /dev/null -D - "$@" | tr -d '\r')
        echo "${*: -1} -> $(head -n 1 <<<"$h") / $(grep -i '^x-content-type-options:' <<<"$h")"
        [[ $(head -n 1 <<<"$h") =~ ^HTTP/1\.1\ ($want)\  ]] || return 1
        grep -qix 'x-content-type-options: nosniff' <<<"$h"
    }
    nosniff '200|503' http://127.0.0.1:8080/health || return 1
    nosniff 200 "${allowed[@]}" http://127.0.0.1:8080/trackedusers || return 1
    nosniff 404 "${allowed[@]}" http://127.0.0.1:8080/user/octocat || return 1
    nosniff 403 "${outside[@]}" http://127.0.0.1:8080/user/octocat || return 1
    nosniff 403 "${outside[@]}" http://127.0.0.1:8080//health || return 1
    nosniff 404 http://127.0.0.1:8080/no-such-path || return 1
    nosniff 413 "${allowed[@]}" -X POST -H 'Content-Type: text/plain' --data-binary "$(head -c 6000 /dev/zero | tr '\0' x)" \
        http://127.0.0.1:8080/user/octocat || return 1
    nosniff 400 -H 'Host: bad/host' http://127.0.0.1:8080/trackedusers || return 1
    # Node-wide limits: many addresses, each far below its own limit, still meet one budget for
    # writes and one for /trackedusers.
    codes=""
    for ((i = 100; i < 140; i++)); do
        codes+=" $(st -X DELETE -H "X-Forwarded-For: 192.0.2.$i" http://127.0.0.1:8080/user/octocat)"
    done
    echo "40 writes from 40 addresses:$codes"
    [[ $codes == " 404"* && $codes == *" 429"* ]] || return 1
    codes=""
    for ((i = 140; i < 180; i++)); do
        codes+=" $(st -H "X-Forwarded-For: 192.0.2.$i" http://127.0.0.1:8080/trackedusers)"
    done
    echo "40 GET /trackedusers from 40 addresses:$codes"
    [[ $codes == " 200"* && $codes == *" 429"* ]] || return 1
    for ((i = 0; i < 12; i++)); do st -X DELETE -H 'X-Forwarded-For: 192.0.2.31' http://127.0.0.1:8080/user/octocat >/dev/null; done
    nosniff 429 -X DELETE -H 'X-Forwarded-For: 192.0.2.31' http://127.0.0.1:8080/user/octocat
}

t_boot_tls_verify() {
    local log=$LOGS/boot-tls.console code
    sed -i "s/^GIST_REDIS_TLS_NAME=.*/GIST_REDIS_TLS_NAME=wrong-name.gist-boottest.internal/" "$ROOTFS/etc/gist/node.env"
    boot_start "$log"
    trap 'boot_stop; sed -i "s/^GIST_REDIS_TLS_NAME=.*/GIST_REDIS_TLS_NAME=$REDIS_TLS_NAME/" "$ROOTFS/etc/gist/node.env"' EXIT
    wait_state nginx.service active 90 || return 1
    local i
    for ((i = 0; i < 10; i++)); do
        code=$(ns_curl -o "$WORK/health-tls.json" -w '%{http_code}' http://127.0.0.1:8080/health)
        [[ $code == 503 ]] && break
        sleep 0.5
    done
    echo "/health with a certificate that does not match: $code $(cat "$WORK/health-tls.json")"
    [[ $code == 503 ]] || return 1
    in_node journalctl --no-pager -b -u nginx-redis-tunnel | tail -5
    in_node journalctl --no-pager -b -u nginx-redis-tunnel | grep 'upstream SSL certificate does not match' >/dev/null
}

t_boot_deb_lifecycle() { # Debian's modules-enabled semantics, in the provisioned rootfs
    local link=$ROOTFS/etc/nginx/modules-enabled/50-mod-http-gist.conf
    cp "$DEB" "$ROOTFS/tmp/gist.deb"
    chroot "$ROOTFS" dpkg -r --force-hold libnginx-mod-http-gist || return 1
    [[ ! -e $link && -L $link.removed && ! -e $ROOTFS/usr/lib/nginx/modules/ngx_http_gist_module.so ]] || { echo "remove"; return 1; }
    chroot "$ROOTFS" dpkg -i --force-hold /tmp/gist.deb || return 1
    [[ -L $link && ! -e $link.removed ]] || { echo "reinstall did not re-enable"; return 1; }
    rm "$link" # the admin disables it; an upgrade must respect that
    chroot "$ROOTFS" dpkg -i --force-hold /tmp/gist.deb || return 1
    [[ ! -e $link ]] || { echo "upgrade re-enabled a module the admin disabled"; return 1; }
    chroot "$ROOTFS" dpkg -P --force-hold,depends libnginx-mod-http-gist || return 1
    [[ ! -e $link && ! -e $link.removed ]] || { echo "purge left links"; return 1; }
}

t_boot_missing_param() {
    local log=$LOGS/boot-missing.console code
    moto_aws "$BOOT_NS" ssm delete-parameter --name /gist/boottest/pipedrive_token || return 1
    boot_start "$log"
    trap boot_stop EXIT
    wait_state gist-secrets.service failed 90 || { in_node systemctl --no-pager status gist-secrets; return 1; }
    in_node journalctl --no-pager -b -u gist-secrets -u nginx | tail -20
    in_node journalctl --no-pager -b -u gist-secrets | grep 'cannot read SSM parameter /gist/boottest/pipedrive_token.*ParameterNotFound' >/dev/null || return 1
    sleep 2
    [[ $(in_node systemctl is-active nginx.service) != active ]] || { echo "nginx started without its secrets"; return 1; }
    code=$(ns_curl -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/health)
    echo "/health: $code"
    [[ $code == 000 ]] || return 1
    [[ ! -e $ROOTFS/etc/gist/github_token ]] || { echo "stale secrets left after a failed fetch"; return 1; }
}

t_boot_skipped() { skip "$boot_skip_reason"; }

if boot_prereqs >"$LOGS/boot-prereqs.log" 2>&1 && boot_tls_and_services >"$LOGS/boot-services.log" 2>&1; then
    boot_ready=1
elif [[ -z $boot_skip_reason ]]; then
    boot_skip_reason="could not start moto/redis in the namespace (see $LOGS/boot-services.log)"
    cat "$LOGS/boot-services.log" >&2
fi
CLEANUPS+=("mountpoint -q $ROOTFS/proc && umount $ROOTFS/proc; rm -rf $ROOTFS")
if ((boot_ready)); then
    check "boot: provision.sh unchanged in a debootstrap Debian 12 rootfs" t_boot_provision
    if [[ -e $WORK/provisioned ]]; then
        check "boot: nspawn node serves /health with Redis via the TLS tunnel; access control" t_boot_ok
        check "boot: edge in nginx: /health VPC-only (//health, /%68ealth), CRM reads allow-listed, nosniff, node-wide limits" t_boot_edge
        check "boot: Redis certificate name is verified by the tunnel (wrong name: /health 503)" t_boot_tls_verify
        check "boot: a missing SSM parameter keeps nginx down (fail closed)" t_boot_missing_param
        check "deb: remove/reinstall/upgrade/purge keep modules-enabled semantics (rootfs)" t_boot_deb_lifecycle
    fi
else
    check "boot: debootstrap + provision.sh + nspawn boot" t_boot_skipped
fi
