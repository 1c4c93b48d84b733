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
use super::rootfs;
use super::spec::{ContainerConfig, ProcessConfig};
use super::state;
use crate::sandbox::sync::{self, InitMsg};
use crate::sandbox::FIRST_ROLE_FD;
use crate::sentry::filter;

/// The default PATH when the spec's env has none (Go's and runc's).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn main(state_dir: &Path, platform: PlatformKind, preserve_fds: u32) -> i32 {
    let sock = FIRST_ROLE_FD;
    match run(state_dir, sock, platform, preserve_fds) {
        Ok(never) => match never {},
        Err(msg) => {
            let _ = sync::send(sock, &InitMsg::Error { msg: msg.clone() }, None);
            eprintln!("runrs init: {msg}");
            1
        }
    }
}

pub fn ok<T, E: std::fmt::Display>(r: Result<T, E>, step: &str) -> Result<T, String> {
    r.map_err(|e| format!("{step}: {e}"))
}

/// Finds the program like exec.LookPath does in the container's view, so
/// that a missing program fails `create` with runc's message.
pub fn lookup(program: &str, env: &[String]) -> Result<PathBuf, String> {
    let executable = |p: &Path| {
        fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return match fs::metadata(&p) {
            Err(e) => Err(format!(
                "exec: \"{program}\": stat {program}: {}",
                io_text(&e)
            )),
            Ok(_) if !executable(&p) => Err(format!("exec: \"{program}\": permission denied")),
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
    Err(format!(
        "exec: \"{program}\": executable file not found in $PATH"
    ))
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
fn loopback_up() -> Result<(), String> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    let sock = ok(
        socket(
            AddressFamily::Inet,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            None,
        ),
        "socket for lo",
    )?;
    // SAFETY: ifreq is plain data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write an ifreq we own.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(format!("lo flags: {}", std::io::Error::last_os_error()));
        }
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(format!("bring lo up: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

fn write_sysctls(cfg: &ContainerConfig) -> Result<(), String> {
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
            return Err(format!(
                "linux.sysctl: {key:?} is not namespaced and would change the host"
            ));
        }
        // A network namespace joined by path was checked at create: it is
        // not the host's (`spec::check_net_sysctls`).
        if key.starts_with("net.") && !cfg.namespaces.iter().any(|n| n.typ == "network") {
            return Err(format!("linux.sysctl: {key:?} needs a network namespace"));
        }
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        ok(fs::write(&path, value), &format!("linux.sysctl {key}"))?;
    }
    Ok(())
}

/// Opens the pty inside the container's devpts; returns the slave.
/// Opens a pty in the devpts under `root`, sends the master over `sock`
/// (for --console-socket) and returns the slave and its path in the
/// container (`/dev/pts/N`).
pub fn open_console(root: &Path, sock: RawFd) -> Result<(OwnedFd, String), String> {
    let ptmx = rootfs::secure_join(root, "/dev/pts/ptmx").map_err(|e| e.to_string())?;
    let master: OwnedFd = ok(
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
            .open(&ptmx),
        "open /dev/pts/ptmx (process.terminal needs a devpts mount at /dev/pts)",
    )?
    .into();
    let mut unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int from a valid pointer.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &mut unlock) } < 0 {
        return Err(format!("unlock pty: {}", std::io::Error::last_os_error()));
    }
    let mut n: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int to a valid pointer.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut n) } < 0 {
        return Err(format!("pty number: {}", std::io::Error::last_os_error()));
    }
    let name = format!("/dev/pts/{n}");
    let slave_path = rootfs::secure_join(root, &name).map_err(|e| e.to_string())?;
    let slave: OwnedFd = ok(
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
            .open(&slave_path),
        "open pty slave",
    )?
    .into();
    ok(
        sync::send(
            sock,
            &InitMsg::Pty { name: name.clone() },
            Some(master.as_raw_fd()),
        ),
        "send pty",
    )?;
    Ok((slave, name))
}

/// As runc's mountConsole: the container's terminal is also its
/// /dev/console (a bind of the pty slave over an empty file), for a
/// container's init only (`exec -t` leaves /dev/console alone).
pub fn mount_console(root: &Path, slave_name: &str) -> Result<(), String> {
    let console = rootfs::secure_join(root, "/dev/console").map_err(|e| e.to_string())?;
    let slave = rootfs::secure_join(root, slave_name).map_err(|e| e.to_string())?;
    ok(
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o666)
            .open(&console),
        "create /dev/console",
    )?;
    ok(
        nix::mount::mount(
            Some(&slave),
            &console,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        ),
        "bind the terminal on /dev/console",
    )
}

