//! `runrs boot`: the sentry process. It receives the workload's seccomp
//! listener (fd 3) and one gofer channel per worker thread (fds 4..), then
//! answers notifications until the last workload task is gone. If the
//! gofer dies, the workload is killed: nothing is ever let through because
//! a part of the sandbox is missing.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use nix::errno::Errno;

use super::fs::procfs::{MountLine, Node, ProcConfig, ProcFs};
use super::platform::ptrace::Ptrace;
use super::platform::seccomp_notify::SeccompNotify;
use super::platform::{Platform, Response, SyscallRequest};
use super::syscalls::{Ctx, Outcome};
use super::vfs::dcache::DirCache;
use super::vfs::{Location, SynthFs};
use super::workers::{Next, Workers};
use super::{dispatch, sys, Sentry};
use crate::gofer::Client;
use crate::sandbox::config::{ContainerConfig, MountSpec};
use crate::sandbox::{self, FileAccess, PlatformKind, SandboxInfo};

/// The control socket's name in the state directory.
pub const CONTROL_SOCKET: &str = "sentry.sock";
/// Worker threads per exec'd process's listener.
const EXEC_WORKERS: usize = 2;

/// Notifications being handled right now.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Test hook (`RUNRS_TEST_CONFINEMENT_PROBE` in the sentry's environment,
/// see tests/limits.rs): the first request makes a syscall outside the
/// sentry's allowlist, to prove that a confinement gap kills the container
/// with a log line instead of hanging it. The environment comes from the
/// host's runrs invocation, which is trusted anyway.
static CONFINEMENT_PROBE: AtomicBool = AtomicBool::new(false);

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("read {file}: {msg}")]
    Config { file: &'static str, msg: String },
    #[error("open the container's /proc mountpoint: {0}")]
    SyntheticDir(std::io::Error),
    #[error("stat the synthetic directory: {0}")]
    SyntheticStat(Errno),
    #[error("pidfd of init: {0}")]
    InitPidfd(Errno),
    #[error("the fds create passed: {0}")]
    RoleFds(Errno),
    #[error("map the gofer lanes: {0}")]
    Lanes(Errno),
    #[error("control socket: {0}")]
    Control(String),
    #[error("network namespace: {0}")]
    Netns(String),
    #[error("/proc/sys: {0}")]
    Sysctl(super::fs::sysctl::SysctlError),
    #[error("confine the sentry: {0}")]
    Confine(crate::confine::ConfineError),
    #[error("platform: {0}")]
    Platform(#[from] super::platform::PlatformError),
}

fn read_json<T: for<'de> serde::Deserialize<'de>>(
    dir: &Path,
    file: &'static str,
) -> Result<T, BootError> {
    let data = std::fs::read(dir.join(file)).map_err(|e| BootError::Config {
        file,
        msg: e.to_string(),
    })?;
    serde_json::from_slice(&data).map_err(|e| BootError::Config {
        file,
        msg: e.to_string(),
    })
}

/// With a new cgroup namespace, its root in each hierarchy as runc makes
/// it: the container's own cgroups, which init has joined by the time the
/// sentry starts (runc unshares the namespace after joining them, so its
/// containers see "/"; runrs clones init into the namespace first). None
/// without one (paths show as the host has them).
fn cgroup_ns_roots(cfg: &ContainerConfig, init_pid: i32) -> Option<Vec<(String, String)>> {
    if !cfg.has_new_namespace("cgroup") {
        return None;
    }
    let text = std::fs::read_to_string(format!("/proc/{init_pid}/cgroup")).unwrap_or_default();
    Some(
        text.lines()
            .filter_map(|l| l.rsplit_once(':'))
            .map(|(k, p)| (k.to_string(), p.to_string()))
            .collect(),
    )
}

/// The mounts runc makes for the spec's readonlyPaths (a read-only bind of
/// the path: its mount's source and type) and then maskedPaths (a
/// read-only tmpfs on a directory, a bind of /dev/null on anything else),
/// for the paths `is_dir` finds (Some(whether a directory)); the others
/// runc skips.
fn masked_and_readonly_lines(
    cfg: &ContainerConfig,
    table: &[MountLine],
    is_dir: impl Fn(&str) -> Option<bool>,
) -> Vec<MountLine> {
    let holder = |p: &str| -> Option<MountLine> {
        table
            .iter()
            .filter(|m| {
                let t = m.target.trim_end_matches('/');
                p == m.target || t.is_empty() || p.starts_with(&format!("{t}/"))
            })
            .max_by_key(|m| m.target.len())
            .cloned()
    };
    let mut out = Vec::new();
    for p in &cfg.readonly_paths {
        if is_dir(p).is_none() {
            continue;
        }
        let Some(h) = holder(p) else { continue };
        // The holder's flags as shown, made read-only.
        let shown = super::fs::procfs::mount_text(&h);
        let mut opts = vec!["ro"];
        opts.extend(shown.split(',').skip(1));
        out.push(MountLine {
            source: h.source.clone(),
            target: p.clone(),
            fstype: h.fstype.clone(),
            options: opts.join(","),
            super_options: Some(super::fs::procfs::super_text(&h)),
        });
    }
    for p in &cfg.masked_paths {
        match is_dir(p) {
            None => {}
            Some(true) => out.push(MountLine {
                source: "tmpfs".into(),
                target: p.clone(),
                fstype: "tmpfs".into(),
                options: "ro".into(),
                super_options: None,
            }),
            Some(false) => {
                if let Some(h) = holder("/dev/null") {
                    out.push(MountLine {
                        target: p.clone(),
                        ..h
                    });
                }
            }
        }
    }
    out
}

/// The sandbox's mount table as /proc/self/mounts shows it.
/// Takes each mount's options, type and source from the kernel's own
/// view (`mountinfo` of the container's mount namespace) where the kernel
/// really has that mount: the exact flags, the file system's options and
/// its real type (a cgroup v1 hierarchy named systemd is of type cgroup).
/// The stand-ins init mounts for the synthetic /proc and /sys are not
/// theirs. No host path is copied: an option naming one (overlay's
/// lowerdir) is dropped, and the root's file system shows only ro or rw.
/// `own_nodev`: init made the mounts nodev itself (`ContainerConfig::
/// dev_is_tmpfs`): a mount shows nodev only where its spec asks, as under
/// runc.
fn take_kernel_view(lines: &mut [MountLine], mountinfo: &str, own_nodev: bool) {
    use super::fs::hostproc::unescape_octal;
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (Some(target), Some(opts), [fstype, source, sb, ..]) =
            (left.get(4), left.get(5), right.as_slice())
        else {
            continue;
        };
        if *source == super::vfs::SYNTHETIC_MOUNT_SOURCE {
            continue;
        }
        let target = unescape_octal(target);
        let sb: Vec<&str> = sb
            .split(',')
            .enumerate()
            .filter(|(i, o)| !o.contains('/') && (target != "/" || *i == 0))
            .map(|(_, o)| o)
            .collect();
        // The n-th real mount on a path is the table's n-th there (init
        // also remounts the spec's read-only paths it can reach).
        let nth = seen.entry(target.clone()).or_insert(0usize);
        let this = lines.iter_mut().filter(|m| m.target == target).nth(*nth);
        *nth += 1;
        if let Some(m) = this {
            let asked_nodev = m.options.split(',').any(|o| o == "nodev");
            m.options = if own_nodev && !asked_nodev {
                opts.split(',')
                    .filter(|o| *o != "nodev")
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                (*opts).to_owned()
            };
            m.super_options = Some(sb.join(","));
            if target != "/" {
                m.fstype = unescape_octal(fstype);
                m.source = unescape_octal(source);
            }
        }
    }
}

