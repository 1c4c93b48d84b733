//! The sentry's directory cache: gofer directories it has walked, by their
//! canonical sandbox path, each with the O_PATH fd the gofer opened. A
//! stat, or an open of a name that does not exist, in a cached directory is
//! one `fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)` in the sentry instead of
//! a round trip to the gofer (which costs ~4x the whole syscall otherwise).
//! The sentry opens nothing itself: the fds are the gofer's, and a lookup
//! takes one component that is neither `.` nor `..`, so it stays inside
//! the directory the gofer resolved.
//!
//! Coherence, as gVisor's `--file-access=exclusive`: the container's root
//! is assumed to change only through this sandbox, whose renames and
//! removals all pass through the sentry and drop the entries they could
//! affect. Bind mounts from the spec may be changed by others at any time:
//! directories at or under their destinations are never cached. With
//! `--file-access=shared` nothing is.
//!
//! Keys are canonical (no symlink on the way, checked with the fd's own
//! name), so a change of the name `n` can only move or remove directories
//! whose key has `n` as a component: those are dropped.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct CachedDir {
    pub fd: Arc<OwnedFd>,
    /// It and every directory above it grant search to every class (x for
    /// owner, group and others; no ACL): any caller may look names up in it.
    pub world_searchable: bool,
    /// Who may search it by its own mode (None: it has an ACL, which
    /// only the kernel evaluates).
    pub search: Option<SearchBits>,
}

/// A directory's owner, group and the search (x) bits of its mode.
#[derive(Clone, Copy, Debug)]
pub struct SearchBits {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

impl SearchBits {
    /// Linux's class rule: the owner's bit for the owner, else the group's
    /// for a member, else the others'.
    pub fn allows(&self, fsuid: u32, fsgid: u32, groups: &[u32]) -> bool {
        let who = crate::sentry::cred::Asker {
            fsuid,
            fsgid,
            groups,
            cap_effective: 0,
        };
        crate::sentry::cred::class_permits(&who, self.uid, self.gid, self.mode, 1)
    }
}

/// A name to look up in a cached directory.
pub struct Child {
    pub dir: Arc<OwnedFd>,
    pub name: Vec<u8>,
    /// The path ended in `/`: only a directory (or a symlink to one) may
    /// stand there (ENOTDIR otherwise).
    pub trailing_slash: bool,
}

impl Child {
    /// fstatat of the name, without following it.
    pub fn stat(&self) -> Result<libc::stat, nix::errno::Errno> {
        stat_child(&self.dir, &self.name)
    }

