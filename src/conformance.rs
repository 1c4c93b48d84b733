//! `runrs conformance`: runs the prebuilt syscall conformance suite
//! (`tests/syscalls/`, built by `tests/syscalls/build.sh`) natively and
//! inside each given runtime, and reports one row per case with a column per
//! runtime plus totals per family (text, JSON or Markdown).
//!
//! Nothing is built here: the binary comes from `--binary` (default
//! `build/conformance/conformance`). Natively it runs in a scratch dir;
//! inside a runtime it runs as `/conformance` in a bundle made from a copy of
//! `--rootfs` (default `build/rootfs-busybox`) with [`bundle_spec`] (which
//! `scripts/mkbundle.sh` writes too), via `<runtime> --root <tmp> run --bundle <b> <id>`.
//! Under runrs the suite also gets `name=errno` for every denied (or
//! argument-ruled) table row, which enables the sandbox-only cases.
//! Cases named `family.admin_*` need CAP_SYS_ADMIN: a runtime runs them a
//! second time in a container whose spec adds it ([`ADMIN_GLOB`]).
//! `tests/conformance.rs` uses this module too. It sits above the table
//! (whose case list it shares, `table::parse_list`) and beside the front
//! end, which only forwards `runrs conformance` here.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::table::{self, Disposition};
pub use crate::table::{family, parse_list, Case};

/// How long one whole suite run may take.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// The result of one case in one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Skip(String),
    Fail(String),
    /// The output had no line for the case (the run died or hung).
    Missing,
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Skip(_) => "skip",
            Outcome::Fail(_) => "FAIL",
            Outcome::Missing => "missing",
        }
    }

    pub fn passed(&self) -> bool {
        *self == Outcome::Pass
    }

    /// The label with the failure message, for diagnostics.
    pub fn detail(&self) -> String {
        match self {
            Outcome::Fail(m) => format!("FAIL ({m})"),
            other => other.label().to_string(),
        }
    }
}

