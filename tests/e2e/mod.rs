//! Helpers for the end-to-end tests against a real dockerd / containerd
//! (tests/e2e_docker.rs, tests/e2e_containerd.rs). The host is prepared by
//! scripts/e2e-setup.sh, run once per test binary; if it fails the tests
//! fail with its output (they never skip).
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Runtime name registered in /etc/docker/daemon.json by e2e-setup.sh.
pub const RUNTIME: &str = "runrs";
/// The same binary with runtimeArgs ["--platform=ptrace"] (e2e-setup.sh).
pub const RUNTIME_PTRACE: &str = "runrs-ptrace";
/// Image imported by e2e-setup.sh from build/rootfs-busybox.
pub const IMAGE: &str = "runrs-bb";
/// Where e2e-setup.sh copies the binary under test.
pub const INSTALLED_BIN: &str = "/usr/local/lib/runrs-test/runrs";
/// State root the runc shim passes for docker containers.
pub const DOCKER_STATE_ROOT: &str = "/run/docker/runtime-runc/moby";
/// Default timeout of one docker/ctr command.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(60);

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs scripts/e2e-setup.sh once per test binary; panics with its output
/// when it fails.
pub fn ensure_docker() {
    static SETUP: OnceLock<Result<String, String>> = OnceLock::new();
    run_setup_once(&SETUP, "e2e-setup.sh", "cannot test against docker");
}

/// Runs `scripts/{script}` with the binary under test once per `cell`
/// (one per test binary); panics with its output and `why` when it fails.
pub fn run_setup_once(cell: &OnceLock<Result<String, String>>, script: &str, why: &str) {
    let res = cell.get_or_init(|| {
        let script = manifest_dir().join("scripts").join(script);
        let out = run_with_timeout(
            Command::new("bash")
                .arg(&script)
                .env("RUNRS_BIN", env!("CARGO_BIN_EXE_runrs")),
            Duration::from_secs(600),
        );
        let text = format!("{}{}", out.stdout, out.stderr);
        if out.success() {
            Ok(text)
        } else {
            Err(format!(
                "{} failed ({}):\n{text}",
                script.display(),
                out.status_text()
            ))
        }
    });
    if let Err(e) = res {
        panic!("{script} failed, {why}:\n{e}");
    }
}

/// The result of a command run by [`run_with_timeout`].
#[derive(Debug, Clone)]
pub struct Out {
    /// Exit code; None when killed by a signal (or by the timeout).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    pub cmdline: String,
}

