//! Signals to other tasks: who may signal whom follows the emulated
//! credentials (`crate::sentry::cred`), not the host ids, which are the
//! same for every process init started. The rule is the kernel's
//! check_kill_permission: a task may signal its own thread group; else
//! its real or effective uid must be the target's real or saved uid, or it
//! holds CAP_KILL; SIGCONT may also go to any task of its session.
//!
//! When permitted, the kernel delivers (`Outcome::Continue`): the call
//! runs again with the host ids, which all match, and keeps its siginfo
//! and pid-namespace confinement. A kill of a process group or of every
//! process (pid 0, -pgrp, -1) where only some targets are permitted is
//! delivered by the sentry to those, as Linux does; the sentry's signal
//! carries SI_QUEUE (not SI_USER) with the sender's container pid and real
//! uid, since only the sender itself may send SI_USER.
//!
//! While every task holds the same credentials (nobody switched, no `runrs
//! exec` process of its own identity) every signal is permitted and the
//! call continues at once.

use nix::errno::Errno;

use super::{Ctx, Outcome, SysResult};
use crate::sentry::cred::{self, Cred};

const SIGCONT: i32 = libc::SIGCONT;
/// _NSIG: signals 1..=64; 0 probes.
const NSIG: i32 = 64;
const SI_QUEUE: i32 = -1;
const SI_TKILL: i32 = -6;

/// PIDFD_SIGNAL_THREAD, _THREAD_GROUP, _PROCESS_GROUP (Linux 6.9+).
const PIDFD_SIGNAL_THREAD: u32 = 1;
const PIDFD_SIGNAL_THREAD_GROUP: u32 = 2;
const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 4;

fn valid(sig: i32) -> bool {
    (0..=NSIG).contains(&sig)
}

/// A target task: its host tid and host tgid.
#[derive(Clone, Copy)]
struct Target {
    htid: i32,
    htgid: i32,
}

/// The caller's side of the check.
struct Sender {
    cred: Cred,
    htgid: i32,
}

fn sender(ctx: &mut Ctx) -> Result<Sender, Errno> {
    let cred = ctx.cred()?;
    let htgid = ctx.task()?.tgid;
    Ok(Sender { cred, htgid })
}

/// kill_ok_by_cred.
fn ok_by_cred(s: &Cred, t: &Cred) -> bool {
    let (euid, ruid) = (s.uid[1], s.uid[0]);
    let (truid, tsuid) = (t.uid[0], t.uid[2]);
    euid == tsuid || euid == truid || ruid == tsuid || ruid == truid || s.capable(cred::CAP_KILL)
}

/// check_kill_permission for one target: Ok(false) is EPERM.
fn permitted(ctx: &Ctx, s: &Sender, t: Target, sig: i32) -> Result<bool, Errno> {
    if t.htgid == s.htgid {
        return Ok(true);
    }
    let tcred = ctx.sentry.procfs.creds.get(t.htid)?;
    if ok_by_cred(&s.cred, &tcred) {
        return Ok(true);
    }
    if sig == SIGCONT {
        let host = ctx.sentry.procfs.host();
        let session = |h: i32| host.stat(h).map(|st| st.session);
        return Ok(session(t.htid)? == session(s.htgid)?);
    }
    Ok(false)
}

/// Whether every task holds the same credentials: then every signal is
/// permitted (the sender's real uid is the target's).
fn uniform(ctx: &Ctx) -> bool {
    ctx.sentry.procfs.creds.uniform()
}

/// One target: continue if permitted, else EPERM.
fn one(ctx: &mut Ctx, t: Target, sig: i32) -> SysResult {
    let s = sender(ctx)?;
    if permitted(ctx, &s, t, sig)? {
        Ok(Outcome::Continue)
    } else {
        Err(Errno::EPERM)
    }
}

