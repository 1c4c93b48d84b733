//! The container lifecycle: create, start, state, kill, delete, run, list.
//!
//! `create` clones the container's init into new namespaces, lets it build
//! the mount table and install the workload filter, then spawns the gofer
//! (which joins init's mount namespace) and the sentry (which receives the
//! filter's listener). init stays blocked on `exec.fifo` until `start`.

use std::ffi::CString;
use std::fs;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use super::cli::{CreateArgs, GlobalOpts, PlatformKind};
use super::error::{Error, Result};
use super::spec::{self, ContainerConfig};
use super::state::{self, ProcId, State, StateDir, Status};
use super::{hooks, procs};
use crate::sandbox::sync::{self, InitMsg};
use crate::sandbox::{SandboxInfo, FIRST_ROLE_FD};

/// Number of gofer channels, one per sentry worker thread.
pub const GOFER_CHANNELS: usize = 4;
/// The children a successful create leaves; `run` waits for them.
pub struct Created {
    pub state: State,
    pub dir: StateDir,
    /// The pty master of a terminal container made by `run` without
    /// --console-socket: `run` serves it on its own stdio (`super::tty`).
    pub console: Option<OwnedFd>,
}

/// What a create in progress has made, saved in the state dir as it goes:
/// a create killed before `state.json` exists cannot run its guard, and
/// `delete --force` undoes the rest from this file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Partial {
    cgroup: Option<String>,
    pids: Vec<ProcId>,
}

const PARTIAL_FILE: &str = "partial.json";

impl Partial {
    fn save(&self, dir: &StateDir) -> Result<()> {
        let path = dir.file(PARTIAL_FILE);
        let tmp = dir.file("partial.json.tmp");
        let data = serde_json::to_vec(self).map_err(Error::Encode)?;
        fs::write(&tmp, data).map_err(Error::io("write", &tmp))?;
        fs::rename(&tmp, &path).map_err(Error::io("rename", &path))
    }

