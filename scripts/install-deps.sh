#!/usr/bin/env bash
# Installs what the tests and the demo need and a fresh Debian bookworm lacks:
# the OVN database servers, ovn-northd, the reference ovn-ic (Debian packages
# ovn-central ovn-ic ovn-ic-db), and promtool (from Debian's prometheus package)
# for the alerting-rule tests.  Does nothing when they are all present.
set -euo pipefail
ovn_missing=0
for tool in ovsdb-server ovsdb-tool ovsdb-client ovn-nbctl ovn-sbctl ovn-ic-nbctl \
            ovn-ic-sbctl ovn-appctl ovn-northd ovn-ic; do
    command -v "$tool" >/dev/null 2>&1 || ovn_missing=1
done
for schema in ovn-nb ovn-sb ovn-ic-nb ovn-ic-sb; do
    [ -f "/usr/share/ovn/$schema.ovsschema" ] || ovn_missing=1
done
promtool_missing=0
command -v promtool >/dev/null 2>&1 || promtool_missing=1
[ "$ovn_missing$promtool_missing" = 00 ] && exit 0
sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps: need root (or sudo) to install ovn-central ovn-ic ovn-ic-db" \
             "and promtool" >&2
        exit 1
    }
    sudo=sudo
fi
$sudo apt-get update -q
if [ "$ovn_missing" = 1 ]; then
    echo "install-deps: installing ovn-central ovn-ic ovn-ic-db (Debian packages)" >&2
    # The packages only ship systemd units; without systemd running nothing starts.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
        ovn-central ovn-ic ovn-ic-db
fi
if [ "$promtool_missing" = 1 ]; then
    # Only the promtool binary (static) out of Debian's prometheus package: installing
    # the package would also start a Prometheus server (its postinst runs its init
    # script through invoke-rc.d, and enables and starts the unit under systemd).
    echo "install-deps: installing /usr/local/bin/promtool from Debian's prometheus package" >&2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    chmod 0777 "$tmp"  # apt downloads as its unprivileged _apt user
    (cd "$tmp" && apt-get download -q prometheus)
    dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$tmp" ./usr/bin/promtool
    $sudo install -m 0755 "$tmp/usr/bin/promtool" /usr/local/bin/promtool
fi
