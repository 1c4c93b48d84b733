//! The stat family, access, readlink and statfs. Gofer-backed paths are
//! walked to an O_PATH fd on which the sentry itself calls fstatat/statx/
//! readlinkat/fstatfs; synthetic nodes get attributes from their fs.

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use nix::errno::Errno;

use super::{follow_unless, synthetic_dev, Ctx, Found, Outcome, SysResult, AT_FDCWD};
use crate::gofer::Follow;
use crate::sentry::fs::procfs::{Node, NodeAttr};
use crate::sentry::vfs::dcache;
use crate::sentry::vfs::{self, SynthFs};
use crate::sentry::{cred, sys};

fn now() -> (i64, i64) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos() as i64)
}

fn synthetic_stat(fs: SynthFs, a: &NodeAttr) -> libc::stat {
    let mut st: libc::stat = sys::zeroed();
    let (sec, nsec) = now();
    st.st_dev = synthetic_dev(fs);
    st.st_ino = a.ino;
    st.st_mode = a.mode;
    st.st_nlink = a.nlink;
    st.st_uid = a.uid;
    st.st_gid = a.gid;
    st.st_size = a.size as i64;
    st.st_blksize = 1024;
    st.st_atime = sec;
    st.st_atime_nsec = nsec;
    st.st_mtime = sec;
    st.st_mtime_nsec = nsec;
    st.st_ctime = sec;
    st.st_ctime_nsec = nsec;
    st
}

fn synthetic_statx(fs: SynthFs, a: &NodeAttr) -> libc::statx {
    let mut st: libc::statx = sys::zeroed();
    let (sec, nsec) = now();
    let dev = synthetic_dev(fs);
    st.stx_mask = libc::STATX_BASIC_STATS;
    st.stx_blksize = 1024;
    st.stx_nlink = a.nlink as u32;
    st.stx_uid = a.uid;
    st.stx_gid = a.gid;
    st.stx_mode = a.mode as u16;
    st.stx_ino = a.ino;
    st.stx_size = a.size;
    for t in [&mut st.stx_atime, &mut st.stx_mtime, &mut st.stx_ctime] {
        t.tv_sec = sec;
        t.tv_nsec = nsec as u32;
    }
    st.stx_dev_major = nix::sys::stat::major(dev) as u32;
    st.stx_dev_minor = nix::sys::stat::minor(dev) as u32;
    st
}

/// Resolves (dirfd, path, flags) for the stat-like calls: AT_EMPTY_PATH on
/// an empty path means the fd itself.
enum Subject {
    Found(Found),
    /// The caller's own fd (AT_EMPTY_PATH), duplicated into the sentry.
    Fd(std::os::fd::OwnedFd),
    /// The caller's own fd (AT_EMPTY_PATH) that is not a synthetic
    /// directory, and its attributes (read through its /proc link).
    CallerFd {
        fd: i32,
        st: libc::stat,
    },
    /// A /proc/<pid>/fd/N link itself (not followed).
    FdLinkItself {
        fs: SynthFs,
        rel: String,
    },
    /// A name in a cached directory, and what the sentry's fstatat of it
    /// found.
    Child {
        dir: Arc<OwnedFd>,
        name: CString,
        st: libc::stat,
    },
}

impl Subject {
    /// A node of the synthetic /proc or /sys (whose owners procfs already
    /// shows in the container's ids), not a host file.
    fn is_synthetic(&self) -> bool {
        match self {
            Subject::Found(Found::Synthetic { node, .. }) => !matches!(node, Node::FdLink { .. }),
            Subject::FdLinkItself { .. } => true,
            _ => false,
        }
    }
}