/// What stopped a conformance run: one variant per step, naming the file,
/// command or runtime, with the cause kept.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    #[error("case {0} reported twice")]
    ReportedTwice(String),
    #[error("current_exe: {0}")]
    CurrentExe(#[source] std::io::Error),
    #[error("runc not found in PATH")]
    NoRunc,
    #[error("runtime {0}: no such file")]
    NoRuntime(String),
    #[error("mkdir {}: {source}", .path.display())]
    Mkdir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("spawn {command}: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("wait {command}: {source}")]
    Wait {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{command} did not finish within {timeout:?}")]
    Timeout { command: String, timeout: Duration },
    #[error("{} --list failed: {stderr}", .binary.display())]
    List { binary: PathBuf, stderr: String },
    /// A file the run reads (the suite binary, KNOWN_GAPS).
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("native run failed: {0}")]
    NativeRun(String),
    #[error("{} is not a rootfs (no bin/sh); run scripts/mkrootfs-busybox.sh", .0.display())]
    NotARootfs(PathBuf),
    #[error("cp -a rootfs: {0}")]
    CopyRootfs(#[source] std::io::Error),
    #[error("cp -a {} failed", .0.display())]
    CopyRootfsFailed(PathBuf),
    #[error("copy {}: {source}", .binary.display())]
    CopyBinary {
        binary: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("write config.json: {0}")]
    WriteSpec(#[source] std::io::Error),
    #[error("{runtime} run{suffix} failed: {stderr}\n{stdout}")]
    RuntimeRun {
        runtime: String,
        suffix: &'static str,
        stderr: String,
        stdout: String,
    },
    #[error("KNOWN_GAPS: {0} needs a reason")]
    GapWithoutReason(String),
    #[error("bundle spec: {0}")]
    EncodeSpec(#[source] serde_json::Error),
    /// The suite binary is not built; `dir` is where build.sh puts it.
    #[error("{} not found: build it with `bash tests/syscalls/build.sh {dir}`", .binary.display())]
    NoSuite { binary: PathBuf, dir: String },
    #[error("unknown --format {0} (text, json, markdown)")]
    Format(String),
}

/// Case name -> outcome.
pub type Results = BTreeMap<String, Outcome>;

/// Parses the suite's result lines (`ok`, `ok ... # skip`, `not ok ...: msg`).
pub fn parse_results(stdout: &str) -> Result<Results, ConformanceError> {
    let mut r = Results::new();
    for line in stdout.lines() {
        let (name, outcome) = if let Some(rest) = line.strip_prefix("not ok ") {
            let (name, msg) = rest.split_once(": ").unwrap_or((rest, ""));
            (name, Outcome::Fail(msg.to_string()))
        } else if let Some(rest) = line.strip_prefix("ok ") {
            match rest.split_once(" # skip") {
                Some((name, why)) => (name, Outcome::Skip(why.trim().to_string())),
                None => (rest, Outcome::Pass),
            }
        } else {
            continue;
        };
        if r.insert(name.trim().to_string(), outcome).is_some() {
            return Err(ConformanceError::ReportedTwice(name.to_string()));
        }
    }
    Ok(r)
}

/// `name=errno` for every denied row and every argument-ruled passthrough
/// row of the table: what EXPECT_TABLE_ERRNO looks up under runrs.
pub fn table_expectations() -> Vec<String> {
    table::SYSCALLS
        .iter()
        .filter_map(|r| match &r.disposition {
            Disposition::Denied { errno } => Some(format!("{}={errno}", r.name)),
            Disposition::Passthrough(Some(rule)) => Some(format!("{}={}", r.name, rule.else_errno)),
            _ => None,
        })
        .collect()
}

/// Where the suite runs.
#[derive(Clone, Debug)]
pub enum Runtime {
    /// Directly on the host, in a scratch dir.
    Native,
    /// An OCI runtime with runc's command line.
    Oci {
        /// Column name (`runc`, `runrs-seccomp`, ...).
        name: String,
        binary: PathBuf,
        /// Global flags before `--root` (e.g. `--platform seccomp`).
        global_args: Vec<String>,
        /// Pass the table's expectations (the runtime is runrs).
        sandboxed: bool,
    },
}

impl Runtime {
    pub fn name(&self) -> &str {
        match self {
            Runtime::Native => "native",
            Runtime::Oci { name, .. } => name,
        }
    }

    pub fn runrs(binary: PathBuf, platform: &str) -> Runtime {
        Runtime::Oci {
            name: format!("runrs-{platform}"),
            binary,
            global_args: vec!["--platform".into(), platform.into()],
            sandboxed: true,
        }
    }

    pub fn runc(binary: PathBuf) -> Runtime {
        Runtime::Oci {
            name: "runc".into(),
            binary,
            global_args: Vec::new(),
            sandboxed: false,
        }
    }

    /// `native`, `runc`, `runrs`, `runrs:PLATFORM` or a path to a runtime
    /// binary (runrs when its file name starts with "runrs").
    pub fn parse(spec: &str) -> Result<Runtime, ConformanceError> {
        let self_exe = || std::env::current_exe().map_err(ConformanceError::CurrentExe);
        match spec {
            "native" => Ok(Runtime::Native),
            "runc" => find_in_path("runc")
                .map(Runtime::runc)
                .ok_or(ConformanceError::NoRunc),
            "runrs" => Ok(Runtime::runrs(self_exe()?, "seccomp")),
            _ if spec.starts_with("runrs:") => Ok(Runtime::runrs(self_exe()?, &spec[6..])),
            path => {
                let p = PathBuf::from(path);
                if !p.is_file() {
                    return Err(ConformanceError::NoRuntime(path.to_string()));
                }
                let base = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("")
                    .to_string();
                if base.starts_with("runrs") {
                    Ok(Runtime::runrs(p, "seccomp"))
                } else {
                    Ok(Runtime::Oci {
                        name: base,
                        binary: p,
                        global_args: Vec::new(),
                        sandboxed: false,
                    })
                }
            }
        }
    }
}

/// The platforms `--platform` accepts.
pub const PLATFORMS: &[&str] = &["seccomp", "ptrace"];

/// native, runc when installed, runrs (`runrs_binary`) with each platform.
pub fn default_runtimes(runrs_binary: &Path) -> Vec<Runtime> {
    let mut v = vec![Runtime::Native];
    if let Some(runc) = find_in_path("runc") {
        v.push(Runtime::runc(runc));
    }
    for p in PLATFORMS {
        v.push(Runtime::runrs(runrs_binary.to_path_buf(), p));
    }
    v
}

pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(prefix: &str) -> Result<Scratch, ConformanceError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos:x}", std::process::id()));
        fs::create_dir_all(&dir).map_err(|source| ConformanceError::Mkdir {
            path: dir.clone(),
            source,
        })?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `cmd` with stdout/stderr captured, killing it after `timeout`.
fn output(mut cmd: Command, timeout: Duration) -> Result<(bool, String, String), ConformanceError> {
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ConformanceError::Spawn {
            command: desc.clone(),
            source,
        })?;
    let mut so = child.stdout.take().expect("piped stdout");
    let mut se = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        let waited = child.try_wait().map_err(|source| ConformanceError::Wait {
            command: desc.clone(),
            source,
        })?;
        match waited {
            Some(s) => break s,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ConformanceError::Timeout {
                    command: desc,
                    timeout,
                });
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let out = t_out.join().unwrap_or_default();
    let err = t_err.join().unwrap_or_default();
    Ok((status.success(), out, err))
}

/// The busybox bundle's config.json (runc's default spec with terminal
/// off, a writable root and hostname runrs-demo) running `args`. The one
/// copy: `runrs conformance --bundle-spec -- ARGS` prints it for
/// scripts/mkbundle.sh, and the integration tests' bundles start from it.
pub fn bundle_spec(args: &[String]) -> serde_json::Value {
    let caps = serde_json::json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    serde_json::json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/bin:/usr/bin:/sbin:/usr/sbin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "runrs-demo",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]}
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                           {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                            "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"]
        }
    })
}

