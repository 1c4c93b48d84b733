#!/usr/bin/env python3
"""Aggregates benches/run.sh's raw numbers into a Markdown report.

    python3 benches/report.py RESULTS_DIR OUT.md

RESULTS_DIR holds raw.tsv (group, name, runtime, round, value) and meta.txt.
Per cell: the median and the spread (min-max) over rounds (micro, probes) or
over all runs (start-to-exit), ratios to native and to runc, and the issue's
targets next to what was achieved. A "## What bounds it" section already in
OUT.md (hand-written) is kept as it is.
"""
import statistics
import sys
from collections import defaultdict
from pathlib import Path

RUNTIMES = ["native", "runc", "crun", "runrs", "runrs-ptrace"]
MACRO = [
    ("files", "file-heavy: create N small files, tar, untar, find, sha256sum (busybox, files in the rootfs, on a journaled ext4 of its own)"),
    ("compile", "gcc -O2 on 3 C files, link, run (Debian rootfs, read-only, work dir bound at /mnt)"),
    ("strace", "the compile job under `strace -f -o /dev/null` inside the container (a traced CI job; the ptrace platform refuses ptrace: n/a)"),
    ("python", "python3 start importing json, decimal, email, http.client, asyncio, sqlite3, subprocess, ..."),
    ("make", "`make -j2` of a real multi-file C project (the conformance suite, ~50 files) in the spec's tmpfs /tmp, an up-to-date make, a one-file rebuild, clean (Debian rootfs)"),
    ("git", "git init, add and commit N files, status, branch, commit a tenth changed, checkout, log, gc (Debian rootfs, repository in the spec's tmpfs /tmp)"),
]
MICRO = [
    ("getppid", "passthrough"),
    ("uname", "emulated"),
    ("open_close", "emulated read-only open (the sentry, directfs) + close"),
    ("stat", "emulated"),
    ("creat_unlink", "emulated creat (gofer) + close + unlink (gofer)"),
    ("pread4k", "passthrough on an open fd"),
    ("pipe_pingpong", "passthrough, two processes"),
    ("fork_exit_wait", "process lifecycle"),
    ("execve", "static binary re-exec"),
    ("mmap_munmap", "passthrough, 4 KiB anonymous"),
    ("clock_gettime", "vDSO, no syscall"),
]
PROBES = [
    ("native_getppid", "getppid, no filter"),
    ("notify_sync", "seccomp user notification RECV+SEND, SYNC_WAKE_UP"),
    ("notify_default", "seccomp user notification RECV+SEND, default wake-ups"),
    ("notify_sync_4threads", "as notify_sync, but 4 supervisor threads blocked in RECV (runrs's worker layout)"),
    ("ptrace_sysemu", "PTRACE_SYSEMU, GETREGS+SETREGS"),
    ("ptrace_seccomp_trace", "SECCOMP_RET_TRACE + PTRACE_CONT, GETREGS+SETREGS"),
    ("trap_sigsys", "SECCOMP_RET_TRAP, the SIGSYS handler answers in the caller (a trap in the workload's own address space)"),
    ("trap_shm_spin", "as trap_sigsys, the handler asks a supervisor process that polls a shared page on another CPU (gVisor's systrap shape)"),
    ("trap_shm_futex", "as trap_shm_spin, both sides sleep on a futex instead of polling"),
]
KEEP_HEADING = "## What bounds it"


def load(resdir):
    data = defaultdict(list)  # (group, name, runtime) -> [values]
    by_round = {}  # (group, name, runtime, round) -> value (micro, probes)
    for line in (resdir / "raw.tsv").read_text().splitlines():
        parts = line.split("\t")
        if len(parts) != 5:
            continue
        group, name, rt, _round, value = parts
        try:
            data[(group, name, rt)].append(float(value))
            by_round[(group, name, rt, _round)] = float(value)
        except ValueError:
            pass
    meta = {}
    for line in (resdir / "meta.txt").read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            meta[k] = v
    return data, meta, by_round


def med(vals):
    return statistics.median(vals) if vals else None


def fmt_ns(v):
    if v is None:
        return "n/a"
    if v >= 100_000:
        return f"{v / 1000:,.0f} µs"
    if v >= 10_000:
        return f"{v / 1000:,.1f} µs"
    return f"{v:,.0f} ns"


def fmt_ms(v):
    return "n/a" if v is None else f"{v / 1e6:,.1f} ms"


