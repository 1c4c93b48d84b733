//! The sentry's own host syscalls that nix does not wrap, and byte views of
//! the kernel's plain-data structs. All `unsafe` of the sentry outside the
//! platform lives here.

use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

pub use crate::sandbox::sys::{kill_pidfd, pidfd_open};

/// Plain old data: a `repr(C)` kernel struct (or an array of them) made of
/// integers only, with no references, for which every bit pattern is a
/// valid value. The bound of [`struct_bytes`], [`struct_from_bytes`] and
/// [`zeroed`], which are safe because of it.
///
/// # Safety
///
/// Implement it only for such types: integers, and structs and arrays of
/// them with no pointer, reference, `bool`, `char`, enum or niche field.
/// Padding bytes may be read by [`struct_bytes`]: build values that go to
/// the workload from [`zeroed`] so that they are zero.
pub unsafe trait Pod: Copy {}

// SAFETY: each is a libc repr(C) struct of integer fields (arrays of
// c_char for utsname), valid for any bit pattern.
unsafe impl Pod for libc::stat {}
// SAFETY: as above.
unsafe impl Pod for libc::statx {}
// SAFETY: as above.
unsafe impl Pod for libc::statfs {}
// SAFETY: as above.
unsafe impl Pod for libc::utsname {}
// SAFETY: as above.
unsafe impl Pod for libc::open_how {}
// SAFETY: as above.
unsafe impl Pod for libc::timespec {}
// SAFETY: as above.
unsafe impl Pod for libc::timeval {}
// SAFETY: as above.
unsafe impl Pod for libc::winsize {}
// SAFETY: as above.
unsafe impl Pod for libc::user_regs_struct {}
// SAFETY: as above (seccomp_data inside is integers too).
unsafe impl Pod for libc::seccomp_notif {}
// SAFETY: an integer.
unsafe impl Pod for i64 {}
// SAFETY: an array of Pod values is Pod (no padding between elements).
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// The bytes of a plain-data kernel struct, to copy into workload memory.
pub fn struct_bytes<T: Pod>(v: &T) -> &[u8] {
    // SAFETY: T is Pod (no references; its bytes may be read), and the
    // slice covers exactly the value borrowed for the slice's lifetime.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
}

/// Builds a plain-data struct from bytes read out of workload memory.
pub fn struct_from_bytes<T: Pod>(b: &[u8]) -> Option<T> {
    if b.len() < std::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: b holds at least size_of::<T>() bytes and T is Pod, valid
    // for every bit pattern; read_unaligned copes with b's alignment.
    Some(unsafe { std::ptr::read_unaligned(b.as_ptr().cast::<T>()) })
}

/// A zeroed plain-data struct.
pub fn zeroed<T: Pod>() -> T {
    // SAFETY: T is Pod, so all-zero bytes are a valid value.
    unsafe { std::mem::zeroed() }
}

/// `struct pidfd_info` up to PIDFD_INFO_SIZE_VER0 (64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PidfdInfo {
    pub mask: u64,
    pub cgroupid: u64,
    pub pid: u32,
    pub tgid: u32,
    pub ppid: u32,
    pub ruid: u32,
    pub rgid: u32,
    pub euid: u32,
    pub egid: u32,
    pub suid: u32,
    pub sgid: u32,
    pub fsuid: u32,
    pub fsgid: u32,
    pub exit_code: i32,
}

/// NS_GET_PARENT = _IO(NSIO 0xb7, 0x2) (linux/nsfs.h): the parent of a
/// user (or pid) namespace, as a new fd.
pub const NS_GET_PARENT: u64 = 0xb702;

