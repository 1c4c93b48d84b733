//! The sentry: the container's kernel for everything that names a file,
//! /proc, /sys or identity. It receives the workload's emulated syscalls
//! from a `Platform`, answers them from its own state or through the gofer,
//! and installs host fds so that I/O on them goes straight to the kernel.

pub mod boot;
pub mod bpf;
pub mod bpfgen;
pub mod confine;
pub mod cred;
pub mod cwd;
pub mod filter;
pub mod fswatch;
pub mod kernel;
pub mod lineage;
pub mod peers;
pub mod fs {
    pub mod hostproc;
    pub mod procfs;
    pub mod procperm;
    pub mod sysctl;
}
pub mod platform;
pub mod sys;
pub mod syscalls;
pub mod sysfs;
pub mod task;
#[cfg(test)]
pub mod testkit;
pub mod vfs;
pub mod warm;
pub mod workers;

/// The dispatch table generated from `syscall-table/x86_64.toml`.
pub mod dispatch {
    include!(concat!(env!("OUT_DIR"), "/dispatch.rs"));
}

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use crate::sandbox::config::ContainerConfig;
use crate::sandbox::SandboxInfo;

/// State shared by all sentry threads.
pub struct Sentry {
    pub cfg: ContainerConfig,
    pub info: SandboxInfo,
    /// The workload's task state (credentials, virtual cwds).
    pub kernel: kernel::Kernel,
    pub procfs: fs::procfs::ProcFs,
    /// An O_PATH fd of an empty read-only directory (the container's /proc
    /// mountpoint): synthetic directories are opened from it, so that the
    /// workload holds a real directory fd (glibc's opendir checks S_ISDIR).
    pub synthetic_dir: OwnedFd,
    /// (st_dev, st_ino) of that directory: how getdents64 recognises it.
    pub synthetic_dir_id: (u64, u64),
    /// Sandbox path of each synthetic directory fd the workload holds,
    /// keyed by (tgid, fd), with the sentry's own duplicate of that open
    /// file (how a dup or an inherited copy is recognised).
    pub synthetic_fds: Mutex<HashMap<(i32, i32), SyntheticDirFd>>,
    pub strace: bool,
    /// Gofer directories already walked (see `dcache`).
    pub dcache: vfs::dcache::DirCache,
    /// Paths of directories too deep for the kernel to name (see
    /// `vfs::longpath`).
    pub long_paths: vfs::longpath::LongPaths,
    /// Writable handles of synthetic files' memfds, for regenerating them.
    pub synthetic_files: syscalls::io::SyntheticFiles,
    /// Who connected the sockets the gofer connected (SO_PEERCRED).
    pub peers: peers::Peers,
    /// Copies of writable files the sentry and the gofer still hold after
    /// installing them (see [`WritableCopies`]).
    pub writable_copies: WritableCopies,
    /// Keeps a second CPU awake while syscalls arrive (see [`warm`]).
    pub warmer: Arc<warm::Warmer>,
}

/// A writable file's copies outside the workload: each counts as a writer,
/// and an execve of that file fails with ETXTBSY while one is open. An fd
/// answer installs the file and wakes the caller in one step (ADDFD with
/// SEND); the sentry closes its copy right after, the gofer right after it
/// sent it. `settle` (before the kernel runs an execve) waits for both.
#[derive(Default)]
pub struct WritableCopies {
    /// Writable fds the sentry is installing or has not closed yet.
    held: std::sync::atomic::AtomicUsize,
    /// Every gofer channel (set once at boot).
    gofers: std::sync::OnceLock<Arc<Vec<crate::gofer::Client>>>,
}

impl WritableCopies {
    pub fn set_gofers(&self, gofers: Arc<Vec<crate::gofer::Client>>) {
        let _ = self.gofers.set(gofers);
    }

