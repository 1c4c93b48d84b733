//! The OCI front end: runc's commands and semantics, and the internal roles.

pub mod cgroups;
pub mod cli;
pub mod conformance;
pub mod container;
pub mod error;
pub mod exec;
pub mod hooks;
pub mod init;
pub mod manage;
pub mod metrics_server;
pub mod observe;
pub mod procs;
pub mod rootfs;
pub mod seccomp_profile;
pub mod spec;
pub mod state;
pub mod sync;
pub mod tty;
pub mod userns;

use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;

use cli::{Cli, Command};
use error::Error;

/// runc's exit status when `exec` itself fails.
pub const EXEC_FAILED: i32 = 255;

/// Runs one command; returns the process exit status.
pub fn main(cli: Cli) -> i32 {
    let g = &cli.global;
    let role = matches!(
        cli.command,
        Command::Boot(_) | Command::Gofer(_) | Command::Init(_)
    );
    crate::log::init(
        g.log.as_deref(),
        g.log_format,
        g.debug || g.strace,
        !role || matches!(cli.command, Command::Boot(_)),
    );
    let result: Result<i32, Error> = match &cli.command {
        Command::Spec(a) => container::spec_cmd(&a.bundle).map(|_| 0),
        Command::Create(a) => container::create(g, a, false).map(|_| 0),
        Command::Start(a) => container::start(g, &a.id).map(|_| 0),
        Command::State(a) => container::state_json(g, &a.id).map(|s| {
            print!("{s}");
            let _ = std::io::stdout().flush();
            0
        }),
        Command::Kill(a) => container::kill(g, &a.id, &a.signal, a.all).map(|_| 0),
        Command::Delete(a) => container::delete(g, &a.id, a.force).map(|_| 0),
        Command::Run(a) => container::run(g, a),
        // As runc: every failure of exec itself (a paused or missing
        // container, a process that cannot start) exits 255, so that it is
        // told apart from the process's own exit status.
        Command::Exec(a) => match exec::exec(g, a) {
            Ok(code) => {
                let data = serde_json::json!({"detach": a.detach, "exit_code": code});
                observe::record_id(g, &a.id, "exec", data);
                Ok(code)
            }
            Err(e) => {
                crate::log::error(&format!("exec failed: {e}"));
                return EXEC_FAILED;
            }
        },
        Command::Pause(a) => manage::pause(g, &a.id).map(|_| {
            observe::record_id(g, &a.id, "pause", serde_json::json!({}));
            0
        }),
        Command::Resume(a) => manage::resume(g, &a.id).map(|_| {
            observe::record_id(g, &a.id, "resume", serde_json::json!({}));
            0
        }),
        Command::Ps(a) => manage::ps(g, a).map(|s| {
            print!("{s}");
            0
        }),
        Command::Update(a) => manage::update(g, a).map(|_| 0),
        Command::Events(a) => events(g, a),
        Command::Metrics(a) => observe::metrics_cmd(g, &a.id, &a.format).map(|s| {
            print!("{s}");
            0
        }),
        Command::MetricsServer(a) => metrics_server::main(g, &a.listen),
        Command::Features => {
            println!("{}", manage::features());
            Ok(0)
        }
        Command::Checkpoint(a) => Err(checkpoint_unsupported("checkpoint", &a.id)),
        Command::Restore(a) => Err(checkpoint_unsupported("restore", &a.id)),
        Command::Install(a) => manage::install(a).map(|s| {
            print!("{s}");
            0
        }),
        Command::Uninstall(a) => manage::uninstall(a).map(|s| {
            print!("{s}");
            0
        }),
        Command::List(a) => container::list(g, &a.format, a.quiet).map(|s| {
            print!("{s}");
            0
        }),
        Command::Conformance(a) => conformance::main(a).map_err(Error::Other),
        Command::Boot(a) => return crate::sentry::boot::main(&a.state_dir),
        Command::Gofer(a) => return gofer_main(&a.state_dir),
        Command::Init(a) => return init::main(&a.state_dir, g.platform),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::log::error(&e.to_string());
            1
        }
    }
}

