//! The working directory. The kernel keeps the cwd while it is a
//! directory the kernel can walk to (relative paths of continued
//! syscalls need it): the sentry checks the target exists, is a
//! directory and may be searched in the sandbox's view, then lets the
//! kernel change it. A synthetic directory below /proc or /sys does not
//! exist in the kernel's view: the sentry keeps it as the process's
//! virtual cwd instead (see `crate::sentry::cwd`), and answers getcwd.

use std::os::fd::AsFd;

use nix::errno::Errno;

use super::{Ctx, Found, Outcome, SysResult, AT_FDCWD};
use crate::gofer::{Follow, Walked};
use crate::sentry::cred;
use crate::sentry::cwd::VirtualCwd;
use crate::sentry::fs::procfs::Node;
use crate::sentry::sys;
use crate::sentry::vfs::{self, Location, SynthFs};

/// chdir(2).
pub fn chdir(ctx: &mut Ctx) -> SysResult {
    let path = ctx.path_arg(0)?;
    let abs = ctx.abs_path(AT_FDCWD, &path)?;
    let relative = path.first() != Some(&b'/');
    // From a virtual cwd the kernel would walk a relative path from the
    // directory the process left: the sentry answers all of it.
    let from_virtual = relative && ctx.virtual_cwd()?.is_some();
    // The kernel walks a relative path from the real cwd: after fchdir to
    // a host directory that reached the container as an fd, "chdir .."
    // would climb the host's tree.
    if relative && !from_virtual && !ctx.base_is_sandboxed(AT_FDCWD)? {
        return Err(Errno::EACCES);
    }
    match ctx.resolve(&abs, Follow::Follow)? {
        Found::Host(fd) => {
            let st = sys::fstat_fd(fd.as_fd())?;
            if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(Errno::ENOTDIR);
            }
            // Search permission, checked with the caller's credentials.
            let creds = ctx.creds()?;
            match ctx
                .gofer
                .access(&abs, libc::X_OK, libc::AT_EACCESS, &creds, 0)?
            {
                Walked::Done(()) | Walked::Redirect(_) => {}
            }
            if from_virtual {
                return leave_synthetic_relative(ctx, &abs, &st);
            }
            ctx.sentry.procfs.cwds.set(ctx.tid(), None)?;
            Ok(Outcome::Continue)
        }
        Found::Synthetic { fs, rel, node } => {
            let Node::Dir(_) = node else {
                return Err(Errno::ENOTDIR);
            };
            may_search(ctx, fs, &rel)?;
            // The mount point itself exists in the kernel's view; the
            // kernel reaches it when the path names it plainly from a
            // real cwd.
            let plain = matches!(vfs::locate(&abs), Location::Synthetic(_, ref r) if r.is_empty());
            if rel.is_empty() && plain && !from_virtual {
                ctx.sentry.procfs.cwds.set(ctx.tid(), None)?;
                return Ok(Outcome::Continue);
            }
            let dir = ctx.synthetic_dir(fs, &rel)?;
            ctx.sentry.procfs.cwds.set(ctx.tid(), Some(dir))?;
            Ok(Outcome::Value(0))
        }
    }
}

/// A relative chdir from a virtual cwd to a gofer directory
/// (`chdir("../..")` from /proc/<pid>): the kernel cannot be sent there
/// with the caller's string, so the directory becomes the virtual cwd,
/// by its lexical path when that names the same directory (`..` in the
/// synthetic tree is lexical, and the mount points hang off `/`); else
/// EACCES rather than a wrong cwd (a synthetic magic link on the way,
/// partial).
fn leave_synthetic_relative(ctx: &mut Ctx, abs: &[u8], st: &libc::stat) -> SysResult {
    let lexical = vfs::normalize(abs);
    if vfs::locate(&lexical) != Location::Gofer {
        return Err(Errno::EACCES);
    }
    let same = match ctx.resolve(&lexical, Follow::Follow)? {
        Found::Host(fd) => {
            let again = sys::fstat_fd(fd.as_fd())?;
            (again.st_dev, again.st_ino) == (st.st_dev, st.st_ino)
        }
        Found::Synthetic { .. } => false,
    };
    if !same {
        return Err(Errno::EACCES);
    }
    let path = String::from_utf8(lexical).map_err(|_| Errno::EACCES)?;
    let dir = VirtualCwd { path, pin: None };
    ctx.sentry.procfs.cwds.set(ctx.tid(), Some(dir))?;
    Ok(Outcome::Value(0))
}

