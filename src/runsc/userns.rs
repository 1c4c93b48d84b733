//! The workload's user namespace: one identity, enforced by the kernel.
//!
//! Init joins the container's user namespace right before it hands itself
//! to the sentry (after the mounts, the pivot and the hostname, which need
//! the host's privileges); `create` made it and wrote its mappings before
//! init started (with no user namespace in the spec, container id N = host
//! id N below the sandbox owner uids, `sandbox::owner`, as under runc
//! but for those). Inside it init holds every capability of the namespace, installs
//! the filter with them (so no_new_privs is needed only where the spec asks
//! for it), then becomes the spec's user with the spec's capability sets as
//! runc's finalizeNamespace does. A `runrs exec` process joins the same
//! namespace last (its other namespaces belong to the host's user
//! namespace, so they must be joined while it still holds host
//! capabilities) and does the same.
//!
//! The user namespace is made before init, by a short-lived process of
//! `create`'s ([`make`]), together with the container's new network
//! namespace, which it then owns: the spec's network capabilities act
//! over the container's network as they do under runc (CAP_NET_RAW opens
//! raw and packet sockets, so ping works; CAP_NET_ADMIN, when granted,
//! configures the container's interfaces), and over nothing else. Init
//! joins that network namespace when it is cloned and the user namespace
//! where it used to make one. The other namespaces init was cloned into
//! (mount, pid, ipc, uts) stay owned by the host's user namespace: the
//! workload's capabilities confer nothing over them (mount and
//! sethostname are refused by the kernel), only over the container's own
//! users, files and processes. A network namespace given by path (a pod's)
//! keeps its owner.

use std::fs;
use std::os::fd::OwnedFd;

use caps::CapSet;

use super::spec::ProcessConfig;
use crate::sandbox::sync::{self, InitMsg};
use crate::sentry::cred::IdMap;

