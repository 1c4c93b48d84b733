#!/usr/bin/env bash
# Prepares this host for the Docker / containerd end-to-end tests
# (tests/e2e_docker.rs, tests/e2e_containerd.rs). Idempotent; builds no Rust.
#
#   1. installs docker.io and containerd (apt) when missing;
#   2. builds build/rootfs-busybox when missing;
#   3. copies the runrs binary ($RUNRS_BIN, default target/debug/runrs) to
#      /usr/local/lib/runrs-test/runrs (atomically, so a rebuild never
#      breaks running containers) and registers it with dockerd as runtime
#      "runrs" (`runrs install` when that subcommand exists, otherwise a
#      read-modify-write of /etc/docker/daemon.json that keeps other keys),
#      and as "runrs-ptrace" with runtimeArgs ["--platform=ptrace"];
#   4. starts containerd and dockerd when they are not running, or SIGHUPs a
#      running dockerd whose daemon.json changed, and waits until
#      `docker info` lists runrs with the right path;
#   5. imports the image runrs-bb from the rootfs (skipped when present).
#
# Environment: RUNRS_BIN (binary to install), RUNRS_E2E_RUNTIME (runtime
# name, default runrs), RUNRS_E2E_IMAGE (default runrs-bb),
# DOCKER_DAEMON_JSON (default /etc/docker/daemon.json).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

say() { printf 'e2e-setup: %s\n' "$*"; }
die() { printf 'e2e-setup: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

RUNTIME=${RUNRS_E2E_RUNTIME:-runrs}
IMAGE=${RUNRS_E2E_IMAGE:-runrs-bb}
DAEMON_JSON=${DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
SRC_BIN=${RUNRS_BIN:-$ROOT/target/debug/runrs}
DEST_DIR=/usr/local/lib/runrs-test
DEST_BIN=$DEST_DIR/runrs
ROOTFS=$ROOT/build/rootfs-busybox

# ---------------------------------------------------------------- packages
source "$ROOT/scripts/e2e-common.sh"
install_missing docker.io containerd iproute2
command -v dockerd >/dev/null || die "dockerd not found after installing docker.io"
command -v containerd >/dev/null || die "containerd not found after installing containerd"

# ------------------------------------------------------------------ rootfs
ensure_busybox_rootfs

# ------------------------------------------------------------------ binary
install_runrs_binary

# ---------------------------------------------------------- daemon.json
mkdir -p "$(dirname "$DAEMON_JSON")"
before=$(cat "$DAEMON_JSON" 2>/dev/null || true)
if "$DEST_BIN" install --help >/dev/null 2>&1; then
    say "registering with: $DEST_BIN install --runtime $RUNTIME --config-file $DAEMON_JSON"
    "$DEST_BIN" install --runtime "$RUNTIME" --config-file "$DAEMON_JSON"
    # A runtime with an unknown flag, for the bad-input test: Docker must
    # show runrs's error, which reaches it through --log.
    "$DEST_BIN" install --runtime "$RUNTIME-badargs" --config-file "$DAEMON_JSON" -- --no-such-flag
    # The same binary on the ptrace platform (`docker run --runtime=runrs-ptrace`).
    "$DEST_BIN" install --runtime "$RUNTIME-ptrace" --config-file "$DAEMON_JSON" -- --platform=ptrace
else
    say "runrs has no 'install' subcommand; editing $DAEMON_JSON with python3"
    python3 - "$DAEMON_JSON" "$RUNTIME" "$DEST_BIN" <<'EOF'
import json, os, sys
path, name, binary = sys.argv[1:4]
try:
    with open(path) as f:
        text = f.read()
    cfg = json.loads(text) if text.strip() else {}
except FileNotFoundError:
    cfg = {}
if not isinstance(cfg, dict):
    sys.exit(f"{path}: top level is not a JSON object")
runtimes = cfg.setdefault("runtimes", {})
entry = runtimes.get(name) if isinstance(runtimes.get(name), dict) else {}
entry["path"] = binary
runtimes[name] = entry
tmp = f"{path}.tmp.{os.getpid()}"
with open(tmp, "w") as f:
    json.dump(cfg, f, indent=2)
    f.write("\n")
os.rename(tmp, path)
EOF
fi
after=$(cat "$DAEMON_JSON" 2>/dev/null || true)
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$DAEMON_JSON" \
    || die "$DAEMON_JSON is not valid JSON after registration"
changed=0
[ "$before" = "$after" ] || changed=1
say "daemon.json: $(tr -d '\n' <"$DAEMON_JSON")"

# -------------------------------------------------------------- containerd
# The standalone containerd (ctr's default socket). A dockerd started
# below uses it too; an already-running dockerd may have its own.
if ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; then
    say "containerd is running (/run/containerd/containerd.sock)"
else
    say "starting containerd (log: /tmp/runrs-containerd.log)"
    setsid containerd </dev/null >/tmp/runrs-containerd.log 2>&1 &
    wait_for 60 ctr --address /run/containerd/containerd.sock version \
        || { tail -n 30 /tmp/runrs-containerd.log >&2; die "containerd did not come up within 60 s"; }
    say "containerd is up"
fi

# ------------------------------------------------------------------ dockerd
runtime_ok() {
    docker info --format '{{json .Runtimes}}' 2>/dev/null | python3 -c '
import json, sys
rts = json.load(sys.stdin)
want = [sys.argv[1]] + [n for n in sys.argv[3:] if n]
sys.exit(0 if all((rts.get(n) or {}).get("path") == sys.argv[2] for n in want) else 1)' \
        "$RUNTIME" "$(registered_path)" "$(ptrace_registered)"
}
# The ptrace runtime's name when daemon.json has it (runrs install exists).
ptrace_registered() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runtimes"]; n=sys.argv[2]+"-ptrace"; print(n if n in r else "")' \
        "$DAEMON_JSON" "$RUNTIME"
}
registered_path() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runtimes"][sys.argv[2]]["path"])' \
        "$DAEMON_JSON" "$RUNTIME"
}
if docker version >/dev/null 2>&1; then
    if [ $changed -eq 1 ] || ! runtime_ok; then
        pids=$(pidof dockerd || true)
        [ -n "$pids" ] || die "docker answers but no dockerd process found to reload"
        say "reloading dockerd (SIGHUP to $pids)"
        # shellcheck disable=SC2086
        kill -HUP $pids
    else
        say "dockerd is running and already knows runtime $RUNTIME"
    fi
