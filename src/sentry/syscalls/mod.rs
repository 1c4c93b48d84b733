//! Syscall handlers, one file per family (as gVisor's sys_*.go). Every
//! handler has the same signature; `dispatch.rs` (generated from the
//! syscall table) maps numbers to them.

pub mod attr;
pub mod dir;
pub mod exec;
pub mod file;
pub mod fs;
pub mod identity;
pub mod io;
pub mod misc;
pub mod mount;
pub mod notify;
pub mod process;
pub mod signal;
pub mod socket;
pub mod stat;
pub mod xattr;

use std::os::fd::OwnedFd;

use nix::errno::Errno;

use super::cred::{self, Cred};
use super::platform::{read_cstring, Platform, SyscallRequest};
use super::task::TaskInfo;
pub use super::vfs::walk::{follow_unless, names_a_directory, synthetic_dev, Found};
use super::Sentry;
use crate::gofer::{Client, Creds};

/// What a handler decided.
pub enum Outcome {
    Value(i64),
    /// Install this fd and return its number.
    Fd {
        fd: OwnedFd,
        cloexec: bool,
    },
    /// Install a synthetic directory fd, recording its sandbox path first.
    DirFd {
        fd: OwnedFd,
        cloexec: bool,
        /// Its canonical sandbox path and the task whose /proc directory
        /// it is in.
        dir: crate::sentry::cwd::VirtualCwd,
    },
    /// Let the kernel do it (execve; chdir after the sentry's checks).
    Continue,
}

pub type SysResult = Result<Outcome, Errno>;
pub type Handler = fn(&mut Ctx) -> SysResult;

pub const AT_FDCWD: i32 = libc::AT_FDCWD;
/// Linux's limit on symlinks followed in one resolution.
pub const MAX_SYMLINKS: u32 = 40;
pub const PATH_MAX: usize = libc::PATH_MAX as usize;

/// One syscall being handled.
pub struct Ctx<'a> {
    pub req: SyscallRequest,
    pub platform: &'a dyn Platform,
    pub sentry: &'a Sentry,
    pub gofer: &'a Client,
    /// Decoded arguments, for --strace.
    pub decoded: Vec<String>,
    task: Option<TaskInfo>,
    cred: Option<Cred>,
}

/// The gofer's credentials for (fsuid, fsgid, groups, effective caps).
/// The groups matter for permission checks only without both capabilities
/// that override them, so they are left out then (the gofer switches
/// threads' groups only when they differ).
fn gofer_creds(fsuid: u32, fsgid: u32, groups: Vec<u32>, cap_effective: u64) -> Creds {
    Creds {
        fsuid,
        fsgid,
        groups: if cap_effective & cred::DAC_CAPS == cred::DAC_CAPS {
            Vec::new()
        } else {
            groups
        },
        cap_effective,
    }
}

