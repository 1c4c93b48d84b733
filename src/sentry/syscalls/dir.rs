//! Directory entries: getdents64 and getdents (synthetic listings, and real directories
//! read through a duplicate of the caller's fd), and the calls that create,
//! remove, rename or link names, all done by the gofer.

use std::os::fd::AsFd;

use nix::errno::Errno;

use super::{Ctx, Outcome, SysResult, AT_FDCWD};
use crate::gofer::Follow;
use crate::sentry::fs::procfs::{EntryKind, Node};
use crate::sentry::sys;
use crate::sentry::vfs::{self, Location};

/// The record layout a directory-listing call writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirentLayout {
    /// getdents64(2): `struct linux_dirent64 { u64 d_ino; s64 d_off;
    /// u16 d_reclen; u8 d_type; char d_name[]; }`.
    Dirent64,
    /// The legacy getdents(2): `struct linux_dirent { unsigned long d_ino;
    /// unsigned long d_off; unsigned short d_reclen; char d_name[]; }`
    /// followed by a NUL, padding and `d_type` in the record's last byte
    /// (fs/readdir.c, `filldir`).
    Dirent,
}

/// Serialises directory records in `layout` starting at index `start`, as
/// many as fit in `count` bytes; returns the bytes and the next index.
pub fn encode_dirents(
    entries: &[crate::sentry::fs::procfs::DirEntry],
    start: usize,
    count: usize,
    layout: DirentLayout,
) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut i = start;
    while i < entries.len() {
        let e = &entries[i];
        let name = e.name.as_bytes();
        // Both layouts align a record to 8 bytes: linux_dirent64 after the
        // name's NUL, linux_dirent after the NUL and the d_type byte.
        let reclen = match layout {
            DirentLayout::Dirent64 => (19 + name.len() + 1).div_ceil(8) * 8,
            DirentLayout::Dirent => (18 + name.len() + 2).div_ceil(8) * 8,
        };
        if out.len() + reclen > count {
            break;
        }
        let d_type = match e.kind {
            EntryKind::Dir => libc::DT_DIR,
            EntryKind::File => libc::DT_REG,
            EntryKind::Symlink => libc::DT_LNK,
        };
        let record_start = out.len();
        out.extend_from_slice(&e.ino.to_ne_bytes());
        out.extend_from_slice(&((i + 1) as i64).to_ne_bytes());
        out.extend_from_slice(&(reclen as u16).to_ne_bytes());
        if layout == DirentLayout::Dirent64 {
            out.push(d_type);
        }
        out.extend_from_slice(name);
        out.resize(record_start + reclen, 0);
        if layout == DirentLayout::Dirent {
            out[record_start + reclen - 1] = d_type;
        }
        i += 1;
    }
    (out, i)
}

/// getdents64(2). For a synthetic directory the listing comes from its
/// file system and the position is the real fd's offset (so lseek and
/// rewinddir work); a real directory (a gofer fd) is listed by the kernel.
pub fn getdents64(ctx: &mut Ctx) -> SysResult {
    do_getdents(ctx, DirentLayout::Dirent64)
}

/// getdents(2), the legacy form that LeakSanitizer (sanitizer_common's
/// `internal_getdents` on x86_64) and old static binaries still issue:
/// as getdents64, in the old record layout.
pub fn getdents(ctx: &mut Ctx) -> SysResult {
    do_getdents(ctx, DirentLayout::Dirent)
}

