//! Who may look into another task's /proc files.
//!
//! Linux guards the files of /proc/<pid> that show a task's memory, open
//! files and environment with `ptrace_may_access(task,
//! PTRACE_MODE_READ_FSCREDS)` (kernel/ptrace.c `__ptrace_may_access`, and
//! security/commoncap.c `cap_ptrace_access_check`), on top of the file
//! modes, whose owner is the task's effective ids while it is dumpable
//! and root otherwise (fs/proc/base.c `task_dump_owner`). The sentry
//! reads the host's /proc with its own privileges, so it applies these
//! rules itself, with the tasks' credentials as the kernel holds them
//! (`super::super::cred`, host ids).
//!
//! Which files take which check (fs/proc/base.c, fs/proc/fd.c, Linux 6.x):
//!
//! | file | check | errno |
//! |---|---|---|
//! | environ, auxv, maps, smaps, smaps_rollup (`proc_mem_open`), io (`do_io_accounting`) | ptrace read | EACCES |
//! | personality (`lock_trace`) | ptrace attach (as read here, no Yama) | EPERM |
//! | exe, cwd, root links (`proc_fd_access_allowed`): readlink and following | ptrace read | EACCES |
//! | fd/N links: readlink and following | ptrace read | EACCES |
//! | fdinfo/ open and lookup (`proc_fdinfo_permission`), fdinfo/N open | ptrace read | EACCES |
//! | fd/ open and lookup (`proc_fd_permission`) | mode 0500, or the same thread group | EACCES |
//! | environ, auxv, io, personality open | mode 0400 | EACCES |
//! | stat | none: without ptrace read, the code/stack/data addresses and the exit code read 0 (`do_task_stat`) | |
//! | wchan | none: "0" without ptrace read | |
//!
//! lstat of a link, stat of a file and of the fd/ directory itself need no
//! permission beyond searching /proc/<pid>, which is 0555.

use crate::sentry::cred::{cap_bit, Asker, Cred, SUID_DUMP_USER};

/// CAP_SYS_PTRACE (linux/capability.h).
pub const CAP_SYS_PTRACE: u32 = 19;

/// Linux's `ptrace_may_access(target, PTRACE_MODE_READ_FSCREDS)` for a
/// caller with credentials `caller` (`same_group`: the caller is a thread
/// of the target's thread group, which may always look).
///
/// Otherwise the caller's fsuid must equal the target's real, effective
/// and saved uid and its fsgid the three gids, and the target must be
/// dumpable (`SUID_DUMP_USER`), unless the caller holds CAP_SYS_PTRACE in
/// its effective set; then (commoncap) the target's permitted
/// capabilities must be a subset of the caller's effective ones, again
/// unless the caller holds CAP_SYS_PTRACE.
pub fn may_ptrace_read(caller: &Cred, target: &Cred, same_group: bool) -> bool {
    if same_group {
        return true;
    }
    let has_ptrace_cap = caller.effective & cap_bit(CAP_SYS_PTRACE) != 0;
    let (fsuid, fsgid) = (caller.uid[3], caller.gid[3]);
    let ids_match =
        target.uid[..3].iter().all(|&u| u == fsuid) && target.gid[..3].iter().all(|&g| g == fsgid);
    if !ids_match && !has_ptrace_cap {
        return false;
    }
    if target.dumpable != SUID_DUMP_USER && !has_ptrace_cap {
        return false;
    }
    // commoncap: PTRACE_MODE_FSCREDS compares with the effective set.
    target.permitted & !caller.effective == 0 || has_ptrace_cap
}

/// The owner (uid, gid) of a task's /proc files: its effective ids while
/// it is dumpable, else `root`, the host ids of its user namespace's root
/// (Linux's `task_dump_owner`).
pub fn dump_owner(target: &Cred, root: (u32, u32)) -> (u32, u32) {
    if target.dumpable == SUID_DUMP_USER {
        (target.uid[1], target.gid[1])
    } else {
        root
    }
}

