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
//! The records are per thread and inherited as `super::lineage` describes;
//! a task nobody on its way recorded any for holds the base (the spec's
//! user). A `runrs exec` process gets a record of its own process spec's
//! user, groups and capability sets before it runs (`Table::seed`).
//!
//! A new thread is matched to the thread that created it through the tid
//! the kernel writes into the creator's memory (the sentry sees
//! pthread_create's clone: CLONE_THREAD with CLONE_PARENT_SETTID, glibc's
//! and musl's flags; `Lineage::note_thread_creation`). Partial: a thread
//! created otherwise (Go's runtime, a raw clone without
//! CLONE_PARENT_SETTID) takes its thread group's (its leader's); glibc's
//! set*id wrappers change every thread alike, so only raw per-thread calls
//! followed by such a creation from a non-leader thread see the
//! difference. A child whose parent exits before the child's first
//! emulated call (no record of its own yet) takes its new parent's
//! credentials (init's or a subreaper's), not its forker's, unless the
//! parent ended with exit_group, whose children the sentry records then
//! (`Table::note_exit`): the sentry does not see fork return
//! (tests/syscalls/KNOWN_GAPS).
//!
//! Signals to other tasks are checked with these credentials too
//! (`super::syscalls::signal`), and SO_PEERCRED reports them
//! (`super::syscalls::socket::getsockopt`). What stays the kernel's: its
//! other checks (/dev/shm files, SysV IPC, SCM_CREDENTIALS, which carry
//! and check the host ids) see the host ids, which are the spec user's for
//! every process init started; see the identity rows of the syscall table
//! and tests/syscalls/KNOWN_GAPS.

use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;

use super::fs::hostproc::HostProc;
use super::lineage::{Lineage, Scope};

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

/// Who is asking, for a permission check: the fs ids, groups and
/// effective capabilities (the gofer's `Creds` carry the same).
pub struct Asker<'a> {
    pub fsuid: u32,
    pub fsgid: u32,
    pub groups: &'a [u32],
    pub cap_effective: u64,
}

impl<'a> From<&'a crate::gofer::Creds> for Asker<'a> {
    fn from(c: &'a crate::gofer::Creds) -> Self {
        Asker {
            fsuid: c.fsuid,
            fsgid: c.fsgid,
            groups: &c.groups,
            cap_effective: c.cap_effective,
        }
    }
}

/// The mode class rule of Linux's acl_permission_check: the owner's bits
/// for the owner, else the group's for a member, else the others'. `want`
/// is a mask of 4 (read), 2 (write), 1 (execute/search).
pub fn class_permits(who: &Asker, owner: u32, group: u32, mode: u32, want: u32) -> bool {
    let shift = if who.fsuid == owner {
        6
    } else if who.fsgid == group || who.groups.contains(&group) {
        3
    } else {
        0
    };
    (mode >> shift) & want == want
}

/// Linux's generic_permission for a file without an ACL: the class rule,
/// then CAP_DAC_READ_SEARCH (read, and search of a directory) and
/// CAP_DAC_OVERRIDE (anything but executing a file no one may execute).
/// `mode` includes the file type bits.
pub fn may(who: &Asker, owner: u32, group: u32, mode: u32, want: u32) -> bool {
    if class_permits(who, owner, group, mode, want) {
        return true;
    }
    let has = |cap| who.cap_effective & cap_bit(cap) != 0;
    let is_dir = mode & libc::S_IFMT == libc::S_IFDIR;
    if is_dir {
        if want & 2 == 0 && has(CAP_DAC_READ_SEARCH) {
            return true;
        }
        return has(CAP_DAC_OVERRIDE);
    }
    if want == 4 && has(CAP_DAC_READ_SEARCH) {
        return true;
    }
    has(CAP_DAC_OVERRIDE) && (want & 1 == 0 || mode & 0o111 != 0)
}

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
    /// The process's dumpable mode (SUID_DUMP_*: 0 off, 1 user, 2 root):
    /// a task that is not SUID_DUMP_USER has its /proc files owned by
    /// root, as Linux's task_dump_owner.
    pub dumpable: u8,
}

