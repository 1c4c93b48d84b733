//! Attribute changes by path: chmod, chown, truncate and the utime family,
//! done by the gofer with the caller's credentials.

use nix::errno::Errno;

use std::os::fd::AsFd;

use super::{follow_unless, Ctx, Found, Outcome, SysResult, AT_FDCWD};
use crate::gofer::{Follow, Timespec};
use crate::sentry::sys;
use crate::sentry::vfs::{self, Location};

/// Synthetic files are not ours to change (procfs says EPERM).
fn synthetic_eperm<T>(
    _: &mut Ctx,
    _: crate::sentry::vfs::SynthFs,
    _: &str,
    _: u32,
) -> Result<T, Errno> {
    Err(Errno::EPERM)
}

/// The path of an *at call, or of the dirfd itself for AT_EMPTY_PATH / a
/// NULL path (utimensat).
fn at_path(ctx: &mut Ctx, dirfd: i32, path_idx: usize, flags: i32) -> Result<Vec<u8>, Errno> {
    if ctx.arg(path_idx) == 0 {
        return ctx.fd_path(dirfd);
    }
    let p = ctx.path_arg(path_idx)?;
    if p.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
        return if dirfd == AT_FDCWD {
            ctx.abs_path(AT_FDCWD, b".")
        } else {
            ctx.fd_path(dirfd)
        };
    }
    ctx.abs_path(dirfd, &p)
}

/// A final synthetic link is followed when the call follows symlinks.
fn follow_final(ctx: &mut Ctx, abs: Vec<u8>, follow: Follow) -> Result<Vec<u8>, Errno> {
    match follow {
        Follow::Follow => ctx.follow_synthetic_link(&abs),
        Follow::NoFollow => Ok(abs),
    }
}

fn do_chmod(ctx: &mut Ctx, dirfd: i32, path_idx: usize, mode: u32, flags: i32) -> SysResult {
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let abs = at_path(ctx, dirfd, path_idx, flags)?;
    let follow = follow_unless(flags, libc::AT_SYMLINK_NOFOLLOW);
    let abs = follow_final(ctx, abs, follow)?;
    let mode = mode & 0o7777;
    ctx.on_path(
        &abs,
        |g, p, c, l| g.chmod(p, mode, follow, c, l),
        synthetic_eperm,
    )?;
    // A directory's new mode or owner may refuse searches it allowed.
    ctx.sentry.dcache.forget(&abs);
    Ok(Outcome::Value(0))
}

/// chmod(2).
pub fn chmod(ctx: &mut Ctx) -> SysResult {
    let mode = ctx.arg(1) as u32;
    do_chmod(ctx, AT_FDCWD, 0, mode, 0)
}

/// fchmodat(2) (the kernel's has no flags).
pub fn fchmodat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let mode = ctx.arg(2) as u32;
    do_chmod(ctx, dirfd, 1, mode, 0)
}

/// fchmodat2(2).
pub fn fchmodat2(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let (mode, flags) = (ctx.arg(2) as u32, ctx.arg_i32(3));
    do_chmod(ctx, dirfd, 1, mode, flags)
}

fn do_chown(
    ctx: &mut Ctx,
    dirfd: i32,
    path_idx: usize,
    uid: i32,
    gid: i32,
    flags: i32,
) -> SysResult {
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let (uid, gid) = ctx.host_owner(uid, gid)?;
    let abs = at_path(ctx, dirfd, path_idx, flags)?;
    let follow = follow_unless(flags, libc::AT_SYMLINK_NOFOLLOW);
    let abs = follow_final(ctx, abs, follow)?;
    ctx.on_path(
        &abs,
        |g, p, c, l| g.chown(p, uid, gid, follow, c, l),
        synthetic_eperm,
    )?;
    // A directory's new mode or owner may refuse searches it allowed.
    ctx.sentry.dcache.forget(&abs);
    Ok(Outcome::Value(0))
}

