//! What the sentry learns about a calling thread from the host kernel:
//! its tgid, umask and (for `runrs exec` processes, see `cred::Table`) the
//! host ids it started with. Umask and cwd stay the kernel's (umask and
//! chdir reach it), so the sentry reads them rather than mirroring them,
//! except a cwd the kernel cannot hold (`super::cwd`); the credentials
//! the sandbox shows are the sentry's (`super::cred`).

use nix::errno::Errno;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskInfo {
    /// Whether `groups` and `umask` were read (only /proc/<tid>/status
    /// has them; the ids come cheaper from the task's pidfd).
    pub complete: bool,
    pub tgid: i32,
    /// real, effective, saved, filesystem.
    pub uids: [u32; 4],
    pub gids: [u32; 4],
    pub groups: Vec<u32>,
    pub umask: u32,
}

impl TaskInfo {
    /// The ids and tgid from PIDFD_GET_INFO (Linux 6.13+, ~3 us), without
    /// generating the whole status file (~15 us); falls back to `read`.
    pub fn ids(tid: i32) -> Result<TaskInfo, Errno> {
        match super::sys::pidfd_info(tid) {
            Ok(i) => Ok(TaskInfo {
                complete: false,
                tgid: i.tgid as i32,
                uids: [i.ruid, i.euid, i.suid, i.fsuid],
                gids: [i.rgid, i.egid, i.sgid, i.fsgid],
                groups: Vec::new(),
                umask: 0o022,
            }),
            Err(Errno::ESRCH) => Err(Errno::ESRCH),
            Err(_) => TaskInfo::read(tid),
        }
    }

    /// Everything, from /proc/<tid>/status.
    pub fn read(tid: i32) -> Result<TaskInfo, Errno> {
        let mut f = std::fs::File::open(format!("/proc/{tid}/status")).map_err(|_| Errno::ESRCH)?;
        let buf = super::fs::hostproc::read_whole(&mut f).map_err(|_| Errno::ESRCH)?;
        let text = std::str::from_utf8(&buf).map_err(|_| Errno::ESRCH)?;
        TaskInfo::parse(text).ok_or(Errno::ESRCH)
    }

    pub fn parse(status: &str) -> Option<TaskInfo> {
        let mut t = TaskInfo {
            complete: true,
            umask: 0o022,
            ..Default::default()
        };
        let four = |v: &str| -> Option<[u32; 4]> {
            let n: Vec<u32> = v
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (n.len() == 4).then(|| [n[0], n[1], n[2], n[3]])
        };
        let mut seen = 0;
        for line in status.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k {
                "Tgid" => {
                    t.tgid = v.trim().parse().ok()?;
                    seen += 1;
                }
                "Uid" => {
                    t.uids = four(v)?;
                    seen += 1;
                }
                "Gid" => {
                    t.gids = four(v)?;
                    seen += 1;
                }
                "Groups" => {
                    t.groups = v
                        .split_whitespace()
                        .filter_map(|x| x.parse().ok())
                        .collect()
                }
                "Umask" => t.umask = u32::from_str_radix(v.trim(), 8).ok()?,
                _ => {}
            }
        }
        (seen == 3).then_some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let s = "Name:\tsh\nUmask:\t0027\nTgid:\t42\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\nGroups:\t5 20 \n";
        let t = TaskInfo::parse(s).expect("parse");
        assert_eq!(t.tgid, 42);
        assert_eq!(t.uids, [1000, 1001, 1002, 1003]);
        assert_eq!(t.gids[3], 8);
        assert_eq!(t.groups, [5, 20]);
        assert_eq!(t.umask, 0o027);
        assert!(TaskInfo::parse("Uid:\t1\n").is_none());
    }

    #[test]
    fn reads_own_status() {
        let t = TaskInfo::read(std::process::id() as i32).expect("self");
        assert_eq!(t.tgid, std::process::id() as i32);
        assert!(t.complete);
    }

    #[test]
    fn pidfd_ids_match_the_status_file() {
        let me = std::process::id() as i32;
        let full = TaskInfo::read(me).expect("status");
        let ids = TaskInfo::ids(me).expect("pidfd info");
        assert_eq!(
            (ids.tgid, ids.uids, ids.gids),
            (full.tgid, full.uids, full.gids)
        );
        assert!(!ids.complete, "groups and umask are not in pidfd info");
    }
}