fn subject(ctx: &mut Ctx, dirfd: i32, path_idx: usize, flags: i32) -> Result<Subject, Errno> {
    let path = if ctx.arg(path_idx) == 0 && flags & libc::AT_EMPTY_PATH != 0 {
        Vec::new()
    } else {
        ctx.path_arg(path_idx)?
    };
    if path.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
        if dirfd == AT_FDCWD {
            let cwd = ctx.abs_path(AT_FDCWD, b".")?;
            return Ok(Subject::Found(ctx.resolve(&cwd, Follow::Follow)?));
        }
        let st = sys::stat_caller_fd(ctx.tid(), dirfd)?;
        if (st.st_dev, st.st_ino) != ctx.sentry.synthetic_dir_id {
            return Ok(Subject::CallerFd { fd: dirfd, st });
        }
        // A synthetic directory fd stands for its recorded path.
        if let Ok(p) = ctx.fd_path(dirfd) {
            if let crate::sentry::vfs::Location::Synthetic(..) = crate::sentry::vfs::locate(&p) {
                return Ok(Subject::Found(ctx.resolve(&p, Follow::NoFollow)?));
            }
        }
        return Ok(Subject::Fd(sys::getfd(ctx.tid(), dirfd)?));
    }
    let abs = ctx.abs_path(dirfd, &path)?;
    let follow = follow_unless(flags, libc::AT_SYMLINK_NOFOLLOW);
    if let Some(dcache::Child {
        dir,
        name,
        trailing_slash,
    }) = ctx.cached_parent(&abs)?
    {
        let kind = |st: &libc::stat| st.st_mode & libc::S_IFMT;
        match dcache::stat_child(&dir, &name) {
            // A symlink to follow (a trailing slash follows it too): through
            // the cache where it leads to a cached directory, else the
            // gofer's walk.
            Ok(st)
                if kind(&st) == libc::S_IFLNK && (follow == Follow::Follow || trailing_slash) =>
            {
                let link = dcache::Child {
                    dir,
                    name,
                    trailing_slash,
                };
                if let Some(found) = follow_cached_symlink(ctx, &abs, link)? {
                    return Ok(found);
                }
            }
            Ok(st) if trailing_slash && kind(&st) != libc::S_IFDIR => return Err(Errno::ENOTDIR),
            Ok(st) => {
                let name = CString::new(name).map_err(|_| Errno::EINVAL)?;
                return Ok(Subject::Child { dir, name, st });
            }
            Err(e @ (Errno::ENOENT | Errno::ENAMETOOLONG)) => return Err(e),
            Err(_) => {}
        }
    }
    match ctx.resolve(&abs, follow)? {
        // lstat of /proc/<pid>/fd/N describes the link, not the open file.
        Found::Synthetic {
            fs,
            rel,
            node: Node::FdLink { .. },
        } if follow == Follow::NoFollow => Ok(Subject::FdLinkItself { fs, rel }),
        found => Ok(Subject::Found(found)),
    }
}

/// Follows the symlink `link` (named by `path`, in a cached directory)
/// through the directory cache: reads its target there and looks that up
/// the same way, as long as each step's directory is cached (Debian's
/// /bin/sh, the alternatives in /usr/bin), so no gofer walk. `None`: some
/// step leaves the cache (a synthetic or uncached directory, a path the
/// cache cannot split, too many links); the caller then walks through the
/// gofer from the start. The cache checks the caller's search permission
/// on each directory, as Linux does on the way to a target.
fn follow_cached_symlink(
    ctx: &mut Ctx,
    path: &[u8],
    link: dcache::Child,
) -> Result<Option<Subject>, Errno> {
    let is_symlink = |st: &libc::stat| st.st_mode & libc::S_IFMT == libc::S_IFLNK;
    let (mut path, mut link) = (path.to_vec(), link);
    for _ in 0..super::MAX_SYMLINKS {
        let without_slash = match path.iter().rposition(|b| *b != b'/') {
            Some(last) => &path[..=last],
            None => return Ok(None),
        };
        let Some((parent, _)) = dcache::split_plain(without_slash) else {
            return Ok(None);
        };
        let Ok(name) = CString::new(link.name.clone()) else {
            return Ok(None);
        };
        let target = match sys::readlink_at(link.dir.as_fd(), &name) {
            Ok(t) if !t.is_empty() => t,
            _ => return Ok(None),
        };
        let mut next = vfs::join(&parent, &target);
        if link.trailing_slash {
            next.push(b'/');
        }
        if next.len() >= super::PATH_MAX {
            return Ok(None);
        }
        let Some(child) = ctx.cached_parent(&next)? else {
            return Ok(None);
        };
        match dcache::stat_child(&child.dir, &child.name) {
            Ok(st) if is_symlink(&st) => (path, link) = (next, child),
            Ok(st) if child.trailing_slash && st.st_mode & libc::S_IFMT != libc::S_IFDIR => {
                return Err(Errno::ENOTDIR)
            }
            Ok(st) => {
                let Ok(name) = CString::new(child.name) else {
                    return Ok(None);
                };
                return Ok(Some(Subject::Child {
                    dir: child.dir,
                    name,
                    st,
                }));
            }
            Err(e @ (Errno::ENOENT | Errno::ENAMETOOLONG)) => return Err(e),
            Err(_) => return Ok(None),
        }
    }
    Ok(None)
}