/// The sandbox path of the caller's fd `fd` when the gofer can change that
/// file by path: the fd is not O_PATH, its path is gofer-backed and still
/// names the same file (device and inode). `None`: leave the call to the
/// kernel (pipes, sockets, memfds, deleted or moved files).
pub(super) fn fd_gofer_path(ctx: &mut Ctx, fd: i32) -> Result<Option<Vec<u8>>, Errno> {
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    let tid = ctx.tid();
    let Ok(info) = std::fs::read_to_string(format!("/proc/{tid}/fdinfo/{fd}")) else {
        return Ok(None);
    };
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|v| i32::from_str_radix(v.trim(), 8).ok());
    if flags.is_none_or(|f| f & libc::O_PATH != 0) {
        return Ok(None);
    }
    let Ok(st) = std::fs::metadata(format!("/proc/{tid}/fd/{fd}")) else {
        return Ok(None);
    };
    let Ok(abs) = ctx.fd_path(fd) else {
        return Ok(None);
    };
    if !matches!(vfs::locate(&abs), Location::Gofer) {
        return Ok(None);
    }
    let Ok(Found::Host(walked)) = ctx.resolve(&abs, Follow::NoFollow) else {
        return Ok(None);
    };
    let Ok(wst) = sys::fstat_fd(walked.as_fd()) else {
        return Ok(None);
    };
    use std::os::unix::fs::MetadataExt;
    if wst.st_dev != st.dev() || wst.st_ino != st.ino() {
        return Ok(None);
    }
    Ok(Some(abs))
}

/// fchown(2). The workload holds no host capability, so the kernel would
/// refuse a chown that needs CAP_CHOWN (cp -a and tar x run as root give
/// their files away): the gofer changes the file by its path with the
/// caller's credentials, as for chown(2).
pub fn fchown(ctx: &mut Ctx) -> SysResult {
    let fd = ctx.arg_i32(0);
    let (uid, gid) = (ctx.arg_i32(1), ctx.arg_i32(2));
    let Some(abs) = fd_gofer_path(ctx, fd)? else {
        return Ok(Outcome::Continue);
    };
    let (uid, gid) = ctx.host_owner(uid, gid)?;
    ctx.on_path(
        &abs,
        |g, p, c, l| g.chown(p, uid, gid, Follow::NoFollow, c, l),
        synthetic_eperm,
    )?;
    // A directory's new mode or owner may refuse searches it allowed.
    ctx.sentry.dcache.forget(&abs);
    Ok(Outcome::Value(0))
}

/// fchmod(2): like fchown, for a file the caller no longer owns (root
/// without host CAP_FOWNER).
pub fn fchmod(ctx: &mut Ctx) -> SysResult {
    let fd = ctx.arg_i32(0);
    let mode = ctx.arg(1) as u32 & 0o7777;
    let Some(abs) = fd_gofer_path(ctx, fd)? else {
        return Ok(Outcome::Continue);
    };
    ctx.on_path(
        &abs,
        |g, p, c, l| g.chmod(p, mode, Follow::NoFollow, c, l),
        synthetic_eperm,
    )?;
    // A directory's new mode or owner may refuse searches it allowed.
    ctx.sentry.dcache.forget(&abs);
    Ok(Outcome::Value(0))
}

/// chown(2).
pub fn chown(ctx: &mut Ctx) -> SysResult {
    let (uid, gid) = (ctx.arg_i32(1), ctx.arg_i32(2));
    do_chown(ctx, AT_FDCWD, 0, uid, gid, 0)
}

/// lchown(2).
pub fn lchown(ctx: &mut Ctx) -> SysResult {
    let (uid, gid) = (ctx.arg_i32(1), ctx.arg_i32(2));
    do_chown(ctx, AT_FDCWD, 0, uid, gid, libc::AT_SYMLINK_NOFOLLOW)
}

/// fchownat(2).
pub fn fchownat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let (uid, gid, flags) = (ctx.arg_i32(2), ctx.arg_i32(3), ctx.arg_i32(4));
    do_chown(ctx, dirfd, 1, uid, gid, flags)
}

