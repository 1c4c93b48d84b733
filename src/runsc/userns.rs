//! The workload's user namespace: one identity, enforced by the kernel.
//!
//! Init enters a new user namespace right before it hands itself to the
//! sentry (after the mounts, the pivot and the hostname, which need the
//! host's privileges); `create` writes its mappings (with no user namespace
//! in the spec, container id N = host id N over the whole range, as under
//! runc). Inside it init holds every capability of the namespace, installs
//! the filter with them (so no_new_privs is needed only where the spec asks
//! for it), then becomes the spec's user with the spec's capability sets as
//! runc's finalizeNamespace does. A `runrs exec` process joins the same
//! namespace last (its other namespaces belong to the host's user
//! namespace, so they must be joined while it still holds host
//! capabilities) and does the same.
//!
//! The namespaces init was cloned into (mount, pid, network, ipc, uts)
//! stay owned by the host's user namespace: the workload's capabilities
//! confer nothing over them (mount, sethostname, network configuration of
//! the container's interfaces are refused by the kernel as before), only
//! over the container's own users, files and processes.

use std::fs;

use caps::CapSet;

use super::spec::ProcessConfig;
use crate::sandbox::sync::{self, InitMsg};
use crate::sentry::cred::IdMap;

fn ok<T, E: std::fmt::Display>(r: Result<T, E>, step: &str) -> Result<T, String> {
    r.map_err(|e| format!("{step}: {e}"))
}

/// In init: enters a new user namespace and waits until `create` has
/// written its mappings (`write_maps`).
pub fn enter(sock: std::os::fd::RawFd) -> Result<(), String> {
    ok(
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER),
        "unshare(CLONE_NEWUSER) for the container's user namespace",
    )?;
    ok(sync::send(sock, &InitMsg::UserNamespace, None), "sync")?;
    match ok(sync::recv(sock), "sync")? {
        (InitMsg::Continue, _) => Ok(()),
        (InitMsg::Error { msg }, _) => Err(msg),
        (other, _) => Err(format!("unexpected message {other:?}")),
    }
}

/// In `create`: writes init's uid_map and gid_map.
pub fn write_maps(pid: i32, uids: &IdMap, gids: &IdMap) -> std::io::Result<()> {
    fs::write(format!("/proc/{pid}/uid_map"), uids.proc_text())?;
    fs::write(format!("/proc/{pid}/gid_map"), gids.proc_text())
}

/// The capabilities of `bits` this kernel knows (a spec may name newer
/// ones; runc leaves those out too).
fn cap_set(bits: u64) -> caps::CapsHashSet {
    caps::runtime::thread_all_supported()
        .into_iter()
        .filter(|c| bits & c.bitmask() != 0)
        .collect()
}

/// Becomes the process spec's user with its capability sets, from a
/// process that holds every capability of its user namespace: the
/// bounding set first, then the ids with keepcaps, then inheritable,
/// effective and permitted (in the order each stays a subset of what the
/// kernel allows at that point), ambient, and no_new_privs if asked.
pub fn become_user(p: &ProcessConfig) -> Result<(), String> {
    for cap in caps::runtime::thread_all_supported() {
        if p.caps.bounding & cap.bitmask() == 0 {
            ok(
                caps::drop(None, CapSet::Bounding, cap),
                "drop from the capability bounding set (process.capabilities.bounding)",
            )?;
        }
    }
    ok(
        nix::sys::prctl::set_keepcaps(true),
        "prctl(PR_SET_KEEPCAPS)",
    )?;
    let gids: Vec<nix::unistd::Gid> = p
        .additional_gids
        .iter()
        .map(|g| nix::unistd::Gid::from_raw(*g))
        .collect();
    ok(
        nix::unistd::setgroups(&gids),
        "setgroups (process.user.additionalGids)",
    )?;
    let gid = nix::unistd::Gid::from_raw(p.gid);
    ok(
        nix::unistd::setresgid(gid, gid, gid),
        "setresgid (process.user.gid)",
    )?;
    let uid = nix::unistd::Uid::from_raw(p.uid);
    ok(
        nix::unistd::setresuid(uid, uid, uid),
        "setresuid (process.user.uid)",
    )?;
    ok(
        nix::sys::prctl::set_keepcaps(false),
        "prctl(PR_SET_KEEPCAPS)",
    )?;
    ok(
        caps::set(None, CapSet::Inheritable, &cap_set(p.caps.inheritable)),
        "process.capabilities.inheritable",
    )?;
    ok(
        caps::set(None, CapSet::Effective, &cap_set(p.caps.effective)),
        "process.capabilities.effective",
    )?;
    ok(
        caps::set(None, CapSet::Permitted, &cap_set(p.caps.permitted)),
        "process.capabilities.permitted",
    )?;
    ok(caps::clear(None, CapSet::Ambient), "clear the ambient set")?;
    // As runc: an ambient capability that is not both permitted and
    // inheritable cannot be raised; that is not an error.
    for cap in cap_set(p.caps.ambient) {
        let _ = caps::raise(None, CapSet::Ambient, cap);
    }
    if p.no_new_privs {
        ok(
            nix::sys::prctl::set_no_new_privs(),
            "prctl(PR_SET_NO_NEW_PRIVS) (process.noNewPrivileges)",
        )?;
    }
    Ok(())
}