    /// Kills what a killed create left (processes still ours by start
    /// time, the cgroup's tasks) and removes its cgroup.
    fn undo(dir: &StateDir) {
        let Ok(data) = fs::read(dir.file(PARTIAL_FILE)) else {
            return;
        };
        let Ok(p) = serde_json::from_slice::<Partial>(&data) else {
            return;
        };
        let cgroup = p.cgroup.as_deref().map(super::cgroups::Cgroup::at);
        if let Some(c) = &cgroup {
            if c.is_frozen() {
                let _ = c.freeze(false);
            }
            for pid in c.pids() {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        for id in &p.pids {
            if id.alive() {
                let _ = nix::sys::signal::kill(Pid::from_raw(id.pid), Signal::SIGKILL);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while p.pids.iter().any(ProcId::alive) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(c) = cgroup {
            c.destroy();
        }
    }
}

/// Removes a half-made container (processes, state dir) unless disarmed.
struct CreateGuard {
    dir: PathBuf,
    pids: Vec<Pid>,
    cgroup: Option<super::cgroups::Cgroup>,
    partial: Partial,
    /// The sandbox's owner uid, given back if create fails.
    owner: Option<u32>,
    armed: bool,
}

impl CreateGuard {
    /// Records `pid` for both the guard and a later `delete --force`.
    fn track(&mut self, dir: &StateDir, pid: Pid) -> Result<()> {
        self.pids.push(pid);
        self.partial.pids.extend(ProcId::of(pid.as_raw()));
        self.partial.save(dir)
    }
}

impl Drop for CreateGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        for p in &self.pids {
            let _ = nix::sys::signal::kill(*p, Signal::SIGKILL);
        }
        for p in &self.pids {
            let _ = nix::sys::wait::waitpid(*p, None);
        }
        if let Some(c) = &self.cgroup {
            c.destroy();
        }
        let _ = fs::remove_dir_all(&self.dir);
        if let Some(uid) = self.owner {
            crate::sandbox::owner::Registry::host().free(uid, &self.dir);
        }
    }
}

fn self_exe() -> Result<PathBuf> {
    std::env::current_exe().map_err(Error::io("current executable", "/proc/self/exe"))
}

/// The global flags a role needs to log like its parent.
fn role_args(g: &GlobalOpts) -> Vec<String> {
    let mut a = vec![
        "--root".to_string(),
        g.root.display().to_string(),
        "--log-format".to_string(),
        match g.log_format {
            crate::log::Format::Json => "json".into(),
            crate::log::Format::Text => "text".into(),
        },
    ];
    if let Some(l) = &g.log {
        a.push("--log".into());
        a.push(l.display().to_string());
    }
    if g.debug {
        a.push("--debug".into());
    }
    if g.platform == PlatformKind::Ptrace {
        a.push("--platform=ptrace".into());
    }
    a
}

fn clone_flag(typ: &str) -> nix::sched::CloneFlags {
    use nix::sched::CloneFlags as F;
    match typ {
        "mount" => F::CLONE_NEWNS,
        "network" => F::CLONE_NEWNET,
        "uts" => F::CLONE_NEWUTS,
        "pid" => F::CLONE_NEWPID,
        "ipc" => F::CLONE_NEWIPC,
        "cgroup" => F::CLONE_NEWCGROUP,
        _ => F::empty(),
    }
}

/// Clones init into the spec's new namespaces, joining the ones given by
/// path, and execs `runrs init` with the sync socket at fd 3.
/// A hook reads the container's namespaces through init's pid: when one
/// fails, say whether init was still there (a hook that found no
/// /proc/<pid>/ns/net otherwise looks like the hook's own fault).
fn with_init_status(err: Error, init: Pid) -> Error {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    match (err, waitpid(init, Some(WaitPidFlag::WNOHANG))) {
        (Error::Hook { path, msg }, Ok(status)) if status != WaitStatus::StillAlive => {
            Error::Hook {
                path,
                msg: format!("{msg} (container init {init} had already ended: {status:?})"),
            }
        }
        (err, _) => err,
    }
}

fn spawn_init(
    g: &GlobalOpts,
    cfg: &ContainerConfig,
    dir: &StateDir,
    sync_child: &OwnedFd,
    own_net: Option<&OwnedFd>,
    preserve_fds: u32,
) -> Result<Pid> {
    let nul = |what| move |_| Error::Nul { what };
    let exe = CString::new(self_exe()?.as_os_str().as_encoded_bytes())
        .map_err(nul("the runrs binary's path"))?;
    let mut argv: Vec<CString> = vec![CString::new("runrs").map_err(nul("argv[0]"))?];
    for a in role_args(g).into_iter().chain([
        "init".to_string(),
        "--state-dir".into(),
        dir.path.display().to_string(),
        "--preserve-fds".into(),
        preserve_fds.to_string(),
    ]) {
        argv.push(CString::new(a).map_err(nul("an argument of runrs init"))?);
    }
    let env: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            CString::new(kv).ok()
        })
        .collect();
    let mut flags = nix::sched::CloneFlags::empty();
    let mut joins: Vec<(OwnedFd, nix::sched::CloneFlags)> = Vec::new();
    let mut pid_ns: Option<fs::File> = None;
    for ns in &cfg.namespaces {
        match &ns.path {
            // The new network namespace is made with the user namespace
            // (`userns::make`), which owns it: init joins it.
            None if ns.typ == "network" => {
                let net = own_net.ok_or_else(|| Error::Init("no network namespace made".into()))?;
                let net = net
                    .try_clone()
                    .map_err(Error::io("dup", "network namespace"))?;
                joins.push((net, nix::sched::CloneFlags::CLONE_NEWNET));
            }
            None => flags |= clone_flag(&ns.typ),
            Some(p) => {
                let f = fs::File::open(p).map_err(|e| Error::Spec {
                    field: "linux.namespaces",
                    msg: format!("{}: {e}", p.display()),
                })?;
                if ns.typ == "pid" {
                    pid_ns = Some(f);
                } else {
                    joins.push((f.into(), clone_flag(&ns.typ)));
                }
            }
        }
    }
    let sync_fd = sync_child.as_raw_fd();
    let mut stack = vec![0u8; 256 * 1024];
    let child = move || -> isize {
        // Only async-signal-safe work here: we are a copy of a process that
        // may hold locks. Any failure exits; create sees the channel close.
        for (fd, flag) in &joins {
            if nix::sched::setns(fd, *flag).is_err() {
                return 120;
            }
        }
        // --preserve-fds: the caller's fds 3..3+N move up one, to 4..,
        // highest first, after the sync socket is copied out of their way
        // (init puts them back at 3.. for the program).
        let n = preserve_fds as RawFd;
        let mut sync_fd = sync_fd;
        if n > 0 {
            // SAFETY: fcntl/dup2 on numbers of our own fd table.
            unsafe {
                sync_fd = libc::fcntl(sync_fd, libc::F_DUPFD_CLOEXEC, FIRST_ROLE_FD + n + 1);
                if sync_fd < 0 {
                    return 121;
                }
                for fd in (FIRST_ROLE_FD..FIRST_ROLE_FD + n).rev() {
                    if libc::dup2(fd, fd + 1) < 0 {
                        return 121;
                    }
                }
            }
        }
        // SAFETY: dup2 on fds we own; fd 3 becomes the sync socket (clearing
        // CLOEXEC, as dup2 does), replacing whatever the caller leaked there.
        if unsafe { libc::dup2(sync_fd, FIRST_ROLE_FD) } < 0 {
            return 121;
        }
        // SAFETY: closes every inherited fd above the sync socket and the
        // preserved ones; none is needed by init and a leaked one would
        // reach the workload.
        unsafe { libc::syscall(libc::SYS_close_range, FIRST_ROLE_FD + 1 + n, u32::MAX, 0) };
        let _ = nix::unistd::execve(&exe, &argv, &env);
        122
    };
    // A pid namespace given by path (a pod's, with shareProcessNamespace)
    // is joined here: setns(CLONE_NEWPID) moves only the caller's future
    // children, so this thread enters it for the clone and leaves after.
    let own_pid_ns = match &pid_ns {
        Some(ns) => {
            let own = fs::File::open("/proc/thread-self/ns/pid")
                .map_err(Error::io("open namespace", "/proc/thread-self/ns/pid"))?;
            nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWPID)
                .map_err(Error::sys("join the spec's pid namespace"))?;
            Some(own)
        }
        None => None,
    };
    // SAFETY: the child runs only the closure above, on its own stack, and
    // then execs; create is single-threaded at this point.
    let pid = unsafe { nix::sched::clone(Box::new(child), &mut stack, flags, Some(libc::SIGCHLD)) }
        .map_err(Error::sys("clone init into new namespaces"));
    if let Some(own) = own_pid_ns {
        nix::sched::setns(&own, nix::sched::CloneFlags::CLONE_NEWPID)
            .map_err(Error::sys("return to our pid namespace"))?;
    }
    pid
}

