//! The workload's credentials as the sandbox sees them.
//!
//! Every workload task runs on the host as the spec's user (or, for a
//! `runrs exec` process, as its own user) and holds no host capability,
//! so the kernel cannot change its ids. The sentry keeps the ids, groups,
//! capability sets and securebits of each task instead (as gVisor's
//! `auth.Credentials`), applies Linux's rules to the set*id family,
//! capset, the capability prctls and execve, and checks permissions and
//! creates files (through the gofer) with them.
//!
//! The sentry does not see clone: a task without a record of its own
//! takes that of its thread group, else of the thread or process that
//! forked it (and so on up in the container), else the base (the spec's
//! user). A `runrs exec` process gets a record of its own process spec's
//! user, groups and capability sets before it runs (`Table::seed`).
//! So that a task's change does not reach tasks created before it, the
//! tasks that would inherit through it (its other threads, its children)
//! get a copy of the old record first.
//!
//! A child is matched to the thread that forked it through
//! /proc/<pid>/task/<tid>/children (read only when a non-leader thread has
//! credentials of its own). A new thread is matched to the thread that
//! created it through the tid the kernel writes into the creator's memory
//! (the sentry sees pthread_create's clone: CLONE_THREAD with
//! CLONE_PARENT_SETTID, glibc's and musl's flags). Partial: a thread
//! created otherwise (Go's runtime, a raw clone without
//! CLONE_PARENT_SETTID) takes its thread group's (its leader's); glibc's
//! set*id wrappers change every thread alike, so only raw per-thread calls
//! followed by such a creation from a non-leader thread see the
//! difference. A child whose parent exits before the child's first
//! emulated call (no record of its own yet) takes its new parent's
//! credentials (init's or a subreaper's), not its forker's: the sentry
//! does not see fork return (tests/syscalls/KNOWN_GAPS).
//!
//! Signals to other tasks are checked with these credentials too
//! (`super::syscalls::signal`), and SO_PEERCRED reports them
//! (`super::syscalls::socket::getsockopt`). What stays the kernel's: its
//! other checks (/dev/shm files, SysV IPC, SCM_CREDENTIALS, which carry
//! and check the host ids) see the host ids, which are the spec user's for
//! every process init started; see the identity rows of the syscall table
//! and tests/syscalls/KNOWN_GAPS.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use nix::errno::Errno;

use super::fs::hostproc::HostProc;

pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
/// CAP_CHECKPOINT_RESTORE, the highest the host kernel knows (5.9+).
pub const CAP_LAST_CAP: u32 = 40;

/// Capabilities setfsuid drops when the fsuid leaves 0 (CAP_FS_SET in
/// linux/capability.h: CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER,
/// FSETID, LINUX_IMMUTABLE, MKNOD, MAC_OVERRIDE).
const CAP_FS_SET: u64 =
    (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 9) | (1 << 27) | (1 << 32);

/// securebits (linux/securebits.h): each flag's lock is the next bit.
pub const SECURE_NOROOT: u32 = 1 << 0;
pub const SECURE_NO_SETUID_FIXUP: u32 = 1 << 2;
pub const SECURE_KEEP_CAPS: u32 = 1 << 4;
pub const SECURE_KEEP_CAPS_LOCKED: u32 = 1 << 5;
pub const SECURE_NO_CAP_AMBIENT_RAISE: u32 = 1 << 6;
/// NOROOT, NO_SETUID_FIXUP, KEEP_CAPS, NO_CAP_AMBIENT_RAISE,
/// EXEC_RESTRICT_FILE, EXEC_DENY_INTERACTIVE (6.14+).
pub const SECURE_ALL_BITS: u32 = 0x555;
pub const SECURE_ALL_LOCKS: u32 = SECURE_ALL_BITS << 1;

/// NGROUPS_MAX.
pub const NGROUPS_MAX: usize = 65536;