fn stat_subject(ctx: &mut Ctx, s: Subject) -> Result<libc::stat, Errno> {
    match s {
        Subject::Child { st, .. } | Subject::CallerFd { st, .. } => Ok(st),
        Subject::Fd(fd) | Subject::Found(Found::Host(fd)) => sys::fstat_fd(fd.as_fd()),
        Subject::Found(Found::Synthetic { fs, rel, node }) => {
            if let Node::FdLink { host_tid, fd } = node {
                return sys::fstat_fd(sys::getfd(host_tid, fd)?.as_fd());
            }
            Ok(synthetic_stat(fs, &ctx.synthetic_attr(fs, &rel)?))
        }
        Subject::FdLinkItself { fs, rel } => Ok(synthetic_stat(fs, &ctx.synthetic_attr(fs, &rel)?)),
    }
}

fn do_stat(ctx: &mut Ctx, dirfd: i32, path_idx: usize, buf: u64, flags: i32) -> SysResult {
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let s = subject(ctx, dirfd, path_idx, flags)?;
    let host_file = !s.is_synthetic();
    let mut st = stat_subject(ctx, s)?;
    if host_file {
        (st.st_uid, st.st_gid) = ctx.shown_owner(st.st_uid, st.st_gid);
    }
    ctx.write(buf, sys::struct_bytes(&st))?;
    Ok(Outcome::Value(0))
}

/// stat(2).
pub fn stat(ctx: &mut Ctx) -> SysResult {
    let buf = ctx.arg(1);
    do_stat(ctx, AT_FDCWD, 0, buf, 0)
}

/// lstat(2).
pub fn lstat(ctx: &mut Ctx) -> SysResult {
    let buf = ctx.arg(1);
    do_stat(ctx, AT_FDCWD, 0, buf, libc::AT_SYMLINK_NOFOLLOW)
}

/// newfstatat(2) (glibc's fstat, stat and lstat all end here).
pub fn newfstatat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let (buf, flags) = (ctx.arg(2), ctx.arg_i32(3));
    do_stat(ctx, dirfd, 1, buf, flags)
}

/// statx(2).
pub fn statx(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let (flags, mask, buf) = (ctx.arg_i32(2), ctx.arg(3) as u32, ctx.arg(4));
    if mask & libc::STATX__RESERVED as u32 != 0 {
        return Err(Errno::EINVAL);
    }
    if flags
        & !(libc::AT_SYMLINK_NOFOLLOW
            | libc::AT_EMPTY_PATH
            | libc::AT_NO_AUTOMOUNT
            | libc::AT_STATX_SYNC_TYPE)
        != 0
        || flags & libc::AT_STATX_SYNC_TYPE == libc::AT_STATX_SYNC_TYPE
    {
        return Err(Errno::EINVAL);
    }
    let s = subject(ctx, dirfd, 1, flags)?;
    let host_file = !s.is_synthetic();
    let mut st = match s {
        Subject::Child { dir, name, .. } => {
            sys::statx_at(dir.as_fd(), &name, flags & !libc::AT_EMPTY_PATH, mask)?
        }
        Subject::CallerFd { fd, .. } => sys::statx_caller_fd(ctx.tid(), fd, flags, mask)?,
        Subject::Fd(fd) | Subject::Found(Found::Host(fd)) => {
            sys::statx_fd(fd.as_fd(), flags, mask)?
        }
        Subject::Found(Found::Synthetic { fs, rel, node }) => {
            if let Node::FdLink { host_tid, fd } = node {
                sys::statx_fd(sys::getfd(host_tid, fd)?.as_fd(), flags, mask)?
            } else {
                synthetic_statx(fs, &ctx.synthetic_attr(fs, &rel)?)
            }
        }
        Subject::FdLinkItself { fs, rel } => synthetic_statx(fs, &ctx.synthetic_attr(fs, &rel)?),
    };
    if host_file {
        (st.stx_uid, st.stx_gid) = ctx.shown_owner(st.stx_uid, st.stx_gid);
    }
    ctx.write(buf, sys::struct_bytes(&st))?;
    Ok(Outcome::Value(0))
}

