//! bind(2) and connect(2) of AF_UNIX path sockets, and SO_PEERCRED
//! (getsockopt). The sentry reads the
//! address; a path is resolved in the sandbox's view (synthetic mounts
//! refuse it) and the gofer binds or connects the workload's own socket,
//! which the sentry takes with pidfd_getfd and passes over its channel.
//! Every other address (AF_INET, AF_INET6, abstract and unnamed AF_UNIX,
//! malformed lengths) holds no path: the kernel does those itself. A
//! workload that rewrites such an address into a path after the check
//! only reaches its own mount namespace, which holds the container's
//! mounts and nothing else (what bind and connect did before this file).

use std::os::fd::AsFd;

use nix::errno::Errno;

use super::{Ctx, Outcome, SysResult, AT_FDCWD};
use crate::gofer::{Follow, Walked};
use crate::sentry::sys;

/// offsetof(struct sockaddr_un, sun_path).
const SUN_PATH_OFFSET: usize = std::mem::size_of::<libc::sa_family_t>();
/// sizeof(struct sockaddr_un).
const SOCKADDR_UN_LEN: usize = std::mem::size_of::<libc::sockaddr_un>();

/// The path of an AF_UNIX address of `len` bytes at `addr`, or `None` when
/// the address names no file (another family, abstract, unnamed).
fn unix_path(ctx: &mut Ctx, addr: u64, len: i64) -> Result<Option<Vec<u8>>, Errno> {
    if addr == 0 || len <= SUN_PATH_OFFSET as i64 || len > 128 {
        // No address, unnamed (autobind) or a length the kernel refuses.
        return Ok(None);
    }
    let head = ctx.read_bytes(addr, SUN_PATH_OFFSET + 1)?;
    let family = u16::from_ne_bytes([head[0], head[1]]);
    if i32::from(family) != libc::AF_UNIX || head[SUN_PATH_OFFSET] == 0 {
        return Ok(None);
    }
    if len as usize > SOCKADDR_UN_LEN {
        return Err(Errno::EINVAL);
    }
    let raw = ctx.read_bytes(addr, len as usize)?;
    let sun_path = &raw[SUN_PATH_OFFSET..];
    // As the kernel: the path ends at the first NUL or at `len`.
    let end = sun_path
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(sun_path.len());
    let path = sun_path[..end].to_vec();
    ctx.note(|| format!("{{AF_UNIX, {:?}}}", String::from_utf8_lossy(&path)));
    Ok(Some(path))
}

fn bind_or_connect(ctx: &mut Ctx, connect: bool) -> SysResult {
    let fd = ctx.arg_i32(0);
    ctx.note(|| fd.to_string());
    let Some(path) = unix_path(ctx, ctx.arg(1), ctx.arg(2) as u32 as i32 as i64)? else {
        return Ok(Outcome::Continue);
    };
    let sock = sys::getfd(ctx.tid(), fd)?;
    match sys::socket_domain(sock.as_fd()) {
        Ok(libc::AF_UNIX) => {}
        // Not an AF_UNIX socket (or no socket): the kernel refuses the
        // address with the errno its family gives.
        _ => return Ok(Outcome::Continue),
    }
    let abs = ctx.abs_path(AT_FDCWD, &path)?;
    if connect && (path.first() == Some(&b'/') || ctx.virtual_cwd()?.is_none()) {
        if let Some(outcome) = connect_in_kernel(ctx, &abs)? {
            return Ok(outcome);
        }
    }
    // The kernel call names the socket as the workload did, from the
    // directory the workload's string starts at.
    let base = if path.first() == Some(&b'/') {
        b"/".to_vec()
    } else {
        ctx.abs_path(AT_FDCWD, b".")?
    };
    let umask = ctx.umask();
    ctx.on_path(
        &abs,
        |g, p, c, l| {
            // After a redirect (a link through /proc) the string no longer
            // leads there: the gofer names the walked parent's entry.
            let base: &[u8] = if p == abs.as_slice() { &base } else { b"" };
            g.socket(sock.as_fd(), p, base, &path, connect, umask, c, l)
        },
        |ctx, fs, rel, _| {
            // Nothing in /proc or /sys is a socket, and a new name there
            // fails its lookup (ENOENT), as on Linux.
            match ctx.synthetic_lookup(fs, rel) {
                Ok(_) if connect => Err(Errno::ECONNREFUSED),
                Ok(_) => Err(Errno::EADDRINUSE),
                Err(e) => Err(e),
            }
        },
    )?;
    if connect {
        // The kernel names the gofer as the peer of the accepting side:
        // remember who connected, with its effective ids now (Linux's
        // SO_PEERCRED), under this socket's inode.
        let c = ctx.cred()?;
        let htgid = ctx.task()?.tgid;
        if let Ok(st) = sys::fstat_fd(sock.as_fd()) {
            ctx.sentry.peers.record(
                st.st_ino,
                crate::sentry::peers::Connector {
                    htgid,
                    euid: c.uid[1],
                    egid: c.gid[1],
                },
            );
        }
    }
    Ok(Outcome::Value(0))
}