fn mount_lines(cfg: &ContainerConfig) -> Vec<MountLine> {
    let mut lines = vec![MountLine {
        source: "none".into(),
        target: "/".into(),
        fstype: "rootfs".into(),
        options: if cfg.readonly_root { "ro" } else { "rw" }.into(),
        super_options: None,
    }];
    for m in &cfg.mounts {
        if let Some(cgroup_lines) = cgroup_mount_lines(cfg, m) {
            lines.extend(cgroup_lines);
            continue;
        }
        let fstype = match m.typ.as_str() {
            "bind" | "" => "bind".to_string(),
            t => t.to_string(),
        };
        let ro = m.options.iter().any(|o| o == "ro");
        let mut opts = vec![if ro { "ro" } else { "rw" }.to_string()];
        opts.extend(
            m.options
                .iter()
                .filter(|o| {
                    matches!(
                        o.as_str(),
                        "nosuid" | "nodev" | "noexec" | "relatime" | "noatime"
                    )
                })
                .cloned(),
        );
        lines.push(MountLine {
            source: if m.source.is_empty() {
                fstype.clone()
            } else {
                m.source.clone()
            },
            target: m.destination.clone(),
            fstype,
            options: opts.join(","),
            super_options: None,
        });
    }
    lines
}

/// The lines of a cgroup mount as init made it (`rootfs::mount_cgroups`)
/// on a v1 host: its tmpfs, then one read-only cgroup mount per
/// hierarchy; on a v2 host one cgroup2 mount. None for other mounts.
fn cgroup_mount_lines(cfg: &ContainerConfig, m: &MountSpec) -> Option<Vec<MountLine>> {
    if m.typ != "cgroup" && m.typ != "cgroup2" {
        return None;
    }
    let cgroup = crate::sandbox::cgroup::Cgroup::at(cfg.cgroups_path.as_deref()?);
    let flags = "nosuid,nodev,noexec,relatime";
    let ro = if m.options.iter().any(|o| o == "ro") {
        "ro"
    } else {
        "rw"
    };
    if cgroup.is_v2() {
        return Some(vec![MountLine {
            source: "cgroup2".into(),
            target: m.destination.clone(),
            fstype: "cgroup2".into(),
            options: format!("{ro},{flags}"),
            super_options: None,
        }]);
    }
    let mut lines = vec![MountLine {
        source: "tmpfs".into(),
        target: m.destination.clone(),
        fstype: "tmpfs".into(),
        options: format!("rw,{flags},mode=755"),
        super_options: None,
    }];
    for (name, _) in cgroup.shown_v1_hierarchies() {
        let (source, option) = if name == "systemd" {
            ("systemd", "name=systemd".to_string())
        } else {
            ("cgroup", name.clone())
        };
        lines.push(MountLine {
            source: source.into(),
            target: format!("{}/{name}", m.destination.trim_end_matches('/')),
            fstype: "cgroup".into(),
            options: format!("{ro},{flags},{option}"),
            super_options: None,
        });
    }
    Some(lines)
}