/// (uid_t)-1: "leave unchanged" for the set*id calls.
pub const UNCHANGED: u32 = u32::MAX;

pub fn cap_bit(cap: u32) -> u64 {
    1u64 << cap
}

/// The capabilities that override file permission checks on directories
/// (search) and, with CAP_DAC_OVERRIDE, on files.
pub const DAC_CAPS: u64 = (1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH);

/// One task's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cred {
    /// real, effective, saved, filesystem.
    pub uid: [u32; 4],
    pub gid: [u32; 4],
    /// Sorted, as the kernel keeps them (getgroups returns them so).
    pub groups: Vec<u32>,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub bounding: u64,
    pub ambient: u64,
    pub securebits: u32,
    /// no_new_privs: an exec may not gain capabilities (the spec's
    /// noNewPrivileges; the host flag is always set, see `after_exec`).
    pub no_new_privs: bool,
}

/// Which call changed the uids (the kernel's LSM_SETID_*).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetId {
    /// setuid, setreuid, setresuid.
    Id,
    /// setfsuid.
    Fs,
}

fn in3(v: u32, a: [u32; 4]) -> bool {
    v == a[0] || v == a[1] || v == a[2]
}

// The id rules of kernel/sys.c, shared by the uid and gid calls: `ids` is
// (real, effective, saved, fs), `cap` CAP_SETUID or CAP_SETGID.

/// setuid/setgid: with the capability all four, else the effective and fs
/// id to the real or saved one.
fn set_id(ids: [u32; 4], id: u32, cap: bool) -> Result<[u32; 4], Errno> {
    if id == UNCHANGED {
        return Err(Errno::EINVAL);
    }
    let mut new = ids;
    if cap {
        new[0] = id;
        new[2] = id;
    } else if id != ids[0] && id != ids[2] {
        return Err(Errno::EPERM);
    }
    new[1] = id;
    new[3] = id;
    Ok(new)
}

/// setreuid/setregid: the saved id follows a changed real id, or an
/// effective id set to something other than the old real one.
fn set_re_ids(ids: [u32; 4], r: u32, e: u32, cap: bool) -> Result<[u32; 4], Errno> {
    let mut new = ids;
    if r != UNCHANGED {
        if r != ids[0] && r != ids[1] && !cap {
            return Err(Errno::EPERM);
        }
        new[0] = r;
    }
    if e != UNCHANGED {
        if !in3(e, ids) && !cap {
            return Err(Errno::EPERM);
        }
        new[1] = e;
    }
    if r != UNCHANGED || (e != UNCHANGED && e != ids[0]) {
        new[2] = new[1];
    }
    new[3] = new[1];
    Ok(new)
}

/// setresuid/setresgid: each id one of the current three, unless `cap`.
fn set_res_ids(ids: [u32; 4], res: [u32; 3], cap: bool) -> Result<[u32; 4], Errno> {
    if !cap && res.iter().any(|&id| id != UNCHANGED && !in3(id, ids)) {
        return Err(Errno::EPERM);
    }
    let mut new = ids;
    for (i, id) in res.into_iter().enumerate() {
        if id != UNCHANGED {
            new[i] = id;
        }
    }
    new[3] = new[1];
    Ok(new)
}

impl Cred {
    pub fn capable(&self, cap: u32) -> bool {
        self.effective & cap_bit(cap) != 0
    }

    pub fn euid(&self) -> u32 {
        self.uid[1]
    }

