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

use nix::errno::Errno;

/// Converts an I/O error from reading the host /proc into the errno the
/// emulated syscall returns. A process that vanished (ESRCH) looks like a
/// missing file (ENOENT) to the container.
pub fn io_errno(e: &io::Error) -> Errno {
    match e.raw_os_error() {
        Some(libc::ESRCH) => Errno::ENOENT,
        Some(code) => Errno::from_raw(code),
        None => match e.kind() {
            io::ErrorKind::NotFound => Errno::ENOENT,
            io::ErrorKind::PermissionDenied => Errno::EACCES,
            _ => Errno::EIO,
        },
    }
}

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

/// Runs `op` on the path of task `tid`'s fd link `fd` under `root`; for
/// the live /proc, through a duplicate of the fd where the link is out of
/// the sentry's reach (see `sys::with_task_fd_path`).
fn on_task_fd<R>(
    root: &Path,
    tid: i32,
    fd: i32,
    op: impl Fn(&Path) -> io::Result<R>,
) -> io::Result<R> {
    if root == Path::new("/proc") {
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
    let info = fs::read_to_string(root.join(format!("{tid}/fdinfo/{fd}")))?;
    let Some(mnt_id) = info
        .lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
    else {
        return Ok(false);
    };
    let ns = fs::metadata(root.join(format!("{tid}/ns/mnt")))?.ino();
    let known =
        |ids: &BTreeMap<u64, BTreeSet<u64>>| ids.get(&ns).is_some_and(|s| s.contains(&mnt_id));
    if NS_MOUNT_IDS.lock().is_ok_and(|ids| known(&ids)) {
        return Ok(true);
    }
    let mountinfo = fs::read_to_string(root.join(format!("{tid}/mountinfo")))?;
    let seen: BTreeSet<u64> = mountinfo
        .lines()
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    let inside = seen.contains(&mnt_id);
    if let Ok(mut ids) = NS_MOUNT_IDS.lock() {
        ids.entry(ns).or_default().extend(seen);
    }
    Ok(inside)
}

/// The fd link text of host task `tid`'s fd `fd` as the workload sees it
/// (see [`sandbox_fd_link`]).
pub fn fd_link(tid: i32, fd: i32) -> io::Result<Vec<u8>> {
    let root = Path::new("/proc");
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
    /// Host tid → (its pidfs inode, container tid, whether it leads its
    /// thread group), as read from its status. A hit counts only while the
    /// tid still names the task of that inode (a task's pid namespace and
    /// ids there never change), so it costs a pidfd instead of a status
    /// read. Kept only for the live /proc.
    ids: Arc<Mutex<HashMap<i32, TaskIds>>>,
}

/// (pidfs inode, container tid, leads its thread group).
type TaskIds = (u64, i32, bool);

/// Entries of `ids` at most (then it starts over).
const IDS_KEPT: usize = 4096;

/// The pidfs inode of host task `tid`: unique for the host's uptime.
fn pidfs_ino(tid: i32) -> Option<u64> {
    use std::os::fd::AsFd;
    let fd = crate::sentry::sys::pidfd_open_thread(tid).ok()?;
    crate::sentry::sys::fstat_fd(fd.as_fd())
        .ok()
        .map(|st| st.st_ino)
}

impl HostProc {
    pub fn new(root: impl Into<PathBuf>, init_host_pid: i32) -> Self {
        HostProc {
            root: root.into(),
            init_host_pid,
            container_ns: Arc::default(),
            host_pids: Arc::default(),
            ids: Arc::default(),
        }
    }

    /// (container tid, whether it leads its thread group) of host task
    /// `h`, if it is in the container.
    fn ids_of(&self, h: i32) -> Option<(i32, bool)> {
        if h <= 0 {
            return None;
        }
        let live = self.root == Path::new("/proc");
        if live {
            let cached = self.ids.lock().ok().and_then(|m| m.get(&h).copied());
            if let Some((ino, c, leader)) = cached {
                if pidfs_ino(h) == Some(ino) {
                    return Some((c, leader));
                }
            }
        }
        if !self.in_container(h) {
            return None;
        }
        // Read before the status: a task that replaced it since leaves an
        // entry that never matches.
        let ino = if live { pidfs_ino(h) } else { None };
        let st = self.status(h).ok()?;
        let c = st.last_i32("NSpid")?;
        let leader = st.get("Tgid").and_then(|t| t.trim().parse::<i32>().ok()) == Some(h);
        if let (Some(ino), Ok(mut m)) = (ino, self.ids.lock()) {
            if m.len() >= IDS_KEPT {
                m.clear();
            }
            m.insert(h, (ino, c, leader));
        }
        Some((c, leader))
    }

    /// The host tid of thread `ctid` (a container tid) of host process `h`.
    pub fn thread_of(&self, h: i32, ctid: i32) -> Option<i32> {
        Self::numeric_dirs(&self.path(h, "task"))
            .into_iter()
            .find(|&t| self.ids_of(t).is_some_and(|(c, _)| c == ctid))
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
        fs::read(self.root.join(name)).map_err(|e| io_errno(&e))
    }

    /// Reads `/proc/<host_pid>/<name>`.
    pub fn read_file(&self, host_pid: i32, name: &str) -> Result<Vec<u8>, Errno> {
        use std::io::Read;
        // /proc files say size 0: `fs::read` would then start from a few
        // bytes and double, one read(2) per step (seven for a status
        // file). One page holds most of them in one read.
        let mut f = fs::File::open(self.path(host_pid, name)).map_err(|e| io_errno(&e))?;
        let mut buf = Vec::with_capacity(4096);
        f.read_to_end(&mut buf).map_err(|e| io_errno(&e))?;
        Ok(buf)
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
            .map_err(|e| io_errno(&e))
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

    /// (container tgid, container tid, host tgid) of a host tid in the container.
    pub fn container_ids(&self, host_tid: i32) -> Option<(i32, i32, i32)> {
        if host_tid <= 0 || !self.in_container(host_tid) {
            return None;
        }
        let st = self.status(host_tid).ok()?;
        let ctgid = st.last_i32("NStgid")?;
        let ctid = st.last_i32("NSpid")?;
        let htgid = st.get("Tgid")?.trim().parse().ok()?;
        Some((ctgid, ctid, htgid))
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
        if let Ok(mut m) = self.host_pids.lock() {
            match found {
                Some(h) => {
                    m.insert(container_pid, h);
                }
                None => {
                    m.remove(&container_pid);
                }
            }
        }
        found
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
        let Some(ns) = self.container_ns() else {
            return Vec::new();
        };
        let mut v: Vec<(i32, i32)> = Self::numeric_dirs(&self.root)
            .into_iter()
            .filter(|&h| self.in_ns(h, &ns))
            .filter_map(|h| Some((self.status(h).ok()?.last_i32("NSpid")?, h)))
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
                let b = fs::read(dir.join(t.to_string()).join("status")).ok()?;
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
        .map_err(|e| io_errno(&e))?;
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
            .map_err(|e| io_errno(&e))?;
        let text = sandbox_fd_link(
            &self.root,
            host_pid,
            fd,
            text.into_os_string().into_encoded_bytes(),
        )
        .map_err(|e| io_errno(&e))?;
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
            .map_err(|e| io_errno(&e))
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

    /// Host uptime in seconds (first field of /proc/uptime).
    pub fn uptime_secs(&self) -> Option<f64> {
        let b = self.read_global("uptime").ok()?;
        String::from_utf8_lossy(&b)
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn live_ids_are_cached_and_checked() {
        let me = std::process::id() as i32;
        let h = HostProc::new("/proc", me);
        let want = h.status(me).unwrap().last_i32("NSpid");
        assert_eq!(h.container_pid(me), want);
        assert!(h.ids.lock().unwrap().contains_key(&me));
        assert_eq!(h.container_pid(me), want, "from the cache");
        assert_eq!(h.host_pid(want.unwrap()), Some(me));
        // A stale entry (another task's inode) is not believed.
        h.ids.lock().unwrap().insert(me, (1, 424242, true));
        assert_eq!(h.container_pid(me), want);
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
