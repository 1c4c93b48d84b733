//! The front end's side of observation: what create records for the
//! sentry (`observe.json`), lifecycle events in the audit trail, and the
//! per-container figures `runrs metrics` and `runrs metrics-server` show
//! (the sentry's counters file, the sentry's and gofer's /proc, the
//! container's cgroup). See docs/OBSERVABILITY.md.

use std::collections::BTreeMap;
use std::path::Path;

use super::cgroups::Cgroup;
use super::cli::GlobalOpts;
use super::error::{Error, Result};
use super::state::{ProcId, State, StateDir, Status};
use crate::metrics::{audit, shm};

/// Records create's observation flags for the sentry and later commands.
pub fn save_config(g: &GlobalOpts, dir: &StateDir) -> Result<()> {
    let cfg = audit::Config {
        metrics: !g.no_metrics,
        audit_log: g.audit_log.clone(),
    };
    cfg.save(&dir.path)
        .map_err(Error::io("write", dir.file(audit::CONFIG_FILE)))
}

/// A lifecycle event in the container's audit trail; a failure to write
/// it is logged, never the command's failure.
pub fn record(dir: &StateDir, id: &str, event: &str, data: serde_json::Value) {
    if let Err(e) = audit::lifecycle(&dir.path, id, event, data) {
        crate::log::warn(&format!("audit trail of {id}: {event}: {e}"));
    }
}

/// [`record`] for container `id` under `--root`.
pub fn record_id(g: &GlobalOpts, id: &str, event: &str, data: serde_json::Value) {
    record(&StateDir::new(&g.root, id), id, event, data);
}

/// The labels every series of a container carries: its id, and the
/// Kubernetes names from the CRI annotations when there are some
/// (containerd's `io.kubernetes.cri.*`, CRI-O's `io.kubernetes.pod.*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels {
    pub container: String,
    /// The pod sandbox's id (the container's own id outside Kubernetes).
    pub sandbox: String,
    pub pod: String,
    pub namespace: String,
}

impl Labels {
    pub fn of(id: &str, annotations: &BTreeMap<String, String>) -> Labels {
        let get = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| annotations.get(*k))
                .cloned()
                .unwrap_or_default()
        };
        let sandbox = get(&[
            "io.kubernetes.cri.sandbox-id",
            "io.kubernetes.cri-o.SandboxID",
        ]);
        Labels {
            container: id.to_string(),
            sandbox: if sandbox.is_empty() {
                id.to_string()
            } else {
                sandbox
            },
            pod: get(&["io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"]),
            namespace: get(&[
                "io.kubernetes.cri.sandbox-namespace",
                "io.kubernetes.pod.namespace",
            ]),
        }
    }

    pub fn pairs(&self) -> Vec<(String, String)> {
        vec![
            ("container".into(), self.container.clone()),
            ("sandbox".into(), self.sandbox.clone()),
            ("pod".into(), self.pod.clone()),
            ("namespace".into(), self.namespace.clone()),
        ]
    }
}

/// A support process's use of the host.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcUsage {
    pub rss_bytes: u64,
    pub cpu_seconds: f64,
}

/// RSS and CPU time of `p` when it is still the process it was.
fn proc_usage(p: &ProcId) -> Option<ProcUsage> {
    if !p.alive() {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", p.pid)).ok()?;
    // Fields after the comm (which may hold spaces): utime is the 14th
    // field of the line, stime the 15th, rss (pages) the 24th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    let (utime, stime, rss) = (num(11)?, num(12)?, num(21)?);
    let tick = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|t| *t > 0)
        .unwrap_or(100) as f64;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .filter(|t| *t > 0)
        .unwrap_or(4096) as u64;
    Some(ProcUsage {
        rss_bytes: rss * page,
        cpu_seconds: (utime + stime) as f64 / tick,
    })
}

/// The container's cgroup figures (what `events --stats` shows).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CgroupUsage {
    pub memory_bytes: u64,
    /// None: unlimited.
    pub memory_limit: Option<u64>,
    pub cpu_seconds: f64,
    pub pids: u64,
}

fn cgroup_usage(rel: &str) -> CgroupUsage {
    let s = Cgroup::at(rel).stats();
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    // cgroup v1 says "unlimited" with a huge number, v2 with "max" (0 here).
    let limit = n(&s["memory"]["usage"]["limit"]);
    CgroupUsage {
        memory_bytes: n(&s["memory"]["usage"]["usage"]),
        memory_limit: (limit > 0 && limit < (1 << 62)).then_some(limit),
        cpu_seconds: n(&s["cpu"]["usage"]["total"]) as f64 / 1e9,
        pids: n(&s["pids"]["current"]),
    }
}

