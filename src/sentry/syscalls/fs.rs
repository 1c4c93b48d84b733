//! The working directory. The kernel keeps the cwd while it is a
//! directory the kernel can walk to (relative paths of continued
//! syscalls need it): the sentry checks the target exists, is a
//! directory and may be searched in the sandbox's view, then lets the
//! kernel change it. A synthetic directory below /proc or /sys does not
//! exist in the kernel's view: the sentry keeps it as the process's
//! virtual cwd instead (see `crate::sentry::cwd`), and answers getcwd.
//!
//! The sentry keeps the path of a process's cwd that it read from the
//! kernel until a call that may change it (`cred::Table::cwd`): every
//! chdir and fchdir counts, before anything else. The umask is the
//! kernel's too; a umask call reaches the sentry only so that it stops
//! trusting the umask it read (`cred::Table::umask`).

use std::os::fd::AsFd;

use nix::errno::Errno;

use super::{Ctx, Found, Outcome, SysResult, AT_FDCWD};
use crate::gofer::{Follow, Walked};
use crate::sentry::cred;
use crate::sentry::cwd::VirtualCwd;
use crate::sentry::sys;
use crate::sentry::vfs::{self, Location, SynthFs};

/// chdir(2).
pub fn chdir(ctx: &mut Ctx) -> SysResult {
    ctx.sentry.kernel.creds.cwd_changing(ctx.tid());
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
            ctx.remember_dir_path(&abs, &st);
            if from_virtual || enters_synthetic(&abs) {
                return virtual_host_dir(ctx, &abs, &st);
            }
            ctx.sentry.kernel.cwds.set(ctx.tid(), None)?;
            Ok(Outcome::Continue)
        }
        Found::Synthetic { fs, rel, node } => {
            // One the caller may not list it may still enter (the mode
            // decides, below).
            if !node.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            may_search(ctx, fs, &rel)?;
            // The mount point itself exists in the kernel's view; the
            // kernel reaches it when the path names it plainly from a
            // real cwd.
            let plain = matches!(vfs::locate(&abs), Location::Synthetic(_, ref r) if r.is_empty());
            if rel.is_empty() && plain && !from_virtual {
                ctx.sentry.kernel.cwds.set(ctx.tid(), None)?;
                return Ok(Outcome::Continue);
            }
            let dir = ctx.synthetic_dir(fs, &rel)?;
            ctx.sentry.kernel.cwds.set(ctx.tid(), Some(dir))?;
            Ok(Outcome::Value(0))
        }
    }
}

/// Whether the kernel, walking `abs` from `/`, would step below a
/// synthetic mount point, where its view holds nothing
/// (`/proc/self/root`, `/proc/1/cwd/..`).
fn enters_synthetic(abs: &[u8]) -> bool {
    synthetic_entry(abs).is_some()
}

/// `abs` from where its walk steps below a synthetic mount point: that
/// mount point, then the rest as written (`/tmp/../proc/1/cwd/..` gives
/// `/proc/1/cwd/..`).
fn synthetic_entry(abs: &[u8]) -> Option<Vec<u8>> {
    let comps: Vec<&[u8]> = abs.split(|b| *b == b'/').collect();
    let mut stack: Vec<&[u8]> = Vec::new();
    for (i, c) in comps.iter().enumerate() {
        match *c {
            b"" | b"." => {}
            b".." => {
                stack.pop();
            }
            name => {
                stack.push(name);
                let synthetic = vfs::SYNTHETIC_MOUNTS
                    .iter()
                    .any(|fs| fs.mount_point().as_bytes().get(1..) == stack.first().copied());
                if stack.len() == 2 && synthetic {
                    let mut out = Vec::with_capacity(abs.len());
                    out.push(b'/');
                    out.extend_from_slice(stack[0]);
                    for rest in &comps[i..] {
                        out.push(b'/');
                        out.extend_from_slice(rest);
                    }
                    return Some(out);
                }
            }
        }
    }
    None
}

