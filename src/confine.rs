//! The kit for self-confinement of the sandbox's own processes (the
//! sentry's lists are in `sentry::confine`, the gofer's in
//! `gofer::confine`): once set up, each drops the capabilities it
//! does not need, sets no_new_privs and installs a short seccomp allowlist
//! built with seccompiler. Anything outside the list raises SIGSYS; the
//! handler logs which syscall it was, kills the workload and exits, so a
//! confinement gap is a dead container with a log line, never a hang and
//! never a syscall let through (fail closed).
//!
//! The lists are code, each entry naming who needs it; docs/SECURITY.md
//! shows their lengths, generated from them (see
//! `sentry::confine::security_counts_markdown`).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

use caps::{CapSet, Capability};
use nix::errno::Errno;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// One syscall a confined process may make.
pub struct Allowed {
    pub name: &'static str,
    pub nr: i64,
    /// Alternatives (any one matching allows it); empty: any arguments.
    pub rules: Vec<SeccompRule>,
    /// Who needs it.
    pub why: &'static str,
}

/// A syscall answered with an errno instead of the kill, because a library
/// probes it and falls back (glibc's clone3 → clone, which can be checked).
pub struct Refused {
    pub name: &'static str,
    pub nr: i64,
    pub errno: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    #[error("unshare a mount namespace: {0}")]
    UnshareMountNs(Errno),
    #[error("make the mount namespace private: {0}")]
    MakePrivate(Errno),
    #[error("mount the empty root on {path}: {source}")]
    MountEmptyRoot { path: String, source: Errno },
    #[error("prepare {path} in the empty root: {source}")]
    Populate { path: String, source: Errno },
    #[error("pivot_root into the empty root: {0}")]
    PivotRoot(Errno),
    #[error("detach the old root: {0}")]
    UmountOldRoot(Errno),
    #[error("drop capabilities ({step}): {source}")]
    Caps {
        step: &'static str,
        source: caps::errors::CapsError,
    },
    #[error("become the sandbox owner ({step}): {source}")]
    Owner { step: &'static str, source: Errno },
    #[error("thread {tid} is not uid and gid {id} with no supplementary group")]
    ThreadNotOwner { tid: String, id: u32 },
    #[error("prctl(PR_SET_NO_NEW_PRIVS or PR_SET_DUMPABLE): {0}")]
    NoNewPrivs(Errno),
    #[error("install the SIGSYS handler: {0}")]
    SigsysHandler(Errno),
    #[error("build the {which} seccomp filter: {source}")]
    Build {
        which: &'static str,
        source: seccompiler::BackendError,
    },
    #[error("install the {which} seccomp filter: {source}")]
    Install {
        which: &'static str,
        source: seccompiler::Error,
    },
}

pub(crate) fn cond(
    arg: u8,
    len: SeccompCmpArgLen,
    op: SeccompCmpOp,
    value: u64,
) -> SeccompCondition {
    SeccompCondition::new(arg, len, op, value).expect("argument index is below 6")
}

pub(crate) fn rule(c: Vec<SeccompCondition>) -> SeccompRule {
    SeccompRule::new(c).expect("rules are never empty")
}

pub(crate) fn any(name: &'static str, nr: i64, why: &'static str) -> Allowed {
    Allowed {
        name,
        nr,
        rules: Vec::new(),
        why,
    }
}

/// Allowed when the 32-bit argument `arg` is one of `values`.
pub fn arg_in(name: &'static str, nr: i64, arg: u8, values: &[u64], why: &'static str) -> Allowed {
    Allowed {
        name,
        nr,
        rules: values
            .iter()
            .map(|&v| {
                rule(vec![cond(
                    arg,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Eq,
                    v,
                )])
            })
            .collect(),
        why,
    }
}

/// Allowed when none of the bits of `mask` are set in argument `arg`.
pub(crate) fn arg_clear(
    name: &'static str,
    nr: i64,
    arg: u8,
    mask: u64,
    why: &'static str,
) -> Allowed {
    Allowed {
        name,
        nr,
        rules: vec![rule(vec![cond(
            arg,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(mask),
            0,
        )])],
        why,
    }
}

/// The flags glibc's pthread_create passes to clone (after clone3 fails).
pub const THREAD_CLONE_FLAGS: u64 = (libc::CLONE_VM
    | libc::CLONE_FS
    | libc::CLONE_FILES
    | libc::CLONE_SIGHAND
    | libc::CLONE_THREAD
    | libc::CLONE_SYSVSEM
    | libc::CLONE_SETTLS
    | libc::CLONE_PARENT_SETTID
    | libc::CLONE_CHILD_CLEARTID) as u64;

/// What every confined runrs process needs: the Rust runtime (allocation,
/// threads, futexes, signals for abort), logging, and its exit.
/// `own_pid` bounds tgkill to the process itself.
pub fn runtime_allowlist(own_pid: i32) -> Vec<Allowed> {
    use libc::*;
    vec![
        any("read", SYS_read, "sockets, synthetic files, pipes"),
        any("write", SYS_write, "the log; synthetic file contents"),
        any("close", SYS_close, "every fd"),
        any(
            "fcntl",
            SYS_fcntl,
            "F_GETFL, F_SETFL (clearing O_NONBLOCK), F_DUPFD_CLOEXEC, memfd seals",
        ),
        any("brk", SYS_brk, "malloc"),
        any("mmap", SYS_mmap, "malloc, thread stacks"),
        any("munmap", SYS_munmap, "free, thread exit"),
        any("mprotect", SYS_mprotect, "thread stack guard pages"),
        any("madvise", SYS_madvise, "malloc trimming, thread exit"),
        any("mremap", SYS_mremap, "realloc of large buffers"),
        any("futex", SYS_futex, "mutexes, thread join"),
        any(
            "sched_yield",
            SYS_sched_yield,
            "spin loops in the runtime; polling the gofer channel (gofer::sys::recv_packet_spinning)",
        ),
        any(
            "sched_getaffinity",
            SYS_sched_getaffinity,
            "thread creation",
        ),
        arg_in(
            "clone",
            SYS_clone,
            0,
            &[THREAD_CLONE_FLAGS],
            "new threads only: exactly pthread_create's flags, no fork",
        ),
        any("rseq", SYS_rseq, "new threads (glibc registers rseq)"),
        any("set_robust_list", SYS_set_robust_list, "new threads"),
        any(
            "sigaltstack",
            SYS_sigaltstack,
            "Rust's stack-overflow guard per thread",
        ),
        any(
            "rt_sigprocmask",
            SYS_rt_sigprocmask,
            "thread creation, abort",
        ),
        any("rt_sigaction", SYS_rt_sigaction, "abort"),
        any(
            "rt_sigreturn",
            SYS_rt_sigreturn,
            "return from a signal handler",
        ),
        any(
            "restart_syscall",
            SYS_restart_syscall,
            "resuming an allowed call a stop interrupted (SIGSTOP, a debugger's attach)",
        ),
        any("gettid", SYS_gettid, "abort, logging"),
        any("getpid", SYS_getpid, "abort"),
        arg_in(
            "tgkill",
            SYS_tgkill,
            0,
            &[own_pid as u64],
            "abort: signals to this process only",
        ),
        arg_in(
            "prctl",
            SYS_prctl,
            0,
            &[PR_SET_NAME as u64],
            "thread names only",
        ),
        any("getrandom", SYS_getrandom, "HashMap seeds"),
        any(
            "clock_gettime",
            SYS_clock_gettime,
            "log time stamps (vDSO fallback)",
        ),
        any(
            "clock_nanosleep",
            SYS_clock_nanosleep,
            "short waits at exit",
        ),
        any("nanosleep", SYS_nanosleep, "short waits at exit"),
        any("exit", SYS_exit, "thread exit"),
        any("exit_group", SYS_exit_group, "process exit"),
    ]
}

/// Refused with an errno rather than killed, in every confined process.
pub fn refused() -> Vec<Refused> {
    vec![Refused {
        name: "clone3",
        nr: libc::SYS_clone3,
        // glibc falls back to clone, whose flags the filter can check.
        errno: libc::ENOSYS,
    }]
}

/// Compiles `allowed` (the rest raises SIGSYS) and `refused` (errno) into
/// the filters to install, in order.
pub fn build(allowed: &[Allowed], refused: &[Refused]) -> Result<Vec<BpfProgram>, ConfineError> {
    // nr → None: any arguments; Some(rules): any of the rules.
    let mut merged: BTreeMap<i64, Option<Vec<SeccompRule>>> = BTreeMap::new();
    for a in allowed {
        let e = merged.entry(a.nr).or_insert_with(|| Some(Vec::new()));
        match (e.as_mut(), a.rules.is_empty()) {
            (Some(_), true) => *e = None,
            (Some(rules), false) => rules.extend(a.rules.iter().cloned()),
            (None, _) => {}
        }
    }
    let mut map: BTreeMap<i64, Vec<SeccompRule>> = merged
        .into_iter()
        .map(|(nr, rules)| (nr, rules.unwrap_or_default()))
        .collect();
    for r in refused {
        // The allowlist lets them pass to the errno filter below (ERRNO
        // takes precedence over ALLOW, TRAP over both).
        map.insert(r.nr, Vec::new());
    }
    let compile = |which, map, mismatch, matched| {
        let f = SeccompFilter::new(map, mismatch, matched, TargetArch::x86_64)
            .map_err(|source| ConfineError::Build { which, source })?;
        BpfProgram::try_from(f).map_err(|source| ConfineError::Build { which, source })
    };
    let mut out = vec![compile(
        "allowlist",
        map,
        SeccompAction::Trap,
        SeccompAction::Allow,
    )?];
    let mut by_errno: BTreeMap<i32, BTreeMap<i64, Vec<SeccompRule>>> = BTreeMap::new();
    for r in refused {
        by_errno
            .entry(r.errno)
            .or_default()
            .insert(r.nr, Vec::new());
    }
    for (e, m) in by_errno {
        out.push(compile(
            "errno",
            m,
            SeccompAction::Allow,
            SeccompAction::Errno(e as u32),
        )?);
    }
    Ok(out)
}

/// The workload's init pidfd, killed by the SIGSYS handler.
static KILL_PIDFD: AtomicI32 = AtomicI32::new(-1);
/// Where the SIGSYS handler writes (the log file; -1: none).
static LOG_FD: AtomicI32 = AtomicI32::new(-1);
/// The handler's line, prepared in the log's format, split around the
/// syscall's name and number. Its time stamp is the time of confinement:
/// the handler cannot format a time without allocating.
static SIGSYS_LINE: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
const PLACEHOLDER: &str = "@SYSCALL@";

/// Exit status of a process killed by its own filter (128 + SIGSYS).
pub const SIGSYS_EXIT: i32 = 128 + libc::SIGSYS;

/// Appends `n` in decimal to `buf` at `*len` (no allocation).
fn push_bytes(buf: &mut [u8], len: &mut usize, s: &[u8]) {
    let n = s.len().min(buf.len() - *len);
    buf[*len..*len + n].copy_from_slice(&s[..n]);
    *len += n;
}

fn push_decimal(buf: &mut [u8], len: &mut usize, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    push_bytes(buf, len, &digits[i..]);
}

/// Formats the handler's line for syscall `nr` into `buf`; returns its
/// length. Allocation-free (runs in a signal handler).
fn sigsys_line(buf: &mut [u8], nr: i32, prefix: &[u8], suffix: &[u8]) -> usize {
    let mut len = 0;
    push_bytes(buf, &mut len, prefix);
    let name = crate::table::row(nr as u32).map_or("unknown", |r| r.name);
    push_bytes(buf, &mut len, name.as_bytes());
    push_bytes(buf, &mut len, b" (nr ");
    push_decimal(buf, &mut len, nr as u32 as u64);
    push_bytes(buf, &mut len, b")");
    push_bytes(buf, &mut len, suffix);
    push_bytes(buf, &mut len, b"\n");
    len
}

extern "C" fn on_sigsys(_sig: libc::c_int, info: *mut libc::siginfo_t, _uctx: *mut libc::c_void) {
    // siginfo's _sigsys member: _call_addr (8 bytes) at offset 16, then
    // int _syscall at 24 (libc has no accessor for it).
    // SAFETY: the kernel passes a valid siginfo_t (128 bytes) to an
    // SA_SIGINFO handler; offset 24 lies inside it and is 4-aligned.
    let nr = unsafe { info.cast::<u8>().add(24).cast::<i32>().read() };
    let mut buf = [0u8; 1024];
    let len = match SIGSYS_LINE.get() {
        Some((p, s)) => sigsys_line(&mut buf, nr, p, s),
        None => sigsys_line(&mut buf, nr, b"runrs: seccomp denied ", b""),
    };
    for fd in [LOG_FD.load(Ordering::Relaxed), libc::STDERR_FILENO] {
        if fd >= 0 {
            // SAFETY: write of `len` initialised bytes of `buf`.
            unsafe { libc::write(fd, buf.as_ptr().cast(), len) };
        }
    }
    let pidfd = KILL_PIDFD.load(Ordering::Relaxed);
    if pidfd >= 0 {
        // SAFETY: pidfd_send_signal with integer arguments and no siginfo.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                pidfd,
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
    }
    // SAFETY: ends the process without running anything else.
    unsafe { libc::_exit(SIGSYS_EXIT) };
}

/// Prepares the SIGSYS handler: `role` names the process in the log line,
/// `kill` is the workload's init pidfd (kept open for the process's life).
fn install_sigsys_handler(role: &str, kill: &OwnedFd) -> Result<(), ConfineError> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let line = crate::log::format_line(
        "error",
        &format!(
            "{role}: its seccomp filter denied syscall {PLACEHOLDER}; killing the container \
             (a confinement gap: see docs/SECURITY.md)"
        ),
    );
    let (p, s) = line.split_once(PLACEHOLDER).unwrap_or((line.as_str(), ""));
    let _ = SIGSYS_LINE.set((p.as_bytes().to_vec(), s.as_bytes().to_vec()));
    LOG_FD.store(crate::log::file_fd().unwrap_or(-1), Ordering::Relaxed);
    KILL_PIDFD.store(kill.as_raw_fd(), Ordering::Relaxed);
    let act = SigAction::new(
        SigHandler::SigAction(on_sigsys),
        SaFlags::SA_SIGINFO,
        SigSet::empty(),
    );
    // SAFETY: the handler only reads atomics and a OnceLock set above,
    // formats into a stack buffer and makes raw syscalls.
    unsafe { sigaction(Signal::SIGSYS, &act) }.map_err(ConfineError::SigsysHandler)?;
    Ok(())
}

