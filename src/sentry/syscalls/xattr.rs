//! Extended attributes by path: the gofer does them (by directory and
//! name, so a final symlink is addressed itself for the l* calls) with the
//! caller's credentials, so the kernel's own rules decide (user.* needs
//! read/write permission, security.capability CAP_SETFCAP, trusted.*
//! CAP_SYS_ADMIN). fsetxattr and fremovexattr go the same way for files
//! the gofer can reach by path (the workload has no host CAP_FOWNER, which
//! root's ACL and xattr writes on other users' files need); fgetxattr and
//! flistxattr pass through.

use nix::errno::Errno;

use super::{Ctx, Outcome, SysResult, AT_FDCWD};
use crate::gofer::{Follow, XattrOp};
use crate::sentry::platform::read_cstring;

/// Linux's limits (include/uapi/linux/limits.h).
const XATTR_NAME_MAX: usize = 255;
const XATTR_SIZE_MAX: usize = 65536;
const XATTR_LIST_MAX: usize = 65536;

/// The attribute name argument: ERANGE when empty or too long, as Linux.
fn name_arg(ctx: &mut Ctx, i: usize) -> Result<Vec<u8>, Errno> {
    let name = read_cstring(ctx.platform, &ctx.req, ctx.arg(i), XATTR_NAME_MAX).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::ERANGE
        } else {
            e
        }
    })?;
    if name.is_empty() {
        return Err(Errno::ERANGE);
    }
    ctx.note(|| format!("{:?}", String::from_utf8_lossy(&name)));
    Ok(name)
}

fn follow_of(nofollow: bool) -> Follow {
    if nofollow {
        Follow::NoFollow
    } else {
        Follow::Follow
    }
}

/// Runs `op` on the path argument 0. Synthetic files (/proc, /sys) have
/// no extended attributes: Get gives ENODATA, List nothing, Set and Remove
/// EOPNOTSUPP (as procfs and sysfs answer).
fn on_path_xattr(
    ctx: &mut Ctx,
    op: XattrOp,
    name: &[u8],
    value: &[u8],
    flags: i32,
    nofollow: bool,
) -> Result<Vec<u8>, Errno> {
    let path = ctx.path_arg(0)?;
    let abs = ctx.abs_path(AT_FDCWD, &path)?;
    let follow = follow_of(nofollow);
    let abs = match follow {
        Follow::Follow => ctx.follow_synthetic_link(&abs)?,
        Follow::NoFollow => abs,
    };
    let data = ctx.on_path(
        &abs,
        |g, p, c, l| g.xattr(p, op, name, value, flags, follow, c, l),
        |ctx, fs, rel, _| {
            ctx.synthetic_lookup(fs, rel)?;
            match op {
                XattrOp::Get => Err(Errno::ENODATA),
                XattrOp::List => Ok(Vec::new()),
                XattrOp::Set | XattrOp::Remove => Err(Errno::EOPNOTSUPP),
            }
        },
    )?;
    if matches!(op, XattrOp::Set | XattrOp::Remove) {
        // An ACL may now refuse searches the directory's mode allowed.
        ctx.sentry.dcache.forget(&abs);
    }
    Ok(data)
}

/// Copies `data` to the caller's buffer by getxattr/listxattr rules: size 0
/// asks for the length, a short buffer gets ERANGE.
fn reply_data(ctx: &Ctx, data: &[u8], buf: u64, size: usize) -> SysResult {
    if size == 0 {
        return Ok(Outcome::Value(data.len() as i64));
    }
    if data.len() > size {
        return Err(Errno::ERANGE);
    }
    ctx.write(buf, data)?;
    Ok(Outcome::Value(data.len() as i64))
}

/// The name, value and flags of a set*xattr call (arguments 1 to 4, as
/// setxattr and fsetxattr share them), checked as the kernel checks them.
fn set_args(ctx: &mut Ctx) -> Result<(Vec<u8>, Vec<u8>, i32), Errno> {
    let name = name_arg(ctx, 1)?;
    let (value_addr, size, flags) = (ctx.arg(2), ctx.arg(3) as usize, ctx.arg_i32(4));
    if flags & !(libc::XATTR_CREATE | libc::XATTR_REPLACE) != 0 {
        return Err(Errno::EINVAL);
    }
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let value = if size == 0 {
        Vec::new()
    } else {
        ctx.read_bytes(value_addr, size)?
    };
    Ok((name, value, flags))
}

