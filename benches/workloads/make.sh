#!/bin/sh
# The make job (issue 19): `make -j2` of a real multi-file C project, the
# syscall conformance suite (tests/syscalls: ~50 C files, one header), from
# a copy in /tmp (the spec's tmpfs), then a second make that finds
# everything up to date, a rebuild of one changed file and `make clean`.
# Checks its own results.
set -e
rm -rf /tmp/mk
mkdir /tmp/mk
cp -r /mnt/csrc/. /tmp/mk/
cd /tmp/mk
cat >Makefile <<'MK'
SRCS := $(wildcard *.c)
OBJS := $(SRCS:.c=.o)
conformance: $(OBJS)
	gcc -o $@ $(OBJS)
%.o: %.c harness.h
	gcc -O1 -Wall -c $< -o $@
clean:
	rm -f $(OBJS) conformance
.PHONY: clean
MK
make -s -j2
./conformance --list >/dev/null
[ "$(make -j2 conformance)" = "make: 'conformance' is up to date." ] || { echo "make.sh: not up to date" >&2; exit 1; }
touch open.c
make -s -j2
make -s clean
[ ! -e conformance ] || { echo "make.sh: clean left the binary" >&2; exit 1; }
cd /
rm -rf /tmp/mk
echo "make.sh: ok"
