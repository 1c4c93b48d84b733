//! The container's state directory (`--root/<id>/`) and its status.
//!
//! Layout: `state.json` (this file's `State`), `spec.json` (the validated
//! spec the roles read), `exec.fifo` (exists while the container is
//! created-but-not-started), `lock`, and while create runs `partial.json`
//! (its cgroup and pids so far, for `delete --force` after a killed create).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};

pub const STATE_FILE: &str = "state.json";
pub use crate::sandbox::{SANDBOX_FILE, SPEC_FILE};
pub const EXEC_FIFO: &str = "exec.fifo";
pub const LOCK_FILE: &str = "lock";

/// A process identified by pid and start time, so that a recycled pid is
/// never mistaken for ours.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcId {
    pub pid: i32,
    pub start_time: u64,
}

impl ProcId {
    pub fn of(pid: i32) -> Option<ProcId> {
        proc_stat(pid).map(|(start_time, _)| ProcId { pid, start_time })
    }
    /// Alive and not a zombie.
    pub fn alive(&self) -> bool {
        matches!(proc_stat(self.pid), Some((t, state)) if t == self.start_time && state != 'Z' && state != 'X')
    }
}

/// (starttime, state) from /proc/<pid>/stat; the comm field may contain
/// spaces and parentheses, so the fields are split after the last ')'.
fn proc_stat(pid: i32) -> Option<(u64, char)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // starttime is field 22 of the whole line, the 20th after the comm.
    let start = fields.nth(18)?.parse().ok()?;
    Some((start, state))
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    pub init: ProcId,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub sentry: Option<ProcId>,
    pub gofer: Option<ProcId>,
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub init_pidns_inode: u64,
    /// The pid namespace was joined by path (a Kubernetes pod with
    /// shareProcessNamespace): it holds other containers' processes too.
    #[serde(default)]
    pub joined_pidns: bool,
    /// init's user namespace (every runrs container has its own): in a
    /// joined pid namespace, the container's processes are the ones in it.
    #[serde(default)]
    pub init_userns_inode: u64,
    /// The workload's cgroup, relative to each hierarchy's root.
    #[serde(default)]
    pub cgroup: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

pub struct StateDir {
    pub path: PathBuf,
}

impl StateDir {
    pub fn new(root: &Path, id: &str) -> StateDir {
        StateDir {
            path: root.join(id),
        }
    }
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
    pub fn exists(&self) -> bool {
        self.file(STATE_FILE).exists() || self.path.is_dir()
    }

    /// Takes the container's lock (released when the returned file is dropped).
    pub fn lock(&self) -> Result<nix::fcntl::Flock<fs::File>> {
        let p = self.file(LOCK_FILE);
        let f = fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&p)
            .map_err(Error::io("lock", &p))?;
        nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| Error::sys("flock")(e))
    }

    pub fn load(&self, id: &str) -> Result<State> {
        let p = self.file(STATE_FILE);
        let data = fs::read(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NotExist(id.to_string())
            } else {
                Error::io("read state", &p)(e)
            }
        })?;
        serde_json::from_slice(&data).map_err(|e| Error::State {
            id: id.to_string(),
            msg: format!("{}: {e}", p.display()),
        })
    }

    pub fn save(&self, state: &State) -> Result<()> {
        let p = self.file(STATE_FILE);
        let tmp = self.file("state.json.tmp");
        let data = serde_json::to_vec(state).map_err(Error::Encode)?;
        let mut f = fs::File::create(&tmp).map_err(Error::io("write state", &tmp))?;
        f.write_all(&data).map_err(Error::io("write state", &tmp))?;
        fs::rename(&tmp, &p).map_err(Error::io("write state", &p))
    }

    pub fn status(&self, state: &State) -> Status {
        if !state.init.alive() {
            Status::Stopped
        } else if self.file(EXEC_FIFO).exists() {
            Status::Created
        } else if state
            .cgroup
            .as_deref()
            .is_some_and(|c| super::cgroups::Cgroup::at(c).is_frozen())
        {
            Status::Paused
        } else {
            Status::Running
        }
    }
}

/// The OCI state JSON, in runc's field order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OciState<'a> {
    pub oci_version: &'static str,
    pub id: &'a str,
    pub pid: i32,
    pub status: &'static str,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub created: &'a str,
    pub owner: &'a str,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: &'a std::collections::BTreeMap<String, String>,
}

pub fn oci_state(state: &State, status: Status) -> OciState<'_> {
    OciState {
        oci_version: "1.0.2-dev",
        id: &state.id,
        pid: if status == Status::Stopped {
            0
        } else {
            state.init.pid
        },
        status: status.as_str(),
        bundle: &state.bundle,
        rootfs: &state.rootfs,
        created: &state.created,
        owner: "",
        annotations: &state.annotations,
    }
}

/// runc's rule for ids: `^[\w+-\.]+$`, and never `.` or `..`.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 1024
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidId(id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_runc_rules() {
        for good in ["a", "abc-1.2_3+4", &"f".repeat(64)] {
            assert!(validate_id(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "../x", "x\0"] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn own_process_is_alive_and_recycled_pid_is_not() {
        let me = ProcId::of(std::process::id() as i32).expect("own stat");
        assert!(me.alive());
        let other = ProcId {
            pid: me.pid,
            start_time: me.start_time + 1,
        };
        assert!(!other.alive());
    }
}
