//! Reading the host's /proc on behalf of the sentry.
//!
//! Everything here reads per-process data of *container* processes from the
//! host procfs and offers the pid translation between host pids and the pids
//! of the container's pid namespace (the namespace of the container init).
//!
//! A host process belongs to the container iff its `ns/pid` link equals the
//! one of the container init. Its container pid is the last field of the
//! `NSpid:` line of its `status` file.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::sentry::sys::task_file_errno;

/// The text of task `tid`'s fd link `fd` under the host procfs at `root`
/// (its text read as `text`) as the workload sees it:
/// - a task's comm or oom_score_adj opened for writing is a file of the
///   gofer's detached procfs (the only procfs a workload's fd can be on:
///   its /proc is the sentry's), whose path reads "/<pid>/comm"; in the
///   container it is "/proc/<pid>/comm";
/// - a file outside the task's mount namespace (the runtime's stdout when
///   it is a host file, an fd passed in over a socket) reads
///   `host:[<inode>]`, as gVisor names a host fd (pkg/sentry/fsimpl/host),
///   never its host path: that path means nothing in the container, where
///   it may even name another file (runc shows the host path; opening the
///   link reopens the fd itself, see `syscalls::file`);
/// - anything else (container files, `pipe:[N]`, memfds) as the kernel
///   names it.
pub fn sandbox_fd_link(root: &Path, tid: i32, fd: i32, text: Vec<u8>) -> io::Result<Vec<u8>> {
    let pid_dir = text.first() == Some(&b'/') && text.get(1).is_some_and(u8::is_ascii_digit);
    let on_procfs = || {
        on_task_fd(root, tid, fd, |link| Ok(nix::sys::statfs::statfs(link)?))
            .is_ok_and(|st| st.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC)
    };
    if pid_dir && on_procfs() {
        let mut shown = b"/proc".to_vec();
        shown.extend_from_slice(&text);
        return Ok(shown);
    }
    // Files of the kernel's internal mounts (memfd_create, SysV shm) are
    // in no namespace and are named as on Linux.
    let internal = (text.starts_with(b"/memfd:") || text.starts_with(b"/SYSV"))
        && text.ends_with(b" (deleted)");
    if text.first() == Some(&b'/') && !internal && !in_task_mounts(root, tid, fd)? {
        use std::os::unix::fs::MetadataExt;
        let ino = on_task_fd(root, tid, fd, |link| fs::metadata(link))?.ino();
        let mut shown = HOST_FILE_LINK.to_vec();
        shown.extend_from_slice(format!("{ino}]").as_bytes());
        return Ok(shown);
    }
    Ok(text)
}

/// The host's procfs, where the sentry reads.
pub const LIVE_PROC: &str = "/proc";

/// Reads an open /proc file to its end. /proc files say size 0, so
/// `read_to_end` would first ask the size (a statx and an lseek per file)
/// and `fs::read` would start from a few bytes and double, a read(2) per
/// step; one page holds most of them, so: a page, then more while full.
pub fn read_whole(f: &mut fs::File) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        match f.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

/// A /proc file, read as [`read_whole`] does; a task's that is gone is
/// ENOENT (`task_file_errno`).
fn read_proc_file(path: &Path) -> Result<Vec<u8>, Errno> {
    let mut f = fs::File::open(path).map_err(|e| task_file_errno(&e))?;
    read_whole(&mut f).map_err(|e| task_file_errno(&e))
}

/// A /proc file's text, read as [`read_whole`] does.
pub fn read_text(path: impl AsRef<Path>) -> io::Result<String> {
    let bytes = read_whole(&mut fs::File::open(path)?)?;
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Whether `root` is the host's live procfs rather than a tree of files
/// laid out like it (a unit test's fixture, see `fixture::ProcTree`). Only
/// behind the live one are there tasks to reach another way: a pidfd for
/// a task's identity, pidfd_getfd for an fd link out of the sentry's
/// reach, a namespace's parent. Everything else reads files, so a fixture
/// answers it.
pub fn is_live(root: &Path) -> bool {
    root == Path::new(LIVE_PROC)
}

/// Runs `op` on the path of task `tid`'s fd link `fd` under `root`; for
/// the live /proc, through a duplicate of the fd where the link is out of
/// the sentry's reach (see `sys::with_task_fd_path`).
fn on_task_fd<R>(
    root: &Path,
    tid: i32,
    fd: i32,
    op: impl Fn(&Path) -> io::Result<R>,
) -> io::Result<R> {
    if is_live(root) {
        crate::sentry::sys::with_task_fd_path(tid, fd, op)
    } else {
        op(&root.join(format!("{tid}/fd/{fd}")))
    }
}

/// How an fd link of a file outside the task's mounts begins (see
/// [`sandbox_fd_link`]).
pub const HOST_FILE_LINK: &[u8] = b"host:[";

/// Mount ids seen in each mount namespace (by its inode), so that a
/// container file's fd link costs one fdinfo read: the workload cannot
/// mount, and a mount it has not been seen in yet is looked up again.
static NS_MOUNT_IDS: Mutex<BTreeMap<u64, BTreeSet<u64>>> = Mutex::new(BTreeMap::new());

/// Whether task `tid`'s fd `fd` is a file of one of the task's own mounts
/// (its `fdinfo` mnt_id is in its `mountinfo`).
fn in_task_mounts(root: &Path, tid: i32, fd: i32) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let info = read_text(root.join(format!("{tid}/fdinfo/{fd}")))?;
    let Some(mnt_id) = info
        .lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
    else {
        return Ok(false);
    };
    let ns = fs::metadata(root.join(format!("{tid}/ns/mnt")))?.ino();
    // Only a live namespace's inode names it for good (a fixture's file
    // inode is reused once it is removed).
    let live = is_live(root);
    let known =
        |ids: &BTreeMap<u64, BTreeSet<u64>>| ids.get(&ns).is_some_and(|s| s.contains(&mnt_id));
    if live && NS_MOUNT_IDS.lock().is_ok_and(|ids| known(&ids)) {
        return Ok(true);
    }
    let mountinfo = read_text(root.join(format!("{tid}/mountinfo")))?;
    let seen: BTreeSet<u64> = mountinfo
        .lines()
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    let inside = seen.contains(&mnt_id);
    if let (true, Ok(mut ids)) = (live, NS_MOUNT_IDS.lock()) {
        ids.entry(ns).or_default().extend(seen);
    }
    Ok(inside)
}

/// The fd link text of host task `tid`'s fd `fd` as the workload sees it
/// (see [`sandbox_fd_link`]).
pub fn fd_link(tid: i32, fd: i32) -> io::Result<Vec<u8>> {
    let root = Path::new(LIVE_PROC);
    let text = on_task_fd(root, tid, fd, |link| fs::read_link(link))?
        .into_os_string()
        .into_encoded_bytes();
    sandbox_fd_link(root, tid, fd, text)
}

/// Strict decimal parse of a /proc name: no sign, no leading zeros, > 0.
pub fn parse_pid_name(name: &str) -> Option<i32> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if name.len() > 1 && name.starts_with('0') {
        return None;
    }
    name.parse::<i32>().ok().filter(|&p| p > 0)
}

