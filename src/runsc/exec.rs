//! `runrs exec`: a new process inside a running container, under the same
//! sentry. The new process joins init's namespaces (pid through a fork),
//! drops privileges, installs the same filter stack, and its listener goes
//! to the sentry through the sandbox's control socket before it execs.

use std::convert::Infallible;
use std::fs;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::sched::CloneFlags;
use nix::unistd::{fork, ForkResult, Pid};

use super::cli::{ExecArgs, GlobalOpts};
use super::container::{load_config, send_console, write_pid_file};
use super::error::{Error, Result};
use super::init::{self, InitError};
use super::spec::{self, ProcessConfig};
use super::state::{StateDir, Status};
use crate::sandbox::sync::{self, InitMsg};
use crate::sentry::boot::control_socket_addr;

/// Namespaces an exec'd process joins (pid separately, through a fork).
/// Joined in this order: the user namespace last, since the others
/// belong to the host's user namespace (`super::userns`).
const JOINED: [(&str, CloneFlags); 6] = [
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("user", CloneFlags::CLONE_NEWUSER),
];

/// The process to run: --process, or the container's own process with the
/// command line's overrides.
fn process_config(dir: &StateDir, a: &ExecArgs) -> Result<ProcessConfig> {
    if let Some(path) = &a.process {
        let text = fs::read_to_string(path).map_err(Error::io("read process", path))?;
        let mut raw: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::LoadSpec {
                path: path.clone(),
                msg: e.to_string(),
            })?;
        // runc reads a missing `user` as uid 0, gid 0 (Go's zero value);
        // oci-spec's type requires the field.
        if let Some(obj) = raw.as_object_mut() {
            obj.entry("user")
                .or_insert_with(|| serde_json::json!({"uid": 0, "gid": 0}));
        }
        let proc: oci_spec::runtime::Process =
            serde_path_to_error::deserialize(raw).map_err(|e| Error::LoadSpec {
                path: path.clone(),
                msg: format!("{}: {}", e.path(), e.inner()),
            })?;
        let value = serde_json::to_value(&proc).map_err(Error::Encode)?;
        return spec::process_from_value(&value);
    }
    if a.command.is_empty() {
        return Err(Error::ExecNoCommand);
    }
    let mut p = load_config(dir)?.process;
    p.args = a.command.clone();
    p.terminal = a.tty;
    if let Some(cwd) = &a.cwd {
        p.cwd = cwd.clone();
    }
    for kv in &a.env {
        let key = kv.split('=').next().unwrap_or_default();
        p.env.retain(|e| e.split('=').next() != Some(key));
        p.env.push(kv.clone());
    }
    if let Some(user) = &a.user {
        let (uid, gid) = user.split_once(':').unwrap_or((user, "0"));
        let parse = |s: &str| s.parse::<u32>().map_err(|_| Error::ExecUser(user.clone()));
        p.uid = parse(uid)?;
        p.gid = parse(gid)?;
    }
    p.additional_gids.extend(&a.additional_gids);
    p.no_new_privs |= a.no_new_privs;
    for name in &a.cap {
        let cap: caps::Capability = name.parse().map_err(|_| Error::ExecCap(name.clone()))?;
        let bit = 1u64 << cap.index();
        p.caps.bounding |= bit;
        p.caps.effective |= bit;
        p.caps.permitted |= bit;
        // Ambient needs inheritable too, which --cap does not add (runc).
        if p.caps.inheritable != 0 {
            p.caps.ambient |= bit;
        }
    }
    Ok(p)
}

