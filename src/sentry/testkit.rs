//! Test doubles for the syscall handlers (youki's `syscall/test.rs`
//! habit): a recording fake [`Platform`] whose "workload memory" is a few
//! buffers, and a [`Kit`] that wires a real [`Sentry`] to an in-process
//! gofer serving a temporary directory tree. A handler test needs neither
//! a container nor a seccomp listener: the calling "task" is the test's
//! own thread (its credentials and /proc entries are the kernel's), its
//! path arguments live in the fake memory, and every gofer-backed path
//! resolves inside the temporary tree (use absolute paths: a relative one
//! starts at the test process's real cwd).

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Mutex;

use nix::errno::Errno;

use super::fs::procfs::{MountLine, ProcConfig, ProcFs};
use super::platform::{Platform, PlatformError, Response, SyscallRequest};
use super::syscalls::{Ctx, Outcome, SysResult};
use super::vfs::dcache::DirCache;
use super::{dispatch, peers, sys, Sentry};
use crate::gofer::testutil::{open_path, TempTree};
use crate::gofer::{Client, GoferConfig};
use crate::sandbox::config::{CapSets, ContainerConfig, ProcessConfig};
use crate::sandbox::idmap::IdMap;
use crate::sandbox::{FileAccess, PlatformKind, SandboxInfo};

/// Where the fake memory's first buffer starts; buffers are page aligned,
/// with an unmapped page after each (so a read past one is short).
const BASE: u64 = 0x10_0000;
const PAGE: u64 = 4096;

/// One thing a handler asked of the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Read { addr: u64, len: usize },
    Write { addr: u64, len: usize },
    InstallFd { cloexec: bool },
    Respond,
}

/// A recording [`Platform`]: memory is the buffers the test put there;
/// reads and writes outside them fail as on an unmapped page (EFAULT);
/// a failure can be injected into the next reads.
#[derive(Default)]
pub struct FakePlatform {
    mem: Mutex<Vec<(u64, Vec<u8>)>>,
    calls: Mutex<Vec<Call>>,
    fail_reads: Mutex<Option<Errno>>,
    next_fd: Mutex<i32>,
}

impl FakePlatform {
    /// Maps a new buffer holding `data`; returns its address.
    pub fn put(&self, data: &[u8]) -> u64 {
        let mut mem = self.mem.lock().unwrap();
        let addr = mem.last().map_or(BASE, |(a, d)| {
            (a + d.len() as u64).div_ceil(PAGE) * PAGE + PAGE
        });
        mem.push((addr, data.to_vec()));
        addr
    }

    /// A NUL-terminated string in a new buffer.
    pub fn cstr(&self, s: &str) -> u64 {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.put(&v)
    }

    /// A zeroed buffer of `len` bytes.
    pub fn buf(&self, len: usize) -> u64 {
        self.put(&vec![0; len])
    }

    /// `len` bytes of the memory at `addr` (panics outside a buffer).
    pub fn get(&self, addr: u64, len: usize) -> Vec<u8> {
        let mem = self.mem.lock().unwrap();
        let (a, d) = mem
            .iter()
            .find(|(a, d)| addr >= *a && addr + len as u64 <= a + d.len() as u64)
            .expect("a mapped buffer");
        let off = (addr - a) as usize;
        d[off..off + len].to_vec()
    }

    /// The little-endian u32 at `addr`.
    pub fn get_u32(&self, addr: u64) -> u32 {
        u32::from_le_bytes(self.get(addr, 4).try_into().expect("4 bytes"))
    }

    /// The little-endian u64 at `addr`.
    pub fn get_u64(&self, addr: u64) -> u64 {
        u64::from_le_bytes(self.get(addr, 8).try_into().expect("8 bytes"))
    }

    /// The NUL-terminated string at `addr`.
    pub fn get_cstr(&self, addr: u64) -> String {
        let mem = self.mem.lock().unwrap();
        let (a, d) = mem
            .iter()
            .find(|(a, d)| addr >= *a && addr < a + d.len() as u64)
            .expect("a mapped buffer");
        let tail = &d[(addr - a) as usize..];
        let end = tail.iter().position(|b| *b == 0).unwrap_or(tail.len());
        String::from_utf8_lossy(&tail[..end]).into_owned()
    }

