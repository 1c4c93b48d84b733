//! Thin wrappers over the raw syscalls the gofer needs. All `unsafe` of the
//! gofer (except socket plumbing done through nix) lives here.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

use super::proto::Creds;

/// The empty path, for `AT_EMPTY_PATH` operations on an fd.
pub const EMPTY: &CStr = c"";

fn cvt(r: libc::c_long) -> Result<libc::c_long, Errno> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

fn cvt_int(r: libc::c_int) -> Result<(), Errno> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

fn owned(fd: libc::c_long) -> Result<OwnedFd, Errno> {
    let fd = cvt(fd)?;
    let fd = RawFd::try_from(fd).map_err(|_| Errno::EBADF)?;
    // SAFETY: the kernel just returned this fd to us, it is open and nobody
    // else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// openat(2); retried on EINTR.
pub fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mode: u32) -> Result<OwnedFd, Errno> {
    loop {
        // SAFETY: `dir` is a live fd for the duration of the call and `name`
        // is NUL terminated; the kernel does not keep either pointer.
        let r = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) };
        match owned(r.into()) {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// `struct open_how` (libc's is non-exhaustive).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// openat2(2) with the given RESOLVE_* flags; retried on EINTR.
pub fn openat2(
    dir: BorrowedFd<'_>,
    path: &CStr,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> Result<OwnedFd, Errno> {
    // O_CREAT/O_TMPFILE are the only cases where openat2 accepts a mode.
    let takes_mode = flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE;
    let how = OpenHow {
        flags: flags as u32 as u64,
        mode: if takes_mode { u64::from(mode) } else { 0 },
        resolve,
    };
    loop {
        // SAFETY: `how` is a valid open_how whose size we pass, `path` is NUL
        // terminated and `dir` is live; the kernel copies both in.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        match owned(r) {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// fstat(2).
pub fn fstat(fd: BorrowedFd<'_>) -> Result<libc::stat, Errno> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` points to writable memory of the right size and type.
    let r = unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) };
    cvt_int(r)?;
    // SAFETY: fstat succeeded, so the kernel filled the whole struct.
    Ok(unsafe { st.assume_init() })
}

/// readlinkat(fd, "") of an O_PATH symlink fd.
pub fn readlink_fd(fd: BorrowedFd<'_>) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: `buf` is writable for `buf.len()` bytes, EMPTY is NUL terminated.
    let r = unsafe {
        libc::readlinkat(
            fd.as_raw_fd(),
            EMPTY.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = cvt(r as libc::c_long)? as usize;
    if n >= buf.len() {
        return Err(Errno::ENAMETOOLONG);
    }
    buf.truncate(n);
    Ok(buf)
}

/// mkdirat(2).
pub fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: live fd and NUL terminated name, not retained by the kernel.
    cvt_int(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) })
}

/// mknodat(2).
pub fn mknodat(dir: BorrowedFd<'_>, name: &CStr, mode: u32, dev: u64) -> Result<(), Errno> {
    // SAFETY: live fd and NUL terminated name, not retained by the kernel.
    cvt_int(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, dev) })
}

/// symlinkat(2).
pub fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> Result<(), Errno> {
    // SAFETY: NUL terminated strings and a live fd, not retained.
    cvt_int(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })
}

/// linkat(2).
pub fn linkat(
    olddir: BorrowedFd<'_>,
    old: &CStr,
    newdir: BorrowedFd<'_>,
    new: &CStr,
    flags: i32,
) -> Result<(), Errno> {
    // SAFETY: NUL terminated strings and live fds, not retained.
    cvt_int(unsafe {
        libc::linkat(
            olddir.as_raw_fd(),
            old.as_ptr(),
            newdir.as_raw_fd(),
            new.as_ptr(),
            flags,
        )
    })
}

/// unlinkat(2).
pub fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> Result<(), Errno> {
    // SAFETY: live fd and NUL terminated name, not retained.
    cvt_int(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })
}

/// renameat2(2).
pub fn renameat2(
    olddir: BorrowedFd<'_>,
    old: &CStr,
    newdir: BorrowedFd<'_>,
    new: &CStr,
    flags: u32,
) -> Result<(), Errno> {
    // SAFETY: NUL terminated strings and live fds, not retained.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            olddir.as_raw_fd(),
            old.as_ptr(),
            newdir.as_raw_fd(),
            new.as_ptr(),
            flags,
        )
    })
    .map(drop)
}