/// The host pid of container process `cpid`.
fn process(ctx: &Ctx, cpid: i32) -> Result<Target, Errno> {
    let h = ctx.sentry.procfs.host_pid(cpid).ok_or(Errno::ESRCH)?;
    Ok(Target { htid: h, htgid: h })
}

/// Whether container process `cpid` is the caller's own (a signal to its
/// own thread group is always permitted: no target to look up).
fn own_process(ctx: &mut Ctx, cpid: i32) -> Result<bool, Errno> {
    let htgid = ctx.task()?.tgid;
    Ok(ctx.sentry.procfs.host().container_pid(htgid) == Some(cpid))
}

/// The host tid of container thread `ctid`, of container process `ctgid`
/// when given (else of any container process).
fn thread(ctx: &Ctx, ctgid: Option<i32>, ctid: i32) -> Result<Target, Errno> {
    let host = ctx.sentry.procfs.host();
    let find = |htgid: i32| {
        host.thread_of(htgid, ctid)
            .map(|htid| Target { htid, htgid })
    };
    match ctgid {
        Some(ctgid) => {
            let p = process(ctx, ctgid)?;
            find(p.htgid).ok_or(Errno::ESRCH)
        }
        None => {
            // A leader's tid is its process's pid: no scan of every thread.
            if let Ok(p) = process(ctx, ctid) {
                return Ok(p);
            }
            host.list_container_pids()
                .into_iter()
                .find_map(|(_, h)| find(h))
                .ok_or(Errno::ESRCH)
        }
    }
}

/// The processes a kill of `pid` <= 0 reaches (pid 0: the caller's
/// process group; -1: every process but init and the caller's; else the
/// process group -pid), as host pids.
fn group(ctx: &Ctx, s: &Sender, pid: i32, caller_pgrp: i32) -> Vec<i32> {
    let host = ctx.sentry.procfs.host();
    host.list_container_pids()
        .into_iter()
        .filter(|&(cpid, h)| {
            if pid == -1 {
                return cpid > 1 && h != s.htgid;
            }
            let want = if pid == 0 { caller_pgrp } else { -pid };
            host.status(h)
                .ok()
                .and_then(|st| st.last_i32("NSpgid"))
                .is_some_and(|g| g == want)
        })
        .map(|(_, h)| h)
        .collect()
}

/// A kill of several processes: as kill_something_info and
/// __kill_pgrp_info, delivered to the permitted ones.
fn kill_group(ctx: &mut Ctx, pid: i32, sig: i32) -> SysResult {
    let s = sender(ctx)?;
    let caller_pgrp = if pid == 0 {
        ctx.sentry
            .procfs
            .host()
            .status(s.htgid)?
            .last_i32("NSpgid")
            .ok_or(Errno::ESRCH)?
    } else {
        0
    };
    let targets = group(ctx, &s, pid, caller_pgrp);
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    let mut allowed = Vec::new();
    for &h in &targets {
        // A target that exited meanwhile is no longer one.
        if permitted(ctx, &s, Target { htid: h, htgid: h }, sig).unwrap_or(false) {
            allowed.push(h);
        }
    }
    if allowed.len() == targets.len() {
        // The kernel delivers with the right siginfo (a process that
        // joined the group since is signalled too, as it would be a moment
        // later).
        return Ok(Outcome::Continue);
    }
    if allowed.is_empty() {
        // kill(-1) counts EPERM as no error (kill_something_info).
        return if pid == -1 {
            Ok(Outcome::Value(0))
        } else {
            Err(Errno::EPERM)
        };
    }
    if sig != 0 {
        let uid = s.cred.uid[0];
        let ctgid = ctx
            .sentry
            .procfs
            .host()
            .container_ids(ctx.tid())
            .map_or(0, |(tgid, _, _)| tgid);
        for h in allowed {
            // A process that exited meanwhile is not an error (Linux
            // would not have found it).
            let _ = send_queued(h, sig, ctgid, uid);
        }
    }
    Ok(Outcome::Value(0))
}

