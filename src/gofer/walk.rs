//! Confined path resolution under the container root fd.
//!
//! Paths are absolute sandbox paths as the workload gave them. Resolution is
//! anchored at the root fd: absolute symlink targets restart there and ".."
//! at the root stays at the root. Nothing outside the root fd is reachable.
//!
//! * Fast path: `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
//!   RESOLVE_NO_MAGICLINKS)`. When it succeeds no symlink was crossed, so the
//!   lexical walk of the path is exact; it is only tried when no lexical
//!   prefix touches a synthetic mount.
//! * Slow path: component by component (`openat(O_PATH|O_NOFOLLOW)` +
//!   fstat), keeping the canonical (symlink-free) component stack, splicing
//!   symlink targets in (at most 40 symlinks, counted across redirects) and
//!   redirecting as soon as the canonical path enters a synthetic mount.
//!
//! All lookups happen with the calling thread's credentials, so permission
//! errors (EACCES on a non-searchable directory) come from the kernel.

use std::collections::VecDeque;
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;

use super::proto::{Follow, Redirect, Walked, LONG_PATH_MAX, PATH_MAX};
use super::sys;

/// Linux's limit of symlinks followed in one resolution.
pub const MAX_SYMLINKS: u32 = 40;
/// Longest single component.
pub const NAME_MAX: usize = 255;

const RESOLVE: u64 =
    libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_SYMLINKS;

/// Synthetic mount points, normalized to component lists.
#[derive(Clone, Debug, Default)]
pub struct Mounts {
    synthetic: Vec<Vec<Vec<u8>>>,
    /// Real mounts inside synthetic ones (the cgroup mount at
    /// /sys/fs/cgroup): walked here, with the directories on the way.
    served: Vec<Vec<Vec<u8>>>,
}

/// The components of an absolute path, `.` and `..` applied.
fn normalized_components<S: AsRef<str>>(path: S) -> Vec<Vec<u8>> {
    let mut stack: Vec<Vec<u8>> = Vec::new();
    for c in path.as_ref().as_bytes().split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                stack.pop();
            }
            n => stack.push(n.to_vec()),
        }
    }
    stack
}

impl Mounts {
    /// Normalize absolute sandbox paths ("/proc", "/sys/", ...). "/" is ignored.
    pub fn new<S: AsRef<str>>(list: &[S]) -> Mounts {
        Mounts {
            synthetic: list
                .iter()
                .map(normalized_components)
                .filter(|c| !c.is_empty())
                .collect(),
            served: Vec::new(),
        }
    }

    /// With real mounts inside the synthetic ones that this walker serves.
    pub fn serving<S: AsRef<str>>(mut self, list: &[S]) -> Mounts {
        self.served = list
            .iter()
            .map(normalized_components)
            .filter(|c| !c.is_empty())
            .collect();
        self
    }

    /// `comps` is a mount point or below one.
    fn inside(&self, comps: &[Vec<u8>]) -> bool {
        self.synthetic.iter().any(|m| comps.starts_with(m))
    }

    /// Whether a walk that reached `comps` (and takes `next` after it, if
    /// any) is the sentry's: inside a synthetic mount and not in, or on
    /// the way to, a mount served here.
    fn redirects_at(&self, comps: &[Vec<u8>], next: Option<&Vec<u8>>) -> bool {
        if !self.inside(comps) || self.served.iter().any(|m| comps.starts_with(m)) {
            return false;
        }
        let toward_served = |c: &[Vec<u8>]| self.served.iter().any(|m| m.starts_with(c));
        match next.map(Vec::as_slice) {
            Some(b".." | b".") => !toward_served(comps),
            Some(name) => {
                let mut c = comps.to_vec();
                c.push(name.to_vec());
                !toward_served(&c)
            }
            None => true,
        }
    }
}

