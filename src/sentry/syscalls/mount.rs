//! The mount calls the sandbox refuses, with Linux's errno in Linux's
//! order: the flags and the path are checked first (EINVAL, ENOENT,
//! ENOTDIR, EACCES, ELOOP as the kernel's `do_mount`, `ksys_umount` and
//! `mount_setattr` give them), and only then EPERM, which Linux gives a
//! caller without CAP_SYS_ADMIN over its mount namespace and the sandbox
//! gives everyone: there is no emulated mount table, and the workload's
//! kernel mount namespace must hold only the container's mounts.

use nix::errno::Errno;

use super::{Ctx, SysResult, AT_FDCWD};
use crate::gofer::Follow;

/// MS_NOUSER: never valid from user space (path_mount).
const MS_NOUSER: u64 = 1 << 31;
/// The old magic in the flags' top half (MS_MGC_VAL under MS_MGC_MSK),
/// which the kernel strips first.
const MS_MGC_MSK: u64 = 0xffff_0000;
const MS_MGC_VAL: u64 = 0xc0ed_0000;
/// umount2's flags: MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW.
const UMOUNT_FLAGS: i32 = 0x1 | 0x2 | 0x4 | 0x8;
const UMOUNT_NOFOLLOW: i32 = 0x8;
/// mount_setattr's flags: AT_EMPTY_PATH | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW
/// | AT_NO_AUTOMOUNT.
const SETATTR_FLAGS: i32 = 0x1000 | 0x8000 | 0x100 | 0x800;
/// sizeof(struct mount_attr) of its first version.
const MOUNT_ATTR_SIZE_VER0: u64 = 32;
const PAGE_SIZE: u64 = 4096;

/// Looks `path_idx` up (from `dirfd`) as the kernel's user_path_at would,
/// for its errors only.
fn look_up(ctx: &mut Ctx, dirfd: i32, path_idx: usize, follow: Follow) -> Result<(), Errno> {
    let path = ctx.path_arg(path_idx)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let abs = ctx.abs_path(dirfd, &path)?;
    ctx.resolve(&abs, follow).map(|_| ())
}

/// mount(2): the target's lookup errors, EINVAL for MS_NOUSER, else EPERM.
pub fn mount(ctx: &mut Ctx) -> SysResult {
    let mut flags = ctx.arg(3) & 0xffff_ffff;
    if flags & MS_MGC_MSK == MS_MGC_VAL {
        flags &= !MS_MGC_MSK;
    }
    look_up(ctx, AT_FDCWD, 1, Follow::Follow)?;
    if flags & MS_NOUSER != 0 {
        return Err(Errno::EINVAL);
    }
    Err(Errno::EPERM)
}

/// umount2(2): EINVAL for unknown flags, the target's lookup errors
/// (UMOUNT_NOFOLLOW: of the link itself), else EPERM.
pub fn umount2(ctx: &mut Ctx) -> SysResult {
    let flags = ctx.arg_i32(1);
    if flags & !UMOUNT_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let follow = if flags & UMOUNT_NOFOLLOW != 0 {
        Follow::NoFollow
    } else {
        Follow::Follow
    };
    look_up(ctx, AT_FDCWD, 0, follow)?;
    Err(Errno::EPERM)
}

/// mount_setattr(2): EINVAL for unknown flags, E2BIG or EINVAL for the
/// attribute's size, else EPERM (Linux checks the privilege before it
/// looks the path up).
pub fn mount_setattr(ctx: &mut Ctx) -> SysResult {
    let (flags, size) = (ctx.arg_i32(2), ctx.arg(4));
    if flags & !SETATTR_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    if size > PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    if size < MOUNT_ATTR_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    Err(Errno::EPERM)
}

#[cfg(test)]
mod handler_tests {
    use nix::errno::Errno;

    use crate::sentry::testkit::{errno, Kit};

    #[test]
    fn mount_checks_the_target_then_refuses() {
        let k = Kit::new("mount");
        std::fs::create_dir(k.host("d")).unwrap();
        std::fs::write(k.host("f"), "").unwrap();
        let (d, nope, under_file) = (k.path("/d"), k.path("/nope"), k.path("/f/x"));
        assert_eq!(errno(k.call("mount", [0, d, 0, 0, 0, 0])), Errno::EPERM);
        assert_eq!(errno(k.call("mount", [0, nope, 0, 0, 0, 0])), Errno::ENOENT);
        assert_eq!(
            errno(k.call("mount", [0, under_file, 0, 0, 0, 0])),
            Errno::ENOTDIR
        );
        assert_eq!(
            errno(k.call("mount", [0, d, 0, super::MS_NOUSER, 0, 0])),
            Errno::EINVAL
        );
        // The old magic value is no MS_NOUSER.
        assert_eq!(
            errno(k.call("mount", [0, d, 0, super::MS_MGC_VAL | 1, 0, 0])),
            Errno::EPERM
        );
    }

    #[test]
    fn umount2_checks_flags_and_target_then_refuses() {
        let k = Kit::new("umount2");
        std::fs::create_dir(k.host("d")).unwrap();
        let (d, nope) = (k.path("/d"), k.path("/nope"));
        assert_eq!(
            errno(k.call("umount2", [d, 0x100, 0, 0, 0, 0])),
            Errno::EINVAL
        );
        assert_eq!(
            errno(k.call("umount2", [nope, 0, 0, 0, 0, 0])),
            Errno::ENOENT
        );
        assert_eq!(errno(k.call("umount2", [d, 2, 0, 0, 0, 0])), Errno::EPERM);
    }

    #[test]
    fn mount_setattr_checks_flags_and_size_then_refuses() {
        let k = Kit::new("mount_setattr");
        let d = k.path("/");
        let at = super::AT_FDCWD as u64;
        let call =
            |flags: u64, size: u64| errno(k.call("mount_setattr", [at, d, flags, 0, size, 0]));
        assert_eq!(call(0x8000_0000, 32), Errno::EINVAL);
        assert_eq!(call(0, 8192), Errno::E2BIG);
        assert_eq!(call(0, 8), Errno::EINVAL);
        assert_eq!(call(0x8000, 32), Errno::EPERM);
    }
}
