//! The open family: a gofer-backed open ends with the gofer's host fd
//! installed in the caller; synthetic files are generated into a sealed
//! memfd, synthetic directories get a real (empty) directory fd.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::errno::Errno;

use super::{Ctx, Found, Outcome, SysResult, AT_FDCWD, PATH_MAX};
use crate::gofer::{Follow, Walked};
use crate::sentry::fs::hostproc;
use crate::sentry::fs::procfs::{EntryKind, Node};
use crate::sentry::vfs::{self, Location, SynthFs};
use crate::sentry::{cred, sys};

/// Flags the kernel accepts in open's flags word; others are ignored by
/// open(2) and rejected by openat2(2).
const VALID_OPEN_FLAGS: i32 = libc::O_ACCMODE
    | libc::O_CREAT
    | libc::O_EXCL
    | libc::O_NOCTTY
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_ASYNC
    | libc::O_DIRECT
    | libc::O_LARGEFILE
    | libc::O_DIRECTORY
    | libc::O_NOFOLLOW
    | libc::O_NOATIME
    | libc::O_CLOEXEC
    | libc::O_PATH
    | libc::O_SYNC
    | libc::O_TMPFILE;

/// Opens a task's real /proc file: `comm` or `oom_score_adj` for
/// writing, `mem` for anything (`procfs::real_file`). The caller's
/// permission is checked here as Linux does (the file's owner is the
/// task's effective uid, see `procfs::attr`; mem's ptrace check is the
/// lookup's, `procfs::refusal`), then the gofer opens the real file
/// (`gofer::proto::OpenProcFileReq`) and the workload reads or writes it
/// itself, so the kernel applies its rules to the task that does.
/// `Ok(None)`: not such a file.
fn open_real_task_file(
    ctx: &mut Ctx,
    fs: SynthFs,
    rel: &str,
    flags: i32,
    write: bool,
    cloexec: bool,
) -> Result<Option<Outcome>, Errno> {
    if fs != SynthFs::Proc || flags & libc::O_PATH != 0 {
        return Ok(None);
    }
    let Some((pid, tid, file)) = ctx.sentry.procfs.real_file(ctx.tid(), rel, write)? else {
        return Ok(None);
    };
    let attr = ctx.synthetic_attr(fs, rel)?;
    let creds = ctx.creds()?;
    // The access mode's bits (O_RDONLY|O_TRUNC writes too; the access
    // mode 3 needs both, as on Linux).
    let want = match flags & libc::O_ACCMODE {
        libc::O_RDONLY if !write => 0o4,
        libc::O_WRONLY => 0o2,
        _ => 0o6,
    };
    if !cred::may(&(&creds).into(), attr.uid, attr.gid, attr.mode, want) {
        return Err(Errno::EACCES);
    }
    // The file exists (O_CREAT is moot) and O_CLOEXEC is the caller's fd
    // flag; what else open(2) accepts changes nothing for these files.
    let gofer_flags = flags & (libc::O_ACCMODE | libc::O_TRUNC | libc::O_APPEND | libc::O_NONBLOCK);
    let fd = ctx.gofer.open_proc_file(pid, tid, file, gofer_flags)?;
    Ok(Some(Outcome::Fd { fd, cloexec }))
}

/// open(2) implements linux syscall open.
pub fn open(ctx: &mut Ctx) -> SysResult {
    let path = ctx.path_arg(0)?;
    let (flags, mode) = (ctx.arg_i32(1), ctx.arg(2) as u32);
    do_open(ctx, AT_FDCWD, &path, flags, mode, 0, Redo::Allowed)
}

/// openat(2).
pub fn openat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let path = ctx.path_arg(1)?;
    let (flags, mode) = (ctx.arg_i32(2), ctx.arg(3) as u32);
    do_open(ctx, dirfd, &path, flags, mode, 0, Redo::Allowed)
}

/// creat(2): open(path, O_CREAT|O_WRONLY|O_TRUNC, mode).
pub fn creat(ctx: &mut Ctx) -> SysResult {
    let path = ctx.path_arg(0)?;
    let mode = ctx.arg(1) as u32;
    do_open(
        ctx,
        AT_FDCWD,
        &path,
        libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC,
        mode,
        0,
        Redo::Refused,
    )
}

/// openat2(2). RESOLVE_* flags: NO_SYMLINKS, NO_MAGICLINKS and NO_XDEV are
/// approximated by the gofer's confined walk (partial, see the table);
/// BENEATH/IN_ROOT are checked lexically against the dirfd.
pub fn openat2(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let path = ctx.path_arg(1)?;
    let (how_addr, size) = (ctx.arg(2), ctx.arg(3) as usize);
    let how_size = std::mem::size_of::<libc::open_how>();
    if size < how_size {
        return Err(Errno::EINVAL);
    }
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    let bytes = ctx.read_bytes(how_addr, size)?;
    // Bytes past the struct this kernel knows must be zero (E2BIG otherwise).
    if bytes[how_size..].iter().any(|b| *b != 0) {
        return Err(Errno::E2BIG);
    }
    let how: libc::open_how = sys::struct_from_bytes(&bytes).ok_or(Errno::EFAULT)?;
    let known_resolve = libc::RESOLVE_NO_XDEV
        | libc::RESOLVE_NO_MAGICLINKS
        | libc::RESOLVE_NO_SYMLINKS
        | libc::RESOLVE_BENEATH
        | libc::RESOLVE_IN_ROOT
        | libc::RESOLVE_CACHED;
    if how.flags & !(VALID_OPEN_FLAGS as u64) != 0 || how.resolve & !known_resolve != 0 {
        return Err(Errno::EINVAL);
    }
    let flags = how.flags as i32;
    if flags & (libc::O_CREAT | libc::O_TMPFILE) == 0 && how.mode != 0 {
        return Err(Errno::EINVAL);
    }
    if how.resolve & libc::RESOLVE_CACHED != 0 {
        return Err(Errno::EAGAIN);
    }
    let mut path = path;
    if how.resolve & (libc::RESOLVE_BENEATH | libc::RESOLVE_IN_ROOT) != 0 {
        let beneath = how.resolve & libc::RESOLVE_BENEATH != 0;
        if path.first() == Some(&b'/') {
            if beneath {
                return Err(Errno::EXDEV);
            }
            path = path[1..].to_vec();
        }
        // Lexically, the path must stay under the dirfd: BENEATH refuses a
        // ".." above it, IN_ROOT drops it (".." at the root is the root).
        let mut depth: i64 = 0;
        let mut kept: Vec<&[u8]> = Vec::new();
        for c in path.split(|b| *b == b'/') {
            match c {
                b"" | b"." => continue,
                b".." if depth == 0 => {
                    if beneath {
                        return Err(Errno::EXDEV);
                    }
                    continue;
                }
                b".." => depth -= 1,
                _ => depth += 1,
            }
            kept.push(c);
        }
        let trailing_slash = path.ends_with(b"/");
        path = kept.join(&b'/');
        if trailing_slash && !path.is_empty() {
            // "dir/" keeps its meaning (ENOTDIR for a file, EISDIR with O_CREAT).
            path.push(b'/');
        }
        if path.is_empty() {
            path = b".".to_vec();
        }
    }
    if how.resolve & libc::RESOLVE_BENEATH != 0 && !resolves_beneath(ctx, dirfd, &path, flags)? {
        return Err(Errno::EXDEV);
    }
    // Its flags are in the caller's memory: a kernel that redid the open
    // would read them again, after the sentry's check.
    do_open(
        ctx,
        dirfd,
        &path,
        flags,
        how.mode as u32,
        how.resolve,
        Redo::Refused,
    )
}

