#!/usr/bin/env python3
"""Runs a command on a fresh pseudo-terminal of ROWSxCOLS, types INPUT
into it after a second (as a user at a terminal would), copies everything
it writes to our stdout (carriage returns dropped) and exits with its exit
status. Used by tests/runc_cli.rs for `run` and `exec -t` without
--console-socket.
Usage: pty_io.py TIMEOUT_SECONDS ROWSxCOLS INPUT CMD [ARGS...]
(INPUT takes backslash escapes: \\n, \\x04.)"""
import fcntl, os, pty, select, signal, struct, sys, termios, time

timeout = float(sys.argv[1])
rows, cols = (int(x) for x in sys.argv[2].split("x"))
data = sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
argv = sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
deadline = time.monotonic() + timeout
typed_at = time.monotonic() + 1.0
out = bytearray()
while True:
    now = time.monotonic()
    if now >= deadline:
        os.kill(pid, signal.SIGKILL)
        sys.stdout.buffer.write(bytes(out))
        sys.stderr.write(f"pty_io: timed out after {timeout}s\n")
        sys.exit(124)
    if data and now >= typed_at:
        os.write(fd, data)
        data = b""
    r, _, _ = select.select([fd], [], [], 0.2)
    if fd in r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the slave side is closed
            break
        if not chunk:
            break
        out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(bytes(out).replace(b"\r", b""))
sys.stdout.flush()
sys.exit(os.waitstatus_to_exitcode(status))