fn do_access(ctx: &mut Ctx, dirfd: i32, mode: i32, flags: i32) -> SysResult {
    if mode & !(libc::R_OK | libc::W_OK | libc::X_OK) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & !(libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = ctx.path_arg(1)?;
    let (abs, flags) = if path.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
        // The file the fd refers to; its link is not followed again.
        let abs = if dirfd == AT_FDCWD {
            ctx.abs_path(AT_FDCWD, b".")?
        } else {
            ctx.fd_path(dirfd)?
        };
        (
            abs,
            (flags & !libc::AT_EMPTY_PATH) | libc::AT_SYMLINK_NOFOLLOW,
        )
    } else {
        (ctx.abs_path(dirfd, &path)?, flags & !libc::AT_EMPTY_PATH)
    };
    let creds = if flags & libc::AT_EACCESS != 0 {
        ctx.creds()?
    } else {
        ctx.real_creds()?
    };
    // A name that is not there (the dynamic loader's /etc/ld.so.preload
    // at every exec) fails without the gofer, when the credentials
    // access checks with are those the cached lookup checked.
    if creds == ctx.creds()? && ctx.cached_missing(&abs)?.is_some() {
        return Err(Errno::ENOENT);
    }
    ctx.on_path(
        &abs,
        |g, p, _c, l| g.access(p, mode, flags | libc::AT_EACCESS, &creds, l),
        |ctx, fs, rel, _| {
            let attr = ctx.synthetic_attr(fs, rel)?;
            let allowed = cred::may(&(&creds).into(), attr.uid, attr.gid, attr.mode, mode as u32);
            if allowed {
                Ok(())
            } else {
                Err(Errno::EACCES)
            }
        },
    )?;
    Ok(Outcome::Value(0))
}

/// access(2).
pub fn access(ctx: &mut Ctx) -> SysResult {
    // access(path, mode) has the path at 0: shift into faccessat's layout.
    ctx.req.args = [AT_FDCWD as u32 as u64, ctx.arg(0), ctx.arg(1), 0, 0, 0];
    let mode = ctx.arg_i32(2);
    do_access(ctx, AT_FDCWD, mode, 0)
}

/// faccessat(2) (no flags argument in the kernel).
pub fn faccessat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let mode = ctx.arg_i32(2);
    do_access(ctx, dirfd, mode, 0)
}

/// faccessat2(2).
pub fn faccessat2(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let (mode, flags) = (ctx.arg_i32(2), ctx.arg_i32(3));
    do_access(ctx, dirfd, mode, flags)
}

