//! Sentry side of a gofer channel: one blocking method per request.
//!
//! Paths are absolute sandbox paths as the workload gave them (any bytes
//! except NUL). `symlinks` is the symlink budget already used (so ELOOP counts
//! across redirects); a [`Redirect`](super::Redirect) carries the new total.
//! Transport failures map to errnos: hang-up → ECONNRESET, malformed or
//! unexpected reply → EIO.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Mutex;

use nix::errno::Errno;

use super::lane::{self, Lane};
pub use super::proto::XattrOp;
use super::proto::{
    AccessReq, ChmodReq, ChownReq, Creds, Follow, InotifyReq, LinkFdReq, LinkReq, MkdirReq,
    MknodReq, OpenProcFileReq, OpenReq, ProcFile, RenameReq, Request, Response, SocketReq,
    SymlinkReq, Timespec, TruncateReq, UnlinkReq, UtimensReq, WalkReq, Walked, LONG_PATH_MAX,
    MAX_MESSAGE_SIZE,
};
use super::proto::{Blob, XattrReq, XATTR_DATA_MAX, XATTR_NAME_MAX};
use super::sys;

/// One channel to the gofer. Calls are serialized internally, but each sentry
/// thread should have its own `Client`.
pub struct Client {
    channel: Mutex<Channel>,
}

struct Channel {
    sock: OwnedFd,
    /// The reply buffer, kept: zeroing 16 KiB for every call cost more
    /// than the gofer's openat2.
    buf: Vec<u8>,
    /// A writable fd came back and the gofer's "copy closed" after it is
    /// not read yet (see [`Client::settle`]).
    release_pending: bool,
    /// The channel's shared-memory lane (`gofer::lane`): `create` makes
    /// one only where the channels poll.
    lane: Option<Lane>,
}

impl Channel {
    /// Reads the gofer's "copy closed" (a Done) that follows a writable
    /// fd, if one is still due.
    fn take_release(&mut self) -> Result<(), Errno> {
        if !self.release_pending {
            return Ok(());
        }
        let pkt = sys::recv_packet(self.sock.as_fd(), &mut self.buf)?;
        let released = !pkt.truncated
            && pkt.fds.is_empty()
            && matches!(
                Response::decode(&self.buf[..pkt.len]),
                Ok(Response::Done(_))
            );
        if !released {
            // The channel is out of step: fail closed as for a hang-up.
            tracing::warn!("gofer sent no release after a writable fd");
            return Err(Errno::ECONNRESET);
        }
        self.release_pending = false;
        Ok(())
    }
}

/// How long a sentry thread polls for the gofer's reply before it sleeps.
/// Most replies take 10-40 µs; a sleeping thread is woken by an
/// interrupt to its (often halted) CPU, which on a virtual machine costs
/// about as much again (benches: creat+unlink 215 → 105 µs with both
/// spins).
const REPLY_SPIN: std::time::Duration = std::time::Duration::from_micros(100);

/// One exchange while the channel has a lane (`gofer::lane` says how the
/// two state words hand it over): the request through the lane if it
/// carries no fd and the gofer polls, else through the socket; the reply
/// where the gofer put it. Polls for the reply up to `spin` ([`REPLY_SPIN`]),
/// then sleeps in the socket, where the gofer then sends it.
pub(super) fn exchange_on_lane(
    lane: &Lane,
    sock: BorrowedFd<'_>,
    bytes: &[u8],
    fd: Option<BorrowedFd<'_>>,
    buf: &mut [u8],
    spin: std::time::Duration,
) -> Result<sys::Packet, Errno> {
    lane.set_reply_state(lane::WAITING);
    let posted = fd.is_none()
        && lane.put_request(bytes)
        && lane
            .swap_request_state(lane::WATCHING, lane::POSTED)
            .is_ok();
    if !posted {
        sys::send_packet(sock, bytes, fd)?;
        // A polling gofer watches the word, not the socket. If it sleeps
        // instead, its recvmsg finds the request.
        let _ = lane.swap_request_state(lane::WATCHING, lane::POSTED_SOCKET);
    }
    let start = std::time::Instant::now();
    let mut state = lane.reply_state();
    while state == lane::WAITING {
        if start.elapsed() >= spin {
            state = match lane.swap_reply_state(lane::WAITING, lane::SLEEPING) {
                Ok(()) => lane::SLEEPING,
                Err(found) => found,
            };
            break;
        }
        let _ = nix::sched::sched_yield();
        state = lane.reply_state();
    }
    match state {
        lane::READY => match lane.take_reply(buf) {
            Some(len) if len > 0 => Ok(sys::Packet {
                len,
                truncated: false,
                fds: Vec::new(),
            }),
            _ => Err(Errno::EIO),
        },
        lane::READY_SOCKET | lane::SLEEPING => sys::recv_packet(sock, buf),
        other => {
            tracing::warn!(state = other, "gofer lane in no known state");
            Err(Errno::EIO)
        }
    }
}