impl<'a> Ctx<'a> {
    pub fn new(
        req: SyscallRequest,
        platform: &'a dyn Platform,
        sentry: &'a Sentry,
        gofer: &'a Client,
    ) -> Ctx<'a> {
        Ctx {
            req,
            platform,
            sentry,
            gofer,
            decoded: Vec::new(),
            task: None,
            cred: None,
        }
    }

    pub fn arg(&self, i: usize) -> u64 {
        self.req.args[i]
    }
    /// An int argument (dirfds, flags): the low 32 bits, as the kernel reads them.
    pub fn arg_i32(&self, i: usize) -> i32 {
        self.req.args[i] as u32 as i32
    }
    pub fn tid(&self) -> i32 {
        self.req.tid
    }

    /// Records a decoded argument for --strace (made only then).
    pub fn note(&mut self, decoded: impl FnOnce() -> String) {
        if self.sentry.strace {
            self.decoded.push(decoded());
        }
    }

    /// Reads the path argument `i` (PATH_MAX with its NUL), for strace too.
    pub fn path_arg(&mut self, i: usize) -> Result<Vec<u8>, Errno> {
        let p = read_cstring(self.platform, &self.req, self.arg(i), PATH_MAX - 1)?;
        self.note(|| format!("{:?}", String::from_utf8_lossy(&p)));
        Ok(p)
    }

    /// A dirfd argument, for strace.
    pub fn dirfd_arg(&mut self, i: usize) -> i32 {
        let fd = self.arg_i32(i);
        self.note(|| {
            if fd == AT_FDCWD {
                "AT_FDCWD".into()
            } else {
                fd.to_string()
            }
        });
        fd
    }

    pub fn read_bytes(&self, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0u8; len];
        let n = self.platform.read_memory(&self.req, addr, &mut buf)?;
        if n < len {
            return Err(Errno::EFAULT);
        }
        Ok(buf)
    }

    pub fn write(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.platform.write_memory(&self.req, addr, data)
    }

    /// The caller's ids and tgid (its groups, capabilities and umask come
    /// with `cred` and `umask`).
    pub fn task(&mut self) -> Result<&TaskInfo, Errno> {
        if self.task.is_none() {
            self.task = Some(TaskInfo::ids(self.tid())?);
        }
        self.task.as_ref().ok_or(Errno::ESRCH)
    }

    /// The caller's credentials, as the kernel holds them.
    pub fn cred(&mut self) -> Result<Cred, Errno> {
        if let Some(c) = &self.cred {
            return Ok(c.clone());
        }
        let c = self
            .sentry
            .kernel
            .creds
            .own_seen(self.tid(), self.req.received)?;
        self.cred = Some(c.clone());
        Ok(c)
    }

    /// Host ids of a chown's arguments (-1: unchanged), through the user
    /// namespace's mappings; an id the namespace does not map is EINVAL.
    pub fn host_owner(&self, uid: i32, gid: i32) -> Result<(i32, i32), Errno> {
        let map = |id: i32, m: &cred::IdMap| -> Result<i32, Errno> {
            if id == -1 {
                return Ok(-1);
            }
            m.to_host(id as u32).map(|h| h as i32).ok_or(Errno::EINVAL)
        };
        let cfg = &self.sentry.cfg;
        Ok((map(uid, &cfg.uid_map)?, map(gid, &cfg.gid_map)?))
    }

    /// A host uid and gid as the workload sees them.
    pub fn shown_owner(&self, uid: u32, gid: u32) -> (u32, u32) {
        let cfg = &self.sentry.cfg;
        (cfg.uid_map.to_container(uid), cfg.gid_map.to_container(gid))
    }

    /// The caller is about to change its credentials: what the sentry
    /// read of them (this call's copy and the table's) is dropped.
    pub fn forget_cred(&mut self) {
        self.sentry.kernel.creds.forget(self.tid());
        self.cred = None;
    }

    /// Credentials the gofer assumes for the caller: its fsuid/fsgid.
    pub fn creds(&mut self) -> Result<Creds, Errno> {
        let c = self.cred()?;
        Ok(gofer_creds(c.uid[3], c.gid[3], c.groups, c.effective))
    }

    /// access(2) checks with the real ids, and with the permitted set for
    /// a real root, none otherwise (the kernel's access_override_creds).
    pub fn real_creds(&mut self) -> Result<Creds, Errno> {
        let c = self.cred()?;
        let caps = if c.securebits & cred::SECURE_NO_SETUID_FIXUP != 0 {
            c.effective
        } else if c.uid[0] == 0 {
            c.permitted
        } else {
            0
        };
        Ok(gofer_creds(c.uid[0], c.gid[0], c.groups, caps))
    }

    /// The caller's umask, for a create (022 if its status cannot be read,
    /// as when it was killed meanwhile).
    pub fn umask(&mut self) -> u32 {
        let seen = self.req.received;
        self.sentry
            .kernel
            .creds
            .umask(self.tid(), seen)
            .unwrap_or(0o022)
    }
}
