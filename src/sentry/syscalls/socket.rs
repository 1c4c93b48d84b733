//! bind(2) and connect(2) of AF_UNIX path sockets. The sentry reads the
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
    Ok(Outcome::Value(0))
}

/// bind(2).
pub fn bind(ctx: &mut Ctx) -> SysResult {
    bind_or_connect(ctx, false)
}

/// connect(2).
pub fn connect(ctx: &mut Ctx) -> SysResult {
    bind_or_connect(ctx, true)
}
