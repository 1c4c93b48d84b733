//! The channel between `runrs create` and the container's init: JSON
//! messages over a SOCK_SEQPACKET socketpair, each optionally carrying one fd.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InitMsg {
    /// Mounts are in place (before pivot_root): run prestart/createRuntime hooks.
    NeedHooks,
    /// Sent by create when the hooks succeeded.
    Continue,
    /// The pty master (fd attached) for --console-socket.
    Pty { name: String },
    /// The seccomp listener (fd attached).
    Listener,
    /// ptrace platform, from a process about to install its filter: the
    /// sentry's end of its fd-passing socket is attached; the process
    /// waits for `Continue`, sent once the sentry traces it.
    Tracee,
    /// ptrace platform, to the sentry's control socket: trace `pid` (a
    /// `runrs exec` process, blocked before its filter); the sentry's end
    /// of its fd-passing socket is attached. Answered with `Ready`.
    Attach { pid: i32 },
    /// Init entered its user namespace: create writes its uid_map and
    /// gid_map and answers `Continue`.
    UserNamespace,
    /// Init is blocked waiting for `start`.
    Ready,
    /// Setup failed; init exits after sending this.
    Error { msg: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("send: {0}")]
    Send(nix::Error),
    #[error("receive: {0}")]
    Recv(nix::Error),
    #[error("peer closed the channel")]
    Closed,
    #[error("malformed message: {0}")]
    Decode(String),
}

pub fn send(sock: RawFd, msg: &InitMsg, fd: Option<RawFd>) -> Result<(), SyncError> {
    let data = serde_json::to_vec(msg).map_err(|e| SyncError::Decode(e.to_string()))?;
    let iov = [IoSlice::new(&data)];
    let fds;
    let cmsgs: Vec<ControlMessage> = match fd {
        Some(f) => {
            fds = [f];
            vec![ControlMessage::ScmRights(&fds)]
        }
        None => vec![],
    };
    sendmsg::<()>(sock, &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None).map_err(SyncError::Send)?;
    Ok(())
}

pub fn recv(sock: RawFd) -> Result<(InitMsg, Option<OwnedFd>), SyncError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let (len, fd) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = loop {
            match recvmsg::<()>(sock, &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC) {
                Err(nix::Error::EINTR) => continue,
                other => break other.map_err(SyncError::Recv)?,
            }
        };
        let mut fd = None;
        for c in msg.cmsgs().map_err(SyncError::Recv)? {
            if let ControlMessageOwned::ScmRights(fds) = c {
                for f in fds {
                    // SAFETY: the kernel just installed `f` in our table for
                    // this message; we are its only owner.
                    let owned = unsafe { OwnedFd::from_raw_fd(f) };
                    if fd.is_none() {
                        fd = Some(owned);
                    }
                }
            }
        }
        (msg.bytes, fd)
    };
    if len == 0 {
        return Err(SyncError::Closed);
    }
    let msg = serde_json::from_slice(&buf[..len]).map_err(|e| SyncError::Decode(e.to_string()))?;
    Ok((msg, fd))
}

/// A SEQPACKET socketpair with both ends close-on-exec.
pub fn seqpacket_pair() -> nix::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn messages_and_fds_round_trip() {
        let (a, b) = seqpacket_pair().expect("pair");
        let file = std::fs::File::open("/dev/null").expect("open");
        send(a.as_raw_fd(), &InitMsg::Listener, Some(file.as_raw_fd())).expect("send");
        let (msg, fd) = recv(b.as_raw_fd()).expect("recv");
        assert_eq!(msg, InitMsg::Listener);
        assert!(fd.is_some());
        send(a.as_raw_fd(), &InitMsg::Error { msg: "x".into() }, None).expect("send");
        assert_eq!(
            recv(b.as_raw_fd()).expect("recv").0,
            InitMsg::Error { msg: "x".into() }
        );
        drop(a);
        assert!(matches!(recv(b.as_raw_fd()), Err(SyncError::Closed)));
    }
}