/// The parent of the user namespace open at `ns`; EPERM once the parent
/// is outside the caller's own user namespace (the top was reached).
pub fn ns_get_parent(ns: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    // SAFETY: NS_GET_PARENT takes no argument and returns a new fd or -1.
    let r = unsafe { libc::ioctl(ns.as_raw_fd(), NS_GET_PARENT as _) };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this new fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// PIDFD_GET_INFO = _IOWR(PIDFS_IOCTL_MAGIC 0xFF, 11, 64 bytes).
pub const PIDFD_GET_INFO: u64 = 0xC040_FF0B;
const PIDFD_INFO_PID: u64 = 1;
const PIDFD_INFO_CREDS: u64 = 2;

/// The pidfds a worker opened while answering its current request, by
/// tid, each with its pidfs inode once asked. Every look at one task
/// within a request (its identity, ids, credentials, fds) is then of the
/// same task through one pidfd, as if it all happened at the first look:
/// a task that dies or is reaped meanwhile is seen alive by this request
/// only, which a concurrent exit may always get. Only between
/// `RequestScope::begin` and its drop; elsewhere every call opens its own.
#[derive(Default)]
struct RequestPidfds {
    active: bool,
    fds: Vec<(i32, std::rc::Rc<OwnedFd>, Option<u64>)>,
}

/// Pidfds kept per request at most (a listing of /proc looks at every
/// task once; those beyond are opened and closed as before).
const REQUEST_PIDFDS_KEPT: usize = 16;

thread_local! {
    static REQUEST_PIDFDS: std::cell::RefCell<RequestPidfds> = Default::default();
}

/// The span of one request's answer on this thread (see `RequestPidfds`).
pub struct RequestScope(());

impl RequestScope {
    pub fn begin() -> RequestScope {
        REQUEST_PIDFDS.with(|m| {
            let mut m = m.borrow_mut();
            m.fds.clear();
            m.active = true;
        });
        RequestScope(())
    }
}

impl Drop for RequestScope {
    fn drop(&mut self) {
        REQUEST_PIDFDS.with(|m| {
            let mut m = m.borrow_mut();
            m.active = false;
            m.fds.clear();
        });
    }
}

/// A pidfd for thread `tid`: this request's, else a new one.
fn task_pidfd(tid: i32) -> Result<std::rc::Rc<OwnedFd>, Errno> {
    let kept = REQUEST_PIDFDS.with(|m| {
        let m = m.borrow();
        m.fds
            .iter()
            .find(|(t, _, _)| *t == tid)
            .map(|(_, fd, _)| std::rc::Rc::clone(fd))
    });
    if let Some(fd) = kept {
        return Ok(fd);
    }
    let fd = std::rc::Rc::new(pidfd_open_thread(tid)?);
    REQUEST_PIDFDS.with(|m| {
        let mut m = m.borrow_mut();
        if m.active && m.fds.len() < REQUEST_PIDFDS_KEPT {
            m.fds.push((tid, std::rc::Rc::clone(&fd), None));
        }
    });
    Ok(fd)
}

/// The pidfs inode of host thread `tid`: which task the tid names (unique
/// for the host's uptime).
pub fn task_identity(tid: i32) -> Result<u64, Errno> {
    let known = REQUEST_PIDFDS.with(|m| {
        m.borrow()
            .fds
            .iter()
            .find(|(t, _, _)| *t == tid)
            .and_then(|(_, _, ino)| *ino)
    });
    if let Some(ino) = known {
        return Ok(ino);
    }
    let ino = fstat_fd(task_pidfd(tid)?.as_fd())?.st_ino;
    REQUEST_PIDFDS.with(|m| {
        if let Some(e) = m.borrow_mut().fds.iter_mut().find(|(t, _, _)| *t == tid) {
            e.2 = Some(ino);
        }
    });
    Ok(ino)
}

/// A thread's pid, tgid and credentials from its pidfd.
pub fn pidfd_info(tid: i32) -> Result<PidfdInfo, Errno> {
    let pidfd = task_pidfd(tid)?;
    let mut info = PidfdInfo {
        mask: PIDFD_INFO_PID | PIDFD_INFO_CREDS,
        ..Default::default()
    };
    // SAFETY: the ioctl writes at most 64 bytes (the size encoded in the
    // request) into `info`, which is that large and ours.
    let r = unsafe {
        libc::ioctl(
            pidfd.as_raw_fd(),
            PIDFD_GET_INFO as _,
            &mut info as *mut PidfdInfo,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    if info.mask & PIDFD_INFO_CREDS == 0 {
        return Err(Errno::ENOTSUP);
    }
    Ok(info)
}

/// pidfd_open(tid, PIDFD_THREAD): a pidfd for one thread (Linux 6.9+).
pub fn pidfd_open_thread(tid: i32) -> Result<OwnedFd, Errno> {
    const PIDFD_THREAD: libc::c_uint = libc::O_EXCL as libc::c_uint;
    // SAFETY: pidfd_open takes two integers; nix and libc lack a wrapper.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, tid, PIDFD_THREAD) };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel returned a new fd that only we own.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

/// pidfd_getfd: a duplicate of the workload's fd `fd` (same open file
/// description, so offsets are shared).
pub fn getfd(tid: i32, fd: i32) -> Result<OwnedFd, Errno> {
    let pidfd = task_pidfd(tid).map_err(|_| Errno::ESRCH)?;
    // SAFETY: pidfd_getfd takes integers; no wrapper exists.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    if r < 0 {
        return Err(match Errno::last() {
            Errno::EBADF => Errno::EBADF,
            e => e,
        });
    }
    // SAFETY: a new fd that only we own.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

/// kcmp(2) of tasks `tid1` and `tid2` for resource `kind` (and the fds
/// `idx1`, `idx2` where the kind names one): true when they are the same.
fn kcmp(tid1: i32, tid2: i32, kind: libc::c_long, idx1: i32, idx2: i32) -> bool {
    // SAFETY: kcmp takes integers only.
    let r = unsafe {
        libc::syscall(
            libc::SYS_kcmp,
            libc::c_long::from(tid1),
            libc::c_long::from(tid2),
            kind,
            libc::c_long::from(idx1),
            libc::c_long::from(idx2),
        )
    };
    r == 0
}

/// Whether fd `fd1` of task `tid1` and fd `fd2` of task `tid2` are the
/// same open file description (KCMP_FILE).
pub fn same_open_file(tid1: i32, fd1: i32, tid2: i32, fd2: i32) -> bool {
    kcmp(tid1, tid2, 0, fd1, fd2)
}

/// Whether tasks `tid1` and `tid2` share one fs (cwd, root and umask:
/// KCMP_FS); false when either is gone.
pub fn same_fs(tid1: i32, tid2: i32) -> bool {
    tid1 == tid2 || kcmp(tid1, tid2, 3, 0, 0)
}

/// Whether tasks `tid1` and `tid2` share one file descriptor table
/// (KCMP_FILES).
pub fn same_fd_table(tid1: i32, tid2: i32) -> bool {
    kcmp(tid1, tid2, 2, 0, 0)
}

/// Runs `op` on a path that leads to host task `tid`'s fd `fd`: its
/// /proc link, or, when the sentry may not search the task's fd directory
/// (0500 and the task's owner's; the sentry holds no CAP_DAC_READ_SEARCH),
/// the /proc link of a duplicate taken with pidfd_getfd (which needs only
/// ptrace access, and the sentry's euid, the sandbox's owner uid, owns
/// the workload's user namespace). The duplicate is the same open file description: a stat,
/// readlink, statfs or reopen through it sees what the task's link shows.
/// ENOENT when the fd is not open, either way.
pub fn with_task_fd_path<R>(
    tid: i32,
    fd: i32,
    op: impl Fn(&std::path::Path) -> std::io::Result<R>,
) -> std::io::Result<R> {
    with_task_fd(tid, fd, &op, |dup| {
        op(std::path::Path::new(&format!(
            "/proc/self/fd/{}",
            dup.as_raw_fd()
        )))
    })
}

/// Set once the sentry's /proc refused it a task's fd directory (EACCES:
/// the workload runs under host ids other than the sentry's). From then
/// on fds are reached by pidfd_getfd at once, instead of after the same
/// failed lookup each time (every fstat of the workload is one).
static FD_DIRS_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// As `with_task_fd_path`, with `by_fd` for the duplicate itself (an
/// fstat needs no path).
fn with_task_fd<R>(
    tid: i32,
    fd: i32,
    by_path: impl Fn(&std::path::Path) -> std::io::Result<R>,
    by_fd: impl Fn(BorrowedFd<'_>) -> std::io::Result<R>,
) -> std::io::Result<R> {
    use std::sync::atomic::Ordering;
    if fd < 0 {
        return Err(Errno::ENOENT.into());
    }
    if !FD_DIRS_CLOSED.load(Ordering::Relaxed) {
        // The link first: one lookup, where the duplicate costs a pidfd,
        // pidfd_getfd and a close.
        let direct = format!("/proc/{tid}/fd/{fd}");
        match by_path(std::path::Path::new(&direct)) {
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
                FD_DIRS_CLOSED.store(true, Ordering::Relaxed);
            }
            other => return other,
        }
    }
    let dup = getfd(tid, fd).map_err(|e| match e {
        Errno::EBADF => Errno::ENOENT,
        e => e,
    })?;
    by_fd(dup.as_fd())
}

/// stat of the caller's fd through its /proc link, or of a duplicate once
/// /proc refuses the link (`with_task_fd`); EBADF when it is not open.
pub fn stat_caller_fd(tid: i32, fd: i32) -> Result<libc::stat, Errno> {
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    with_task_fd(
        tid,
        fd,
        |path| {
            let path = path_cstring(path)?;
            let mut st: libc::stat = zeroed();
            // SAFETY: a NUL-terminated path and a valid out pointer.
            if unsafe { libc::stat(path.as_ptr(), &mut st) } < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(st)
        },
        |dup| fstat_fd(dup).map_err(std::io::Error::from),
    )
    .map_err(|e| match errno_of(&e) {
        Errno::ENOENT => Errno::EBADF,
        e => e,
    })
}

/// A path as a C string (the /proc paths formed here hold no NUL).
fn path_cstring(path: &std::path::Path) -> std::io::Result<std::ffi::CString> {
    std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| Errno::EINVAL.into())
}

/// The errno of an I/O error: its own, else the one its kind names
/// (ENOENT, EACCES), else EIO. The one converter from `std::io::Error`
/// in the sentry.
pub fn errno_of(e: &std::io::Error) -> Errno {
    match e.raw_os_error() {
        Some(code) => Errno::from_raw(code),
        None => match e.kind() {
            std::io::ErrorKind::NotFound => Errno::ENOENT,
            std::io::ErrorKind::PermissionDenied => Errno::EACCES,
            _ => Errno::EIO,
        },
    }
}

/// The errno of an I/O error from reading a task's files in the host's
/// /proc: a task that exited between the lookup and the read makes the
/// kernel answer ESRCH, which the workload sees as a missing file (ENOENT),
/// as it would if it had looked a moment later.
pub fn task_file_errno(e: &std::io::Error) -> Errno {
    match errno_of(e) {
        Errno::ESRCH => Errno::ENOENT,
        other => other,
    }
}

/// fstatat(fd, "", AT_EMPTY_PATH | flags).
pub fn fstat_fd(fd: BorrowedFd<'_>) -> Result<libc::stat, Errno> {
    let mut st: libc::stat = zeroed();
    // SAFETY: "" is a valid C string; st is a valid out pointer.
    let r = unsafe {
        libc::fstatat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            &mut st,
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(st)
    }
}

pub fn statx_fd(fd: BorrowedFd<'_>, flags: i32, mask: u32) -> Result<libc::statx, Errno> {
    statx_at(fd, c"", libc::AT_EMPTY_PATH | flags, mask)
}

/// statx of `name` in the directory `dir`, never following a last symlink.
pub fn statx_at(
    dir: BorrowedFd<'_>,
    name: &std::ffi::CStr,
    flags: i32,
    mask: u32,
) -> Result<libc::statx, Errno> {
    let mut st: libc::statx = zeroed();
    let flags =
        libc::AT_SYMLINK_NOFOLLOW | (flags & (libc::AT_EMPTY_PATH | libc::AT_STATX_SYNC_TYPE));
    // SAFETY: name is a valid C string; st is a valid out pointer.
    let r = unsafe { libc::statx(dir.as_raw_fd(), name.as_ptr(), flags, mask, &mut st) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(st)
    }
}

/// fstatat(dir, name, AT_SYMLINK_NOFOLLOW): one name in a directory.
pub fn fstatat_nofollow(dir: BorrowedFd<'_>, name: &CStr) -> Result<libc::stat, Errno> {
    let mut st: libc::stat = zeroed();
    // SAFETY: a NUL-terminated name and a valid out pointer; dir is open.
    let r = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(st)
    }
}

/// statx of the caller's fd through its /proc link (followed: it leads to
/// the open file) or of a duplicate, as `stat_caller_fd`; only the
/// sync-type bits of `flags` apply.
pub fn statx_caller_fd(tid: i32, fd: i32, flags: i32, mask: u32) -> Result<libc::statx, Errno> {
    let sync = flags & libc::AT_STATX_SYNC_TYPE;
    with_task_fd(
        tid,
        fd,
        |path| {
            let path = path_cstring(path)?;
            let mut st: libc::statx = zeroed();
            // SAFETY: a NUL-terminated path and a valid out pointer.
            let r = unsafe { libc::statx(libc::AT_FDCWD, path.as_ptr(), sync, mask, &mut st) };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(st)
        },
        |dup| statx_fd(dup, sync, mask).map_err(std::io::Error::from),
    )
    .map_err(|e| errno_of(&e))
}

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog): installs one filter on
/// the calling thread (all threads with TSYNC); with
/// SECCOMP_FILTER_FLAG_NEW_LISTENER, the listener fd it returns.
pub fn seccomp_set_mode_filter(
    prog: &[libc::sock_filter],
    flags: libc::c_ulong,
) -> Result<Option<OwnedFd>, std::io::Error> {
    let fprog = libc::sock_fprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_ptr().cast_mut(),
    };
    // SAFETY: `fprog` points at `prog`, a live slice of `len` instructions;
    // the kernel copies the program during the call and does not keep the
    // pointer (nor write through it).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &fprog as *const libc::sock_fprog,
        )
    };
    if ret < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if flags & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
        return Ok(None);
    }
    // SAFETY: with NEW_LISTENER, a successful seccomp() returns a new fd
    // that nothing else owns.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) }))
}

