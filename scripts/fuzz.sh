#!/usr/bin/env bash
# Bounded fuzzing (CI): builds the cargo-fuzz targets in fuzz/ and runs each
# for FUZZ_SECONDS (default 20) seeded from its checked-in corpus
# (fuzz/corpus/<target>/). A crash, a panic or a failed invariant fails the
# run; libFuzzer leaves the input in fuzz/artifacts/<target>/.
# The toolchain is stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its
# nightly-only flags (-Zsanitizer=address and friends).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${FUZZ_SECONDS:-20}"
targets=(gofer_decode oci_config path_walk)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz (about 2 minutes)"
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

cargo fuzz build
for t in "${targets[@]}"; do
    echo "fuzz.sh: $t for ${secs}s"
    # New inputs go to a scratch dir: the committed corpus changes only by hand.
    scratch="$(mktemp -d)"
    cargo fuzz run "$t" "$scratch" "corpus/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1
    rm -rf "$scratch"
done
echo "fuzz.sh: all targets ran ${secs}s without a failure"