fn path(p: &[u8]) -> Result<Vec<u8>, Errno> {
    if p.len() >= LONG_PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if p.contains(&0) {
        return Err(Errno::EINVAL);
    }
    Ok(p.to_vec())
}

impl Client {
    pub fn new(sock: OwnedFd) -> Client {
        Client::with_lane(sock, None)
    }

    /// A channel that also has a shared-memory lane (`gofer::lane`); the
    /// gofer's end of the channel must have the same lane.
    pub fn with_lane(sock: OwnedFd, lane: Option<Lane>) -> Client {
        Client {
            channel: Mutex::new(Channel {
                sock,
                buf: vec![0u8; MAX_MESSAGE_SIZE + 1],
                release_pending: false,
                lane,
            }),
        }
    }

    fn call(&self, req: Request) -> Result<(Response, Option<OwnedFd>), Errno> {
        self.call_with(req, None)
    }

    /// A request that carries `fd` (the workload's socket for bind/connect).
    fn call_with(
        &self,
        req: Request,
        fd: Option<BorrowedFd<'_>>,
    ) -> Result<(Response, Option<OwnedFd>), Errno> {
        let sent = std::time::Instant::now();
        let op = req.op_index();
        let r = self.exchange(req, fd);
        crate::metrics::shm::record_gofer(op, sent);
        r
    }

    fn exchange(
        &self,
        req: Request,
        fd: Option<BorrowedFd<'_>>,
    ) -> Result<(Response, Option<OwnedFd>), Errno> {
        let bytes = req.encode();
        let release_follows_fd = req.fd_reply_is_writable();
        let mut channel = self.channel.lock().unwrap_or_else(|p| p.into_inner());
        channel.take_release()?;
        let Channel {
            sock,
            buf,
            release_pending,
            lane,
        } = &mut *channel;
        let pkt = match lane {
            Some(lane) => exchange_on_lane(lane, sock.as_fd(), &bytes, fd, buf, REPLY_SPIN)?,
            None => {
                sys::send_packet(sock.as_fd(), &bytes, fd)?;
                sys::recv_packet_spinning(sock.as_fd(), buf, REPLY_SPIN)?
            }
        };
        if pkt.len == 0 && !pkt.truncated {
            return Err(Errno::ECONNRESET);
        }
        if pkt.truncated || pkt.fds.len() > 1 {
            return Err(Errno::EIO);
        }
        let resp = Response::decode(&buf[..pkt.len]).map_err(|e| {
            tracing::warn!(error = %e, "malformed gofer reply");
            Errno::EIO
        })?;
        let fd = pkt.fds.into_iter().next();
        // The gofer's "copy closed" follows a writable fd (see
        // sys::is_writable and Request::fd_reply_is_writable). It is read
        // before this channel's next request or at `settle`, not now: the
        // caller need not wait for it to install the fd.
        *release_pending = fd.is_some() && release_follows_fd;
        Ok((resp, fd))
    }

