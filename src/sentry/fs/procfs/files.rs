//! The file generators of the synthetic /proc: the text of each file (per
//! task: stat, status, cgroup, fdinfo, the mount tables; top level:
//! cpuinfo, meminfo, stat, uptime, loadavg, ...), rendered
//! from what `hostproc` reads of the host and the sentry's own state. The
//! resolver (`super`) decides which node a path names and who may open it.

use super::*;

impl ProcFs {
    /// Container pid of a host pid, 0 when outside the container (or <= 0).
    pub(super) fn translate(&self, host_pid: i32) -> i32 {
        if host_pid <= 0 {
            return 0;
        }
        self.host.container_pid(host_pid).unwrap_or(0)
    }

    /// The parent's pid as the task's pid namespace numbers it: 0 for
    /// the namespace's init (its parent is outside, or there is none),
    /// without looking the host parent up (which the sentry may not even
    /// see: each read of init's stat would ask again).
    pub(super) fn ppid_of(&self, t: &Task, host_ppid: i32) -> i32 {
        if t.ctgid == 1 {
            return 0;
        }
        self.translate(host_ppid)
    }

    pub(super) fn elapsed(&self) -> f64 {
        SystemTime::now()
            .duration_since(self.config.start_time)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    }

    /// Host boot -> sandbox start, in clock ticks (to rebase stat starttime).
    pub(super) fn start_offset_ticks(&self) -> u64 {
        let host_up = self.host.uptime_secs().unwrap_or(0.0);
        let off = (host_up - self.elapsed()).max(0.0);
        (off * USER_HZ) as u64
    }

    pub(super) fn pid_file(&self, t: &Task, name: &str) -> Result<Vec<u8>, Errno> {
        match name {
            "stat" => self.pid_stat(t),
            "status" => self.pid_status(t),
            "cmdline" => self.host.cmdline(t.htid),
            "comm" => self.host.comm(t.htid),
            "limits" => self.host.limits(t.htid),
            // Read through a real fd (`real_file`); stat shows size 0.
            "mem" | "environ" | "auxv" | "io" | "personality" => Ok(Vec::new()),
            // Paths as the container names them: the kernel renders each
            // mapped file's path from its own mount namespace's root.
            "maps" | "smaps" | "smaps_rollup" => self.host.read_file(t.htid, name),
            // Numbers and names with no pid or path in them, as the host
            // has them for this task (its namespaces' maps, its I/O
            // scheduling counters...).
            "arch_status" | "coredump_filter" | "gid_map" | "loginuid" | "oom_score"
            | "schedstat" | "sessionid" | "setgroups" | "uid_map" | "wchan" => {
                self.host.read_file(t.htid, name)
            }
            // Page counts only (no pids or paths): ps and top read it.
            "statm" => self.host.read_file(t.htid, "statm"),
            "mounts" => Ok(self.mounts_text().into_bytes()),
            "mountinfo" => Ok(self.mountinfo_text().into_bytes()),
            "cgroup" => self.cgroup_text(t.htid),
            "oom_score_adj" => self.host.read_file(t.htid, "oom_score_adj"),
            "children" => self.children(t),
            _ => Err(Errno::ENOENT),
        }
    }

    /// task/<tid>/children: the container pids of the thread's children
    /// ("1 2 "), from the host's list.
    fn children(&self, t: &Task) -> Result<Vec<u8>, Errno> {
        let host = self
            .host
            .read_file(t.htid, &format!("task/{}/children", t.htid))?;
        let mut out = String::new();
        for h in String::from_utf8_lossy(&host).split_whitespace() {
            if let Some(c) = h.parse().ok().and_then(|h| self.host.container_pid(h)) {
                out.push_str(&format!("{c} "));
            }
        }
        Ok(out.into_bytes())
    }