/// Sends `sig` to host process `h` from the sentry, with a siginfo
/// naming the workload sender.
fn send_queued(h: i32, sig: i32, pid: i32, uid: u32) -> Result<(), Errno> {
    let fd = crate::sentry::sys::pidfd_open(h)?;
    // struct siginfo: signo, errno, code, a pad, then _kill's pid and uid.
    let mut info = [0i32; 32];
    info[0] = sig;
    info[2] = SI_QUEUE;
    info[4] = pid;
    info[5] = uid as i32;
    crate::sentry::sys::pidfd_send_signal(&fd, sig, &info)
}

/// kill(2).
pub fn kill(ctx: &mut Ctx) -> SysResult {
    let (pid, sig) = (ctx.arg_i32(0), ctx.arg_i32(1));
    ctx.note(|| format!("{pid}, {sig}"));
    if !valid(sig) || uniform(ctx) || pid == i32::MIN {
        // The kernel's errors (EINVAL, ESRCH), or every target permitted.
        return Ok(Outcome::Continue);
    }
    if pid > 0 {
        if own_process(ctx, pid)? {
            return Ok(Outcome::Continue);
        }
        let t = process(ctx, pid)?;
        return one(ctx, t, sig);
    }
    kill_group(ctx, pid, sig)
}

/// tkill(2).
pub fn tkill(ctx: &mut Ctx) -> SysResult {
    let (tid, sig) = (ctx.arg_i32(0), ctx.arg_i32(1));
    ctx.note(|| format!("{tid}, {sig}"));
    if tid <= 0 || !valid(sig) || uniform(ctx) {
        return Ok(Outcome::Continue);
    }
    let t = thread(ctx, None, tid)?;
    one(ctx, t, sig)
}

/// tgkill(2).
pub fn tgkill(ctx: &mut Ctx) -> SysResult {
    let (tgid, tid, sig) = (ctx.arg_i32(0), ctx.arg_i32(1), ctx.arg_i32(2));
    ctx.note(|| format!("{tgid}, {tid}, {sig}"));
    if tgid <= 0 || tid <= 0 || !valid(sig) || uniform(ctx) || own_process(ctx, tgid)? {
        return Ok(Outcome::Continue);
    }
    let t = thread(ctx, Some(tgid), tid)?;
    one(ctx, t, sig)
}

/// The si_code of a siginfo argument, and whether the kernel refuses it
/// to anyone but the caller itself (only the kernel sends SI_USER and
/// positive codes, and SI_TKILL is tgkill's).
fn forged_code(ctx: &Ctx, info: u64) -> Result<bool, Errno> {
    let b = ctx.read_bytes(info + 8, 4)?;
    let code = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    Ok(code >= 0 || code == SI_TKILL)
}

/// rt_sigqueueinfo(2).
pub fn rt_sigqueueinfo(ctx: &mut Ctx) -> SysResult {
    let (pid, sig, info) = (ctx.arg_i32(0), ctx.arg_i32(1), ctx.arg(2));
    ctx.note(|| format!("{pid}, {sig}, {info:#x}"));
    if uniform(ctx) {
        return Ok(Outcome::Continue);
    }
    let own_tid = ctx.sentry.procfs.container_tid(ctx.tid());
    if forged_code(ctx, info)? && own_tid != Some(pid) {
        return Err(Errno::EPERM);
    }
    if pid <= 0 || !valid(sig) || own_process(ctx, pid)? {
        return Ok(Outcome::Continue);
    }
    let t = process(ctx, pid)?;
    one(ctx, t, sig)
}