/// RESOLVE_BENEATH beyond the lexical check: an existing target reached
/// through symlinks must still lie under the dirfd. Both sides are compared
/// as the kernel names them (the sentry's readlink of the gofer's handle
/// and of the dirfd's), so symlinks in either are accounted for. A missing
/// target (O_CREAT) and synthetic files are not checked (partial).
fn resolves_beneath(ctx: &mut Ctx, dirfd: i32, path: &[u8], flags: i32) -> Result<bool, Errno> {
    let abs = ctx.abs_path(dirfd, path)?;
    let follow = if flags & libc::O_NOFOLLOW != 0 {
        Follow::NoFollow
    } else {
        Follow::Follow
    };
    let base = if dirfd == AT_FDCWD {
        ctx.abs_path(AT_FDCWD, b".")?
    } else {
        ctx.fd_path(dirfd)?
    };
    let (Ok(Found::Host(target)), Ok(Found::Host(base))) = (
        ctx.resolve(&abs, follow),
        ctx.resolve(&base, Follow::Follow),
    ) else {
        return Ok(true);
    };
    let name = |fd: &OwnedFd| {
        std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .map(|p| p.into_os_string().into_encoded_bytes())
    };
    let (Ok(target), Ok(base)) = (name(&target), name(&base)) else {
        return Ok(true);
    };
    let base = base.strip_suffix(b"/").unwrap_or(&base);
    Ok(target.starts_with(base)
        && (target.len() == base.len() || target.get(base.len()) == Some(&b'/') || base.is_empty()))
}

/// Whether the workload's kernel may redo an open the sentry found safe to
/// leave to it (see `open_cached`): only for open and openat, whose flags
/// are in registers, where the sentry read them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Redo {
    Allowed,
    Refused,
}

/// Whether the workload's kernel may redo an open of the workload's
/// string `path`: it walks it from the container's root (the workload
/// cannot chroot), the same walk as the sentry's, when the string is
/// absolute and has no dot components; and only where the workload's
/// kernel can open no device node but the sandbox's (the devices cgroup,
/// or nodev on every other mount: `SandboxInfo::devices_confined`), since
/// a path rewritten meanwhile may name a device node of the image.
fn redo_for(path: &[u8], redo: Redo, devices_confined: bool) -> Redo {
    if redo == Redo::Allowed
        && devices_confined
        && path.first() == Some(&b'/')
        && !vfs::walk::has_dot_component(path)
    {
        Redo::Allowed
    } else {
        Redo::Refused
    }
}

fn do_open(
    ctx: &mut Ctx,
    dirfd: i32,
    path: &[u8],
    flags: i32,
    mode: u32,
    resolve: u64,
    redo: Redo,
) -> SysResult {
    ctx.note(|| format!("{flags:#o}"));
    let abs = ctx.abs_path(dirfd, path)?;
    if resolve & (libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_SYMLINKS) != 0
        && crosses_magic_link(&abs, flags)
    {
        return Err(Errno::ELOOP);
    }
    // The gofer creates with the caller's umask, which the kernel applies
    // (or ignores under the parent's default ACL).
    let (mode, umask) = if flags & (libc::O_CREAT | libc::O_TMPFILE) != 0 {
        (mode & 0o7777, ctx.umask())
    } else {
        (0, 0)
    };
    if resolve & libc::RESOLVE_NO_SYMLINKS != 0
        && !matches!(vfs::locate(&abs), Location::Synthetic(..))
    {
        // The gofer refuses any symlink on the way when O_NOFOLLOW-walking
        // component by component: emulate by resolving without following and
        // checking that the canonical path equals the lexical one.
        if let Ok(Found::Host(fd)) = ctx.resolve(&abs, Follow::NoFollow) {
            if sys::fstat_fd(fd.as_fd())
                .map(|s| s.st_mode & libc::S_IFMT == libc::S_IFLNK)
                .unwrap_or(false)
            {
                return Err(Errno::ELOOP);
            }
        }
    }
    if flags & libc::O_PATH != 0 {
        if let Some(outcome) = open_path_fd(ctx, dirfd, path, &abs, flags)? {
            return Ok(outcome);
        }
    }
    let redo = redo_for(path, redo, ctx.sentry.info.devices_confined);
    match open_abs(ctx, &abs, flags, (mode, umask), 0, redo)? {
        Outcome::Fd { fd, cloexec } if abs.len() >= PATH_MAX => {
            if let Ok(st) = sys::fstat_fd(fd.as_fd()) {
                ctx.remember_dir_path(&abs, &st);
            }
            Ok(Outcome::Fd { fd, cloexec })
        }
        // The kernel redoes the open from the workload's own string: a
        // relative one must start where the sentry resolved it from.
        Outcome::Continue if path.first() != Some(&b'/') && !ctx.base_is_sandboxed(dirfd)? => {
            Err(Errno::EAGAIN)
        }
        outcome => Ok(outcome),
    }
}