/// fchownat(2) with AT_EMPTY_PATH on an (O_PATH) fd.
pub fn fchown_fd(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<(), Errno> {
    // SAFETY: live fd and the static empty C string.
    cvt_int(unsafe {
        libc::fchownat(
            fd.as_raw_fd(),
            EMPTY.as_ptr(),
            uid,
            gid,
            libc::AT_EMPTY_PATH,
        )
    })
}

/// fchmodat2(2) with AT_EMPTY_PATH on an (O_PATH) fd.
pub fn fchmod_fd(fd: BorrowedFd<'_>, mode: u32) -> Result<(), Errno> {
    // SAFETY: live fd and the static empty C string.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_fchmodat2,
            fd.as_raw_fd(),
            EMPTY.as_ptr(),
            mode,
            libc::AT_EMPTY_PATH,
        )
    })
    .map(drop)
}

/// utimensat(2) with AT_EMPTY_PATH on an (O_PATH) fd.
pub fn utimens_fd(fd: BorrowedFd<'_>, times: Option<&[libc::timespec; 2]>) -> Result<(), Errno> {
    let ptr = times.map_or(std::ptr::null(), |t| t.as_ptr());
    // SAFETY: `ptr` is null or points to two timespecs that outlive the call.
    cvt_int(unsafe { libc::utimensat(fd.as_raw_fd(), EMPTY.as_ptr(), ptr, libc::AT_EMPTY_PATH) })
}

/// faccessat2(2) with AT_EMPTY_PATH|AT_EACCESS on an (O_PATH) fd: checks
/// against the thread's fs ids and effective capabilities.
pub fn access_fd(fd: BorrowedFd<'_>, mode: i32) -> Result<(), Errno> {
    // SAFETY: live fd and the static empty C string.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_faccessat2,
            fd.as_raw_fd(),
            EMPTY.as_ptr(),
            mode,
            libc::AT_EMPTY_PATH | libc::AT_EACCESS,
        )
    })
    .map(drop)
}

/// ftruncate(2).
pub fn ftruncate(fd: BorrowedFd<'_>, len: i64) -> Result<(), Errno> {
    // SAFETY: plain syscall on a live fd.
    cvt_int(unsafe { libc::ftruncate(fd.as_raw_fd(), len) })
}

/// Set the process umask (shared by all threads).
pub fn set_umask(mask: u32) {
    // SAFETY: umask cannot fail and touches no memory.
    unsafe { libc::umask(mask) };
}

const CAP_V3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// (effective, permitted, inheritable) of the calling thread.
pub fn capget() -> Result<(u64, u64, u64), Errno> {
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and a 2-element data array as required by version 3.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut hdr as *mut CapHeader,
            data.as_mut_ptr(),
        )
    })?;
    let join = |f: fn(&CapData) -> u32| u64::from(f(&data[0])) | (u64::from(f(&data[1])) << 32);
    Ok((
        join(|d| d.effective),
        join(|d| d.permitted),
        join(|d| d.inheritable),
    ))
}

/// setresuid(-1, `euid`, -1) of the calling thread only (a raw syscall,
/// not glibc's, which would apply it to every thread).
pub fn set_thread_euid(euid: u32) -> Result<(), Errno> {
    let unchanged = libc::c_long::from(u32::MAX);
    // SAFETY: setresuid takes integers and changes the calling thread's
    // credentials only.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_setresuid,
            unchanged,
            libc::c_long::from(euid),
            unchanged,
        )
    })
    .map(drop)
}

/// capset of the calling thread only.
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> Result<(), Errno> {
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: effective as u32,
            permitted: permitted as u32,
            inheritable: inheritable as u32,
        },
        CapData {
            effective: (effective >> 32) as u32,
            permitted: (permitted >> 32) as u32,
            inheritable: (inheritable >> 32) as u32,
        },
    ];
    // SAFETY: header and a 2-element data array as required by version 3.
    cvt(unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) })
        .map(drop)
}

