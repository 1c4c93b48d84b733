//! The walk: every path syscall's resolution, in one place. A path is
//! absolute (`abs_path` joins a relative one to the caller's cwd or
//! dirfd); `on_path` walks it, answering synthetic mounts (/proc, /sys)
//! from the sentry and the rest from the directory cache (`dcache`: the
//! sentry's own fstatat and read-only openat below a cached directory)
//! or the gofer (one round trip per path, whatever its length), following
//! symlinks that lead from one to the other. The handlers in
//! `syscalls::*` call these on their `Ctx`.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;

use super::{dcache, longpath};
use super::{Location, SynthFs};
use crate::gofer::{Client, Creds, Follow, Walked, LONG_PATH_MAX};
use crate::sentry::cwd::VirtualCwd;
use crate::sentry::fs::hostproc;
use crate::sentry::fs::procfs::{EntryKind, Node, NodeAttr};
use crate::sentry::syscalls::{Ctx, AT_FDCWD, MAX_SYMLINKS, PATH_MAX};
use crate::sentry::{cred, lineage, sys, sysfs, vfs};

/// Where a path led.
pub enum Found {
    /// A gofer-backed file: an O_PATH fd (O_NOFOLLOW when not following).
    Host(OwnedFd),
    /// A synthetic node and its sandbox path.
    Synthetic {
        fs: SynthFs,
        rel: String,
        node: Node,
    },
}

impl<'a> Ctx<'a> {
    /// The synthetic directory the caller's fd `fd` was recorded as (the
    /// stand-in directory's fds; see `Sentry::synthetic_dir`).
    pub fn recorded_synthetic_dir(&mut self, fd: i32) -> Result<Option<VirtualCwd>, Errno> {
        let tgid = self.task()?.tgid;
        Ok(self.sentry.synthetic_dir(tgid, fd))
    }

    /// The path the caller's synthetic directory fd `fd` was recorded
    /// with; `gone` when that is the /proc/<pid> directory of a process
    /// that is gone, even if a new process has its pid now.
    pub fn recorded_synthetic_path(
        &mut self,
        fd: i32,
        gone: Errno,
    ) -> Result<Option<String>, Errno> {
        match self.recorded_synthetic_dir(fd)? {
            Some(d) if !d.alive() => Err(gone),
            d => Ok(d.map(|d| d.path)),
        }
    }