/// Everything shown about one container.
#[derive(Clone, Debug)]
pub struct ContainerMetrics {
    pub labels: Labels,
    pub status: Status,
    /// The sentry's counters (None: metrics off, or not started yet).
    pub counters: Option<shm::Snapshot>,
    pub sentry: Option<ProcUsage>,
    pub gofer: Option<ProcUsage>,
    pub cgroup: Option<CgroupUsage>,
}

/// The figures of container `id` under `root`.
pub fn collect(root: &Path, id: &str) -> Result<ContainerMetrics> {
    let dir = StateDir::new(root, id);
    let st: State = dir.load(id)?;
    let status = dir.status(&st);
    let counters = shm::read(&dir.path).map_err(|source| Error::Metrics {
        id: st.id.clone(),
        source,
    })?;
    let running = status != Status::Stopped;
    Ok(ContainerMetrics {
        labels: Labels::of(&st.id, &st.annotations),
        status,
        counters,
        sentry: st.sentry.as_ref().and_then(proc_usage),
        gofer: st.gofer.as_ref().and_then(proc_usage),
        cgroup: st.cgroup.as_deref().filter(|_| running).map(cgroup_usage),
    })
}

/// The figures of every container under `root`, and the errors of those
/// that could not be read (a container being created or deleted has a
/// directory without a state file: it is skipped, not an error).
pub fn collect_all(root: &Path) -> (Vec<ContainerMetrics>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let Ok(rd) = std::fs::read_dir(root) else {
        return (out, errors);
    };
    let mut ids: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|id| super::state::validate_id(id).is_ok())
        .collect();
    ids.sort();
    for id in ids {
        match collect(root, &id) {
            Ok(m) => out.push(m),
            Err(Error::NotExist(_)) => {}
            Err(e) => errors.push(format!("{id}: {e}")),
        }
    }
    (out, errors)
}

/// The name and disposition label of a syscall number.
pub fn syscall_name(nr: usize) -> (&'static str, &'static str, &'static str) {
    match crate::table::row(nr as u32) {
        Some(r) => (
            r.name,
            r.family,
            if matches!(r.disposition, crate::table::Disposition::Denied { .. }) {
                "denied"
            } else {
                "emulated"
            },
        ),
        None => ("unknown", "unknown", "denied"),
    }
}

fn micros(row: &shm::Row) -> f64 {
    row.mean_micros()
}

/// `runrs metrics ID`: a table for people.
pub fn table(m: &ContainerMetrics) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let l = &m.labels;
    let _ = writeln!(s, "container {}  status {}", l.container, m.status.as_str());
    if !l.pod.is_empty() {
        let _ = writeln!(s, "pod {}/{}  sandbox {}", l.namespace, l.pod, l.sandbox);
    }
    let usage = |name: &str, u: &Option<ProcUsage>, s: &mut String| match u {
        Some(u) => {
            let _ = writeln!(
                s,
                "{name:<7} rss {:>8.1} MiB  cpu {:>8.3} s",
                u.rss_bytes as f64 / 1048576.0,
                u.cpu_seconds
            );
        }
        None => {
            let _ = writeln!(s, "{name:<7} (not running)");
        }
    };
    usage("sentry", &m.sentry, &mut s);
    usage("gofer", &m.gofer, &mut s);
    if let Some(c) = &m.cgroup {
        let limit = c.memory_limit.map_or("unlimited".to_string(), |l| {
            format!("{:.1} MiB", l as f64 / 1048576.0)
        });
        let _ = writeln!(
            s,
            "cgroup  memory {:.1} MiB (limit {limit})  cpu {:.3} s  pids {}",
            c.memory_bytes as f64 / 1048576.0,
            c.cpu_seconds,
            c.pids
        );
    }
    let Some(c) = &m.counters else {
        let _ = writeln!(
            s,
            "no syscall counters (created with --no-metrics, or the sentry has not started)"
        );
        return s;
    };
    let mut rows: Vec<(usize, &shm::Row)> = c
        .syscalls
        .iter()
        .enumerate()
        .filter(|(_, r)| r.count() > 0)
        .collect();
    rows.sort_by_key(|(nr, r)| (std::cmp::Reverse(r.count()), *nr));
    let _ = writeln!(
        s,
        "\n{:<22} {:<9} {:>10} {:>12}",
        "SYSCALL", "DISPOSITION", "CALLS", "MEAN µs"
    );
    for (nr, r) in rows {
        let (name, _, disp) = syscall_name(nr);
        let _ = writeln!(
            s,
            "{name:<22} {disp:<9} {:>10} {:>12.1}",
            r.count(),
            micros(r)
        );
    }
    let _ = writeln!(
        s,
        "\n{:<22} {:>10} {:>12}",
        "GOFER REQUEST", "CALLS", "MEAN µs"
    );
    for (op, r) in c.gofer.iter().enumerate().filter(|(_, r)| r.count() > 0) {
        let name = crate::gofer::proto::OPS
            .get(op)
            .copied()
            .unwrap_or("unknown");
        let _ = writeln!(s, "{name:<22} {:>10} {:>12.1}", r.count(), micros(r));
    }
    let _ = writeln!(
        s,
        "\naudit events written {}, dropped by the rate limit {}",
        c.audit_written, c.audit_dropped
    );
    s
}

