//! The workload's credentials, as the kernel holds them.
//!
//! Every workload task runs in a user namespace that runrs creates (see
//! the front end's `userns` module): with no user namespace in the spec, an identity
//! mapping of the whole id range, so container uid N is host uid N, as under
//! runc; with one, the spec's mappings. The spec's capabilities are real
//! capabilities in that namespace, so the set*id family, setgroups, capset,
//! the capability prctls and execve's set-user-ID and capability rules are
//! the kernel's, and every check the kernel makes itself (chdir, execve,
//! signals, SysV IPC, SCM_CREDENTIALS, fds it opens) agrees with the checks
//! the sentry makes before the gofer opens a file for the workload.
//!
//! The sentry does not compute credentials; it reads them from the host's
//! /proc/<tid>/status (`Table::get`). A task's own reads are cached
//! (`Table::own`, keyed by its pidfs inode so that a reused tid never sees a
//! dead task's entry) and dropped whenever the task makes a call that may
//! change them (`Table::forget`: the set*id family, setgroups, capset, the
//! capability and dumpable prctls and execve reach the sentry for that and
//! then continue to the kernel). Only the task itself changes its own
//! credentials, and it waits in that call while the sentry forgets, so its
//! next call reads the new ones.
//!
//! Ids are the host's inside the sentry (file owners from the gofer are host
//! ids too, so permission checks compare like with like); `IdMap` turns them
//! into the container's where the workload is shown them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use nix::errno::Errno;

use super::fswatch::FsWatch;

pub use crate::sandbox::idmap::{IdMap, IdRange, OVERFLOW_ID};

pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
/// CAP_CHECKPOINT_RESTORE, the highest the host kernel knows (5.9+).
pub const CAP_LAST_CAP: u32 = 40;

/// securebits (linux/securebits.h): NO_SETUID_FIXUP keeps the capability
/// sets across uid changes (and so access(2) uses the effective set).
pub const SECURE_NO_SETUID_FIXUP: u32 = 1 << 2;

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

