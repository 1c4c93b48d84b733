//! Identity: the ids, groups, capability sets and securebits of each task,
//! emulated by the sentry (`crate::sentry::cred`). The workload holds no
//! host capability and keeps its host ids, so none of these calls reach
//! the kernel; the rules are Linux's (kernel/sys.c, kernel/groups.c,
//! kernel/capability.c, security/commoncap.c).

use nix::errno::Errno;

use super::{Ctx, Outcome, SysResult};
use crate::sentry::cred::{self, Cred, NGROUPS_MAX};

fn value(v: u32) -> SysResult {
    Ok(Outcome::Value(i64::from(v)))
}

/// uid_t / gid_t arguments: the low 32 bits, as the kernel reads them.
fn id_arg(ctx: &Ctx, i: usize) -> u32 {
    ctx.arg(i) as u32
}

/// getuid(2).
pub fn getuid(ctx: &mut Ctx) -> SysResult {
    value(ctx.cred()?.uid[0])
}

/// geteuid(2).
pub fn geteuid(ctx: &mut Ctx) -> SysResult {
    value(ctx.cred()?.uid[1])
}

/// getgid(2).
pub fn getgid(ctx: &mut Ctx) -> SysResult {
    value(ctx.cred()?.gid[0])
}

/// getegid(2).
pub fn getegid(ctx: &mut Ctx) -> SysResult {
    value(ctx.cred()?.gid[1])
}

/// Writes three ids to three pointers, stopping at the first fault (as
/// the kernel's put_user chain).
fn put3(ctx: &mut Ctx, ids: [u32; 4]) -> SysResult {
    for (i, id) in ids.iter().take(3).enumerate() {
        ctx.write(ctx.arg(i), &id.to_ne_bytes())?;
    }
    Ok(Outcome::Value(0))
}

/// getresuid(2).
pub fn getresuid(ctx: &mut Ctx) -> SysResult {
    let c = ctx.cred()?;
    put3(ctx, c.uid)
}

/// getresgid(2).
pub fn getresgid(ctx: &mut Ctx) -> SysResult {
    let c = ctx.cred()?;
    put3(ctx, c.gid)
}

/// getgroups(2): size 0 asks for the count.
pub fn getgroups(ctx: &mut Ctx) -> SysResult {
    let (size, list) = (ctx.arg_i32(0), ctx.arg(1));
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    let groups = ctx.cred()?.groups;
    if size > 0 {
        if groups.len() > size as usize {
            return Err(Errno::EINVAL);
        }
        let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_ne_bytes()).collect();
        if !bytes.is_empty() {
            ctx.write(list, &bytes)?;
        }
    }
    Ok(Outcome::Value(groups.len() as i64))
}

