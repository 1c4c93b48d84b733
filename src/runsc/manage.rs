//! Commands on a running container's resources (pause, resume, ps,
//! update, events), `features`, and registration with Docker (install,
//! uninstall), as runc and runsc provide them.

use std::io::Read;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use super::cgroups::{BlockIo, Cgroup, Cpu, Memory, Pids, Resources};
use super::cli::{GlobalOpts, InstallArgs, PsArgs, UpdateArgs};
use super::error::{Error, Result};
use super::state::{State, StateDir, Status};

fn running_cgroup(g: &GlobalOpts, id: &str) -> Result<(StateDir, State, Cgroup)> {
    let dir = StateDir::new(&g.root, id);
    let st = dir.load(id)?;
    if dir.status(&st) == Status::Stopped {
        return Err(Error::NotRunning(id.to_string()));
    }
    let cg = st
        .cgroup
        .as_deref()
        .map(Cgroup::at)
        .ok_or_else(|| Error::WrongStatus(format!("container {id} has no cgroup")))?;
    Ok((dir, st, cg))
}

pub fn pause(g: &GlobalOpts, id: &str) -> Result<()> {
    let (dir, st, cg) = running_cgroup(g, id)?;
    match dir.status(&st) {
        Status::Running => cg.freeze(true),
        Status::Paused => Err(Error::WrongStatus(format!(
            "container {id} is already paused"
        ))),
        s => Err(Error::WrongStatus(format!(
            "container {id} is not running: {}",
            s.as_str()
        ))),
    }
}

pub fn resume(g: &GlobalOpts, id: &str) -> Result<()> {
    let (dir, st, cg) = running_cgroup(g, id)?;
    match dir.status(&st) {
        Status::Paused => cg.freeze(false),
        s => Err(Error::WrongStatus(format!(
            "container {id} is not paused: {}",
            s.as_str()
        ))),
    }
}

/// `ps --format json` prints the host pids (the shim and `docker top` use
/// them with the host's ps); the table runs the host's ps for those pids.
/// `ps`: the container's processes, as a table (the host's `ps` lines of
/// its pids) or a JSON list of pids. A stopped container has none: runc
/// prints just the table's header (or `null`) and succeeds.
pub fn ps(g: &GlobalOpts, a: &PsArgs) -> Result<String> {
    let dir = StateDir::new(&g.root, &a.id);
    let st = dir.load(&a.id)?;
    let mut pids = if dir.status(&st) == Status::Stopped {
        Vec::new()
    } else {
        let (_, st, cg) = running_cgroup(g, &a.id)?;
        match cg.pids() {
            p if p.is_empty() => super::procs::container_pids(&st),
            p => p,
        }
    };
    pids.sort_unstable();
    match a.format.as_str() {
        // runc marshals its empty (nil) list as `null`.
        // A line, as runc's json.Encoder writes it.
        "json" if pids.is_empty() => Ok("null\n".into()),
        "json" => serde_json::to_string(&pids)
            .map(|s| s + "\n")
            .map_err(Error::Encode),
        "table" => {
            let mut args: Vec<String> = if a.ps_args.is_empty() {
                vec!["-ef".into()]
            } else {
                a.ps_args.clone()
            };
            args.retain(|x| x != "--");
            let out = std::process::Command::new("ps")
                .args(&args)
                .output()
                .map_err(Error::io("run", "ps"))?;
            let text = String::from_utf8_lossy(&out.stdout);
            let mut lines = text.lines();
            let header = lines.next().unwrap_or_default();
            let pid_col = header
                .split_whitespace()
                .position(|h| h == "PID")
                .unwrap_or(1);
            let mut result = format!("{header}\n");
            for l in lines {
                if l.split_whitespace()
                    .nth(pid_col)
                    .and_then(|p| p.parse().ok())
                    .is_some_and(|p: i32| pids.contains(&p))
                {
                    result.push_str(l);
                    result.push('\n');
                }
            }
            Ok(result)
        }
        other => Err(Error::Usage {
            flag: "--format",
            msg: format!("invalid format {other:?}: use table or json"),
        }),
    }
}