fn do_getdents(ctx: &mut Ctx, layout: DirentLayout) -> SysResult {
    let (fd, dirp, count) = (ctx.arg_i32(0), ctx.arg(1), ctx.arg(2) as u32 as usize);
    ctx.note(|| fd.to_string());
    let st = sys::stat_caller_fd(ctx.tid(), fd)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    // Any other directory is listed by the kernel: no path is read, and
    // an fd swapped for a synthetic one meanwhile lists an empty directory.
    if (st.st_dev, st.st_ino) != ctx.sentry.synthetic_dir_id {
        return Ok(Outcome::Continue);
    }
    let dup = sys::getfd(ctx.tid(), fd)?;
    let count = count.min(1 << 20);
    // A process that is gone lists nothing (Linux: ENOENT).
    let path = ctx.recorded_synthetic_path(fd, Errno::ENOENT)?;
    let entries = match path.as_deref().map(|p| vfs::locate(p.as_bytes())) {
        Some(Location::Synthetic(fs, rel)) => match ctx.synthetic_lookup(fs, &rel)? {
            Node::Dir(e) => e,
            // Partial: Linux lists an fd/ opened while it was permitted.
            Node::Refused { errno, .. } => return Err(errno),
            _ => return Err(Errno::ENOTDIR),
        },
        // An fd we did not record (dup'ed to another number): empty.
        _ => Vec::new(),
    };
    let pos = sys::lseek(dup.as_fd(), 0, libc::SEEK_CUR)?.max(0) as usize;
    let (bytes, next) = encode_dirents(&entries, pos, count, layout);
    if bytes.is_empty() && pos < entries.len() {
        return Err(Errno::EINVAL);
    }
    ctx.write(dirp, &bytes)?;
    sys::lseek(dup.as_fd(), next as i64, libc::SEEK_SET)?;
    Ok(Outcome::Value(bytes.len() as i64))
}

/// Creating or removing names in a synthetic mount is refused, as
/// procfs/sysfs refuse it.
fn refuse<T>(_: &mut Ctx, _: vfs::SynthFs, _: &str, _: u32) -> Result<T, Errno> {
    Err(Errno::EACCES)
}

fn do_mkdir(ctx: &mut Ctx, dirfd: i32, path_idx: usize, mode: u32) -> SysResult {
    let path = ctx.path_arg(path_idx)?;
    let abs = ctx.abs_path(dirfd, &path)?;
    // A name that is there already (tar makes every parent again) fails
    // before any write permission or read-only mount is looked at.
    if let Some(child) = ctx.cached_parent(&abs)? {
        if child.stat().is_ok() {
            return Err(Errno::EEXIST);
        }
    }
    let (mode, umask) = (mode & 0o7777, ctx.umask());
    ctx.on_path(
        &abs,
        |g, p, c, l| g.mkdir(p, mode, umask, c, l),
        |ctx, fs, rel, l| {
            if rel.is_empty() {
                Err(Errno::EEXIST)
            } else {
                refuse(ctx, fs, rel, l)
            }
        },
    )?;
    Ok(Outcome::Value(0))
}

/// mkdir(2).
pub fn mkdir(ctx: &mut Ctx) -> SysResult {
    let mode = ctx.arg(1) as u32;
    do_mkdir(ctx, AT_FDCWD, 0, mode)
}

/// mkdirat(2).
pub fn mkdirat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let mode = ctx.arg(2) as u32;
    do_mkdir(ctx, dirfd, 1, mode)
}

fn do_unlink(ctx: &mut Ctx, dirfd: i32, path_idx: usize, remove_dir: bool) -> SysResult {
    let path = ctx.path_arg(path_idx)?;
    let abs = ctx.abs_path(dirfd, &path)?;
    // A name that is not there (tar and `rm -f` remove every name before
    // they make it) fails without the gofer: Linux looks it up right after
    // it checks for a read-only mount, and the caller may search the
    // directory (`cached_parent` checked).
    if ctx
        .cached_missing(&abs)?
        .is_some_and(|child| !child.on_read_only_mount())
    {
        return Err(Errno::ENOENT);
    }
    if remove_dir {
        // Some task's cwd may be the directory.
        ctx.sentry.kernel.creds.cwd_moving(ctx.tid());
    }
    let removed = ctx.on_path(
        &abs,
        |g, p, c, l| g.unlink(p, remove_dir, c, l),
        |ctx, fs, rel, l| {
            if rel.is_empty() {
                Err(Errno::EBUSY)
            } else {
                refuse(ctx, fs, rel, l)
            }
        },
    );
    if remove_dir {
        ctx.sentry.kernel.creds.cwd_moved(ctx.tid());
    }
    removed?;
    ctx.sentry.dcache.forget(&abs);
    Ok(Outcome::Value(0))
}

/// rmdir(2).
pub fn rmdir(ctx: &mut Ctx) -> SysResult {
    do_unlink(ctx, AT_FDCWD, 0, true)
}

/// unlink(2).
pub fn unlink(ctx: &mut Ctx) -> SysResult {
    do_unlink(ctx, AT_FDCWD, 0, false)
}