/// What the sentry makes of the gofer's answer to an open that could wait
/// (see `gofer::server`): ENXIO (a FIFO without its other end) and EAGAIN
/// (a lease) are redone by the kernel in the workload (`Continue`), which
/// waits there as on Linux, never in the sandbox. The kernel walks the
/// workload's string in its own mount namespace (the container's mounts
/// only; the devices cgroup, or nodev on every mount but /dev's, leaves
/// only the sandbox's device set) with the caller's real credentials, so
/// a string rewritten meanwhile reaches only what the caller may open
/// anyway.
fn settle_waiting_open(result: Result<OwnedFd, Errno>, cloexec: bool) -> Result<Outcome, Errno> {
    match result {
        Ok(fd) => Ok(Outcome::Fd { fd, cloexec }),
        Err(Errno::ENXIO | Errno::EAGAIN) => Ok(Outcome::Continue),
        Err(e) => Err(e),
    }
}

/// An `O_PATH` open of a gofer-backed file. The kernel refuses to install
/// O_PATH files with SECCOMP_IOCTL_NOTIF_ADDFD (it takes the source with
/// fget(), which skips them), so the gofer's handle cannot be handed over.
/// The sentry resolves and checks the path, then lets the kernel open it:
/// the kernel resolves in the workload's own mount namespace (the
/// container's mounts only, /proc and /sys there are empty), and an O_PATH
/// fd grants neither reading nor writing; a path rewritten between the
/// check and the kernel's walk can only name another container file the
/// caller may already reach. A relative path is walked by the kernel from
/// the real dirfd or cwd, so that must be the directory the sentry resolved
/// from (an fd of a host directory passed into the container must not
/// become a base). `None`: a synthetic target, served as usual.
fn open_path_fd(
    ctx: &mut Ctx,
    dirfd: i32,
    path: &[u8],
    abs: &[u8],
    flags: i32,
) -> Result<Option<Outcome>, Errno> {
    let follow = if flags & libc::O_NOFOLLOW != 0 {
        Follow::NoFollow
    } else {
        Follow::Follow
    };
    match ctx.resolve(abs, follow)? {
        Found::Host(fd) => {
            let st = sys::fstat_fd(fd.as_fd())?;
            if flags & libc::O_DIRECTORY != 0 && st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(Errno::ENOTDIR);
            }
            if path.first() != Some(&b'/') && !ctx.base_is_sandboxed(dirfd)? {
                return Err(Errno::EBADF);
            }
            Ok(Some(Outcome::Continue))
        }
        Found::Synthetic { .. } => Ok(None),
    }
}

/// Whether resolving `abs` goes through a procfs magic link
/// (`/proc/<pid>/{exe,cwd,root}`, `/proc/<pid>/fd/<n>`, also under
/// `task/<tid>`, `self` and `thread-self`), which RESOLVE_NO_MAGICLINKS
/// refuses; a trailing one opened O_PATH|O_NOFOLLOW is allowed (openat2(2)).
/// Lexical: a symlink elsewhere that leads into /proc is not seen (partial).
fn crosses_magic_link(abs: &[u8], flags: i32) -> bool {
    let Location::Synthetic(SynthFs::Proc, rel) = vfs::locate(abs) else {
        return false;
    };
    let comps: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
    let numeric = |c: Option<&&str>| c.is_some_and(|c| c.parse::<u32>().is_ok());
    let pid_dir_len = match comps.first() {
        Some(&"thread-self") => 1,
        Some(c) if *c == "self" || numeric(Some(c)) => {
            if comps.get(1) == Some(&"task") && numeric(comps.get(2)) {
                3
            } else {
                1
            }
        }
        _ => return false,
    };
    let magic_at = match comps.get(pid_dir_len) {
        Some(&("exe" | "cwd" | "root")) => pid_dir_len,
        Some(&"fd") if numeric(comps.get(pid_dir_len + 1)) => pid_dir_len + 1,
        _ => return false,
    };
    let trailing = magic_at + 1 == comps.len();
    let handle_only = flags & libc::O_PATH != 0 && flags & libc::O_NOFOLLOW != 0;
    !(trailing && handle_only)
}

/// Opens an absolute sandbox path: through the gofer, or in a synthetic
/// mount (whose symlinks may lead back out; `depth` counts them).
/// `mode` is a created file's mode and the caller's umask.
/// `redo`: whether `abs` is the workload's own string and its kernel may
/// redo an open of it.
fn open_abs(
    ctx: &mut Ctx,
    abs: &[u8],
    flags: i32,
    mode: (u32, u32),
    depth: u32,
    redo: Redo,
) -> SysResult {
    if depth > super::MAX_SYMLINKS {
        return Err(Errno::ELOOP);
    }
    let cloexec = flags & libc::O_CLOEXEC != 0;
    let flags_for_gofer = flags & !libc::O_CLOEXEC;
    if flags & (libc::O_CREAT | libc::O_TMPFILE) == 0 {
        // Compilers and interpreters mostly open what is not there (every
        // include directory, every sys.path entry): the sentry sees that
        // in a cached directory without asking the gofer. What is there
        // and only read, it opens itself.
        if let Some(child) = ctx.cached_parent(abs)? {
            match child.stat() {
                Err(Errno::ENOENT) => return Err(Errno::ENOENT),
                Ok(st) => {
                    if let Some(outcome) = open_cached(ctx, &child, &st, flags, redo)? {
                        return Ok(outcome);
                    }
                }
                Err(_) => {}
            }
        }
    }
    ctx.on_path(
        abs,
        |g, p, c, l| {
            let opened = g.create(p, flags_for_gofer, mode.0, mode.1, c, l);
            // The kernel can redo only the path the workload gave.
            if crate::gofer::open_could_wait(flags) && p == abs {
                return match opened {
                    Ok(Walked::Redirect(r)) => Ok(Walked::Redirect(r)),
                    Ok(Walked::Done(fd)) => settle_waiting_open(Ok(fd), cloexec).map(Walked::Done),
                    Err(e) => settle_waiting_open(Err(e), cloexec).map(Walked::Done),
                };
            }
            opened.map(|w| match w {
                Walked::Done(fd) => Walked::Done(Outcome::Fd { fd, cloexec }),
                Walked::Redirect(r) => Walked::Redirect(r),
            })
        },
        |ctx, fs, rel, links| {
            // "dir/" and "dir/." follow a final symlink even with
            // O_NOFOLLOW, and must be a directory (find opens
            // "/proc/self/" with O_NOFOLLOW|O_DIRECTORY).
            let flags = if super::names_a_directory(abs) {
                (flags & !libc::O_NOFOLLOW) | libc::O_DIRECTORY
            } else {
                flags
            };
            open_synthetic(ctx, fs, rel, flags, mode, depth + links + 1)
        },
    )
}

