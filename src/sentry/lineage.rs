//! Per-process records that the kernel cannot hold for the sandbox and
//! that children inherit: the virtual working directory (`cwd::Table`).
//! (Credentials are the kernel's: `cred`.)
//!
//! The sentry does not see clone: a task without a record of its own takes
//! that of its thread group, else of the process that forked it (and so on
//! up in the container), else a base the owner supplies. So that a
//! process's change does not reach processes created before it, its
//! children get a copy of the old record first. A reused tid never
//! inherits a dead task's record: each record carries the pidfs inode of
//! its task, unique for the host's uptime.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use nix::errno::Errno;

use super::fs::hostproc::HostProc;

struct Entry<T> {
    /// The pidfs inode of the task the record belongs to.
    ino: u64,
    value: T,
}

/// Records of type `T`, inherited along the container's process tree.
pub struct Lineage<T> {
    host: HostProc,
    records: Mutex<HashMap<i32, Entry<T>>>,
    /// Some record was made: lookups walk from then on.
    any: AtomicBool,
    /// Entries of dead tasks are dropped when the table reaches this size.
    prune_at: AtomicUsize,
}

/// The first size at which dead tasks' entries are dropped.
const PRUNE_AT: usize = 1024;

/// The pidfs inode of `tid`.
pub fn identify(tid: i32) -> Result<u64, Errno> {
    super::sys::task_identity(tid)
}

/// What a task without a record along its ancestry holds.
pub type Base<'a, T> = &'a dyn Fn(i32) -> Result<T, Errno>;

impl<T: Clone> Lineage<T> {
    pub fn new(host: HostProc) -> Lineage<T> {
        Lineage {
            host,
            records: Mutex::new(HashMap::new()),
            any: AtomicBool::new(false),
            prune_at: AtomicUsize::new(PRUNE_AT),
        }
    }

    pub fn host(&self) -> &HostProc {
        &self.host
    }

    /// No record was ever made (checked without the lock: every emulated
    /// path call may ask).
    pub fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }

    fn own(&self, htid: i32, ino: u64) -> Option<T> {
        let mut m = self.records.lock().ok()?;
        match m.get(&htid) {
            Some(e) if e.ino == ino => Some(e.value.clone()),
            Some(_) => {
                m.remove(&htid);
                None
            }
            None => None,
        }
    }

    /// `htid`'s own record, else its thread group's, else the forking
    /// process's, up to the container's top, else `base`; the
    /// answer is remembered as `htid`'s own (a later change of an
    /// ancestor's must not reach it, nor a walk be paid again).
    pub fn get(&self, htid: i32, base: Base<T>) -> Result<T, Errno> {
        let my_ino = identify(htid).map_err(|_| Errno::ESRCH)?;
        let mut t = htid;
        let mut ino = my_ino;
        let mut found = None;
        for _ in 0..64 {
            if let Some(v) = self.own(t, ino) {
                if t == htid {
                    return Ok(v);
                }
                found = Some(v);
                break;
            }
            let Ok(info) = super::sys::pidfd_info(t) else {
                break;
            };
            // A thread inherits from its thread group, a process from
            // its parent.
            let next = if info.tgid as i32 != t {
                info.tgid as i32
            } else {
                let ppid = info.ppid as i32;
                if ppid <= 1 || !self.host.in_container(ppid) {
                    break;
                }
                ppid
            };
            t = next;
            match identify(t) {
                Ok(i) => ino = i,
                Err(_) => break,
            }
        }
        let v = match found {
            Some(v) => v,
            None => base(htid)?,
        };
        self.insert(htid, my_ino, v.clone());
        Ok(v)
    }

    /// Process `tgid` is about to end: its children without a record of
    /// their own keep what they inherit from it now, before they are
    /// reparented and would inherit from their new parent.
    pub fn keep_for_children(&self, tgid: i32, base: Base<T>) -> Result<(), Errno> {
        let task_dir = self.host.root().join(tgid.to_string()).join("task");
        let rd = std::fs::read_dir(&task_dir).map_err(|_| Errno::ESRCH)?;
        for e in rd.flatten() {
            if let Ok(text) = super::fs::hostproc::read_text(e.path().join("children")) {
                for child in text
                    .split_whitespace()
                    .filter_map(|c| c.parse::<i32>().ok())
                {
                    // Records it (a child that is gone is skipped).
                    let _ = self.get(child, base);
                }
            }
        }
        Ok(())
    }

    fn insert(&self, htid: i32, ino: u64, value: T) {
        if let Ok(mut m) = self.records.lock() {
            let limit = self.prune_at.load(Ordering::Relaxed);
            if m.len() >= limit {
                m.retain(|tid, e| identify(*tid).is_ok_and(|i| i == e.ino));
                // With that many live tasks, prune again only after as
                // many more (each prune asks the kernel about every entry).
                self.prune_at
                    .store((m.len() * 2).max(PRUNE_AT), Ordering::Relaxed);
            }
            m.insert(htid, Entry { ino, value });
            self.any.store(true, Ordering::Release);
        }
    }

    /// Makes `value` the record of `htid`. The processes that would
    /// inherit through it (the children of its process) keep their
    /// current ones.
    pub fn set(&self, htid: i32, value: T, base: Base<T>) -> Result<(), Errno> {
        let ino = identify(htid).map_err(|_| Errno::ESRCH)?;
        let tgid = super::sys::pidfd_info(htid)
            .map(|i| i.tgid as i32)
            .map_err(|_| Errno::ESRCH)?;
        let mut dependents = Vec::new();
        let task_dir = self.host.root().join(tgid.to_string()).join("task");
        if let Ok(rd) = std::fs::read_dir(&task_dir) {
            for e in rd.flatten() {
                if let Ok(text) = super::fs::hostproc::read_text(e.path().join("children")) {
                    dependents.extend(
                        text.split_whitespace()
                            .filter_map(|c| c.parse::<i32>().ok()),
                    );
                }
            }
        }
        for d in dependents {
            // Remembers what it holds now (a task that is gone is skipped).
            let _ = self.get(d, base);
        }
        self.insert(htid, ino, value);
        Ok(())
    }
}