pub fn update(g: &GlobalOpts, a: &UpdateArgs) -> Result<()> {
    let (_, _, cg) = running_cgroup(g, &a.id)?;
    // As runc: resources from a file (or stdin) replace the flags, and
    // only the fields runc's update takes are applied.
    let r = match &a.resources {
        Some(p) => {
            let mut text = String::new();
            if p.as_os_str() == "-" {
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(Error::io("read", "stdin"))?;
            } else {
                text = std::fs::read_to_string(p).map_err(Error::io("read", p))?;
            }
            let de = &mut serde_json::Deserializer::from_str(&text);
            let mut r =
                serde_path_to_error::deserialize::<_, Resources>(de).map_err(|e| Error::Usage {
                    flag: "--resources",
                    msg: format!("resources: {}: {}", e.path(), e.inner()),
                })?;
            if let Some(m) = r.memory.as_mut() {
                m.swappiness = None;
                m.disable_oom_killer = None;
            }
            r
        }
        None => {
            if a.kernel_memory.is_some() || a.kernel_memory_tcp.is_some() {
                crate::log::warn("Kernel memory settings are ignored and will be removed");
            }
            resources_from_flags(a)
        }
    };
    cg.apply(&r)
}

/// `update`'s flags as resources (unset ones left alone).
fn resources_from_flags(a: &UpdateArgs) -> Resources {
    let memory = Memory {
        limit: a.memory,
        swap: a.memory_swap,
        reservation: a.memory_reservation,
        ..Default::default()
    };
    let cpu = Cpu {
        shares: a.cpu_shares,
        quota: a.cpu_quota,
        period: a.cpu_period,
        cpus: a.cpuset_cpus.clone(),
        mems: a.cpuset_mems.clone(),
        realtime_runtime: a.cpu_rt_runtime,
        realtime_period: a.cpu_rt_period,
    };
    Resources {
        memory: Some(memory),
        cpu: Some(cpu),
        pids: a.pids_limit.map(|l| Pids { limit: Some(l) }),
        block_io: a.blkio_weight.map(|w| BlockIo { weight: Some(w) }),
        unified: None,
    }
}

/// Starts watching a running container's memory cgroup for OOM kills.
pub fn watch_oom(g: &GlobalOpts, id: &str) -> Result<super::cgroups::OomWatch> {
    let (_, _, cg) = running_cgroup(g, id)?;
    cg.watch_oom()
}

pub fn events_stats(g: &GlobalOpts, id: &str) -> Result<String> {
    /// Fields in runc's order: tools match lines on `{"type":"stats","id":`.
    #[derive(serde::Serialize)]
    struct Event<'a, T> {
        #[serde(rename = "type")]
        typ: &'static str,
        id: &'a str,
        data: T,
    }
    let (_, _, cg) = running_cgroup(g, id)?;
    serde_json::to_string(&Event {
        typ: "stats",
        id,
        data: cg.stats(),
    })
    .map_err(Error::Encode)
}

/// What this runtime supports, in the shape of `runc features`.
pub fn features() -> String {
    let caps: Vec<String> = caps::all()
        .iter()
        .map(|c| c.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.0.2-dev",
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": ["async", "atime", "bind", "dev", "diratime", "dirsync", "exec", "mand", "noatime", "nodev",
            "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime", "nosuid", "private", "ratime", "rbind",
            "rdev", "rdiratime", "relatime", "remount", "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec",
            "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw",
            "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared", "slave",
            "strictatime", "suid", "sync", "tmpcopyup", "unbindable"],
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "uts"],
            "capabilities": caps,
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false},
            "seccomp": {
                "enabled": true,
                // SCMP_ACT_NOTIFY is refused: the sentry owns the workload's listener.
                "actions": ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"],
                "operators": ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                    "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"],
                "archs": ["SCMP_ARCH_X86_64"],
                "knownFlags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG"],
                "supportedFlags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG"]
            },
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false}
        },
        "annotations": {
            "io.github.runrs.sandbox": "sentry+gofer",
            "io.github.runrs.platforms": "seccomp"
        }
    }))
    .unwrap_or_default()
}

const DOCKER_CONFIG: &str = "/etc/docker/daemon.json";

