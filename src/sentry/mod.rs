//! The sentry: the container's kernel for everything that names a file,
//! /proc, /sys or identity. It receives the workload's emulated syscalls
//! from a `Platform`, answers them from its own state or through the gofer,
//! and installs host fds so that I/O on them goes straight to the kernel.

pub mod boot;
pub mod bpf;
pub mod confine;
pub mod cred;
pub mod dcache;
pub mod filter;
pub mod peers;
pub mod fs {
    pub mod hostproc;
    pub mod procfs;
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
use std::os::fd::OwnedFd;
use std::sync::Mutex;

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
    /// keyed by (tgid, fd).
    pub synthetic_fds: Mutex<HashMap<(i32, i32), String>>,
    pub strace: bool,
    /// Gofer directories already walked (see `dcache`).
    pub dcache: dcache::DirCache,
    /// Who connected the sockets the gofer connected (SO_PEERCRED).
    pub peers: peers::Peers,
}
