//! The command line, as runc takes it: global flags before the subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::conformance::ConformanceArgs;
use crate::log::Format;
pub use crate::sandbox::{FileAccess, PlatformKind};

// The roles' enums are plain (`crate::sandbox`); the command line's names
// and help for them live here.
impl clap::ValueEnum for PlatformKind {
    fn value_variants<'a>() -> &'a [Self] {
        &[PlatformKind::Seccomp, PlatformKind::Ptrace]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            PlatformKind::Seccomp => PossibleValue::new("seccomp")
                .help("seccomp user notification (SECCOMP_RET_USER_NOTIF)"),
            PlatformKind::Ptrace => {
                PossibleValue::new("ptrace").help("PTRACE_SEIZE with SECCOMP_RET_TRACE")
            }
        })
    }
}

impl clap::ValueEnum for FileAccess {
    fn value_variants<'a>() -> &'a [Self] {
        &[FileAccess::Exclusive, FileAccess::Shared]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            FileAccess::Exclusive => PossibleValue::new("exclusive").help(
                "Only this sandbox changes the root: the sentry keeps the directories \
                 it walked (a stat in one is answered without the gofer)",
            ),
            FileAccess::Shared => PossibleValue::new("shared")
                .help("Others may change it too: every lookup asks the gofer"),
        })
    }
}

/// runc's help layout (urfave/cli's), which people and scripts know:
/// NAME:, USAGE:, VERSION:, COMMANDS:, GLOBAL OPTIONS: sections.
const HELP_TEMPLATE: &str = "NAME:\n   {name} - {about}\n\nUSAGE:\n   {usage}\n\n\
VERSION:\n   {version}\n\nCOMMANDS:\n{subcommands}\n\nGLOBAL OPTIONS:\n{options}\n";

/// A command's help as runc's: NAME: (`runrs create - ...`), USAGE:,
/// OPTIONS: (clap's `{name}` would say `runrs-create`).
fn command_help_template(name: &str) -> String {
    format!("NAME:\n   runrs {name} - {{about}}\n\nUSAGE:\n   {{usage}}\n\nOPTIONS:\n{{options}}\n")
}

/// The command line with runc's help layout.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
        .help_template(HELP_TEMPLATE)
        .override_usage("runrs [global options] command [command options] [arguments...]")
        .mut_subcommands(|c| {
            let template = command_help_template(c.get_name());
            c.help_template(template)
        })
}

/// Parses the process's arguments (see [`command`]).
pub fn try_parse() -> Result<Cli, clap::Error> {
    let matches = command().try_get_matches()?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches)
}