def cell(vals, fmt):
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return fmt(vals[0])
    return f"{fmt(med(vals))} ({fmt(min(vals))}–{fmt(max(vals))})"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def write_chart(path, rts, sandboxes, pr, m, meta):
    """A bar chart of each sandbox's ratio to runc (log scale), micro and macro."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report.py: matplotlib missing, no chart", file=sys.stderr)
        return
    labels, series = [], {a: [] for a in sandboxes}
    for name, _ in MICRO:
        labels.append(name)
        for a in sandboxes:
            v = pr(name, a, "runc")
            series[a].append(float(v[:-1]) if v.endswith("x") else 0.0)
    for name in ["true_start_exit", "files", "compile", "strace", "python", "docker_true"]:
        base = m("macro", name, "runc")
        if base is None:
            continue
        labels.append(name)
        for a in sandboxes:
            v = m("macro", name, a)
            series[a].append(v / base if v else 0.0)
    fig, ax = plt.subplots(figsize=(12, 5))
    width = 0.8 / max(1, len(sandboxes))
    for k, a in enumerate(sandboxes):
        xs = [i + k * width for i in range(len(labels))]
        ax.bar(xs, series[a], width, label=a)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks([i + width * (len(sandboxes) - 1) / 2 for i in range(len(labels))])
    ax.set_xticklabels(labels, rotation=35, ha="right")
    ax.set_ylabel("time / runc time (log)")
    ax.set_title(f"runrs vs runc, {meta.get('date', '')} ({meta.get('command', '')})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RESULTS_DIR OUT.md")
    resdir, out = Path(sys.argv[1]), Path(sys.argv[2])
    data, meta, by_round = load(resdir)
    have_crun = meta.get("crun_installed", "1") == "1"
    have_ptrace = meta.get("ptrace", "0") == "1"
    rts = [r for r in RUNTIMES
           if (have_crun or r != "crun") and (have_ptrace or r != "runrs-ptrace")]

    def vals(group, name, rt):
        return data.get((group, name, rt), [])

    def m(group, name, rt):
        return med(vals(group, name, rt))

    def paired(ga, na, ra, gb, nb, rb):
        """Median over rounds of a/b measured in the same round."""
        rs = []
        for (g, n, r, rnd), v in by_round.items():
            if (g, n, r) == (ga, na, ra):
                w = by_round.get((gb, nb, rb, rnd))
                if w:
                    rs.append(v / w)
        return med(rs)

    def pr(name, a, b):
        v = paired("micro", name, a, "micro", name, b)
        return "n/a" if v is None else f"{v:.2f}x"

    L = []
    quick = meta.get("quick") == "1"
    L.append("# Benchmarks")
    L.append("")
    L.append("Generated by `benches/report.py` from `bash benches/run.sh"
             + (" --quick" if quick else "") + "`; edit only the \"What bounds it\" section.")
    L.append("")
    L.append("## Machine and run")
    L.append("")
    L.append(f"- date: {meta.get('date', '?')}; command: `{meta.get('command', '?')}`; "
             f"rounds: {meta.get('rounds', '?')}" + (" (quick: 1/20 of the iterations)" if quick else ""))
    L.append(f"- {meta.get('nproc', '?')} CPUs, {meta.get('cpu', '?')}, {meta.get('mem', '?')}; "
             f"kernel {meta.get('kernel', '?')}")
    L.append(f"- {meta.get('runc', 'runc ?')}; {meta.get('crun', 'crun: not installed')}; "
             f"{meta.get('gcc', '')}")
    L.append(f"- load average at start {meta.get('load_start', '?')}, at end {meta.get('load_end', '?')}. "
             "**The 2 CPUs were shared with other jobs during this run**: absolute numbers are "
             "noisy (see the min–max spreads); ratios from the same round are more robust.")
    if have_ptrace:
        L.append("- `runrs` is `--platform seccomp`, `runrs-ptrace` is `--platform ptrace` (the same binary).")
    else:
        L.append("- runrs runs with `--platform seccomp`; `--platform ptrace` could not run a "
                 "container in this run, so it has no column.")
    L.append("")
    L.append("Cells: median (min–max) over rounds; each round runs every workload under every "
             "runtime, interleaved, the runtime order rotated each round. Each workload runs in "
             "its own container (`<runtime> run` of a busybox bundle with the static `bench` "
             "binary at `/bench`) and times N iterations itself, after a warm-up, so container "
             "start-up is not in the micro numbers.")
    L.append("")

    # --- probes ---
    L.append("## The floor: bare mechanism probes (`benches/probe/`)")
    L.append("")
    L.append("| probe | what | ns per getppid | vs native getppid |")
    L.append("|---|---|---|---|")
    nat = m("probe", "native_getppid", "native")
    for name, what in PROBES:
        v = vals("probe", name, "native")
        L.append(f"| `{name}` | {what} | {cell(v, fmt_ns)} | {ratio(med(v), nat)} |")
    L.append("")

    # --- micro ---
    L.append("## Micro workloads (`benches/workloads/bench.c`), time per operation")
    L.append("")
    head = "| workload | kind | " + " | ".join(rts) + " |"
    L.append(head)
    L.append("|" + "---|" * (len(rts) + 2))
    for name, kind in MICRO:
        row = [f"`{name}`", kind] + [cell(vals("micro", name, rt), fmt_ns) for rt in rts]
        L.append("| " + " | ".join(row) + " |")
    L.append("")
    sec = vals("micro", "getppid", "runc-seccomp")
    if sec:
        L.append(f"What any seccomp filter costs here: `getppid` under runc with Docker's default "
                 f"seccomp profile is {cell(sec, fmt_ns)}, "
                 f"{pr('getppid', 'runc-seccomp', 'native')} native "
                 f"(runrs: {pr('getppid', 'runrs', 'native')}; "
                 f"runrs vs runc+seccomp: {pr('getppid', 'runrs', 'runc-seccomp')}).")
        L.append("")
    L.append("Ratios: the median over rounds of the ratio within each round (paired, so "
             "slow phases of the shared machine cancel out).")
    L.append("")
    others = [r for r in rts if r != "native"]
    sandboxes = [r for r in rts if r.startswith("runrs")]
    vs = [(a, b) for a in sandboxes for b in ["runc", "crun"] if b in rts]
    L.append("| workload | " + " | ".join(f"{r}/native" for r in others) + " | "
             + " | ".join(f"{a}/{b}" for a, b in vs) + " |")
    L.append("|" + "---|" * (len(others) + len(vs) + 1))
    for name, _ in MICRO:
        row = [f"`{name}`"] + [pr(name, r, "native") for r in others]
        row += [pr(name, a, b) for a, b in vs]
        L.append("| " + " | ".join(row) + " |")
    L.append("")

    # --- macro ---
    L.append("## Start-to-exit: `<runtime> run` of a bundle running `/bin/true`")
    L.append("")
    L.append("Wall time of the whole `run` command (create, start, wait, delete); native = "
             "fork+exec of busybox `true`. Median (min–max) over all runs "
             f"({meta.get('rounds', '?')} round(s) x 10).")
    L.append("")
    L.append("| " + " | ".join(rts) + " | " + " | ".join(f"{a}/runc" for a in sandboxes) + " |")
    L.append("|" + "---|" * (len(rts) + len(sandboxes)))
    row = [cell(vals("macro", "true_start_exit", rt), fmt_ms) for rt in rts]
    row += [ratio(m("macro", "true_start_exit", a), m("macro", "true_start_exit", "runc")) for a in sandboxes]
    L.append("| " + " | ".join(row) + " |")
    L.append("")
    drts = [r for r in meta.get("docker_runtimes", "").split() if r]
    L.append("## Start-to-exit through Docker: `docker run --rm --network none --runtime R runrs-bb /bin/true`")
    L.append("")
    if drts:
        L.append(f"{meta.get('docker', 'docker')}; the runtimes registered by scripts/e2e-setup.sh. "
                 "Median (min–max) over all runs.")
        L.append("")
        L.append("| " + " | ".join(drts) + " | " + " | ".join(f"{a}/runc" for a in drts if a != "runc") + " |")
        L.append("|" + "---|" * (2 * len(drts) - 1))
        row = [cell(vals("macro", "docker_true", rt), fmt_ms) for rt in drts]
        row += [ratio(m("macro", "docker_true", a), m("macro", "docker_true", "runc")) for a in drts if a != "runc"]
        L.append("| " + " | ".join(row) + " |")
    else:
        L.append("Not measured in this run (dockerd with the runrs runtime was not available).")
    L.append("")

    L.append("## Macro jobs: wall time of `<runtime> run` of the whole job")
    L.append("")
    L.append(f"Native runs the same binaries chrooted into the same tree. N = {meta.get('files_n', '?')} "
             "for the file job. The Debian rows need build/rootfs-debian"
             + ("." if meta.get("debian") == "1" else " (missing in this run: n/a)."))
    L.append("")
    L.append("| job | what | " + " | ".join(rts) + " | " + " | ".join(f"{a}/runc" for a in sandboxes) + " |")
    L.append("|" + "---|" * (len(rts) + len(sandboxes) + 2))
    for name, what in MACRO:
        row = [f"`{name}`", what] + [cell(vals("macro", name, rt), fmt_ms) for rt in rts]
        row += [ratio(m("macro", name, a), m("macro", name, "runc")) for a in sandboxes]
        L.append("| " + " | ".join(row) + " |")
    L.append("")

    # --- metrics on vs off ---
    L.append("## The sentry's counters on the hot path: metrics on vs off")
    L.append("")
    L.append("The same container run with the sentry's counters (the default) and with "
             "`--no-metrics`, back to back in each round (order swapped every round). "
             "With metrics on, every emulated call adds one relaxed atomic addition, and "
             "one call in 8 of each syscall a clock read and two more (its latency; "
             "docs/OBSERVABILITY.md).")
    L.append("")
    rec_ns, clock_ns = m("metrics", "record_ns", "native"), m("metrics", "clock_ns", "native")
    if rec_ns is not None:
        L.append(f"Measured alone (`examples/metrics_record_cost.rs`; a release build, or the "
                 f"debug one in quick mode): "
                 f"**{rec_ns:.1f} ns per call** on average (one `Instant::now()` is "
                 f"{clock_ns:.1f} ns here), against the notify probe's "
                 f"{fmt_ns(m('probe', 'notify_sync', 'native'))} round trip. The container "
                 "ratios below carry the shared machine's noise, which is larger than that.")
        L.append("")
    L.append("| workload | metrics on | metrics off | on/off (paired) |")
    L.append("|---|---|---|---|")
    for name in ["uname", "open_close"]:
        on, off = vals("metrics", name, "on"), vals("metrics", name, "off")
        r = paired("metrics", name, "on", "metrics", name, "off")
        L.append(f"| `{name}` | {cell(on, fmt_ns)} | {cell(off, fmt_ns)} | "
                 + ("n/a" if r is None else f"{r:.3f}x") + " |")
    L.append("")

    # --- memory ---
    def kib(name, rt):
        v = m("mem", name, rt)
        return "n/a" if v is None else f"{v / 1024:.1f} MiB"

    L.append("## Memory of an idle container (`sleep 30`)")
    L.append("")
    L.append("VmRSS (and PSS) from `/proc`, one sample 2 s after the container started. "
             "runc and crun leave no process of their own once `create` returns (only the "
             "foreground `run` parent that waits); their column shows the container's own RSS "
             "for reference.")
    L.append("")
    mem_rts = [r for r in ["runc", "crun", "runrs", "runrs-ptrace"] if r in rts]
    L.append("| process | " + " | ".join(mem_rts) + " |")
    L.append("|---|" + "---|" * len(mem_rts))
    rows = [
        ("the container (`sleep`) RSS", "container_rss_kib"),
        ("the container PSS", "container_pss_kib"),
        ("foreground `run` parent RSS", "run_parent_rss_kib"),
        ("runrs sentry (`boot`) RSS", "sentry_rss_kib"),
        ("runrs gofer RSS", "gofer_rss_kib"),
        ("**runrs sentry + gofer RSS**", "sentry_gofer_rss_kib"),
        ("runrs sentry + gofer PSS", "sentry_gofer_pss_kib"),
    ]
    for label, key in rows:
        L.append(f"| {label} | " + " | ".join(kib(key, r) if (key.startswith(("container", "run_")) or r.startswith("runrs")) else "–"
                                              for r in mem_rts) + " |")
    L.append("")

    # --- targets ---
    L.append("## Targets (issue 8) and what was achieved")
    L.append("")
    L.append("| target | achieved | met? |")
    L.append("|---|---|---|")
    probe = m("probe", "notify_sync", "native")

    def target(label, value, limit, shown):
        if value is None:
            L.append(f"| {label} | n/a | not measured |")
        else:
            L.append(f"| {label} | {shown} | {'met' if value <= limit else '**missed**'} |")

    def rv(a, b):
        return None if a is None or b is None or b == 0 else a / b

    r = paired("micro", "getppid", "runrs", "micro", "getppid", "native")
    target("passthrough (`getppid`) ≤ 1.05x native", r, 1.05, f"{r:.2f}x" if r else "")
    for w in ["pread4k", "mmap_munmap"]:
        r = paired("micro", w, "runrs", "micro", w, "native")
        target(f"(also passthrough: `{w}`) ≤ 1.05x native", r, 1.05, f"{r:.2f}x" if r else "")
    r = paired("micro", "uname", "runrs", "probe", "notify_sync", "native")
    target("emulated `uname` ≤ 1.5x the notify probe", r, 1.5,
           f"{r:.2f}x ({fmt_ns(m('micro', 'uname', 'runrs'))} vs {fmt_ns(probe)})" if r else "")
    for w in ["open_close", "stat"]:
        r = paired("micro", w, "runrs", "probe", "notify_sync", "native")
        target(f"`{w}` ≤ 2.5x the probe round trip", r, 2.5,
               f"{r:.2f}x ({fmt_ns(m('micro', w, 'runrs'))} vs {fmt_ns(probe)})" if r else "")
    r = rv(m("macro", "true_start_exit", "runrs"), m("macro", "true_start_exit", "runc"))
    target("start-to-exit ≤ 1.0x runc", r, 1.0,
           f"{r:.2f}x ({fmt_ms(m('macro', 'true_start_exit', 'runrs'))} vs "
           f"{fmt_ms(m('macro', 'true_start_exit', 'runc'))})" if r else "")
    for name, limit in [("files", 1.3), ("compile", 1.2), ("python", 1.3)]:
        r = rv(m("macro", name, "runrs"), m("macro", name, "runc"))
        target(f"{name} job ≤ {limit}x runc", r, limit,
               f"{r:.2f}x ({fmt_ms(m('macro', name, 'runrs'))} vs {fmt_ms(m('macro', name, 'runc'))})" if r else "")
    r = rv(m("macro", "docker_true", "runrs"), m("macro", "docker_true", "runc"))
    target("`docker run` of true ≤ 1.0x runc", r, 1.0, f"{r:.2f}x" if r else "")
    v = m("mem", "sentry_gofer_rss_kib", "runrs")
    target("sentry + gofer idle RSS ≤ 10 MiB", None if v is None else v / 1024, 10.0,
           f"{v / 1024:.1f} MiB" if v is not None else "")
    L.append("")
    L.append("## Targets (issue 19: the open path) and what was achieved")
    L.append("")
    L.append("The ptrace platform's figure is beside each (same target, not required).")
    L.append("")
    L.append("| target | achieved (seccomp) | met? | runrs-ptrace |")
    L.append("|---|---|---|---|")

    def target19(label, seccomp, ptrace, limit):
        def shown(v):
            return "n/a" if v is None else f"{v:.2f}x"
        met = "not measured" if seccomp is None else ("met" if seccomp <= limit else "**missed**")
        L.append(f"| {label} | {shown(seccomp)} | {met} | {shown(ptrace)} |")

    for name, limit, what in [("files", 1.3, "file job"), ("git", 1.2, "git job"),
                              ("make", 1.1, "`make -j2` job")]:
        target19(f"{what} ≤ {limit}x runc",
                 rv(m("macro", name, "runrs"), m("macro", name, "runc")),
                 rv(m("macro", name, "runrs-ptrace"), m("macro", name, "runc")), limit)
    for w, limit in [("open_close", 2.5), ("stat", 1.5), ("creat_unlink", 3.0)]:
        target19(f"`{w}` ≤ {limit}x the probe round trip",
                 paired("micro", w, "runrs", "probe", "notify_sync", "native"),
                 paired("micro", w, "runrs-ptrace", "probe", "notify_sync", "native"), limit)
    L.append("")
    L.append("Reference, not measured here: gVisor's own published figures are for other "
             "machines and jobs (systrap: https://gvisor.dev/blog/2023/04/28/systrap-release/; "
             "directfs: https://gvisor.dev/blog/2023/06/27/directfs/; VFS2, file-heavy jobs "
             "50-75% faster than before: https://cloud.google.com/blog/products/containers-kubernetes/"
             "gvisor-file-system-improvements-for-gke-and-serverless). runsc is not installed on "
             "this machine (not in Debian), so no runsc column.")
    L.append("")
    L.append("Ratios to native and to the probe are paired per round (median of the per-round "
             "ratios); the probe round trip is `notify_sync` above, measured in the same rounds. "
             "The ptrace platform has the same targets in principle; its cells are in the tables above.")
    L.append("")

    out.parent.mkdir(parents=True, exist_ok=True)
    chart = out.with_suffix(".png")
    L.append(f"![ratios to runc]({chart.name})")
    L.append("")
    write_chart(chart, rts, sandboxes, pr, m, meta)

    # keep the hand-written section
    kept = None
    if out.exists():
        old = out.read_text()
        i = old.find(KEEP_HEADING)
        if i >= 0:
            kept = old[i:].rstrip() + "\n"
    if kept is None:
        kept = KEEP_HEADING + "\n\n(not written yet: profile the sentry and gofer and explain the numbers)\n"
    L.append(kept)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(L))


if __name__ == "__main__":
    main()
