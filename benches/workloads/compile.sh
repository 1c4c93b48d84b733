#!/bin/sh
# The compile job (issue 8): gcc -O2 on the harness's own C files in /mnt
# (a bind mount of a host dir), then link and run one of them.
set -e
cd /mnt
rm -rf out
mkdir out
for f in bench.c notify_probe.c ptrace_probe.c; do
    gcc -O2 -Wall -pthread -c "$f" -o "out/${f%.c}.o"
done
gcc -pthread -o out/bench out/bench.o
./out/bench list >/dev/null
rm -rf out
