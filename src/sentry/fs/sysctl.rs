//! /proc/sys as a process of the container sees it: the host's tree,
//! read-only (runc's containers get it as a read-only bind), with the
//! entries that are per namespace (net/, the IPC limits, hostname) taken
//! from the container's namespaces.
//!
//! The kernel picks those entries' namespace from the task that does the
//! lookup, at every lookup, so a directory fd opened early does not pin
//! them. One sentry thread therefore joins the container's network, IPC
//! and UTS namespaces at boot, while the sentry still holds its
//! capabilities, drops all of its own, and then does every /proc/sys stat,
//! listing and read for the workers, which ask it over a channel. A sysctl
//! read never waits on anything the workload controls.

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Mutex;

use nix::errno::Errno;

use super::procfs::EntryKind;
use crate::sentry::sys::errno_of;

/// The most a sysctl read returns (the largest real ones are a few KiB).
const READ_LIMIT: u64 = 1 << 20;

/// Subtrees not shown: binfmt_misc is a file system of its own, mounted
/// on demand on some hosts (a lookup could trigger the automount).
const HIDDEN: &[&str] = &["fs/binfmt_misc"];

/// A /proc/sys node's host attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SysAttr {
    pub dir: bool,
    /// Permission bits.
    pub mode: u32,
    /// Host ids of the owner (net/ entries belong to the root of the
    /// network namespace's user namespace).
    pub uid: u32,
    pub gid: u32,
}

enum Op {
    Stat,
    List,
    Read,
}

enum Answer {
    Stat(SysAttr),
    List(Vec<(String, EntryKind)>),
    Read(Vec<u8>),
}

struct Request {
    op: Op,
    rel: String,
    reply: mpsc::SyncSender<Result<Answer, Errno>>,
}

/// Who does the lookups.
enum Reader {
    /// The calling thread (unit tests: the test's own namespaces).
    Direct,
    /// The thread in the container's namespaces.
    Thread(Mutex<mpsc::Sender<Request>>),
}

/// The sysctls whose value is the reading task's pid namespace's: no
/// thread can enter another pid namespace, so their values are read once
/// at boot by a process forked into the container's (neither changes
/// while /proc/sys is read-only). kernel/ns_last_pid is the procfs's
/// (`procfs`: the container's highest pid, as loadavg shows it).
const PID_NS_SYSCTLS: &[&str] = &["kernel/pid_max"];