/// A task asks with its fs ids, its groups and its effective set.
impl<'a> From<&'a Cred> for Asker<'a> {
    fn from(c: &'a Cred) -> Self {
        Asker {
            fsuid: c.uid[3],
            fsgid: c.gid[3],
            groups: &c.groups,
            cap_effective: c.effective,
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

/// One task's credentials, in host ids.
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
    /// Not in /proc: always 0 here (the kernel applies its own).
    pub securebits: u32,
    pub no_new_privs: bool,
    /// The process's dumpable mode as its /proc files show it:
    /// SUID_DUMP_USER when the task's own ids own them, else 0 (root's,
    /// after a set*id call or PR_SET_DUMPABLE 0: task_dump_owner).
    pub dumpable: u8,
    /// The file mode creation mask of the task's fs (shared by the tasks
    /// that share it, see [`Table::umask`]); 022 where the status file
    /// has no line for it (Linux before 4.7).
    pub umask: u32,
}

/// SUID_DUMP_USER: the task's own user may dump and owns its /proc files.
pub const SUID_DUMP_USER: u8 = 1;

impl Cred {
    pub fn capable(&self, cap: u32) -> bool {
        self.effective & cap_bit(cap) != 0
    }

    pub fn euid(&self) -> u32 {
        self.uid[1]
    }

    /// The credential lines of a /proc/<tid>/status text; `dumpable` is
    /// left at SUID_DUMP_USER (the status file does not show it).
    pub fn from_status(status: &str) -> Option<Cred> {
        let mut c = Cred {
            uid: [0; 4],
            gid: [0; 4],
            groups: Vec::new(),
            effective: 0,
            permitted: 0,
            inheritable: 0,
            bounding: 0,
            ambient: 0,
            securebits: 0,
            no_new_privs: false,
            dumpable: SUID_DUMP_USER,
            umask: 0o022,
        };
        let four = |v: &str| -> Option<[u32; 4]> {
            let n: Vec<u32> = v
                .split_whitespace()
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?;
            (n.len() == 4).then(|| [n[0], n[1], n[2], n[3]])
        };
        let hex = |v: &str| u64::from_str_radix(v.trim(), 16).ok();
        let mut seen = 0u32;
        for line in status.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let bit = match k {
                "Uid" => {
                    c.uid = four(v)?;
                    1
                }
                "Gid" => {
                    c.gid = four(v)?;
                    2
                }
                "Groups" => {
                    c.groups = v
                        .split_whitespace()
                        .map(|x| x.parse().ok())
                        .collect::<Option<_>>()?;
                    c.groups.sort_unstable();
                    4
                }
                "CapInh" => {
                    c.inheritable = hex(v)?;
                    8
                }
                "CapPrm" => {
                    c.permitted = hex(v)?;
                    16
                }
                "CapEff" => {
                    c.effective = hex(v)?;
                    32
                }
                "CapBnd" => {
                    c.bounding = hex(v)?;
                    64
                }
                "CapAmb" => {
                    c.ambient = hex(v)?;
                    128
                }
                "NoNewPrivs" => {
                    c.no_new_privs = v.trim() == "1";
                    256
                }
                "Umask" => {
                    c.umask = u32::from_str_radix(v.trim(), 8)
                        .ok()
                        .filter(|m| *m <= 0o777)?;
                    0
                }
                _ => 0,
            };
            seen |= bit;
        }
        (seen == 511).then_some(c)
    }

    /// Reads host task `htid`'s credentials from the host's /proc at
    /// `proc_root` (normally /proc).
    pub fn read(proc_root: &Path, htid: i32) -> Result<Cred, Errno> {
        use std::os::unix::fs::MetadataExt;
        let dir = proc_root.join(htid.to_string());
        let mut f = std::fs::File::open(dir.join("status")).map_err(|_| Errno::ESRCH)?;
        let buf = super::fs::hostproc::read_whole(&mut f).map_err(|_| Errno::ESRCH)?;
        let text = std::str::from_utf8(&buf).map_err(|_| Errno::ESRCH)?;
        let mut c = Cred::from_status(text).ok_or(Errno::ESRCH)?;
        // A non-dumpable task's files (but not its 0555 directories) are
        // root's: the status file's owner tells the mode.
        let owner = f.metadata().map_err(|_| Errno::ESRCH)?;
        if (owner.uid(), owner.gid()) != (c.uid[1], c.gid[1]) {
            c.dumpable = 0;
        }
        Ok(c)
    }
}

/// Entries beyond this many are dropped at once (dead tasks' included).
const CACHE_LIMIT: usize = 4096;

/// One task's own last read.
#[derive(Debug)]
struct Own {
    /// The task's pidfs inode.
    ino: u64,
    cred: Cred,
    /// When `ino` was last checked (within `hostproc::tid_reuse_guard` of
    /// a check the tid still names that task, so no pidfd is needed).
    checked: Instant,
    /// The umask watch's stamp of the read that gave `cred.umask`.
    umask_stamp: Option<u64>,
    /// The path of the task's cwd as the kernel showed it, with the cwd
    /// watch's stamp of that read (only a read with a stamp is kept).
    cwd: Option<(Vec<u8>, u64)>,
}

/// The credentials of every workload task, read from the kernel, with
/// what else of a task's own the sentry keeps beside them: its umask
/// (from the same read) and its cwd's path.
#[derive(Debug)]
pub struct Table {
    /// The host's /proc.
    proc_root: PathBuf,
    /// Each task's own last read, under its host tid.
    own: Mutex<HashMap<i32, Own>>,
    /// The umask calls (see `fswatch`).
    umask_calls: FsWatch,
    /// The calls that may change a cwd's path: chdir and fchdir, and the
    /// renames and directory removals that may move or remove the
    /// directory a cwd is in.
    cwd_calls: FsWatch,
    /// Whether two tasks share an fs (`sys::same_fs`; a fake in tests).
    shares_fs: fn(i32, i32) -> bool,
}

