#!/usr/bin/env bash
# Build libnginx-mod-http-gist_<version>_amd64.deb from an already built module, the way Debian ships
# its own libnginx-mod-* packages: the .so in /usr/lib/nginx/modules, a load_module snippet in
# /usr/share/nginx/modules-available, maintainer scripts that link it into /etc/nginx/modules-enabled.
#
#   packaging/build-deb.sh BUILD_DIR [OUT_DIR]
#
# BUILD_DIR holds ngx_http_gist_module.so (./build.sh package passes it). The .deb goes to OUT_DIR
# (default BUILD_DIR); its path is the last line printed. Offline: only dpkg-deb, dpkg-shlibdeps and
# dpkg-query (dpkg, dpkg-dev). Environment: GIST_DEB_VERSION overrides the version.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PKG=libnginx-mod-http-gist
MODULE=ngx_http_gist_module.so
CONF_NAME=mod-http-gist.conf
ENABLED_NAME=50-mod-http-gist.conf

die() { echo "build-deb.sh: $*" >&2; exit 1; }

BUILD_DIR=${1:?usage: build-deb.sh BUILD_DIR [OUT_DIR]}
OUT_DIR=${2:-$BUILD_DIR}
SO=$BUILD_DIR/$MODULE
[[ -f $SO ]] || die "$SO not found: build the module first (./build.sh)"
command -v dpkg-shlibdeps >/dev/null || die "dpkg-shlibdeps missing: apt-get install dpkg-dev"

# The nginx ABI the module was compiled against: the nginx-dev headers must belong to the installed
# nginx, and the package then depends on the virtual package that exact nginx build provides.
nginx_ver=$(dpkg-query -W -f='${Version}' nginx 2>/dev/null) || die "nginx is not installed"
dev_ver=$(dpkg-query -W -f='${Version}' nginx-dev 2>/dev/null) || die "nginx-dev is not installed"
[[ $nginx_ver == "$dev_ver" ]] || die "nginx ($nginx_ver) and nginx-dev ($dev_ver) differ"
abi=$(dpkg-query -W -f='${Provides}' nginx | tr ',' '\n' | sed -n 's/^ *\(nginx-abi-[^ ]*\).*/\1/p' | head -n1)
[[ -n $abi ]] || die "the installed nginx provides no nginx-abi-* virtual package"

base=$(tr -d ' \n' <"$HERE/VERSION")
if [[ -n ${GIST_DEB_VERSION:-} ]]; then
    version=$GIST_DEB_VERSION
elif git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    # Monotonic across commits on main: upstream version + commit count + short hash.
    version="$base+git$(git -C "$ROOT" rev-list --count HEAD).$(git -C "$ROOT" rev-parse --short=10 HEAD)-1"
else
    version="$base-1"
fi
[[ $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "bad version: $version"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
install -d -m 0755 "$root/DEBIAN" "$root/usr/lib/nginx/modules" \
    "$root/usr/share/nginx/modules-available" "$root/usr/share/doc/$PKG"
install -m 0644 "$SO" "$root/usr/lib/nginx/modules/$MODULE"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/lib/nginx/modules/$MODULE"
printf 'load_module modules/%s;\n' "$MODULE" >"$root/usr/share/nginx/modules-available/$CONF_NAME"
install -m 0644 "$HERE/copyright" "$root/usr/share/doc/$PKG/copyright"
# The operator console: static files nginx serves itself (`location /`, see conf/nginx.prod.conf).
install -d -m 0755 "$root/usr/share/ngx-gist/console"
install -m 0644 "$ROOT"/console/*.html "$ROOT"/console/*.css "$ROOT"/console/*.js "$root/usr/share/ngx-gist/console/"
printf '%s (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- ngx_gist_module maintainers <ops@example.invalid>  %s\n' \
    "$PKG" "$version" "$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo 'a source tree')" \
    "$(date -R -u -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$root/usr/share/doc/$PKG/changelog.Debian.gz"
chmod 0644 "$root/usr/share/doc/$PKG/changelog.Debian.gz"

# Shared-library dependencies, computed from the .so itself (dpkg-shlibdeps wants a debian/control).
mkdir -p "$work/src/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: amd64\n' "$PKG" "$PKG" >"$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/lib/nginx/modules/$MODULE" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
depends="$abi"
[[ -n $shlibs ]] && depends+=", $shlibs"
# The module always needs these two at run time (hiredis 0.14 ABI, libcurl with OpenSSL).
for lib in libhiredis0.14 libcurl4; do
    [[ $shlibs == *"$lib"* ]] || depends+=", $lib"
done

installed_kb=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: $PKG
Source: ngx-gist-module
Version: $version
Architecture: amd64
Maintainer: ngx_gist_module maintainers <ops@example.invalid>
Installed-Size: $installed_kb
Depends: $depends
Recommends: nginx
Section: httpd
Priority: optional
Description: gist tracker JSON API module for Nginx
 ngx_http_gist_module serves the gist tracker's JSON API (/user/{login},
 /trackedusers, /health, /deals, /metrics) from Nginx workers, with its state
 in Redis, and ships the operator console in /usr/share/ngx-gist/console.
 .
 Built for exactly one nginx ABI ($abi, nginx $nginx_ver).
CONTROL

for script in postinst prerm postrm; do
    sed -e "s|@CONF_NAME@|$CONF_NAME|g" -e "s|@ENABLED_NAME@|$ENABLED_NAME|g" \
        "$HERE/maintscripts/$script" >"$root/DEBIAN/$script"
    chmod 0755 "$root/DEBIAN/$script"
done
(cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$OUT_DIR"
# One package per build directory, so `ls build/libnginx-mod-http-gist_*_amd64.deb` is unambiguous.
rm -f "$OUT_DIR/${PKG}"_*_amd64.deb
deb="$OUT_DIR/${PKG}_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
