#!/usr/bin/env bash
# CI entry point: installs the test dependencies, builds the fixtures, then
# runs rustfmt, clippy and every test. Needs root on Debian 12 with a Rust
# toolchain (cargo, rustfmt, clippy).
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n===== %s =====\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: must run as root (the integration tests create containers)" >&2
    exit 1
fi

section "Installing test dependencies (busybox-static, runc, gcc and static glibc for the escape suite, docker.io, containerd and podman for the e2e suites, containernetworking-plugins for the CRI suite, protobuf-compiler for its gRPC client)"
missing=()
for pkg in busybox-static runc gcc libc6-dev docker.io containerd podman containernetworking-plugins protobuf-compiler; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != 'install ok installed' ]; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
    echo "installed: ${missing[*]}"
else
    echo "already installed"
fi
command -v python3 >/dev/null || { echo "test.sh: python3 is required" >&2; exit 1; }

section "Building test fixtures (build/rootfs-busybox, build/rootfs-debian)"
bash scripts/mkrootfs-busybox.sh build/rootfs-busybox
# debootstrap of Debian 12 minbase with python3/gcc/sqlite3/git (about 3
# minutes the first time; skipped while its stamp matches).
bash scripts/mkrootfs-debian.sh build/rootfs-debian

section "cargo fmt --check"
cargo fmt --check

section "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

section "e2e setup: containerd, dockerd, runtime registration, image runrs-bb"
# Builds the binary the e2e tests install, then starts/configures the
# daemons (scripts/e2e-setup.sh; the tests run it again, which is a no-op).
cargo build --bin runrs
RUNRS_BIN="$PWD/target/debug/runrs" bash scripts/e2e-setup.sh

section "e2e setup: podman (runtime runrs in /etc/runrs-test/podman-containers.conf, image runrs-bb)"
RUNRS_BIN="$PWD/target/debug/runrs" bash scripts/e2e-podman-setup.sh

section "metrics setup: prometheus (tests/metrics.rs starts its own on 127.0.0.1)"
bash scripts/metrics-setup.sh

section "e2e setup: the CRI suite's containerd (/run/runrs-test-cri/containerd.sock, handlers runrs, runrs-ptrace, runc, runrs-broken; images runrs.test/*)"
RUNRS_BIN="$PWD/target/debug/runrs" RUNRS_TEST_ROOTFS="$PWD/build/rootfs-busybox" bash scripts/e2e-cri-setup.sh

section "cargo test --all-targets -- --test-threads=2"
RUNRS_TEST_ROOTFS="$PWD/build/rootfs-busybox" RUNRS_TEST_DEBIAN_ROOTFS="$PWD/build/rootfs-debian" \
    cargo test --all-targets -- --test-threads=2

section "the CRI suite again with a release build (cargo test --release --test e2e_cri), as Kubernetes nodes would run runrs"
RUNRS_TEST_ROOTFS="$PWD/build/rootfs-busybox" cargo test --release --test e2e_cri

section "benchmark harness, quick mode (checks that it runs; numbers are not asserted)"
RUNRS_BENCH_BIN="$PWD/target/debug/runrs" bash benches/run.sh --quick

# The fuzz targets' invariants already ran over their corpora and crash
# inputs in `cargo test` (tests/fuzz_replay.rs), without a sanitizer build.
# Fuzzing for new inputs builds the targets with sanitizers (~15 min from
# clean on 2 cores): RUNRS_FUZZ=1 runs it here, or run scripts/fuzz.sh.
if [ "${RUNRS_FUZZ:-0}" = 1 ]; then
    section "Fuzzing: gofer_decode, oci_config, path_walk, ${FUZZ_SECONDS:-20} s each (scripts/fuzz.sh)"
    bash scripts/fuzz.sh
else
    section "Fuzzing: corpus replay only (tests/fuzz_replay.rs ran above); RUNRS_FUZZ=1 bash scripts/test.sh also fuzzes"
fi

section "All checks passed"
