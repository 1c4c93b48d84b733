#!/usr/bin/env python3
"""Runs a command on a fresh pseudo-terminal of ROWSxCOLS, types INPUT
into it after a second (as a user at a terminal would), copies everything
it writes to our stdout (carriage returns dropped) and exits with its exit
status. Used by tests/runc_cli.rs for `run` and `exec -t` without
--console-socket.
Usage: pty_io.py TIMEOUT_SECONDS ROWSxCOLS INPUT CMD [ARGS...]
(INPUT takes backslash escapes: \\n, \\x04; a `<resize RxC>` in it
resizes the terminal, which signals SIGWINCH, half a second after the
text before it was typed and half a second before the rest.)"""
import fcntl, os, pty, re, select, signal, struct, sys, termios, time

timeout = float(sys.argv[1])
rows, cols = (int(x) for x in sys.argv[2].split("x"))
# [text, (rows, cols), text, ...]
parts = re.split(r"<resize (\d+)x(\d+)>", sys.argv[3])
steps = []
for i in range(0, len(parts), 3):
    steps.append(parts[i].encode().decode("unicode_escape").encode("latin-1"))
    if i + 2 < len(parts):
        steps.append((int(parts[i + 1]), int(parts[i + 2])))
argv = sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
deadline = time.monotonic() + timeout
next_at = time.monotonic() + 1.0
out = bytearray()
while True:
    now = time.monotonic()
    if now >= deadline:
        os.kill(pid, signal.SIGKILL)
        sys.stdout.buffer.write(bytes(out))
        sys.stderr.write(f"pty_io: timed out after {timeout}s\n")
        sys.exit(124)
    if steps and now >= next_at:
        step = steps.pop(0)
        if isinstance(step, tuple):
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", step[0], step[1], 0, 0))
        else:
            os.write(fd, step)
        next_at = now + 0.5
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
