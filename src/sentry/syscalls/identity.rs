//! Capabilities as the sandbox sees them. The workload holds no host
//! capability at all; capget answers with the spec's sets, capset accepts
//! any request that only lowers them (partial: the lowered sets are not
//! remembered, see the table).

use nix::errno::Errno;

use super::{Ctx, Outcome, SysResult};

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
    let euid = ctx.task()?.uids[1];
    let c = ctx.sentry.cfg.process.caps;
    let (eff, prm, inh) = if euid == 0 {
        (c.effective, c.permitted, c.inheritable)
    } else {
        (0, 0, c.inheritable)
    };
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
    let (mut eff, mut prm) = (word(0), word(1));
    if words == 2 {
        eff |= word(3) << 32;
        prm |= word(4) << 32;
    }
    let allowed = if ctx.task()?.uids[1] == 0 {
        ctx.sentry.cfg.process.caps.permitted
    } else {
        0
    };
    if prm & !allowed != 0 || eff & !prm != 0 {
        return Err(Errno::EPERM);
    }
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