/// Keeps only `keep` in every capability set of the calling thread (and
/// drops the rest from the bounding set, so no later exec regains them).
/// Threads started afterwards inherit the result.
pub fn keep_only_caps(keep: &[Capability]) -> Result<(), ConfineError> {
    let err = |step| move |source| ConfineError::Caps { step, source };
    let keep: caps::CapsHashSet = keep.iter().copied().collect();
    // The bounding set first: dropping from it needs CAP_SETPCAP.
    for c in caps::runtime::thread_all_supported() {
        if !keep.contains(&c) {
            caps::drop(None, CapSet::Bounding, c).map_err(err("bounding"))?;
        }
    }
    caps::clear(None, CapSet::Ambient).map_err(err("ambient"))?;
    caps::clear(None, CapSet::Inheritable).map_err(err("inheritable"))?;
    caps::set(None, CapSet::Effective, &keep).map_err(err("effective"))?;
    caps::set(None, CapSet::Permitted, &keep).map_err(err("permitted"))?;
    Ok(())
}

/// Makes the calling thread host uid and gid `owner` (real, effective,
/// saved, file system; no supplementary groups) holding exactly `keep`,
/// with empty bounding, inheritable and ambient sets. Credentials are per
/// thread and this changes only the caller's (raw syscalls: glibc's
/// set*id would apply them to every thread, and abort when a thread that
/// already dropped CAP_SETUID refuses): each thread started before the
/// confinement calls it itself, and [`check_all_threads_are`] proves none
/// was missed. Needs CAP_SETPCAP, CAP_SETUID and CAP_SETGID.
pub fn become_owner(owner: u32, keep: &[Capability]) -> Result<(), ConfineError> {
    let caps_err = |step| move |source| ConfineError::Caps { step, source };
    let keep: caps::CapsHashSet = keep.iter().copied().collect();
    for c in caps::runtime::thread_all_supported() {
        if !keep.contains(&c) {
            caps::drop(None, CapSet::Bounding, c).map_err(caps_err("bounding"))?;
        }
    }
    caps::clear(None, CapSet::Ambient).map_err(caps_err("ambient"))?;
    caps::clear(None, CapSet::Inheritable).map_err(caps_err("inheritable"))?;
    let owner_err = |step| move |source| ConfineError::Owner { step, source };
    nix::sys::prctl::set_keepcaps(true).map_err(owner_err("PR_SET_KEEPCAPS"))?;
    thread_setids(owner).map_err(|(step, source)| ConfineError::Owner { step, source })?;
    nix::sys::prctl::set_keepcaps(false).map_err(owner_err("PR_SET_KEEPCAPS"))?;
    // keepcaps kept the permitted set through the uid change (the
    // effective one is empty now): narrow both to `keep`.
    caps::set(None, CapSet::Effective, &keep).map_err(caps_err("effective"))?;
    caps::set(None, CapSet::Permitted, &keep).map_err(caps_err("permitted"))
}

