//! The gofer: the only component of runrs that opens files of the container.
//!
//! It runs in the container's mount namespace, holds an `O_PATH` fd of the
//! container root and serves requests from the sentry over `SOCK_SEQPACKET`
//! sockets (one per sentry thread). Paths are resolved confined under the
//! root fd (see [`walk`]) with the caller's credentials, and host fds are
//! returned with `SCM_RIGHTS`. Paths that land in a synthetic mount served by
//! the sentry itself (`/proc`, `/sys`, ...) are answered with a [`Redirect`].
//! While both ends poll, requests and replies without fds take a
//! shared-memory [`lane`] instead of the socket.

pub mod boot;
pub mod client;
pub mod confine;
pub mod lane;
pub mod procmount;
pub mod proto;
pub mod server;
pub mod sys;
pub mod walk;

/// Whether an open with `flags` could wait on the workload (no
/// O_NONBLOCK, no O_PATH, not O_RDWR: a FIFO without its other end, a file
/// under a lease). The gofer makes such an open without waiting and
/// answers ENXIO or EAGAIN where Linux would wait; the sentry then lets
/// the kernel redo it in the workload.
pub fn open_could_wait(flags: i32) -> bool {
    flags & (libc::O_NONBLOCK | libc::O_PATH) == 0 && flags & libc::O_ACCMODE != libc::O_RDWR
}

pub use client::Client;
pub use proto::{Creds, Follow, Redirect, Timespec, Walked, XattrOp, LONG_PATH_MAX};
pub use server::{serve, GoferConfig};

use nix::errno::Errno;

/// Every way the gofer (protocol codec, server, credential switching) can fail.
#[derive(Debug, thiserror::Error)]
pub enum GoferError {
    #[error("message truncated while decoding {what}: need {need} bytes, {have} left")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("message {id:#x} has {extra} trailing bytes")]
    TrailingBytes { id: u16, extra: usize },
    #[error("unsupported protocol version {got}")]
    BadVersion { got: u8 },
    #[error("unknown message id {id:#x}")]
    UnknownMessage { id: u16 },
    #[error("{what} contains a NUL byte")]
    PathHasNul { what: &'static str },
    #[error("{what} is {len} bytes, longer than the 4096 byte limit")]
    PathTooLong { what: &'static str, len: usize },
    #[error("redirect path is not valid UTF-8")]
    PathNotUtf8,
    #[error("{count} supplementary groups exceed the wire limit")]
    TooManyGroups { count: usize },
    #[error("invalid value {value} for {what}")]
    BadValue { what: &'static str, value: u64 },
    #[error("received message was truncated by the socket (larger than the receive buffer)")]
    MessageTooLarge,
    #[error("capget of the gofer's own capabilities failed: {0}")]
    CapGet(#[source] Errno),
    #[error("switching thread credentials failed at {step}: {source}")]
    SetCreds {
        step: &'static str,
        #[source]
        source: Errno,
    },
    #[error("duplicating the root fd failed: {0}")]
    DupRoot(#[source] Errno),
    #[error("spawning the server thread for channel {channel} failed: {source}")]
    SpawnThread {
        channel: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("server thread for channel {channel} panicked")]
    ThreadPanicked { channel: usize },
    #[error("recvmsg on channel {channel} failed: {source}")]
    Recv {
        channel: usize,
        #[source]
        source: Errno,
    },
    #[error("sendmsg on channel {channel} failed: {source}")]
    Send {
        channel: usize,
        #[source]
        source: Errno,
    },
}

#[cfg(test)]
pub(crate) mod testutil {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    static COUNTER: AtomicU32 = AtomicU32::new(0);

    /// A unique temporary directory removed on drop.
    pub struct TempTree {
        pub path: PathBuf,
    }

    impl TempTree {
        pub fn new(tag: &str) -> TempTree {
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            let path =
                std::env::temp_dir().join(format!("runrs-gofer-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("create temp root");
            TempTree { path }
        }

        pub fn p(&self, rel: &str) -> PathBuf {
            self.path.join(rel)
        }

        pub fn root_fd(&self) -> std::os::fd::OwnedFd {
            open_path(&self.path)
        }
    }

    pub fn open_path(p: &Path) -> std::os::fd::OwnedFd {
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(p)
            .expect("open root");
        f.into()
    }

    impl Drop for TempTree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