/// truncate(2).
pub fn truncate(ctx: &mut Ctx) -> SysResult {
    let path = ctx.path_arg(0)?;
    let len = ctx.arg(1) as i64;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let abs = ctx.abs_path(AT_FDCWD, &path)?;
    let abs = ctx.follow_synthetic_link(&abs)?;
    ctx.on_path(
        &abs,
        |g, p, c, l| g.truncate(p, len, c, l),
        |_, _, _, _| Err(Errno::EACCES),
    )?;
    Ok(Outcome::Value(0))
}

fn do_utimens(
    ctx: &mut Ctx,
    abs: Vec<u8>,
    times: Option<[Timespec; 2]>,
    follow: Follow,
) -> SysResult {
    if let Some(t) = &times {
        for ts in t {
            let special = ts.nsec == libc::UTIME_NOW || ts.nsec == libc::UTIME_OMIT;
            if !special && !(0..1_000_000_000).contains(&ts.nsec) {
                return Err(Errno::EINVAL);
            }
        }
    }
    let abs = follow_final(ctx, abs, follow)?;
    ctx.on_path(
        &abs,
        |g, p, c, l| g.utimens(p, times, follow, c, l),
        synthetic_eperm,
    )?;
    Ok(Outcome::Value(0))
}

fn read_timespecs(ctx: &Ctx, addr: u64) -> Result<Option<[Timespec; 2]>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let b = ctx.read_bytes(addr, 32)?;
    let t: [libc::timespec; 2] = sys::struct_from_bytes(&b).ok_or(Errno::EFAULT)?;
    Ok(Some([
        Timespec {
            sec: t[0].tv_sec,
            nsec: t[0].tv_nsec,
        },
        Timespec {
            sec: t[1].tv_sec,
            nsec: t[1].tv_nsec,
        },
    ]))
}

fn read_timevals(ctx: &Ctx, addr: u64) -> Result<Option<[Timespec; 2]>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let b = ctx.read_bytes(addr, 32)?;
    let t: [libc::timeval; 2] = sys::struct_from_bytes(&b).ok_or(Errno::EFAULT)?;
    for tv in &t {
        if !(0..1_000_000).contains(&tv.tv_usec) {
            return Err(Errno::EINVAL);
        }
    }
    Ok(Some([
        Timespec {
            sec: t[0].tv_sec,
            nsec: t[0].tv_usec * 1000,
        },
        Timespec {
            sec: t[1].tv_sec,
            nsec: t[1].tv_usec * 1000,
        },
    ]))
}

/// utimensat(2); a NULL path means the dirfd itself (futimens).
pub fn utimensat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let (times_addr, flags) = (ctx.arg(2), ctx.arg_i32(3));
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let times = read_timespecs(ctx, times_addr)?;
    let abs = at_path(ctx, dirfd, 1, flags)?;
    do_utimens(
        ctx,
        abs,
        times,
        follow_unless(flags, libc::AT_SYMLINK_NOFOLLOW),
    )
}

/// utime(2): struct utimbuf { actime, modtime } in seconds.
pub fn utime(ctx: &mut Ctx) -> SysResult {
    let path = ctx.path_arg(0)?;
    let abs = ctx.abs_path(AT_FDCWD, &path)?;
    let addr = ctx.arg(1);
    let times = if addr == 0 {
        None
    } else {
        let b = ctx.read_bytes(addr, 16)?;
        let t: [i64; 2] = sys::struct_from_bytes(&b).ok_or(Errno::EFAULT)?;
        Some([
            Timespec { sec: t[0], nsec: 0 },
            Timespec { sec: t[1], nsec: 0 },
        ])
    };
    do_utimens(ctx, abs, times, Follow::Follow)
}

/// utimes(2).
pub fn utimes(ctx: &mut Ctx) -> SysResult {
    let path = ctx.path_arg(0)?;
    let abs = ctx.abs_path(AT_FDCWD, &path)?;
    let times = read_timevals(ctx, ctx.arg(1))?;
    do_utimens(ctx, abs, times, Follow::Follow)
}

/// futimesat(2).
pub fn futimesat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let abs = at_path(ctx, dirfd, 1, 0)?;
    let times = read_timevals(ctx, ctx.arg(2))?;
    do_utimens(ctx, abs, times, Follow::Follow)
}