impl Out {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
    pub fn status_text(&self) -> String {
        if self.timed_out {
            "timed out".into()
        } else {
            match self.code {
                Some(c) => format!("exit {c}"),
                None => "killed by a signal".into(),
            }
        }
    }
    /// Panics with the whole output unless the command exited 0.
    pub fn ok(self) -> Out {
        assert!(self.success(), "command failed: {self}");
        self
    }
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` -> {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmdline,
            self.status_text(),
            self.stdout,
            self.stderr
        )
    }
}

/// Runs `cmd` with stdin from /dev/null, collecting stdout and stderr;
/// kills it after `timeout`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Out {
    let cmdline = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmdline}: {e}"));
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let to = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let te = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // A daemonized grandchild may hold the pipes open: do not wait forever.
    let join = |t: std::thread::JoinHandle<Vec<u8>>| {
        let end = Instant::now() + Duration::from_secs(5);
        while !t.is_finished() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        if t.is_finished() {
            String::from_utf8_lossy(&t.join().unwrap()).into_owned()
        } else {
            "<output pipe still held open by a background process>".into()
        }
    };
    Out {
        code: if timed_out { None } else { status.code() },
        stdout: join(to),
        stderr: join(te),
        timed_out,
        cmdline,
    }
}

/// `docker ARGS` with the default timeout.
pub fn docker(args: &[&str]) -> Out {
    docker_t(args, CMD_TIMEOUT)
}

pub fn docker_t(args: &[&str], timeout: Duration) -> Out {
    run_with_timeout(Command::new("docker").args(args), timeout)
}

/// `docker run --runtime=runrs --name NAME [opts] runrs-bb ARGS...`
/// (the caller passes `--rm` / `-d` in `opts`).
pub fn docker_run(name: &str, opts: &[&str], args: &[&str]) -> Out {
    docker_run_on(RUNTIME, name, opts, args)
}

/// [`docker_run`] with another registered runtime.
pub fn docker_run_on(runtime: &str, name: &str, opts: &[&str], args: &[&str]) -> Out {
    let mut v: Vec<&str> = vec!["run", "--runtime", runtime, "--name", name];
    v.extend_from_slice(opts);
    v.push(IMAGE);
    v.extend_from_slice(args);
    docker(&v)
}

/// A name unique to this process and call.
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "runrs-e2e-{prefix}-{}-{n}-{:x}",
        std::process::id(),
        nanos & 0xfff
    )
}

/// Removes the docker container (`docker rm -f`) on drop, pass or fail.
pub struct Ctr {
    pub name: String,
    pub runtime: &'static str,
}

impl Ctr {
    pub fn new(prefix: &str) -> Ctr {
        Ctr::on(RUNTIME, prefix)
    }
    /// A container that `run_detached` runs with `runtime`.
    pub fn on(runtime: &'static str, prefix: &str) -> Ctr {
        Ctr {
            name: unique_name(prefix),
            runtime,
        }
    }
    /// `docker run -d` of this container; panics unless it started.
    pub fn run_detached(&self, opts: &[&str], args: &[&str]) -> String {
        let mut o = vec!["-d"];
        o.extend_from_slice(opts);
        let out = docker_run_on(self.runtime, &self.name, &o, args);
        assert!(
            out.success(),
            "docker run -d --runtime={} failed: {out}",
            self.runtime
        );
        self.id()
    }
    /// The full 64-hex container id.
    pub fn id(&self) -> String {
        self.inspect("{{.Id}}")
    }
    pub fn inspect(&self, format: &str) -> String {
        let out = docker(&["inspect", "--format", format, &self.name]);
        assert!(out.success(), "docker inspect failed: {out}");
        out.stdout.trim().to_string()
    }
    pub fn logs(&self) -> Out {
        docker(&["logs", &self.name])
    }
    pub fn exec(&self, opts: &[&str], args: &[&str]) -> Out {
        let mut v = vec!["exec"];
        v.extend_from_slice(opts);
        v.push(&self.name);
        v.extend_from_slice(args);
        docker(&v)
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        let _ = docker_t(&["rm", "-f", &self.name], Duration::from_secs(30));
    }
}

/// Polls `f` every 100 ms until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `/sys/fs/cgroup/<controller>/docker/<id>` (cgroup v1, cgroupfs driver).
pub fn docker_cgroup(controller: &str, id: &str) -> PathBuf {
    Path::new("/sys/fs/cgroup")
        .join(controller)
        .join("docker")
        .join(id)
}

/// Reads a cgroup file, panicking with a clear message when it is missing
/// (i.e. the runtime did not create the container's cgroup).
pub fn read_cgroup_file(controller: &str, id: &str, file: &str) -> String {
    let p = docker_cgroup(controller, id).join(file);
    match std::fs::read_to_string(&p) {
        Ok(s) => s.trim().to_string(),
        Err(e) => panic!(
            "cannot read {} ({e}): runrs did not put the container into \
             linux.cgroupsPath /docker/{id} on the {controller} hierarchy",
            p.display()
        ),
    }
}

/// Host pids whose command line mentions `needle`.
pub fn pids_mentioning(needle: &str) -> Vec<(u32, String)> {
    let mut v = Vec::new();
    let me = std::process::id();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if pid == me {
                continue;
            }
            if let Ok(raw) = std::fs::read(e.path().join("cmdline")) {
                let cl = String::from_utf8_lossy(&raw).replace('\0', " ");
                if cl.contains(needle) && !cl.starts_with("docker ") {
                    v.push((pid, cl));
                }
            }
        }
    }
    v
}

/// The python pty runner (tests/e2e/pty_run.py).
pub fn pty_run(timeout_secs: u64, argv: &[&str]) -> Out {
    let script = manifest_dir().join("tests/e2e/pty_run.py");
    run_with_timeout(
        Command::new("python3")
            .arg(script)
            .arg(timeout_secs.to_string())
            .args(argv),
        Duration::from_secs(timeout_secs + 10),
    )
}
