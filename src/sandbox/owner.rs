//! The sandbox's owner uid: a host uid of its own, from a reserved range,
//! that owns the sandbox's user namespace and that the sentry runs as.
//!
//! Linux gives the owner (euid) of a user namespace every capability in it
//! when the process is in the namespace's parent (cap_capable), so a
//! sentry that runs as its sandbox's owner and holds no capability still
//! reaches its own workload (ptrace access: pidfd_getfd, process_vm_*,
//! /proc/<pid>; signals) and no other sandbox's, whose namespaces another
//! uid owns; its `hidepid=invisible` /proc shows it only its own workload.
//!
//! The range is the top of the id space, 0xffff0000..=0xfffffffe
//! ((uid_t)-1 stays invalid); owners are taken from its first [`COUNT`]
//! ids, leaving out 0xfffffffe, which older systems name nfsnobody and
//! may run processes as. No workload may
//! ever become one of them, or it could signal another sandbox's sentry:
//! the identity map of a sandbox without a user namespace in its spec
//! stops below [`FIRST`] (`IdMap::identity`), and a spec mapping whose
//! host ids reach into the range is refused (`runsc::spec`). The same
//! numbers serve as the sentry's gid.
//!
//! One registry per host, [`REGISTRY`] (not under `--root`: Docker and
//! containerd use a root per namespace, and the ids must differ across
//! all of them): a file per uid in use, named by the uid, holding the
//! device, inode and path of the sandbox's state directory. A uid is taken
//! under an exclusive flock of the registry's lock file; an entry whose
//! state directory is gone (or is another directory now) is free again,
//! so a sandbox that vanished without `delete` leaks nothing for long.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The first reserved owner id.
pub const FIRST: u32 = 0xffff_0000;
/// How many owner uids there are (up to 0xfffffffd).
pub const COUNT: u32 = 0xfffe;

/// The host-wide registry of owner uids in use.
pub const REGISTRY: &str = "/run/runrs-owners";

/// Whether host id range `first`..`first + count` reaches into the
/// reserved owner ids.
pub fn overlaps_reserved(first: u32, count: u32) -> bool {
    count > 0 && u64::from(first) + u64::from(count) > u64::from(FIRST)
}

/// Where the registry is and how to read it.
pub struct Registry {
    dir: PathBuf,
}

impl Registry {
    /// The host's registry ([`REGISTRY`]).
    pub fn host() -> Registry {
        Registry::at(Path::new(REGISTRY))
    }

    pub fn at(dir: &Path) -> Registry {
        Registry {
            dir: dir.to_path_buf(),
        }
    }

    /// Takes a free owner uid for the sandbox whose state directory is
    /// `state_dir` (which must exist: it is how the entry stays taken).
    pub fn allocate(&self, state_dir: &Path) -> io::Result<u32> {
        let state_dir = &std::path::absolute(state_dir)?;
        let me = fs::metadata(state_dir)?;
        let record = format!("{} {} {}", me.dev(), me.ino(), state_dir.to_string_lossy());
        let _lock = self.lock()?;
        // Start at a place that depends on the directory, so that a full
        // scan is rare.
        let start = (me.ino() ^ me.dev()) as u32 % COUNT;
        for i in 0..COUNT {
            let uid = FIRST + (start + i) % COUNT;
            let entry = self.dir.join(uid.to_string());
            match fs::read_to_string(&entry) {
                Ok(text) if live(uid, &text) => continue,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let tmp = self.dir.join(format!(".{uid}.tmp"));
            fs::write(&tmp, &record)?;
            fs::rename(&tmp, &entry)?;
            return Ok(uid);
        }
        Err(io::Error::other(format!(
            "all {COUNT} sandbox owner uids are in use ({})",
            self.dir.display()
        )))
    }

    /// Gives `uid` back, if the sandbox at `state_dir` holds it and no
    /// process runs as it any more.
    pub fn free(&self, uid: u32, state_dir: &Path) {
        if uid < FIRST || uid - FIRST >= COUNT {
            return;
        }
        let Ok(state_dir) = std::path::absolute(state_dir) else {
            return;
        };
        let state_dir = state_dir.as_path();
        let Ok(_lock) = self.lock() else {
            return;
        };
        let entry = self.dir.join(uid.to_string());
        let Ok(text) = fs::read_to_string(&entry) else {
            return;
        };
        // A process still running as it (a sentry that outlived its
        // delete's wait) keeps it: the entry is then freed as stale.
        if record_path(&text) == Some(state_dir) && !uid_in_use(uid) {
            let _ = fs::remove_file(entry);
        }
    }

    fn lock(&self) -> io::Result<nix::fcntl::Flock<fs::File>> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        let f = fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .mode(0o600)
            .open(self.dir.join("lock"))?;
        nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| io::Error::from(e))
    }
}

/// The owner uid of the sandbox whose processes live in the pid
/// namespace at `pid_ns` (a pod's pause container under
/// `shareProcessNamespace`, or `--pid=container:X`), if a runrs sandbox
/// owns one. A sandbox that joins it shares that uid: its sentry then sees
/// and reaches the processes of the containers it shares the namespace
/// with, as they see each other (their memory, environment and fds stay
/// out of reach: each has a user namespace of its own, see
/// `HostProc::userns_within`), and still no other sandbox's.
pub fn of_pid_namespace(pid_ns: &Path) -> Option<u32> {
    use std::os::fd::AsFd;
    let target = fs::metadata(pid_ns).ok()?;
    for dir in process_dirs().ok()? {
        let same_ns = fs::metadata(dir.join("ns/pid"))
            .is_ok_and(|m| (m.dev(), m.ino()) == (target.dev(), target.ino()));
        if !same_ns {
            continue;
        }
        let Ok(userns) = fs::File::open(dir.join("ns/user")) else {
            continue;
        };
        if let Ok(uid) = super::sys::ns_owner_uid(userns.as_fd()) {
            if (FIRST..FIRST + COUNT).contains(&uid) {
                return Some(uid);
            }
        }
    }
    None
}