    /// The kernel's cap_task_fix_setuid: capabilities follow uid 0.
    fn fix_setuid(&mut self, old: &Cred, how: SetId) {
        if self.securebits & SECURE_NO_SETUID_FIXUP != 0 {
            return;
        }
        match how {
            SetId::Id => {
                let had_root = old.uid[..3].contains(&0);
                let has_root = self.uid[..3].contains(&0);
                if had_root && !has_root {
                    if self.securebits & SECURE_KEEP_CAPS == 0 {
                        self.permitted = 0;
                        self.effective = 0;
                    }
                    self.ambient = 0;
                }
                if old.uid[1] == 0 && self.uid[1] != 0 {
                    self.effective = 0;
                }
                if old.uid[1] != 0 && self.uid[1] == 0 {
                    self.effective = self.permitted;
                }
            }
            SetId::Fs => {
                if old.uid[3] == 0 && self.uid[3] != 0 {
                    self.effective &= !CAP_FS_SET;
                }
                if old.uid[3] != 0 && self.uid[3] == 0 {
                    self.effective |= self.permitted & CAP_FS_SET;
                }
            }
        }
    }

    /// setuid(2).
    pub fn setuid(&self, uid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.uid = set_id(self.uid, uid, self.capable(CAP_SETUID))?;
        new.fix_setuid(self, SetId::Id);
        Ok(new)
    }

    /// setreuid(2).
    pub fn setreuid(&self, ruid: u32, euid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.uid = set_re_ids(self.uid, ruid, euid, self.capable(CAP_SETUID))?;
        new.fix_setuid(self, SetId::Id);
        Ok(new)
    }

    /// setresuid(2).
    pub fn setresuid(&self, ruid: u32, euid: u32, suid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.uid = set_res_ids(self.uid, [ruid, euid, suid], self.capable(CAP_SETUID))?;
        new.fix_setuid(self, SetId::Id);
        Ok(new)
    }

    /// setfsuid(2): the new record (unchanged when not allowed); the
    /// caller returns the old fsuid either way.
    pub fn setfsuid(&self, uid: u32) -> Cred {
        let mut new = self.clone();
        // Setting the current fsuid again is a no-op (no cap fixup).
        if uid != UNCHANGED
            && uid != self.uid[3]
            && (in3(uid, self.uid) || self.capable(CAP_SETUID))
        {
            new.uid[3] = uid;
            new.fix_setuid(self, SetId::Fs);
        }
        new
    }

    /// setgid(2).
    pub fn setgid(&self, gid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.gid = set_id(self.gid, gid, self.capable(CAP_SETGID))?;
        Ok(new)
    }

    /// setregid(2).
    pub fn setregid(&self, rgid: u32, egid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.gid = set_re_ids(self.gid, rgid, egid, self.capable(CAP_SETGID))?;
        Ok(new)
    }

    /// setresgid(2).
    pub fn setresgid(&self, rgid: u32, egid: u32, sgid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.gid = set_res_ids(self.gid, [rgid, egid, sgid], self.capable(CAP_SETGID))?;
        Ok(new)
    }

    /// setfsgid(2), as setfsuid.
    pub fn setfsgid(&self, gid: u32) -> Cred {
        let mut new = self.clone();
        if gid != UNCHANGED
            && (in3(gid, self.gid) || gid == self.gid[3] || self.capable(CAP_SETGID))
        {
            new.gid[3] = gid;
        }
        new
    }

    /// setgroups(2) after the size check and the copy.
    pub fn setgroups(&self, mut groups: Vec<u32>) -> Result<Cred, Errno> {
        if !self.capable(CAP_SETGID) {
            return Err(Errno::EPERM);
        }
        groups.sort_unstable();
        Ok(Cred {
            groups,
            ..self.clone()
        })
    }

    /// capset(2) with the new (effective, permitted, inheritable).
    pub fn capset(&self, eff: u64, prm: u64, inh: u64) -> Result<Cred, Errno> {
        // cap_capset: inheritable may gain bits only from permitted
        // (from anything with CAP_SETPCAP) and never beyond the bounding
        // set; permitted only shrinks; effective stays within it.
        let inh_from = if self.capable(CAP_SETPCAP) {
            u64::MAX
        } else {
            self.permitted
        };
        if inh & !(self.inheritable | inh_from) != 0
            || inh & !(self.inheritable | self.bounding) != 0
            || prm & !self.permitted != 0
            || eff & !prm != 0
        {
            return Err(Errno::EPERM);
        }
        Ok(Cred {
            effective: eff,
            permitted: prm,
            inheritable: inh,
            ambient: self.ambient & prm & inh,
            ..self.clone()
        })
    }