/// Spawns a role (`boot` or `gofer`) with `fds` at 3, 4, ... and every
/// other inherited fd closed. Its stdio is /dev/null unless `stderr_inherit`.
fn spawn_role(
    g: &GlobalOpts,
    role: &str,
    dir: &StateDir,
    fds: Vec<OwnedFd>,
    stderr_inherit: bool,
) -> Result<std::process::Child> {
    let mut cmd = Command::new(self_exe()?);
    cmd.args(role_args(g))
        .arg(role)
        .arg("--state-dir")
        .arg(&dir.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(if stderr_inherit {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
    // SAFETY: the closure runs between fork and exec and only calls dup/dup2/
    // close_range/setsid, which are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            // Move the fds above the target range first so that dup2 never
            // overwrites one we still need.
            let mut moved = Vec::with_capacity(raw.len());
            for &f in &raw {
                let m = libc::fcntl(f, libc::F_DUPFD_CLOEXEC, 1000);
                if m < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                moved.push(m);
            }
            for (i, &m) in moved.iter().enumerate() {
                if libc::dup2(m, FIRST_ROLE_FD + i as RawFd) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            libc::syscall(
                libc::SYS_close_range,
                FIRST_ROLE_FD + raw.len() as RawFd,
                u32::MAX,
                0,
            );
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(Error::io("spawn", format!("runrs {role}")))?;
    drop(fds);
    Ok(child)
}

/// Waits until the sentry serves its control socket: a sandbox whose
/// sentry failed to start must fail `create`, not its first syscall.
fn wait_for_sentry(dir: &StateDir, sentry: &mut std::process::Child) -> Result<()> {
    let sock = dir.file(crate::sentry::boot::CONTROL_SOCKET);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if sock.exists() {
            return Ok(());
        }
        if let Ok(Some(status)) = sentry.try_wait() {
            return Err(Error::Init(format!(
                "the sentry exited during start ({status}); see the log for its error"
            )));
        }
        if Instant::now() > deadline {
            return Err(Error::Init("the sentry did not start within 10 s".into()));
        }
        // The sentry binds it a few milliseconds after its exec; a short
        // nap keeps create from overshooting by much.
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Sends the pty master to the console socket, as runc does: one message,
/// the pty's name as data, one SCM_RIGHTS fd.
pub fn send_console(socket: &Path, master: &OwnedFd, name: &str) -> Result<()> {
    use std::os::unix::net::UnixStream;
    let stream = UnixStream::connect(socket).map_err(|source| Error::ConsoleSocket {
        path: socket.to_path_buf(),
        source,
    })?;
    let iov = [std::io::IoSlice::new(name.as_bytes())];
    let fds = [master.as_raw_fd()];
    nix::sys::socket::sendmsg::<()>(
        stream.as_raw_fd(),
        &iov,
        &[nix::sys::socket::ControlMessage::ScmRights(&fds)],
        nix::sys::socket::MsgFlags::empty(),
        None,
    )
    .map_err(|e| Error::ConsoleSocket {
        path: socket.to_path_buf(),
        source: e.into(),
    })?;
    Ok(())
}

pub fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    // No newline: the shim parses the raw contents with Atoi.
    let tmp = path.with_extension("runrs-tmp");
    fs::write(&tmp, pid.to_string()).map_err(Error::io("write pid file", &tmp))?;
    fs::rename(&tmp, path).map_err(Error::io("write pid file", path))
}

/// Starts the gofer and the sentry (`first` is the sentry's fd 3: the
/// listener, or the fd-passing socket on ptrace) and waits until the
/// sentry serves its control socket.
fn spawn_support(
    g: &GlobalOpts,
    dir: &StateDir,
    first: OwnedFd,
    interactive: bool,
    guard: &mut CreateGuard,
    lanes: bool,
) -> Result<(std::process::Child, std::process::Child)> {
    let mut gofer_ends = Vec::new();
    let mut sentry_fds = vec![first];
    for _ in 0..GOFER_CHANNELS {
        let (s, gf) = sync::seqpacket_pair().map_err(Error::sys("socketpair"))?;
        sentry_fds.push(s);
        gofer_ends.push(gf);
    }
    if lanes {
        let (s, gf) =
            crate::gofer::lane::create(GOFER_CHANNELS).map_err(Error::sys("gofer lanes"))?;
        sentry_fds.push(s);
        gofer_ends.push(gf);
    }
    let gofer = spawn_role(g, "gofer", dir, gofer_ends, interactive)?;
    guard.track(dir, Pid::from_raw(gofer.id() as i32))?;
    let mut sentry = spawn_role(g, "boot", dir, sentry_fds, interactive)?;
    guard.track(dir, Pid::from_raw(sentry.id() as i32))?;
    wait_for_sentry(dir, &mut sentry)?;
    Ok((gofer, sentry))
}

/// Creates the container. With `interactive` (runc run in the foreground)
/// the sentry's stderr stays the caller's so `--strace` output is visible.
pub fn create(g: &GlobalOpts, args: &CreateArgs, interactive: bool) -> Result<Created> {
    state::validate_id(&args.id)?;
    crate::sandbox::sys::check_preserved_fds(args.preserve_fds).map_err(|msg| Error::Usage {
        flag: "--preserve-fds",
        msg,
    })?;
    let bundle = args.bundle.canonicalize().map_err(|source| Error::Bundle {
        path: args.bundle.clone(),
        source,
    })?;
    let mut cfg = spec::load(&bundle, &args.id)?;
    crate::log::debug(&format!(
        "create: container {}, bundle {}, rootfs {}, platform {:?}",
        args.id,
        bundle.display(),
        cfg.rootfs.display(),
        g.platform
    ));
    if cfg.process.terminal && args.console_socket.is_none() && !interactive {
        return Err(Error::Spec {
            field: "process.terminal",
            msg: "a terminal needs --console-socket".into(),
        });
    }
    // A terminal without --console-socket (runc run in the foreground):
    // `run` keeps the pty master and serves it on its own stdio.
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o711)
        .create(&g.root)
        .map_err(|source| Error::StateDir {
            path: g.root.clone(),
            source,
        })?;
    let dir = StateDir::new(&g.root, &args.id);
    match fs::DirBuilder::new().mode(0o711).create(&dir.path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Exists(args.id.clone()))
        }
        Err(source) => {
            return Err(Error::StateDir {
                path: dir.path.clone(),
                source,
            })
        }
    }
    let mut guard = CreateGuard {
        dir: dir.path.clone(),
        pids: vec![],
        cgroup: None,
        partial: Partial::default(),
        owner: None,
        armed: true,
    };
    let _lock = dir.lock()?;
    let cgroup_rel =
        super::cgroups::relative_path(cfg.cgroups_path.as_deref(), &args.id, g.systemd_cgroup)?;
    // Init reads its cgroup from the saved spec (its own /proc/self/cgroup
    // is relative to the cgroup namespace it was cloned into).
    cfg.cgroups_path = Some(cgroup_rel.clone());
    let spec_path = dir.file(state::SPEC_FILE);
    fs::write(&spec_path, serde_json::to_vec(&cfg).map_err(Error::Encode)?)
        .map_err(Error::io("write", &spec_path))?;
    nix::unistd::mkfifo(
        &dir.file(state::EXEC_FIFO),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .map_err(Error::sys("mkfifo exec.fifo"))?;

    // As runc's factory: a cgroup someone else left frozen would freeze
    // init as it joins, and create would wait forever; one with processes
    // is allowed, with runc's warning.
    let existing = super::cgroups::Cgroup::at(&cgroup_rel);
    if existing.is_frozen() {
        return Err(Error::Spec {
            field: "linux.cgroupsPath",
            msg: format!("container's cgroup unexpectedly frozen ({cgroup_rel})"),
        });
    }
    let pids = existing.pids();
    if !pids.is_empty() {
        crate::log::warn(&format!(
            "container's cgroup is not empty: {} process(es) found",
            pids.len()
        ));
    }
    let (sync_parent, sync_child) = sync::seqpacket_pair().map_err(Error::sys("socketpair"))?;
    let mut console = None;
    // Saved before the cgroup exists, so no moment leaves it unrecorded.
    guard.partial.cgroup = Some(cgroup_rel.clone());
    guard.partial.save(&dir)?;
    // The sandbox's own host uid (sandbox::owner): it owns the user
    // namespace, and the sentry runs as it.
    // Joining another sandbox's pid namespace (a pod's shared one) shares
    // its owner uid, so each sees the other's processes as under runc.
    let shared_pid_ns = cfg
        .namespaces
        .iter()
        .find(|n| n.typ == "pid")
        .and_then(|n| n.path.as_deref())
        .and_then(|p| crate::sandbox::owner::of_pid_namespace(std::path::Path::new(p)));
    let owner = match shared_pid_ns {
        Some(uid) => uid,
        None => crate::sandbox::owner::Registry::host()
            .allocate(&dir.path)
            .map_err(|e| {
                Error::Init(format!(
                    "take a sandbox owner uid ({}): {e}",
                    crate::sandbox::owner::REGISTRY
                ))
            })?,
    };
    guard.owner = Some(owner);
    crate::log::debug(&format!("create: sandbox owner uid {owner}"));
    let namespaces = super::userns::make(
        &cfg.uid_map,
        &cfg.gid_map,
        cfg.has_new_namespace("network"),
        owner,
    )
    .map_err(|e| Error::Init(format!("make the container's user namespace: {e}")))?;
    let init = spawn_init(
        g,
        &cfg,
        &dir,
        &sync_child,
        namespaces.net.as_ref(),
        args.preserve_fds,
    )?;
    crate::log::debug(&format!("create: init pid {init}, cgroup {cgroup_rel}"));
    guard.track(&dir, init)?;
    drop(sync_child);
    // Into its cgroup before it runs anything of the user's, once the
    // cgroup's rules are all written: the device rules start with a
    // deny-all, and init may be opening /dev/pts/ptmx for the console
    // meanwhile.
    let cgroup = super::cgroups::Cgroup::at(&cgroup_rel);
    cgroup.create()?;
    guard.cgroup = Some(super::cgroups::Cgroup::at(&cgroup_rel));
    cgroup.apply(&cfg.resources)?;
    // The devices cgroup (v1), or nodev on every mount but /dev's
    // (`rootfs::pivot`), keeps the workload's own opens to the
    // sandbox's device set.
    let devices_confined = cgroup.restrict_devices()? || cfg.dev_is_tmpfs();
    cgroup.join(init.as_raw())?;

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let poll_channels = crate::sandbox::config::Cpu::allows_polling(
        cfg.resources.cpu.as_ref(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    let info = SandboxInfo {
        init_pid: init.as_raw(),
        gofer_channels: GOFER_CHANNELS,
        platform: g.platform,
        file_access: g.file_access,
        strace: g.strace,
        debug: g.debug,
        log: g.log.clone(),
        log_json: g.log_format == crate::log::Format::Json,
        start_time: (now.as_secs(), now.subsec_nanos()),
        gofer_subtrees: crate::sentry::vfs::mounts_inside_synthetic(
            cfg.mounts
                .iter()
                .map(|m| (m.typ.as_str(), m.destination.as_str())),
        ),
        owner_uid: Some(owner),
        poll_channels,
        // The lanes serve only polling ends (gofer::lane).
        gofer_lanes: poll_channels,
        devices_confined,
    };
    super::observe::save_config(g, &dir)?;
    let info_path = dir.file(state::SANDBOX_FILE);
    fs::write(
        &info_path,
        serde_json::to_vec(&info).map_err(Error::Encode)?,
    )
    .map_err(Error::io("write", &info_path))?;

    // The gofer and the sentry start once init hands over its listener
    // (seccomp) or is ready to be traced (ptrace: the sentry must attach
    // before init installs its filter, so init waits for Continue).
    let mut support: Option<(std::process::Child, std::process::Child)> = None;
    loop {
        let (msg, fd) = match sync::recv(sync_parent.as_raw_fd()) {
            Ok(m) => m,
            Err(sync::SyncError::Closed) => {
                let status = nix::sys::wait::waitpid(init, None);
                return Err(Error::Init(format!(
                    "container init exited before it was ready ({status:?})"
                )));
            }
            Err(e) => return Err(Error::Init(e.to_string())),
        };
        match msg {
            InitMsg::NeedHooks => {
                let st = hooks::HookState {
                    id: &args.id,
                    status: "creating",
                    pid: init.as_raw(),
                    bundle: &bundle,
                    annotations: &cfg.annotations,
                };
                hooks::run_all(&cfg.hooks.prestart, &st)
                    .and_then(|()| hooks::run_all(&cfg.hooks.create_runtime, &st))
                    .and_then(|()| {
                        hooks::run_all_in_namespaces_of(
                            &cfg.hooks.create_container,
                            &st,
                            init.as_raw(),
                        )
                    })
                    .map_err(|e| with_init_status(e, init))?;
                sync::send(sync_parent.as_raw_fd(), &InitMsg::Continue, None)
                    .map_err(|e| Error::Init(e.to_string()))?;
            }
            InitMsg::Pty { name } => {
                let master = fd.ok_or_else(|| Error::Init("pty message without fd".into()))?;
                match &args.console_socket {
                    Some(sock) => send_console(sock, &master, &name)?,
                    None => console = Some(master),
                }
            }
            InitMsg::Listener | InitMsg::Tracee if support.is_none() => {
                let first = fd.ok_or_else(|| Error::Init(format!("{msg:?} message without fd")))?;
                let (gofer, sentry) =
                    spawn_support(g, &dir, first, interactive, &mut guard, info.gofer_lanes)?;
                for p in [&gofer, &sentry] {
                    cgroup.join_scheduling(p.id() as i32)?;
                }
                crate::log::debug(&format!(
                    "create: sentry pid {}, gofer pid {}",
                    sentry.id(),
                    gofer.id()
                ));
                support = Some((gofer, sentry));
                if msg == InitMsg::Tracee {
                    sync::send(sync_parent.as_raw_fd(), &InitMsg::Continue, None)
                        .map_err(|e| Error::Init(e.to_string()))?;
                }
            }
            InitMsg::UserNamespace => {
                sync::send(
                    sync_parent.as_raw_fd(),
                    &InitMsg::Continue,
                    Some(namespaces.user.as_raw_fd()),
                )
                .map_err(|e| Error::Init(e.to_string()))?;
            }
            InitMsg::Ready => break,
            InitMsg::Error { msg } => {
                let _ = nix::sys::wait::waitpid(init, None);
                return Err(Error::Init(msg));
            }
            InitMsg::Continue | InitMsg::Listener | InitMsg::Tracee | InitMsg::Attach { .. } => {
                return Err(Error::Init(format!(
                    "unexpected message from init: {msg:?}"
                )))
            }
        }
    }
    let (gofer, sentry) = support.ok_or_else(|| {
        Error::Init("init sent neither a seccomp listener nor its tracing socket".into())
    })?;

    let init_id =
        ProcId::of(init.as_raw()).ok_or_else(|| Error::Init("container init vanished".into()))?;
    let state = State {
        id: args.id.clone(),
        init: init_id,
        bundle: bundle.clone(),
        rootfs: cfg.rootfs.clone(),
        created: crate::log::rfc3339_now(),
        sentry: ProcId::of(sentry.id() as i32),
        gofer: ProcId::of(gofer.id() as i32),
        annotations: cfg.annotations.clone(),
        init_pidns_inode: procs::pidns_inode(init.as_raw()).unwrap_or(0),
        joined_pidns: cfg
            .namespaces
            .iter()
            .any(|n| n.typ == "pid" && n.path.is_some()),
        init_userns_inode: procs::userns_inode(init.as_raw()).unwrap_or(0),
        cgroup: Some(cgroup_rel),
    };
    dir.save(&state)?;
    // state.json names everything now; delete reads that.
    let _ = fs::remove_file(dir.file(PARTIAL_FILE));
    if let Some(p) = &args.pid_file {
        write_pid_file(p, init.as_raw())?;
    }
    guard.armed = false;
    super::observe::record(
        &dir,
        &args.id,
        "create",
        serde_json::json!({"pid": init.as_raw()}),
    );
    crate::log::debug(&format!("create: container {} created", args.id));
    Ok(Created {
        state,
        dir,
        console,
    })
}

pub fn start(g: &GlobalOpts, id: &str) -> Result<()> {
    let dir = StateDir::new(&g.root, id);
    let st = dir.load(id)?;
    let _lock = dir.lock()?;
    match dir.status(&st) {
        Status::Stopped => return Err(Error::StartStopped),
        Status::Running | Status::Paused => return Err(Error::StartRunning),
        Status::Created => {}
    }
    crate::log::debug(&format!("start: container {id}, init pid {}", st.init.pid));
    let fifo = dir.file(state::EXEC_FIFO);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ENXIO) {
                Error::NotRunning(id.to_string())
            } else {
                Error::io("open", &fifo)(e)
            }
        })?;
    f.write_all(b"0").map_err(Error::io("write", &fifo))?;
    drop(f);
    fs::remove_file(&fifo).map_err(Error::io("remove", &fifo))?;
    super::observe::record(&dir, id, "start", serde_json::json!({"pid": st.init.pid}));
    let cfg = load_config(&dir)?;
    let hs = hooks::HookState {
        id,
        status: "running",
        pid: st.init.pid,
        bundle: &st.bundle,
        annotations: &st.annotations,
    };
    if let Err(e) = hooks::run_all(&cfg.hooks.poststart, &hs) {
        crate::log::warn(&format!("poststart hook: {e}"));
    }
    Ok(())
}

pub fn load_config(dir: &StateDir) -> Result<ContainerConfig> {
    let p = dir.file(state::SPEC_FILE);
    let data = fs::read(&p).map_err(Error::io("read", &p))?;
    serde_json::from_slice(&data).map_err(|source| Error::Decode { path: p, source })
}

pub fn state_json(g: &GlobalOpts, id: &str) -> Result<String> {
    let dir = StateDir::new(&g.root, id);
    let st = dir.load(id)?;
    let status = dir.status(&st);
    serde_json::to_string_pretty(&state::oci_state(&st, status)).map_err(Error::Encode)
}

/// A signal by name (`TERM`, `SIGTERM`, any case) or number; `None` is
/// signal 0, which only checks that the process exists (as runc's
/// `kill ID 0`).
pub fn parse_signal(s: &str) -> Result<Option<Signal>> {
    if let Ok(n) = s.parse::<i32>() {
        if n == 0 {
            return Ok(None);
        }
        return Signal::try_from(n)
            .map(Some)
            .map_err(|_| Error::Signal(s.to_string()));
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    name.parse::<Signal>()
        .map(Some)
        .map_err(|_| Error::Signal(s.to_string()))
}

pub fn kill(g: &GlobalOpts, id: &str, signal: &str, all: bool) -> Result<()> {
    let sig = parse_signal(signal)?;
    crate::log::debug(&format!("kill: container {id}, signal {sig:?}, all {all}"));
    let dir = StateDir::new(&g.root, id);
    let st = dir.load(id)?;
    let status = dir.status(&st);
    if status == Status::Stopped {
        return Err(Error::NotRunning(id.to_string()));
    }
    super::observe::record(
        &dir,
        id,
        "kill",
        serde_json::json!({"signal": signal, "all": all}),
    );
    if all {
        for pid in procs::container_pids(&st) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), sig);
        }
        Ok(())
    } else {
        nix::sys::signal::kill(Pid::from_raw(st.init.pid), sig).map_err(|e| {
            if e == nix::Error::ESRCH {
                Error::NotRunning(id.to_string())
            } else {
                Error::Sys {
                    step: "kill",
                    source: e,
                }
            }
        })?;
        // A SIGKILLed init is gone a moment later, but not when kill(2)
        // returns: a `delete` right after `kill c SIGKILL` found it still
        // running on a busy machine. Wait for that moment (bounded; a
        // frozen container's init dies only once thawed).
        if sig == Some(Signal::SIGKILL) && status != Status::Paused {
            let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
            while st.init.alive() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        Ok(())
    }
}

