//! Cgroups for a container's workload, from `linux.cgroupsPath` and
//! `linux.resources`, on cgroup v1 (one hierarchy per controller, as on
//! this host) and v2 (the unified hierarchy). The sentry and gofer stay
//! outside: freezing the workload must not freeze the sandbox serving it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::{Error, Result};
pub use crate::sandbox::cgroup::Cgroup;
use crate::sandbox::cgroup::ROOT;
pub use crate::sandbox::config::{BlockIo, Cpu, Memory, Pids, Resources};

/// `cgroupsPath` as a path below each hierarchy. With --systemd-cgroup the
/// spec says `slice:prefix:name`, which systemd places at
/// `slice/prefix-name.scope`.
pub fn relative_path(cgroups_path: Option<&str>, id: &str, systemd: bool) -> Result<String> {
    let p = match cgroups_path {
        None | Some("") => format!("/runrs/{id}"),
        Some(p) if systemd && !p.starts_with('/') => {
            let parts: Vec<&str> = p.split(':').collect();
            match parts.as_slice() {
                [slice, prefix, name] => {
                    let slice = if slice.is_empty() {
                        "system.slice"
                    } else {
                        slice
                    };
                    format!("/{slice}/{prefix}-{name}.scope")
                }
                _ => {
                    return Err(Error::Spec {
                        field: "linux.cgroupsPath",
                        msg: format!("{p:?} is not slice:prefix:name"),
                    })
                }
            }
        }
        Some(p) => {
            if p.starts_with('/') {
                p.to_string()
            } else {
                format!("/{p}")
            }
        }
    };
    if p.split('/').any(|c| c == "..") {
        return Err(Error::Spec {
            field: "linux.cgroupsPath",
            msg: format!("{p:?} leaves the cgroup root"),
        });
    }
    Ok(p)
}

/// `exec --cgroup [<controller>[,<controller>...]:]<path>` (repeatable):
/// existing sub-cgroups of the container's to put the process in, one for
/// every hierarchy or one per named controller (runc's SubCgroupPaths).
#[derive(Debug, Default, PartialEq)]
pub struct SubCgroups {
    all: Option<PathBuf>,
    per_controller: std::collections::BTreeMap<String, PathBuf>,
}

impl SubCgroups {
    /// Parses the flags with runc's rules and messages: a path without a
    /// prefix only alone, no empty controller, no path that leaves the
    /// container's cgroup.
    pub fn parse(args: &[String]) -> Result<SubCgroups> {
        let invalid = |a: &str, why: &str| Error::Usage {
            flag: "--cgroup",
            msg: format!("invalid --cgroup argument: {a}{why}"),
        };
        let mut sub = SubCgroups::default();
        for a in args {
            let parts: Vec<&str> = a.splitn(3, ':').collect();
            let (controllers, path) = match parts.as_slice() {
                [path] if args.len() == 1 => (None, *path),
                [_] => return Err(invalid(a, " (missing <controller>: prefix)")),
                [controllers, path] => (Some(*controllers), *path),
                _ => return Err(invalid(a, "")),
            };
            let rel = PathBuf::from(path.trim_start_matches('/'));
            if path.split('/').any(|c| c == "..") {
                return Err(Error::Usage {
                    flag: "--cgroup",
                    msg: format!("{path} is not a sub cgroup path"),
                });
            }
            match controllers {
                None => sub.all = Some(rel),
                Some(list) => {
                    for c in list.split(',') {
                        if c.is_empty() {
                            return Err(invalid(a, " (empty <controller> prefix)"));
                        }
                        let c = c.strip_prefix("name=").unwrap_or(c);
                        sub.per_controller.insert(c.to_string(), rel.clone());
                    }
                }
            }
        }
        Ok(sub)
    }
}

/// The front end's part of a container's cgroup: creating it, applying
/// resources, freezing, stats, removal.
impl Cgroup {
    fn dir(&self, controller: &str) -> Option<&Path> {
        if self.v2 {
            return self.dirs.first().map(|(_, p)| p.as_path());
        }
        self.dirs
            .iter()
            .find(|(c, _)| c == controller)
            .map(|(_, p)| p.as_path())
    }

    fn write(&self, controller: &str, file: &str, value: &str) -> Result<()> {
        let Some(dir) = self.dir(controller) else {
            return Ok(());
        };
        let p = dir.join(file);
        fs::write(&p, value).map_err(|source| Error::CgroupWrite {
            path: p.clone(),
            value: value.to_string(),
            source,
        })
    }

