//! Sandbox paths of directories deeper than the kernel names. Linux limits
//! one path string to PATH_MAX, not a directory's depth: a workload that
//! walks down with relative names (`mkdir x; chdir x`, again and again,
//! or `openat(dirfd, "x")` from fd to fd) reaches directories whose
//! absolute path is longer, and the kernel's /proc/<pid>/cwd and
//! /proc/<pid>/fd/<n> links then fail with ENAMETOOLONG. The sentry
//! resolves every path from the container's root, so it remembers the
//! sandbox path of each such directory it resolved for a chdir or an
//! open, keyed by the directory's identity (st_dev, st_ino), which a stat
//! through the kernel's link gives whatever the path's length.
//!
//! A remembered path is checked before use (`Ctx::long_dir_path`): the
//! directory must still be found there, so a directory renamed since is
//! refused (ENOENT) rather than confused with what took its place.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::sentry::syscalls::PATH_MAX;

/// The most path bytes kept (a workload decides how many deep directories
/// it opens): past it the oldest are forgotten (a forgotten directory's
/// later lookups fail with ENAMETOOLONG, as before).
const LIMIT_BYTES: usize = 4 << 20;

/// (st_dev, st_ino) of a directory.
pub type DirId = (u64, u64);

#[derive(Default)]
struct Kept {
    /// Each directory's path and the turn it was kept at.
    paths: HashMap<DirId, (Vec<u8>, u64)>,
    /// Turns, oldest first; a turn whose directory was kept again since,
    /// or forgotten, is stale and skipped.
    order: VecDeque<(DirId, u64)>,
    next_turn: u64,
    bytes: usize,
}

impl Kept {
    fn remove(&mut self, id: DirId) {
        if let Some((old, _)) = self.paths.remove(&id) {
            self.bytes -= old.len();
        }
    }
}

#[derive(Default)]
pub struct LongPaths {
    kept: Mutex<Kept>,
}

impl LongPaths {
    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // Each update leaves the table consistent before anything that
        // could panic.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Directory `id` was just resolved at the sandbox path `path`; only a
    /// path the kernel cannot name is kept.
    pub fn remember(&self, id: DirId, path: &[u8]) {
        if path.len() < PATH_MAX {
            return;
        }
        let mut k = self.lock();
        if k.paths.get(&id).is_some_and(|(p, _)| p == path) {
            return;
        }
        k.remove(id);
        let turn = k.next_turn;
        k.next_turn += 1;
        k.paths.insert(id, (path.to_vec(), turn));
        k.bytes += path.len();
        k.order.push_back((id, turn));
        while k.bytes > LIMIT_BYTES {
            let Some((oldest, turn)) = k.order.pop_front() else {
                break;
            };
            if k.paths.get(&oldest).is_some_and(|&(_, t)| t == turn) {
                k.remove(oldest);
            }
        }
        // Stale turns (directories kept again or forgotten) outnumber the
        // kept ones: drop them.
        if k.order.len() > 2 * k.paths.len() + 16 {
            let Kept { paths, order, .. } = &mut *k;
            order.retain(|(id, turn)| paths.get(id).is_some_and(|&(_, t)| t == *turn));
        }
    }

    /// The path directory `id` was last resolved at, if it is kept.
    pub fn find(&self, id: DirId) -> Option<Vec<u8>> {
        self.lock().paths.get(&id).map(|(p, _)| p.clone())
    }

    /// Directory `id` is no longer at its kept path.
    pub fn forget(&self, id: DirId) {
        self.lock().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_paths_the_kernel_cannot_name() {
        let l = LongPaths::default();
        let long = [b"/".as_slice(), &[b'a'; PATH_MAX]].concat();
        l.remember((1, 2), b"/short");
        l.remember((1, 3), &long);
        assert_eq!(l.find((1, 2)), None);
        assert_eq!(l.find((1, 3)).as_deref(), Some(long.as_slice()));
        l.forget((1, 3));
        assert_eq!(l.find((1, 3)), None);
    }

    #[test]
    fn forgets_the_oldest_past_its_limit() {
        let l = LongPaths::default();
        let long = [b"/".as_slice(), &[b'a'; PATH_MAX]].concat();
        let fit = LIMIT_BYTES / long.len();
        for ino in 0..fit as u64 {
            l.remember((1, ino), &long);
        }
        // Renewing the oldest makes it the newest.
        let other = [long.as_slice(), b"/b"].concat();
        l.remember((1, 0), &other);
        l.remember((1, fit as u64), &long);
        assert_eq!(l.find((1, 0)).as_deref(), Some(other.as_slice()));
        assert!(l.find((1, 1)).is_none(), "the oldest is forgotten");
        assert!(l.find((1, 2)).is_some());
        assert!(l.find((1, fit as u64)).is_some());
        assert!(l.lock().bytes <= LIMIT_BYTES);
    }

    /// A workload that renames one deep directory again and again: the
    /// table's turns stay bounded.
    #[test]
    fn renewing_one_directory_keeps_the_table_small() {
        let l = LongPaths::default();
        let long = [b"/".as_slice(), &[b'a'; PATH_MAX]].concat();
        for i in 0..10_000u32 {
            l.remember((1, 7), &[long.as_slice(), &i.to_le_bytes()].concat());
        }
        let k = l.lock();
        assert_eq!(k.paths.len(), 1);
        assert!(k.order.len() <= 18, "{}", k.order.len());
        assert_eq!(k.bytes, long.len() + 4);
    }
}