/// What stopped init in the user namespace's steps, by step; the text is
/// what `create` shows (runc's wording where runc has one).
#[derive(Debug, thiserror::Error)]
pub enum UserNsError {
    #[error("sync: {0}")]
    Sync(#[source] sync::SyncError),
    /// `create` could not make the namespace; its own message.
    #[error("{0}")]
    Refused(String),
    #[error("unexpected message {0}")]
    Unexpected(String),
    #[error("join the container's user namespace: {0}")]
    Join(#[source] nix::Error),
    #[error("drop from the capability bounding set (process.capabilities.bounding): {0}")]
    Bounding(#[source] caps::errors::CapsError),
    #[error("prctl(PR_SET_KEEPCAPS): {0}")]
    KeepCaps(#[source] nix::Error),
    #[error("setgroups (process.user.additionalGids): {0}")]
    SetGroups(#[source] nix::Error),
    #[error("setresgid (process.user.gid): {0}")]
    SetGid(#[source] nix::Error),
    #[error("setresuid (process.user.uid): {0}")]
    SetUid(#[source] nix::Error),
    #[error("process.capabilities.{set}: {source}")]
    CapSet {
        set: &'static str,
        #[source]
        source: caps::errors::CapsError,
    },
    #[error("clear the ambient set: {0}")]
    ClearAmbient(#[source] caps::errors::CapsError),
    #[error("prctl(PR_SET_NO_NEW_PRIVS) (process.noNewPrivileges): {0}")]
    NoNewPrivs(#[source] nix::Error),
}

/// In init: asks `create` for the container's user namespace (see
/// [`make`]) and joins it, which gives init every capability in it.
pub fn enter(sock: std::os::fd::RawFd) -> Result<(), UserNsError> {
    sync::send(sock, &InitMsg::UserNamespace, None).map_err(UserNsError::Sync)?;
    let userns = match sync::recv(sock).map_err(UserNsError::Sync)? {
        (InitMsg::Continue, Some(fd)) => fd,
        (InitMsg::Error { msg }, _) => return Err(UserNsError::Refused(msg)),
        (other, _) => return Err(UserNsError::Unexpected(format!("{other:?}"))),
    };
    nix::sched::setns(&userns, nix::sched::CloneFlags::CLONE_NEWUSER).map_err(UserNsError::Join)
}

/// The namespaces [`make`] made: the user namespace (mapped) and, when
/// asked, a network namespace it owns.
pub struct Made {
    pub user: OwnedFd,
    pub net: Option<OwnedFd>,
}

/// In `create`, before init: makes the container's user namespace with
/// `uids` and `gids` mapped, and a network namespace owned by it when
/// `new_net`, in a forked process that unshares both and waits until their
/// fds are open (namespaces live on while an fd names them).
///
/// The process first becomes `owner` (uid, gid; no supplementary groups),
/// keeping its capabilities (CAP_SYS_ADMIN lets it unshare where
/// unprivileged user namespaces are off), so the namespace's owner is the
/// sandbox's own uid (`sandbox::owner`): the sentry, running as it, holds
/// every capability in this namespace and none in another sandbox's.
pub fn make(uids: &IdMap, gids: &IdMap, new_net: bool, owner: u32) -> std::io::Result<Made> {
    use nix::sched::CloneFlags;
    use nix::unistd::{fork, pipe2, ForkResult};
    let (made_r, made_w) = pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let (done_r, done_w) = pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let flags = if new_net {
        CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET
    } else {
        CloneFlags::CLONE_NEWUSER
    };
    // SAFETY: create is single-threaded here (as for init's clone); the
    // child makes only async-signal-safe calls and _exits.
    match unsafe { fork() }? {
        ForkResult::Child => {
            drop(made_r);
            drop(done_w);
            let mut byte = [0u8; 1];
            if become_owner_keeping_caps(owner).is_ok()
                && nix::sched::unshare(flags).is_ok()
                && nix::unistd::write(&made_w, b"m").is_ok()
            {
                // Until create has opened the namespaces and closes its end.
                let _ = nix::unistd::read(&done_r, &mut byte);
            }
            // SAFETY: _exit runs no destructor or atexit handler of the copy.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(made_w);
            drop(done_r);
            let made = (|| {
                let mut byte = [0u8; 1];
                if nix::unistd::read(&made_r, &mut byte)? != 1 {
                    return Err(std::io::Error::other(format!(
                        "becoming the sandbox owner {owner} or unshare({flags:?}) failed in \
                         the namespaces' maker"
                    )));
                }
                let pid = child.as_raw();
                fs::write(format!("/proc/{pid}/uid_map"), uids.proc_text())?;
                fs::write(format!("/proc/{pid}/gid_map"), gids.proc_text())?;
                let open = |name: &str| -> std::io::Result<OwnedFd> {
                    Ok(fs::File::open(format!("/proc/{pid}/ns/{name}"))?.into())
                };
                Ok(Made {
                    user: open("user")?,
                    net: if new_net { Some(open("net")?) } else { None },
                })
            })();
            drop(done_w);
            let _ = nix::sys::wait::waitpid(child, None);
            made
        }
    }
}

/// In the namespaces' maker: uid and gid `owner`, no supplementary
/// groups, and the capabilities it had (keepcaps keeps the permitted set
/// through the uid change; the effective set is raised back from it).
/// Async-signal-safe: system calls only.
fn become_owner_keeping_caps(owner: u32) -> nix::Result<()> {
    use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
    let (uid, gid) = (Uid::from_raw(owner), Gid::from_raw(owner));
    setgroups(&[])?;
    setresgid(gid, gid, gid)?;
    nix::sys::prctl::set_keepcaps(true)?;
    setresuid(uid, uid, uid)?;
    crate::sandbox::sys::raise_effective_to_permitted()
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
pub fn become_user(p: &ProcessConfig) -> Result<(), UserNsError> {
    use UserNsError as E;
    for cap in caps::runtime::thread_all_supported() {
        if p.caps.bounding & cap.bitmask() == 0 {
            caps::drop(None, CapSet::Bounding, cap).map_err(E::Bounding)?;
        }
    }
    nix::sys::prctl::set_keepcaps(true).map_err(E::KeepCaps)?;
    let gids: Vec<nix::unistd::Gid> = p
        .additional_gids
        .iter()
        .map(|g| nix::unistd::Gid::from_raw(*g))
        .collect();
    nix::unistd::setgroups(&gids).map_err(E::SetGroups)?;
    let gid = nix::unistd::Gid::from_raw(p.gid);
    nix::unistd::setresgid(gid, gid, gid).map_err(E::SetGid)?;
    let uid = nix::unistd::Uid::from_raw(p.uid);
    nix::unistd::setresuid(uid, uid, uid).map_err(E::SetUid)?;
    nix::sys::prctl::set_keepcaps(false).map_err(E::KeepCaps)?;
    for (set, which, bits) in [
        ("inheritable", CapSet::Inheritable, p.caps.inheritable),
        ("effective", CapSet::Effective, p.caps.effective),
        ("permitted", CapSet::Permitted, p.caps.permitted),
    ] {
        caps::set(None, which, &cap_set(bits)).map_err(|source| E::CapSet { set, source })?;
    }
    caps::clear(None, CapSet::Ambient).map_err(E::ClearAmbient)?;
    // As runc: an ambient capability that is not both permitted and
    // inheritable cannot be raised; that is not an error.
    for cap in cap_set(p.caps.ambient) {
        let _ = caps::raise(None, CapSet::Ambient, cap);
    }
    if p.no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(E::NoNewPrivs)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::UserNsError;

    #[test]
    fn errors_say_the_step_and_the_spec_field_then_the_cause() {
        let e = UserNsError::SetUid(nix::errno::Errno::EPERM);
        assert_eq!(
            e.to_string(),
            "setresuid (process.user.uid): EPERM: Operation not permitted"
        );
        assert!(std::error::Error::source(&e).is_some());
        // create's own refusal is passed on as it said it.
        assert_eq!(
            UserNsError::Refused("no user namespace".into()).to_string(),
            "no user namespace"
        );
    }
}
