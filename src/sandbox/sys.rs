//! The host calls every role makes on a process it serves: a pidfd for
//! the container's init, and SIGKILL through it (fail closed).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

/// pidfd_open(pid, 0): a pidfd for a process (its thread-group leader).
pub fn pidfd_open(pid: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes two integers; nix and libc lack a wrapper.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel returned a new fd that only we own.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

/// pidfd_send_signal(SIGKILL): ends the workload when the sandbox fails.
pub fn kill_pidfd(pidfd: &OwnedFd) {
    // SAFETY: integers and a null siginfo, as the man page allows.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
}
