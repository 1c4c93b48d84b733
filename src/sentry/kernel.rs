//! The sentry's record of the workload's tasks: what the host kernel does
//! not hold for it, or what the sentry caches of what it does. Each task's
//! credentials as last read from the kernel (`cred::Table`, dropped when a
//! task may change them) and each process's virtual working directory
//! (`cwd::Table`, passed on along the process lineage). The syscall
//! handlers keep it; `fs::procfs` only renders it (/proc/<pid>/status,
//! /proc/<pid>/cwd), through shared handles.

use std::sync::Arc;

use super::fs::hostproc::HostProc;
use super::{cred, cwd};

/// The sandbox's task state (one per sentry, shared by its threads).
#[derive(Debug, Clone)]
pub struct Kernel {
    /// Every task's credentials, read from the kernel.
    pub creds: Arc<cred::Table>,
    /// Every process's virtual working directory (when it is a synthetic
    /// directory the kernel cannot hold).
    pub cwds: Arc<cwd::Table>,
}

impl Kernel {
    /// Reads tasks through `host` (the host's /proc, or a fixture tree).
    pub fn new(host: &HostProc) -> Kernel {
        Kernel {
            creds: Arc::new(cred::Table::new(host.root().to_path_buf())),
            cwds: Arc::new(cwd::Table::new(host.clone())),
        }
    }
}