/// checkpoint and restore: the workload's state is split between the host
/// kernel (its own memory and threads) and the sandbox's processes (the
/// sentry's fd table, mount table and virtual cwds, the gofer's open
/// files), which CRIU cannot save together. One line, exit 1.
fn checkpoint_unsupported(cmd: &str, id: &str) -> Error {
    Error::Other(format!(
        "{cmd} of container {id}: not supported by runrs: the sandbox's state \
         (sentry and gofer) cannot be saved or restored with CRIU"
    ))
}

/// `events --stats` prints once; `events --audit` the audit trail
/// (docs/OBSERVABILITY.md); without either, stats every interval until
/// the container stops (runc's stream, unchanged).
fn events(g: &cli::GlobalOpts, a: &cli::EventsArgs) -> Result<i32, Error> {
    if a.stats {
        println!("{}", manage::events_stats(g, &a.id)?);
        return Ok(0);
    }
    if a.audit {
        return observe::events_audit(g, &a.id, a.interval).map(|_| 0);
    }
    let mut out = std::io::stdout();
    loop {
        match manage::events_stats(g, &a.id) {
            // A reader that went away (`| head`) ends the stream quietly.
            Ok(line) => {
                if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                    return Ok(0);
                }
            }
            Err(Error::NotRunning(_)) => return Ok(0),
            Err(e) => return Err(e),
        }
        std::thread::sleep(a.interval);
    }
}

/// `runrs gofer`: joins the container's mount namespace (init's, after its
/// pivot_root), so that "/" is the container's root and nothing of the
/// host is in view, and serves the sentry's channels (fds 3..). When the
/// sentry hangs up, the workload is killed: it must never run on without
/// its sentry.
fn gofer_main(state_dir: &Path) -> i32 {
    match gofer_run(state_dir) {
        Ok(()) => 0,
        Err(e) => {
            crate::log::error(&format!("gofer: {e}"));
            1
        }
    }
}

fn gofer_run(state_dir: &Path) -> Result<(), String> {
    let data = std::fs::read(state_dir.join(state::SANDBOX_FILE))
        .map_err(|e| format!("read sandbox.json: {e}"))?;
    let info: container::SandboxInfo =
        serde_json::from_slice(&data).map_err(|e| format!("parse sandbox.json: {e}"))?;
    // SAFETY: create passed the channels at fds 3.. and nothing else owns them.
    let channels: Vec<OwnedFd> = (0..info.gofer_channels)
        .map(|i| unsafe { OwnedFd::from_raw_fd(container::FIRST_ROLE_FD + i as i32) })
        .collect();
    let init_pidfd =
        crate::sentry::sys::pidfd_open(info.init_pid).map_err(|e| format!("pidfd of init: {e}"))?;
    // Made now, with every capability and one thread; without it (the
    // host's pid namespace, or a kernel refusing) the workload's writes to
    // its comm and oom_score_adj fail with EACCES, as before.
    let proc_mount = match crate::gofer::procmount::container_proc_mount(info.init_pid) {
        Ok(m) => m.map(std::sync::Arc::new),
        Err(e) => {
            crate::log::warn(&format!(
                "gofer: no procfs for /proc/<pid>/comm writes: {e}"
            ));
            None
        }
    };
    let mntns = std::fs::File::open(format!("/proc/{}/ns/mnt", info.init_pid))
        .map_err(|e| format!("open init's mount namespace: {e}"))?;
    nix::sched::setns(&mntns, nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| format!("join the container's mount namespace: {e}"))?;
    drop(mntns);
    nix::unistd::chdir("/").map_err(|e| format!("chdir /: {e}"))?;
    let root: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open("/")
        .map_err(|e| format!("open the container root: {e}"))?
        .into();
    let config = crate::gofer::GoferConfig {
        synthetic_mounts: crate::sentry::vfs::SYNTHETIC_MOUNTS
            .iter()
            .map(|m| m.mount_point().to_string())
            .collect(),
        served_inside_synthetic: info.gofer_subtrees.clone(),
        proc_mount,
    };
    crate::gofer::confine::confine_gofer(&init_pidfd).map_err(|e| format!("confine: {e}"))?;
    let result = crate::gofer::serve(root, channels, config).map_err(|e| e.to_string());
    crate::sentry::sys::kill_pidfd(&init_pidfd);
    result
}

use std::os::unix::fs::OpenOptionsExt;