/// The hostname of the UTS namespace the workload runs in, for a spec
/// without `hostname`: a Kubernetes app container joins the pause
/// container's namespace by path (its hostname is the pod's), a container
/// may keep the host's. uname(2) and /proc/sys/kernel/hostname answer it.
/// Read on a thread of its own that joins the namespace (setns of a UTS
/// namespace moves only the calling thread); the spec's path when it
/// names one (init may not have joined it yet), else init's namespace
/// (a new one is init's from its clone on).
fn uts_nodename(cfg: &ContainerConfig, init_pid: i32) -> Option<String> {
    let path = cfg
        .namespaces
        .iter()
        .find(|n| n.typ == "uts")
        .and_then(|n| n.path.clone())
        .unwrap_or_else(|| format!("/proc/{init_pid}/ns/uts").into());
    let ns = std::fs::File::open(path).ok()?;
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWUTS).ok()?;
        let u = nix::sys::utsname::uname().ok()?;
        Some(u.nodename().to_string_lossy().into_owned())
    })
    .join()
    .ok()
    .flatten()
}

pub fn main(state_dir: &Path) -> i32 {
    match run(state_dir) {
        Ok(()) => 0,
        Err(e) => {
            crate::log::error(&format!("sentry: {e}"));
            1
        }
    }
}

