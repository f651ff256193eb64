#!/usr/bin/env bash
# Builds, once, a minimal Debian chroot per newer OVN release, so that the
# functional tests can run that release's real ovsdb-server, ovn-northd and
# ovn-ic next to our daemon (tests/testbed.py, Testbed(release=...)).
#
#   scripts/build-release-chroot.sh [RELEASE...]    # default: every release below
#
# Prints "RELEASE DIR" per release.  A chroot lives outside the clone, in
# ${OVN_IC_CHROOT_CACHE:-/var/cache/ovn-ic-controller/chroots}/RELEASE, and is
# complete when its stamp file (.ovn-ic-chroot, KEY=VALUE lines with the
# package and schema versions) exists: it is built in a temporary directory
# that is renamed only once everything is installed and checked, under a flock,
# so concurrent callers wait for one build and an interrupted build is redone.
# The Debian mirror is the machine's own (first .../debian in /etc/apt), or
# OVN_IC_DEBIAN_MIRROR.  Needs root; installs debootstrap when missing.
set -euo pipefail

# release -> Debian suite, the suite to install OVN from (experimental is not a
# full suite: it goes on top of sid), and the upstream version expected there.
declare -A SUITE=([25.03]=trixie [26.03]=sid [26.09]=sid)
declare -A TARGET=([25.03]="" [26.03]="" [26.09]=experimental)
declare -A UPSTREAM=([25.03]=25.03.0 [26.03]=26.03.1 [26.09]=26.09.0)
RELEASES=(25.03 26.03 26.09)
PACKAGES=(ovn-central ovn-ic ovn-ic-db)
# What the testbed runs; a chroot lacking one of them is rebuilt.
BINARIES=(ovsdb-server ovsdb-tool ovsdb-client ovn-northd ovn-ic ovn-nbctl ovn-sbctl
          ovn-ic-nbctl ovn-ic-sbctl ovn-appctl)
STAMP=.ovn-ic-chroot

CACHE=${OVN_IC_CHROOT_CACHE:-/var/cache/ovn-ic-controller/chroots}

log() { echo "build-release-chroot: $*" >&2; }
die() { log "$*"; exit 1; }