pub fn exec(g: &GlobalOpts, a: &ExecArgs) -> Result<i32> {
    crate::sandbox::sys::check_preserved_fds(a.preserve_fds).map_err(|msg| Error::Usage {
        flag: "--preserve-fds",
        msg,
    })?;
    let dir = StateDir::new(&g.root, &a.id);
    let st = dir.load(&a.id)?;
    match dir.status(&st) {
        Status::Stopped => return Err(Error::ExecStopped),
        // It would join a frozen cgroup and wait there until resumed.
        Status::Paused if !a.ignore_paused => return Err(Error::ExecPaused),
        _ => {}
    }
    let sub_cgroups = super::cgroups::SubCgroups::parse(&a.cgroup)?;
    let process = process_config(&dir, a)?;
    crate::log::debug(&format!(
        "exec: container {}, args {:?}, uid {}, gid {}, terminal {}",
        a.id, process.args, process.uid, process.gid, process.terminal
    ));
    // The container's platform, whatever this invocation's flag says.
    let platform = {
        let path = dir.file(super::state::SANDBOX_FILE);
        let data = fs::read(&path).map_err(Error::io("read", &path))?;
        serde_json::from_slice::<crate::sandbox::SandboxInfo>(&data)
            .map_err(|source| Error::Decode {
                path: path.clone(),
                source,
            })?
            .platform
    };
    let profile = match &load_config(&dir)?.seccomp {
        Some(p) => Some(super::seccomp_profile::compile(p)?),
        None => None,
    };
    if process.terminal && a.console_socket.is_none() && a.detach {
        return Err(Error::ExecTtyDetached);
    }
    let mut namespaces = Vec::new();
    for (name, flag) in JOINED {
        let path = format!("/proc/{}/ns/{name}", st.init.pid);
        let f = fs::File::open(&path).map_err(Error::io("open namespace", &path))?;
        namespaces.push((OwnedFd::from(f), flag));
    }
    let pidns = fs::File::open(format!("/proc/{}/ns/pid", st.init.pid))
        .map_err(Error::io("open namespace", "pid"))?;
    let own_pidns = fs::File::open("/proc/self/ns/pid")
        .map_err(Error::io("open namespace", "/proc/self/ns/pid"))?;
    // Our children are born in the container's pid namespace; we stay out.
    nix::sched::setns(&pidns, CloneFlags::CLONE_NEWPID)
        .map_err(Error::sys("join the container's pid namespace"))?;
    let (parent_sock, child_sock) = sync::seqpacket_pair().map_err(Error::sys("socketpair"))?;

    // SAFETY: runrs exec is single-threaded here, so the child may run
    // ordinary Rust until it execs.
    let child = match unsafe { fork() }.map_err(Error::sys("fork"))? {
        ForkResult::Child => {
            drop(parent_sock);
            let sock = child_sock.as_raw_fd();
            let Err(e) = child_main(
                &process,
                profile.as_ref(),
                namespaces,
                sock,
                platform,
                a.preserve_fds,
            );
            let msg = e.to_string();
            let _ = sync::send(sock, &InitMsg::Error { msg }, None);
            std::process::exit(255);
        }
        ForkResult::Parent { child } => child,
    };
    drop(child_sock);
    drop(namespaces);
    // Back to our own pid namespace for children: the kernel refuses to
    // create threads (signal forwarding) while it differs.
    nix::sched::setns(&own_pidns, CloneFlags::CLONE_NEWPID)
        .map_err(Error::sys("return to our pid namespace"))?;
    let console = match supervise_start(&dir, a, &sub_cgroups, parent_sock.as_raw_fd(), child) {
        Ok(c) => c,
        Err(e) => {
            let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(child, None);
            return Err(e);
        }
    };
    crate::log::debug(&format!("exec: container {}, process pid {child}", a.id));
    if a.detach {
        return Ok(0);
    }
    match console {
        Some(master) => {
            let proxy = super::tty::Proxy::start(master)?;
            let code =
                super::procs::forward_signals_and_wait_with(child, Some(Box::new(proxy.resizer())));
            // Restores the caller's terminal after the last output.
            drop(proxy);
            Ok(code)
        }
        None => Ok(super::procs::forward_signals_and_wait(child)),
    }
}

/// Relays the child's pty and listener, then lets it exec.
/// Returns the pty master when there is a terminal but no console socket
/// (`exec -t` in the foreground serves it on its own stdio).
fn supervise_start(
    dir: &StateDir,
    a: &ExecArgs,
    sub_cgroups: &super::cgroups::SubCgroups,
    sock: RawFd,
    child: Pid,
) -> Result<Option<OwnedFd>> {
    let mut console = None;
    loop {
        let (msg, fd) = sync::recv(sock).map_err(|e| Error::Init(format!("exec: {e}")))?;
        match msg {
            InitMsg::Pty { name } => {
                let master = fd.ok_or_else(|| Error::Init("pty message without fd".into()))?;
                match &a.console_socket {
                    Some(s) => send_console(s, &master, &name)?,
                    None => console = Some(master),
                }
            }
            InitMsg::Listener | InitMsg::Tracee => {
                // The exec'd process counts against the container's limits.
                let st = dir.load(&a.id)?;
                if let Some(c) = st.cgroup.as_deref() {
                    super::cgroups::Cgroup::at(c).join_sub(child.as_raw(), sub_cgroups)?;
                }
                let fd = fd.ok_or_else(|| Error::Init(format!("{msg:?} message without fd")))?;
                // ptrace: the sentry attaches to the child, which waits for
                // Continue before it installs its filter.
                let to_sentry = match msg {
                    InitMsg::Tracee => InitMsg::Attach {
                        pid: child.as_raw(),
                    },
                    _ => InitMsg::Listener,
                };
                hand_to_sentry(&dir.path, &to_sentry, &fd)?;
                if let Some(p) = &a.pid_file {
                    write_pid_file(p, child.as_raw())?;
                }
                sync::send(sock, &InitMsg::Continue, None)
                    .map_err(|e| Error::Init(e.to_string()))?;
                return Ok(console);
            }
            InitMsg::Error { msg } => return Err(Error::Init(msg)),
            other => return Err(Error::Init(format!("unexpected message {other:?}"))),
        }
    }
}

