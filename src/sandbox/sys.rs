//! The host calls every role makes: taking the fds `create` passed it, a
//! pidfd for the container's init, and SIGKILL through it (fail closed).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

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

static ROLE_FDS_TAKEN: AtomicBool = AtomicBool::new(false);

/// The `count` fds `create` passed a role at [`super::FIRST_ROLE_FD`]..,
/// owned from now on. Once per process (a second call is EBUSY: the fds
/// have an owner), and each must be open (EBADF otherwise).
pub fn take_role_fds(count: usize) -> Result<Vec<OwnedFd>, Errno> {
    if ROLE_FDS_TAKEN.swap(true, Ordering::SeqCst) {
        return Err(Errno::EBUSY);
    }
    let fds: Vec<i32> = (0..count)
        .map(|i| super::FIRST_ROLE_FD + i as i32)
        .collect();
    for &fd in &fds {
        // SAFETY: F_GETFD takes no argument and only reads the fd table.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(Errno::last());
        }
    }
    Ok(fds
        .into_iter()
        // SAFETY: the fd is open (checked above), and nothing else in this
        // process owns it: create passed it at exec for this role, and the
        // guard above hands each one out once.
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect())
}

/// Makes `cmd`'s child join `namespaces` (an fd of each, from
/// /proc/<pid>/ns/<name>, and its CLONE_NEW* flag) between fork and exec,
/// so that the program runs in them. The fds are closed in the child by
/// its exec (open them O_CLOEXEC) and in the parent when `cmd` drops.
pub fn join_namespaces_at_exec(
    cmd: &mut std::process::Command,
    namespaces: Vec<(OwnedFd, nix::sched::CloneFlags)>,
) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: the closure runs in the child between fork and exec and only
    // calls setns, which is async-signal-safe, on fds the closure owns.
    unsafe {
        cmd.pre_exec(move || {
            for (fd, flag) in &namespaces {
                nix::sched::setns(fd, *flag).map_err(std::io::Error::from)?;
            }
            Ok(())
        });
    }
}
