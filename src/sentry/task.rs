//! What the sentry learns about a calling thread from the host kernel
//! cheaply: its tgid and ids (for `runrs exec` processes, see
//! `cred::Table`, the host ids it started with). Its groups, capabilities
//! and umask come with its credentials (`super::cred`), its cwd from the
//! kernel (or `super::cwd` where the kernel cannot hold it).

use nix::errno::Errno;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskInfo {
    pub tgid: i32,
    /// real, effective, saved, filesystem.
    pub uids: [u32; 4],
    pub gids: [u32; 4],
}

impl TaskInfo {
    /// The ids and tgid from PIDFD_GET_INFO (Linux 6.13+, ~3 us), without
    /// generating the whole status file (~15 us); falls back to `read`.
    pub fn ids(tid: i32) -> Result<TaskInfo, Errno> {
        match super::sys::pidfd_info(tid) {
            Ok(i) => Ok(TaskInfo {
                tgid: i.tgid as i32,
                uids: [i.ruid, i.euid, i.suid, i.fsuid],
                gids: [i.rgid, i.egid, i.sgid, i.fsgid],
            }),
            Err(Errno::ESRCH) => Err(Errno::ESRCH),
            Err(_) => TaskInfo::read(tid),
        }
    }

    /// The same from /proc/<tid>/status.
    pub fn read(tid: i32) -> Result<TaskInfo, Errno> {
        let mut f = std::fs::File::open(format!("/proc/{tid}/status")).map_err(|_| Errno::ESRCH)?;
        let buf = super::fs::hostproc::read_whole(&mut f).map_err(|_| Errno::ESRCH)?;
        let text = std::str::from_utf8(&buf).map_err(|_| Errno::ESRCH)?;
        TaskInfo::parse(text).ok_or(Errno::ESRCH)
    }

    pub fn parse(status: &str) -> Option<TaskInfo> {
        let mut t = TaskInfo::default();
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
                "Tgid" => t.tgid = v.trim().parse().ok()?,
                "Uid" => t.uids = four(v)?,
                "Gid" => t.gids = four(v)?,
                _ => continue,
            }
            seen += 1;
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
        assert!(TaskInfo::parse("Uid:\t1\n").is_none());
    }

    #[test]
    fn reads_own_status() {
        let t = TaskInfo::read(std::process::id() as i32).expect("self");
        assert_eq!(t.tgid, std::process::id() as i32);
    }

    #[test]
    fn pidfd_ids_match_the_status_file() {
        let me = std::process::id() as i32;
        let full = TaskInfo::read(me).expect("status");
        let ids = TaskInfo::ids(me).expect("pidfd info");
        assert_eq!(ids, full);
    }
}
