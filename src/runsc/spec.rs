//! The bundle's config.json: parsed with `oci-spec` (which rejects wrong
//! types), validated, and reduced to the `ContainerConfig` the roles use.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::Deserialize;

use super::error::{Error, Result};
pub use crate::sandbox::config::{
    CapSets, ContainerConfig, Device, Hook, Hooks, MountSpec, Namespace, ProcessConfig, Rlimit,
};
pub use crate::sandbox::SANDBOX_DEVICES;
use crate::sentry::cred::{IdMap, IdRange};

fn spec_err(field: &'static str, msg: impl Into<String>) -> Error {
    Error::Spec {
        field,
        msg: msg.into(),
    }
}

/// Loads `<bundle>/config.json` and validates it.
pub fn load(bundle: &Path, id: &str) -> Result<ContainerConfig> {
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::LoadSpec {
        path: path.clone(),
        msg: e.to_string(),
    })?;
    let cfg = parse_config(&text, bundle, id)?;
    warn_host_devices(&cfg.devices);
    Ok(cfg)
}

/// Logs which `linux.devices` entries the sandbox leaves out (see
/// [`Device::in_sandbox_set`]): the container still starts.
fn warn_host_devices(devices: &[Device]) {
    let host: Vec<&str> = devices
        .iter()
        .filter(|d| !d.in_sandbox_set())
        .map(|d| d.path.as_str())
        .collect();
    if host.is_empty() {
        return;
    }
    const SHOWN: usize = 8;
    let mut list = host[..host.len().min(SHOWN)].join(", ");
    if host.len() > SHOWN {
        list.push_str(&format!(" and {} more", host.len() - SHOWN));
    }
    crate::log::warn(&format!(
        "linux.devices: {} host device(s) not created ({list}): a runrs sandbox holds only \
         /dev/null, zero, full, random, urandom, tty and its own pts (docs/SECURITY.md)",
        host.len()
    ));
}

/// Parses and validates the text of `<bundle>/config.json` (the fuzzed
/// entry point: everything `load` does after reading the file).
pub fn parse_config(text: &str, bundle: &Path, id: &str) -> Result<ContainerConfig> {
    let path = bundle.join("config.json");
    // oci-spec's types, deserialized so that an error names the field
    // (process.args) and the position: oci-spec's loader loses both.
    let de = &mut serde_json::Deserializer::from_str(text);
    let spec: oci_spec::runtime::Spec = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let msg = if field == "." || field.is_empty() {
            e.inner().to_string()
        } else {
            format!("{field}: {}", e.inner())
        };
        Error::LoadSpec {
            path: path.clone(),
            msg,
        }
    })?;
    let value = serde_json::to_value(&spec).map_err(|e| Error::LoadSpec {
        path: path.clone(),
        msg: e.to_string(),
    })?;
    from_value(&value, bundle, id)
}

fn get<'a>(v: &'a serde_json::Value, path: &[&str]) -> Option<&'a serde_json::Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    if cur.is_null() {
        None
    } else {
        Some(cur)
    }
}

fn parse<T: for<'de> Deserialize<'de> + Default>(
    v: &serde_json::Value,
    path: &[&str],
    field: &'static str,
) -> Result<T> {
    match get(v, path) {
        None => Ok(T::default()),
        Some(x) => serde_json::from_value(x.clone()).map_err(|e| spec_err(field, e.to_string())),
    }
}

/// Capability names ("CAP_CHOWN") to a mask; unknown names are an error
/// naming the set.
fn cap_mask(v: &serde_json::Value, set: &str, field: &'static str) -> Result<u64> {
    let names: Vec<String> = parse(v, &["process", "capabilities", set], field)?;
    let mut mask = 0u64;
    for name in names {
        let cap: caps::Capability = name
            .parse()
            .map_err(|_| spec_err(field, format!("unknown capability {name:?}")))?;
        mask |= 1u64 << cap.index();
    }
    Ok(mask)
}