    /// Runs `install` (which closes the sentry's copy) counted as held.
    pub fn installing<T>(&self, install: impl FnOnce() -> T) -> T {
        use std::sync::atomic::Ordering;
        self.held.fetch_add(1, Ordering::SeqCst);
        let r = install();
        self.held.fetch_sub(1, Ordering::SeqCst);
        r
    }

    /// Returns once no copy the sentry or the gofer held is open. Each is
    /// closed right after its install or send, whatever the workload does;
    /// the wait for the sentry's own is bounded all the same.
    pub fn settle(&self) -> Result<(), nix::errno::Errno> {
        use std::sync::atomic::Ordering;
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(100);
        while self.held.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        if let Some(gofers) = self.gofers.get() {
            for g in gofers.iter() {
                g.settle()?;
            }
        }
        Ok(())
    }
}

/// A synthetic directory fd of the workload's.
pub struct SyntheticDirFd {
    /// Its canonical sandbox path and the task whose /proc directory it
    /// is in, as at the open.
    pub dir: cwd::VirtualCwd,
    /// The same open file, held by the sentry.
    held: Arc<OwnedFd>,
}

/// Past this many recorded synthetic directory fds, the records of fds
/// that are closed (or no longer that directory) are dropped: nothing
/// tells the sentry when the workload closes one, a monitor listing
/// /proc/<pid> every second must not grow the sentry without end, and
/// each record holds one of the sentry's fds.
const SYNTHETIC_FDS_PRUNE_AT: usize = 256;

impl Sentry {
    /// The sandbox path of the synthetic directory the caller's fd `fd`
    /// (process `tgid`) is, when recorded: at its open, or else the same
    /// open file as a recorded fd of the process or of its parent (fts
    /// keeps dups of its directory fds; a child inherits them).
    pub fn synthetic_dir_path(&self, tgid: i32, fd: i32) -> Option<String> {
        self.synthetic_dir(tgid, fd).map(|d| d.path)
    }

    /// As `synthetic_dir_path`, with the task the directory was opened
    /// for (`VirtualCwd::pin`).
    pub fn synthetic_dir(&self, tgid: i32, fd: i32) -> Option<cwd::VirtualCwd> {
        let mut m = self.synthetic_fds.lock().ok()?;
        if let Some(e) = m.get(&(tgid, fd)) {
            return Some(e.dir.clone());
        }
        // The workload's copy may be the only one left (fts dups a
        // directory fd and closes the original): compare with the
        // sentry's.
        let parent = sys::pidfd_info(tgid).ok().map(|i| i.ppid as i32);
        let own = std::process::id() as i32;
        let (dir, held) = m
            .iter()
            .filter(|((t, _), _)| *t == tgid || Some(*t) == parent)
            .find(|(_, e)| sys::same_open_file(own, e.held.as_raw_fd(), tgid, fd))
            .map(|(_, e)| (e.dir.clone(), Arc::clone(&e.held)))?;
        m.insert(
            (tgid, fd),
            SyntheticDirFd {
                dir: dir.clone(),
                held,
            },
        );
        Some(dir)
    }

    /// Records that the caller's fd `fd` (process `tgid`) is the
    /// synthetic directory at sandbox path `path`.
    pub fn remember_synthetic_dir(&self, tgid: i32, fd: i32, dir: cwd::VirtualCwd, held: OwnedFd) {
        let Ok(mut m) = self.synthetic_fds.lock() else {
            return;
        };
        let held = Arc::new(held);
        m.insert((tgid, fd), SyntheticDirFd { dir, held });
        if m.len() > SYNTHETIC_FDS_PRUNE_AT {
            m.retain(|&(tgid, fd), _| {
                // A negative fd is an install under way (`PendingDir`).
                fd < 0
                    || sys::stat_caller_fd(tgid, fd)
                        .is_ok_and(|st| (st.st_dev, st.st_ino) == self.synthetic_dir_id)
            });
        }
    }

