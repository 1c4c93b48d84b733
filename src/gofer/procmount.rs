//! The gofer's procfs of the container's pid namespace, where it opens the
//! per-task files the workload may write (`comm`, `oom_score_adj`; see
//! `proto::OpenProcFileReq`).
//!
//! Linux applies those writes' rules to the *writing* task (comm: only its
//! own thread group; oom_score_adj: CAP_SYS_RESOURCE to go below the
//! minimum), so the workload must write through a real fd of the real file;
//! and nobody in the sandbox holds a writable host /proc (root with one
//! could write /proc/sys). The gofer therefore makes, once at start while
//! it still has every capability and one thread, a detached procfs mount
//! with `subset=pid`: only pid directories (no /proc/sys, no host-wide
//! files), and only those of the container's pid namespace (a procfs shows
//! the pid namespace of the task that creates it, so a child forked into
//! that namespace creates it).

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};
use nix::unistd::{fork, ForkResult};

use super::sys;

/// What failed in making the gofer's procfs mount, and where.
#[derive(Debug, thiserror::Error)]
pub enum ProcMountError {
    #[error("fsopen proc: {0}")]
    Fsopen(#[source] Errno),
    #[error("fsconfig subset=pid: {0}")]
    Subset(#[source] Errno),
    #[error("fsconfig create: {0}")]
    Create(#[source] Errno),
    #[error("fsmount: {0}")]
    Fsmount(#[source] Errno),
    #[error("open {which} pid namespace: {source}")]
    OpenPidNs {
        which: &'static str,
        source: std::io::Error,
    },
    #[error("socketpair: {0}")]
    Socketpair(#[source] Errno),
    #[error("join the container's pid namespace: {0}")]
    JoinPidNs(#[source] Errno),
    #[error("fork into the container's pid namespace: {0}")]
    Fork(#[source] Errno),
    #[error("return to our pid namespace: {0}")]
    ReturnPidNs(#[source] Errno),
    #[error("receive the proc mount: {0}")]
    Receive(#[source] Errno),
    #[error("the proc mount helper exited without an answer")]
    NoAnswer,
    #[error("in the container's pid namespace: {0}")]
    InContainer(String),
}

/// A detached nosuid,nodev,noexec `proc` mount with `subset=pid` of the
/// caller's pid namespace.
pub(crate) fn make_mount() -> Result<OwnedFd, ProcMountError> {
    let fs = sys::fsopen_proc().map_err(ProcMountError::Fsopen)?;
    sys::fsconfig(&fs, sys::FSCONFIG_SET_STRING, Some(c"subset"), Some(c"pid"))
        .map_err(ProcMountError::Subset)?;
    sys::fsconfig(&fs, sys::FSCONFIG_CMD_CREATE, None, None).map_err(ProcMountError::Create)?;
    sys::fsmount_noexec(&fs).map_err(ProcMountError::Fsmount)
}

/// The procfs mount of init's pid namespace (see the module comment), or
/// `None` when the container shares the gofer's pid namespace: a procfs
/// of that one would show every host process, so those writes keep
/// failing (EACCES) there. Must run while the caller is single-threaded.
pub fn container_proc_mount(init_pid: i32) -> Result<Option<OwnedFd>, ProcMountError> {
    let open_ns = |which: &'static str, path: String| {
        File::open(path).map_err(|source| ProcMountError::OpenPidNs { which, source })
    };
    let pidns = open_ns("init's", format!("/proc/{init_pid}/ns/pid"))?;
    let own = open_ns("our", "/proc/self/ns/pid".into())?;
    let stat_ns = |which: &'static str, f: &File| {
        f.metadata()
            .map_err(|source| ProcMountError::OpenPidNs { which, source })
    };
    let (theirs, ours) = (stat_ns("init's", &pidns)?, stat_ns("our", &own)?);
    if (theirs.dev(), theirs.ino()) == (ours.dev(), ours.ino()) {
        return Ok(None);
    }
    let (parent_sock, child_sock) =
        crate::sandbox::sync::seqpacket_pair().map_err(ProcMountError::Socketpair)?;
    // Our children are born in the container's pid namespace; we stay out.
    setns(&pidns, CloneFlags::CLONE_NEWPID).map_err(ProcMountError::JoinPidNs)?;
    // SAFETY: the gofer is single-threaded here (`boot::run` calls this
    // before its setns into the mount namespace, which needs that too),
    // so the child may run ordinary Rust.
    let forked = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(parent_sock);
            let sent = match make_mount() {
                Ok(mnt) => sys::send_packet(child_sock.as_fd(), b"m", Some(mnt.as_fd())),
                Err(e) => sys::send_packet(child_sock.as_fd(), e.to_string().as_bytes(), None),
            };
            // SAFETY: _exit ends this forked child without running the
            // parent's exit handlers or flushing its buffers a second time.
            unsafe { libc::_exit(i32::from(sent.is_err())) }
        }
        Ok(ForkResult::Parent { child }) => Ok(child),
        Err(e) => Err(e),
    };
    // Back first, whatever happened: the gofer's threads cannot be created
    // while its children's pid namespace differs from its own.
    let back = setns(&own, CloneFlags::CLONE_NEWPID);
    let child = forked.map_err(ProcMountError::Fork)?;
    drop(child_sock);
    let mut buf = vec![0u8; 4096];
    let received = sys::recv_packet(parent_sock.as_fd(), &mut buf);
    let _ = nix::sys::wait::waitpid(child, None);
    back.map_err(ProcMountError::ReturnPidNs)?;
    let pkt = received.map_err(ProcMountError::Receive)?;
    match pkt.fds.into_iter().next() {
        Some(mnt) => Ok(Some(mnt)),
        None if pkt.len == 0 => Err(ProcMountError::NoAnswer),
        None => Err(ProcMountError::InContainer(
            String::from_utf8_lossy(&buf[..pkt.len.min(buf.len())]).into_owned(),
        )),
    }
}