pub fn from_value(v: &serde_json::Value, bundle: &Path, id: &str) -> Result<ContainerConfig> {
    let root_path: String = get(v, &["root", "path"])
        .and_then(|p| p.as_str())
        .map(str::to_string)
        .ok_or_else(|| spec_err("root.path", "missing"))?;
    let rootfs = bundle.join(&root_path);
    let rootfs = rootfs
        .canonicalize()
        .map_err(|e| spec_err("root.path", format!("{}: {e}", rootfs.display())))?;
    if !rootfs.is_dir() {
        return Err(spec_err(
            "root.path",
            format!("{} is not a directory", rootfs.display()),
        ));
    }
    if get(v, &["process"]).is_none() {
        return Err(spec_err("process", "missing"));
    }
    let process = process_from_value(&v["process"])?;
    let namespaces: Vec<Namespace> = parse(v, &["linux", "namespaces"], "linux.namespaces")?;
    for ns in &namespaces {
        if !matches!(
            ns.typ.as_str(),
            "mount" | "network" | "uts" | "pid" | "ipc" | "user" | "cgroup" | "time"
        ) {
            return Err(spec_err(
                "linux.namespaces",
                format!("unknown type {:?}", ns.typ),
            ));
        }
        if ns.typ == "user" && ns.path.is_some() {
            return Err(spec_err(
                "linux.namespaces",
                "joining a user namespace by path is not supported: runrs makes the container's own",
            ));
        }
        if ns.typ == "mount" && ns.path.is_some() {
            return Err(spec_err(
                "linux.namespaces",
                "joining a mount namespace by path is not supported: the sandbox needs its own",
            ));
        }
    }
    if !namespaces
        .iter()
        .any(|n| n.typ == "mount" && n.path.is_none())
    {
        return Err(spec_err(
            "linux.namespaces",
            "a new mount namespace is required (the sandbox builds its own mount table)",
        ));
    }

    let (uid_map, gid_map) = user_namespace(v, &namespaces, &rootfs)?;

    let mounts: Vec<MountSpec> = parse(v, &["mounts"], "mounts")?;
    for m in &mounts {
        if !m.destination.starts_with('/') {
            return Err(spec_err(
                "mounts",
                format!("destination {:?} is not absolute", m.destination),
            ));
        }
    }
    let sysctl: BTreeMap<String, String> = parse(v, &["linux", "sysctl"], "linux.sysctl")?;
    check_net_sysctls(&sysctl, &namespaces)?;
    let memory_limit = get(v, &["linux", "resources", "memory", "limit"]).and_then(|x| x.as_i64());
    let pids_limit = get(v, &["linux", "resources", "pids", "limit"]).and_then(|x| x.as_i64());
    Ok(ContainerConfig {
        id: id.to_string(),
        bundle: bundle.to_path_buf(),
        rootfs,
        readonly_root: get(v, &["root", "readonly"])
            .and_then(|x| x.as_bool())
            .unwrap_or(false),
        process,
        hostname: parse(v, &["hostname"], "hostname")?,
        domainname: parse(v, &["domainname"], "domainname")?,
        mounts,
        namespaces,
        uid_map,
        gid_map,
        devices: parse(v, &["linux", "devices"], "linux.devices")?,
        masked_paths: parse(v, &["linux", "maskedPaths"], "linux.maskedPaths")?,
        readonly_paths: parse(v, &["linux", "readonlyPaths"], "linux.readonlyPaths")?,
        sysctl,
        rootfs_propagation: parse(
            v,
            &["linux", "rootfsPropagation"],
            "linux.rootfsPropagation",
        )?,
        hooks: parse(v, &["hooks"], "hooks")?,
        memory_limit,
        resources: parse(v, &["linux", "resources"], "linux.resources")?,
        seccomp: match get(v, &["linux", "seccomp"]) {
            None => None,
            Some(profile) => {
                super::seccomp_profile::compile(profile)?;
                Some(profile.clone())
            }
        },
        pids_limit,
        cgroups_path: parse(v, &["linux", "cgroupsPath"], "linux.cgroupsPath")?,
        annotations: parse(v, &["annotations"], "annotations")?,
    })
}

