//! End-to-end tests against podman (Debian 12's 4.3, conmon, cgroupfs
//! manager): `podman --runtime runrs ...` with the busybox image `runrs-bb`,
//! each compared with `podman --runtime runc` on the same command.
//! scripts/e2e-podman-setup.sh (run once by `ensure_podman`) installs podman,
//! the binary under test and a containers.conf the tests select with
//! CONTAINERS_CONF; these tests never skip. Every container gets a unique
//! name and is removed on drop.
//!
//! Run: `cargo test --test e2e_podman -- --nocapture`

mod e2e;

use e2e::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Runtime name the setup's containers.conf registers.
const RUNRS: &str = "runrs";
/// The reference.
const RUNC: &str = "runc";
/// Written by scripts/e2e-podman-setup.sh.
const CONF: &str = "/etc/runrs-test/podman-containers.conf";
/// Where the setup copies the binary under test.
const PODMAN_BIN: &str = "/usr/local/lib/runrs-test-podman/runrs";

/// Runs scripts/e2e-podman-setup.sh once per test binary (panics with its
/// output when it fails) and returns a guard that runs the tests one at a
/// time: Debian's runc 1.1.5 under parallel podman runs now and then fails
/// create with "error during container init: %!w(<nil>)".
fn ensure_podman() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    static SETUP: OnceLock<Result<(), String>> = OnceLock::new();
    let res = SETUP.get_or_init(|| {
        let script = manifest_dir().join("scripts/e2e-podman-setup.sh");
        let out = run_with_timeout(
            Command::new("bash")
                .arg(&script)
                .env("RUNRS_BIN", env!("CARGO_BIN_EXE_runrs"))
                .env("PODMAN_CONF", CONF),
            Duration::from_secs(600),
        );
        if out.success() {
            Ok(())
        } else {
            Err(format!("{} failed: {out}", script.display()))
        }
    });
    if let Err(e) = res {
        panic!("podman e2e setup failed, cannot test against podman:\n{e}");
    }
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn podman_cmd(args: &[&str]) -> Command {
    let mut c = Command::new("podman");
    c.env("CONTAINERS_CONF", CONF).args(args);
    c
}

/// `podman ARGS` with the default timeout.
fn podman(args: &[&str]) -> Out {
    run_with_timeout(&mut podman_cmd(args), CMD_TIMEOUT)
}

/// `podman ARGS` with `input` on its stdin.
fn podman_stdin(args: &[&str], input: &str) -> Out {
    let mut child = podman_cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn podman");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    let out = child.wait_with_output().expect("wait podman");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        timed_out: false,
        cmdline: format!("podman {args:?} <<< {input:?}"),
    }
}

/// A podman container, removed (`rm -f -t 0`) on drop, pass or fail.
struct Pod {
    name: String,
    runtime: &'static str,
}

impl Pod {
    fn new(runtime: &'static str, prefix: &str) -> Pod {
        Pod {
            name: unique_name(&format!("pm-{prefix}-{runtime}")),
            runtime,
        }
    }
    /// `podman --runtime RT run --name NAME OPTS runrs-bb ARGS`.
    fn run(&self, opts: &[&str], args: &[&str]) -> Out {
        podman(&self.run_argv(opts, args))
    }
    fn run_argv<'a>(&'a self, opts: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["--runtime", self.runtime, "run", "--name", &self.name];
        v.extend_from_slice(opts);
        v.push(IMAGE);
        v.extend_from_slice(args);
        v
    }
    /// `podman --runtime RT SUB OPTS NAME ARGS` (exec, logs, stop, ...).
    fn cmd(&self, sub: &str, opts: &[&str], args: &[&str]) -> Out {
        let mut v = vec!["--runtime", self.runtime, sub];
        v.extend_from_slice(opts);
        v.push(&self.name);
        v.extend_from_slice(args);
        podman(&v)
    }
    fn inspect(&self, format: &str) -> String {
        let out = podman(&["inspect", "--format", format, &self.name]);
        assert!(out.success(), "podman inspect: {out}");
        out.stdout.trim().to_string()
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        let _ = run_with_timeout(
            &mut podman_cmd(&["rm", "-f", "-t", "0", &self.name]),
            Duration::from_secs(30),
        );
    }
}

