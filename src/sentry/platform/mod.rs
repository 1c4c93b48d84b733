//! How an intercepted syscall reaches the sentry. Nothing above this module
//! branches on the mechanism: handlers see a `SyscallRequest`, read and
//! write the caller's memory through the platform, and return a `Response`.

pub mod ptrace;
pub mod seccomp_notify;

use std::os::fd::OwnedFd;

use nix::errno::Errno;

/// One intercepted syscall.
#[derive(Clone, Copy, Debug)]
pub struct SyscallRequest {
    /// Platform cookie: the seccomp notification id, or the ptrace
    /// platform's number for one seccomp stop.
    pub id: u64,
    /// The calling thread, in the sentry's (host) pid namespace.
    pub tid: i32,
    pub nr: u32,
    pub args: [u64; 6],
    /// When the sentry received it (the seccomp platform's guard against
    /// pid reuse, see `SeccompNotify::known_live`).
    pub received: std::time::Instant,
}

/// The answer to an intercepted syscall.
pub enum Response {
    /// The syscall returns this (non-negative) value.
    Value(i64),
    /// The syscall fails with this errno.
    Errno(Errno),
    /// Install `fd` in the caller's table and return its number.
    InstallFd { fd: OwnedFd, cloexec: bool },
    /// Let the kernel perform the syscall as issued.
    Continue,
}

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("receive notification: {0}")]
    Recv(Errno),
    #[error("answer notification: {0}")]
    Send(Errno),
    #[error("set listener flags: {0}")]
    SetFlags(Errno),
    #[error("attach to the workload (PTRACE_SEIZE): {0}")]
    Seize(Errno),
}

pub trait Platform: Send + Sync {
    /// Blocks until the next intercepted syscall; `Ok(None)` when a wait was
    /// interrupted without one (the caller just waits again).
    fn wait(&self) -> Result<Option<SyscallRequest>, PlatformError>;

    /// Whether no task can ever send a request again (all exited).
    fn hung_up(&self) -> bool;

    /// Reads the caller's memory at `addr`. Returns how many bytes were read
    /// (short at an unmapped page). Checks afterwards that the request is
    /// still live, so that the bytes belong to the task that asked.
    fn read_memory(&self, req: &SyscallRequest, addr: u64, buf: &mut [u8]) -> Result<usize, Errno>;

    /// Writes into the caller's memory; EFAULT when not all of it could be.
    fn write_memory(&self, req: &SyscallRequest, addr: u64, data: &[u8]) -> Result<(), Errno>;

    /// Answers the request. For `InstallFd`, returns the fd number the
    /// caller got.
    fn respond(&self, req: &SyscallRequest, resp: Response) -> Result<i64, PlatformError>;
}

/// Reads a NUL-terminated string of at most `max` bytes (PATH_MAX for
/// paths) one page at a time, so a string that ends just before an
/// unmapped page is still read, and never word by word.
pub fn read_cstring(
    p: &dyn Platform,
    req: &SyscallRequest,
    addr: u64,
    max: usize,
) -> Result<Vec<u8>, Errno> {
    if addr == 0 {
        return Err(Errno::EFAULT);
    }
    const PAGE: u64 = 4096;
    // Most paths are short: copying the rest of the page costs more than
    // a second read for the rare long one.
    const FIRST: usize = 256;
    let mut out = Vec::new();
    let mut cur = addr;
    let mut page = [0u8; PAGE as usize];
    loop {
        let mut room = (PAGE - cur % PAGE) as usize;
        if out.is_empty() {
            room = room.min(FIRST);
        }
        let want = room.min(max + 1 - out.len());
        let buf = &mut page[..want];
        let n = p.read_memory(req, cur, buf)?;
        if n == 0 {
            return Err(Errno::EFAULT);
        }
        if let Some(end) = buf[..n].iter().position(|b| *b == 0) {
            out.extend_from_slice(&buf[..end]);
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() > max {
            return Err(Errno::ENAMETOOLONG);
        }
        if n < want {
            return Err(Errno::EFAULT);
        }
        cur += n as u64;
    }
}
