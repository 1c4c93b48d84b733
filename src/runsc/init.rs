//! `runrs init`: the container's first process, already in its new
//! namespaces. It builds the mount table, drops every host privilege,
//! installs the workload filter, hands the listener to `create`, and blocks
//! on `exec.fifo` until `start`; then it execs the user's program (pid 1).

use std::convert::Infallible;
use std::ffi::CString;
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::cli::PlatformKind;
use super::error::Error;
use super::rootfs;
use super::spec::{ContainerConfig, ProcessConfig};
use super::state;
use crate::sandbox::sync::{self, InitMsg, SyncError};
use crate::sandbox::FIRST_ROLE_FD;
use crate::sentry::filter::{self, FilterError};

/// The default PATH when the spec's env has none (Go's and runc's).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn main(state_dir: &Path, platform: PlatformKind, preserve_fds: u32) -> i32 {
    let sock = FIRST_ROLE_FD;
    match run(state_dir, sock, platform, preserve_fds) {
        Ok(never) => match never {},
        Err(e) => {
            let msg = e.to_string();
            let _ = sync::send(sock, &InitMsg::Error { msg: msg.clone() }, None);
            eprintln!("runrs init: {msg}");
            1
        }
    }
}

/// What failed while init (or `runrs exec`'s child, which shares these
/// steps) set up the workload's process: one variant per step. The text is
/// what crosses the sync socket to `create` (or `exec`), which shows it as
/// runc would ("unable to start container process: ..."), so it names the
/// step and keeps the cause: the source is part of it.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("--preserve-fds: {0}")]
    PreserveFds(#[source] nix::Error),
    #[error("read spec: {0}")]
    ReadSpec(#[source] std::io::Error),
    #[error("parse spec: {0}")]
    ParseSpec(#[source] serde_json::Error),
    /// A string of the spec that becomes a C string holds a NUL.
    #[error("{what}: {value:?} contains a NUL byte")]
    Nul { what: &'static str, value: String },
    #[error("open exec.fifo: {0}")]
    OpenExecFifo(#[source] std::io::Error),
    #[error("rootfs: {0}")]
    PrepareRootfs(#[source] rootfs::RootfsError),
    #[error("rootfs: {0}")]
    MountCgroups(#[source] rootfs::RootfsError),
    #[error("rootfs: {0}")]
    PivotRoot(#[source] rootfs::RootfsError),
    #[error("socket for lo: {0}")]
    LoopbackSocket(#[source] nix::Error),
    #[error("lo flags: {0}")]
    LoopbackFlags(#[source] std::io::Error),
    #[error("bring lo up: {0}")]
    LoopbackUp(#[source] std::io::Error),
    #[error("linux.sysctl: {key:?} is not namespaced and would change the host")]
    SysctlNotNamespaced { key: String },
    #[error("linux.sysctl: {key:?} needs a network namespace")]
    SysctlNeedsNetns { key: String },
    #[error("linux.sysctl {key}: {source}")]
    WriteSysctl {
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error("process.oomScoreAdj: {0}")]
    OomScoreAdj(#[source] std::io::Error),
    /// A console path that leaves the container's root.
    #[error("{0}")]
    ConsolePath(#[source] rootfs::RootfsError),
    #[error("open /dev/pts/ptmx (process.terminal needs a devpts mount at /dev/pts): {0}")]
    OpenPtmx(#[source] std::io::Error),
    #[error("unlock pty: {0}")]
    UnlockPty(#[source] std::io::Error),
    #[error("pty number: {0}")]
    PtyNumber(#[source] std::io::Error),
    #[error("open pty slave: {0}")]
    OpenPtySlave(#[source] std::io::Error),
    #[error("send pty: {0}")]
    SendPty(#[source] SyncError),
    #[error("create /dev/console: {0}")]
    CreateConsole(#[source] std::io::Error),
    #[error("bind the terminal on /dev/console: {0}")]
    BindConsole(#[source] nix::Error),
    #[error("setsid: {0}")]
    Setsid(#[source] nix::Error),
    #[error("set controlling terminal: {0}")]
    SetControllingTerminal(#[source] std::io::Error),
    #[error("dup2 pty: {0}")]
    Dup2Pty(#[source] std::io::Error),
    #[error("sync: {0}")]
    SendNeedHooks(#[source] SyncError),
    #[error("sync: {0}")]
    WaitForHooks(#[source] SyncError),
    #[error("sync: {0}")]
    SendReady(#[source] SyncError),
    /// The peer answered with something else than the step waits for.
    #[error("unexpected message {received:?}")]
    UnexpectedMessage {
        expected: &'static str,
        received: InitMsg,
    },
    /// The sentry refused (its own text, passed on as it is).
    #[error("{0}")]
    SentryRefused(String),
    #[error("hostname: {0}")]
    Hostname(#[source] nix::Error),
    #[error("domainname: {0}")]
    Domainname(#[source] std::io::Error),
    #[error("process.rlimits {name}: {source}")]
    Rlimit {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("chdir to process.cwd: {0}")]
    Chdir(#[source] nix::Error),
    /// exec.LookPath's messages, which Docker users know.
    #[error("exec: \"{program}\": stat {program}: {}", io_text(.source))]
    StatProgram {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("exec: \"{program}\": permission denied")]
    ProgramNotExecutable { program: String },
    #[error("exec: \"{program}\": executable file not found in $PATH")]
    ProgramNotFound { program: String },
    #[error("linux.seccomp: {0}")]
    SeccompProfile(#[source] Error),
    /// The user namespace's steps (`super::userns`) with their own text.
    #[error(transparent)]
    EnterUserNamespace(super::userns::UserNsError),
    #[error(transparent)]
    BecomeUser(super::userns::UserNsError),
    #[error("prctl(PR_SET_DUMPABLE): {0}")]
    SetDumpable(#[source] nix::Error),
    #[error("build seccomp filter: {0}")]
    BuildFilter(#[source] FilterError),
    #[error("install seccomp filter: {0}")]
    InstallFilter(#[source] FilterError),
    #[error("install seccomp filter: no listener")]
    NoListener,
    #[error("send listener: {0}")]
    SendListener(#[source] SyncError),
    #[error("fd-passing socketpair: {0}")]
    SocketPair(#[source] nix::Error),
    #[error("reserve fd {fd} for the ptrace platform: {source}")]
    ReserveFd {
        fd: i32,
        #[source]
        source: std::io::Error,
    },
    #[error("send the fd-passing socket: {0}")]
    SendTracingSocket(#[source] SyncError),
    #[error("wait for the sentry to attach: {0}")]
    WaitForAttach(#[source] SyncError),
    /// `runrs exec`'s child, before it joins the container.
    #[error("make the process non-dumpable: {0}")]
    MakeNonDumpable(#[source] std::io::Error),
    #[error("join the container's namespaces: {0}")]
    JoinNamespaces(#[source] nix::Error),
}

fn last_os_error() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// Finds the program like exec.LookPath does in the container's view, so
/// that a missing program fails `create` with runc's message.
pub fn lookup(program: &str, env: &[String]) -> Result<PathBuf, InitError> {
    let executable = |p: &Path| {
        fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return match fs::metadata(&p) {
            Err(source) => Err(InitError::StatProgram {
                program: program.to_owned(),
                source,
            }),
            Ok(_) if !executable(&p) => Err(InitError::ProgramNotExecutable {
                program: program.to_owned(),
            }),
            Ok(_) => Ok(p),
        };
    }
    let path = env
        .iter()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(program);
        if executable(&candidate) {
            return Ok(candidate);
        }
    }
    Err(InitError::ProgramNotFound {
        program: program.to_owned(),
    })
}

/// Go's wording for the common errors, which Docker users know.
pub fn io_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENOENT) => "no such file or directory".into(),
        Some(libc::EACCES) => "permission denied".into(),
        Some(libc::ENOTDIR) => "not a directory".into(),
        _ => e.to_string(),
    }
}

/// A new network namespace starts with `lo` down; runc brings it up, and
/// programs expect 127.0.0.1 to work.
fn loopback_up() -> Result<(), InitError> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(InitError::LoopbackSocket)?;
    // SAFETY: ifreq is plain data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write an ifreq we own.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(InitError::LoopbackFlags(last_os_error()));
        }
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(InitError::LoopbackUp(last_os_error()));
        }
    }
    Ok(())
}

fn write_sysctls(cfg: &ContainerConfig) -> Result<(), InitError> {
    for (key, value) in &cfg.sysctl {
        let namespaced = key.starts_with("net.")
            || key.starts_with("fs.mqueue.")
            || matches!(
                key.as_str(),
                "kernel.msgmax"
                    | "kernel.msgmnb"
                    | "kernel.msgmni"
                    | "kernel.sem"
                    | "kernel.shmall"
                    | "kernel.shmmax"
                    | "kernel.shmmni"
                    | "kernel.shm_rmid_forced"
                    | "kernel.domainname"
                    | "kernel.hostname"
            );
        if !namespaced {
            return Err(InitError::SysctlNotNamespaced { key: key.clone() });
        }
        // A network namespace joined by path was checked at create: it is
        // not the host's (`spec::check_net_sysctls`).
        if key.starts_with("net.") && !cfg.namespaces.iter().any(|n| n.typ == "network") {
            return Err(InitError::SysctlNeedsNetns { key: key.clone() });
        }
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        fs::write(&path, value).map_err(|source| InitError::WriteSysctl {
            key: key.clone(),
            source,
        })?;
    }
    Ok(())
}

/// Opens the pty inside the container's devpts; returns the slave.
/// Opens a pty in the devpts under `root`, sends the master over `sock`
/// (for --console-socket) and returns the slave and its path in the
/// container (`/dev/pts/N`).
pub fn open_console(root: &Path, sock: RawFd) -> Result<(OwnedFd, String), InitError> {
    let ptmx = rootfs::secure_join(root, "/dev/pts/ptmx").map_err(InitError::ConsolePath)?;
    let master: OwnedFd = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(&ptmx)
        .map_err(InitError::OpenPtmx)?
        .into();
    let mut unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int from a valid pointer.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &mut unlock) } < 0 {
        return Err(InitError::UnlockPty(last_os_error()));
    }
    let mut n: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int to a valid pointer.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut n) } < 0 {
        return Err(InitError::PtyNumber(last_os_error()));
    }
    let name = format!("/dev/pts/{n}");
    let slave_path = rootfs::secure_join(root, &name).map_err(InitError::ConsolePath)?;
    let slave: OwnedFd = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(&slave_path)
        .map_err(InitError::OpenPtySlave)?
        .into();
    sync::send(
        sock,
        &InitMsg::Pty { name: name.clone() },
        Some(master.as_raw_fd()),
    )
    .map_err(InitError::SendPty)?;
    Ok((slave, name))
}

/// As runc's mountConsole: the container's terminal is also its
/// /dev/console (a bind of the pty slave over an empty file), for a
/// container's init only (`exec -t` leaves /dev/console alone).
pub fn mount_console(root: &Path, slave_name: &str) -> Result<(), InitError> {
    let console = rootfs::secure_join(root, "/dev/console").map_err(InitError::ConsolePath)?;
    let slave = rootfs::secure_join(root, slave_name).map_err(InitError::ConsolePath)?;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .open(&console)
        .map_err(InitError::CreateConsole)?;
    nix::mount::mount(
        Some(&slave),
        &console,
        None::<&str>,
        nix::mount::MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(InitError::BindConsole)
}

pub fn become_console(slave: OwnedFd) -> Result<(), InitError> {
    nix::unistd::setsid().map_err(InitError::Setsid)?;
    // SAFETY: TIOCSCTTY takes an int argument by value; slave is open.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(InitError::SetControllingTerminal(last_os_error()));
    }
    for target in 0..3 {
        // SAFETY: dup2 of an open fd onto stdio numbers.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(InitError::Dup2Pty(last_os_error()));
        }
    }
    Ok(())
}

/// Becomes the process spec's user in the container's user namespace,
/// with its capability sets (real ones, in that namespace only) and
/// no_new_privs as the spec says (see `super::userns`).
pub fn become_process(p: &ProcessConfig) -> Result<(), InitError> {
    super::userns::become_user(p).map_err(InitError::BecomeUser)?;
    // The user change made this process non-dumpable, and its memory still
    // belongs to the host's user namespace (until its execve): the sentry,
    // which holds no CAP_SYS_PTRACE, could not read it (the execve's path).
    // The program's exec sets the dumpable mode as Linux does.
    nix::sys::prctl::set_dumpable(true).map_err(InitError::SetDumpable)?;
    default_signal_dispositions();
    Ok(())
}

/// Ignored signals survive execve, and Rust's runtime ignores SIGPIPE in
/// runrs itself: without this the workload starts with SIGPIPE ignored
/// (`seq | sort | head` printed "write failed: Broken pipe" where runc's
/// sort dies quietly). Every disposition goes back to its default, with
/// the raw syscall because glibc refuses its reserved signals 32 and 33,
/// which a caller of runrs may have left ignored too.
fn default_signal_dispositions() {
    /// The kernel's `struct sigaction` on x86_64.
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    let dfl = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: `dfl` is a valid kernel sigaction that installs no handler
        // code and outlives the call; the old action is not asked for; the
        // size is the kernel's sigset size (8).
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                &dfl as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                8usize,
            );
        }
    }
}

/// Applies the process's rlimits to ourselves (inherited across exec).
pub fn set_rlimits(p: &ProcessConfig) -> Result<(), InitError> {
    for r in &p.rlimits {
        let lim = libc::rlimit {
            rlim_cur: r.soft,
            rlim_max: r.hard,
        };
        // SAFETY: setrlimit reads a valid rlimit struct.
        if unsafe { libc::setrlimit(r.resource as _, &lim) } < 0 {
            return Err(InitError::Rlimit {
                name: r.name.clone(),
                source: last_os_error(),
            });
        }
    }
    Ok(())
}

/// Installs runrs's workload filter on this process and sends its
/// listener over `sock` (to create or exec, which hand it to the sentry).
pub fn install_filter_and_send_listener(sock: RawFd) -> Result<(), InitError> {
    let filters =
        filter::workload_filters(filter::NotifyMode::UserNotif).map_err(InitError::BuildFilter)?;
    let listener = filter::install(&filters)
        .map_err(InitError::InstallFilter)?
        .ok_or(InitError::NoListener)?;
    sync::send(sock, &InitMsg::Listener, Some(listener.as_raw_fd()))
        .map_err(InitError::SendListener)
}

/// How a new workload process (init, or one `runrs exec` starts) comes
/// under the sentry, made before its rlimits apply: on ptrace, the
/// workload's end of its fd-passing socket already sits at the reserved fd
/// (a low RLIMIT_NOFILE would refuse that number later).
pub enum HandOver {
    Seccomp,
    /// The sentry's end of the socket, to send over the sync channel.
    Ptrace(OwnedFd),
}

impl HandOver {
    pub fn prepare(platform: PlatformKind) -> Result<HandOver, InitError> {
        match platform {
            PlatformKind::Seccomp => Ok(HandOver::Seccomp),
            PlatformKind::Ptrace => {
                let (ours, theirs) = sync::seqpacket_pair().map_err(InitError::SocketPair)?;
                let reserved = crate::sentry::platform::ptrace::RESERVED_FD;
                // SAFETY: dup2 of an fd we own onto a number nothing in this
                // process uses; the copy is not close-on-exec, so that
                // every program of the workload keeps it.
                if unsafe { libc::dup2(theirs.as_raw_fd(), reserved) } < 0 {
                    return Err(InitError::ReserveFd {
                        fd: reserved,
                        source: last_os_error(),
                    });
                }
                Ok(HandOver::Ptrace(ours))
            }
        }
    }

    /// Puts this process under the sentry: seccomp sends the filter's
    /// listener over `sock` (the peer answers `Continue` later, or not at
    /// all for init); ptrace sends the socket, waits for `Continue` (the
    /// sentry traces us: a RET_TRACE syscall without a tracer would fail
    /// with ENOSYS), then installs the filter.
    pub fn run(self, sock: RawFd) -> Result<(), InitError> {
        match self {
            HandOver::Seccomp => install_filter_and_send_listener(sock),
            HandOver::Ptrace(ours) => {
                sync::send(sock, &InitMsg::Tracee, Some(ours.as_raw_fd()))
                    .map_err(InitError::SendTracingSocket)?;
                drop(ours);
                match sync::recv(sock).map_err(InitError::WaitForAttach)? {
                    (InitMsg::Continue, _) => {}
                    (InitMsg::Error { msg }, _) => return Err(InitError::SentryRefused(msg)),
                    (received, _) => {
                        return Err(InitError::UnexpectedMessage {
                            expected: "Continue",
                            received,
                        })
                    }
                }
                let reserved = crate::sentry::platform::ptrace::RESERVED_FD;
                let mut filters =
                    filter::reserved_fd_filters(reserved).map_err(InitError::BuildFilter)?;
                filters.extend(
                    filter::workload_filters(filter::NotifyMode::Trace)
                        .map_err(InitError::BuildFilter)?,
                );
                filters.extend(filter::ptrace_platform_filters().map_err(InitError::BuildFilter)?);
                filter::install(&filters)
                    .map(drop)
                    .map_err(InitError::InstallFilter)
            }
        }
    }
}

/// Installs the spec's profile; create has returned, so a failure can
/// only be reported on stderr, and the process must not run unfiltered.
pub fn install_profile(p: &super::seccomp_profile::Compiled) {
    if let Err(e) = filter::install_with_flags(&p.filters, p.flags) {
        eprintln!("runrs: linux.seccomp: {e}");
        std::process::exit(127);
    }
}

/// OCI's startContainer hooks, where runc runs them: after `start`, in
/// the container (its namespaces, its root, its cwd), before the user's
/// program. A hook's path is the image's binary, so it never runs on the
/// host: init forks it here, after pivot_root, the user change and the
/// filter, so it is one more process of the workload under the sentry,
/// with the process's user, capabilities and seccomp profile (the one
/// that comes with no_new_privs is already on, as in runc). The state's
/// pid is init's in the container (1 in a pid namespace of its own), its
/// status "created". A failure ends the container before its program
/// runs, with runc's message on its stderr and exit status 1; `start` has
/// returned by then, as runc's has.
fn run_start_container_hooks(cfg: &ContainerConfig) {
    let state = super::hooks::HookState {
        id: &cfg.id,
        status: "created",
        pid: std::process::id() as i32,
        bundle: &cfg.bundle,
        annotations: &cfg.annotations,
    };
    for (i, hook) in cfg.hooks.start_container.iter().enumerate() {
        if let Err(e) = super::hooks::run_all(std::slice::from_ref(hook), &state) {
            eprintln!("runrs: error running startContainer hook #{i}: {e}");
            std::process::exit(1);
        }
    }
}

pub fn cstrings(v: &[String], what: &'static str) -> Result<Vec<CString>, InitError> {
    v.iter()
        .map(|s| {
            CString::new(s.as_bytes()).map_err(|_| InitError::Nul {
                what,
                value: s.clone(),
            })
        })
        .collect()
}

fn run(
    state_dir: &Path,
    sock: RawFd,
    platform: PlatformKind,
    preserve_fds: u32,
) -> Result<Infallible, InitError> {
    // The caller's --preserve-fds, which create put right after the sync
    // socket: close-on-exec until they move to 3.. for the program.
    let preserved_at = FIRST_ROLE_FD + 1;
    crate::sandbox::sys::set_cloexec(preserved_at, preserve_fds).map_err(InitError::PreserveFds)?;
    let spec_path = state_dir.join(state::SPEC_FILE);
    let data = fs::read(&spec_path).map_err(InitError::ReadSpec)?;
    let cfg: ContainerConfig = serde_json::from_slice(&data).map_err(InitError::ParseSpec)?;
    let argv = cstrings(&cfg.process.args, "process.args")?;
    let envp = cstrings(&cfg.process.env, "process.env")?;

    // Held open read-write so that `start` can open it for writing at any
    // time and a read here blocks until it writes.
    let fifo: OwnedFd = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(state_dir.join(state::EXEC_FIFO))
        .map_err(InitError::OpenExecFifo)?
        .into();

    let hand_over = HandOver::prepare(platform)?;
    rootfs::prepare(&cfg).map_err(InitError::PrepareRootfs)?;
    if cfg.has_new_namespace("network") {
        loopback_up()?;
    }
    write_sysctls(&cfg)?;
    if let Some(adj) = cfg.process.oom_score_adj {
        fs::write("/proc/self/oom_score_adj", adj.to_string()).map_err(InitError::OomScoreAdj)?;
    }
    let console = if cfg.process.terminal {
        let (slave, name) = open_console(&cfg.rootfs, sock)?;
        mount_console(&cfg.rootfs, &name)?;
        Some(slave)
    } else {
        None
    };

    sync::send(sock, &InitMsg::NeedHooks, None).map_err(InitError::SendNeedHooks)?;
    match sync::recv(sock).map_err(InitError::WaitForHooks)? {
        (InitMsg::Continue, _) => {}
        (received, _) => {
            return Err(InitError::UnexpectedMessage {
                expected: "Continue",
                received,
            })
        }
    }

    // The front end has put init into its cgroups by now.
    rootfs::mount_cgroups(&cfg).map_err(InitError::MountCgroups)?;
    rootfs::pivot(&cfg).map_err(InitError::PivotRoot)?;
    if cfg.has_new_namespace("uts") {
        if let Some(h) = &cfg.hostname {
            nix::unistd::sethostname(h).map_err(InitError::Hostname)?;
        }
        if let Some(d) = &cfg.domainname {
            // SAFETY: d is a valid buffer of d.len() bytes for the call.
            if unsafe { libc::setdomainname(d.as_ptr().cast(), d.len()) } < 0 {
                return Err(InitError::Domainname(last_os_error()));
            }
        }
    }
    set_rlimits(&cfg.process)?;
    if let Some(slave) = console {
        become_console(slave)?;
    } else {
        // runc's init always starts a new session (nsexec.c), so the
        // container's processes see session and process group 1 in /proc
        // and `ps` marks init as a session leader.
        nix::unistd::setsid().map_err(InitError::Setsid)?;
    }
    nix::unistd::chdir(cfg.process.cwd.as_str()).map_err(InitError::Chdir)?;
    let program = lookup(&cfg.process.args[0], &cfg.process.env)?;
    let program = cstrings(&[program.to_string_lossy().into_owned()], "process.args")?.remove(0);
    if let Some(mask) = cfg.process.umask {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
    }
    // The spec's own profile goes on last, right before exec, as runc does:
    // only execve itself has to pass it.
    let profile = match &cfg.seccomp {
        Some(p) => Some(super::seccomp_profile::compile(p).map_err(InitError::SeccompProfile)?),
        None => None,
    };
    super::userns::enter(sock).map_err(InitError::EnterUserNamespace)?;

    // From here on every syscall goes through the filter: only passthrough
    // ones (sendmsg, close, read) and the identity calls that the sentry
    // continues until execve, which the sentry answers. Installed with the
    // namespace's CAP_SYS_ADMIN, so no_new_privs only if the spec asks.
    hand_over.run(sock)?;
    // Without no_new_privs the spec's profile needs CAP_SYS_ADMIN too, so
    // it goes on before the user change, as runc does.
    if let Some(p) = profile.as_ref().filter(|_| !cfg.process.no_new_privs) {
        install_profile(p);
    }
    become_process(&cfg.process)?;
    sync::send(sock, &InitMsg::Ready, None).map_err(InitError::SendReady)?;
    // SAFETY: fd 3 is the sync socket we were started with; nothing else owns it.
    drop(unsafe { OwnedFd::from_raw_fd(sock) });

    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(&fifo, &mut byte) {
            Err(nix::Error::EINTR) => continue,
            Ok(1) => break,
            // Unreachable in practice: we hold a writer ourselves.
            _ => std::process::exit(1),
        }
    }
    drop(fifo);
    if let Some(p) = profile.as_ref().filter(|_| cfg.process.no_new_privs) {
        install_profile(p);
    }
    run_start_container_hooks(&cfg);
    // The sync socket at 3 is closed: the preserved fds go to 3.., as
    // runc passes them. They are host fds the caller handed over, like
    // the stdio: the sentry treats them as fds received over a socket
    // (`host:[N]` in /proc, never resolved by path in the container).
    if let Err(e) = crate::sandbox::sys::place_fds(preserved_at, FIRST_ROLE_FD, preserve_fds) {
        eprintln!("runrs: --preserve-fds: {e}");
        std::process::exit(1);
    }
    let e = nix::unistd::execve(&program, &argv, &envp).unwrap_err();
    eprintln!(
        "runrs: exec {}: {}",
        cfg.process.args[0],
        io_text(&std::io::Error::from_raw_os_error(e as i32))
    );
    std::process::exit(127);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// The text create shows is the step, then its cause (as the String
    /// errors read before), and the cause stays reachable as the source.
    #[test]
    fn init_errors_name_the_step_and_keep_the_cause() {
        let eacces = || std::io::Error::from_raw_os_error(libc::EACCES);
        let e = InitError::WriteSysctl {
            key: "net.ipv4.ip_forward".into(),
            source: eacces(),
        };
        assert_eq!(
            e.to_string(),
            format!("linux.sysctl net.ipv4.ip_forward: {}", eacces())
        );
        assert!(e.source().is_some());
        let e = InitError::SendNeedHooks(SyncError::Closed);
        assert_eq!(e.to_string(), "sync: peer closed the channel");
        assert!(e.source().is_some());
        let e = InitError::UnexpectedMessage {
            expected: "Continue",
            received: InitMsg::Ready,
        };
        assert_eq!(e.to_string(), "unexpected message Ready");
        let e = InitError::Rlimit {
            name: "RLIMIT_NOFILE".into(),
            source: eacces(),
        };
        assert_eq!(
            e.to_string(),
            format!("process.rlimits RLIMIT_NOFILE: {}", eacces())
        );
        assert_eq!(
            InitError::SentryRefused("no such task".into()).to_string(),
            "no such task"
        );
        let nul = cstrings(&["a\0b".to_string()], "process.env").unwrap_err();
        assert_eq!(
            nul.to_string(),
            "process.env: \"a\\0b\" contains a NUL byte"
        );
    }

    #[test]
    fn lookup_follows_path_and_reports_like_runc() {
        let env = vec!["PATH=/nonexistent:/bin:/usr/bin".to_string()];
        assert!(lookup("sh", &env).expect("sh").ends_with("sh"));
        assert_eq!(
            lookup("nope-runrs", &env).unwrap_err().to_string(),
            "exec: \"nope-runrs\": executable file not found in $PATH"
        );
        assert_eq!(
            lookup("/nonexistent/x", &env).unwrap_err().to_string(),
            "exec: \"/nonexistent/x\": stat /nonexistent/x: no such file or directory"
        );
    }
}