    /// Waits until the gofer closed its copy of every writable fd it sent
    /// on this channel. Its copy counts as a writer of the file until
    /// then, so an execve of a file just written through it could fail
    /// with ETXTBSY (`syscalls::exec`). The gofer closes right after it
    /// sends, whatever the workload does, so this waits on the gofer alone.
    pub fn settle(&self) -> Result<(), Errno> {
        self.channel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take_release()
    }

    fn call_fd(&self, req: Request) -> Result<Walked<OwnedFd>, Errno> {
        match self.call(req)? {
            (Response::Fd(_), Some(fd)) => Ok(Walked::Done(fd)),
            (Response::Redirect(r), None) => Ok(Walked::Redirect(r)),
            (Response::Error(e), None) => Err(Errno::from_raw(e.errno)),
            _ => Err(Errno::EIO),
        }
    }

    fn call_done(&self, req: Request) -> Result<Walked<()>, Errno> {
        self.call_done_with(req, None)
    }

    /// A request answered by Done (or a redirect or an error), carrying `fd`.
    fn call_done_with(
        &self,
        req: Request,
        fd: Option<BorrowedFd<'_>>,
    ) -> Result<Walked<()>, Errno> {
        match self.call_with(req, fd)? {
            (Response::Done(_), None) => Ok(Walked::Done(())),
            (Response::Redirect(r), None) => Ok(Walked::Redirect(r)),
            (Response::Error(e), None) => Err(Errno::from_raw(e.errno)),
            _ => Err(Errno::EIO),
        }
    }