    /// The credentials after a successful execve of a file without file
    /// capabilities (cap_bprm_creds_from_file). Set-user-ID and
    /// set-group-ID bits are ignored: the workload runs with no_new_privs
    /// (as runc's with noNewPrivileges), under which Linux ignores them too.
    pub fn after_exec(&self) -> Cred {
        let mut new = self.clone();
        let root = self.securebits & SECURE_NOROOT == 0;
        let mut permitted = 0;
        if root && (self.uid[0] == 0 || self.uid[1] == 0) {
            permitted = self.bounding | self.inheritable;
        }
        // Under no_new_privs an exec keeps at most what it had.
        if self.no_new_privs && permitted & !self.permitted != 0 {
            permitted &= self.permitted;
        }
        new.permitted = permitted | self.ambient;
        new.effective = if root && self.uid[1] == 0 {
            new.permitted
        } else {
            self.ambient
        };
        new.uid[2] = self.uid[1];
        new.uid[3] = self.uid[1];
        new.gid[2] = self.gid[1];
        new.gid[3] = self.gid[1];
        new.securebits &= !SECURE_KEEP_CAPS;
        new
    }
}

/// The capability sets a task of the spec's sets holds with ids `uid`
/// once its first program runs: runc applies the spec's sets (an ambient
/// capability only if permitted and inheritable), then execs, which
/// recomputes them for root or non-root (`Cred::after_exec`).
fn caps_for(base: &Cred, uid: [u32; 4], out: &mut Cred) {
    let mut pre = base.clone();
    pre.uid = uid;
    pre.ambient &= pre.permitted & pre.inheritable;
    let post = pre.after_exec();
    out.effective = post.effective;
    out.permitted = post.permitted;
    out.inheritable = post.inheritable;
    out.bounding = post.bounding;
    out.ambient = post.ambient;
}

struct Entry {
    /// The pidfs inode of the task the record belongs to: unique for the
    /// host's uptime, so a reused tid does not inherit a dead task's record.
    ino: u64,
    /// Its thread group (to find a forking thread's record).
    tgid: i32,
    cred: Cred,
}

/// The credentials of every workload task.
pub struct Table {
    /// The spec's process: user, groups and capability sets.
    base: Cred,
    /// What init's first program holds (`spec`), worked out once.
    spec: Cred,
    host: HostProc,
    /// A `runrs exec` process joined with its own user: a task without a
    /// record has the host ids it runs with, not necessarily the spec's.
    joined: AtomicBool,
    records: Mutex<HashMap<i32, Entry>>,
    /// Some record was made: lookups walk from then on.
    any: AtomicBool,
    /// Some record differs from `spec` (see `uniform`).
    diverse: AtomicBool,
    /// Threads being created (clone with CLONE_THREAD and
    /// CLONE_PARENT_SETTID, as pthread_create does), per thread group:
    /// where the kernel writes the new thread's tid in the creator's
    /// memory, and the creator's credentials then (see `note_clone`).
    clones: Mutex<HashMap<i32, Vec<(u64, Cred)>>>,
    /// Entries of dead tasks are dropped when the table reaches this size.
    prune_at: AtomicUsize,
}

/// The first size at which dead tasks' entries are dropped.
const PRUNE_AT: usize = 1024;

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("cred::Table")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// The pidfs inode of `tid` (with a pidfd that can be asked for its ppid).
fn identify(tid: i32) -> Result<(std::os::fd::OwnedFd, u64), Errno> {
    use std::os::fd::AsFd;
    let fd = super::sys::pidfd_open_thread(tid)?;
    let st = super::sys::fstat_fd(fd.as_fd())?;
    Ok((fd, st.st_ino))
}

