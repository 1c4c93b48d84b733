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
    Other(String),
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