fn record_path(text: &str) -> Option<&Path> {
    let mut parts = text.splitn(3, ' ');
    let (_, _, path) = (parts.next()?, parts.next()?, parts.next()?);
    Some(Path::new(path))
}

/// Whether an entry is taken: its state directory is still the one it
/// names, or a process still runs as its uid (a sentry whose state
/// directory was removed under it must not share its uid with a new
/// sandbox's).
fn live(uid: u32, text: &str) -> bool {
    let mut parts = text.splitn(3, ' ');
    let dir_live = match (parts.next(), parts.next(), parts.next()) {
        (Some(dev), Some(ino), Some(path)) => fs::metadata(path)
            .is_ok_and(|m| dev.parse() == Ok(m.dev()) && ino.parse() == Ok(m.ino())),
        _ => false,
    };
    dir_live || uid_in_use(uid)
}

/// Whether a host process has `uid` as its real, effective, saved or file
/// system uid (from /proc/<pid>/status; unreadable ones are gone, and a
/// zombie, a killed sentry its new parent has not reaped yet, can do
/// nothing).
pub fn uid_in_use(uid: u32) -> bool {
    let Ok(dirs) = process_dirs() else {
        // No /proc: assume the worst.
        return true;
    };
    dirs.into_iter().any(|dir| {
        fs::read_to_string(dir.join("status")).is_ok_and(|s| {
            !s.contains("\nState:\tZ")
                && s.lines()
                    .find_map(|l| l.strip_prefix("Uid:"))
                    .is_some_and(|ids| ids.split_whitespace().any(|id| id.parse() == Ok(uid)))
        })
    })
}

/// The host's /proc/<pid> directories.
fn process_dirs() -> io::Result<Vec<PathBuf>> {
    Ok(fs::read_dir("/proc")?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .map(|e| e.path())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("runrs-owner-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("mkdir");
        p
    }

    #[test]
    fn live_sandboxes_get_distinct_uids_and_freed_ones_come_back() {
        let base = tmp("alloc");
        let reg = Registry::at(&base.join("reg"));
        let dirs: Vec<PathBuf> = (0..5).map(|i| base.join(format!("s{i}"))).collect();
        let mut uids = Vec::new();
        for d in &dirs {
            fs::create_dir(d).expect("state dir");
            let uid = reg.allocate(d).expect("allocate");
            assert!((FIRST..FIRST + COUNT).contains(&uid), "{uid}");
            uids.push(uid);
        }
        let mut sorted = uids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), uids.len(), "{uids:?}");
        // Freed by delete: the entry is gone.
        reg.free(uids[0], &dirs[0]);
        assert!(!reg.dir.join(uids[0].to_string()).exists());
        // Another sandbox's free does not take it.
        reg.free(uids[1], &dirs[2]);
        assert!(reg.dir.join(uids[1].to_string()).exists());
        // A vanished state dir frees its uid: the same directory made
        // again (a new inode) gets the same starting slot back.
        fs::remove_dir(&dirs[1]).expect("rmdir");
        fs::create_dir(&dirs[1]).expect("mkdir again");
        let again = reg.allocate(&dirs[1]).expect("allocate");
        assert!(!uids[2..].contains(&again), "{again} is live");
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn concurrent_allocations_never_share() {
        let base = tmp("race");
        let reg_dir = base.join("reg");
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let d = base.join(format!("s{i}"));
                fs::create_dir(&d).expect("state dir");
                let reg_dir = reg_dir.clone();
                std::thread::spawn(move || Registry::at(&reg_dir).allocate(&d).expect("allocate"))
            })
            .collect();
        let mut uids: Vec<u32> = handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect();
        uids.sort();
        uids.dedup();
        assert_eq!(uids.len(), 8);
        let _ = fs::remove_dir_all(&base);
    }

    /// A process running as an owner uid keeps it taken, whether or not
    /// its state directory is still there; once reaped, it does not.
    #[test]
    fn a_live_process_of_the_uid_keeps_it() {
        use std::os::unix::process::CommandExt;
        let uid = FIRST + COUNT - 1;
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("100");
        // SAFETY: the closure runs in the forked child before exec and
        // makes one raw syscall.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setresuid(uid, uid, uid) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("sleep as the owner uid");
        assert!(uid_in_use(uid));
        assert!(live(uid, "1 2 /nonexistent/state/dir"));
        child.kill().expect("kill");
        child.wait().expect("wait");
        assert!(!uid_in_use(uid));
        assert!(!live(uid, "1 2 /nonexistent/state/dir"));
    }

    #[test]
    fn the_reserved_range_is_the_top_of_the_id_space() {
        assert_eq!(u64::from(FIRST) + u64::from(COUNT), u64::from(u32::MAX) - 1);
        assert!(!overlaps_reserved(0, FIRST));
        assert!(overlaps_reserved(0, FIRST + 1));
        assert!(overlaps_reserved(FIRST + 10, 1));
        assert!(!overlaps_reserved(100000, 65536));
        assert!(!overlaps_reserved(FIRST, 0));
    }
}