    /// The sandbox path of the caller's fd `fd` (a directory for *at calls).
    pub fn fd_path(&mut self, fd: i32) -> Result<Vec<u8>, Errno> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        let link = match hostproc::fd_link(self.tid(), fd) {
            Ok(link) => link,
            // A directory deeper than the kernel names.
            Err(e) if e.raw_os_error() == Some(libc::ENAMETOOLONG) => {
                let st = sys::stat_caller_fd(self.tid(), fd)?;
                return self.long_dir_path((st.st_dev, st.st_ino));
            }
            Err(_) => return Err(Errno::EBADF),
        };
        if link == SynthFs::Proc.mount_point().as_bytes() {
            // Linux's procfs refuses every lookup from a gone process's
            // directory (its permission check finds no task).
            if let Some(path) = self.recorded_synthetic_path(fd, Errno::ESRCH)? {
                return Ok(path.into_bytes());
            }
        }
        if link.starts_with(hostproc::HOST_FILE_LINK) {
            // A file outside the container's mounts (`hostproc::fd_link`):
            // its host path must not be resolved in the container, nor
            // may it be a base (a host directory passed in as stdin).
            return Err(Errno::EACCES);
        }
        if link.first() != Some(&b'/') {
            // pipe:[..], socket:[..], anon_inode:[..]
            return Err(Errno::ENOTDIR);
        }
        if link.ends_with(b" (deleted)") {
            return Err(Errno::ENOENT);
        }
        Ok(link)
    }

    /// The caller's virtual working directory, when it is a directory the
    /// kernel cannot hold (see `cwd`); None: the kernel's cwd is the cwd.
    pub fn virtual_cwd(&mut self) -> Result<Option<VirtualCwd>, Errno> {
        self.sentry.kernel.cwds.get(self.tid())
    }

    /// The canonical sandbox path of the synthetic directory `rel` of `fs`
    /// (`self` and `thread-self` replaced by the caller's pids), pinned to
    /// the task whose /proc directory it is in.
    pub fn synthetic_dir(&mut self, fs: SynthFs, rel: &str) -> Result<VirtualCwd, Errno> {
        let (canon, task) = match fs {
            SynthFs::Proc => self.sentry.procfs.canonical(self.tid(), rel)?,
            SynthFs::Sys => {
                let comps: Vec<&str> = rel
                    .split('/')
                    .filter(|c| !c.is_empty() && *c != ".")
                    .collect();
                (comps.join("/"), None)
            }
        };
        let pin = match task {
            Some(htid) => Some((htid, lineage::identify(htid).map_err(|_| Errno::ENOENT)?)),
            None => None,
        };
        let path = if canon.is_empty() {
            fs.mount_point().to_string()
        } else {
            format!("{}/{canon}", fs.mount_point())
        };
        Ok(VirtualCwd { path, pin })
    }

    /// The absolute sandbox path for (dirfd, path) as the *at calls take it.
    pub fn abs_path(&mut self, dirfd: i32, path: &[u8]) -> Result<Vec<u8>, Errno> {
        if path.first() == Some(&b'/') {
            return Ok(path.to_vec());
        }
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let base = if dirfd == AT_FDCWD {
            match self.virtual_cwd()? {
                Some(v) if v.alive() => v.path.into_bytes(),
                // Its directory is gone (/proc/<pid> of a process that
                // exited): Linux's procfs refuses every lookup from there.
                Some(_) => return Err(Errno::ESRCH),
                None => {
                    let tid = self.tid();
                    let read = || {
                        std::fs::read_link(format!("/proc/{tid}/cwd"))
                            .map(|p| p.into_os_string().into_encoded_bytes())
                            .map_err(|e| match e.raw_os_error() {
                                Some(libc::ENAMETOOLONG) => Errno::ENAMETOOLONG,
                                _ => Errno::ESRCH,
                            })
                    };
                    // Kept where only this sandbox renames directories
                    // (as the directory cache), and not once removed.
                    let dcache = &self.sentry.dcache;
                    let keep = |p: &[u8]| !p.ends_with(b" (deleted)") && dcache.may_cache(p);
                    let seen = self.req.received;
                    match self.sentry.kernel.creds.cwd(tid, seen, read, keep) {
                        // A cwd deeper than the kernel names.
                        Err(Errno::ENAMETOOLONG) => {
                            let st = nix::sys::stat::stat(format!("/proc/{tid}/cwd").as_str())
                                .map_err(|_| Errno::ESRCH)?;
                            self.long_dir_path((st.st_dev, st.st_ino))?
                        }
                        cwd => cwd?,
                    }
                }
            }
        } else {
            self.fd_path(dirfd)?
        };
        let joined = vfs::join(&base, path);
        if joined.len() >= LONG_PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(joined)
    }

    /// The sandbox path of directory `id`, one the kernel cannot name (see
    /// `vfs::longpath`): kept when the sentry resolved it, and still found
    /// there.
    fn long_dir_path(&mut self, id: longpath::DirId) -> Result<Vec<u8>, Errno> {
        let path = self.sentry.long_paths.find(id).ok_or(Errno::ENAMETOOLONG)?;
        match self.resolve(&path, Follow::Follow) {
            Ok(Found::Host(fd))
                if sys::fstat_fd(fd.as_fd()).is_ok_and(|st| (st.st_dev, st.st_ino) == id) =>
            {
                Ok(path)
            }
            _ => {
                self.sentry.long_paths.forget(id);
                Err(Errno::ENOENT)
            }
        }
    }

    /// Keeps the sandbox path `abs` of directory `st` where the kernel
    /// cannot name it (see `vfs::longpath`).
    pub fn remember_dir_path(&self, abs: &[u8], st: &libc::stat) {
        if abs.len() >= PATH_MAX && st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            let path = vfs::normalize(abs);
            self.sentry
                .long_paths
                .remember((st.st_dev, st.st_ino), &path);
        }
    }

    /// Runs a gofer operation on `abs`, following redirects into the
    /// synthetic mounts, where `synthetic` decides.
    pub fn on_path<T>(
        &mut self,
        abs: &[u8],
        mut gofer_op: impl FnMut(&Client, &[u8], &Creds, u32) -> Result<Walked<T>, Errno>,
        mut synthetic: impl FnMut(&mut Self, SynthFs, &str, u32) -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        let creds = self.creds()?;
        let mut path = abs.to_vec();
        let mut links = 0;
        let mut redirected = false;
        for _ in 0..=MAX_SYMLINKS {
            if redirected {
                // The gofer stopped at a synthetic mount; the rest may climb
                // out of a synthetic link (/proc/self/root/.., /proc/1/cwd/..).
                // Splice the link in first, as Linux walks, so that `..`
                // applies to its target. Sending the raw rest back to the
                // gofer only redirected again, until ELOOP.
                if let Some((fs, rel)) = vfs::synthetic_rest(&path) {
                    if rel.split('/').any(|c| c == "..") {
                        if let Some(next) = self.through_link(fs, &rel)? {
                            links += 1;
                            path = next;
                            redirected = false;
                            continue;
                        }
                        path = vfs::normalize(&path);
                    }
                }
            }
            let loc = if redirected {
                vfs::locate_normalized(&vfs::normalize(&path))
            } else {
                vfs::locate(&path)
            };
            match loc {
                Location::Synthetic(fs, rel) => match synthetic(self, fs, &rel, links) {
                    Err(e @ (Errno::ENOTDIR | Errno::ENOENT)) => {
                        match self.through_link(fs, &rel)? {
                            // A symlink or magic link inside the path (/proc/1/root/etc,
                            // /proc/self/cwd/x): continue from its target.
                            Some(next) => {
                                links += 1;
                                path = next;
                                redirected = false;
                            }
                            None => return Err(e),
                        }
                    }
                    other => return other,
                },
                Location::Gofer => match gofer_op(self.gofer, &path, &creds, links)? {
                    Walked::Done(t) => return Ok(t),
                    Walked::Redirect(r) => {
                        path = r.path.into_bytes();
                        links = r.symlinks_followed;
                        redirected = true;
                    }
                },
            }
        }
        Err(Errno::ELOOP)
    }

    /// The cached gofer directory holding the last name of `abs`, and that
    /// name, when the sentry may look it up itself (see `dcache`): `abs`
    /// is plain and behind the gofer, and the caller may search that
    /// directory and every one above it (they grant it to everyone, or
    /// it holds CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH, or their modes
    /// grant it to its fsuid and groups), so the gofer's walk with its
    /// credentials could not fail where the cached one succeeds. `.` and
    /// `..` count where `without_dots` can take them out. Err(ENOENT):
    /// a directory on the way is not there (`missing_below_cache`).
    pub fn cached_parent(&mut self, abs: &[u8]) -> Result<Option<dcache::Child>, Errno> {
        let undotted;
        let abs = if has_dot_component(abs) {
            match self.without_dots(abs) {
                Some(p) => {
                    undotted = p;
                    &undotted[..]
                }
                None => return Ok(None),
            }
        } else {
            abs
        };
        let stripped = match abs.iter().rposition(|b| *b != b'/') {
            Some(last) => &abs[..=last],
            None => return Ok(None),
        };
        let trailing_slash = stripped.len() < abs.len();
        let Some((parent, name)) = dcache::split_plain(stripped) else {
            return Ok(None);
        };
        if vfs::locate(abs) != Location::Gofer {
            return Ok(None);
        }
        let Some(dir) = self.cached_dir(&parent) else {
            return self.missing_below_cache(&parent);
        };
        let child = dcache::Child {
            dir: dir.fd,
            name: name.to_vec(),
            trailing_slash,
        };
        if dir.world_searchable {
            return Ok(Some(child));
        }
        let creds = self.creds()?;
        if creds.cap_effective & cred::DAC_CAPS != 0 {
            return Ok(Some(child));
        }
        // Every directory from the root down, by its mode (all of them are
        // cached: `cached_dir` walked them).
        let mut at = Some(parent);
        while let Some(dir) = at {
            let Some(dcache::Entry::Dir(d)) = self.sentry.dcache.get(&dir) else {
                return Ok(None);
            };
            if !d
                .search
                .is_some_and(|s| s.allows(creds.fsuid, creds.fsgid, &creds.groups))
            {
                return Ok(None);
            }
            at = dcache::split_plain(&dir).map(|(up, _)| up);
        }
        Ok(Some(child))
    }

    /// The cached lookup of `abs` when its last name is not there (a
    /// directory missing on the way is Err(ENOENT), as in `cached_parent`);
    /// None when it is there or the cache cannot tell.
    pub fn cached_missing(&mut self, abs: &[u8]) -> Result<Option<dcache::Child>, Errno> {
        Ok(self
            .cached_parent(abs)?
            .filter(|child| child.stat() == Err(Errno::ENOENT)))
    }

    /// ENOENT when a directory on the way to `dir` (normalized) is not
    /// there, as the deepest cached directory above it shows, and the
    /// caller may search that one and all above it; else not known here.
    /// Compilers probe every include directory for `bits/x.h` and the
    /// like: each probe would otherwise cost two gofer walks.
    fn missing_below_cache(&mut self, dir: &[u8]) -> Result<Option<dcache::Child>, Errno> {
        let mut at = dir.to_vec();
        while let Some((up, name)) = dcache::split_plain(&at) {
            let name = name.to_vec();
            let Some(dcache::Entry::Dir(d)) = self.sentry.dcache.get(&up) else {
                at = up;
                continue;
            };
            if !d.world_searchable && self.creds()?.cap_effective & cred::DAC_CAPS == 0 {
                return Ok(None);
            }
            return match dcache::stat_child(&d.fd, &name) {
                Err(Errno::ENOENT) => Err(Errno::ENOENT),
                _ => Ok(None),
            };
        }
        Ok(None)
    }

    /// `abs` without its `.` and `..` components, when each of them
    /// stands in a cached directory (so every name before it is a real
    /// directory, no symlink, and its `..` is its lexical parent) that
    /// everyone may search. Compilers name most files that way
    /// (`/usr/lib/gcc/x86_64-linux-gnu/12/../../../x86_64-linux-gnu/crt1.o`).
    fn without_dots(&mut self, abs: &[u8]) -> Option<Vec<u8>> {
        let mut names: Vec<&[u8]> = Vec::new();
        for comp in abs.split(|b| *b == b'/').filter(|c| !c.is_empty()) {
            if comp != b"." && comp != b".." {
                names.push(comp);
                continue;
            }
            let here = join_names(&names);
            if !self.cached_dir(&here)?.world_searchable {
                return None;
            }
            if comp == b".." {
                names.pop();
            }
        }
        let mut out = join_names(&names);
        if abs.last() == Some(&b'/') && out.len() > 1 {
            out.push(b'/');
        }
        Some(out)
    }

    /// The cache's entry for the directory `dir` (normalized), walking it
    /// (and the directories above it, for their modes) through the gofer
    /// when it is not cached yet.
    fn cached_dir(&mut self, dir: &[u8]) -> Option<dcache::CachedDir> {
        let cache = &self.sentry.dcache;
        match cache.get(dir) {
            Some(dcache::Entry::Dir(d)) => return Some(d),
            Some(dcache::Entry::NotCanonical) => return None,
            None => {}
        }
        if !cache.may_cache(dir) || vfs::locate(dir) != Location::Gofer {
            return None;
        }
        let parent = match dcache::split_plain(dir) {
            Some((parent, name)) => Some((self.cached_dir(&parent)?, name)),
            None => None,
        };
        let parent_world_searchable = parent.as_ref().is_none_or(|(p, _)| p.world_searchable);
        let generation = self.sentry.dcache.generation();
        // One name below a cached directory: the sentry opens it itself
        // (O_PATH, not following a symlink, so the key stays canonical),
        // and a cold walk costs no gofer round trip per component. Where
        // its own credentials do not reach, or the name is a symlink, the
        // gofer walks as the caller.
        if let Some((p, name)) = &parent {
            if let Ok(name) = std::ffi::CString::new(*name) {
                let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
                match sys::openat(p.fd.as_fd(), &name, flags) {
                    Ok(fd) => {
                        if let Some(d) =
                            self.sentry
                                .dcache
                                .insert(dir, fd, generation, parent_world_searchable)
                        {
                            return Some(d);
                        }
                    }
                    // Not there: the gofer's walk would find nothing either.
                    Err(Errno::ENOENT) => return None,
                    Err(_) => {}
                }
            }
        }
        match self.resolve(dir, Follow::Follow) {
            Ok(Found::Host(fd)) => {
                self.sentry
                    .dcache
                    .insert(dir, fd, generation, parent_world_searchable)
            }
            // Leads into /proc or /sys (/dev/fd): not the gofer's.
            Ok(Found::Synthetic { .. }) => {
                self.sentry.dcache.not_canonical(dir, generation);
                None
            }
            // The ordinary walk gives the errno.
            Err(_) => None,
        }
    }

    /// Resolves `abs` to a host O_PATH fd or a synthetic node, following a
    /// trailing symlink when `follow` (also symlinks the sentry serves).
    pub fn resolve(&mut self, abs: &[u8], follow: Follow) -> Result<Found, Errno> {
        // "x/", "x/." and "x/.." name the directory x leads to: a final
        // symlink is followed whatever the flags say, and anything but a
        // directory there is ENOTDIR (lstat("/proc/self/") is the
        // directory, as find and fts expect).
        let names_a_directory = names_a_directory(abs);
        let follow = if names_a_directory {
            Follow::Follow
        } else {
            follow
        };
        let found = self.resolve_following(abs, follow)?;
        if let Found::Synthetic { node, .. } = &found {
            if names_a_directory && !node.is_dir() {
                return Err(Errno::ENOTDIR);
            }
        }
        Ok(found)
    }

    fn resolve_following(&mut self, abs: &[u8], follow: Follow) -> Result<Found, Errno> {
        let mut path = abs.to_vec();
        let mut total_links = 0;
        loop {
            let step = self.on_path(
                &path,
                |g, p, c, l| {
                    g.walk(p, follow, c, l).map(|w| match w {
                        Walked::Done(fd) => Walked::Done(Err(fd)),
                        Walked::Redirect(r) => Walked::Redirect(r),
                    })
                },
                |ctx, fs, rel, l| Ok(Ok((ctx.synthetic_lookup(fs, rel)?, fs, rel.to_string(), l))),
            )?;
            match step {
                Err(fd) => return Ok(Found::Host(fd)),
                Ok((node, fs, rel, links)) => {
                    total_links = total_links.max(links);
                    match (&node, follow) {
                        (
                            Node::Refused {
                                kind: EntryKind::Symlink,
                                errno,
                            },
                            Follow::Follow,
                        ) => return Err(*errno),
                        (Node::Symlink(target), Follow::Follow) => {
                            total_links += 1;
                            if total_links > MAX_SYMLINKS {
                                return Err(Errno::ELOOP);
                            }
                            path = vfs::synthetic_link_target(fs, &rel, target);
                        }
                        _ => return Ok(Found::Synthetic { fs, rel, node }),
                    }
                }
            }
        }
    }

    /// Whether the caller's dirfd (or cwd for AT_FDCWD) is the file its
    /// sandbox path names: same device and inode as the gofer's (or the
    /// synthetic mount's) view of that path. The calls the kernel finishes
    /// (O_PATH opens, execve, chdir) walk relative paths from the real
    /// dirfd or cwd; a host directory passed into the container (an
    /// inherited fd, fchdir to it) must not become their base.
    pub fn base_is_sandboxed(&mut self, dirfd: i32) -> Result<bool, Errno> {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let tid = self.tid();
        // A virtual cwd is not the kernel's: the kernel would walk from
        // the directory the process left.
        if dirfd == AT_FDCWD && self.virtual_cwd()?.is_some() {
            return Ok(false);
        }
        let (real, sandbox) = if dirfd == AT_FDCWD {
            let link = format!("/proc/{tid}/cwd");
            let cwd = match std::fs::read_link(&link) {
                Ok(cwd) => cwd,
                // Deeper than the kernel names: sandboxed when it is a
                // directory the sentry resolved, still found there.
                Err(e) if e.raw_os_error() == Some(libc::ENAMETOOLONG) => {
                    let real = std::fs::metadata(&link).map_err(|_| Errno::EBADF)?;
                    return Ok(self.long_dir_path((real.dev(), real.ino())).is_ok());
                }
                Err(_) => return Err(Errno::ESRCH),
            };
            (
                std::fs::metadata(&link).map_err(|_| Errno::EBADF)?,
                cwd.into_os_string().into_encoded_bytes(),
            )
        } else {
            (
                sys::with_task_fd_path(tid, dirfd, |p| std::fs::metadata(p))
                    .map_err(|_| Errno::EBADF)?,
                self.fd_path(dirfd)?,
            )
        };
        let seen = match self.resolve(&sandbox, Follow::Follow)? {
            Found::Host(fd) => sys::fstat_fd(fd.as_fd())?,
            Found::Synthetic { .. } => sys::fstat_fd(self.sentry.synthetic_dir.as_fd())?,
        };
        Ok(seen.st_dev == real.dev() && seen.st_ino == real.ino())
    }

    /// Where a following call on `abs` really lands when `abs` names a
    /// synthetic symlink or fd link (`/proc/self/fd/3`, `/proc/self/cwd`):
    /// glibc's fchmodat(AT_SYMLINK_NOFOLLOW) and others chmod an O_PATH fd
    /// through `/proc/self/fd/N`. Other paths come back unchanged.
    pub fn follow_synthetic_link(&mut self, abs: &[u8]) -> Result<Vec<u8>, Errno> {
        let mut path = abs.to_vec();
        for _ in 0..=MAX_SYMLINKS {
            let Location::Synthetic(fs, rel) = vfs::locate(&path) else {
                return Ok(path);
            };
            match self.synthetic_lookup(fs, &rel) {
                Ok(Node::Symlink(t)) => path = vfs::synthetic_link_target(fs, &rel, &t),
                Ok(Node::Refused {
                    kind: EntryKind::Symlink,
                    errno,
                }) => return Err(errno),
                Ok(Node::FdLink { host_tid, fd }) => {
                    let Ok(t) = hostproc::fd_link(host_tid, fd) else {
                        return Ok(path);
                    };
                    if t.first() != Some(&b'/') || t.ends_with(b" (deleted)") {
                        return Ok(path);
                    }
                    path = t;
                }
                _ => return Ok(path),
            }
        }
        Err(Errno::ELOOP)
    }

    /// If a proper prefix of `rel` is a symlink or fd link, the absolute
    /// path it leads to with the rest of `rel` appended. A link of another
    /// task the caller may not follow (`Node::Refused`), or an fd/
    /// directory it may not search, is its errno (EACCES).
    pub fn through_link(&mut self, fs: SynthFs, rel: &str) -> Result<Option<Vec<u8>>, Errno> {
        let comps: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
        for i in 1..comps.len() {
            let prefix = comps[..i].join("/");
            let rest = comps[i..].join("/");
            let target: Vec<u8> = match self.synthetic_lookup(fs, &prefix) {
                Ok(Node::Symlink(t)) => vfs::synthetic_link_target(fs, &prefix, &t),
                Ok(Node::FdLink { host_tid, fd }) => {
                    let Ok(t) = hostproc::fd_link(host_tid, fd) else {
                        return Ok(None);
                    };
                    if t.first() != Some(&b'/') {
                        return Ok(None);
                    }
                    t
                }
                Ok(Node::Refused {
                    kind: EntryKind::Symlink,
                    errno,
                }) => return Err(errno),
                Ok(n) if n.is_dir() => continue,
                Err(Errno::EACCES) => return Err(Errno::EACCES),
                _ => return Ok(None),
            };
            return Ok(Some(vfs::join(&target, rest.as_bytes())));
        }
        Ok(None)
    }

    pub fn synthetic_lookup(&mut self, fs: SynthFs, rel: &str) -> Result<Node, Errno> {
        match fs {
            SynthFs::Proc => self.sentry.procfs.lookup(self.tid(), rel),
            SynthFs::Sys => sysfs::lookup(rel),
        }
    }

    pub fn synthetic_attr(&mut self, fs: SynthFs, rel: &str) -> Result<NodeAttr, Errno> {
        match fs {
            SynthFs::Proc => self.sentry.procfs.attr(self.tid(), rel),
            SynthFs::Sys => sysfs::attr(rel),
        }
    }
}

