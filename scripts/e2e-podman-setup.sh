#!/usr/bin/env bash
# Prepares this host for the podman end-to-end tests (tests/e2e_podman.rs).
# Idempotent; builds no Rust.
#
#   1. installs podman (apt; Debian 12's 4.3, which pulls in conmon, crun,
#      netavark) and runc when missing;
#   2. builds build/rootfs-busybox when missing;
#   3. copies the runrs binary ($RUNRS_BIN, default target/debug/runrs) to
#      /usr/local/lib/runrs-test-podman/runrs (atomically, so a rebuild
#      never breaks running containers; a directory of its own, apart from
#      the Docker suite's /usr/local/lib/runrs-test);
#   4. writes the containers.conf the tests select with CONTAINERS_CONF
#      ($PODMAN_CONF, default /etc/runrs-test/podman-containers.conf): it
#      registers runtime "runrs" -> that copy, and sets default ulimits
#      (below); the host's own /etc/containers is left alone;
#   5. imports the image runrs-bb from the rootfs (skipped when present)
#      and checks that `podman --runtime runrs` answers.
#
# Environment: RUNRS_BIN (binary to install), RUNRS_E2E_IMAGE (default
# runrs-bb), PODMAN_CONF (the containers.conf to write).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

say() { printf 'e2e-podman-setup: %s\n' "$*"; }
die() { printf 'e2e-podman-setup: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

IMAGE=${RUNRS_E2E_IMAGE:-runrs-bb}
CONF=${PODMAN_CONF:-/etc/runrs-test/podman-containers.conf}
SRC_BIN=${RUNRS_BIN:-$ROOT/target/debug/runrs}
DEST_DIR=/usr/local/lib/runrs-test-podman
DEST_BIN=$DEST_DIR/runrs
ROOTFS=$ROOT/build/rootfs-busybox

# ---------------------------------------------------------------- packages
source "$ROOT/scripts/e2e-common.sh"
install_missing podman runc
command -v podman >/dev/null || die "podman not found after installing it"
command -v conmon >/dev/null || die "conmon not found (it comes with podman)"

# ------------------------------------------------------------------ rootfs
ensure_busybox_rootfs

# ------------------------------------------------------------------ binary
install_runrs_binary

# ---------------------------------------------------------- containers.conf
# default_ulimits: as root, podman 4.3 gives every container RLIMIT_NOFILE
# 1048576 and RLIMIT_NPROC 32768 (it clamps them to its own limits only
# when rootless). Raising a hard limit needs CAP_SYS_RESOURCE, which this
# test host's bounding set lacks, so runc fails there too ("error setting
# rlimit type 7: operation not permitted"); both runtimes get the same
# small limits instead.
mkdir -p "$(dirname "$CONF")"
cat > "$CONF.tmp.$$" <<EOF
# Written by scripts/e2e-podman-setup.sh for tests/e2e_podman.rs; select it
# with CONTAINERS_CONF=$CONF.
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine.runtimes]
runrs = ["$DEST_BIN"]
EOF
mv -f "$CONF.tmp.$$" "$CONF"
export CONTAINERS_CONF=$CONF
say "wrote $CONF"

# -------------------------------------------------------------------- image
if podman image exists "$IMAGE"; then
    say "image $IMAGE present"
else
    say "importing image $IMAGE from $ROOTFS"
    tar -C "$ROOTFS" -c . | podman import -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null
fi

out=$(podman --runtime runrs info --format '{{.Host.OCIRuntime.Path}} {{.Host.CgroupManager}}' 2>&1) \
    || die "podman --runtime runrs info failed: $out"
say "podman --runtime runrs: $out"
say "ready"
