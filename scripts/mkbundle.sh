#!/usr/bin/env bash
# Makes an OCI bundle: BUNDLE_DIR/rootfs (a `cp -a` copy of ROOTFS_DIR) and
# BUNDLE_DIR/config.json, runc's default spec (as `runrs spec` writes it)
# with terminal=false, a writable root and the given command (default: sh).
#
#   scripts/mkbundle.sh BUNDLE_DIR ROOTFS_DIR [-- cmd args...]
#
# The spec is the one the conformance runner and the integration tests use
# (`conformance::bundle_spec`), printed by `runrs conformance --bundle-spec`:
# the runrs binary is $RUNRS, else the checkout's target/release/runrs or
# target/debug/runrs, else those under $CARGO_TARGET_DIR, else runrs on PATH.
set -euo pipefail

usage() {
    echo "usage: $0 BUNDLE_DIR ROOTFS_DIR [-- cmd args...]" >&2
    exit 2
}
[ $# -ge 2 ] || usage
BUNDLE=$1
ROOTFS=$2
shift 2
if [ $# -gt 0 ]; then
    [ "$1" = "--" ] || usage
    shift
fi
[ $# -gt 0 ] || set -- sh
if [ ! -d "$ROOTFS" ] || [ ! -e "$ROOTFS/bin/sh" ]; then
    echo "mkbundle: $ROOTFS is not a rootfs (no bin/sh); run scripts/mkrootfs-busybox.sh first" >&2
    exit 1
fi

if [ -z "${RUNRS:-}" ]; then
    REPO=$(cd "$(dirname "$0")/.." && pwd)
    TARGET=${CARGO_TARGET_DIR:-$REPO/target}
    for c in "$REPO/target/release/runrs" "$REPO/target/debug/runrs" \
        "$TARGET/release/runrs" "$TARGET/debug/runrs" "$(command -v runrs || true)"; do
        if [ -n "$c" ] && [ -x "$c" ]; then
            RUNRS=$c
            break
        fi
    done
fi
if [ -z "${RUNRS:-}" ]; then
    echo "mkbundle: no runrs binary (cargo build --release, or set RUNRS)" >&2
    exit 1
fi

rm -rf "$BUNDLE"
mkdir -p "$BUNDLE"
cp -a "$ROOTFS" "$BUNDLE/rootfs"

"$RUNRS" conformance --bundle-spec -- "$@" >"$BUNDLE/config.json"
echo "mkbundle: bundle ready at $BUNDLE (command: $*)"