/// Whether the file has a POSIX access ACL (which may refuse a user what
/// its mode grants others). Unknown counts as yes. An open fd is asked
/// directly; an O_PATH one (which the xattr calls refuse: EBADF) through
/// its /proc link.
pub fn has_access_acl(fd: BorrowedFd<'_>) -> bool {
    const ACCESS_ACL: &std::ffi::CStr = c"system.posix_acl_access";
    // SAFETY: fd is open; a NUL-terminated name; size 0 with a null
    // buffer only returns the value's size.
    let r =
        unsafe { libc::fgetxattr(fd.as_raw_fd(), ACCESS_ACL.as_ptr(), std::ptr::null_mut(), 0) };
    let r = if r < 0 && Errno::last() == Errno::EBADF {
        let Ok(link) = std::ffi::CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())) else {
            return true;
        };
        // SAFETY: as above, with a NUL-terminated path.
        unsafe { libc::getxattr(link.as_ptr(), ACCESS_ACL.as_ptr(), std::ptr::null_mut(), 0) }
    } else {
        r
    };
    !(r < 0 && matches!(Errno::last(), Errno::ENODATA | Errno::EOPNOTSUPP))
}

/// Sets an fd's status flags (F_SETFL: O_APPEND, O_NONBLOCK, O_DIRECT,
/// O_NOATIME, O_ASYNC) to `flags`, clearing the others of them.
pub fn set_status_flags(fd: BorrowedFd<'_>, flags: i32) -> Result<(), Errno> {
    // SAFETY: F_SETFL on an open fd takes a flag word and reads no memory.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags) } < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

pub fn fstatfs(fd: BorrowedFd<'_>) -> Result<libc::statfs, Errno> {
    let mut st: libc::statfs = zeroed();
    // SAFETY: st is a valid out pointer; fd is open.
    if unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) } < 0 {
        Err(Errno::last())
    } else {
        Ok(st)
    }
}