/// Cases named `family.admin_*` need CAP_SYS_ADMIN (tests/syscalls/nshelp.h):
/// they skip without it, and a runtime runs them a second time in a
/// container whose spec grants it (runc gets the same spec).
pub const ADMIN_GLOB: &str = "*.admin_*";

/// Whether `case` is one of [`ADMIN_GLOB`]'s.
pub fn is_admin_case(case: &str) -> bool {
    case.split_once('.')
        .is_some_and(|(_, behaviour)| behaviour.starts_with("admin_"))
}

/// The suite container's config.json: [`bundle_spec`] running the suite
/// (with `glob`, and the table's expectations when `sandboxed`), with the
/// capabilities the cases need, plus CAP_SYS_ADMIN when `admin`.
fn suite_spec(glob: Option<&str>, sandboxed: bool, admin: bool) -> String {
    let mut args = vec!["/conformance".to_string()];
    if let Some(f) = glob {
        args.push(f.to_string());
    }
    if sandboxed {
        args.extend(table_expectations());
    }
    let mut spec = bundle_spec(&args);
    // The identity cases switch users as root may in Docker's
    // default set, and check what CAP_DAC_READ_SEARCH allows
    // without CAP_DAC_OVERRIDE (tests/syscalls/identity.c).
    let mut extra = vec![
        "CAP_SETUID",
        "CAP_SETGID",
        "CAP_SETPCAP",
        "CAP_DAC_READ_SEARCH",
        // Docker's default set has it: the raw and packet
        // socket cases (tests/syscalls/net_raw.c) and
        // SO_BINDTODEVICE's rebind run as in a Docker container.
        "CAP_NET_RAW",
    ];
    if admin {
        extra.push("CAP_SYS_ADMIN");
    }
    if let Some(caps) = spec
        .pointer_mut("/process/capabilities")
        .and_then(|c| c.as_object_mut())
    {
        for set in caps.values_mut() {
            if let Some(list) = set.as_array_mut() {
                for cap in &extra {
                    list.push((*cap).into());
                }
            }
        }
    }
    // Docker (since 20.10) lets every group of a container open ICMP
    // datagram sockets (`ping` without CAP_NET_RAW): tests/syscalls/net_raw.c.
    if let Some(linux) = spec.get_mut("linux").and_then(|l| l.as_object_mut()) {
        linux.insert(
            "sysctl".into(),
            serde_json::json!({"net.ipv4.ping_group_range": "0 2147483647"}),
        );
    }
    serde_json::to_string_pretty(&spec).expect("json")
}

