#!/bin/bash
# Turn a stock Debian 12 system into a gist node. Run as root, once, by Packer's shell provisioner on
# the build instance, and unchanged by terraform/tests (debootstrap rootfs + chroot) before the
# systemd-nspawn boot test.
#
#   provision.sh STAGE_DIR
#
# STAGE_DIR holds what packer/node.pkr.hcl uploads:
#   libnginx-mod-http-gist_<version>_amd64.deb   (./build.sh package)
#   nginx.prod.conf, redis-tunnel.conf            (conf/)
#   gist-fetch-secrets, gist-secrets.service, nginx-redis-tunnel.service, nginx-gist.conf (packer/files/)
#
# Idempotent. Nothing here fetches or stores a secret: the node gets them at boot (gist-secrets.service).
set -euo pipefail

stage=${1:?usage: provision.sh STAGE_DIR}
log() { printf 'provision: %s\n' "$*" >&2; }

shopt -s nullglob
debs=("$stage"/libnginx-mod-http-gist_*_amd64.deb)
shopt -u nullglob
((${#debs[@]} == 1)) || { log "expected exactly one libnginx-mod-http-gist .deb in $stage, found ${#debs[@]}"; exit 1; }
for f in nginx.prod.conf redis-tunnel.conf gist-fetch-secrets gist-secrets.service \
    nginx-redis-tunnel.service nginx-gist.conf; do
    [[ -f $stage/$f ]] || { log "missing $stage/$f"; exit 1; }
done

export DEBIAN_FRONTEND=noninteractive
log "packages"
apt-get update -qq
# nginx (not nginx-light/-full: their extra modules are not wanted), the stream module for the Redis
# tunnel, awscli for SSM, and the module package; apt resolves its Depends (nginx-abi-*, hiredis, curl).
apt-get install -y -qq --no-install-recommends \
    nginx libnginx-mod-stream awscli ca-certificates curl "${debs[0]}" >/dev/null
# The module is built for exactly this nginx ABI: never let unattended upgrades move nginx alone.
# New nginx versions arrive with a new AMI (rebuilt module, rebuilt image).
apt-mark hold nginx nginx-common libnginx-mod-stream libnginx-mod-http-gist >/dev/null

log "users"
getent group gist-redis >/dev/null || addgroup --system --quiet gist-redis
getent passwd redis-tunnel >/dev/null ||
    adduser --system --quiet --no-create-home --home /nonexistent --ingroup gist-redis \
        --shell /usr/sbin/nologin redis-tunnel
adduser --quiet www-data gist-redis   # nginx workers may connect to the tunnel's socket

log "configuration"
install -m 0644 "$stage/nginx.prod.conf" /etc/nginx/nginx.conf
install -d -m 0755 /etc/nginx-redis-tunnel
install -m 0644 "$stage/redis-tunnel.conf" /etc/nginx-redis-tunnel/nginx.conf
install -m 0755 "$stage/gist-fetch-secrets" /usr/local/sbin/gist-fetch-secrets
install -m 0644 "$stage/gist-secrets.service" "$stage/nginx-redis-tunnel.service" /etc/systemd/system/
install -D -m 0644 "$stage/nginx-gist.conf" /etc/systemd/system/nginx.service.d/gist.conf
install -d -m 0755 /etc/gist
# The stock site is not included by nginx.prod.conf; remove it so nobody mistakes it for live.
rm -f /etc/nginx/sites-enabled/default
# The stream module is for the tunnel instance only (it loads it itself): keep it out of the app's
# nginx. Removing the link is an admin choice Debian's maintainer scripts keep across upgrades.
rm -f /etc/nginx/modules-enabled/50-mod-stream.conf

log "nginx -t (with placeholder secrets, removed afterwards)"
placeholders=(github_token pipedrive_token redis_auth_token realip.conf vpc-allow.conf write-allow.conf
    redis-tunnel-upstream.conf pipedrive.conf)
cleanup() { for f in "${placeholders[@]}"; do rm -f "/etc/gist/$f"; done; }
trap cleanup EXIT
for f in github_token pipedrive_token redis_auth_token; do
    [[ -e /etc/gist/$f ]] && { log "refusing: /etc/gist/$f exists in the image"; exit 1; }
    printf 'placeholder' >"/etc/gist/$f"
    chmod 0600 "/etc/gist/$f"
done
echo 'set_real_ip_from 127.0.0.1;' >/etc/gist/realip.conf
echo 'allow 127.0.0.1;' >/etc/gist/vpc-allow.conf
: >/etc/gist/write-allow.conf
printf 'gist_pipedrive_api_url https://placeholder.pipedrive.com;\ngist_pipedrive_token_file /etc/gist/pipedrive_token;\n' \
    >/etc/gist/pipedrive.conf
# shellcheck disable=SC2016 # nginx variables
printf 'set $redis_upstream "127.0.0.1:6379";\nset $redis_tls_name "localhost";\n' \
    >/etc/gist/redis-tunnel-upstream.conf
nginx -t -q
# nginx -t checks that it could write its pid file; the tunnel's lives in its RuntimeDirectory.
made_run_dir=0
[[ -d /run/redis-tunnel ]] || { install -d -m 0750 /run/redis-tunnel; made_run_dir=1; }
nginx -t -q -e stderr -c /etc/nginx-redis-tunnel/nginx.conf
((made_run_dir)) && rm -rf /run/redis-tunnel
cleanup
trap - EXIT

log "services"
systemctl enable --quiet gist-secrets.service nginx-redis-tunnel.service nginx.service
apt-get clean
rm -rf /var/lib/apt/lists/*
log "done: $(dpkg-query -W -f='${Package} ${Version}' libnginx-mod-http-gist), nginx $(dpkg-query -W -f='${Version}' nginx)"
