//! Identity: the kernel holds each task's ids, groups, capability sets
//! and securebits (the workload runs in a user namespace of its own where
//! the spec's capabilities are real, see `crate::sentry::cred`). The calls
//! that change them reach the sentry only so that it forgets what it read
//! of the caller's credentials; then the kernel performs them, with
//! Linux's rules. The calls that read them never reach the sentry.

use super::{Ctx, Outcome, SysResult};

/// The caller may change its credentials: drop what the sentry knows of
/// them and let the kernel do the call.
pub(super) fn changes_credentials(ctx: &mut Ctx) -> SysResult {
    ctx.forget_cred();
    Ok(Outcome::Continue)
}

/// setuid(2).
pub fn setuid(ctx: &mut Ctx) -> SysResult {
    changes_credentials(ctx)
}

/// setgid(2).
pub fn setgid(ctx: &mut Ctx) -> SysResult {
    changes_credentials(ctx)
}

/// setreuid(2).
pub fn setreuid(ctx: &mut Ctx) -> SysResult {
    changes_credentials(ctx)
}

/// setregid(2).
pub fn setregid(ctx: &mut Ctx) -> SysResult {
    changes_credentials(ctx)
}

/// setresuid(2).
pub fn setresuid(ctx: &mut Ctx) -> SysResult {
    changes_credentials(ctx)
}

/// setresgid(2).
pub fn setresgid(ctx: &mut Ctx) -> SysResult {
    changes_credentials(ctx)
}

/// setfsuid(2).
pub fn setfsuid(ctx: &mut Ctx) -> SysResult {
    changes_credentials(ctx)
}

/// setfsgid(2).
pub fn setfsgid(ctx: &mut Ctx) -> SysResult {
    changes_credentials(ctx)
}

/// setgroups(2).
pub fn setgroups(ctx: &mut Ctx) -> SysResult {
    changes_credentials(ctx)
}

/// capset(2).
pub fn capset(ctx: &mut Ctx) -> SysResult {
    changes_credentials(ctx)
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use crate::sentry::testkit::{continued, Kit};

    /// Every credential change is the kernel's: the sentry only forgets
    /// what it read and continues the call, touching no memory.
    #[test]
    fn credential_calls_continue_untouched() {
        let k = Kit::new("identity");
        for name in [
            "setuid",
            "setgid",
            "setreuid",
            "setregid",
            "setresuid",
            "setresgid",
            "setfsuid",
            "setfsgid",
            "setgroups",
            "capset",
        ] {
            assert!(continued(&k.call(name, [0; 6])), "{name}");
        }
        assert!(k.platform.calls().is_empty());
    }

    /// The cached credentials are dropped: the next read is the kernel's.
    #[test]
    fn setuid_drops_the_cached_credentials() {
        let k = Kit::new("identity-cache");
        let tid = nix::unistd::gettid().as_raw();
        let first = k.sentry.kernel.creds.own(tid).expect("own credentials");
        assert!(continued(&k.call("setuid", [0; 6])));
        let again = k.sentry.kernel.creds.own(tid).expect("read again");
        assert_eq!(first.uid, again.uid);
    }
}