/// setgroups([]), setresgid and setresuid of the calling thread only.
fn thread_setids(id: u32) -> Result<(), (&'static str, Errno)> {
    let id = id as libc::c_long;
    for (step, nr, args) in [
        ("setgroups", libc::SYS_setgroups, [0, 0, 0]),
        ("setresgid", libc::SYS_setresgid, [id, id, id]),
        ("setresuid", libc::SYS_setresuid, [id, id, id]),
    ] {
        // SAFETY: setgroups with a count of 0 reads no list; setresgid and
        // setresuid take integers. The raw syscalls change the calling
        // thread's credentials only, which is the point.
        let r = unsafe { libc::syscall(nr, args[0], args[1], args[2]) };
        if r != 0 {
            return Err((step, Errno::last()));
        }
    }
    Ok(())
}

/// Fails unless every thread of this process runs as uid and gid `id`
/// (real, effective, saved, file system), from /proc/self/task.
pub fn check_all_threads_are(id: u32) -> Result<(), ConfineError> {
    let err = |source| ConfineError::Owner {
        step: "check every thread's ids",
        source,
    };
    let tasks = std::fs::read_dir("/proc/self/task")
        .map_err(|e| err(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))))?;
    for t in tasks {
        let t = t.map_err(|e| err(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))))?;
        let status = std::fs::read_to_string(t.path().join("status"))
            .map_err(|e| err(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))))?;
        let all = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .is_some_and(|v| v.split_whitespace().all(|x| x.parse() == Ok(id)))
        };
        if !all("Uid:")
            || !all("Gid:")
            || !status
                .lines()
                .find_map(|l| l.strip_prefix("Groups:"))
                .is_some_and(|g| g.trim().is_empty())
        {
            return Err(ConfineError::ThreadNotOwner {
                tid: t.file_name().to_string_lossy().into_owned(),
                id,
            });
        }
    }
    Ok(())
}

