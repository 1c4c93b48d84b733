#!/usr/bin/env bash
# Prepares this host for the Kubernetes CRI end-to-end suite
# (tests/e2e_cri.rs). Idempotent; builds no Rust.
#
#   1. installs containerd, runc, containernetworking-plugins, gcc and static
#      glibc (the pause binary) when missing;
#   2. builds build/rootfs-busybox when missing and installs the runrs
#      binary under test at /usr/local/lib/runrs-test/runrs (e2e-common.sh);
#   3. writes the runtime handlers' wrappers: runrs-ptrace (runrs
#      --platform=ptrace: the CRI config has no runtime arguments) and
#      runrs-broken (a runtime that fails every command, for the test that
#      shows the suite fails on a broken handler);
#   4. writes a containerd config (CRI plugin on, handlers runrs,
#      runrs-ptrace, runc and runrs-broken through the runc v2 shim, the
#      pause image below as sandbox_image, CNI bridge on a private subnet)
#      and starts a containerd of its own on $SOCK with its own root, state
#      and log (/tmp/runrs-cri-containerd.log); the system containerd is
#      not touched. A running instance whose config differs is restarted;
#   5. builds and imports (namespace k8s.io) three images made here from the
#      busybox rootfs, no registry: runrs.test/busybox:1, runrs.test/pause:1
#      (a static pause binary, tests/fixtures/pause.c) and
#      runrs.test/noentry:1 (an entrypoint that does not exist).
#
# Environment: RUNRS_BIN (binary to install), RUNRS_TEST_ROOTFS (busybox
# rootfs, default build/rootfs-busybox).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

say() { printf 'e2e-cri-setup: %s\n' "$*"; }
die() { printf 'e2e-cri-setup: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

SRC_BIN=${RUNRS_BIN:-$ROOT/target/debug/runrs}
DEST_DIR=/usr/local/lib/runrs-test/cri
DEST_BIN=$DEST_DIR/runrs
ROOTFS=${RUNRS_TEST_ROOTFS:-$ROOT/build/rootfs-busybox}

# Everything of this containerd lives under these (KEEP IN SYNC: tests/e2e_cri.rs).
RUN_DIR=/run/runrs-test-cri
SOCK=$RUN_DIR/containerd.sock
CONF_DIR=/etc/runrs-test/cri
CONFIG=$CONF_DIR/containerd.toml
CNI_DIR=$CONF_DIR/cni
DATA_ROOT=/var/lib/runrs-test-cri
LOG=/tmp/runrs-cri-containerd.log
PIDFILE=$RUN_DIR/containerd.pid
IMAGES_DIR=$DATA_ROOT/image-build
# The pod network: a bridge of its own on a private /24 that clashes
# neither with docker's 172.17/16, podman's 10.88/16 nor the userns-remap
# dockerd's 169.254.250/24. The tests talk over the pods' loopback only.
BRIDGE=runrs-cri0
SUBNET=10.251.77.0/24

# ---------------------------------------------------------------- packages
source "$ROOT/scripts/e2e-common.sh"
install_missing containerd runc containernetworking-plugins gcc libc6-dev iproute2
command -v containerd >/dev/null || die "containerd not found after installing containerd"
CNI_BIN_DIR=/usr/lib/cni
[ -x "$CNI_BIN_DIR/bridge" ] || die "$CNI_BIN_DIR/bridge missing after installing containernetworking-plugins"

ensure_busybox_rootfs
install_runrs_binary

# ------------------------------------------------------------ the handlers
mkdir -p "$RUN_DIR" "$CONF_DIR" "$CNI_DIR" "$DATA_ROOT" "$IMAGES_DIR"
write_if_changed() { # path mode; content on stdin
    local tmp="$1.tmp.$$"
    cat >"$tmp"
    chmod "$2" "$tmp"
    if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
    mv -f "$tmp" "$1"
}
write_if_changed "$DEST_DIR/runrs-ptrace" 0755 <<EOF || true
#!/bin/sh
# runrs on the ptrace platform, for the CRI handler runrs-ptrace.
exec $DEST_BIN --platform=ptrace "\$@"
EOF
write_if_changed "$DEST_DIR/runrs-broken" 0755 <<'EOF' || true
#!/bin/sh
# A deliberately broken OCI runtime (CRI handler runrs-broken): every
# command fails. tests/e2e_cri.rs checks that a pod on it fails.
echo "runrs-broken: this runtime is broken on purpose ($*)" >&2
exit 1
EOF

# -------------------------------------------------------------------- CNI
write_if_changed "$CNI_DIR/10-runrs-cri.conflist" 0644 <<EOF || true
{
  "cniVersion": "0.4.0",
  "name": "runrs-cri",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$SUBNET"}]],
        "dataDir": "$RUN_DIR/cni-ipam"
      }
    }
  ]
}
EOF

# ------------------------------------------------------------ containerd
handler() { # name binary
    cat <<EOF
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1.options]
        BinaryName = "$2"
        Root = "$RUN_DIR/$1"