/// Kills every process of the sandbox and waits (bounded) until they are gone.
fn destroy(st: &State) {
    let cgroup = st.cgroup.as_deref().map(super::cgroups::Cgroup::at);
    // Frozen tasks do not die until thawed.
    // As runc: with a pid namespace of its own, the container's processes
    // are the ones in it; a process that was in the cgroup before the
    // container (a shared cgroupsPath) is left alone. Without one, every
    // process of the cgroup goes.
    let own_ns = procs::pidns_inode(std::process::id() as i32);
    let private_pidns = st.init_pidns_inode != 0 && Some(st.init_pidns_inode) != own_ns;
    let mut spared = false;
    if let Some(c) = &cgroup {
        if c.is_frozen() {
            let _ = c.freeze(false);
        }
        for pid in c.pids() {
            if private_pidns
                && (procs::pidns_inode(pid) != Some(st.init_pidns_inode) || !procs::is_own(st, pid))
            {
                spared = true;
                continue;
            }
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    for pid in procs::container_pids(st) {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let support: Vec<ProcId> = [st.sentry, st.gofer].into_iter().flatten().collect();
    for p in &support {
        if p.alive() {
            let _ = nix::sys::signal::kill(Pid::from_raw(p.pid), Signal::SIGKILL);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let busy = st.init.alive() || support.iter().any(|p| p.alive());
        if !busy {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    match cgroup {
        // Its other processes keep it (runc too fails to remove it).
        Some(c) if spared && !c.remove_if_empty() => {
            crate::log::warn(&format!(
                "cgroup {} kept: it holds processes from outside the container",
                st.cgroup.as_deref().unwrap_or_default()
            ));
        }
        Some(c) if !spared => c.destroy(),
        _ => {}
    }
}

pub fn delete(g: &GlobalOpts, id: &str, force: bool) -> Result<()> {
    let dir = StateDir::new(&g.root, id);
    let st = match dir.load(id) {
        Ok(s) => s,
        Err(Error::NotExist(_)) if force => {
            // A dir without state is a create that died half-way: undo what
            // it recorded, then remove it.
            if dir.path.is_dir() {
                Partial::undo(&dir);
                let _ = fs::remove_dir_all(&dir.path);
            }
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let _lock = dir.lock()?;
    let status = dir.status(&st);
    crate::log::debug(&format!(
        "delete: container {id}, status {}, force {force}",
        status.as_str()
    ));
    if status == Status::Running && !force {
        return Err(Error::DeleteRunning(id.to_string(), status.as_str().into()));
    }
    destroy(&st);
    if let Ok(cfg) = load_config(&dir) {
        let hs = hooks::HookState {
            id,
            status: "stopped",
            pid: 0,
            bundle: &st.bundle,
            annotations: &st.annotations,
        };
        if let Err(e) = hooks::run_all(&cfg.hooks.poststop, &hs) {
            crate::log::warn(&format!("poststop hook: {e}"));
        }
    }
    super::observe::record(&dir, id, "delete", serde_json::json!({"force": force}));
    let owner = fs::read(dir.file(state::SANDBOX_FILE))
        .ok()
        .and_then(|d| serde_json::from_slice::<SandboxInfo>(&d).ok())
        .and_then(|i| i.owner_uid);
    fs::remove_dir_all(&dir.path).map_err(|source| Error::StateDir {
        path: dir.path.clone(),
        source,
    })?;
    if let Some(uid) = owner {
        crate::sandbox::owner::Registry::host().free(uid, &dir.path);
    }
    Ok(())
}

/// runc run: create, start, wait for init; returns the exit status
/// (128+signal for a signal death).
pub fn run(g: &GlobalOpts, args: &super::cli::RunArgs) -> Result<i32> {
    let mut created = create(g, &args.create, !args.detach)?;
    // The terminal's size is the container's before its process starts.
    let proxy = match created.console.take() {
        Some(master) => match super::tty::Proxy::start(master) {
            Ok(p) => Some(p),
            Err(e) => {
                let _ = delete(g, &args.create.id, true);
                return Err(e);
            }
        },
        None => None,
    };
    if let Err(e) = start(g, &args.create.id) {
        let _ = delete(g, &args.create.id, true);
        return Err(e);
    }
    if args.detach {
        return Ok(0);
    }
    let init = Pid::from_raw(created.state.init.pid);
    let code = match proxy {
        Some(proxy) => {
            let code = procs::forward_signals_and_wait_with(init, Some(Box::new(proxy.resizer())));
            // Restores the caller's terminal after the last output.
            drop(proxy);
            code
        }
        None => procs::forward_signals_and_wait(init),
    };
    // The sentry and gofer exit once the last workload task is gone; reap them.
    for p in [created.state.sentry, created.state.gofer]
        .into_iter()
        .flatten()
    {
        let pid = Pid::from_raw(p.pid);
        // Block on the pidfd rather than poll waitpid: the sentry exits
        // within a millisecond of the workload, and a sleep between polls
        // was most of what `run` cost over runc.
        let exited_in_time = crate::sentry::sys::pidfd_open(p.pid).is_ok_and(|pidfd| {
            use std::os::fd::AsFd;
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let mut fds = [nix::poll::PollFd::new(
                    pidfd.as_fd(),
                    nix::poll::PollFlags::POLLIN,
                )];
                let timeout =
                    nix::poll::PollTimeout::try_from(left).unwrap_or(nix::poll::PollTimeout::ZERO);
                match nix::poll::poll(&mut fds, timeout) {
                    Err(nix::errno::Errno::EINTR) if !left.is_zero() => continue,
                    Ok(n) => return n > 0,
                    Err(_) => return false,
                }
            }
        });
        if !exited_in_time {
            let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        }
        let _ = nix::sys::wait::waitpid(pid, None);
    }
    if !args.keep {
        delete(g, &args.create.id, true)?;
    }
    Ok(code)
}

pub fn list(g: &GlobalOpts, format: &str, quiet: bool) -> Result<String> {
    let mut rows = Vec::new();
    if let Ok(entries) = fs::read_dir(&g.root) {
        for e in entries.flatten() {
            let id = e.file_name().to_string_lossy().to_string();
            let dir = StateDir::new(&g.root, &id);
            if let Ok(st) = dir.load(&id) {
                let status = dir.status(&st);
                rows.push((st, status));
            }
        }
    }
    rows.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    if quiet {
        return Ok(rows.iter().map(|(s, _)| format!("{}\n", s.id)).collect());
    }
    match format {
        "json" => {
            let v: Vec<_> = rows
                .iter()
                .map(|(s, st)| state::OciState {
                    owner: "root",
                    ..state::oci_state(s, *st)
                })
                .collect();
            // As Go's encoder of runc's nil slice: `null` when there is
            // none, and a newline after the value.
            if v.is_empty() {
                return Ok("null\n".into());
            }
            serde_json::to_string(&v)
                .map(|j| j + "\n")
                .map_err(Error::Encode)
        }
        "table" => {
            // Columns padded to their widest cell, as runc's tabwriter does.
            let mut table =
                vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from)];
            for (s, st) in &rows {
                let pid = if *st == Status::Stopped {
                    0
                } else {
                    s.init.pid
                };
                table.push([
                    s.id.clone(),
                    pid.to_string(),
                    st.as_str().to_string(),
                    s.bundle.display().to_string(),
                    s.created.clone(),
                    "root".to_string(),
                ]);
            }
            // runc's tabwriter (minwidth 12, padding 3): each column but
            // the last is its widest cell plus 3, at least 12 wide.
            let widths: Vec<usize> = (0..6)
                .map(|c| {
                    let widest = table.iter().map(|r| r[c].len()).max().unwrap_or(0);
                    (widest + 3).max(12)
                })
                .collect();
            let mut out = String::new();
            for row in &table {
                for (c, (cell, w)) in row.iter().zip(&widths).enumerate() {
                    if c + 1 == row.len() {
                        out.push_str(cell);
                    } else {
                        out.push_str(&format!("{cell:<w$}"));
                    }
                }
                out.push('\n');
            }
            Ok(out)
        }
        other => Err(Error::Usage {
            flag: "--format",
            msg: format!("invalid format option {other:?}: use table or json"),
        }),
    }
}

pub fn spec_cmd(bundle: &Path) -> Result<()> {
    let path = bundle.join("config.json");
    if path.exists() {
        return Err(Error::SpecExists(path));
    }
    let data = serde_json::to_string_pretty(&spec::default_spec()).map_err(Error::Encode)?;
    fs::write(&path, data).map_err(Error::io("write", &path))
}