/// `runrs metrics ID --format json`: the same figures for scripts.
pub fn json(m: &ContainerMetrics) -> serde_json::Value {
    let rows = |it: &mut dyn Iterator<Item = (String, &shm::Row)>| -> serde_json::Value {
        it.filter(|(_, r)| r.count() > 0)
            .map(|(k, r)| {
                (
                    k,
                    serde_json::json!({"calls": r.count(), "observed": r.observed(), "sum_ns": r.sum_ns}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let counters = m.counters.as_ref().map(|c| {
        serde_json::json!({
            "syscalls": rows(&mut c.syscalls.iter().enumerate().map(|(nr, r)| (syscall_name(nr).0.to_string(), r))),
            "gofer": rows(&mut c.gofer.iter().enumerate().map(|(op, r)| (crate::gofer::proto::OPS.get(op).copied().unwrap_or("unknown").to_string(), r))),
            "denied": c.syscalls.iter().enumerate()
                .filter(|(nr, r)| r.count() > 0 && syscall_name(*nr).2 == "denied")
                .map(|(nr, _)| syscall_name(nr).0)
                .collect::<Vec<_>>(),
            "audit_written": c.audit_written,
            "audit_dropped": c.audit_dropped,
        })
    });
    let usage = |u: &Option<ProcUsage>| {
        u.map(|u| serde_json::json!({"rss_bytes": u.rss_bytes, "cpu_seconds": u.cpu_seconds}))
    };
    serde_json::json!({
        "container": m.labels.container,
        "sandbox": m.labels.sandbox,
        "pod": m.labels.pod,
        "namespace": m.labels.namespace,
        "status": m.status.as_str(),
        "sentry": usage(&m.sentry),
        "gofer": usage(&m.gofer),
        "cgroup": m.cgroup.map(|c| serde_json::json!({"memory_bytes": c.memory_bytes, "memory_limit": c.memory_limit, "cpu_seconds": c.cpu_seconds, "pids": c.pids})),
        "counters": counters,
    })
}

/// `runrs metrics ID`.
pub fn metrics_cmd(g: &GlobalOpts, id: &str, format: &str) -> Result<String> {
    let m = collect(&g.root, id)?;
    match format {
        "table" => Ok(table(&m)),
        "json" => Ok(format!("{:#}\n", json(&m))),
        "prometheus" => Ok(super::metrics_server::encode(&[m], &[])),
        other => Err(Error::Usage {
            flag: "--format",
            msg: format!("--format {other}: expected table, json or prometheus"),
        }),
    }
}

/// `runrs events --audit ID`: the trail so far, then its new lines every
/// `interval` while the container runs; ends once it has stopped (after
/// its last lines) or the reader went away.
pub fn events_audit(g: &GlobalOpts, id: &str, interval: std::time::Duration) -> Result<()> {
    use std::io::Write;
    let dir = StateDir::new(&g.root, id);
    dir.load(id)?;
    let mut offset = 0;
    loop {
        // Whether it still runs is read first: lines written before it
        // stopped are then all printed by this round.
        let running = dir
            .load(id)
            .is_ok_and(|st| dir.status(&st) != Status::Stopped);
        let lines;
        (lines, offset) = match audit::read_new_lines(&dir.path, offset) {
            Ok(r) => r,
            // A deleted container: its trail is gone with it.
            Err(_) if !dir.path.exists() => return Ok(()),
            Err(e) => return Err(Error::io("read", dir.file(audit::FILE))(e)),
        };
        // A reader that went away (`| head`) ends it quietly.
        let mut out = std::io::stdout().lock();
        if out.write_all(&lines).and_then(|_| out.flush()).is_err() || !running {
            return Ok(());
        }
        drop(out);
        std::thread::sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_labels_come_from_cri_annotations() {
        let mut a = BTreeMap::new();
        assert_eq!(Labels::of("c1", &a).sandbox, "c1");
        a.insert("io.kubernetes.cri.sandbox-id".into(), "s1".into());
        a.insert("io.kubernetes.cri.sandbox-name".into(), "web-0".into());
        a.insert("io.kubernetes.cri.sandbox-namespace".into(), "prod".into());
        let l = Labels::of("c1", &a);
        assert_eq!(
            (l.sandbox.as_str(), l.pod.as_str(), l.namespace.as_str()),
            ("s1", "web-0", "prod")
        );
    }

    #[test]
    fn own_process_usage_is_read() {
        let me = ProcId::of(std::process::id() as i32).expect("own stat");
        let u = proc_usage(&me).expect("usage");
        assert!(u.rss_bytes > 0);
    }
}
