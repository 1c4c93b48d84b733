//! The sentry: the container's kernel for everything that names a file,
//! /proc, /sys or identity. It receives the workload's emulated syscalls
//! from a `Platform`, answers them from its own state or through the gofer,
//! and installs host fds so that I/O on them goes straight to the kernel.

pub mod boot;
pub mod bpf;
pub mod confine;
pub mod cred;
pub mod cwd;
pub mod dcache;
pub mod filter;
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
pub mod vfs;
pub mod workers;

/// The dispatch table generated from `syscall-table/x86_64.toml`.
pub mod dispatch {
    include!(concat!(env!("OUT_DIR"), "/dispatch.rs"));
}

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use crate::runsc::container::SandboxInfo;
use crate::runsc::spec::ContainerConfig;

/// State shared by all sentry threads.
pub struct Sentry {
    pub cfg: ContainerConfig,
    pub info: SandboxInfo,
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
    pub dcache: dcache::DirCache,
    /// Writable handles of synthetic files' memfds, for regenerating them.
    pub synthetic_files: syscalls::io::SyntheticFiles,
    /// Who connected the sockets the gofer connected (SO_PEERCRED).
    pub peers: peers::Peers,
}

/// A synthetic directory fd of the workload's.
pub struct SyntheticDirFd {
    pub path: String,
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
        let mut m = self.synthetic_fds.lock().ok()?;
        if let Some(e) = m.get(&(tgid, fd)) {
            return Some(e.path.clone());
        }
        // The workload's copy may be the only one left (fts dups a
        // directory fd and closes the original): compare with the
        // sentry's.
        let parent = sys::pidfd_info(tgid).ok().map(|i| i.ppid as i32);
        let own = std::process::id() as i32;
        let (path, held) = m
            .iter()
            .filter(|((t, _), _)| *t == tgid || Some(*t) == parent)
            .find(|(_, e)| sys::same_open_file(own, e.held.as_raw_fd(), tgid, fd))
            .map(|(_, e)| (e.path.clone(), Arc::clone(&e.held)))?;
        m.insert(
            (tgid, fd),
            SyntheticDirFd {
                path: path.clone(),
                held,
            },
        );
        Some(path)
    }

    /// Records that the caller's fd `fd` (process `tgid`) is the
    /// synthetic directory at sandbox path `path`.
    pub fn remember_synthetic_dir(&self, tgid: i32, fd: i32, path: String, held: OwnedFd) {
        let Ok(mut m) = self.synthetic_fds.lock() else {
            return;
        };
        let held = Arc::new(held);
        m.insert((tgid, fd), SyntheticDirFd { path, held });
        if m.len() > SYNTHETIC_FDS_PRUNE_AT {
            m.retain(|&(tgid, fd), _| {
                sys::stat_caller_fd(tgid, fd)
                    .is_ok_and(|st| (st.st_dev, st.st_ino) == self.synthetic_dir_id)
            });
        }
    }
}
