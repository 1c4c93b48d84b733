//! The sentry's self-confinement: its allowlist (and the ptrace
//! platform's additions), the capabilities it keeps, and the generated
//! counts in docs/SECURITY.md. The kit they are built with (lists, the
//! SIGSYS handler, the empty root) is `crate::confine`, which the gofer
//! uses too.

use std::os::fd::OwnedFd;
use std::path::Path;

use caps::Capability;
use seccompiler::{SeccompCmpArgLen, SeccompCmpOp};

use crate::confine::{
    any, arg_clear, arg_in, cond, enter_empty_root, keep_only_caps, lock_down, refused, rule,
    runtime_allowlist, Allowed, ConfineError,
};
use crate::sandbox::PlatformKind;

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
            "whether a cached gofer directory (an O_PATH fd, through its /proc link) has an ACL",
        ),
        any(
            "fgetxattr",
            SYS_fgetxattr,
            "whether a file the sentry opened read-only (directfs) has an ACL",
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
            "which recorded synthetic directory a dup'ed or inherited fd is; whether two tasks share an fs (cwd, umask)",
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
        Allowed {
            name: "sched_setscheduler",
            nr: SYS_sched_setscheduler,
            rules: vec![rule(vec![
                cond(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, 0),
                cond(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, SCHED_IDLE as u64),
            ])],
            why: "the warm thread lowers itself to SCHED_IDLE (the calling thread, that policy only)",
        },
        any("pidfd_open", SYS_pidfd_open, "workload tasks"),
        any(
            "pidfd_getfd",
            SYS_pidfd_getfd,
            "the workload's fds (fstat, paths)",
        ),
        any(
            "pidfd_send_signal",
            SYS_pidfd_send_signal,
            "killing the workload when the sandbox fails; a workload's signal through a /proc/<pid> directory fd",
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

/// The capabilities the sentry keeps: none. Ptrace access to workload
/// tasks of any uid (pidfd_getfd, process_vm_*, fd links, fdinfo, ptrace
/// on that platform) and killing them need no capability: the workload's
/// user namespace is owned by the sandbox's owner uid, which the sentry
/// runs as (`sandbox::owner`), and the kernel grants the owner of a user
/// namespace (same euid, parent namespace) every capability in it
/// (cap_capable), and none in another sandbox's; workload tasks stay dumpable until
/// their program runs (`runsc::init::become_process`), so their memory's
/// user namespace is that one too. What DAC alone guards, the sentry
/// reaches another way: a task's fd directory (0500, its owner's) through
/// its fdinfo directory and pidfd_getfd (`sys::with_task_fd_path`), its
/// 0400 files through the gofer (`gofer::proto::ProcFile`).
pub const SENTRY_CAPS: &[Capability] = &[];

/// The ptrace platform's tracer thread keeps CAP_SYS_PTRACE: it attaches
/// to a `runrs exec` process while that is non-dumpable and its memory
/// still belongs to the host's user namespace (see
/// `runsc::exec::child_main`: no workload tracer may take it over before
/// its filter), which the namespace's ownership does not cover. Attaching
/// to init and the workload's own tasks needs no capability.
pub const SENTRY_PTRACE_CAPS: &[Capability] = &[Capability::CAP_SYS_PTRACE];

/// Confines the sentry after its setup and before its worker threads
/// start: empty root, capabilities, no_new_privs, seccomp allowlist.
/// `scratch` is a directory to mount the empty root on (the state dir);
/// `init_pidfd` is what the SIGSYS handler kills.
/// The process must be in its own mount namespace already
/// ([`private_mount_ns`]). A thread started before this call (the ptrace
/// platform's tracer, the sysctl thread) must drop its own capabilities
/// and, with an owner, become it (`confine::become_owner`: credentials
/// are per thread); the root and the seccomp filter (TSYNC) reach it
/// from here.
///
/// With `owner` (the sandbox's owner uid, `sandbox::owner`) every thread
/// becomes that uid and gid after the empty root (which needs
/// CAP_SYS_ADMIN) and before the capabilities go: the namespace's owner
/// holds every capability in the sandbox's user namespace and none in
/// another's.
pub fn confine_sentry(
    scratch: &Path,
    init_pidfd: &OwnedFd,
    platform: PlatformKind,
    owner: Option<u32>,
) -> Result<(), ConfineError> {
    enter_empty_root(scratch)?;
    match owner {
        Some(uid) => {
            crate::confine::become_owner(uid, SENTRY_CAPS)?;
            // The threads started before (the tracer, the sysctl thread)
            // switched themselves.
            crate::confine::check_all_threads_are(uid)?;
        }
        None => keep_only_caps(SENTRY_CAPS)?,
    }
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
    let denied = SYSCALLS
        .iter()
        .filter(|r| matches!(r.disposition, Disposition::Denied { .. }))
        .filter(|r| !r.in_kernel)
        .count();
    let sentry = sentry_allowlist(0, PlatformKind::Seccomp);
    let on_ptrace = sentry_allowlist(0, PlatformKind::Ptrace);
    let ptrace_extra = ptrace_platform_allowlist();
    let mut gofer = crate::gofer::confine::gofer_allowlist(0);
    gofer.push(crate::gofer::confine::owner_euid_rule(
        crate::sandbox::owner::FIRST,
    ));
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
        SYSCALLS
            .iter()
            .filter(|r| r.in_kernel)
            .map(|r| format!("`{}`", r.name))
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
    use crate::confine::{build, SIGSYS_EXIT};
    use nix::errno::Errno;

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
            ("gofer", {
                let mut l = crate::gofer::confine::gofer_allowlist(1);
                l.push(crate::gofer::confine::owner_euid_rule(
                    crate::sandbox::owner::FIRST,
                ));
                l
            }),
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

    /// Runs `body` in a forked child under the sentry's filter and returns
    /// how the child ended: exit status 0 when `body` returned Ok, its
    /// code when it returned Err, a kill when the filter's handler ran.
    fn under_sentry_filter(body: fn() -> Result<(), i32>) -> nix::sys::wait::WaitStatus {
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
                    body()
                })()
                .err()
                .unwrap_or(0);
                // SAFETY: leave the forked child without the harness.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => nix::sys::wait::waitpid(child, None).expect("waitpid"),
        }
    }

    /// The handler kills the pidfd's process (itself) or exits with
    /// 128+SIGSYS; either proves the kill path ran.
    fn killed_by_the_filter(status: nix::sys::wait::WaitStatus) -> bool {
        use nix::sys::wait::WaitStatus;
        matches!(
            status,
            WaitStatus::Exited(_, SIGSYS_EXIT)
                | WaitStatus::Signaled(_, nix::sys::signal::Signal::SIGKILL, _)
        )
    }

    /// Allowed calls work, clone3 is ENOSYS, a socket() is fatal with
    /// SIGSYS through the handler.
    #[test]
    fn sentry_filter_kills_on_socket() {
        let status = under_sentry_filter(|| {
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
        });
        assert!(killed_by_the_filter(status), "{status:?}");
    }

    /// The warm thread's rule: SCHED_IDLE for the calling thread passes;
    /// any other policy, or naming a thread by its id, is fatal.
    #[test]
    fn sentry_filter_allows_only_lowering_itself_to_sched_idle() {
        let status =
            under_sentry_filter(|| crate::sentry::sys::set_own_policy_idle().map_err(|_| 4));
        assert_eq!(
            status,
            nix::sys::wait::WaitStatus::Exited(status.pid().expect("pid"), 0)
        );
        let status = under_sentry_filter(|| {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: a valid sched_param for the call; must not return.
            unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
            Err(5)
        });
        assert!(killed_by_the_filter(status), "{status:?}");
        let status = under_sentry_filter(|| {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: a valid sched_param for the call; must not return.
            unsafe { libc::sched_setscheduler(libc::getpid(), libc::SCHED_IDLE, &param) };
            Err(6)
        });
        assert!(killed_by_the_filter(status), "{status:?}");
    }
}