/// rt_tgsigqueueinfo(2).
pub fn rt_tgsigqueueinfo(ctx: &mut Ctx) -> SysResult {
    let (tgid, tid, sig, info) = (ctx.arg_i32(0), ctx.arg_i32(1), ctx.arg_i32(2), ctx.arg(3));
    ctx.note(|| format!("{tgid}, {tid}, {sig}, {info:#x}"));
    if tgid <= 0 || tid <= 0 || uniform(ctx) {
        return Ok(Outcome::Continue);
    }
    let own_tid = ctx.sentry.procfs.container_tid(ctx.tid());
    if forged_code(ctx, info)? && own_tid != Some(tid) {
        return Err(Errno::EPERM);
    }
    if !valid(sig) || own_process(ctx, tgid)? {
        return Ok(Outcome::Continue);
    }
    let t = thread(ctx, Some(tgid), tid)?;
    one(ctx, t, sig)
}

/// pidfd_send_signal(2): the pidfd's task (its fdinfo `Pid:`, a host id in
/// the sentry's /proc), or its process group with
/// PIDFD_SIGNAL_PROCESS_GROUP.
pub fn pidfd_send_signal(ctx: &mut Ctx) -> SysResult {
    let (fd, sig, info, flags) = (
        ctx.arg_i32(0),
        ctx.arg_i32(1),
        ctx.arg(2),
        ctx.arg(3) as u32,
    );
    ctx.note(|| format!("{fd}, {sig}, {info:#x}, {flags:#x}"));
    let known = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP;
    if !valid(sig) || uniform(ctx) || flags & !known != 0 || flags.count_ones() > 1 {
        return Ok(Outcome::Continue);
    }
    let host = ctx.sentry.procfs.host();
    // Not a pidfd, or its task is gone: the kernel's EBADF or ESRCH.
    let Some(h) = host
        .fdinfo(ctx.tid(), fd)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("Pid:"))
                .and_then(|v| v.trim().parse::<i32>().ok())
        })
        .filter(|&h| h > 0)
    else {
        return Ok(Outcome::Continue);
    };
    if !host.in_container(h) {
        // Only a pidfd passed in from outside: the host ids decide.
        return Ok(Outcome::Continue);
    }
    // Only to the calling thread's own pid may it pass such a code.
    if info != 0
        && forged_code(ctx, info)?
        && (ctx.tid() != h || flags == PIDFD_SIGNAL_PROCESS_GROUP)
    {
        return Err(Errno::EPERM);
    }
    if flags == PIDFD_SIGNAL_PROCESS_GROUP {
        let pgrp = host.status(h)?.last_i32("NSpgid").ok_or(Errno::ESRCH)?;
        return kill_group(ctx, -pgrp, sig);
    }
    let htgid = crate::sentry::sys::pidfd_info(h)
        .map(|i| i.tgid as i32)
        .map_err(|_| Errno::ESRCH)?;
    one(ctx, Target { htid: h, htgid }, sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(r: u32, e: u32, s: u32) -> Cred {
        Cred {
            uid: [r, e, s, e],
            gid: [0; 4],
            groups: vec![],
            effective: 0,
            permitted: 0,
            inheritable: 0,
            bounding: 0,
            ambient: 0,
            securebits: 0,
            no_new_privs: false,
            dumpable: crate::sentry::cred::SUID_DUMP_USER,
        }
    }

    #[test]
    fn kill_ok_by_cred_rules() {
        let root_target = user(0, 0, 0);
        assert!(!ok_by_cred(&user(1000, 1000, 1000), &root_target));
        // The sender's effective uid matches the target's real one.
        assert!(ok_by_cred(&user(1000, 0, 1000), &root_target));
        // The sender's real uid matches the target's saved one.
        assert!(ok_by_cred(&user(5, 7, 7), &user(1, 1, 5)));
        // The target's effective uid does not count.
        assert!(!ok_by_cred(&user(5, 5, 5), &user(1, 5, 1)));
        let mut capable = user(1000, 1000, 1000);
        capable.effective = cred::cap_bit(cred::CAP_KILL);
        assert!(ok_by_cred(&capable, &root_target));
    }
}