fn do_readlink(ctx: &mut Ctx, dirfd: i32, path_idx: usize, buf: u64, size: i64) -> SysResult {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = ctx.path_arg(path_idx)?;
    if path.is_empty() && dirfd != AT_FDCWD {
        // readlinkat(fd, "") reads the symlink an O_PATH|O_NOFOLLOW fd
        // refers to; any other file is ENOENT, as for an empty path.
        let fd = sys::getfd(ctx.tid(), dirfd)?;
        let st = sys::fstat_fd(fd.as_fd())?;
        if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
            return Err(Errno::ENOENT);
        }
        let target = sys::readlink_fd(fd.as_fd())?;
        let n = target.len().min(size as usize);
        ctx.write(buf, &target[..n])?;
        return Ok(Outcome::Value(n as i64));
    }
    let abs = ctx.abs_path(dirfd, &path)?;
    // Compilers canonicalise every include path: thousands of readlinks
    // of plain directories, each answered from a cached one.
    if let Some(child) = ctx.cached_parent(&abs)?.filter(|c| !c.trailing_slash) {
        // Most of them name a directory the cache holds, which it keeps
        // only when no symlink led there (the kernel named its fd so):
        // no link, and no host call to say so.
        if !vfs::walk::has_dot_component(&abs)
            && matches!(
                ctx.sentry.dcache.get(&vfs::normalize(&abs)),
                Some(dcache::Entry::Dir(_))
            )
        {
            return Err(Errno::EINVAL);
        }
        match child.stat() {
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => {
                let name = CString::new(child.name).map_err(|_| Errno::EINVAL)?;
                let target = sys::readlink_at(child.dir.as_fd(), &name)?;
                let n = target.len().min(size as usize);
                ctx.write(buf, &target[..n])?;
                return Ok(Outcome::Value(n as i64));
            }
            Ok(_) => return Err(Errno::EINVAL),
            Err(e @ (Errno::ENOENT | Errno::ENAMETOOLONG)) => return Err(e),
            Err(_) => {}
        }
    }
    let target: Vec<u8> = match ctx.resolve(&abs, Follow::NoFollow)? {
        Found::Host(fd) => {
            let st = sys::fstat_fd(fd.as_fd())?;
            if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
                return Err(Errno::EINVAL);
            }
            sys::readlink_fd(fd.as_fd())?
        }
        // The walk's lookup read the link already, after the access check
        // procfs's readlink makes (glibc programs read /proc/self/exe at
        // start: one host readlink of it instead of two).
        Found::Synthetic {
            fs: SynthFs::Proc,
            node: Node::Symlink(text),
            ..
        } => text.into_bytes(),
        Found::Synthetic {
            fs: SynthFs::Proc,
            rel,
            node,
        } => {
            let text = ctx.sentry.procfs.readlink(ctx.tid(), &rel)?;
            // A synthetic directory fd is, for the kernel, the empty
            // mount point: its link names the directory it was opened as.
            match node {
                Node::FdLink { host_tid, fd }
                    if vfs::SYNTHETIC_MOUNTS
                        .iter()
                        .any(|m| m.mount_point() == text) =>
                {
                    let tgid = sys::pidfd_info(host_tid)
                        .map(|i| i.tgid as i32)
                        .unwrap_or(host_tid);
                    ctx.sentry
                        .synthetic_dir_path(tgid, fd)
                        .unwrap_or(text)
                        .into_bytes()
                }
                _ => text.into_bytes(),
            }
        }
        Found::Synthetic { .. } => return Err(Errno::EINVAL),
    };
    let n = target.len().min(size as usize);
    ctx.write(buf, &target[..n])?;
    Ok(Outcome::Value(n as i64))
}

/// readlink(2).
pub fn readlink(ctx: &mut Ctx) -> SysResult {
    let (buf, size) = (ctx.arg(1), ctx.arg(2) as i32 as i64);
    do_readlink(ctx, AT_FDCWD, 0, buf, size)
}

/// readlinkat(2).
pub fn readlinkat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let (buf, size) = (ctx.arg(2), ctx.arg(3) as i32 as i64);
    do_readlink(ctx, dirfd, 1, buf, size)
}

