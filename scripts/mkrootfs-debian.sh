#!/usr/bin/env bash
# Builds a Debian 12 (bookworm) minbase root filesystem at DEST with the
# packages the Debian comparison test (tests/debian.rs) runs: python3, gcc,
# sqlite3, git, procps, postgresql, strace, gdb and the core utilities. Idempotent: DEST/.runrs-stamp
# records the suite and package list, and a DEST whose stamp matches is left
# alone (a debootstrap takes minutes; the tests and benchmarks share one).
# The mirror is the one this host's apt uses (the Debian registry is the
# only one reachable from CI).
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DEST" >&2
    exit 2
fi
DEST=$1
SUITE=bookworm
# libboost-regex1.74.0 is named because gdb's libsource-highlight4v5 depends
# on the virtual libboost-regex1.74.0-icu72, which debootstrap cannot resolve.
# gcc brings libasan8/liblsan0 (gcc -fsanitize=address) through libgcc-12-dev.
PACKAGES=python3,gcc,libc6-dev,make,sqlite3,git,procps,coreutils,tar,findutils,sed,postgresql,strace,gdb,libboost-regex1.74.0
STAMP="suite=$SUITE variant=minbase include=$PACKAGES"

if [ -f "$DEST/.runrs-stamp" ] && [ "$(cat "$DEST/.runrs-stamp")" = "$STAMP" ]; then
    echo "mkrootfs-debian: $DEST is up to date"
    exit 0
fi

case "$(realpath -m "$DEST")" in
    / | /bin | /usr | /etc | /home | /root | /tmp | /var | /work)
        echo "mkrootfs-debian: refusing to use $DEST as DEST" >&2
        exit 1
        ;;
esac

export DEBIAN_FRONTEND=noninteractive
if ! command -v debootstrap >/dev/null; then
    echo "mkrootfs-debian: installing debootstrap" >&2
    if ! apt-get install -y -qq debootstrap >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq debootstrap >/dev/null
    fi
fi

# The first deb URI of the host's apt configuration (deb822 or one-line).
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    mirror=$(awk '/^URIs:/ { print $2; exit }' "$f")
    [ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}

# Build next to DEST and rename at the end, so an interrupted run never
# leaves a half-made rootfs that looks finished.
parent=$(dirname "$(realpath -m "$DEST")")
mkdir -p "$parent"
tmp="$DEST.tmp.$$"
# debootstrap mounts proc (and sys) in the target while it configures the
# packages: an interrupted run must unmount them before it removes the
# tree, and the removal never crosses into a mount.
cleanup() {
    local at
    at="$(realpath -m "$tmp")/"
    awk -v at="$at" 'index($2, at) == 1 { print $2 }' /proc/self/mounts | sort -r |
        while read -r m; do umount -l "$m" || true; done
    rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rm -rf "$tmp"
start=$(date +%s)
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$tmp" "$mirror" >&2
# Packages' caches and logs: not needed by the tests and only make copies slower.
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
# A non-root user for the user-switching workloads.
if ! grep -q '^user:' "$tmp/etc/passwd"; then
    echo 'user:x:1000:1000:user:/home/user:/bin/bash' >> "$tmp/etc/passwd"
    echo 'user:x:1000:' >> "$tmp/etc/group"
    echo 'user:*:19000:0:99999:7:::' >> "$tmp/etc/shadow"
    mkdir -p "$tmp/home/user"
    chown 1000:1000 "$tmp/home/user"
fi
echo "$STAMP" > "$tmp/.runrs-stamp"
rm -rf "$DEST"
mv "$tmp" "$DEST"
trap - EXIT
echo "mkrootfs-debian: rootfs ready at $DEST in $(( $(date +%s) - start ))s ($(du -sh "$DEST" | cut -f1))"