fn run(state_dir: &Path) -> Result<(), BootError> {
    let mut cfg: ContainerConfig = read_json(state_dir, sandbox::SPEC_FILE)?;
    let info: SandboxInfo = read_json(state_dir, sandbox::SANDBOX_FILE)?;
    crate::gofer::sys::set_polling(info.poll_channels);
    // create passed the listener (seccomp) or the fd-passing socket
    // (ptrace) at fd 3, the gofer channels at 4..., then their lanes' file
    // if it made one (gofer::lane).
    let mut fds =
        sandbox::sys::take_role_fds(1 + info.gofer_channels + usize::from(info.gofer_lanes))
            .map_err(BootError::RoleFds)?
            .into_iter();
    let first = fds.next().ok_or(BootError::RoleFds(Errno::EBADF))?;
    let mut channels: Vec<OwnedFd> = fds.collect();
    let lanes = crate::gofer::lane::take_after_channels(
        &mut channels,
        info.gofer_lanes,
        info.gofer_channels,
    )
    .map_err(BootError::Lanes)?;
    // The tracer must attach before init installs its filter (create waits
    // for our control socket), and before this process starts any thread.
    // Before any thread starts (see confine::private_mount_ns).
    crate::confine::private_mount_ns().map_err(BootError::Confine)?;
    // Before the tracer, which reaps every child of this process.
    let pid_ns_values = super::fs::sysctl::pid_namespace_values(Path::new("/proc"), info.init_pid)
        .map_err(BootError::Sysctl)?;
    let (ptrace, listener) = match info.platform {
        PlatformKind::Ptrace => (
            Some(Arc::new(Ptrace::start(
                info.init_pid,
                first,
                info.owner_uid,
            )?)),
            None,
        ),
        PlatformKind::Seccomp => (None, Some(first)),
    };
    let init_pidfd = sys::pidfd_open(info.init_pid).map_err(BootError::InitPidfd)?;
    if cfg.hostname.is_none() {
        cfg.hostname = uts_nodename(&cfg, info.init_pid);
    }

    let synthetic_dir: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(format!("/proc/{}/root/proc", info.init_pid))
        .map_err(BootError::SyntheticDir)?
        .into();
    let st = sys::fstat_fd(synthetic_dir.as_fd()).map_err(BootError::SyntheticStat)?;
    let start =
        std::time::UNIX_EPOCH + std::time::Duration::new(info.start_time.0, info.start_time.1);
    let sysctl = super::fs::sysctl::Sysctl::in_namespaces_of(
        "/proc".into(),
        info.init_pid,
        pid_ns_values,
        info.owner_uid,
    )
    .map_err(BootError::Sysctl)?;
    let placeholders = super::fs::procfs::placeholders(
        &cfg.masked_paths,
        &cfg.readonly_paths,
        std::path::Path::new("/proc"),
    );
    let mut proc_config = ProcConfig {
        hostname: cfg.hostname.clone().unwrap_or_default(),
        uid_map: cfg.uid_map.clone(),
        gid_map: cfg.gid_map.clone(),
        spec_seccomp: cfg.seccomp.is_some(),
        memory_limit: cfg.memory_limit.filter(|l| *l > 0).map(|l| l as u64),
        start_time: start,
        mounts: mount_lines(&cfg),
        init_host_pid: info.init_pid,
        cgroup_ns_roots: cgroup_ns_roots(&cfg, info.init_pid),
        host_proc: "/proc".into(),
        sysctl: std::sync::Arc::new(sysctl),
        placeholders,
        hidden_fd: ptrace
            .as_ref()
            .map(|_| super::platform::ptrace::RESERVED_FD),
    };
    // The spec's readonly and masked paths that exist in the sandbox view
    // are mounts there too (runc lists them); /proc's and /sys's entries
    // are the sentry's own, the others the container root's.
    let probe = ProcFs::new(proc_config.clone());
    let container_root = std::fs::File::open(format!("/proc/{}/root", info.init_pid)).ok();
    let is_dir = |p: &str| -> Option<bool> {
        match super::vfs::locate(p.as_bytes()) {
            Location::Synthetic(SynthFs::Proc, rel) => match probe.lookup(info.init_pid, &rel) {
                Ok(n) => Some(n.is_dir()),
                Err(_) => None,
            },
            Location::Synthetic(SynthFs::Sys, rel) => match super::sysfs::lookup(&rel) {
                Ok(n) => Some(matches!(n, Node::Dir(_))),
                Err(_) => None,
            },
            Location::Gofer => {
                let root = container_root.as_ref()?;
                let how = nix::fcntl::OpenHow::new()
                    .flags(nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC)
                    .resolve(nix::fcntl::ResolveFlag::RESOLVE_IN_ROOT);
                let fd = nix::fcntl::openat2(root.as_fd(), p, how).ok()?;
                let st = sys::fstat_fd(fd.as_fd()).ok()?;
                Some(st.st_mode & libc::S_IFMT == libc::S_IFDIR)
            }
        }
    };
    // The mounts init made are real: show them as the kernel does.
    match std::fs::read_to_string(format!("/proc/{}/mountinfo", info.init_pid)) {
        Ok(text) => take_kernel_view(&mut proc_config.mounts, &text, cfg.dev_is_tmpfs()),
        Err(e) => crate::log::debug(&format!("sentry: init's mountinfo: {e}")),
    }
    let extra = masked_and_readonly_lines(&cfg, &proc_config.mounts, is_dir);
    proc_config.mounts.extend(extra);
    drop(probe);
    let kernel = super::kernel::Kernel::new(&super::fs::hostproc::HostProc::new(
        proc_config.host_proc.clone(),
        proc_config.init_host_pid,
    ));
    let procfs = ProcFs::with_kernel(proc_config, &kernel);
    crate::sentry::vfs::set_gofer_subtrees(info.gofer_subtrees.clone());
    // Mounts of another file system are not cached: binds, and the real
    // mounts inside synthetic ones (cgroup files).
    let bind_destinations: Vec<&str> = cfg
        .mounts
        .iter()
        .filter(|m| m.typ == "bind" || m.options.iter().any(|o| o == "bind" || o == "rbind"))
        .map(|m| m.destination.as_str())
        .chain(info.gofer_subtrees.iter().map(String::as_str))
        .collect();
    let dcache = DirCache::new(
        info.file_access == FileAccess::Exclusive,
        &bind_destinations,
    );
    // Without it, SO_PEERCRED of a path connection shows an unknown peer.
    let diag = super::peers::diag_socket_in_netns_of(info.init_pid).map_err(BootError::Netns)?;
    let sentry = Arc::new(Sentry {
        peers: super::peers::Peers::new(diag),
        writable_copies: Default::default(),
        long_paths: Default::default(),
        warmer: Arc::new(super::warm::Warmer::new(super::warm::WINDOW)),
        dcache,
        cfg,
        kernel,
        procfs,
        synthetic_dir,
        synthetic_dir_id: (st.st_dev, st.st_ino),
        synthetic_fds: Mutex::new(HashMap::new()),
        synthetic_files: Default::default(),
        strace: info.strace,
        info,
    });
    let gofers: Arc<Vec<Client>> = Arc::new(
        channels
            .into_iter()
            .enumerate()
            .map(|(i, sock)| Client::with_lane(sock, lanes.as_ref().and_then(|l| l.lane(i))))
            .collect(),
    );
    sentry.writable_copies.set_gofers(Arc::clone(&gofers));
    let control = bind_control_socket(state_dir)?;
    CONFINEMENT_PROBE.store(
        std::env::var_os("RUNRS_TEST_CONFINEMENT_PROBE").is_some(),
        Ordering::Relaxed,
    );
    // The counters file and the audit trail (docs/OBSERVABILITY.md).
    crate::metrics::start_sentry(state_dir);
    // Everything from the host is open now: confine before any thread
    // starts (capabilities are per thread; new threads inherit them).
    if let Err(e) = super::confine::confine_sentry(
        state_dir,
        &init_pidfd,
        sentry.info.platform,
        sentry.info.owner_uid,
    ) {
        // The socket already says "ready": the workload must not run on.
        sys::kill_pidfd(&init_pidfd);
        return Err(BootError::Confine(e));
    }
    // The warm thread lowers its own policy: it starts confined.
    if sentry.info.poll_channels && ptrace.is_none() {
        sentry.warmer.start();
    }
    let notify = match (&ptrace, listener) {
        (Some(p), _) => {
            spawn_workers(p, &sentry, &gofers, gofers.len());
            None
        }
        (None, None) => return Err(BootError::Control("no platform".into())),
        (None, Some(listener)) => {
            let n = Arc::new(SeccompNotify::new(listener)?);
            spawn_workers(&n, &sentry, &gofers, gofers.len());
            Some(n)
        }
    };
    {
        let (sentry, gofers, ptrace) = (Arc::clone(&sentry), Arc::clone(&gofers), ptrace.clone());
        std::thread::spawn(move || serve_control(control, sentry, gofers, ptrace));
    }
    // The main thread waits for the end: the listener (or the tracer's
    // pipe) hangs up when the last workload task exits; the init pidfd is
    // readable when init exits (all of a new pid namespace dies with it).
    let end = match (&notify, &ptrace) {
        (Some(n), _) => n.listener(),
        (None, Some(p)) => p.end_fd(),
        (None, None) => return Ok(()),
    };
    wait_for_end(end, &init_pidfd);
    crate::metrics::audit::sentry_exit();
    // Let handlers that are still answering (and logging) finish.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while IN_FLIGHT.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Ok(())
}

