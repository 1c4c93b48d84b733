//! Capabilities as the sandbox sees them. The workload holds no host
//! capability at all; capget answers with the spec's sets until the task
//! changes its own with capset, which the sentry then remembers per thread
//! (a forked child inherits its parent's, execve restores the spec's;
//! partial, see the table).

use nix::errno::Errno;

use super::{Ctx, Outcome, SysResult};
use crate::sentry::fs::procfs::CapSets;

/// The caller's sets: what it (or an ancestor) set, else the spec's.
fn own_sets(ctx: &mut Ctx) -> Result<CapSets, Errno> {
    if let Some(c) = ctx.sentry.procfs.task_caps(ctx.tid()) {
        return Ok(c);
    }
    spec_sets(ctx)
}

/// The spec's sets as a task with the caller's effective uid holds them
/// after execve (none for a non-root uid).
pub(super) fn spec_sets(ctx: &mut Ctx) -> Result<CapSets, Errno> {
    let euid = ctx.task()?.uids[1];
    let c = ctx.sentry.cfg.process.caps;
    Ok(if euid == 0 {
        CapSets {
            effective: c.effective,
            permitted: c.permitted,
            inheritable: c.inheritable,
        }
    } else {
        CapSets {
            effective: 0,
            permitted: 0,
            inheritable: c.inheritable,
        }
    })
}

const VERSION_1: u32 = 0x1998_0330;
const VERSION_2: u32 = 0x2007_1026;
const VERSION_3: u32 = 0x2008_0522;

fn check_header(ctx: &Ctx, hdr_addr: u64) -> Result<(u32, i32), Errno> {
    let hdr = ctx.read_bytes(hdr_addr, 8)?;
    let version = u32::from_ne_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
    let pid = i32::from_ne_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
    if ![VERSION_1, VERSION_2, VERSION_3].contains(&version) {
        // The kernel writes its preferred version back and fails.
        ctx.write(hdr_addr, &VERSION_3.to_ne_bytes())?;
        return Err(Errno::EINVAL);
    }
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    Ok((version, pid))
}

/// capget(2).
pub fn capget(ctx: &mut Ctx) -> SysResult {
    let (hdr, data) = (ctx.arg(0), ctx.arg(1));
    let (version, _pid) = match check_header(ctx, hdr) {
        // libcap probes the preferred version with a NULL data pointer:
        // Linux writes it back and returns 0 (capget(2)).
        Err(Errno::EINVAL) if data == 0 => return Ok(Outcome::Value(0)),
        other => other?,
    };
    if data == 0 {
        return Ok(Outcome::Value(0));
    }
    let sets = own_sets(ctx)?;
    let (eff, prm, inh) = (sets.effective, sets.permitted, sets.inheritable);
    let words = if version == VERSION_1 { 1 } else { 2 };
    let mut out = Vec::new();
    for w in 0..words {
        for v in [eff, prm, inh] {
            out.extend_from_slice(&((v >> (32 * w)) as u32).to_ne_bytes());
        }
    }
    ctx.write(data, &out)?;
    Ok(Outcome::Value(0))
}

/// capset(2).
pub fn capset(ctx: &mut Ctx) -> SysResult {
    let (hdr, data) = (ctx.arg(0), ctx.arg(1));
    let (version, pid) = check_header(ctx, hdr)?;
    if pid != 0 && pid != ctx.tid() {
        return Err(Errno::EPERM);
    }
    let words = if version == VERSION_1 { 1 } else { 2 };
    let b = ctx.read_bytes(data, 12 * words)?;
    let word =
        |i: usize| u32::from_ne_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]) as u64;
    let (mut eff, mut prm, mut inh) = (word(0), word(1), word(2));
    if words == 2 {
        eff |= word(3) << 32;
        prm |= word(4) << 32;
        inh |= word(5) << 32;
    }
    let old = own_sets(ctx)?;
    // capset(2): permitted may only shrink, effective stays within it, and
    // inheritable may only gain bits from permitted (from the bounding set
    // with CAP_SETPCAP).
    const CAP_SETPCAP: u64 = 1 << 8;
    let inh_allowed = if old.effective & CAP_SETPCAP != 0 {
        old.inheritable | ctx.sentry.cfg.process.caps.bounding
    } else {
        old.inheritable | old.permitted
    };
    if prm & !old.permitted != 0 || eff & !prm != 0 || inh & !inh_allowed != 0 {
        return Err(Errno::EPERM);
    }
    ctx.sentry.procfs.set_task_caps(
        ctx.tid(),
        CapSets {
            effective: eff,
            permitted: prm,
            inheritable: inh,
        },
    );
    Ok(Outcome::Value(0))
}

/// setgroups(2): the kernel keeps the groups; the sentry only stops
/// assuming the spec's (see `Sentry::groups_from_spec`) before the call
/// goes on, so no check made after it returns can use the old list.
pub fn setgroups(ctx: &mut Ctx) -> SysResult {
    ctx.sentry
        .groups_from_spec
        .store(false, std::sync::atomic::Ordering::SeqCst);
    Ok(Outcome::Continue)
}