/// The open flags a read served from the directory cache may carry:
/// nothing that writes, creates, truncates or changes who may open
/// (O_NOATIME is the owner's), and nothing the sentry's filter refuses it.
const DIRECT_OPEN_FLAGS: i32 = libc::O_CLOEXEC
    | libc::O_DIRECTORY
    | libc::O_NOFOLLOW
    | libc::O_LARGEFILE
    | libc::O_NONBLOCK
    | libc::O_NOCTTY;

/// Whether `st` is a device of the sandbox's set that the workload's
/// kernel may open for reading or writing itself: the memory devices
/// (null, zero, full, random, urandom), which stay openable where every
/// other node is refused and reach nothing but themselves. Not /dev/tty,
/// which names the caller's terminal.
fn is_redoable_device(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFCHR
        && crate::sandbox::sandbox_device(
            i64::from(libc::major(st.st_rdev)),
            i64::from(libc::minor(st.st_rdev)),
        )
        .is_some_and(|name| name != "tty")
}

/// directfs (gVisor's name for it): a read-only open of a regular file
/// or directory in a cached directory is made by the sentry itself,
/// without the gofer's round trip (which costs most of an open).
///
/// What keeps it exact:
/// - one name, opened from the fd of its cached parent, where the stat
///   just showed a regular file or directory (a symlink goes to the
///   gofer, which follows it); the open fd must be that same inode, so a
///   name replaced in between (even by a symlink leading into the
///   sentry's own root) is never handed over;
/// - O_NONBLOCK (cleared after unless asked for): a lease never makes the
///   sentry wait; only a FIFO swapped in right between the stat and the
///   open is opened (and closed again) at all;
/// - the caller's permission by Linux's rule (`cred::may` with the
///   caller's credentials) on the open file's own mode; where that refuses,
///   or an ACL could decide otherwise for a caller without DAC
///   capabilities, the gofer opens with the caller's credentials and the
///   kernel decides, as before;
/// - the sentry's own credentials must allow the open too (it holds no
///   capability): where they do not, the gofer opens.
///
/// A compromised sentry gains nothing from this: its filter already let
/// it open the cached fds' children read-only (docs/SECURITY.md).
///
/// Where the workload's own kernel may redo the open (`redo_for`: open or
/// openat of a clean absolute path where it can open no device node but
/// the sandbox's), the sentry answers Continue instead of opening: the kernel
/// walks the same names in the workload's mount namespace (the gofer's,
/// so the same mounts), checks the caller's real credentials (ACLs too),
/// and installs the fd without an ADDFD, whose two wake-ups cost about a
/// quarter of the open. A name replaced between the sentry's stat and the
/// kernel's walk gives what the caller may open anyway, read-only (the
/// flags are registers, read once): another container file, a FIFO it
/// then waits on itself, or a device node that the devices cgroup or
/// nodev refuses (`tests/escape/toctou.c`, `toctou_open_device`). The
/// sandbox's memory devices are redone for writing too (`is_redoable_device`).
/// `Ok(None)`: not such an open.
fn open_cached(
    ctx: &mut Ctx,
    child: &crate::sentry::vfs::dcache::Child,
    st: &libc::stat,
    flags: i32,
    redo: Redo,
) -> Result<Option<Outcome>, Errno> {
    let is_regular_or_dir =
        |mode: u32| matches!(mode & libc::S_IFMT, libc::S_IFREG | libc::S_IFDIR);
    if redo == Redo::Allowed
        && is_redoable_device(st)
        && flags & !(DIRECT_OPEN_FLAGS | libc::O_ACCMODE) == 0
        && flags & libc::O_ACCMODE != libc::O_ACCMODE
        && !child.trailing_slash
    {
        return Ok(Some(Outcome::Continue));
    }
    if flags & libc::O_ACCMODE != libc::O_RDONLY
        || flags & !DIRECT_OPEN_FLAGS != 0
        || child.trailing_slash
        || !is_regular_or_dir(st.st_mode)
    {
        return Ok(None);
    }
    if redo == Redo::Allowed {
        return Ok(Some(Outcome::Continue));
    }
    let Ok(name) = std::ffi::CString::new(child.name.as_slice()) else {
        return Ok(None);
    };
    // The caller's flags only (an O_NOFOLLOW of ours would show in its
    // F_GETFL), O_NONBLOCK so that a lease never makes the sentry wait.
    let Ok(fd) = sys::openat(
        child.dir.as_fd(),
        &name,
        libc::O_RDONLY
            | libc::O_NONBLOCK
            | libc::O_NOCTTY
            | (flags & (libc::O_DIRECTORY | libc::O_NOFOLLOW)),
    ) else {
        return Ok(None);
    };
    // The file the stat saw, or nothing: a name replaced meanwhile (by a
    // symlink the open followed, even one leading out of the container's
    // tree into the sentry's own root) goes to the gofer.
    let Ok(opened) = sys::fstat_fd(fd.as_fd()) else {
        return Ok(None);
    };
    if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino)
        || !is_regular_or_dir(opened.st_mode)
    {
        return Ok(None);
    }
    let creds = ctx.creds()?;
    if !cred::may(
        &(&creds).into(),
        opened.st_uid,
        opened.st_gid,
        opened.st_mode,
        0o4,
    ) {
        return Ok(None);
    }
    if creds.cap_effective & cred::DAC_CAPS == 0 && sys::has_access_acl(fd.as_fd()) {
        return Ok(None);
    }
    if flags & libc::O_NONBLOCK == 0 {
        // Of the flags F_SETFL sets, the open above gave only O_NONBLOCK.
        sys::set_status_flags(fd.as_fd(), 0)?;
    }
    Ok(Some(Outcome::Fd {
        fd,
        cloexec: flags & libc::O_CLOEXEC != 0,
    }))
}

/// A sealed, read-only memfd holding `content`.
pub fn memfd_with(content: &[u8]) -> Result<OwnedFd, Errno> {
    use nix::fcntl::SealFlag;
    let seals = SealFlag::F_SEAL_WRITE
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_SEAL;
    read_only_memfd(c"runrs-synthetic", content, Some(seals)).map(|(read_only, _)| read_only)
}

