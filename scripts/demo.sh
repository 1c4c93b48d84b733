#!/usr/bin/env bash
# The demo: builds runrs, a busybox rootfs and a bundle, then runs
# tests/fixtures/demo.sh inside a runrs container. Needs root (Debian 12).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "demo.sh: must run as root (containers need namespaces and mounts)" >&2
    exit 1
fi

say "Building runrs (cargo build --release)"
cargo build --release

say "Building a busybox rootfs in build/rootfs-busybox"
bash scripts/mkrootfs-busybox.sh build/rootfs-busybox

say "Making the bundle build/demo-bundle (command: /bin/sh /demo.sh)"
bash scripts/mkbundle.sh build/demo-bundle build/rootfs-busybox -- /bin/sh /demo.sh
cp tests/fixtures/demo.sh build/demo-bundle/rootfs/demo.sh
chmod 755 build/demo-bundle/rootfs/demo.sh

ID="runrs-demo-$$"
say "Running: ./target/release/runrs --root /run/runrs run --bundle build/demo-bundle $ID"
echo "----- container output -----"
status=0
./target/release/runrs --root /run/runrs run --bundle build/demo-bundle "$ID" || status=$?
echo "----- end of container output -----"
# run removes the container when it exits; make sure nothing is left.
./target/release/runrs --root /run/runrs delete --force "$ID" >/dev/null 2>&1 || true

say "container exited with status $status"
if [ "$status" -eq 42 ]; then
    echo "OK: the demo script's exit status (42) came through the sandbox"
    exit 0
fi
echo "FAIL: expected status 42" >&2
exit 1
