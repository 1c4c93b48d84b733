//! `runrs gofer`: the gofer process's entry point (the sentry's is
//! `sentry::boot`). `runrs create` starts it with the state dir; it reads
//! the sandbox description there (`crate::sandbox`) and its channels at
//! fds 3.. .

use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::sandbox;

/// `runrs gofer`: joins the container's mount namespace (init's, after its
/// pivot_root), so that "/" is the container's root and nothing of the
/// host is in view, and serves the sentry's channels (fds 3..). When the
/// sentry hangs up, the workload is killed: it must never run on without
/// its sentry.
pub fn main(state_dir: &Path) -> i32 {
    match run(state_dir) {
        Ok(()) => 0,
        Err(e) => {
            crate::log::error(&format!("gofer: {e}"));
            1
        }
    }
}

/// What stopped the gofer, by step.
#[derive(Debug, thiserror::Error)]
pub enum GoferBootError {
    #[error("read sandbox.json: {0}")]
    ReadSandbox(#[source] std::io::Error),
    #[error("parse sandbox.json: {0}")]
    ParseSandbox(#[source] serde_json::Error),
    #[error("pidfd of init: {0}")]
    InitPidfd(#[source] nix::errno::Errno),
    #[error("the fds create passed: {0}")]
    RoleFds(#[source] nix::errno::Errno),
    #[error("open init's mount namespace: {0}")]
    OpenMountNs(#[source] std::io::Error),
    #[error("join the container's mount namespace: {0}")]
    JoinMountNs(#[source] nix::errno::Errno),
    #[error("chdir /: {0}")]
    Chdir(#[source] nix::errno::Errno),
    #[error("map the gofer lanes: {0}")]
    Lanes(#[source] nix::errno::Errno),
    #[error("open the container root: {0}")]
    OpenRoot(#[source] std::io::Error),
    #[error("confine: {0}")]
    Confine(#[source] crate::confine::ConfineError),
    #[error(transparent)]
    Serve(super::GoferError),
}

fn run(state_dir: &Path) -> Result<(), GoferBootError> {
    let data = std::fs::read(state_dir.join(sandbox::SANDBOX_FILE))
        .map_err(GoferBootError::ReadSandbox)?;
    let info: sandbox::SandboxInfo =
        serde_json::from_slice(&data).map_err(GoferBootError::ParseSandbox)?;
    // create passed the channels at fds 3...
    super::sys::set_polling(info.poll_channels);
    let mut channels: Vec<OwnedFd> =
        sandbox::sys::take_role_fds(info.gofer_channels + usize::from(info.gofer_lanes))
            .map_err(GoferBootError::RoleFds)?;
    let lanes =
        super::lane::take_after_channels(&mut channels, info.gofer_lanes, info.gofer_channels)
            .map_err(GoferBootError::Lanes)?;
    let init_pidfd = sandbox::sys::pidfd_open(info.init_pid).map_err(GoferBootError::InitPidfd)?;
    // Made now, with every capability and one thread; without it (the
    // host's pid namespace, or a kernel refusing) the workload's writes to
    // its comm and oom_score_adj fail with EACCES, as before.
    let proc_mount = match super::procmount::container_proc_mount(info.init_pid) {
        Ok(m) => m.map(std::sync::Arc::new),
        Err(e) => {
            crate::log::warn(&format!(
                "gofer: no procfs for /proc/<pid>/comm writes: {e}"
            ));
            None
        }
    };
    let mntns = std::fs::File::open(format!("/proc/{}/ns/mnt", info.init_pid))
        .map_err(GoferBootError::OpenMountNs)?;
    nix::sched::setns(&mntns, nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(GoferBootError::JoinMountNs)?;
    drop(mntns);
    nix::unistd::chdir("/").map_err(GoferBootError::Chdir)?;
    let root: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open("/")
        .map_err(GoferBootError::OpenRoot)?
        .into();
    let config = super::GoferConfig {
        synthetic_mounts: sandbox::SYNTHETIC_MOUNTS
            .iter()
            .map(|m| m.mount_point().to_string())
            .collect(),
        served_inside_synthetic: info.gofer_subtrees.clone(),
        proc_mount,
        owner: info.owner_uid,
        lanes,
    };
    super::confine::confine_gofer(&init_pidfd, info.owner_uid).map_err(GoferBootError::Confine)?;
    let result = super::serve(root, channels, config).map_err(GoferBootError::Serve);
    sandbox::sys::kill_pidfd(&init_pidfd);
    result
}