/// Whether a path ends in a way that names a directory: a trailing slash,
/// or a final "." or "..".
pub fn names_a_directory(path: &[u8]) -> bool {
    let trimmed = path.strip_suffix(b"/").unwrap_or(path);
    (trimmed.len() < path.len() && !trimmed.is_empty())
        || trimmed.ends_with(b"/.")
        || trimmed.ends_with(b"/..")
        || trimmed == b"."
        || trimmed == b".."
}

/// Follow or not, from AT_SYMLINK_NOFOLLOW.
pub fn follow_unless(flags: i32, nofollow_flag: i32) -> Follow {
    if flags & nofollow_flag != 0 {
        Follow::NoFollow
    } else {
        Follow::Follow
    }
}

/// The device number synthetic files report (procfs's anonymous dev).
pub fn synthetic_dev(fs: SynthFs) -> u64 {
    match fs {
        SynthFs::Proc => nix::sys::stat::makedev(0, 0x16),
        SynthFs::Sys => nix::sys::stat::makedev(0, 0x17),
    }
}

/// Whether `path` has a `.` or `..` component.
pub fn has_dot_component(path: &[u8]) -> bool {
    path.split(|b| *b == b'/').any(|c| c == b"." || c == b"..")
}

/// `/a/b` from `[a, b]` (`/` from none).
fn join_names(names: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for n in names {
        out.push(b'/');
        out.extend_from_slice(n);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}