pub fn become_console(slave: OwnedFd) -> Result<(), String> {
    ok(nix::unistd::setsid(), "setsid")?;
    // SAFETY: TIOCSCTTY takes an int argument by value; slave is open.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(format!(
            "set controlling terminal: {}",
            std::io::Error::last_os_error()
        ));
    }
    for target in 0..3 {
        // SAFETY: dup2 of an open fd onto stdio numbers.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(format!("dup2 pty: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Becomes the process spec's user in the container's user namespace,
/// with its capability sets (real ones, in that namespace only) and
/// no_new_privs as the spec says (see `super::userns`).
pub fn become_process(p: &ProcessConfig) -> Result<(), String> {
    super::userns::become_user(p)?;
    // The user change made this process non-dumpable, and its memory still
    // belongs to the host's user namespace (until its execve): the sentry,
    // which holds no CAP_SYS_PTRACE, could not read it (the execve's path).
    // The program's exec sets the dumpable mode as Linux does.
    ok(
        nix::sys::prctl::set_dumpable(true),
        "prctl(PR_SET_DUMPABLE)",
    )?;
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
pub fn set_rlimits(p: &ProcessConfig) -> Result<(), String> {
    for r in &p.rlimits {
        let lim = libc::rlimit {
            rlim_cur: r.soft,
            rlim_max: r.hard,
        };
        // SAFETY: setrlimit reads a valid rlimit struct.
        if unsafe { libc::setrlimit(r.resource as _, &lim) } < 0 {
            return Err(format!(
                "process.rlimits {}: {}",
                r.name,
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// Installs runrs's workload filter on this process and sends its
/// listener over `sock` (to create or exec, which hand it to the sentry).
pub fn install_filter_and_send_listener(sock: RawFd) -> Result<(), String> {
    let filters = ok(
        filter::workload_filters(filter::NotifyMode::UserNotif),
        "build seccomp filter",
    )?;
    let listener = ok(filter::install(&filters), "install seccomp filter")?
        .ok_or("install seccomp filter: no listener")?;
    ok(
        sync::send(sock, &InitMsg::Listener, Some(listener.as_raw_fd())),
        "send listener",
    )
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
    pub fn prepare(platform: PlatformKind) -> Result<HandOver, String> {
        match platform {
            PlatformKind::Seccomp => Ok(HandOver::Seccomp),
            PlatformKind::Ptrace => {
                let (ours, theirs) = ok(sync::seqpacket_pair(), "fd-passing socketpair")?;
                let reserved = crate::sentry::platform::ptrace::RESERVED_FD;
                // SAFETY: dup2 of an fd we own onto a number nothing in this
                // process uses; the copy is not close-on-exec, so that
                // every program of the workload keeps it.
                if unsafe { libc::dup2(theirs.as_raw_fd(), reserved) } < 0 {
                    return Err(format!(
                        "reserve fd {reserved} for the ptrace platform: {}",
                        std::io::Error::last_os_error()
                    ));
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
    pub fn run(self, sock: RawFd) -> Result<(), String> {
        match self {
            HandOver::Seccomp => install_filter_and_send_listener(sock),
            HandOver::Ptrace(ours) => {
                ok(
                    sync::send(sock, &InitMsg::Tracee, Some(ours.as_raw_fd())),
                    "send the fd-passing socket",
                )?;
                drop(ours);
                match ok(sync::recv(sock), "wait for the sentry to attach")? {
                    (InitMsg::Continue, _) => {}
                    (InitMsg::Error { msg }, _) => return Err(msg),
                    (other, _) => return Err(format!("unexpected message {other:?}")),
                }
                let reserved = crate::sentry::platform::ptrace::RESERVED_FD;
                let mut filters = ok(
                    filter::reserved_fd_filters(reserved),
                    "build seccomp filter",
                )?;
                filters.extend(ok(
                    filter::workload_filters(filter::NotifyMode::Trace),
                    "build seccomp filter",
                )?);
                filters.extend(ok(
                    filter::ptrace_platform_filters(),
                    "build seccomp filter",
                )?);
                ok(filter::install(&filters), "install seccomp filter").map(drop)
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

pub fn cstrings(v: &[String], what: &str) -> Result<Vec<CString>, String> {
    v.iter()
        .map(|s| {
            CString::new(s.as_bytes()).map_err(|_| format!("{what}: {s:?} contains a NUL byte"))
        })
        .collect()
}

fn run(
    state_dir: &Path,
    sock: RawFd,
    platform: PlatformKind,
    preserve_fds: u32,
) -> Result<Infallible, String> {
    // The caller's --preserve-fds, which create put right after the sync
    // socket: close-on-exec until they move to 3.. for the program.
    let preserved_at = FIRST_ROLE_FD + 1;
    ok(
        crate::sandbox::sys::set_cloexec(preserved_at, preserve_fds),
        "--preserve-fds",
    )?;
    let spec_path = state_dir.join(state::SPEC_FILE);
    let data = ok(fs::read(&spec_path), "read spec")?;
    let cfg: ContainerConfig = ok(serde_json::from_slice(&data), "parse spec")?;
    let argv = cstrings(&cfg.process.args, "process.args")?;
    let envp = cstrings(&cfg.process.env, "process.env")?;

    // Held open read-write so that `start` can open it for writing at any
    // time and a read here blocks until it writes.
    let fifo: OwnedFd = ok(
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(state_dir.join(state::EXEC_FIFO)),
        "open exec.fifo",
    )?
    .into();

    let hand_over = HandOver::prepare(platform)?;
    ok(rootfs::prepare(&cfg), "rootfs")?;
    if cfg.has_new_namespace("network") {
        loopback_up()?;
    }
    write_sysctls(&cfg)?;
    if let Some(adj) = cfg.process.oom_score_adj {
        ok(
            fs::write("/proc/self/oom_score_adj", adj.to_string()),
            "process.oomScoreAdj",
        )?;
    }
    let console = if cfg.process.terminal {
        let (slave, name) = open_console(&cfg.rootfs, sock)?;
        mount_console(&cfg.rootfs, &name)?;
        Some(slave)
    } else {
        None
    };

    ok(sync::send(sock, &InitMsg::NeedHooks, None), "sync")?;
    match ok(sync::recv(sock), "sync")? {
        (InitMsg::Continue, _) => {}
        (other, _) => return Err(format!("unexpected message {other:?}")),
    }

    // The front end has put init into its cgroups by now.
    ok(rootfs::mount_cgroups(&cfg), "rootfs")?;
    ok(rootfs::pivot(&cfg), "rootfs")?;
    if cfg.has_new_namespace("uts") {
        if let Some(h) = &cfg.hostname {
            ok(nix::unistd::sethostname(h), "hostname")?;
        }
        if let Some(d) = &cfg.domainname {
            // SAFETY: d is a valid buffer of d.len() bytes for the call.
            if unsafe { libc::setdomainname(d.as_ptr().cast(), d.len()) } < 0 {
                return Err(format!("domainname: {}", std::io::Error::last_os_error()));
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
        ok(nix::unistd::setsid(), "setsid")?;
    }
    ok(
        nix::unistd::chdir(cfg.process.cwd.as_str()),
        "chdir to process.cwd",
    )?;
    let program = lookup(&cfg.process.args[0], &cfg.process.env)?;
    let program = cstrings(&[program.to_string_lossy().into_owned()], "process.args")?.remove(0);
    if let Some(mask) = cfg.process.umask {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
    }
    // The spec's own profile goes on last, right before exec, as runc does:
    // only execve itself has to pass it.
    let profile = match &cfg.seccomp {
        Some(p) => Some(ok(super::seccomp_profile::compile(p), "linux.seccomp")?),
        None => None,
    };
    super::userns::enter(sock)?;

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
    ok(sync::send(sock, &InitMsg::Ready, None), "sync")?;
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

    #[test]
    fn lookup_follows_path_and_reports_like_runc() {
        let env = vec!["PATH=/nonexistent:/bin:/usr/bin".to_string()];
        assert!(lookup("sh", &env).expect("sh").ends_with("sh"));
        assert_eq!(
            lookup("nope-runrs", &env).unwrap_err(),
            "exec: \"nope-runrs\": executable file not found in $PATH"
        );
        assert_eq!(
            lookup("/nonexistent/x", &env).unwrap_err(),
            "exec: \"/nonexistent/x\": stat /nonexistent/x: no such file or directory"
        );
    }
}