    /// One xattr operation on a path; Get and List return the whole value
    /// or name list, Set and Remove an empty Vec.
    #[allow(clippy::too_many_arguments)]
    pub fn xattr(
        &self,
        p: impl AsRef<[u8]>,
        op: XattrOp,
        name: &[u8],
        value: &[u8],
        flags: i32,
        follow: Follow,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<Vec<u8>>, Errno> {
        if value.len() > XATTR_DATA_MAX {
            return Err(Errno::E2BIG);
        }
        if name.len() > XATTR_NAME_MAX || name.contains(&0) {
            return Err(Errno::ERANGE);
        }
        let req = Request::Xattr(XattrReq {
            path: path(p.as_ref())?,
            op,
            name: name.to_vec(),
            value: Blob(value.to_vec()),
            flags,
            follow,
            creds: creds.clone(),
            symlinks,
        });
        match self.call(req)? {
            (Response::Data(d), None) => Ok(Walked::Done(d.data.0)),
            (Response::Done(_), None) => Ok(Walked::Done(Vec::new())),
            (Response::Redirect(r), None) => Ok(Walked::Redirect(r)),
            (Response::Error(e), None) => Err(Errno::from_raw(e.errno)),
            _ => Err(Errno::EIO),
        }
    }

    /// openat(2) with the workload's flags (O_CLOEXEC|O_NOCTTY added).
    pub fn open(
        &self,
        p: impl AsRef<[u8]>,
        flags: i32,
        mode: u32,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<OwnedFd>, Errno> {
        self.create(p, flags, mode, 0, creds, symlinks)
    }

    /// openat(2) that may create the file: `mode` as the caller gave it
    /// and its `umask`, which the kernel applies (or ignores under the
    /// parent's default ACL, as acl(5) says).
    pub fn create(
        &self,
        p: impl AsRef<[u8]>,
        flags: i32,
        mode: u32,
        umask: u32,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<OwnedFd>, Errno> {
        self.call_fd(Request::Open(OpenReq {
            path: path(p.as_ref())?,
            flags,
            mode,
            umask,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// O_PATH (| O_NOFOLLOW) fd of the target, for stat/readlink/statfs.
    pub fn walk(
        &self,
        p: impl AsRef<[u8]>,
        follow: Follow,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<OwnedFd>, Errno> {
        self.call_fd(Request::Walk(WalkReq {
            path: path(p.as_ref())?,
            follow,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// mkdirat(2) with the caller's `umask` (see [`Client::create`]).
    pub fn mkdir(
        &self,
        p: impl AsRef<[u8]>,
        mode: u32,
        umask: u32,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Mkdir(MkdirReq {
            path: path(p.as_ref())?,
            mode,
            umask,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// mknodat(2).
    /// bind(2) (or connect(2)) `sock` to the socket at sandbox path `p`,
    /// the kernel call naming it `name` relative to `base` (see
    /// [`SocketReq`]).
    #[allow(clippy::too_many_arguments)]
    pub fn socket(
        &self,
        sock: BorrowedFd<'_>,
        p: impl AsRef<[u8]>,
        base: &[u8],
        name: &[u8],
        connect: bool,
        umask: u32,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        let req = Request::Socket(SocketReq {
            path: path(p.as_ref())?,
            base: path(base)?,
            name: path(name)?,
            connect,
            umask,
            creds: creds.clone(),
            symlinks,
        });
        self.call_done_with(req, Some(sock))
    }

    /// inotify_add_watch(2) of `p` on the workload's inotify instance
    /// `inotify`: the watch descriptor.
    pub fn inotify_add_watch(
        &self,
        inotify: BorrowedFd<'_>,
        p: impl AsRef<[u8]>,
        follow: Follow,
        mask: u32,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<i32>, Errno> {
        let req = Request::Inotify(InotifyReq {
            path: path(p.as_ref())?,
            follow,
            mask,
            creds: creds.clone(),
            symlinks,
        });
        match self.call_with(req, Some(inotify))? {
            (Response::Data(d), None) => {
                let b: [u8; 4] = d.data.0.as_slice().try_into().map_err(|_| Errno::EIO)?;
                Ok(Walked::Done(i32::from_le_bytes(b)))
            }
            (Response::Redirect(r), None) => Ok(Walked::Redirect(r)),
            (Response::Error(e), None) => Err(Errno::from_raw(e.errno)),
            _ => Err(Errno::EIO),
        }
    }

    /// A writable fd of container task `pid`'s (thread `tid`'s) `file`
    /// (see [`OpenProcFileReq`]); the caller checked the permission.
    pub fn open_proc_file(
        &self,
        pid: i32,
        tid: Option<i32>,
        file: ProcFile,
        flags: i32,
    ) -> Result<OwnedFd, Errno> {
        let req = Request::OpenProcFile(OpenProcFileReq {
            pid,
            tid,
            file,
            flags,
        });
        match self.call_fd(req)? {
            Walked::Done(fd) => Ok(fd),
            // Not a path request: a redirect is a confused gofer.
            Walked::Redirect(_) => Err(Errno::EIO),
        }
    }

    /// Names the workload's file `file` (an O_TMPFILE file, say) at `new`,
    /// as linkat through its /proc/<pid>/fd link does.
    pub fn link_fd(
        &self,
        file: BorrowedFd<'_>,
        new: impl AsRef<[u8]>,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        let req = Request::LinkFd(LinkFdReq {
            new: path(new.as_ref())?,
            creds: creds.clone(),
            symlinks,
        });
        self.call_done_with(req, Some(file))
    }

    /// mknodat(2) with the caller's `umask` (see [`Client::create`]).
    pub fn mknod(
        &self,
        p: impl AsRef<[u8]>,
        mode: u32,
        umask: u32,
        dev: u64,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Mknod(MknodReq {
            path: path(p.as_ref())?,
            mode,
            umask,
            dev,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// symlinkat(2): `linkpath` -> `target`. Redirects if `linkpath` is in a
    /// synthetic mount.
    pub fn symlink(
        &self,
        target: impl AsRef<[u8]>,
        linkpath: impl AsRef<[u8]>,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Symlink(SymlinkReq {
            target: path(target.as_ref())?,
            linkpath: path(linkpath.as_ref())?,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// linkat(2); EXDEV if either path is in a synthetic mount.
    pub fn link(
        &self,
        old: impl AsRef<[u8]>,
        new: impl AsRef<[u8]>,
        follow_old: Follow,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Link(LinkReq {
            old: path(old.as_ref())?,
            new: path(new.as_ref())?,
            follow_old,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// unlinkat(2) (`remove_dir` = rmdir).
    pub fn unlink(
        &self,
        p: impl AsRef<[u8]>,
        remove_dir: bool,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Unlink(UnlinkReq {
            path: path(p.as_ref())?,
            remove_dir,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// renameat2(2); EXDEV if either path is in a synthetic mount.
    pub fn rename(
        &self,
        old: impl AsRef<[u8]>,
        new: impl AsRef<[u8]>,
        flags: u32,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Rename(RenameReq {
            old: path(old.as_ref())?,
            new: path(new.as_ref())?,
            flags,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// fchmodat2(2); EOPNOTSUPP on a symlink with NoFollow.
    pub fn chmod(
        &self,
        p: impl AsRef<[u8]>,
        mode: u32,
        follow: Follow,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Chmod(ChmodReq {
            path: path(p.as_ref())?,
            mode,
            follow,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// fchownat(2); -1 leaves an id unchanged.
    pub fn chown(
        &self,
        p: impl AsRef<[u8]>,
        uid: i32,
        gid: i32,
        follow: Follow,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Chown(ChownReq {
            path: path(p.as_ref())?,
            uid,
            gid,
            follow,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// truncate(2).
    pub fn truncate(
        &self,
        p: impl AsRef<[u8]>,
        len: i64,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Truncate(TruncateReq {
            path: path(p.as_ref())?,
            len,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// utimensat(2); `None` sets both times to now.
    pub fn utimens(
        &self,
        p: impl AsRef<[u8]>,
        times: Option<[Timespec; 2]>,
        follow: Follow,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Utimens(UtimensReq {
            path: path(p.as_ref())?,
            times,
            follow,
            creds: creds.clone(),
            symlinks,
        }))
    }

    /// faccessat2(2) checked against `creds` (pass real-id creds unless the
    /// workload used AT_EACCESS). `flags`: AT_EACCESS | AT_SYMLINK_NOFOLLOW.
    pub fn access(
        &self,
        p: impl AsRef<[u8]>,
        mode: i32,
        flags: i32,
        creds: &Creds,
        symlinks: u32,
    ) -> Result<Walked<()>, Errno> {
        self.call_done(Request::Access(AccessReq {
            path: path(p.as_ref())?,
            mode,
            flags,
            creds: creds.clone(),
            symlinks,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Creds {
        Creds {
            fsuid: 0,
            fsgid: 0,
            groups: vec![],
            cap_effective: u64::MAX,
        }
    }

    #[test]
    fn client_side_validation_and_hangup() {
        let (a, b) = crate::sandbox::sync::seqpacket_pair().unwrap();
        let c = Client::new(a);
        let long = vec![b'a'; LONG_PATH_MAX];
        assert_eq!(
            c.walk(&long, Follow::Follow, &creds(), 0).unwrap_err(),
            Errno::ENAMETOOLONG
        );
        assert_eq!(
            c.walk(b"/a\0b", Follow::Follow, &creds(), 0).unwrap_err(),
            Errno::EINVAL
        );
        // A fake server that replies garbage, then hangs up.
        let h = std::thread::spawn(move || {
            let mut buf = vec![0u8; MAX_MESSAGE_SIZE + 1];
            let p = sys::recv_packet(b.as_fd(), &mut buf).unwrap();
            assert!(Request::decode(&buf[..p.len]).is_ok());
            sys::send_packet(b.as_fd(), b"\x01\x04\x80\x00", None).unwrap();
            let _ = sys::recv_packet(b.as_fd(), &mut buf).unwrap();
            drop(b);
        });
        assert_eq!(
            c.mkdir("/x", 0o755, 0, &creds(), 0).unwrap_err(),
            Errno::EIO
        );
        assert_eq!(
            c.mkdir("/x", 0o755, 0, &creds(), 0).unwrap_err(),
            Errno::ECONNRESET
        );
        h.join().unwrap();
    }
}