/// The values of [`PID_NS_SYSCTLS`] in a container's pid namespace.
pub struct PidNsValues(Vec<(&'static str, Vec<u8>)>);

/// Reads [`PID_NS_SYSCTLS`] as host task `init`'s pid namespace shows
/// them, by a process forked into it. Call before the ptrace platform's
/// tracer starts: it reaps every child of the sentry (`waitpid(-1,
/// __WALL)`), this one's too.
pub fn pid_namespace_values(
    host_proc: &std::path::Path,
    init: i32,
) -> Result<PidNsValues, SysctlError> {
    let pid_ns = File::open(host_proc.join(format!("{init}/ns/pid"))).map_err(|source| {
        SysctlError::OpenNs {
            ns: "pid",
            path: format!("{init}/ns/pid"),
            source,
        }
    })?;
    let mut pid_ns_values = Vec::new();
    for name in PID_NS_SYSCTLS {
        let path = std::ffi::CString::new(format!("/proc/sys/{name}")).map_err(|_| {
            SysctlError::PidNs {
                name,
                source: Errno::EINVAL,
            }
        })?;
        let value =
            crate::sentry::sys::read_in_pid_namespace(std::os::fd::AsFd::as_fd(&pid_ns), &path)
                .map_err(|source| SysctlError::PidNs { name, source })?;
        pid_ns_values.push((*name, value));
    }
    Ok(PidNsValues(pid_ns_values))
}

/// The /proc/sys of one sandbox.
pub struct Sysctl {
    root: PathBuf,
    reader: Reader,
    /// Values of [`PID_NS_SYSCTLS`] as the container's pid namespace
    /// shows them.
    pid_ns_values: Vec<(&'static str, Vec<u8>)>,
}

impl std::fmt::Debug for Sysctl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.reader {
            Reader::Direct => "direct",
            Reader::Thread(_) => "thread",
        };
        write!(f, "Sysctl({}, {how})", self.root.display())
    }
}

/// Why the sysctl thread could not start.
#[derive(Debug, thiserror::Error)]
pub enum SysctlError {
    #[error("open the container's {ns} namespace ({path}): {source}")]
    OpenNs {
        ns: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("join the container's {ns} namespace: {source}")]
    Join { ns: &'static str, source: Errno },
    #[error("drop the sysctl thread's capabilities: {0}")]
    Caps(String),
    #[error("the sysctl thread did not start")]
    Start,
    #[error("read {name} in the container's pid namespace: {source}")]
    PidNs { name: &'static str, source: Errno },
}

impl Sysctl {
    /// Lookups on the calling thread, in its own namespaces.
    pub fn direct(host_proc: PathBuf) -> Self {
        Self {
            root: host_proc.join("sys"),
            reader: Reader::Direct,
            pid_ns_values: Vec::new(),
        }
    }

    /// Starts the thread that joins the namespaces of host task `init`.
    /// Call before the sentry confines itself: joining needs
    /// CAP_SYS_ADMIN; the thread then drops every capability of its own
    /// and becomes the sandbox's `owner` uid when there is one (the
    /// sentry's other threads do too; credentials are per thread).
    /// `pid_ns_values` come from [`pid_namespace_values`].
    pub fn in_namespaces_of(
        host_proc: PathBuf,
        init: i32,
        pid_ns_values: PidNsValues,
        owner: Option<u32>,
    ) -> Result<Self, SysctlError> {
        use nix::sched::{setns, CloneFlags};
        let mut joins = Vec::new();
        for (ns, flag) in [
            ("net", CloneFlags::CLONE_NEWNET),
            ("ipc", CloneFlags::CLONE_NEWIPC),
            ("uts", CloneFlags::CLONE_NEWUTS),
        ] {
            let path = host_proc.join(format!("{init}/ns/{ns}"));
            let f = File::open(&path).map_err(|source| SysctlError::OpenNs {
                ns,
                path: path.display().to_string(),
                source,
            })?;
            joins.push((ns, flag, f));
        }
        let root = host_proc.join("sys");
        let (tx, rx) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), SysctlError>>(1);
        let thread_root = root.clone();
        std::thread::Builder::new()
            .name("sysctl".into())
            .spawn(move || {
                let joined = joins.iter().try_for_each(|(ns, flag, f)| {
                    setns(f, *flag).map_err(|source| SysctlError::Join { ns, source })
                });
                let ready = joined.and_then(|()| {
                    match owner {
                        Some(uid) => crate::confine::become_owner(uid, &[]),
                        None => crate::confine::keep_only_caps(&[]),
                    }
                    .map_err(|e| SysctlError::Caps(e.to_string()))
                });
                drop(joins);
                let ok = ready.is_ok();
                let _ = ready_tx.send(ready);
                if !ok {
                    return;
                }
                for req in rx {
                    let _ = req.reply.send(run(&thread_root, &req.op, &req.rel));
                }
            })
            .map_err(|_| SysctlError::Start)?;
        ready_rx.recv().map_err(|_| SysctlError::Start)??;
        Ok(Self {
            root,
            reader: Reader::Thread(Mutex::new(tx)),
            pid_ns_values: pid_ns_values.0,
        })
    }

    fn ask(&self, op: Op, rel: &str) -> Result<Answer, Errno> {
        check_rel(rel)?;
        match &self.reader {
            Reader::Direct => run(&self.root, &op, rel),
            Reader::Thread(tx) => {
                let (reply, answer) = mpsc::sync_channel(1);
                let req = Request {
                    op,
                    rel: rel.to_owned(),
                    reply,
                };
                tx.lock()
                    .map_err(|_| Errno::EIO)?
                    .send(req)
                    .map_err(|_| Errno::EIO)?;
                answer.recv().map_err(|_| Errno::EIO)?
            }
        }
    }

    /// The node at `rel` below /proc/sys ("" is /proc/sys itself).
    pub fn stat(&self, rel: &str) -> Result<SysAttr, Errno> {
        match self.ask(Op::Stat, rel)? {
            Answer::Stat(a) => Ok(a),
            _ => Err(Errno::EIO),
        }
    }

    /// The entries of directory `rel` (without "." and "..").
    pub fn list(&self, rel: &str) -> Result<Vec<(String, EntryKind)>, Errno> {
        match self.ask(Op::List, rel)? {
            Answer::List(l) => Ok(l),
            _ => Err(Errno::EIO),
        }
    }

    /// The contents of file `rel`, as a read of it gives them now.
    pub fn read(&self, rel: &str) -> Result<Vec<u8>, Errno> {
        if let Some((_, v)) = self.pid_ns_values.iter().find(|(n, _)| *n == rel) {
            return Ok(v.clone());
        }
        match self.ask(Op::Read, rel)? {
            Answer::Read(b) => Ok(b),
            _ => Err(Errno::EIO),
        }
    }
}

/// `rel` must be plain names: the resolver hands over normalised paths,
/// and nothing may climb out of /proc/sys.
fn check_rel(rel: &str) -> Result<(), Errno> {
    if rel.is_empty() {
        return Ok(());
    }
    let plain = rel
        .split('/')
        .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'));
    if !plain
        || HIDDEN
            .iter()
            .any(|h| rel == *h || rel.starts_with(&format!("{h}/")))
    {
        return Err(Errno::ENOENT);
    }
    Ok(())
}

fn run(root: &std::path::Path, op: &Op, rel: &str) -> Result<Answer, Errno> {
    let path = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    match op {
        Op::Stat => {
            let md = std::fs::symlink_metadata(&path).map_err(|e| errno_of(&e))?;
            let ft = md.file_type();
            if !(ft.is_dir() || ft.is_file()) {
                return Err(Errno::ENOENT);
            }
            Ok(Answer::Stat(SysAttr {
                dir: ft.is_dir(),
                mode: md.mode() & 0o7777,
                uid: md.uid(),
                gid: md.gid(),
            }))
        }
        Op::List => {
            let mut out = Vec::new();
            for entry in std::fs::read_dir(&path).map_err(|e| errno_of(&e))? {
                let entry = entry.map_err(|e| errno_of(&e))?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let child = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                if check_rel(&child).is_err() {
                    continue;
                }
                let Ok(ft) = entry.file_type() else { continue };
                if ft.is_dir() {
                    out.push((name, EntryKind::Dir));
                } else if ft.is_file() {
                    out.push((name, EntryKind::File));
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(Answer::List(out))
        }
        Op::Read => {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
                .open(&path)
                .map_err(|e| errno_of(&e))?;
            if f.metadata().map_err(|e| errno_of(&e))?.is_dir() {
                return Err(Errno::EISDIR);
            }
            let mut buf = Vec::new();
            f.take(READ_LIMIT)
                .read_to_end(&mut buf)
                .map_err(|e| errno_of(&e))?;
            Ok(Answer::Read(buf))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_climb_or_hide_are_not_found() {
        let s = Sysctl::direct("/proc".into());
        for rel in [
            "..",
            "kernel/../..",
            "kernel//ostype",
            "./kernel",
            "fs/binfmt_misc",
        ] {
            assert_eq!(s.stat(rel), Err(Errno::ENOENT), "{rel}");
        }
    }

    #[test]
    fn reads_lists_and_stats_the_host_tree() {
        let s = Sysctl::direct("/proc".into());
        let root = s.stat("").expect("/proc/sys");
        assert!(root.dir);
        let kernel = s.list("kernel").expect("kernel/");
        assert!(kernel.contains(&("ostype".to_string(), EntryKind::File)));
        assert_eq!(s.read("kernel/ostype").expect("ostype"), b"Linux\n");
        let a = s.stat("kernel/ostype").expect("stat");
        assert!(!a.dir);
        assert_eq!(a.mode, 0o444);
        assert!(!s
            .list("fs")
            .expect("fs/")
            .iter()
            .any(|(n, _)| n == "binfmt_misc"));
    }

    #[test]
    fn the_thread_sees_the_namespaces_it_joined() {
        // Our own namespaces (joining needs CAP_SYS_ADMIN: the tests run
        // as root): the thread starts, answers, and agrees with a direct
        // read.
        let me = std::process::id() as i32;
        let values = pid_namespace_values(std::path::Path::new("/proc"), me).expect("pid_max");
        let s = Sysctl::in_namespaces_of("/proc".into(), me, values, None).expect("thread");
        let d = Sysctl::direct("/proc".into());
        assert_eq!(
            s.read("kernel/hostname").expect("thread read"),
            d.read("kernel/hostname").expect("direct read")
        );
        assert_eq!(s.read("kernel"), Err(Errno::EISDIR));
        // Read by a process forked into our own pid namespace: the same.
        assert_eq!(
            s.read("kernel/pid_max").expect("pid_max"),
            d.read("kernel/pid_max").expect("direct pid_max")
        );
        assert_eq!(s.stat("no/such"), Err(Errno::ENOENT));
    }
}