debian_mirror() {
    if [ -n "${OVN_IC_DEBIAN_MIRROR:-}" ]; then
        echo "$OVN_IC_DEBIAN_MIRROR"
        return
    fi
    local url
    url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
              /etc/apt/sources.list.d/*.sources 2>/dev/null |
          awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }
               $1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; break } }' |
          grep -E '/debian/?$' | head -n 1 || true)
    echo "${url:-http://deb.debian.org/debian}"
}

# A mount namespace's mounts are private from the start where / is a mount point; on
# a machine that is itself a chroot (/ no mount point) unshare cannot change /'s
# propagation, and the namespace keeps its parent's (private on such test machines).
if unshare --mount --propagation private true 2>/dev/null; then
    PROPAGATION=private
else
    PROPAGATION=unchanged
fi

# Runs a command inside ROOT in a mount namespace of its own with /proc and /dev,
# so that no mount outlives it, whatever happens.
in_root() {
    local root=$1
    shift
    # shellcheck disable=SC2016  # expanded by the inner sh
    unshare --mount --propagation "$PROPAGATION" -- sh -ec '
        root=$1; shift
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        exec chroot "$root" "$@"' sh "$root" "$@"
}

complete() {
    local root=$1 binary
    [ -f "$root/$STAMP" ] || return 1
    for binary in "${BINARIES[@]}"; do
        chroot "$root" sh -c "command -v $binary" >/dev/null 2>&1 || return 1
    done
    chroot "$root" ovn-ic --version >/dev/null 2>&1
}

# Removes a directory tree that may still hold mount points (a build killed
# while debootstrap had /proc mounted): unmount them first, never recurse
# through one into the host's files.
remove_tree() {
    local root=$1 mnt
    [ -e "$root" ] || return 0
    awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r mnt; do umount -l "$mnt" || true; done
    if awk -v r="$root" '$5 == r || index($5, r "/") == 1 { f = 1 } END { exit !f }' \
            /proc/self/mountinfo; then
        die "cannot unmount everything under $root; not removing it"
    fi
    rm -rf --one-file-system "$root"
}

build() {
    local release=$1 suite=${SUITE[$1]} target=${TARGET[$1]} mirror tmp started
    mirror=$(debian_mirror)
    started=$(date +%s)
    tmp=$(mktemp -d "$CACHE/.$release.build.XXXXXX")
    BUILDING=$tmp  # removed on failure (its log stays for reading)
    chmod 0755 "$tmp"
    log "$release: debootstrap $suite from $mirror into $tmp"
    # debootstrap mounts /proc and /sys in the target; its own namespace drops them.
    unshare --mount --propagation "$PROPAGATION" -- \
        debootstrap --variant=minbase "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1 ||
        { tail -n 30 "$tmp.log" >&2; die "$release: debootstrap failed (log: $tmp.log)"; }
    {
        echo "deb $mirror $suite main"
        [ -z "$target" ] || echo "deb $mirror $target main"
    } >"$tmp/etc/apt/sources.list"
    # sid and experimental Release files expire within a week; a mirror that
    # is a snapshot (or a clock that is ahead) must not stop the build.
    cat >"$tmp/etc/apt/apt.conf.d/90ovn-ic-chroot" <<'EOF'
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
    # Package scripts must not start services in the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
    chmod 0755 "$tmp/usr/sbin/policy-rc.d"
    in_root "$tmp" apt-get update -q >>"$tmp.log" 2>&1 ||
        { tail -n 30 "$tmp.log" >&2; die "$release: apt-get update failed"; }
    in_root "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        ${target:+-t "$target"} "${PACKAGES[@]}" >>"$tmp.log" 2>&1 ||
        { tail -n 30 "$tmp.log" >&2; die "$release: apt-get install ${PACKAGES[*]} failed"; }
    in_root "$tmp" apt-cache policy "${PACKAGES[@]}" >>"$tmp.log" 2>&1
    in_root "$tmp" apt-cache madison "${PACKAGES[@]}" >>"$tmp.log" 2>&1
    in_root "$tmp" apt-get clean

    # shellcheck disable=SC2016  # dpkg-query's format, not the shell's
    local ovn ovs schema format='${Version}'
    ovn=$(chroot "$tmp" dpkg-query -W -f "$format" ovn-ic)
    ovs=$(chroot "$tmp" dpkg-query -W -f "$format" openvswitch-common)
    case "$ovn" in
        "${UPSTREAM[$release]}"-*) ;;
        *) die "$release: $suite${target:+/$target} has ovn-ic $ovn, not ${UPSTREAM[$release]}" ;;
    esac
    {
        echo "release=$release"
        echo "suite=$suite${target:+ $target}"
        echo "mirror=$mirror"
        echo "ovn=$ovn"
        echo "openvswitch=$ovs"
        for schema in ovn-nb ovn-sb ovn-ic-nb ovn-ic-sb; do
            echo "$schema=$(chroot "$tmp" ovsdb-tool schema-version \
                "/usr/share/ovn/$schema.ovsschema")"
        done
        echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "build_seconds=$(($(date +%s) - started))"
    } >"$tmp/$STAMP.new"
    mv "$tmp/$STAMP.new" "$tmp/$STAMP"
    complete "$tmp" || die "$release: built chroot $tmp lacks one of: ${BINARIES[*]}"
    mv "$tmp.log" "$tmp/var/log/ovn-ic-chroot-build.log"
    remove_tree "$CACHE/$release"
    mv -T "$tmp" "$CACHE/$release"
    BUILDING=
    log "$release: ovn-ic $ovn in $CACHE/$release ($(($(date +%s) - started)) s)"
}

ensure() {
    local release=$1 stale
    [ -n "${SUITE[$release]:-}" ] || die "unknown release $release (known: ${RELEASES[*]})"
    exec 9>"$CACHE/.$release.lock"
    flock 9
    if ! complete "$CACHE/$release"; then
        # Leftovers of interrupted builds: only ours, under the lock, are stale.
        for stale in "$CACHE/.$release.build."*; do
            [ -e "$stale" ] || continue
            case "$stale" in *.log) rm -f "$stale" ;; *) remove_tree "$stale" ;; esac
        done
        build "$release"
    fi
    exec 9>&-
    echo "$release $CACHE/$release"
}

BUILDING=
trap '[ -z "$BUILDING" ] || remove_tree "$BUILDING"' EXIT
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot and mounts)"
for tool in debootstrap unshare flock; do
    command -v "$tool" >/dev/null 2>&1 && continue
    log "installing debootstrap"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        debootstrap util-linux >&2
    break
done
mkdir -p "$CACHE"
[ $# -gt 0 ] || set -- "${RELEASES[@]}"
for release in "$@"; do
    ensure "$release"
done