fn do_setxattr(ctx: &mut Ctx, nofollow: bool) -> SysResult {
    let (name, value, flags) = set_args(ctx)?;
    on_path_xattr(ctx, XattrOp::Set, &name, &value, flags, nofollow)?;
    Ok(Outcome::Value(0))
}

fn do_getxattr(ctx: &mut Ctx, nofollow: bool) -> SysResult {
    let name = name_arg(ctx, 1)?;
    let (buf, size) = (ctx.arg(2), (ctx.arg(3) as usize).min(XATTR_SIZE_MAX));
    let data = on_path_xattr(ctx, XattrOp::Get, &name, &[], 0, nofollow)?;
    reply_data(ctx, &data, buf, size)
}

fn do_listxattr(ctx: &mut Ctx, nofollow: bool) -> SysResult {
    let (buf, size) = (ctx.arg(1), (ctx.arg(2) as usize).min(XATTR_LIST_MAX));
    let data = on_path_xattr(ctx, XattrOp::List, &[], &[], 0, nofollow)?;
    reply_data(ctx, &data, buf, size)
}

fn do_removexattr(ctx: &mut Ctx, nofollow: bool) -> SysResult {
    let name = name_arg(ctx, 1)?;
    on_path_xattr(ctx, XattrOp::Remove, &name, &[], 0, nofollow)?;
    Ok(Outcome::Value(0))
}

/// Runs a Set or Remove on the file behind fd argument 0; `None` when the
/// kernel should do it (see attr::fd_gofer_path).
fn on_fd_xattr(
    ctx: &mut Ctx,
    op: XattrOp,
    name: &[u8],
    value: &[u8],
    flags: i32,
) -> Result<Option<()>, Errno> {
    let fd = ctx.arg_i32(0);
    let Some(abs) = super::attr::fd_gofer_path(ctx, fd)? else {
        return Ok(None);
    };
    ctx.on_path(
        &abs,
        |g, p, c, l| g.xattr(p, op, name, value, flags, Follow::NoFollow, c, l),
        |_, _, _, _| Err(Errno::EOPNOTSUPP),
    )?;
    ctx.sentry.dcache.forget(&abs);
    Ok(Some(()))
}

/// fsetxattr(2).
pub fn fsetxattr(ctx: &mut Ctx) -> SysResult {
    let (name, value, flags) = set_args(ctx)?;
    match on_fd_xattr(ctx, XattrOp::Set, &name, &value, flags)? {
        Some(()) => Ok(Outcome::Value(0)),
        None => Ok(Outcome::Continue),
    }
}

/// fremovexattr(2).
pub fn fremovexattr(ctx: &mut Ctx) -> SysResult {
    let name = name_arg(ctx, 1)?;
    match on_fd_xattr(ctx, XattrOp::Remove, &name, &[], 0)? {
        Some(()) => Ok(Outcome::Value(0)),
        None => Ok(Outcome::Continue),
    }
}

/// setxattr(2).
pub fn setxattr(ctx: &mut Ctx) -> SysResult {
    do_setxattr(ctx, false)
}

/// lsetxattr(2).
pub fn lsetxattr(ctx: &mut Ctx) -> SysResult {
    do_setxattr(ctx, true)
}

/// getxattr(2).
pub fn getxattr(ctx: &mut Ctx) -> SysResult {
    do_getxattr(ctx, false)
}

/// lgetxattr(2).
pub fn lgetxattr(ctx: &mut Ctx) -> SysResult {
    do_getxattr(ctx, true)
}

/// listxattr(2).
pub fn listxattr(ctx: &mut Ctx) -> SysResult {
    do_listxattr(ctx, false)
}

/// llistxattr(2).
pub fn llistxattr(ctx: &mut Ctx) -> SysResult {
    do_listxattr(ctx, true)
}