/// Whether `htid`'s entry is the task's own, as [`Table::check`] found.
enum Checked {
    /// The entry (if any: a concurrent `forget` may drop it) names it.
    Entry,
    /// No entry names it; it has this pidfs inode since `checked`.
    None { ino: u64, checked: Instant },
}

impl Table {
    pub fn new(proc_root: PathBuf) -> Table {
        Table {
            proc_root,
            own: Mutex::new(HashMap::new()),
            umask_calls: FsWatch::default(),
            cwd_calls: FsWatch::default(),
            shares_fs: super::sys::same_fs,
        }
    }

    /// The current credentials of host task `htid`, read now.
    pub fn get(&self, htid: i32) -> Result<Cred, Errno> {
        Cred::read(&self.proc_root, htid)
    }

    /// Whether the entry under `htid` names the task that has the tid now
    /// (renewing its check); ESRCH when no task does. `seen`: when the
    /// caller's current call was received. A call received within the
    /// guard after the last check comes from the task checked then (a
    /// freed tid comes back only after the allocator went round pid_max),
    /// so the check holds from `seen` on.
    fn check(&self, htid: i32, seen: Option<Instant>) -> Result<Checked, Errno> {
        let guard = super::fs::hostproc::tid_reuse_guard();
        if let Ok(mut m) = self.own.lock() {
            if let Some(o) = m.get_mut(&htid) {
                if let Some(seen) = seen.filter(|&s| s > o.checked && s - o.checked < guard) {
                    o.checked = seen;
                }
                if o.checked.elapsed() < guard {
                    return Ok(Checked::Entry);
                }
            }
        }
        // Taken before the check: the window starts when the tid was seen.
        let checked = Instant::now();
        let ino = super::lineage::identify(htid).map_err(|_| Errno::ESRCH)?;
        if let Ok(mut m) = self.own.lock() {
            if let Some(o) = m.get_mut(&htid).filter(|o| o.ino == ino) {
                o.checked = checked;
                return Ok(Checked::Entry);
            }
        }
        Ok(Checked::None { ino, checked })
    }

    /// The credentials of `htid` for a call it is making: it cannot change
    /// them meanwhile, and every change it made went through `forget`.
    pub fn own(&self, htid: i32) -> Result<Cred, Errno> {
        self.own_stamped(htid, None).map(|(c, _)| c)
    }

    /// `own` for the call received at `seen` (see `check`).
    pub fn own_seen(&self, htid: i32, seen: Instant) -> Result<Cred, Errno> {
        self.own_stamped(htid, Some(seen)).map(|(c, _)| c)
    }

    /// `own`, with the umask stamp of the read it returns.
    fn own_stamped(&self, htid: i32, seen: Option<Instant>) -> Result<(Cred, Option<u64>), Errno> {
        if !super::fs::hostproc::is_live(&self.proc_root) {
            // No task behind a fixture's entry to key the cache with.
            return Cred::read(&self.proc_root, htid).map(|c| (c, None));
        }
        let (ino, checked) = match self.check(htid, seen)? {
            Checked::Entry => {
                let kept = self
                    .own
                    .lock()
                    .ok()
                    .and_then(|m| m.get(&htid).map(|o| (o.cred.clone(), o.umask_stamp)));
                if let Some(kept) = kept {
                    return Ok(kept);
                }
                // Forgotten meanwhile: read it as a new one.
                let checked = Instant::now();
                let ino = super::lineage::identify(htid).map_err(|_| Errno::ESRCH)?;
                (ino, checked)
            }
            Checked::None { ino, checked } => (ino, checked),
        };
        let umask_stamp = self.umask_calls.stamp(htid, self.shares_fs);
        let c = Cred::read(&self.proc_root, htid)?;
        if let Ok(mut m) = self.own.lock() {
            if m.len() >= CACHE_LIMIT {
                m.clear();
            }
            let own = Own {
                ino,
                cred: c.clone(),
                checked,
                umask_stamp,
                cwd: None,
            };
            m.insert(htid, own);
        }
        Ok((c, umask_stamp))
    }

