"""Draws the syscall mix of `runrs metrics --format json` (one container)
as horizontal bars: calls per syscall the sentry answered (emulated, and
denied in another colour), with the mean latency of each in the label.

    python3 benches/syscall_mix.py METRICS.json OUT.png "workload description"

Same matplotlib setup as benches/report.py (Agg backend, 90 dpi)."""
import json
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: syscall_mix.py METRICS.json OUT.png TITLE")
    src, out, title = sys.argv[1:]
    m = json.load(open(src))
    counters = m.get("counters") or {}
    rows = counters.get("syscalls", {})
    if not rows:
        sys.exit(f"syscall_mix.py: {src} has no syscall counters")
    denied = set(counters.get("denied", []))
    items = sorted(rows.items(), key=lambda kv: kv[1]["calls"], reverse=True)[:25]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("syscall_mix.py: matplotlib missing (pip install matplotlib)")
    names = [f"{k}  ({v['sum_ns'] / max(1, v.get('observed', v['calls'])) / 1000:.1f} µs)"
             for k, v in items]
    calls = [v["calls"] for _, v in items]
    colours = ["tab:red" if k in denied else "tab:blue" for k, _ in items]
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(items) + 1.5))
    ax.barh(range(len(items)), calls, color=colours)
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("calls answered by the sentry (log); label: mean receipt-to-answer latency")
    total = sum(v["calls"] for v in rows.values())
    ax.set_title(f"{title}\n{total} emulated or denied calls; red: denied", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    main()
