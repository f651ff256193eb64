#!/usr/bin/env bash
# Installs what the tests and the demo need and a fresh Debian bookworm lacks:
# the OVN database servers, ovn-northd, the reference ovn-ic (Debian packages
# ovn-central ovn-ic ovn-ic-db).  Does nothing when they are all present.
set -euo pipefail
missing=0
for tool in ovsdb-server ovsdb-tool ovsdb-client ovn-nbctl ovn-sbctl ovn-ic-nbctl \
            ovn-ic-sbctl ovn-appctl ovn-northd ovn-ic; do
    command -v "$tool" >/dev/null 2>&1 || missing=1
done
for schema in ovn-nb ovn-sb ovn-ic-nb ovn-ic-sb; do
    [ -f "/usr/share/ovn/$schema.ovsschema" ] || missing=1
done
[ "$missing" = 0 ] && exit 0
sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps: need root (or sudo) to apt-get install ovn-central ovn-ic ovn-ic-db" >&2
        exit 1
    }
    sudo=sudo
fi
echo "install-deps: installing ovn-central ovn-ic ovn-ic-db (Debian packages)" >&2
$sudo apt-get update -q
# The packages only ship systemd units; without systemd running nothing starts.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
    ovn-central ovn-ic ovn-ic-db
