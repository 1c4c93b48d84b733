//! The synthetic /proc tree of the sandbox.
//!
//! Every node is generated on demand from the sentry's configuration and from
//! the host's per-process data of *container* processes, translated into the
//! container's view: container pids only, sandbox paths only, and no host-wide
//! numbers that would reveal other containers.
//!
//! Paths are relative to /proc ("" is /proc itself). Intermediate `self`,
//! `thread-self` and `mounts` links are followed here; other intermediate links
//! (`exe`, `cwd`, `root`, `fd/<n>`) point outside /proc and yield ENOTDIR: the
//! caller must resolve them itself (via `readlink`).
//!
//! This file is the resolver (which node a path names, its attributes,
//! who may open it); the text of each file is generated in `files`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use nix::errno::Errno;

use super::hostproc::{self, HostProc};
use super::procperm;
use crate::gofer::proto::ProcFile;

mod files;

use files::{hide_stat_addresses, show_running};

/// What an unmapped or unreadable id shows as (overflowuid).
const OVERFLOW: u32 = crate::sentry::cred::OVERFLOW_ID;

/// Clock ticks per second of /proc (USER_HZ, fixed at 100 on x86_64).
const USER_HZ: f64 = 100.0;

/// Configuration of the synthetic /proc.
#[derive(Debug, Clone)]
pub struct ProcConfig {
    pub hostname: String,
    /// The workload user namespace's mappings (identity without one in
    /// the spec): ids read from the host are shown through them.
    pub uid_map: crate::sentry::cred::IdMap,
    pub gid_map: crate::sentry::cred::IdMap,
    /// The spec has its own seccomp profile (`linux.seccomp`): status shows
    /// the filter mode and one filter, as under runc; runrs's own filters
    /// are the sandbox's, not shown (a process without a profile reads 0).
    pub spec_seccomp: bool,
    /// Bytes; caps MemTotal in meminfo.
    pub memory_limit: Option<u64>,
    /// Sandbox start: /proc/uptime counts from here.
    pub start_time: SystemTime,
    /// The sandbox mount table (for mounts and mountinfo).
    pub mounts: Vec<MountLine>,
    /// The container's init (defines the pid namespace).
    pub init_host_pid: i32,
    /// Normally "/proc".
    pub host_proc: PathBuf,
    /// With a cgroup namespace: each hierarchy's namespace root
    /// (`id:controllers` -> host cgroup path), which /proc/<pid>/cgroup
    /// paths are shown relative to, as the kernel shows them inside it.
    pub cgroup_ns_roots: Option<Vec<(String, String)>>,
    /// An fd the sandbox keeps in every workload process (the ptrace
    /// platform's fd-passing socket): not listed in /proc/<pid>/fd and
    /// fdinfo, and ENOENT when named there.
    pub hidden_fd: Option<i32>,
    /// /proc/sys, from the container's namespaces.
    pub sysctl: std::sync::Arc<super::sysctl::Sysctl>,
    /// Entries that stand in for the spec's masked and read-only /proc
    /// paths that the host's /proc has (see [`placeholders`]).
    pub placeholders: Vec<Placeholder>,
}

/// The links and directories at the top of the synthetic /proc besides
/// its files and pid directories (`step` resolves each).
const ROOT_ENTRIES: &[(&str, EntryKind)] = &[
    ("self", EntryKind::Symlink),
    ("thread-self", EntryKind::Symlink),
    ("mounts", EntryKind::Symlink),
    ("net", EntryKind::Symlink),
    ("sys", EntryKind::Dir),
];

/// Whether the synthetic /proc has an entry `name` of its own at its top.
fn serves_top_name(name: &str) -> bool {
    ROOT_ENTRIES.iter().any(|(n, _)| *n == name)
        || TOP_FILES.contains(&name)
        || hostproc::parse_pid_name(name).is_some()
}

/// An empty /proc entry in place of a host one the spec masks (or makes
/// read-only and the sandbox does not show): runc mounts an empty
/// read-only tmpfs on a masked directory and /dev/null on a masked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    pub dir: bool,
    /// Permission bits.
    pub mode: u32,
}

impl Placeholder {
    fn kind(&self) -> EntryKind {
        if self.dir {
            EntryKind::Dir
        } else {
            EntryKind::File
        }
    }
}

/// The placeholders for the spec's `masked` and `readonly` paths: each
/// single-component /proc path that the host's /proc (at `host_proc`)
/// has and that the synthetic /proc does not serve itself.
/// The host's contents are never shown: a masked path is empty as under
/// runc, and a read-only directory runrs does not emulate (bus, fs, irq:
/// host hardware) is empty too. A read-only file keeps the host's mode
/// and refuses writes (/proc/sysrq-trigger).
pub fn placeholders(
    masked: &[String],
    readonly: &[String],
    host_proc: &std::path::Path,
) -> Vec<Placeholder> {
    use std::os::unix::fs::MetadataExt as _;
    let mut out: Vec<Placeholder> = Vec::new();
    for (path, is_masked) in masked
        .iter()
        .map(|p| (p, true))
        .chain(readonly.iter().map(|p| (p, false)))
    {
        let Some(name) = path.strip_prefix("/proc/") else {
            continue;
        };
        if name.is_empty()
            || name.contains('/')
            || name == "."
            || name == ".."
            || serves_top_name(name)
            || out.iter().any(|p| p.name == name)
        {
            continue;
        }
        let Ok(md) = std::fs::symlink_metadata(host_proc.join(name)) else {
            continue;
        };
        let dir = md.is_dir();
        let mode = match (dir, is_masked) {
            // runc's empty tmpfs.
            (true, true) => 0o1777,
            (true, false) => 0o555,
            (false, true) => 0o444,
            (false, false) => md.mode() & 0o777,
        };
        out.push(Placeholder {
            name: name.to_owned(),
            dir,
            mode,
        });
    }
    out
}

/// One line of the sandbox mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountLine {
    pub source: String,
    pub target: String,
    pub fstype: String,
    /// The per-mount options, and the file system's own too unless
    /// `super_options` has them.
    pub options: String,
    /// The file system's options as the kernel shows them (after " - "
    /// in mountinfo), for a mount the kernel really has.
    pub super_options: Option<String>,
}

/// A resolved /proc node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Contents generated now.
    File(Vec<u8>),
    /// Listing including "." and "..".
    Dir(Vec<DirEntry>),
    /// Link text, e.g. "self" -> "42", "42/exe" -> "/bin/busybox".
    Symlink(String),
    /// /proc/<pid>/fd/<n> magic link: the sentry reopens that fd.
    FdLink { host_tid: i32, fd: i32 },
    /// A node of another task that the caller may look up and stat but
    /// not open, list, read or follow (Linux's ptrace access check or the
    /// mode of a 0400 file or of fd/, see `super::procperm`): each of
    /// those fails with `errno`.
    Refused { kind: EntryKind, errno: Errno },
}

