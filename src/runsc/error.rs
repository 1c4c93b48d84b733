//! Errors of the OCI front end: one variant per failing step, carrying the
//! path or field so that the one-line message names the problem.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid container id {0:?}: only letters, digits, '_', '+', '-' and '.' are allowed")]
    InvalidId(String),
    #[error("container with id exists: {0}")]
    Exists(String),
    #[error("container does not exist")]
    NotExist(String),
    #[error("container not running")]
    NotRunning(String),
    #[error("cannot start a container that has stopped")]
    StartStopped,
    #[error("cannot start an already running container")]
    StartRunning,
    #[error("cannot delete container {0} that is not stopped: {1}")]
    DeleteRunning(String, String),
    #[error("bundle {}: {source}", .path.display())]
    Bundle {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {msg}", .path.display())]
    LoadSpec { path: PathBuf, msg: String },
    #[error("config.json: {field}: {msg}")]
    Spec { field: &'static str, msg: String },
    #[error("state directory {}: {source}", .path.display())]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {}: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{step}: {source}")]
    Sys {
        step: &'static str,
        source: nix::Error,
    },
    #[error("unknown signal {0:?}")]
    Signal(String),
    #[error("console socket {}: {source}", .path.display())]
    ConsoleSocket {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("hook {}: {msg}", .path.display())]
    Hook { path: PathBuf, msg: String },
    #[error("unable to start container process: {0}")]
    Init(String),
    #[error("state of container {id}: {msg}")]
    State { id: String, msg: String },
    #[error("{0}")]
    Encode(#[source] serde_json::Error),
    #[error("{}: {source}", .path.display())]
    Decode {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("exec needs a command or --process")]
    ExecNoCommand,
    #[error("--user {0:?}: only numeric UID[:GID] is supported")]
    ExecUser(String),
    #[error("--cap {0:?}: unknown capability")]
    ExecCap(String),
    #[error("cannot exec in a stopped container")]
    ExecStopped,
    #[error("cannot exec in a paused container (use --ignore-paused to override)")]
    ExecPaused,
    #[error("cannot allocate tty if runrs will detach without setting console socket")]
    ExecTtyDetached,
    #[error("sentry control socket in {}: {source}", .dir.display())]
    SentryControl { dir: PathBuf, source: nix::Error },
    #[error("{0}")]
    SentrySync(#[source] crate::sandbox::sync::SyncError),
    #[error("sentry refused the process: {0}")]
    SentryRefused(String),
    #[error("sentry did not answer on its control socket")]
    SentrySilent,
    #[error("pty master: {0}")]
    PtyMaster(#[source] std::io::Error),
    #[error("cgroup {}: write {value:?}: {source}", .path.display())]
    CgroupWrite {
        path: PathBuf,
        value: String,
        source: std::io::Error,
    },
    #[error("the freezer cgroup is not available")]
    NoFreezer,
    #[error("cgroup did not reach {0} in 10 s")]
    FreezeTimeout(&'static str),
    #[error("{cmd} of container {id}: not supported by runrs: the sandbox's state (sentry and gofer) cannot be saved or restored with CRIU")]
    CheckpointUnsupported { cmd: &'static str, id: String },
    #[error(transparent)]
    Conformance(#[from] crate::conformance::ConformanceError),
    /// A command-line flag or argument the command cannot take (`msg`
    /// names it, in runc's words where runc has them).
    #[error("{msg}")]
    Usage { flag: &'static str, msg: String },
    /// `spec` will not overwrite a bundle's config.json (runc's words).
    #[error("File {} exists. Remove it first", .0.display())]
    SpecExists(PathBuf),
    /// The container is not in the state the command needs.
    #[error("{0}")]
    WrongStatus(String),
    /// A string handed to exec(2) holds a NUL byte.
    #[error("{what}: contains a NUL byte")]
    Nul { what: &'static str },
    /// A file runrs edits or reads holds something else than it expects.
    #[error("{}: {msg}", .path.display())]
    Content { path: PathBuf, msg: String },
    #[error("container {id}: {source}")]
    Metrics {
        id: String,
        source: crate::metrics::shm::ReadError,
    },
}

impl Error {
    pub fn sys(step: &'static str) -> impl FnOnce(nix::Error) -> Error {
        move |source| Error::Sys { step, source }
    }
    pub fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { what, path, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
