//! The seccomp user-notification platform: the workload's filter returns
//! SECCOMP_RET_USER_NOTIF for the emulated set; sentry threads block in
//! SECCOMP_IOCTL_NOTIF_RECV on the shared listener and answer with
//! NOTIF_SEND, or NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND so that an fd and
//! the syscall's return are one atomic step.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::{Platform, PlatformError, Response, SyscallRequest};
use crate::sentry::filter::SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
use crate::sentry::sys;

pub struct SeccompNotify {
    listener: OwnedFd,
    /// How long after receiving a notification its tid certainly still
    /// names the caller (zero: always ask the kernel), see `known_live`
    /// and `hostproc::tid_reuse_guard`.
    reuse_guard: Duration,
}

impl SeccompNotify {
    /// Takes the listener and asks the kernel to wake the sentry on the
    /// workload's CPU (a cross-core wake-up costs 20x the syscall).
    pub fn new(listener: OwnedFd) -> Result<SeccompNotify, PlatformError> {
        let flags: u64 = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
        sys::notif_set_flags(listener.as_fd(), flags).map_err(PlatformError::SetFlags)?;
        Ok(SeccompNotify {
            listener,
            reuse_guard: crate::sentry::fs::hostproc::tid_reuse_guard(),
        })
    }

    /// Whether `req`'s tid still names its caller: received so recently
    /// that the tid cannot have been reused, else the kernel's ID_VALID
    /// (which costs a syscall on every memory access of every emulated
    /// syscall). A caller that died within the window makes the access
    /// fail with ESRCH; one interrupted by a signal gets no answer anyway.
    fn known_live(&self, req: &SyscallRequest) -> bool {
        req.received.elapsed() < self.reuse_guard || self.id_valid(req.id)
    }

    pub fn listener(&self) -> &OwnedFd {
        &self.listener
    }

    /// Whether the notification is still pending: its task has not died or
    /// been interrupted since we received it.
    fn id_valid(&self, id: u64) -> bool {
        sys::notif_id_valid(self.listener.as_fd(), id)
    }

    fn send(&self, resp: &mut libc::seccomp_notif_resp) -> Result<(), PlatformError> {
        match sys::notif_send(self.listener.as_fd(), resp) {
            Ok(()) => Ok(()),
            // The task died or was interrupted by a signal: nobody waits for
            // this answer any more.
            Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(PlatformError::Send(e)),
        }
    }

    /// Installs `fd` in the caller and answers its syscall with the
    /// number, in one step.
    fn addfd_and_send(
        &self,
        req: &SyscallRequest,
        fd: &OwnedFd,
        cloexec: bool,
    ) -> Result<i32, Errno> {
        let addfd = libc::seccomp_notif_addfd {
            id: req.id,
            flags: libc::SECCOMP_ADDFD_FLAG_SEND as u32,
            srcfd: fd.as_raw_fd() as u32,
            newfd: 0,
            newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
        };
        // srcfd is `fd`, borrowed (so open) for the call.
        sys::notif_addfd(self.listener.as_fd(), &addfd)
    }
}

impl Platform for SeccompNotify {
    fn wait(&self) -> Result<Option<SyscallRequest>, PlatformError> {
        let notif = match sys::notif_recv(self.listener.as_fd()) {
            Ok(n) => n,
            // EINTR: a signal; ENOENT: the notification went away (its
            // task died) between the wake-up and our receive.
            Err(Errno::EINTR | Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(PlatformError::Recv(e)),
        };
        Ok(Some(SyscallRequest {
            id: notif.id,
            tid: notif.pid as i32,
            nr: notif.data.nr as u32,
            args: notif.data.args,
            received: Instant::now(),
        }))
    }

    fn hung_up(&self) -> bool {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let mut fds = [PollFd::new(self.listener.as_fd(), PollFlags::empty())];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
            && fds[0]
                .revents()
                .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR))
    }

    fn read_memory(&self, req: &SyscallRequest, addr: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        let local = [std::io::IoSliceMut::new(buf)];
        let remote = [nix::sys::uio::RemoteIoVec {
            base: addr as usize,
            len: local[0].len(),
        }];
        let mut local = local;
        let n = match nix::sys::uio::process_vm_readv(
            nix::unistd::Pid::from_raw(req.tid),
            &mut local,
            &remote,
        ) {
            Ok(n) => n,
            Err(Errno::EFAULT) => 0,
            Err(Errno::ESRCH) => return Err(Errno::ESRCH),
            Err(e) => return Err(e),
        };
        // The tid may have died and been reused between RECV and the read:
        // only trust the bytes if it still names the caller after it.
        if !self.known_live(req) {
            return Err(Errno::ESRCH);
        }
        Ok(n)
    }

    fn write_memory(&self, req: &SyscallRequest, addr: u64, data: &[u8]) -> Result<(), Errno> {
        if data.is_empty() {
            return Ok(());
        }
        if !self.known_live(req) {
            return Err(Errno::ESRCH);
        }
        let local = [std::io::IoSlice::new(data)];
        let remote = [nix::sys::uio::RemoteIoVec {
            base: addr as usize,
            len: data.len(),
        }];
        match nix::sys::uio::process_vm_writev(nix::unistd::Pid::from_raw(req.tid), &local, &remote)
        {
            Ok(n) if n == data.len() => Ok(()),
            Ok(_) | Err(Errno::EFAULT) => Err(Errno::EFAULT),
            Err(e) => Err(e),
        }
    }

    fn respond(&self, req: &SyscallRequest, resp: Response) -> Result<i64, PlatformError> {
        let mut r = libc::seccomp_notif_resp {
            id: req.id,
            val: 0,
            error: 0,
            flags: 0,
        };
        match resp {
            Response::Value(v) => r.val = v,
            Response::Errno(e) => r.error = -(e as i32),
            Response::Continue => r.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
            Response::InstallFd { fd, cloexec } => {
                return match self.addfd_and_send(req, &fd, cloexec) {
                    Ok(n) => Ok(n as i64),
                    Err(Errno::ENOENT) => Ok(-1),
                    // EMFILE and friends are the caller's errors to see.
                    Err(e) => {
                        r.error = -(e as i32);
                        self.send(&mut r)?;
                        Ok(-1)
                    }
                };
            }
        }
        self.send(&mut r)?;
        Ok(r.val)
    }
}