fn wait_for_end(listener: &OwnedFd, init_pidfd: &OwnedFd) {
    use nix::poll::{poll, PollFd, PollFlags};
    loop {
        let mut fds = [
            PollFd::new(listener.as_fd(), PollFlags::empty()),
            PollFd::new(init_pidfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, nix::poll::PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            Err(_) => return,
            Ok(_) => {}
        }
        let hup = fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR));
        if hup {
            return;
        }
        if fds[1]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLIN))
        {
            // init is gone; let the rest of its pid namespace finish dying,
            // then stop when the listener hangs up.
            let mut l = [PollFd::new(listener.as_fd(), PollFlags::empty())];
            let _ = poll(&mut l, nix::poll::PollTimeout::from(2000u16));
            return;
        }
    }
}

/// Starts `count` workers on one platform instance; they take turns
/// receiving (see [`Workers`]), each with its own gofer channel.
fn spawn_workers<P: Platform + 'static>(
    platform: &Arc<P>,
    sentry: &Arc<Sentry>,
    gofers: &Arc<Vec<Client>>,
    count: usize,
) {
    let workers = Arc::new(Workers::new());
    for i in 0..count {
        let (platform, sentry, gofers, workers) = (
            Arc::clone(platform),
            Arc::clone(sentry),
            Arc::clone(gofers),
            Arc::clone(&workers),
        );
        std::thread::spawn(move || {
            let gofer = &gofers[i % gofers.len()];
            worker(&*platform, &sentry, gofer, &workers, i);
        });
    }
}