/// statfs(2).
pub fn statfs(ctx: &mut Ctx) -> SysResult {
    let path = ctx.path_arg(0)?;
    let buf = ctx.arg(1);
    let abs = ctx.abs_path(AT_FDCWD, &path)?;
    let st = match ctx.resolve(&abs, Follow::Follow)? {
        Found::Host(fd) => sys::fstatfs(fd.as_fd())?,
        Found::Synthetic { fs, .. } => {
            let mut st: libc::statfs = sys::zeroed();
            st.f_type = match fs {
                SynthFs::Proc => 0x9fa0,
                SynthFs::Sys => 0x6265_6572,
            };
            st.f_bsize = 4096;
            st.f_namelen = 255;
            st.f_frsize = 4096;
            st
        }
    };
    ctx.write(buf, sys::struct_bytes(&st))?;
    Ok(Outcome::Value(0))
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use std::os::unix::fs::PermissionsExt;

    use nix::errno::Errno;

    use crate::sentry::testkit::{errno, value, Kit, CWD};

    /// struct stat (x86_64): st_mode at 24, st_size at 48, 144 bytes.
    const STAT_SIZE: usize = 144;
    fn mode(k: &Kit, buf: u64) -> u32 {
        k.platform.get_u32(buf + 24)
    }
    fn size(k: &Kit, buf: u64) -> u64 {
        k.platform.get_u64(buf + 48)
    }

    fn file(k: &Kit, name: &str, data: &str, perm: u32) {
        std::fs::write(k.host(name), data).unwrap();
        std::fs::set_permissions(k.host(name), std::fs::Permissions::from_mode(perm)).unwrap();
    }

    #[test]
    fn stat_writes_mode_and_size() {
        let k = Kit::new("stat");
        file(&k, "f", "12345", 0o640);
        let (p, buf) = (k.path("/f"), k.platform.buf(STAT_SIZE));
        assert_eq!(value(k.call("stat", [p, buf, 0, 0, 0, 0])), 0);
        assert_eq!(mode(&k, buf), libc::S_IFREG | 0o640);
        assert_eq!(size(&k, buf), 5);
        assert_eq!(k.platform.writes(), vec![(buf, STAT_SIZE)]);
    }

    #[test]
    fn stat_follows_and_lstat_does_not() {
        let k = Kit::new("lstat");
        file(&k, "f", "x", 0o600);
        std::os::unix::fs::symlink("f", k.host("l")).unwrap();
        let (p, buf) = (k.path("/l"), k.platform.buf(STAT_SIZE));
        value(k.call("stat", [p, buf, 0, 0, 0, 0]));
        assert_eq!(mode(&k, buf) & libc::S_IFMT, libc::S_IFREG);
        value(k.call("lstat", [p, buf, 0, 0, 0, 0]));
        assert_eq!(mode(&k, buf) & libc::S_IFMT, libc::S_IFLNK);
    }

    #[test]
    fn stat_missing_is_enoent_and_writes_nothing() {
        let k = Kit::new("stat-enoent");
        let (p, buf) = (k.path("/nope"), k.platform.buf(STAT_SIZE));
        assert_eq!(errno(k.call("stat", [p, buf, 0, 0, 0, 0])), Errno::ENOENT);
        assert!(k.platform.writes().is_empty());
    }

    #[test]
    fn stat_into_unmapped_memory_is_efault() {
        let k = Kit::new("stat-efault");
        file(&k, "f", "", 0o644);
        let p = k.path("/f");
        assert_eq!(errno(k.call("stat", [p, 0x20, 0, 0, 0, 0])), Errno::EFAULT);
    }

    #[test]
    fn stat_through_a_file_is_enotdir() {
        let k = Kit::new("stat-enotdir");
        file(&k, "f", "", 0o644);
        let (p, buf) = (k.path("/f/x"), k.platform.buf(STAT_SIZE));
        assert_eq!(errno(k.call("stat", [p, buf, 0, 0, 0, 0])), Errno::ENOTDIR);
    }

    #[test]
    fn newfstatat_of_a_directory() {
        let k = Kit::new("fstatat-dir");
        std::fs::create_dir(k.host("d")).unwrap();
        let (p, buf) = (k.path("/d"), k.platform.buf(STAT_SIZE));
        assert_eq!(value(k.call("newfstatat", [CWD, p, buf, 0, 0, 0])), 0);
        assert_eq!(mode(&k, buf) & libc::S_IFMT, libc::S_IFDIR);
    }

    #[test]
    fn stat_of_proc_is_a_directory() {
        let k = Kit::new("stat-proc");
        let (p, buf) = (k.path("/proc/self"), k.platform.buf(STAT_SIZE));
        assert_eq!(value(k.call("stat", [p, buf, 0, 0, 0, 0])), 0);
        assert_eq!(mode(&k, buf) & libc::S_IFMT, libc::S_IFDIR);
    }

    #[test]
    fn statx_reports_size_and_mode() {
        let k = Kit::new("statx");
        file(&k, "f", "abc", 0o604);
        let (p, buf) = (k.path("/f"), k.platform.buf(256));
        let mask = libc::STATX_BASIC_STATS as u64;
        assert_eq!(value(k.call("statx", [CWD, p, 0, mask, buf, 0])), 0);
        // struct statx: stx_mode (u16) at 28, stx_size at 40.
        assert_eq!(k.platform.get_u64(buf + 40), 3);
        let m = u16::from_le_bytes(k.platform.get(buf + 28, 2).try_into().unwrap());
        assert_eq!(u32::from(m), libc::S_IFREG | 0o604);
    }

    #[test]
    fn access_existing_and_missing() {
        let k = Kit::new("access");
        file(&k, "f", "", 0o644);
        let (p, q) = (k.path("/f"), k.path("/g"));
        assert_eq!(
            value(k.call("access", [p, libc::F_OK as u64, 0, 0, 0, 0])),
            0
        );
        assert_eq!(
            errno(k.call("access", [q, libc::F_OK as u64, 0, 0, 0, 0])),
            Errno::ENOENT
        );
    }

    #[test]
    fn access_x_ok_needs_an_exec_bit() {
        let k = Kit::new("access-x");
        file(&k, "f", "", 0o644);
        let p = k.path("/f");
        // Not even root may execute a file without any x bit.
        assert_eq!(
            errno(k.call("access", [p, libc::X_OK as u64, 0, 0, 0, 0])),
            Errno::EACCES
        );
    }

    #[test]
    fn readlink_copies_the_target_without_nul() {
        let k = Kit::new("readlink");
        std::os::unix::fs::symlink("target", k.host("l")).unwrap();
        let (p, buf) = (k.path("/l"), k.platform.buf(64));
        assert_eq!(value(k.call("readlink", [p, buf, 64, 0, 0, 0])), 6);
        assert_eq!(k.platform.get(buf, 7), b"target\0");
    }

    #[test]
    fn readlink_truncates_to_the_buffer() {
        let k = Kit::new("readlink-short");
        std::os::unix::fs::symlink("target", k.host("l")).unwrap();
        let (p, buf) = (k.path("/l"), k.platform.buf(64));
        assert_eq!(value(k.call("readlink", [p, buf, 3, 0, 0, 0])), 3);
        assert_eq!(k.platform.get(buf, 4), b"tar\0");
    }

    #[test]
    fn readlink_of_a_file_is_einval() {
        let k = Kit::new("readlink-file");
        file(&k, "f", "", 0o644);
        let (p, buf) = (k.path("/f"), k.platform.buf(64));
        assert_eq!(
            errno(k.call("readlink", [p, buf, 64, 0, 0, 0])),
            Errno::EINVAL
        );
    }

    #[test]
    fn readlink_proc_self_is_the_pid() {
        let k = Kit::new("readlink-proc");
        let (p, buf) = (k.path("/proc/self"), k.platform.buf(64));
        let n = value(k.call("readlink", [p, buf, 64, 0, 0, 0])) as usize;
        assert_eq!(
            String::from_utf8(k.platform.get(buf, n)).unwrap(),
            std::process::id().to_string()
        );
    }

    #[test]
    fn statfs_of_proc_is_procfs() {
        let k = Kit::new("statfs");
        let (p, buf) = (k.path("/proc"), k.platform.buf(120));
        assert_eq!(value(k.call("statfs", [p, buf, 0, 0, 0, 0])), 0);
        assert_eq!(k.platform.get_u64(buf), 0x9fa0, "PROC_SUPER_MAGIC");
    }

    #[test]
    fn statfs_of_the_tree_is_its_file_system() {
        let k = Kit::new("statfs-tree");
        let (p, buf) = (k.path("/"), k.platform.buf(120));
        assert_eq!(value(k.call("statfs", [p, buf, 0, 0, 0, 0])), 0);
        let host = nix::sys::statfs::statfs(&k.host("")).unwrap();
        assert_eq!(k.platform.get_u64(buf), host.filesystem_type().0 as u64);
    }

    /// Arguments Linux refuses before looking at the file, and the empty
    /// path without AT_EMPTY_PATH.
    #[test]
    fn bad_arguments_fail_as_linux() {
        let k = Kit::new("stat-args");
        let (root, empty, buf) = (k.path("/"), k.path(""), k.platform.buf(256));
        let basic = libc::STATX_BASIC_STATS as u64;
        let cases: [(&str, [u64; 6], Errno); 6] = [
            (
                "statx",
                [CWD, root, 0, libc::STATX__RESERVED as u64, buf, 0],
                Errno::EINVAL,
            ),
            ("statx", [CWD, root, 0x1, basic, buf, 0], Errno::EINVAL),
            ("access", [root, 8, 0, 0, 0, 0], Errno::EINVAL),
            ("faccessat2", [CWD, root, 0, 0x1, 0, 0], Errno::EINVAL),
            ("readlink", [root, buf, 0, 0, 0, 0], Errno::EINVAL),
            ("newfstatat", [CWD, empty, buf, 0, 0, 0], Errno::ENOENT),
        ];
        for (name, args, want) in cases {
            assert_eq!(errno(k.call(name, args)), want, "{name} {args:x?}");
        }
        assert!(k.platform.writes().is_empty());
    }
}
