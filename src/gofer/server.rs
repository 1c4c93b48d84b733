//! The gofer server: one thread per channel, blocking recv → handle → reply.
//!
//! Two-path operations (link, rename) answer EXDEV when either path lands in
//! a synthetic mount (Linux says EXDEV across mounts). Single-path operations,
//! including creations (mkdir, mknod, symlink's linkpath, open O_CREAT), answer
//! with a [`Redirect`] so the sentry decides in its synthetic fs.

use std::cell::RefCell;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use nix::errno::Errno;
use tracing::{debug, error, warn};

use super::lane::{self, Lane};
use super::proto::{
    AccessReq, ChmodReq, ChownReq, Creds, DoneResp, ErrorResp, FdResp, Follow, InotifyReq,
    LinkFdReq, LinkReq, MkdirReq, MknodReq, OpenProcFileReq, OpenReq, ProcFile, RenameReq, Request,
    Response, SocketReq, SymlinkReq, TruncateReq, UnlinkReq, UtimensReq, WalkReq, Walked,
    MAX_MESSAGE_SIZE,
};
use super::proto::{Blob, DataResp, XattrOp, XattrReq, XATTR_DATA_MAX};
use super::sys;
use super::walk::{Mounts, Parent, Target, Walker};
use super::GoferError;

/// `fd`, just opened with `flags`, unless it is a device node outside the
/// sandbox's set (a host device in the image or in a bind mount: the
/// sandbox hands no host device to the workload, docs/SECURITY.md): the
/// default set's character devices (`sandbox::SANDBOX_DEVICES`), the
/// pty master multiplexer and pty slaves. An O_PATH fd opens nothing.
/// Returns the fd with the file's type (S_IFMT bits; 0 for an O_PATH fd,
/// which it does not stat).
fn sandbox_file(fd: OwnedFd, flags: i32) -> Result<(OwnedFd, libc::mode_t), Errno> {
    if flags & libc::O_PATH != 0 {
        return Ok((fd, 0));
    }
    let st = sys::fstat(fd.as_fd())?;
    let kind = st.st_mode & libc::S_IFMT;
    if kind != libc::S_IFCHR && kind != libc::S_IFBLK {
        return Ok((fd, kind));
    }
    let (major, minor) = (
        nix::sys::stat::major(st.st_rdev) as i64,
        nix::sys::stat::minor(st.st_rdev) as i64,
    );
    let allowed =
        kind == libc::S_IFCHR && crate::sandbox::workload_may_open_char_device(major, minor);
    if allowed {
        Ok((fd, kind))
    } else {
        debug!(major, minor, "refused to open a host device node");
        Err(Errno::EACCES)
    }
}

/// Static configuration of the gofer.
#[derive(Clone, Debug, Default)]
pub struct GoferConfig {
    /// Absolute sandbox paths served by the sentry, e.g. "/proc", "/sys".
    pub synthetic_mounts: Vec<String>,
    /// Real mounts inside those (the cgroup mount at /sys/fs/cgroup),
    /// served here.
    pub served_inside_synthetic: Vec<String>,
    /// A procfs mount (`subset=pid`) of the container's pid namespace,
    /// where [`OpenProcFileReq`] opens; `None` (e.g. a container sharing
    /// the host's pid namespace) answers those with EACCES.
    pub proc_mount: Option<Arc<OwnedFd>>,
    /// The sandbox's owner uid (`sandbox::owner`): the effective uid an
    /// OpenProcFile runs with, so that it passes Linux's ptrace check on
    /// the workload's tasks (the owner of their user namespace does).
    pub owner: Option<u32>,
    /// The channels' shared-memory lanes (`gofer::lane`), channel `i`
    /// using lane `i`; `None` where the channels do not poll.
    pub lanes: Option<Arc<super::lane::Lanes>>,
}

struct Ctx {
    root: OwnedFd,
    mounts: Mounts,
    permitted: u64,
    proc_mount: Option<Arc<OwnedFd>>,
    owner: Option<u32>,
}

