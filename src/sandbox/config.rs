//! The container config the roles use: the bundle's config.json as
//! `runsc::spec` parsed and validated it, saved in the state dir
//! ([`super::SPEC_FILE`]) for the sentry and init.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::idmap::IdMap;

/// Capability sets as bit masks (bit n = capability number n).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CapSets {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MountSpec {
    pub destination: String,
    #[serde(rename = "type", default)]
    pub typ: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Namespace {
    /// One of mount, network, uts, pid, ipc, user, cgroup, time.
    #[serde(rename = "type")]
    pub typ: String,
    #[serde(default)]
    pub path: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Device {
    pub path: String,
    #[serde(rename = "type")]
    pub typ: String,
    #[serde(default)]
    pub major: i64,
    #[serde(default)]
    pub minor: i64,
    #[serde(rename = "fileMode", default)]
    pub file_mode: Option<u32>,
    #[serde(default)]
    pub uid: Option<u32>,
    #[serde(default)]
    pub gid: Option<u32>,
}

impl Device {
    /// Whether the sandbox creates this `linux.devices` entry: a FIFO, or
    /// a character device of [`super::SANDBOX_DEVICES`] (under any path). Every
    /// other entry (Docker's `--privileged` lists all of the host's
    /// devices, `--device` one) is a host device: left out, with a
    /// warning at create ([`load`]).
    pub fn in_sandbox_set(&self) -> bool {
        match self.typ.as_str() {
            "p" => true,
            "c" | "u" => super::sandbox_device(self.major, self.minor).is_some(),
            _ => false,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Hook {
    pub path: PathBuf,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub timeout: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hooks {
    #[serde(default)]
    pub prestart: Vec<Hook>,
    #[serde(default)]
    pub create_runtime: Vec<Hook>,
    #[serde(default)]
    pub create_container: Vec<Hook>,
    #[serde(default)]
    pub start_container: Vec<Hook>,
    #[serde(default)]
    pub poststart: Vec<Hook>,
    #[serde(default)]
    pub poststop: Vec<Hook>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rlimit {
    pub resource: u32,
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

/// The process to run: the spec's `process`, or an exec's process.json.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProcessConfig {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub terminal: bool,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub umask: Option<u32>,
    pub caps: CapSets,
    pub no_new_privs: bool,
    pub rlimits: Vec<Rlimit>,
    pub oom_score_adj: Option<i32>,
}

/// Everything the roles need from the spec, already validated.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContainerConfig {
    pub id: String,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub readonly_root: bool,
    pub process: ProcessConfig,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub mounts: Vec<MountSpec>,
    pub namespaces: Vec<Namespace>,
    /// The workload user namespace's mappings: the spec's
    /// `linux.uidMappings`/`gidMappings` with a user namespace, else
    /// every id to itself (see `runsc::userns`).
    #[serde(default = "IdMap::identity")]
    pub uid_map: IdMap,
    #[serde(default = "IdMap::identity")]
    pub gid_map: IdMap,
    pub devices: Vec<Device>,
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
    pub sysctl: BTreeMap<String, String>,
    pub rootfs_propagation: Option<String>,
    pub hooks: Hooks,
    pub memory_limit: Option<i64>,
    #[serde(default)]
    pub resources: Resources,
    /// `linux.seccomp`, validated by compiling it at create.
    #[serde(default)]
    pub seccomp: Option<serde_json::Value>,
    pub pids_limit: Option<i64>,
    pub cgroups_path: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

impl ContainerConfig {
    /// Whether the spec mounts a tmpfs at /dev, which init fills with the
    /// sandbox's device set: then every other mount is nodev
    /// (`runsc::rootfs::pivot`).
    pub fn dev_is_tmpfs(&self) -> bool {
        self.mounts
            .iter()
            .any(|m| m.destination == "/dev" && m.typ == "tmpfs")
    }

    pub fn has_new_namespace(&self, typ: &str) -> bool {
        self.namespaces
            .iter()
            .any(|n| n.typ == typ && n.path.is_none())
    }
}

/// Resource settings as `linux.resources` and `update --resources` carry
/// them; zero or absent means "leave alone", as runc does.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    #[serde(default)]
    pub memory: Option<Memory>,
    #[serde(default)]
    pub cpu: Option<Cpu>,
    #[serde(default)]
    pub pids: Option<Pids>,
    #[serde(default, rename = "blockIO")]
    pub block_io: Option<BlockIo>,
    /// cgroup v2 files by name; refused on a v1 host, as runc does.
    #[serde(default)]
    pub unified: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub swap: Option<i64>,
    #[serde(default)]
    pub reservation: Option<i64>,
    #[serde(default)]
    pub swappiness: Option<u64>,
    #[serde(default, rename = "disableOOMKiller")]
    pub disable_oom_killer: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
pub struct BlockIo {
    #[serde(default)]
    pub weight: Option<u16>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
pub struct Cpu {
    #[serde(default)]
    pub shares: Option<u64>,
    #[serde(default)]
    pub quota: Option<i64>,
    #[serde(default)]
    pub period: Option<u64>,
    #[serde(default)]
    pub cpus: Option<String>,
    #[serde(default)]
    pub mems: Option<String>,
    #[serde(default, rename = "realtimeRuntime")]
    pub realtime_runtime: Option<i64>,
    #[serde(default, rename = "realtimePeriod")]
    pub realtime_period: Option<u64>,
}

impl Cpu {
    /// Whether the sandbox may poll a gofer channel instead of sleeping
    /// (`gofer::sys::recv_packet_spinning`): only with no CPU quota (the
    /// polling would be charged to it: the sentry and gofer run in the
    /// container's cpu cgroup) and with a second CPU to poll on.
    pub fn allows_polling(cpu: Option<&Cpu>, online_cpus: usize) -> bool {
        let quota = cpu.and_then(|c| c.quota).is_some_and(|q| q > 0);
        let cpus = cpu
            .and_then(|c| c.cpus.as_deref())
            .filter(|s| !s.trim().is_empty())
            .map_or(online_cpus, count_cpu_list);
        !quota && cpus >= 2
    }
}

/// How many CPUs a cpuset list ("0-3,6") names; a malformed part counts
/// as none (the cgroup would have refused it anyway).
fn count_cpu_list(list: &str) -> usize {
    list.trim()
        .split(',')
        .map(|part| match part.trim().split_once('-') {
            Some((a, b)) => match (a.trim().parse::<usize>(), b.trim().parse::<usize>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 0,
            },
            None => usize::from(part.trim().parse::<usize>().is_ok()),
        })
        .sum()
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
pub struct Pids {
    #[serde(default)]
    pub limit: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_needs_no_quota_and_two_cpus() {
        let cpu = |quota: Option<i64>, cpus: Option<&str>| Cpu {
            quota,
            cpus: cpus.map(str::to_owned),
            ..Cpu::default()
        };
        assert!(Cpu::allows_polling(None, 2));
        assert!(!Cpu::allows_polling(None, 1));
        // docker --cpus 1.5, a Kubernetes limit: the polling would be charged.
        assert!(!Cpu::allows_polling(Some(&cpu(Some(150000), None)), 8));
        // Zero or -1: no quota, as the cgroup reads it.
        assert!(Cpu::allows_polling(Some(&cpu(Some(-1), None)), 2));
        assert!(Cpu::allows_polling(Some(&cpu(Some(0), Some(""))), 2));
        // --cpuset-cpus: what it names, not what the host has.
        assert!(!Cpu::allows_polling(Some(&cpu(None, Some("3"))), 8));
        assert!(Cpu::allows_polling(Some(&cpu(None, Some("0,2"))), 1));
        assert!(Cpu::allows_polling(Some(&cpu(None, Some("4-5"))), 8));
        assert!(!Cpu::allows_polling(Some(&cpu(None, Some("x-y,"))), 8));
        assert_eq!(count_cpu_list(" 0-3, 6 ,8-8"), 6);
    }
}