    /// The devices the workload may open through the kernel: the sandbox's
    /// set (null, zero, full, random, urandom, tty), /dev/console, /dev/ptmx
    /// and the ptys, and mknod of any (which the gofer does, or refuses)
    /// -- whatever the spec's `linux.resources.devices` allows (Docker's
    /// `--privileged` allows all). The gofer refuses other device nodes
    /// too; this is the kernel's own guard for the opens the workload's
    /// kernel redoes (see `sentry::syscalls::file`). v1 only: on a v2 host
    /// the rule would be a BPF program, not written yet. Returns whether
    /// the rules hold (the deny-all was written), one of the two guards
    /// `SandboxInfo::devices_confined` counts.
    pub fn restrict_devices(&self) -> Result<bool> {
        if self.v2 || self.dir("devices").is_none() {
            return Ok(false);
        }
        self.write("devices", "devices.deny", "a")?;
        let mut allow: Vec<String> = super::spec::SANDBOX_DEVICES
            .iter()
            .map(|(_, major, minor)| format!("c {major}:{minor} rwm"))
            .collect();
        allow.extend(
            [
                "c 5:1 rwm",
                "c 5:2 rwm",
                "c 136:* rwm",
                "c *:* m",
                "b *:* m",
            ]
            .map(String::from),
        );
        for rule in allow {
            // A parent cgroup (Docker's) may not allow it: then neither do we.
            if let Err(e) = self.write("devices", "devices.allow", &rule) {
                tracing::debug!(rule, error = %e, "devices cgroup rule not applied");
            }
        }
        Ok(true)
    }

    /// Creates the directories (a cpuset one with its parent's CPUs and
    /// memory nodes; on v2 with the controllers enabled down to it).
    pub fn create(&self) -> Result<()> {
        for (controller, dir) in &self.dirs {
            fs::create_dir_all(dir).map_err(Error::io("create cgroup", dir))?;
            if controller == "cpuset" {
                inherit_cpuset(dir)?;
            }
        }
        if self.v2 {
            // Enable the controllers for our directory from the root down.
            if let Some((_, dir)) = self.dirs.first() {
                enable_v2_controllers(dir);
            }
        }
        Ok(())
    }