#[derive(Parser, Debug)]
#[command(
    name = "runrs",
    version = concat!("version ", env!("CARGO_PKG_VERSION"), "\nspec: 1.0.2-dev"),
    // `-v` and `--version`, as runc's (clap's own flag is `-V`).
    disable_version_flag = true,
    about = "An OCI runtime that runs containers inside a user-space syscall sandbox"
)]
pub struct Cli {
    /// Print the version.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    pub version: Option<bool>,
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalOpts {
    /// Root directory for the containers' state.
    #[arg(long, global = true, default_value = "/run/runrs")]
    pub root: PathBuf,
    /// Log file (appended to).
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Format of the log file.
    #[arg(long = "log-format", global = true, value_enum, default_value = "text")]
    pub log_format: Format,
    /// Log debug messages.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Accepted for runc compatibility (cgroups are managed through cgroupfs).
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// Accepted for runc compatibility.
    #[arg(long, global = true, hide = true)]
    pub criu: Option<PathBuf>,
    /// Accepted for runc compatibility.
    #[arg(long, global = true, hide = true)]
    pub rootless: Option<String>,
    /// How syscalls reach the sentry.
    #[arg(long, global = true, value_enum, default_value = "seccomp")]
    pub platform: PlatformKind,
    /// Log every syscall the sentry handles (task, name, decoded arguments, result).
    #[arg(long, global = true)]
    pub strace: bool,
    /// Whether the container's root is changed only by this sandbox.
    #[arg(
        long = "file-access",
        global = true,
        value_enum,
        default_value = "exclusive"
    )]
    pub file_access: FileAccess,
    /// Append the audit trail (denied syscalls, lifecycle events; JSON
    /// lines) to this file too. Given to create; later commands follow it.
    #[arg(long = "audit-log", global = true)]
    pub audit_log: Option<PathBuf>,
    /// Keep no syscall counters for a new sandbox (runrs metrics and
    /// metrics-server then show only its processes and cgroup).
    #[arg(long = "no-metrics", global = true)]
    pub no_metrics: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new specification file (config.json) for a bundle.
    Spec(SpecArgs),
    /// Create a container: the workload is blocked before the user's program until `start`.
    Create(CreateArgs),
    /// Start a created container.
    Start(IdArg),
    /// Output the OCI state of a container.
    State(IdArg),
    /// Send a signal to the container's init (or to all its processes).
    Kill(KillArgs),
    /// Delete a container and everything it left.
    Delete(DeleteArgs),
    /// Create and start a container, and wait for it; exits with its status.
    Run(RunArgs),
    /// Run a new process inside a running container, under the same sentry.
    Exec(ExecArgs),
    /// Freeze every process of the container.
    Pause(IdArg),
    /// Thaw a paused container.
    Resume(IdArg),
    /// List the container's processes.
    Ps(PsArgs),
    /// Change the container's resource limits.
    Update(UpdateArgs),
    /// Container events: OOM kills as they happen and resource statistics (--stats: once).
    Events(EventsArgs),
    /// What this runtime supports (JSON).
    Features,
    /// A container's syscall, gofer and resource figures, once (a table).
    Metrics(MetricsArgs),
    /// Serve every sandbox's metrics under --root at /metrics (Prometheus text format).
    MetricsServer(MetricsServerArgs),
    /// Not supported: checkpoint a running container with CRIU (fails, saying so).
    Checkpoint(CheckpointArgs),
    /// Not supported: restore a container from a CRIU checkpoint (fails, saying so).
    Restore(RestoreArgs),
    /// Register runrs as a Docker runtime in daemon.json.
    Install(InstallArgs),
    /// Remove the runtime from daemon.json.
    Uninstall(InstallArgs),
    /// List containers.
    List(ListArgs),
    /// Run the prebuilt syscall conformance suite natively and in runtimes.
    Conformance(ConformanceArgs),
    /// The sentry (internal).
    #[command(hide = true)]
    Boot(RoleArgs),
    /// The gofer (internal).
    #[command(hide = true)]
    Gofer(RoleArgs),
    /// The container's init before exec (internal).
    #[command(hide = true)]
    Init(RoleArgs),
}