/// Sets no_new_privs, the SIGSYS handler, and installs `filters` on every
/// thread of the process.
pub fn lock_down(
    role: &str,
    kill: &OwnedFd,
    allowed: &[Allowed],
    refused: &[Refused],
) -> Result<(), ConfineError> {
    let filters = build(allowed, refused)?;
    nix::sys::prctl::set_no_new_privs().map_err(ConfineError::NoNewPrivs)?;
    // Not dumpable: host processes of the same uid without CAP_SYS_PTRACE
    // (a workload of a container that shares the host's pid namespace)
    // cannot ptrace it or read its memory and fds through /proc.
    nix::sys::prctl::set_dumpable(false).map_err(ConfineError::NoNewPrivs)?;
    install_sigsys_handler(role, kill)?;
    // seccompiler sets no_new_privs with prctl before each filter, which
    // the allowlist would refuse: install it last (the kernel ranks the
    // filters' verdicts by action, not by order).
    for (i, f) in filters.iter().enumerate().rev() {
        let which = if i == 0 { "allowlist" } else { "errno" };
        seccompiler::apply_filter_all_threads(f)
            .map_err(|source| ConfineError::Install { which, source })?;
    }
    Ok(())
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

/// Moves the calling process into a private mount namespace of its own.
/// Must run while the process has a single thread: a thread started
/// earlier would stay in the host's namespace with the host's root (mount
/// namespaces and roots are per fs_struct), out of reach of
/// [`enter_empty_root`]'s pivot_root.
pub fn private_mount_ns() -> Result<(), ConfineError> {
    use nix::mount::{mount, MsFlags};
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(ConfineError::UnshareMountNs)?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(ConfineError::MakePrivate)
}

/// Makes the root of the process's private mount namespace (see
/// [`private_mount_ns`]) an empty read-only tmpfs holding only a read-only
/// procfs of the host's pid namespace that shows the tasks the reader may
/// ptrace-read, and a read-only bind of /sys (what the sentry's procfs and
/// sysfs read). `scratch` is any existing directory:
/// the tmpfs is mounted on it in the private namespace only. pivot_root
/// moves every thread of the namespace whose root was the old one.
pub fn enter_empty_root(scratch: &Path) -> Result<(), ConfineError> {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    let root = cpath(scratch);
    mount(
        Some("tmpfs"),
        root.as_c_str(),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("size=64k,mode=0555"),
    )
    .map_err(|source| ConfineError::MountEmptyRoot {
        path: scratch.display().to_string(),
        source,
    })?;
    let ro_bind = |host: &str| -> Result<(), ConfineError> {
        let err = |source| ConfineError::Populate {
            path: host.to_string(),
            source,
        };
        let target = scratch.join(host.trim_start_matches('/'));
        std::fs::create_dir_all(&target)
            .map_err(|e| err(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))))?;
        let target = cpath(&target);
        mount(
            Some(host),
            target.as_c_str(),
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(err)?;
        mount(
            None::<&str>,
            target.as_c_str(),
            None::<&str>,
            MsFlags::MS_BIND
                | MsFlags::MS_REMOUNT
                | MsFlags::MS_RDONLY
                | MsFlags::MS_NOSUID
                | MsFlags::MS_NODEV
                | MsFlags::MS_NOEXEC,
            None::<&str>,
        )
        .map_err(err)
    };
    // /proc: an instance of its own (of the host's pid namespace, where
    // the sentry lives) in which only the tasks the sentry may ptrace-read
    // appear (hidepid=invisible, checked with each reading thread's
    // credentials): its capability-less threads see the sandboxes'
    // workload tasks, whose user namespaces root made, and no host daemon.
    {
        let target = scratch.join("proc");
        let err = |source| ConfineError::Populate {
            path: "/proc".into(),
            source,
        };
        std::fs::create_dir_all(&target)
            .map_err(|e| err(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))))?;
        mount(
            Some("proc"),
            cpath(&target).as_c_str(),
            Some("proc"),
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some("hidepid=invisible"),
        )
        .map_err(err)?;
    }
    // sysfs (read-only; not its submounts): CPU lists, THP settings, block
    // device names behind /sys/dev/block (links into /sys/devices).
    if Path::new("/sys/devices").is_dir() {
        ro_bind("/sys")?;
    }
    nix::unistd::chdir(root.as_c_str()).map_err(ConfineError::PivotRoot)?;
    // pivot_root(".", "."): the old root ends up on top of the new one and
    // is detached right away (as runc does; see pivot_root(2)).
    nix::unistd::pivot_root(".", ".").map_err(ConfineError::PivotRoot)?;
    umount2(".", MntFlags::MNT_DETACH).map_err(ConfineError::UmountOldRoot)?;
    nix::unistd::chdir("/").map_err(ConfineError::PivotRoot)?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REMOUNT
            | MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NODEV
            | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|source| ConfineError::MountEmptyRoot {
        path: "/".into(),
        source,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigsys_line_names_the_syscall() {
        let mut buf = [0u8; 128];
        let n = sigsys_line(&mut buf, libc::SYS_socket as i32, b"<", b">");
        assert_eq!(&buf[..n], b"<socket (nr 41)>\n");
        let n = sigsys_line(&mut buf, 9999, b"", b"");
        assert_eq!(&buf[..n], b"unknown (nr 9999)\n");
    }
}