impl Table {
    /// `base` is the spec's process as runc sets it up before exec'ing the
    /// first program (see `spec` for what that program holds).
    pub fn new(base: Cred, host: HostProc) -> Table {
        let mut spec = base.clone();
        caps_for(&base, spec.uid, &mut spec);
        Table {
            base,
            spec,
            host,
            joined: AtomicBool::new(false),
            records: Mutex::new(HashMap::new()),
            any: AtomicBool::new(false),
            diverse: AtomicBool::new(false),
            clones: Mutex::new(HashMap::new()),
            prune_at: AtomicUsize::new(PRUNE_AT),
        }
    }

    /// The spec's credentials as init's first program holds them.
    pub fn spec(&self) -> Cred {
        self.spec.clone()
    }

    /// A `runrs exec` process may run as another user from now on.
    pub fn note_joined(&self) {
        self.joined.store(true, Ordering::SeqCst);
    }

    /// The credentials of a task nobody on its way recorded any for.
    fn base_for(&self, htid: i32) -> Result<Cred, Errno> {
        if !self.joined.load(Ordering::SeqCst) {
            return Ok(self.spec());
        }
        // The kernel's ids never change under emulation: they are the
        // ones the process was started with.
        let t = super::task::TaskInfo::read(htid)?;
        let mut c = Cred {
            uid: t.uids,
            gid: t.gids,
            groups: t.groups,
            ..self.base.clone()
        };
        c.groups.sort_unstable();
        caps_for(&self.base, c.uid, &mut c);
        Ok(c)
    }

    fn own(&self, htid: i32, ino: u64) -> Option<Cred> {
        let mut m = self.records.lock().ok()?;
        match m.get(&htid) {
            Some(e) if e.ino == ino => Some(e.cred.clone()),
            Some(_) => {
                m.remove(&htid);
                None
            }
            None => None,
        }
    }

    /// Whether any task ever had a record (else all hold the base).
    pub fn recorded(&self) -> bool {
        !self.is_empty()
    }

    /// Every task holds the spec's credentials: nobody changed theirs
    /// (to something else) and no `runrs exec` process has its own. A
    /// signal is then always permitted, without a lookup.
    pub fn uniform(&self) -> bool {
        !self.diverse.load(Ordering::Acquire)
    }