/// SUID_DUMP_USER: the task's own user may dump and owns its /proc files.
pub const SUID_DUMP_USER: u8 = 1;

/// The host's fs.suid_dumpable: the dumpable mode a task falls to when its
/// ids change (read once; 0, Linux's default, if unreadable).
fn suid_dumpable() -> u8 {
    static MODE: std::sync::OnceLock<u8> = std::sync::OnceLock::new();
    *MODE.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/fs/suid_dumpable")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .filter(|m| *m <= 2)
            .unwrap_or(0)
    })
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

    /// commit_creds: a change of the effective or fs ids, or permitted
    /// capabilities gained, makes the process non-dumpable (per the host's
    /// fs.suid_dumpable).
    fn fix_dumpable(&mut self, old: &Cred) {
        let changed = self.uid[1] != old.uid[1]
            || self.gid[1] != old.gid[1]
            || self.uid[3] != old.uid[3]
            || self.gid[3] != old.gid[3]
            || self.permitted & !old.permitted != 0;
        if changed {
            self.dumpable = suid_dumpable();
        }
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
        new.fix_dumpable(self);
        Ok(new)
    }

    /// setreuid(2).
    pub fn setreuid(&self, ruid: u32, euid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.uid = set_re_ids(self.uid, ruid, euid, self.capable(CAP_SETUID))?;
        new.fix_setuid(self, SetId::Id);
        new.fix_dumpable(self);
        Ok(new)
    }

    /// setresuid(2).
    pub fn setresuid(&self, ruid: u32, euid: u32, suid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.uid = set_res_ids(self.uid, [ruid, euid, suid], self.capable(CAP_SETUID))?;
        new.fix_setuid(self, SetId::Id);
        new.fix_dumpable(self);
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
            new.fix_dumpable(self);
        }
        new
    }

    /// setgid(2).
    pub fn setgid(&self, gid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.gid = set_id(self.gid, gid, self.capable(CAP_SETGID))?;
        new.fix_dumpable(self);
        Ok(new)
    }

    /// setregid(2).
    pub fn setregid(&self, rgid: u32, egid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.gid = set_re_ids(self.gid, rgid, egid, self.capable(CAP_SETGID))?;
        new.fix_dumpable(self);
        Ok(new)
    }

    /// setresgid(2).
    pub fn setresgid(&self, rgid: u32, egid: u32, sgid: u32) -> Result<Cred, Errno> {
        let mut new = self.clone();
        new.gid = set_res_ids(self.gid, [rgid, egid, sgid], self.capable(CAP_SETGID))?;
        new.fix_dumpable(self);
        Ok(new)
    }

    /// setfsgid(2), as setfsuid.
    pub fn setfsgid(&self, gid: u32) -> Cred {
        let mut new = self.clone();
        if gid != UNCHANGED
            && (in3(gid, self.gid) || gid == self.gid[3] || self.capable(CAP_SETGID))
        {
            new.gid[3] = gid;
            new.fix_dumpable(self);
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
        // begin_new_exec: dumpable again unless the ids differ.
        new.dumpable = if new.uid[1] == new.uid[0] && new.gid[1] == new.gid[0] {
            SUID_DUMP_USER
        } else {
            suid_dumpable()
        };
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

/// The credentials of every workload task.
pub struct Table {
    /// The spec's process: user, groups and capability sets.
    base: Cred,
    /// What init's first program holds (`spec`), worked out once.
    spec: Cred,
    /// A `runrs exec` process joined with its own user: a task without a
    /// record has the host ids it runs with, not necessarily the spec's.
    joined: AtomicBool,
    records: Lineage<Cred>,
    /// Some record differs from `spec` (see `uniform`).
    diverse: AtomicBool,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("cred::Table")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
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
            joined: AtomicBool::new(false),
            records: Lineage::new(host, Scope::Thread),
            diverse: AtomicBool::new(false),
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

    /// Whether any task ever had a record (else all hold the base).
    pub fn recorded(&self) -> bool {
        !self.records.is_empty()
    }

    /// Every task holds the spec's credentials: nobody changed theirs
    /// (to something else) and no `runrs exec` process has its own. A
    /// signal is then always permitted, without a lookup.
    pub fn uniform(&self) -> bool {
        !self.diverse.load(Ordering::Acquire)
    }

    /// The credentials of host task `htid`.
    pub fn get(&self, htid: i32) -> Result<Cred, Errno> {
        // Nobody changed anything (the common case): no syscall at all.
        if self.records.is_empty() {
            return self.base_for(htid);
        }
        self.walk(htid)
    }

    fn walk(&self, htid: i32) -> Result<Cred, Errno> {
        self.records.get(htid, &|h| self.base_for(h))
    }

    /// Makes `cred` the credentials of `htid`. The tasks that would
    /// inherit through it (its other threads when it leads its group,
    /// the children of its process) keep their current ones.
    pub fn set(&self, htid: i32, cred: Cred) -> Result<(), Errno> {
        if cred != self.spec {
            self.diverse.store(true, Ordering::Release);
        }
        self.records.set(htid, cred, &|h| self.base_for(h))
    }

    /// Thread `creator` is about to create a thread whose tid the kernel
    /// writes at `ptid` (CLONE_PARENT_SETTID, before the thread runs): the
    /// new thread will hold `creator`'s current credentials.
    pub fn note_clone(&self, creator: i32, ptid: u64) -> Result<(), Errno> {
        let cred = self.get(creator)?;
        self.records.note_thread_creation(creator, ptid, cred)
    }

    /// Process `htid` is ending (exit_group): its children that have no
    /// record of their own take its credentials now, before they are
    /// reparented to init (or a subreaper) and would inherit from that.
    pub fn note_exit(&self, htid: i32) -> Result<(), Errno> {
        if self.records.is_empty() {
            return Ok(());
        }
        self.records.keep_for_children(htid, &|h| self.base_for(h))
    }

    /// A `runrs exec` process `htid`, not yet exec'd, holds `pre`: its
    /// process spec's user and sets as runc applies them (an ambient
    /// capability only if permitted and inheritable); its execve then
    /// gives its program what that holds (`Cred::after_exec`).
    pub fn seed(&self, htid: i32, mut pre: Cred) -> Result<(), Errno> {
        if !self.records.host().in_container(htid) {
            return Err(Errno::ESRCH);
        }
        pre.ambient &= pre.permitted & pre.inheritable;
        // Compared with `spec` as its program will hold it: an exec with
        // the container's own user and sets leaves the table uniform.
        let mut post = pre.clone();
        caps_for(&pre, pre.uid, &mut post);
        if post != self.spec {
            self.diverse.store(true, Ordering::Release);
        }
        self.records.set(htid, pre, &|h| self.base_for(h))
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
            dumpable: SUID_DUMP_USER,
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
    fn may_follows_the_class_rule_then_the_dac_capabilities() {
        let user = |groups: &'static [u32], caps: u64| Asker {
            fsuid: 1000,
            fsgid: 1000,
            groups,
            cap_effective: caps,
        };
        let file = libc::S_IFREG;
        let dir = libc::S_IFDIR;
        // The owner class decides alone, even when "other" would allow.
        assert!(!may(&user(&[], 0), 1000, 0, file | 0o077, 4));
        // A supplementary group counts as the group class.
        assert!(may(&user(&[5], 0), 0, 5, file | 0o040, 4));
        assert!(!may(&user(&[], 0), 0, 5, file | 0o040, 4));
        assert!(may(&user(&[], 0), 0, 5, file | 0o004, 4));
        let read_search = cap_bit(CAP_DAC_READ_SEARCH);
        let overrides = cap_bit(CAP_DAC_OVERRIDE);
        assert!(may(&user(&[], read_search), 0, 0, file, 4));
        assert!(!may(&user(&[], read_search), 0, 0, file, 2));
        assert!(may(&user(&[], read_search), 0, 0, dir, 5));
        assert!(may(&user(&[], overrides), 0, 0, file, 6));
        // Executing needs some x bit even with CAP_DAC_OVERRIDE.
        assert!(!may(&user(&[], overrides), 0, 0, file | 0o600, 1));
        assert!(may(&user(&[], overrides), 0, 0, file | 0o100, 1));
        assert!(may(&user(&[], overrides), 0, 0, dir, 1));
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