    /// Records, before its install, that process `tgid` is being given
    /// the synthetic directory at `path` (`held`: the sentry's duplicate
    /// of the open file being installed). The install wakes the caller
    /// with its fd at once (ADDFD with SEND: one wake-up, where installing
    /// first and answering after took two), so the caller may list it
    /// before the sentry knows its number: meanwhile `synthetic_dir_path`
    /// finds it by its open file, as it finds a dup. `settle_synthetic_dir`
    /// files it under its number.
    pub fn remember_pending_synthetic_dir(
        &self,
        tgid: i32,
        dir: cwd::VirtualCwd,
        held: OwnedFd,
    ) -> PendingDir {
        static NEXT: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(1);
        // Negative: a key no fd number has.
        let key = -NEXT
            .fetch_update(
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
                |n| Some(if n == i32::MAX { 1 } else { n + 1 }),
            )
            .unwrap_or(1);
        if let Ok(mut m) = self.synthetic_fds.lock() {
            m.insert(
                (tgid, key),
                SyntheticDirFd {
                    dir,
                    held: Arc::new(held),
                },
            );
        }
        PendingDir { tgid, key }
    }

    /// The install of `pending` is over: the caller's fd `fd`, or none
    /// (refused, or the caller went away).
    pub fn settle_synthetic_dir(&self, pending: PendingDir, fd: Option<i32>) {
        let Ok(mut m) = self.synthetic_fds.lock() else {
            return;
        };
        let Some(entry) = m.remove(&(pending.tgid, pending.key)) else {
            return;
        };
        if let Some(fd) = fd.filter(|&fd| fd >= 0) {
            m.insert((pending.tgid, fd), entry);
        }
    }
}

/// A synthetic directory being installed (see
/// `Sentry::remember_pending_synthetic_dir`).
pub struct PendingDir {
    tgid: i32,
    key: i32,
}

#[cfg(test)]
mod tests {
    use super::dispatch;

    /// A synthetic directory's record with no task pinned.
    fn stand_in(path: &str) -> super::cwd::VirtualCwd {
        super::cwd::VirtualCwd {
            path: path.into(),
            pin: None,
        }
    }

    /// A synthetic directory being installed is known by its open file
    /// before the sentry learns its number (the caller may list it at
    /// once), then under its number; a refused install leaves nothing.
    #[test]
    fn a_synthetic_directory_is_known_while_installed() {
        use std::os::fd::{AsFd, AsRawFd};
        let k = crate::sentry::testkit::Kit::new("pending-dir");
        let me = std::process::id() as i32;
        let open_dir = || {
            crate::sentry::sys::openat(
                k.sentry.synthetic_dir.as_fd(),
                c".",
                libc::O_RDONLY | libc::O_DIRECTORY,
            )
            .expect("open the stand-in directory")
        };
        // The workload's copy: here one of our own fds, the same open file.
        let installed = open_dir();
        let n = installed.as_raw_fd();
        let pending = k.sentry.remember_pending_synthetic_dir(
            me,
            stand_in("/proc/1"),
            installed.try_clone().expect("dup"),
        );
        assert_eq!(
            k.sentry.synthetic_dir_path(me, n).as_deref(),
            Some("/proc/1")
        );
        k.sentry.settle_synthetic_dir(pending, Some(n));
        assert_eq!(
            k.sentry.synthetic_dir_path(me, n).as_deref(),
            Some("/proc/1")
        );
        let m = k.sentry.synthetic_fds.lock().expect("lock");
        assert!(
            m.keys().all(|&(_, fd)| fd >= 0),
            "the provisional key is gone"
        );
        drop(m);
        // Another open of the same directory is another open file.
        let other = open_dir();
        let refused = k.sentry.remember_pending_synthetic_dir(
            me,
            stand_in("/proc/2"),
            other.try_clone().expect("dup"),
        );
        k.sentry.settle_synthetic_dir(refused, None);
        assert_eq!(k.sentry.synthetic_dir_path(me, other.as_raw_fd()), None);
    }