    /// Every read from now on fails with `e` (a task that died, say).
    pub fn fail_reads(&self, e: Errno) {
        *self.fail_reads.lock().unwrap() = Some(e);
    }

    /// What was asked so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The writes so far, as (address, length).
    pub fn writes(&self) -> Vec<(u64, usize)> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Write { addr, len } => Some((addr, len)),
                _ => None,
            })
            .collect()
    }

    fn record(&self, c: Call) {
        self.calls.lock().unwrap().push(c);
    }
}

impl Platform for FakePlatform {
    fn wait(&self) -> Result<Option<SyscallRequest>, PlatformError> {
        Ok(None)
    }

    fn hung_up(&self) -> bool {
        true
    }

    fn read_memory(
        &self,
        _req: &SyscallRequest,
        addr: u64,
        buf: &mut [u8],
    ) -> Result<usize, Errno> {
        self.record(Call::Read {
            addr,
            len: buf.len(),
        });
        if let Some(e) = *self.fail_reads.lock().unwrap() {
            return Err(e);
        }
        let mem = self.mem.lock().unwrap();
        let Some((a, d)) = mem
            .iter()
            .find(|(a, d)| addr >= *a && addr < a + d.len() as u64)
        else {
            return Err(Errno::EFAULT);
        };
        let off = (addr - a) as usize;
        let n = buf.len().min(d.len() - off);
        buf[..n].copy_from_slice(&d[off..off + n]);
        Ok(n)
    }

    fn write_memory(&self, _req: &SyscallRequest, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.record(Call::Write {
            addr,
            len: data.len(),
        });
        let mut mem = self.mem.lock().unwrap();
        let (a, d) = mem
            .iter_mut()
            .find(|(a, d)| addr >= *a && addr + data.len() as u64 <= *a + d.len() as u64)
            .ok_or(Errno::EFAULT)?;
        let off = (addr - *a) as usize;
        d[off..off + data.len()].copy_from_slice(data);
        Ok(())
    }

    fn respond(&self, _req: &SyscallRequest, resp: Response) -> Result<i64, PlatformError> {
        self.record(Call::Respond);
        Ok(match resp {
            Response::Value(v) => v,
            Response::InstallFd { .. } => i64::from(self.bump_fd()),
            Response::Errno(_) | Response::Continue => 0,
        })
    }
}

impl FakePlatform {
    fn bump_fd(&self) -> i32 {
        let mut n = self.next_fd.lock().unwrap();
        *n = (*n).max(100) + 1;
        *n
    }
}

/// The container config of a test sandbox: no user namespace (identity
/// maps), no mounts but the root, hostname "box".
pub fn test_config() -> ContainerConfig {
    ContainerConfig {
        id: "kit".into(),
        bundle: PathBuf::from("/nonexistent"),
        rootfs: PathBuf::from("/nonexistent"),
        readonly_root: false,
        process: ProcessConfig {
            args: vec!["/bin/true".into()],
            env: Vec::new(),
            cwd: "/".into(),
            terminal: false,
            uid: 0,
            gid: 0,
            additional_gids: Vec::new(),
            umask: None,
            caps: CapSets::default(),
            no_new_privs: false,
            rlimits: Vec::new(),
            oom_score_adj: None,
        },
        hostname: Some("box".into()),
        domainname: None,
        mounts: Vec::new(),
        namespaces: Vec::new(),
        uid_map: IdMap::identity(),
        gid_map: IdMap::identity(),
        devices: Vec::new(),
        masked_paths: Vec::new(),
        readonly_paths: Vec::new(),
        sysctl: Default::default(),
        rootfs_propagation: None,
        hooks: Default::default(),
        memory_limit: None,
        resources: Default::default(),
        seccomp: None,
        pids_limit: None,
        cgroups_path: None,
        annotations: Default::default(),
    }
}