/// The object a path resolved to (slow path).
#[derive(Debug)]
pub struct Target {
    /// `O_PATH|O_NOFOLLOW` fd of the final object; `None` when only the last
    /// component does not exist (its directory does).
    pub fd: Option<OwnedFd>,
    /// Directory containing the final object and its name there; `None` when
    /// the path ends at the root, "." or "..".
    pub parent: Option<(OwnedFd, CString)>,
    /// Canonical components of the final object.
    pub canonical: Vec<Vec<u8>>,
    /// The final component must be a directory (trailing slash).
    pub trailing_slash: bool,
    /// Cumulative symlink count.
    pub symlinks: u32,
}

/// The directory that holds a path's last component, for create/remove ops.
#[derive(Debug)]
pub struct Parent {
    /// `O_PATH` fd of the directory.
    pub dir: OwnedFd,
    /// Last component, with a '/' appended when the path had a trailing slash
    /// (so the kernel applies its exact trailing-slash rules), or `None` when
    /// the path is the root itself.
    pub last: Option<CString>,
    /// Cumulative symlink count.
    pub symlinks: u32,
}

/// Confined resolver bound to a root fd and the synthetic mounts.
pub struct Walker<'a> {
    pub root: BorrowedFd<'a>,
    pub mounts: &'a Mounts,
}

fn components(path: &[u8]) -> VecDeque<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn has_trailing_slash(path: &[u8]) -> bool {
    path.ends_with(b"/") && path.iter().any(|&b| b != b'/')
}

fn cstring(b: Vec<u8>) -> Result<CString, Errno> {
    CString::new(b).map_err(|_| Errno::EINVAL)
}

