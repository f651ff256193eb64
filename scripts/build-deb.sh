#!/usr/bin/env bash
# Builds the Debian package with dpkg-buildpackage (debian/) in a copy of the
# files that go into it, and prints the .deb's path; with OUTDIR, copies it
# there first, replacing older ovn-ic-controller_*.deb files.
#
# Builds are cached under ${XDG_CACHE_HOME:-~/.cache}/ovn-ic-controller/deb,
# keyed by a hash of those files as they are in the work tree (committed or
# not), so the same sources build once. The Python dependencies come from PyPI
# (setup.cfg's install_requires) at build time; DEB_REBUILD=1 builds again.
#
# Usage: scripts/build-deb.sh [OUTDIR]
set -euo pipefail

outdir=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ovn-ic-controller/deb
cd "$root"

if ! command -v dpkg-checkbuilddeps >/dev/null || ! dpkg-checkbuilddeps >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "build-deb: installing the build dependencies (debian/control)" >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get build-dep -y -q "$root" >&2
fi

# What the package is made of: the Python package, its metadata, the sample
# configuration, the unit, the packaging and this script.
git rev-parse --is-inside-work-tree >/dev/null
mapfile -d '' files < <(git ls-files -z --cached --others --exclude-standard -- \
    ovn_ic_controller setup.cfg pyproject.toml README.md etc systemd debian scripts/build-deb.sh \
    | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done)
key=$(printf '%s\0' "${files[@]}" | xargs -0 sha256sum | sha256sum | cut -c1-16)
version=$(dpkg-parsechangelog -S Version)
upstream=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' ovn_ic_controller/__init__.py)
if [ "$version" != "$upstream" ]; then
    echo "build-deb: debian/changelog is at $version but ovn_ic_controller is $upstream;" \
         "add a debian/changelog entry for $upstream" >&2
    exit 1
fi
deb=$cache/$key/ovn-ic-controller_${version}_$(dpkg --print-architecture).deb

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$deb" ] || [ "${DEB_REBUILD:-}" = 1 ]; then
    rm -rf "${cache:?}/$key"
    mkdir -p "$cache/$key/src"
    trap 'rm -rf "${cache:?}/$key/src"' EXIT
    printf '%s\0' "${files[@]}" | xargs -0 cp --parents -t "$cache/$key/src"
    echo "build-deb: building $(basename "$deb") (log: $cache/$key/build.log)" >&2
    start=$SECONDS
    if ! (cd "$cache/$key/src" && dpkg-buildpackage -b -uc -us) >"$cache/$key/build.log" 2>&1; then
        tail -n 30 "$cache/$key/build.log" >&2
        echo "build-deb: dpkg-buildpackage failed; the log: $cache/$key/build.log" >&2
        exit 1
    fi
    echo "build-deb: built in $((SECONDS - start)) s" >&2
    # Keep the five newest builds.
    find "$cache" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn \
        | tail -n +6 | cut -d' ' -f2- | xargs -r rm -rf
fi

if [ -n "$outdir" ]; then
    rm -f "$outdir"/ovn-ic-controller_*.deb
    cp "$deb" "$outdir/"
    deb=$outdir/$(basename "$deb")
fi
echo "$deb"