/// A sentry with a fake platform and an in-process gofer over a
/// temporary tree ([`Kit::host`] names a file in it).
pub struct Kit {
    pub tree: TempTree,
    pub platform: FakePlatform,
    pub sentry: Sentry,
    pub gofer: Client,
    server: Option<std::thread::JoinHandle<()>>,
    _synthetic: TempTree,
}

impl Kit {
    pub fn new(tag: &str) -> Kit {
        let tree = TempTree::new(&format!("kit-{tag}"));
        let synthetic = TempTree::new(&format!("kit-{tag}-proc"));
        let (ours, theirs) = crate::sandbox::sync::seqpacket_pair().expect("socketpair");
        let root = tree.root_fd();
        let config = GoferConfig {
            synthetic_mounts: vec!["/proc".into(), "/sys".into()],
            served_inside_synthetic: Vec::new(),
            proc_mount: None,
            owner: None,
            lanes: None,
        };
        let server = std::thread::spawn(move || {
            let _ = crate::gofer::serve(root, vec![theirs], config);
        });
        let me = std::process::id() as i32;
        let synthetic_dir = open_path(&synthetic.path);
        let st = sys::fstat_fd(synthetic_dir.as_fd()).expect("fstat");
        let now = std::time::SystemTime::now();
        let since = now
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let host = super::fs::hostproc::HostProc::new("/proc", me);
        let kernel = super::kernel::Kernel::new(&host);
        let procfs = ProcFs::with_kernel(
            ProcConfig {
                hostname: "box".into(),
                uid_map: IdMap::identity(),
                gid_map: IdMap::identity(),
                spec_seccomp: false,
                memory_limit: None,
                start_time: now,
                mounts: vec![MountLine {
                    source: "overlay".into(),
                    target: "/".into(),
                    fstype: "overlay".into(),
                    options: "rw".into(),
                    super_options: None,
                }],
                init_host_pid: me,
                host_proc: "/proc".into(),
                cgroup_ns_roots: None,
                hidden_fd: None,
                sysctl: std::sync::Arc::new(super::fs::sysctl::Sysctl::direct("/proc".into())),
                placeholders: Vec::new(),
            },
            &kernel,
        );
        let sentry = Sentry {
            cfg: test_config(),
            info: SandboxInfo {
                init_pid: me,
                gofer_channels: 1,
                platform: PlatformKind::Seccomp,
                file_access: FileAccess::Exclusive,
                strace: false,
                debug: false,
                log: None,
                log_json: false,
                start_time: (since.as_secs(), since.subsec_nanos()),
                gofer_subtrees: Vec::new(),
                owner_uid: None,
                poll_channels: false,
                gofer_lanes: false,
                devices_confined: false,
            },
            kernel,
            procfs,
            synthetic_dir,
            synthetic_dir_id: (st.st_dev, st.st_ino),
            synthetic_fds: Mutex::new(HashMap::new()),
            strace: false,
            dcache: DirCache::new(true, &[]),
            synthetic_files: Default::default(),
            peers: peers::Peers::new(None),
            writable_copies: Default::default(),
            long_paths: Default::default(),
            warmer: std::sync::Arc::new(crate::sentry::warm::Warmer::new(
                crate::sentry::warm::WINDOW,
            )),
        };
        Kit {
            tree,
            platform: FakePlatform::default(),
            sentry,
            gofer: Client::new(ours),
            server: Some(server),
            _synthetic: synthetic,
        }
    }

    /// The host path of sandbox path `rel` (relative to the tree's root).
    pub fn host(&self, rel: &str) -> PathBuf {
        self.tree.p(rel.trim_start_matches('/'))
    }

    /// Runs the table's handler of syscall `name` for the test's thread.
    pub fn call(&self, name: &str, args: [u64; 6]) -> SysResult {
        let row = crate::table::by_name(name).expect("a table syscall");
        let handler = dispatch::handler(row.nr).expect("an emulated syscall");
        let req = SyscallRequest {
            id: 1,
            tid: nix::unistd::gettid().as_raw(),
            nr: row.nr,
            args,
            received: std::time::Instant::now(),
        };
        let mut ctx = Ctx::new(req, &self.platform, &self.sentry, &self.gofer);
        handler(&mut ctx)
    }

