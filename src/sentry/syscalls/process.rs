//! Process lifetime and process-wide settings: prctl's credential
//! options (the kernel does them once the sentry forgot what it knew, as
//! for the rest of `identity`) and exit_group (a dying process's virtual
//! cwd passes to its children).

use super::{Ctx, Outcome, SysResult};

/// prctl(2), the options that change credentials or the dumpable mode
/// (the table sends only those here: PR_SET_DUMPABLE, PR_SET_KEEPCAPS,
/// PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT).
pub fn prctl(ctx: &mut Ctx) -> SysResult {
    let option = ctx.arg(0) & 0xffff_ffff;
    ctx.note(|| format!("{option:#x}"));
    super::identity::changes_credentials(ctx)
}

/// exit_group(2): before the process ends, its children that have made no
/// emulated call yet record the virtual cwd they inherit from it; once
/// reparented (to init or a subreaper) they would inherit from that
/// instead. Then the kernel ends it. Never fails.
pub fn exit_group(ctx: &mut Ctx) -> SysResult {
    let tid = ctx.tid();
    // Nobody entered a synthetic directory (the common case): nothing to
    // pass on, no lookup.
    if !ctx.sentry.kernel.cwds.recorded() {
        return Ok(Outcome::Continue);
    }
    let _ = ctx.sentry.kernel.cwds.note_exit(tid);
    Ok(Outcome::Continue)
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use crate::sentry::testkit::{continued, Kit};

    #[test]
    fn prctl_credential_options_continue() {
        let k = Kit::new("prctl");
        for option in [
            libc::PR_SET_KEEPCAPS,
            libc::PR_SET_NO_NEW_PRIVS,
            libc::PR_SET_DUMPABLE,
        ] {
            assert!(continued(&k.call("prctl", [option as u64, 1, 0, 0, 0, 0])));
        }
    }

    #[test]
    fn exit_group_continues_without_a_recorded_cwd() {
        let k = Kit::new("exit-group");
        assert!(continued(&k.call("exit_group", [0; 6])));
        assert!(k.platform.calls().is_empty());
    }
}
