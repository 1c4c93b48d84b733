#!/usr/bin/env bash
# The benchmark harness: the same workloads natively, under runc, crun and
# runrs, as ratios in one run.
#
#   bash benches/run.sh            5 rounds, writes docs/BENCHMARKS.md (~15 min)
#   bash benches/run.sh --quick    1 round, 1/20 of the iterations (~1-2 min),
#                                  writes build/bench/quick/BENCHMARKS.md
#
# Needs root (containers), gcc (static glibc), cargo and python3. Installs
# crun with apt-get and matplotlib with pip when missing; runc must be
# installed. The Docker row needs dockerd with the runrs runtimes
# (scripts/e2e-setup.sh, run here); the compile and python rows need the
# Debian rootfs (scripts/mkrootfs-debian.sh, built here when missing).
# RUNRS_BENCH_BIN picks the runrs binary (default: a release build;
# CI's quick run passes the debug binary it already built);
# RUNRS_BENCH_DOCKER=0 leaves dockerd alone (no docker row).
#
# Steps: builds build/bench/{bench,notify_probe,ptrace_probe,trap_probe} (gcc -static
# -O2), a busybox rootfs with /bench in it and one bundle per workload
# (scripts/mkrootfs-busybox.sh, scripts/mkbundle.sh), runrs in release; then
# per round, interleaved (runtime order rotated every round): the kernel
# probes, every micro workload under every runtime, 10 start-to-exit runs of
# /bin/true per runtime, `docker run` of true, the macro jobs (file-heavy,
# compile, compile under strace -f, python start); finally the idle memory of a `sleep 30` container.
# Raw numbers go to build/bench/<results|quick>/raw.tsv, and
# benches/report.py turns them into the report.
set -uo pipefail
PYTHON_IMPORTS='import json, decimal, email.parser, http.client, asyncio, sqlite3, subprocess, tempfile, pathlib, unittest'

cd "$(dirname "$0")/.."
REPO=$PWD
QUICK=0
case "${1:-}" in
    --quick) QUICK=1 ;;
    "") ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac
ROUNDS=5
TRUE_RUNS=10
QFLAG=()
OUTDIR=build/bench/results
REPORT=docs/BENCHMARKS.md
if ((QUICK)); then
    ROUNDS=1
    QFLAG=(--quick)
    OUTDIR=build/bench/quick
    REPORT=build/bench/quick/BENCHMARKS.md
fi
B=build/bench
STATE=/run/runrs-bench
RUNRS=${RUNRS_BENCH_BIN:-$REPO/target/release/runrs}
DEBIAN_ROOTFS=${RUNRS_BENCH_DEBIAN_ROOTFS:-$REPO/build/rootfs-debian}

log() { echo "[bench $(date +%T)] $*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root"
command -v gcc >/dev/null || die "gcc missing"
command -v python3 >/dev/null || die "python3 missing"
command -v runc >/dev/null || die "runc missing (apt-get install runc)"
if ! command -v crun >/dev/null; then
    log "installing crun"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq crun >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq crun >/dev/null 2>&1; } ||
        log "could not install crun: its column will be n/a"
fi
HAVE_CRUN=0
command -v crun >/dev/null && HAVE_CRUN=1

# ---- build ----
mkdir -p "$B" "$OUTDIR"
log "building workloads and probes"
gcc -static -O2 -Wall -o "$B/bench" benches/workloads/bench.c || die "gcc bench"
gcc -static -O2 -Wall -pthread -o "$B/notify_probe" benches/probe/notify_probe.c || die "gcc notify_probe"
gcc -static -O2 -Wall -o "$B/ptrace_probe" benches/probe/ptrace_probe.c || die "gcc ptrace_probe"
gcc -static -O2 -Wall -o "$B/trap_probe" benches/probe/trap_probe.c || die "gcc trap_probe"

if [ -z "${RUNRS_BENCH_BIN:-}" ]; then
    log "building runrs (release)"
    cargo build --release --quiet || die "cargo build --release"
fi
[ -x "$RUNRS" ] || die "no runrs binary at $RUNRS"
if ! python3 -c 'import matplotlib' 2>/dev/null; then
    log "installing matplotlib (for the chart)"
    python3 -m pip install --quiet matplotlib >/dev/null 2>&1 || log "could not install matplotlib: no chart"
fi

