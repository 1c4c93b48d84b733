#!/usr/bin/env bash
# Pod-level overhead of runrs under Kubernetes' CRI: start latency of a
# 2-container pod on the runrs handler against the runc handler (ratio), and
# the RSS/PSS of the sentry and gofer of each container of such a pod
# (benches/cri/cri_pod.rs). Numbers for docs/KUBERNETES.md.
#
#   bash benches/cri.sh [ROUNDS]     default 10 rounds (~1 min)
#
# Needs root. Builds runrs in release (RUNRS_BENCH_BIN overrides), starts or
# reuses the CRI suite's containerd (scripts/e2e-cri-setup.sh, which installs
# that binary for the handlers), writes build/bench/cri.tsv and prints the
# report. The next run of tests/e2e_cri.rs installs its own binary again.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-10}
if [ -z "${RUNRS_BENCH_BIN:-}" ]; then
    cargo build --release --quiet --bin runrs
    RUNRS_BENCH_BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/runrs
fi
RUNRS_BIN=$RUNRS_BENCH_BIN bash scripts/e2e-cri-setup.sh >/dev/null
cargo run --release --quiet --example cri_pod -- "$ROUNDS" build/bench/cri.tsv
