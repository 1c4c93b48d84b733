//! execve: the kernel must load the program itself, resolving the path in
//! the workload's own mount namespace (the container's mounts only), so
//! the sentry records it and lets the call continue.

use super::{Ctx, Outcome, SysResult};

/// execve(2).
pub fn execve(ctx: &mut Ctx) -> SysResult {
    let _ = ctx.path_arg(0);
    Ok(Outcome::Continue)
}

/// execveat(2).
pub fn execveat(ctx: &mut Ctx) -> SysResult {
    ctx.dirfd_arg(0);
    let _ = ctx.path_arg(1);
    Ok(Outcome::Continue)
}