    /// A /proc/<pid> stand-in recorded for a process that is gone is not
    /// the directory of a new process with its pid (pid reuse): listing
    /// it fails (ENOENT) and fchdir refuses it (ESRCH), as on Linux; the
    /// same record pinned to a live task is listed and entered.
    #[test]
    fn a_dead_processs_directory_is_not_its_pids_new_process() {
        use crate::sentry::testkit::{continued, errno, value, Kit};
        use nix::errno::Errno;
        use std::os::fd::{AsFd, AsRawFd, OwnedFd};
        let k = Kit::new("dead-dir");
        let me = std::process::id() as i32;
        let record = |pin| -> OwnedFd {
            let fd = crate::sentry::sys::openat(
                k.sentry.synthetic_dir.as_fd(),
                c".",
                libc::O_RDONLY | libc::O_DIRECTORY,
            )
            .expect("open the stand-in directory");
            let dir = super::cwd::VirtualCwd {
                path: format!("/proc/{me}"),
                pin,
            };
            let pending =
                k.sentry
                    .remember_pending_synthetic_dir(me, dir, fd.try_clone().expect("dup"));
            k.sentry.settle_synthetic_dir(pending, Some(fd.as_raw_fd()));
            fd
        };
        let buf = k.platform.buf(4096);
        // The pid is ours, the task it was recorded for (another pidfs
        // inode) is gone.
        let gone = record(Some((me, 1)));
        let n = gone.as_raw_fd() as u64;
        assert_eq!(
            errno(k.call("getdents64", [n, buf, 4096, 0, 0, 0])),
            Errno::ENOENT
        );
        assert_eq!(errno(k.call("fchdir", [n, 0, 0, 0, 0, 0])), Errno::ESRCH);
        let ours = super::lineage::identify(me).expect("our pidfs inode");
        let live = record(Some((me, ours)));
        let n = live.as_raw_fd() as u64;
        assert!(value(k.call("getdents64", [n, buf, 4096, 0, 0, 0])) > 0);
        assert!(continued(&k.call("fchdir", [n, 0, 0, 0, 0, 0])));
    }

    #[test]
    fn dispatch_matches_emulated_rows() {
        for nr in 0..=1024u32 {
            let emulated = crate::table::row(nr).is_some_and(|r| {
                matches!(r.disposition, crate::table::Disposition::Emulated { .. })
                    || r.emulate_if.is_some()
            });
            assert_eq!(
                dispatch::handler(nr).is_some(),
                emulated,
                "dispatch disagrees with the table for nr {nr}"
            );
        }
    }

    /// The table is the only list of handlers: every handler a row names
    /// is `syscalls::<family>::<name>` (its family's file, named after the
    /// syscall), and every function with the handler signature in the
    /// family files is named by a row (no handler the dispatch cannot reach).
    #[test]
    fn handlers_are_exactly_the_tables() {
        use std::collections::BTreeSet;
        let mut named = BTreeSet::new();
        for r in crate::table::SYSCALLS {
            let handler = match (r.disposition, r.emulate_if) {
                (crate::table::Disposition::Emulated { handler }, _) => handler,
                (_, Some(e)) => e.handler,
                _ => continue,
            };
            assert_eq!(
                handler,
                format!("{}::{}", r.family, r.name),
                "{}: the handler lives in its family's file, named after the syscall",
                r.name
            );
            named.insert(handler.to_string());
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sentry/syscalls");
        let mut found = BTreeSet::new();
        for e in std::fs::read_dir(&dir).expect("syscalls dir") {
            let path = e.expect("entry").path();
            let module = path
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            if module == "mod" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            for line in text.lines() {
                let Some(rest) = line.strip_prefix("pub fn ") else {
                    continue;
                };
                if let Some((name, "ctx: &mut Ctx) -> SysResult {")) = rest.split_once('(') {
                    found.insert(format!("{module}::{name}"));
                }
            }
        }
        assert_eq!(
            found, named,
            "handlers in src/sentry/syscalls vs the table's"
        );
    }
}