/// The memfd of synthetic file `path`: named after it and not sealed, so
/// the sentry can regenerate it when the workload rewinds (procps keeps
/// /proc/stat and meminfo open and reads them again from offset 0); the
/// sentry keeps its writable handle (`io::SyntheticFiles`). The
/// workload's description is read-only, so it can neither write nor seal.
fn synthetic_file_memfd(ctx: &Ctx, path: &str, content: &[u8]) -> Result<OwnedFd, Errno> {
    match std::ffi::CString::new(format!("{}{path}", vfs::SYNTHETIC_MEMFD)) {
        // memfd names are at most 249 bytes: a longer path is not refreshed.
        Ok(name) if name.as_bytes().len() <= 249 => {
            let (read_only, writable) = read_only_memfd(&name, content, None)?;
            ctx.sentry.synthetic_files.keep(path, writable);
            Ok(read_only)
        }
        _ => memfd_with(content),
    }
}

/// A memfd holding `content`: a read-only description of it and the
/// writable one it was made with.
fn read_only_memfd(
    name: &std::ffi::CStr,
    content: &[u8],
    seals: Option<nix::fcntl::SealFlag>,
) -> Result<(OwnedFd, OwnedFd), Errno> {
    use nix::sys::memfd::{memfd_create, MFdFlags};
    let mut flags = MFdFlags::MFD_CLOEXEC;
    if seals.is_some() {
        flags |= MFdFlags::MFD_ALLOW_SEALING;
    }
    let fd = memfd_create(name, flags)?;
    let mut f = std::fs::File::from(fd);
    f.write_all(content).map_err(|_| Errno::EIO)?;
    let fd = OwnedFd::from(f);
    if let Some(seals) = seals {
        nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_ADD_SEALS(seals))?;
    }
    // A read-only description at offset 0, so the workload cannot even try
    // to write and starts reading at the beginning.
    let ro = std::fs::OpenOptions::new()
        .read(true)
        .open(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map_err(|_| Errno::EIO)?;
    Ok((ro.into(), fd))
}

/// open(2) of a /proc node the caller may not have (`Node::Refused`):
/// the errors Linux checks before permission, then `errno`; an O_PATH
/// handle (which checks no permission) of a file or link is an empty
/// memfd.
/// An open of a synthetic symlink itself (not followed): Linux checks
/// O_DIRECTORY before refusing the symlink; an O_PATH|O_NOFOLLOW handle on
/// it is an empty memfd here.
fn open_symlink_itself(flags: i32, cloexec: bool) -> SysResult {
    if flags & libc::O_DIRECTORY != 0 {
        Err(Errno::ENOTDIR)
    } else if flags & libc::O_PATH != 0 {
        Ok(Outcome::Fd {
            fd: memfd_with(b"")?,
            cloexec,
        })
    } else {
        Err(Errno::ELOOP)
    }
}

fn open_refused(flags: i32, kind: EntryKind, errno: Errno, cloexec: bool) -> SysResult {
    let follow = flags & libc::O_NOFOLLOW == 0;
    let write = flags & libc::O_PATH == 0
        && (flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0);
    if flags & libc::O_CREAT != 0 && flags & libc::O_EXCL != 0 {
        return Err(Errno::EEXIST);
    }
    match kind {
        EntryKind::Symlink if !follow => open_symlink_itself(flags, cloexec),
        EntryKind::Symlink => Err(errno),
        EntryKind::File if flags & libc::O_DIRECTORY != 0 => Err(Errno::ENOTDIR),
        EntryKind::File if flags & libc::O_PATH != 0 => Ok(Outcome::Fd {
            fd: memfd_with(b"")?,
            cloexec,
        }),
        EntryKind::Dir if write || flags & libc::O_CREAT != 0 => Err(Errno::EISDIR),
        EntryKind::File | EntryKind::Dir => Err(errno),
    }
}

fn open_synthetic(
    ctx: &mut Ctx,
    fs: SynthFs,
    rel: &str,
    flags: i32,
    mode: (u32, u32),
    depth: u32,
) -> Result<Outcome, Errno> {
    let follow = flags & libc::O_NOFOLLOW == 0;
    let cloexec = flags & libc::O_CLOEXEC != 0;
    let node = ctx.synthetic_lookup(fs, rel)?;
    if let Node::Refused { kind, errno } = node {
        return open_refused(flags, kind, errno, cloexec);
    }
    if let (Node::Symlink(target), true) = (&node, follow) {
        return open_abs(
            ctx,
            &vfs::synthetic_link_target(fs, rel, target),
            flags,
            mode,
            depth,
            Redo::Refused,
        );
    }
    let rel = rel.to_string();
    if flags & libc::O_CREAT != 0 && flags & libc::O_EXCL != 0 {
        return Err(Errno::EEXIST);
    }
    // O_PATH ignores the access mode and O_TRUNC (open(2)).
    let write = flags & libc::O_PATH == 0
        && (flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0);
    match node {
        Node::File(content) => {
            if flags & libc::O_DIRECTORY != 0 {
                return Err(Errno::ENOTDIR);
            }
            if let Some(opened) = open_real_task_file(ctx, fs, &rel, flags, write, cloexec)? {
                return Ok(opened);
            }
            // /sys and /proc/sys are read-only mounts in runc's
            // containers; every other synthetic file is read-only too.
            if write {
                let read_only_mount = fs == SynthFs::Sys || rel == "sys" || rel.starts_with("sys/");
                return Err(if read_only_mount {
                    Errno::EROFS
                } else {
                    Errno::EACCES
                });
            }
            let path = match fs {
                SynthFs::Proc => format!(
                    "{}/{}",
                    fs.mount_point(),
                    ctx.sentry.procfs.canonical(ctx.tid(), &rel)?.0
                ),
                SynthFs::Sys => format!("{}/{rel}", fs.mount_point()),
            };
            Ok(Outcome::Fd {
                fd: synthetic_file_memfd(ctx, &path, &content)?,
                cloexec,
            })
        }
        Node::Dir(_) => {
            if write || flags & libc::O_CREAT != 0 {
                return Err(Errno::EISDIR);
            }
            let fd = sys::openat(
                ctx.sentry.synthetic_dir.as_fd(),
                c".",
                // Never O_PATH: ADDFD cannot install it, and reading this
                // empty directory reveals nothing.
                libc::O_RDONLY | libc::O_DIRECTORY,
            )?;
            // Canonical (no `self`): fchdir and getdents on it name this
            // directory whichever thread uses the fd.
            let dir =
                ctx.synthetic_dir(fs, &rel)
                    .unwrap_or_else(|_| crate::sentry::cwd::VirtualCwd {
                        path: format!(
                            "{}{}{}",
                            fs.mount_point(),
                            if rel.is_empty() { "" } else { "/" },
                            rel
                        ),
                        pin: None,
                    });
            Ok(Outcome::DirFd { fd, cloexec, dir })
        }
        Node::Symlink(_) => open_symlink_itself(flags, cloexec),
        // Answered above.
        Node::Refused { errno, .. } => Err(errno),
        Node::FdLink { host_tid, fd } => {
            if !follow {
                return Err(Errno::ELOOP);
            }
            // Reopen a container file by its path (a new open file
            // description, as Linux does). Pipes, sockets, and files
            // outside the container's mounts (`host:[N]`, the runtime's
            // stdout redirected to a host file) get the same description,
            // as gVisor's host fds do: their host path is never resolved
            // in the container, and the sentry opens nothing for writing.
            let target = hostproc::fd_link(host_tid, fd).map_err(|_| Errno::ENOENT)?;
            let reopenable = target.first() == Some(&b'/')
                && !target.ends_with(b" (deleted)")
                && matches!(vfs::locate(&target), Location::Gofer);
            if reopenable {
                let flags_for_gofer = flags & !libc::O_CLOEXEC;
                let creds = ctx.creds()?;
                match ctx.gofer.open(&target, flags_for_gofer, 0, &creds, 0)? {
                    Walked::Done(fd) => return Ok(Outcome::Fd { fd, cloexec }),
                    Walked::Redirect(_) => return Err(Errno::ENOENT),
                }
            }
            let file = sys::getfd(host_tid, fd)?;
            same_description_allows(&file, flags)?;
            Ok(Outcome::Fd { fd: file, cloexec })
        }
    }
}

