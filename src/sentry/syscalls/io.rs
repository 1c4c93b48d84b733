//! I/O on open fds is the kernel's, except a rewind of a synthetic file:
//! Linux's procfs generates a file's contents again when it is read from
//! the start, and programs rely on it (procps keeps /proc/stat and
//! /proc/meminfo open and reads them again after `lseek(fd, 0, SEEK_SET)`
//! at each refresh of top, vmstat and free). The sentry regenerates the
//! memfd behind such an fd, then lets the kernel do the call. A pread at
//! offset 0 without a rewind reads what the last rewind (or the open)
//! made: trapping every pread of a file's start would cost all files.

use std::collections::VecDeque;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex, OnceLock};

use super::{Ctx, Outcome, SysResult};
use crate::sentry::fs::procfs::Node;
use crate::sentry::sys;
use crate::sentry::vfs::{self, Location};

/// lseek(2), sent here for `lseek(fd, 0, SEEK_SET)` only.
pub fn lseek(ctx: &mut Ctx) -> SysResult {
    if ctx.arg(1) == 0 && ctx.arg_i32(2) == libc::SEEK_SET {
        refresh_synthetic(ctx, ctx.arg_i32(0));
    }
    Ok(Outcome::Continue)
}

/// The device of memfds (the kernel's internal shm mount).
fn memfd_dev() -> Option<u64> {
    static DEV: OnceLock<Option<u64>> = OnceLock::new();
    *DEV.get_or_init(|| {
        let fd = super::file::memfd_with(b"").ok()?;
        sys::fstat_fd(fd.as_fd()).ok().map(|st| st.st_dev)
    })
}

/// Rewrites the memfd behind the caller's `fd` with its synthetic file's
/// contents of now, if it is one. Best effort: anything unexpected leaves
/// the fd as it is (the kernel then reads the old contents, or fails the
/// call on a bad fd).
fn refresh_synthetic(ctx: &mut Ctx, fd: i32) {
    // The link text first: most rewound fds are ordinary files.
    let Ok(link) = sys::with_task_fd_path(ctx.tid(), fd, |p| std::fs::read_link(p)) else {
        return;
    };
    let Some(path) = link.to_str().and_then(vfs::synthetic_file_of_link) else {
        return;
    };
    let path = path.to_owned();
    // From here on the open file itself, not the fd number another thread
    // may reuse meanwhile; and only a memfd is written: a file of the
    // container whose name mimics ours is never touched.
    let Ok(file) = sys::getfd(ctx.tid(), fd) else {
        return;
    };
    let same_name = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .is_ok_and(|l| l.to_str().and_then(vfs::synthetic_file_of_link) == Some(path.as_str()));
    let Ok(st) = sys::fstat_fd(file.as_fd()) else {
        return;
    };
    if !same_name || Some(st.st_dev) != memfd_dev() {
        return;
    }
    let ino = st.st_ino;
    let Location::Synthetic(fs, rel) = vfs::locate(path.as_bytes()) else {
        return;
    };
    // A task that has exited keeps what was read last.
    let Ok(Node::File(content)) = ctx.synthetic_lookup(fs, &rel) else {
        return;
    };
    let Some(writable) = ctx.sentry.synthetic_files.writable(ino) else {
        return;
    };
    // At offset 0 whatever the handle's offset (other workers share it).
    let w = std::fs::File::from(writable);
    if w.set_len(0).is_ok() {
        let _ = w.write_all_at(&content, 0);
    }
    ctx.note(|| format!("regenerated {path}"));
}

/// Writable handles of the memfds behind synthetic files, by inode: the
/// workload holds a read-only description and the sentry may not open
/// files for writing, so it keeps these from creation on. Bounded (each
/// is an fd of the sentry's): top-level files (what procps rewinds) and
/// per-task files each keep their most recent ones.
#[derive(Default)]
pub struct SyntheticFiles {
    top: Mutex<VecDeque<(u64, Arc<OwnedFd>)>>,
    task: Mutex<VecDeque<(u64, Arc<OwnedFd>)>>,
}

/// Handles kept per kind.
const KEPT: usize = 64;

impl SyntheticFiles {
    /// Keeps `writable` for the memfd of synthetic file `path`.
    pub fn keep(&self, path: &str, writable: OwnedFd) {
        let Ok(st) = sys::fstat_fd(writable.as_fd()) else {
            return;
        };
        let per_task = path
            .strip_prefix("/proc/")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        let list = if per_task { &self.task } else { &self.top };
        let mut list = list.lock().unwrap_or_else(|e| e.into_inner());
        if list.len() >= KEPT {
            list.pop_back();
        }
        list.push_front((st.st_ino, Arc::new(writable)));
    }

    /// A writable duplicate of the handle of memfd inode `ino`, which
    /// becomes the most recent of its kind.
    fn writable(&self, ino: u64) -> Option<OwnedFd> {
        for list in [&self.top, &self.task] {
            let mut list = list.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = list.iter().position(|(n, _)| *n == ino) {
                let entry = list.remove(i)?;
                let dup = entry.1.try_clone().ok();
                list.push_front(entry);
                return dup;
            }
        }
        None
    }
}

/// The handlers against a real sentry, a recording fake platform and an
/// in-process gofer over a temporary tree (`sentry::testkit`).
#[cfg(test)]
mod handler_tests {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;

    use crate::sentry::testkit::{continued, fd, Kit};

    fn pread_all(f: &std::fs::File) -> String {
        let mut buf = vec![0u8; 256];
        let n = f.read_at(&mut buf, 0).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    /// A rewind of a synthetic file makes it again (procps's refresh):
    /// the thread's comm, renamed between the open and the rewind.
    #[test]
    fn rewind_regenerates_a_synthetic_file() {
        let k = Kit::new("lseek");
        nix::sys::prctl::set_name(c"kit-before").unwrap();
        let p = k.path("/proc/thread-self/comm");
        let f = std::fs::File::from(fd(k.call("open", [p, 0, 0, 0, 0, 0])));
        assert_eq!(pread_all(&f), "kit-before\n");
        nix::sys::prctl::set_name(c"kit-after").unwrap();
        let raw = f.as_raw_fd() as u64;
        assert!(continued(
            &k.call("lseek", [raw, 0, libc::SEEK_SET as u64, 0, 0, 0])
        ));
        assert_eq!(pread_all(&f), "kit-after\n");
    }

    /// An ordinary file is the kernel's: nothing is read or written.
    #[test]
    fn rewind_of_a_tree_file_is_the_kernels() {
        let k = Kit::new("lseek-file");
        std::fs::write(k.host("f"), "same").unwrap();
        let p = k.path("/f");
        let f = std::fs::File::from(fd(k.call("open", [p, 0, 0, 0, 0, 0])));
        let raw = f.as_raw_fd() as u64;
        let before = k.platform.calls().len();
        assert!(continued(
            &k.call("lseek", [raw, 0, libc::SEEK_SET as u64, 0, 0, 0])
        ));
        assert_eq!(k.platform.calls().len(), before);
        assert_eq!(pread_all(&f), "same");
    }
}