/// removexattr(2).
pub fn removexattr(ctx: &mut Ctx) -> SysResult {
    do_removexattr(ctx, false)
}

/// lremovexattr(2).
pub fn lremovexattr(ctx: &mut Ctx) -> SysResult {
    do_removexattr(ctx, true)
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use nix::errno::Errno;

    use crate::sentry::testkit::{errno, value, Kit};

    /// A tree with an empty file "f". Its file system takes user xattrs
    /// (tmpfs since Linux 6.6, ext4, xfs, btrfs).
    fn tree(tag: &str) -> Kit {
        let k = Kit::new(tag);
        std::fs::write(k.host("f"), "").unwrap();
        k
    }

    #[test]
    fn setxattr_then_getxattr_round_trips() {
        let k = tree("xattr");
        let (p, n, v) = (k.path("/f"), k.path("user.k"), k.platform.put(b"value"));
        assert_eq!(value(k.call("setxattr", [p, n, v, 5, 0, 0])), 0);
        let buf = k.platform.buf(16);
        assert_eq!(value(k.call("getxattr", [p, n, buf, 16, 0, 0])), 5);
        assert_eq!(k.platform.get(buf, 5), b"value");
        // Size 0 asks for the length only.
        assert_eq!(value(k.call("getxattr", [p, n, 0, 0, 0, 0])), 5);
    }

    #[test]
    fn getxattr_short_buffer_is_erange() {
        let k = tree("xattr-short");
        let (p, n, v) = (k.path("/f"), k.path("user.k"), k.platform.put(b"value"));
        value(k.call("setxattr", [p, n, v, 5, 0, 0]));
        let buf = k.platform.buf(16);
        assert_eq!(
            errno(k.call("getxattr", [p, n, buf, 2, 0, 0])),
            Errno::ERANGE
        );
    }

    #[test]
    fn getxattr_missing_is_enodata() {
        let k = tree("xattr-missing");
        let (p, n, buf) = (k.path("/f"), k.path("user.none"), k.platform.buf(16));
        assert_eq!(
            errno(k.call("getxattr", [p, n, buf, 16, 0, 0])),
            Errno::ENODATA
        );
    }

    #[test]
    fn listxattr_and_removexattr() {
        let k = tree("xattr-list");
        let (p, n, v) = (k.path("/f"), k.path("user.k"), k.platform.put(b"v"));
        value(k.call("setxattr", [p, n, v, 1, 0, 0]));
        let buf = k.platform.buf(64);
        let len = value(k.call("listxattr", [p, buf, 64, 0, 0, 0])) as usize;
        let names = k.platform.get(buf, len);
        assert!(
            names.split(|b| *b == 0).any(|s| s == b"user.k"),
            "{names:?}"
        );
        assert_eq!(value(k.call("removexattr", [p, n, 0, 0, 0, 0])), 0);
        assert_eq!(
            errno(k.call("removexattr", [p, n, 0, 0, 0, 0])),
            Errno::ENODATA
        );
    }

    #[test]
    fn setxattr_empty_name_is_erange() {
        let k = Kit::new("xattr-name");
        let (p, n, v) = (k.path("/f"), k.path(""), k.platform.put(b"v"));
        assert_eq!(errno(k.call("setxattr", [p, n, v, 1, 0, 0])), Errno::ERANGE);
    }

    #[test]
    fn setxattr_unknown_flag_is_einval() {
        let k = Kit::new("xattr-flags");
        let (p, n, v) = (k.path("/f"), k.path("user.k"), k.platform.put(b"v"));
        assert_eq!(
            errno(k.call("setxattr", [p, n, v, 1, 0x4, 0])),
            Errno::EINVAL
        );
    }

    #[test]
    fn setxattr_create_on_existing_is_eexist() {
        let k = tree("xattr-create");
        let (p, n, v) = (k.path("/f"), k.path("user.k"), k.platform.put(b"v"));
        value(k.call("setxattr", [p, n, v, 1, 0, 0]));
        let create = libc::XATTR_CREATE as u64;
        assert_eq!(
            errno(k.call("setxattr", [p, n, v, 1, create, 0])),
            Errno::EEXIST
        );
    }
}
