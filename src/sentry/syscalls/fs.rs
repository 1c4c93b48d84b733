//! The working directory. The kernel keeps the cwd (relative paths of
//! continued syscalls need it); the sentry checks the target exists and is
//! a directory in the sandbox's view, then lets the kernel change it.

use std::os::fd::AsFd;

use nix::errno::Errno;

use super::{Ctx, Found, Outcome, SysResult, AT_FDCWD};
use crate::gofer::{Follow, Walked};
use crate::sentry::fs::procfs::Node;
use crate::sentry::sys;

/// chdir(2).
pub fn chdir(ctx: &mut Ctx) -> SysResult {
    let path = ctx.path_arg(0)?;
    let abs = ctx.abs_path(AT_FDCWD, &path)?;
    // The kernel walks a relative path from the real cwd: after fchdir to
    // a host directory that reached the container as an fd, "chdir .."
    // would climb the host's tree.
    if path.first() != Some(&b'/') && !ctx.base_is_sandboxed(AT_FDCWD)? {
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
            Ok(Outcome::Continue)
        }
        // Only the synthetic mount points themselves exist in the kernel's
        // view (empty directories); deeper synthetic directories cannot
        // be the kernel's cwd.
        Found::Synthetic { rel, node, .. } => match node {
            Node::Dir(_) if rel.is_empty() => Ok(Outcome::Continue),
            Node::Dir(_) => Err(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        },
    }
}
