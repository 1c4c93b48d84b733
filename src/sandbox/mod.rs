//! The description of one sandbox that `runrs create` hands to the roles
//! it starts (the sentry, `runrs boot`; the gofer, `runrs gofer`; the
//! container's init): the validated container config, the sandbox's own
//! settings, where the inherited fds are, the messages on their channels,
//! and the host facts they share (cgroup layout, id maps, the device set).
//!
//! Layer rule: `runsc` (the front end) → `sentry`, `gofer` → `sandbox`,
//! `confine`, `table`, never back. This module imports none of the others
//! (but `log`), so every role can use it (see docs/ARCHITECTURE.md and
//! `tests/layers.rs`).

pub mod cgroup;
pub mod config;
pub mod idmap;
pub mod owner;
pub mod sync;
pub mod sys;

use std::os::fd::RawFd;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the roles find their inherited fds.
pub const FIRST_ROLE_FD: RawFd = 3;

/// The validated container config in the state dir (a `ContainerConfig`).
pub const SPEC_FILE: &str = "spec.json";
/// The sandbox's settings in the state dir (a [`SandboxInfo`]).
pub const SANDBOX_FILE: &str = "sandbox.json";

/// What the sentry and the gofer learn at start, besides the spec.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SandboxInfo {
    pub init_pid: i32,
    pub gofer_channels: usize,
    pub platform: PlatformKind,
    /// Older state files have none: exclusive, the default.
    #[serde(default)]
    pub file_access: FileAccess,
    pub strace: bool,
    pub debug: bool,
    pub log: Option<PathBuf>,
    pub log_json: bool,
    /// Unix time (seconds, nanos) the sandbox was created: /proc/uptime counts from it.
    pub start_time: (u64, u32),
    /// Real mounts inside the synthetic /proc and /sys (the cgroup mount
    /// at /sys/fs/cgroup): the gofer serves them.
    #[serde(default)]
    pub gofer_subtrees: Vec<String>,
    /// The host uid (and gid) that owns the sandbox's user namespace and
    /// that the sentry becomes after its setup ([`owner`]). Older state
    /// files have none: the sentry stays host root without capabilities.
    #[serde(default)]
    pub owner_uid: Option<u32>,
    /// Whether the ends of a gofer channel poll before they sleep
    /// ([`config::Cpu::allows_polling`]). Older state files: no.
    #[serde(default)]
    pub poll_channels: bool,
    /// Whether `create` passed the gofer channels' shared-memory lanes
    /// (`gofer::lane`), one fd after the channels, to the gofer and the
    /// sentry. Older state files: no.
    #[serde(default)]
    pub gofer_lanes: bool,
    /// Whether no device node outside the sandbox's set can be opened
    /// through the workload's kernel: the devices cgroup admits only that
    /// set (`Cgroup::restrict_devices`, v1 hosts), or every mount but
    /// /dev's is nodev (`rootfs::pivot`, where the spec mounts a tmpfs at
    /// /dev). Only then may the sentry let the workload's kernel redo an
    /// open, which a path rewritten meanwhile could turn to another
    /// device node. Older state files: no.
    #[serde(default)]
    pub devices_confined: bool,
}

/// Which interception mechanism brings the workload's syscalls to the sentry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformKind {
    /// seccomp user notification (SECCOMP_RET_USER_NOTIF).
    Seccomp,
    /// PTRACE_SEIZE with SECCOMP_RET_TRACE.
    Ptrace,
}

/// Whether the container's root may change behind the sandbox's back
/// (runsc's `--file-access`). Bind mounts are always treated as shared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAccess {
    /// Only this sandbox changes the root: the sentry keeps the directories
    /// it walked (a stat in one is answered without the gofer).
    #[default]
    Exclusive,
    /// Others may change it too: every lookup asks the gofer.
    Shared,
}

/// The sentry's own mounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynthFs {
    Proc,
    Sys,
}

impl SynthFs {
    pub fn mount_point(self) -> &'static str {
        match self {
            SynthFs::Proc => "/proc",
            SynthFs::Sys => "/sys",
        }
    }
}

pub const SYNTHETIC_MOUNTS: [SynthFs; 2] = [SynthFs::Proc, SynthFs::Sys];

/// The character devices a sandbox holds, as (name, major, minor):
/// runc's default set, which `runsc::rootfs::prepare` creates in a tmpfs /dev.
/// Together with the container's own devpts (pts/*, ptmx) these are the
/// only device nodes a workload may open (docs/SECURITY.md).
pub const SANDBOX_DEVICES: &[(&str, i64, i64)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The name of the device of [`SANDBOX_DEVICES`] with these numbers.
pub fn sandbox_device(major: i64, minor: i64) -> Option<&'static str> {
    SANDBOX_DEVICES
        .iter()
        .find(|&&(_, ma, mi)| (ma, mi) == (major, minor))
        .map(|&(name, ..)| name)
}

/// Whether the workload may open the character device with these numbers:
/// one of [`SANDBOX_DEVICES`], the pty multiplexer (/dev/ptmx, 5:2) or a
/// pty slave (UNIX98_PTY_SLAVE_MAJOR and its 8 majors, linux/major.h).
pub fn workload_may_open_char_device(major: i64, minor: i64) -> bool {
    const PTY_SLAVE_MAJORS: std::ops::Range<i64> = 136..144;
    PTY_SLAVE_MAJORS.contains(&major)
        || (major, minor) == (5, 2)
        || sandbox_device(major, minor).is_some()
}