impl Node {
    /// Whether the node is a directory (also one the caller may not list).
    pub fn is_dir(&self) -> bool {
        matches!(
            self,
            Node::Dir(_)
                | Node::Refused {
                    kind: EntryKind::Dir,
                    ..
                }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File,
    Symlink,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: EntryKind,
    pub ino: u64,
}

/// What stat(2) reports for a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeAttr {
    pub kind: EntryKind,
    /// Full st_mode including the file type bits (S_IFDIR | 0555, ...).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    pub ino: u64,
    /// 0, as on Linux procfs (64 for an fd link).
    pub size: u64,
}

const TOP_FILES: &[&str] = &[
    "cgroups",
    "cpuinfo",
    "filesystems",
    "loadavg",
    "meminfo",
    "stat",
    "swaps",
    "uptime",
    "version",
    "vmstat",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PidEntry {
    File(u32),
    Link,
    Dir(u32),
}

const PID_ENTRIES: &[(&str, PidEntry)] = &[
    ("arch_status", PidEntry::File(0o444)),
    ("auxv", PidEntry::File(0o400)),
    ("cgroup", PidEntry::File(0o444)),
    // A thread's only (task/<tid>/children): its children's pids.
    ("children", PidEntry::File(0o444)),
    ("cmdline", PidEntry::File(0o444)),
    ("comm", PidEntry::File(0o644)),
    ("coredump_filter", PidEntry::File(0o644)),
    ("cwd", PidEntry::Link),
    ("environ", PidEntry::File(0o400)),
    ("exe", PidEntry::Link),
    ("fd", PidEntry::Dir(0o500)),
    ("fdinfo", PidEntry::Dir(0o555)),
    ("gid_map", PidEntry::File(0o644)),
    ("io", PidEntry::File(0o400)),
    ("limits", PidEntry::File(0o444)),
    ("loginuid", PidEntry::File(0o644)),
    ("maps", PidEntry::File(0o444)),
    ("mem", PidEntry::File(0o600)),
    ("mountinfo", PidEntry::File(0o444)),
    ("mounts", PidEntry::File(0o444)),
    ("net", PidEntry::Dir(0o555)),
    ("ns", PidEntry::Dir(0o511)),
    ("oom_score", PidEntry::File(0o444)),
    ("oom_score_adj", PidEntry::File(0o644)),
    ("personality", PidEntry::File(0o400)),
    ("root", PidEntry::Link),
    ("schedstat", PidEntry::File(0o444)),
    ("sessionid", PidEntry::File(0o444)),
    ("setgroups", PidEntry::File(0o644)),
    ("smaps", PidEntry::File(0o444)),
    ("smaps_rollup", PidEntry::File(0o444)),
    ("stat", PidEntry::File(0o444)),
    ("statm", PidEntry::File(0o444)),
    ("status", PidEntry::File(0o444)),
    ("task", PidEntry::Dir(0o555)),
    ("uid_map", PidEntry::File(0o644)),
    ("wchan", PidEntry::File(0o444)),
];

/// /proc/<pid>/ns links ("net:[4026531840]", the host kernel's text for
/// the task): what unshare(1), lsns and tests compare to tell namespaces
/// apart. The links read and lstat as Linux's; they are not opened (a
/// namespace fd comes from pidfd_open, which setns takes too).
const NS_LINKS: &[&str] = &[
    "ns/cgroup",
    "ns/ipc",
    "ns/mnt",
    "ns/net",
    "ns/pid",
    "ns/pid_for_children",
    "ns/time",
    "ns/time_for_children",
    "ns/user",
    "ns/uts",
];

/// /proc/<pid>/net files served from the task's own network namespace
/// (the host's /proc/<pid>/net shows that namespace): what netstat,
/// ifconfig, route and runtimes that probe IPv6 read.
const NET_FILES: &[&str] = &[
    "arp",
    "dev",
    "dev_mcast",
    "fib_trie",
    "icmp",
    "icmp6",
    "if_inet6",
    "igmp",
    "igmp6",
    "ipv6_route",
    "netlink",
    "netstat",
    "packet",
    "protocols",
    "psched",
    "raw",
    "raw6",
    "route",
    "snmp",
    "snmp6",
    "sockstat",
    "sockstat6",
    "tcp",
    "tcp6",
    "udp",
    "udp6",
    "udplite",
    "udplite6",
    "unix",
];

const FILESYSTEMS: &str = "nodev\tsysfs\nnodev\ttmpfs\nnodev\tbdev\nnodev\tproc\nnodev\tcgroup2\nnodev\tdevpts\nnodev\tmqueue\nnodev\toverlay\n";

/// Mount options that are per-mount flags (shown before " - " in mountinfo).
/// In the order the kernel shows them (show_mnt_opts); strictatime is
/// never shown.
const MNT_FLAGS: &[&str] = &[
    "nosuid",
    "nodev",
    "noexec",
    "noatime",
    "nodiratime",
    "relatime",
    "nosymfollow",
    "strictatime",
];
/// Spec option words that are not mount options at all.
const NON_OPTIONS: &[&str] = &[
    "bind",
    "rbind",
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "unbindable",
    "runbindable",
    "remount",
    "defaults",
];

/// The `id:controllers:path` lines of a cgroup file with each path made
/// relative to its hierarchy's root in `roots`, as Linux renders it for a
/// reader in that cgroup namespace ("/" for the root itself, "/../x"
/// outside it).
pub fn cgroup_relative(text: &str, roots: &[(String, String)]) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let Some((key, path)) = line.rsplit_once(':') else {
            continue;
        };
        let root = roots
            .iter()
            .find(|(k, _)| k == key)
            .map_or("/", |(_, r)| r.as_str());
        let comps = |p: &str| -> Vec<String> {
            p.split('/')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        };
        let (r, p) = (comps(root), comps(path));
        let common = r.iter().zip(&p).take_while(|(a, b)| a == b).count();
        let mut rel: Vec<String> = vec!["..".to_string(); r.len() - common];
        rel.extend(p[common..].iter().cloned());
        out.push_str(&format!("{key}:/{}\n", rel.join("/")));
    }
    out
}

/// A container task: a process (thread == false) or one of its threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Task {
    ctgid: i32,
    htgid: i32,
    ctid: i32,
    htid: i32,
    thread: bool,
}

#[derive(Debug, Clone)]
enum Res {
    Root,
    TopFile(&'static str),
    /// A node below /proc/sys ("" is /proc/sys) and its host attributes.
    Sys(String, super::sysctl::SysAttr),
    /// `config.placeholders[i]`.
    Placeholder(usize),
    /// A link whose target is relative to /proc (self, thread-self, mounts).
    Link(String),
    /// exe / cwd / root of a task.
    PidLink(Task, &'static str),
    Pid(Task),
    PidFile(Task, &'static str, u32),
    FdDir(Task),
    FdinfoDir(Task),
    /// /proc/<pid>/net and one of its files.
    NetDir(Task),
    /// /proc/<pid>/ns (its links are `PidLink`s named from `NS_LINKS`).
    NsDir(Task),
    NetFile(Task, &'static str),
    TaskDir(Task),
    Fd(Task, i32),
    Fdinfo(Task, i32),
}

/// The synthetic /proc.
#[derive(Debug, Clone)]
pub struct ProcFs {
    config: ProcConfig,
    host: HostProc,
    /// The task state it renders (`sentry::kernel`, shared with the
    /// sentry, which keeps it).
    creds: std::sync::Arc<crate::sentry::cred::Table>,
    cwds: std::sync::Arc<crate::sentry::cwd::Table>,
    /// The mount table as shown, worked out on first use (see `shown_mounts`).
    shown: std::sync::OnceLock<Vec<MountLine>>,
}

/// (source, fstype) of the file system holding `path`: the block device
/// name from sysfs (`/dev/vda`) or the type's usual source word, and the
/// type's name from its statfs magic.
fn host_backing(path: &std::path::Path) -> Option<(String, String)> {
    use std::os::unix::fs::MetadataExt;
    let st = nix::sys::statfs::statfs(path).ok()?;
    let fstype = match st.filesystem_type().0 as u64 {
        0xef53 => "ext4",
        0x5846_5342 => "xfs",
        0x9123_683e => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794c_7630 => "overlay",
        0x0102_1997 => "9p",
        0x6573_5546 => "fuse",
        0x2fc1_2fc1 => "zfs",
        0x6969 => "nfs",
        0x7371_7368 => "squashfs",
        0xf2f5_2010 => "f2fs",
        _ => return None,
    };
    let dev = std::fs::metadata(path).ok()?.dev();
    let (major, minor) = (nix::sys::stat::major(dev), nix::sys::stat::minor(dev));
    let devname = std::fs::read_to_string(format!("/sys/dev/block/{major}:{minor}/uevent"))
        .ok()
        .and_then(|u| {
            u.lines()
                .find_map(|l| l.strip_prefix("DEVNAME="))
                .map(|n| format!("/dev/{n}"))
        });
    let source = match devname {
        Some(d) if !d.contains(char::is_whitespace) => d,
        _ => match fstype {
            "tmpfs" | "overlay" => fstype.to_owned(),
            _ => "none".to_owned(),
        },
    };
    Some((source, fstype.to_owned()))
}

/// Stable inode number of a canonical /proc-relative path ("" = /proc = 1).
fn ino_of(canon: &str) -> u64 {
    if canon.is_empty() {
        return 1;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in canon.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    if h <= 1 {
        h + 2
    } else {
        h
    }
}

fn join(canon: &str, name: &str) -> String {
    if canon.is_empty() {
        name.to_owned()
    } else {
        format!("{canon}/{name}")
    }
}

fn parent_of(canon: &str) -> &str {
    canon.rsplit_once('/').map_or("", |(p, _)| p)
}

fn parse_fd_name(name: &str) -> Option<i32> {
    if name == "0" {
        Some(0)
    } else {
        hostproc::parse_pid_name(name)
    }
}

/// Escapes a mount-table field like the kernel does (space, tab, newline, backslash).
fn escape_mount_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ' ' => out.push_str("\\040"),
            '\t' => out.push_str("\\011"),
            '\n' => out.push_str("\\012"),
            '\\' => out.push_str("\\134"),
            c => out.push(c),
        }
    }
    if out.is_empty() {
        "none".to_owned()
    } else {
        out
    }
}

/// Splits spec options into (ro?, per-mount flags, superblock options).
fn split_options(options: &str) -> (bool, Vec<&str>, Vec<&str>) {
    let mut ro = false;
    let mut mnt = Vec::new();
    let mut sb = Vec::new();
    for o in options.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        match o {
            "ro" => ro = true,
            "rw" => {}
            o if NON_OPTIONS.contains(&o) => {}
            o if MNT_FLAGS.contains(&o) => {
                if !mnt.contains(&o) {
                    mnt.push(o)
                }
            }
            o => sb.push(o),
        }
    }
    (ro, mnt, sb)
}

/// The file system's options shown for `m` (after " - " in mountinfo).
pub fn super_text(m: &MountLine) -> String {
    match &m.super_options {
        Some(s) => s.clone(),
        None => {
            let (ro, _, sb) = split_options(&m.options);
            opts_string(ro, &sb)
        }
    }
}

/// The per-mount options shown for `m`: ro or rw, then its flags in the
/// kernel's order, with relatime when the spec gives no other atime mode
/// (Linux's default).
pub fn mount_text(m: &MountLine) -> String {
    let (ro, mut mnt, _) = split_options(&m.options);
    // A mount the kernel has shows its own words already.
    let default_atime = m.super_options.is_none()
        && !mnt
            .iter()
            .any(|o| matches!(*o, "relatime" | "noatime" | "strictatime"));
    if default_atime {
        mnt.push("relatime");
    }
    mnt.retain(|o| *o != "strictatime");
    mnt.sort_by_key(|o| MNT_FLAGS.iter().position(|f| f == o));
    opts_string(ro, &mnt)
}

fn opts_string(ro: bool, parts: &[&str]) -> String {
    let mut s = String::from(if ro { "ro" } else { "rw" });
    for p in parts {
        s.push(',');
        s.push_str(p);
    }
    s
}

/// Whether `path` is `prefix` or below it (component-wise).
fn path_has_prefix(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return path.starts_with('/');
    }
    path == prefix || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

impl ProcFs {
    /// A /proc with task state of its own (a probe, a test).
    pub fn new(config: ProcConfig) -> Self {
        let host = HostProc::new(config.host_proc.clone(), config.init_host_pid);
        let kernel = crate::sentry::kernel::Kernel::new(&host);
        Self::with_kernel(config, &kernel)
    }

