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
    if !ctx.sentry.procfs.cwds.recorded() {
        return Ok(Outcome::Continue);
    }
    let _ = ctx.sentry.procfs.cwds.note_exit(tid);
    Ok(Outcome::Continue)
}