log "building the rootfs and bundles"
bash scripts/mkrootfs-busybox.sh "$B/rootfs" >/dev/null || die "mkrootfs-busybox"
cp "$B/bench" "$B/rootfs/bench"
WORKLOADS=$("$B/bench" list)
# The bundles (their rootfs copies: where the file job and creat_unlink
# write) live on an ext4 file system of their own, with a journal, as on
# CI hosts. This VM's root file system has none, and ext4 without a
# journal skips every inode deleted in the last 30 s when it allocates
# one: each run's creates paid for the previous run's `rm -rf` (a scan of
# the inode table per create, ~1 ms), whichever runtime came next, and
# the file job's times spread 6x.
BUNDLES=$REPO/$B/bundles
umount "$BUNDLES" 2>/dev/null || true
rm -rf "$BUNDLES" "$B/bundles.img"
mkdir -p "$BUNDLES"
truncate -s 4G "$B/bundles.img" && mkfs.ext4 -q -F "$B/bundles.img" &&
    mount -o loop "$B/bundles.img" "$BUNDLES" || die "the bundles' ext4 image"
trap 'umount "$BUNDLES" 2>/dev/null; rm -f "$REPO/$B/bundles.img"' EXIT
# Native creat_unlink works in a directory of the same file system.
mkdir -p "$BUNDLES/native-tmp"
for w in $WORKLOADS; do
    bash scripts/mkbundle.sh "$B/bundles/$w" "$B/rootfs" -- /bench "${QFLAG[@]}" "$w" >/dev/null ||
        die "mkbundle $w"
done
bash scripts/mkbundle.sh "$B/bundles/true" "$B/rootfs" -- /bin/true >/dev/null || die "mkbundle true"
bash scripts/mkbundle.sh "$B/bundles/sleep" "$B/rootfs" -- /bin/sleep 30 >/dev/null || die "mkbundle sleep"
# The file-heavy job works in /scratch of the bundle's own rootfs: a host
# directory, so every create and open goes through the gofer.
FILES_N=5000
((QUICK)) && FILES_N=500
cp benches/workloads/files.sh "$B/rootfs/files.sh"
bash scripts/mkbundle.sh "$B/bundles/files" "$B/rootfs" -- /bin/sh /files.sh "$FILES_N" >/dev/null || die "mkbundle files"
# runc with Docker's default seccomp profile: what any seccomp filter costs
# a passthrough syscall on this kernel (the floor under runrs's filter).
bash scripts/mkbundle.sh "$B/bundles/getppid-seccomp" "$B/rootfs" -- /bench "${QFLAG[@]}" getppid >/dev/null ||
    die "mkbundle getppid-seccomp"
python3 - "$B/bundles/getppid-seccomp/config.json" tests/fixtures/docker-seccomp.json <<'PY' || die "seccomp bundle"
import json, sys
spec = json.load(open(sys.argv[1]))
spec["linux"]["seccomp"] = json.load(open(sys.argv[2]))
json.dump(spec, open(sys.argv[1], "w"), indent=1)
PY

# The Debian jobs (compile, python start) run on the shared Debian rootfs,
# read-only, with /mnt bound to a scratch dir and a tmpfs /tmp (a copy per
# bundle would be ~400 MB). Natively: chroot into the same tree with the
# same bind, in a private mount namespace.
HAVE_DEBIAN=0
if [ ! -x "$DEBIAN_ROOTFS/usr/bin/python3" ] && [ -f scripts/mkrootfs-debian.sh ] && ((!QUICK)); then
    log "building the Debian rootfs ($DEBIAN_ROOTFS)"
    bash scripts/mkrootfs-debian.sh "$DEBIAN_ROOTFS" >/dev/null 2>>"$OUTDIR/errors-setup.log" || log "mkrootfs-debian failed"
