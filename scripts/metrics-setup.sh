#!/usr/bin/env bash
# Installs what tests/metrics.rs needs: Debian 12's prometheus (the real
# server the test starts on 127.0.0.1 with its own config and data dir;
# the package's own service, where an init system starts one, is not
# used). Idempotent; scripts/test.sh runs it before the test suite, and
# the test runs it again (a no-op) when the binary is missing.
set -euo pipefail

say() { echo "metrics-setup: $*"; }

if command -v prometheus >/dev/null 2>&1; then
    say "prometheus already installed ($(command -v prometheus))"
    exit 0
fi
say "installing prometheus"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# No recommends: the node exporter and friends are not needed.
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v prometheus >/dev/null || { echo "metrics-setup: prometheus missing after install" >&2; exit 1; }
say "installed $(prometheus --version 2>&1 | head -1)"
