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
    let Ok(info) = crate::sentry::fs::hostproc::read_text(format!("/proc/{tid}/fdinfo/{fd}"))
    else {
        return Ok(None);
    };
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|v| i32::from_str_radix(v.trim(), 8).ok());
    if flags.is_none_or(|f| f & libc::O_PATH != 0) {
        return Ok(None);
    }
    let Ok(st) = sys::with_task_fd_path(tid, fd, |p| std::fs::metadata(p)) else {
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

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use nix::errno::Errno;

    use crate::sentry::testkit::{errno, value, Kit, CWD};

    fn file(k: &Kit, name: &str) {
        std::fs::write(k.host(name), "data").unwrap();
    }

    #[test]
    fn chmod_sets_the_mode() {
        let k = Kit::new("chmod");
        file(&k, "f");
        let p = k.path("/f");
        assert_eq!(value(k.call("chmod", [p, 0o604, 0, 0, 0, 0])), 0);
        let m = std::fs::metadata(k.host("f")).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o604);
    }

    #[test]
    fn chmod_missing_is_enoent() {
        let k = Kit::new("chmod-enoent");
        let p = k.path("/nope");
        assert_eq!(
            errno(k.call("chmod", [p, 0o600, 0, 0, 0, 0])),
            Errno::ENOENT
        );
    }

    #[test]
    fn fchmodat2_nofollow_on_a_symlink_is_eopnotsupp() {
        let k = Kit::new("fchmodat2");
        file(&k, "f");
        std::os::unix::fs::symlink("f", k.host("l")).unwrap();
        let p = k.path("/l");
        let nofollow = libc::AT_SYMLINK_NOFOLLOW as u64;
        assert_eq!(
            errno(k.call("fchmodat2", [CWD, p, 0o600, nofollow, 0, 0])),
            Errno::EOPNOTSUPP
        );
    }

    #[test]
    fn fchmodat2_unknown_flag_is_einval() {
        let k = Kit::new("fchmodat2-flags");
        file(&k, "f");
        let p = k.path("/f");
        assert_eq!(
            errno(k.call("fchmodat2", [CWD, p, 0o600, 0x1, 0, 0])),
            Errno::EINVAL
        );
    }

    #[test]
    fn chown_follows_the_callers_privilege() {
        let k = Kit::new("chown");
        file(&k, "f");
        let p = k.path("/f");
        let r = k.call("chown", [p, 4321, 4321, 0, 0, 0]);
        if nix::unistd::geteuid().is_root() {
            assert_eq!(value(r), 0);
            let m = std::fs::metadata(k.host("f")).unwrap();
            assert_eq!((m.uid(), m.gid()), (4321, 4321));
        } else {
            assert_eq!(errno(r), Errno::EPERM);
        }
    }

    #[test]
    fn chown_minus_one_changes_nothing() {
        let k = Kit::new("chown-keep");
        file(&k, "f");
        let before = std::fs::metadata(k.host("f")).unwrap();
        let p = k.path("/f");
        let keep = u32::MAX as u64;
        assert_eq!(value(k.call("chown", [p, keep, keep, 0, 0, 0])), 0);
        let after = std::fs::metadata(k.host("f")).unwrap();
        assert_eq!((before.uid(), before.gid()), (after.uid(), after.gid()));
    }

    #[test]
    fn lchown_changes_the_link_not_the_target() {
        let k = Kit::new("lchown");
        if !nix::unistd::geteuid().is_root() {
            println!("lchown_changes_the_link_not_the_target: skipped, needs root (chown to another uid)");
            return;
        }
        file(&k, "f");
        std::os::unix::fs::symlink("f", k.host("l")).unwrap();
        let p = k.path("/l");
        assert_eq!(value(k.call("lchown", [p, 4321, 4321, 0, 0, 0])), 0);
        assert_eq!(std::fs::symlink_metadata(k.host("l")).unwrap().uid(), 4321);
        assert_ne!(std::fs::metadata(k.host("f")).unwrap().uid(), 4321);
    }

    #[test]
    fn truncate_sets_the_size() {
        let k = Kit::new("truncate");
        file(&k, "f");
        let p = k.path("/f");
        assert_eq!(value(k.call("truncate", [p, 2, 0, 0, 0, 0])), 0);
        assert_eq!(std::fs::read_to_string(k.host("f")).unwrap(), "da");
        assert_eq!(value(k.call("truncate", [p, 10, 0, 0, 0, 0])), 0);
        assert_eq!(std::fs::metadata(k.host("f")).unwrap().len(), 10);
    }

    #[test]
    fn truncate_negative_is_einval() {
        let k = Kit::new("truncate-neg");
        file(&k, "f");
        let p = k.path("/f");
        assert_eq!(
            errno(k.call("truncate", [p, (-1i64) as u64, 0, 0, 0, 0])),
            Errno::EINVAL
        );
    }

    #[test]
    fn truncate_directory_is_eisdir() {
        let k = Kit::new("truncate-dir");
        std::fs::create_dir(k.host("d")).unwrap();
        let p = k.path("/d");
        assert_eq!(errno(k.call("truncate", [p, 0, 0, 0, 0, 0])), Errno::EISDIR);
    }

    fn timespecs(k: &Kit, a: (i64, i64), m: (i64, i64)) -> u64 {
        let mut b = Vec::new();
        for v in [a.0, a.1, m.0, m.1] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        k.platform.put(&b)
    }

    #[test]
    fn utimensat_sets_both_times() {
        let k = Kit::new("utimensat");
        file(&k, "f");
        let p = k.path("/f");
        let t = timespecs(&k, (1_000_000_000, 5), (1_100_000_000, 7));
        assert_eq!(value(k.call("utimensat", [CWD, p, t, 0, 0, 0])), 0);
        let m = std::fs::metadata(k.host("f")).unwrap();
        assert_eq!((m.atime(), m.atime_nsec()), (1_000_000_000, 5));
        assert_eq!((m.mtime(), m.mtime_nsec()), (1_100_000_000, 7));
    }

    #[test]
    fn utimensat_bad_nanoseconds_is_einval() {
        let k = Kit::new("utimensat-ns");
        file(&k, "f");
        let p = k.path("/f");
        let t = timespecs(&k, (1, 1_000_000_000), (1, 0));
        assert_eq!(
            errno(k.call("utimensat", [CWD, p, t, 0, 0, 0])),
            Errno::EINVAL
        );
    }

    #[test]
    fn utimensat_unknown_flag_is_einval() {
        let k = Kit::new("utimensat-flags");
        let p = k.path("/f");
        assert_eq!(
            errno(k.call("utimensat", [CWD, p, 0, 0x1, 0, 0])),
            Errno::EINVAL
        );
    }

    #[test]
    fn utime_sets_seconds() {
        let k = Kit::new("utime");
        file(&k, "f");
        let p = k.path("/f");
        let mut b = Vec::new();
        for v in [1_200_000_000i64, 1_300_000_000] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let t = k.platform.put(&b);
        assert_eq!(value(k.call("utime", [p, t, 0, 0, 0, 0])), 0);
        let m = std::fs::metadata(k.host("f")).unwrap();
        assert_eq!((m.atime(), m.mtime()), (1_200_000_000, 1_300_000_000));
    }

    #[test]
    fn utimes_sets_microseconds() {
        let k = Kit::new("utimes");
        file(&k, "f");
        let p = k.path("/f");
        let mut b = Vec::new();
        for v in [1_200_000_000i64, 3, 1_300_000_000, 4] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let t = k.platform.put(&b);
        assert_eq!(value(k.call("utimes", [p, t, 0, 0, 0, 0])), 0);
        let m = std::fs::metadata(k.host("f")).unwrap();
        assert_eq!((m.mtime(), m.mtime_nsec()), (1_300_000_000, 4000));
    }
}
