//! The host's cgroup layout as the roles see it: v1 (one hierarchy per
//! controller) or v2 (the unified hierarchy), and a container's directory
//! in each. `runsc::cgroups` creates, configures and removes the
//! container's cgroups; the sentry reads the layout to show a cgroup
//! mount as init made it.

use std::path::{Path, PathBuf};

pub const ROOT: &str = "/sys/fs/cgroup";
/// v1 controllers runrs manages (a container is put in each that is mounted).
/// The hierarchies of a v1 host a container joins, as runc does: the
/// controllers, then systemd's named hierarchy and a hybrid host's v2 one
/// (no controllers there; /proc/self/cgroup lists them too).
const V1_CONTROLLERS: [&str; 10] = [
    "memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "blkio", "devices", "systemd",
    "unified",
];

fn is_v2() -> bool {
    Path::new(ROOT).join("cgroup.controllers").exists()
}

/// One container's cgroup, in every hierarchy it lives in.
pub struct Cgroup {
    pub(crate) dirs: Vec<(String, PathBuf)>,
    pub(crate) v2: bool,
}

impl Cgroup {
    pub fn at(rel: &str) -> Cgroup {
        let rel = rel.trim_start_matches('/');
        if is_v2() {
            return Cgroup {
                dirs: vec![("unified".into(), Path::new(ROOT).join(rel))],
                v2: true,
            };
        }
        let dirs = V1_CONTROLLERS
            .iter()
            .filter(|c| Path::new(ROOT).join(c).join("cgroup.procs").exists())
            .map(|c| (c.to_string(), Path::new(ROOT).join(c).join(rel)))
            .collect();
        Cgroup { dirs, v2: false }
    }

    /// Each hierarchy's name and the container's directory in it.
    pub fn dirs(&self) -> &[(String, PathBuf)] {
        &self.dirs
    }

    /// The v1 hierarchies a cgroup mount shows, as runc mounts it: every
    /// one the container joined but a hybrid host's v2 one, in the order
    /// the host mounted them (runc follows the host's mountinfo).
    pub fn shown_v1_hierarchies(&self) -> Vec<&(String, PathBuf)> {
        let host_order: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter_map(|mp| mp.strip_prefix(&format!("{ROOT}/")))
            .map(str::to_owned)
            .collect();
        let mut shown: Vec<&(String, PathBuf)> = self
            .dirs
            .iter()
            .filter(|(name, _)| name != "unified")
            .collect();
        shown.sort_by_key(|(name, _)| {
            host_order
                .iter()
                .position(|h| h == name)
                .unwrap_or(usize::MAX)
        });
        shown
    }

    pub fn is_v2(&self) -> bool {
        self.v2
    }
}