    /// `htid` is about to change its credentials (or, for an execve, its
    /// thread group leader's, whose tid it takes over).
    pub fn forget(&self, htid: i32) {
        if let Ok(mut m) = self.own.lock() {
            m.remove(&htid);
        }
    }

    /// The umask of `htid`'s fs, for a create it is making. The status
    /// read that gave its credentials gave it too, and holds while no
    /// umask call started since and none is under way (see `fswatch`);
    /// otherwise the status file is read again.
    /// `seen`: when the caller's current call was received.
    pub fn umask(&self, htid: i32, seen: Instant) -> Result<u32, Errno> {
        self.end_calls();
        let (c, stamp) = self.own_stamped(htid, Some(seen))?;
        // Both the test of the kept read and the stamp of a new one.
        let now = self.umask_calls.stamp(htid, self.shares_fs);
        if stamp.is_some() && stamp == now {
            return Ok(c.umask);
        }
        let stamp = now;
        let fresh = Cred::read(&self.proc_root, htid)?;
        if let Ok(mut m) = self.own.lock() {
            // The caller waits in its call, so its entry (made or checked
            // just now) still names it.
            if let Some(o) = m.get_mut(&htid) {
                o.cred = fresh.clone();
                o.umask_stamp = stamp;
            }
        }
        Ok(fresh.umask)
    }

    /// The path of `htid`'s cwd, for a relative path it gives: the last
    /// `read` of it, while no call that may change it started since and
    /// none is under way (see `fswatch`), else `read` now. A path that
    /// `keep` refuses (where others may rename directories) is not kept,
    /// nor one of a task whose credentials were not read.
    /// `seen`: when the caller's current call was received.
    pub fn cwd(
        &self,
        htid: i32,
        seen: Instant,
        read: impl FnOnce() -> Result<Vec<u8>, Errno>,
        keep: impl FnOnce(&[u8]) -> bool,
    ) -> Result<Vec<u8>, Errno> {
        if !super::fs::hostproc::is_live(&self.proc_root) {
            return read();
        }
        let has_entry = self.own.lock().is_ok_and(|m| m.contains_key(&htid));
        if !has_entry {
            // Checking who has the tid would cost as much as the read.
            return read();
        }
        self.end_calls();
        // The current call may vouch for the entry; else one check renews
        // it for the calls to come.
        let known = matches!(self.check(htid, Some(seen))?, Checked::Entry);
        // Both the test of the kept path and the stamp of a new read.
        let now = self.cwd_calls.stamp(htid, self.shares_fs);
        if let Some(now) = now.filter(|_| known) {
            let kept = self.own.lock().ok().and_then(|m| {
                let (path, stamp) = m.get(&htid)?.cwd.as_ref()?;
                (*stamp == now).then(|| path.clone())
            });
            if let Some(path) = kept {
                return Ok(path);
            }
        }
        let path = read()?;
        if let Some(stamp) = now.filter(|_| known && keep(&path)) {
            if let Ok(mut m) = self.own.lock() {
                if let Some(o) = m.get_mut(&htid) {
                    o.cwd = Some((path.clone(), stamp));
                }
            }
        }
        Ok(path)
    }

    /// `htid` makes a umask call setting `mask`, which the kernel performs
    /// after this.
    pub fn umask_changing(&self, htid: i32, mask: u32) {
        self.umask_calls.changing(htid, Some(mask & 0o777), false);
    }

    /// `htid` makes a chdir or fchdir, which changes the cwd of its fs
    /// when the kernel performs it, after this.
    pub fn cwd_changing(&self, htid: i32) {
        self.cwd_calls.changing(htid, None, false);
    }

    /// `htid` has a directory renamed or removed, which may move or remove
    /// any task's cwd, until `cwd_moved`.
    pub fn cwd_moving(&self, htid: i32) {
        self.cwd_calls.changing(htid, None, true);
    }