/// Serve `channels` until every one of them hangs up.
pub fn serve(root: OwnedFd, channels: Vec<OwnedFd>, config: GoferConfig) -> Result<(), GoferError> {
    // Modes arrive already masked by the workload's umask.
    sys::set_umask(0);
    let (_, permitted, _) = sys::capget().map_err(GoferError::CapGet)?;
    let ctx = Arc::new(Ctx {
        root,
        mounts: Mounts::new(&config.synthetic_mounts).serving(&config.served_inside_synthetic),
        permitted,
        proc_mount: config.proc_mount,
        owner: config.owner,
    });
    let mut handles = Vec::new();
    for (channel, sock) in channels.into_iter().enumerate() {
        let ctx = Arc::clone(&ctx);
        let lane = config.lanes.as_ref().and_then(|l| l.lane(channel));
        let h = std::thread::Builder::new()
            .name(format!("gofer-{channel}"))
            .spawn(move || channel_loop(&ctx, channel, sock, lane))
            .map_err(|source| GoferError::SpawnThread { channel, source })?;
        handles.push((channel, h));
    }
    let mut first_err = None;
    for (channel, h) in handles {
        let res = match h.join() {
            Ok(r) => r,
            Err(_) => Err(GoferError::ThreadPanicked { channel }),
        };
        if let Err(e) = res {
            warn!(channel, error = %e, "gofer channel failed");
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// How long a channel's thread polls for the next request after an
/// answer before it sleeps. A workload's file calls come in bursts (tar
/// writes, chowns, chmods and stamps each file in turn), and a sleeping
/// gofer is woken by an interrupt to its halted CPU, which on a virtual
/// machine costs more than the request. Polling yields to any other task
/// that wants the CPU, so it takes time only from an idle one.
const REQUEST_SPIN: std::time::Duration = std::time::Duration::from_micros(300);

fn channel_loop(
    ctx: &Ctx,
    channel: usize,
    sock: OwnedFd,
    lane: Option<Lane>,
) -> Result<(), GoferError> {
    let mut buf = vec![0u8; MAX_MESSAGE_SIZE + 1];
    // `create` makes lanes only where the channels poll.
    if let Some(lane) = &lane {
        lane.set_request_state(lane::WATCHING);
    }
    loop {
        let next = match &lane {
            Some(lane) => next_request_on_lane(lane, sock.as_fd(), &mut buf, REQUEST_SPIN),
            None => sys::recv_packet_spinning(sock.as_fd(), &mut buf, REQUEST_SPIN),
        };
        let pkt = match next {
            Ok(p) => p,
            Err(Errno::ECONNRESET) => return Ok(()),
            Err(source) => return Err(GoferError::Recv { channel, source }),
        };
        // Only a socket request carries an fd (the workload's socket);
        // `handle` drops (closes) any other.
        let fds = pkt.fds;
        if pkt.len == 0 && !pkt.truncated {
            debug!(channel, "gofer channel hung up");
            return Ok(());
        }
        let decoded = if pkt.truncated {
            Err(GoferError::MessageTooLarge)
        } else {
            Request::decode(&buf[..pkt.len])
        };
        let (resp, fd, writable) = match decoded {
            Ok(req) => {
                let (resp, fd) = handle(ctx, &req, fds);
                (resp, fd, req.fd_reply_is_writable())
            }
            Err(e) => {
                debug!(channel, error = %e, "malformed gofer request");
                (err_resp(Errno::EINVAL), None, false)
            }
        };
        let writable = writable && fd.is_some();
        let sent = match &lane {
            Some(lane) => reply_on_lane(lane, sock.as_fd(), &resp.encode(), fd.as_ref()),
            None => sys::send_packet(sock.as_fd(), &resp.encode(), fd.as_ref().map(|f| f.as_fd())),
        };
        match sent {
            Ok(()) => {}
            Err(Errno::EPIPE | Errno::ECONNRESET) => return Ok(()),
            Err(source) => return Err(GoferError::Send { channel, source }),
        }
        if writable {
            drop(fd);
            let released = Response::Done(DoneResp).encode();
            match sys::send_packet(sock.as_fd(), &released, None) {
                Ok(()) => {}
                Err(Errno::EPIPE | Errno::ECONNRESET) => return Ok(()),
                Err(source) => return Err(GoferError::Send { channel, source }),
            }
        }
    }
}

/// The next request while the channel has a lane (`gofer::lane`): polls
/// the request word (set to WATCHING before the last reply) up to `spin`
/// ([`REQUEST_SPIN`]), then moves it to IDLE and sleeps in the socket.
fn next_request_on_lane(
    lane: &Lane,
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    spin: std::time::Duration,
) -> Result<sys::Packet, Errno> {
    let start = std::time::Instant::now();
    loop {
        match lane.request_state() {
            lane::POSTED => {
                // An empty or oversized request is malformed: answered
                // EINVAL, as one from the socket would be.
                let len = lane.take_request(buf).filter(|&n| n > 0);
                return Ok(sys::Packet {
                    len: len.unwrap_or(0),
                    truncated: len.is_none(),
                    fds: Vec::new(),
                });
            }
            lane::POSTED_SOCKET => return sys::recv_packet(sock, buf),
            lane::WATCHING => {}
            other => {
                // The sentry's garbage: the socket still works.
                debug!(state = other, "gofer lane in no known state");
                lane.set_request_state(lane::IDLE);
                return sys::recv_packet(sock, buf);
            }
        }
        if start.elapsed() >= spin && lane.swap_request_state(lane::WATCHING, lane::IDLE).is_ok() {
            return sys::recv_packet(sock, buf);
        }
        let _ = nix::sched::sched_yield();
    }
}

/// Answers on a channel with a lane: first the request word back to
/// WATCHING, so that the sentry's next request, made after it reads this
/// reply, finds this thread polling; then the reply into the lane if it
/// carries no fd and the sentry still polls, else into the socket.
fn reply_on_lane(
    lane: &Lane,
    sock: BorrowedFd<'_>,
    bytes: &[u8],
    fd: Option<&OwnedFd>,
) -> Result<(), Errno> {
    lane.set_request_state(lane::WATCHING);
    match fd {
        None => {
            if lane.put_reply(bytes) && lane.swap_reply_state(lane::WAITING, lane::READY).is_ok() {
                return Ok(());
            }
            sys::send_packet(sock, bytes, None)
        }
        Some(fd) => {
            sys::send_packet(sock, bytes, Some(fd.as_fd()))?;
            // A sentry that sleeps instead finds it with its recvmsg.
            let _ = lane.swap_reply_state(lane::WAITING, lane::READY_SOCKET);
            Ok(())
        }
    }
}

fn err_resp(e: Errno) -> Response {
    Response::Error(ErrorResp { errno: e as i32 })
}

thread_local! {
    static CURRENT_CREDS: RefCell<Option<Creds>> = const { RefCell::new(None) };
}

/// Make the calling thread run with `creds` (no-op when it already does).
fn apply_creds(creds: &Creds, permitted: u64) -> Result<(), GoferError> {
    let same = CURRENT_CREDS.with(|c| c.borrow().as_ref() == Some(creds));
    if same {
        return Ok(());
    }
    CURRENT_CREDS.with(|c| *c.borrow_mut() = None);
    sys::set_thread_creds(creds, permitted)
        .map_err(|(step, source)| GoferError::SetCreds { step, source })?;
    CURRENT_CREDS.with(|c| *c.borrow_mut() = Some(creds.clone()));
    Ok(())
}

/// Handle one decoded request on the calling thread.
fn handle(ctx: &Ctx, req: &Request, fds: Vec<OwnedFd>) -> (Response, Option<OwnedFd>) {
    if let Err(e) = apply_creds(req.creds(), ctx.permitted) {
        warn!(error = %e, "cannot assume request credentials");
        let errno = match e {
            GoferError::SetCreds { source, .. } => source,
            _ => Errno::EPERM,
        };
        return (err_resp(errno), None);
    }
    let ops = Ops {
        w: Walker::new(ctx.root.as_fd(), &ctx.mounts),
        root: ctx.root.as_fd(),
    };
    let fd_reply = |r: Result<Walked<OwnedFd>, Errno>| match r {
        Ok(Walked::Done(fd)) => (Response::Fd(FdResp), Some(fd)),
        Ok(Walked::Redirect(r)) => (Response::Redirect(r), None),
        Err(e) => (err_resp(e), None),
    };
    let done_reply = |r: Result<Walked<()>, Errno>| match r {
        Ok(Walked::Done(())) => (Response::Done(DoneResp), None),
        Ok(Walked::Redirect(r)) => (Response::Redirect(r), None),
        Err(e) => (err_resp(e), None),
    };
    match req {
        Request::Open(m) => fd_reply(ops.open(m)),
        Request::Walk(m) => fd_reply(ops.walk(m)),
        Request::Mkdir(m) => done_reply(ops.mkdir(m)),
        Request::Mknod(m) => done_reply(ops.mknod(m)),
        Request::Symlink(m) => done_reply(ops.symlink(m)),
        Request::Link(m) => done_reply(ops.link(m)),
        Request::Unlink(m) => done_reply(ops.unlink(m)),
        Request::Rename(m) => done_reply(ops.rename(m)),
        Request::Chmod(m) => done_reply(ops.chmod(m)),
        Request::Chown(m) => done_reply(ops.chown(m)),
        Request::Truncate(m) => done_reply(ops.truncate(m)),
        Request::Utimens(m) => done_reply(ops.utimens(m)),
        Request::Access(m) => done_reply(ops.access(m)),
        Request::Socket(m) => done_reply(ops.socket(m, fds)),
        Request::LinkFd(m) => done_reply(ops.link_fd(m, fds, ctx.permitted)),
        Request::OpenProcFile(m) => {
            match as_owner(ctx, || open_proc_file(ctx.proc_mount.as_deref(), m)) {
                Ok(fd) => (Response::Fd(FdResp), Some(fd)),
                Err(e) => (err_resp(e), None),
            }
        }
        Request::Inotify(m) => match ops.inotify(m, fds) {
            Ok(Walked::Done(wd)) => (
                Response::Data(DataResp {
                    data: Blob(wd.to_le_bytes().to_vec()),
                }),
                None,
            ),
            Ok(Walked::Redirect(r)) => (Response::Redirect(r), None),
            Err(e) => (err_resp(e), None),
        },
        Request::Xattr(m) => match ops.xattr(m) {
            Ok(Walked::Done(Some(data))) => (Response::Data(DataResp { data: Blob(data) }), None),
            Ok(Walked::Done(None)) => (Response::Done(DoneResp), None),
            Ok(Walked::Redirect(r)) => (Response::Redirect(r), None),
            Err(e) => (err_resp(e), None),
        },
    }
}

/// Opens `<pid>/comm`, `<pid>/oom_score_adj`, `<pid>/mem`, a read-only
/// [`ProcFile`] or a thread's `<pid>/task/<tid>/` one but oom_score_adj
/// under `proc` (see [`OpenProcFileReq`]). Only those names of positive
/// ids can be formed, and the resolution stays in that procfs mount and
/// follows no link, so nothing but these files of the container's own
/// tasks is ever opened.
fn open_proc_file(proc: Option<&OwnedFd>, m: &OpenProcFileReq) -> Result<OwnedFd, Errno> {
    const ALLOWED: i32 = libc::O_ACCMODE | libc::O_TRUNC | libc::O_APPEND | libc::O_NONBLOCK;
    let proc = proc.ok_or(Errno::EACCES)?;
    if m.pid <= 0 || m.tid.is_some_and(|t| t <= 0) || m.flags & !ALLOWED != 0 {
        return Err(Errno::EINVAL);
    }
    if !m.file.writable() && m.flags & libc::O_ACCMODE != libc::O_RDONLY {
        return Err(Errno::EACCES);
    }
    let path = match (m.tid, m.file) {
        (None, f) => format!("{}/{}", m.pid, f.name()),
        (Some(_), ProcFile::OomScoreAdj) => return Err(Errno::EINVAL),
        (Some(tid), f) => format!("{}/task/{tid}/{}", m.pid, f.name()),
    };
    let path = std::ffi::CString::new(path).map_err(|_| Errno::EINVAL)?;
    sys::openat2(
        proc.as_fd(),
        &path,
        m.flags | libc::O_CLOEXEC | libc::O_NOCTTY | libc::O_NOFOLLOW,
        0,
        libc::RESOLVE_BENEATH
            | libc::RESOLVE_NO_SYMLINKS
            | libc::RESOLVE_NO_MAGICLINKS
            | libc::RESOLVE_NO_XDEV,
    )
}

/// Runs `op` with the sandbox owner's effective uid on this thread (and
/// the effective capabilities it had), when there is an owner: the files
/// OpenProcFile opens check ptrace access to their task (environ, auxv,
/// io, mem: `mm_access`), which the owner of the task's user namespace
/// has; the gofer's host root no longer owns it. Back to euid 0 after.
fn as_owner(ctx: &Ctx, op: impl FnOnce() -> Result<OwnedFd, Errno>) -> Result<OwnedFd, Errno> {
    let Some(owner) = ctx.owner else {
        return op();
    };
    let (effective, permitted, inheritable) = sys::capget()?;
    // CAP_SETUID for the switch (the request's set may lack it).
    sys::capset(permitted, permitted, inheritable)?;
    sys::set_thread_euid(owner)?;
    // Leaving euid 0 emptied the effective set: the request's again.
    let result = sys::capset(effective & permitted, permitted, inheritable).and_then(|()| op());
    // Back to 0 (the real and saved uids): allowed without a capability.
    if let Err(e) = sys::set_thread_euid(0) {
        // A gofer thread stuck as the owner must not serve on.
        error!(error = %e, "gofer: cannot return to euid 0");
        std::process::abort();
    }
    result
}

/// Unwrap a `Walked`, returning early with the redirect.
macro_rules! walked {
    ($e:expr) => {
        match $e? {
            Walked::Done(v) => v,
            Walked::Redirect(r) => return Ok(Walked::Redirect(r)),
        }
    };
}

struct Ops<'a> {
    w: Walker<'a>,
    root: std::os::fd::BorrowedFd<'a>,
}

thread_local! {
    /// Whether this thread has its own cwd and umask (see `sys::unshare_fs`).
    static OWN_FS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

const PATH_FD_FLAGS: i32 = libc::O_PATH | libc::O_CLOEXEC;

impl Ops<'_> {
    fn open_flags(flags: i32) -> i32 {
        if flags & libc::O_PATH != 0 {
            // O_NOCTTY is meaningless with O_PATH and openat2 rejects it.
            flags | libc::O_CLOEXEC
        } else {
            flags | libc::O_CLOEXEC | libc::O_NOCTTY
        }
    }

    /// Opens `path`, never waiting on the workload: an open that could
    /// wait (no O_NONBLOCK, no O_PATH, not O_RDWR: a FIFO without its
    /// other end, a file under a lease) is made with O_NONBLOCK, cleared
    /// again on the result. A FIFO's write-open without a reader fails
    /// with ENXIO; a FIFO opened for reading without a writer (Linux's
    /// reader would wait for one) is closed again and answered ENXIO too;
    /// a lease gives EAGAIN. The sentry lets the kernel redo those in the
    /// workload, which then waits, as on Linux. (Closing a reader that
    /// found no writer wakes nobody: a waiting writer counts as one.)
    fn open_at(
        &self,
        path: &[u8],
        flags: i32,
        mode: u32,
        symlinks: u32,
    ) -> Result<Walked<OwnedFd>, Errno> {
        let done = |w: Walked<(OwnedFd, libc::mode_t)>| match w {
            Walked::Done((fd, _)) => Walked::Done(fd),
            Walked::Redirect(r) => Walked::Redirect(r),
        };
        if !super::open_could_wait(flags) {
            return self.open_at_now(path, flags, mode, symlinks).map(done);
        }
        match self.open_at_now(path, flags | libc::O_NONBLOCK, mode, symlinks)? {
            Walked::Done((fd, kind)) => {
                if kind == libc::S_IFIFO
                    && flags & libc::O_ACCMODE == libc::O_RDONLY
                    && !sys::fifo_has_writer_or_data(fd.as_fd())?
                {
                    return Err(Errno::ENXIO);
                }
                sys::clear_nonblock(fd.as_fd())?;
                Ok(Walked::Done(fd))
            }
            Walked::Redirect(r) => Ok(Walked::Redirect(r)),
        }
    }

    fn open_at_now(
        &self,
        path: &[u8],
        flags: i32,
        mode: u32,
        symlinks: u32,
    ) -> Result<Walked<(OwnedFd, libc::mode_t)>, Errno> {
        let flags = Self::open_flags(flags);
        if let Some(r) = self.w.fast_open(path, flags, mode) {
            return r.and_then(|fd| sandbox_file(fd, flags)).map(Walked::Done);
        }
        let excl = libc::O_CREAT | libc::O_EXCL;
        let follow = if flags & libc::O_NOFOLLOW != 0 || flags & excl == excl {
            Follow::NoFollow
        } else {
            Follow::Follow
        };
        let t: Target = walked!(self.w.resolve(path, follow, symlinks));
        let fd = match (t.fd, t.parent) {
            // Re-open the resolved entry by name; O_NOFOLLOW keeps it from
            // being swapped for a symlink in between.
            (Some(_), Some((dir, name))) => {
                sys::openat(dir.as_fd(), &name, flags | libc::O_NOFOLLOW, mode)?
            }
            (Some(dir), None) => sys::openat(dir.as_fd(), c".", flags, mode)?,
            (None, Some((dir, name))) => {
                if flags & libc::O_CREAT == 0 {
                    return Err(Errno::ENOENT);
                }
                if t.trailing_slash {
                    return Err(Errno::EISDIR);
                }
                sys::openat(dir.as_fd(), &name, flags | libc::O_NOFOLLOW, mode)?
            }
            (None, None) => return Err(Errno::ENOENT),
        };
        sandbox_file(fd, flags).map(Walked::Done)
    }

    /// O_PATH fd of an existing target.
    fn path_fd(
        &self,
        path: &[u8],
        follow: Follow,
        symlinks: u32,
    ) -> Result<Walked<OwnedFd>, Errno> {
        let mut flags = PATH_FD_FLAGS;
        if follow == Follow::NoFollow {
            flags |= libc::O_NOFOLLOW;
        }
        if let Some(r) = self.w.fast_open(path, flags, 0) {
            return r.map(Walked::Done);
        }
        let t: Target = walked!(self.w.resolve(path, follow, symlinks));
        t.fd.map(Walked::Done).ok_or(Errno::ENOENT)
    }

    fn parent(&self, path: &[u8], symlinks: u32) -> Result<Walked<Parent>, Errno> {
        self.w.resolve_parent(path, symlinks)
    }

    fn open(&self, m: &OpenReq) -> Result<Walked<OwnedFd>, Errno> {
        self.with_umask(m.umask, || {
            self.open_at(&m.path, m.flags, m.mode, m.symlinks)
        })?
    }

    /// Runs `f` (a create) with this thread's umask set to the caller's,
    /// so that the kernel masks the new inode's mode as Linux does for the
    /// caller, ignoring the umask under a parent's default ACL (acl(5)).
    fn with_umask<T>(&self, umask: u32, f: impl FnOnce() -> T) -> Result<T, Errno> {
        let umask = umask & 0o777;
        if umask == 0 {
            return Ok(f());
        }
        self.own_fs()?;
        sys::set_umask(umask);
        let r = f();
        sys::set_umask(0);
        Ok(r)
    }

    fn walk(&self, m: &WalkReq) -> Result<Walked<OwnedFd>, Errno> {
        self.path_fd(&m.path, m.follow, m.symlinks)
    }

    /// bind(2)/connect(2) of the workload's socket. The confined walk
    /// checks the path (and redirects at synthetic mounts); the kernel call
    /// then resolves `name` from `base` in this process, whose root is the
    /// container's, so that the socket keeps the workload's own address
    /// and the kernel applies its exact rules (EADDRINUSE, ECONNREFUSED,
    /// write permission on the socket file) as the caller's fsuid/fsgid.
    fn socket(&self, m: &SocketReq, fds: Vec<OwnedFd>) -> Result<Walked<()>, Errno> {
        let [sock]: [OwnedFd; 1] = fds.try_into().map_err(|_| Errno::EINVAL)?;
        if sys::fstat(sock.as_fd())?.st_mode & libc::S_IFMT != libc::S_IFSOCK {
            return Err(Errno::ENOTSOCK);
        }
        // Where `name` is resolved from when `base` is not usable: the
        // walked parent and the last component.
        let (dir, last) = if m.connect {
            let t: Target = walked!(self.w.resolve(&m.path, Follow::Follow, m.symlinks));
            if t.fd.is_none() {
                return Err(Errno::ENOENT);
            }
            t.parent.ok_or(Errno::ECONNREFUSED)?
        } else {
            let p = walked!(self.parent(&m.path, m.symlinks));
            (p.dir, p.last.ok_or(Errno::EADDRINUSE)?)
        };
        let base = if m.base.is_empty() {
            None
        } else {
            match self.path_fd(&m.base, Follow::Follow, m.symlinks)? {
                Walked::Done(fd) => Some(fd),
                Walked::Redirect(_) => None,
            }
        };
        let (dir, name) = match base {
            Some(b) => (b, m.name.clone()),
            None => (dir, last.into_bytes()),
        };
        self.own_fs()?;
        sys::fchdir(dir.as_fd())?;
        sys::set_umask(m.umask & 0o777);
        let r = sys::unix_socket_at(sock.as_fd(), &name, m.connect);
        sys::set_umask(0);
        // Keep no directory of the container busy as this thread's cwd.
        let _ = sys::fchdir(self.root);
        r.map(Walked::Done)
    }

    /// inotify_add_watch(2) has no dirfd: the walked entry is named from
    /// its directory as this thread's cwd (IN_DONT_FOLLOW, so that the
    /// name cannot have become a symlink since), as the caller, whose read
    /// permission the kernel checks.
    fn inotify(&self, m: &InotifyReq, fds: Vec<OwnedFd>) -> Result<Walked<i32>, Errno> {
        let [inotify]: [OwnedFd; 1] = fds.try_into().map_err(|_| Errno::EINVAL)?;
        let t: Target = walked!(self.w.resolve(&m.path, m.follow, m.symlinks));
        let fd = t.fd.ok_or(Errno::ENOENT)?;
        let (dir, name) = match t.parent {
            Some((dir, name)) => (dir, name),
            None => (fd, c".".to_owned()),
        };
        self.own_fs()?;
        sys::fchdir(dir.as_fd())?;
        let r = sys::inotify_add_watch(inotify.as_fd(), &name, m.mask | libc::IN_DONT_FOLLOW);
        let _ = sys::fchdir(self.root);
        r.map(Walked::Done)
    }

    /// linkat(fd, "", dir, name, AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH,
    /// which the workload's own linkat through /proc/<pid>/fd/N does not
    /// (holding the fd is its permission): raised for that one call only,
    /// after the walk of `new` ran with the caller's own capabilities.
    fn link_fd(
        &self,
        m: &LinkFdReq,
        fds: Vec<OwnedFd>,
        permitted: u64,
    ) -> Result<Walked<()>, Errno> {
        const CAP_DAC_READ_SEARCH: u64 = 1 << 2;
        let [file]: [OwnedFd; 1] = fds.try_into().map_err(|_| Errno::EINVAL)?;
        if sys::fstat(file.as_fd())?.st_mode & libc::S_IFMT == libc::S_IFDIR {
            return Err(Errno::EPERM);
        }
        let p = walked!(self.parent(&m.new, m.symlinks));
        let name = p.last.ok_or(Errno::EEXIST)?;
        let raised = Creds {
            cap_effective: m.creds.cap_effective | CAP_DAC_READ_SEARCH,
            ..m.creds.clone()
        };
        apply_creds(&raised, permitted).map_err(|_| Errno::EPERM)?;
        let r = sys::linkat(
            file.as_fd(),
            sys::EMPTY,
            p.dir.as_fd(),
            &name,
            libc::AT_EMPTY_PATH,
        );
        apply_creds(&m.creds, permitted).map_err(|_| Errno::EPERM)?;
        r.map(Walked::Done)
    }

    /// Gives this thread its own cwd and umask, once.
    fn own_fs(&self) -> Result<(), Errno> {
        if !OWN_FS.with(|o| o.get()) {
            sys::unshare_fs()?;
            OWN_FS.with(|o| o.set(true));
        }
        Ok(())
    }

    fn mkdir(&self, m: &MkdirReq) -> Result<Walked<()>, Errno> {
        let p = walked!(self.parent(&m.path, m.symlinks));
        let name = p.last.ok_or(Errno::EEXIST)?;
        self.with_umask(m.umask, || sys::mkdirat(p.dir.as_fd(), &name, m.mode))?
            .map(Walked::Done)
    }

    fn mknod(&self, m: &MknodReq) -> Result<Walked<()>, Errno> {
        let p = walked!(self.parent(&m.path, m.symlinks));
        let name = p.last.ok_or(Errno::EEXIST)?;
        self.with_umask(m.umask, || {
            sys::mknodat(p.dir.as_fd(), &name, m.mode, m.dev)
        })?
        .map(Walked::Done)
    }

    fn symlink(&self, m: &SymlinkReq) -> Result<Walked<()>, Errno> {
        let target = std::ffi::CString::new(m.target.clone()).map_err(|_| Errno::EINVAL)?;
        if m.target.is_empty() {
            return Err(Errno::ENOENT);
        }
        let p = walked!(self.parent(&m.linkpath, m.symlinks));
        let name = p.last.ok_or(Errno::EEXIST)?;
        sys::symlinkat(&target, p.dir.as_fd(), &name).map(Walked::Done)
    }

    fn link(&self, m: &LinkReq) -> Result<Walked<()>, Errno> {
        let old = match self.w.resolve(&m.old, m.follow_old, m.symlinks)? {
            Walked::Done(t) => t,
            Walked::Redirect(_) => return Err(Errno::EXDEV),
        };
        if old.fd.is_none() {
            return Err(Errno::ENOENT);
        }
        let (odir, oname) = old.parent.ok_or(Errno::EPERM)?;
        let new = match self.parent(&m.new, m.symlinks)? {
            Walked::Done(p) => p,
            Walked::Redirect(_) => return Err(Errno::EXDEV),
        };
        let nname = new.last.ok_or(Errno::EEXIST)?;
        sys::linkat(odir.as_fd(), &oname, new.dir.as_fd(), &nname, 0).map(Walked::Done)
    }

    fn unlink(&self, m: &UnlinkReq) -> Result<Walked<()>, Errno> {
        let p = walked!(self.parent(&m.path, m.symlinks));
        let Some(name) = p.last else {
            return Err(if m.remove_dir {
                Errno::EBUSY
            } else {
                Errno::EISDIR
            });
        };
        let flags = if m.remove_dir { libc::AT_REMOVEDIR } else { 0 };
        sys::unlinkat(p.dir.as_fd(), &name, flags).map(Walked::Done)
    }

    fn rename(&self, m: &RenameReq) -> Result<Walked<()>, Errno> {
        let get = |path: &[u8]| match self.parent(path, m.symlinks)? {
            Walked::Done(p) => Ok(p),
            Walked::Redirect(_) => Err(Errno::EXDEV),
        };
        let old = get(&m.old)?;
        let new = get(&m.new)?;
        let (Some(oname), Some(nname)) = (old.last, new.last) else {
            return Err(Errno::EBUSY);
        };
        sys::renameat2(old.dir.as_fd(), &oname, new.dir.as_fd(), &nname, m.flags).map(Walked::Done)
    }

    fn chmod(&self, m: &ChmodReq) -> Result<Walked<()>, Errno> {
        let fd = walked!(self.path_fd(&m.path, m.follow, m.symlinks));
        let st = sys::fstat(fd.as_fd())?;
        if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
            // Linux cannot change a symlink's mode (lchmod).
            return Err(Errno::EOPNOTSUPP);
        }
        sys::fchmod_fd(fd.as_fd(), m.mode).map(Walked::Done)
    }

    /// The xattr calls by (directory, name) with the *xattrat syscalls: the
    /// kernel checks permissions with the request's credentials, and a
    /// final symlink (NoFollow) is addressed itself.
    fn xattr(&self, m: &XattrReq) -> Result<Walked<Option<Vec<u8>>>, Errno> {
        let t: Target = walked!(self.w.resolve(&m.path, m.follow, m.symlinks));
        let Some(fd) = t.fd else {
            return Err(Errno::ENOENT);
        };
        let (dir, name) = match &t.parent {
            Some((dir, name)) => (dir.as_fd(), name.as_c_str()),
            // The mount root itself: "." from it.
            None => (fd.as_fd(), c"."),
        };
        let attr = std::ffi::CString::new(m.name.clone()).map_err(|_| Errno::ERANGE)?;
        match m.op {
            XattrOp::Get => {
                let v = sys::getxattrat(dir, name, &attr, XATTR_DATA_MAX)?;
                Ok(Walked::Done(Some(v)))
            }
            XattrOp::List => {
                let v = sys::listxattrat(dir, name, XATTR_DATA_MAX)?;
                Ok(Walked::Done(Some(v)))
            }
            XattrOp::Set => {
                sys::setxattrat(dir, name, &attr, &m.value.0, m.flags)?;
                Ok(Walked::Done(None))
            }
            XattrOp::Remove => {
                sys::removexattrat(dir, name, &attr)?;
                Ok(Walked::Done(None))
            }
        }
    }

    fn chown(&self, m: &ChownReq) -> Result<Walked<()>, Errno> {
        let fd = walked!(self.path_fd(&m.path, m.follow, m.symlinks));
        sys::fchown_fd(fd.as_fd(), m.uid as u32, m.gid as u32).map(Walked::Done)
    }

    fn truncate(&self, m: &TruncateReq) -> Result<Walked<()>, Errno> {
        let fd = walked!(self.path_fd(&m.path, Follow::Follow, m.symlinks));
        let st = sys::fstat(fd.as_fd())?;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => return Err(Errno::EISDIR),
            libc::S_IFREG => {}
            _ => return Err(Errno::EINVAL),
        }
        if m.len < 0 {
            return Err(Errno::EINVAL);
        }
        // Needs a writable fd (and so write permission, like truncate(2)).
        let flags = libc::O_WRONLY | libc::O_NONBLOCK;
        let wfd = walked!(self.open_at(&m.path, flags, 0, m.symlinks));
        sys::ftruncate(wfd.as_fd(), m.len).map(Walked::Done)
    }

    fn utimens(&self, m: &UtimensReq) -> Result<Walked<()>, Errno> {
        let fd = walked!(self.path_fd(&m.path, m.follow, m.symlinks));
        let times = m.times.map(|t| {
            t.map(|x| libc::timespec {
                tv_sec: x.sec,
                tv_nsec: x.nsec,
            })
        });
        sys::utimens_fd(fd.as_fd(), times.as_ref()).map(Walked::Done)
    }

    fn access(&self, m: &AccessReq) -> Result<Walked<()>, Errno> {
        if m.flags & !(libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW) != 0 {
            return Err(Errno::EINVAL);
        }
        if m.mode & !(libc::R_OK | libc::W_OK | libc::X_OK) != 0 {
            return Err(Errno::EINVAL);
        }
        let follow = if m.flags & libc::AT_SYMLINK_NOFOLLOW != 0 {
            Follow::NoFollow
        } else {
            Follow::Follow
        };
        let fd = walked!(self.path_fd(&m.path, follow, m.symlinks));
        sys::access_fd(fd.as_fd(), m.mode).map(Walked::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gofer::client::Client;
    use crate::gofer::proto::Redirect;
    use crate::gofer::proto::Timespec;
    use crate::gofer::testutil::TempTree;
    use std::io::Read;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    /// Only the sandbox's device nodes are handed out; an O_PATH fd of any.
    #[test]
    fn host_device_nodes_are_refused() {
        let open = |p: &str, flags: i32| -> Result<OwnedFd, Errno> {
            let fd = nix::fcntl::open(
                p,
                nix::fcntl::OFlag::from_bits_truncate(flags),
                nix::sys::stat::Mode::empty(),
            )?;
            sandbox_file(fd, flags).map(|(fd, _)| fd)
        };
        assert!(open("/dev/null", libc::O_RDWR).is_ok());
        assert!(open("/dev/urandom", libc::O_RDONLY).is_ok());
        assert!(open("/proc/self/status", libc::O_RDONLY).is_ok());
        if std::path::Path::new("/dev/kmsg").exists() {
            assert_eq!(open("/dev/kmsg", libc::O_RDONLY).err(), Some(Errno::EACCES));
            assert!(open("/dev/kmsg", libc::O_PATH).is_ok());
        } else {
            eprintln!("skip: no /dev/kmsg on this host");
        }
    }

    const ROOT: Creds = Creds {
        fsuid: 0,
        fsgid: 0,
        groups: Vec::new(),
        cap_effective: u64::MAX,
    };

    fn user() -> Creds {
        Creds {
            fsuid: 1000,
            fsgid: 1000,
            groups: vec![],
            cap_effective: 0,
        }
    }

    struct Fixture {
        t: TempTree,
        client: Option<Client>,
        server: Option<std::thread::JoinHandle<Result<(), GoferError>>>,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            // Hang up so the server returns, then join it.
            drop(self.client.take());
            if let Some(h) = self.server.take() {
                let r = h.join().expect("server thread");
                r.expect("serve result");
            }
        }
    }

    fn fixture() -> Fixture {
        let t = TempTree::new("srv");
        std::fs::create_dir_all(t.p("etc")).unwrap();
        std::fs::create_dir_all(t.p("proc")).unwrap();
        std::fs::write(t.p("etc/passwd"), b"root:x:0:0").unwrap();
        symlink("../proc/self/mounts", t.p("etc/mtab")).unwrap();
        symlink("passwd", t.p("etc/pw")).unwrap();
        let (a, b) = crate::sandbox::sync::seqpacket_pair().unwrap();
        let root = t.root_fd();
        let cfg = GoferConfig {
            synthetic_mounts: vec!["/proc".into(), "/sys".into()],
            served_inside_synthetic: Vec::new(),
            proc_mount: None,
            owner: None,
            lanes: None,
        };
        let server = std::thread::spawn(move || serve(root, vec![b], cfg));
        Fixture {
            t,
            client: Some(Client::new(a)),
            server: Some(server),
        }
    }

    fn read_fd(fd: OwnedFd) -> String {
        let mut f = std::fs::File::from(fd);
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        s
    }

    fn done<T: std::fmt::Debug>(r: Result<Walked<T>, Errno>) -> T {
        match r {
            Ok(Walked::Done(v)) => v,
            other => panic!("expected Done, got {other:?}"),
        }
    }

    #[test]
    fn open_and_walk() {
        let f = fixture();
        let c = f.client.as_ref().unwrap();
        let fd = done(c.open("/etc/passwd", libc::O_RDONLY, 0, &ROOT, 0));
        let fl = nix::fcntl::fcntl(&fd, nix::fcntl::F_GETFD).unwrap();
        assert_eq!(fl & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        assert_eq!(read_fd(fd), "root:x:0:0");
        // through a symlink (slow path)
        assert_eq!(
            read_fd(done(c.open("/etc/pw", libc::O_RDONLY, 0, &ROOT, 0))),
            "root:x:0:0"
        );
        assert_eq!(
            c.open("/etc/pw", libc::O_RDONLY | libc::O_NOFOLLOW, 0, &ROOT, 0)
                .unwrap_err(),
            Errno::ELOOP
        );
        assert_eq!(
            c.open(
                "/etc/passwd",
                libc::O_RDONLY | libc::O_DIRECTORY,
                0,
                &ROOT,
                0
            )
            .unwrap_err(),
            Errno::ENOTDIR
        );
        assert_eq!(
            c.open("/etc/passwd/", libc::O_RDONLY, 0, &ROOT, 0)
                .unwrap_err(),
            Errno::ENOTDIR
        );
        assert_eq!(
            c.open("/etc/nope", libc::O_RDONLY, 0, &ROOT, 0)
                .unwrap_err(),
            Errno::ENOENT
        );
        // O_CREAT|O_EXCL
        let cf = libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY;
        let fd = done(c.open("/etc/new", cf, 0o640, &ROOT, 0));
        nix::unistd::write(&fd, b"hi").unwrap();
        assert_eq!(std::fs::read(f.t.p("etc/new")).unwrap(), b"hi");
        assert_eq!(
            std::fs::metadata(f.t.p("etc/new")).unwrap().mode() & 0o7777,
            0o640
        );
        assert_eq!(
            c.open("/etc/new", cf, 0o640, &ROOT, 0).unwrap_err(),
            Errno::EEXIST
        );
        // O_CREAT|O_EXCL on a symlink: EEXIST, not created at the target
        assert_eq!(
            c.open("/etc/pw", cf, 0o640, &ROOT, 0).unwrap_err(),
            Errno::EEXIST
        );
        // O_CREAT through a dangling symlink creates its target
        symlink("created_by_link", f.t.p("etc/dangle")).unwrap();
        done(c.open(
            "/etc/dangle",
            libc::O_CREAT | libc::O_WRONLY,
            0o600,
            &ROOT,
            0,
        ));
        assert!(f.t.p("etc/created_by_link").is_file());
        // O_TRUNC / O_APPEND kept
        let fd = done(c.open(
            "/etc/new",
            libc::O_WRONLY | libc::O_APPEND | libc::O_TRUNC,
            0,
            &ROOT,
            0,
        ));
        let fl = nix::fcntl::fcntl(&fd, nix::fcntl::F_GETFL).unwrap();
        assert_ne!(fl & libc::O_APPEND, 0);
        assert_eq!(std::fs::read(f.t.p("etc/new")).unwrap(), b"");
        // redirects, lexical and via symlink
        let r = c
            .open("/proc/self/status", libc::O_RDONLY, 0, &ROOT, 0)
            .unwrap();
        match r {
            Walked::Redirect(r) => assert_eq!(
                r,
                Redirect {
                    path: "/proc/self/status".into(),
                    symlinks_followed: 0
                }
            ),
            Walked::Done(_) => panic!("expected redirect"),
        }
        match c.walk("/etc/mtab", Follow::Follow, &ROOT, 1).unwrap() {
            Walked::Redirect(r) => {
                assert_eq!(r.path, "/proc/self/mounts");
                assert_eq!(r.symlinks_followed, 2);
            }
            Walked::Done(_) => panic!("expected redirect"),
        }
        // walk NoFollow gives the symlink itself
        let fd = done(c.walk("/etc/mtab", Follow::NoFollow, &ROOT, 0));
        let st = sys::fstat(fd.as_fd()).unwrap();
        assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFLNK);
        // escapes
        assert_eq!(
            read_fd(done(c.open(
                "/../../../etc/passwd",
                libc::O_RDONLY,
                0,
                &ROOT,
                0
            ))),
            "root:x:0:0"
        );
        // O_PATH, and flags openat2 would reject but open(2) tolerates
        let fd = done(c.open("/etc/pw", libc::O_PATH | libc::O_NOFOLLOW, 0, &ROOT, 0));
        let st = sys::fstat(fd.as_fd()).unwrap();
        assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFLNK);
        let fd = done(c.open("/etc/passwd", libc::O_PATH | libc::O_RDWR, 0, &ROOT, 0));
        assert_eq!(sys::fstat(fd.as_fd()).unwrap().st_size, 10);
        assert_eq!(
            read_fd(done(c.open("/etc/passwd", 0x4000_0000, 0o777, &ROOT, 0))),
            "root:x:0:0"
        );
        // O_TMPFILE in a directory
        let fd = done(c.open("/etc", libc::O_TMPFILE | libc::O_RDWR, 0o600, &ROOT, 0));
        nix::unistd::write(&fd, b"tmp").unwrap();
    }

    #[test]
    fn creates_apply_the_callers_umask() {
        let f = fixture();
        let c = f.client.as_ref().unwrap();
        let mode = |p: &str| std::fs::metadata(f.t.p(p)).unwrap().mode() & 0o7777;
        done(c.mkdir("/u", 0o777, 0o027, &ROOT, 0));
        assert_eq!(mode("u"), 0o750);
        let cf = libc::O_CREAT | libc::O_WRONLY;
        done(c.create("/u/f", cf, 0o666, 0o022, &ROOT, 0));
        assert_eq!(mode("u/f"), 0o644);
        done(c.mknod("/u/p", libc::S_IFIFO | 0o666, 0o077, 0, &ROOT, 0));
        assert_eq!(mode("u/p"), 0o600);
        // Under a default ACL the kernel ignores the umask (acl(5)).
        done(c.mkdir("/acl", 0o777, 0, &ROOT, 0));
        // version 2; user_obj rwx, group_obj rwx, other ---
        let mut acl = 2u32.to_le_bytes().to_vec();
        for (tag, perm) in [(1u16, 7u16), (4, 7), (0x20, 0)] {
            acl.extend(tag.to_le_bytes());
            acl.extend(perm.to_le_bytes());
            acl.extend(u32::MAX.to_le_bytes());
        }
        let set = c.xattr(
            "/acl",
            super::super::proto::XattrOp::Set,
            b"system.posix_acl_default",
            &acl,
            0,
            Follow::Follow,
            &ROOT,
            0,
        );
        if let Err(e) = set {
            println!("skip: no POSIX ACLs here ({e})");
            return;
        }
        done(c.create("/acl/f", cf, 0o666, 0o077, &ROOT, 0));
        assert_eq!(mode("acl/f"), 0o660);
    }

    #[test]
    fn namespace_ops() {
        let f = fixture();
        let c = f.client.as_ref().unwrap();
        done(c.mkdir("/d", 0o750, 0, &ROOT, 0));
        assert!(f.t.p("d").is_dir());
        assert_eq!(
            std::fs::metadata(f.t.p("d")).unwrap().mode() & 0o7777,
            0o750
        );
        assert_eq!(
            c.mkdir("/d", 0o750, 0, &ROOT, 0).unwrap_err(),
            Errno::EEXIST
        );
        assert_eq!(c.mkdir("/", 0o750, 0, &ROOT, 0).unwrap_err(), Errno::EEXIST);
        done(c.mkdir("/d/sub/", 0o755, 0, &ROOT, 0));
        assert_eq!(
            c.mkdir("/nope/x", 0o750, 0, &ROOT, 0).unwrap_err(),
            Errno::ENOENT
        );
        assert!(matches!(
            c.mkdir("/proc/x", 0o755, 0, &ROOT, 0),
            Ok(Walked::Redirect(_))
        ));
        // mknod fifo
        done(c.mknod("/d/fifo", libc::S_IFIFO | 0o600, 0, 0, &ROOT, 0));
        assert_eq!(
            std::fs::symlink_metadata(f.t.p("d/fifo")).unwrap().mode() & libc::S_IFMT,
            libc::S_IFIFO
        );
        // symlink + link
        done(c.symlink("../etc/passwd", "/d/sl", &ROOT, 0));
        assert_eq!(
            std::fs::read_link(f.t.p("d/sl")).unwrap().to_str(),
            Some("../etc/passwd")
        );
        assert_eq!(
            c.symlink("x", "/d/sl", &ROOT, 0).unwrap_err(),
            Errno::EEXIST
        );
        done(c.link("/d/sl", "/d/hard_sl", Follow::NoFollow, &ROOT, 0));
        assert!(std::fs::symlink_metadata(f.t.p("d/hard_sl"))
            .unwrap()
            .file_type()
            .is_symlink());
        done(c.link("/d/sl", "/d/hard_pw", Follow::Follow, &ROOT, 0));
        assert_eq!(std::fs::metadata(f.t.p("etc/passwd")).unwrap().nlink(), 2);
        assert_eq!(
            c.link("/proc/x", "/d/y", Follow::Follow, &ROOT, 0)
                .unwrap_err(),
            Errno::EXDEV
        );
        // rename (+ RENAME_NOREPLACE)
        std::fs::write(f.t.p("d/a"), b"A").unwrap();
        std::fs::write(f.t.p("d/b"), b"B").unwrap();
        assert_eq!(
            c.rename("/d/a", "/d/b", libc::RENAME_NOREPLACE, &ROOT, 0)
                .unwrap_err(),
            Errno::EEXIST
        );
        done(c.rename("/d/a", "/d/c", libc::RENAME_NOREPLACE, &ROOT, 0));
        done(c.rename("/d/c", "/d/b", 0, &ROOT, 0));
        assert_eq!(std::fs::read(f.t.p("d/b")).unwrap(), b"A");
        assert!(!f.t.p("d/a").exists());
        assert_eq!(
            c.rename("/d/b", "/proc/b", 0, &ROOT, 0).unwrap_err(),
            Errno::EXDEV
        );
        // unlink / rmdir
        assert_eq!(
            c.unlink("/d/b/", false, &ROOT, 0).unwrap_err(),
            Errno::ENOTDIR
        );
        done(c.unlink("/d/b", false, &ROOT, 0));
        assert!(!f.t.p("d/b").exists());
        assert_eq!(
            c.unlink("/d/sub", false, &ROOT, 0).unwrap_err(),
            Errno::EISDIR
        );
        assert_eq!(
            c.unlink("/d", true, &ROOT, 0).unwrap_err(),
            Errno::ENOTEMPTY
        );
        done(c.unlink("/d/sub/", true, &ROOT, 0));
        assert!(!f.t.p("d/sub").exists());
        assert_eq!(c.unlink("/", true, &ROOT, 0).unwrap_err(), Errno::EBUSY);
    }

    #[test]
    fn attribute_ops() {
        let f = fixture();
        let c = f.client.as_ref().unwrap();
        std::fs::write(f.t.p("etc/file"), b"0123456789").unwrap();
        done(c.chmod("/etc/file", 0o604, Follow::Follow, &ROOT, 0));
        assert_eq!(
            std::fs::metadata(f.t.p("etc/file")).unwrap().mode() & 0o7777,
            0o604
        );
        assert_eq!(
            c.chmod("/etc/pw", 0o600, Follow::NoFollow, &ROOT, 0)
                .unwrap_err(),
            Errno::EOPNOTSUPP
        );
        done(c.chown("/etc/file", 1234, -1, Follow::Follow, &ROOT, 0));
        let md = std::fs::metadata(f.t.p("etc/file")).unwrap();
        assert_eq!((md.uid(), md.gid()), (1234, 0));
        done(c.chown("/etc/pw", -1, 77, Follow::NoFollow, &ROOT, 0));
        assert_eq!(
            std::fs::symlink_metadata(f.t.p("etc/pw")).unwrap().gid(),
            77
        );
        assert_eq!(std::fs::metadata(f.t.p("etc/passwd")).unwrap().gid(), 0);
        done(c.truncate("/etc/file", 4, &ROOT, 0));
        assert_eq!(std::fs::read(f.t.p("etc/file")).unwrap(), b"0123");
        assert_eq!(c.truncate("/etc", 0, &ROOT, 0).unwrap_err(), Errno::EISDIR);
        let ts = [
            Timespec { sec: 1000, nsec: 5 },
            Timespec { sec: 2000, nsec: 0 },
        ];
        done(c.utimens("/etc/file", Some(ts), Follow::Follow, &ROOT, 0));
        let md = std::fs::metadata(f.t.p("etc/file")).unwrap();
        assert_eq!((md.atime(), md.atime_nsec(), md.mtime()), (1000, 5, 2000));
        done(c.utimens(
            "/etc/file",
            Some([Timespec::OMIT, Timespec::NOW]),
            Follow::Follow,
            &ROOT,
            0,
        ));
        let md = std::fs::metadata(f.t.p("etc/file")).unwrap();
        assert_eq!(md.atime(), 1000);
        assert!(md.mtime() > 2000);
        done(c.access("/etc/file", libc::R_OK | libc::W_OK, 0, &ROOT, 0));
        assert_eq!(
            c.access("/etc/nope", libc::F_OK, 0, &ROOT, 0).unwrap_err(),
            Errno::ENOENT
        );
        assert_eq!(
            c.access("/etc/file", libc::X_OK, 0, &ROOT, 0).unwrap_err(),
            Errno::EACCES
        );
        assert_eq!(
            c.access("/etc/file", libc::W_OK, libc::AT_EACCESS, &user(), 0)
                .unwrap_err(),
            Errno::EACCES
        );
    }

    #[test]
    fn xattr_ops() {
        use super::super::proto::XattrOp;
        let f = fixture();
        let c = f.client.as_ref().unwrap();
        std::fs::write(f.t.p("etc/x"), b"").unwrap();
        let x = |path: &str, op, name: &[u8], value: &[u8], follow| {
            c.xattr(path, op, name, value, 0, follow, &ROOT, 0)
        };
        let nf = Follow::NoFollow;
        done(x(
            "/etc/x",
            XattrOp::Set,
            b"user.k",
            b"v\0w",
            Follow::Follow,
        ));
        assert_eq!(done(x("/etc/x", XattrOp::Get, b"user.k", b"", nf)), b"v\0w");
        assert_eq!(done(x("/etc/x", XattrOp::List, b"", b"", nf)), b"user.k\0");
        // Through a symlink only when following; the link itself has none.
        std::os::unix::fs::symlink("x", f.t.p("etc/lx")).unwrap();
        assert_eq!(
            done(x("/etc/lx", XattrOp::List, b"", b"", Follow::Follow)),
            b"user.k\0"
        );
        assert!(done(x("/etc/lx", XattrOp::List, b"", b"", nf)).is_empty());
        assert_eq!(
            x("/etc/x", XattrOp::Get, b"user.none", b"", nf).unwrap_err(),
            Errno::ENODATA
        );
        done(x("/etc/x", XattrOp::Remove, b"user.k", b"", nf));
        assert!(done(x("/etc/x", XattrOp::List, b"", b"", nf)).is_empty());
        assert_eq!(
            x("/etc/nope", XattrOp::List, b"", b"", nf).unwrap_err(),
            Errno::ENOENT
        );
    }

    #[test]
    fn credentials() {
        let f = fixture();
        let c = f.client.as_ref().unwrap();
        std::fs::write(f.t.p("etc/secret"), b"s").unwrap();
        std::fs::set_permissions(f.t.p("etc/secret"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        std::fs::create_dir_all(f.t.p("pub")).unwrap();
        std::fs::set_permissions(f.t.p("pub"), std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::create_dir_all(f.t.p("closed/inner")).unwrap();
        std::fs::set_permissions(f.t.p("closed"), std::fs::Permissions::from_mode(0o700)).unwrap();
        // serve() sets umask 0 process-wide: make the modes explicit.
        std::fs::set_permissions(f.t.p("etc"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let u = user();
        assert_eq!(
            c.open("/etc/secret", libc::O_RDONLY, 0, &u, 0).unwrap_err(),
            Errno::EACCES
        );
        assert_eq!(
            c.walk("/closed/inner", Follow::Follow, &u, 0).unwrap_err(),
            Errno::EACCES
        );
        assert_eq!(
            c.mkdir("/etc/x", 0o755, 0, &u, 0).unwrap_err(),
            Errno::EACCES
        );
        let fd = done(c.open("/pub/mine", libc::O_CREAT | libc::O_WRONLY, 0o644, &u, 0));
        drop(fd);
        let md = std::fs::metadata(f.t.p("pub/mine")).unwrap();
        assert_eq!((md.uid(), md.gid()), (1000, 1000));
        done(c.mkdir("/pub/dir", 0o700, 0, &u, 0));
        assert_eq!(std::fs::metadata(f.t.p("pub/dir")).unwrap().uid(), 1000);
        // supplementary group grants access
        std::fs::write(f.t.p("etc/grp"), b"g").unwrap();
        std::os::unix::fs::chown(f.t.p("etc/grp"), Some(0), Some(555)).unwrap();
        std::fs::set_permissions(f.t.p("etc/grp"), std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(
            c.open("/etc/grp", libc::O_RDONLY, 0, &u, 0).unwrap_err(),
            Errno::EACCES
        );
        let ug = Creds {
            groups: vec![555],
            ..user()
        };
        assert_eq!(
            read_fd(done(c.open("/etc/grp", libc::O_RDONLY, 0, &ug, 0))),
            "g"
        );
        // and back to root on the same channel thread
        assert_eq!(
            read_fd(done(c.open("/etc/secret", libc::O_RDONLY, 0, &ROOT, 0))),
            "s"
        );
        // fsuid 1000 with CAP_DAC_OVERRIDE may read it
        let capped = Creds {
            cap_effective: 1 << 1, /* CAP_DAC_OVERRIDE */
            ..user()
        };
        assert_eq!(
            read_fd(done(c.open("/etc/secret", libc::O_RDONLY, 0, &capped, 0))),
            "s"
        );
        // the test thread itself was not affected
        assert!(std::fs::read(f.t.p("etc/secret")).is_ok());
    }

    #[test]
    fn malformed_request_gets_einval() {
        let (a, b) = crate::sandbox::sync::seqpacket_pair().unwrap();
        let t = TempTree::new("bad");
        let root = t.root_fd();
        let h = std::thread::spawn(move || serve(root, vec![b], GoferConfig::default()));
        let mut buf = vec![0u8; 64];
        for junk in [
            &b"\x01\x01\x00"[..],
            b"\x02",
            b"\x01\xff\xff",
            b"\x01\x01\x00\x00\x00\x00\x00",
        ] {
            sys::send_packet(a.as_fd(), junk, None).unwrap();
            let p = sys::recv_packet(a.as_fd(), &mut buf).unwrap();
            assert_eq!(
                Response::decode(&buf[..p.len]).unwrap(),
                Response::Error(ErrorResp {
                    errno: libc::EINVAL
                })
            );
        }
        drop(a);
        h.join().unwrap().unwrap();
    }

    /// OpenProcFile end to end against the host's /proc (standing in for
    /// the container's pid-subset procfs): the test thread's own comm is
    /// opened for writing and renames it; anything but the fixed names of
    /// positive ids is refused.
    #[test]
    fn open_proc_file_opens_only_task_files() {
        use crate::gofer::proto::ProcFile;
        let (a, b) = crate::sandbox::sync::seqpacket_pair().unwrap();
        let t = TempTree::new("procfile");
        let root = t.root_fd();
        let proc = crate::gofer::testutil::open_path(std::path::Path::new("/proc"));
        let cfg = GoferConfig {
            synthetic_mounts: vec![],
            served_inside_synthetic: Vec::new(),
            proc_mount: Some(Arc::new(proc)),
            owner: None,
            lanes: None,
        };
        let server = std::thread::spawn(move || serve(root, vec![b], cfg));
        let client = Client::new(a);
        let pid = std::process::id() as i32;
        // SAFETY: gettid has no arguments and cannot fail.
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as i32;
        let fd = client
            .open_proc_file(
                pid,
                Some(tid),
                ProcFile::Comm,
                libc::O_WRONLY | libc::O_TRUNC,
            )
            .expect("own thread's comm");
        let mut f = std::fs::File::from(fd);
        std::io::Write::write_all(&mut f, b"procw-test").unwrap();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).unwrap();
        assert_eq!(comm, "procw-test\n");
        let fd = client
            .open_proc_file(pid, None, ProcFile::OomScoreAdj, libc::O_RDONLY)
            .expect("own oom_score_adj");
        assert!(!read_fd(fd).is_empty());
        // A thread's memory: this very static, read through the fd.
        static MARK: [u8; 8] = *b"memfile!";
        let fd = client
            .open_proc_file(pid, Some(tid), ProcFile::Mem, libc::O_RDONLY)
            .expect("own thread's mem");
        let mut buf = [0u8; 8];
        let n = nix::sys::uio::pread(&fd, &mut buf, MARK.as_ptr() as i64).expect("pread mem");
        assert_eq!((n, buf), (8, MARK));
        let refused = [
            (0, None, ProcFile::Comm, libc::O_WRONLY, Errno::EINVAL),
            (-1, None, ProcFile::Comm, libc::O_WRONLY, Errno::EINVAL),
            (pid, Some(0), ProcFile::Comm, libc::O_WRONLY, Errno::EINVAL),
            (
                pid,
                Some(tid),
                ProcFile::OomScoreAdj,
                libc::O_WRONLY,
                Errno::EINVAL,
            ),
            (
                pid,
                None,
                ProcFile::Comm,
                libc::O_WRONLY | libc::O_CREAT,
                Errno::EINVAL,
            ),
            (pid, None, ProcFile::Comm, libc::O_PATH, Errno::EINVAL),
            (
                i32::MAX,
                None,
                ProcFile::Comm,
                libc::O_WRONLY,
                Errno::ENOENT,
            ),
        ];
        for (pid, tid, file, flags, want) in refused {
            let got = client.open_proc_file(pid, tid, file, flags).map(drop);
            assert_eq!(got, Err(want), "{pid} {tid:?} {file:?} {flags:#o}");
        }
        drop(client);
        server.join().unwrap().unwrap();
        // Without the procfs (a container in the host's pid namespace).
        let (a, b) = crate::sandbox::sync::seqpacket_pair().unwrap();
        let server =
            std::thread::spawn(move || serve(t.root_fd(), vec![b], GoferConfig::default()));
        let client = Client::new(a);
        let got = client
            .open_proc_file(pid, None, ProcFile::Comm, libc::O_WRONLY)
            .map(drop);
        assert_eq!(got, Err(Errno::EACCES));
        drop(client);
        server.join().unwrap().unwrap();
    }

    /// Two mappings of one lane (the sentry's and the gofer's) and the
    /// channel's socket ends.
    fn lane_pair() -> (Lane, Lane, OwnedFd, OwnedFd) {
        let (fa, fb) = lane::create(1).unwrap();
        let sentry = lane::Lanes::map(&fa, 1).unwrap().lane(0).unwrap();
        let gofer = lane::Lanes::map(&fb, 1).unwrap().lane(0).unwrap();
        let (a, b) = crate::sandbox::sync::seqpacket_pair().unwrap();
        (sentry, gofer, a, b)
    }

    fn wait_for(what: &str, f: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !f() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::yield_now();
        }
    }

    /// Every hand-over of `gofer::lane`, each end driven by hand.
    #[test]
    fn lane_hand_overs() {
        use crate::gofer::client::exchange_on_lane;
        // Polling that outlasts any delay of a loaded machine, or none.
        let long = std::time::Duration::from_secs(60);
        let none = std::time::Duration::ZERO;
        let (sentry, gofer, a, b) = lane_pair();
        let mut buf = vec![0u8; MAX_MESSAGE_SIZE + 1];
        let mut sbuf = vec![0u8; MAX_MESSAGE_SIZE + 1];
        std::thread::scope(|s| {
            // A polling gofer: request and reply through the lane.
            gofer.set_request_state(lane::WATCHING);
            let c = s.spawn(|| {
                exchange_on_lane(&sentry, a.as_fd(), b"req one", None, &mut sbuf, long)
                    .map(|p| (p.len, p.fds.len()))
            });
            let p = next_request_on_lane(&gofer, b.as_fd(), &mut buf, long).unwrap();
            assert_eq!(&buf[..p.len], b"req one");
            assert_eq!(gofer.request_state(), lane::POSTED);
            reply_on_lane(&gofer, b.as_fd(), b"reply one", None).unwrap();
            assert_eq!(c.join().unwrap(), Ok((9, 0)));
            assert_eq!(gofer.request_state(), lane::WATCHING);
            assert_eq!(sentry.reply_state(), lane::READY);
        });
        assert_eq!(&sbuf[..9], b"reply one");
        std::thread::scope(|s| {
            // A sleeping gofer: the request goes to its socket; a sentry
            // that stopped polling gets the reply from its socket too.
            gofer.set_request_state(lane::IDLE);
            let c = s.spawn(|| {
                exchange_on_lane(&sentry, a.as_fd(), b"req two", None, &mut sbuf, none)
                    .map(|p| p.len)
            });
            let p = sys::recv_packet(b.as_fd(), &mut buf).unwrap();
            assert_eq!(&buf[..p.len], b"req two");
            assert_eq!(gofer.request_state(), lane::IDLE);
            wait_for("the sentry sleeps after its spin", || {
                sentry.reply_state() == lane::SLEEPING
            });
            reply_on_lane(&gofer, b.as_fd(), b"reply two", None).unwrap();
            assert_eq!(c.join().unwrap(), Ok(9));
        });
        assert_eq!(&sbuf[..9], b"reply two");
        std::thread::scope(|s| {
            // A request with an fd goes to the socket, and a polling gofer
            // is told so; an fd comes back through the socket.
            gofer.set_request_state(lane::WATCHING);
            let devnull = std::fs::File::open("/dev/null").unwrap();
            let (sentry, a, sbuf) = (&sentry, &a, &mut sbuf);
            let c = s.spawn(move || {
                exchange_on_lane(
                    sentry,
                    a.as_fd(),
                    b"req three",
                    Some(devnull.as_fd()),
                    sbuf,
                    long,
                )
                .map(|p| (p.len, p.fds.len()))
            });
            let p = next_request_on_lane(&gofer, b.as_fd(), &mut buf, long).unwrap();
            assert_eq!((&buf[..p.len], p.fds.len()), (&b"req three"[..], 1));
            let fd = p.fds.into_iter().next();
            reply_on_lane(&gofer, b.as_fd(), b"fd", fd.as_ref()).unwrap();
            assert_eq!(c.join().unwrap(), Ok((2, 1)));
            assert_eq!(sentry.reply_state(), lane::READY_SOCKET);
        });
        // A gofer's garbage fails the call instead of hanging it.
        std::thread::scope(|s| {
            gofer.set_request_state(lane::WATCHING);
            let c = s.spawn(|| {
                exchange_on_lane(&sentry, a.as_fd(), b"req four", None, &mut sbuf, long)
                    .map(|p| p.len)
            });
            next_request_on_lane(&gofer, b.as_fd(), &mut buf, long).unwrap();
            gofer.set_reply_state(77);
            assert_eq!(c.join().unwrap(), Err(Errno::EIO));
        });
        // A sentry's garbage sends the gofer to the socket; so does the
        // end of its polling.
        gofer.set_request_state(99);
        sys::send_packet(a.as_fd(), b"by socket", None).unwrap();
        let p = next_request_on_lane(&gofer, b.as_fd(), &mut buf, long).unwrap();
        assert_eq!(&buf[..p.len], b"by socket");
        assert_eq!(gofer.request_state(), lane::IDLE);
        gofer.set_request_state(lane::WATCHING);
        std::thread::scope(|s| {
            s.spawn(|| {
                wait_for("the gofer sleeps after its spin", || {
                    gofer.request_state() == lane::IDLE
                });
                sys::send_packet(a.as_fd(), b"late", None).unwrap();
            });
            let p = next_request_on_lane(&gofer, b.as_fd(), &mut buf, none).unwrap();
            assert_eq!(&buf[..p.len], b"late");
        });
        // An empty or oversized request in the lane is malformed.
        sentry.put_request(b"");
        gofer.set_request_state(lane::POSTED);
        let p = next_request_on_lane(&gofer, b.as_fd(), &mut buf, long).unwrap();
        assert!(p.truncated);
    }

    /// A gofer and a sentry's client with a lane, polling: requests with
    /// fd replies, writable fds, and changes, also after the gofer slept.
    #[test]
    fn lane_serves_a_client() {
        let t = TempTree::new("lane");
        std::fs::create_dir_all(t.p("d")).unwrap();
        let (sentry, gofer, a, b) = lane_pair();
        let root = t.root_fd();
        let cfg = GoferConfig {
            lanes: Some(gofer.lanes_for_test()),
            ..GoferConfig::default()
        };
        drop(gofer);
        let server = std::thread::spawn(move || serve(root, vec![b], cfg));
        let c = Client::with_lane(a, Some(sentry));
        for round in 0..3 {
            let name = format!("/d/f{round}");
            let fd = done(c.open(&name, libc::O_WRONLY | libc::O_CREAT, 0o644, &ROOT, 0));
            std::io::Write::write_all(&mut std::fs::File::from(fd), b"x").unwrap();
            done(c.chmod(&name, 0o600, Follow::Follow, &ROOT, 0));
            let mode = std::fs::metadata(t.p(&name[1..]))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            done(c.mkdir(format!("/d/sub{round}"), 0o755, 0, &ROOT, 0));
            assert_eq!(
                c.mkdir(format!("/d/sub{round}"), 0o755, 0, &ROOT, 0)
                    .unwrap_err(),
                Errno::EEXIST
            );
            done(c.unlink(&name, false, &ROOT, 0));
            assert!(!t.p(&name[1..]).exists());
            // Past the gofer's polling: the next request wakes it through
            // the socket.
            std::thread::sleep(REQUEST_SPIN * 3);
        }
        drop(c);
        server.join().unwrap().unwrap();
    }
}
