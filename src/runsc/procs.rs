//! Host-side views of a container's processes.

use std::fs;
use std::os::unix::fs::MetadataExt;

use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use super::state::State;

/// The inode of a process's pid namespace.
pub fn pidns_inode(pid: i32) -> Option<u64> {
    fs::metadata(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|m| m.ino())
}

/// The inode of a process's user namespace.
pub fn userns_inode(pid: i32) -> Option<u64> {
    fs::metadata(format!("/proc/{pid}/ns/user"))
        .ok()
        .map(|m| m.ino())
}

/// Whether host process `pid` is one of the container's, given that it is
/// in the container's pid namespace: in a pid namespace the container
/// joined (a pod's, shared with the pause container and the pod's other
/// containers), only the ones in the container's own user namespace are.
pub fn is_own(st: &State, pid: i32) -> bool {
    !st.joined_pidns || st.init_userns_inode == 0 || userns_inode(pid) == Some(st.init_userns_inode)
}

/// Host pids of every process of the container: the ones in its pid
/// namespace (just init when the container shares the host's; in a joined
/// one, those of its own user namespace, see [`is_own`]).
pub fn container_pids(st: &State) -> Vec<i32> {
    let mut pids = Vec::new();
    let own_ns = pidns_inode(std::process::id() as i32);
    if st.init_pidns_inode != 0 && Some(st.init_pidns_inode) != own_ns {
        if let Ok(entries) = fs::read_dir("/proc") {
            for e in entries.flatten() {
                if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) {
                    if pidns_inode(pid) == Some(st.init_pidns_inode) && is_own(st, pid) {
                        pids.push(pid);
                    }
                }
            }
        }
    }
    if st.init.alive() && !pids.contains(&st.init.pid) {
        pids.push(st.init.pid);
    }
    pids
}

/// The signals `run` and `exec` forward to the container's process. Every
/// thread must block them (a thread started before the forwarder blocks
/// them first: `super::tty`), or the kernel may deliver one to a thread
/// that does not, where SIGINT's default ends runrs.
pub fn forwarded_signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
    ] {
        set.add(s);
    }
    set
}

/// Waits for `init` (our child) while forwarding the usual terminal and
/// job-control signals to it; returns its exit status, 128+n for signal n.
pub fn forward_signals_and_wait(init: Pid) -> i32 {
    forward_signals_and_wait_with(init, None)
}

/// [`forward_signals_and_wait`], with SIGWINCH handed to `on_winch`
/// instead (a terminal proxy resizes the container's pty, and the kernel
/// signals its foreground process group).
pub fn forward_signals_and_wait_with(init: Pid, on_winch: Option<Box<dyn Fn() + Send>>) -> i32 {
    let set = forwarded_signals();
    let _ = set.thread_block();
    std::thread::spawn(move || loop {
        match (set.wait(), &on_winch) {
            (Ok(Signal::SIGWINCH), Some(f)) => f(),
            (Ok(sig), _) => {
                let _ = nix::sys::signal::kill(init, sig);
            }
            (Err(_), _) => {}
        }
    });
    loop {
        match waitpid(init, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
            Ok(_) => continue,
            Err(nix::Error::EINTR) => continue,
            Err(_) => return 255,
        }
    }
}