    /// The task's cgroup memberships (every hierarchy, v1 and v2), as
    /// the host kernel has them, relative to the container's cgroup
    /// namespace when it has one.
    pub(super) fn cgroup_text(&self, htid: i32) -> Result<Vec<u8>, Errno> {
        let host = self.host.read_file(htid, "cgroup")?;
        let Some(roots) = &self.config.cgroup_ns_roots else {
            return Ok(host);
        };
        Ok(cgroup_relative(&String::from_utf8_lossy(&host), roots).into_bytes())
    }

    pub(super) fn pid_stat(&self, t: &Task) -> Result<Vec<u8>, Errno> {
        let mut st = self.host.stat(t.htid)?;
        st.pid = t.ctid;
        // The workload cannot trace (ptrace is denied): a tracing stop is
        // the sandbox's (a group-stop held by the ptrace platform's tracer)
        // and shows as the stop it is.
        if st.state == 't' {
            st.state = 'T';
            st.set_field(3, "T".into());
        }
        let ppid = self.ppid_of(t, st.ppid);
        st.set_field(4, ppid.to_string());
        let pgrp = self.translate(st.pgrp);
        st.set_field(5, pgrp.to_string());
        let session = self.translate(st.session);
        st.set_field(6, session.to_string());
        if st.tpgid > 0 {
            let tpgid = self.translate(st.tpgid);
            st.set_field(8, tpgid.to_string());
        }
        let start = st.starttime.saturating_sub(self.start_offset_ticks());
        st.set_field(22, start.to_string());
        Ok(st.render())
    }