else
    say "starting dockerd (log: /tmp/runrs-dockerd.log)"
    setsid dockerd --host unix:///var/run/docker.sock </dev/null >/tmp/runrs-dockerd.log 2>&1 &
    wait_for 60 docker version \
        || { tail -n 30 /tmp/runrs-dockerd.log >&2; die "dockerd did not answer within 60 s"; }
    say "dockerd is up"
fi
wait_for 30 runtime_ok || {
    docker info 2>&1 | grep -i runtime >&2 || true
    die "docker info does not list runtime $RUNTIME -> $(registered_path) after 30 s"
}
say "docker info lists runtime $RUNTIME -> $(registered_path)"

# -------------------------------------------------------------------- image
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    say "image $IMAGE present"
else
    say "importing image $IMAGE from $ROOTFS"
    tar -C "$ROOTFS" -c . | docker import -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null
fi

# ----------------------------------------------- dockerd with userns-remap
# A second dockerd, its own socket, data and exec roots, with
# "userns-remap": "default" (dockremap, subuids 100000-165535), for the
# user namespace tests (tests/e2e_docker.rs). It gets a bridge of its own
# (runrs-userns0, link-local, no traffic: the tests use --network none):
# "bridge": "none" would make it delete the first dockerd's docker0.
USERNS_SOCK=/run/runrs-test-docker-userns.sock
USERNS_JSON=/etc/runrs-test/docker-userns.json
mkdir -p /etc/runrs-test
cat > "$USERNS_JSON.tmp" <<EOF2
{"runtimes": {"$RUNTIME": {"path": "$DEST_BIN"}}, "userns-remap": "default",
 "bridge": "runrs-userns0", "iptables": false, "ip6tables": false}
EOF2
mv "$USERNS_JSON.tmp" "$USERNS_JSON"
udocker() { docker -H "unix://$USERNS_SOCK" "$@"; }
if ! ip link show runrs-userns0 >/dev/null 2>&1; then
    ip link add name runrs-userns0 type bridge
    ip addr add 169.254.250.1/24 dev runrs-userns0
    ip link set runrs-userns0 up
fi
if udocker version >/dev/null 2>&1; then
    say "userns-remap dockerd is running ($USERNS_SOCK)"
else
    say "starting a userns-remap dockerd (log: /tmp/runrs-dockerd-userns.log)"
    setsid dockerd --config-file "$USERNS_JSON" --host "unix://$USERNS_SOCK" \
        --data-root /var/lib/runrs-test-docker-userns --exec-root /run/runrs-test-docker-userns \
        --pidfile /run/runrs-test-docker-userns.pid \
        </dev/null >/tmp/runrs-dockerd-userns.log 2>&1 &
    wait_for 60 udocker version \
        || { tail -n 30 /tmp/runrs-dockerd-userns.log >&2; die "the userns-remap dockerd did not answer within 60 s"; }
fi
if ! udocker image inspect "$IMAGE" >/dev/null 2>&1; then
    say "importing image $IMAGE into the userns-remap dockerd"
    tar -C "$ROOTFS" -c . | udocker import -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null
fi
say "ready"
