//! Helpers shared by the integration tests: bundles, state roots and
//! invoking the `runrs` binary. The tests create real containers and must
//! run as root.
#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long any single runrs/runc invocation may take before the test fails.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The runrs binary cargo built for these tests.
pub fn runrs() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_runrs"))
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The busybox rootfs the tests copy into their bundles: `$RUNRS_TEST_ROOTFS`
/// or `build/rootfs-busybox`, built by scripts/mkrootfs-busybox.sh when it
/// is missing. Panics (never skips) when it cannot be made.
pub fn rootfs() -> PathBuf {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS
        .get_or_init(|| {
            built_rootfs(
                "RUNRS_TEST_ROOTFS",
                "build/rootfs-busybox",
                "scripts/mkrootfs-busybox.sh",
                &|p| p.join("bin/busybox").exists() && p.join("bin/sh").exists(),
            )
        })
        .clone()
}

/// A rootfs named by `env` (default `default_dir` under the repository),
/// built with `script DIR` unless `complete` says it is there already;
/// panics (never skips) when it cannot be made or is still incomplete.
pub fn built_rootfs(
    env: &str,
    default_dir: &str,
    script: &str,
    complete: &dyn Fn(&Path) -> bool,
) -> PathBuf {
    let path = match std::env::var_os(env) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => manifest_dir().join(default_dir),
    };
    if !complete(&path) {
        let script = manifest_dir().join(script);
        let out = Command::new("bash")
            .arg(&script)
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} {} failed ({}): {}{}",
            script.display(),
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        complete(&path),
        "rootfs {} is incomplete after {script}",
        path.display()
    );
    fs::canonicalize(&path).unwrap_or(path)
}

/// A name unique to this process and call, safe as a container id and a
/// directory name.
pub fn unique_id(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{:x}", std::process::id(), nanos & 0xffff)
}

/// runc's default spec as scripts/mkbundle.sh writes it: the conformance
/// runner's bundle spec (the one copy), running `args`.
pub fn default_spec(args: &[&str]) -> serde_json::Value {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    runrs::conformance::bundle_spec(&args)
}

/// An OCI bundle in a fresh directory under the temp dir: `rootfs/` (a
/// `cp -a` copy of [`rootfs()`]) and `config.json`. Removed on drop.
pub struct Bundle {
    dir: PathBuf,
}