    /// Whether the directory is on a read-only mount (or one whose flags
    /// cannot be read, to fail closed).
    pub fn on_read_only_mount(&self) -> bool {
        use nix::sys::statvfs::{fstatvfs, FsFlags};
        fstatvfs(self.dir.as_fd()).map_or(true, |st| st.flags().contains(FsFlags::ST_RDONLY))
    }
}

/// At most this many directories are kept (each holds one fd), and at
/// most a quarter of the sentry's fd limit; a full cache starts over.
const CAPACITY: usize = 4096;

fn capacity() -> usize {
    let soft = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map(|(soft, _)| soft)
        .unwrap_or(1024);
    usize::try_from(soft / 4)
        .unwrap_or(CAPACITY)
        .clamp(16, CAPACITY)
}

pub struct DirCache {
    enabled: bool,
    /// Normalized destinations of the spec's bind mounts.
    shared: Vec<Vec<u8>>,
    dirs: Mutex<Dirs>,
    capacity: usize,
}

#[derive(Default)]
struct Dirs {
    map: HashMap<Vec<u8>, Entry>,
    /// Counts `forget`s: a walk that started before one may have seen
    /// the old tree, so its result is not kept.
    generation: u64,
}

#[derive(Clone)]
pub enum Entry {
    Dir(CachedDir),
    /// A directory reached through a symlink (Debian's /lib): not kept,
    /// and remembered as such, so its lookups take one gofer walk rather
    /// than two.
    NotCanonical,
}

impl DirCache {
    /// `bind_destinations`: where the spec binds host paths in.
    pub fn new(enabled: bool, bind_destinations: &[&str]) -> DirCache {
        DirCache {
            enabled,
            shared: bind_destinations
                .iter()
                .map(|d| super::normalize(d.as_bytes()))
                .collect(),
            dirs: Mutex::new(Dirs::default()),
            capacity: capacity(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Dirs> {
        // Every update is a single map operation: a panicking holder left
        // the map consistent.
        self.dirs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `dir` (normalized) may be cached at all.
    pub fn may_cache(&self, dir: &[u8]) -> bool {
        self.enabled && !self.shared.iter().any(|m| is_within(dir, m))
    }

    pub fn get(&self, dir: &[u8]) -> Option<Entry> {
        if !self.enabled {
            return None;
        }
        self.lock().map.get(dir).cloned()
    }

    /// Taken before walking a directory to `insert` it.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps `fd` as the directory at `dir` if its own name (as the kernel
    /// reports it) is `dir`, so no symlink was crossed, and nothing was
    /// forgotten since `generation` (a rename racing with the walk).
    /// `parent_world_searchable`: whether the directory above is (true
    /// for the root).
    pub fn insert(
        &self,
        dir: &[u8],
        fd: OwnedFd,
        generation: u64,
        parent_world_searchable: bool,
    ) -> Option<CachedDir> {
        if !self.may_cache(dir) {
            return None;
        }
        let st = crate::sentry::sys::fstat_fd(fd.as_fd()).ok()?;
        if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return None;
        }
        let (entry, kept) = if fd_name(&fd).as_deref() == Some(dir) {
            let search = (!crate::sentry::sys::has_access_acl(fd.as_fd())).then_some(SearchBits {
                uid: st.st_uid,
                gid: st.st_gid,
                mode: st.st_mode & 0o111,
            });
            // Every class: the owner and the group are judged by their own
            // bits (a 0601 directory refuses its owner what it grants others).
            let world_searchable =
                parent_world_searchable && search.is_some_and(|s| s.mode & 0o111 == 0o111);
            let d = CachedDir {
                fd: Arc::new(fd),
                world_searchable,
                search,
            };
            (Entry::Dir(d.clone()), Some(d))
        } else {
            (Entry::NotCanonical, None)
        };
        if self.put(dir, entry, generation) {
            kept
        } else {
            None
        }
    }

    /// Remembers that `dir` (normalized) is reached through a symlink.
    pub fn not_canonical(&self, dir: &[u8], generation: u64) {
        if self.may_cache(dir) {
            self.put(dir, Entry::NotCanonical, generation);
        }
    }

    /// Stores `entry` unless something was forgotten since `generation`.
    fn put(&self, dir: &[u8], entry: Entry, generation: u64) -> bool {
        let mut dirs = self.lock();
        if dirs.generation != generation {
            return false;
        }
        if dirs.map.len() >= self.capacity {
            dirs.map.clear();
        }
        dirs.map.insert(dir.to_vec(), entry);
        true
    }

    /// The name `path` was removed, renamed or replaced, or its mode,
    /// owner or ACL changed: drop every directory whose key has its last
    /// component as a component (its canonical parent is unknown when
    /// `path` went through a symlink).
    pub fn forget(&self, path: &[u8]) {
        if !self.enabled {
            return;
        }
        let norm = super::normalize(path);
        let name = norm.rsplit(|b| *b == b'/').next().filter(|n| !n.is_empty());
        let mut dirs = self.lock();
        dirs.generation += 1;
        match name {
            Some(name) => dirs
                .map
                .retain(|k, _| !k.split(|b| *b == b'/').any(|c| c == name)),
            None => dirs.map.clear(),
        }
    }
}

/// `path` is `dir` or below it (both normalized).
fn is_within(path: &[u8], dir: &[u8]) -> bool {
    if dir == b"/" {
        return true;
    }
    path.starts_with(dir) && matches!(path.get(dir.len()), None | Some(b'/'))
}

/// The path the kernel gives the fd: the canonical sandbox path for a
/// gofer fd (the gofer's root is the container's root).
fn fd_name(fd: &OwnedFd) -> Option<Vec<u8>> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .ok()
        .map(|p| p.into_os_string().into_encoded_bytes())
}

/// Splits an absolute path into its parent directory and last name when
/// that is exact lexically: no `.` or `..` component (a `..` after a
/// symlink leaves its target), no trailing slash (which demands a
/// directory), not the root.
pub fn split_plain(path: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    if path.first() != Some(&b'/') || path.last() == Some(&b'/') {
        return None;
    }
    if path.split(|b| *b == b'/').any(|c| c == b"." || c == b"..") {
        return None;
    }
    let cut = path.iter().rposition(|b| *b == b'/')?;
    let name = &path[cut + 1..];
    if name.is_empty() {
        return None;
    }
    Some((super::normalize(&path[..cut]), name))
}

/// fstatat of one name in a cached directory, without following it.
pub fn stat_child(dir: &OwnedFd, name: &[u8]) -> Result<libc::stat, nix::errno::Errno> {
    let name = std::ffi::CString::new(name).map_err(|_| nix::errno::Errno::EINVAL)?;
    crate::sentry::sys::fstatat_nofollow(dir.as_fd(), &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_bits_follow_the_class() {
        let b = SearchBits {
            uid: 10,
            gid: 20,
            mode: 0o110,
        };
        assert!(b.allows(10, 0, &[]));
        assert!(b.allows(11, 20, &[]));
        assert!(b.allows(11, 0, &[5, 20]));
        assert!(!b.allows(11, 0, &[5]));
        // The owner's class decides even when others may.
        let owner_denied = SearchBits { mode: 0o011, ..b };
        assert!(!owner_denied.allows(10, 20, &[]));
    }

    #[test]
    fn splits_only_plain_paths() {
        assert_eq!(
            split_plain(b"/etc/passwd"),
            Some((b"/etc".to_vec(), &b"passwd"[..]))
        );
        assert_eq!(split_plain(b"/x"), Some((b"/".to_vec(), &b"x"[..])));
        assert_eq!(
            split_plain(b"//usr//lib/x"),
            Some((b"/usr/lib".to_vec(), &b"x"[..]))
        );
        for p in [
            &b"/"[..],
            b"/etc/",
            b"/a/../b",
            b"/a/./b",
            b"/a/..",
            b"rel/x",
            b"",
        ] {
            assert_eq!(split_plain(p), None, "{:?}", String::from_utf8_lossy(p));
        }
    }

    fn dir_fd(p: &std::path::Path) -> OwnedFd {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(p)
            .expect("open dir")
            .into()
    }

    #[test]
    fn keeps_canonical_directories_and_forgets_by_name() {
        let tmp = std::env::temp_dir().join(format!("runrs-dcache-{}", std::process::id()));
        let sub = tmp.join("a/b");
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::os::unix::fs::symlink("a", tmp.join("l")).expect("symlink");
        let key = |p: &std::path::Path| p.as_os_str().as_encoded_bytes().to_vec();
        let c = DirCache::new(true, &[]);
        let g = c.generation();
        assert!(c.insert(&key(&sub), dir_fd(&sub), g, true).is_some());
        // Reached through a symlink: its name is not the key.
        let via_link = tmp.join("l/b");
        assert!(c
            .insert(&key(&via_link), dir_fd(&via_link), g, true)
            .is_none());
        assert!(matches!(c.get(&key(&via_link)), Some(Entry::NotCanonical)));
        let Some(Entry::Dir(CachedDir { fd: dir, .. })) = c.get(&key(&sub)) else {
            panic!("a/b not cached");
        };
        std::fs::write(sub.join("f"), b"x").expect("write");
        assert_eq!(stat_child(&dir, b"f").expect("stat").st_size, 1);
        assert_eq!(
            stat_child(&dir, b"missing").unwrap_err(),
            nix::errno::Errno::ENOENT
        );
        // Renaming "a" (under whatever parent) drops a/b, and a walk that
        // started before is not kept.
        c.forget(b"/elsewhere/a");
        assert!(c.get(&key(&sub)).is_none());
        assert!(c.insert(&key(&sub), dir_fd(&sub), g, true).is_none());
        // Search for everyone: x for owner, group and others, here and above.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o750)).expect("chmod");
        let d = c.insert(&key(&sub), dir_fd(&sub), c.generation(), true);
        assert!(!d.expect("cached").world_searchable);
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o751)).expect("chmod");
        c.forget(&key(&sub));
        let d = c.insert(&key(&sub), dir_fd(&sub), c.generation(), true);
        assert!(d.expect("cached").world_searchable);
        c.forget(&key(&sub));
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o601)).expect("chmod");
        let d = c.insert(&key(&sub), dir_fd(&sub), c.generation(), true);
        assert!(
            !d.expect("cached").world_searchable,
            "0601 refuses its owner"
        );
        c.forget(&key(&sub));
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o751)).expect("chmod");
        let d = c.insert(&key(&sub), dir_fd(&sub), c.generation(), false);
        assert!(!d.expect("cached").world_searchable);
        // A bind mount's subtree is never cached.
        let tmp_str = tmp.to_str().expect("utf-8 tmp");
        let shared = DirCache::new(true, &[tmp_str]);
        assert!(shared.insert(&key(&sub), dir_fd(&sub), 0, true).is_none());
        assert!(DirCache::new(false, &[])
            .insert(&key(&sub), dir_fd(&sub), 0, true)
            .is_none());
        std::fs::remove_dir_all(&tmp).expect("cleanup");
    }
}