/// setgroups(2).
pub fn setgroups(ctx: &mut Ctx) -> SysResult {
    let (size, list) = (ctx.arg_i32(0), ctx.arg(1));
    let old = ctx.cred()?;
    if !old.capable(cred::CAP_SETGID) {
        return Err(Errno::EPERM);
    }
    if size as u32 as usize > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    let size = size as usize;
    let bytes = if size == 0 {
        Vec::new()
    } else {
        ctx.read_bytes(list, size * 4)?
    };
    let groups = bytes
        .chunks_exact(4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let new = old.setgroups(groups)?;
    ctx.set_cred(new)?;
    Ok(Outcome::Value(0))
}

/// Applies a change computed from the caller's credentials.
fn change(ctx: &mut Ctx, f: impl FnOnce(&Cred) -> Result<Cred, Errno>) -> SysResult {
    let old = ctx.cred()?;
    let new = f(&old)?;
    if new != old {
        ctx.set_cred(new)?;
    }
    Ok(Outcome::Value(0))
}

/// setuid(2).
pub fn setuid(ctx: &mut Ctx) -> SysResult {
    let uid = id_arg(ctx, 0);
    change(ctx, |c| c.setuid(uid))
}

/// setgid(2).
pub fn setgid(ctx: &mut Ctx) -> SysResult {
    let gid = id_arg(ctx, 0);
    change(ctx, |c| c.setgid(gid))
}

/// setreuid(2).
pub fn setreuid(ctx: &mut Ctx) -> SysResult {
    let (r, e) = (id_arg(ctx, 0), id_arg(ctx, 1));
    change(ctx, |c| c.setreuid(r, e))
}

/// setregid(2).
pub fn setregid(ctx: &mut Ctx) -> SysResult {
    let (r, e) = (id_arg(ctx, 0), id_arg(ctx, 1));
    change(ctx, |c| c.setregid(r, e))
}

/// setresuid(2).
pub fn setresuid(ctx: &mut Ctx) -> SysResult {
    let (r, e, s) = (id_arg(ctx, 0), id_arg(ctx, 1), id_arg(ctx, 2));
    change(ctx, |c| c.setresuid(r, e, s))
}

/// setresgid(2).
pub fn setresgid(ctx: &mut Ctx) -> SysResult {
    let (r, e, s) = (id_arg(ctx, 0), id_arg(ctx, 1), id_arg(ctx, 2));
    change(ctx, |c| c.setresgid(r, e, s))
}

/// setfsuid(2): returns the previous fsuid, changed or not.
pub fn setfsuid(ctx: &mut Ctx) -> SysResult {
    let uid = id_arg(ctx, 0);
    let old = ctx.cred()?;
    change(ctx, |c| Ok(c.setfsuid(uid)))?;
    value(old.uid[3])
}

/// setfsgid(2): returns the previous fsgid, changed or not.
pub fn setfsgid(ctx: &mut Ctx) -> SysResult {
    let gid = id_arg(ctx, 0);
    let old = ctx.cred()?;
    change(ctx, |c| Ok(c.setfsgid(gid)))?;
    value(old.gid[3])
}

/// clone(2) of a thread with CLONE_PARENT_SETTID (the table sends only
/// pthread_create's flags here): the new thread's credentials are its
/// creator's, which the sentry notes with the address the kernel writes
/// the new tid to; then the kernel clones.
pub fn clone(ctx: &mut Ctx) -> SysResult {
    let (flags, ptid) = (ctx.arg(0), ctx.arg(2));
    ctx.note(|| format!("{flags:#x}, ptid={ptid:#x}"));
    let creds = &ctx.sentry.procfs.creds;
    // Nobody holds a record: every thread holds the same.
    if creds.recorded() {
        creds.note_clone(ctx.tid(), ptid)?;
    }
    Ok(Outcome::Continue)
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
    let (version, pid) = match check_header(ctx, hdr) {
        // libcap probes the preferred version with a NULL data pointer:
        // Linux writes it back and returns 0 (capget(2)).
        Err(Errno::EINVAL) if data == 0 => return Ok(Outcome::Value(0)),
        other => other?,
    };
    if data == 0 {
        return Ok(Outcome::Value(0));
    }
    // Another task's sets when pid names one (libcap-ng passes its own).
    let c = if pid == 0 || ctx.sentry.procfs.container_tid(ctx.tid()) == Some(pid) {
        ctx.cred()?
    } else {
        let host = ctx.sentry.procfs.host_pid(pid).ok_or(Errno::ESRCH)?;
        ctx.sentry.procfs.creds.get(host)?
    };
    let words = if version == VERSION_1 { 1 } else { 2 };
    let mut out = Vec::new();
    for w in 0..words {
        for v in [c.effective, c.permitted, c.inheritable] {
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
    // Only the caller's own sets (pid 0 or its own id in the container).
    if pid != 0 && ctx.sentry.procfs.container_tid(ctx.tid()) != Some(pid) {
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
    change(ctx, |c| c.capset(eff, prm, inh))
}

const PR_GET_DUMPABLE: u64 = 3;
const PR_SET_DUMPABLE: u64 = 4;
const PR_GET_KEEPCAPS: u64 = 7;
const PR_SET_KEEPCAPS: u64 = 8;
const PR_CAPBSET_READ: u64 = 0x17;
const PR_CAPBSET_DROP: u64 = 0x18;
const PR_GET_SECUREBITS: u64 = 0x1b;
const PR_SET_SECUREBITS: u64 = 0x1c;
const PR_CAP_AMBIENT: u64 = 0x2f;
const PR_CAP_AMBIENT_IS_SET: u64 = 1;
const PR_CAP_AMBIENT_RAISE: u64 = 2;
const PR_CAP_AMBIENT_LOWER: u64 = 3;
const PR_CAP_AMBIENT_CLEAR_ALL: u64 = 4;

/// A capability number argument the kernel knows (cap_valid).
fn cap_arg(v: u64) -> Result<u32, Errno> {
    if v <= u64::from(cred::CAP_LAST_CAP) {
        Ok(v as u32)
    } else {
        Err(Errno::EINVAL)
    }
}

/// prctl(2), the capability and securebits options (the table sends only
/// these here; the others run in the kernel).
pub fn prctl(ctx: &mut Ctx) -> SysResult {
    let option = ctx.arg(0) & 0xffff_ffff;
    let (a2, a3, a4, a5) = (ctx.arg(1), ctx.arg(2), ctx.arg(3), ctx.arg(4));
    ctx.note(|| format!("{option:#x}, {a2:#x}, {a3:#x}"));
    let c = ctx.cred()?;
    match option {
        // The dumpable mode is the sentry's too: a set*id call makes the
        // task non-dumpable, which the host flag cannot follow. Setting it
        // also reaches the kernel (core dumps follow its flag).
        PR_GET_DUMPABLE => Ok(Outcome::Value(i64::from(c.dumpable))),
        PR_SET_DUMPABLE => {
            if a2 > 1 {
                return Err(Errno::EINVAL);
            }
            change(ctx, |c| {
                let mut n = c.clone();
                n.dumpable = a2 as u8;
                Ok(n)
            })?;
            Ok(Outcome::Continue)
        }
        PR_GET_KEEPCAPS => Ok(Outcome::Value(i64::from(
            c.securebits & cred::SECURE_KEEP_CAPS != 0,
        ))),
        PR_SET_KEEPCAPS => {
            if a2 > 1 {
                return Err(Errno::EINVAL);
            }
            if c.securebits & cred::SECURE_KEEP_CAPS_LOCKED != 0 {
                return Err(Errno::EPERM);
            }
            change(ctx, |c| {
                let mut n = c.clone();
                if a2 == 1 {
                    n.securebits |= cred::SECURE_KEEP_CAPS;
                } else {
                    n.securebits &= !cred::SECURE_KEEP_CAPS;
                }
                Ok(n)
            })
        }
        PR_CAPBSET_READ => {
            let cap = cap_arg(a2)?;
            Ok(Outcome::Value(i64::from(
                c.bounding & cred::cap_bit(cap) != 0,
            )))
        }
        PR_CAPBSET_DROP => {
            let cap = cap_arg(a2)?;
            if !c.capable(cred::CAP_SETPCAP) {
                return Err(Errno::EPERM);
            }
            change(ctx, |c| {
                let mut n = c.clone();
                n.bounding &= !cred::cap_bit(cap);
                Ok(n)
            })
        }
        PR_GET_SECUREBITS => Ok(Outcome::Value(i64::from(c.securebits))),
        PR_SET_SECUREBITS => {
            let old = u64::from(c.securebits);
            let locks = u64::from(cred::SECURE_ALL_LOCKS);
            let all = u64::from(cred::SECURE_ALL_BITS) | locks;
            // A locked bit may not change, a lock may not go, unknown
            // bits are refused, and it takes CAP_SETPCAP.
            if ((old & locks) >> 1) & (old ^ a2) != 0
                || old & locks & !a2 != 0
                || a2 & !all != 0
                || !c.capable(cred::CAP_SETPCAP)
            {
                return Err(Errno::EPERM);
            }
            change(ctx, |c| {
                let mut n = c.clone();
                n.securebits = a2 as u32;
                Ok(n)
            })
        }
        PR_CAP_AMBIENT => {
            if a2 == PR_CAP_AMBIENT_CLEAR_ALL {
                if a3 | a4 | a5 != 0 {
                    return Err(Errno::EINVAL);
                }
                return change(ctx, |c| {
                    let mut n = c.clone();
                    n.ambient = 0;
                    Ok(n)
                });
            }
            if a4 | a5 != 0 {
                return Err(Errno::EINVAL);
            }
            let bit = cred::cap_bit(cap_arg(a3)?);
            match a2 {
                PR_CAP_AMBIENT_IS_SET => Ok(Outcome::Value(i64::from(c.ambient & bit != 0))),
                PR_CAP_AMBIENT_RAISE => {
                    if c.permitted & bit == 0
                        || c.inheritable & bit == 0
                        || c.securebits & cred::SECURE_NO_CAP_AMBIENT_RAISE != 0
                    {
                        return Err(Errno::EPERM);
                    }
                    change(ctx, |c| {
                        let mut n = c.clone();
                        n.ambient |= bit;
                        Ok(n)
                    })
                }
                PR_CAP_AMBIENT_LOWER => change(ctx, |c| {
                    let mut n = c.clone();
                    n.ambient &= !bit;
                    Ok(n)
                }),
                _ => Err(Errno::EINVAL),
            }
        }
        _ => Ok(Outcome::Continue),
    }
}

/// exit_group(2): before the process ends, its children that have made no
/// emulated call yet record the credentials and virtual cwd they inherit
/// from it; once reparented (to init or a subreaper) they would inherit
/// from that instead (a user process that double-forks must not leave a
/// grandchild holding root's credentials). Then the kernel ends it.
/// Never fails: the process ends whatever the sentry could record.
pub fn exit_group(ctx: &mut Ctx) -> SysResult {
    let tid = ctx.tid();
    // Nobody changed credentials or entered a synthetic directory (the
    // common case): nothing to pass on, no lookup.
    if !ctx.sentry.procfs.creds.recorded() && !ctx.sentry.procfs.cwds.recorded() {
        return Ok(Outcome::Continue);
    }
    if let Ok(tgid) = ctx.task().map(|t| t.tgid) {
        let _ = ctx.sentry.procfs.creds.note_exit(tgid);
    }
    let _ = ctx.sentry.procfs.cwds.note_exit(tid);
    Ok(Outcome::Continue)
}
