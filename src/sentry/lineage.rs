//! Per-task records that the kernel cannot hold for the sandbox and that
//! children inherit: the emulated credentials (`cred::Table`) and the
//! virtual working directory (`cwd::Table`).
//!
//! The sentry does not see clone: a task without a record of its own takes
//! that of its thread group, else of the thread or process that forked it
//! (and so on up in the container), else a base the owner supplies. So
//! that a task's change does not reach tasks created before it, the tasks
//! that would inherit through it (its other threads, for per-thread
//! records; the children of its process) get a copy of the old record
//! first. A reused tid never inherits a dead task's record: each record
//! carries the pidfs inode of its task, unique for the host's uptime.
//!
//! A child is matched to the thread that forked it through
//! /proc/<pid>/task/<tid>/children (read only when a non-leader thread has
//! a record of its own). A new thread takes the record its creator noted
//! at its clone (`note_thread_creation`), else its thread group's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use nix::errno::Errno;

use super::fs::hostproc::HostProc;

/// Whose the records are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Each thread may hold its own (credentials: raw set*id calls are
    /// per thread).
    Thread,
    /// Callers key records by tgid only: the threads share them (the
    /// working directory of CLONE_FS threads, as glibc creates them).
    Process,
}

struct Entry<T> {
    /// The pidfs inode of the task the record belongs to.
    ino: u64,
    /// Its thread group (to find a forking thread's record).
    tgid: i32,
    value: T,
}

/// Records of type `T`, inherited along the container's process tree.
pub struct Lineage<T> {
    host: HostProc,
    scope: Scope,
    records: Mutex<HashMap<i32, Entry<T>>>,
    /// Some record was made: lookups walk from then on.
    any: AtomicBool,
    /// Entries of dead tasks are dropped when the table reaches this size.
    prune_at: AtomicUsize,
    /// Threads being created (clone with CLONE_THREAD and
    /// CLONE_PARENT_SETTID, as pthread_create does), per thread group:
    /// where the kernel writes the new thread's tid in the creator's
    /// memory, and the creator's record then.
    creations: Mutex<HashMap<i32, Vec<(u64, T)>>>,
}

/// The first size at which dead tasks' entries are dropped.
const PRUNE_AT: usize = 1024;

/// The pidfs inode of `tid`.
pub fn identify(tid: i32) -> Result<u64, Errno> {
    use std::os::fd::AsFd;
    let fd = super::sys::pidfd_open_thread(tid)?;
    let st = super::sys::fstat_fd(fd.as_fd())?;
    Ok(st.st_ino)
}

/// What a task without a record along its ancestry holds.
pub type Base<'a, T> = &'a dyn Fn(i32) -> Result<T, Errno>;