/// unlinkat(2).
pub fn unlinkat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let flags = ctx.arg_i32(2);
    if flags & !libc::AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    do_unlink(ctx, dirfd, 1, flags & libc::AT_REMOVEDIR != 0)
}

/// Two-path calls: a synthetic path on either side is another mount (EXDEV).
fn two_paths(
    ctx: &mut Ctx,
    olddirfd: i32,
    old_idx: usize,
    newdirfd: i32,
    new_idx: usize,
) -> Result<(Vec<u8>, Vec<u8>), Errno> {
    let old = ctx.path_arg(old_idx)?;
    let new = ctx.path_arg(new_idx)?;
    let old = ctx.abs_path(olddirfd, &old)?;
    let new = ctx.abs_path(newdirfd, &new)?;
    for p in [&old, &new] {
        if let Location::Synthetic(_, rel) = vfs::locate(p) {
            return Err(if rel.is_empty() {
                Errno::EBUSY
            } else {
                Errno::EXDEV
            });
        }
    }
    Ok((old, new))
}

fn do_rename(ctx: &mut Ctx, od: i32, oi: usize, nd: i32, ni: usize, flags: u32) -> SysResult {
    let known = libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE | libc::RENAME_WHITEOUT;
    if flags & !known != 0
        || (flags & libc::RENAME_EXCHANGE != 0
            && flags & (libc::RENAME_NOREPLACE | libc::RENAME_WHITEOUT) != 0)
    {
        return Err(Errno::EINVAL);
    }
    if flags & libc::RENAME_WHITEOUT != 0 {
        // Whiteouts are device nodes: as denied as mknod of a device.
        return Err(Errno::EPERM);
    }
    let (old, new) = two_paths(ctx, od, oi, nd, ni)?;
    let creds = ctx.creds()?;
    // A directory moved (or exchanged) may hold some task's cwd.
    ctx.sentry.kernel.creds.cwd_moving(ctx.tid());
    let renamed = ctx.gofer.rename(&old, &new, flags, &creds, 0);
    ctx.sentry.kernel.creds.cwd_moved(ctx.tid());
    // Even a failed rename may have moved something (a transport error
    // after the gofer's renameat2).
    ctx.sentry.dcache.forget(&old);
    ctx.sentry.dcache.forget(&new);
    match renamed? {
        crate::gofer::Walked::Done(()) => Ok(Outcome::Value(0)),
        crate::gofer::Walked::Redirect(_) => Err(Errno::EXDEV),
    }
}

/// rename(2).
pub fn rename(ctx: &mut Ctx) -> SysResult {
    do_rename(ctx, AT_FDCWD, 0, AT_FDCWD, 1, 0)
}

/// renameat(2).
pub fn renameat(ctx: &mut Ctx) -> SysResult {
    let (od, nd) = (ctx.dirfd_arg(0), ctx.arg_i32(2));
    do_rename(ctx, od, 1, nd, 3, 0)
}

/// renameat2(2): NOREPLACE and EXCHANGE; WHITEOUT is refused.
pub fn renameat2(ctx: &mut Ctx) -> SysResult {
    let (od, nd, flags) = (ctx.dirfd_arg(0), ctx.arg_i32(2), ctx.arg(4) as u32);
    do_rename(ctx, od, 1, nd, 3, flags)
}

fn do_symlink(ctx: &mut Ctx, target_idx: usize, dirfd: i32, link_idx: usize) -> SysResult {
    let target = ctx.path_arg(target_idx)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let link = ctx.path_arg(link_idx)?;
    let abs = ctx.abs_path(dirfd, &link)?;
    ctx.on_path(
        &abs,
        |g, p, c, l| g.symlink(&target, p, c, l),
        |ctx, fs, rel, l| {
            if rel.is_empty() {
                Err(Errno::EEXIST)
            } else {
                refuse(ctx, fs, rel, l)
            }
        },
    )?;
    Ok(Outcome::Value(0))
}

/// symlink(2).
pub fn symlink(ctx: &mut Ctx) -> SysResult {
    do_symlink(ctx, 0, AT_FDCWD, 1)
}

/// symlinkat(2).
pub fn symlinkat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.arg_i32(1);
    do_symlink(ctx, 0, dirfd, 2)
}