/// A parsed `/proc/<pid>/stat` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    /// Field 1.
    pub pid: i32,
    /// Field 2, without the parentheses (raw bytes; may contain spaces and ')').
    pub comm: Vec<u8>,
    /// Field 3.
    pub state: char,
    /// Field 4.
    pub ppid: i32,
    /// Field 5.
    pub pgrp: i32,
    /// Field 6.
    pub session: i32,
    /// Field 7.
    pub tty_nr: i32,
    /// Field 8.
    pub tpgid: i32,
    /// Field 20.
    pub num_threads: i64,
    /// Field 22 (clock ticks after host boot).
    pub starttime: u64,
    /// Fields 3.. (state onwards) as raw text, `rest[0]` is field 3.
    pub rest: Vec<String>,
}

impl ProcStat {
    /// Raw text of stat field `n` (1-based, as in proc(5)); fields >= 3 only.
    pub fn field(&self, n: usize) -> Option<&str> {
        n.checked_sub(3)
            .and_then(|i| self.rest.get(i))
            .map(String::as_str)
    }

    /// Renders the line back (with trailing newline).
    pub fn render(&self) -> Vec<u8> {
        let mut out = format!("{} (", self.pid).into_bytes();
        out.extend_from_slice(&self.comm);
        out.extend_from_slice(b") ");
        out.extend_from_slice(self.rest.join(" ").as_bytes());
        out.push(b'\n');
        out
    }

    /// Sets stat field `n` (>= 3) to `v`, keeping the parsed copy in sync.
    pub fn set_field(&mut self, n: usize, v: String) {
        if let Some(slot) = n.checked_sub(3).and_then(|i| self.rest.get_mut(i)) {
            *slot = v;
        }
        let as_i32 = || self.field(n).and_then(|s| s.parse::<i32>().ok());
        match n {
            4 => self.ppid = as_i32().unwrap_or(self.ppid),
            5 => self.pgrp = as_i32().unwrap_or(self.pgrp),
            6 => self.session = as_i32().unwrap_or(self.session),
            8 => self.tpgid = as_i32().unwrap_or(self.tpgid),
            22 => {
                self.starttime = self
                    .field(22)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(self.starttime)
            }
            _ => {}
        }
    }
}

/// Parses a stat line. The comm is delimited by the first '(' and the LAST ')'.
pub fn parse_stat(line: &[u8]) -> Option<ProcStat> {
    let open = line.iter().position(|&b| b == b'(')?;
    let close = line.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let pid = std::str::from_utf8(&line[..open])
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let comm = line[open + 1..close].to_vec();
    let rest_txt = std::str::from_utf8(&line[close + 1..]).ok()?;
    let rest: Vec<String> = rest_txt.split_whitespace().map(str::to_owned).collect();
    let num = |n: usize| rest.get(n - 3).map(String::as_str);
    let state = num(3)?.chars().next()?;
    Some(ProcStat {
        pid,
        comm,
        state,
        ppid: num(4)?.parse().ok()?,
        pgrp: num(5)?.parse().ok()?,
        session: num(6)?.parse().ok()?,
        tty_nr: num(7)?.parse().ok()?,
        tpgid: num(8)?.parse().ok()?,
        num_threads: num(20).and_then(|s| s.parse().ok()).unwrap_or(1),
        starttime: num(22).and_then(|s| s.parse().ok()).unwrap_or(0),
        rest,
    })
}

/// A parsed `/proc/<pid>/status` file: `Key:\tvalue` lines, in host order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcStatus {
    pub entries: Vec<(String, String)>,
}

impl ProcStatus {
    pub fn parse(text: &str) -> Self {
        let entries = text
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                Some((k.to_owned(), v.trim().to_owned()))
            })
            .collect();
        ProcStatus { entries }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Last whitespace-separated field of `key` as an i32 (e.g. NSpid).
    pub fn last_i32(&self, key: &str) -> Option<i32> {
        self.get(key)?.split_whitespace().last()?.parse().ok()
    }

    /// Field `idx` of `key` as u32 (e.g. `Uid` idx 1 = effective uid).
    pub fn nth_u32(&self, key: &str, idx: usize) -> Option<u32> {
        self.get(key)?.split_whitespace().nth(idx)?.parse().ok()
    }

    /// A `kB` value (VmRSS: "1234 kB") in kB.
    pub fn kb(&self, key: &str) -> Option<u64> {
        self.get(key)?.split_whitespace().next()?.parse().ok()
    }
}

/// The innermost pid (the container pid) from the `NSpid:` line of a status text.
pub fn parse_nspid(status_text: &str) -> Option<i32> {
    ProcStatus::parse(status_text).last_i32("NSpid")
}

/// Parses a cpu list like "0-3,5,7-8".
pub fn parse_cpu_list(s: &str) -> BTreeSet<u32> {
    let mut set = BTreeSet::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>()) {
                    // Bound the range to keep garbage from exploding.
                    for c in a..=b.min(a.saturating_add(65536)) {
                        set.insert(c);
                    }
                }
            }
            None => {
                if let Ok(c) = part.trim().parse::<u32>() {
                    set.insert(c);
                }
            }
        }
    }
    set
}

