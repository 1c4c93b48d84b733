#!/usr/bin/env bash
# The benchmark harness: the same workloads natively, under runc, crun and
# runrs, as ratios in one run.
#
#   bash benches/run.sh            5 rounds, writes docs/BENCHMARKS.md (~15 min)
#   bash benches/run.sh --quick    1 round, 1/20 of the iterations (~1-2 min),
#                                  writes build/bench/quick/BENCHMARKS.md
#
# Needs root (containers), gcc (static glibc), cargo and python3. Installs
# crun with apt-get if it is missing; runc must be installed.
#
# Steps: builds build/bench/{bench,notify_probe,ptrace_probe} (gcc -static
# -O2), a busybox rootfs with /bench in it and one bundle per workload
# (scripts/mkrootfs-busybox.sh, scripts/mkbundle.sh), runrs in release; then
# per round, interleaved (runtime order rotated every round): the kernel
# probes, every micro workload under every runtime, 10 start-to-exit runs of
# /bin/true per runtime; finally the idle memory of a `sleep 30` container.
# Raw numbers go to build/bench/<results|quick>/raw.tsv, and
# benches/report.py turns them into the report.
set -uo pipefail

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
RUNRS=$REPO/target/release/runrs

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

log "building runrs (release)"
cargo build --release --quiet || die "cargo build --release"

log "building the rootfs and bundles"
bash scripts/mkrootfs-busybox.sh "$B/rootfs" >/dev/null || die "mkrootfs-busybox"
cp "$B/bench" "$B/rootfs/bench"
WORKLOADS=$("$B/bench" list)
mkdir -p "$B/bundles"
for w in $WORKLOADS; do
    bash scripts/mkbundle.sh "$B/bundles/$w" "$B/rootfs" -- /bench "${QFLAG[@]}" "$w" >/dev/null ||
        die "mkbundle $w"
done
bash scripts/mkbundle.sh "$B/bundles/true" "$B/rootfs" -- /bin/true >/dev/null || die "mkbundle true"
bash scripts/mkbundle.sh "$B/bundles/sleep" "$B/rootfs" -- /bin/sleep 30 >/dev/null || die "mkbundle sleep"

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

have() { [ "$1" != crun ] || ((HAVE_CRUN)); }

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
} >"$OUTDIR/meta.txt"

# ---- rounds ----
for ((r = 1; r <= ROUNDS; r++)); do
    log "round $r/$ROUNDS: probes"
    while read -r name ns; do
        rec probe "$name" native "$r" "$ns"
    done < <("$B/notify_probe" "${QFLAG[@]}" 2>>"$ERRLOG"; "$B/ptrace_probe" "${QFLAG[@]}" 2>>"$ERRLOG")

    # Rotate the runtime order every round so none is always first.
    order=()
    for ((k = 0; k < ${#RUNTIMES[@]}; k++)); do
        order+=("${RUNTIMES[$(((k + r - 1) % ${#RUNTIMES[@]}))]}")
    done

    for w in $WORKLOADS; do
        log "round $r/$ROUNDS: $w"
        for rt in "${order[@]}"; do
            have "$rt" || continue
            out=$(run_in "$rt" "$REPO/$B/bundles/$w" "$B/bench" "${QFLAG[@]}" "$w" 2>>"$ERRLOG")
            ns=$(awk -v w="$w" '$1 == w { print $2 }' <<<"$out" | tail -1)
            if [ -n "$ns" ]; then
                rec micro "$w" "$rt" "$r" "$ns"
            else
                echo "round $r: $w under $rt produced no result" >>"$ERRLOG"
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
done

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
        runrs) "$RUNRS" --root "$STATE/runrs" state "$id" ;;
    esac 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("pid", ""))' 2>/dev/null
}

log "idle memory (sleep 30)"
for rt in runc crun runrs; do
    have "$rt" || continue
    SEQ=$((SEQ + 1))
    id="rb-$$-mem-$SEQ"
    case $rt in
        runc) runc --root "$STATE/runc" run --bundle "$REPO/$B/bundles/sleep" "$id" </dev/null >/dev/null 2>>"$ERRLOG" & ;;
        crun) crun_ run --bundle "$REPO/$B/bundles/sleep" "$id" </dev/null >/dev/null 2>>"$ERRLOG" & ;;
        runrs) "$RUNRS" --root "$STATE/runrs" --platform seccomp run --bundle "$REPO/$B/bundles/sleep" "$id" </dev/null >/dev/null 2>>"$ERRLOG" & ;;
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
    if [ "$rt" = runrs ]; then
        mapfile -t sentry < <(pids_with "boot --state-dir $STATE/runrs/$id")
        mapfile -t gofer < <(pids_with "gofer --state-dir $STATE/runrs/$id")
        if ((${#sentry[@]} && ${#gofer[@]})); then
            read -r rss pss < <(rss_kib "${sentry[@]}")
            rec mem sentry_rss_kib runrs 1 "$rss"
            rec mem sentry_pss_kib runrs 1 "$pss"
            read -r rss pss < <(rss_kib "${gofer[@]}")
            rec mem gofer_rss_kib runrs 1 "$rss"
            rec mem gofer_pss_kib runrs 1 "$pss"
            read -r rss pss < <(rss_kib "${sentry[@]}" "${gofer[@]}")
            rec mem sentry_gofer_rss_kib runrs 1 "$rss"
            rec mem sentry_gofer_pss_kib runrs 1 "$pss"
        else
            echo "memory: sentry/gofer processes of $id not found (${#sentry[@]} sentry, ${#gofer[@]} gofer)" >>"$ERRLOG"
        fi
    fi
    case $rt in
        runc) runc --root "$STATE/runc" kill "$id" KILL ;;
        crun) crun_ kill "$id" KILL ;;
        runrs) "$RUNRS" --root "$STATE/runrs" kill "$id" KILL ;;
    esac 2>>"$ERRLOG"
    wait "$bg" 2>/dev/null
done

echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUTDIR/meta.txt"
echo "crun_installed=$HAVE_CRUN" >>"$OUTDIR/meta.txt"

if [ -s "$ERRLOG" ]; then
    log "some runs reported errors (see $ERRLOG):"
    grep -v '^$' "$ERRLOG" | sort | uniq -c | sort -rn | head -10 >&2
fi
python3 benches/report.py "$OUTDIR" "$REPORT" || die "report.py"
log "report written to $REPORT"
