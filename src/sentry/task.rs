//! What the sentry learns about a calling thread from the host kernel.
//! Credentials, umask and cwd stay the kernel's (the workload's set*id and
//! chdir reach it), so the sentry reads them rather than mirroring them.

use nix::errno::Errno;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskInfo {
    pub tgid: i32,
    /// real, effective, saved, filesystem.
    pub uids: [u32; 4],
    pub gids: [u32; 4],
    pub groups: Vec<u32>,
    pub umask: u32,
}

impl TaskInfo {
    pub fn read(tid: i32) -> Result<TaskInfo, Errno> {
        let text =
            std::fs::read_to_string(format!("/proc/{tid}/status")).map_err(|_| Errno::ESRCH)?;
        TaskInfo::parse(&text).ok_or(Errno::ESRCH)
    }

    pub fn parse(status: &str) -> Option<TaskInfo> {
        let mut t = TaskInfo {
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
    }
}