    pub(super) fn pid_status(&self, t: &Task) -> Result<Vec<u8>, Errno> {
        let st = self.host.status(t.htid)?;
        let c = &self.config;
        // The kernel's ids, through the user namespace's mappings.
        let ids = |v: &str, map: &crate::sentry::cred::IdMap| -> String {
            v.split_whitespace()
                .map(|x| {
                    x.parse()
                        .map_or(OVERFLOW, |id| map.to_container(id))
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join("\t")
        };
        let last = |v: &str| v.split_whitespace().last().unwrap_or("0").to_owned();
        let mut out = String::new();
        for (k, v) in &st.entries {
            let v = match k.as_str() {
                "Tgid" | "NStgid" => t.ctgid.to_string(),
                "Pid" | "NSpid" => t.ctid.to_string(),
                "Ngid" | "TracerPid" => "0".to_owned(),
                // As in pid_stat: the sandbox's tracing stop is a stop.
                "State" if v.starts_with('t') => "T (stopped)".to_owned(),
                "PPid" => self.ppid_of(t, v.trim().parse().unwrap_or(0)).to_string(),
                // The innermost value is the one in the task's (= container's) ns.
                "NSpgid" | "NSsid" => last(v),
                "Uid" => ids(v, &c.uid_map),
                "Gid" => ids(v, &c.gid_map),
                // The kernel ends the list with a space, also an empty one.
                "Groups" => {
                    let list = ids(v, &c.gid_map).replace('\t', " ");
                    format!("{list} ")
                }
                "Seccomp" if c.spec_seccomp => "2".to_owned(),
                "Seccomp_filters" if c.spec_seccomp => "1".to_owned(),
                "Seccomp" | "Seccomp_filters" => "0".to_owned(),
                _ => v.clone(),
            };
            out.push_str(k);
            out.push_str(":\t");
            out.push_str(&v);
            out.push('\n');
        }
        Ok(out.into_bytes())
    }

    pub(super) fn fdinfo(&self, t: &Task, fd: i32) -> Result<Vec<u8>, Errno> {
        let text = self.host.fdinfo(t.htid, fd)?;
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            match line.strip_prefix("mnt_id:") {
                Some(v) => {
                    let id = v
                        .trim()
                        .parse::<u64>()
                        .ok()
                        .and_then(|host_id| self.host.mount_point_of(t.htid, host_id))
                        .map_or(1, |mp| self.mount_id_for(&mp));
                    out.push_str(&format!("mnt_id:\t{id}\n"));
                }
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        Ok(out.into_bytes())
    }

    /// Our mount id of the sandbox mount at (or, failing that, containing) `mp`.
    pub(super) fn mount_id_for(&self, mp: &str) -> usize {
        let mounts = &self.config.mounts;
        if let Some(i) = mounts.iter().rposition(|m| m.target == mp) {
            return i + 1;
        }
        mounts
            .iter()
            .enumerate()
            .filter(|(_, m)| path_has_prefix(mp, &m.target))
            .max_by_key(|(i, m)| (m.target.trim_end_matches('/').len(), *i))
            .map_or(1, |(i, _)| i + 1)
    }

    pub(super) fn mounts_text(&self) -> String {
        let mut out = String::new();
        for m in self.shown_mounts() {
            // As show_vfsmnt: ro if the mount or its file system is, the
            // mount's flags, then the file system's own options.
            let (mnt, sb) = (mount_text(m), super_text(m));
            let ro = mnt.starts_with("ro") || sb.split(',').next() == Some("ro");
            let words: Vec<&str> = mnt
                .split(',')
                .skip(1)
                .chain(sb.split(',').filter(|o| !matches!(*o, "ro" | "rw")))
                .collect();
            out.push_str(&format!(
                "{} {} {} {} 0 0\n",
                escape_mount_field(&m.source),
                escape_mount_field(&m.target),
                escape_mount_field(&m.fstype),
                opts_string(ro, &words)
            ));
        }
        out
    }

    /// mountinfo: ids are 1-based positions in the table; a mount's parent is
    /// the latest earlier mount whose target contains it (the root: itself).
    pub(super) fn mountinfo_text(&self) -> String {
        let mounts = self.shown_mounts();
        let mut out = String::new();
        for (i, m) in mounts.iter().enumerate() {
            let id = i + 1;
            let parent = mounts[..i]
                .iter()
                .rposition(|p| path_has_prefix(&m.target, &p.target))
                .map_or(id, |j| j + 1);
            out.push_str(&format!(
                "{id} {parent} 0:{id} / {} {} - {} {} {}\n",
                escape_mount_field(&m.target),
                mount_text(m),
                escape_mount_field(&m.fstype),
                escape_mount_field(&m.source),
                super_text(m)
            ));
        }
        out
    }

    /// CPUs the caller may run on (empty = unknown).
    pub(super) fn caller_cpus(&self, caller: i32) -> BTreeSet<u32> {
        self.host
            .status(caller)
            .ok()
            .and_then(|s| s.get("Cpus_allowed_list").map(hostproc::parse_cpu_list))
            .unwrap_or_default()
    }

    /// The container's highest pid in use: what loadavg and
    /// kernel/ns_last_pid show for the last pid the namespace handed out.
    pub(super) fn last_pid(&self) -> i32 {
        self.host
            .list_container_pids()
            .into_iter()
            .map(|(c, _)| c)
            .max()
            .unwrap_or(0)
    }

    /// (container pid, stat) of each container process.
    pub(super) fn container_stats(&self) -> Vec<(i32, hostproc::ProcStat)> {
        self.host
            .list_container_pids()
            .into_iter()
            .filter_map(|(c, h)| Some((c, self.host.stat(h).ok()?)))
            .collect()
    }

    pub(super) fn top_file(&self, caller: i32, name: &str) -> Result<Vec<u8>, Errno> {
        match name {
            "cpuinfo" => self.cpuinfo(caller),
            "meminfo" => self.meminfo(),
            "stat" => self.stat(caller),
            "uptime" => Ok(format!("{:.2} 0.00\n", self.elapsed()).into_bytes()),
            // The container's own task counts and last pid; the load
            // averages stay 0.00, as gVisor shows them: the host's would
            // tell a tenant how busy the others keep the machine.
            "loadavg" => {
                let stats = self.container_stats();
                let running = stats.iter().filter(|(_, s)| s.state == 'R').count().max(1);
                let threads: i64 = stats.iter().map(|(_, s)| s.num_threads.max(1)).sum();
                // The highest pid in use (as `last_pid`, from this one listing).
                let last = stats.iter().map(|&(c, _)| c).max().unwrap_or(0);
                Ok(format!("0.00 0.00 0.00 {running}/{threads} {last}\n").into_bytes())
            }
            // No swap is visible in the sandbox (meminfo says SwapTotal 0 too).
            "swaps" => Ok(b"Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n".to_vec()),
            // Memory event counters only (no paths or pids): vmstat(8)
            // refuses to run without it.
            "vmstat" => self.host.read_global("vmstat"),
            // The kernel's controllers (names, hierarchy ids, enabled):
            // what cgroup tools and runtimes probe for v1 support. The
            // host-wide cgroup counts are shown as 1, as loadavg hides
            // the host's load.
            "cgroups" => Ok(cgroups_text(&self.host.read_global("cgroups")?)),
            "version" => {
                let rel = self.osrelease();
                let ver = self
                    .host
                    .read_global("sys/kernel/version")
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
                    .unwrap_or_else(|| "#1 SMP".to_owned());
                Ok(format!("Linux version {rel} (runrs@runrs) (runrs) {ver}\n").into_bytes())
            }
            "filesystems" => Ok(FILESYSTEMS.as_bytes().to_vec()),
            _ => Err(Errno::ENOENT),
        }
    }

    pub(super) fn osrelease(&self) -> String {
        self.host
            .read_global("sys/kernel/osrelease")
            .ok()
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "4.4.0".to_owned())
    }

    pub(super) fn cpuinfo(&self, caller: i32) -> Result<Vec<u8>, Errno> {
        let host = self.host.read_global("cpuinfo")?;
        let text = String::from_utf8_lossy(&host);
        let allowed = self.caller_cpus(caller);
        if allowed.is_empty() {
            return Ok(host);
        }
        let mut out = String::new();
        for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
            let cpu = block.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                if k.trim() == "processor" {
                    v.trim().parse::<u32>().ok()
                } else {
                    None
                }
            });
            if cpu.is_none_or(|c| allowed.contains(&c)) {
                out.push_str(block.trim_matches('\n'));
                out.push_str("\n\n");
            }
        }
        if out.is_empty() {
            return Ok(host);
        }
        Ok(out.into_bytes())
    }

    pub(super) fn meminfo(&self) -> Result<Vec<u8>, Errno> {
        let host = self.host.read_global("meminfo")?;
        let text = String::from_utf8_lossy(&host);
        let get = |key: &str| -> u64 {
            text.lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    if k == key {
                        v.split_whitespace().next()?.parse().ok()
                    } else {
                        None
                    }
                })
                .unwrap_or(0)
        };
        let host_total = get("MemTotal");
        let total = match self.config.memory_limit {
            Some(l) if host_total > 0 => host_total.min(l / 1024),
            Some(l) => l / 1024,
            None => host_total,
        };
        // Container usage: resident memory of its processes.
        let used: u64 = self
            .host
            .list_container_pids()
            .into_iter()
            .filter_map(|(_, h)| self.host.status(h).ok()?.kb("VmRSS"))
            .sum::<u64>()
            .min(total);
        let room = total - used;
        let free = get("MemFree").min(room);
        let avail = get("MemAvailable").min(room).max(free);
        let lines: &[(&str, u64)] = &[
            ("MemTotal", total),
            ("MemFree", free),
            ("MemAvailable", avail),
            ("Buffers", 0),
            ("Cached", 0),
            ("SwapCached", 0),
            ("Active", used),
            ("Inactive", 0),
            ("Active(anon)", used),
            ("Inactive(anon)", 0),
            ("Active(file)", 0),
            ("Inactive(file)", 0),
            ("Unevictable", 0),
            ("Mlocked", 0),
            ("SwapTotal", 0),
            ("SwapFree", 0),
            ("Dirty", 0),
            ("Writeback", 0),
            ("AnonPages", used),
            ("Mapped", 0),
            ("Shmem", 0),
        ];
        let mut out = String::new();
        for (k, v) in lines {
            out.push_str(&format!("{:<16}{:>8} kB\n", format!("{k}:"), v));
        }
        Ok(out.into_bytes())
    }

    pub(super) fn stat(&self, caller: i32) -> Result<Vec<u8>, Errno> {
        let host = self.host.read_global("stat")?;
        let text = String::from_utf8_lossy(&host);
        let allowed = self.caller_cpus(caller);
        let mut agg_host: Option<String> = None;
        let mut cpus: Vec<(u32, Vec<u64>, &str)> = Vec::new();
        for line in text.lines() {
            let mut f = line.split_whitespace();
            let Some(name) = f.next() else { continue };
            if name == "cpu" {
                agg_host = Some(line.to_owned());
            } else if let Some(n) = name
                .strip_prefix("cpu")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| allowed.is_empty() || allowed.contains(n))
            {
                cpus.push((n, f.filter_map(|x| x.parse().ok()).collect(), line));
            }
        }
        let mut out = String::new();
        if cpus.is_empty() {
            if let Some(a) = agg_host {
                out.push_str(&a);
                out.push('\n');
            }
        } else {
            let width = cpus.iter().map(|(_, v, _)| v.len()).max().unwrap_or(0);
            let mut sum = vec![0u64; width];
            for (_, v, _) in &cpus {
                for (s, x) in sum.iter_mut().zip(v) {
                    *s = s.saturating_add(*x);
                }
            }
            out.push_str("cpu ");
            for x in &sum {
                out.push_str(&format!(" {x}"));
            }
            out.push('\n');
            for (_, _, line) in &cpus {
                out.push_str(line);
                out.push('\n');
            }
        }
        let stats = self.container_stats();
        let threads: i64 = stats.iter().map(|(_, s)| s.num_threads.max(1)).sum();
        let running = stats.iter().filter(|(_, s)| s.state == 'R').count().max(1);
        let blocked = stats.iter().filter(|(_, s)| s.state == 'D').count();
        let btime = self
            .config
            .start_time
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        out.push_str(&format!(
            "intr 0\nctxt 0\nbtime {btime}\nprocesses {threads}\nprocs_running {running}\nprocs_blocked {blocked}\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"
        ));
        Ok(out.into_bytes())
    }
}