EOF
}
config_changed=0
{
    cat <<EOF
# Written by scripts/e2e-cri-setup.sh: the CRI suite's own containerd.
version = 2
root = "$DATA_ROOT/root"
state = "$RUN_DIR/state"
disabled_plugins = ["io.containerd.internal.v1.opt"]

[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  level = "info"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "runrs.test/pause:1"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  # The sandbox's oomScoreAdj is -998 (and Guaranteed pods' containers get
  # negative ones): lowering it needs CAP_SYS_RESOURCE, which this host's
  # root lacks, so runc and runrs both fail the pod. containerd clamps the
  # value to its own (as for rootless) with this.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$CNI_DIR"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"
EOF
    handler runc /usr/sbin/runc
    handler runrs "$DEST_BIN"
    handler runrs-ptrace "$DEST_DIR/runrs-ptrace"
    handler runrs-broken "$DEST_DIR/runrs-broken"
} | write_if_changed "$CONFIG" 0644 && config_changed=1

cri_up() { ctr --address "$SOCK" version && ctr --address "$SOCK" plugins ls | grep -E 'io.containerd.grpc.v1 +cri +.* ok'; }
running_pid() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = containerd ] && echo "$pid"
}
if pid=$(running_pid) && [ $config_changed -eq 1 ]; then
    say "config changed: stopping containerd $pid (containers keep running under their shims)"
    kill "$pid"
    wait_for 30 sh -c "! kill -0 $pid" || die "containerd $pid did not stop"
fi
if running_pid >/dev/null && cri_up >/dev/null 2>&1; then
    say "containerd is running ($SOCK, pid $(running_pid))"
else
    say "starting containerd (config $CONFIG, log $LOG)"
    setsid containerd --config "$CONFIG" </dev/null >>"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    wait_for 60 cri_up || { tail -n 30 "$LOG" >&2; die "containerd's CRI plugin did not come up within 60 s on $SOCK"; }
    say "containerd is up (pid $(running_pid))"
fi

# ------------------------------------------------------------------ images
# Docker archives made by tests/fixtures/mkimage.py from the busybox rootfs
# and the pause binary; `ctr images import` unpacks them for the CRI.
PAUSE_BIN=$IMAGES_DIR/pause
if [ ! -x "$PAUSE_BIN" ] || [ "$ROOT/tests/fixtures/pause.c" -nt "$PAUSE_BIN" ]; then
    say "building the pause binary"
    gcc -static -Os -o "$PAUSE_BIN.tmp" "$ROOT/tests/fixtures/pause.c"
    mv -f "$PAUSE_BIN.tmp" "$PAUSE_BIN"
fi
PAUSE_LAYER=$IMAGES_DIR/pause-layer
TOOLS_LAYER=$IMAGES_DIR/tools-layer
rm -rf "$PAUSE_LAYER" "$TOOLS_LAYER"; mkdir -p "$PAUSE_LAYER" "$TOOLS_LAYER/bin"
cp -p "$PAUSE_BIN" "$PAUSE_LAYER/pause"
cp -p "$PAUSE_BIN" "$TOOLS_LAYER/bin/podtool"
# name | layer dirs | image config
images="runrs.test/busybox:1|$ROOTFS:$TOOLS_LAYER|{\"Env\": [\"PATH=/bin:/sbin:/usr/bin\"], \"Cmd\": [\"sh\"]}
runrs.test/pause:1|$PAUSE_LAYER|{\"Entrypoint\": [\"/pause\"]}
runrs.test/noentry:1|$ROOTFS|{\"Env\": [\"PATH=/bin\"], \"Entrypoint\": [\"/no/such/entrypoint\"]}"
# An image is imported again when its config, the rootfs or the pause binary changed.
layer_stamp="$(find "$ROOTFS" -maxdepth 2 -printf '%T@\n' | sort -n | tail -1) $(sha256sum <"$PAUSE_BIN")"
present=$(ctr --address "$SOCK" -n k8s.io images ls -q)
while IFS='|' read -r name layer cfg; do
    ref=$name
    stamp=$IMAGES_DIR/$(echo "$name" | tr '/:' '__').stamp
    want=$(printf '%s\n%s\n' "$cfg" "$layer_stamp")
    if grep -qxF "$ref" <<<"$present" && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        say "image $ref present"
        continue
    fi
    say "importing image $ref"
    tarball=$IMAGES_DIR/$(echo "$name" | tr '/:' '__').tar
    python3 "$ROOT/tests/fixtures/mkimage.py" "$name" "$layer" "$cfg" "$tarball"
    ctr --address "$SOCK" -n k8s.io images import "$tarball" >/dev/null \
        || die "ctr images import $tarball failed"
    rm -f "$tarball"
    printf '%s\n' "$want" >"$stamp"
done <<<"$images"
# (no `ctr | grep -q` under pipefail: grep's early exit can fail ctr with SIGPIPE)
present=$(ctr --address "$SOCK" -n k8s.io images ls -q)
grep -qxF runrs.test/pause:1 <<<"$present" || die "the pause image is missing after import"
say "ready (socket $SOCK)"