fn do_link(ctx: &mut Ctx, od: i32, oi: usize, nd: i32, ni: usize, flags: i32) -> SysResult {
    if flags & !(libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let follow = if flags & libc::AT_SYMLINK_FOLLOW != 0 {
        Follow::Follow
    } else {
        Follow::NoFollow
    };
    let (old, new) = if flags & libc::AT_EMPTY_PATH != 0 && ctx.path_arg(oi)?.is_empty() {
        // linkat(fd, "", ..., AT_EMPTY_PATH): the file the fd refers to.
        let old = ctx.fd_path(od)?;
        let newp = ctx.path_arg(ni)?;
        (old, ctx.abs_path(nd, &newp)?)
    } else {
        if follow == Follow::Follow {
            if let Some(r) = link_through_fd_link(ctx, od, oi, nd, ni) {
                return r;
            }
        }
        two_paths(ctx, od, oi, nd, ni)?
    };
    let creds = ctx.creds()?;
    match ctx.gofer.link(&old, &new, follow, &creds, 0)? {
        crate::gofer::Walked::Done(()) => Ok(Outcome::Value(0)),
        crate::gofer::Walked::Redirect(_) => Err(Errno::EXDEV),
    }
}

/// linkat(AT_SYMLINK_FOLLOW) of a /proc/<pid>/fd/N link: the open file
/// itself, named or not (O_TMPFILE), as Linux follows the magic link.
/// None when the old path is no such link.
fn link_through_fd_link(
    ctx: &mut Ctx,
    od: i32,
    oi: usize,
    nd: i32,
    ni: usize,
) -> Option<SysResult> {
    let run = |ctx: &mut Ctx| -> Result<Option<Outcome>, Errno> {
        let oldp = ctx.path_arg(oi)?;
        let old = ctx.abs_path(od, &oldp)?;
        let Location::Synthetic(fs, rel) = vfs::locate(&old) else {
            return Ok(None);
        };
        let (host_tid, fd) = match ctx.synthetic_lookup(fs, &rel) {
            Ok(Node::FdLink { host_tid, fd }) => (host_tid, fd),
            Ok(Node::Refused {
                kind: EntryKind::Symlink,
                errno,
            }) => return Err(errno),
            _ => return Ok(None),
        };
        let newp = ctx.path_arg(ni)?;
        let new = ctx.abs_path(nd, &newp)?;
        if let Location::Synthetic(..) = vfs::locate(&new) {
            return Err(Errno::EXDEV);
        }
        let file = sys::getfd(host_tid, fd).map_err(|_| Errno::ENOENT)?;
        let creds = ctx.creds()?;
        match ctx.gofer.link_fd(file.as_fd(), &new, &creds, 0)? {
            crate::gofer::Walked::Done(()) => Ok(Some(Outcome::Value(0))),
            crate::gofer::Walked::Redirect(_) => Err(Errno::EXDEV),
        }
    };
    match run(ctx) {
        Ok(None) => None,
        Ok(Some(o)) => Some(Ok(o)),
        Err(e) => Some(Err(e)),
    }
}

/// link(2).
pub fn link(ctx: &mut Ctx) -> SysResult {
    do_link(ctx, AT_FDCWD, 0, AT_FDCWD, 1, 0)
}

/// linkat(2).
pub fn linkat(ctx: &mut Ctx) -> SysResult {
    let (od, nd, flags) = (ctx.dirfd_arg(0), ctx.arg_i32(2), ctx.arg_i32(4));
    do_link(ctx, od, 1, nd, 3, flags)
}

fn do_mknod(ctx: &mut Ctx, dirfd: i32, path_idx: usize, mode: u32, dev: u64) -> SysResult {
    let kind = mode & libc::S_IFMT;
    match kind {
        0 | libc::S_IFREG | libc::S_IFIFO | libc::S_IFSOCK => {}
        // Device nodes would reach host devices: only the spec's devices
        // exist in the container.
        libc::S_IFCHR | libc::S_IFBLK => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    }
    let path = ctx.path_arg(path_idx)?;
    let abs = ctx.abs_path(dirfd, &path)?;
    let mode = (if kind == 0 { libc::S_IFREG } else { kind }) | (mode & 0o7777);
    let umask = ctx.umask();
    ctx.on_path(
        &abs,
        |g, p, c, l| g.mknod(p, mode, umask, dev, c, l),
        refuse,
    )?;
    Ok(Outcome::Value(0))
}

/// mknod(2): regular files, fifos and sockets; device nodes are EPERM.
pub fn mknod(ctx: &mut Ctx) -> SysResult {
    let (mode, dev) = (ctx.arg(1) as u32, ctx.arg(2));
    do_mknod(ctx, AT_FDCWD, 0, mode, dev)
}

/// mknodat(2).
pub fn mknodat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let (mode, dev) = (ctx.arg(2) as u32, ctx.arg(3));
    do_mknod(ctx, dirfd, 1, mode, dev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentry::fs::procfs::DirEntry;

    #[test]
    fn dirents_are_aligned_and_resume() {
        let e: Vec<DirEntry> = ["a", "bb", "a-much-longer-name"]
            .iter()
            .enumerate()
            .map(|(i, n)| DirEntry {
                name: n.to_string(),
                kind: EntryKind::File,
                ino: i as u64 + 10,
            })
            .collect();
        let (b, next) = encode_dirents(&e, 0, 48, DirentLayout::Dirent64);
        assert_eq!(next, 2);
        assert_eq!(b.len(), 48);
        assert_eq!(u16::from_ne_bytes([b[16], b[17]]), 24);
        let (b2, next2) = encode_dirents(&e, next, 4096, DirentLayout::Dirent64);
        assert_eq!(next2, 3);
        assert_eq!(&b2[19..37], b"a-much-longer-name");
        assert_eq!(b2.len() % 8, 0);
    }

    #[test]
    fn legacy_dirents_put_the_type_last() {
        let e: Vec<DirEntry> = [("a", EntryKind::Dir), ("abcdef", EntryKind::Symlink)]
            .iter()
            .enumerate()
            .map(|(i, (n, k))| DirEntry {
                name: n.to_string(),
                kind: *k,
                ino: i as u64 + 7,
            })
            .collect();
        let (b, next) = encode_dirents(&e, 0, 4096, DirentLayout::Dirent);
        assert_eq!(next, 2);
        // "a": 18 + 1 + NUL + d_type = 21 -> 24; "abcdef": 26 -> 32.
        assert_eq!(u16::from_ne_bytes([b[16], b[17]]), 24);
        assert_eq!(&b[18..20], b"a\0");
        assert_eq!(b[23], libc::DT_DIR);
        assert_eq!(u64::from_ne_bytes(b[24..32].try_into().unwrap()), 8);
        assert_eq!(u16::from_ne_bytes([b[40], b[41]]), 32);
        assert_eq!(&b[42..49], b"abcdef\0");
        assert_eq!(b[55], libc::DT_LNK);
        assert_eq!(b.len(), 56);
        // A buffer that holds only the first record.
        let (b, next) = encode_dirents(&e, 0, 31, DirentLayout::Dirent);
        assert_eq!((b.len(), next), (24, 1));
    }
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

    use nix::errno::Errno;

    use crate::sentry::testkit::{errno, value, Kit, CWD};

    #[test]
    fn mkdir_makes_a_directory() {
        let k = Kit::new("mkdir");
        let p = k.path("/d");
        assert_eq!(value(k.call("mkdir", [p, 0o750, 0, 0, 0, 0])), 0);
        let m = std::fs::metadata(k.host("d")).unwrap();
        assert!(m.is_dir());
        assert_eq!(m.permissions().mode() & !0o750 & 0o777, 0);
    }

    #[test]
    fn mkdir_existing_is_eexist() {
        let k = Kit::new("mkdir-eexist");
        std::fs::create_dir(k.host("d")).unwrap();
        let p = k.path("/d");
        assert_eq!(
            errno(k.call("mkdir", [p, 0o755, 0, 0, 0, 0])),
            Errno::EEXIST
        );
    }

    #[test]
    fn mkdir_without_parent_is_enoent() {
        let k = Kit::new("mkdir-enoent");
        let p = k.path("/a/b");
        assert_eq!(
            errno(k.call("mkdir", [p, 0o755, 0, 0, 0, 0])),
            Errno::ENOENT
        );
    }

    #[test]
    fn mkdirat_with_cwd_and_absolute_path() {
        let k = Kit::new("mkdirat");
        let p = k.path("/e");
        assert_eq!(value(k.call("mkdirat", [CWD, p, 0o700, 0, 0, 0])), 0);
        assert!(k.host("e").is_dir());
    }

    #[test]
    fn rmdir_removes_an_empty_directory() {
        let k = Kit::new("rmdir");
        std::fs::create_dir(k.host("d")).unwrap();
        let p = k.path("/d");
        assert_eq!(value(k.call("rmdir", [p, 0, 0, 0, 0, 0])), 0);
        assert!(!k.host("d").exists());
    }

    #[test]
    fn rmdir_non_empty_is_enotempty() {
        let k = Kit::new("rmdir-full");
        std::fs::create_dir(k.host("d")).unwrap();
        std::fs::write(k.host("d/f"), "").unwrap();
        let p = k.path("/d");
        assert_eq!(errno(k.call("rmdir", [p, 0, 0, 0, 0, 0])), Errno::ENOTEMPTY);
    }

    #[test]
    fn rmdir_of_a_file_is_enotdir() {
        let k = Kit::new("rmdir-file");
        std::fs::write(k.host("f"), "").unwrap();
        let p = k.path("/f");
        assert_eq!(errno(k.call("rmdir", [p, 0, 0, 0, 0, 0])), Errno::ENOTDIR);
    }

    #[test]
    fn unlink_removes_a_file() {
        let k = Kit::new("unlink");
        std::fs::write(k.host("f"), "").unwrap();
        let p = k.path("/f");
        assert_eq!(value(k.call("unlink", [p, 0, 0, 0, 0, 0])), 0);
        assert!(!k.host("f").exists());
    }

    #[test]
    fn unlink_of_a_directory_is_eisdir() {
        let k = Kit::new("unlink-dir");
        std::fs::create_dir(k.host("d")).unwrap();
        let p = k.path("/d");
        assert_eq!(errno(k.call("unlink", [p, 0, 0, 0, 0, 0])), Errno::EISDIR);
    }

    #[test]
    fn unlinkat_removedir_and_bad_flags() {
        let k = Kit::new("unlinkat");
        std::fs::create_dir(k.host("d")).unwrap();
        let p = k.path("/d");
        assert_eq!(
            errno(k.call("unlinkat", [CWD, p, 0x1, 0, 0, 0])),
            Errno::EINVAL
        );
        let rm = libc::AT_REMOVEDIR as u64;
        assert_eq!(value(k.call("unlinkat", [CWD, p, rm, 0, 0, 0])), 0);
        assert!(!k.host("d").exists());
    }

    #[test]
    fn rename_moves_a_file() {
        let k = Kit::new("rename");
        std::fs::write(k.host("a"), "A").unwrap();
        let (a, b) = (k.path("/a"), k.path("/b"));
        assert_eq!(value(k.call("rename", [a, b, 0, 0, 0, 0])), 0);
        assert_eq!(std::fs::read_to_string(k.host("b")).unwrap(), "A");
        assert!(!k.host("a").exists());
    }

    #[test]
    fn renameat2_noreplace_on_existing_is_eexist() {
        let k = Kit::new("renameat2");
        std::fs::write(k.host("a"), "A").unwrap();
        std::fs::write(k.host("b"), "B").unwrap();
        let (a, b) = (k.path("/a"), k.path("/b"));
        let noreplace = libc::RENAME_NOREPLACE as u64;
        assert_eq!(
            errno(k.call("renameat2", [CWD, a, CWD, b, noreplace, 0])),
            Errno::EEXIST
        );
        assert_eq!(std::fs::read_to_string(k.host("b")).unwrap(), "B");
    }

    #[test]
    fn renameat2_exchange_swaps() {
        let k = Kit::new("renameat2-x");
        std::fs::write(k.host("a"), "A").unwrap();
        std::fs::write(k.host("b"), "B").unwrap();
        let (a, b) = (k.path("/a"), k.path("/b"));
        let exchange = libc::RENAME_EXCHANGE as u64;
        assert_eq!(value(k.call("renameat2", [CWD, a, CWD, b, exchange, 0])), 0);
        assert_eq!(std::fs::read_to_string(k.host("a")).unwrap(), "B");
        assert_eq!(std::fs::read_to_string(k.host("b")).unwrap(), "A");
    }

    #[test]
    fn symlink_stores_the_target_as_given() {
        let k = Kit::new("symlink");
        let (t, l) = (k.path("../../etc/x"), k.path("/l"));
        assert_eq!(value(k.call("symlink", [t, l, 0, 0, 0, 0])), 0);
        assert_eq!(
            std::fs::read_link(k.host("l")).unwrap(),
            std::path::Path::new("../../etc/x")
        );
    }

    #[test]
    fn symlink_empty_target_is_enoent() {
        let k = Kit::new("symlink-empty");
        let (t, l) = (k.path(""), k.path("/l"));
        assert_eq!(errno(k.call("symlink", [t, l, 0, 0, 0, 0])), Errno::ENOENT);
    }

    #[test]
    fn link_makes_a_second_name() {
        let k = Kit::new("link");
        std::fs::write(k.host("f"), "").unwrap();
        let (a, b) = (k.path("/f"), k.path("/g"));
        assert_eq!(value(k.call("link", [a, b, 0, 0, 0, 0])), 0);
        assert_eq!(std::fs::metadata(k.host("f")).unwrap().nlink(), 2);
    }

    #[test]
    fn linkat_unknown_flag_is_einval() {
        let k = Kit::new("linkat");
        let (a, b) = (k.path("/f"), k.path("/g"));
        assert_eq!(
            errno(k.call("linkat", [CWD, a, CWD, b, 0x1, 0])),
            Errno::EINVAL
        );
    }

    #[test]
    fn mknod_makes_a_fifo() {
        let k = Kit::new("mknod");
        let p = k.path("/fifo");
        let mode = (libc::S_IFIFO | 0o600) as u64;
        assert_eq!(value(k.call("mknod", [p, mode, 0, 0, 0, 0])), 0);
        assert!(std::fs::metadata(k.host("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
    }

    #[test]
    fn mknod_block_device_is_refused() {
        let k = Kit::new("mknod-blk");
        let p = k.path("/blk");
        let mode = (libc::S_IFBLK | 0o600) as u64;
        let e = errno(k.call("mknod", [p, mode, libc::makedev(8, 0), 0, 0, 0]));
        assert!(matches!(e, Errno::EPERM | Errno::EINVAL), "{e}");
        assert!(!k.host("blk").exists());
    }

    /// The names in a getdents64 buffer (struct linux_dirent64: d_reclen
    /// at 16, the name from 19).
    fn dirent_names(bytes: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        let mut off = 0;
        while off + 19 <= bytes.len() {
            let reclen = u16::from_le_bytes([bytes[off + 16], bytes[off + 17]]) as usize;
            let name = &bytes[off + 19..off + reclen];
            let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
            names.push(String::from_utf8_lossy(&name[..end]).into_owned());
            off += reclen;
        }
        names
    }

    /// A synthetic directory fd (recorded at its install, as the sentry
    /// does) lists the sentry's entries.
    #[test]
    fn getdents64_lists_a_synthetic_directory() {
        use std::os::fd::AsRawFd;
        let k = Kit::new("getdents");
        let p = k.path("/proc/self");
        let flags = (libc::O_RDONLY | libc::O_DIRECTORY) as u64;
        let (dir, record) = match k.call("open", [p, flags, 0, 0, 0, 0]) {
            Ok(crate::sentry::syscalls::Outcome::DirFd { fd, dir, .. }) => (fd, dir),
            _ => panic!("a synthetic directory fd"),
        };
        let held = dir.try_clone().unwrap();
        let raw = dir.as_raw_fd();
        k.sentry
            .remember_synthetic_dir(std::process::id() as i32, raw, record, held);
        let buf = k.platform.buf(8192);
        let n = value(k.call("getdents64", [raw as u64, buf, 8192, 0, 0, 0])) as usize;
        let names = dirent_names(&k.platform.get(buf, n));
        for want in [".", "..", "status", "fd", "cwd"] {
            assert!(names.iter().any(|x| x == want), "{want} in {names:?}");
        }
        // The end: 0.
        assert_eq!(
            value(k.call("getdents64", [raw as u64, buf, 8192, 0, 0, 0])),
            0
        );
    }
}