    /// The rename or removal `htid` started with `cwd_moving` is over.
    pub fn cwd_moved(&self, htid: i32) {
        self.cwd_calls.settled(htid);
    }

    /// `htid` makes a new call: the calls it made before are over. A
    /// umask call that overlapped no other leaves the caller's mask known,
    /// unread (busybox reads its umask with umask(0) and umask(old) before
    /// every file it extracts).
    pub fn settled(&self, htid: i32) {
        self.cwd_calls.settled(htid);
        let Some((mask, stamp)) = self.umask_calls.settled(htid) else {
            return;
        };
        if let Ok(mut m) = self.own.lock() {
            if let Some(o) = m.get_mut(&htid) {
                o.cred.umask = mask;
                o.umask_stamp = Some(stamp);
            }
        }
    }

    /// Ends the calls that are over although their task made no call
    /// since: those of tasks that are gone. (The asker's own earlier call
    /// ended when its current one arrived: `settled`; the call it makes
    /// now may be the one under way.)
    fn end_calls(&self) {
        self.umask_calls.prune(&self.proc_root);
        self.cwd_calls.prune(&self.proc_root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::sentry::fs::hostproc::fixture::{ProcTree, Task};

    /// Every credential line of a task's status file, read from a tree
    /// laid out like /proc: ids as the kernel lists them, groups sorted,
    /// the five capability sets and no_new_privs.
    #[test]
    fn reads_a_tasks_credentials_from_its_status_file() {
        let tree = ProcTree::new();
        let mut t = Task::process(100, 1, "pid:[111]");
        let (me, my_gid) = (t.uid[1], t.gid[1]);
        t.uid = [1000, me, 1002, me];
        t.gid = [5, my_gid, 7, my_gid];
        t.groups = vec![20, 5, 100000];
        t.caps = [1, 0xa80425fb, 0xa80425fb, (1 << 41) - 1, 1 << 10];
        t.no_new_privs = true;
        tree.add(&t);
        let c = Table::new(tree.root().to_path_buf()).get(100).expect("get");
        assert_eq!(c.uid, [1000, me, 1002, me]);
        assert_eq!(c.gid, [5, my_gid, 7, my_gid]);
        assert_eq!(c.groups, [5, 20, 100000]);
        assert_eq!(
            (
                c.inheritable,
                c.permitted,
                c.effective,
                c.bounding,
                c.ambient
            ),
            (1, 0xa80425fb, 0xa80425fb, (1 << 41) - 1, 1 << 10)
        );
        assert!(c.no_new_privs && c.capable(CAP_CHOWN) && !c.capable(CAP_DAC_READ_SEARCH));
        assert_eq!(c.euid(), me);
        assert_eq!(c.securebits, 0);
    }

    /// The dumpable rule: a task's /proc files are its effective ids' when
    /// it is dumpable, root's when not (task_dump_owner), so a status file
    /// owned by anyone else means dumpable 0.
    #[test]
    fn dumpable_follows_the_status_files_owner() {
        let tree = ProcTree::new();
        let mut t = Task::process(100, 1, "pid:[111]");
        tree.add(&t);
        let table = Table::new(tree.root().to_path_buf());
        assert_eq!(table.get(100).expect("get").dumpable, SUID_DUMP_USER);
        // Same file owner, another effective uid (after a setuid call).
        t.uid[1] = t.uid[1].wrapping_add(1);
        tree.add(&t);
        assert_eq!(table.get(100).expect("get").dumpable, 0);
        // Or another effective gid.
        t.uid[1] = t.uid[0];
        t.gid[1] = t.gid[1].wrapping_add(1);
        tree.add(&t);
        assert_eq!(table.get(100).expect("get").dumpable, 0);
    }

    /// A task that is not there, or whose status lacks a line or garbles
    /// one, has no credentials (ESRCH), never defaults; off the live /proc
    /// `own` reads every time, as `get` does.
    #[test]
    fn a_missing_or_garbled_status_is_esrch() {
        let tree = ProcTree::new();
        let t = Task::process(100, 1, "pid:[111]");
        tree.add(&t);
        let table = Table::new(tree.root().to_path_buf());
        assert_eq!(table.get(7), Err(Errno::ESRCH));
        assert_eq!(table.own(100), table.get(100));
        tree.write("100/status", t.status().replace("CapEff:", "CapEfff:"));
        assert_eq!(table.own(100), Err(Errno::ESRCH), "not cached");
        tree.write("100/status", t.status().replace("Gid:\t", "Gid:\tx"));
        assert_eq!(table.get(100), Err(Errno::ESRCH));
        tree.write("100/status", b"Uid:\t\xff\n".as_slice());
        assert_eq!(table.get(100), Err(Errno::ESRCH));
        assert!(table.own.lock().expect("own").is_empty());
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
    fn reads_the_credential_lines_of_a_status_file() {
        let status = "Name:\tsh\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\nGroups:\t20 5 \n\
            CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\n\
            CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n";
        let c = Cred::from_status(status).expect("parse");
        assert_eq!(c.uid, [1000, 1001, 1002, 1003]);
        assert_eq!(c.gid, [5, 6, 7, 8]);
        assert_eq!(c.groups, [5, 20]);
        assert_eq!(c.effective, 0xa80425fb);
        assert_eq!(c.bounding, (1 << 41) - 1);
        assert!(c.no_new_privs);
        // A missing or malformed line is no answer, never a default.
        assert!(Cred::from_status("Uid:\t1\t1\t1\t1\n").is_none());
        assert!(
            Cred::from_status(&status.replace("CapEff:\t00000000a80425fb", "CapEff:\tzz"))
                .is_none()
        );
    }

    #[test]
    fn reads_our_own_credentials_like_the_kernel_reports_them() {
        let me = std::process::id() as i32;
        let c = Table::new("/proc".into()).own(me).expect("own");
        assert_eq!(c.uid[1], nix::unistd::geteuid().as_raw());
        assert_eq!(c.gid[1], nix::unistd::getegid().as_raw());
        assert_eq!(c, Table::new("/proc".into()).get(me).expect("get"));
    }

    /// A shell that runs each line it reads, and says when.
    struct Shell {
        child: std::process::Child,
        lines: std::io::BufReader<std::process::ChildStdout>,
    }

    impl Shell {
        fn start(first: &str) -> Shell {
            use std::process::{Command, Stdio};
            let script = "while read c; do eval \"$c\"; echo set; done";
            let mut child = Command::new("sh")
                .args(["-c", script])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("sh");
            let out = child.stdout.take().expect("stdout");
            let mut shell = Shell {
                child,
                lines: std::io::BufReader::new(out),
            };
            shell.run(first);
            shell
        }

        fn pid(&self) -> i32 {
            self.child.id() as i32
        }

        fn run(&mut self, command: &str) {
            use std::io::{BufRead, Write};
            let stdin = self.child.stdin.as_mut().expect("stdin");
            writeln!(stdin, "{command}").expect("write");
            let mut line = String::new();
            self.lines.read_line(&mut line).expect("read");
            assert_eq!(line, "set\n");
        }
    }

    impl Drop for Shell {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// The umask read with a task's credentials holds until some task's
    /// umask call reaches the table (tasks may share an fs); while another
    /// task's call is under way every read is made anew, and once that
    /// task made its next call (or is gone) reads hold again. A call that
    /// overlapped no other leaves its caller's mask known without a read.
    #[test]
    fn a_umask_read_holds_until_a_umask_call() {
        let mut shell = Shell::start("umask 022");
        let pid = shell.pid();
        let mut table = Table::new("/proc".into());
        // As if the shells below shared an fs (threads, CLONE_FS).
        table.shares_fs = |_, _| true;
        assert_eq!(table.umask(pid, Instant::now()), Ok(0o022));
        // A change that bypassed the table (as if umask were not routed
        // to the sentry) is not seen: the read is kept.
        shell.run("umask 077");
        assert_eq!(
            table.umask(pid, Instant::now()),
            Ok(0o022),
            "the read is kept"
        );

        // The call reaches the table, the kernel sets the mask, and the
        // caller's next call ends it: the mask it set is kept, unread
        // (the bypassing change after it shows that nothing was read).
        table.umask_changing(pid, 0o027);
        shell.run("umask 027");
        table.settled(pid);
        shell.run("umask 070");
        assert_eq!(
            table.umask(pid, Instant::now()),
            Ok(0o027),
            "known from the call"
        );

        // Another task's call (a thread or a CLONE_FS sibling) is under
        // way until that task makes its next call.
        let mut other = Shell::start("umask 022");
        table.umask_changing(other.pid(), 0o022);
        assert_eq!(
            table.umask(pid, Instant::now()),
            Ok(0o070),
            "under way: read anew"
        );
        shell.run("umask 007");
        assert_eq!(
            table.umask(pid, Instant::now()),
            Ok(0o007),
            "read anew again"
        );
        table.settled(other.pid());
        assert_eq!(table.umask(pid, Instant::now()), Ok(0o007));
        shell.run("umask 000");
        assert_eq!(table.umask(pid, Instant::now()), Ok(0o007), "settled: kept");

        // Two calls that overlap (as if the tasks shared an fs, the other
        // one's taking effect last): neither tells the mask, it is read.
        table.umask_changing(pid, 0o077);
        table.umask_changing(other.pid(), 0o022);
        shell.run("umask 022");
        table.settled(pid);
        table.settled(other.pid());
        assert_eq!(
            table.umask(pid, Instant::now()),
            Ok(0o022),
            "read, not taken from a call"
        );

        // A call whose task is gone without another call (a thread may
        // end with exit(2), which never reaches the sentry) is over.
        table.umask_changing(other.pid(), 0o022);
        shell.run("umask 070");
        assert_eq!(
            table.umask(pid, Instant::now()),
            Ok(0o070),
            "under way: read anew"
        );
        let _ = other.child.kill();
        let _ = other.child.wait();
        std::thread::sleep(crate::sentry::fswatch::PRUNE_EVERY);
        assert_eq!(table.umask(pid, Instant::now()), Ok(0o070));
        shell.run("umask 022");
        assert_eq!(
            table.umask(pid, Instant::now()),
            Ok(0o070),
            "the other task is gone: kept"
        );
        // The credentials read with the mask are the task's own.
        let now = table.get(pid).map(|c| Cred { umask: 0o070, ..c });
        assert_eq!(table.own(pid), now);
    }

    /// A task's cwd path is kept once its credentials are known, until a
    /// call that may change some cwd reaches the table; while one is under
    /// way it is read every time; a path `keep` refuses is never kept.
    #[test]
    fn a_cwd_read_holds_until_a_call_that_may_move_it() {
        let base = std::env::temp_dir().join(format!("cred-cwd-{}", std::process::id()));
        for d in ["a", "b", "c"] {
            std::fs::create_dir_all(base.join(d)).expect("mkdir");
        }
        let mut shell = Shell::start(&format!("cd {}", base.join("a").display()));
        let pid = shell.pid();
        let mut table = Table::new("/proc".into());
        // As if the shells below shared an fs (threads, CLONE_FS).
        table.shares_fs = |_, _| true;
        let reads = std::cell::Cell::new(0);
        let cwd = |keep: bool| {
            // A call that needs the credentials (most do) renews the
            // check of the caller's tid, which the kept path relies on.
            let _ = table.own(pid);
            let read = || {
                reads.set(reads.get() + 1);
                std::fs::read_link(format!("/proc/{pid}/cwd"))
                    .map(|p| p.into_os_string().into_encoded_bytes())
                    .map_err(|_| Errno::ESRCH)
            };
            let path = table.cwd(pid, Instant::now(), read, |_| keep).expect("cwd");
            let path = String::from_utf8(path).expect("utf-8");
            path.rsplit('/').next().map(str::to_string).expect("name")
        };
        // Not kept for a task whose credentials were not read.
        let fresh = Table::new("/proc".into());
        let unread = || Err(Errno::EIO);
        let read = || Ok(b"/a".to_vec());
        assert_eq!(
            fresh.cwd(pid, Instant::now(), read, |_| true),
            Ok(b"/a".to_vec())
        );
        assert_eq!(
            fresh.cwd(pid, Instant::now(), unread, |_| true),
            Err(Errno::EIO)
        );
        assert_eq!(cwd(true), "a");
        assert_eq!(cwd(true), "a");
        // Kept now: a chdir that bypasses the table is not seen.
        shell.run("cd ../b");
        assert_eq!(cwd(true), "a");
        assert_eq!(reads.get(), 1);
        // The task's chdir reaches the table first.
        table.cwd_changing(pid);
        shell.run("cd ../c");
        table.settled(pid);
        assert_eq!(cwd(true), "c");
        assert_eq!(cwd(true), "c");
        assert_eq!(reads.get(), 2);
        // Another task's call (a rename) is under way until its next call.
        let mut other = Shell::start("true");
        table.cwd_changing(other.pid());
        assert_eq!(cwd(true), "c");
        shell.run("cd ../a");
        assert_eq!(cwd(true), "a");
        assert_eq!(reads.get(), 4);
        other.run("true");
        table.settled(other.pid());
        assert_eq!(cwd(true), "a");
        assert_eq!(cwd(true), "a");
        assert_eq!(reads.get(), 5);
        // A path `keep` refuses (under a bind mount) is read every time.
        table.cwd_changing(pid);
        table.settled(pid);
        assert_eq!(cwd(false), "a");
        assert_eq!(cwd(false), "a");
        assert_eq!(reads.get(), 7);
        // Forgetting the credentials forgets the cwd.
        assert_eq!(cwd(true), "a");
        assert_eq!(reads.get(), 8);
        table.forget(pid);
        assert_eq!(cwd(true), "a");
        assert_eq!(reads.get(), 9);

        // Tasks that share no fs (two processes, as the kernel tells):
        // one's call under way does not stop the other from keeping.
        let apart = Table::new("/proc".into());
        apart.own(pid).expect("own");
        apart.cwd_changing(other.pid());
        let read = || Ok(b"/kept".to_vec());
        assert_eq!(
            apart.cwd(pid, Instant::now(), read, |_| true),
            Ok(b"/kept".to_vec())
        );
        let unread = || Err(Errno::EIO);
        let kept = apart.cwd(pid, Instant::now(), unread, |_| true);
        assert_eq!(kept, Ok(b"/kept".to_vec()));
        // While its own call is under way, it reads.
        apart.cwd_changing(pid);
        assert_eq!(
            apart.cwd(pid, Instant::now(), unread, |_| true),
            Err(Errno::EIO)
        );
        drop(shell);
        drop(other);
        std::fs::remove_dir_all(&base).expect("rm");
    }

    #[test]
    fn id_maps_translate_both_ways() {
        let m = IdMap(vec![
            IdRange {
                inside: 0,
                outside: 100000,
                count: 65536,
            },
            IdRange {
                inside: 70000,
                outside: 5,
                count: 1,
            },
        ]);
        assert_eq!(m.to_container(100000), 0);
        assert_eq!(m.to_container(165535), 65535);
        assert_eq!(m.to_container(165536), OVERFLOW_ID);
        assert_eq!(m.to_container(5), 70000);
        assert_eq!(m.to_host(1000), Some(101000));
        assert_eq!(m.to_host(65536), None);
        assert_eq!(m.to_host(70000), Some(5));
        let id = IdMap::identity();
        assert_eq!(id.to_container(4294901759), 4294901759);
        // The sandbox owner ids are unmapped.
        assert_eq!(id.to_container(4294901760), OVERFLOW_ID);
        assert_eq!(id.to_host(4294901760), None);
        assert_eq!(id.to_host(4294967295), None);
        assert_eq!(id.proc_text(), "         0          0 4294901760\n");
    }
}
