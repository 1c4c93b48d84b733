//! execve: the kernel must load the program itself, resolving the path in
//! the workload's own mount namespace (the container's mounts only), so
//! the sentry records it and lets the call continue. A relative path (or
//! execveat's dirfd) is walked from the real cwd or dirfd, so that must be
//! the directory the sandbox sees there, never a host directory that
//! reached the container as an fd, nor the directory a process left for a
//! virtual cwd (`crate::sentry::cwd`): a relative path gets EACCES then.

use nix::errno::Errno;

use super::{Ctx, Outcome, SysResult, AT_FDCWD};

/// execve(2).
pub fn execve(ctx: &mut Ctx) -> SysResult {
    let path = ctx.path_arg(0).unwrap_or_default();
    if path.first() != Some(&b'/') && !path.is_empty() && !ctx.base_is_sandboxed(AT_FDCWD)? {
        return Err(Errno::EACCES);
    }
    exec_resets_caps(ctx)?;
    Ok(Outcome::Continue)
}

/// execveat(2).
pub fn execveat(ctx: &mut Ctx) -> SysResult {
    let dirfd = ctx.dirfd_arg(0);
    let path = ctx.path_arg(1).unwrap_or_default();
    // An absolute path ignores the dirfd; anything else (a relative path,
    // or AT_EMPTY_PATH naming the dirfd itself) starts there.
    if path.first() != Some(&b'/') && !is_memfd(ctx, dirfd) && !ctx.base_is_sandboxed(dirfd)? {
        return Err(Errno::EACCES);
    }
    exec_resets_caps(ctx)?;
    Ok(Outcome::Continue)
}

/// fexecve of a memfd (no file system behind it, nothing of the host's).
fn is_memfd(ctx: &Ctx, fd: i32) -> bool {
    fd >= 0
        && std::fs::read_link(format!("/proc/{}/fd/{fd}", ctx.tid()))
            .is_ok_and(|l| l.as_os_str().as_encoded_bytes().starts_with(b"/memfd:"))
}

/// execve recomputes the capability sets (root's come back from the
/// bounding set; a non-root uid keeps only the ambient ones), the saved
/// ids take the effective ones and keepcaps is cleared (partial: applied
/// before the exec is known to succeed).
fn exec_resets_caps(ctx: &mut Ctx) -> Result<(), Errno> {
    // Nobody changed any credentials: every task holds what the spec's
    // user holds after an exec, and leaving the table empty keeps every
    // later lookup free.
    if !ctx.sentry.procfs.creds.recorded() {
        return Ok(());
    }
    let old = ctx.cred()?;
    let new = old.after_exec();
    if new != old {
        ctx.set_cred(new)?;
    }
    Ok(())
}