/// Search permission on a synthetic directory for the caller (its mode
/// and owner as stat shows them; either capability that overrides
/// directory search grants it).
fn may_search(ctx: &mut Ctx, fs: SynthFs, rel: &str) -> Result<(), Errno> {
    let attr = ctx.synthetic_attr(fs, rel)?;
    let creds = ctx.creds()?;
    if creds.cap_effective & cred::DAC_CAPS != 0 {
        return Ok(());
    }
    let shift = if creds.fsuid == attr.uid {
        6
    } else if creds.fsgid == attr.gid || creds.groups.contains(&attr.gid) {
        3
    } else {
        0
    };
    if (attr.mode >> shift) & 1 != 0 {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

/// fchdir(2). A synthetic directory fd is a real fd of the empty /proc
/// mount point whose sandbox path the sentry recorded at open: below the
/// mount point it becomes the virtual cwd, and the kernel's cwd that
/// empty directory (the call is continued), where nothing is found.
pub fn fchdir(ctx: &mut Ctx) -> SysResult {
    let fd = ctx.arg_i32(0);
    ctx.note(|| fd.to_string());
    // Not an fd, or not a directory: the kernel's errno (EBADF, ENOTDIR);
    // the cwd stays.
    let Ok(st) = sys::stat_caller_fd(ctx.tid(), fd) else {
        return Ok(Outcome::Continue);
    };
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Ok(Outcome::Continue);
    }
    if (st.st_dev, st.st_ino) != ctx.sentry.synthetic_dir_id {
        ctx.sentry.procfs.cwds.set(ctx.tid(), None)?;
        return Ok(Outcome::Continue);
    }
    let tgid = ctx.task()?.tgid;
    let path = ctx
        .sentry
        .synthetic_fds
        .lock()
        .ok()
        .and_then(|m| m.get(&(tgid, fd)).cloned());
    // An fd the sentry did not record (dup'ed, inherited) is taken for the
    // mount point it really is (partial, as getdents64 on it).
    let Some(Location::Synthetic(fs, rel)) = path.map(|p| vfs::locate(p.as_bytes())) else {
        ctx.sentry.procfs.cwds.set(ctx.tid(), None)?;
        return Ok(Outcome::Continue);
    };
    if rel.is_empty() {
        ctx.sentry.procfs.cwds.set(ctx.tid(), None)?;
        return Ok(Outcome::Continue);
    }
    match ctx.synthetic_lookup(fs, &rel)? {
        Node::Dir(_) => {}
        _ => return Err(Errno::ENOTDIR),
    }
    may_search(ctx, fs, &rel)?;
    let dir = ctx.synthetic_dir(fs, &rel)?;
    ctx.sentry.procfs.cwds.set(ctx.tid(), Some(dir))?;
    Ok(Outcome::Continue)
}

/// getcwd(2): the virtual cwd when there is one (ENOENT once its
/// directory is gone, as for a removed cwd); else the kernel answers.
pub fn getcwd(ctx: &mut Ctx) -> SysResult {
    let (buf, size) = (ctx.arg(0), ctx.arg(1));
    let Some(dir) = ctx.virtual_cwd()? else {
        return Ok(Outcome::Continue);
    };
    if !dir.alive() || ctx.resolve(dir.path.as_bytes(), Follow::Follow).is_err() {
        return Err(Errno::ENOENT);
    }
    let mut out = dir.path.into_bytes();
    out.push(0);
    // The kernel's size is an unsigned long; the answer counts the NUL.
    if out.len() as u64 > size {
        return Err(Errno::ERANGE);
    }
    ctx.write(buf, &out)?;
    Ok(Outcome::Value(out.len() as i64))
}