    /// Puts a sandbox process (sentry, gofer) in the container's CPU
    /// hierarchies only (cgroup v1 cpu, cpuacct, cpuset): the container's
    /// CPU share and accounting include the work done for it, and the
    /// scheduler hands the CPU between the workload and the sentry inside
    /// one group (a wake-up across groups cost ~0.7 us per round trip on
    /// this VM). Memory, pids and freezer stay the workload's alone, so a
    /// runaway workload cannot starve or freeze its own kernel. A v2 host
    /// has one hierarchy for all controllers: nothing is joined there.
    pub fn join_scheduling(&self, pid: i32) -> Result<()> {
        if self.v2 {
            return Ok(());
        }
        for controller in ["cpu", "cpuacct", "cpuset"] {
            self.write(controller, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    pub fn join(&self, pid: i32) -> Result<()> {
        self.join_sub(pid, &SubCgroups::default())
    }

    /// Puts `pid` in the container's cgroups, or in the existing
    /// sub-cgroups `sub` names (`exec --cgroup`), as runc does: a missing
    /// one is an error naming its cgroup.procs.
    pub fn join_sub(&self, pid: i32, sub: &SubCgroups) -> Result<()> {
        if let Some(c) = sub.per_controller.keys().find(|c| self.dir(c).is_none()) {
            return Err(Error::Usage {
                flag: "--cgroup",
                msg: format!("unknown controller {c} in SubCgroupPaths"),
            });
        }
        if self.v2 && !sub.per_controller.is_empty() {
            return Err(Error::Usage {
                flag: "--cgroup",
                msg: "invalid --cgroup argument: a <controller>: prefix needs cgroup v1".into(),
            });
        }
        for (controller, dir) in &self.dirs {
            let rel = sub.per_controller.get(controller).or(sub.all.as_ref());
            let dir = match rel {
                Some(rel) => dir.join(rel),
                None => dir.clone(),
            };
            let p = dir.join("cgroup.procs");
            fs::write(&p, pid.to_string()).map_err(|source| Error::CgroupWrite {
                path: p.clone(),
                value: pid.to_string(),
                source,
            })?;
        }
        Ok(())
    }

    pub fn apply(&self, r: &Resources) -> Result<()> {
        if let Some(m) = &r.memory {
            if let Some(limit) = m.limit.filter(|l| *l != 0) {
                if self.v2 {
                    self.write("memory", "memory.max", &v2_max(limit))?;
                } else {
                    // The swap limit may not go below the memory limit: order matters.
                    let _ = self.write("memory", "memory.memsw.limit_in_bytes", "-1");
                    self.write("memory", "memory.limit_in_bytes", &limit.to_string())?;
                }
            }
            if let Some(r) = m.reservation.filter(|r| *r != 0) {
                if self.v2 {
                    self.write("memory", "memory.low", &v2_max(r))?;
                } else {
                    self.write("memory", "memory.soft_limit_in_bytes", &r.to_string())?;
                }
            }
            if let Some(swap) = m.swap.filter(|s| *s != 0) {
                if self.v2 {
                    let limit = m.limit.unwrap_or(0);
                    let swap_only = if swap < 0 || limit <= 0 {
                        -1
                    } else {
                        (swap - limit).max(0)
                    };
                    let _ = self.write("memory", "memory.swap.max", &v2_max(swap_only));
                } else if self
                    .dir("memory")
                    .is_some_and(|d| d.join("memory.memsw.limit_in_bytes").exists())
                {
                    self.write("memory", "memory.memsw.limit_in_bytes", &swap.to_string())?;
                }
            }
        }
        if let Some(m) = &r.memory {
            // cgroup v2 has neither knob; runc leaves them alone there too.
            if !self.v2 {
                if let Some(sw) = m.swappiness {
                    if sw > 100 {
                        return Err(Error::Spec {
                            field: "linux.resources.memory.swappiness",
                            msg: format!(
                                "invalid value:{sw}. valid memory swappiness range is 0-100"
                            ),
                        });
                    }
                    self.write("memory", "memory.swappiness", &sw.to_string())?;
                }
                if m.disable_oom_killer == Some(true) {
                    self.write("memory", "memory.oom_control", "1")?;
                }
            }
        }
        if let Some(c) = &r.cpu {
            if self.v2 {
                if let Some(q) = c.quota.filter(|q| *q != 0) {
                    let period = c.period.filter(|p| *p != 0).unwrap_or(100_000);
                    self.write("cpu", "cpu.max", &format!("{} {period}", v2_max(q)))?;
                }
                if let Some(s) = c.shares.filter(|s| *s != 0) {
                    // runc's conversion of shares (2..262144) to weight (1..10000).
                    let weight = 1 + ((s.clamp(2, 262_144) - 2) * 9999) / 262_142;
                    self.write("cpu", "cpu.weight", &weight.to_string())?;
                }
                if c.realtime_runtime.is_some_and(|r| r != 0)
                    || c.realtime_period.is_some_and(|p| p != 0)
                {
                    return Err(Error::Spec {
                        field: "linux.resources.cpu.realtimeRuntime",
                        msg: "realtime scheduling is not supported on cgroup v2".into(),
                    });
                }
            } else {
                // As runc: a shorter period may be refused (EINVAL) while
                // the old quota over it exceeds a parent's quota; then the
                // quota goes first and the period after it.
                let quota = c.quota.filter(|q| *q != 0);
                let mut period_later = None;
                if let Some(p) = c.period.filter(|p| *p != 0) {
                    match self.write("cpu", "cpu.cfs_period_us", &p.to_string()) {
                        Err(Error::CgroupWrite { source, .. })
                            if source.raw_os_error() == Some(libc::EINVAL) && quota.is_some() =>
                        {
                            period_later = Some(p);
                        }
                        r => r?,
                    }
                }
                if let Some(q) = quota {
                    self.write("cpu", "cpu.cfs_quota_us", &q.to_string())?;
                    if let Some(p) = period_later {
                        self.write("cpu", "cpu.cfs_period_us", &p.to_string())?;
                    }
                }
                if let Some(p) = c.realtime_period.filter(|p| *p != 0) {
                    self.write("cpu", "cpu.rt_period_us", &p.to_string())?;
                }
                if let Some(r) = c.realtime_runtime.filter(|r| *r != 0) {
                    self.write("cpu", "cpu.rt_runtime_us", &r.to_string())?;
                }
                if let Some(s) = c.shares.filter(|s| *s != 0) {
                    self.write("cpu", "cpu.shares", &s.to_string())?;
                }
            }
            if let Some(cpus) = c.cpus.as_deref().filter(|s| !s.is_empty()) {
                self.write("cpuset", "cpuset.cpus", cpus)?;
            }
            if let Some(mems) = c.mems.as_deref().filter(|s| !s.is_empty()) {
                self.write("cpuset", "cpuset.mems", mems)?;
            }
        }
        if let Some(limit) = r.pids.as_ref().and_then(|p| p.limit).filter(|l| *l != 0) {
            self.write("pids", "pids.max", &v2_max(limit))?;
        }
        if let Some(w) = r
            .block_io
            .as_ref()
            .and_then(|b| b.weight)
            .filter(|w| *w != 0)
        {
            // BFQ's file where the host has it, as runc picks.
            let bfq = if self.v2 {
                "io.bfq.weight"
            } else {
                "blkio.bfq.weight"
            };
            let has_bfq = self.dir("blkio").is_some_and(|d| d.join(bfq).exists());
            if has_bfq {
                self.write("blkio", bfq, &w.to_string())?;
            } else if self.v2 {
                // runc's conversion of blkio weight (10..1000) to io.weight (1..10000).
                let weight = 1 + (u64::from(w).saturating_sub(10) * 9999) / 990;
                self.write("blkio", "io.weight", &format!("default {weight}"))?;
            } else {
                self.write("blkio", "blkio.weight", &w.to_string())?;
            }
        }
        if let Some(u) = r.unified.as_ref().filter(|u| !u.is_empty()) {
            if !self.v2 {
                return Err(Error::Spec {
                    field: "linux.resources.unified",
                    msg: "cgroup v2 is not enabled on this host, can't use unified".into(),
                });
            }
            for (file, value) in u {
                if file.contains('/') || file.starts_with('.') {
                    return Err(Error::Spec {
                        field: "linux.resources.unified",
                        msg: format!("{file:?} is not a file of the container's cgroup"),
                    });
                }
                self.write("unified", file, value)?;
            }
        }
        Ok(())
    }

    /// Freezes (or thaws) every process of the cgroup and waits until done.
    pub fn freeze(&self, frozen: bool) -> Result<()> {
        let (file, value) = if self.v2 {
            ("cgroup.freeze", if frozen { "1" } else { "0" })
        } else {
            ("freezer.state", if frozen { "FROZEN" } else { "THAWED" })
        };
        if self.dir("freezer").is_none() {
            return Err(Error::NoFreezer);
        }
        self.write("freezer", file, value)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.is_frozen() == frozen {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(Error::FreezeTimeout(value))
    }

    pub fn is_frozen(&self) -> bool {
        let Some(dir) = self.dir("freezer") else {
            return false;
        };
        if self.v2 {
            fs::read_to_string(dir.join("cgroup.events"))
                .map(|s| s.lines().any(|l| l == "frozen 1"))
                .unwrap_or(false)
        } else {
            fs::read_to_string(dir.join("freezer.state"))
                .map(|s| s.trim() == "FROZEN")
                .unwrap_or(false)
        }
    }

    /// Host pids of the cgroup's processes.
    pub fn pids(&self) -> Vec<i32> {
        let Some((_, dir)) = self
            .dirs
            .iter()
            .find(|(c, _)| c == "pids" || c == "unified")
            .or(self.dirs.first())
        else {
            return vec![];
        };
        fs::read_to_string(dir.join("cgroup.procs"))
            .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    fn read(&self, controller: &str, file: &str) -> Option<u64> {
        fs::read_to_string(self.dir(controller)?.join(file))
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// `events --stats` data, in runc's shape (the common fields).
    pub fn stats(&self) -> serde_json::Value {
        let (usage, limit, max) = if self.v2 {
            (
                self.read("memory", "memory.current"),
                self.read("memory", "memory.max"),
                self.read("memory", "memory.peak"),
            )
        } else {
            (
                self.read("memory", "memory.usage_in_bytes"),
                self.read("memory", "memory.limit_in_bytes"),
                self.read("memory", "memory.max_usage_in_bytes"),
            )
        };
        let cpu_total = if self.v2 {
            self.dir("cpu")
                .and_then(|d| fs::read_to_string(d.join("cpu.stat")).ok())
                .and_then(|s| {
                    s.lines().find_map(|l| {
                        l.strip_prefix("usage_usec ")
                            .and_then(|v| v.trim().parse::<u64>().ok())
                    })
                })
                .map(|us| us * 1000)
        } else {
            self.read("cpuacct", "cpuacct.usage")
        };
        serde_json::json!({
            "cpu": {"usage": {"total": cpu_total.unwrap_or(0)}},
            "memory": {"usage": {"usage": usage.unwrap_or(0), "limit": limit.unwrap_or(0), "max": max.unwrap_or(0)}},
            "pids": {"current": self.read("pids", "pids.current").unwrap_or(0), "limit": self.read("pids", "pids.max").unwrap_or(0)},
        })
    }

    /// Removes the directories (after the processes are gone).
    /// Removes the cgroup's directories once, without waiting for them to
    /// empty; those still holding processes stay. True when all are gone.
    pub fn remove_if_empty(&self) -> bool {
        self.dirs
            .iter()
            .all(|(_, dir)| fs::remove_dir(dir).is_ok() || !dir.exists())
    }

    pub fn destroy(&self) {
        for (_, dir) in &self.dirs {
            let deadline = Instant::now() + Duration::from_secs(5);
            while remove_tree(dir).is_err() && dir.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// A container's OOM notifications, as runc's NotifyOOM: on cgroup v1 an
/// eventfd registered for memory.oom_control through
/// cgroup.event_control, on v2 memory.events' `oom_kill` count, watched
/// with inotify.
pub enum OomWatch {
    V1 {
        efd: nix::sys::eventfd::EventFd,
        _control: fs::File,
        dir: PathBuf,
    },
    V2 {
        inotify: nix::sys::inotify::Inotify,
        events: PathBuf,
        seen: u64,
    },
    /// No memory cgroup, or it is gone: nothing more will come.
    Done,
}

impl Cgroup {
    /// Starts watching the memory cgroup for OOM kills.
    pub fn watch_oom(&self) -> Result<OomWatch> {
        use std::os::fd::{AsFd, AsRawFd};
        let Some(dir) = self.dir("memory").map(Path::to_path_buf) else {
            return Ok(OomWatch::Done);
        };
        if self.v2 {
            let events = dir.join("memory.events");
            let inotify =
                nix::sys::inotify::Inotify::init(nix::sys::inotify::InitFlags::IN_CLOEXEC)
                    .map_err(Error::sys("inotify_init"))?;
            inotify
                .add_watch(&events, nix::sys::inotify::AddWatchFlags::IN_MODIFY)
                .map_err(Error::sys("watch memory.events"))?;
            let seen = oom_kills(&events);
            return Ok(OomWatch::V2 {
                inotify,
                events,
                seen,
            });
        }
        let control_path = dir.join("memory.oom_control");
        let control = fs::File::open(&control_path).map_err(Error::io("open", &control_path))?;
        let efd = nix::sys::eventfd::EventFd::from_flags(nix::sys::eventfd::EfdFlags::EFD_CLOEXEC)
            .map_err(Error::sys("eventfd"))?;
        let registration = format!("{} {}", efd.as_fd().as_raw_fd(), control.as_raw_fd());
        self.write("memory", "cgroup.event_control", &registration)?;
        Ok(OomWatch::V1 {
            efd,
            _control: control,
            dir,
        })
    }
}

/// The `oom_kill` count of a v2 memory.events file (0 if unreadable).
fn oom_kills(events: &Path) -> u64 {
    fs::read_to_string(events)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

impl OomWatch {
    /// Waits up to `timeout` for OOM kills; returns how many were seen.
    /// Once the cgroup is gone it returns 0 at once, as after the timeout.
    pub fn wait(&mut self, timeout: Duration) -> u64 {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use std::os::fd::AsFd;
        let ms = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        match self {
            OomWatch::Done => {
                std::thread::sleep(timeout);
                0
            }
            OomWatch::V1 { efd, dir, .. } => {
                let mut fds = [PollFd::new(efd.as_fd(), PollFlags::POLLIN)];
                if !matches!(poll(&mut fds, ms), Ok(n) if n > 0) {
                    return 0;
                }
                let n = efd.read().unwrap_or(0);
                // The eventfd also fires when the cgroup is removed.
                if !dir.join("cgroup.event_control").exists() {
                    *self = OomWatch::Done;
                    return 0;
                }
                n
            }
            OomWatch::V2 {
                inotify,
                events,
                seen,
            } => {
                let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
                if !matches!(poll(&mut fds, ms), Ok(n) if n > 0) {
                    return 0;
                }
                let _ = inotify.read_events();
                if !events.exists() {
                    *self = OomWatch::Done;
                    return 0;
                }
                let now = oom_kills(events);
                let new = now.saturating_sub(*seen);
                *seen = now.max(*seen);
                new
            }
        }
    }
}

/// Removes a cgroup directory and the sub-cgroups made in it (`exec
/// --cgroup` joins ones the caller made), deepest first, as runc's
/// RemovePath: a cgroup directory holds only control files, which go
/// with it, and child cgroups.
fn remove_tree(dir: &Path) -> std::io::Result<()> {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&e.path())?;
            }
        }
    }
    fs::remove_dir(dir)
}

fn v2_max(v: i64) -> String {
    if v < 0 {
        "max".into()
    } else {
        v.to_string()
    }
}

/// cpuset cgroups start empty and refuse tasks until cpus and mems are set:
/// copy them down from the nearest configured ancestor.
fn inherit_cpuset(dir: &Path) -> Result<()> {
    let mut chain = vec![dir.to_path_buf()];
    let mut cur = dir.parent();
    while let Some(p) = cur {
        if !p.starts_with(Path::new(ROOT).join("cpuset")) {
            break;
        }
        chain.push(p.to_path_buf());
        cur = p.parent();
    }
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let mut value = String::new();
        for d in chain.iter().rev() {
            let current = fs::read_to_string(d.join(file)).unwrap_or_default();
            if current.trim().is_empty() {
                fs::write(d.join(file), &value).map_err(Error::io("set cpuset", d.join(file)))?;
            } else {
                value = current.trim().to_string();
            }
        }
    }
    Ok(())
}

fn enable_v2_controllers(dir: &Path) {
    let available =
        fs::read_to_string(Path::new(ROOT).join("cgroup.controllers")).unwrap_or_default();
    let wanted: String = available
        .split_whitespace()
        .filter(|c| matches!(*c, "memory" | "cpu" | "cpuset" | "pids" | "io"))
        .map(|c| format!("+{c} "))
        .collect();
    let mut p = PathBuf::from(ROOT);
    for comp in dir
        .strip_prefix(ROOT)
        .map(|r| r.components().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let _ = fs::write(p.join("cgroup.subtree_control"), wanted.trim());
        p.push(comp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_cgroups_parse_as_runc() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = SubCgroups::parse(&args(&["sub/x"])).expect("one path");
        assert_eq!(all.all, Some(PathBuf::from("sub/x")));
        let per = SubCgroups::parse(&args(&["cpu,memory:a", "pids:/b"])).expect("per controller");
        assert_eq!(per.per_controller.get("memory"), Some(&PathBuf::from("a")));
        assert_eq!(per.per_controller.get("pids"), Some(&PathBuf::from("b")));
        assert!(per.all.is_none());
        for (bad, msg) in [
            (&["a:b:c"][..], "invalid --cgroup argument: a:b:c"),
            (&["x", "cpu:y"][..], "missing <controller>: prefix"),
            (&[":y"][..], "empty <controller> prefix"),
            (&["cpu:../.."][..], "is not a sub cgroup path"),
        ] {
            let e = SubCgroups::parse(&args(bad)).unwrap_err().to_string();
            assert!(e.contains(msg), "{bad:?}: {e}");
        }
    }

    #[test]
    fn cgroups_paths_as_runc_reads_them() {
        assert_eq!(
            relative_path(Some("/docker/abc"), "abc", false).expect("path"),
            "/docker/abc"
        );
        assert_eq!(relative_path(None, "c1", false).expect("path"), "/runrs/c1");
        assert_eq!(
            relative_path(Some("rel/x"), "c1", false).expect("path"),
            "/rel/x"
        );
        assert_eq!(
            relative_path(Some("system.slice:docker:abc"), "abc", true).expect("path"),
            "/system.slice/docker-abc.scope"
        );
        assert!(relative_path(Some("/a/../../etc"), "c", false).is_err());
    }

    #[test]
    fn resources_parse_docker_update_json() {
        let r: Resources = serde_json::from_str(
            r#"{"memory":{"limit":67108864,"reservation":0,"swap":134217728,"kernel":0},"cpu":{"shares":0,"quota":50000,"period":100000},"pids":{"limit":50},"blockIO":{"weight":0}}"#,
        )
        .expect("parse");
        assert_eq!(r.memory.and_then(|m| m.limit), Some(67_108_864));
        assert_eq!(r.pids.and_then(|p| p.limit), Some(50));
        assert_eq!(r.cpu.and_then(|c| c.quota), Some(50_000));
    }
}