fn read_daemon_json(path: &Path) -> Result<serde_json::Value> {
    match std::fs::read_to_string(path) {
        Ok(t) if t.trim().is_empty() => Ok(serde_json::json!({})),
        Ok(t) => serde_json::from_str(&t).map_err(|source| Error::Decode {
            path: path.to_path_buf(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::json!({})),
        Err(e) => Err(Error::io("read", path)(e)),
    }
}

fn write_daemon_json(path: &Path, v: &serde_json::Value) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io("create", parent))?;
    }
    let tmp = path.with_extension("json.runrs-tmp");
    let text = serde_json::to_string_pretty(v).map_err(Error::Encode)?;
    std::fs::write(&tmp, text + "\n").map_err(Error::io("write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(Error::io("write", path))
}

/// `runrs install`: adds (or updates) the runtime in Docker's daemon.json,
/// keeping every other key, like `runsc install`.
pub fn install(a: &InstallArgs) -> Result<String> {
    let path = a
        .config_file
        .clone()
        .unwrap_or_else(|| DOCKER_CONFIG.into());
    let mut v = read_daemon_json(&path)?;
    let obj = v.as_object_mut().ok_or_else(|| Error::Content {
        path: path.clone(),
        msg: "not a JSON object".into(),
    })?;
    let exe = match &a.binary {
        Some(b) => {
            // Docker runs the path as given, from its own working directory.
            if !b.is_absolute() {
                return Err(Error::Usage {
                    flag: "--binary",
                    msg: format!("--binary {}: not an absolute path", b.display()),
                });
            }
            let md = std::fs::metadata(b).map_err(Error::io("--binary", b.clone()))?;
            if !md.is_file() || md.permissions().mode() & 0o111 == 0 {
                return Err(Error::Usage {
                    flag: "--binary",
                    msg: format!("--binary {}: not an executable file", b.display()),
                });
            }
            b.clone()
        }
        None => {
            std::env::current_exe().map_err(Error::io("current executable", "/proc/self/exe"))?
        }
    };
    let runtimes = obj
        .entry("runtimes")
        .or_insert_with(|| serde_json::json!({}));
    let runtimes = runtimes.as_object_mut().ok_or_else(|| Error::Content {
        path: path.clone(),
        msg: "\"runtimes\" is not an object".into(),
    })?;
    let mut entry = serde_json::json!({"path": exe});
    if !a.runtime_args.is_empty() {
        entry["runtimeArgs"] = serde_json::json!(a.runtime_args);
    }
    let what = match runtimes.insert(a.runtime.clone(), entry.clone()) {
        None => "added to".to_string(),
        Some(old) if old == entry => "already in".to_string(),
        Some(old) => format!("changed from {old} to {entry} in"),
    };
    write_daemon_json(&path, &v)?;
    Ok(format!(
        "Runtime {} {what} {}. Reload dockerd to use it: kill -HUP $(pidof dockerd) (or systemctl reload docker)\n",
        a.runtime,
        path.display()
    ))
}

pub fn uninstall(a: &InstallArgs) -> Result<String> {
    let path = a
        .config_file
        .clone()
        .unwrap_or_else(|| DOCKER_CONFIG.into());
    let mut v = read_daemon_json(&path)?;
    let removed = v
        .get_mut("runtimes")
        .and_then(|r| r.as_object_mut())
        .and_then(|r| r.remove(&a.runtime))
        .is_some();
    if !removed {
        return Err(Error::Usage {
            flag: "--runtime",
            msg: format!("runtime {} not found in {}", a.runtime, path.display()),
        });
    }
    write_daemon_json(&path, &v)?;
    Ok(format!(
        "Runtime {} removed from {}. Reload dockerd: kill -HUP $(pidof dockerd)\n",
        a.runtime,
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_takes_an_absolute_executable_binary_only() {
        let dir = std::env::temp_dir().join(format!("runrs-install-bin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("daemon.json");
        let with = |binary: &str| InstallArgs {
            runtime: "runrs".into(),
            config_file: Some(path.clone()),
            binary: Some(binary.into()),
            runtime_args: vec![],
        };
        let plain = dir.join("not-executable");
        std::fs::write(&plain, "x").expect("write");
        let plain = plain.to_string_lossy().into_owned();
        for bad in ["runrs", "/nonexistent/runrs", plain.as_str(), "/usr"] {
            let e = install(&with(bad)).expect_err(bad).to_string();
            assert!(e.contains("--binary"), "{bad}: {e}");
        }
        install(&with("/bin/true")).expect("install");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(v["runtimes"]["runrs"]["path"], "/bin/true");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn install_keeps_other_keys_and_uninstall_removes_only_ours() {
        let dir = std::env::temp_dir().join(format!("runrs-install-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("daemon.json");
        std::fs::write(
            &path,
            r#"{"debug": true, "runtimes": {"other": {"path": "/x"}}}"#,
        )
        .expect("write");
        let a = InstallArgs {
            runtime: "runrs".into(),
            config_file: Some(path.clone()),
            binary: None,
            runtime_args: vec!["--strace".into()],
        };
        install(&a).expect("install");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(v["debug"], true);
        assert_eq!(v["runtimes"]["other"]["path"], "/x");
        assert_eq!(v["runtimes"]["runrs"]["runtimeArgs"][0], "--strace");
        uninstall(&a).expect("uninstall");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert!(v["runtimes"].get("runrs").is_none());
        assert_eq!(v["runtimes"]["other"]["path"], "/x");
        assert!(uninstall(&a).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
