//! inotify_add_watch(2). The path is resolved in the sandbox's view and the
//! gofer adds the watch to the workload's own inotify instance (the sentry
//! takes it with pidfd_getfd and passes it along), as the caller; events
//! then arrive through the kernel as for any watch. inotify_init1,
//! inotify_rm_watch and reading events need no path and go to the kernel.

use std::os::fd::AsFd;

use nix::errno::Errno;

use super::{Ctx, Outcome, SysResult, AT_FDCWD};
use crate::gofer::Follow;
use crate::sentry::sys;

/// Linux's ALL_INOTIFY_BITS: events, IN_UNMOUNT, IN_Q_OVERFLOW, IN_IGNORED
/// and the flags.
const ALL_INOTIFY_BITS: u32 = 0xf700_efff;
const IN_MASK_CREATE: u32 = 0x1000_0000;

/// inotify_add_watch(2).
pub fn inotify_add_watch(ctx: &mut Ctx) -> SysResult {
    let fd = ctx.arg_i32(0);
    ctx.note(|| fd.to_string());
    let path = ctx.path_arg(1)?;
    let mask = ctx.arg(2) as u32;
    ctx.note(|| format!("{mask:#x}"));
    // Linux checks the mask before the fd and the path.
    if mask & ALL_INOTIFY_BITS == 0 {
        return Err(Errno::EINVAL);
    }
    if mask & libc::IN_MASK_ADD != 0 && mask & IN_MASK_CREATE != 0 {
        return Err(Errno::EINVAL);
    }
    let link = sys::with_task_fd_path(ctx.tid(), fd, |p| std::fs::read_link(p))
        .map_err(|_| Errno::EBADF)?;
    if link.as_os_str().as_encoded_bytes() != b"anon_inode:inotify" {
        return Err(Errno::EINVAL);
    }
    let inotify = sys::getfd(ctx.tid(), fd)?;
    let follow = if mask & libc::IN_DONT_FOLLOW != 0 {
        Follow::NoFollow
    } else {
        Follow::Follow
    };
    let mut abs = ctx.abs_path(AT_FDCWD, &path)?;
    if follow == Follow::Follow {
        // /proc/self/fd/N, /proc/self/cwd: watch what they lead to.
        abs = ctx.follow_synthetic_link(&abs)?;
    }
    let wd = ctx.on_path(
        &abs,
        |g, p, c, l| g.inotify_add_watch(inotify.as_fd(), p, follow, mask, c, l),
        |ctx, fs, rel, _| {
            let node = ctx.synthetic_lookup(fs, rel)?;
            if mask & libc::IN_ONLYDIR != 0 && !node.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            // Synthetic files never change behind the workload's back:
            // the watch (on the sentry's empty stand-in directory, one
            // for all of them) never reports an event.
            sys::inotify_add_watch_fd(
                inotify.as_fd(),
                ctx.sentry.synthetic_dir.as_fd(),
                mask & !libc::IN_ONLYDIR,
            )
        },
    )?;
    Ok(Outcome::Value(wd.into()))
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use std::os::fd::AsRawFd;

    use nix::errno::Errno;

    use crate::sentry::testkit::{errno, value, Kit};

    #[test]
    fn inotify_add_watch_on_a_tree_file() {
        let k = Kit::new("inotify");
        std::fs::write(k.host("f"), "").unwrap();
        // The caller's inotify fd: the test's own.
        let ino = crate::sentry::sys::inotify_init().unwrap();
        let fd = ino.as_raw_fd() as u64;
        let p = k.path("/f");
        let wd = value(k.call(
            "inotify_add_watch",
            [fd, p, libc::IN_MODIFY as u64, 0, 0, 0],
        ));
        assert!(wd >= 1);
    }

    #[test]
    fn inotify_add_watch_empty_mask_is_einval() {
        let k = Kit::new("inotify-mask");
        let p = k.path("/f");
        assert_eq!(
            errno(k.call("inotify_add_watch", [0, p, 0, 0, 0, 0])),
            Errno::EINVAL
        );
    }

    #[test]
    fn inotify_add_watch_on_a_non_inotify_fd_is_einval() {
        let k = Kit::new("inotify-fd");
        let f = std::fs::File::open("/dev/null").unwrap();
        let p = k.path("/f");
        let fd = f.as_raw_fd() as u64;
        assert_eq!(
            errno(k.call(
                "inotify_add_watch",
                [fd, p, libc::IN_MODIFY as u64, 0, 0, 0]
            )),
            Errno::EINVAL
        );
    }
}
