//! Self-confinement of the sandbox's own processes (the sentry here, the
//! gofer in `gofer::confine`): once set up, each drops the capabilities it
//! does not need, sets no_new_privs and installs a short seccomp allowlist
//! built with seccompiler. Anything outside the list raises SIGSYS; the
//! handler logs which syscall it was, kills the workload and exits, so a
//! confinement gap is a dead container with a log line, never a hang and
//! never a syscall let through (fail closed).
//!
//! The lists are code, each entry naming who needs it; docs/SECURITY.md
//! shows their lengths, generated from these functions (see
//! `tests::security_doc_is_current`).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

use crate::runsc::cli::PlatformKind;

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

fn cond(arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64) -> SeccompCondition {
    SeccompCondition::new(arg, len, op, value).expect("argument index is below 6")
}

fn rule(c: Vec<SeccompCondition>) -> SeccompRule {
    SeccompRule::new(c).expect("rules are never empty")
}

fn any(name: &'static str, nr: i64, why: &'static str) -> Allowed {
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
fn arg_clear(name: &'static str, nr: i64, arg: u8, mask: u64, why: &'static str) -> Allowed {
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
        any("fcntl", SYS_fcntl, "F_GETFL, F_DUPFD_CLOEXEC, memfd seals"),
        any("brk", SYS_brk, "malloc"),
        any("mmap", SYS_mmap, "malloc, thread stacks"),
        any("munmap", SYS_munmap, "free, thread exit"),
        any("mprotect", SYS_mprotect, "thread stack guard pages"),
        any("madvise", SYS_madvise, "malloc trimming, thread exit"),
        any("mremap", SYS_mremap, "realloc of large buffers"),
        any("futex", SYS_futex, "mutexes, thread join"),
        any("sched_yield", SYS_sched_yield, "spin loops in the runtime"),
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

/// The sentry's allowlist: the runtime's plus what the syscall handlers
/// do. No open for writing, no socket creation, no execve, no mount, no
/// ptrace: host /proc is read (see docs/SECURITY.md for why and what it
/// exposes), workload memory and fds are reached through pidfds and
/// process_vm_*, and answers go through the seccomp listener.
pub fn sentry_allowlist(own_pid: i32, platform: PlatformKind) -> Vec<Allowed> {
    use libc::*;
    // O_TMPFILE's own bit (libc's O_TMPFILE includes O_DIRECTORY).
    let write_bits =
        (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_EXCL | (O_TMPFILE & !O_DIRECTORY))
            as u64;
    let mut v = runtime_allowlist(own_pid);
    v.extend([
        arg_clear(
            "openat",
            SYS_openat,
            2,
            write_bits,
            "read-only: host /proc/<tid>/{status,stat,fd,...}, reopening a sealed memfd",
        ),
        any(
            "readlink",
            SYS_readlink,
            "/proc/<tid>/{fd/N,cwd,ns/pid,exe}",
        ),
        any("readlinkat", SYS_readlinkat, "names of O_PATH fds"),
        any("newfstatat", SYS_newfstatat, "fstat of gofer fds"),
        any("fstat", SYS_fstat, "fstat of gofer fds"),
        any("statx", SYS_statx, "statx of gofer fds"),
        any(
            "getxattr",
            SYS_getxattr,
            "whether a cached gofer directory has an ACL",
        ),
        any("fstatfs", SYS_fstatfs, "statfs of gofer fds"),
        any(
            "statfs",
            SYS_statfs,
            "file system types of the container's mounts (/proc/mounts), via /proc/<init>/root",
        ),
        any("getdents64", SYS_getdents64, "directory listings"),
        any(
            "lseek",
            SYS_lseek,
            "rewinding synthetic files and directories",
        ),
        any("pread64", SYS_pread64, "reading files at an offset"),
        any("memfd_create", SYS_memfd_create, "synthetic file contents"),
        any(
            "kcmp",
            SYS_kcmp,
            "which recorded synthetic directory a dup'ed or inherited fd is",
        ),
        any(
            "ftruncate",
            SYS_ftruncate,
            "regenerating a synthetic file's memfd (its own writable handle)",
        ),
        any(
            "pwrite64",
            SYS_pwrite64,
            "regenerating a synthetic file's memfd (its own writable handle)",
        ),
        arg_in(
            "ioctl",
            SYS_ioctl,
            1,
            &[
                SECCOMP_IOCTL_NOTIF_RECV,
                SECCOMP_IOCTL_NOTIF_SEND,
                SECCOMP_IOCTL_NOTIF_ID_VALID,
                SECCOMP_IOCTL_NOTIF_ADDFD,
                SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                super::sys::PIDFD_GET_INFO,
                super::sys::NS_GET_PARENT,
            ],
            "the seccomp listener's requests, PIDFD_GET_INFO, and NS_GET_PARENT (whether a task of a shared pid namespace is in the caller's user namespace tree)",
        ),
        any("process_vm_readv", SYS_process_vm_readv, "workload memory"),
        any(
            "process_vm_writev",
            SYS_process_vm_writev,
            "workload memory",
        ),
        any("pidfd_open", SYS_pidfd_open, "workload tasks"),
        any(
            "pidfd_getfd",
            SYS_pidfd_getfd,
            "the workload's fds (fstat, paths)",
        ),
        any(
            "pidfd_send_signal",
            SYS_pidfd_send_signal,
            "killing the workload when the sandbox fails",
        ),
        any(
            "inotify_add_watch",
            SYS_inotify_add_watch,
            "a watch on the synthetic stand-in directory (/proc/self/fd/N)",
        ),
        Allowed {
            name: "getsockopt",
            nr: SYS_getsockopt,
            rules: [SO_DOMAIN, SO_PEERCRED]
                .into_iter()
                .map(|opt| {
                    rule(vec![
                        cond(
                            1,
                            SeccompCmpArgLen::Dword,
                            SeccompCmpOp::Eq,
                            SOL_SOCKET as u64,
                        ),
                        cond(2, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, opt as u64),
                    ])
                })
                .collect(),
            why: "SO_DOMAIN (whether a workload socket bind/connect names is AF_UNIX) and \
                  SO_PEERCRED (a workload socket's peer, for the workload's SO_PEERCRED) only",
        },
        any("poll", SYS_poll, "the listener's and init's hang-up"),
        any(
            "recvmsg",
            SYS_recvmsg,
            "gofer replies and fds; exec's listener",
        ),
        any(
            "sendmsg",
            SYS_sendmsg,
            "gofer requests; control socket replies",
        ),
        any("accept", SYS_accept, "control socket (runrs exec)"),
        any("uname", SYS_uname, "/proc/version, uname"),
    ]);
    if platform == PlatformKind::Ptrace {
        // The runtime's tgkill (to this process only) widens to workload
        // threads.
        v.retain(|a| a.name != "tgkill");
        v.extend(ptrace_platform_allowlist());
    }
    v
}

/// What the ptrace platform's tracer thread adds: the ptrace requests it
/// makes (no PTRACE_ATTACH/POKE*: seizing, registers, resuming), waiting
/// for stops, and re-sending signals it held to a thread.
pub fn ptrace_platform_allowlist() -> Vec<Allowed> {
    use libc::*;
    vec![
        arg_in(
            "ptrace",
            SYS_ptrace,
            0,
            &[
                PTRACE_SEIZE as u64,
                PTRACE_CONT as u64,
                PTRACE_SYSCALL as u64,
                PTRACE_LISTEN as u64,
                PTRACE_GETREGS as u64,
                PTRACE_SETREGS as u64,
                PTRACE_GETEVENTMSG as u64,
                PTRACE_INTERRUPT as u64,
                PTRACE_GET_SYSCALL_INFO as u64,
                PTRACE_DETACH as u64,
            ],
            "the tracer's requests only (no PEEK/POKE: memory goes through process_vm_*)",
        ),
        any("wait4", SYS_wait4, "tracee stops"),
        any("waitid", SYS_waitid, "tracee stops"),
        any("signalfd4", SYS_signalfd4, "SIGCHLD wake-ups of the tracer"),
        any("eventfd2", SYS_eventfd2, "commands to the tracer thread"),
        any("pipe2", SYS_pipe2, "replies to workers"),
        any(
            "tgkill",
            SYS_tgkill,
            "re-delivering signals to tracees (widens the runtime's own-process rule)",
        ),
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

/// The capabilities the sentry keeps: searching the workload tasks'
/// /proc/<pid>/fd directories (0500, their owner's; the kernel's
/// proc_fd_permission asks for CAP_DAC_READ_SEARCH in the sentry's own
/// user namespace). Ptrace access to workload tasks of any uid
/// (pidfd_getfd, process_vm_*, fd links, ptrace on that platform) and
/// killing them need no capability: the workload's user namespace was made
/// by init as host root, and the kernel grants the owner of a user
/// namespace (same euid, parent namespace) every capability in it
/// (cap_capable); workload tasks stay dumpable until their program runs
/// (`runsc::init::become_process`), so their memory's user namespace is
/// that one too.
pub const SENTRY_CAPS: &[Capability] = &[Capability::CAP_DAC_READ_SEARCH];

/// The ptrace platform's tracer thread keeps CAP_SYS_PTRACE too: it
/// attaches to a `runrs exec` process while that is non-dumpable and its
/// memory still belongs to the host's user namespace (see
/// `runsc::exec::child_main`: no workload tracer may take it over before
/// its filter), which the namespace's ownership does not cover.
pub const SENTRY_PTRACE_CAPS: &[Capability] =
    &[Capability::CAP_SYS_PTRACE, Capability::CAP_DAC_READ_SEARCH];

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
/// bind of the host's /proc and of /sys/devices/system/cpu (what the
/// sentry's procfs and sysfs read). `scratch` is any existing directory:
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
    ro_bind("/proc")?;
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

/// Confines the sentry after its setup and before its worker threads
/// start: empty root, capabilities, no_new_privs, seccomp allowlist.
/// `scratch` is a directory to mount the empty root on (the state dir);
/// `init_pidfd` is what the SIGSYS handler kills.
/// The process must be in its own mount namespace already
/// ([`private_mount_ns`]). A thread started before this call (the ptrace
/// platform's tracer) must drop its own capabilities
/// ([`keep_only_caps`]`(SENTRY_CAPS)`); the root and the seccomp filter
/// (TSYNC) reach it from here.
pub fn confine_sentry(
    scratch: &Path,
    init_pidfd: &OwnedFd,
    platform: PlatformKind,
) -> Result<(), ConfineError> {
    enter_empty_root(scratch)?;
    keep_only_caps(SENTRY_CAPS)?;
    lock_down(
        "sentry",
        init_pidfd,
        &sentry_allowlist(std::process::id() as i32, platform),
        &refused(),
    )
}

/// The generated block of docs/SECURITY.md: how many host syscalls each
/// process of a sandbox can make, and the sentry's and gofer's lists.
pub fn security_counts_markdown() -> String {
    use crate::table::{Disposition, SYSCALLS};
    use std::fmt::Write as _;
    let count =
        |f: &dyn Fn(&Disposition) -> bool| SYSCALLS.iter().filter(|r| f(&r.disposition)).count();
    let passthrough = count(&|d| matches!(d, Disposition::Passthrough(_)));
    let conditional = count(&|d| matches!(d, Disposition::Passthrough(Some(_))));
    let emulated = count(&|d| matches!(d, Disposition::Emulated { .. }));
    let in_kernel = crate::sentry::filter::DENIED_IN_KERNEL;
    let denied = SYSCALLS
        .iter()
        .filter(|r| matches!(r.disposition, Disposition::Denied { .. }))
        .filter(|r| !in_kernel.contains(&r.name))
        .count();
    let sentry = sentry_allowlist(0, PlatformKind::Seccomp);
    let on_ptrace = sentry_allowlist(0, PlatformKind::Ptrace);
    let ptrace_extra = ptrace_platform_allowlist();
    let gofer = crate::gofer::confine::gofer_allowlist(0);
    let ruled = |l: &[Allowed]| l.iter().filter(|a| !a.rules.is_empty()).count();
    let caps = |c: &[Capability]| {
        c.iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = String::new();
    out.push_str(
        "<!-- generated by sentry::confine::security_counts_markdown(); \
         RUNRS_BLESS=1 cargo test --lib security_doc rewrites it -->\n",
    );
    out.push_str(
        "| process | host syscalls it can make | of which argument-checked | \
         capabilities |\n|---|---|---|---|\n",
    );
    let _ = writeln!(
        out,
        "| workload (directly) | {passthrough} passthrough rows of the table | {conditional} | \
         none |"
    );
    let _ = writeln!(
        out,
        "| sentry (`--platform seccomp`) | {} | {} | {} |",
        sentry.len(),
        ruled(&sentry),
        caps(SENTRY_CAPS)
    );
    let _ = writeln!(
        out,
        "| sentry (`--platform ptrace`) | {} (adds or widens {}) | {} | {} |",
        on_ptrace.len(),
        ptrace_extra
            .iter()
            .map(|a| format!("`{}`", a.name))
            .collect::<Vec<_>>()
            .join(", "),
        ruled(&on_ptrace),
        caps(SENTRY_PTRACE_CAPS)
    );
    let _ = writeln!(
        out,
        "| gofer | {} | {} | {} |",
        gofer.len(),
        ruled(&gofer),
        caps(crate::gofer::confine::GOFER_CAPS)
    );
    let _ = writeln!(
        out,
        "\nThe workload's other table rows reach the sentry ({emulated} emulated, {denied} \
         denied: answered with the table's errno, logged once per container) or are \
         denied by the kernel without a log line ({}: libc probes it before every fork); \
         numbers outside the table get ENOSYS. Refused with an errno in the sentry and \
         gofer (not counted): {}.",
        in_kernel
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", "),
        refused()
            .iter()
            .map(|r| format!("`{}` ({})", r.name, crate::table::errno_name(r.errno)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (role, list) in [
        ("sentry", &sentry),
        ("sentry's ptrace platform additions", &ptrace_extra),
        ("gofer", &gofer),
    ] {
        let _ = writeln!(
            out,
            "\n#### The {role}'s allowlist\n\n| syscall | arguments | needed for |\n|---|---|---|"
        );
        for a in list.iter() {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                a.name,
                if a.rules.is_empty() { "any" } else { "checked" },
                a.why
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN: &str = "<!-- BEGIN GENERATED COUNTS -->\n";
    const END: &str = "<!-- END GENERATED COUNTS -->";

    #[test]
    fn security_doc_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/SECURITY.md");
        let doc = std::fs::read_to_string(&path).expect("docs/SECURITY.md");
        let (head, rest) = doc.split_once(BEGIN).expect("BEGIN marker");
        let (block, tail) = rest.split_once(END).expect("END marker");
        let expected = security_counts_markdown();
        if std::env::var_os("RUNRS_BLESS").is_some_and(|v| v == "1") {
            std::fs::write(&path, format!("{head}{BEGIN}{expected}{END}{tail}")).expect("write");
            return;
        }
        assert!(
            block == expected,
            "{} is stale: regenerate with `RUNRS_BLESS=1 cargo test --lib security_doc`",
            path.display()
        );
    }

    #[test]
    fn lists_have_no_duplicates_and_no_forbidden_calls() {
        for (role, list) in [
            ("sentry", sentry_allowlist(1, PlatformKind::Seccomp)),
            ("sentry on ptrace", {
                let mut l = sentry_allowlist(1, PlatformKind::Ptrace);
                // The tracer's own requests, checked by request below.
                l.retain(|a| a.name != "ptrace");
                l
            }),
            ("gofer", crate::gofer::confine::gofer_allowlist(1)),
        ] {
            let mut seen = std::collections::BTreeSet::new();
            for a in &list {
                assert!(seen.insert(a.nr), "{role}: {} twice", a.name);
                let row = crate::table::row(a.nr as u32).expect("known syscall");
                assert_eq!(row.name, a.name, "{role}: nr {}", a.nr);
                for bad in [
                    "execve", "execveat", "socket", "connect", "bind", "ptrace", "mount", "open",
                    "unshare", "setns", "clone3", "fork", "vfork", "kill",
                ] {
                    // The gofer binds and connects the workload's sockets the
                    // sentry passes it (it cannot create any), and unshares
                    // its thread's cwd (CLONE_FS, nothing else) for them.
                    let gofer_may = role == "gofer"
                        && (matches!(bad, "connect" | "bind")
                            || (bad == "unshare" && a.rules.len() == 1));
                    if !gofer_may {
                        assert_ne!(a.name, bad, "{role} may not {bad}");
                    }
                }
            }
            build(&list, &refused()).expect("filters compile");
        }
        let with_ptrace = sentry_allowlist(1, PlatformKind::Ptrace);
        build(&with_ptrace, &refused()).expect("the ptrace sentry's filters compile");
        let ptrace = with_ptrace
            .iter()
            .find(|a| a.name == "ptrace")
            .expect("ptrace on the ptrace platform");
        assert!(
            !ptrace.rules.is_empty(),
            "ptrace must be limited to its requests"
        );
    }

    #[test]
    fn sigsys_line_names_the_syscall() {
        let mut buf = [0u8; 128];
        let n = sigsys_line(&mut buf, libc::SYS_socket as i32, b"<", b">");
        assert_eq!(&buf[..n], b"<socket (nr 41)>\n");
        let n = sigsys_line(&mut buf, 9999, b"", b"");
        assert_eq!(&buf[..n], b"unknown (nr 9999)\n");
    }

    /// A forked child under the sentry's filter: allowed calls work, clone3
    /// is ENOSYS, a socket() is fatal with SIGSYS through the handler.
    #[test]
    fn sentry_filter_kills_on_socket() {
        use nix::sys::wait::{waitpid, WaitStatus};
        use nix::unistd::{fork, ForkResult};
        // SAFETY: the child only makes syscalls and exits with _exit.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                let code = (|| -> Result<(), i32> {
                    let me =
                        crate::sentry::sys::pidfd_open(std::process::id() as i32).map_err(|_| 2)?;
                    lock_down(
                        "test",
                        &me,
                        &sentry_allowlist(std::process::id() as i32, PlatformKind::Seccomp),
                        &refused(),
                    )
                    .map_err(|_| 3)?;
                    // SAFETY: clone3 with a NULL struct; the filter answers it.
                    let r = unsafe { libc::syscall(libc::SYS_clone3, 0usize, 0usize) };
                    if r != -1 || Errno::last() != Errno::ENOSYS {
                        return Err(4);
                    }
                    // SAFETY: getpid has no preconditions.
                    if unsafe { libc::getpid() } <= 0 {
                        return Err(5);
                    }
                    // SAFETY: socket() with integer arguments: must not return.
                    unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) };
                    Err(6)
                })()
                .err()
                .unwrap_or(0);
                // SAFETY: leave the forked child without the harness.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => {
                let status = waitpid(child, None).expect("waitpid");
                // The handler kills the pidfd's process (itself) or exits
                // with 128+SIGSYS; either proves the kill path ran.
                assert!(
                    matches!(
                        status,
                        WaitStatus::Exited(_, SIGSYS_EXIT)
                            | WaitStatus::Signaled(_, nix::sys::signal::Signal::SIGKILL, _)
                    ),
                    "{status:?}"
                );
            }
        }
    }
}
