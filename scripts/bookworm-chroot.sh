#!/usr/bin/env bash
# Unpacks a pristine Debian bookworm (debootstrap --variant=minbase) into DIR,
# for the package test. The base is made once, from this machine's bookworm
# mirror (apt's configuration; deb.debian.org without one), and kept as a
# tarball in ${XDG_CACHE_HOME:-~/.cache}/ovn-ic-controller/bookworm-minbase;
# delete that directory to make it again. Needs root.
#
# Usage: scripts/bookworm-chroot.sh DIR
set -euo pipefail

target=${1:?usage: $0 DIR}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ovn-ic-controller/bookworm-minbase
base=$cache/base.tar

# The "deb" lines of bookworm's main component (and its updates and security
# suites) that apt on this machine uses.
sources() {
    apt-get indextargets --format '$(SITE) $(RELEASE)' 'Identifier: Packages' 'Component: main' \
        2>/dev/null | awk '$2 ~ /^bookworm(-updates|-security)?$/ {print "deb " $1 " " $2 " main"}' \
        | sort -u
}

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$base" ]; then
    command -v debootstrap >/dev/null || \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2
    list=$(sources)
    mirror=$(awk '$3 == "bookworm" {print $2; exit}' <<<"$list")
    if [ -z "$mirror" ]; then
        mirror=http://deb.debian.org/debian
        list="deb $mirror bookworm main"
    fi
    work=$(mktemp -d "$cache/debootstrap.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    echo "bookworm-chroot: debootstrap --variant=minbase bookworm from $mirror" >&2
    if ! debootstrap --variant=minbase bookworm "$work/root" "$mirror" >"$cache/debootstrap.log" 2>&1
    then
        tail -n 20 "$cache/debootstrap.log" >&2
        exit 1
    fi
    printf '%s\n' "$list" >"$work/root/etc/apt/sources.list"
    chroot "$work/root" apt-get clean
    tar --numeric-owner -C "$work/root" -cf "$base.new" .
    mv "$base.new" "$base"
fi
mkdir -p "$target"
tar --numeric-owner -C "$target" -xf "$base"
cp /etc/resolv.conf "$target/etc/resolv.conf"