/// Lists the suite's cases (`--list`), restricted to `filter` (a glob).
pub fn list_cases(binary: &Path, filter: Option<&str>) -> Result<Vec<Case>, ConformanceError> {
    let mut cmd = Command::new(binary);
    cmd.arg("--list");
    if let Some(f) = filter {
        cmd.arg(f);
    }
    let (ok, out, err) = output(cmd, Duration::from_secs(60))?;
    if !ok {
        return Err(ConformanceError::List {
            binary: binary.to_path_buf(),
            stderr: err,
        });
    }
    Ok(parse_list(&out))
}

/// Runs the suite once under `runtime`; every listed case gets an outcome
/// (Missing when the output had no line for it).
pub fn run_suite(
    binary: &Path,
    rootfs: &Path,
    runtime: &Runtime,
    cases: &[Case],
    filter: Option<&str>,
) -> Result<Results, ConformanceError> {
    let binary = &fs::canonicalize(binary).map_err(|source| ConformanceError::Read {
        path: binary.to_path_buf(),
        source,
    })?;
    let mut r = match runtime {
        Runtime::Native => {
            let cwd = Scratch::new("runrs-conformance-native")?;
            let mut cmd = Command::new(binary);
            cmd.current_dir(&cwd.0);
            if let Some(f) = filter {
                cmd.arg(f);
            }
            let (ok, out, err) = output(cmd, RUN_TIMEOUT)?;
            if !ok {
                return Err(ConformanceError::NativeRun(err));
            }
            parse_results(&out)?
        }
        Runtime::Oci {
            name,
            binary: rt,
            global_args,
            sandboxed,
        } => {
            if !rootfs.join("bin/sh").exists() {
                return Err(ConformanceError::NotARootfs(rootfs.to_path_buf()));
            }
            let dir = Scratch::new("runrs-conformance-bundle")?;
            let bundle = dir.0.join("bundle");
            let state = dir.0.join("state");
            fs::create_dir_all(&bundle).map_err(|source| ConformanceError::Mkdir {
                path: bundle.clone(),
                source,
            })?;
            let cp = Command::new("cp")
                .arg("-a")
                .arg(rootfs)
                .arg(bundle.join("rootfs"))
                .status()
                .map_err(ConformanceError::CopyRootfs)?;
            if !cp.success() {
                return Err(ConformanceError::CopyRootfsFailed(rootfs.to_path_buf()));
            }
            fs::copy(binary, bundle.join("rootfs/conformance")).map_err(|source| {
                ConformanceError::CopyBinary {
                    binary: binary.clone(),
                    source,
                }
            })?;
            let admin = cases.iter().any(|c| is_admin_case(&c.name));
            let mut r = Results::new();
            // The second run (when the list has `admin_` cases) gives them
            // CAP_SYS_ADMIN; its results replace the first run's skips.
            for with_admin in [false, true] {
                if with_admin && !admin {
                    break;
                }
                let glob = if with_admin { Some(ADMIN_GLOB) } else { filter };
                let spec = suite_spec(glob, *sandboxed, with_admin);
                fs::write(bundle.join("config.json"), spec).map_err(ConformanceError::WriteSpec)?;
                let suffix = if with_admin { "-admin" } else { "" };
                let id = format!("conformance-{}-{}{suffix}", std::process::id(), name);
                let mut cmd = Command::new(rt);
                cmd.args(global_args).arg("--root").arg(&state).arg("run");
                cmd.arg("--bundle").arg(&bundle).arg(&id);
                let result = output(cmd, RUN_TIMEOUT);
                let _ = Command::new(rt)
                    .arg("--root")
                    .arg(&state)
                    .args(["delete", "--force", &id])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                let (ok, out, err) = result?;
                if !ok {
                    return Err(ConformanceError::RuntimeRun {
                        runtime: name.clone(),
                        suffix,
                        stderr: err,
                        stdout: out,
                    });
                }
                for (case, outcome) in parse_results(&out)? {
                    let wanted = cases.iter().any(|c| c.name == case);
                    if !with_admin || (is_admin_case(&case) && wanted) {
                        r.insert(case, outcome);
                    }
                }
            }
            r
        }
    };
    for c in cases {
        r.entry(c.name.clone()).or_insert(Outcome::Missing);
    }
    Ok(r)
}