    /// No record was ever made (checked without the lock: every emulated
    /// path call asks).
    fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }

    /// The credentials of host task `htid`.
    pub fn get(&self, htid: i32) -> Result<Cred, Errno> {
        // Nobody changed anything (the common case): no syscall at all.
        if self.is_empty() {
            return self.base_for(htid);
        }
        self.walk(htid)
    }

    /// `htid`'s own record, else its thread group's, else the forking
    /// thread's or process's, up to the container's top; the answer is
    /// remembered as `htid`'s own (a later change of an ancestor's must
    /// not reach it, nor a walk be paid again).
    fn walk(&self, htid: i32) -> Result<Cred, Errno> {
        let (_, my_ino) = identify(htid).map_err(|_| Errno::ESRCH)?;
        let mut my_tgid = htid;
        let mut t = htid;
        let mut ino = my_ino;
        let mut found = None;
        for _ in 0..64 {
            if let Some(c) = self.own(t, ino) {
                if t == htid {
                    return Ok(c);
                }
                found = Some(c);
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
                    if let Some(c) = self.created_by(info.tgid as i32, htid) {
                        found = Some(c);
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
                Ok((_, i)) => ino = i,
                Err(_) => break,
            }
        }
        let c = match found {
            Some(c) => c,
            None => self.base_for(htid)?,
        };
        self.insert(htid, my_ino, my_tgid, c.clone());
        Ok(c)
    }

    /// Thread `creator` is about to create a thread whose tid the kernel
    /// writes at `ptid` (CLONE_PARENT_SETTID, before the thread runs): the
    /// new thread will hold `creator`'s current credentials. A later
    /// creation at the same address (glibc reuses thread stacks) replaces
    /// the entry.
    pub fn note_clone(&self, creator: i32, ptid: u64) -> Result<(), Errno> {
        let cred = self.get(creator)?;
        let tgid = super::sys::pidfd_info(creator)
            .map(|i| i.tgid as i32)
            .map_err(|_| Errno::ESRCH)?;
        let mut m = self.clones.lock().map_err(|_| Errno::EIO)?;
        if m.len() >= PRUNE_AT {
            m.retain(|&g, _| super::sys::pidfd_open(g).is_ok());
        }
        let v = m.entry(tgid).or_default();
        v.retain(|(a, _)| *a != ptid);
        // Clones that failed leave entries: keep the latest few.
        if v.len() >= 64 {
            v.remove(0);
        }
        v.push((ptid, cred));
        Ok(())
    }

    /// The credentials thread `htid` of thread group `tgid` was created
    /// with, if a noted creation wrote its tid (its container tid, the
    /// creator's pid namespace's).
    fn created_by(&self, tgid: i32, htid: i32) -> Option<Cred> {
        let entries: Vec<u64> = {
            let m = self.clones.lock().ok()?;
            m.get(&tgid)?.iter().map(|(a, _)| *a).collect()
        };
        let ctid = self.host.container_pid(htid)? as u32;
        let addr = entries
            .into_iter()
            .rev()
            .find(|&a| super::sys::read_u32(tgid, a) == Ok(ctid))?;
        let mut m = self.clones.lock().ok()?;
        let v = m.get_mut(&tgid)?;
        let i = v.iter().position(|(a, _)| *a == addr)?;
        Some(v.remove(i).1)
    }

    /// The thread of process `ppid` that forked `child`, when it is not the
    /// leader and has credentials of its own (else the process's hold).
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

    /// A `runrs exec` process `htid`, not yet exec'd, holds `pre`: its
    /// process spec's user and sets as runc applies them (an ambient
    /// capability only if permitted and inheritable); its execve then
    /// gives its program what that holds (`Cred::after_exec`).
    pub fn seed(&self, htid: i32, mut pre: Cred) -> Result<(), Errno> {
        let (_, ino) = identify(htid).map_err(|_| Errno::ESRCH)?;
        if !self.host.in_container(htid) {
            return Err(Errno::ESRCH);
        }
        pre.ambient &= pre.permitted & pre.inheritable;
        // Compared with `spec` as its program will hold it: an exec with
        // the container's own user and sets leaves the table uniform.
        let mut post = pre.clone();
        caps_for(&pre, pre.uid, &mut post);
        self.store(htid, ino, htid, pre, post == self.spec);
        Ok(())
    }

    fn insert(&self, htid: i32, ino: u64, tgid: i32, cred: Cred) {
        let same = cred == self.spec;
        self.store(htid, ino, tgid, cred, same);
    }

    /// Records `cred`; `as_spec` says whether the task holds (or, once
    /// exec'd, will hold) the spec's credentials.
    fn store(&self, htid: i32, ino: u64, tgid: i32, cred: Cred, as_spec: bool) {
        if let Ok(mut m) = self.records.lock() {
            let limit = self.prune_at.load(Ordering::Relaxed);
            if m.len() >= limit {
                m.retain(|tid, e| identify(*tid).is_ok_and(|(_, i)| i == e.ino));
                // With that many live tasks, prune again only after as
                // many more (each prune asks the kernel about every entry).
                self.prune_at
                    .store((m.len() * 2).max(PRUNE_AT), Ordering::Relaxed);
            }
            if !as_spec {
                self.diverse.store(true, Ordering::Release);
            }
            m.insert(htid, Entry { ino, tgid, cred });
            self.any.store(true, Ordering::Release);
        }
    }

    /// Makes `cred` the credentials of `htid`. The tasks that would
    /// inherit through it (its other threads when it leads its group,
    /// the children of its process) keep their current ones.
    pub fn set(&self, htid: i32, cred: Cred) -> Result<(), Errno> {
        let (pidfd, ino) = identify(htid).map_err(|_| Errno::ESRCH)?;
        drop(pidfd);
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
                if th != htid && htid == tgid {
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
            let _ = self.walk(d);
        }
        self.insert(htid, ino, tgid, cred);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: u64 = (1 << 41) - 1;

    fn root() -> Cred {
        Cred {
            uid: [0; 4],
            gid: [0; 4],
            groups: vec![],
            effective: ALL,
            permitted: ALL,
            inheritable: 0,
            bounding: ALL,
            ambient: 0,
            securebits: 0,
            no_new_privs: false,
        }
    }

    /// Real processes: a change reaches the tasks created after it, not
    /// those that existed before (this process's threads and children).
    #[test]
    fn table_inherits_from_the_parent_at_fork_time() {
        use std::process::Command;
        let me = std::process::id() as i32;
        // A thread of this process that exists before the change.
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (end_tx, end_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let _ = tid_tx.send(nix::unistd::gettid().as_raw());
            let _ = end_rx.recv();
        });
        let tid = tid_rx.recv().unwrap();
        let t = Table::new(root(), HostProc::new("/proc", me));
        assert!(!t.recorded());
        assert_eq!(t.get(tid).unwrap(), t.spec());
        let mut before = Command::new("sleep").arg("30").spawn().unwrap();
        // The thread running this test forks both children.
        let me_thread = nix::unistd::gettid().as_raw();
        let user = t.spec().setuid(1000).unwrap();
        t.set(me_thread, user.clone()).unwrap();
        let mut after = Command::new("sleep").arg("30").spawn().unwrap();
        let got = (
            t.get(me_thread).unwrap(),
            t.get(tid).unwrap(),
            t.get(before.id() as i32).unwrap(),
            t.get(after.id() as i32).unwrap(),
        );
        let _ = before.kill();
        let _ = after.kill();
        let _ = before.wait();
        let _ = after.wait();
        let _ = end_tx.send(());
        let _ = thread.join();
        assert_eq!(got.0, user, "the task itself");
        assert_eq!(got.1, t.spec(), "a thread that existed before");
        assert_eq!(got.2, t.spec(), "a child that existed before");
        assert_eq!(got.3, user, "a child forked after");
    }

    /// A child forked by a thread with credentials of its own (a raw
    /// per-thread set*id) inherits that thread's, not its process's.
    #[test]
    fn a_child_inherits_from_the_thread_that_forked_it() {
        use std::process::Command;
        use std::sync::mpsc::channel;
        let me = std::process::id() as i32;
        let t = Table::new(root(), HostProc::new("/proc", me));
        let (tid_tx, tid_rx) = channel();
        let (go_tx, go_rx) = channel::<()>();
        let (child_tx, child_rx) = channel();
        let (end_tx, end_rx) = channel::<()>();
        let thread = std::thread::spawn(move || {
            let _ = tid_tx.send(nix::unistd::gettid().as_raw());
            let _ = go_rx.recv();
            let _ = child_tx.send(Command::new("sleep").arg("30").spawn());
            // Alive until checked: a thread's children move to another
            // thread of the process when it exits.
            let _ = end_rx.recv();
        });
        let tid = tid_rx.recv().unwrap();
        let user = t.spec().setuid(1000).unwrap();
        t.set(tid, user.clone()).unwrap();
        go_tx.send(()).unwrap();
        let mut child = child_rx.recv().unwrap().unwrap();
        let got = t.get(child.id() as i32);
        let _ = child.kill();
        let _ = child.wait();
        let _ = end_tx.send(());
        let _ = thread.join();
        assert_eq!(got.unwrap(), user);
        assert_eq!(t.get(me).unwrap(), t.spec(), "its process keeps the spec's");
    }

    #[test]
    fn root_setuid_drops_everything() {
        let c = root().setuid(1000).unwrap();
        assert_eq!(c.uid, [1000; 4]);
        assert_eq!((c.effective, c.permitted), (0, 0));
        assert_eq!(c.setuid(0), Err(Errno::EPERM));
        assert_eq!(root().setuid(UNCHANGED), Err(Errno::EINVAL));
    }

    #[test]
    fn keepcaps_keeps_permitted_not_effective() {
        let mut r = root();
        r.securebits |= SECURE_KEEP_CAPS;
        let c = r.setresuid(1000, 1000, 1000).unwrap();
        assert_eq!((c.effective, c.permitted), (0, ALL));
        let after = c.after_exec();
        assert_eq!((after.effective, after.permitted), (0, 0));
        assert_eq!(after.securebits & SECURE_KEEP_CAPS, 0);
    }

    #[test]
    fn seteuid_and_back() {
        let c = root().setresuid(UNCHANGED, 1000, UNCHANGED).unwrap();
        assert_eq!(c.uid, [0, 1000, 0, 1000]);
        assert_eq!(c.effective, 0);
        assert_eq!(c.permitted, ALL);
        let back = c.setresuid(UNCHANGED, 0, UNCHANGED).unwrap();
        assert_eq!(back.effective, ALL);
        // setreuid(-1, e) with e != ruid moves the saved uid too.
        let c = root().setreuid(UNCHANGED, 5).unwrap();
        assert_eq!(c.uid, [0, 5, 5, 5]);
    }

    #[test]
    fn setfsuid_moves_fs_caps() {
        let c = root().setfsuid(1000);
        assert_eq!(c.uid, [0, 0, 0, 1000]);
        assert_eq!(c.effective, ALL & !CAP_FS_SET);
        assert_eq!(c.setfsuid(0).effective, ALL);
        let user = root().setuid(7).unwrap();
        assert_eq!(user.setfsuid(8).uid[3], 7, "not allowed: unchanged");
    }

    #[test]
    fn groups_need_setgid_and_are_sorted() {
        let c = root().setgroups(vec![30, 10, 20]).unwrap();
        assert_eq!(c.groups, [10, 20, 30]);
        let user = root().setuid(1).unwrap();
        assert_eq!(user.setgroups(vec![]), Err(Errno::EPERM));
        assert_eq!(user.setgid(5), Err(Errno::EPERM));
    }

    #[test]
    fn capset_rules() {
        let mut r = root();
        r.bounding = 0xff;
        r.permitted = 0xff;
        r.effective = 0xff;
        assert!(r.capset(0x1, 0x3, 0x3).is_ok());
        assert_eq!(r.capset(0x1, 0x1ff, 0), Err(Errno::EPERM));
        assert_eq!(r.capset(0x2, 0x1, 0), Err(Errno::EPERM));
        assert_eq!(
            r.capset(0x1, 0x1, 0x100),
            Err(Errno::EPERM),
            "beyond bounding"
        );
    }

    #[test]
    fn exec_under_no_new_privs_gains_nothing() {
        let c = Cred {
            effective: 1,
            permitted: 3,
            no_new_privs: true,
            ..root()
        };
        let e = c.after_exec();
        assert_eq!((e.effective, e.permitted), (3, 3));
        // The spec's sets as the first program holds them.
        let t = Table::new(c, HostProc::new("/proc", 1));
        assert_eq!((t.spec().effective, t.spec().permitted), (3, 3));
    }

    #[test]
    fn exec_as_root_refills_from_bounding() {
        let c = Cred {
            effective: 0,
            permitted: 1,
            ..root()
        };
        let e = c.after_exec();
        assert_eq!((e.effective, e.permitted), (ALL, ALL));
        let user = Cred {
            uid: [5; 4],
            ambient: 4,
            ..root()
        };
        let e = user.after_exec();
        assert_eq!((e.effective, e.permitted), (4, 4));
    }
}
