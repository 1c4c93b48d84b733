//! The OCI front end: runc's commands and semantics, and the internal roles.

pub mod cgroups;
pub mod cli;
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
pub mod tty;
pub mod userns;

use std::io::Write;

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
        Command::Conformance(a) => crate::conformance::main(a).map_err(Error::Conformance),
        Command::Boot(a) => return crate::sentry::boot::main(&a.state_dir),
        Command::Gofer(a) => return crate::gofer::boot::main(&a.state_dir),
        Command::Init(a) => return init::main(&a.state_dir, g.platform, a.preserve_fds),
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
fn checkpoint_unsupported(cmd: &'static str, id: &str) -> Error {
    Error::CheckpointUnsupported {
        cmd,
        id: id.to_string(),
    }
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
    // As runc: OOM kills as they happen, stats after every interval
    // (the first after one interval), until the container stops.
    let mut oom = match manage::watch_oom(g, &a.id) {
        Ok(w) => w,
        Err(Error::NotRunning(_)) => return Ok(0),
        // A kernel without v1 OOM notifications (cgroup.event_control)
        // still gets its stats.
        Err(e) => {
            crate::log::warn(&format!("events: no OOM notifications: {e}"));
            cgroups::OomWatch::Done
        }
    };
    let mut out = std::io::stdout();
    loop {
        let deadline = std::time::Instant::now() + a.interval;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            for _ in 0..oom.wait(left) {
                // runc's field order (type first), which tools match on.
                let id = serde_json::to_string(&a.id).unwrap_or_default();
                let line = format!(r#"{{"type":"oom","id":{id}}}"#);
                if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                    return Ok(0);
                }
            }
        }
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
    }
}
