//! Wire protocol between the sentry (client) and the gofer (server).
//!
//! Every message is one `SOCK_SEQPACKET` packet, little endian:
//! `u8 version (= 1) | u16 message id | fields...`. Fields are fixed-size
//! integers, `bool`/tags as `u8` (0/1), byte strings (paths) as `u32 len |
//! bytes` (at most 4096 bytes, no NUL), credentials as `u32 fsuid | u32 fsgid
//! | u32 ngroups | u32 groups[ngroups] | u64 cap_effective`.
//! Message ids are fixed forever: append new ones, never renumber.
//! A reply carrying an fd ([`FdResp`]) has exactly one fd in `SCM_RIGHTS`;
//! when that fd is open for writing, a [`DoneResp`] follows once the gofer
//! closed its own copy (a copy still open would make the workload's
//! write-close-execve of the file fail with ETXTBSY). The sentry installs
//! the fd without waiting for it and reads it before its next request on
//! that channel, or before the kernel runs any execve
//! (`Client::settle`).

use super::GoferError;

/// Protocol version, the first byte of every message.
pub const VERSION: u8 = 1;
/// Longest path string the kernel takes in one call (with its NUL), and
/// so the longest symlink target.
pub const PATH_MAX: usize = 4096;
/// Longest path accepted on the wire, in bytes. A workload's own string is
/// shorter than PATH_MAX, but joined to a deep working directory or
/// directory fd the absolute path may be longer, as Linux allows: the
/// gofer then walks it component by component. Two of them and
/// `MAX_GROUPS` groups fit in one message (a rename in such a directory).
pub const LONG_PATH_MAX: usize = 6000;
/// Most supplementary groups accepted on the wire.
pub const MAX_GROUPS: usize = 1024;
/// Upper bound of an encoded message; receive buffers are this size + 1
/// (and the lanes' message buffers this size, mapped whole: the bound is
/// resident memory of both processes).
pub const MAX_MESSAGE_SIZE: usize = 16 * 1024;
/// Largest xattr value or name list carried (Linux allows 64 KiB; larger
/// ones get E2BIG, see the syscall table).
pub const XATTR_DATA_MAX: usize = 8 * 1024;
/// Longest xattr name (Linux's XATTR_NAME_MAX).
pub const XATTR_NAME_MAX: usize = 255;

/// Fixed numeric message ids. Append, never renumber.
pub mod msg_id {
    pub const OPEN: u16 = 1;
    pub const WALK: u16 = 2;
    pub const MKDIR: u16 = 3;
    pub const MKNOD: u16 = 4;
    pub const SYMLINK: u16 = 5;
    pub const LINK: u16 = 6;
    pub const UNLINK: u16 = 7;
    pub const RENAME: u16 = 8;
    pub const CHMOD: u16 = 9;
    pub const CHOWN: u16 = 10;
    pub const TRUNCATE: u16 = 11;
    pub const UTIMENS: u16 = 12;
    pub const ACCESS: u16 = 13;
    pub const XATTR: u16 = 14;
    pub const SOCKET: u16 = 15;
    pub const INOTIFY: u16 = 16;
    pub const LINK_FD: u16 = 17;
    pub const OPEN_PROC_FILE: u16 = 18;
    pub const R_ERROR: u16 = 0x8001;
    pub const R_REDIRECT: u16 = 0x8002;
    pub const R_FD: u16 = 0x8003;
    pub const R_DONE: u16 = 0x8004;
    pub const R_DATA: u16 = 0x8005;
}

/// Credentials the gofer thread assumes for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creds {
    pub fsuid: u32,
    pub fsgid: u32,
    pub groups: Vec<u32>,
    pub cap_effective: u64,
}

/// Whether a trailing symlink is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    Follow,
    NoFollow,
}

/// The path entered a synthetic mount: the sentry continues the walk itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// Canonical absolute sandbox path (symlink-free up to and including the
    /// synthetic mount point) followed by the not yet walked rest.
    pub path: String,
    /// Cumulative symlink count (the request's budget plus those followed here).
    pub symlinks_followed: u32,
}

/// Result of a walking request: either done, or continue in the sentry.
#[derive(Debug, PartialEq, Eq)]
pub enum Walked<T> {
    Done(T),
    Redirect(Redirect),
}

/// A `struct timespec` for utimensat (nsec may be `UTIME_NOW`/`UTIME_OMIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    pub const NOW: Timespec = Timespec {
        sec: 0,
        nsec: libc::UTIME_NOW,
    };
    pub const OMIT: Timespec = Timespec {
        sec: 0,
        nsec: libc::UTIME_OMIT,
    };
}