impl Bundle {
    pub fn new(args: &[&str]) -> Bundle {
        let dir = std::env::temp_dir().join(unique_id("runrs-test-bundle"));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let bundle = Bundle { dir };
        let out = Command::new("cp")
            .arg("-a")
            .arg(rootfs())
            .arg(bundle.rootfs())
            .output()
            .expect("running cp -a");
        assert!(
            out.status.success(),
            "cp -a {} {}: {}",
            rootfs().display(),
            bundle.rootfs().display(),
            String::from_utf8_lossy(&out.stderr)
        );
        bundle.write_config(&default_spec(args));
        bundle
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    pub fn config(&self) -> serde_json::Value {
        let text = fs::read_to_string(self.config_path()).expect("read config.json");
        serde_json::from_str(&text).expect("parse config.json")
    }

    pub fn write_config(&self, v: &serde_json::Value) {
        let text = serde_json::to_string_pretty(v).expect("serialize config.json");
        fs::write(self.config_path(), text + "\n").expect("write config.json");
    }

    /// Edits config.json in place.
    pub fn config_mut(&self, f: impl FnOnce(&mut serde_json::Value)) {
        let mut v = self.config();
        f(&mut v);
        self.write_config(&v);
    }

    /// Writes `contents` to `rel` (relative to the rootfs).
    pub fn write_file(&self, rel: &str, contents: &[u8]) {
        let p = self.rootfs().join(rel.trim_start_matches('/'));
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir in rootfs");
        }
        fs::write(&p, contents).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A private `--root` state directory; on drop every container left in it is
/// force-deleted and the directory removed.
pub struct Root {
    dir: PathBuf,
}

impl Root {
    pub fn new() -> Root {
        let dir = std::env::temp_dir().join(unique_id("runrs-test-root"));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        Root { dir }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The state directory of container `id`.
    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }
}

impl Default for Root {
    fn default() -> Self {
        Root::new()
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if e.path().is_dir() {
                    let id = e.file_name().to_string_lossy().into_owned();
                    let _ = run(self, &["delete", "--force", &id]);
                }
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs `runrs --root <root> args...`; see [`run_command`].
pub fn run(root: &Root, args: &[&str]) -> Output {
    run_env(root, args, &[])
}

/// Like [`run`] with extra environment variables for runrs.
pub fn run_env(root: &Root, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(runrs());
    cmd.arg("--root").arg(root.path()).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_command(cmd)
}

/// Runs a command with stdin from /dev/null and stdout/stderr captured
/// through files (not pipes: a container's processes inherit them, and
/// `create` must not wait for the container to close them). Panics after
/// [`COMMAND_TIMEOUT`].
pub fn run_command(mut cmd: Command) -> Output {
    let tmp = std::env::temp_dir().join(unique_id("runrs-test-out"));
    fs::create_dir_all(&tmp).expect("mkdir output dir");
    let out_path = tmp.join("stdout");
    let err_path = tmp.join("stderr");
    let out_file = fs::File::create(&out_path).expect("create stdout file");
    let err_file = fs::File::create(&err_path).expect("create stderr file");
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {desc}: {e}"));
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait().expect("waiting for child") {
            Some(s) => break s,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = fs::remove_dir_all(&tmp);
                panic!("{desc} did not finish within {COMMAND_TIMEOUT:?}");
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let read = |p: &Path| {
        let mut v = Vec::new();
        if let Ok(mut f) = fs::File::open(p) {
            let _ = f.read_to_end(&mut v);
        }
        v
    };
    let output = Output {
        status,
        stdout: read(&out_path),
        stderr: read(&err_path),
    };
    let _ = fs::remove_dir_all(&tmp);
    output
}

/// A readable summary of an Output for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The lines of /proc/self/mountinfo that mention `path`.
pub fn mounts_snapshot(path: &Path) -> String {
    let needle = path.to_string_lossy();
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle.as_ref()))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The command line of `pid`, its arguments separated by NULs.
pub fn cmdline_args(pid: i32) -> Option<Vec<String>> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// Pids (other than ours) whose command line contains `s`.
pub fn processes_matching(s: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut pids = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return pids;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        if let Some(args) = cmdline_args(pid) {
            if args.join(" ").contains(s) && pid_alive(pid) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// The process exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    match stat.rfind(')') {
        Some(i) => !matches!(stat[i + 1..].trim_start().chars().next(), Some('Z' | 'X')),
        None => false,
    }
}

/// Polls `f` every 20 ms until it is true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `runrs state id` parsed; panics when it fails.
pub fn state(root: &Root, id: &str) -> serde_json::Value {
    let out = run(root, &["state", id]);
    assert!(out.status.success(), "state {id}: {}", describe(&out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("state {id} is not JSON ({e}): {}", describe(&out)))
}

/// The "status" field of `runrs state id`.
pub fn status(root: &Root, id: &str) -> String {
    state(root, id)["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Creates container `id` from `bundle`; panics when create fails.
pub fn create(root: &Root, bundle: &Bundle, id: &str) {
    let b = bundle.path().to_string_lossy().into_owned();
    let out = run(root, &["create", "--bundle", &b, id]);
    assert!(out.status.success(), "create {id}: {}", describe(&out));
}

/// Starts container `id`; panics when start fails.
pub fn start(root: &Root, id: &str) {
    let out = run(root, &["start", id]);
    assert!(out.status.success(), "start {id}: {}", describe(&out));
}

/// A running container from `bundle` (created and started), its id made
/// from `prefix`.
pub fn started(root: &Root, bundle: &Bundle, prefix: &str) -> String {
    let id = unique_id(prefix);
    create(root, bundle, &id);
    start(root, &id);
    id
}

/// `exec ID sh -c SCRIPT`.
pub fn exec_sh(root: &Root, id: &str, script: &str) -> Output {
    run(root, &["exec", id, "sh", "-c", script])
}