/// Switch the *calling thread* (raw syscalls, not the glibc wrappers that
/// broadcast to all threads) to `creds`; `permitted` is the gofer's permitted
/// capability set, which is kept. Returns the failing step.
pub fn set_thread_creds(creds: &Creds, permitted: u64) -> Result<(), (&'static str, Errno)> {
    let (_, _, inheritable) = capget().map_err(|e| ("capget", e))?;
    // Raise the effective set first: setgroups/setfs[ug]id need CAP_SETGID/UID
    // and the previous request may have dropped them.
    capset(permitted, permitted, inheritable).map_err(|e| ("capset(raise)", e))?;
    let groups: Vec<libc::gid_t> = creds.groups.clone();
    // SAFETY: `groups` is a valid array of `groups.len()` gids; the raw
    // syscall only affects the calling thread.
    cvt(unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) })
        .map_err(|e| ("setgroups", e))?;
    // SAFETY: setfsgid takes an integer and only affects the calling thread.
    unsafe { libc::syscall(libc::SYS_setfsgid, creds.fsgid) };
    // SAFETY: as above; -1 only queries the current value.
    let now = unsafe { libc::syscall(libc::SYS_setfsgid, u32::MAX) };
    if now as u32 != creds.fsgid {
        return Err(("setfsgid", Errno::EPERM));
    }
    // SAFETY: setfsuid takes an integer and only affects the calling thread.
    unsafe { libc::syscall(libc::SYS_setfsuid, creds.fsuid) };
    // SAFETY: as above; -1 only queries the current value.
    let now = unsafe { libc::syscall(libc::SYS_setfsuid, u32::MAX) };
    if now as u32 != creds.fsuid {
        return Err(("setfsuid", Errno::EPERM));
    }
    // setfsuid adjusted the fs capabilities; set exactly what was asked.
    capset(creds.cap_effective & permitted, permitted, inheritable)
        .map_err(|e| ("capset(effective)", e))
}

/// One received packet.
pub struct Packet {
    /// Bytes received (0 = the peer hung up).
    pub len: usize,
    /// The packet or its control data did not fit the buffers.
    pub truncated: bool,
    /// Fds received with SCM_RIGHTS (close-on-exec).
    pub fds: Vec<OwnedFd>,
}

/// Send one packet, optionally with one fd in SCM_RIGHTS; retried on EINTR.
pub fn send_packet(
    sock: BorrowedFd<'_>,
    bytes: &[u8],
    fd: Option<BorrowedFd<'_>>,
) -> Result<(), Errno> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let iov = [std::io::IoSlice::new(bytes)];
    let fds: Vec<RawFd> = fd.iter().map(|f| f.as_raw_fd()).collect();
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let cmsgs: &[ControlMessage<'_>] = if fds.is_empty() { &[] } else { &cmsg };
    loop {
        match sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(n) if n != bytes.len() => return Err(Errno::EMSGSIZE),
            Ok(_) => return Ok(()),
        }
    }
}

/// Receive one packet into `buf`; retried on EINTR.
pub fn recv_packet(sock: BorrowedFd<'_>, buf: &mut [u8]) -> Result<Packet, Errno> {
    recv_packet_flags(sock, buf, nix::sys::socket::MsgFlags::empty())
}

/// Receive one packet if one is queued (EAGAIN if not).
pub fn try_recv_packet(sock: BorrowedFd<'_>, buf: &mut [u8]) -> Result<Packet, Errno> {
    recv_packet_flags(sock, buf, nix::sys::socket::MsgFlags::MSG_DONTWAIT)
}

fn recv_packet_flags(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    flags: nix::sys::socket::MsgFlags,
) -> Result<Packet, Errno> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut cmsg_buf = nix::cmsg_space!([RawFd; 16]);
    loop {
        let mut iov = [std::io::IoSliceMut::new(buf)];
        let msg = match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg_buf),
            MsgFlags::MSG_CMSG_CLOEXEC | flags,
        ) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(m) => m,
        };
        let mut truncated = msg
            .flags
            .intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC);
        let mut fds = Vec::new();
        match msg.cmsgs() {
            Ok(iter) => {
                for c in iter {
                    if let ControlMessageOwned::ScmRights(raw) = c {
                        for fd in raw {
                            // SAFETY: SCM_RIGHTS just installed this fd in our
                            // table; we are its only owner.
                            fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                        }
                    }
                }
            }
            Err(_) => truncated = true,
        }
        return Ok(Packet {
            len: msg.bytes,
            truncated,
            fds,
        });
    }
}

