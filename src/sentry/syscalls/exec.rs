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
    forget_credentials(ctx)?;
    ctx.sentry.writable_copies.settle()?;
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
    forget_credentials(ctx)?;
    ctx.sentry.writable_copies.settle()?;
    Ok(Outcome::Continue)
}

/// fexecve of a memfd (no file system behind it, nothing of the host's).
fn is_memfd(ctx: &Ctx, fd: i32) -> bool {
    fd >= 0
        && crate::sentry::sys::with_task_fd_path(ctx.tid(), fd, |p| std::fs::read_link(p))
            .is_ok_and(|l| l.as_os_str().as_encoded_bytes().starts_with(b"/memfd:"))
}

/// execve may change the caller's credentials (set-user-ID and
/// set-group-ID programs, file capabilities, root's capability rules);
/// a non-leader thread's exec also takes over its leader's tid.
fn forget_credentials(ctx: &mut Ctx) -> Result<(), Errno> {
    let tgid = ctx.task()?.tgid;
    ctx.sentry.kernel.creds.forget(tgid);
    ctx.forget_cred();
    Ok(())
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use crate::sentry::testkit::{continued, Kit};

    /// The kernel execs (in the workload's mount namespace); the sentry
    /// only forgets the caller's credentials first.
    #[test]
    fn execve_of_an_absolute_path_continues() {
        let k = Kit::new("execve");
        let p = k.path("/bin/sh");
        assert!(continued(&k.call("execve", [p, 0, 0, 0, 0, 0])));
    }
}