/// `family.behaviour` -> reason, from a KNOWN_GAPS file (missing file: none).
pub fn parse_gaps(text: &str) -> Result<BTreeMap<String, String>, ConformanceError> {
    let mut gaps = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line.split_once('#').unwrap_or((line, ""));
        if reason.trim().is_empty() {
            return Err(ConformanceError::GapWithoutReason(name.trim().to_string()));
        }
        gaps.insert(name.trim().to_string(), reason.trim().to_string());
    }
    Ok(gaps)
}

/// The platform a KNOWN_GAPS reason is limited to: `on ptrace: ...`
/// applies to the `runrs-ptrace` column only; without it, to every runrs
/// column.
pub fn gap_platform(reason: &str) -> Option<&str> {
    let (p, _) = reason.strip_prefix("on ")?.split_once(':')?;
    PLATFORMS.iter().copied().find(|k| *k == p.trim())
}

/// Whether a gap with `reason` applies to the column named `runtime`.
pub fn gap_applies(reason: &str, runtime: &str) -> bool {
    match gap_platform(reason) {
        Some(p) => runtime.strip_prefix("runrs-") == Some(p),
        None => runtime.starts_with("runrs"),
    }
}

/// A reason without its `on PLATFORM:` prefix.
fn gap_text(reason: &str) -> &str {
    match gap_platform(reason) {
        Some(_) => reason
            .split_once(':')
            .map_or(reason, |(_, r)| r.trim_start()),
        None => reason,
    }
}

/// Whether the gap is a race the case only sometimes hits.
pub fn gap_is_flaky(reason: &str) -> bool {
    gap_text(reason).starts_with("flaky")
}

/// The syscall a KNOWN_GAPS reason names: its first word after the
/// optional `on PLATFORM:` and `flaky:` prefixes.
pub fn gap_syscall(reason: &str) -> &str {
    let reason = gap_text(reason);
    let r = reason.strip_prefix("flaky:").unwrap_or(reason).trim_start();
    let end = r
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(r.len());
    &r[..end]
}

/// The suite's results: one column per runtime, in order.
pub struct Report {
    pub cases: Vec<Case>,
    pub columns: Vec<(String, Results)>,
    pub gaps: BTreeMap<String, String>,
}

impl Report {
    fn cell(&self, case: &str, col: usize) -> String {
        let (name, r) = &self.columns[col];
        let o = r.get(case).cloned().unwrap_or(Outcome::Missing);
        match (&o, self.gaps.get(case)) {
            (Outcome::Fail(_), Some(reason)) if gap_applies(reason, name) => {
                format!("FAIL (known gap: {reason})")
            }
            _ => o.label().to_string(),
        }
    }

    /// family -> (cases, passes per column).
    fn families(&self) -> BTreeMap<&str, (usize, Vec<usize>)> {
        let mut fams: BTreeMap<&str, (usize, Vec<usize>)> = BTreeMap::new();
        for c in &self.cases {
            let e = fams
                .entry(c.family())
                .or_insert_with(|| (0, vec![0; self.columns.len()]));
            e.0 += 1;
            for (i, (_, r)) in self.columns.iter().enumerate() {
                e.1[i] += usize::from(r.get(&c.name).is_some_and(Outcome::passed));
            }
        }
        fams
    }