/// Runs `f` on runc and on runrs and asserts both give the same result.
fn same_on_both<T: PartialEq + std::fmt::Debug>(f: impl Fn(&'static str) -> T) -> T {
    let want = f(RUNC);
    let got = f(RUNRS);
    assert_eq!(got, want, "runrs (left) differs from runc (right)");
    got
}

/// The reproducer of issue 18: podman's spec mounts /sys/fs/cgroup with
/// `rprivate` (runrs failed "mount propagation on .../sys/fs/cgroup:
/// EINVAL") and sets `net.ipv4.ping_group_range` in a network namespace
/// it joins by path (refused before). Exit status, stdout and stderr as
/// runc's. (The sentry's /proc has no /proc/sys/net yet, so the sysctl's
/// value is not read back here.)
#[test]
fn run_exit_status_stdout_stderr() {
    let _serial = ensure_podman();
    same_on_both(|rt| {
        let c = Pod::new(rt, "run");
        let out = c.run(
            &["--rm"],
            &[
                "sh",
                "-c",
                "echo to-stdout; echo to-stderr >&2; ls /sys/fs/cgroup; exit 7",
            ],
        );
        assert!(!out.timed_out, "{out}");
        (out.code, out.stdout, out.stderr)
    });
}

/// -e, -w, -u and stdin through conmon (-i).
#[test]
fn env_workdir_user_stdin() {
    let _serial = ensure_podman();
    same_on_both(|rt| {
        let c = Pod::new(rt, "ewu");
        let out = c.run(
            &["--rm", "-e", "A=hello", "-w", "/tmp", "-u", "1000:1000"],
            &["sh", "-c", "echo $A; pwd; id -u; id -g"],
        );
        assert!(out.success(), "{out}");
        let c = Pod::new(rt, "stdin");
        let argv = c.run_argv(&["--rm", "-i"], &["sh", "-c", "tr a-z A-Z; exit 3"]);
        let piped = podman_stdin(&argv, "piped in\n");
        (out.stdout, piped.code, piped.stdout)
    });
}

/// run -d, ps, logs, exec (exit status, -u/-w/-e), stop (SIGTERM reaches
/// the trap), the exit code podman records, rm; then nothing of runrs's is
/// left: no process, no state directory.
#[test]
fn detached_ps_logs_exec_stop_rm() {
    let _serial = ensure_podman();
    let states = same_on_both(|rt| {
        let c = Pod::new(rt, "life");
        let out = c.run(
            &["-d"],
            &[
                "sh",
                "-c",
                "echo started; trap 'echo got-term; exit 0' TERM; \
                 while true; do sleep 0.1; done",
            ],
        );
        assert!(out.success(), "podman run -d on {rt}: {out}");
        let id = out.stdout.trim().to_string();
        assert!(
            wait_until(Duration::from_secs(10), || c
                .cmd("logs", &[], &[])
                .stdout
                .contains("started")),
            "no output from {rt}"
        );
        let ps = podman(&[
            "ps",
            "--filter",
            &format!("name={}", c.name),
            "--format",
            "{{.Names}} {{.State}}",
        ]);
        assert!(ps.success(), "{ps}");
        let exec = c.cmd(
            "exec",
            &["-u", "1000", "-w", "/tmp", "-e", "B=b"],
            &["sh", "-c", "echo in-exec $B; pwd; id -u; exit 5"],
        );
        let stop = c.cmd("stop", &["-t", "10"], &[]);
        assert!(stop.success(), "{stop}");
        let logs = c.cmd("logs", &[], &[]);
        let state = c.inspect("{{.State.Status}} {{.State.ExitCode}}");
        let rm = c.cmd("rm", &[], &[]);
        assert!(rm.success(), "{rm}");
        if rt == RUNRS {
            let left = pids_mentioning(&id);
            assert!(
                left.iter().all(|(_, cl)| !cl.contains("runrs")),
                "runrs processes left after podman rm: {left:?}"
            );
            let dir = std::path::Path::new("/run/runrs").join(&id);
            assert!(!dir.exists(), "state dir {} left", dir.display());
        }
        // "NAME Up 1 second ago": the name and the first word.
        let ps_line: Vec<String> = ps
            .stdout
            .replace(&c.name, "NAME")
            .split_whitespace()
            .take(2)
            .map(str::to_string)
            .collect();
        (ps_line, exec.code, exec.stdout, logs.stdout, state)
    });
    assert_eq!(states.3, "started\ngot-term\n");
}

/// podman kill: SIGKILL by default, exit code 137 as runc's; and
/// `rm -f` of a running container.
#[test]
fn kill_and_rm_force() {
    let _serial = ensure_podman();
    same_on_both(|rt| {
        let c = Pod::new(rt, "kill");
        let out = c.run(&["-d"], &["sleep", "100"]);
        assert!(out.success(), "{out}");
        let kill = c.cmd("kill", &[], &[]);
        assert!(kill.success(), "{kill}");
        assert!(
            wait_until(Duration::from_secs(10), || c.inspect("{{.State.Status}}")
                == "exited"),
            "not exited after podman kill on {rt}"
        );
        let code = c.inspect("{{.State.ExitCode}}");
        let d = Pod::new(rt, "rmf");
        assert!(d.run(&["-d"], &["sleep", "100"]).success());
        let rm = podman(&["rm", "-f", "-t", "0", &d.name]);
        assert!(rm.success(), "{rm}");
        let gone = podman(&["container", "exists", &d.name]);
        (code, gone.code)
    });
}

/// run -it and exec -it on a pseudo-terminal (conmon's console socket);
/// the container's /dev/console is its terminal.
#[test]
fn tty_run_and_exec() {
    let _serial = ensure_podman();
    same_on_both(|rt| {
        let c = Pod::new(rt, "tty");
        let conf = format!("CONTAINERS_CONF={CONF}");
        let argv = vec!["env", conf.as_str(), "podman"];
        // /dev/console is the terminal too (runc's mountConsole).
        let run_argv = c.run_argv(
            &["--rm", "-it"],
            &[
                "sh",
                "-c",
                "tty; stat -c '%F %t' /dev/console; echo via-console > /dev/console; exit 4",
            ],
        );
        let mut full = argv.clone();
        full.extend_from_slice(&run_argv);
        let run = pty_run(30, &full);

        let d = Pod::new(rt, "ttyexec");
        assert!(d.run(&["-d"], &["sleep", "100"]).success());
        let mut full = argv.clone();
        full.extend_from_slice(&["--runtime", rt, "exec", "-it", &d.name]);
        full.extend_from_slice(&["sh", "-c", "tty; test -t 0 && echo stdin-tty; exit 6"]);
        let exec = pty_run(30, &full);
        (
            run.code,
            run.stdout.replace('\r', ""),
            exec.code,
            exec.stdout.replace('\r', ""),
        )
    });
}

/// runtime flags reach runrs (`--runtime-flag platform=ptrace`: conmon
/// passes `--platform=ptrace` before the command).
#[test]
fn runtime_flag_ptrace_platform() {
    let _serial = ensure_podman();
    let c = Pod::new(RUNRS, "ptrace");
    let out = podman(&[
        "--runtime",
        RUNRS,
        "--runtime-flag",
        "platform=ptrace",
        "run",
        "--rm",
        "--name",
        &c.name,
        IMAGE,
        "sh",
        "-c",
        "echo on-ptrace; exit 3",
    ]);
    assert_eq!(out.code, Some(3), "{out}");
    assert_eq!(out.stdout, "on-ptrace\n", "{out}");
    assert!(
        std::path::Path::new(PODMAN_BIN).exists(),
        "{PODMAN_BIN} missing"
    );
}

/// `--read-only` (podman adds /tmp, /run and /var/tmp tmpfs mounts with
/// runc's `tmpcopyup` extension) and `--tmpfs DIR:tmpcopyup`, which starts
/// with a copy of the image's directory, its mode included.
#[test]
fn read_only_and_tmpcopyup() {
    let _serial = ensure_podman();
    same_on_both(|rt| {
        let c = Pod::new(rt, "ro");
        let ro = c.run(
            &["--rm", "--read-only"],
            &[
                "sh",
                "-c",
                "touch /x 2>/dev/null && echo root-writable; \
                 echo data > /tmp/f && cat /tmp/f; stat -c '%a %U' /tmp",
            ],
        );
        assert!(ro.success(), "{ro}");
        let d = Pod::new(rt, "copyup");
        let up = d.run(
            &["--rm", "--tmpfs", "/bin:tmpcopyup"],
            &[
                "/bin/sh",
                "-c",
                "stat -c '%a %U' /bin; stat -c '%A %h %U %G %s %n' /bin/* | md5sum; touch /bin/new && echo bin-writable",
            ],
        );
        assert!(up.success(), "{up}");
        (ro.stdout, up.stdout)
    });
}

/// `podman top CTR -ef`: with ps(1) options podman runs the image's `ps`
/// through the runtime's exec. (Plain `podman top` reads /proc in the
/// container's mount namespace, which under runrs is the sandbox's empty
/// placeholder: docs/PODMAN.md.)
#[test]
fn top_with_ps_options() {
    let _serial = ensure_podman();
    same_on_both(|rt| {
        let c = Pod::new(rt, "top");
        assert!(c.run(&["-d"], &["sleep", "100"]).success());
        let top = podman(&["--runtime", rt, "top", &c.name, "-ef"]);
        assert!(top.success(), "{top}");
        top.stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    });
}
