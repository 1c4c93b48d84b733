#!/usr/bin/env bash
# Draws a real workload's syscall mix as the sentry counted it (the chart
# of docs/OBSERVABILITY.md): python3 on the Debian rootfs imports a dozen
# modules, works a sqlite3 database in /tmp, lists /proc in a subprocess
# and calls os.sync() (a denied syscall); then `runrs metrics --format
# json` of the stopped container is drawn by benches/syscall_mix.py.
#
#   bash benches/syscall_mix.sh OUT.png
#
# RUNRS_BIN picks the runrs binary (default: target/release/runrs);
# RUNRS_BENCH_DEBIAN_ROOTFS the Debian rootfs (default build/rootfs-debian,
# made by scripts/mkrootfs-debian.sh); RUNRS_TEST_ROOTFS the busybox
# rootfs the bundle is made from (default build/rootfs-busybox).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# = 1 ] || { echo "usage: $0 OUT.png" >&2; exit 2; }
OUT=$1
RUNRS=${RUNRS_BIN:-$PWD/target/release/runrs}
DEBIAN=${RUNRS_BENCH_DEBIAN_ROOTFS:-$PWD/build/rootfs-debian}
BUSYBOX=${RUNRS_TEST_ROOTFS:-$PWD/build/rootfs-busybox}
[ -x "$RUNRS" ] || { echo "syscall_mix: no runrs binary at $RUNRS" >&2; exit 1; }
[ -x "$DEBIAN/usr/bin/python3" ] || { echo "syscall_mix: no Debian rootfs at $DEBIAN (scripts/mkrootfs-debian.sh)" >&2; exit 1; }
DEBIAN=$(realpath "$DEBIAN")

W=$(mktemp -d /tmp/runrs-syscall-mix.XXXXXX)
ID=mix-$$
cleanup() {
    "$RUNRS" --root "$W/state" delete --force "$ID" >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT

PY='import json, decimal, email.parser, http.client, asyncio, sqlite3, subprocess, tempfile, pathlib, os
db = sqlite3.connect("/tmp/mix.db")
db.execute("create table t (k integer primary key, v text)")
db.executemany("insert into t (v) values (?)", [(str(i),) for i in range(2000)])
db.commit()
assert db.execute("select count(*) from t").fetchone()[0] == 2000
subprocess.run(["ls", "/proc"], stdout=subprocess.DEVNULL, check=True)
os.sync()'
bash scripts/mkbundle.sh "$W/bundle" "$BUSYBOX" -- /usr/bin/python3 -c "$PY" >/dev/null
rm -rf "$W/bundle/rootfs"
python3 - "$W/bundle/config.json" "$DEBIAN" <<'PYCFG'
import json, sys
path, rootfs = sys.argv[1:]
spec = json.load(open(path))
spec["root"] = {"path": rootfs, "readonly": True}
spec["process"]["env"].append("HOME=/tmp")
spec["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                       "options": ["nosuid", "nodev", "mode=1777"]})
json.dump(spec, open(path, "w"), indent=1)
PYCFG

mkdir -p "$W/state"
"$RUNRS" --root "$W/state" create --bundle "$W/bundle" "$ID" </dev/null >/dev/null
"$RUNRS" --root "$W/state" start "$ID"
for _ in $(seq 600); do
    st=$("$RUNRS" --root "$W/state" state "$ID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    [ "$st" = stopped ] && break
    sleep 0.1
done
[ "$st" = stopped ] || { echo "syscall_mix: the workload did not finish in 60 s" >&2; exit 1; }
"$RUNRS" --root "$W/state" metrics --format json "$ID" >"$W/mix.json"
mkdir -p "$(dirname "$OUT")"
python3 benches/syscall_mix.py "$W/mix.json" "$OUT" \
    "python3 on Debian 12: imports, sqlite3 (2,000 rows in /tmp), a subprocess (ls /proc), os.sync()"
cp "$W/mix.json" "${OUT%.png}.json"
echo "syscall_mix: wrote $OUT and ${OUT%.png}.json"