/// Whether this process's channel ends poll (`recv_packet_spinning`); set
/// once at boot from `SandboxInfo::poll_channels`.
static POLLING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Lets (or stops) `recv_packet_spinning` poll in this process.
pub fn set_polling(on: bool) {
    POLLING.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Receive one packet, first polling for up to `spin` (the peer answers
/// within microseconds, and sleeping costs a wake-up that on an idle
/// virtual CPU takes longer than the answer) if this process polls at
/// all (`set_polling`).
pub fn recv_packet_spinning(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    spin: std::time::Duration,
) -> Result<Packet, Errno> {
    if !spin.is_zero() && POLLING.load(std::sync::atomic::Ordering::Relaxed) {
        let start = std::time::Instant::now();
        loop {
            match try_recv_packet(sock, buf) {
                Err(Errno::EAGAIN) => {}
                r => return r,
            }
            if start.elapsed() >= spin {
                break;
            }
            // Gives the CPU to any task that wants it; returns at once on
            // a CPU nobody else wants.
            let _ = nix::sched::sched_yield();
        }
    }
    recv_packet(sock, buf)
}

// The *xattrat syscalls (Linux 6.13); libc 0.2.191 has no numbers for them.
pub const SYS_SETXATTRAT: libc::c_long = 463;
pub const SYS_GETXATTRAT: libc::c_long = 464;
pub const SYS_LISTXATTRAT: libc::c_long = 465;
pub const SYS_REMOVEXATTRAT: libc::c_long = 466;

/// `struct xattr_args` of the *xattrat syscalls.
#[repr(C, align(8))]
struct XattrArgs {
    value: u64,
    size: u32,
    flags: u32,
}

/// ENOSYS (a kernel before 6.13) reads as "not supported", as the path
/// xattr calls answered before the gofer served them.
fn xattr_errno(e: Errno) -> Errno {
    if e == Errno::ENOSYS {
        Errno::EOPNOTSUPP
    } else {
        e
    }
}

/// getxattrat(dir, name, AT_SYMLINK_NOFOLLOW, attr) into a buffer of `max`
/// bytes; a larger value gives E2BIG.
pub fn getxattrat(
    dir: BorrowedFd<'_>,
    name: &CStr,
    attr: &CStr,
    max: usize,
) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; max];
    let mut args = XattrArgs {
        value: buf.as_mut_ptr() as u64,
        size: max as u32,
        flags: 0,
    };
    // SAFETY: live fd, NUL-terminated strings, `args` points at `buf`
    // (max bytes) and both outlive the call.
    let r = cvt(unsafe {
        libc::syscall(
            SYS_GETXATTRAT,
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            attr.as_ptr(),
            &mut args as *mut XattrArgs,
            std::mem::size_of::<XattrArgs>(),
        )
    })
    .map_err(|e| {
        if e == Errno::ERANGE {
            Errno::E2BIG
        } else {
            xattr_errno(e)
        }
    })?;
    buf.truncate(r as usize);
    Ok(buf)
}

/// listxattrat(dir, name, AT_SYMLINK_NOFOLLOW) into a buffer of `max` bytes.
pub fn listxattrat(dir: BorrowedFd<'_>, name: &CStr, max: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; max];
    // SAFETY: live fd, NUL-terminated name, `buf` holds `max` bytes and
    // outlives the call.
    let r = cvt(unsafe {
        libc::syscall(
            SYS_LISTXATTRAT,
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            buf.as_mut_ptr(),
            max,
        )
    })
    .map_err(|e| {
        if e == Errno::ERANGE {
            Errno::E2BIG
        } else {
            xattr_errno(e)
        }
    })?;
    buf.truncate(r as usize);
    Ok(buf)
}

/// setxattrat(dir, name, AT_SYMLINK_NOFOLLOW, attr, value, flags).
pub fn setxattrat(
    dir: BorrowedFd<'_>,
    name: &CStr,
    attr: &CStr,
    value: &[u8],
    flags: i32,
) -> Result<(), Errno> {
    let args = XattrArgs {
        value: value.as_ptr() as u64,
        size: value.len() as u32,
        flags: flags as u32,
    };
    // SAFETY: live fd, NUL-terminated strings, `args` points at `value`
    // (value.len() bytes, only read) and both outlive the call.
    cvt(unsafe {
        libc::syscall(
            SYS_SETXATTRAT,
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            attr.as_ptr(),
            &args as *const XattrArgs,
            std::mem::size_of::<XattrArgs>(),
        )
    })
    .map(|_| ())
    .map_err(xattr_errno)
}