/// A stat line as Linux shows it to a reader without ptrace read access
/// (`do_task_stat` with `permitted` false): startcode and endcode read 1
/// (0 without an address space), startstack, kstkesp and kstkeip 0, the
/// data, brk, argument and environment bounds 0, and the exit code 0.
pub(super) fn hide_stat_addresses(line: &[u8]) -> Vec<u8> {
    let Some(mut st) = hostproc::parse_stat(line) else {
        return line.to_vec();
    };
    for n in [26, 27] {
        if st.field(n).is_some_and(|v| v != "0") {
            st.set_field(n, "1".to_owned());
        }
    }
    for n in [28, 29, 30, 45, 46, 47, 48, 49, 50, 51, 52] {
        st.set_field(n, "0".to_owned());
    }
    st.render()
}

/// Rewrites the state of a stat line or a status file to running.
pub(super) fn show_running(content: Vec<u8>, name: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(&content);
    if name == "status" {
        return text
            .lines()
            .map(|l| {
                if l.starts_with("State:") {
                    "State:\tR (running)".to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
            .into_iter()
            .chain(std::iter::once(b'\n'))
            .collect();
    }
    match text.rfind(')') {
        Some(i) if text.len() > i + 2 => {
            let mut out = text[..i + 2].to_string();
            out.push('R');
            out.push_str(&text[i + 3..]);
            out.into_bytes()
        }
        _ => content,
    }
}

/// /proc/cgroups with each controller's num_cgroups (the third column)
/// shown as 1.
fn cgroups_text(host: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for line in String::from_utf8_lossy(host).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if line.starts_with('#') || f.len() != 4 {
            out.push_str(line);
        } else {
            out.push_str(&format!("{}\t{}\t1\t{}", f[0], f[1], f[3]));
        }
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn cgroups_hides_the_host_counts() {
        let host = b"#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t87\t1\nodd line\n";
        assert_eq!(
            String::from_utf8(super::cgroups_text(host)).unwrap(),
            "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\nodd line\n"
        );
    }
}
