#!/bin/bash
# Builds the syscall conformance suite into ONE static binary:
#   bash tests/syscalls/build.sh OUT_DIR   ->   OUT_DIR/conformance
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
exec gcc -static -O1 -Wall -Werror -o "$out/conformance" "$here"/*.c
