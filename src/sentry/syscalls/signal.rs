//! The signal calls the sentry answers: pidfd_send_signal of a /proc/<pid>
//! directory (every other signal call is the kernel's, with the tasks'
//! real credentials, in the container's pid namespace).

use nix::errno::Errno;

use super::{Ctx, Outcome, SysResult};
use crate::sentry::cred::{cap_bit, CAP_KILL};
use crate::sentry::cwd::VirtualCwd;
use crate::sentry::fs::hostproc;
use crate::sentry::sys;
use crate::sentry::vfs::SynthFs;

/// PIDFD_SIGNAL_THREAD, PIDFD_SIGNAL_THREAD_GROUP, PIDFD_SIGNAL_PROCESS_GROUP
/// (linux/pidfd.h).
const PIDFD_SIGNAL_FLAGS: u32 = 1 | 2 | 4;
const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 4;

/// pidfd_send_signal(2). The kernel answers for a pidfd and for any other
/// fd but one: an fd of a /proc/<pid> directory is a pidfd on Linux too
/// (its first form; LTP and CPython's tests signal /proc/self), and in the
/// container that is one of the sentry's synthetic directories, which the
/// kernel would refuse (EBADF). For those the sentry makes the kernel's
/// checks in its order (flags, the directory, the siginfo, the process,
/// the permission: `kill_ok_by_cred`), then sends the signal itself.
/// Partial: a signal sent without siginfo arrives with si_pid 0 (the
/// sentry is outside the container's pid namespace); SIGCONT to another
/// user's process of the same session is refused; the process-group flag
/// needs CAP_KILL (the kernel would check each member).
pub fn pidfd_send_signal(ctx: &mut Ctx) -> SysResult {
    let fd = ctx.arg_i32(0);
    let Some(dir) = synthetic_dir_of(ctx, fd)? else {
        return Ok(Outcome::Continue);
    };
    let (sig, info_addr, flags) = (ctx.arg_i32(1), ctx.arg(2), ctx.arg(3) as u32);
    if flags & !PIDFD_SIGNAL_FLAGS != 0 || flags.count_ones() > 1 {
        return Err(Errno::EINVAL);
    }
    // A process's own directory only, not a task/<tid> one nor /proc.
    let pid_dir = dir
        .path
        .strip_prefix("/proc/")
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let Some((htid, _)) = dir.pin.filter(|_| pid_dir) else {
        return Err(Errno::EBADF);
    };
    let caller = ctx.tid();
    let info = if info_addr != 0 {
        let info = ctx.read_bytes(info_addr, std::mem::size_of::<libc::siginfo_t>())?;
        let field = |at: usize| info.get(at..at + 4).and_then(|b| b.try_into().ok());
        let (Some(signo), Some(code)) = (field(0), field(8)) else {
            return Err(Errno::EFAULT);
        };
        let (signo, code) = (i32::from_ne_bytes(signo), i32::from_ne_bytes(code));
        if signo != sig {
            return Err(Errno::EINVAL);
        }
        // Only the thread the directory names, signalling its own process,
        // picks any si_code.
        let to_itself = caller == htid && flags & PIDFD_SIGNAL_PROCESS_GROUP == 0;
        if !to_itself && (code >= 0 || code == libc::SI_TKILL) {
            return Err(Errno::EPERM);
        }
        Some(info)
    } else {
        None
    };
    // The task the directory was opened for, not a later one with its
    // pid. A thread's directory (/proc/<tid>) signals its thread group,
    // as Linux does.
    if !dir.alive() {
        return Err(Errno::ESRCH);
    }
    let target = sys::pidfd_info(htid).map_err(|_| Errno::ESRCH)?;
    if !(0..=libc::SIGRTMAX()).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let own = sys::pidfd_info(caller).map_err(|_| Errno::ESRCH)?;
    let may_kill_any = ctx.sentry.kernel.creds.own(caller)?.effective & cap_bit(CAP_KILL) != 0
        && ctx.sentry.procfs.host().userns_within(htid, caller);
    if own.tgid != target.tgid && !may_kill_any {
        let same_user = [own.euid, own.ruid]
            .iter()
            .any(|&u| u == target.suid || u == target.ruid);
        if !same_user || flags & PIDFD_SIGNAL_PROCESS_GROUP != 0 {
            return Err(Errno::EPERM);
        }
    }
    // The pid namespace's init never gets SIGKILL or SIGSTOP from inside
    // it (SIGNAL_UNKILLABLE); the sentry's signal would come from an
    // ancestor namespace, which init may not ignore.
    let to_init = ctx.sentry.procfs.host().container_pid(target.tgid as i32) == Some(1);
    if to_init && matches!(sig, libc::SIGKILL | libc::SIGSTOP) {
        return Ok(Outcome::Value(0));
    }
    sys::send_signal(htid, sig, info.as_deref(), flags)?;
    Ok(Outcome::Value(0))
}

/// The caller's fd `fd` as one of the sentry's synthetic directories: its
/// sandbox path and pinned task; None for any other fd.
fn synthetic_dir_of(ctx: &mut Ctx, fd: i32) -> Result<Option<VirtualCwd>, Errno> {
    if fd < 0 {
        return Ok(None);
    }
    match hostproc::fd_link(ctx.tid(), fd) {
        Ok(link) if link == SynthFs::Proc.mount_point().as_bytes() => {}
        _ => return Ok(None),
    }
    ctx.recorded_synthetic_dir(fd)
}