    /// Runs `f` with a handler context for the test's thread whose gofer
    /// has hung up: whatever `f` answers, it answered without the gofer.
    pub fn without_gofer<T>(&self, f: impl FnOnce(&mut Ctx) -> T) -> T {
        let (dead, _) = crate::sandbox::sync::seqpacket_pair().expect("socketpair");
        let gofer = Client::new(dead);
        let req = SyscallRequest {
            id: 1,
            tid: nix::unistd::gettid().as_raw(),
            nr: libc::SYS_openat as _,
            args: [0; 6],
            received: std::time::Instant::now(),
        };
        let mut ctx = Ctx::new(req, &self.platform, &self.sentry, &gofer);
        f(&mut ctx)
    }

    /// A path argument in the fake memory.
    pub fn path(&self, p: &str) -> u64 {
        self.platform.cstr(p)
    }
}

impl Drop for Kit {
    fn drop(&mut self) {
        // Hanging up the channel ends the gofer's serve loop.
        let (dead, _) = crate::sandbox::sync::seqpacket_pair().expect("socketpair");
        drop(std::mem::replace(&mut self.gofer, Client::new(dead)));
        if let Some(h) = self.server.take() {
            let _ = h.join();
        }
    }
}

/// The value of a handler's answer (panics on anything else).
pub fn value(r: SysResult) -> i64 {
    match r {
        Ok(Outcome::Value(v)) => v,
        Ok(_) => panic!("expected a value, got another outcome"),
        Err(e) => panic!("expected a value, got {e}"),
    }
}

/// The fd of a handler's answer (panics on anything else).
pub fn fd(r: SysResult) -> OwnedFd {
    match r {
        Ok(Outcome::Fd { fd, .. }) | Ok(Outcome::DirFd { fd, .. }) => fd,
        Ok(_) => panic!("expected an fd, got another outcome"),
        Err(e) => panic!("expected an fd, got {e}"),
    }
}

/// The errno of a failed answer (panics on success).
pub fn errno(r: SysResult) -> Errno {
    match r {
        Err(e) => e,
        Ok(_) => panic!("expected an error"),
    }
}

/// Whether the handler let the kernel do the call.
pub fn continued(r: &SysResult) -> bool {
    matches!(r, Ok(Outcome::Continue))
}

/// `AT_FDCWD` as a syscall argument.
pub const CWD: u64 = libc::AT_FDCWD as i64 as u64;

#[cfg(test)]
mod tests {
    use super::*;

    /// The fake's memory: short reads at a buffer's end, EFAULT outside,
    /// injected failures, recorded calls.
    #[test]
    fn fake_platform_memory_and_record() {
        let p = FakePlatform::default();
        let a = p.put(b"hello");
        let b = p.put(b"x");
        assert!(b > a + PAGE, "an unmapped page between buffers");
        let req = SyscallRequest {
            id: 0,
            tid: 1,
            nr: 0,
            args: [0; 6],
            received: std::time::Instant::now(),
        };
        let mut buf = [0u8; 16];
        assert_eq!(p.read_memory(&req, a + 1, &mut buf), Ok(4));
        assert_eq!(&buf[..4], b"ello");
        assert_eq!(p.read_memory(&req, a + PAGE, &mut buf), Err(Errno::EFAULT));
        assert_eq!(p.write_memory(&req, a, b"HE"), Ok(()));
        assert_eq!(p.get(a, 5), b"HEllo");
        assert_eq!(p.write_memory(&req, a + 4, b"xx"), Err(Errno::EFAULT));
        p.fail_reads(Errno::ESRCH);
        assert_eq!(p.read_memory(&req, a, &mut buf), Err(Errno::ESRCH));
        assert_eq!(p.writes(), vec![(a, 2), (a + 4, 2)]);
        assert_eq!(
            p.calls().first(),
            Some(&Call::Read {
                addr: a + 1,
                len: 16
            })
        );
    }
}