/// As runc's validator: a `net.*` sysctl needs a network namespace in the
/// spec, a new one or one joined by path (podman's `/run/netns/...`), and
/// never the host's own (it would change the host).
fn check_net_sysctls(sysctl: &BTreeMap<String, String>, namespaces: &[Namespace]) -> Result<()> {
    let Some(key) = sysctl.keys().find(|k| k.starts_with("net.")) else {
        return Ok(());
    };
    let Some(net) = namespaces.iter().find(|n| n.typ == "network") else {
        return Err(spec_err(
            "linux.sysctl",
            format!("{key:?} needs a network namespace (linux.namespaces has none)"),
        ));
    };
    let Some(path) = &net.path else {
        return Ok(());
    };
    let ns = fs::metadata(path).map_err(|e| {
        spec_err(
            "linux.namespaces",
            format!("network namespace {}: {e}", path.display()),
        )
    })?;
    let host = fs::metadata("/proc/self/ns/net")
        .map_err(|e| spec_err("linux.sysctl", format!("/proc/self/ns/net: {e}")))?;
    if (ns.dev(), ns.ino()) == (host.dev(), host.ino()) {
        return Err(spec_err(
            "linux.sysctl",
            format!(
                "{key:?} is not allowed in the host's network namespace ({})",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// The kernel's limit on the lines of one uid_map or gid_map.
const MAX_ID_MAP_LINES: usize = 340;

/// One of `linux.uidMappings` / `linux.gidMappings`, checked as the kernel
/// would check its map, so that a bad one fails create naming the field.
fn id_map(v: &serde_json::Value, key: &str, field: &'static str) -> Result<Option<IdMap>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        #[serde(rename = "containerID")]
        container_id: u32,
        #[serde(rename = "hostID")]
        host_id: u32,
        size: u32,
    }
    let Some(raw) = get(v, &["linux", key]) else {
        return Ok(None);
    };
    let lines: Vec<Line> =
        serde_json::from_value(raw.clone()).map_err(|e| spec_err(field, e.to_string()))?;
    if lines.is_empty() {
        return Ok(None);
    }
    if lines.len() > MAX_ID_MAP_LINES {
        return Err(spec_err(
            field,
            format!(
                "{} lines, the kernel takes at most {MAX_ID_MAP_LINES}",
                lines.len()
            ),
        ));
    }
    let mut ranges = Vec::new();
    for l in &lines {
        if l.size == 0 {
            return Err(spec_err(field, "a mapping of size 0"));
        }
        for (what, first) in [("containerID", l.container_id), ("hostID", l.host_id)] {
            if u64::from(first) + u64::from(l.size) > u64::from(u32::MAX) {
                return Err(spec_err(
                    field,
                    format!(
                        "{what} {first} + size {} goes past the last id 4294967294",
                        l.size
                    ),
                ));
            }
        }
        // The sandbox owner ids (docs/SECURITY.md): a workload that could
        // become one could signal another sandbox's sentry.
        if crate::sandbox::owner::overlaps_reserved(l.host_id, l.size) {
            return Err(spec_err(
                field,
                format!(
                    "hostID {} + size {} reaches the host ids runrs reserves for its \
                     sandboxes' owners ({} and up)",
                    l.host_id,
                    l.size,
                    crate::sandbox::owner::FIRST
                ),
            ));
        }
        ranges.push(IdRange {
            inside: l.container_id,
            outside: l.host_id,
            count: l.size,
        });
    }
    for (i, a) in ranges.iter().enumerate() {
        for b in &ranges[i + 1..] {
            let overlap = |x: u32, y: u32| {
                u64::from(x) < u64::from(y) + u64::from(b.count)
                    && u64::from(y) < u64::from(x) + u64::from(a.count)
            };
            if overlap(a.inside, b.inside) {
                return Err(spec_err(
                    field,
                    format!("container ids {} and {} overlap", a.inside, b.inside),
                ));
            }
            if overlap(a.outside, b.outside) {
                return Err(spec_err(
                    field,
                    format!("host ids {} and {} overlap", a.outside, b.outside),
                ));
            }
        }
    }
    Ok(Some(IdMap(ranges)))
}

/// The user namespace's mappings: exactly the spec's with a user namespace
/// (which then needs both, and a root file system its root can enter),
/// the identity without one (where mappings are an error).
fn user_namespace(
    v: &serde_json::Value,
    namespaces: &[Namespace],
    rootfs: &Path,
) -> Result<(IdMap, IdMap)> {
    let uids = id_map(v, "uidMappings", "linux.uidMappings")?;
    let gids = id_map(v, "gidMappings", "linux.gidMappings")?;
    if !namespaces.iter().any(|n| n.typ == "user") {
        if uids.is_some() || gids.is_some() {
            return Err(spec_err(
                "linux.uidMappings",
                "id mappings without a user namespace in linux.namespaces",
            ));
        }
        return Ok((IdMap::identity(), IdMap::identity()));
    }
    let (Some(uids), Some(gids)) = (uids, gids) else {
        return Err(spec_err(
            "linux.uidMappings",
            "a user namespace needs both linux.uidMappings and linux.gidMappings",
        ));
    };
    // The container's root must at least search its root file system.
    use std::os::unix::fs::MetadataExt;
    let st = std::fs::metadata(rootfs)
        .map_err(|e| spec_err("root.path", format!("{}: {e}", rootfs.display())))?;
    let (root_uid, root_gid) = (uids.to_host(0), gids.to_host(0));
    let bit = if Some(st.uid()) == root_uid {
        0o100
    } else if Some(st.gid()) == root_gid {
        0o010
    } else {
        0o001
    };
    if st.mode() & bit == 0 {
        return Err(spec_err(
            "root.path",
            format!(
                "{} (owner {}:{}, mode {:o}) is not searchable by the container's root, host uid {} gid {}",
                rootfs.display(),
                st.uid(),
                st.gid(),
                st.mode() & 0o7777,
                root_uid.map_or("unmapped".into(), |u| u.to_string()),
                root_gid.map_or("unmapped".into(), |g| g.to_string()),
            ),
        ));
    }
    Ok((uids, gids))
}

/// Validates a `process` object (the spec's, or an exec's process.json);
/// errors name the field as `process.<field>`.
pub fn process_from_value(process: &serde_json::Value) -> Result<ProcessConfig> {
    let wrapped = serde_json::json!({ "process": process });
    let v = &wrapped;
    let args: Vec<String> = parse(v, &["process", "args"], "process.args")?;
    if args.is_empty() || args[0].is_empty() {
        return Err(spec_err("process.args", "must name a program"));
    }
    let cwd: String = parse(v, &["process", "cwd"], "process.cwd")?;
    if !cwd.starts_with('/') {
        return Err(spec_err(
            "process.cwd",
            format!("{cwd:?} is not an absolute path"),
        ));
    }
    let caps = CapSets {
        bounding: cap_mask(v, "bounding", "process.capabilities.bounding")?,
        effective: cap_mask(v, "effective", "process.capabilities.effective")?,
        permitted: cap_mask(v, "permitted", "process.capabilities.permitted")?,
        inheritable: cap_mask(v, "inheritable", "process.capabilities.inheritable")?,
        ambient: cap_mask(v, "ambient", "process.capabilities.ambient")?,
    };
    #[derive(Deserialize, Default)]
    struct RawRlimit {
        #[serde(rename = "type")]
        typ: String,
        soft: u64,
        hard: u64,
    }
    let raw_rlimits: Vec<RawRlimit> = parse(v, &["process", "rlimits"], "process.rlimits")?;
    let mut rlimits = Vec::new();
    for r in raw_rlimits {
        let resource = rlimit_number(&r.typ)
            .ok_or_else(|| spec_err("process.rlimits", format!("unknown type {:?}", r.typ)))?;
        if r.soft > r.hard {
            return Err(spec_err(
                "process.rlimits",
                format!("{}: soft limit above hard limit", r.typ),
            ));
        }
        rlimits.push(Rlimit {
            resource,
            name: r.typ,
            soft: r.soft,
            hard: r.hard,
        });
    }
    let terminal = get(v, &["process", "terminal"])
        .and_then(|t| t.as_bool())
        .unwrap_or(false);
    Ok(ProcessConfig {
        args,
        env: parse(v, &["process", "env"], "process.env")?,
        cwd,
        terminal,
        uid: parse(v, &["process", "user", "uid"], "process.user.uid")?,
        gid: parse(v, &["process", "user", "gid"], "process.user.gid")?,
        additional_gids: parse(
            v,
            &["process", "user", "additionalGids"],
            "process.user.additionalGids",
        )?,
        umask: parse(v, &["process", "user", "umask"], "process.user.umask")?,
        caps,
        no_new_privs: parse(
            v,
            &["process", "noNewPrivileges"],
            "process.noNewPrivileges",
        )?,
        rlimits,
        oom_score_adj: parse(v, &["process", "oomScoreAdj"], "process.oomScoreAdj")?,
    })
}

fn rlimit_number(name: &str) -> Option<u32> {
    Some(match name {
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        _ => return None,
    })
}

/// The config.json `runrs spec` writes: runc's default, running `sh`.
pub fn default_spec() -> serde_json::Value {
    let caps = serde_json::json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    serde_json::json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps, "ambient": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "runrs",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Only FIFOs and the default set's character devices are created.
    #[test]
    fn sandbox_device_set() {
        let dev = |typ: &str, major, minor| Device {
            path: "/dev/x".into(),
            typ: typ.into(),
            major,
            minor,
            file_mode: None,
            uid: None,
            gid: None,
        };
        assert!(dev("c", 1, 3).in_sandbox_set());
        assert!(dev("u", 1, 9).in_sandbox_set());
        assert!(dev("c", 5, 0).in_sandbox_set());
        assert!(dev("p", 0, 0).in_sandbox_set());
        // kmsg, the host console, loop0, kvm, a disk.
        assert!(!dev("c", 1, 11).in_sandbox_set());
        assert!(!dev("c", 5, 1).in_sandbox_set());
        assert!(!dev("b", 7, 0).in_sandbox_set());
        assert!(!dev("c", 10, 232).in_sandbox_set());
        assert!(!dev("b", 1, 3).in_sandbox_set());
    }

    fn bundle() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("runrs-spec-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rootfs")).expect("mkdir");
        dir
    }

    #[test]
    fn default_spec_validates() {
        let b = bundle();
        let c = from_value(&default_spec(), &b, "x").expect("valid");
        assert_eq!(c.process.args, ["sh"]);
        assert_eq!(c.process.caps.bounding.count_ones(), 3);
        assert!(c.has_new_namespace("pid"));
        assert_eq!(c.process.rlimits[0].resource, libc::RLIMIT_NOFILE);
    }

    /// A mapping whose host ids reach the sandbox owner ids is refused,
    /// naming the field; the identity without a user namespace stops
    /// below them.
    #[test]
    fn mappings_of_the_owner_ids_are_refused() {
        let b = bundle();
        let with = |uids: serde_json::Value, gids: serde_json::Value| {
            let mut v = default_spec();
            v["linux"]["namespaces"]
                .as_array_mut()
                .expect("namespaces")
                .push(serde_json::json!({"type": "user"}));
            v["linux"]["uidMappings"] = uids;
            v["linux"]["gidMappings"] = gids;
            from_value(&v, &b, "x")
        };
        let fine = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        let top = serde_json::json!([{"containerID": 0, "hostID": 4294901000u32, "size": 1000}]);
        let whole = serde_json::json!([{"containerID": 0, "hostID": 0, "size": 4294967295u32}]);
        with(fine.clone(), fine.clone()).expect("an ordinary mapping");
        let e = with(top, fine.clone()).unwrap_err().to_string();
        assert!(
            e.contains("linux.uidMappings") && e.contains("4294901760"),
            "{e}"
        );
        let e = with(fine, whole).unwrap_err().to_string();
        assert!(e.contains("linux.gidMappings"), "{e}");
        let c = from_value(&default_spec(), &b, "x").expect("valid");
        assert_eq!(c.uid_map.to_host(crate::sandbox::owner::FIRST), None);
        assert_eq!(
            c.gid_map.to_host(crate::sandbox::owner::FIRST - 1),
            Some(4294901759)
        );
    }

    #[test]
    fn errors_name_the_field() {
        let b = bundle();
        let mut v = default_spec();
        v["process"]["args"] = serde_json::json!([]);
        let e = from_value(&v, &b, "x").unwrap_err().to_string();
        assert!(e.contains("process.args"), "{e}");

        let mut v = default_spec();
        v["process"]["capabilities"]["bounding"] = serde_json::json!(["CAP_NOPE"]);
        let e = from_value(&v, &b, "x").unwrap_err().to_string();
        assert!(
            e.contains("capabilities.bounding") && e.contains("CAP_NOPE"),
            "{e}"
        );

        let mut v = default_spec();
        v["root"]["path"] = serde_json::json!("missing-dir");
        let e = from_value(&v, &b, "x").unwrap_err().to_string();
        assert!(e.contains("root.path"), "{e}");

        let mut v = default_spec();
        v["process"]["cwd"] = serde_json::json!("relative");
        let e = from_value(&v, &b, "x").unwrap_err().to_string();
        assert!(e.contains("process.cwd"), "{e}");
    }

    #[test]
    fn net_sysctls_need_a_network_namespace_not_the_hosts() {
        let sysctl: BTreeMap<String, String> =
            [("net.ipv4.ping_group_range".to_string(), "0 0".to_string())].into();
        let ns = |path: Option<&str>| Namespace {
            typ: "network".into(),
            path: path.map(PathBuf::from),
        };
        let e = check_net_sysctls(&sysctl, &[]).unwrap_err().to_string();
        assert!(
            e.contains("linux.sysctl") && e.contains("ping_group_range"),
            "{e}"
        );
        check_net_sysctls(&sysctl, &[ns(None)]).expect("a new network namespace");
        // Joined by path (podman's /run/netns/...): allowed unless it is
        // the host's own namespace.
        let e = check_net_sysctls(&sysctl, &[ns(Some("/proc/self/ns/net"))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("host's network namespace"), "{e}");
        let e = check_net_sysctls(&sysctl, &[ns(Some("/nonexistent/netns"))])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("linux.namespaces") && e.contains("/nonexistent/netns"),
            "{e}"
        );
        check_net_sysctls(&BTreeMap::new(), &[]).expect("no net sysctl");
    }
}
