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

use std::ffi::CStr;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};
use nix::unistd::{fork, ForkResult};

use super::sys;

// uapi/linux/mount.h (libc does not export these for glibc targets).
const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const MOUNT_ATTR_NOSUID: libc::c_uint = 0x2;
const MOUNT_ATTR_NODEV: libc::c_uint = 0x4;
const MOUNT_ATTR_NOEXEC: libc::c_uint = 0x8;

/// The fd a successful fs syscall returned.
fn fd_result(r: libc::c_long) -> Result<OwnedFd, Errno> {
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this new fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

fn fsconfig(
    fs: &OwnedFd,
    cmd: libc::c_uint,
    key: Option<&CStr>,
    value: Option<&CStr>,
) -> Result<(), Errno> {
    let ptr = |s: Option<&CStr>| s.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: `fs` is a live fs context fd; key and value are NUL-terminated
    // strings (or NULL, which FSCONFIG_CMD_CREATE requires) that the kernel
    // only reads during the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            cmd,
            ptr(key),
            ptr(value),
            0,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// A detached nosuid,nodev,noexec `proc` mount with `subset=pid` of the
/// caller's pid namespace.
pub(crate) fn make_mount() -> Result<OwnedFd, String> {
    // SAFETY: "proc" is NUL-terminated; fsopen returns a new fd or -1.
    let fs =
        fd_result(unsafe { libc::syscall(libc::SYS_fsopen, c"proc".as_ptr(), FSOPEN_CLOEXEC) })
            .map_err(|e| format!("fsopen proc: {e}"))?;
    fsconfig(&fs, FSCONFIG_SET_STRING, Some(c"subset"), Some(c"pid"))
        .map_err(|e| format!("fsconfig subset=pid: {e}"))?;
    fsconfig(&fs, FSCONFIG_CMD_CREATE, None, None).map_err(|e| format!("fsconfig create: {e}"))?;
    // SAFETY: `fs` is a live, created fs context fd; fsmount returns a new
    // fd or -1.
    fd_result(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            FSMOUNT_CLOEXEC,
            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
        )
    })
    .map_err(|e| format!("fsmount: {e}"))
}

/// The procfs mount of init's pid namespace (see the module comment), or
/// `None` when the container shares the gofer's pid namespace: a procfs
/// of that one would show every host process, so those writes keep
/// failing (EACCES) there. Must run while the caller is single-threaded.
pub fn container_proc_mount(init_pid: i32) -> Result<Option<OwnedFd>, String> {
    let pidns = File::open(format!("/proc/{init_pid}/ns/pid"))
        .map_err(|e| format!("open init's pid namespace: {e}"))?;
    let own =
        File::open("/proc/self/ns/pid").map_err(|e| format!("open our pid namespace: {e}"))?;
    let (theirs, ours) = (
        pidns
            .metadata()
            .map_err(|e| format!("stat init's pid namespace: {e}"))?,
        own.metadata()
            .map_err(|e| format!("stat our pid namespace: {e}"))?,
    );
    if (theirs.dev(), theirs.ino()) == (ours.dev(), ours.ino()) {
        return Ok(None);
    }
    let (parent_sock, child_sock) =
        crate::sandbox::sync::seqpacket_pair().map_err(|e| format!("socketpair: {e}"))?;
    // Our children are born in the container's pid namespace; we stay out.
    setns(&pidns, CloneFlags::CLONE_NEWPID)
        .map_err(|e| format!("join the container's pid namespace: {e}"))?;
    // SAFETY: the gofer is single-threaded here (`boot::run` calls this
    // before its setns into the mount namespace, which needs that too),
    // so the child may run ordinary Rust.
    let forked = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(parent_sock);
            let sent = match make_mount() {
                Ok(mnt) => sys::send_packet(child_sock.as_fd(), b"m", Some(mnt.as_fd())),
                Err(msg) => sys::send_packet(child_sock.as_fd(), msg.as_bytes(), None),
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
    let child = forked.map_err(|e| format!("fork into the container's pid namespace: {e}"))?;
    drop(child_sock);
    let mut buf = vec![0u8; 4096];
    let received = sys::recv_packet(parent_sock.as_fd(), &mut buf);
    let _ = nix::sys::wait::waitpid(child, None);
    back.map_err(|e| format!("return to our pid namespace: {e}"))?;
    let pkt = received.map_err(|e| format!("receive the proc mount: {e}"))?;
    match pkt.fds.into_iter().next() {
        Some(mnt) => Ok(Some(mnt)),
        None if pkt.len == 0 => Err("the proc mount helper exited without an answer".into()),
        None => Err(format!(
            "in the container's pid namespace: {}",
            String::from_utf8_lossy(&buf[..pkt.len.min(buf.len())])
        )),
    }
}