/// Whether `caller` may access (`want`: 4 read, 1 search) a /proc file
/// of `target` with permission bits `mode` (type bits included), by the
/// mode alone (Linux's generic_permission with the caller's fs ids).
pub fn may_by_mode(caller: &Cred, target: &Cred, root: (u32, u32), mode: u32, want: u32) -> bool {
    let (uid, gid) = dump_owner(target, root);
    crate::sentry::cred::may(&Asker::from(caller), uid, gid, mode, want)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: u64 = (1 << 41) - 1;

    fn cred(uid: u32, gid: u32, caps: u64) -> Cred {
        Cred {
            uid: [uid; 4],
            gid: [gid; 4],
            groups: vec![],
            effective: caps,
            permitted: caps,
            inheritable: 0,
            bounding: ALL,
            ambient: 0,
            securebits: 0,
            no_new_privs: false,
            dumpable: SUID_DUMP_USER,
            umask: 0o022,
        }
    }

    #[test]
    fn same_group_always_may() {
        let mut me = cred(65534, 65534, 0);
        me.dumpable = 0;
        assert!(may_ptrace_read(&me, &me, true));
        assert!(may_ptrace_read(&me, &cred(0, 0, ALL), true));
    }

    #[test]
    fn user_may_not_read_root() {
        let user = cred(65534, 65534, 0);
        let root = cred(0, 0, 0xa80425fb);
        assert!(!may_ptrace_read(&user, &root, false));
        // Root with fewer capabilities than its target may not either.
        let weak_root = cred(0, 0, 1 << 5);
        assert!(!may_ptrace_read(&weak_root, &root, false));
        assert!(may_ptrace_read(&root, &root, false));
        assert!(may_ptrace_read(&root, &weak_root, false));
    }

    #[test]
    fn every_id_must_match_the_fs_ids() {
        let caller = cred(1000, 1000, 0);
        assert!(may_ptrace_read(&caller, &cred(1000, 1000, 0), false));
        for i in 0..3 {
            let mut t = cred(1000, 1000, 0);
            t.uid[i] = 0;
            assert!(!may_ptrace_read(&caller, &t, false), "uid[{i}]");
            let mut t = cred(1000, 1000, 0);
            t.gid[i] = 0;
            assert!(!may_ptrace_read(&caller, &t, false), "gid[{i}]");
        }
        // The target's fs ids do not count, the caller's real ones neither.
        let mut t = cred(1000, 1000, 0);
        t.uid[3] = 0;
        assert!(may_ptrace_read(&caller, &t, false));
        let mut c = cred(1000, 1000, 0);
        c.uid[0] = 0;
        assert!(may_ptrace_read(&c, &cred(1000, 1000, 0), false));
        c.uid[3] = 0;
        assert!(!may_ptrace_read(&c, &cred(1000, 1000, 0), false));
    }

    #[test]
    fn a_target_that_is_not_dumpable_needs_cap_sys_ptrace() {
        let caller = cred(1000, 1000, 0);
        let mut t = cred(1000, 1000, 0);
        t.dumpable = 0;
        assert!(!may_ptrace_read(&caller, &t, false));
        t.dumpable = 2;
        assert!(!may_ptrace_read(&caller, &t, false));
        let tracer = cred(1000, 1000, cap_bit(CAP_SYS_PTRACE));
        assert!(may_ptrace_read(&tracer, &t, false));
        assert!(may_ptrace_read(&tracer, &cred(0, 0, ALL), false));
    }

    #[test]
    fn owner_and_mode() {
        let root = cred(0, 0, 0xa80425fb);
        let user = cred(65534, 65534, 0);
        assert_eq!(dump_owner(&root, (0, 0)), (0, 0));
        let mut t = cred(1000, 1001, 0);
        t.uid[1] = 1002;
        t.gid[1] = 1003;
        assert_eq!(dump_owner(&t, (0, 0)), (1002, 1003));
        t.dumpable = 0;
        assert_eq!(dump_owner(&t, (0, 0)), (0, 0));
        let file = libc::S_IFREG | 0o400;
        assert!(!may_by_mode(&user, &root, (0, 0), file, 4));
        assert!(may_by_mode(&user, &user, (0, 0), file, 4));
        let mut gone = user.clone();
        gone.dumpable = 0;
        assert!(!may_by_mode(&user, &gone, (0, 0), file, 4));
        // CAP_DAC_READ_SEARCH reads and searches anyone's.
        let reader = cred(65534, 65534, 1 << 2);
        assert!(may_by_mode(&reader, &root, (0, 0), file, 4));
        assert!(may_by_mode(
            &reader,
            &root,
            (0, 0),
            libc::S_IFDIR | 0o500,
            1
        ));
    }
}
