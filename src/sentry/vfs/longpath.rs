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

use std::collections::HashMap;
use std::sync::Mutex;

use crate::sentry::syscalls::PATH_MAX;

/// The most directories remembered; past it the table starts afresh (a
/// forgotten directory's later lookups fail with ENAMETOOLONG, as before).
const LIMIT: usize = 4096;

/// (st_dev, st_ino) of a directory.
pub type DirId = (u64, u64);

#[derive(Default)]
pub struct LongPaths {
    paths: Mutex<HashMap<DirId, Vec<u8>>>,
}

impl LongPaths {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DirId, Vec<u8>>> {
        // Every update is one insert or remove: a panic leaves it whole.
        self.paths.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Directory `id` was just resolved at the sandbox path `path`; only a
    /// path the kernel cannot name is kept.
    pub fn remember(&self, id: DirId, path: &[u8]) {
        if path.len() < PATH_MAX {
            return;
        }
        let mut paths = self.lock();
        if paths.len() >= LIMIT && !paths.contains_key(&id) {
            paths.clear();
        }
        paths.insert(id, path.to_vec());
    }

    /// The path directory `id` was last resolved at, if it is kept.
    pub fn find(&self, id: DirId) -> Option<Vec<u8>> {
        self.lock().get(&id).cloned()
    }

    /// Directory `id` is no longer at its kept path.
    pub fn forget(&self, id: DirId) {
        self.lock().remove(&id);
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
    fn starts_afresh_past_its_limit() {
        let l = LongPaths::default();
        let long = [b"/".as_slice(), &[b'a'; PATH_MAX]].concat();
        for ino in 0..LIMIT as u64 {
            l.remember((1, ino), &long);
        }
        // Renewing a kept one does not clear the table.
        l.remember((1, 0), &long);
        assert!(l.find((1, LIMIT as u64 - 1)).is_some());
        l.remember((1, LIMIT as u64), &long);
        assert!(l.find((1, 0)).is_none());
        assert!(l.find((1, LIMIT as u64)).is_some());
    }
}