/// readlinkat(fd, "") of an O_PATH|O_NOFOLLOW symlink fd.
pub fn readlink_fd(fd: BorrowedFd<'_>) -> Result<Vec<u8>, Errno> {
    readlink_at(fd, c"")
}

/// readlinkat(dir, name): the target of the symlink `name` in `dir` (the
/// empty name: the symlink an O_PATH|O_NOFOLLOW `dir` refers to).
pub fn readlink_at(dir: BorrowedFd<'_>, name: &CStr) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: buf is writable for its length; name is a valid C string.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(Errno::last());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// openat(dir, name, flags), close-on-exec: the sentry's own synthetic
/// directory fds, and the names it opens read-only in cached gofer
/// directories (directfs, `syscalls::file`).
pub fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: name is a valid C string; the returned fd is new and ours.
    let r = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | libc::O_CLOEXEC) };
    if r < 0 {
        Err(Errno::last())
    } else {
        // SAFETY: a new fd that only we own.
        Ok(unsafe { OwnedFd::from_raw_fd(r) })
    }
}

pub fn lseek(fd: BorrowedFd<'_>, off: i64, whence: i32) -> Result<i64, Errno> {
    // SAFETY: lseek takes integers.
    let r = unsafe { libc::lseek(fd.as_raw_fd(), off, whence) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// pidfd_send_signal with a siginfo (`info`: the 128-byte struct as ints).
pub fn pidfd_send_signal(pidfd: &OwnedFd, sig: i32, info: &[i32; 32]) -> Result<(), Errno> {
    // SAFETY: `info` is a 128-byte siginfo the kernel only reads.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            info.as_ptr(),
            0,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// A u32 in the memory of host process `pid`.
pub fn read_u32(pid: i32, addr: u64) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    let mut local = [std::io::IoSliceMut::new(&mut b)];
    let remote = [nix::sys::uio::RemoteIoVec {
        base: addr as usize,
        len: 4,
    }];
    let n = nix::sys::uio::process_vm_readv(nix::unistd::Pid::from_raw(pid), &mut local, &remote)?;
    if n < 4 {
        return Err(Errno::EFAULT);
    }
    Ok(u32::from_ne_bytes(b))
}

/// uname(2) of the host, for the fields the container shares with it.
pub fn host_uname() -> libc::utsname {
    let mut u: libc::utsname = zeroed();
    // SAFETY: u is a valid out pointer.
    unsafe { libc::uname(&mut u) };
    u
}

/// getsockopt(SO_DOMAIN): the address family of socket `fd`.
pub fn socket_domain(fd: BorrowedFd<'_>) -> Result<i32, Errno> {
    let mut domain: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `domain` and `len` are valid out pointers of the sizes given.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_DOMAIN,
            (&mut domain as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(domain)
}

/// getsockopt(SO_PEERCRED) of a socket of the sentry's: the peer's pid in
/// the sentry's pid namespace and its uid and gid.
pub fn peercred(fd: BorrowedFd<'_>) -> Result<libc::ucred, Errno> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid out pointers of the sizes given.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(cred)
}

/// socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG), close-on-exec.
pub fn netlink_diag_socket() -> Result<OwnedFd, Errno> {
    // SAFETY: socket takes integers.
    let r = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: a new fd that only we own.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// The inode of the peer of AF_UNIX socket `ino` (unix_diag's
/// UNIX_DIAG_PEER), asked on the NETLINK_SOCK_DIAG socket `diag`; None
/// when it has none. `seq` tells this request's answer from a stale one.
pub fn unix_diag_peer(diag: BorrowedFd<'_>, ino: u32, seq: u32) -> Result<Option<u32>, Errno> {
    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const NLMSG_ERROR: u16 = 2;
    const UDIAG_SHOW_PEER: u32 = 4;
    const UNIX_DIAG_PEER: u16 = 2;
    // struct nlmsghdr, then struct unix_diag_req.
    let mut req = Vec::with_capacity(40);
    req.extend_from_slice(&40u32.to_ne_bytes());
    req.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req.extend_from_slice(&(libc::NLM_F_REQUEST as u16).to_ne_bytes());
    req.extend_from_slice(&seq.to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes());
    req.extend_from_slice(&[libc::AF_UNIX as u8, 0, 0, 0]);
    req.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    req.extend_from_slice(&ino.to_ne_bytes());
    req.extend_from_slice(&UDIAG_SHOW_PEER.to_ne_bytes());
    req.extend_from_slice(&[0xff; 8]); // INET_DIAG_NOCOOKIE
                                       // SAFETY: `req` is a readable buffer of its length.
    let r = unsafe { libc::write(diag.as_raw_fd(), req.as_ptr().cast(), req.len()) };
    if r < 0 {
        return Err(Errno::last());
    }
    let mut buf = vec![0u8; 8192];
    loop {
        // SAFETY: `buf` is a writable buffer of its length.
        let n = unsafe { libc::read(diag.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            return Err(Errno::last());
        }
        let msg = &buf[..n as usize];
        let u16_at = |o: usize| msg.get(o..o + 2).map(|b| u16::from_ne_bytes([b[0], b[1]]));
        let u32_at = |o: usize| {
            msg.get(o..o + 4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        let len = u32_at(0).ok_or(Errno::EIO)? as usize;
        let kind = u16_at(4).ok_or(Errno::EIO)?;
        if u32_at(8) != Some(seq) {
            continue;
        }
        if kind == NLMSG_ERROR {
            let e = u32_at(16).ok_or(Errno::EIO)? as i32;
            return Err(Errno::from_raw(-e));
        }
        if kind != SOCK_DIAG_BY_FAMILY {
            return Err(Errno::EIO);
        }
        // Attributes follow the header (16) and struct unix_diag_msg (16).
        let end = len.min(msg.len());
        let mut at = 32;
        while at + 4 <= end {
            let alen = u16_at(at).ok_or(Errno::EIO)? as usize;
            if alen < 4 {
                break;
            }
            if u16_at(at + 2) == Some(UNIX_DIAG_PEER) {
                return Ok(u32_at(at + 4));
            }
            at += (alen + 3) & !3;
        }
        return Ok(None);
    }
}

/// inotify_add_watch(2) of the directory or file `target` (an fd of the
/// sentry's, named through /proc/self/fd) on the inotify instance
/// `inotify`: the watch descriptor.
pub fn inotify_add_watch_fd(
    inotify: BorrowedFd<'_>,
    target: BorrowedFd<'_>,
    mask: u32,
) -> Result<i32, Errno> {
    let path = std::ffi::CString::new(format!("/proc/self/fd/{}", target.as_raw_fd()))
        .map_err(|_| Errno::EINVAL)?;
    // SAFETY: `path` is a valid C string; the call reads nothing else.
    let r = unsafe {
        libc::inotify_add_watch(
            inotify.as_raw_fd(),
            path.as_ptr(),
            mask & !libc::IN_DONT_FOLLOW,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(r)
}

/// The window size of the terminal `fd` (TIOCGWINSZ), for the front end's
/// terminal proxy (`runsc::tty`).
pub fn get_winsize(fd: BorrowedFd<'_>) -> Result<libc::winsize, Errno> {
    let mut ws: libc::winsize = zeroed();
    // SAFETY: TIOCGWINSZ writes one winsize into `ws`, which outlives the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    Errno::result(r).map(|_| ws)
}

/// Sets the window size of the terminal `fd` (TIOCSWINSZ).
pub fn set_winsize(fd: BorrowedFd<'_>, ws: &libc::winsize) -> Result<(), Errno> {
    // SAFETY: TIOCSWINSZ reads one winsize from `ws`, valid for the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, ws) };
    Errno::result(r).map(drop)
}

/// inotify_init1(IN_CLOEXEC): a new inotify instance (for tests that play
/// the workload; the sentry itself never makes one).
#[cfg(test)]
pub fn inotify_init() -> Result<OwnedFd, Errno> {
    // SAFETY: inotify_init1 takes one integer; the fd it returns is new
    // and only ours. (nix has it behind a feature we do not build.)
    let r = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: as above.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// SECCOMP_IOCTL_NOTIF_SET_FLAGS on a listener.
pub fn notif_set_flags(listener: BorrowedFd<'_>, flags: u64) -> Result<(), Errno> {
    // SAFETY: SET_FLAGS takes the flags by value.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS as _,
            flags,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// Moves the calling thread to SCHED_IDLE (see `sentry::warm`). There is
/// no way back without CAP_SYS_NICE or an RLIMIT_NICE the sentry lacks.
pub fn set_own_policy_idle() -> Result<(), Errno> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: pid 0 is the calling thread; `param` is a valid sched_param
    // that the kernel only reads during the call.
    let r = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// SECCOMP_IOCTL_NOTIF_ID_VALID: whether notification `id` is pending.
pub fn notif_id_valid(listener: BorrowedFd<'_>, id: u64) -> bool {
    let mut id = id;
    // SAFETY: ID_VALID reads a u64 from a valid pointer.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ID_VALID as _,
            &mut id,
        ) == 0
    }
}

/// SECCOMP_IOCTL_NOTIF_RECV: the next notification.
pub fn notif_recv(listener: BorrowedFd<'_>) -> Result<libc::seccomp_notif, Errno> {
    // RECV requires the struct zeroed.
    let mut notif: libc::seccomp_notif = zeroed();
    // SAFETY: RECV writes a seccomp_notif to a valid pointer.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_RECV as _,
            &mut notif as *mut libc::seccomp_notif,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(notif)
    }
}

/// SECCOMP_IOCTL_NOTIF_SEND: the answer to a notification.
pub fn notif_send(listener: BorrowedFd<'_>, resp: &libc::seccomp_notif_resp) -> Result<(), Errno> {
    let mut resp = *resp;
    // SAFETY: SEND reads a seccomp_notif_resp from a valid pointer.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND as _,
            &mut resp as *mut libc::seccomp_notif_resp,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// SECCOMP_IOCTL_NOTIF_ADDFD: installs `addfd.srcfd` in the notifying
/// task; the fd number it got.
pub fn notif_addfd(
    listener: BorrowedFd<'_>,
    addfd: &libc::seccomp_notif_addfd,
) -> Result<i32, Errno> {
    let mut addfd = *addfd;
    // SAFETY: ADDFD reads a seccomp_notif_addfd from a valid pointer; the
    // caller keeps srcfd open for the call.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ADDFD as _,
            &mut addfd as *mut libc::seccomp_notif_addfd,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// The first bytes (at most 64) of `path` as a process of the pid
/// namespace `pid_ns` reads them: for the sysctls whose value is the
/// reader's pid namespace's (kernel/pid_max). A child joins the namespace
/// for its children and forks a grandchild into it, which reads the file
/// and writes the bytes into a pipe.
pub fn read_in_pid_namespace(pid_ns: BorrowedFd<'_>, path: &CStr) -> Result<Vec<u8>, Errno> {
    use std::io::Read as _;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: the child and the grandchild call only async-signal-safe
    // functions (setns, fork, open, read, write, waitpid, _exit) on memory
    // they own, and always end in _exit, so forking a multi-threaded
    // process is sound.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(Errno::last());
    }
    if child == 0 {
        // SAFETY: see above; `pid_ns`, `path` and `w` stay valid in the
        // copy of the address space.
        unsafe {
            if libc::setns(pid_ns.as_raw_fd(), libc::CLONE_NEWPID) != 0 {
                libc::_exit(1);
            }
            let grandchild = libc::fork();
            if grandchild < 0 {
                libc::_exit(2);
            }
            if grandchild == 0 {
                let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                let mut buf = [0u8; 64];
                let n = if fd < 0 {
                    -1
                } else {
                    libc::read(fd, buf.as_mut_ptr().cast(), buf.len())
                };
                if n <= 0 || libc::write(w.as_raw_fd(), buf.as_ptr().cast(), n as usize) != n {
                    libc::_exit(3);
                }
                libc::_exit(0);
            }
            let mut status = 0;
            if libc::waitpid(grandchild, &mut status, 0) != grandchild || !libc::WIFEXITED(status) {
                libc::_exit(4);
            }
            libc::_exit(libc::WEXITSTATUS(status));
        }
    }
    drop(w);
    let mut out = Vec::new();
    let read = std::fs::File::from(r).read_to_end(&mut out);
    let waited = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child), None)?;
    match (read, waited) {
        (Ok(_), nix::sys::wait::WaitStatus::Exited(_, 0)) => Ok(out),
        _ => Err(Errno::EIO),
    }
}

/// pidfd_send_signal(2) from the sentry to the thread group of host task
/// `htid` (that thread alone with PIDFD_SIGNAL_THREAD): `sig` (0: only
/// the kernel's checks), with the caller's siginfo (`info`, 128 bytes;
/// None: the kernel's own) and `flags` (0: the thread group).
pub fn send_signal(htid: i32, sig: i32, info: Option<&[u8]>, flags: u32) -> Result<(), Errno> {
    const PIDFD_SIGNAL_THREAD_GROUP: u32 = 2;
    let info = match info {
        Some(b) if b.len() >= std::mem::size_of::<libc::siginfo_t>() => b.as_ptr(),
        Some(_) => return Err(Errno::EFAULT),
        None => std::ptr::null(),
    };
    let flags = if flags == 0 {
        PIDFD_SIGNAL_THREAD_GROUP
    } else {
        flags
    };
    let pidfd = task_pidfd(htid)?;
    // SAFETY: integers, and `info` null or pointing to a siginfo_t's size
    // of bytes we own, which the kernel only reads.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            info,
            flags,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Within a request every look at one task goes through one pidfd, and
    /// the pidfds are closed when the request ends; outside one, each call
    /// opens its own.
    #[test]
    fn one_pidfd_per_task_and_request() {
        let me = nix::unistd::gettid().as_raw();
        let outside = (
            task_pidfd(me).expect("pidfd"),
            task_pidfd(me).expect("pidfd"),
        );
        assert!(!std::rc::Rc::ptr_eq(&outside.0, &outside.1));
        let kept = {
            let _scope = RequestScope::begin();
            let first = task_pidfd(me).expect("pidfd");
            assert!(std::rc::Rc::ptr_eq(&first, &task_pidfd(me).expect("pidfd")));
            assert_eq!(
                task_identity(me).expect("identity"),
                fstat_fd(first.as_fd()).expect("fstat").st_ino
            );
            assert!(pidfd_info(me).is_ok_and(|i| i.tgid == std::process::id()));
            std::rc::Rc::downgrade(&first)
        };
        assert!(kept.upgrade().is_none(), "the request's pidfd is closed");
        assert!(task_identity(i32::MAX).is_err());
    }

    /// A caller's fd stats the same through its /proc link and through a
    /// duplicate (the route once the sentry's /proc refuses the link), and
    /// a closed fd is EBADF either way.
    #[test]
    fn a_callers_fd_stats_alike_by_link_and_by_duplicate() {
        use std::sync::atomic::Ordering;
        let me = nix::unistd::gettid().as_raw();
        let file = std::fs::File::open("/proc/self/exe").expect("open");
        let fd = file.as_raw_fd();
        let want = fstat_fd(file.as_fd()).expect("fstat");
        // Above any fd limit: never open (a freed number could be reused
        // by a test running alongside).
        let closed = 1 << 30;
        for dirs_closed in [false, true] {
            FD_DIRS_CLOSED.store(dirs_closed, Ordering::Relaxed);
            let st = stat_caller_fd(me, fd).expect("stat_caller_fd");
            assert_eq!(
                (st.st_dev, st.st_ino, st.st_size),
                (want.st_dev, want.st_ino, want.st_size)
            );
            let stx = statx_caller_fd(me, fd, 0, libc::STATX_BASIC_STATS).expect("statx_caller_fd");
            assert_eq!(stx.stx_ino, want.st_ino);
            assert_eq!(stat_caller_fd(me, closed).err(), Some(Errno::EBADF));
        }
        FD_DIRS_CLOSED.store(false, Ordering::Relaxed);
    }
}
