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

/// The most fds `--preserve-fds` may pass: they sit below the ptrace
/// platform's reserved fd (1023), init's copies one higher.
pub const MAX_PRESERVED_FDS: u32 = 1000;

/// runc's `--preserve-fds N`: the caller's fds 3..3+N must each be open
/// (runc stats them first); the error is runc's.
pub fn check_preserved_fds(n: u32) -> Result<(), String> {
    if n > MAX_PRESERVED_FDS {
        return Err(format!(
            "--preserve-fds {n}: at most {MAX_PRESERVED_FDS} fds can be preserved"
        ));
    }
    for i in 0..n {
        let fd = super::FIRST_ROLE_FD + i as i32;
        // SAFETY: F_GETFD takes no argument and only reads the fd table.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(format!(
                "unable to stat preserved-fd {i} (of {n}): stat /proc/self/fd/{fd}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// Marks fds `first`..`first`+`n` close-on-exec: init holds the preserved
/// fds so while it sets up, and a startContainer hook it forks does not
/// inherit them (runc's hooks do not either).
pub fn set_cloexec(first: i32, n: u32) -> Result<(), Errno> {
    for fd in first..first + n as i32 {
        // SAFETY: F_SETFD with an int flag on a number of our fd table; a
        // closed one is EBADF.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
            return Err(Errno::last());
        }
    }
    Ok(())
}

/// Moves fds `from`..`from`+`n` down to `to`..`to`+`n` (`to` < `from`),
/// without close-on-exec, and closes what is left above: the preserved
/// fds where runc puts them, at 3.. for the program's execve.
pub fn place_fds(from: i32, to: i32, n: u32) -> Result<(), Errno> {
    for i in 0..n as i32 {
        // SAFETY: dup2 between numbers of our own fd table; ascending, so
        // each source is still open when it is copied (to < from).
        if unsafe { libc::dup2(from + i, to + i) } < 0 {
            return Err(Errno::last());
        }
    }
    for fd in (to + n as i32).max(from)..from + n as i32 {
        // SAFETY: closes the copies' sources left above the moved range.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

/// mount_setattr(path, AT_RECURSIVE): sets `set` and clears `clr`
/// (MOUNT_ATTR_* bits) on the mount at `path` and every mount below it,
/// as runc's recursive mount options (`rro`, `rnosuid`, ...) do.
pub fn mount_setattr_recursive(path: &std::path::Path, set: u64, clr: u64) -> Result<(), Errno> {
    mount_setattr(path, set, clr, true)
}

/// mount_setattr(path): sets `set` and clears `clr` (MOUNT_ATTR_* bits) on
/// the mount at `path`, and with `recursive` on every mount below it.
pub fn mount_setattr(
    path: &std::path::Path,
    set: u64,
    clr: u64,
    recursive: bool,
) -> Result<(), Errno> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
    let attr = libc::mount_attr {
        attr_set: set,
        attr_clr: clr,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: a NUL-terminated path and a mount_attr that outlive the
    // call, with its size; the kernel only reads them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            c.as_ptr(),
            if recursive {
                libc::AT_RECURSIVE as libc::c_uint
            } else {
                0
            },
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Sets the calling thread's effective capabilities to its permitted ones
/// (capget, capset; no allocation, so a forked child may call it).
pub fn raise_effective_to_permitted() -> Result<(), Errno> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    // _LINUX_CAPABILITY_VERSION_3: two data elements.
    let mut header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: a version-3 header and a two-element data array, as capget
    // requires.
    if unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut header as *mut Header,
            data.as_mut_ptr(),
        )
    } != 0
    {
        return Err(Errno::last());
    }
    for d in &mut data {
        d.effective = d.permitted;
    }
    // SAFETY: as above, for capset.
    if unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) } != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// NS_GET_OWNER_UID = _IO(NSIO 0xb7, 0x4) (linux/nsfs.h): the owner uid of
/// the user namespace open at `userns`, in the caller's user namespace.
pub fn ns_owner_uid(userns: std::os::fd::BorrowedFd<'_>) -> Result<u32, Errno> {
    use std::os::fd::AsRawFd;
    const NS_GET_OWNER_UID: u64 = 0xb704;
    let mut uid: libc::uid_t = 0;
    // SAFETY: NS_GET_OWNER_UID writes one uid_t through the pointer, which
    // points at a live local of that type.
    let r = unsafe { libc::ioctl(userns.as_raw_fd(), NS_GET_OWNER_UID as _, &mut uid) };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(uid)
}
