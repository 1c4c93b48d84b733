//! Who connected each AF_UNIX socket the gofer connected for the
//! workload. A connect to a socket file is made by the gofer (it resolves
//! the path), so the kernel records the gofer as the accepting side's
//! peer (SO_PEERCRED). The sentry remembers the connecting task and its
//! effective ids at connect time under the client socket's inode, and
//! finds the client of an accepted socket with the kernel's unix_diag
//! (UNIX_DIAG_PEER), asked through a NETLINK_SOCK_DIAG socket made in the
//! container's network namespace at boot (the inodes are looked up there).

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Mutex;

/// A connecting task: host tgid, effective uid and gid then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connector {
    pub htgid: i32,
    pub euid: u32,
    pub egid: u32,
}

/// Records kept at most (the oldest go first: a socket that old has
/// likely been accepted and asked, or closed).
const KEEP: usize = 4096;

#[derive(Default)]
struct Records {
    by_ino: HashMap<u64, Connector>,
    order: VecDeque<u64>,
}

pub struct Peers {
    diag: Option<Mutex<(OwnedFd, u32)>>,
    records: Mutex<Records>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers")
            .field("diag", &self.diag.is_some())
            .finish_non_exhaustive()
    }
}

impl Peers {
    /// `diag`: a NETLINK_SOCK_DIAG socket in the container's network
    /// namespace (None: accepted sockets' peers stay unknown).
    pub fn new(diag: Option<OwnedFd>) -> Peers {
        Peers {
            diag: diag.map(|d| Mutex::new((d, 0))),
            records: Mutex::new(Records::default()),
        }
    }

    /// The client socket `ino` was connected by `who`.
    pub fn record(&self, ino: u64, who: Connector) {
        let Ok(mut r) = self.records.lock() else {
            return;
        };
        if r.by_ino.insert(ino, who).is_none() {
            r.order.push_back(ino);
        }
        while r.order.len() > KEEP {
            if let Some(old) = r.order.pop_front() {
                r.by_ino.remove(&old);
            }
        }
    }

    /// Who connected the peer of the accepted socket `ino`, if the gofer
    /// connected it for the workload.
    pub fn connector_of_peer(&self, ino: u64) -> Option<Connector> {
        let peer = self.peer_ino(ino)?;
        self.records.lock().ok()?.by_ino.get(&peer).copied()
    }

    fn peer_ino(&self, ino: u64) -> Option<u64> {
        let mut guard = self.diag.as_ref()?.lock().ok()?;
        let (fd, seq) = &mut *guard;
        *seq = seq.wrapping_add(1);
        super::sys::unix_diag_peer(fd.as_fd(), u32::try_from(ino).ok()?, *seq)
            .ok()
            .flatten()
            .map(u64::from)
    }
}

/// A NETLINK_SOCK_DIAG socket in the network namespace of host process
/// `pid` (None, logged, when it cannot be made); the calling thread
/// returns to its own namespace, and failing that is the error (the
/// sentry must not stay in the container's).
pub fn diag_socket_in_netns_of(pid: i32) -> Result<Option<OwnedFd>, String> {
    use nix::sched::{setns, CloneFlags};
    let unavailable = |what: String| {
        crate::log::debug(&format!("sentry: no unix_diag socket: {what}"));
        Ok(None)
    };
    let own = match std::fs::File::open("/proc/thread-self/ns/net") {
        Ok(f) => f,
        Err(e) => return unavailable(format!("open own network namespace: {e}")),
    };
    let theirs = match std::fs::File::open(format!("/proc/{pid}/ns/net")) {
        Ok(f) => f,
        Err(e) => return unavailable(format!("open the container's network namespace: {e}")),
    };
    if let Err(e) = setns(&theirs, CloneFlags::CLONE_NEWNET) {
        return unavailable(format!("join the container's network namespace: {e}"));
    }
    let sock = super::sys::netlink_diag_socket();
    setns(&own, CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("return to its own network namespace: {e}"))?;
    match sock {
        Ok(s) => Ok(Some(s)),
        Err(e) => unavailable(format!("NETLINK_SOCK_DIAG socket: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    fn ino(fd: std::os::fd::BorrowedFd<'_>) -> u64 {
        crate::sentry::sys::fstat_fd(fd).unwrap().st_ino
    }

    /// unix_diag names each end of a socketpair as the other's peer, and
    /// a record made under the client's inode is found from the server's.
    #[test]
    fn peer_of_a_connected_socket_is_found_and_looked_up() {
        let (a, b) = nix::sys::socket::socketpair(
            nix::sys::socket::AddressFamily::Unix,
            nix::sys::socket::SockType::Stream,
            None,
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        let diag = diag_socket_in_netns_of(std::process::id() as i32)
            .unwrap()
            .expect("a NETLINK_SOCK_DIAG socket");
        let peers = Peers::new(Some(diag));
        assert_eq!(peers.peer_ino(ino(a.as_fd())), Some(ino(b.as_fd())));
        let who = Connector {
            htgid: 7,
            euid: 1000,
            egid: 1001,
        };
        peers.record(ino(b.as_fd()), who);
        assert_eq!(peers.connector_of_peer(ino(a.as_fd())), Some(who));
        assert_eq!(peers.connector_of_peer(ino(b.as_fd())), None);
    }
}