/// Tells the sentry who the new process is, gives it the process's
/// listener (or the process to trace) and waits for its "ok".
fn hand_to_sentry(state_dir: &Path, msg: &InitMsg, fd: &OwnedFd) -> Result<()> {
    use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType};
    let err = |source: nix::Error| Error::SentryControl {
        dir: state_dir.to_path_buf(),
        source,
    };
    let s = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(err)?;
    let (_dir, addr) = control_socket_addr(state_dir).map_err(err)?;
    connect(s.as_raw_fd(), &addr).map_err(err)?;
    sync::send(s.as_raw_fd(), msg, Some(fd.as_raw_fd())).map_err(Error::SentrySync)?;
    match sync::recv(s.as_raw_fd()) {
        Ok((InitMsg::Ready, _)) => Ok(()),
        Ok((InitMsg::Error { msg }, _)) => Err(Error::SentryRefused(msg)),
        Ok(_) | Err(_) => Err(Error::SentrySilent),
    }
}

/// In the forked child (already in the container's pid namespace): join
/// the other namespaces, become the process, install the filter, hand the
/// listener over, wait for the go-ahead, exec.
fn child_main(
    p: &ProcessConfig,
    profile: Option<&super::seccomp_profile::Compiled>,
    namespaces: Vec<(OwnedFd, CloneFlags)>,
    sock: RawFd,
    platform: super::cli::PlatformKind,
    preserve_fds: u32,
) -> std::result::Result<Infallible, InitError> {
    // Not dumpable until it is under the filter (`init::become_process`
    // makes it dumpable again, so that the sentry, which holds no
    // CAP_SYS_PTRACE on the seccomp platform, can read its memory): the
    // workload may
    // ptrace (its own user namespace's processes, Linux's rules), and
    // once we are in that namespace, holding its every capability and
    // not under the filter yet, a workload tracer with CAP_SYS_PTRACE (or
    // every capability) there would pass the uid and capability checks;
    // a non-dumpable process needs CAP_SYS_PTRACE over the namespace of
    // its mm, the host's. (runc's CVE-2016-9962 fix, the same.)
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(InitError::MakeNonDumpable(std::io::Error::last_os_error()));
    }
    for (fd, flag) in &namespaces {
        nix::sched::setns(fd, *flag).map_err(InitError::JoinNamespaces)?;
    }
    drop(namespaces);
    let console = if p.terminal {
        Some(init::open_console(Path::new("/"), sock)?.0)
    } else {
        None
    };
    let hand_over = init::HandOver::prepare(platform)?;
    init::set_rlimits(p)?;
    if let Some(slave) = console {
        init::become_console(slave)?;
    }
    nix::unistd::chdir(p.cwd.as_str()).map_err(InitError::Chdir)?;
    let argv = init::cstrings(&p.args, "process.args")?;
    let envp = init::cstrings(&p.env, "process.env")?;
    let program = init::lookup(&p.args[0], &p.env)?;
    let program =
        init::cstrings(&[program.to_string_lossy().into_owned()], "process.args")?.remove(0);
    if let Some(mask) = p.umask {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
    }
    let seccomp = matches!(hand_over, init::HandOver::Seccomp);
    hand_over.run(sock)?;
    if seccomp {
        match sync::recv(sock) {
            Ok((InitMsg::Continue, _)) => {}
            _ => std::process::exit(255),
        }
    }
    // As init: the profile before the user change unless no_new_privs.
    if let Some(prof) = profile.filter(|_| !p.no_new_privs) {
        init::install_profile(prof);
    }
    init::become_process(p)?;
    let first = 3 + preserve_fds;
    // SAFETY: fds above stderr belong to runrs (the sync socket, the log):
    // none may reach the workload, but the caller's --preserve-fds at
    // 3..3+N (runrs opened its own above them). The ptrace platform's
    // reserved fd stays (its filter refuses a close_range that covers it).
    unsafe {
        if seccomp {
            libc::syscall(libc::SYS_close_range, first, u32::MAX, 0);
        } else {
            let reserved = crate::sentry::platform::ptrace::RESERVED_FD as u32;
            libc::syscall(libc::SYS_close_range, first, reserved - 1, 0);
            libc::syscall(libc::SYS_close_range, reserved + 1, u32::MAX, 0);
        }
    }
    if let Some(prof) = profile.filter(|_| p.no_new_privs) {
        init::install_profile(prof);
    }
    let e = nix::unistd::execve(&program, &argv, &envp).unwrap_err();
    eprintln!(
        "runrs: exec {}: {}",
        p.args[0],
        init::io_text(&std::io::Error::from_raw_os_error(e as i32))
    );
    std::process::exit(127);
}