/// Whether an open of a /proc/<pid>/fd/N link with `flags` may be given
/// `file`, the link's own open file description: never for a socket
/// (Linux's sockfs refuses every open but O_PATH: ENXIO), only for the
/// access it grants already (a reopen of Linux would check the inode's
/// permission bits instead; asking more is EACCES here, so a read-only
/// stdin never becomes writable), and O_DIRECTORY only for a directory.
fn same_description_allows(file: &OwnedFd, flags: i32) -> Result<(), Errno> {
    if flags & libc::O_PATH != 0 {
        return Ok(());
    }
    let st = sys::fstat_fd(file.as_fd())?;
    if st.st_mode & libc::S_IFMT == libc::S_IFSOCK {
        return Err(Errno::ENXIO);
    }
    let held = nix::fcntl::fcntl(file, nix::fcntl::FcntlArg::F_GETFL)? & libc::O_ACCMODE;
    let (want_read, want_write) = match flags & libc::O_ACCMODE {
        libc::O_RDONLY => (true, flags & libc::O_TRUNC != 0),
        libc::O_WRONLY => (false, true),
        _ => (true, true),
    };
    let (has_read, has_write) = match held {
        libc::O_RDONLY => (true, false),
        libc::O_WRONLY => (false, true),
        _ => (true, true),
    };
    if (want_read && !has_read) || (want_write && !has_write) {
        return Err(Errno::EACCES);
    }
    if flags & libc::O_DIRECTORY != 0 && st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    Ok(())
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;

    use nix::errno::Errno;

    use crate::sentry::testkit::{errno, fd, Kit, CWD};

    fn read_all(f: std::os::fd::OwnedFd) -> String {
        let mut s = String::new();
        std::fs::File::from(f).read_to_string(&mut s).unwrap();
        s
    }

    /// A name in the tree's root, as the directory cache would hand it
    /// over, with its stat.
    fn cached_child(k: &Kit, name: &str) -> (crate::sentry::vfs::dcache::Child, libc::stat) {
        let dir = std::sync::Arc::new(crate::gofer::testutil::open_path(&k.tree.path));
        let child = crate::sentry::vfs::dcache::Child {
            dir,
            name: name.as_bytes().to_vec(),
            trailing_slash: false,
        };
        let st = child.stat().expect("stat the child");
        (child, st)
    }

    /// `open_cached` of the name `name` in the tree's root, without a gofer.
    fn open_cached_child(
        k: &Kit,
        name: &str,
        flags: i32,
        redo: super::Redo,
    ) -> Result<Option<super::Outcome>, Errno> {
        let (child, st) = cached_child(k, name);
        k.without_gofer(|ctx| super::open_cached(ctx, &child, &st, flags, redo))
    }

    fn status_flags(f: &std::os::fd::OwnedFd) -> i32 {
        nix::fcntl::fcntl(f, nix::fcntl::FcntlArg::F_GETFL).expect("F_GETFL")
    }

    #[test]
    fn cached_read_opens_without_the_gofer() {
        let k = Kit::new("direct-read");
        std::fs::write(k.host("f"), "direct").unwrap();
        std::fs::create_dir(k.host("d")).unwrap();
        let got = open_cached_child(&k, "f", libc::O_RDONLY, super::Redo::Refused);
        let Ok(Some(super::Outcome::Fd { fd: f, cloexec })) = got else {
            panic!("not opened directly");
        };
        assert!(!cloexec);
        // Opened O_NONBLOCK so as never to wait, handed over without it.
        assert_eq!(
            status_flags(&f) & (libc::O_ACCMODE | libc::O_NONBLOCK),
            libc::O_RDONLY
        );
        assert_eq!(read_all(f), "direct");
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NONBLOCK | libc::O_CLOEXEC;
        let got = open_cached_child(&k, "d", flags, super::Redo::Refused);
        let Ok(Some(super::Outcome::Fd { fd: d, cloexec })) = got else {
            panic!("directory not opened directly");
        };
        assert!(cloexec);
        assert_eq!(
            status_flags(&d) & libc::O_NONBLOCK,
            libc::O_NONBLOCK,
            "asked for"
        );
    }

    #[test]
    fn cached_read_leaves_the_rest_to_the_gofer() {
        let k = Kit::new("direct-not");
        std::fs::write(k.host("f"), "x").unwrap();
        std::os::unix::fs::symlink("f", k.host("l")).unwrap();
        nix::unistd::mkfifo(
            &k.host("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        let not_direct = |name: &str, flags: i32| {
            let got = open_cached_child(&k, name, flags, super::Redo::Refused);
            assert!(
                matches!(got, Ok(None)),
                "{name} {flags:#o} was opened directly"
            );
        };
        // Writing, truncating, creating: the gofer, as the caller.
        not_direct("f", libc::O_WRONLY);
        not_direct("f", libc::O_RDWR);
        not_direct("f", libc::O_RDONLY | libc::O_TRUNC);
        not_direct("f", libc::O_RDONLY | libc::O_APPEND);
        not_direct("f", libc::O_RDONLY | libc::O_NOATIME);
        // A symlink is followed by the gofer; a FIFO never opened here
        // (it could wake a writer waiting for a reader).
        not_direct("l", libc::O_RDONLY);
        not_direct("fifo", libc::O_RDONLY);
        // "f/" demands a directory: the ordinary walk gives ENOTDIR.
        let (mut child, st) = cached_child(&k, "f");
        child.trailing_slash = true;
        let got = k.without_gofer(|ctx| {
            super::open_cached(ctx, &child, &st, libc::O_RDONLY, super::Redo::Refused)
        });
        assert!(matches!(got, Ok(None)));
    }

    #[test]
    fn cached_read_of_a_name_replaced_meanwhile_is_not_taken() {
        // The stat said a file; by the open it is a FIFO (another process
        // replaced it): the fd's own type decides, and nothing waits.
        let k = Kit::new("direct-race");
        std::fs::write(k.host("f"), "x").unwrap();
        let (child, st) = cached_child(&k, "f");
        std::fs::remove_file(k.host("f")).unwrap();
        nix::unistd::mkfifo(
            &k.host("f"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        let got = k.without_gofer(|ctx| {
            super::open_cached(ctx, &child, &st, libc::O_RDONLY, super::Redo::Refused)
        });
        assert!(matches!(got, Ok(None)));
        // Replaced by a symlink (here to an absolute path, which the
        // sentry's open would resolve in its own root): not the file the
        // stat saw, so not handed over.
        std::fs::remove_file(k.host("f")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", k.host("f")).unwrap();
        let got = k.without_gofer(|ctx| {
            super::open_cached(ctx, &child, &st, libc::O_RDONLY, super::Redo::Refused)
        });
        assert!(matches!(got, Ok(None)));
    }

    /// The kernel redoes only open and openat of a clean absolute path
    /// (the same walk as the sentry's, from the container's root), and only
    /// where it can open no device but the sandbox's.
    #[test]
    fn the_kernel_redoes_only_clean_absolute_paths() {
        use super::{redo_for, Redo};
        for path in ["/f", "/d/f", "//d//f", "/d/.f", "/d/..f"] {
            assert!(
                redo_for(path.as_bytes(), Redo::Allowed, true) == Redo::Allowed,
                "{path}"
            );
            assert!(
                redo_for(path.as_bytes(), Redo::Allowed, false) == Redo::Refused,
                "{path}"
            );
            assert!(
                redo_for(path.as_bytes(), Redo::Refused, true) == Redo::Refused,
                "{path}"
            );
        }
        for path in ["f", "d/f", "./f", "/./f", "/d/../f", "/d/.", "/d/..", ""] {
            assert!(
                redo_for(path.as_bytes(), Redo::Allowed, true) == Redo::Refused,
                "{path}"
            );
        }
    }

    /// A cached read-only open that the kernel may redo is continued, for
    /// a file and a directory, and so is any open of the sandbox's memory
    /// devices; a write of a file, a symlink, a FIFO or another device is
    /// not.
    #[test]
    fn cached_read_opens_are_continued_where_the_kernel_may_redo() {
        let k = Kit::new("direct-redo");
        std::fs::write(k.host("f"), "direct").unwrap();
        std::fs::create_dir(k.host("d")).unwrap();
        std::os::unix::fs::symlink("f", k.host("l")).unwrap();
        nix::unistd::mkfifo(
            &k.host("p"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        let redo =
            |name: &str, flags: i32| open_cached_child(&k, name, flags, super::Redo::Allowed);
        let continued = |r: Result<Option<super::Outcome>, Errno>| {
            matches!(r, Ok(Some(super::Outcome::Continue)))
        };
        // The sandbox's memory devices, for writing too; not its tty, nor
        // any other device.
        let mknod = |name: &str, major, minor| {
            let dev = libc::makedev(major, minor);
            nix::sys::stat::mknod(
                &k.host(name),
                nix::sys::stat::SFlag::S_IFCHR,
                nix::sys::stat::Mode::from_bits_truncate(0o666),
                dev,
            )
            .expect("mknod (the tests run as root)");
        };
        mknod("null", 1, 3);
        mknod("urandom", 1, 9);
        mknod("tty", 5, 0);
        mknod("tty1", 4, 1);
        assert!(continued(redo("null", libc::O_RDWR)));
        assert!(continued(redo("null", libc::O_WRONLY)));
        assert!(continued(redo("urandom", libc::O_RDONLY)));
        for (name, flags) in [
            ("null", libc::O_ACCMODE),
            ("null", libc::O_WRONLY | libc::O_APPEND),
            ("tty", libc::O_RDWR),
            ("tty1", libc::O_RDONLY),
        ] {
            assert!(matches!(redo(name, flags), Ok(None)), "{name} {flags:#o}");
        }
        assert!(continued(redo("f", libc::O_RDONLY)));
        assert!(continued(redo("f", libc::O_RDONLY | libc::O_CLOEXEC)));
        assert!(continued(redo("d", libc::O_RDONLY | libc::O_DIRECTORY)));
        for (name, flags) in [
            ("f", libc::O_WRONLY),
            ("f", libc::O_RDWR),
            ("f", libc::O_RDONLY | libc::O_TRUNC),
            ("f", libc::O_RDONLY | libc::O_NOATIME),
            ("l", libc::O_RDONLY),
            ("p", libc::O_RDONLY),
        ] {
            assert!(matches!(redo(name, flags), Ok(None)), "{name} {flags:#o}");
        }
    }

    #[test]
    fn open_reads_the_trees_file() {
        let k = Kit::new("open");
        std::fs::write(k.host("f"), "hello").unwrap();
        let p = k.path("/f");
        let f = fd(k.call("open", [p, libc::O_RDONLY as u64, 0, 0, 0, 0]));
        assert_eq!(read_all(f), "hello");
    }

    #[test]
    fn open_missing_is_enoent() {
        let k = Kit::new("open-enoent");
        let p = k.path("/missing");
        assert_eq!(errno(k.call("open", [p, 0, 0, 0, 0, 0])), Errno::ENOENT);
    }

    #[test]
    fn open_creat_makes_the_file() {
        let k = Kit::new("open-creat");
        let p = k.path("/new");
        let flags = (libc::O_CREAT | libc::O_WRONLY) as u64;
        drop(fd(k.call("open", [p, flags, 0o640, 0, 0, 0])));
        let m = std::fs::metadata(k.host("new")).unwrap();
        assert!(m.is_file());
        assert_eq!(
            m.permissions().mode() & !0o640 & 0o777,
            0,
            "no bit beyond the mode"
        );
    }

    #[test]
    fn open_excl_on_existing_is_eexist() {
        let k = Kit::new("open-excl");
        std::fs::write(k.host("f"), "").unwrap();
        let p = k.path("/f");
        let flags = (libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY) as u64;
        assert_eq!(
            errno(k.call("open", [p, flags, 0o600, 0, 0, 0])),
            Errno::EEXIST
        );
    }

    #[test]
    fn open_directory_flag_on_a_file_is_enotdir() {
        let k = Kit::new("open-dir");
        std::fs::write(k.host("f"), "").unwrap();
        let p = k.path("/f");
        let flags = (libc::O_RDONLY | libc::O_DIRECTORY) as u64;
        assert_eq!(
            errno(k.call("open", [p, flags, 0, 0, 0, 0])),
            Errno::ENOTDIR
        );
    }

    #[test]
    fn open_nofollow_on_a_symlink_is_eloop() {
        let k = Kit::new("open-nofollow");
        std::fs::write(k.host("f"), "").unwrap();
        std::os::unix::fs::symlink("f", k.host("l")).unwrap();
        let p = k.path("/l");
        let flags = (libc::O_RDONLY | libc::O_NOFOLLOW) as u64;
        assert_eq!(errno(k.call("open", [p, flags, 0, 0, 0, 0])), Errno::ELOOP);
    }

    #[test]
    fn open_follows_a_symlink_inside_the_tree() {
        let k = Kit::new("open-follow");
        std::fs::write(k.host("f"), "target").unwrap();
        std::os::unix::fs::symlink("/f", k.host("l")).unwrap();
        let p = k.path("/l");
        assert_eq!(read_all(fd(k.call("open", [p, 0, 0, 0, 0, 0]))), "target");
    }

    #[test]
    fn open_dotdot_stays_in_the_root() {
        let k = Kit::new("open-dotdot");
        std::fs::write(k.host("f"), "root's").unwrap();
        let p = k.path("/../../../f");
        assert_eq!(read_all(fd(k.call("open", [p, 0, 0, 0, 0, 0]))), "root's");
    }

    #[test]
    fn openat_unmapped_path_is_efault() {
        let k = Kit::new("openat-efault");
        assert_eq!(
            errno(k.call("openat", [CWD, 0x10, 0, 0, 0, 0])),
            Errno::EFAULT
        );
    }

    #[test]
    fn openat_overlong_path_is_enametoolong() {
        let k = Kit::new("openat-long");
        let p = k.path(&"a".repeat(5000));
        assert_eq!(
            errno(k.call("openat", [CWD, p, 0, 0, 0, 0])),
            Errno::ENAMETOOLONG
        );
    }

    #[test]
    fn openat_dead_caller_memory_fails_without_opening() {
        let k = Kit::new("openat-dead");
        std::fs::write(k.host("f"), "").unwrap();
        let p = k.path("/f");
        k.platform.fail_reads(Errno::ESRCH);
        assert_eq!(errno(k.call("openat", [CWD, p, 0, 0, 0, 0])), Errno::ESRCH);
        assert!(k.platform.writes().is_empty());
    }

    #[test]
    fn creat_truncates() {
        let k = Kit::new("creat");
        std::fs::write(k.host("f"), "old contents").unwrap();
        let p = k.path("/f");
        drop(fd(k.call("creat", [p, 0o644, 0, 0, 0, 0])));
        assert_eq!(std::fs::metadata(k.host("f")).unwrap().len(), 0);
    }

    fn how(k: &Kit, flags: u64, resolve: u64) -> u64 {
        let mut b = Vec::new();
        for v in [flags, 0, resolve] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        k.platform.put(&b)
    }

    #[test]
    fn openat2_opens_like_openat() {
        let k = Kit::new("openat2");
        std::fs::write(k.host("f"), "two").unwrap();
        let p = k.path("/f");
        let h = how(&k, libc::O_RDONLY as u64, 0);
        assert_eq!(
            read_all(fd(k.call("openat2", [CWD, p, h, 24, 0, 0]))),
            "two"
        );
    }

    #[test]
    fn open_proc_self_status_is_the_callers() {
        let k = Kit::new("open-proc");
        let p = k.path("/proc/self/status");
        let text = read_all(fd(k.call("open", [p, 0, 0, 0, 0, 0])));
        assert!(text.starts_with("Name:"), "{text}");
        assert!(
            text.contains(&format!("\nPid:\t{}\n", std::process::id())),
            "{text}"
        );
    }

    #[test]
    fn open_proc_file_for_writing_is_eacces() {
        let k = Kit::new("open-proc-w");
        let p = k.path("/proc/self/status");
        assert_eq!(
            errno(k.call("open", [p, libc::O_WRONLY as u64, 0, 0, 0, 0])),
            Errno::EACCES
        );
    }

    /// A struct shorter than open_how, an unknown RESOLVE_ flag, and
    /// RESOLVE_BENEATH with an absolute path.
    #[test]
    fn openat2_refuses_bad_arguments() {
        let k = Kit::new("openat2-args");
        std::fs::write(k.host("f"), "").unwrap();
        let p = k.path("/f");
        let cases = [
            (how(&k, 0, 0), 8, Errno::EINVAL),
            (how(&k, 0, 0x1000), 24, Errno::EINVAL),
            (how(&k, 0, libc::RESOLVE_BENEATH), 24, Errno::EXDEV),
        ];
        for (h, size, want) in cases {
            assert_eq!(errno(k.call("openat2", [CWD, p, h, size, 0, 0])), want);
        }
    }
}