/// Analogous to openat(2): open `path` with the workload's `flags` (O_CLOEXEC
/// and O_NOCTTY added) and `mode`; reply [`FdResp`] or redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenReq {
    pub path: Vec<u8>,
    pub flags: i32,
    pub mode: u32,
    /// The caller's umask, applied by the kernel to a created file's
    /// `mode` (which it ignores where the parent has a default ACL).
    pub umask: u32,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to openat(2) with O_PATH (| O_NOFOLLOW): reply [`FdResp`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkReq {
    pub path: Vec<u8>,
    pub follow: Follow,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to mkdirat(2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MkdirReq {
    pub path: Vec<u8>,
    pub mode: u32,
    /// As [`OpenReq::umask`].
    pub umask: u32,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to mknodat(2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MknodReq {
    pub path: Vec<u8>,
    pub mode: u32,
    /// As [`OpenReq::umask`].
    pub umask: u32,
    pub dev: u64,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to symlinkat(2): create `linkpath` pointing to `target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymlinkReq {
    pub target: Vec<u8>,
    pub linkpath: Vec<u8>,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to linkat(2) (`follow_old` = AT_SYMLINK_FOLLOW).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkReq {
    pub old: Vec<u8>,
    pub new: Vec<u8>,
    pub follow_old: Follow,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to unlinkat(2) (`remove_dir` = AT_REMOVEDIR).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnlinkReq {
    pub path: Vec<u8>,
    pub remove_dir: bool,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to renameat2(2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameReq {
    pub old: Vec<u8>,
    pub new: Vec<u8>,
    pub flags: u32,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to fchmodat2(2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChmodReq {
    pub path: Vec<u8>,
    pub mode: u32,
    pub follow: Follow,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to fchownat(2) (-1 leaves an id unchanged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChownReq {
    pub path: Vec<u8>,
    pub uid: i32,
    pub gid: i32,
    pub follow: Follow,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to truncate(2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TruncateReq {
    pub path: Vec<u8>,
    pub len: i64,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to utimensat(2) (`None` = both times now).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UtimensReq {
    pub path: Vec<u8>,
    pub times: Option<[Timespec; 2]>,
    pub follow: Follow,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Analogous to faccessat2(2); checked against `creds` (the sentry passes
/// real-id creds unless the workload gave AT_EACCESS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessReq {
    pub path: Vec<u8>,
    pub mode: i32,
    pub flags: i32,
    pub creds: Creds,
    pub symlinks: u32,
}

/// Binary data (xattr values and name lists): NULs allowed, at most
/// [`XATTR_DATA_MAX`] bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

/// Which extended-attribute operation an [`XattrReq`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XattrOp {
    Get = 0,
    Set = 1,
    List = 2,
    Remove = 3,
}

/// Analogous to getxattrat/setxattrat/listxattrat/removexattrat(2) (and the
/// l* variants with `follow` = NoFollow). Get and List reply [`DataResp`]
/// (the whole value or list; the sentry applies the caller's size), Set and
/// Remove [`DoneResp`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XattrReq {
    pub path: Vec<u8>,
    pub op: XattrOp,
    /// Empty for List.
    pub name: Vec<u8>,
    /// The value for Set, empty otherwise.
    pub value: Blob,
    /// XATTR_CREATE / XATTR_REPLACE for Set.
    pub flags: i32,
    pub follow: Follow,
    pub creds: Creds,
    pub symlinks: u32,
}

/// bind(2) or connect(2) of the AF_UNIX socket that comes with the request
/// (exactly one fd in SCM_RIGHTS) to a path. `path` is the absolute sandbox
/// path, walked as every other request's (synthetic mounts redirect); the
/// kernel call then takes `name`, relative to the directory `base`, so that
/// the address the socket keeps (getsockname, a peer's accept) is the
/// workload's own string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketReq {
    pub path: Vec<u8>,
    pub base: Vec<u8>,
    pub name: Vec<u8>,
    /// connect(2); bind(2) otherwise.
    pub connect: bool,
    /// The caller's umask: the socket inode's mode is 0777 & !umask.
    pub umask: u32,
    pub creds: Creds,
    pub symlinks: u32,
}

/// inotify_add_watch(2) on the workload's inotify instance that comes with
/// the request (one fd in SCM_RIGHTS) for `path`, as the caller (its read
/// permission is checked). Replies [`DataResp`] with the watch descriptor
/// as 4 little-endian bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InotifyReq {
    pub path: Vec<u8>,
    pub follow: Follow,
    pub mask: u32,
    pub creds: Creds,
    pub symlinks: u32,
}

/// linkat(fd, "", newdir, name, AT_EMPTY_PATH) of the workload's fd that
/// comes with the request (one fd in SCM_RIGHTS) at `new`: what Linux does
/// for linkat of a /proc/<pid>/fd/N magic link with AT_SYMLINK_FOLLOW
/// (the way an O_TMPFILE file gets its name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkFdReq {
    pub new: Vec<u8>,
    pub creds: Creds,
    pub symlinks: u32,
}

/// The per-task /proc files the gofer opens (see [`OpenProcFileReq`]);
/// nothing else of its /proc can be named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcFile {
    Comm = 0,
    OomScoreAdj = 1,
    /// The task's memory (debuggers read and write it through the fd).
    Mem = 2,
    /// The 0400 files, read-only: their owner is the task's host uid, out
    /// of the sentry's reach (it holds no DAC capability), and Linux checks
    /// ptrace access at open (environ, auxv) or at each read with the
    /// reader's credentials (io, personality).
    Environ = 3,
    Auxv = 4,
    Io = 5,
    Personality = 6,
}

impl ProcFile {
    /// Every file, in wire order.
    pub const ALL: [ProcFile; 7] = [
        ProcFile::Comm,
        ProcFile::OomScoreAdj,
        ProcFile::Mem,
        ProcFile::Environ,
        ProcFile::Auxv,
        ProcFile::Io,
        ProcFile::Personality,
    ];

    /// The file's name in a pid (or task) directory.
    pub fn name(self) -> &'static str {
        match self {
            ProcFile::Comm => "comm",
            ProcFile::OomScoreAdj => "oom_score_adj",
            ProcFile::Mem => "mem",
            ProcFile::Environ => "environ",
            ProcFile::Auxv => "auxv",
            ProcFile::Io => "io",
            ProcFile::Personality => "personality",
        }
    }

    /// The read-only file named `name`, if it is one.
    pub fn read_only(name: &str) -> Option<ProcFile> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name && !f.writable())
    }

    /// Whether the file may be opened for writing at all.
    pub fn writable(self) -> bool {
        matches!(self, ProcFile::Comm | ProcFile::OomScoreAdj | ProcFile::Mem)
    }
}

/// Open a container task's `comm`, `oom_score_adj`, `mem` or a read-only
/// [`ProcFile`] in the gofer's
/// procfs of the container's pid namespace (`pid`/`tid` are container ids;
/// `tid` names a thread's `task/<tid>/comm` or `mem`) with `flags` (an
/// access mode and O_TRUNC/O_APPEND/O_NONBLOCK only): reply [`FdResp`].
/// The sentry has checked the caller's permission (for mem, Linux's
/// ptrace access check); the gofer opens with its own file capabilities,
/// and the workload's write(2) on the fd is checked by the kernel against
/// the writing task (comm: same thread group; oom_score_adj:
/// CAP_SYS_RESOURCE to go below the minimum).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenProcFileReq {
    pub pid: i32,
    pub tid: Option<i32>,
    pub file: ProcFile,
    pub flags: i32,
}

/// The credentials an [`OpenProcFileReq`] runs with: the gofer's own
/// CAP_DAC_OVERRIDE (the files are 0644, owned by the task's host uid).
pub static PROC_FILE_CREDS: Creds = Creds {
    fsuid: 0,
    fsgid: 0,
    groups: Vec::new(),
    cap_effective: 1 << caps::Capability::CAP_DAC_OVERRIDE as u64,
};

/// Reply: success with data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataResp {
    pub data: Blob,
}

/// Reply: the operation failed with `errno` (analogous to a -1 return).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorResp {
    pub errno: i32,
}

/// Reply: success, exactly one fd attached with SCM_RIGHTS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdResp;

/// Reply: success without a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoneResp;

/// Reply to [`OpenReq`].
pub type OpenResp = FdResp;
/// Reply to [`WalkReq`].
pub type WalkResp = FdResp;

/// Requests, sentry → gofer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Open(OpenReq),
    Walk(WalkReq),
    Mkdir(MkdirReq),
    Mknod(MknodReq),
    Symlink(SymlinkReq),
    Link(LinkReq),
    Unlink(UnlinkReq),
    Rename(RenameReq),
    Chmod(ChmodReq),
    Chown(ChownReq),
    Truncate(TruncateReq),
    Utimens(UtimensReq),
    Access(AccessReq),
    Xattr(XattrReq),
    Socket(SocketReq),
    Inotify(InotifyReq),
    LinkFd(LinkFdReq),
    OpenProcFile(OpenProcFileReq),
}

/// Replies, gofer → sentry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    Error(ErrorResp),
    Redirect(Redirect),
    Fd(FdResp),
    Done(DoneResp),
    Data(DataResp),
}

/// The request kinds' names, by [`Request::op_index`] (metrics labels).
pub const OPS: [&str; 18] = [
    "open",
    "walk",
    "mkdir",
    "mknod",
    "symlink",
    "link",
    "unlink",
    "rename",
    "chmod",
    "chown",
    "truncate",
    "utimens",
    "access",
    "xattr",
    "socket",
    "inotify",
    "link_fd",
    "open_proc_file",
];

impl Request {
    /// The request's kind, an index into [`OPS`].
    pub fn op_index(&self) -> usize {
        match self {
            Request::Open(_) => 0,
            Request::Walk(_) => 1,
            Request::Mkdir(_) => 2,
            Request::Mknod(_) => 3,
            Request::Symlink(_) => 4,
            Request::Link(_) => 5,
            Request::Unlink(_) => 6,
            Request::Rename(_) => 7,
            Request::Chmod(_) => 8,
            Request::Chown(_) => 9,
            Request::Truncate(_) => 10,
            Request::Utimens(_) => 11,
            Request::Access(_) => 12,
            Request::Xattr(_) => 13,
            Request::Socket(_) => 14,
            Request::Inotify(_) => 15,
            Request::LinkFd(_) => 16,
            Request::OpenProcFile(_) => 17,
        }
    }

    /// Whether an fd in the reply is open for writing, so a release
    /// message follows it (see `DoneResp`). Both sides decide it from the
    /// request alone, so they cannot disagree, and neither needs an fcntl.
    pub fn fd_reply_is_writable(&self) -> bool {
        match self {
            Request::Open(m) => {
                m.flags & libc::O_ACCMODE != libc::O_RDONLY && m.flags & libc::O_PATH == 0
            }
            Request::OpenProcFile(m) => m.flags & libc::O_ACCMODE != libc::O_RDONLY,
            _ => false,
        }
    }

    /// The credentials the request runs with.
    pub fn creds(&self) -> &Creds {
        match self {
            Request::Open(m) => &m.creds,
            Request::Walk(m) => &m.creds,
            Request::Mkdir(m) => &m.creds,
            Request::Mknod(m) => &m.creds,
            Request::Symlink(m) => &m.creds,
            Request::Link(m) => &m.creds,
            Request::Unlink(m) => &m.creds,
            Request::Rename(m) => &m.creds,
            Request::Chmod(m) => &m.creds,
            Request::Chown(m) => &m.creds,
            Request::Truncate(m) => &m.creds,
            Request::Utimens(m) => &m.creds,
            Request::Access(m) => &m.creds,
            Request::Xattr(m) => &m.creds,
            Request::Socket(m) => &m.creds,
            Request::Inotify(m) => &m.creds,
            Request::LinkFd(m) => &m.creds,
            Request::OpenProcFile(_) => &PROC_FILE_CREDS,
        }
    }
}

/// Byte cursor used by the decoder; every read is bounds-checked.
pub struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    pub fn new(buf: &'a [u8]) -> Dec<'a> {
        Dec { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], GoferError> {
        if self.remaining() < n {
            return Err(GoferError::Truncated {
                what,
                need: n,
                have: self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], GoferError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn finish(&self, id: u16) -> Result<(), GoferError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(GoferError::TrailingBytes { id, extra }),
        }
    }
}

/// A value with a wire encoding.
trait Wire: Sized {
    fn put(&self, out: &mut Vec<u8>);
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError>;
}

macro_rules! wire_int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
                Ok(<$t>::from_le_bytes(d.array(stringify!($t))?))
            }
        }
    )*};
}
wire_int!(u8, u16, u32, i32, u64, i64);

impl Wire for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
        match u8::get(d)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(GoferError::BadValue {
                what: "bool",
                value: v.into(),
            }),
        }
    }
}

impl Wire for Follow {
    fn put(&self, out: &mut Vec<u8>) {
        (*self == Follow::NoFollow).put(out);
    }
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
        Ok(if bool::get(d)? {
            Follow::NoFollow
        } else {
            Follow::Follow
        })
    }
}

/// Byte strings on the wire are always paths (or symlink targets).
impl Wire for Vec<u8> {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        out.extend_from_slice(self);
    }
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
        let len = u32::get(d)? as usize;
        if len > LONG_PATH_MAX {
            return Err(GoferError::PathTooLong { what: "path", len });
        }
        let s = d.take(len, "path bytes")?;
        if s.contains(&0) {
            return Err(GoferError::PathHasNul { what: "path" });
        }
        Ok(s.to_vec())
    }
}

impl Wire for String {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
        let bytes = Vec::<u8>::get(d)?;
        String::from_utf8(bytes).map_err(|_| GoferError::PathNotUtf8)
    }
}

impl Wire for Blob {
    fn put(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).put(out);
        out.extend_from_slice(&self.0);
    }
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
        let len = u32::get(d)? as usize;
        if len > XATTR_DATA_MAX {
            return Err(GoferError::PathTooLong {
                what: "xattr data",
                len,
            });
        }
        Ok(Blob(d.take(len, "xattr data")?.to_vec()))
    }
}

impl Wire for XattrOp {
    fn put(&self, out: &mut Vec<u8>) {
        (*self as u8).put(out);
    }
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
        match u8::get(d)? {
            0 => Ok(XattrOp::Get),
            1 => Ok(XattrOp::Set),
            2 => Ok(XattrOp::List),
            3 => Ok(XattrOp::Remove),
            v => Err(GoferError::BadValue {
                what: "xattr op",
                value: v.into(),
            }),
        }
    }
}

impl Wire for ProcFile {
    fn put(&self, out: &mut Vec<u8>) {
        (*self as u8).put(out);
    }
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
        let v = u8::get(d)?;
        ProcFile::ALL
            .get(usize::from(v))
            .copied()
            .ok_or(GoferError::BadValue {
                what: "proc file",
                value: v.into(),
            })
    }
}

impl Wire for Option<i32> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.put(out);
            }
        }
    }
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
        Ok(if bool::get(d)? {
            Some(i32::get(d)?)
        } else {
            None
        })
    }
}

impl Wire for Creds {
    fn put(&self, out: &mut Vec<u8>) {
        self.fsuid.put(out);
        self.fsgid.put(out);
        (self.groups.len() as u32).put(out);
        for g in &self.groups {
            g.put(out);
        }
        self.cap_effective.put(out);
    }
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
        let fsuid = u32::get(d)?;
        let fsgid = u32::get(d)?;
        let count = u32::get(d)? as usize;
        if count > MAX_GROUPS {
            return Err(GoferError::TooManyGroups { count });
        }
        if d.remaining() < count * 4 {
            return Err(GoferError::Truncated {
                what: "groups",
                need: count * 4,
                have: d.remaining(),
            });
        }
        let mut groups = Vec::with_capacity(count);
        for _ in 0..count {
            groups.push(u32::get(d)?);
        }
        let cap_effective = u64::get(d)?;
        Ok(Creds {
            fsuid,
            fsgid,
            groups,
            cap_effective,
        })
    }
}

impl Wire for Option<[Timespec; 2]> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(ts) => {
                out.push(1);
                for t in ts {
                    t.sec.put(out);
                    t.nsec.put(out);
                }
            }
        }
    }
    fn get(d: &mut Dec<'_>) -> Result<Self, GoferError> {
        if !bool::get(d)? {
            return Ok(None);
        }
        let mut ts = [Timespec { sec: 0, nsec: 0 }; 2];
        for t in &mut ts {
            t.sec = i64::get(d)?;
            t.nsec = i64::get(d)?;
        }
        Ok(Some(ts))
    }
}

macro_rules! wire_struct {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl Wire for $name {
            fn put(&self, _out: &mut Vec<u8>) {
                $( self.$field.put(_out); )*
            }
            fn get(_d: &mut Dec<'_>) -> Result<Self, GoferError> {
                Ok($name { $( $field: Wire::get(_d)?, )* })
            }
        }
    };
}

wire_struct!(OpenReq {
    path,
    flags,
    mode,
    umask,
    creds,
    symlinks
});
wire_struct!(WalkReq {
    path,
    follow,
    creds,
    symlinks
});
wire_struct!(MkdirReq {
    path,
    mode,
    umask,
    creds,
    symlinks
});
wire_struct!(OpenProcFileReq {
    pid,
    tid,
    file,
    flags
});
wire_struct!(LinkFdReq {
    new,
    creds,
    symlinks
});
wire_struct!(InotifyReq {
    path,
    follow,
    mask,
    creds,
    symlinks
});
wire_struct!(SocketReq {
    path,
    base,
    name,
    connect,
    umask,
    creds,
    symlinks
});
wire_struct!(MknodReq {
    path,
    mode,
    umask,
    dev,
    creds,
    symlinks
});
wire_struct!(SymlinkReq {
    target,
    linkpath,
    creds,
    symlinks
});
wire_struct!(LinkReq {
    old,
    new,
    follow_old,
    creds,
    symlinks
});
wire_struct!(UnlinkReq {
    path,
    remove_dir,
    creds,
    symlinks
});
wire_struct!(RenameReq {
    old,
    new,
    flags,
    creds,
    symlinks
});
wire_struct!(ChmodReq {
    path,
    mode,
    follow,
    creds,
    symlinks
});
wire_struct!(ChownReq {
    path,
    uid,
    gid,
    follow,
    creds,
    symlinks
});
wire_struct!(TruncateReq {
    path,
    len,
    creds,
    symlinks
});
wire_struct!(UtimensReq {
    path,
    times,
    follow,
    creds,
    symlinks
});
wire_struct!(AccessReq {
    path,
    mode,
    flags,
    creds,
    symlinks
});
wire_struct!(XattrReq {
    path,
    op,
    name,
    value,
    flags,
    follow,
    creds,
    symlinks
});
wire_struct!(DataResp { data });
wire_struct!(ErrorResp { errno });
wire_struct!(Redirect {
    path,
    symlinks_followed
});

impl Wire for FdResp {
    fn put(&self, _out: &mut Vec<u8>) {}
    fn get(_d: &mut Dec<'_>) -> Result<Self, GoferError> {
        Ok(FdResp)
    }
}

impl Wire for DoneResp {
    fn put(&self, _out: &mut Vec<u8>) {}
    fn get(_d: &mut Dec<'_>) -> Result<Self, GoferError> {
        Ok(DoneResp)
    }
}

macro_rules! messages {
    ($enum:ident { $($variant:ident($ty:ty) = $id:path),* $(,)? }) => {
        impl $enum {
            /// The fixed wire id of this message.
            pub fn id(&self) -> u16 {
                match self { $( $enum::$variant(_) => $id, )* }
            }

            /// Encode as one packet.
            pub fn encode(&self) -> Vec<u8> {
                let mut out = vec![VERSION];
                self.id().put(&mut out);
                match self { $( $enum::$variant(m) => m.put(&mut out), )* }
                out
            }

            /// Decode one packet; rejects anything malformed.
            pub fn decode(buf: &[u8]) -> Result<Self, GoferError> {
                let mut d = Dec::new(buf);
                let version = u8::get(&mut d)?;
                if version != VERSION {
                    return Err(GoferError::BadVersion { got: version });
                }
                let id = u16::get(&mut d)?;
                let msg = match id {
                    $( $id => $enum::$variant(<$ty as Wire>::get(&mut d)?), )*
                    _ => return Err(GoferError::UnknownMessage { id }),
                };
                d.finish(id)?;
                Ok(msg)
            }
        }
    };
}

messages!(Request {
    Open(OpenReq) = msg_id::OPEN,
    Walk(WalkReq) = msg_id::WALK,
    Mkdir(MkdirReq) = msg_id::MKDIR,
    Mknod(MknodReq) = msg_id::MKNOD,
    Symlink(SymlinkReq) = msg_id::SYMLINK,
    Link(LinkReq) = msg_id::LINK,
    Unlink(UnlinkReq) = msg_id::UNLINK,
    Rename(RenameReq) = msg_id::RENAME,
    Chmod(ChmodReq) = msg_id::CHMOD,
    Chown(ChownReq) = msg_id::CHOWN,
    Truncate(TruncateReq) = msg_id::TRUNCATE,
    Utimens(UtimensReq) = msg_id::UTIMENS,
    Access(AccessReq) = msg_id::ACCESS,
    Xattr(XattrReq) = msg_id::XATTR,
    Socket(SocketReq) = msg_id::SOCKET,
    Inotify(InotifyReq) = msg_id::INOTIFY,
    LinkFd(LinkFdReq) = msg_id::LINK_FD,
    OpenProcFile(OpenProcFileReq) = msg_id::OPEN_PROC_FILE,
});

messages!(Response {
    Error(ErrorResp) = msg_id::R_ERROR,
    Redirect(Redirect) = msg_id::R_REDIRECT,
    Fd(FdResp) = msg_id::R_FD,
    Done(DoneResp) = msg_id::R_DONE,
    Data(DataResp) = msg_id::R_DATA,
});

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Creds {
        Creds {
            fsuid: 1000,
            fsgid: 100,
            groups: vec![1, 2, 3],
            cap_effective: 0x1ff,
        }
    }

    fn all_requests() -> Vec<Request> {
        let p = b"/a/b/../c".to_vec();
        vec![
            Request::Open(OpenReq {
                path: p.clone(),
                flags: libc::O_CREAT | libc::O_RDWR,
                mode: 0o644,
                umask: 0o022,
                creds: creds(),
                symlinks: 3,
            }),
            Request::Walk(WalkReq {
                path: p.clone(),
                follow: Follow::NoFollow,
                creds: creds(),
                symlinks: 0,
            }),
            Request::Xattr(XattrReq {
                path: p.clone(),
                op: XattrOp::Set,
                name: b"user.x".to_vec(),
                value: Blob(vec![0, 1, 0, 2]),
                flags: libc::XATTR_CREATE,
                follow: Follow::NoFollow,
                creds: creds(),
                symlinks: 1,
            }),
            Request::Mkdir(MkdirReq {
                path: p.clone(),
                mode: 0o755,
                umask: 0o077,
                creds: creds(),
                symlinks: 1,
            }),
            Request::Mknod(MknodReq {
                path: p.clone(),
                mode: libc::S_IFIFO | 0o600,
                umask: 0,
                dev: 0x1234_5678_9abc,
                creds: creds(),
                symlinks: 2,
            }),
            Request::Symlink(SymlinkReq {
                target: b"../x".to_vec(),
                linkpath: p.clone(),
                creds: creds(),
                symlinks: 0,
            }),
            Request::Link(LinkReq {
                old: p.clone(),
                new: b"/n".to_vec(),
                follow_old: Follow::Follow,
                creds: creds(),
                symlinks: 0,
            }),
            Request::Unlink(UnlinkReq {
                path: p.clone(),
                remove_dir: true,
                creds: creds(),
                symlinks: 0,
            }),
            Request::Rename(RenameReq {
                old: p.clone(),
                new: Vec::new(),
                flags: libc::RENAME_NOREPLACE,
                creds: creds(),
                symlinks: 7,
            }),
            Request::Chmod(ChmodReq {
                path: p.clone(),
                mode: 0o4755,
                follow: Follow::NoFollow,
                creds: creds(),
                symlinks: 0,
            }),
            Request::Chown(ChownReq {
                path: p.clone(),
                uid: -1,
                gid: 5,
                follow: Follow::Follow,
                creds: creds(),
                symlinks: 0,
            }),
            Request::Truncate(TruncateReq {
                path: p.clone(),
                len: -5,
                creds: creds(),
                symlinks: 0,
            }),
            Request::Utimens(UtimensReq {
                path: p.clone(),
                times: Some([Timespec::NOW, Timespec { sec: -1, nsec: 5 }]),
                follow: Follow::NoFollow,
                creds: creds(),
                symlinks: 0,
            }),
            Request::Utimens(UtimensReq {
                path: p.clone(),
                times: None,
                follow: Follow::Follow,
                creds: creds(),
                symlinks: 0,
            }),
            Request::Socket(SocketReq {
                path: p.clone(),
                base: b"/a".to_vec(),
                name: b"b/../c".to_vec(),
                connect: true,
                umask: 0o022,
                creds: creds(),
                symlinks: 0,
            }),
            Request::Inotify(InotifyReq {
                path: p.clone(),
                follow: Follow::NoFollow,
                mask: libc::IN_CREATE | libc::IN_ONLYDIR,
                creds: creds(),
                symlinks: 2,
            }),
            Request::LinkFd(LinkFdReq {
                new: p.clone(),
                creds: creds(),
                symlinks: 1,
            }),
            Request::OpenProcFile(OpenProcFileReq {
                pid: 7,
                tid: Some(9),
                file: ProcFile::Comm,
                flags: libc::O_WRONLY | libc::O_TRUNC,
            }),
            Request::OpenProcFile(OpenProcFileReq {
                pid: 1,
                tid: None,
                file: ProcFile::OomScoreAdj,
                flags: libc::O_RDWR,
            }),
            Request::OpenProcFile(OpenProcFileReq {
                pid: 3,
                tid: Some(4),
                file: ProcFile::Personality,
                flags: libc::O_RDONLY,
            }),
            Request::Access(AccessReq {
                path: p,
                mode: libc::R_OK,
                flags: libc::AT_EACCESS,
                creds: Creds {
                    groups: vec![],
                    ..creds()
                },
                symlinks: 0,
            }),
        ]
    }

    fn all_responses() -> Vec<Response> {
        vec![
            Response::Error(ErrorResp {
                errno: libc::ENOENT,
            }),
            Response::Redirect(Redirect {
                path: "/proc/self/mounts".into(),
                symlinks_followed: 2,
            }),
            Response::Fd(FdResp),
            Response::Done(DoneResp),
            Response::Data(DataResp {
                data: Blob(vec![b'u', 0, 0, 7]),
            }),
        ]
    }

    /// The largest request: two paths of LONG_PATH_MAX and MAX_GROUPS
    /// groups.
    #[test]
    fn the_largest_request_fits_a_message() {
        let r = Request::Rename(RenameReq {
            old: vec![b'a'; LONG_PATH_MAX],
            new: vec![b'b'; LONG_PATH_MAX],
            flags: u32::MAX,
            creds: Creds {
                groups: vec![u32::MAX; MAX_GROUPS],
                ..creds()
            },
            symlinks: u32::MAX,
        });
        let bytes = r.encode();
        assert!(bytes.len() <= MAX_MESSAGE_SIZE, "{}", bytes.len());
        assert_eq!(Request::decode(&bytes).expect("decodes"), r);
    }

    #[test]
    fn round_trip_every_message() {
        let reqs = all_requests();
        let mut ids: Vec<u16> = reqs.iter().map(Request::id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 18, "every request kind is covered");
        for r in reqs {
            let bytes = r.encode();
            assert!(bytes.len() <= MAX_MESSAGE_SIZE);
            assert_eq!(bytes[0], VERSION);
            assert_eq!(Request::decode(&bytes).expect("decode"), r);
        }
        for r in all_responses() {
            assert_eq!(Response::decode(&r.encode()).expect("decode"), r);
        }
    }

    #[test]
    fn rejects_malformed() {
        let good = all_requests()[0].encode();
        // trailing byte
        let mut t = good.clone();
        t.push(0);
        assert!(matches!(
            Request::decode(&t),
            Err(GoferError::TrailingBytes { .. })
        ));
        // bad version
        let mut v = good.clone();
        v[0] = 2;
        assert!(matches!(
            Request::decode(&v),
            Err(GoferError::BadVersion { got: 2 })
        ));
        // unknown id
        let mut u = good.clone();
        u[1] = 0xee;
        assert!(matches!(
            Request::decode(&u),
            Err(GoferError::UnknownMessage { .. })
        ));
        // response id is not a request
        assert!(Request::decode(&Response::Done(DoneResp).encode()).is_err());
        // NUL in path
        let mut n = all_requests()[0].clone();
        if let Request::Open(o) = &mut n {
            o.path = b"/a\0b".to_vec();
        }
        assert!(matches!(
            Request::decode(&n.encode()),
            Err(GoferError::PathHasNul { .. })
        ));
        // path too long
        if let Request::Open(o) = &mut n {
            o.path = vec![b'a'; LONG_PATH_MAX + 1];
        }
        assert!(matches!(
            Request::decode(&n.encode()),
            Err(GoferError::PathTooLong { .. })
        ));
        if let Request::Open(o) = &mut n {
            o.path = vec![b'a'; LONG_PATH_MAX];
        }
        assert!(Request::decode(&n.encode()).is_ok());
        // bad bool
        let w = all_requests()[1].encode();
        let mut b = w.clone();
        let follow_off = 3 + 4 + 9; // version+id, len, "/a/b/../c"
        b[follow_off] = 7;
        assert!(matches!(
            Request::decode(&b),
            Err(GoferError::BadValue { .. })
        ));
        // huge group count must not allocate or panic
        let mut g = w.clone();
        let ngroups_off = follow_off + 1 + 8;
        g[ngroups_off..ngroups_off + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            Request::decode(&g),
            Err(GoferError::TooManyGroups { .. })
        ));
        // every truncation fails
        for r in all_requests() {
            let bytes = r.encode();
            for len in 0..bytes.len() {
                assert!(Request::decode(&bytes[..len]).is_err(), "len {len}");
            }
        }
        assert!(Response::decode(&[]).is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seeds: Vec<Vec<u8>> = all_requests()
            .iter()
            .map(Request::encode)
            .chain(all_responses().iter().map(Response::encode))
            .collect();
        for i in 0..20_000 {
            let mut buf = if i % 2 == 0 {
                let len = (next() % 64) as usize;
                let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if !b.is_empty() && i % 4 == 0 {
                    b[0] = VERSION;
                }
                b
            } else {
                seeds[(next() as usize) % seeds.len()].clone()
            };
            // mutate a few bytes and maybe truncate
            for _ in 0..(next() % 4) {
                if !buf.is_empty() {
                    let at = (next() as usize) % buf.len();
                    buf[at] = next() as u8;
                }
            }
            if next() % 3 == 0 && !buf.is_empty() {
                let cut = (next() as usize) % buf.len();
                buf.truncate(cut);
            }
            let _ = Request::decode(&buf);
            let _ = Response::decode(&buf);
        }
    }
}