#[derive(Args, Debug)]
pub struct SpecArgs {
    /// Directory to write config.json into.
    #[arg(long, short = 'b', default_value = ".")]
    pub bundle: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct CreateArgs {
    /// Path to the bundle directory.
    #[arg(long, short = 'b', default_value = ".")]
    pub bundle: PathBuf,
    /// File to write the container init's pid to.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Unix socket to send the pty master to (process.terminal).
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Accepted for runc compatibility.
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Accepted for runc compatibility.
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Pass N additional fds to the container's process (the caller's
    /// 3..3+N, at 3..3+N): host fds, handed over on purpose.
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Container id.
    pub id: String,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub create: CreateArgs,
    /// Do not wait for the container; leave it running.
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// Keep the container's state after it exits.
    #[arg(long)]
    pub keep: bool,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// A JSON file with the process to run (OCI `process`); replaces the
    /// command line and the other process flags.
    #[arg(long, short = 'p')]
    pub process: Option<PathBuf>,
    /// Return once the process started, leaving it to the caller (a shim).
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// File to write the new process's pid to.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Unix socket to send the pty master to.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Allocate a pseudo-TTY.
    #[arg(long, short = 't')]
    pub tty: bool,
    /// Working directory in the container.
    #[arg(long)]
    pub cwd: Option<String>,
    /// Extra environment variables (KEY=VALUE).
    #[arg(long, short = 'e')]
    pub env: Vec<String>,
    /// UID[:GID] to run as.
    #[arg(long, short = 'u')]
    pub user: Option<String>,
    /// Exec in a paused container too: the process waits, frozen, until
    /// the container is resumed.
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,
    /// Set no_new_privs for the process (runc's `--no-new-privs`).
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    /// A supplementary group for the process, added to the container's
    /// (`user.additionalGids`); repeatable.
    #[arg(long = "additional-gids", short = 'g')]
    pub additional_gids: Vec<u32>,
    /// A capability to add to the process's bounding, effective and
    /// permitted sets (and ambient, when it has inheritable ones), as
    /// runc's `--cap`; repeatable.
    #[arg(long = "cap", short = 'c')]
    pub cap: Vec<String>,
    /// Pass N additional fds to the process (the caller's 3..3+N, at
    /// 3..3+N): host fds, handed over on purpose.
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Run the process in an existing sub-cgroup of the container's:
    /// `[<controller>[,<controller>...]:]<path>`, repeatable (cgroup v1
    /// takes one per controller).
    #[arg(long = "cgroup")]
    pub cgroup: Vec<String>,
    /// Accepted for runc compatibility.
    #[arg(long = "process-label")]
    pub process_label: Option<String>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    pub apparmor: Option<String>,
    /// Container id.
    pub id: String,
    /// The command and its arguments (without --process).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// table or json.
    #[arg(long, short = 'f', default_value = "table")]
    pub format: String,
    pub id: String,
    /// Arguments for the host's ps (table format).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// A JSON file (or - for stdin) with OCI LinuxResources.
    #[arg(long, short = 'r')]
    pub resources: Option<PathBuf>,
    /// Memory limit (in bytes, or with a unit: 64m, 1g).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_ram_in_bytes)]
    pub memory: Option<i64>,
    /// Memory reservation or soft_limit (in bytes, or with a unit).
    #[arg(long = "memory-reservation", allow_negative_numbers = true, value_parser = parse_ram_in_bytes)]
    pub memory_reservation: Option<i64>,
    /// Total memory usage (memory + swap); -1: unlimited.
    #[arg(long = "memory-swap", allow_negative_numbers = true, value_parser = parse_ram_in_bytes)]
    pub memory_swap: Option<i64>,
    /// Deprecated and ignored, as by runc.
    #[arg(long = "kernel-memory", allow_negative_numbers = true, value_parser = parse_ram_in_bytes)]
    pub kernel_memory: Option<i64>,
    /// Deprecated and ignored, as by runc.
    #[arg(long = "kernel-memory-tcp", allow_negative_numbers = true, value_parser = parse_ram_in_bytes)]
    pub kernel_memory_tcp: Option<i64>,
    /// -1: no quota.
    #[arg(long = "cpu-quota", allow_negative_numbers = true)]
    pub cpu_quota: Option<i64>,
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<u64>,
    #[arg(long = "cpu-share")]
    pub cpu_shares: Option<u64>,
    /// CPU realtime period (in usecs).
    #[arg(long = "cpu-rt-period")]
    pub cpu_rt_period: Option<u64>,
    /// CPU realtime runtime (in usecs).
    #[arg(long = "cpu-rt-runtime", allow_negative_numbers = true)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPU(s) to use.
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// Memory node(s) to use.
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Block IO weight, 10 to 1000.
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
    #[arg(long = "pids-limit", allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Print the statistics once and exit.
    #[arg(long)]
    pub stats: bool,
    /// Print the audit trail (denied syscalls, lifecycle events; JSON
    /// lines), then its new lines every interval until the container stops.
    #[arg(long, conflicts_with = "stats")]
    pub audit: bool,
    /// Interval between stats (without --stats): a Go duration, e.g. 5s, 100ms, 1m30s.
    #[arg(long, default_value = "5s", value_parser = parse_go_duration)]
    pub interval: std::time::Duration,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct MetricsArgs {
    /// table, json, or prometheus (this container's part of /metrics).
    #[arg(long, short = 'f', default_value = "table")]
    pub format: String,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct MetricsServerArgs {
    /// Where to serve: HOST:PORT (e.g. 127.0.0.1:9100) or unix:PATH; may be repeated.
    #[arg(long, required = true)]
    pub listen: Vec<String>,
}

/// The CRIU flags runc's `checkpoint` and `restore` share.
#[derive(Args, Debug)]
pub struct CriuArgs {
    /// Path for the CRIU image files.
    #[arg(long = "image-path")]
    pub image_path: Option<PathBuf>,
    /// Path for saving work files and logs.
    #[arg(long = "work-path")]
    pub work_path: Option<PathBuf>,
    /// Allow open TCP connections.
    #[arg(long = "tcp-established")]
    pub tcp_established: bool,
    /// Allow external unix sockets.
    #[arg(long = "ext-unix-sk")]
    pub ext_unix_sk: bool,
    /// Allow shell jobs.
    #[arg(long = "shell-job")]
    pub shell_job: bool,
    /// Use userfaultfd to lazily restore memory pages.
    #[arg(long = "lazy-pages")]
    pub lazy_pages: bool,
    /// Handle file locks.
    #[arg(long = "file-locks")]
    pub file_locks: bool,
    /// cgroups mode: soft, full or strict.
    #[arg(long = "manage-cgroups-mode")]
    pub manage_cgroups_mode: Option<String>,
    /// Create a namespace, but do not restore its properties.
    #[arg(long = "empty-ns")]
    pub empty_ns: Option<String>,
    /// Enable auto deduplication of memory images.
    #[arg(long = "auto-dedup")]
    pub auto_dedup: bool,
}

/// runc's `checkpoint` flags, accepted so that a runc command line parses
/// and gets runrs's one-line refusal (see `runsc::checkpoint`).
#[derive(Args, Debug)]
pub struct CheckpointArgs {
    #[command(flatten)]
    pub criu: CriuArgs,
    /// Path for previous CRIU image files in pre-dump.
    #[arg(long = "parent-path")]
    pub parent_path: Option<PathBuf>,
    /// Leave the process running after checkpointing.
    #[arg(long = "leave-running")]
    pub leave_running: bool,
    /// CRIU writes \0 to this fd once lazy-pages is ready.
    #[arg(long = "status-fd", allow_hyphen_values = true)]
    pub status_fd: Option<i32>,
    /// ADDRESS:PORT of the page server.
    #[arg(long = "page-server")]
    pub page_server: Option<String>,
    /// Dump the container's memory only, leaving it running.
    #[arg(long = "pre-dump")]
    pub pre_dump: bool,
    /// Container id.
    pub id: String,
}

/// runc's `restore` flags, accepted for the same reason as
/// [`CheckpointArgs`].
#[derive(Args, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub criu: CriuArgs,
    /// Unix socket to send the pty master to.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Path to the bundle directory.
    #[arg(long, short = 'b')]
    pub bundle: Option<PathBuf>,
    /// Detach from the container's process.
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// File to write the process id to.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Do not use a subreaper.
    #[arg(long = "no-subreaper")]
    pub no_subreaper: bool,
    /// Do not use pivot_root.
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// An LSM profile, TYPE:NAME.
    #[arg(long = "lsm-profile")]
    pub lsm_profile: Option<String>,
    /// An LSM mount context.
    #[arg(long = "lsm-mount-context")]
    pub lsm_mount_context: Option<String>,
    /// Container id.
    pub id: String,
}

#[derive(Args, Debug, Clone)]
pub struct InstallArgs {
    /// The runtime's name in Docker.
    #[arg(long, default_value = "runrs")]
    pub runtime: String,
    /// Docker's daemon.json [default: /etc/docker/daemon.json].
    #[arg(long = "config-file")]
    pub config_file: Option<PathBuf>,
    /// The binary Docker runs, an absolute path (install only) [default:
    /// this runrs binary].
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// Arguments Docker passes to runrs (after --), e.g. -- --strace.
    #[arg(last = true)]
    pub runtime_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct IdArg {
    pub id: String,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal every process of the container.
    #[arg(long, short = 'a')]
    pub all: bool,
    pub id: String,
    /// Signal name or number (default SIGTERM).
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Kill a running container before deleting it; an unknown id is not an error.
    #[arg(long, short = 'f')]
    pub force: bool,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// table or json.
    #[arg(long, short = 'f', default_value = "table")]
    pub format: String,
    /// Print only the ids.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct RoleArgs {
    /// The container's state directory.
    #[arg(long = "state-dir")]
    pub state_dir: PathBuf,
    /// init: the caller's `--preserve-fds`, at 4.. (after the sync socket).
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
}

/// A size as runc's memory flags take them (go-units' RAMInBytes): a
/// number, optionally with a binary unit (k, m, g, t, p, optionally
/// followed by "b" or "ib", any case); "-1" stays -1 (unlimited).
pub fn parse_ram_in_bytes(s: &str) -> Result<i64, String> {
    if s == "-1" {
        return Ok(-1);
    }
    let bad = || format!("invalid size: '{s}'");
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim_start().to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let mult: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024f64.powi(2),
        "g" => 1024f64.powi(3),
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return Err(bad()),
    };
    Ok((n * mult) as i64)
}

/// A Go duration as runc's flags take them (`time.ParseDuration`): one or
/// more decimal numbers, each with a unit (ns, us, µs, ms, s, m, h), e.g.
/// `1.5s`, `100ms`, `1h2m`; it must be greater than 0, as runc's
/// `events --interval` requires.
pub fn parse_go_duration(s: &str) -> Result<std::time::Duration, String> {
    const UNITS: [(&str, f64); 8] = [
        ("ns", 1e-9),
        ("us", 1e-6),
        ("\u{b5}s", 1e-6),
        ("\u{3bc}s", 1e-6),
        ("ms", 1e-3),
        ("s", 1.0),
        ("m", 60.0),
        ("h", 3600.0),
    ];
    let bad = || format!("invalid duration {s:?} (e.g. 5s, 100ms, 1m30s)");
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.is_empty() || rest.starts_with('-') {
        return Err(format!("duration {s:?} must be greater than 0"));
    }
    let mut secs = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = UNITS
            .iter()
            .find(|(u, _)| *u == &rest[..unit_len])
            .map(|&(_, scale)| scale)
            .ok_or_else(bad)?;
        rest = &rest[unit_len..];
        secs += num * scale;
    }
    if secs <= 0.0 {
        return Err(format!("duration {s:?} must be greater than 0"));
    }
    std::time::Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ram_in_bytes_as_go_units() {
        assert_eq!(parse_ram_in_bytes("-1"), Ok(-1));
        assert_eq!(parse_ram_in_bytes("4096"), Ok(4096));
        assert_eq!(parse_ram_in_bytes("32m"), Ok(32 << 20));
        assert_eq!(parse_ram_in_bytes("1.5m"), Ok(1_572_864));
        assert_eq!(parse_ram_in_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_ram_in_bytes("1 kb"), Ok(1024));
        assert_eq!(
            parse_ram_in_bytes("10X"),
            Err("invalid size: '10X'".to_string())
        );
        assert!(parse_ram_in_bytes("m").is_err());
    }

    #[test]
    fn go_durations() {
        let d = |s| parse_go_duration(s);
        assert_eq!(d("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(d("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(d("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(d("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(d("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(d("+2s"), Ok(Duration::from_secs(2)));
        for bad in ["", "5", "s", "5x", "1..2s", "-1s", "0s", "0", "ms5"] {
            assert!(d(bad).is_err(), "{bad:?} accepted");
        }
    }
}