    /// The /proc of a sandbox whose task state is `kernel`.
    pub fn with_kernel(config: ProcConfig, kernel: &crate::sentry::kernel::Kernel) -> Self {
        let host = HostProc::new(config.host_proc.clone(), config.init_host_pid);
        ProcFs {
            config,
            host,
            creds: std::sync::Arc::clone(&kernel.creds),
            cwds: std::sync::Arc::clone(&kernel.cwds),
            shown: std::sync::OnceLock::new(),
        }
    }

    /// The container's id of host task `htid` (what gettid returns in it).
    pub fn container_tid(&self, htid: i32) -> Option<i32> {
        self.host.container_pid(htid)
    }

    /// The host pid of container pid `cpid`, if it is a container process.
    pub fn host_pid(&self, cpid: i32) -> Option<i32> {
        self.host.host_pid(cpid)
    }

    /// The mount table with the real file system of the rootfs and of bind
    /// mounts, as Linux shows them (`/dev/vda / ext4`): `df` skips a
    /// "rootfs" entry and prints the type. Taken from the mount's device
    /// and statfs type, so no host path appears; a mount that cannot be
    /// examined keeps the spec's words.
    fn shown_mounts(&self) -> &[MountLine] {
        self.shown.get_or_init(|| {
            self.config
                .mounts
                .iter()
                .map(|m| {
                    let mut m = m.clone();
                    if m.fstype == "rootfs" || m.fstype == "bind" {
                        let host = format!(
                            "{}/{}/root{}",
                            self.config.host_proc.display(),
                            self.config.init_host_pid,
                            m.target
                        );
                        if let Some((source, fstype)) = host_backing(std::path::Path::new(&host)) {
                            m.source = source;
                            m.fstype = fstype;
                        }
                    }
                    m
                })
                .collect()
        })
    }

    pub fn config(&self) -> &ProcConfig {
        &self.config
    }

    pub fn host(&self) -> &HostProc {
        &self.host
    }

    /// Resolves `rel` (relative to /proc) for the calling task: its
    /// contents, or `Node::Refused` when the caller may not have them.
    pub fn lookup(&self, caller_host_tid: i32, rel: &str) -> Result<Node, Errno> {
        let (res, canon) = self.resolve(caller_host_tid, rel)?;
        if let Some((kind, errno)) = self.refusal(caller_host_tid, &res)? {
            return Ok(Node::Refused { kind, errno });
        }
        self.node_of(caller_host_tid, &res, &canon)
    }

    // ----- access to another task's files (see `procperm`) -----

    /// The credentials of task `htid` for a call of `caller`'s: the
    /// caller's own are cached (they cannot change during its call, and
    /// every change goes through `cred::Table::forget`), another task's
    /// are read afresh (it may be changing them right now).
    fn creds_of(&self, caller: i32, htid: i32) -> Result<crate::sentry::cred::Cred, Errno> {
        if htid == caller {
            self.creds.own(caller)
        } else {
            self.creds.get(htid)
        }
    }

    /// Whether `caller` is a thread of `t`'s thread group.
    fn same_group(&self, caller: i32, t: &Task) -> bool {
        caller == t.htid || caller == t.htgid || self.host.has(t.htgid, &format!("task/{caller}"))
    }

    /// Linux's ptrace_may_access(t, PTRACE_MODE_READ_FSCREDS) for `caller`.
    fn may_read_task(&self, caller: i32, t: &Task) -> Result<bool, Errno> {
        if self.same_group(caller, t) {
            return Ok(true);
        }
        // Another sandbox's task (a pod's shared pid namespace): no
        // capability of the caller reaches its user namespace.
        if !self.host.userns_within(t.htid, caller) {
            return Ok(false);
        }
        let (c, target) = (self.creds.own(caller)?, self.creds_of(caller, t.htid)?);
        Ok(procperm::may_ptrace_read(&c, &target, false))
    }

    /// Whether the mode of `t`'s file (`mode` with type bits) grants
    /// `caller` `want` (4 read, 1 search).
    fn may_by_mode(&self, caller: i32, t: &Task, mode: u32, want: u32) -> Result<bool, Errno> {
        let (c, target) = (self.creds.own(caller)?, self.creds_of(caller, t.htid)?);
        let root = (
            self.config.uid_map.to_host(0).unwrap_or(0),
            self.config.gid_map.to_host(0).unwrap_or(0),
        );
        Ok(procperm::may_by_mode(&c, &target, root, mode, want))
    }

    /// /proc/<pid>/fd is 0500 for its task's owner, and always open to
    /// the task's own threads (Linux's proc_fd_permission).
    fn may_use_fd_dir(&self, caller: i32, t: &Task, want: u32) -> Result<bool, Errno> {
        Ok(self.same_group(caller, t)
            || self.may_by_mode(caller, t, libc::S_IFDIR | 0o500, want)?)
    }

    /// Why `caller` may not have the contents of `res` (open, list, read,
    /// readlink, follow), as (the node's kind, errno); None if it may.
    fn refusal(&self, caller: i32, res: &Res) -> Result<Option<(EntryKind, Errno)>, Errno> {
        let ptrace = |t: &Task, kind: EntryKind, errno: Errno| -> Result<_, Errno> {
            Ok((!self.may_read_task(caller, t)?).then_some((kind, errno)))
        };
        match res {
            Res::PidLink(t, _) | Res::Fd(t, _) => ptrace(t, EntryKind::Symlink, Errno::EACCES),
            Res::FdinfoDir(t) => ptrace(t, EntryKind::Dir, Errno::EACCES),
            Res::Fdinfo(t, _) => ptrace(t, EntryKind::File, Errno::EACCES),
            Res::FdDir(t) => Ok(
                (!self.may_use_fd_dir(caller, t, 4)?).then_some((EntryKind::Dir, Errno::EACCES))
            ),
            Res::PidFile(t, name, mode) => {
                // The mode first (may_open), then the file's own check.
                if mode & 0o004 == 0 && !self.may_by_mode(caller, t, libc::S_IFREG | mode, 4)? {
                    return Ok(Some((EntryKind::File, Errno::EACCES)));
                }
                match *name {
                    "environ" | "auxv" | "maps" | "smaps" | "smaps_rollup" | "io" | "mem" => {
                        ptrace(t, EntryKind::File, Errno::EACCES)
                    }
                    "personality" => ptrace(t, EntryKind::File, Errno::EPERM),
                    _ => Ok(None),
                }
            }
            // Some sysctls are root's alone (0600: net/ipv4/tcp_fastopen_key),
            // some write-only (0200: vm/drop_caches). Linux's sysctl_perm
            // applies the class rule alone: no capability overrides it.
            Res::Sys(_, a) if !a.dir => {
                let c = self.creds.own(caller)?;
                let asker = crate::sentry::cred::Asker::from(&c);
                let may = crate::sentry::cred::class_permits(&asker, a.uid, a.gid, a.mode, 4);
                Ok((!may).then_some((EntryKind::File, Errno::EACCES)))
            }
            _ => Ok(None),
        }
    }