/// A connect to a path that leads to a container file the way the kernel
/// walks it (no synthetic mount, no link through /proc on the way): the
/// kernel connects, in the workload's own context, so that a listener
/// whose backlog is full makes the *workload* wait, as on Linux, never a
/// gofer channel or a sentry worker (nothing of the sandbox waits on what
/// the workload controls). The gofer's walk (which never blocks) checks
/// the path first, with the caller's credentials; the kernel then resolves
/// it in the workload's mount namespace, which holds the container's
/// mounts only, and checks write permission on the socket file with the
/// caller's real credentials: a path rewritten in between reaches only a
/// socket of the container the caller may connect to anyway. `None`: the
/// path ends in or passes through a synthetic mount (handled as before).
fn connect_in_kernel(ctx: &mut Ctx, abs: &[u8]) -> Result<Option<Outcome>, Errno> {
    let leads_to_a_file = ctx.on_path(
        abs,
        |g, p, c, l| {
            if p != abs {
                // Redirected through /proc: the kernel would not get there.
                return Ok(Walked::Done(false));
            }
            g.walk(p, Follow::Follow, c, l).map(|w| match w {
                Walked::Done(_) => Walked::Done(true),
                Walked::Redirect(r) => Walked::Redirect(r),
            })
        },
        |_, _, _, _| Ok(false),
    )?;
    Ok(leads_to_a_file.then_some(Outcome::Continue))
}

/// bind(2).
pub fn bind(ctx: &mut Ctx) -> SysResult {
    bind_or_connect(ctx, false)
}

/// connect(2).
pub fn connect(ctx: &mut Ctx) -> SysResult {
    bind_or_connect(ctx, true)
}

/// The ids reported for a peer outside the container: the overflow ids
/// ("nobody"), never the gofer's own (root).
const OVERFLOW_ID: u32 = 65534;

