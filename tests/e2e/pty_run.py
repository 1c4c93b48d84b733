#!/usr/bin/env python3
"""Runs a command on a fresh pseudo-terminal (as an interactive user would),
copies everything it writes to our stdout and exits with its exit status.
Used by the e2e tests for `docker run -it` / `docker exec -it`.
Usage: pty_run.py TIMEOUT_SECONDS CMD [ARGS...]"""
import os, pty, select, signal, sys, time

timeout = float(sys.argv[1])
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
deadline = time.monotonic() + timeout
out = bytearray()
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        os.kill(pid, signal.SIGKILL)
        sys.stdout.buffer.write(bytes(out))
        sys.stderr.write(f"pty_run: timed out after {timeout}s\n")
        sys.exit(124)
    r, _, _ = select.select([fd], [], [], min(left, 0.5))
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the slave side is closed
            break
        if not data:
            break
        out += data
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(bytes(out))
sys.stdout.flush()
sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