/// removexattrat(dir, name, AT_SYMLINK_NOFOLLOW, attr).
pub fn removexattrat(dir: BorrowedFd<'_>, name: &CStr, attr: &CStr) -> Result<(), Errno> {
    // SAFETY: live fd and NUL-terminated strings that outlive the call.
    cvt(unsafe {
        libc::syscall(
            SYS_REMOVEXATTRAT,
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            attr.as_ptr(),
        )
    })
    .map(|_| ())
    .map_err(xattr_errno)
}

/// A file description open for writing. Such an fd in a reply is followed by
/// a `DoneResp` once the gofer closed its copy (proto.rs): a copy still open
/// counts as a writer, and the workload's write-close-execve of the file
/// would fail with ETXTBSY.
pub fn is_writable(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: F_GETFL on a live fd reads no memory.
    let fl = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    fl >= 0 && fl & libc::O_ACCMODE != libc::O_RDONLY && fl & libc::O_PATH == 0
}

/// Whether the FIFO `reader` (opened O_NONBLOCK) has a writer, or data a
/// writer left: tee(2) into a pipe of the gofer's own copies without
/// consuming, and tells them apart as the kernel's pipe reader does
/// (EAGAIN: no data yet, a writer is there; 0: no data, no writer).
pub fn fifo_has_writer_or_data(reader: BorrowedFd<'_>) -> Result<bool, Errno> {
    let mut ends = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two fds into the array it is given.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just made these two fds, which only we own.
    let (_r, w) = unsafe { (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])) };
    // SAFETY: tee takes two fds, a length and flags.
    let n = unsafe {
        libc::tee(
            reader.as_raw_fd(),
            w.as_raw_fd(),
            1,
            libc::SPLICE_F_NONBLOCK,
        )
    };
    if n > 0 {
        return Ok(true);
    }
    match Errno::last() {
        _ if n == 0 => Ok(false),
        Errno::EAGAIN => Ok(true),
        e => Err(e),
    }
}

/// Clears O_NONBLOCK on an open file description opened with it only so
/// as not to wait (by the gofer, or by the sentry's direct reads).
pub fn clear_nonblock(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: F_GETFL and F_SETFL on a live fd take and return flag words.
    let fl = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if fl < 0 {
        return Err(Errno::last());
    }
    // SAFETY: as above.
    cvt_int(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK) })
}

/// Gives the calling thread its own cwd, root and umask (CLONE_FS), so
/// that a socket request can chdir and umask without touching the other
/// channels' threads.
pub fn unshare_fs() -> Result<(), Errno> {
    // SAFETY: unshare takes a flag word; CLONE_FS only copies the calling
    // thread's fs attributes.
    cvt_int(unsafe { libc::unshare(libc::CLONE_FS) })
}

/// fchdir(2), on an O_PATH directory fd.
pub fn fchdir(dir: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: fchdir takes an fd.
    cvt_int(unsafe { libc::fchdir(dir.as_raw_fd()) })
}

/// bind(2) or connect(2) of `sock` to the AF_UNIX path `name` (resolved by
/// the kernel from the calling thread's cwd and root), as a workload
/// calling it with `sizeof(sa_family_t) + strlen(name) + 1` would.
pub fn unix_socket_at(sock: BorrowedFd<'_>, name: &[u8], connect: bool) -> Result<(), Errno> {
    // SAFETY: sockaddr_un is plain old data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    if name.is_empty() || name.contains(&0) {
        return Err(Errno::ENOENT);
    }
    if name.len() > addr.sun_path.len() {
        return Err(Errno::ENAMETOOLONG);
    }
    for (d, s) in addr.sun_path.iter_mut().zip(name) {
        *d = *s as libc::c_char;
    }
    let len = (std::mem::size_of::<libc::sa_family_t>() + name.len() + 1)
        .min(std::mem::size_of::<libc::sockaddr_un>()) as libc::socklen_t;
    let ptr = (&addr as *const libc::sockaddr_un).cast::<libc::sockaddr>();
    loop {
        // SAFETY: `addr` is a valid sockaddr_un of at least `len` bytes.
        let r = unsafe {
            if connect {
                libc::connect(sock.as_raw_fd(), ptr, len)
            } else {
                libc::bind(sock.as_raw_fd(), ptr, len)
            }
        };
        match cvt_int(r) {
            Err(Errno::EINTR) if !connect => continue,
            other => return other,
        }
    }
}