fn check_path(path: &[u8]) -> Result<(), Errno> {
    if path.len() >= LONG_PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.contains(&0) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

fn redirect(
    comps: &[Vec<u8>],
    rest: &VecDeque<Vec<u8>>,
    trailing: bool,
    suffix: &[u8],
    symlinks: u32,
) -> Result<Redirect, Errno> {
    let mut p = Vec::new();
    for c in comps.iter().chain(rest.iter()) {
        p.push(b'/');
        p.extend_from_slice(c);
    }
    if !suffix.is_empty() {
        p.push(b'/');
        p.extend_from_slice(suffix);
    } else if trailing {
        p.push(b'/');
    }
    if p.len() >= LONG_PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(Redirect {
        path: String::from_utf8_lossy(&p).into_owned(),
        symlinks_followed: symlinks,
    })
}

impl<'a> Walker<'a> {
    pub fn new(root: BorrowedFd<'a>, mounts: &'a Mounts) -> Walker<'a> {
        Walker { root, mounts }
    }

    fn dup_root(&self) -> Result<OwnedFd, Errno> {
        self.root.try_clone_to_owned().map_err(|_| Errno::EMFILE)
    }

    /// True when the lexical walk of `path` never enters a synthetic mount,
    /// so a symlink-free openat2 resolution of it is exact, and the kernel
    /// takes it in one call (a longer one is walked component by
    /// component).
    fn lexically_clean(&self, path: &[u8]) -> bool {
        if path.len() >= PATH_MAX {
            return false;
        }
        let mut stack: Vec<Vec<u8>> = Vec::new();
        for c in path.split(|&b| b == b'/') {
            match c {
                b"" | b"." => {}
                b".." => {
                    stack.pop();
                }
                n => {
                    stack.push(n.to_vec());
                    if self.mounts.inside(&stack) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Fast path: `openat2` of the whole path with `flags`. `None` when the
    /// slow path must decide (a symlink was crossed, or a synthetic mount is
    /// involved).
    pub fn fast_open(&self, path: &[u8], flags: i32, mode: u32) -> Option<Result<OwnedFd, Errno>> {
        if let Err(e) = check_path(path) {
            return Some(Err(e));
        }
        if !self.lexically_clean(path) {
            return None;
        }
        let c = match cstring(path.to_vec()) {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        match sys::openat2(self.root, &c, flags, mode, RESOLVE) {
            // EINVAL: openat2 rejects flag combinations open(2) tolerates
            // (unknown bits, O_PATH with extra flags): let openat decide.
            Err(Errno::ELOOP | Errno::EAGAIN | Errno::EXDEV | Errno::EINVAL) => None,
            other => Some(other),
        }
    }

    /// Resolve the whole path (slow path) with `follow` for a trailing symlink.
    pub fn resolve(
        &self,
        path: &[u8],
        follow: Follow,
        symlinks: u32,
    ) -> Result<Walked<Target>, Errno> {
        check_path(path)?;
        self.walk_slow(
            components(path),
            follow,
            has_trailing_slash(path),
            b"",
            symlinks,
        )
    }

    /// Resolve all but the last component (which is never followed).
    pub fn resolve_parent(&self, path: &[u8], symlinks: u32) -> Result<Walked<Parent>, Errno> {
        check_path(path)?;
        let trailing = has_trailing_slash(path);
        let mut comps = components(path);
        let Some(last) = comps.pop_back() else {
            return Ok(Walked::Done(Parent {
                dir: self.dup_root()?,
                last: None,
                symlinks,
            }));
        };
        if last.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut last_arg = last.clone();
        if trailing {
            last_arg.push(b'/');
        }
        let last_c = cstring(last_arg.clone())?;
        // Fast path: the directory part, symlink-free.
        if self.lexically_clean(path) {
            let mut dir_path = b"/".to_vec();
            for c in &comps {
                dir_path.extend_from_slice(c);
                dir_path.push(b'/');
            }
            let dir_c = cstring(dir_path)?;
            let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
            match sys::openat2(self.root, &dir_c, flags, 0, RESOLVE) {
                Ok(dir) => {
                    return Ok(Walked::Done(Parent {
                        dir,
                        last: Some(last_c),
                        symlinks,
                    }));
                }
                Err(Errno::ELOOP | Errno::EAGAIN | Errno::EXDEV) => {}
                Err(e) => return Err(e),
            }
        }
        let t = match self.walk_slow(comps, Follow::Follow, true, &last_arg, symlinks)? {
            Walked::Redirect(r) => return Ok(Walked::Redirect(r)),
            Walked::Done(t) => t,
        };
        let dir = t.fd.ok_or(Errno::ENOENT)?;
        if last != b"." && last != b".." {
            let mut full = t.canonical.clone();
            full.push(last);
            if self.mounts.redirects_at(&full, None) {
                let r = redirect(&full, &VecDeque::new(), trailing, b"", t.symlinks)?;
                return Ok(Walked::Redirect(r));
            }
        }
        Ok(Walked::Done(Parent {
            dir,
            last: Some(last_c),
            symlinks: t.symlinks,
        }))
    }

    /// The parent of the directory `cur` at the canonical path `stack`,
    /// when that path is longer than the kernel takes in one call: the
    /// lookup of "." checks search permission on `cur`, as a lookup of
    /// ".." would, then the walk from the root takes the parent's
    /// components one at a time, refusing any that became a symlink since
    /// (so it stays under the root however the tree changed meanwhile).
    fn open_deep_parent(&self, cur: BorrowedFd<'_>, stack: &[Vec<u8>]) -> Result<OwnedFd, Errno> {
        let flags = libc::O_PATH | libc::O_NOFOLLOW | libc::O_DIRECTORY | libc::O_CLOEXEC;
        sys::openat(cur, c".", flags, 0)?;
        let mut dir = self.dup_root()?;
        for name in &stack[..stack.len().saturating_sub(1)] {
            dir = sys::openat(dir.as_fd(), &cstring(name.clone())?, flags, 0)?;
        }
        Ok(dir)
    }

    /// The component-by-component walk. `suffix` is appended to redirect paths
    /// (the held-back last component in parent mode).
    fn walk_slow(
        &self,
        mut pending: VecDeque<Vec<u8>>,
        follow: Follow,
        mut trailing: bool,
        suffix: &[u8],
        mut count: u32,
    ) -> Result<Walked<Target>, Errno> {
        let path_flags = libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        let mut cur = self.dup_root()?;
        let mut stack: Vec<Vec<u8>> = Vec::new();
        while let Some(comp) = pending.pop_front() {
            let is_last = pending.is_empty();
            match comp.as_slice() {
                b"." => {
                    // Looking up "." needs search permission, like Linux.
                    cur = sys::openat(cur.as_fd(), c".", path_flags | libc::O_DIRECTORY, 0)?;
                }
                b".." => {
                    if stack.is_empty() {
                        cur = sys::openat(cur.as_fd(), c".", path_flags | libc::O_DIRECTORY, 0)?;
                    } else {
                        // Look ".." up in the canonical path from the root:
                        // checks search permission on the current directory and
                        // cannot leave the root even if it was moved away.
                        let mut p = Vec::new();
                        for c in &stack {
                            p.push(b'/');
                            p.extend_from_slice(c);
                        }
                        p.extend_from_slice(b"/..");
                        cur = if p.len() < PATH_MAX {
                            let c = cstring(p)?;
                            sys::openat2(self.root, &c, path_flags | libc::O_DIRECTORY, 0, RESOLVE)?
                        } else {
                            self.open_deep_parent(cur.as_fd(), &stack)?
                        };
                        stack.pop();
                    }
                }
                name => {
                    if name.len() > NAME_MAX {
                        return Err(Errno::ENAMETOOLONG);
                    }
                    let mut next = stack.clone();
                    next.push(comp.clone());
                    if self.mounts.redirects_at(&next, pending.front()) {
                        let r = redirect(&next, &pending, trailing, suffix, count)?;
                        return Ok(Walked::Redirect(r));
                    }
                    let cname = cstring(comp.clone())?;
                    let fd = match sys::openat(cur.as_fd(), &cname, path_flags, 0) {
                        Ok(fd) => fd,
                        Err(Errno::ENOENT) if is_last => {
                            return Ok(Walked::Done(Target {
                                fd: None,
                                parent: Some((cur, cname)),
                                canonical: next,
                                trailing_slash: trailing,
                                symlinks: count,
                            }));
                        }
                        Err(e) => return Err(e),
                    };
                    let st = sys::fstat(fd.as_fd())?;
                    let kind = st.st_mode & libc::S_IFMT;
                    if kind == libc::S_IFLNK && (!is_last || follow == Follow::Follow || trailing) {
                        count += 1;
                        if count > MAX_SYMLINKS {
                            return Err(Errno::ELOOP);
                        }
                        let target = sys::readlink_fd(fd.as_fd())?;
                        if target.is_empty() {
                            return Err(Errno::ENOENT);
                        }
                        if is_last && target.ends_with(b"/") {
                            trailing = true;
                        }
                        for c in components(&target).into_iter().rev() {
                            pending.push_front(c);
                        }
                        if target.starts_with(b"/") {
                            stack.clear();
                            cur = self.dup_root()?;
                        }
                        continue;
                    }
                    if is_last {
                        if trailing && kind != libc::S_IFDIR {
                            return Err(Errno::ENOTDIR);
                        }
                        return Ok(Walked::Done(Target {
                            fd: Some(fd),
                            parent: Some((cur, cname)),
                            canonical: next,
                            trailing_slash: trailing,
                            symlinks: count,
                        }));
                    }
                    if !is_dir(&st) {
                        return Err(Errno::ENOTDIR);
                    }
                    stack = next;
                    cur = fd;
                }
            }
        }
        // Ended on the root, ".", ".." or a symlink to one of those.
        Ok(Walked::Done(Target {
            fd: Some(cur),
            parent: None,
            canonical: stack,
            trailing_slash: trailing,
            symlinks: count,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gofer::testutil::TempTree;
    use std::os::unix::fs::symlink;

    fn setup() -> (TempTree, OwnedFd, Mounts) {
        let t = TempTree::new("walk");
        std::fs::create_dir_all(t.p("etc")).unwrap();
        std::fs::create_dir_all(t.p("a/b/c")).unwrap();
        std::fs::create_dir_all(t.p("proc")).unwrap();
        std::fs::write(t.p("etc/passwd"), b"root:x:0:0").unwrap();
        std::fs::write(t.p("a/b/c/file"), b"deep").unwrap();
        symlink("../proc/self/mounts", t.p("etc/mtab")).unwrap();
        symlink("/etc", t.p("abs_etc")).unwrap();
        symlink("b/c", t.p("a/rel_c")).unwrap();
        symlink("/", t.p("to_root")).unwrap();
        symlink("../../../../etc", t.p("a/b/up")).unwrap();
        symlink("missing", t.p("dangling")).unwrap();
        symlink("loop2", t.p("loop1")).unwrap();
        symlink("loop1", t.p("loop2")).unwrap();
        let root = t.root_fd();
        (t, root, Mounts::new(&["/proc", "/sys/"]))
    }

    fn read_target(w: &Walker<'_>, path: &str) -> Result<String, Errno> {
        let t = match w.resolve(path.as_bytes(), Follow::Follow, 0)? {
            Walked::Done(t) => t,
            Walked::Redirect(r) => panic!("unexpected redirect {r:?}"),
        };
        let (dir, name) = t.parent.ok_or(Errno::EISDIR)?;
        let fd = sys::openat(dir.as_fd(), &name, libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
        Ok(std::fs::read_to_string(format!("/proc/self/fd/{}", {
            use std::os::fd::AsRawFd;
            fd.as_raw_fd()
        }))
        .unwrap())
    }

    fn canon(w: &Walker<'_>, path: &str, follow: Follow) -> Result<String, Errno> {
        match w.resolve(path.as_bytes(), follow, 0)? {
            Walked::Done(t) => {
                let mut s = String::new();
                for c in &t.canonical {
                    s.push('/');
                    s.push_str(std::str::from_utf8(c).unwrap());
                }
                Ok(if s.is_empty() { "/".into() } else { s })
            }
            Walked::Redirect(r) => Ok(format!("redirect:{}", r.path)),
        }
    }

    /// A tree deeper than one path string: 45 levels of 100-byte names,
    /// made from fd to fd (a path to the bottom is ~4.5 KiB).
    #[test]
    fn paths_longer_than_one_kernel_call_are_walked_by_component() {
        let (_t, root, m) = setup();
        let name = "d".repeat(100);
        let cname = std::ffi::CString::new(name.clone()).unwrap();
        let mut dir = sys::openat(root.as_fd(), c"a", libc::O_PATH | libc::O_CLOEXEC, 0).unwrap();
        for _ in 0..45 {
            nix::sys::stat::mkdirat(
                dir.as_fd(),
                cname.as_c_str(),
                nix::sys::stat::Mode::from_bits_truncate(0o755),
            )
            .unwrap();
            dir = sys::openat(dir.as_fd(), &cname, libc::O_PATH | libc::O_CLOEXEC, 0).unwrap();
        }
        let deep = format!("/a{}", format!("/{name}").repeat(45));
        assert!(deep.len() > PATH_MAX);
        let w = Walker::new(root.as_fd(), &m);
        assert_eq!(canon(&w, &deep, Follow::Follow).unwrap(), deep);
        // ".." from below PATH_MAX's reach, and back down.
        let up = format!("{deep}/../{name}/..");
        assert_eq!(
            canon(&w, &up, Follow::Follow).unwrap(),
            deep[..deep.len() - 101]
        );
        // The directory that holds a new name at the bottom.
        let parent = match w
            .resolve_parent(format!("{deep}/new").as_bytes(), 0)
            .unwrap()
        {
            Walked::Done(p) => p,
            Walked::Redirect(r) => panic!("unexpected redirect {r:?}"),
        };
        assert_eq!(parent.last.as_deref(), Some(c"new"));
        let st = sys::fstat(parent.dir.as_fd()).unwrap();
        assert_eq!(st.st_ino, sys::fstat(dir.as_fd()).unwrap().st_ino);
        // Still bounded: past the wire's limit, ENAMETOOLONG.
        let too_long = format!("/a{}", format!("/{name}").repeat(LONG_PATH_MAX / 101 + 1));
        assert_eq!(
            canon(&w, &too_long, Follow::Follow),
            Err(Errno::ENAMETOOLONG)
        );
    }

    #[test]
    fn slow_walk_basics() {
        let (_t, root, m) = setup();
        let w = Walker::new(root.as_fd(), &m);
        assert_eq!(read_target(&w, "/etc/passwd").unwrap(), "root:x:0:0");
        assert_eq!(read_target(&w, "/a/rel_c/file").unwrap(), "deep");
        assert_eq!(read_target(&w, "/abs_etc/passwd").unwrap(), "root:x:0:0");
        assert_eq!(
            canon(&w, "/a/rel_c/../c/./file", Follow::Follow).unwrap(),
            "/a/b/c/file"
        );
        assert_eq!(canon(&w, "/a/rel_c", Follow::NoFollow).unwrap(), "/a/rel_c");
        assert_eq!(canon(&w, "/a/rel_c/", Follow::NoFollow).unwrap(), "/a/b/c");
        assert_eq!(canon(&w, "/to_root", Follow::Follow).unwrap(), "/");
        assert_eq!(
            canon(&w, "/etc/passwd/", Follow::Follow).unwrap_err(),
            Errno::ENOTDIR
        );
        assert_eq!(
            canon(&w, "/etc/passwd/x", Follow::Follow).unwrap_err(),
            Errno::ENOTDIR
        );
        assert_eq!(
            canon(&w, "/nope/x", Follow::Follow).unwrap_err(),
            Errno::ENOENT
        );
        // missing last component: parent known, fd None
        match w.resolve(b"/dangling", Follow::Follow, 0).unwrap() {
            Walked::Done(t) => {
                assert!(t.fd.is_none());
                assert_eq!(t.parent.unwrap().1.as_bytes(), b"missing");
            }
            Walked::Redirect(_) => panic!(),
        }
        assert_eq!(
            canon(&w, "/loop1", Follow::Follow).unwrap_err(),
            Errno::ELOOP
        );
        assert_eq!(canon(&w, "/loop1", Follow::NoFollow).unwrap(), "/loop1");
        let long = format!("/{}", "x".repeat(256));
        assert_eq!(
            canon(&w, &long, Follow::Follow).unwrap_err(),
            Errno::ENAMETOOLONG
        );
        let long = format!("/{}", "a/".repeat(LONG_PATH_MAX / 2));
        assert_eq!(
            canon(&w, &long, Follow::Follow).unwrap_err(),
            Errno::ENAMETOOLONG
        );
        assert_eq!(canon(&w, "", Follow::Follow).unwrap_err(), Errno::ENOENT);
    }

    #[test]
    fn escapes_stay_inside() {
        let (t, root, m) = setup();
        let w = Walker::new(root.as_fd(), &m);
        // Real host files that must not be reached.
        assert_eq!(
            canon(&w, "/../../../etc/passwd", Follow::Follow).unwrap(),
            "/etc/passwd"
        );
        assert_eq!(
            read_target(&w, "/../../../etc/passwd").unwrap(),
            "root:x:0:0"
        );
        assert_eq!(
            read_target(&w, "/to_root/../../etc/passwd").unwrap(),
            "root:x:0:0"
        );
        assert_eq!(read_target(&w, "/a/b/up/passwd").unwrap(), "root:x:0:0");
        assert_eq!(canon(&w, "/a/b/up", Follow::Follow).unwrap(), "/etc");
        // fast path too
        let fd = w
            .fast_open(
                b"/../../../../etc/passwd",
                libc::O_RDONLY | libc::O_CLOEXEC,
                0,
            )
            .unwrap()
            .unwrap();
        let s = std::fs::read_to_string(format!("/proc/self/fd/{}", {
            use std::os::fd::AsRawFd;
            fd.as_raw_fd()
        }))
        .unwrap();
        assert_eq!(s, "root:x:0:0");
        // the temp root's own parent is never the answer for ".."
        assert_eq!(canon(&w, "/..", Follow::Follow).unwrap(), "/");
        assert!(t.path.exists());
    }

    #[test]
    fn nested_symlinks_eloop() {
        let (t, root, m) = setup();
        // l0 -> file, l1 -> l0, ..., l40 -> l39: 41 symlinks from l40.
        std::fs::write(t.p("file"), b"x").unwrap();
        symlink("file", t.p("l0")).unwrap();
        for i in 1..=40 {
            symlink(format!("l{}", i - 1), t.p(&format!("l{i}"))).unwrap();
        }
        let w = Walker::new(root.as_fd(), &m);
        assert_eq!(canon(&w, "/l39", Follow::Follow).unwrap(), "/file");
        assert_eq!(canon(&w, "/l40", Follow::Follow).unwrap_err(), Errno::ELOOP);
        // budget counts across redirects
        assert_eq!(
            w.resolve(b"/l0", Follow::Follow, 40).unwrap_err(),
            Errno::ELOOP
        );
    }

    #[test]
    fn a_served_mount_inside_a_synthetic_one_is_walked_here() {
        let (t, root, m) = setup();
        std::fs::create_dir_all(t.p("sys/fs/cgroup/memory")).unwrap();
        std::fs::write(t.p("sys/fs/cgroup/memory/limit"), b"42").unwrap();
        let m = m.serving(&["/sys/fs/cgroup"]);
        let w = Walker::new(root.as_fd(), &m);
        assert_eq!(
            read_target(&w, "/sys/fs/cgroup/memory/limit").unwrap(),
            "42"
        );
        assert_eq!(
            canon(&w, "/sys/fs/cgroup", Follow::Follow).unwrap(),
            "/sys/fs/cgroup"
        );
        // The directories on the way are the sentry's when they are the end
        // or the walk turns elsewhere.
        assert_eq!(canon(&w, "/sys", Follow::Follow).unwrap(), "redirect:/sys");
        assert_eq!(
            canon(&w, "/sys/fs", Follow::Follow).unwrap(),
            "redirect:/sys/fs"
        );
        assert_eq!(
            canon(&w, "/sys/kernel", Follow::Follow).unwrap(),
            "redirect:/sys/kernel"
        );
        assert_eq!(
            canon(&w, "/sys/fs/cgroup/../kernel", Follow::Follow).unwrap(),
            "redirect:/sys/fs/kernel"
        );
    }

    #[test]
    fn redirects() {
        let (_t, root, m) = setup();
        let w = Walker::new(root.as_fd(), &m);
        assert_eq!(
            canon(&w, "/proc/self", Follow::Follow).unwrap(),
            "redirect:/proc/self"
        );
        assert_eq!(
            canon(&w, "/proc", Follow::Follow).unwrap(),
            "redirect:/proc"
        );
        assert_eq!(
            canon(&w, "/a/../proc/./self/", Follow::Follow).unwrap(),
            "redirect:/proc/./self/"
        );
        match w.resolve(b"/etc/mtab", Follow::Follow, 2).unwrap() {
            Walked::Redirect(r) => {
                assert_eq!(r.path, "/proc/self/mounts");
                assert_eq!(r.symlinks_followed, 3);
            }
            Walked::Done(_) => panic!("no redirect"),
        }
        // not followed: the symlink itself
        assert_eq!(
            canon(&w, "/etc/mtab", Follow::NoFollow).unwrap(),
            "/etc/mtab"
        );
        // sys does not exist in the tree but is still redirected
        assert_eq!(
            canon(&w, "/sys/kernel", Follow::Follow).unwrap(),
            "redirect:/sys/kernel"
        );
        assert!(w.fast_open(b"/proc/self", libc::O_PATH, 0).is_none());
        match w.resolve_parent(b"/proc/x", 0).unwrap() {
            Walked::Redirect(r) => assert_eq!(r.path, "/proc/x"),
            Walked::Done(_) => panic!(),
        }
        match w.resolve_parent(b"/proc", 0).unwrap() {
            Walked::Redirect(r) => assert_eq!(r.path, "/proc"),
            Walked::Done(_) => panic!(),
        }
        match w.resolve_parent(b"/abs_etc/newfile/", 0).unwrap() {
            Walked::Done(p) => assert_eq!(p.last.unwrap().as_bytes(), b"newfile/"),
            Walked::Redirect(_) => panic!(),
        }
    }
}