/// getsockopt(2) of SO_PEERCRED (the table sends only optname 17 here;
/// other levels continue). The kernel's answer names the peer's host task
/// and host ids, which are the spec user's for every process: the sentry
/// reports its container pid and its emulated effective uid and gid.
/// A connection the gofer made for a path connect (the workload's connect
/// of a path socket) names the gofer as peer: the sentry reports the task
/// that connected and its ids then (`crate::sentry::peers`). Partial:
/// otherwise Linux reports the ids the peer held when it connected (or
/// listened, or made the socketpair), the sentry those it holds now; a
/// peer outside the container shows pid 0 and the overflow uid and gid
/// (Linux would tell its ids), never the gofer's root.
pub fn getsockopt(ctx: &mut Ctx) -> SysResult {
    let (fd, level, optname) = (ctx.arg_i32(0), ctx.arg_i32(1), ctx.arg_i32(2));
    let (optval, optlen) = (ctx.arg(3), ctx.arg(4));
    ctx.note(|| format!("{fd}, {level}, {optname}"));
    if level != libc::SOL_SOCKET || optname != libc::SO_PEERCRED {
        return Ok(Outcome::Continue);
    }
    let sock = sys::getfd(ctx.tid(), fd)?;
    let kernel = sys::peercred(sock.as_fd())?;
    let b = ctx.read_bytes(optlen, 4)?;
    let len = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let host = ctx.sentry.procfs.host();
    let (pid, uid, gid) = if kernel.pid > 0 && host.in_container(kernel.pid) {
        let cred = ctx.sentry.kernel.creds.get(kernel.pid);
        match (host.container_pid(kernel.pid), cred) {
            (Some(pid), Ok(c)) => {
                let (uid, gid) = ctx.shown_owner(c.uid[1], c.gid[1]);
                (pid, uid, gid)
            }
            // Gone since: what Linux keeps is unknown here.
            _ => (0, OVERFLOW_ID, OVERFLOW_ID),
        }
    } else if kernel.pid > 0 {
        // Outside the container: the gofer, when it connected a path for
        // the workload (who did is on record), or a host process whose
        // socket is bound in. Its pid is not visible in the container, as
        // on Linux; its ids are not told, so the gofer never shows as root.
        let who = sys::fstat_fd(sock.as_fd())
            .ok()
            .and_then(|st| ctx.sentry.peers.connector_of_peer(st.st_ino));
        match who {
            Some(w) => {
                let (uid, gid) = ctx.shown_owner(w.euid, w.egid);
                (host.container_pid(w.htgid).unwrap_or(0), uid, gid)
            }
            None => (0, OVERFLOW_ID, OVERFLOW_ID),
        }
    } else {
        // No peer: the kernel's answer (pid 0, the overflow ids).
        (0, kernel.uid, kernel.gid)
    };
    let mut out = Vec::with_capacity(12);
    out.extend_from_slice(&pid.to_ne_bytes());
    out.extend_from_slice(&uid.to_ne_bytes());
    out.extend_from_slice(&gid.to_ne_bytes());
    let n = (len as usize).min(out.len());
    if n > 0 {
        ctx.write(optval, &out[..n])?;
    }
    ctx.write(optlen, &(n as u32).to_ne_bytes())?;
    Ok(Outcome::Value(0))
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use std::os::fd::AsRawFd;

    use nix::errno::Errno;

    use crate::sentry::testkit::{continued, errno, Kit};

    /// An abstract or unnamed address names no file: the kernel's.
    #[test]
    fn bind_abstract_address_is_the_kernels() {
        let k = Kit::new("bind-abstract");
        let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
        let mut b = (libc::AF_UNIX as u16).to_le_bytes().to_vec();
        b.extend_from_slice(b"\0abstract");
        let (addr, len) = (k.platform.put(&b), b.len() as u64);
        let fd = s.as_raw_fd() as u64;
        assert!(continued(&k.call("bind", [fd, addr, len, 0, 0, 0])));
    }

    // A path bind is not tested here: the gofer names the socket from its
    // own root (the container's, in its mount namespace), which the
    // in-process gofer does not have; tests/lifecycle and the conformance
    // suite's bind cases cover it.

    /// A path address on a socket the caller does not hold: the fd is
    /// looked up in the caller's table first.
    #[test]
    fn bind_path_on_a_bad_fd_fails() {
        let k = Kit::new("bind-badfd");
        let mut b = (libc::AF_UNIX as u16).to_le_bytes().to_vec();
        b.extend_from_slice(b"/s\0");
        let (addr, len) = (k.platform.put(&b), b.len() as u64);
        let e = errno(k.call("bind", [9999, addr, len, 0, 0, 0]));
        assert!(matches!(e, Errno::EBADF | Errno::ESRCH), "{e}");
    }

    /// A non-unix socket: the kernel refuses the address with its family's
    /// errno.
    #[test]
    fn bind_on_an_inet_socket_is_the_kernels() {
        let k = Kit::new("bind-inet");
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut b = (libc::AF_UNIX as u16).to_le_bytes().to_vec();
        b.extend_from_slice(b"/s\0");
        let (addr, len) = (k.platform.put(&b), b.len() as u64);
        let fd = s.as_raw_fd() as u64;
        assert!(continued(&k.call("bind", [fd, addr, len, 0, 0, 0])));
        assert!(!k.host("s").exists());
    }
}