/// A chdir to a gofer directory that the kernel cannot be sent to with
/// the caller's string: a relative path from a virtual cwd
/// (`chdir("../..")` from /proc/<pid>), or a path through a /proc link
/// (`/proc/self/root`, `/proc/1/cwd`). The directory becomes the
/// virtual cwd, by the path its links lead to, lexically normalised
/// (`..` in the synthetic tree is lexical, and the mount points hang off
/// `/`), when that path names the same directory; else EACCES rather
/// than a wrong cwd.
fn virtual_host_dir(ctx: &mut Ctx, abs: &[u8], st: &libc::stat) -> SysResult {
    let mut path = abs.to_vec();
    for _ in 0..=super::MAX_SYMLINKS {
        let Some(entry) = synthetic_entry(&path) else {
            break;
        };
        let Some((fs, rel)) = vfs::synthetic_rest(&entry) else {
            break;
        };
        let next = match ctx.through_link(fs, &rel)? {
            Some(next) => next,
            None => ctx.follow_synthetic_link(&entry)?,
        };
        if next == entry {
            break;
        }
        path = next;
    }
    let lexical = vfs::normalize(&path);
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
    ctx.sentry.kernel.cwds.set(ctx.tid(), Some(dir))?;
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
    ctx.sentry.kernel.creds.cwd_changing(ctx.tid());
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
        ctx.sentry.kernel.cwds.set(ctx.tid(), None)?;
        return Ok(Outcome::Continue);
    }
    // Linux's permission check on a gone process's directory finds no task.
    let path = ctx.recorded_synthetic_path(fd, Errno::ESRCH)?;
    // An fd the sentry cannot place is taken for the mount point it
    // really is (as getdents64 on it).
    let Some(Location::Synthetic(fs, rel)) = path.map(|p| vfs::locate(p.as_bytes())) else {
        ctx.sentry.kernel.cwds.set(ctx.tid(), None)?;
        return Ok(Outcome::Continue);
    };
    if rel.is_empty() {
        ctx.sentry.kernel.cwds.set(ctx.tid(), None)?;
        return Ok(Outcome::Continue);
    }
    if !ctx.synthetic_lookup(fs, &rel)?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    may_search(ctx, fs, &rel)?;
    let dir = ctx.synthetic_dir(fs, &rel)?;
    ctx.sentry.kernel.cwds.set(ctx.tid(), Some(dir))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_entry_starts_below_a_mount_point() {
        assert_eq!(synthetic_entry(b"/proc"), None);
        assert_eq!(synthetic_entry(b"/proc/.."), None);
        assert_eq!(synthetic_entry(b"/etc/proc/x"), None);
        assert_eq!(
            synthetic_entry(b"/proc/self/root").as_deref(),
            Some(&b"/proc/self/root"[..])
        );
        assert_eq!(
            synthetic_entry(b"/tmp/../proc/1/cwd/..").as_deref(),
            Some(&b"/proc/1/cwd/.."[..])
        );
        assert_eq!(
            synthetic_entry(b"//sys/./kernel").as_deref(),
            Some(&b"/sys/kernel"[..])
        );
    }
}

/// umask(2): the kernel sets the mask; until the caller's next call, the
/// sentry reads every creating caller's umask anew (then the caller's is
/// known, if no other umask call overlapped).
pub fn umask(ctx: &mut Ctx) -> SysResult {
    let mask = ctx.arg(0) as u32;
    ctx.sentry.kernel.creds.umask_changing(ctx.tid(), mask);
    Ok(Outcome::Continue)
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use nix::errno::Errno;

    use crate::sentry::testkit::{continued, errno, value, Kit};

    /// The kernel sets the mask; the sentry only notes the call.
    #[test]
    fn umask_is_the_kernels() {
        let k = Kit::new("umask");
        assert!(continued(&k.call("umask", [0o077, 0, 0, 0, 0, 0])));
        assert!(k.platform.writes().is_empty());
    }

    #[test]
    fn chdir_to_a_tree_directory_is_the_kernels() {
        let k = Kit::new("chdir");
        std::fs::create_dir(k.host("d")).unwrap();
        let p = k.path("/d");
        assert!(continued(&k.call("chdir", [p, 0, 0, 0, 0, 0])));
    }

    #[test]
    fn chdir_to_a_file_is_enotdir() {
        let k = Kit::new("chdir-file");
        std::fs::write(k.host("f"), "").unwrap();
        let p = k.path("/f");
        assert_eq!(errno(k.call("chdir", [p, 0, 0, 0, 0, 0])), Errno::ENOTDIR);
    }

    #[test]
    fn chdir_missing_is_enoent() {
        let k = Kit::new("chdir-enoent");
        let p = k.path("/nope");
        assert_eq!(errno(k.call("chdir", [p, 0, 0, 0, 0, 0])), Errno::ENOENT);
    }

    /// A synthetic directory becomes the virtual cwd; getcwd answers it
    /// (with its NUL), a short buffer gets ERANGE.
    #[test]
    fn chdir_into_proc_then_getcwd() {
        let k = Kit::new("chdir-proc");
        let p = k.path("/proc/self");
        let r = k.call("chdir", [p, 0, 0, 0, 0, 0]);
        assert!(r.is_ok(), "chdir /proc/self");
        let buf = k.platform.buf(256);
        let n = value(k.call("getcwd", [buf, 256, 0, 0, 0, 0])) as usize;
        let cwd = String::from_utf8(k.platform.get(buf, n - 1)).unwrap();
        assert_eq!(cwd, format!("/proc/{}", std::process::id()));
        assert_eq!(errno(k.call("getcwd", [buf, 3, 0, 0, 0, 0])), Errno::ERANGE);
        // Leaving for a tree directory drops the virtual cwd.
        std::fs::create_dir(k.host("d")).unwrap();
        let d = k.path("/d");
        assert!(continued(&k.call("chdir", [d, 0, 0, 0, 0, 0])));
        assert!(continued(&k.call("getcwd", [buf, 256, 0, 0, 0, 0])));
    }

    #[test]
    fn getcwd_without_a_virtual_cwd_is_the_kernels() {
        let k = Kit::new("getcwd");
        let buf = k.platform.buf(64);
        assert!(continued(&k.call("getcwd", [buf, 64, 0, 0, 0, 0])));
        assert!(k.platform.writes().is_empty());
    }
}