/// inotify_add_watch(2) of `name` (from the calling thread's cwd) on the
/// inotify instance `inotify`: the watch descriptor.
pub fn inotify_add_watch(inotify: BorrowedFd<'_>, name: &CStr, mask: u32) -> Result<i32, Errno> {
    // SAFETY: `name` is a valid C string; the call reads nothing else.
    let r = unsafe { libc::inotify_add_watch(inotify.as_raw_fd(), name.as_ptr(), mask) };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(r)
}

// uapi/linux/mount.h (libc does not export these for glibc targets).
const FSOPEN_CLOEXEC: libc::c_uint = 1;
pub const FSCONFIG_SET_STRING: libc::c_uint = 1;
pub const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const MOUNT_ATTR_NOSUID: libc::c_uint = 0x2;
const MOUNT_ATTR_NODEV: libc::c_uint = 0x4;
const MOUNT_ATTR_NOEXEC: libc::c_uint = 0x8;

/// The fd a successful fs syscall returned.
fn fd_result(r: libc::c_long) -> Result<OwnedFd, Errno> {
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this new fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

/// fsconfig(2) on an fs context: `key`/`value` as `cmd` takes them.
pub fn fsconfig(
    fs: &OwnedFd,
    cmd: libc::c_uint,
    key: Option<&CStr>,
    value: Option<&CStr>,
) -> Result<(), Errno> {
    let ptr = |s: Option<&CStr>| s.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: `fs` is a live fs context fd; key and value are NUL-terminated
    // strings (or NULL, which FSCONFIG_CMD_CREATE requires) that the kernel
    // only reads during the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            cmd,
            ptr(key),
            ptr(value),
            0,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// fsopen("proc", FSOPEN_CLOEXEC): a new procfs context.
pub fn fsopen_proc() -> Result<OwnedFd, Errno> {
    // SAFETY: "proc" is NUL-terminated; fsopen returns a new fd or -1.
    fd_result(unsafe { libc::syscall(libc::SYS_fsopen, c"proc".as_ptr(), FSOPEN_CLOEXEC) })
}

/// fsmount of a created context as a detached nosuid,nodev,noexec mount.
pub fn fsmount_noexec(fs: &OwnedFd) -> Result<OwnedFd, Errno> {
    // SAFETY: `fs` is a live fs context fd; fsmount takes integers and
    // returns a new fd or -1.
    fd_result(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            FSMOUNT_CLOEXEC,
            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::time::Duration;

    #[test]
    fn spinning_receive_takes_a_packet_sent_during_or_after_the_spin() {
        set_polling(true);
        let (a, b) = crate::sandbox::sync::seqpacket_pair().expect("pair");
        let mut buf = [0u8; 16];
        // Queued before: the first poll takes it.
        send_packet(b.as_fd(), b"one", None).expect("send");
        let p = recv_packet_spinning(a.as_fd(), &mut buf, Duration::from_millis(1)).expect("recv");
        assert_eq!(&buf[..p.len], b"one");
        // Nothing queued: the spin ends and the receive blocks until it comes.
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            send_packet(b.as_fd(), b"two", None).expect("send");
            b
        });
        let p = recv_packet_spinning(a.as_fd(), &mut buf, Duration::from_micros(50)).expect("recv");
        assert_eq!(&buf[..p.len], b"two");
        // A hang-up during the spin is a zero-length packet, as without it.
        drop(sender.join().expect("sender"));
        let p = recv_packet_spinning(a.as_fd(), &mut buf, Duration::from_millis(1)).expect("recv");
        assert_eq!(p.len, 0);
        assert!(matches!(try_recv_packet(a.as_fd(), &mut buf), Ok(p) if p.len == 0));
    }
}