impl<T: Clone> Lineage<T> {
    pub fn new(host: HostProc, scope: Scope) -> Lineage<T> {
        Lineage {
            host,
            scope,
            records: Mutex::new(HashMap::new()),
            any: AtomicBool::new(false),
            prune_at: AtomicUsize::new(PRUNE_AT),
            creations: Mutex::new(HashMap::new()),
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
    /// thread's or process's, up to the container's top, else `base`; the
    /// answer is remembered as `htid`'s own (a later change of an
    /// ancestor's must not reach it, nor a walk be paid again).
    pub fn get(&self, htid: i32, base: Base<T>) -> Result<T, Errno> {
        let my_ino = identify(htid).map_err(|_| Errno::ESRCH)?;
        let mut my_tgid = htid;
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
            if t == htid {
                my_tgid = info.tgid as i32;
            }
            // A thread inherits from the thread that created it, else
            // from its thread group.
            let next = if info.tgid as i32 != t {
                if t == htid {
                    if let Some(v) = self.created_by(info.tgid as i32, htid) {
                        found = Some(v);
                        break;
                    }
                }
                info.tgid as i32
            } else {
                let ppid = info.ppid as i32;
                if ppid <= 1 || !self.host.in_container(ppid) {
                    break;
                }
                self.forking_thread(ppid, t).unwrap_or(ppid)
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
        self.insert(htid, my_ino, my_tgid, v.clone());
        Ok(v)
    }

    /// Thread `creator` is about to create a thread whose tid the kernel
    /// writes at `ptid` in its memory (CLONE_PARENT_SETTID, before the
    /// thread runs): the new thread will hold `value`. A later creation at
    /// the same address (glibc reuses thread stacks) replaces the entry.
    pub fn note_thread_creation(&self, creator: i32, ptid: u64, value: T) -> Result<(), Errno> {
        let tgid = super::sys::pidfd_info(creator)
            .map(|i| i.tgid as i32)
            .map_err(|_| Errno::ESRCH)?;
        let mut m = self.creations.lock().map_err(|_| Errno::EIO)?;
        if m.len() >= PRUNE_AT {
            m.retain(|&g, _| super::sys::pidfd_open(g).is_ok());
        }
        let v = m.entry(tgid).or_default();
        v.retain(|(a, _)| *a != ptid);
        // Clones that failed leave entries: keep the latest few.
        if v.len() >= 64 {
            v.remove(0);
        }
        v.push((ptid, value));
        Ok(())
    }

    /// The record thread `htid` of thread group `tgid` was created with,
    /// if a noted creation wrote its tid (its container tid, the creator's
    /// pid namespace's).
    fn created_by(&self, tgid: i32, htid: i32) -> Option<T> {
        let addrs: Vec<u64> = {
            let m = self.creations.lock().ok()?;
            m.get(&tgid)?.iter().map(|(a, _)| *a).collect()
        };
        let ctid = self.host.container_pid(htid)? as u32;
        let addr = addrs
            .into_iter()
            .rev()
            .find(|&a| super::sys::read_u32(tgid, a) == Ok(ctid))?;
        let mut m = self.creations.lock().ok()?;
        let v = m.get_mut(&tgid)?;
        let i = v.iter().position(|(a, _)| *a == addr)?;
        Some(v.remove(i).1)
    }

    /// Process `tgid` is about to end: its children without a record of
    /// their own keep what they inherit from it now, before they are
    /// reparented and would inherit from their new parent.
    pub fn keep_for_children(&self, tgid: i32, base: Base<T>) -> Result<(), Errno> {
        let task_dir = self.host.root().join(tgid.to_string()).join("task");
        let rd = std::fs::read_dir(&task_dir).map_err(|_| Errno::ESRCH)?;
        for e in rd.flatten() {
            if let Ok(text) = std::fs::read_to_string(e.path().join("children")) {
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

    /// The thread of process `ppid` that forked `child`, when it is not the
    /// leader and has a record of its own (else the process's holds).
    fn forking_thread(&self, ppid: i32, child: i32) -> Option<i32> {
        let any = self
            .records
            .lock()
            .ok()?
            .iter()
            .any(|(tid, e)| e.tgid == ppid && *tid != ppid);
        if !any {
            return None;
        }
        let task_dir = self.host.root().join(ppid.to_string()).join("task");
        std::fs::read_dir(task_dir)
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&th| th != ppid)
            .find(|&th| {
                let children = self.host.root().join(format!("{ppid}/task/{th}/children"));
                std::fs::read_to_string(children).is_ok_and(|text| {
                    text.split_whitespace()
                        .any(|c| c.parse::<i32>().ok() == Some(child))
                })
            })
    }

    fn insert(&self, htid: i32, ino: u64, tgid: i32, value: T) {
        if let Ok(mut m) = self.records.lock() {
            let limit = self.prune_at.load(Ordering::Relaxed);
            if m.len() >= limit {
                m.retain(|tid, e| identify(*tid).is_ok_and(|i| i == e.ino));
                // With that many live tasks, prune again only after as
                // many more (each prune asks the kernel about every entry).
                self.prune_at
                    .store((m.len() * 2).max(PRUNE_AT), Ordering::Relaxed);
            }
            m.insert(htid, Entry { ino, tgid, value });
            self.any.store(true, Ordering::Release);
        }
    }

    /// Makes `value` the record of `htid`. The tasks that would inherit
    /// through it (its other threads when it leads its group and records
    /// are per thread, the children of its process) keep their current
    /// ones.
    pub fn set(&self, htid: i32, value: T, base: Base<T>) -> Result<(), Errno> {
        let ino = identify(htid).map_err(|_| Errno::ESRCH)?;
        let tgid = super::sys::pidfd_info(htid)
            .map(|i| i.tgid as i32)
            .map_err(|_| Errno::ESRCH)?;
        let mut dependents = Vec::new();
        let task_dir = self.host.root().join(tgid.to_string()).join("task");
        if let Ok(rd) = std::fs::read_dir(&task_dir) {
            for e in rd.flatten() {
                let Some(th) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                    continue;
                };
                if th != htid && htid == tgid && self.scope == Scope::Thread {
                    dependents.push(th);
                }
                if let Ok(text) = std::fs::read_to_string(e.path().join("children")) {
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
        self.insert(htid, ino, tgid, value);
        Ok(())
    }
}