fi
if [ -x "$DEBIAN_ROOTFS/usr/bin/python3" ] && [ -x "$DEBIAN_ROOTFS/usr/bin/gcc" ]; then
    HAVE_DEBIAN=1
    # runc refuses a root.path that is (or goes through) a symlink.
    DEBIAN_ROOTFS=$(realpath "$DEBIAN_ROOTFS")
    mkdir -p "$B/debian-work"
    cp benches/workloads/compile.sh benches/workloads/git.sh benches/workloads/make.sh benches/workloads/bench.c \
        benches/probe/notify_probe.c benches/probe/ptrace_probe.c benches/probe/probe.h "$B/debian-work/"
    rm -rf "$B/debian-work/csrc"
    mkdir -p "$B/debian-work/csrc"
    cp tests/syscalls/*.c tests/syscalls/*.h "$B/debian-work/csrc/"
    GIT_N=2000
    ((QUICK)) && GIT_N=200
    for job in compile strace python git make; do
        case $job in
            compile) cmd=(/bin/sh /mnt/compile.sh) ;;
            git) cmd=(/bin/sh /mnt/git.sh "$GIT_N") ;;
            make) cmd=(/bin/sh /mnt/make.sh) ;;
            strace) cmd=(/usr/bin/strace -f -qq -o /dev/null /bin/sh /mnt/compile.sh) ;;
            python) cmd=(/usr/bin/python3 -c "$PYTHON_IMPORTS") ;;
        esac
        bash scripts/mkbundle.sh "$B/bundles/$job" "$B/rootfs" -- "${cmd[@]}" >/dev/null || die "mkbundle $job"
        rm -rf "$B/bundles/$job/rootfs"
        python3 - "$B/bundles/$job/config.json" "$DEBIAN_ROOTFS" "$REPO/$B/debian-work" <<'PY' || die "debian bundle"
import json, sys
path, rootfs, work = sys.argv[1:]
spec = json.load(open(path))
spec["root"] = {"path": rootfs, "readonly": True}
spec["process"]["cwd"] = "/mnt"
spec["process"]["env"].append("HOME=/tmp")
spec["mounts"] += [
    {"destination": "/mnt", "type": "bind", "source": work, "options": ["rbind", "rw"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
]
json.dump(spec, open(path, "w"), indent=1)
PY
    done
else
    log "no Debian rootfs at $DEBIAN_ROOTFS: the compile and python rows will be n/a"
fi

RUNTIMES=(native runc crun runrs runrs-ptrace)
mkdir -p "$STATE"/{runc,crun,runrs}

RAW=$OUTDIR/raw.tsv
ERRLOG=$OUTDIR/errors.log
: >"$RAW"
: >"$ERRLOG"
SEQ=0

# run_in RUNTIME BUNDLE CMD... : runs the bundle's process (or CMD natively).
run_in() {
    local rt=$1 bundle=$2
    shift 2
    SEQ=$((SEQ + 1))
    local id="rb-$$-$SEQ"
    case $rt in
        native) "$@" ;;
        runc) runc --root "$STATE/runc" run --bundle "$bundle" "$id" </dev/null ;;
        crun) crun_ run --bundle "$bundle" "$id" </dev/null ;;
        runrs) "$RUNRS" --root "$STATE/runrs" --platform seccomp run --bundle "$bundle" "$id" </dev/null ;;
        runrs-ptrace) "$RUNRS" --root "$STATE/runrs" --platform ptrace run --bundle "$bundle" "$id" </dev/null ;;
    esac
}

# native_chroot ROOTFS WORKDIR CMD...: CMD chrooted into ROOTFS with WORKDIR
# bound at /mnt and a fresh /tmp, in a private mount namespace (the
# Debian jobs' native run: the same binaries and libraries as the bundles).
native_chroot() {
    local rootfs=$1 work=$2
    shift 2
    unshare -m -- sh -c 'r=$0 w=$1; shift
        mount --bind "$w" "$r/mnt" && mount -t tmpfs tmpfs "$r/tmp" &&
        cd / && exec chroot "$r" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp sh -c "cd /mnt && exec \"\$@\"" sh "$@"' \
        "$rootfs" "$work" "$@"
}

# crun 1.8 refuses a cgroup v1 host that also mounts cgroup2 with a controller
# ("cgroups in hybrid mode not supported"), as this VM does
# (/sys/fs/cgroup/unified with hugetlb). Then crun runs in a private mount
# namespace where that cgroup2 mount is unmounted (the host is untouched);
# unshare and sh exec, so the pid is crun's and the cost is one extra exec.
CRUN_UNSHARE=0
crun_() {
    if ((CRUN_UNSHARE)); then
        unshare -m -- sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root "$0" "$@"' "$STATE/crun" "$@"
    else
        crun --root "$STATE/crun" "$@"
    fi
}
if ((HAVE_CRUN)); then
    if ! err=$(crun --root "$STATE/crun" run --bundle "$REPO/$B/bundles/true" "rb-$$-crun-check" </dev/null 2>&1); then
        if grep -q "hybrid mode" <<<"$err"; then
            CRUN_UNSHARE=1
            log "crun refuses hybrid cgroups here: running it with /sys/fs/cgroup/unified unmounted in a private mount namespace"
        else
            log "crun fails here ($err): its column will be n/a"
            HAVE_CRUN=0
        fi
    fi
fi

# The ptrace platform counts only if it runs a container here.
HAVE_PTRACE=0
if "$RUNRS" --root "$STATE/runrs" --platform ptrace run --bundle "$REPO/$B/bundles/true" "rb-$$-ptrace-check" </dev/null >/dev/null 2>&1; then
    HAVE_PTRACE=1
else
    log "runrs --platform ptrace cannot run a container here: its column will be n/a"
fi

have() {
    case $1 in
        crun) ((HAVE_CRUN)) ;;
        runrs-ptrace) ((HAVE_PTRACE)) ;;
        *) true ;;
    esac
}

# Docker: `docker run` of true under each runtime registered with dockerd
# (scripts/e2e-setup.sh registers runrs and, with the ptrace platform,
# runrs-ptrace, and imports the image runrs-bb).
DOCKER_RUNTIMES=()
if [ "${RUNRS_BENCH_DOCKER:-1}" = 0 ]; then
    log "RUNRS_BENCH_DOCKER=0: no docker row"
elif command -v docker >/dev/null || ((!QUICK)); then
    if RUNRS_BIN=$RUNRS bash scripts/e2e-setup.sh >/dev/null 2>>"$OUTDIR/errors-setup.log"; then
        for rt in runc runrs runrs-ptrace; do
            docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q "\"$rt\"" && DOCKER_RUNTIMES+=("$rt")
        done
    else
        log "scripts/e2e-setup.sh failed: no docker row (see $OUTDIR/errors-setup.log)"
    fi
fi

# rec GROUP NAME RUNTIME ROUND VALUE
rec() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW"; }

# ---- meta ----
{
    echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
    echo "command=bash benches/run.sh${QFLAG[*]:+ ${QFLAG[*]}}"
    echo "rounds=$ROUNDS"
    echo "quick=$QUICK"
    echo "nproc=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "runc=$(runc --version | head -1)"
    ((HAVE_CRUN)) && echo "crun=$(crun --version | head -1)$( ((CRUN_UNSHARE)) && echo ' (run with /sys/fs/cgroup/unified unmounted in a private mount namespace: crun 1.8 refuses hybrid cgroups)')"
    echo "gcc=$(gcc --version | head -1)"
    command -v docker >/dev/null && echo "docker=$(docker --version)"
    echo "files_n=$FILES_N"
    echo "docker_runtimes=${DOCKER_RUNTIMES[*]}"
    echo "debian=$HAVE_DEBIAN"
    echo "ptrace=$HAVE_PTRACE"
} >"$OUTDIR/meta.txt"

# ---- rounds ----
for ((r = 1; r <= ROUNDS; r++)); do
    log "round $r/$ROUNDS: probes"
    while read -r name ns; do
        rec probe "$name" native "$r" "$ns"
    done < <("$B/notify_probe" "${QFLAG[@]}" 2>>"$ERRLOG"; "$B/ptrace_probe" "${QFLAG[@]}" 2>>"$ERRLOG"
        "$B/trap_probe" "${QFLAG[@]}" 2>>"$ERRLOG")

    # Rotate the runtime order every round so none is always first.
    order=()
    for ((k = 0; k < ${#RUNTIMES[@]}; k++)); do
        order+=("${RUNTIMES[$(((k + r - 1) % ${#RUNTIMES[@]}))]}")
    done

    for w in $WORKLOADS; do
        log "round $r/$ROUNDS: $w"
        for rt in "${order[@]}"; do
            have "$rt" || continue
            out=$(BENCH_DIR=$BUNDLES/native-tmp run_in "$rt" "$REPO/$B/bundles/$w" "$B/bench" "${QFLAG[@]}" "$w" 2>>"$ERRLOG")
            ns=$(awk -v w="$w" '$1 == w { print $2 }' <<<"$out" | tail -1)
            if [ -n "$ns" ]; then
                rec micro "$w" "$rt" "$r" "$ns"
            else
                echo "round $r: $w under $rt produced no result" >>"$ERRLOG"
            fi
        done
    done

    # The sentry's counters on the hot path (issue 22): the same two
    # emulated workloads with metrics on (the default) and off
    # (--no-metrics), back to back, the order swapped every round.
    log "round $r/$ROUNDS: uname and open_close with metrics on and off"
    for w in uname open_close; do
        mflags=(on off)
        ((r % 2)) || mflags=(off on)
        for mf in "${mflags[@]}"; do
            SEQ=$((SEQ + 1))
            extra=()
            [ "$mf" = off ] && extra=(--no-metrics)
            out=$("$RUNRS" --root "$STATE/runrs" "${extra[@]}" run --bundle "$REPO/$B/bundles/$w" "rb-$$-$SEQ" </dev/null 2>>"$ERRLOG")
            ns=$(awk -v w="$w" '$1 == w { print $2 }' <<<"$out" | tail -1)
            if [ -n "$ns" ]; then
                rec metrics "$w" "$mf" "$r" "$ns"
            else
                echo "round $r: $w under runrs with metrics $mf produced no result" >>"$ERRLOG"
            fi
        done
    done

    log "round $r/$ROUNDS: start-to-exit of true"
    for ((i = 0; i < TRUE_RUNS; i++)); do
        for rt in "${order[@]}"; do
            have "$rt" || continue
            t0=$EPOCHREALTIME
            run_in "$rt" "$REPO/$B/bundles/true" "$B/rootfs/bin/true" >/dev/null 2>>"$ERRLOG"
            st=$?
            t1=$EPOCHREALTIME
            if [ $st = 0 ]; then
                rec macro true_start_exit "$rt" "$r" \
                    "$(python3 -c "print(round(($t1 - $t0) * 1e9))")"
            else
                echo "round $r: true under $rt exited $st" >>"$ERRLOG"
            fi
        done
    done

    log "round $r/$ROUNDS: getppid under runc with Docker's seccomp profile"
    out=$(run_in runc "$REPO/$B/bundles/getppid-seccomp" 2>>"$ERRLOG")
    ns=$(awk '$1 == "getppid" { print $2 }' <<<"$out" | tail -1)
    [ -n "$ns" ] && rec micro getppid runc-seccomp "$r" "$ns"

    if ((${#DOCKER_RUNTIMES[@]})); then
        log "round $r/$ROUNDS: docker run of true"
        for ((i = 0; i < TRUE_RUNS / 2; i++)); do
            for rt in "${DOCKER_RUNTIMES[@]}"; do
                t0=$EPOCHREALTIME
                docker run --rm --network none --runtime "$rt" runrs-bb /bin/true >/dev/null 2>>"$ERRLOG"
                st=$?
                t1=$EPOCHREALTIME
                if [ $st = 0 ]; then
                    rec macro docker_true "$rt" "$r" "$(python3 -c "print(round(($t1 - $t0) * 1e9))")"
                else
                    echo "round $r: docker run --runtime $rt exited $st" >>"$ERRLOG"
                fi
            done
        done
    fi

    # macro_job NAME BUNDLE NATIVE-CMD...: one timed run per runtime.
    macro_job() {
        local name=$1 bundle=$2 rt t0 t1 st
        shift 2
        for rt in "${order[@]}"; do
            have "$rt" || continue
            # The ptrace platform refuses ptrace inside the container
            # (docs/PTRACE.md): no traced job there.
            [ "$name" = strace ] && [ "$rt" = runrs-ptrace ] && continue
            # Start every run with no dirty pages of the previous one
            # waiting for writeback (the file job writes ~5,000 files).
            sync
            t0=$EPOCHREALTIME
            run_in "$rt" "$bundle" "$@" >"$OUTDIR/last-$name-$rt.out" 2>>"$ERRLOG"
            st=$?
            t1=$EPOCHREALTIME
            if [ $st = 0 ]; then
                rec macro "$name" "$rt" "$r" "$(python3 -c "print(round(($t1 - $t0) * 1e9))")"
            else
                echo "round $r: $name under $rt exited $st" >>"$ERRLOG"
            fi
        done
    }
    log "round $r/$ROUNDS: file-heavy job ($FILES_N files)"
    macro_job files "$REPO/$B/bundles/files" chroot "$BUNDLES/files/rootfs" /bin/sh /files.sh "$FILES_N"
    if ((HAVE_DEBIAN)); then
        log "round $r/$ROUNDS: compile job"
        macro_job compile "$REPO/$B/bundles/compile" native_chroot "$DEBIAN_ROOTFS" "$REPO/$B/debian-work" /bin/sh /mnt/compile.sh
        log "round $r/$ROUNDS: compile job under strace -f"
        macro_job strace "$REPO/$B/bundles/strace" native_chroot "$DEBIAN_ROOTFS" "$REPO/$B/debian-work" /usr/bin/strace -f -qq -o /dev/null /bin/sh /mnt/compile.sh
        log "round $r/$ROUNDS: python start"
        macro_job python "$REPO/$B/bundles/python" native_chroot "$DEBIAN_ROOTFS" "$REPO/$B/debian-work" /usr/bin/python3 -c "$PYTHON_IMPORTS"
        log "round $r/$ROUNDS: git job ($GIT_N files)"
        macro_job git "$REPO/$B/bundles/git" native_chroot "$DEBIAN_ROOTFS" "$REPO/$B/debian-work" /bin/sh /mnt/git.sh "$GIT_N"
        if [ -x "$DEBIAN_ROOTFS/usr/bin/make" ]; then
            log "round $r/$ROUNDS: make -j2 job"
            macro_job make "$REPO/$B/bundles/make" native_chroot "$DEBIAN_ROOTFS" "$REPO/$B/debian-work" /bin/sh /mnt/make.sh
        fi
    fi
done

# ---- the counters' own cost per call ----
# Measured alone (examples/metrics_record_cost.rs): tens of nanoseconds
# are within the noise of the container runs above on a shared machine.
log "the sentry's counters: cost per call"
cost_profile=(--release)
((QUICK)) && cost_profile=()
if out=$(cargo run --quiet "${cost_profile[@]}" --example metrics_record_cost -- "${QFLAG[@]}" 2>>"$ERRLOG"); then
    rec metrics record_ns native 1 "$(awk '$1 == "record_ns" { print $2 }' <<<"$out")"
    rec metrics clock_ns native 1 "$(awk '$1 == "clock_ns" { print $2 }' <<<"$out")"
else
    echo "metrics_record_cost (runrs) failed" >>"$ERRLOG"
fi

# ---- memory of an idle container ----
# rss_kib PID...: VmRSS and Pss summed over the pids, "RSS PSS" in KiB.
rss_kib() {
    local rss=0 pss=0 p v
    for p in "$@"; do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) && rss=$((rss + ${v:-0}))
        v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) && pss=$((pss + ${v:-0}))
    done
    echo "$rss $pss"
}
# pids_with STRING: pids whose /proc/PID/cmdline (NULs as spaces) contains STRING.
pids_with() {
    local d
    for d in /proc/[0-9]*; do
        case $(cat "$d/comm" 2>/dev/null) in grep | tr | bash | "") continue ;; esac
        tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF -- "$1" && echo "${d#/proc/}"
    done
}
# state_pid RUNTIME ID: the container's init pid from `state`.
state_pid() {
    local rt=$1 id=$2
    case $rt in
        runc) runc --root "$STATE/runc" state "$id" ;;
        crun) crun_ state "$id" ;;
        runrs | runrs-ptrace) "$RUNRS" --root "$STATE/runrs" state "$id" ;;
    esac 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("pid", ""))' 2>/dev/null
}

log "idle memory (sleep 30)"
for rt in runc crun runrs runrs-ptrace; do
    have "$rt" || continue
    SEQ=$((SEQ + 1))
    id="rb-$$-mem-$SEQ"
    case $rt in
        runc) runc --root "$STATE/runc" run --bundle "$REPO/$B/bundles/sleep" "$id" </dev/null >/dev/null 2>>"$ERRLOG" & ;;
        crun) crun_ run --bundle "$REPO/$B/bundles/sleep" "$id" </dev/null >/dev/null 2>>"$ERRLOG" & ;;
        runrs) "$RUNRS" --root "$STATE/runrs" --platform seccomp run --bundle "$REPO/$B/bundles/sleep" "$id" </dev/null >/dev/null 2>>"$ERRLOG" & ;;
        runrs-ptrace) "$RUNRS" --root "$STATE/runrs" --platform ptrace run --bundle "$REPO/$B/bundles/sleep" "$id" </dev/null >/dev/null 2>>"$ERRLOG" & ;;
    esac
    bg=$!
    pid=""
    for ((i = 0; i < 50; i++)); do
        sleep 0.1
        pid=$(state_pid "$rt" "$id")
        [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$(awk '{print $1}' /proc/"$pid"/comm 2>/dev/null)" = sleep ] && break
    done
    sleep 2 # let it settle: idle
    if [ -n "$pid" ] && [ "$pid" != 0 ]; then
        read -r rss pss < <(rss_kib "$pid")
        rec mem container_rss_kib "$rt" 1 "$rss"
        rec mem container_pss_kib "$rt" 1 "$pss"
    else
        echo "memory: no container pid for $rt" >>"$ERRLOG"
    fi
    # The foreground `run` process that waits for the container.
    # (crun's runs inside a shell function here: its $! is not crun.)
    if [ "$rt" != crun ]; then
        read -r rss pss < <(rss_kib "$bg")
        rec mem run_parent_rss_kib "$rt" 1 "$rss"
    fi
    if [ "$rt" = runrs ] || [ "$rt" = runrs-ptrace ]; then
        mapfile -t sentry < <(pids_with "boot --state-dir $STATE/runrs/$id")
        mapfile -t gofer < <(pids_with "gofer --state-dir $STATE/runrs/$id")
        if ((${#sentry[@]} && ${#gofer[@]})); then
            read -r rss pss < <(rss_kib "${sentry[@]}")
            rec mem sentry_rss_kib "$rt" 1 "$rss"
            rec mem sentry_pss_kib "$rt" 1 "$pss"
            read -r rss pss < <(rss_kib "${gofer[@]}")
            rec mem gofer_rss_kib "$rt" 1 "$rss"
            rec mem gofer_pss_kib "$rt" 1 "$pss"
            read -r rss pss < <(rss_kib "${sentry[@]}" "${gofer[@]}")
            rec mem sentry_gofer_rss_kib "$rt" 1 "$rss"
            rec mem sentry_gofer_pss_kib "$rt" 1 "$pss"
        else
            echo "memory: sentry/gofer processes of $id not found (${#sentry[@]} sentry, ${#gofer[@]} gofer)" >>"$ERRLOG"
        fi
    fi
    case $rt in
        runc) runc --root "$STATE/runc" kill "$id" KILL ;;
        crun) crun_ kill "$id" KILL ;;
        runrs | runrs-ptrace) "$RUNRS" --root "$STATE/runrs" kill "$id" KILL ;;
    esac 2>>"$ERRLOG"
    wait "$bg" 2>/dev/null
done

echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUTDIR/meta.txt"
echo "crun_installed=$HAVE_CRUN" >>"$OUTDIR/meta.txt"

if [ -s "$ERRLOG" ]; then
    log "some runs reported errors (see $ERRLOG):"
    grep -v '^$' "$ERRLOG" | sort | uniq -c | sort -rn | head -10 >&2
fi
# A real workload's syscall mix, as the sentry counted it (the chart in
# docs/OBSERVABILITY.md; the quick run draws it under build/bench/quick).
MIX_PNG=docs/syscall-mix.png
((QUICK)) && MIX_PNG=$OUTDIR/syscall-mix.png
if ((HAVE_DEBIAN)); then
    log "a real workload's syscall mix ($MIX_PNG)"
    RUNRS_BIN=$RUNRS RUNRS_TEST_ROOTFS=$B/rootfs RUNRS_BENCH_DEBIAN_ROOTFS=$DEBIAN_ROOTFS \
        bash benches/syscall_mix.sh "$MIX_PNG" >/dev/null 2>>"$ERRLOG" || echo "syscall mix (runrs): failed" >>"$ERRLOG"
else
    log "no Debian rootfs: no syscall mix chart"
fi

python3 benches/report.py "$OUTDIR" "$REPORT" || die "report.py"
log "report written to $REPORT"
# CI's check that the harness still works: every runrs cell must have run.
if ((QUICK)) && grep -q 'runrs' "$ERRLOG"; then
    die "runrs runs failed in quick mode: $(grep runrs "$ERRLOG" | head -3)"
fi
