#!/usr/bin/env bash
# Makes an OCI bundle: BUNDLE_DIR/rootfs (a `cp -a` copy of ROOTFS_DIR) and
# BUNDLE_DIR/config.json, runc's default spec (as `runrs spec` writes it)
# with terminal=false, a writable root and the given command (default: sh).
#
#   scripts/mkbundle.sh BUNDLE_DIR ROOTFS_DIR [-- cmd args...]
#
# tests/common/mod.rs (default_spec) builds the same config.json: keep them in step.
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

rm -rf "$BUNDLE"
mkdir -p "$BUNDLE"
cp -a "$ROOTFS" "$BUNDLE/rootfs"

python3 - "$BUNDLE/config.json" "$@" <<'PY'
import json, sys

out, args = sys.argv[1], sys.argv[2:]
caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
spec = {
    "ociVersion": "1.0.2-dev",
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": args,
        "env": ["PATH=/bin:/usr/bin:/sbin:/usr/sbin", "TERM=xterm"],
        "cwd": "/",
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": False},
    "hostname": "runrs-demo",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
    ],
    "linux": {
        "namespaces": [{"type": t} for t in ["pid", "network", "ipc", "uts", "mount"]],
        "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                        "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                          "/proc/sysrq-trigger"],
    },
}
with open(out, "w") as f:
    json.dump(spec, f, indent=2)
    f.write("\n")
PY
echo "mkbundle: bundle ready at $BUNDLE (command: $*)"
