//! The virtual working directory of each workload process.
//!
//! The kernel keeps the cwd while it is a directory the kernel can walk
//! to: a gofer-backed one, or the (empty) mount points /proc and /sys.
//! Deeper synthetic directories (/proc/<pid>, /proc/sys/kernel,
//! /sys/kernel) do not exist in the kernel's view, so after a chdir or
//! fchdir there (or a chdir to a real directory the kernel cannot walk
//! to with the caller's string: `..` from such a directory, a path through
//! /proc/<pid>/root or cwd) the sentry records the sandbox path here and every
//! reader of the cwd asks it first: the sentry's relative path
//! resolution, getcwd, /proc/<pid>/cwd, and the calls the kernel finishes
//! itself (execve, O_PATH opens), which refuse a relative path then,
//! because the kernel would walk it from its own cwd.
//!
//! While a virtual cwd is set the kernel's cwd is whatever it was before
//! (chdir) or the empty /proc mount point (fchdir of a synthetic
//! directory fd, which the kernel continues): nothing walks relative
//! paths from it but those refused calls and the one passthrough path, a
//! relative AF_UNIX destination of sendto/sendmsg/sendmmsg (partial).
//!
//! Records are per process (threads created with CLONE_FS, as glibc's, share
//! the cwd) and inherited by children as `super::lineage` describes: a
//! fork copies the cwd, an exec keeps it.

use nix::errno::Errno;

use super::fs::hostproc::HostProc;
use super::lineage::{self, Lineage};

/// A working directory the kernel cannot hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualCwd {
    /// Canonical sandbox path ("/proc/42/task/43", not "/proc/self/...").
    pub path: String,
    /// The task whose /proc directory `path` is in (host tid and pidfs
    /// inode): when it is gone, so is the directory, as on Linux, even if
    /// its pid is used again.
    pub pin: Option<(i32, u64)>,
}

impl VirtualCwd {
    /// Whether the directory still exists as far as its task goes.
    pub fn alive(&self) -> bool {
        match self.pin {
            None => true,
            Some((htid, ino)) => lineage::identify(htid).is_ok_and(|i| i == ino),
        }
    }
}

/// The virtual cwd of every workload process (None: the kernel's cwd is
/// the cwd).
pub struct Table {
    records: Lineage<Option<VirtualCwd>>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("cwd::Table").finish_non_exhaustive()
    }
}

fn tgid_of(htid: i32) -> Result<i32, Errno> {
    super::sys::pidfd_info(htid)
        .map(|i| i.tgid as i32)
        .map_err(|_| Errno::ESRCH)
}

impl Table {
    pub fn new(host: HostProc) -> Table {
        Table {
            records: Lineage::new(host),
        }
    }

    /// The virtual cwd of host task `htid`'s process.
    pub fn get(&self, htid: i32) -> Result<Option<VirtualCwd>, Errno> {
        // Nobody ever entered a synthetic directory (the common case):
        // no syscall at all.
        if self.records.is_empty() {
            return Ok(None);
        }
        self.records.get(tgid_of(htid)?, &|_| Ok(None))
    }

    /// Whether any process ever had a virtual cwd.
    pub fn recorded(&self) -> bool {
        !self.records.is_empty()
    }

    /// `htid`'s process is ending: its children keep the virtual cwd they
    /// inherit from it (see `Lineage::keep_for_children`).
    pub fn note_exit(&self, htid: i32) -> Result<(), Errno> {
        if self.records.is_empty() {
            return Ok(());
        }
        self.records
            .keep_for_children(tgid_of(htid)?, &|_| Ok(None))
    }

    /// Makes `cwd` the virtual cwd of `htid`'s process (None: back to the
    /// kernel's); its children keep theirs.
    pub fn set(&self, htid: i32, cwd: Option<VirtualCwd>) -> Result<(), Errno> {
        if cwd.is_none() && self.records.is_empty() {
            return Ok(());
        }
        let tgid = tgid_of(htid)?;
        if self.records.get(tgid, &|_| Ok(None))? == cwd {
            return Ok(());
        }
        self.records.set(tgid, cwd, &|_| Ok(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real processes: a child forked before a chdir keeps the old cwd, one
    /// forked after takes the new one; a thread sees its process's.
    #[test]
    fn children_copy_and_threads_share() {
        use std::process::Command;
        let me = std::process::id() as i32;
        let t = Table::new(HostProc::new("/proc", me));
        assert_eq!(t.get(me).unwrap(), None);
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (end_tx, end_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let _ = tid_tx.send(nix::unistd::gettid().as_raw());
            let _ = end_rx.recv();
        });
        let tid = tid_rx.recv().unwrap();
        let mut before = Command::new("sleep").arg("30").spawn().unwrap();
        let v = VirtualCwd {
            path: format!("/proc/{me}"),
            pin: Some((me, lineage::identify(me).unwrap())),
        };
        // Set from the other thread: the whole process moves.
        t.set(tid, Some(v.clone())).unwrap();
        let mut after = Command::new("sleep").arg("30").spawn().unwrap();
        let got = (
            t.get(me).unwrap(),
            t.get(tid).unwrap(),
            t.get(before.id() as i32).unwrap(),
            t.get(after.id() as i32).unwrap(),
        );
        t.set(me, None).unwrap();
        let cleared = (t.get(tid).unwrap(), t.get(after.id() as i32).unwrap());
        let _ = before.kill();
        let _ = after.kill();
        let _ = before.wait();
        let _ = after.wait();
        let _ = end_tx.send(());
        let _ = thread.join();
        assert_eq!(got.0.as_ref(), Some(&v), "the process");
        assert_eq!(got.1.as_ref(), Some(&v), "its other thread");
        assert_eq!(got.2, None, "a child forked before");
        assert_eq!(got.3.as_ref(), Some(&v), "a child forked after");
        assert_eq!(cleared.0, None, "cleared for the threads");
        assert_eq!(cleared.1.as_ref(), Some(&v), "a child keeps its copy");
        assert!(v.alive());
    }

    #[test]
    fn a_dead_pin_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        let ino = lineage::identify(pid).unwrap();
        let _ = child.wait();
        let v = VirtualCwd {
            path: format!("/proc/{pid}"),
            pin: Some((pid, ino)),
        };
        assert!(!v.alive());
    }
}