/// Unescapes the octal escapes (`\040` etc.) used in mountinfo fields.
pub fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            out.push((v & 0xff) as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Access to the host's procfs for container processes.
#[derive(Debug, Clone)]
pub struct HostProc {
    root: PathBuf,
    init_host_pid: i32,
    /// The container's pid namespace link text, read once (init's pid
    /// namespace never changes).
    container_ns: Arc<OnceLock<String>>,
    /// Container pid → host pid, as last found. Every hit is checked again
    /// (the host pid may have exited and been reused), so a stale entry
    /// costs one scan, never a wrong answer.
    host_pids: Arc<Mutex<HashMap<i32, i32>>>,
    /// Host tid → what its status said of it (None: not in the container),
    /// under its pidfs inode and when that inode was last checked. A hit
    /// counts only while the tid still names the task of that inode (a
    /// task's pid namespace, ids there and thread group never change):
    /// after a pidfd (instead of a status read), or for the caller within
    /// `reuse_guard` of the last check (`caller_ids`). A negative entry is
    /// read again. Kept only for the live /proc.
    ids: Arc<Mutex<HashMap<i32, IdsEntry>>>,
    /// How long after a check a tid certainly still names the same task
    /// ([`tid_reuse_guard`]; zero for a fixture).
    reuse_guard: Duration,
}

#[derive(Clone, Copy, Debug)]
struct IdsEntry {
    ino: u64,
    ids: Option<TaskIds>,
    checked: Instant,
}

/// The window after which a host tid seen naming a task may name another:
/// a tid is reused only after the kernel's cyclic allocator went once
/// round all of pid_max, which with the default pid_max (at least 32768)
/// takes many milliseconds of clones even if every CPU did nothing else
/// (a clone costs microseconds), and the workload cannot pick pids (clone3
/// with set_tid is denied, it holds no CAP_SYS_ADMIN for ns_last_pid).
/// Below that pid_max nothing is assumed: zero, every use checks.
pub fn tid_reuse_guard() -> Duration {
    const GUARD: Duration = Duration::from_micros(200);
    const MIN_PID_MAX: u64 = 32768;
    static GUARD_HERE: OnceLock<Duration> = OnceLock::new();
    *GUARD_HERE.get_or_init(|| {
        let pid_max = fs::read_to_string(Path::new(LIVE_PROC).join("sys/kernel/pid_max"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if pid_max >= MIN_PID_MAX {
            GUARD
        } else {
            Duration::ZERO
        }
    })
}

/// A container task's ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TaskIds {
    /// Its tid in the container's pid namespace.
    ctid: i32,
    /// Its thread group's id there.
    ctgid: i32,
    /// Its thread group's host id.
    htgid: i32,
}

/// Entries of `ids` at most (then it starts over).
const IDS_KEPT: usize = 4096;

/// The pidfs inode of host task `tid`: unique for the host's uptime.
fn pidfs_ino(tid: i32) -> Option<u64> {
    crate::sentry::sys::task_identity(tid).ok()
}

impl HostProc {
    pub fn new(root: impl Into<PathBuf>, init_host_pid: i32) -> Self {
        let root = root.into();
        HostProc {
            init_host_pid,
            container_ns: Arc::default(),
            host_pids: Arc::default(),
            ids: Arc::default(),
            reuse_guard: if is_live(&root) {
                tid_reuse_guard()
            } else {
                Duration::ZERO
            },
            root,
        }
    }

    /// (container tid, whether it leads its thread group) of host task
    /// `h`, if it is in the container.
    fn ids_of(&self, h: i32) -> Option<(i32, bool)> {
        self.task_ids(h).map(|t| (t.ctid, t.htgid == h))
    }

    /// The ids of host task `h`, if it is in the container and alive: from
    /// the cache while `h` is still the same task, else from its status.
    fn task_ids(&self, h: i32) -> Option<TaskIds> {
        self.lookup_ids(h, Duration::ZERO)
    }

    /// The ids of host task `h` that is making the call being answered:
    /// as `task_ids`, but an entry checked within the reuse guard is
    /// believed without a pidfd. Only for the caller: it may have died
    /// since (then nobody gets the answer), but its tid names no other
    /// task yet. Any other task must be seen alive (a reaped child's
    /// /proc entry is gone at once).
    fn caller_ids(&self, h: i32) -> Option<TaskIds> {
        self.lookup_ids(h, self.reuse_guard)
    }

    /// `task_ids`, believing an entry checked less than `trust_for` ago.
    fn lookup_ids(&self, h: i32, trust_for: Duration) -> Option<TaskIds> {
        if h <= 0 {
            return None;
        }
        let cached = self.ids.lock().ok().and_then(|m| m.get(&h).copied());
        if let Some(e) = cached {
            if e.ids.is_some() && e.checked.elapsed() < trust_for {
                return e.ids;
            }
        }
        // Taken before the check: the window starts when the tid was seen.
        let checked = Instant::now();
        // Read before the status: a task that replaced it since leaves an
        // entry that never matches.
        let ino = if is_live(&self.root) {
            pidfs_ino(h)
        } else {
            None
        };
        if let (Some(ino), Some(e)) = (ino, cached) {
            if e.ino == ino && e.ids.is_some() {
                self.remember_ids(h, IdsEntry { checked, ..e });
                return e.ids;
            }
        }
        let ids = self.read_task_ids(h);
        if let Some(ino) = ino {
            self.remember_ids(h, IdsEntry { ino, ids, checked });
        }
        ids
    }

    fn read_task_ids(&self, h: i32) -> Option<TaskIds> {
        if !self.in_container(h) {
            return None;
        }
        let st = self.status(h).ok()?;
        Some(TaskIds {
            ctid: st.last_i32("NSpid")?,
            ctgid: st.last_i32("NStgid")?,
            htgid: st.get("Tgid")?.trim().parse().ok()?,
        })
    }

    fn remember_ids(&self, h: i32, e: IdsEntry) {
        if let Ok(mut m) = self.ids.lock() {
            if m.len() >= IDS_KEPT {
                m.clear();
            }
            m.insert(h, e);
        }
    }

    /// The host tid of thread `ctid` (a container tid) of host process `h`.
    pub fn thread_of(&self, h: i32, ctid: i32) -> Option<i32> {
        Self::numeric_dirs(&self.path(h, "task"))
            .into_iter()
            .find(|&t| self.ids_of(t).is_some_and(|(c, _)| c == ctid))
    }

    /// Container thread `ctid` that leads no process, wherever it is: its
    /// process's container and host pids and its own host tid (Linux
    /// finds /proc/<tid> of any thread, though it lists only processes).
    /// A scan of every process's threads: only for a pid no process has.
    pub fn thread_anywhere(&self, ctid: i32) -> Option<(i32, i32, i32)> {
        self.list_container_pids()
            .into_iter()
            .find_map(|(cpid, hpid)| Some((cpid, hpid, self.thread_of(hpid, ctid)?)))
    }

    /// The host procfs mount point (normally "/proc").
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn init_host_pid(&self) -> i32 {
        self.init_host_pid
    }

    fn path(&self, host_pid: i32, name: &str) -> PathBuf {
        let mut p = self.root.join(host_pid.to_string());
        if !name.is_empty() {
            p.push(name);
        }
        p
    }

    /// Reads a host-wide file such as "meminfo" or "sys/kernel/osrelease".
    pub fn read_global(&self, name: &str) -> Result<Vec<u8>, Errno> {
        read_proc_file(&self.root.join(name))
    }

    /// Reads `/proc/<host_pid>/<name>`.
    pub fn read_file(&self, host_pid: i32, name: &str) -> Result<Vec<u8>, Errno> {
        read_proc_file(&self.path(host_pid, name))
    }

    /// Whether task `target`'s user namespace is task `caller`'s or one
    /// below it. A task of another sandbox is neither (a pod's containers
    /// may share a pid namespace, each in a user namespace of its own):
    /// the caller holds no capability over it, so Linux's commoncap check
    /// (CAP_SYS_PTRACE in the target's user namespace, or the same
    /// namespace) refuses. Unreadable namespaces count as outside.
    pub fn userns_within(&self, target: i32, caller: i32) -> bool {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let ino = |pid: i32| {
            fs::metadata(self.path(pid, "ns/user"))
                .ok()
                .map(|m| m.ino())
        };
        let (Some(theirs), Some(mine)) = (ino(target), ino(caller)) else {
            return false;
        };
        if theirs == mine {
            return true;
        }
        let Ok(f) = fs::File::open(self.path(target, "ns/user")) else {
            return false;
        };
        let mut ns: std::os::fd::OwnedFd = f.into();
        // A user namespace is at most 32 levels below the initial one.
        for _ in 0..33 {
            ns = match crate::sentry::sys::ns_get_parent(ns.as_fd()) {
                Ok(parent) => parent,
                Err(_) => return false,
            };
            match crate::sentry::sys::fstat_fd(ns.as_fd()) {
                Ok(st) if st.st_ino == mine => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }

    /// Whether `/proc/<host_pid>/<name>` exists (without reading it).
    pub fn has(&self, host_pid: i32, name: &str) -> bool {
        fs::symlink_metadata(self.path(host_pid, name)).is_ok()
    }

    /// Reads the link `/proc/<host_pid>/<name>`.
    pub fn read_link(&self, host_pid: i32, name: &str) -> Result<String, Errno> {
        fs::read_link(self.path(host_pid, name))
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| task_file_errno(&e))
    }

    /// The pid namespace link text ("pid:[4026531836]") of a host process.
    pub fn pid_ns(&self, host_pid: i32) -> Option<String> {
        self.read_link(host_pid, "ns/pid").ok()
    }

    /// The container's pid namespace (the one of its init).
    pub fn container_ns(&self) -> Option<String> {
        if let Some(ns) = self.container_ns.get() {
            return Some(ns.clone());
        }
        let ns = self.pid_ns(self.init_host_pid)?;
        Some(self.container_ns.get_or_init(|| ns).clone())
    }

    fn in_ns(&self, host_pid: i32, ns: &str) -> bool {
        self.pid_ns(host_pid).as_deref() == Some(ns)
    }

    /// Whether the host process (or thread) lives in the container's pid namespace.
    pub fn in_container(&self, host_pid: i32) -> bool {
        match self.container_ns() {
            Some(ns) => self.in_ns(host_pid, &ns),
            None => false,
        }
    }

    /// Parsed status of a host pid/tid.
    pub fn status(&self, host_pid: i32) -> Result<ProcStatus, Errno> {
        let b = self.read_file(host_pid, "status")?;
        Ok(ProcStatus::parse(&String::from_utf8_lossy(&b)))
    }

    /// Parsed stat of a host pid/tid.
    pub fn stat(&self, host_pid: i32) -> Result<ProcStat, Errno> {
        let b = self.read_file(host_pid, "stat")?;
        parse_stat(&b).ok_or(Errno::EIO)
    }

    /// Container pid of a host pid/tid (None if it is not in the container).
    pub fn container_pid(&self, host_pid: i32) -> Option<i32> {
        self.ids_of(host_pid).map(|(c, _)| c)
    }

    /// (container tgid, container tid, host tgid) of the host tid making
    /// the call being answered (see `caller_ids`).
    pub fn container_ids(&self, caller_host_tid: i32) -> Option<(i32, i32, i32)> {
        self.caller_ids(caller_host_tid)
            .map(|t| (t.ctgid, t.ctid, t.htgid))
    }

    fn numeric_dirs(dir: &Path) -> Vec<i32> {
        let Ok(rd) = fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut v: Vec<i32> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(parse_pid_name))
            .collect();
        v.sort_unstable();
        v
    }

    /// Host pid (tgid) of a container pid: the remembered one if it still
    /// is that process, else by scanning the host /proc (a read of every
    /// host process's pid namespace: O(host processes)).
    pub fn host_pid(&self, container_pid: i32) -> Option<i32> {
        if container_pid <= 0 {
            return None;
        }
        // Nothing is in the container while its namespace is unknown.
        self.container_ns()?;
        let remembered = self
            .host_pids
            .lock()
            .ok()
            .and_then(|m| m.get(&container_pid).copied());
        if let Some(h) = remembered {
            if self.is_process_of(h, container_pid) {
                return Some(h);
            }
        }
        let found = self.scan_host_pid(container_pid);
        match found {
            Some(h) => self.remember_host_pid(container_pid, h),
            None => {
                if let Ok(mut m) = self.host_pids.lock() {
                    m.remove(&container_pid);
                }
            }
        }
        found
    }

    /// Remembers that container pid `container_pid` is host process
    /// `host_pid` (a caller's own ids say so): its next `host_pid` is a
    /// check of that process instead of a scan of /proc. Checked at every
    /// use like any remembered pid.
    pub fn remember_host_pid(&self, container_pid: i32, host_pid: i32) {
        if let Ok(mut m) = self.host_pids.lock() {
            if m.len() >= IDS_KEPT {
                m.clear();
            }
            m.insert(container_pid, host_pid);
        }
    }

    fn scan_host_pid(&self, container_pid: i32) -> Option<i32> {
        // Fast path: identical numbering (e.g. the sentry shares the ns).
        if self.is_process_of(container_pid, container_pid) {
            return Some(container_pid);
        }
        Self::numeric_dirs(&self.root)
            .into_iter()
            .find(|&h| self.is_process_of(h, container_pid))
    }

    /// Whether host pid `h` is the process (a thread group leader: a
    /// non-leader's /proc/<tid> resolves too) that the container's pid
    /// namespace numbers `container_pid`.
    fn is_process_of(&self, h: i32, container_pid: i32) -> bool {
        self.ids_of(h) == Some((container_pid, true))
    }

    /// All container processes as (container pid, host pid), sorted by container pid.
    pub fn list_container_pids(&self) -> Vec<(i32, i32)> {
        if self.container_ns().is_none() {
            return Vec::new();
        }
        // Through the ids cache: a task seen before costs a pidfd, not a
        // namespace link and a status read.
        let mut v: Vec<(i32, i32)> = Self::numeric_dirs(&self.root)
            .into_iter()
            .filter_map(|h| {
                // Processes only: /proc lists no other thread, but a tree
                // laid out like it may.
                let ids = self.task_ids(h)?;
                (ids.htgid == h).then_some((ids.ctid, h))
            })
            .collect();
        v.sort_unstable();
        v
    }

    /// Threads of a host process as (container tid, host tid), sorted.
    pub fn threads(&self, host_pid: i32) -> Vec<(i32, i32)> {
        let dir = self.path(host_pid, "task");
        let mut v: Vec<(i32, i32)> = Self::numeric_dirs(&dir)
            .into_iter()
            .filter_map(|t| {
                let b = read_proc_file(&dir.join(t.to_string()).join("status")).ok()?;
                Some((parse_nspid(&String::from_utf8_lossy(&b))?, t))
            })
            .collect();
        v.sort_unstable();
        v
    }

    pub fn cmdline(&self, host_pid: i32) -> Result<Vec<u8>, Errno> {
        self.read_file(host_pid, "cmdline")
    }

    pub fn comm(&self, host_pid: i32) -> Result<Vec<u8>, Errno> {
        self.read_file(host_pid, "comm")
    }

    /// Host `/proc/<pid>/limits`: the process's own rlimits.
    pub fn limits(&self, host_pid: i32) -> Result<Vec<u8>, Errno> {
        self.read_file(host_pid, "limits")
    }

    pub fn cwd(&self, host_pid: i32) -> Result<String, Errno> {
        self.read_link(host_pid, "cwd")
    }

    pub fn exe(&self, host_pid: i32) -> Result<String, Errno> {
        self.read_link(host_pid, "exe")
    }

    /// Open fds of a host process, sorted. Its fd directory is 0500 and
    /// the task's owner's, out of the sentry's reach for another uid's
    /// task; its fdinfo directory lists the same fds and needs only ptrace
    /// read access.
    pub fn fds(&self, host_pid: i32) -> Result<Vec<i32>, Errno> {
        let rd = match fs::read_dir(self.path(host_pid, "fd")) {
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
                fs::read_dir(self.path(host_pid, "fdinfo"))
            }
            other => other,
        }
        .map_err(|e| task_file_errno(&e))?;
        let mut v: Vec<i32> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| match e.file_name().to_str()? {
                "0" => Some(0),
                n => parse_pid_name(n),
            })
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// Link target of one fd (ENOENT if not open), as the workload sees
    /// it (see [`sandbox_fd_link`]).
    pub fn fd_target(&self, host_pid: i32, fd: i32) -> Result<String, Errno> {
        if fd < 0 {
            return Err(Errno::ENOENT);
        }
        let text = on_task_fd(&self.root, host_pid, fd, |link| fs::read_link(link))
            .map_err(|e| task_file_errno(&e))?;
        let text = sandbox_fd_link(
            &self.root,
            host_pid,
            fd,
            text.into_os_string().into_encoded_bytes(),
        )
        .map_err(|e| task_file_errno(&e))?;
        Ok(String::from_utf8_lossy(&text).into_owned())
    }

    /// Permission bits of a host fd link (0o500, 0o300 or 0o700 by the
    /// fd's access mode; ENOENT if not open).
    pub fn fd_link_mode(&self, host_pid: i32, fd: i32) -> Result<u32, Errno> {
        use std::os::unix::fs::MetadataExt;
        if fd < 0 {
            return Err(Errno::ENOENT);
        }
        on_task_fd(&self.root, host_pid, fd, |link| fs::symlink_metadata(link))
            .map(|m| m.mode() & 0o777)
            .map_err(|e| task_file_errno(&e))
    }

    /// Raw host fdinfo text of one fd.
    pub fn fdinfo(&self, host_pid: i32, fd: i32) -> Result<String, Errno> {
        if fd < 0 {
            return Err(Errno::ENOENT);
        }
        let b = self.read_file(host_pid, &format!("fdinfo/{fd}"))?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    /// Mount point (as seen in the process's mount ns) of host mount id `mnt_id`.
    pub fn mount_point_of(&self, host_pid: i32, mnt_id: u64) -> Option<String> {
        let b = self.read_file(host_pid, "mountinfo").ok()?;
        let text = String::from_utf8_lossy(&b);
        text.lines().find_map(|l| {
            let mut f = l.split(' ');
            let id: u64 = f.next()?.parse().ok()?;
            if id != mnt_id {
                return None;
            }
            let mp = f.nth(3)?;
            Some(unescape_octal(mp))
        })
    }

    /// Host uptime in seconds (first field of /proc/uptime). The live
    /// /proc's is CLOCK_BOOTTIME, read from the vDSO without the four
    /// syscalls of a file read (every /proc/<pid>/stat rebases its start
    /// time with it).
    pub fn uptime_secs(&self) -> Option<f64> {
        if is_live(&self.root) {
            let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME).ok()?;
            return Some(t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9);
        }
        let b = self.read_global("uptime").ok()?;
        String::from_utf8_lossy(&b)
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

/// A tree of files laid out like the host's /proc, for unit tests of what
/// reads it (`HostProc`, `cred::Table`, `procfs`) without a live task
/// behind each entry: a task's `status` (with its Uid/Gid/Groups/Cap
/// lines), `stat`, `comm`, `ns/` entries, `task/<tid>/`, `mountinfo`, and
/// its fds as links in `fd/` with their `fdinfo/`. Removed when dropped.
#[cfg(test)]
pub mod fixture {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::HostProc;

    /// All capabilities the host kernel knows (0..=CAP_LAST_CAP).
    pub const ALL_CAPS: u64 = (1 << 41) - 1;

    /// One task as the host's /proc shows it.
    #[derive(Clone, Debug)]
    pub struct Task {
        /// Host tid and tgid.
        pub tid: i32,
        pub tgid: i32,
        /// Its tid and tgid in the container's pid namespace (the last
        /// field of NSpid and NStgid).
        pub ctid: i32,
        pub ctgid: i32,
        /// Host ppid (stat field 4, status PPid).
        pub ppid: i32,
        /// (host, container) process group and session (NSpgid, NSsid).
        pub session: (i32, i32),
        /// Its `ns/pid` link text, e.g. "pid:[111]".
        pub pid_ns: String,
        /// Its user and mount namespaces: tasks naming the same one share
        /// the inode of their `ns/user` (`ns/mnt`), as in Linux.
        pub user_ns: String,
        pub mnt_ns: String,
        pub comm: String,
        /// real, effective, saved, filesystem.
        pub uid: [u32; 4],
        pub gid: [u32; 4],
        pub groups: Vec<u32>,
        /// CapInh, CapPrm, CapEff, CapBnd, CapAmb.
        pub caps: [u64; 5],
        pub no_new_privs: bool,
        /// The TracerPid line.
        pub tracer: i32,
        /// stat field 22.
        pub starttime: u64,
        /// Its open fds: (fd, link text, mnt_id in its fdinfo).
        pub fds: Vec<(i32, String, u64)>,
        /// Its mount namespace's mounts: (mount id, mount point).
        pub mounts: Vec<(u64, String)>,
    }

    impl Task {
        /// A process (its thread group's leader) of host pid `tid`, pid
        /// `ctid` in the namespace `pid_ns`, with every capability; its
        /// ids are the test's own effective ones, so the files written for
        /// it (which the test owns) make it dumpable (see `cred::Cred::read`).
        pub fn process(tid: i32, ctid: i32, pid_ns: &str) -> Task {
            let (uid, gid) = (
                nix::unistd::geteuid().as_raw(),
                nix::unistd::getegid().as_raw(),
            );
            Task {
                tid,
                tgid: tid,
                ctid,
                ctgid: ctid,
                ppid: 1,
                session: (tid, ctid),
                pid_ns: pid_ns.to_owned(),
                user_ns: "user".to_owned(),
                mnt_ns: "mnt".to_owned(),
                comm: "task".to_owned(),
                uid: [uid; 4],
                gid: [gid; 4],
                groups: Vec::new(),
                caps: [0, ALL_CAPS, ALL_CAPS, ALL_CAPS, 0],
                no_new_privs: false,
                tracer: 0,
                starttime: 5000,
                fds: Vec::new(),
                mounts: vec![(1, "/".to_owned())],
            }
        }

        /// Another thread of this task's process: host tid `tid`,
        /// container tid `ctid`.
        pub fn thread(&self, tid: i32, ctid: i32) -> Task {
            Task {
                tid,
                ctid,
                ..self.clone()
            }
        }

        /// Its /proc/<tid>/status, in the kernel's order and format.
        pub fn status(&self) -> String {
            let ids = |v: &[u32; 4]| v.map(|i| i.to_string()).join("\t");
            let groups: String = self.groups.iter().map(|g| format!("{g} ")).collect();
            let [inh, prm, eff, bnd, amb] = self.caps;
            format!(
                "Name:\t{comm}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{tgid}\nNgid:\t0\n\
                 Pid:\t{tid}\nPPid:\t{ppid}\nTracerPid:\t{tracer}\nUid:\t{uid}\nGid:\t{gid}\n\
                 FDSize:\t64\nGroups:\t{groups}\nNStgid:\t{tgid}\t{ctgid}\nNSpid:\t{tid}\t{ctid}\n\
                 NSpgid:\t{hs}\t{cs}\nNSsid:\t{hs}\t{cs}\nVmRSS:\t    1024 kB\n\
                 CapInh:\t{inh:016x}\nCapPrm:\t{prm:016x}\nCapEff:\t{eff:016x}\n\
                 CapBnd:\t{bnd:016x}\nCapAmb:\t{amb:016x}\nNoNewPrivs:\t{nnp}\nSeccomp:\t2\n\
                 Cpus_allowed_list:\t0-1\n",
                comm = self.comm,
                tgid = self.tgid,
                tid = self.tid,
                ppid = self.ppid,
                tracer = self.tracer,
                uid = ids(&self.uid),
                gid = ids(&self.gid),
                ctgid = self.ctgid,
                ctid = self.ctid,
                hs = self.session.0,
                cs = self.session.1,
                nnp = u8::from(self.no_new_privs),
            )
        }

        /// Its /proc/<tid>/stat line.
        pub fn stat(&self) -> String {
            format!(
                "{tid} ({comm}) S {ppid} {s} {s} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 {start} 1000 10\n",
                tid = self.tid,
                comm = self.comm,
                ppid = self.ppid,
                s = self.session.0,
                start = self.starttime,
            )
        }
    }

    /// The tree; its root is what `HostProc::new` and `cred::Table::new`
    /// take in place of "/proc".
    pub struct ProcTree(PathBuf);

    impl Drop for ProcTree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    impl Default for ProcTree {
        fn default() -> Self {
            Self::new()
        }
    }

    impl ProcTree {
        /// An empty tree in a directory of its own.
        pub fn new() -> ProcTree {
            static N: AtomicU32 = AtomicU32::new(0);
            let root = std::env::temp_dir().join(format!(
                "runrs-proctree-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(&root).expect("mkdir proc tree");
            ProcTree(root)
        }

        pub fn root(&self) -> &Path {
            &self.0
        }

        /// A `HostProc` over this tree for a container whose init is host
        /// pid `init`.
        pub fn host(&self, init: i32) -> HostProc {
            HostProc::new(self.0.clone(), init)
        }

        /// Writes the file `rel` (e.g. "uptime", "100/limits").
        pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
            let path = self.0.join(rel);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).expect("mkdir");
            }
            std::fs::write(path, contents).expect("write");
            self
        }

        /// Adds task `t`: /<tid>/ (reachable for a thread too, as in
        /// Linux) and /<tgid>/task/<tid>/.
        pub fn add(&self, t: &Task) -> &Self {
            for dir in [format!("{}", t.tid), format!("{}/task/{}", t.tgid, t.tid)] {
                self.write(&format!("{dir}/status"), t.status());
                self.write(&format!("{dir}/stat"), t.stat());
                self.write(&format!("{dir}/comm"), format!("{}\n", t.comm));
            }
            let dir = self.0.join(t.tid.to_string());
            for sub in ["ns", "fd", "fdinfo"] {
                std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
            }
            let link = |target: &str, at: PathBuf| {
                let _ = std::fs::remove_file(&at);
                std::os::unix::fs::symlink(target, at).expect("symlink");
            };
            link(&t.pid_ns, dir.join("ns/pid"));
            // A namespace is known by its inode: one file per namespace,
            // linked into each of its tasks.
            for (kind, name) in [("user", &t.user_ns), ("mnt", &t.mnt_ns)] {
                let ns = self.0.join(format!("namespaces/{kind}-{name}"));
                if !ns.exists() {
                    self.write(&format!("namespaces/{kind}-{name}"), "");
                }
                let at = dir.join(format!("ns/{kind}"));
                let _ = std::fs::remove_file(&at);
                std::fs::hard_link(&ns, at).expect("link a namespace");
            }
            let mountinfo: String = t
                .mounts
                .iter()
                .map(|(id, at)| format!("{id} 1 0:{id} / {at} rw - tmpfs tmpfs rw\n"))
                .collect();
            std::fs::write(dir.join("mountinfo"), mountinfo).expect("write");
            for (fd, text, mnt_id) in &t.fds {
                link(text, dir.join(format!("fd/{fd}")));
                std::fs::write(
                    dir.join(format!("fdinfo/{fd}")),
                    format!("pos:\t0\nflags:\t02\nmnt_id:\t{mnt_id}\nino:\t1\n"),
                )
                .expect("write");
            }
            self
        }

        /// Removes task `tid`'s /<tid>/ (it exited).
        pub fn remove(&self, tid: i32) {
            std::fs::remove_dir_all(self.0.join(tid.to_string())).expect("rm task");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::fixture::{ProcTree, Task};

    /// A container (pid namespace "pid:[111]") whose init is host pid 100
    /// with a second thread 102, a child 101, and a host process 50 outside.
    fn container_tree() -> (ProcTree, HostProc) {
        let tree = ProcTree::new();
        let init = Task::process(100, 1, "pid:[111]");
        let mut child = Task::process(101, 2, "pid:[111]");
        child.ppid = 100;
        tree.add(&init)
            .add(&init.thread(102, 3))
            .add(&child)
            .add(&Task::process(50, 50, "pid:[999]"));
        let host = tree.host(100);
        (tree, host)
    }

    /// The live /proc's uptime is the boot clock, read without the file
    /// (a fixture's is its file's, tested below).
    #[test]
    fn uptime_of_the_live_proc_is_the_boot_clock() {
        let file: f64 = std::fs::read_to_string("/proc/uptime")
            .expect("uptime")
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a number");
        let live = HostProc::new("/proc", 1).uptime_secs().expect("boot clock");
        assert!(live >= file && live - file < 60.0, "{live} against {file}");
    }

    /// The container tid comes from NSpid and leadership from Tgid; a task
    /// of another pid namespace, or one that is not there, has none.
    #[test]
    fn ids_of_a_fixture_task() {
        let (_tree, h) = container_tree();
        assert_eq!(h.ids_of(100), Some((1, true)));
        assert_eq!(h.ids_of(102), Some((3, false)), "a thread, not a leader");
        assert_eq!(h.ids_of(101), Some((2, true)));
        assert_eq!(h.ids_of(50), None, "another pid namespace");
        assert_eq!(h.ids_of(7), None, "no such task");
        assert_eq!(h.ids_of(0), None);
        assert_eq!(h.ids_of(-100), None);
        assert!(h.in_container(102) && !h.in_container(50));
        assert_eq!(h.container_ids(102), Some((1, 3, 100)));
        assert_eq!(h.container_ids(50), None);
        // Only the live /proc keeps ids (a fixture's tasks have no pidfd).
        assert!(h.ids.lock().expect("ids").is_empty());
        assert!(!is_live(h.root()) && is_live(Path::new("/proc")));
    }

    /// Listing: the container's processes (not its threads, not the
    /// host's), a process's threads, and a container pid's host pid, found
    /// by a scan and remembered until that task is gone.
    #[test]
    fn task_listing_of_a_fixture_tree() {
        let (tree, h) = container_tree();
        assert_eq!(h.list_container_pids(), [(1, 100), (2, 101)]);
        assert_eq!(h.threads(100), [(1, 100), (3, 102)]);
        assert_eq!(h.thread_of(100, 3), Some(102));
        assert_eq!(h.thread_of(100, 2), None, "another process's tid");
        assert_eq!(h.host_pid(2), Some(101));
        assert_eq!(h.host_pids.lock().expect("pids").get(&2), Some(&101));
        assert_eq!(h.host_pid(3), None, "a thread is no process");
        assert_eq!(
            h.thread_anywhere(3),
            Some((1, 100, 102)),
            "but a thread of 1"
        );
        assert_eq!(
            h.thread_anywhere(50),
            None,
            "a host pid is no container tid"
        );
        assert_eq!(h.thread_anywhere(4), None);
        assert_eq!(h.host_pid(50), None, "a host pid is no container pid");
        // What a caller's own ids say is remembered, and checked at use.
        h.remember_host_pid(2, 100);
        assert_eq!(h.host_pid(2), Some(101), "a wrong one is found again");
        h.remember_host_pid(2, 101);
        assert_eq!(h.host_pid(2), Some(101));
        tree.remove(101);
        assert_eq!(h.host_pid(2), None, "a remembered pid is checked again");
        assert_eq!(h.list_container_pids(), [(1, 100)]);
        // A container whose init is gone has no namespace, hence no tasks.
        let gone = tree.host(4242);
        assert!(gone.list_container_pids().is_empty());
        assert_eq!(gone.host_pid(1), None);
    }

    /// A task's files, and the errnos of what is missing or garbled.
    #[test]
    fn files_of_a_fixture_task() {
        let (tree, h) = container_tree();
        let st = h.stat(101).expect("stat");
        assert_eq!((st.pid, st.ppid, st.starttime), (101, 100, 5000));
        assert_eq!(h.comm(101), Ok(b"task\n".to_vec()));
        assert_eq!(h.status(101).expect("status").kb("VmRSS"), Some(1024));
        assert_eq!(h.pid_ns(101).as_deref(), Some("pid:[111]"));
        assert_eq!(h.read_file(7, "stat"), Err(Errno::ENOENT));
        assert_eq!(h.cmdline(101), Err(Errno::ENOENT));
        tree.write("101/stat", "garbage\n");
        assert_eq!(h.stat(101), Err(Errno::EIO));
        assert!(h.has(101, "status") && !h.has(101, "environ"));
        tree.write("uptime", "1234.50 99.00\n");
        assert_eq!(h.uptime_secs(), Some(1234.5));
        assert_eq!(h.mount_point_of(100, 1).as_deref(), Some("/"));
        assert_eq!(h.mount_point_of(100, 9), None);
    }

    /// A task's fds from its fd directory; each link as the workload sees
    /// it: a file of its own mounts and a pipe as named, a file of a mount
    /// it does not have as `host:[<inode>]`.
    #[test]
    fn fds_of_a_fixture_task() {
        use std::os::unix::fs::MetadataExt;
        let tree = ProcTree::new();
        tree.write("files/outside", "x");
        let outside = tree.root().join("files/outside");
        let mut t = Task::process(100, 1, "pid:[111]");
        t.mounts.push((7, "/data".to_owned()));
        t.fds = vec![
            (0, "/dev/null".to_owned(), 1),
            (1, "pipe:[4242]".to_owned(), 3),
            (3, "/data/log".to_owned(), 7),
            (10, outside.display().to_string(), 8),
        ];
        tree.add(&t);
        let h = tree.host(100);
        assert_eq!(h.fds(100), Ok(vec![0, 1, 3, 10]));
        assert_eq!(h.fd_target(100, 0).as_deref(), Ok("/dev/null"));
        assert_eq!(h.fd_target(100, 1).as_deref(), Ok("pipe:[4242]"));
        assert_eq!(h.fd_target(100, 3).as_deref(), Ok("/data/log"));
        let ino = fs::metadata(&outside).expect("stat").ino();
        assert_eq!(h.fd_target(100, 10), Ok(format!("host:[{ino}]")));
        assert_eq!(h.fd_target(100, 4), Err(Errno::ENOENT));
        assert_eq!(h.fd_target(100, -1), Err(Errno::ENOENT));
        assert_eq!(h.fd_link_mode(100, 1), Ok(0o777), "a fixture's link");
        assert_eq!(h.fd_link_mode(100, 4), Err(Errno::ENOENT));
        assert!(h.fdinfo(100, 3).expect("fdinfo").contains("mnt_id:\t7\n"));
        assert_eq!(h.fdinfo(100, -3), Err(Errno::ENOENT));
        assert_eq!(h.fds(7), Err(Errno::ENOENT));
    }

    /// A task that exited between lookup and read (ESRCH) is a missing
    /// file to the workload; other errnos pass as they are.
    #[test]
    fn a_vanished_task_reads_as_missing() {
        use crate::sentry::sys::{errno_of, task_file_errno};
        let esrch = io::Error::from_raw_os_error(libc::ESRCH);
        assert_eq!(task_file_errno(&esrch), Errno::ENOENT);
        assert_eq!(errno_of(&esrch), Errno::ESRCH);
        let eacces = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(task_file_errno(&eacces), Errno::EACCES);
        let kind = |k: io::ErrorKind| errno_of(&io::Error::from(k));
        assert_eq!(kind(io::ErrorKind::NotFound), Errno::ENOENT);
        assert_eq!(kind(io::ErrorKind::PermissionDenied), Errno::EACCES);
        assert_eq!(kind(io::ErrorKind::InvalidData), Errno::EIO);
    }

    /// The mount holds pid directories only, and an fd of a file in it
    /// reads as /proc/<pid>/... to the sentry (`fd_link`; the mount is `gofer::procmount`'s).
    #[test]
    fn gofer_proc_mount_reads_as_proc() {
        use crate::gofer::sys;
        use std::os::fd::{AsFd, AsRawFd};
        let mnt = crate::gofer::procmount::make_mount().expect("proc mount (needs root)");
        let pid = std::process::id();
        let name = std::ffi::CString::new(format!("{pid}/comm")).unwrap();
        let fd = sys::openat(mnt.as_fd(), &name, libc::O_RDONLY | libc::O_CLOEXEC, 0).unwrap();
        let link = fd_link(pid as i32, fd.as_raw_fd()).unwrap();
        assert_eq!(String::from_utf8_lossy(&link), format!("/proc/{pid}/comm"));
        assert_eq!(
            sys::openat(mnt.as_fd(), c"sys", libc::O_RDONLY | libc::O_CLOEXEC, 0).map(drop),
            Err(Errno::ENOENT)
        );
    }

    /// On the live /proc the ids come from the status once, then from the
    /// cache while the task lives; a thread is found among its process's.
    #[test]
    fn whole_files_of_any_size_are_read() {
        let tree = ProcTree::new();
        let long: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        tree.write("long", &long).write("empty", "");
        let read = |name: &str| read_whole(&mut fs::File::open(tree.root().join(name)).unwrap());
        assert_eq!(read("long").unwrap(), long);
        assert!(read("empty").unwrap().is_empty());
        assert_eq!(
            read_text(LIVE_PROC.to_owned() + "/self/status")
                .unwrap()
                .lines()
                .next()
                .map(|l| l.starts_with("Name:")),
            Some(true)
        );
    }

    #[test]
    fn live_ids_are_cached_and_checked() {
        let me = std::process::id() as i32;
        let mut h = HostProc::new("/proc", me);
        let want = h.status(me).unwrap().last_i32("NSpid");
        assert_eq!(h.container_pid(me), want);
        assert!(h.ids.lock().unwrap().contains_key(&me));
        assert_eq!(h.container_pid(me), want, "from the cache");
        assert_eq!(h.host_pid(want.unwrap()), Some(me));
        // A stale entry (another task's inode) is not believed; for the
        // caller, only once the reuse guard since its check is over.
        let stale = TaskIds {
            ctid: 424242,
            ctgid: 424242,
            htgid: me,
        };
        let entry = |ids, checked| IdsEntry {
            ino: 1,
            ids,
            checked,
        };
        h.ids
            .lock()
            .unwrap()
            .insert(me, entry(Some(stale), Instant::now()));
        // A guard no test run outlasts (the real one is microseconds).
        let real_guard = std::mem::replace(&mut h.reuse_guard, Duration::from_secs(3600));
        assert_eq!(
            h.container_ids(me).map(|(_, ctid, _)| ctid),
            Some(424242),
            "the caller within the guard"
        );
        assert_eq!(h.container_pid(me), want, "any other use checks");
        // A task reaped right after its check is gone at once, guard or not.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep");
        let c = child.id() as i32;
        assert!(h.container_pid(c).is_some(), "a live child");
        child.kill().expect("kill");
        child.wait().expect("wait");
        assert_eq!(h.container_pid(c), None, "a reaped child");
        h.reuse_guard = real_guard;
        let long_ago = Instant::now()
            .checked_sub(Duration::from_secs(1))
            .expect("a monotonic clock over 1 s");
        h.ids
            .lock()
            .unwrap()
            .insert(me, entry(Some(stale), long_ago));
        assert_eq!(
            h.container_ids(me).map(|(_, ctid, _)| Some(ctid)),
            Some(want)
        );
        // A negative entry is read again.
        h.ids
            .lock()
            .unwrap()
            .insert(me, entry(None, Instant::now()));
        assert_eq!(h.container_pid(me), want);
        // The caller's own ids (for /proc/self) come from the same cache.
        let (ctgid, ctid, htgid) = h.container_ids(me).unwrap();
        assert_eq!((Some(ctgid), Some(ctid), htgid), (want, want, me));
        let (tx, rx) = std::sync::mpsc::channel();
        let (end_tx, end_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let _ = tx.send(nix::unistd::gettid().as_raw());
            let _ = end_rx.recv();
        });
        let tid = rx.recv().unwrap();
        let ctid = h.container_pid(tid).unwrap();
        assert_eq!(h.thread_of(me, ctid), Some(tid));
        let _ = end_tx.send(());
        let _ = t.join();
    }

    /// A process in a user namespace below ours is within our reach; we
    /// are not within its, nor is a sibling namespace's process within
    /// another sibling's (a pod's other sandbox).
    #[test]
    fn userns_within_follows_the_user_namespace_tree() {
        let me = std::process::id() as i32;
        let h = HostProc::new("/proc", me);
        assert!(h.userns_within(me, me));
        let spawn = || {
            std::process::Command::new("unshare")
                .args(["--user", "sleep", "30"])
                .spawn()
                .expect("unshare --user sleep (util-linux)")
        };
        let (mut a, mut b) = (spawn(), spawn());
        let (pa, pb) = (a.id() as i32, b.id() as i32);
        let ns = |p: i32| fs::read_link(format!("/proc/{p}/ns/user")).ok();
        let own = ns(me);
        assert!(
            wait_for(|| ns(pa) != own && ns(pb) != own),
            "unshare did not enter new user namespaces"
        );
        assert!(h.userns_within(pa, me), "a child namespace's process");
        assert!(!h.userns_within(me, pa), "the parent's from the child's");
        assert!(!h.userns_within(pa, pb), "a sibling namespace's process");
        assert!(
            !h.userns_within(pa, i32::MAX),
            "a caller that does not exist"
        );
        for c in [&mut a, &mut b] {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn wait_for(mut f: impl FnMut() -> bool) -> bool {
        for _ in 0..500 {
            if f() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn nspid_parser() {
        let text = "Name:\tsh\nTgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t4000\nNStgid:\t4242\t1\nNSpid:\t4242\t1\nNSpgid:\t4242\t1\n";
        assert_eq!(parse_nspid(text), Some(1));
        assert_eq!(parse_nspid("NSpid:\t77\n"), Some(77));
        assert_eq!(parse_nspid("Pid:\t1\n"), None);
        assert_eq!(parse_nspid("NSpid:\tgarbage\n"), None);
    }

    #[test]
    fn stat_parser_handles_parens_and_spaces() {
        let line = b"1234 (a) (b c)) S 1 1234 1234 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 3 0 98765 1000 10 18446744073709551615\n";
        let st = parse_stat(line).expect("parses");
        assert_eq!(st.pid, 1234);
        assert_eq!(st.comm, b"a) (b c)".to_vec());
        assert_eq!(st.state, 'S');
        assert_eq!(st.ppid, 1);
        assert_eq!(st.pgrp, 1234);
        assert_eq!(st.session, 1234);
        assert_eq!(st.tty_nr, 0);
        assert_eq!(st.tpgid, -1);
        assert_eq!(st.num_threads, 3);
        assert_eq!(st.starttime, 98765);
        assert_eq!(st.render(), line.to_vec());
        assert!(parse_stat(b"12 no parens").is_none());
        assert!(parse_stat(b"x (a) S 1 2 3 4 5").is_none());
    }

    #[test]
    fn cpu_list_and_unescape() {
        let s = parse_cpu_list("0-2,5\n");
        assert_eq!(s.into_iter().collect::<Vec<_>>(), vec![0, 1, 2, 5]);
        assert_eq!(unescape_octal("/a\\040b"), "/a b");
        assert_eq!(parse_pid_name("012"), None);
        assert_eq!(parse_pid_name("12"), Some(12));
        assert_eq!(parse_pid_name("0"), None);
    }

    #[test]
    fn real_host_self() {
        let me = std::process::id() as i32;
        let hp = HostProc::new("/proc", me);
        assert!(hp.in_container(me));
        assert_eq!(hp.container_pid(me), Some(me));
        assert_eq!(hp.host_pid(me), Some(me));
        assert!(hp
            .list_container_pids()
            .iter()
            .any(|&(c, h)| c == me && h == me));
        assert!(hp.threads(me).iter().any(|&(c, _)| c == me));
        let fds = hp.fds(me).expect("fds");
        assert!(fds.contains(&0));
        assert_eq!(hp.stat(me).expect("stat").pid, me);
        // A nonexistent container is empty.
        let none = HostProc::new("/proc", i32::MAX);
        assert!(none.list_container_pids().is_empty());
        assert_eq!(none.host_pid(1), None);
    }

    /// Files of this process's own mounts and of the kernel's internal
    /// ones keep their names; only a file outside the mounts is renamed.
    #[test]
    fn fd_links_of_own_and_internal_files_keep_their_names() {
        use std::os::fd::AsRawFd;
        let me = std::process::id() as i32;
        let f = fs::File::open("/proc/self/exe").expect("open exe");
        let exe = fs::read_link("/proc/self/exe").expect("exe link");
        let link = fd_link(me, f.as_raw_fd()).expect("fd link");
        assert_eq!(link, exe.into_os_string().into_encoded_bytes());
        let m = nix::sys::memfd::memfd_create(c"belt", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
            .expect("memfd");
        let link = fd_link(me, m.as_raw_fd()).expect("fd link");
        assert_eq!(String::from_utf8_lossy(&link), "/memfd:belt (deleted)");
        assert!(fd_link(me, 999_999).is_err());
    }
}