    fn totals(&self) -> (usize, Vec<usize>) {
        let passes = self
            .columns
            .iter()
            .map(|(_, r)| {
                self.cases
                    .iter()
                    .filter(|c| r.get(&c.name).is_some_and(Outcome::passed))
                    .count()
            })
            .collect();
        (self.cases.len(), passes)
    }

    pub fn text(&self) -> String {
        let mut s = format!("{:<56}", "case");
        for (n, _) in &self.columns {
            let _ = write!(s, " {n:<14}");
        }
        s = s.trim_end().to_string();
        s.push('\n');
        for c in &self.cases {
            let _ = write!(s, "{:<56}", c.name);
            for (_, r) in &self.columns {
                let label = r.get(&c.name).map_or("missing", Outcome::label);
                let _ = write!(s, " {label:<14}");
            }
            let fails: Vec<String> = self
                .columns
                .iter()
                .filter_map(|(n, r)| match r.get(&c.name) {
                    Some(Outcome::Fail(m)) => Some(format!("{n}: {m}")),
                    _ => None,
                })
                .collect();
            if !fails.is_empty() {
                let _ = write!(s, " {}", fails.join("; "));
            }
            if self.gaps.contains_key(&c.name) {
                s.push_str(" [known gap]");
            }
            s.truncate(s.trim_end().len());
            s.push('\n');
        }
        let _ = write!(s, "\n{:<24} {:>6}", "family", "cases");
        for (n, _) in &self.columns {
            let _ = write!(s, " {n:>14}");
        }
        s.push('\n');
        for (f, (n, p)) in self.families() {
            let _ = write!(s, "{f:<24} {n:>6}");
            for v in p {
                let _ = write!(s, " {v:>14}");
            }
            s.push('\n');
        }
        let (n, p) = self.totals();
        let _ = write!(s, "{:<24} {n:>6}", "total");
        for v in p {
            let _ = write!(s, " {v:>14}");
        }
        s.push('\n');
        s
    }

    pub fn json(&self) -> String {
        let runtimes: Vec<&str> = self.columns.iter().map(|(n, _)| n.as_str()).collect();
        let cases: Vec<serde_json::Value> = self
            .cases
            .iter()
            .map(|c| {
                let mut results = serde_json::Map::new();
                for (n, r) in &self.columns {
                    let o = r.get(&c.name).cloned().unwrap_or(Outcome::Missing);
                    let mut v = serde_json::json!({"result": o.label()});
                    match &o {
                        Outcome::Fail(m) | Outcome::Skip(m) => v["message"] = m.clone().into(),
                        _ => {}
                    }
                    results.insert(n.clone(), v);
                }
                let mut v = serde_json::json!({
                    "case": c.name,
                    "family": c.family(),
                    "syscalls": c.syscalls(),
                    "results": results,
                });
                if let Some(g) = self.gaps.get(&c.name) {
                    v["known_gap"] = g.clone().into();
                }
                v
            })
            .collect();
        let families: serde_json::Map<String, serde_json::Value> = self
            .families()
            .into_iter()
            .map(|(f, (n, p))| {
                let pass: serde_json::Map<String, serde_json::Value> = runtimes
                    .iter()
                    .zip(p)
                    .map(|(r, v)| (r.to_string(), v.into()))
                    .collect();
                (f.to_string(), serde_json::json!({"cases": n, "pass": pass}))
            })
            .collect();
        let (n, p) = self.totals();
        let pass: serde_json::Map<String, serde_json::Value> = runtimes
            .iter()
            .zip(p)
            .map(|(r, v)| (r.to_string(), v.into()))
            .collect();
        let v = serde_json::json!({
            "runtimes": runtimes,
            "cases": cases,
            "families": families,
            "total": {"cases": n, "pass": pass},
        });
        let mut s = serde_json::to_string_pretty(&v).expect("json");
        s.push('\n');
        s
    }

