//! The gofer's self-confinement (see `crate::confine` for the shared
//! machinery). It runs in the container's mount namespace, so "/" and
//! every path it can name are the container's rootfs and mounts; here it
//! drops every capability that file operations on behalf of the workload
//! do not need, and installs its own allowlist: the *at calls of the
//! protocol's operations, credential switching per thread, and the
//! SEQPACKET channels, and bind/connect of the AF_UNIX sockets the sentry
//! passes in. No socket creation, no execve, no mount, no namespace
//! changes.

use std::os::fd::OwnedFd;

use caps::Capability;

use super::sys;
use crate::confine::{self, Allowed, ConfineError};

/// What the gofer keeps: the file capabilities a workload may hold (it
/// applies each caller's effective set per request, masked by these),
/// setfsuid/setfsgid/setgroups to act as the caller, and CAP_KILL to end
/// the workload when the sentry hangs up.
pub const GOFER_CAPS: &[Capability] = &[
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_DAC_READ_SEARCH,
    Capability::CAP_FOWNER,
    Capability::CAP_FSETID,
    Capability::CAP_MKNOD,
    Capability::CAP_SETUID,
    Capability::CAP_SETGID,
    Capability::CAP_KILL,
];

fn any(name: &'static str, nr: i64, why: &'static str) -> Allowed {
    Allowed {
        name,
        nr,
        rules: Vec::new(),
        why,
    }
}

/// The gofer's allowlist: the runtime's plus the file operations of the
/// protocol (every one relative to a directory fd under the container
/// root; `gofer::walk` confines resolution with openat2).
pub fn gofer_allowlist(own_pid: i32) -> Vec<Allowed> {
    use libc::*;
    let mut v = confine::runtime_allowlist(own_pid);
    v.extend([
        any("openat2", SYS_openat2, "confined walks (RESOLVE_BENEATH)"),
        any(
            "openat",
            SYS_openat,
            "opening a walked name under its directory fd",
        ),
        any("readlinkat", SYS_readlinkat, "readlink"),
        any("newfstatat", SYS_newfstatat, "stat of walked fds"),
        any("fstat", SYS_fstat, "stat of walked fds"),
        any("statx", SYS_statx, "stat of walked fds"),
        any("mkdirat", SYS_mkdirat, "mkdir"),
        any("mknodat", SYS_mknodat, "mknod"),
        any("symlinkat", SYS_symlinkat, "symlink"),
        any("linkat", SYS_linkat, "link"),
        any("unlinkat", SYS_unlinkat, "unlink, rmdir"),
        any("renameat2", SYS_renameat2, "rename"),
        any("fchownat", SYS_fchownat, "chown (AT_EMPTY_PATH)"),
        any("fchmodat2", SYS_fchmodat2, "chmod (AT_EMPTY_PATH)"),
        any("utimensat", SYS_utimensat, "utimes"),
        any("faccessat2", SYS_faccessat2, "access"),
        any(
            "tee",
            SYS_tee,
            "whether a FIFO it opened for a reader has a writer (into its own pipe)",
        ),
        any("pipe2", SYS_pipe2, "the pipe that tee copies into"),
        // The *xattrat calls (Linux 6.13; libc has no names for them yet).
        any("getxattrat", sys::SYS_GETXATTRAT, "getxattr on a walked fd"),
        any("setxattrat", sys::SYS_SETXATTRAT, "setxattr on a walked fd"),
        any(
            "listxattrat",
            sys::SYS_LISTXATTRAT,
            "listxattr on a walked fd",
        ),
        any(
            "removexattrat",
            sys::SYS_REMOVEXATTRAT,
            "removexattr on a walked fd",
        ),
        any("ftruncate", SYS_ftruncate, "truncate"),
        any(
            "bind",
            SYS_bind,
            "bind of the workload's AF_UNIX socket to a walked path",
        ),
        any(
            "connect",
            SYS_connect,
            "connect of the workload's AF_UNIX socket to a walked path",
        ),
        any(
            "inotify_add_watch",
            SYS_inotify_add_watch,
            "watches on the workload's inotify instance, by a walked name",
        ),
        any(
            "fchdir",
            SYS_fchdir,
            "the walked base of a socket path (thread's own cwd)",
        ),
        confine::arg_in(
            "unshare",
            SYS_unshare,
            0,
            &[CLONE_FS as u64],
            "CLONE_FS only: a thread's own cwd and umask for socket paths",
        ),
        any("umask", SYS_umask, "umask 0 (modes arrive masked)"),
        any("setfsuid", SYS_setfsuid, "acting as the caller"),
        any("setfsgid", SYS_setfsgid, "acting as the caller"),
        any("setgroups", SYS_setgroups, "the caller's groups"),
        any("capget", SYS_capget, "the caller's capabilities"),
        any("capset", SYS_capset, "the caller's capabilities"),
        any("recvmsg", SYS_recvmsg, "requests from the sentry"),
        any("sendmsg", SYS_sendmsg, "replies and fds to the sentry"),
        any(
            "pidfd_send_signal",
            SYS_pidfd_send_signal,
            "killing the workload when the sentry is gone",
        ),
    ]);
    v
}

/// setresuid(-1, euid, -1) with `euid` the sandbox's owner uid or 0 only:
/// a request thread takes the owner's euid for an OpenProcFile (the
/// owner of the sandbox's user namespace passes Linux's ptrace check on
/// its tasks, `server::open_proc_file`) and gives it back.
pub fn owner_euid_rule(owner: u32) -> Allowed {
    use seccompiler::{SeccompCmpArgLen, SeccompCmpOp};
    let unchanged = u64::from(u32::MAX);
    let only = |euid: u32| {
        confine::rule(vec![
            confine::cond(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, unchanged),
            confine::cond(
                1,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Eq,
                u64::from(euid),
            ),
            confine::cond(2, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, unchanged),
        ])
    };
    Allowed {
        name: "setresuid",
        nr: libc::SYS_setresuid,
        rules: vec![only(owner), only(0)],
        why: "the effective uid only, to the sandbox's owner uid and back to 0: OpenProcFile's \
              ptrace check (the owner of the workload's user namespace passes it)",
    }
}

/// Confines the gofer once it holds the container root and its channels
/// and before its server threads start. `init_pidfd` is what the SIGSYS
/// handler kills.
pub fn confine_gofer(init_pidfd: &OwnedFd, owner: Option<u32>) -> Result<(), ConfineError> {
    confine::keep_only_caps(GOFER_CAPS)?;
    let mut allowed = gofer_allowlist(std::process::id() as i32);
    if let Some(uid) = owner {
        allowed.push(owner_euid_rule(uid));
    }
    confine::lock_down("gofer", init_pidfd, &allowed, &confine::refused())
}