    /// The canonical path of `rel` below /proc (intermediate `self` and
    /// `thread-self` replaced by the pids they stand for) and the host tid
    /// of the task whose directory it is in, if any.
    pub fn canonical(
        &self,
        caller_host_tid: i32,
        rel: &str,
    ) -> Result<(String, Option<i32>), Errno> {
        let (res, canon) = self.resolve(caller_host_tid, rel)?;
        let task = match res {
            Res::Pid(t)
            | Res::TaskDir(t)
            | Res::FdDir(t)
            | Res::FdinfoDir(t)
            | Res::PidLink(t, _)
            | Res::PidFile(t, ..)
            | Res::Fd(t, _)
            | Res::Fdinfo(t, _)
            | Res::NetDir(t)
            | Res::NsDir(t)
            | Res::NetFile(t, _) => Some(t.htid),
            _ => None,
        };
        Ok((canon, task))
    }

    /// Link text of a symlink or magic link node (EINVAL for other nodes).
    pub fn readlink(&self, caller_host_tid: i32, rel: &str) -> Result<String, Errno> {
        let (res, _) = self.resolve(caller_host_tid, rel)?;
        if let Some((EntryKind::Symlink, errno)) = self.refusal(caller_host_tid, &res)? {
            return Err(errno);
        }
        match res {
            Res::Link(t) => Ok(t),
            Res::PidLink(t, name) => self.pid_link(&t, name),
            Res::Fd(t, fd) => {
                let target = self.host.fd_target(t.htid, fd)?;
                Ok(match crate::sentry::vfs::synthetic_file_of_link(&target) {
                    Some(path) => path.to_owned(),
                    None => target,
                })
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// The container (pid, tid) of the task whose `comm`, `oom_score_adj`,
    /// `mem` or 0400 file `rel` names, and which of them, for an open of
    /// the real file (see `gofer::proto::OpenProcFileReq`): comm and
    /// oom_score_adj when written, mem always (its reads are the task's
    /// memory), environ, auxv, io and personality when read (their owner
    /// is the task's host uid, whose files the sentry cannot read). `None`
    /// for any other node. `tid` is set for a thread's `task/<tid>/` file;
    /// oom_score_adj is the process's whichever directory names it.
    pub fn real_file(
        &self,
        caller_host_tid: i32,
        rel: &str,
        write: bool,
    ) -> Result<Option<(i32, Option<i32>, ProcFile)>, Errno> {
        let (res, _) = self.resolve(caller_host_tid, rel)?;
        Ok(match res {
            Res::PidFile(t, "comm", _) if write => {
                Some((t.ctgid, t.thread.then_some(t.ctid), ProcFile::Comm))
            }
            Res::PidFile(t, "oom_score_adj", _) if write => {
                Some((t.ctgid, None, ProcFile::OomScoreAdj))
            }
            Res::PidFile(t, "mem", _) => Some((t.ctgid, t.thread.then_some(t.ctid), ProcFile::Mem)),
            Res::PidFile(t, name, _) if !write => {
                ProcFile::read_only(name).map(|file| (t.ctgid, t.thread.then_some(t.ctid), file))
            }
            _ => None,
        })
    }

    /// stat(2) attributes of a node.
    pub fn attr(&self, caller_host_tid: i32, rel: &str) -> Result<NodeAttr, Errno> {
        let (res, canon) = self.resolve(caller_host_tid, rel)?;
        let (kind, perm, owner) = match &res {
            Res::Root => (EntryKind::Dir, 0o555, None),
            Res::Sys(_, a) if a.dir => (EntryKind::Dir, a.mode, None),
            Res::Sys(_, a) => (EntryKind::File, a.mode, None),
            Res::Placeholder(i) => {
                let p = &self.config.placeholders[*i];
                (p.kind(), p.mode, None)
            }
            Res::Pid(t) | Res::TaskDir(t) => (EntryKind::Dir, 0o555, Some(*t)),
            Res::FdDir(t) => (EntryKind::Dir, 0o500, Some(*t)),
            Res::FdinfoDir(t) | Res::NetDir(t) => (EntryKind::Dir, 0o555, Some(*t)),
            Res::NsDir(t) => (EntryKind::Dir, 0o511, Some(*t)),
            Res::NetFile(t, _) => (EntryKind::File, 0o444, Some(*t)),
            Res::TopFile(_) => (EntryKind::File, 0o444, None),
            Res::PidFile(t, _, m) => (EntryKind::File, *m, Some(*t)),
            Res::Fdinfo(t, _) => (EntryKind::File, 0o444, Some(*t)),
            Res::Link(_) => (EntryKind::Symlink, 0o777, None),
            Res::PidLink(t, _) => (EntryKind::Symlink, 0o777, Some(*t)),
            // r, w or both for the owner, as the fd was opened.
            Res::Fd(t, fd) => (
                EntryKind::Symlink,
                self.host.fd_link_mode(t.htid, *fd)?,
                Some(*t),
            ),
        };
        // Owned by the task's effective ids (ps reads its user here), by
        // root when it is not dumpable (after a set*id call), as Linux's
        // task_dump_owner.
        // World-readable directories (0555) keep the effective ids either way.
        let keeps_owner = kind == EntryKind::Dir && perm == 0o555;
        let (uid, gid) = match owner {
            Some(t) => {
                let c = self.creds_of(caller_host_tid, t.htid)?;
                if keeps_owner || c.dumpable == crate::sentry::cred::SUID_DUMP_USER {
                    (
                        self.config.uid_map.to_container(c.uid[1]),
                        self.config.gid_map.to_container(c.gid[1]),
                    )
                } else {
                    (0, 0)
                }
            }
            // /proc/sys/net belongs to the root of its namespace's owner.
            None => match &res {
                Res::Sys(_, a) => (
                    self.config.uid_map.to_container(a.uid),
                    self.config.gid_map.to_container(a.gid),
                ),
                _ => (0, 0),
            },
        };
        let (type_bits, nlink) = match kind {
            EntryKind::Dir => {
                let subdirs = match self.node_of(caller_host_tid, &res, &canon)? {
                    Node::Dir(entries) => entries
                        .iter()
                        .filter(|e| e.kind == EntryKind::Dir && e.name != "." && e.name != "..")
                        .count() as u64,
                    _ => 0,
                };
                (libc::S_IFDIR, 2 + subdirs)
            }
            EntryKind::File => (libc::S_IFREG, 1),
            EntryKind::Symlink => (libc::S_IFLNK, 1),
        };
        Ok(NodeAttr {
            kind,
            mode: type_bits | perm,
            uid,
            gid,
            nlink,
            ino: ino_of(&canon),
            // An fd link has the size of a pointer's text, as Linux says.
            size: if matches!(res, Res::Fd(..)) { 64 } else { 0 },
        })
    }

    // ----- resolution -----

    fn caller_task(&self, caller_host_tid: i32) -> Result<Task, Errno> {
        let (ctgid, ctid, htgid) = self
            .host
            .container_ids(caller_host_tid)
            .ok_or(Errno::ENOENT)?;
        // "self" names /proc/<ctgid> next: without this, a process new
        // since the last scan (every exec'd program's startup reads
        // /proc/self/exe) would cost a scan of /proc to find itself.
        self.host.remember_host_pid(ctgid, htgid);
        Ok(Task {
            ctgid,
            htgid,
            ctid,
            htid: caller_host_tid,
            thread: false,
        })
    }

    fn resolve(&self, caller: i32, rel: &str) -> Result<(Res, String), Errno> {
        let comps: Vec<&str> = rel
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        self.resolve_comps(caller, &comps, 0)
    }

    fn resolve_comps(
        &self,
        caller: i32,
        comps: &[&str],
        depth: u32,
    ) -> Result<(Res, String), Errno> {
        let mut cur = Res::Root;
        let mut canon = String::new();
        for comp in comps {
            if let Res::Link(target) = &cur {
                if depth >= 8 {
                    return Err(Errno::ELOOP);
                }
                let target = target.clone();
                let tcomps: Vec<&str> = target.split('/').filter(|c| !c.is_empty()).collect();
                let (r, c) = self.resolve_comps(caller, &tcomps, depth + 1)?;
                cur = r;
                canon = c;
            }
            cur = self.step(caller, &cur, comp)?;
            canon = join(&canon, comp);
        }
        Ok((cur, canon))
    }

    fn step(&self, caller: i32, cur: &Res, comp: &str) -> Result<Res, Errno> {
        match cur {
            Res::Root => match comp {
                "self" => {
                    let t = self.caller_task(caller)?;
                    Ok(Res::Link(t.ctgid.to_string()))
                }
                "thread-self" => {
                    let t = self.caller_task(caller)?;
                    Ok(Res::Link(format!("{}/task/{}", t.ctgid, t.ctid)))
                }
                "mounts" => Ok(Res::Link("self/mounts".to_owned())),
                "net" => Ok(Res::Link("self/net".to_owned())),
                "sys" => Ok(Res::Sys(String::new(), self.config.sysctl.stat("")?)),
                _ => {
                    if let Some(name) = TOP_FILES.iter().find(|n| **n == comp) {
                        return Ok(Res::TopFile(name));
                    }
                    if let Some(i) = self.config.placeholders.iter().position(|p| p.name == comp) {
                        return Ok(Res::Placeholder(i));
                    }
                    let cpid = hostproc::parse_pid_name(comp).ok_or(Errno::ENOENT)?;
                    if let Some(hpid) = self.host.host_pid(cpid) {
                        return Ok(Res::Pid(Task {
                            ctgid: cpid,
                            htgid: hpid,
                            ctid: cpid,
                            htid: hpid,
                            thread: false,
                        }));
                    }
                    // Another thread's tid: Linux finds /proc/<tid> too,
                    // unlisted, with that thread's files (here its
                    // task/<tid> directory's).
                    let (ctgid, htgid, htid) =
                        self.host.thread_anywhere(cpid).ok_or(Errno::ENOENT)?;
                    Ok(Res::Pid(Task {
                        ctgid,
                        htgid,
                        ctid: cpid,
                        htid,
                        thread: true,
                    }))
                }
            },
            Res::Sys(dir, a) if a.dir => {
                let child = if dir.is_empty() {
                    comp.to_owned()
                } else {
                    format!("{dir}/{comp}")
                };
                let attr = self.config.sysctl.stat(&child)?;
                Ok(Res::Sys(child, attr))
            }
            Res::Placeholder(i) if self.config.placeholders[*i].dir => Err(Errno::ENOENT),
            Res::Pid(t) => {
                let (name, e) = PID_ENTRIES
                    .iter()
                    .find(|(n, _)| *n == comp)
                    .ok_or(Errno::ENOENT)?;
                match (name, e) {
                    (&"task", _) if t.thread => Err(Errno::ENOENT),
                    (&"task", _) => Ok(Res::TaskDir(*t)),
                    (&"fd", _) => Ok(Res::FdDir(*t)),
                    (&"fdinfo", _) => Ok(Res::FdinfoDir(*t)),
                    (&"net", _) => Ok(Res::NetDir(*t)),
                    (&"ns", _) => Ok(Res::NsDir(*t)),
                    (&"children", _) if !t.thread => Err(Errno::ENOENT),
                    (_, PidEntry::Link) => Ok(Res::PidLink(*t, name)),
                    (_, PidEntry::File(m)) => Ok(Res::PidFile(*t, name, *m)),
                    (_, PidEntry::Dir(_)) => Err(Errno::ENOENT),
                }
            }
            Res::TaskDir(t) => {
                let ctid = hostproc::parse_pid_name(comp).ok_or(Errno::ENOENT)?;
                let (_, htid) = self
                    .host
                    .threads(t.htgid)
                    .into_iter()
                    .find(|(c, _)| *c == ctid)
                    .ok_or(Errno::ENOENT)?;
                Ok(Res::Pid(Task {
                    ctid,
                    htid,
                    thread: true,
                    ..*t
                }))
            }
            Res::FdDir(t) | Res::FdinfoDir(t) => {
                // Looking up in fd/ needs search permission on it, in
                // fdinfo/ the ptrace check too (Linux's proc_fd_permission
                // and proc_fdinfo_permission).
                let may = match cur {
                    Res::FdDir(_) => self.may_use_fd_dir(caller, t, 1)?,
                    _ => self.may_read_task(caller, t)?,
                };
                if !may {
                    return Err(Errno::EACCES);
                }
                let fd = parse_fd_name(comp)
                    .filter(|fd| Some(*fd) != self.config.hidden_fd)
                    .ok_or(Errno::ENOENT)?;
                self.host.fd_target(t.htid, fd)?;
                if matches!(cur, Res::FdDir(_)) {
                    Ok(Res::Fd(*t, fd))
                } else {
                    Ok(Res::Fdinfo(*t, fd))
                }
            }
            Res::NetDir(t) => {
                let name = NET_FILES
                    .iter()
                    .find(|n| **n == comp)
                    .ok_or(Errno::ENOENT)?;
                // Only what the host kernel has (no IPv6, no snmp6).
                if !self.host.has(t.htid, &format!("net/{name}")) {
                    return Err(Errno::ENOENT);
                }
                Ok(Res::NetFile(*t, name))
            }
            Res::NsDir(t) => {
                let name = NS_LINKS
                    .iter()
                    .find(|n| n.strip_prefix("ns/") == Some(comp))
                    .ok_or(Errno::ENOENT)?;
                // Only the types the host kernel has (time: Linux 5.6).
                if !self.host.has(t.htid, name) {
                    return Err(Errno::ENOENT);
                }
                Ok(Res::PidLink(*t, name))
            }
            Res::Link(_) => Err(Errno::ELOOP),
            Res::NetFile(..)
            | Res::TopFile(_)
            | Res::Sys(..)
            | Res::Placeholder(_)
            | Res::PidLink(..)
            | Res::PidFile(..)
            | Res::Fd(..)
            | Res::Fdinfo(..) => Err(Errno::ENOTDIR),
        }
    }

    // ----- node generation -----

    fn node_of(&self, caller: i32, res: &Res, canon: &str) -> Result<Node, Errno> {
        Ok(match res {
            Res::Root => {
                let mut children: Vec<(String, EntryKind)> = ROOT_ENTRIES
                    .iter()
                    .map(|(n, k)| (n.to_string(), *k))
                    .collect();
                children.extend(TOP_FILES.iter().map(|n| (n.to_string(), EntryKind::File)));
                children.extend(
                    self.config
                        .placeholders
                        .iter()
                        .map(|p| (p.name.clone(), p.kind())),
                );
                children.extend(
                    self.host
                        .list_container_pids()
                        .into_iter()
                        .map(|(c, _)| (c.to_string(), EntryKind::Dir)),
                );
                Node::Dir(self.listing(canon, children))
            }
            Res::TopFile(name) => Node::File(self.top_file(caller, name)?),
            Res::Sys(rel, a) if a.dir => {
                Node::Dir(self.listing(canon, self.config.sysctl.list(rel)?))
            }
            // Some refuse every read (net/ipv6/conf/*/stable_secret while
            // unset: EIO); they still exist.
            // The reader's pid namespace's last pid: the container's.
            Res::Sys(rel, _) if rel == "kernel/ns_last_pid" => {
                Node::File(format!("{}\n", self.last_pid()).into_bytes())
            }
            Res::Sys(rel, _) => match self.config.sysctl.read(rel) {
                Ok(content) => Node::File(content),
                Err(errno) if errno != Errno::ENOENT => Node::Refused {
                    kind: EntryKind::File,
                    errno,
                },
                Err(errno) => return Err(errno),
            },
            Res::Placeholder(i) if self.config.placeholders[*i].dir => {
                Node::Dir(self.listing(canon, Vec::new()))
            }
            Res::Placeholder(_) => Node::File(Vec::new()),
            Res::Link(t) => Node::Symlink(t.clone()),
            Res::PidLink(t, name) => Node::Symlink(self.pid_link(t, name)?),
            Res::Pid(t) => {
                // Fail for a task that vanished meanwhile.
                self.host.status(t.htid)?;
                let children = PID_ENTRIES
                    .iter()
                    .filter(|(n, _)| !(t.thread && *n == "task") && (t.thread || *n != "children"))
                    .map(|(n, e)| {
                        let kind = match e {
                            PidEntry::File(_) => EntryKind::File,
                            PidEntry::Link => EntryKind::Symlink,
                            PidEntry::Dir(_) => EntryKind::Dir,
                        };
                        (n.to_string(), kind)
                    })
                    .collect();
                Node::Dir(self.listing(canon, children))
            }
            Res::PidFile(t, name, _) => {
                let content = match *name {
                    // Without ptrace read access, Linux hides the
                    // addresses and exit code in stat and the wait channel.
                    "stat" if !self.may_read_task(caller, t)? => {
                        hide_stat_addresses(&self.pid_stat(t)?)
                    }
                    "wchan" if !self.may_read_task(caller, t)? => b"0".to_vec(),
                    _ => self.pid_file(t, name)?,
                };
                // The caller is blocked in the sandbox while we answer; on
                // Linux a task reading its own stat/status is running.
                if t.htid == caller && (*name == "stat" || *name == "status") {
                    Node::File(show_running(content, name))
                } else {
                    Node::File(content)
                }
            }
            Res::FdDir(t) | Res::FdinfoDir(t) => {
                let kind = if matches!(res, Res::FdDir(_)) {
                    EntryKind::Symlink
                } else {
                    EntryKind::File
                };
                let children = self
                    .host
                    .fds(t.htid)?
                    .into_iter()
                    .filter(|fd| Some(*fd) != self.config.hidden_fd)
                    .map(|fd| (fd.to_string(), kind))
                    .collect();
                Node::Dir(self.listing(canon, children))
            }
            Res::TaskDir(t) => {
                let children = self
                    .host
                    .threads(t.htgid)
                    .into_iter()
                    .map(|(c, _)| (c.to_string(), EntryKind::Dir))
                    .collect();
                Node::Dir(self.listing(canon, children))
            }
            Res::Fd(t, fd) => Node::FdLink {
                host_tid: t.htid,
                fd: *fd,
            },
            Res::Fdinfo(t, fd) => Node::File(self.fdinfo(t, *fd)?),
            Res::NetDir(t) => {
                let children = NET_FILES
                    .iter()
                    .filter(|n| self.host.has(t.htid, &format!("net/{n}")))
                    .map(|n| (n.to_string(), EntryKind::File))
                    .collect();
                Node::Dir(self.listing(canon, children))
            }
            Res::NetFile(t, name) => {
                Node::File(self.host.read_file(t.htid, &format!("net/{name}"))?)
            }
            Res::NsDir(t) => {
                let children = NS_LINKS
                    .iter()
                    .filter(|n| self.host.has(t.htid, n))
                    .filter_map(|n| n.strip_prefix("ns/"))
                    .map(|n| (n.to_string(), EntryKind::Symlink))
                    .collect();
                Node::Dir(self.listing(canon, children))
            }
        })
    }

    fn listing(&self, canon: &str, children: Vec<(String, EntryKind)>) -> Vec<DirEntry> {
        let mut v = Vec::with_capacity(children.len() + 2);
        v.push(DirEntry {
            name: ".".into(),
            kind: EntryKind::Dir,
            ino: ino_of(canon),
        });
        v.push(DirEntry {
            name: "..".into(),
            kind: EntryKind::Dir,
            ino: ino_of(parent_of(canon)),
        });
        for (name, kind) in children {
            let ino = ino_of(&join(canon, &name));
            v.push(DirEntry { name, kind, ino });
        }
        v
    }

    fn pid_link(&self, t: &Task, name: &str) -> Result<String, Errno> {
        match name {
            "exe" => self.host.exe(t.htid),
            // A virtual cwd (a synthetic directory) is the sentry's; one
            // whose directory is gone reads as Linux shows a removed cwd.
            "cwd" => match self.cwds.get(t.htid) {
                Ok(Some(v)) if v.alive() => Ok(v.path),
                Ok(Some(v)) => Ok(format!("{} (deleted)", v.path)),
                _ => self.host.cwd(t.htid),
            },
            "root" => Ok("/".to_owned()),
            ns if ns.starts_with("ns/") => self.host.read_link(t.htid, ns),
            _ => Err(Errno::ENOENT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentry::fs::hostproc::fixture::{ProcTree, Task};
    use std::time::Duration;

    fn me() -> i32 {
        std::process::id() as i32
    }

    fn config(init: i32, host_proc: PathBuf) -> ProcConfig {
        ProcConfig {
            hostname: "box".into(),
            uid_map: crate::sentry::cred::IdMap::identity(),
            gid_map: crate::sentry::cred::IdMap::identity(),
            spec_seccomp: false,
            memory_limit: Some(64 << 20),
            start_time: SystemTime::now() - Duration::from_secs(100),
            hidden_fd: None,
            mounts: vec![
                MountLine {
                    source: "overlay".into(),
                    target: "/".into(),
                    fstype: "overlay".into(),
                    options: "rw".into(),
                    super_options: None,
                },
                MountLine {
                    source: "proc".into(),
                    target: "/proc".into(),
                    fstype: "proc".into(),
                    options: "nosuid,noexec,nodev".into(),
                    super_options: None,
                },
                MountLine {
                    source: "tmpfs".into(),
                    target: "/tmp".into(),
                    fstype: "tmpfs".into(),
                    options: "rbind,nosuid,size=65536k,mode=755".into(),
                    super_options: None,
                },
            ],
            cgroup_ns_roots: None,
            init_host_pid: init,
            sysctl: std::sync::Arc::new(super::super::sysctl::Sysctl::direct(host_proc.clone())),
            placeholders: vec![Placeholder {
                name: "timer_list".into(),
                dir: false,
                mode: 0o444,
            }],
            host_proc,
        }
    }

    /// `cfg` for a container whose user namespace maps 0..65536 to host
    /// ids 100000.. (uids and gids).
    fn in_userns(mut cfg: ProcConfig) -> ProcConfig {
        let userns = crate::sentry::cred::IdMap(vec![crate::sentry::cred::IdRange {
            inside: 0,
            outside: 100000,
            count: 65536,
        }]);
        cfg.uid_map = userns.clone();
        cfg.gid_map = userns;
        cfg
    }

    fn host_fs() -> ProcFs {
        ProcFs::new(config(me(), "/proc".into()))
    }

    fn file(n: Node) -> String {
        match n {
            Node::File(b) => String::from_utf8(b).expect("utf8"),
            other => panic!("not a file: {other:?}"),
        }
    }

    fn names(n: Node) -> Vec<String> {
        match n {
            Node::Dir(v) => v.into_iter().map(|e| e.name).collect(),
            other => panic!("not a dir: {other:?}"),
        }
    }

    #[test]
    fn self_and_thread_self() {
        let p = host_fs();
        let me = me();
        assert_eq!(p.lookup(me, "self"), Ok(Node::Symlink(me.to_string())));
        assert_eq!(p.readlink(me, "self"), Ok(me.to_string()));
        assert_eq!(
            p.lookup(me, "thread-self"),
            Ok(Node::Symlink(format!("{me}/task/{me}")))
        );
        assert_eq!(
            p.lookup(me, "mounts"),
            Ok(Node::Symlink("self/mounts".into()))
        );
        let root = names(p.lookup(me, "").expect("root"));
        for n in [
            ".",
            "..",
            "self",
            "cpuinfo",
            "meminfo",
            "sys",
            &me.to_string(),
        ] {
            assert!(root.iter().any(|x| x == n), "{n} missing in root");
        }
        let pid = names(
            p.lookup(me, "self")
                .and_then(|_| p.lookup(me, &me.to_string()))
                .expect("pid dir"),
        );
        assert!(pid.iter().any(|x| x == "status") && pid.iter().any(|x| x == "task"));
        assert_eq!(p.readlink(me, "self/root"), Ok("/".into()));
        assert!(p.readlink(me, "self/exe").expect("exe").starts_with('/'));
        assert_eq!(p.readlink(me, "self/status"), Err(Errno::EINVAL));
    }

    #[test]
    fn ns_links_children_and_arch_status() {
        let p = host_fs();
        let me = me();
        let ns = names(p.lookup(me, "self/ns").expect("ns dir"));
        for n in ["net", "ipc", "mnt", "pid", "user", "uts"] {
            assert!(ns.iter().any(|x| x == n), "{n} missing in {ns:?}");
        }
        let host = std::fs::read_link("/proc/self/ns/net").expect("host ns/net");
        assert_eq!(
            p.readlink(me, "self/ns/net"),
            Ok(host.to_string_lossy().into_owned())
        );
        assert_eq!(p.lookup(me, "self/ns/nope"), Err(Errno::ENOENT));
        let attr = p.attr(me, "self/ns").expect("ns attr");
        assert_eq!(attr.mode, libc::S_IFDIR | 0o511);
        // children is a thread directory's file only.
        assert_eq!(p.lookup(me, "self/children"), Err(Errno::ENOENT));
        let kids = file(
            p.lookup(me, &format!("self/task/{me}/children"))
                .expect("children"),
        );
        assert!(kids.split_whitespace().all(|k| k.parse::<i32>().is_ok()));
        // x86_64 kernels always have arch_status (X86_64 selects it).
        let arch = file(p.lookup(me, "self/arch_status").expect("arch_status"));
        assert!(arch.starts_with("AVX512_elapsed_ms:"), "{arch}");
    }

    #[test]
    fn status_shows_the_kernels_credentials() {
        let p = host_fs();
        let s = file(p.lookup(me(), "self/status").expect("status"));
        let host = std::fs::read_to_string("/proc/self/status").expect("host status");
        for key in [
            "Uid:",
            "Gid:",
            "CapInh:",
            "CapPrm:",
            "CapEff:",
            "CapBnd:",
            "CapAmb:",
            "NoNewPrivs:",
        ] {
            let line = |t: &str| t.lines().find(|l| l.starts_with(key)).map(str::to_owned);
            assert_eq!(line(&s), line(&host), "{key} in {s}");
        }
        assert!(s.contains("Seccomp:\t0\n"));
        assert!(s.contains("TracerPid:\t0\n"));
        assert!(s.contains(&format!("NSpid:\t{}\n", me())));
        assert!(s.starts_with("Name:\t"));
    }

    #[test]
    fn stat_comm_with_parens() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let h = std::thread::spawn(move || {
            nix::sys::prctl::set_name(c") (x y").expect("set_name");
            tx.send(nix::unistd::gettid().as_raw()).expect("send");
            let _ = done_rx.recv();
        });
        let tid = rx.recv().expect("tid");
        let p = host_fs();
        let me = me();
        let tasks = names(p.lookup(me, "self/task").expect("task dir"));
        assert!(tasks.contains(&tid.to_string()));
        let s = file(
            p.lookup(me, &format!("self/task/{tid}/stat"))
                .expect("stat"),
        );
        let st = hostproc::parse_stat(s.as_bytes()).expect("parse");
        assert_eq!(st.pid, tid);
        assert_eq!(st.comm, b") (x y".to_vec());
        assert_eq!(st.ppid, nix::unistd::getppid().as_raw());
        assert!(
            st.starttime <= 100 * 110,
            "rebased starttime {}",
            st.starttime
        );
        let comm = file(
            p.lookup(me, &format!("{me}/task/{tid}/comm"))
                .expect("comm"),
        );
        assert_eq!(comm, ") (x y\n");
        assert_eq!(
            p.lookup(me, &format!("self/task/{tid}/task")),
            Err(Errno::ENOENT)
        );
        done_tx.send(()).expect("done");
        h.join().expect("join");
    }

    #[test]
    fn meminfo_limited() {
        let p = host_fs();
        let s = file(p.lookup(me(), "meminfo").expect("meminfo"));
        assert!(s.starts_with("MemTotal:          65536 kB\n"), "{s}");
        for key in ["MemFree:", "MemAvailable:"] {
            let v: u64 = s
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .expect("value");
            assert!(v <= 65536);
        }
        let mut cfg = config(me(), "/proc".into());
        cfg.memory_limit = None;
        let s = file(ProcFs::new(cfg).lookup(me(), "meminfo").expect("meminfo"));
        assert!(!s.starts_with("MemTotal:          65536 kB\n"));
    }

    #[test]
    fn uptime_and_globals() {
        let p = host_fs();
        let me = me();
        let s = file(p.lookup(me, "uptime").expect("uptime"));
        let up: f64 = s
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .expect("num");
        assert!((100.0..110.0).contains(&up), "{s}");
        assert!(s.ends_with(" 0.00\n"));
        // /proc/sys is the host's tree as the reader's namespaces show it
        // (here: the test's own).
        for name in [
            "kernel/hostname",
            "kernel/cap_last_cap",
            "net/core/somaxconn",
        ] {
            assert_eq!(
                p.lookup(me, &format!("sys/{name}")).expect(name),
                Node::File(std::fs::read(format!("/proc/sys/{name}")).expect(name)),
            );
        }
        assert!(file(p.lookup(me, "version").expect("v")).starts_with("Linux version "));
        assert!(file(p.lookup(me, "cpuinfo").expect("cpu")).contains("processor"));
        let st = file(p.lookup(me, "stat").expect("stat"));
        assert!(st.starts_with("cpu  ") && st.contains("\nprocesses ") && st.contains("\nbtime "));
        let la = file(p.lookup(me, "loadavg").expect("loadavg"));
        assert!(la.starts_with("0.00 0.00 0.00 "), "{la}");
        let sys = names(p.lookup(me, "sys").expect("sys"));
        for name in [".", "..", "fs", "kernel", "net", "vm"] {
            assert!(sys.iter().any(|n| n == name), "{name} in {sys:?}");
        }
        // A masked host file is there and empty.
        assert!(names(p.lookup(me, "").expect("/proc")).contains(&"timer_list".to_string()));
        assert_eq!(file(p.lookup(me, "timer_list").expect("masked")), "");
        assert_eq!(p.lookup(me, "timer_list/x"), Err(Errno::ENOTDIR));
        let a = p.attr(me, "").expect("attr");
        assert_eq!(
            (a.kind, a.mode, a.ino),
            (EntryKind::Dir, libc::S_IFDIR | 0o555, 1)
        );
        assert!(a.nlink > 3);
        let a = p.attr(me, "sys/kernel/hostname").expect("attr");
        assert_eq!(a.mode, libc::S_IFREG | 0o644);
        let a = p.attr(me, "self").expect("attr");
        assert_eq!(a.mode, libc::S_IFLNK | 0o777);
        let a = p.attr(me, "self/status").expect("attr");
        assert_eq!(a.uid, nix::unistd::geteuid().as_raw());
        assert_eq!(
            a.ino,
            p.attr(me, &format!("{me}/status")).expect("attr").ino
        );
    }

    #[test]
    fn cgroup_paths_relative_to_the_namespace_roots() {
        let host = "9:name=systemd:/\n4:memory:/runrs/c1\n1:cpu:/runrs/c1/sub\n0::/other\n";
        let roots = vec![
            ("4:memory".to_string(), "/runrs/c1".to_string()),
            ("1:cpu".to_string(), "/runrs/c1".to_string()),
            ("0:".to_string(), "/runrs/c1".to_string()),
        ];
        assert_eq!(
            cgroup_relative(host, &roots),
            "9:name=systemd:/\n4:memory:/\n1:cpu:/sub\n0::/../../other\n"
        );
    }

    #[test]
    fn mounts_and_mountinfo() {
        let p = host_fs();
        let m = file(p.lookup(me(), "self/mounts").expect("mounts"));
        assert_eq!(
            m,
            "overlay / overlay rw,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\ntmpfs /tmp tmpfs rw,nosuid,relatime,size=65536k,mode=755 0 0\n"
        );
        let mi = file(p.lookup(me(), "self/mountinfo").expect("mountinfo"));
        assert_eq!(
            mi,
            "1 1 0:1 / / rw,relatime - overlay overlay rw\n2 1 0:2 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n3 1 0:3 / /tmp rw,nosuid,relatime - tmpfs tmpfs rw,size=65536k,mode=755\n"
        );
        assert_eq!(p.lookup(me(), "mounts/x"), Err(Errno::ENOTDIR));
    }

    #[test]
    fn fd_dir_and_links() {
        let p = host_fs();
        let me = me();
        let fds = names(p.lookup(me, "self/fd").expect("fd dir"));
        assert!(fds.contains(&"0".to_string()));
        let f = std::fs::File::open("/proc/self/status").expect("open");
        let _keep = f;
        assert_eq!(
            p.lookup(me, "self/fd/0"),
            Ok(Node::FdLink {
                host_tid: me,
                fd: 0
            })
        );
        assert!(!p.readlink(me, "self/fd/0").expect("readlink").is_empty());
        assert_eq!(
            p.attr(me, "self/fd/0").expect("attr").kind,
            EntryKind::Symlink
        );
        assert_eq!(
            p.attr(me, "self/fd").expect("attr").mode,
            libc::S_IFDIR | 0o500
        );
        let info = file(p.lookup(me, "self/fdinfo/0").expect("fdinfo"));
        assert!(
            info.contains("pos:") && info.contains("mnt_id:\t"),
            "{info}"
        );
        assert_eq!(p.lookup(me, "self/fd/999999"), Err(Errno::ENOENT));
        assert_eq!(p.lookup(me, "self/fd/01"), Err(Errno::ENOENT));
    }

    #[test]
    fn errors() {
        let p = host_fs();
        let me = me();
        assert_eq!(p.lookup(me, "nonexistent"), Err(Errno::ENOENT));
        assert_eq!(p.lookup(me, "self/nonexistent"), Err(Errno::ENOENT));
        assert_eq!(p.lookup(me, "999999999"), Err(Errno::ENOENT));
        assert_eq!(p.lookup(me, "sys/kernel/nope"), Err(Errno::ENOENT));
        assert_eq!(p.lookup(me, "self/status/x"), Err(Errno::ENOTDIR));
        assert_eq!(p.lookup(me, "cpuinfo/x"), Err(Errno::ENOTDIR));
        assert_eq!(p.lookup(me, "sys/kernel/hostname/x"), Err(Errno::ENOTDIR));
        assert_eq!(p.attr(me, "nonexistent"), Err(Errno::ENOENT));
    }

    /// A fake host /proc where the container's pid ns differs from the
    /// test's: host pids 100 and 101 are container pids 1 and 2, in a
    /// user namespace whose root is host uid 100000.
    fn fake_proc() -> ProcTree {
        let tree = ProcTree::new();
        let task = |host: i32, ns: &str, ctr: i32, ppid: i32, comm: &str| {
            let mut t = Task::process(host, ctr, ns);
            t.ppid = ppid;
            t.comm = comm.to_owned();
            t.session = (100, 1);
            t.tracer = 7;
            t.uid = [100000, 101000, 100000, 100000];
            t.gid = [100000, 101001, 100000, 100000];
            t.groups = vec![100005];
            t
        };
        tree.add(&task(100, "pid:[111]", 1, 50, "my init"))
            .add(&task(101, "pid:[111]", 2, 100, "sh"))
            .add(&task(50, "pid:[999]", 50, 1, "containerd-shim"))
            .add(&task(me(), "pid:[999]", me(), 1, "test"))
            .write("uptime", "1000.00 2000.00\n");
        tree
    }

    /// /proc/<tid> of a thread that leads no process is there, unlisted,
    /// as that thread's directory (Linux finds any task's pid at the top).
    #[test]
    fn a_threads_tid_is_found_at_the_top_but_not_listed() {
        let tree = ProcTree::new();
        let init = Task::process(100, 1, "pid:[111]");
        tree.add(&init).add(&init.thread(102, 3));
        let p = ProcFs::new(config(100, tree.root().to_path_buf()));
        assert!(matches!(p.lookup(100, "3"), Ok(Node::Dir(_))));
        assert_eq!(p.canonical(100, "3").map(|(_, task)| task), Ok(Some(102)));
        assert!(!names(p.lookup(100, "").expect("/proc")).contains(&"3".to_owned()));
        assert_eq!(p.lookup(100, "4"), Err(Errno::ENOENT));
    }

    /// Another task's fds, and who may see them: a task of the same ids
    /// (dumpable) may list its fd directory and read its links; a task of
    /// another user namespace (a pod's other sandbox) with the same ids
    /// may list the directory but not read a link; once the task is not
    /// dumpable (its files are the namespace root's) the directory is
    /// refused; a task always sees its own.
    #[test]
    fn fd_dir_of_another_task_follows_ptrace_access() {
        let tree = ProcTree::new();
        let mut init = Task::process(100, 1, "pid:[111]");
        init.fds = vec![
            (0, "/dev/null".to_owned(), 1),
            (1, "pipe:[77]".to_owned(), 1),
            (4, "/etc/passwd".to_owned(), 1),
        ];
        let mut sh = Task::process(101, 2, "pid:[111]");
        sh.ppid = 100;
        let mut other = Task::process(102, 3, "pid:[111]");
        other.user_ns = "another-sandbox".to_owned();
        // No capability anywhere: the ids and the dumpable mode decide.
        for t in [&mut init, &mut sh, &mut other] {
            t.caps = [0; 5];
        }
        tree.add(&init).add(&sh).add(&other);
        // The namespace's root is host uid 100000, not the test's.
        let p = ProcFs::new(in_userns(config(100, tree.root().to_path_buf())));
        assert_eq!(
            names(p.lookup(101, "1/fd").expect("fd dir")),
            [".", "..", "0", "1", "4"]
        );
        assert_eq!(p.readlink(101, "1/fd/4").as_deref(), Ok("/etc/passwd"));
        assert_eq!(p.readlink(101, "1/fd/1").as_deref(), Ok("pipe:[77]"));
        assert_eq!(p.lookup(101, "1/fd/2"), Err(Errno::ENOENT));
        assert!(file(p.lookup(101, "1/fdinfo/4").expect("fdinfo")).contains("mnt_id:\t1\n"));
        // The directory is the mode's (the same ids own it); its links
        // and fdinfo need ptrace access, which no capability of another
        // user namespace's task gives.
        assert!(
            p.lookup(102, "1/fd").is_ok(),
            "the 0500 directory of its ids"
        );
        assert_eq!(p.readlink(102, "1/fd/4"), Err(Errno::EACCES));
        assert_eq!(p.lookup(102, "1/fdinfo/4"), Err(Errno::EACCES));
        // Not dumpable: its files are root's (here another owner than its
        // effective ids), so its fd directory is no longer its user's.
        init.uid[1] = init.uid[1].wrapping_add(1);
        init.uid[3] = init.uid[1];
        tree.add(&init);
        assert_eq!(
            p.lookup(101, "1/fd"),
            Ok(Node::Refused {
                kind: EntryKind::Dir,
                errno: Errno::EACCES
            }),
            "not dumpable"
        );
        assert_eq!(p.readlink(101, "1/fd/4"), Err(Errno::EACCES));
        assert!(p.lookup(100, "self/fd").is_ok(), "its own");
    }

    #[test]
    fn pid_translation_with_foreign_namespace() {
        let fake = fake_proc();
        let p = ProcFs::new(in_userns(config(100, fake.root().to_path_buf())));
        assert_eq!(p.lookup(101, "self"), Ok(Node::Symlink("2".into())));
        let root = names(p.lookup(101, "").expect("root"));
        assert!(root.contains(&"1".into()) && root.contains(&"2".into()));
        assert!(!root.contains(&"100".into()) && !root.contains(&"50".into()));
        assert!(!root.contains(&me().to_string()));
        // Host pids (even existing ones) are not container pids.
        for pid in ["100", "101", "50", &me().to_string()] {
            assert_eq!(p.lookup(101, pid), Err(Errno::ENOENT), "{pid}");
        }
        // The test process is not in the container: no "self" for it.
        assert_eq!(p.lookup(me(), "self"), Err(Errno::ENOENT));
        let s = file(p.lookup(101, "1/stat").expect("stat"));
        // ppid 50 is outside -> 0; starttime rebased: 5000 - (1000-100)*100 = 0.
        let st = hostproc::parse_stat(s.as_bytes()).expect("parse");
        assert_eq!((st.pid, st.ppid, st.pgrp, st.session), (1, 0, 1, 1));
        assert_eq!(st.comm, b"my init".to_vec());
        assert_eq!(st.starttime, 0);
        let s = file(p.lookup(101, "self/stat").expect("stat"));
        // The caller reading its own stat sees itself running (it is only
        // blocked in the sandbox while the sentry answers).
        assert!(s.starts_with("2 (sh) R 1 1 1 0 -1 "), "{s}");
        let s = file(p.lookup(101, "1/status").expect("status"));
        for want in [
            "Tgid:\t1\n",
            "Pid:\t1\n",
            "PPid:\t0\n",
            "TracerPid:\t0\n",
            "NStgid:\t1\n",
            "NSpid:\t1\n",
            "NSpgid:\t1\n",
            "NSsid:\t1\n",
            "CapEff:\t000001ffffffffff\n",
            "NoNewPrivs:\t0\n",
            "Seccomp:\t0\n",
            // Host ids through the mapping 0 -> 100000 (65536 ids).
            "Uid:\t0\t1000\t0\t0\n",
            "Gid:\t0\t1001\t0\t0\n",
            "Groups:\t5 \n",
        ] {
            assert!(s.contains(want), "{want:?} not in {s}");
        }
        assert!(
            !s.split_whitespace().any(|w| w == "100" || w == "50"),
            "{s}"
        );
        assert_eq!(
            names(p.lookup(101, "1/task").expect("task")),
            [".", "..", "1"]
        );
        assert_eq!(p.lookup(101, "1/task/100"), Err(Errno::ENOENT));
        // Owned by root while the task's /proc directory is not its own
        // (not dumpable), by its effective ids when it is; mapped.
        let a = p.attr(101, "1/status").expect("attr");
        assert_eq!((a.uid, a.gid), (0, 0));
        std::os::unix::fs::chown(fake.root().join("100/status"), Some(101000), Some(101001))
            .expect("chown");
        let a = p.attr(101, "1/status").expect("attr");
        assert_eq!((a.uid, a.gid), (1000, 1001));
    }
}