    pub fn markdown(&self) -> String {
        let cols: Vec<&str> = self.columns.iter().map(|(n, _)| n.as_str()).collect();
        let mut md = String::from(
            "# Syscall conformance\n\n\
             Generated by `RUNRS_BLESS=1 cargo test --test conformance` (or\n\
             `runrs conformance --format markdown` after `bash tests/syscalls/build.sh\n\
             build/conformance`); do not edit. The cases live in `tests/syscalls/`;\n\
             each runs natively (as root on the host) and inside each runtime with\n\
             the busybox test rootfs (`runrs-seccomp`: runrs with the seccomp\n\
             platform; `runrs-ptrace`: with the ptrace platform; the two columns\n\
             differ only where a KNOWN_GAPS reason starts with `on PLATFORM:`, and\n\
             the table row says why). `skip` marks cases that do not apply: the sandbox-only\n\
             denied set (expected errnos from `syscall-table/x86_64.toml`, checked\n\
             under runrs only) and features the host kernel lacks. Known gaps are\n\
             listed in `tests/syscalls/KNOWN_GAPS`; `docs/COMPATIBILITY.md` links\n\
             each syscall to its cases.\n\n",
        );
        let (n, p) = self.totals();
        let families = self.families();
        let _ = writeln!(
            md,
            "{n} cases in {} families; passing: {}.\n",
            families.len(),
            cols.iter()
                .zip(&p)
                .map(|(c, v)| format!("{c} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        md.push_str("## Totals per family\n\n| family | cases |");
        for c in &cols {
            let _ = write!(md, " {c} pass |");
        }
        md.push_str("\n|---|---:|");
        md.push_str(&"---:|".repeat(cols.len()));
        md.push('\n');
        for (f, (n, p)) in &families {
            let _ = write!(md, "| {f} | {n} |");
            for v in p {
                let _ = write!(md, " {v} |");
            }
            md.push('\n');
        }
        let _ = write!(md, "| **total** | {n} |");
        for v in &p {
            let _ = write!(md, " {v} |");
        }
        md.push_str("\n\n## Cases\n\n| case |");
        for c in &cols {
            let _ = write!(md, " {c} |");
        }
        md.push_str("\n|---|");
        md.push_str(&"---|".repeat(cols.len()));
        md.push('\n');
        for c in &self.cases {
            let _ = write!(md, "| `{}` |", c.name);
            for i in 0..cols.len() {
                let _ = write!(md, " {} |", self.cell(&c.name, i).replace('|', "\\|"));
            }
            md.push('\n');
        }
        md
    }
}

/// `runrs conformance`'s flags.
#[derive(clap::Args, Debug)]
pub struct ConformanceArgs {
    /// Runtime to compare (repeatable): native, runc, runrs, runrs:PLATFORM
    /// or a runtime binary. Default: native, runc if installed, runrs with
    /// each platform.
    #[arg(long)]
    pub runtime: Vec<String>,
    /// Only cases matching this glob (e.g. 'open*').
    #[arg(long)]
    pub filter: Option<String>,
    /// text, json or markdown.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// The suite binary (built by tests/syscalls/build.sh).
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// Rootfs copied into the bundles (default build/rootfs-busybox).
    #[arg(long)]
    pub rootfs: Option<PathBuf>,
    /// KNOWN_GAPS file annotating runrs failures (default tests/syscalls/KNOWN_GAPS).
    #[arg(long = "known-gaps")]
    pub known_gaps: Option<PathBuf>,
    /// Print the config.json the suite's bundles start from, running the
    /// command after `--`, and exit (scripts/mkbundle.sh writes it).
    #[arg(long = "bundle-spec")]
    pub bundle_spec: bool,
    /// The command of `--bundle-spec`'s config.json.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// `runrs conformance`.
pub fn main(a: &ConformanceArgs) -> Result<i32, ConformanceError> {
    if a.bundle_spec {
        let command = if a.command.is_empty() {
            vec!["sh".to_string()]
        } else {
            a.command.clone()
        };
        let spec = serde_json::to_string_pretty(&bundle_spec(&command))
            .map_err(ConformanceError::EncodeSpec)?;
        println!("{spec}");
        return Ok(0);
    }
    let binary = a
        .binary
        .clone()
        .unwrap_or_else(|| PathBuf::from("build/conformance/conformance"));
    if !binary.is_file() {
        let dir = binary
            .parent()
            .map_or(".".into(), |p| p.display().to_string());
        return Err(ConformanceError::NoSuite { binary, dir });
    }
    // absolute: the native run changes directory
    let binary = fs::canonicalize(&binary).map_err(|source| ConformanceError::Read {
        path: binary.clone(),
        source,
    })?;
    let rootfs = a
        .rootfs
        .clone()
        .unwrap_or_else(|| PathBuf::from("build/rootfs-busybox"));
    let rootfs = fs::canonicalize(&rootfs).unwrap_or(rootfs);
    let runtimes = if a.runtime.is_empty() {
        let me = std::env::current_exe().map_err(ConformanceError::CurrentExe)?;
        default_runtimes(&me)
    } else {
        a.runtime
            .iter()
            .map(|s| Runtime::parse(s))
            .collect::<Result<Vec<_>, _>>()?
    };
    let filter = a.filter.as_deref();
    let cases = list_cases(&binary, filter)?;
    let gaps = match &a.known_gaps {
        Some(p) => fs::read_to_string(p).map_err(|source| ConformanceError::Read {
            path: p.clone(),
            source,
        })?,
        None => fs::read_to_string("tests/syscalls/KNOWN_GAPS").unwrap_or_default(),
    };
    let gaps = parse_gaps(&gaps)?;
    let mut columns = Vec::new();
    for rt in &runtimes {
        let r = run_suite(&binary, &rootfs, rt, &cases, filter)?;
        columns.push((rt.name().to_string(), r));
    }
    let report = Report {
        cases,
        columns,
        gaps,
    };
    let out = match a.format.as_str() {
        "text" => report.text(),
        "json" => report.json(),
        "markdown" | "md" => report.markdown(),
        other => return Err(ConformanceError::Format(other.to_string())),
    };
    print!("{out}");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_results_and_lists() {
        let r =
            parse_results("ok a.b\nok a.c # skip why\nnot ok d.e: f.c:1 msg: x\nnoise\n").unwrap();
        assert_eq!(r["a.b"], Outcome::Pass);
        assert_eq!(r["a.c"], Outcome::Skip("why".into()));
        assert_eq!(r["d.e"], Outcome::Fail("f.c:1 msg: x".into()));
        assert!(parse_results("ok a.b\nok a.b\n").is_err());
        let l = parse_list("# c\nread.x pread64 readv\nmm.y\n");
        assert_eq!(l[0].syscalls(), vec!["read", "pread64", "readv"]);
        assert!(l[1].syscalls().is_empty());
        assert_eq!(gap_syscall("flaky: execve (emulated) x"), "execve");
        assert_eq!(gap_syscall("openat (emulated): y"), "openat");
        let only = "on ptrace: flaky: restart_syscall (passthrough): z";
        assert_eq!(gap_syscall(only), "restart_syscall");
        assert!(gap_is_flaky(only));
        assert!(gap_applies(only, "runrs-ptrace"));
        assert!(!gap_applies(only, "runrs-seccomp"));
        assert!(gap_applies("openat (emulated): y", "runrs-seccomp"));
        assert!(!gap_applies("openat (emulated): y", "runc"));
    }

    #[test]
    fn admin_cases_by_name() {
        assert!(is_admin_case("mount.admin_tmpfs"));
        assert!(!is_admin_case("mount.tmpfs_admin"));
        assert!(!is_admin_case("admin_x"));
        let plain = suite_spec(Some("x.*"), false, false);
        let admin = suite_spec(Some(ADMIN_GLOB), true, true);
        assert!(!plain.contains("CAP_SYS_ADMIN"));
        assert!(admin.contains("CAP_SYS_ADMIN") && admin.contains("pivot_root="));
    }

    #[test]
    fn expectations_cover_denied_rows() {
        let e = table_expectations();
        assert!(e.iter().any(|s| s.starts_with("pivot_root=")));
        assert!(e.iter().any(|s| s.starts_with("unshare=")));
        assert!(!e.iter().any(|s| s.starts_with("read=")));
    }
}