/// The sandbox's control socket: `runrs exec` hands the listener of each
/// new process's filter to the sentry here (one SEQPACKET message with the
/// fd; the answer is "ok" once workers serve it).
fn bind_control_socket(state_dir: &Path) -> Result<OwnedFd, BootError> {
    use nix::sys::socket::{bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType};
    let _ = std::fs::remove_file(state_dir.join(CONTROL_SOCKET));
    let err = |e: nix::Error| BootError::Control(e.to_string());
    let sock = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(err)?;
    let (_dir, addr) = control_socket_addr(state_dir).map_err(err)?;
    bind(sock.as_raw_fd(), &addr).map_err(err)?;
    listen(&sock, Backlog::new(16).map_err(err)?).map_err(err)?;
    Ok(sock)
}

/// The control socket's address. A state dir under Docker's root makes
/// the plain path longer than sun_path allows (108 bytes), so it is named
/// through an fd of the directory; keep the returned fd open while using
/// the address.
pub fn control_socket_addr(state_dir: &Path) -> nix::Result<(OwnedFd, nix::sys::socket::UnixAddr)> {
    let dir: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(state_dir)
        .map_err(|e| nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?
        .into();
    let path = format!("/proc/self/fd/{}/{CONTROL_SOCKET}", dir.as_raw_fd());
    let addr = nix::sys::socket::UnixAddr::new(path.as_str())?;
    Ok((dir, addr))
}

fn serve_control(
    control: OwnedFd,
    sentry: Arc<Sentry>,
    gofers: Arc<Vec<Client>>,
    ptrace: Option<Arc<Ptrace>>,
) {
    loop {
        let conn = match nix::sys::socket::accept(&control) {
            Ok(fd) => fd,
            Err(Errno::EINTR) => continue,
            Err(_) => return,
        };
        let msg = crate::sandbox::sync::recv(conn.as_raw_fd());
        let reply = match msg {
            Ok((crate::sandbox::sync::InitMsg::Attach { pid }, Some(sock))) if ptrace.is_some() => {
                // Workers already serve every traced task.
                match ptrace.as_ref().map(|p| p.seize(pid, sock)) {
                    Some(Ok(())) => crate::sandbox::sync::InitMsg::Ready,
                    Some(Err(e)) => crate::sandbox::sync::InitMsg::Error {
                        msg: format!("attach to process {pid}: {e}"),
                    },
                    None => crate::sandbox::sync::InitMsg::Error {
                        msg: "not a ptrace sandbox".into(),
                    },
                }
            }
            Ok((crate::sandbox::sync::InitMsg::Listener, Some(listener))) if ptrace.is_none() => {
                match SeccompNotify::new(listener) {
                    Ok(p) => {
                        let p = Arc::new(p);
                        spawn_workers(&p, &sentry, &gofers, EXEC_WORKERS);
                        crate::sandbox::sync::InitMsg::Ready
                    }
                    Err(e) => crate::sandbox::sync::InitMsg::Error { msg: e.to_string() },
                }
            }
            _ => crate::sandbox::sync::InitMsg::Error {
                msg: if ptrace.is_some() {
                    "expected a process to attach to (this sandbox runs on ptrace)".into()
                } else {
                    "expected a seccomp listener".into()
                },
            },
        };
        let _ = crate::sandbox::sync::send(conn.as_raw_fd(), &reply, None);
    }
}

fn worker(platform: &dyn Platform, sentry: &Sentry, gofer: &Client, workers: &Workers, me: usize) {
    while workers.take_turn(me) {
        loop {
            let req = match platform.wait() {
                Ok(Some(r)) => r,
                // Interrupted, or a cancelled notification; when every task
                // of this filter is gone, the workers' job is done.
                Ok(None) if platform.hung_up() => {
                    workers.close();
                    return;
                }
                Ok(None) => continue,
                Err(e) => {
                    crate::log::debug(&format!("sentry worker: {e}"));
                    workers.close();
                    return;
                }
            };
            sentry.warmer.touch();
            workers.start(me);
            IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
            handle(platform, sentry, gofer, req);
            IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
            if let Next::Standby = workers.done(me) {
                break;
            }
        }
    }
}

fn handle(platform: &dyn Platform, sentry: &Sentry, gofer: &Client, req: SyscallRequest) {
    if CONFINEMENT_PROBE.load(Ordering::Relaxed) {
        // SAFETY: getppid has no preconditions; the filter kills us here.
        unsafe { libc::getppid() };
    }
    let _scope = sys::RequestScope::begin();
    // A umask, chdir or fchdir the caller made before this call is over.
    sentry.kernel.creds.settled(req.tid);
    let mut ctx = Ctx::new(req, platform, sentry, gofer);
    // A denied call's audit line is made now (the caller's pid) and
    // written once the call is answered.
    let mut audit = None;
    let result = match dispatch::handler(req.nr) {
        Some(h) => h(&mut ctx),
        None => {
            let r = denied(req.nr);
            audit = audit_denied(&req, r.as_ref().err().copied());
            r
        }
    };
    // The gofer client reports a hung-up channel as ECONNRESET.
    if result.as_ref().err() == Some(&Errno::ECONNRESET) {
        fail_closed(sentry);
    }
    let (answer, shown) = match result {
        Ok(Outcome::Value(v)) => (platform.respond(&req, Response::Value(v)), Shown::Value(v)),
        Ok(Outcome::Continue) => (platform.respond(&req, Response::Continue), Shown::Continued),
        Ok(Outcome::Fd { fd, cloexec }) if crate::gofer::sys::is_writable(fd.as_fd()) => {
            // Our copy of a writable file counts as a writer until closed:
            // an execve waits for it (`WritableCopies::settle`), so the
            // caller may run on at once.
            let r = sentry
                .writable_copies
                .installing(|| platform.respond(&req, Response::InstallFd { fd, cloexec }));
            let shown = match &r {
                Ok(n) => Shown::Value(*n),
                Err(_) => Shown::Unanswered,
            };
            (r, shown)
        }
        Ok(Outcome::Fd { fd, cloexec }) => {
            let r = platform.respond(&req, Response::InstallFd { fd, cloexec });
            let shown = match &r {
                Ok(n) => Shown::Value(*n),
                Err(_) => Shown::Unanswered,
            };
            (r, shown)
        }
        Ok(Outcome::DirFd { fd, cloexec, dir }) => {
            // Recorded before the caller can use it.
            let pending = super::task::TaskInfo::ids(req.tid).ok().and_then(|t| {
                let held = fd.try_clone().ok()?;
                Some(sentry.remember_pending_synthetic_dir(t.tgid, dir, held))
            });
            let r = platform.respond(&req, Response::InstallFd { fd, cloexec });
            if let Some(p) = pending {
                let n = r.as_ref().ok().and_then(|&n| i32::try_from(n).ok());
                sentry.settle_synthetic_dir(p, n);
            }
            let shown = match &r {
                Ok(n) => Shown::Value(*n),
                Err(_) => Shown::Unanswered,
            };
            (r, shown)
        }
        Err(e) => (platform.respond(&req, Response::Errno(e)), Shown::Errno(e)),
    };
    crate::metrics::shm::record_syscall(req.nr, req.received);
    if let Some(line) = audit {
        line.write();
    }
    if sentry.strace {
        let name = crate::table::row(req.nr)
            .map(|r| r.name)
            .unwrap_or("unknown");
        let result = match shown {
            Shown::Value(v) => v.to_string(),
            Shown::Continued => "(continued)".into(),
            Shown::Errno(e) => format!("-1 {}", e.desc()),
            Shown::Unanswered => "(not answered)".into(),
        };
        crate::log::info(&format!(
            "[{:>6}] {}({}) = {}",
            req.tid,
            name,
            ctx.decoded.join(", "),
            result
        ));
    }
    if let Err(e) = answer {
        crate::log::debug(&format!("answer {}: {e}", req.nr));
    }
}

/// How an answer shows in --strace output (formatted only then).
enum Shown {
    Value(i64),
    Continued,
    Errno(Errno),
    Unanswered,
}

/// Denied syscalls already logged in this container, one bit per number.
static DENIED_LOGGED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// A denied row: the filter sends those here too (see `filter.rs`), so the
/// first use of each in the container is logged; the answer is the
/// table's errno, exactly what the workload would get from the kernel.
fn denied(nr: u32) -> Result<Outcome, Errno> {
    let Some(row) = crate::table::row(nr) else {
        return Err(Errno::ENOSYS);
    };
    let crate::table::Disposition::Denied { errno } = row.disposition else {
        // The filter only notifies emulated and denied numbers.
        return Err(Errno::ENOSYS);
    };
    let (word, bit) = ((nr / 64) as usize, 1u64 << (nr % 64));
    let first = DENIED_LOGGED
        .get(word)
        .is_none_or(|w| w.fetch_or(bit, Ordering::Relaxed) & bit == 0);
    if first {
        crate::log::warn_to_log_file(&format!(
            "denied syscall {} (nr {nr}): {}",
            row.name,
            crate::table::errno_name(errno)
        ));
    }
    Err(Errno::from_raw(errno))
}

/// The audit line of a denied call answered with `errno` (None when the
/// trail's rate limit drops it).
fn audit_denied(
    req: &SyscallRequest,
    errno: Option<Errno>,
) -> Option<crate::metrics::audit::Pending> {
    let name = crate::table::row(req.nr).map_or("unknown", |r| r.name);
    let errno = errno.map_or("none", |e| crate::table::errno_name(e as i32));
    crate::metrics::audit::denied(name, req.nr, errno, &req.args, req.tid)
}

/// A sandbox without its gofer cannot serve files: end the workload.
fn fail_closed(sentry: &Sentry) -> ! {
    crate::log::error("sentry: the gofer is gone; killing the container");
    if let Ok(pidfd) = sys::pidfd_open(sentry.info.init_pid) {
        sys::kill_pidfd(&pidfd);
    }
    std::process::exit(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(target: &str, fstype: &str, options: &str) -> MountLine {
        MountLine {
            source: fstype.into(),
            target: target.into(),
            fstype: fstype.into(),
            options: options.into(),
            super_options: None,
        }
    }

    /// The nodev init sets on every mount but /dev's shows only where the
    /// spec asked for it, as under runc.
    #[test]
    fn own_nodev_is_not_shown() {
        let mut lines = vec![
            line("/", "rootfs", "rw"),
            line("/dev/shm", "tmpfs", "rw,nosuid,nodev,noexec"),
            line("/data", "bind", "rw"),
        ];
        let mountinfo = "\
78 52 0:40 / / rw,nodev,relatime - ext4 /dev/vda rw
84 80 0:47 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k
99 78 254:0 /y /data rw,nodev,relatime - ext4 /dev/vda rw
";
        take_kernel_view(&mut lines, mountinfo, true);
        let shown: Vec<&str> = lines.iter().map(|m| m.options.as_str()).collect();
        assert_eq!(
            shown,
            [
                "rw,relatime",
                "rw,nosuid,nodev,noexec,relatime",
                "rw,relatime"
            ]
        );
    }

    /// The kernel's words replace the spec's for real mounts, in order per
    /// path; synthetic stand-ins, host paths and the root's file-system
    /// options are not copied.
    #[test]
    fn the_kernel_view_refines_real_mounts_only() {
        let mut lines = vec![
            line("/", "rootfs", "rw"),
            line("/proc", "proc", "nosuid,noexec,nodev"),
            line("/dev/shm", "tmpfs", "nosuid,size=65536k"),
            line("/sys/fs/cgroup/systemd", "systemd", "ro,nosuid"),
            line("/mnt/a b", "bind", "rbind"),
        ];
        let mountinfo = "\
78 52 0:40 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/l,upperdir=/var/lib/u
79 78 0:43 / /proc ro,nosuid,nodev,noexec,relatime - tmpfs runrs-synthetic ro,size=4k,mode=555
84 80 0:47 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k
85 80 0:47 / /dev/shm ro,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k
98 89 0:37 /x /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup rw,name=systemd
99 78 254:0 /y /mnt/a\\040b rw,relatime - ext4 /dev/vda rw,discard,journal_path=/dev/x
";
        take_kernel_view(&mut lines, mountinfo, false);
        let shown: Vec<(String, String, String, Option<String>)> = lines
            .into_iter()
            .map(|m| (m.source, m.fstype, m.options, m.super_options))
            .collect();
        let s = |x: &str| x.to_string();
        assert_eq!(
            shown,
            vec![
                (s("rootfs"), s("rootfs"), s("rw,relatime"), Some(s("rw"))),
                (s("proc"), s("proc"), s("nosuid,noexec,nodev"), None),
                (
                    s("shm"),
                    s("tmpfs"),
                    s("rw,nosuid,nodev,noexec,relatime"),
                    Some(s("rw,size=65536k"))
                ),
                (
                    s("cgroup"),
                    s("cgroup"),
                    s("ro,nosuid,nodev,noexec,relatime"),
                    Some(s("rw,name=systemd"))
                ),
                (
                    s("/dev/vda"),
                    s("ext4"),
                    s("rw,relatime"),
                    Some(s("rw,discard"))
                ),
            ]
        );
    }
}
