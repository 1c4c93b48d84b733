//! runc's command line, compared: the same commands on the same bundles
//! under Debian's runc and under runrs, each with a state root of its own,
//! must agree on exit status and output shape (issue 18: kill with signal
//! 0, ps of a stopped container, -v, checkpoint/restore, exec's 255,
//! `events --stats`). runc's messages are logrus lines
//! (`time=... level=error msg="..."`), runrs's are plain, so stderr is
//! compared by content, not byte for byte. Needs root and runc
//! (scripts/test.sh installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

const RUNC: &str = "/usr/sbin/runc";

/// One runtime binary with a state root of its own; force-deletes its
/// containers on drop.
struct Rt {
    bin: PathBuf,
    root: PathBuf,
    ids: std::cell::RefCell<Vec<String>>,
}

impl Rt {
    fn runc() -> Rt {
        assert!(
            Path::new(RUNC).exists(),
            "{RUNC} is missing: install runc (Debian package `runc`), e.g. by running scripts/test.sh"
        );
        Rt::new(PathBuf::from(RUNC))
    }
    fn runrs() -> Rt {
        Rt::new(runrs())
    }
    fn new(bin: PathBuf) -> Rt {
        let root = std::env::temp_dir().join(unique_id("runrs-test-cli-root"));
        std::fs::create_dir_all(&root).expect("mkdir state root");
        Rt {
            bin,
            root,
            ids: Default::default(),
        }
    }
    fn name(&self) -> String {
        self.bin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
    /// `BIN --root ROOT ARGS`.
    fn cmd(&self, args: &[&str]) -> Output {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(&self.root).args(args);
        run_command(c)
    }
    /// `BIN ARGS` without --root.
    fn bare(&self, args: &[&str]) -> Output {
        let mut c = Command::new(&self.bin);
        c.args(args);
        run_command(c)
    }
    /// Creates a container of `bundle` (deleted with this runtime);
    /// returns its id.
    fn create(&self, bundle: &Bundle, prefix: &str) -> String {
        let id = unique_id(&format!("{prefix}-{}", self.name()));
        self.ids.borrow_mut().push(id.clone());
        let b = bundle.path().to_string_lossy().into_owned();
        self.ok(&["create", "--bundle", &b, &id]);
        id
    }
    /// Creates and starts `sleep 100` from a fresh bundle; returns its id.
    fn start_sleeper(&self, bundle: &Bundle) -> String {
        let id = self.create(bundle, "cli");
        self.ok(&["start", &id]);
        id
    }
    /// `BIN --root ROOT ARGS`, which must succeed.
    fn ok(&self, args: &[&str]) -> Output {
        let out = self.cmd(args);
        assert!(
            out.status.success(),
            "{} {}: {}",
            self.name(),
            args.first().unwrap_or(&""),
            describe(&out)
        );
        out
    }
    /// SIGKILLs `id` and waits until its state says stopped.
    fn stop(&self, id: &str) {
        self.ok(&["kill", id, "KILL"]);
        let stopped = wait_until(std::time::Duration::from_secs(10), || {
            let st = self.cmd(&["state", id]);
            String::from_utf8_lossy(&st.stdout).contains("\"stopped\"")
        });
        assert!(stopped, "{} container {id} did not stop", self.name());
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        for id in self.ids.borrow().iter() {
            let _ = self.cmd(&["delete", "--force", id]);
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `f` with runc, then with runrs, and asserts equal results.
fn same<T: PartialEq + std::fmt::Debug>(f: impl Fn(&Rt) -> T) -> T {
    let want = f(&Rt::runc());
    let got = f(&Rt::runrs());
    assert_eq!(got, want, "runrs (left) differs from runc (right)");
    got
}

/// [`same`] on a running `sleep 100` (its id) of a fresh bundle, one for
/// each runtime.
fn same_on_sleeper<T: PartialEq + std::fmt::Debug>(f: impl Fn(&Rt, &str) -> T) -> T {
    same(|rt| {
        let bundle = Bundle::new(&["sleep", "100"]);
        let id = rt.start_sleeper(&bundle);
        f(rt, &id)
    })
}

/// `kill ID 0` checks that init exists: success while it runs, an error
/// once it stopped; an unknown signal name is an error either way.
#[test]
fn kill_signal_zero() {
    same_on_sleeper(|rt, id| {
        let running = rt.cmd(&["kill", id, "0"]).status.code();
        let bogus = rt.cmd(&["kill", id, "SIGZERO"]).status.code();
        rt.stop(id);
        let stopped = rt.cmd(&["kill", id, "0"]);
        assert!(
            text(&stopped.stderr).contains("not running"),
            "{}: {}",
            rt.name(),
            describe(&stopped)
        );
        (running, bogus, stopped.status.code())
    });
}

/// `ps` of a stopped container: the table's header only, or `null` with
/// --format json, and exit 0.
#[test]
fn ps_of_stopped_container() {
    same_on_sleeper(|rt, id| {
        let running = rt.cmd(&["ps", "--format", "json", id]);
        let pids: Vec<i64> = serde_json::from_slice(&running.stdout)
            .unwrap_or_else(|e| panic!("{} ps json ({e}): {}", rt.name(), describe(&running)));
        rt.stop(id);
        let table = rt.cmd(&["ps", id]);
        let json = rt.cmd(&["ps", "--format", "json", id]);
        (
            pids.len(),
            table.status.code(),
            text(&table.stdout),
            json.status.code(),
            text(&json.stdout),
        )
    });
}

/// `-v` and `--version`: exit 0, "NAME version X" first, a `spec:` line.
#[test]
fn version_flag() {
    let spec = same(|rt| {
        let mut lines = Vec::new();
        for flag in ["-v", "--version"] {
            let out = rt.bare(&[flag]);
            assert!(
                out.status.success(),
                "{} {flag}: {}",
                rt.name(),
                describe(&out)
            );
            let stdout = text(&out.stdout);
            assert!(
                stdout.starts_with(&format!("{} version ", rt.name())),
                "{} {flag}: {stdout}",
                rt.name()
            );
            lines.push(
                stdout
                    .lines()
                    .find(|l| l.starts_with("spec: "))
                    .map(str::to_string),
            );
        }
        lines
    });
    assert!(spec[0].is_some(), "no spec: line");
}

/// `checkpoint --help` works; `checkpoint` and `restore` fail (runc's for
/// want of CRIU on this host), runrs's with one line saying the sandbox
/// cannot do it, after accepting runc's flags.
#[test]
fn checkpoint_and_restore_refused_clearly() {
    same(|rt| {
        let help = rt.bare(&["checkpoint", "--help"]);
        assert!(
            text(&help.stdout).contains("checkpoint"),
            "{}: {}",
            rt.name(),
            describe(&help)
        );
        let bundle = Bundle::new(&["sleep", "100"]);
        let id = rt.start_sleeper(&bundle);
        let images = std::env::temp_dir().join(unique_id("runrs-test-criu"));
        let images = images.to_string_lossy().into_owned();
        let ck = rt.cmd(&[
            "checkpoint",
            "--image-path",
            &images,
            "--leave-running",
            "--tcp-established",
            &id,
        ]);
        let b = bundle.path().to_string_lossy().into_owned();
        let rs = rt.cmd(&["restore", "-d", "--image-path", &images, "-b", &b, "other"]);
        let _ = std::fs::remove_dir_all(&images);
        if rt.name() == "runrs" {
            for (what, out) in [("checkpoint", &ck), ("restore", &rs)] {
                let err = text(&out.stderr);
                assert_eq!(err.lines().count(), 1, "{what}: {}", describe(out));
                assert!(
                    err.contains(what) && err.contains("not supported"),
                    "{what}: {}",
                    describe(out)
                );
            }
            // The container is untouched.
            let state = rt.cmd(&["state", &id]);
            assert!(
                text(&state.stdout).contains("\"running\""),
                "{}",
                describe(&state)
            );
        }
        (help.status.code(), ck.status.success(), rs.status.success())
    });
}

/// Failures of exec itself exit 255 (a paused container, a program that
/// does not exist, an unknown container); the process's own status
/// passes through.
#[test]
fn exec_failures_exit_255() {
    same_on_sleeper(|rt, id| {
        let own = rt.cmd(&["exec", id, "sh", "-c", "exit 3"]).status.code();
        let missing = rt.cmd(&["exec", id, "/nonexistent"]);
        let unknown = rt.cmd(&["exec", "no-such-container", "true"]);
        rt.ok(&["pause", id]);
        let paused = rt.cmd(&["exec", id, "true"]);
        rt.ok(&["resume", id]);
        for out in [&missing, &unknown, &paused] {
            assert!(
                text(&out.stderr).contains("exec failed: "),
                "{}: {}",
                rt.name(),
                describe(out)
            );
        }
        assert!(
            text(&paused.stderr).contains("paused"),
            "{}",
            describe(&paused)
        );
        (
            own,
            missing.status.code(),
            unknown.status.code(),
            paused.status.code(),
        )
    });
}

/// `events --stats` prints one JSON line that starts as runc's:
/// `{"type":"stats","id":"ID","data":{...`.
#[test]
fn events_stats_line_shape() {
    same_on_sleeper(|rt, id| {
        let out = rt.cmd(&["events", "--stats", id]);
        assert!(out.status.success(), "{}: {}", rt.name(), describe(&out));
        let line = text(&out.stdout);
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{} events --stats ({e}): {line}", rt.name()));
        let prefix = format!(r#"{{"type":"stats","id":"{id}","data":{{"#);
        (
            line.lines().count(),
            line.starts_with(&prefix),
            v["data"]["memory"]["usage"]["usage"].is_u64(),
            v["data"]["pids"]["current"].is_u64(),
        )
    });
}

/// `runrs run` of `bundle` as `rt`, with its state removed after.
fn run_once(rt: &Rt, bundle: &Bundle) -> Output {
    let id = unique_id(&format!("cli-run-{}", rt.name()));
    rt.ids.borrow_mut().push(id.clone());
    let b = bundle.path().to_string_lossy().into_owned();
    rt.cmd(&["run", "--bundle", &b, &id])
}

/// `linux.rootfsPropagation` shared and rshared (pivot_root used to fail
/// with EINVAL: the mount holding the rootfs is now made private first, as
/// runc does), private and rslave; nothing of the container's mounts is
/// left on the host. (runc fails `unbindable` at pivot_root; runrs runs
/// it: not compared.)
#[test]
fn rootfs_propagation_values() {
    same(|rt| {
        let mut results = Vec::new();
        for prop in ["shared", "rshared", "private", "rslave"] {
            let bundle = Bundle::new(&["sh", "-c", "echo in-container"]);
            bundle.config_mut(|c| c["linux"]["rootfsPropagation"] = prop.into());
            let out = run_once(rt, &bundle);
            let left = mounts_snapshot(bundle.path());
            assert!(
                left.is_empty(),
                "{} {prop}: mounts left:\n{left}",
                rt.name()
            );
            results.push((prop, out.status.code(), text(&out.stdout)));
        }
        results
    });
}

/// A /proc or /sys that the image made a symlink is refused with a clear
/// error naming the mount, as runc refuses it ("must be mounted on
/// ordinary directory"), not followed.
#[test]
fn symlinked_proc_or_sys_refused() {
    same(|rt| {
        let mut results = Vec::new();
        for (dir, typ) in [("proc", "proc"), ("sys", "sysfs")] {
            let bundle = Bundle::new(&["sh", "-c", "echo in-container"]);
            let at = bundle.rootfs().join(dir);
            std::fs::remove_dir_all(&at).expect("rm dir");
            std::os::unix::fs::symlink("/tmp", &at).expect("symlink");
            let out = run_once(rt, &bundle);
            let err = text(&out.stderr);
            assert!(
                err.contains(typ) && err.contains("ordinary directory"),
                "{} /{dir}: {}",
                rt.name(),
                describe(&out)
            );
            results.push((dir, out.status.code(), text(&out.stdout)));
        }
        results
    });
}

/// `exec -p process.json` whose process has no `user` runs as uid 0, gid
/// 0 (runc's zero value); runrs refused the file before.
#[test]
fn exec_process_file_without_user() {
    same_on_sleeper(|rt, id| {
        let file = std::env::temp_dir().join(unique_id("runrs-test-process"));
        std::fs::write(
            &file,
            r#"{"args":["sh","-c","echo from-p; id -u; id -g"],"cwd":"/tmp","env":["PATH=/bin"]}"#,
        )
        .expect("write process.json");
        let out = rt.cmd(&["exec", "-p", &file.to_string_lossy(), id]);
        let _ = std::fs::remove_file(&file);
        (out.status.code(), text(&out.stdout))
    });
}

/// `events --interval` takes Go durations (`200ms`); every line of the
/// stream starts `{"type":"stats","id":"ID"`; a bad duration is an error
/// that names it.
/// `events --interval INTERVAL ID` of runtime `rt`, its stdout's lines
/// coming through the receiver as they are printed.
fn spawn_events(
    rt: &Rt,
    interval: &str,
    id: &str,
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = Command::new(&rt.bin)
        .arg("--root")
        .arg(&rt.root)
        .args(["events", "--interval", interval, id])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn events");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(|l| l.ok())
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

#[test]
fn events_interval_go_duration() {
    same_on_sleeper(|rt, id| {
        let (mut child, rx) = spawn_events(rt, "200ms", id);
        // Three lines at all show "200ms" was read as milliseconds (as
        // seconds, none would come before the wait for each gives up).
        let mut lines = Vec::new();
        while lines.len() < 3 {
            match rx.recv_timeout(std::time::Duration::from_secs(30)) {
                Ok(l) => lines.push(l),
                Err(_) => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        let prefix = format!(r#"{{"type":"stats","id":"{id}""#);
        let bad = rt.cmd(&["events", "--interval", "5x", id]);
        (
            lines.len(),
            lines.iter().all(|l| l.starts_with(&prefix)),
            bad.status.success(),
        )
    });
}

/// An unknown command: runc's "No help topic for 'NAME'", exit status 3,
/// and no guess that names an internal command.
#[test]
fn unknown_command() {
    same(|rt| {
        let out = rt.bare(&["frobnicate", "x"]);
        let err = text(&out.stderr);
        assert!(
            err.contains("No help topic for 'frobnicate'") && !err.contains("boot"),
            "{}: {}",
            rt.name(),
            describe(&out)
        );
        (out.status.code(), text(&out.stdout))
    });
}

/// `exec -g/--additional-gids` adds supplementary groups to the
/// container's (with and without `-u`); `--no-new-privs` sets the flag.
#[test]
fn exec_additional_gids_and_no_new_privs() {
    same(|rt| {
        let bundle = Bundle::new(&["sleep", "100"]);
        bundle.config_mut(|c| c["process"]["noNewPrivileges"] = false.into());
        let id = rt.start_sleeper(&bundle);
        let user = rt.cmd(&["exec", "-u", "1000:1000", "-g", "10", "-g", "20", &id, "id"]);
        let nnp_off = rt.cmd(&["exec", &id, "sh", "-c", "grep NoNewPrivs /proc/self/status"]);
        let root = rt.cmd(&["exec", "--additional-gids", "10", &id, "id", "-G"]);
        let nnp = rt.cmd(&[
            "exec",
            "--no-new-privs",
            &id,
            "sh",
            "-c",
            "grep NoNewPrivs /proc/self/status",
        ]);
        (
            user.status.code(),
            text(&user.stdout),
            text(&root.stdout),
            text(&nnp_off.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            text(&nnp.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        )
    });
}

/// `exec --ignore-paused` in a paused container waits, frozen, until the
/// container is resumed, then runs; without the flag exec refuses (255).
#[test]
fn exec_ignore_paused_waits_for_resume() {
    same(|rt| {
        let bundle = Bundle::new(&["sleep", "100"]);
        let id = rt.start_sleeper(&bundle);
        rt.ok(&["pause", &id]);
        let refused = rt.cmd(&["exec", &id, "true"]).status.code();
        let (bin, root, cid) = (rt.bin.clone(), rt.root.clone(), id.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut c = Command::new(bin);
            c.arg("--root")
                .arg(root)
                .args(["exec", "--ignore-paused", &cid, "echo", "resumed"]);
            let _ = tx.send(run_command(c));
        });
        let early = rx
            .recv_timeout(std::time::Duration::from_millis(1500))
            .is_ok();
        rt.ok(&["resume", &id]);
        let done = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{}: exec did not finish after resume", rt.name()));
        (refused, early, done.status.code(), text(&done.stdout))
    });
}

/// tests/e2e/pty_io.py: `argv` on a fresh 33x101 terminal, `input` typed
/// into it.
fn on_pty(input: &str, argv: &[&str]) -> Output {
    let mut c = Command::new("python3");
    c.arg(manifest_dir().join("tests/e2e/pty_io.py"))
        .args(["30", "33x101", input])
        .args(argv);
    run_command(c)
}

/// A shell session's output without busybox's cursor-position query and
/// the prompt it redraws when no answer comes in time (timing, not
/// behaviour).
fn session(out: &Output) -> String {
    text(&out.stdout)
        .replace("\u{1b}[6n", "")
        .replace("/ # \u{1b}[J", "")
}

/// A terminal container run in the foreground without --console-socket,
/// and `exec -t` without it: the process gets a pty of its own as its
/// controlling terminal, on the caller's terminal (raw, same size), as
/// runc does; an interactive shell reads what is typed and its exit
/// status comes back. runrs ran such a process on the caller's stdio
/// ("can't access tty") and `exec -t` failed ("set controlling terminal").
#[test]
fn terminal_without_console_socket() {
    same(|rt| {
        let root = rt.root.to_string_lossy().into_owned();
        let bin = rt.bin.to_string_lossy().into_owned();
        let bundle = Bundle::new(&["sh"]);
        bundle.config_mut(|c| c["process"]["terminal"] = true.into());
        let id = unique_id(&format!("cli-tty-{}", rt.name()));
        rt.ids.borrow_mut().push(id.clone());
        let b = bundle.path().to_string_lossy().into_owned();
        let run = on_pty(
            "tty\\nstty size\\n<resize 40x120>stty size\\nls /dev/console\\necho hi-$((6*7))\\nexit 7\\n",
            &[&bin, "--root", &root, "run", "--bundle", &b, &id],
        );
        assert!(
            session(&run).contains("33 101\n") && session(&run).contains("40 120\n"),
            "{}: size not passed on: {}",
            rt.name(),
            describe(&run)
        );
        assert!(
            !text(&run.stdout).contains("can't access tty"),
            "{}: {}",
            rt.name(),
            describe(&run)
        );

        let bundle = Bundle::new(&["sleep", "100"]);
        let id = rt.start_sleeper(&bundle);
        let exec = on_pty(
            "tty\\nstty size\\nexit 6\\n",
            &[&bin, "--root", &root, "exec", "-t", &id, "sh"],
        );
        (
            run.status.code(),
            session(&run),
            exec.status.code(),
            session(&exec),
        )
    });
}

/// `--debug --log FILE` writes logrus-shaped debug lines for create,
/// start and exec, in text (`time="..." level=debug msg="..."`) and json
/// (`{"level":"debug","msg":...,"time":...}`); every line parses.
#[test]
fn debug_log_lines() {
    same(|rt| {
        let mut shapes = Vec::new();
        for format in ["text", "json"] {
            let log = std::env::temp_dir().join(unique_id("runrs-test-debug-log"));
            let log_s = log.to_string_lossy().into_owned();
            let bundle = Bundle::new(&["sleep", "100"]);
            let id = unique_id(&format!("cli-dbg-{}", rt.name()));
            rt.ids.borrow_mut().push(id.clone());
            let b = bundle.path().to_string_lossy().into_owned();
            let flags = ["--debug", "--log", &log_s, "--log-format", format];
            for args in [
                &["create", "--bundle", &b, &id][..],
                &["start", &id],
                &["exec", &id, "true"],
            ] {
                let mut v = flags.to_vec();
                v.extend_from_slice(args);
                let out = rt.cmd(&v);
                assert!(
                    out.status.success(),
                    "{} {args:?}: {}",
                    rt.name(),
                    describe(&out)
                );
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let _ = std::fs::remove_file(&log);
            let debug_lines = text.lines().filter(|l| l.contains("debug")).count();
            let well_formed = text.lines().all(|l| match format {
                "json" => serde_json::from_str::<serde_json::Value>(l)
                    .is_ok_and(|v| v["level"].is_string() && v["msg"].is_string()),
                _ => l.starts_with("time=\"") && l.contains(" level=") && l.contains(" msg="),
            });
            shapes.push((format, debug_lines > 0, well_formed));
        }
        shapes
    });
}

/// The mount points of the host's cgroup hierarchies (v1 and, on a hybrid
/// host, the v2 one), from /proc/self/mountinfo: never guessed from
/// names (`cpu,cpuacct` is one mount on some hosts, two on others).
fn cgroup_mounts() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" - cgroup ") || l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .collect()
}

/// A cgroup `/NAME` made beforehand in every v1 hierarchy (cpuset filled
/// in from the root), removed from every hierarchy on drop (the runtimes
/// add it to the others); None on a host without cgroup v1.
struct PreCgroup {
    name: String,
    v1: Vec<PathBuf>,
}

impl PreCgroup {
    fn new(prefix: &str) -> Option<PreCgroup> {
        let v1: Vec<PathBuf> = cgroup_mounts()
            .into_iter()
            .filter(|m| !m.join("cgroup.controllers").exists())
            .collect();
        if !v1
            .iter()
            .any(|m| m.join("freezer.state").exists() || m.ends_with("freezer"))
        {
            eprintln!("skipped: no cgroup v1 freezer hierarchy on this host");
            return None;
        }
        let name = unique_id(prefix);
        for m in &v1 {
            let dir = m.join(&name);
            std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
            for f in ["cpuset.cpus", "cpuset.mems"] {
                if let Ok(root) = std::fs::read_to_string(m.join(f)) {
                    std::fs::write(dir.join(f), root).expect("write cpuset");
                }
            }
        }
        Some(PreCgroup { name, v1 })
    }
    /// `file` of this cgroup in the hierarchy mounted at a path ending in
    /// `controller`.
    fn file(&self, controller: &str, file: &str) -> PathBuf {
        let m = self
            .v1
            .iter()
            .find(|m| m.ends_with(controller))
            .unwrap_or_else(|| panic!("no {controller} hierarchy in {:?}", self.v1));
        m.join(&self.name).join(file)
    }
    /// Moves `pid` into this cgroup in every v1 hierarchy.
    fn add(&self, pid: u32) {
        for m in &self.v1 {
            let procs = m.join(&self.name).join("cgroup.procs");
            std::fs::write(&procs, pid.to_string())
                .unwrap_or_else(|e| panic!("{}: {e}", procs.display()));
        }
    }
    /// A bundle whose cgroupsPath is this cgroup.
    fn bundle(&self, args: &[&str]) -> Bundle {
        let bundle = Bundle::new(args);
        let path = format!("/{}", self.name);
        bundle.config_mut(|c| c["linux"]["cgroupsPath"] = path.into());
        bundle
    }
}

impl Drop for PreCgroup {
    fn drop(&mut self) {
        let _ = std::fs::write(self.file("freezer", "freezer.state"), "THAWED");
        for m in cgroup_mounts() {
            let _ = std::fs::remove_dir(m.join(&self.name));
        }
    }
}

/// A cgroupsPath someone left frozen is refused ("container's cgroup
/// unexpectedly frozen"), as runc does; runrs's create waited forever.
#[test]
fn frozen_cgroup_refused() {
    same(|rt| {
        let cg = PreCgroup::new("runrs-test-frozen")?;
        std::fs::write(cg.file("freezer", "freezer.state"), "FROZEN").expect("freeze");
        let bundle = cg.bundle(&["true"]);
        let out = run_once(rt, &bundle);
        assert!(
            text(&out.stderr).contains("container's cgroup unexpectedly frozen"),
            "{}: {}",
            rt.name(),
            describe(&out)
        );
        Some(out.status.code())
    });
}

/// A cgroupsPath that already holds a process: runc's warning ("container's
/// cgroup is not empty"), the container runs, and its delete leaves that
/// process alone (runrs killed every process of the cgroup).
#[test]
fn non_empty_cgroup_warned_and_its_process_spared() {
    same(|rt| {
        let cg = PreCgroup::new("runrs-test-nonempty")?;
        let mut sleeper = Command::new("sleep")
            .arg("1000")
            .spawn()
            .expect("spawn sleep");
        cg.add(sleeper.id());
        let bundle = cg.bundle(&["sh", "-c", "echo ran"]);
        let out = run_once(rt, &bundle);
        std::thread::sleep(std::time::Duration::from_millis(300));
        let alive = sleeper.try_wait().expect("try_wait").is_none();
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        Some((
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr).contains("container's cgroup is not empty: 1 process(es) found"),
            alive,
        ))
    });
}

/// `update --cpu-quota -1` (no quota) after a quota, as runc takes it
/// (runrs's parser took -1 for a flag).
#[test]
fn update_cpu_quota_minus_one() {
    same_on_sleeper(|rt, id| {
        let quota = || {
            let out = rt.cmd(&["exec", id, "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"]);
            (out.status.code(), text(&out.stdout))
        };
        let mut seen = Vec::new();
        for q in ["50000", "-1"] {
            let out = rt.cmd(&["update", "--cpu-quota", q, id]);
            seen.push((out.status.code(), quota()));
        }
        seen
    });
}

/// startContainer hooks run where runc runs them: not at create, but
/// after `start`, in the container (its root: the hook writes into the
/// image's tree, and its user, cwd and pid namespace), before the
/// program, with the state ("created", pid 1) on stdin and only the
/// hook's own env. A failing hook ends the container before its program
/// runs: `run` exits 1 and prints what the hook said on stderr.
#[test]
fn start_container_hook_runs_in_the_container_before_the_program() {
    const HOOK: &str = "read -r state; { echo \"$state\"; id -u; echo \"$FOO\"; pwd; \
        cat /proc/self/cgroup >/dev/null && echo cgroup-ok; \
        test -e /only-in-image && echo in-image; } > /hook-out";
    let make_bundle = |hook: &str| {
        let bundle = Bundle::new(&["sh", "-c", "cat /hook-out 2>&1; echo program"]);
        bundle.write_file("only-in-image", b"");
        bundle.config_mut(|c| {
            c["process"]["user"] = serde_json::json!({"uid": 1000, "gid": 1000});
            c["process"]["cwd"] = "/tmp".into();
            c["hooks"] = serde_json::json!({"startContainer": [{
                "path": "/bin/sh", "args": ["sh", "-c", hook], "env": ["FOO=bar"]
            }]});
        });
        std::fs::create_dir_all(bundle.rootfs().join("tmp")).expect("mkdir tmp");
        // The hook runs as the process's user: let it write at /.
        std::fs::set_permissions(
            bundle.rootfs(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .expect("chmod rootfs");
        bundle
    };
    assert!(
        !Path::new("/hook-out").exists(),
        "/hook-out exists on the host: remove it first"
    );
    same(|rt| {
        let bundle = make_bundle(HOOK);
        let id = rt.create(&bundle, "cli-hook");
        let out_file = bundle.rootfs().join("hook-out");
        let ran_at_create = out_file.exists();
        rt.ok(&["start", &id]);
        let stopped = wait_until(std::time::Duration::from_secs(20), || {
            text(&rt.cmd(&["state", &id]).stdout).contains("\"stopped\"")
        });
        assert!(stopped, "{} container {id} did not stop", rt.name());
        let written = std::fs::read_to_string(&out_file).unwrap_or_else(|e| {
            panic!(
                "{}: the hook wrote no {}: {e}",
                rt.name(),
                out_file.display()
            )
        });
        let mut lines = written.lines();
        let st: serde_json::Value = serde_json::from_str(lines.next().unwrap_or_default())
            .unwrap_or_else(|e| {
                panic!(
                    "{}: the hook's stdin is no state ({e}): {written}",
                    rt.name()
                )
            });
        let rest: Vec<String> = lines.map(str::to_string).collect();
        // A failing hook: exit 1, its words on stderr, no program.
        let failing = make_bundle("echo said-out; echo said-err >&2; exit 3");
        let failed = run_once(rt, &failing);
        let err = text(&failed.stderr);
        assert!(
            err.contains("said-err") && err.contains("said-out") && err.contains("hook #0"),
            "{}: {}",
            rt.name(),
            describe(&failed)
        );
        (
            ran_at_create,
            st["id"] == id.as_str(),
            st["bundle"] == bundle.path().to_string_lossy().as_ref(),
            st["status"].clone(),
            st["pid"].clone(),
            rest,
            failed.status.code(),
            text(&failed.stdout),
        )
    });
    assert!(
        !Path::new("/hook-out").exists(),
        "a startContainer hook wrote to the host's root"
    );
}

/// `BIN --root ROOT ARGS` with `files` at fds 3, 4, ... of the runtime.
fn cmd_with_fds(rt: &Rt, args: &[&str], files: &[&std::fs::File]) -> Output {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let raw: Vec<i32> = files.iter().map(|f| f.as_raw_fd()).collect();
    let mut c = Command::new(&rt.bin);
    c.arg("--root").arg(&rt.root).args(args);
    // SAFETY: between fork and exec only fcntl and dup2, which are
    // async-signal-safe; each source is first copied above the targets so
    // that no dup2 overwrites one still to be placed, and dup2 clears
    // CLOEXEC on the copy, which is the point.
    unsafe {
        c.pre_exec(move || {
            let mut high = Vec::with_capacity(raw.len());
            for &f in &raw {
                let m = libc::fcntl(f, libc::F_DUPFD_CLOEXEC, 100);
                if m < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                high.push(m);
            }
            for (i, &m) in high.iter().enumerate() {
                if libc::dup2(m, 3 + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    run_command(c)
}

/// `--preserve-fds N` hands the caller's fds 3..3+N to the process at
/// 3..3+N, for run and for exec, and nothing above them (runc's
/// LISTEN_FDS-style passing): the container reads the file at 3 and
/// writes to the file at 4 as runc's does.
#[test]
fn preserve_fds_for_run_and_exec() {
    let tmp = std::env::temp_dir().join(unique_id("runrs-test-preserve"));
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let result = same(|rt| {
        let input = tmp.join(format!("in-{}", rt.name()));
        let output = tmp.join(format!("out-{}", rt.name()));
        std::fs::write(&input, "hello-3\n").expect("write input");
        let open = || {
            (
                std::fs::File::open(&input).expect("open input"),
                std::fs::File::create(&output).expect("create output"),
            )
        };
        let bundle = Bundle::new(&[
            "sh",
            "-c",
            "read l <&3; echo \"run got $l\"; echo run-to-4 >&4; \
             { echo x >&5; } 2>/dev/null || echo no-5",
        ]);
        let id = unique_id(&format!("cli-pfd-{}", rt.name()));
        rt.ids.borrow_mut().push(id.clone());
        let b = bundle.path().to_string_lossy().into_owned();
        let (i, o) = open();
        let ran = cmd_with_fds(
            rt,
            &["run", "--preserve-fds", "2", "--bundle", &b, &id],
            &[&i, &o],
        );
        let run_wrote = std::fs::read_to_string(&output).unwrap_or_default();

        let sleeper = Bundle::new(&["sleep", "100"]);
        let sid = rt.start_sleeper(&sleeper);
        let (i, o) = open();
        let execd = cmd_with_fds(
            rt,
            &[
                "exec",
                "--preserve-fds",
                "2",
                &sid,
                "sh",
                "-c",
                "read l <&3; echo \"exec got $l\"; echo exec-to-4 >&4; \
                 { echo x >&5; } 2>/dev/null || echo no-5",
            ],
            &[&i, &o],
        );
        let exec_wrote = std::fs::read_to_string(&output).unwrap_or_default();
        rt.stop(&sid);
        (
            ran.status.code(),
            text(&ran.stdout),
            run_wrote,
            execd.status.code(),
            text(&execd.stdout),
            exec_wrote,
        )
    });
    let _ = std::fs::remove_dir_all(&tmp);
    assert_eq!(result.1, "run got hello-3\nno-5\n", "{result:?}");
}

/// A preserved fd the caller did not open fails create (and exec, with
/// 255) naming it, and leaves no container behind.
#[test]
fn preserve_fds_missing_fd_refused() {
    let rt = Rt::runrs();
    let bundle = Bundle::new(&["true"]);
    let b = bundle.path().to_string_lossy().into_owned();
    let out = rt.cmd(&[
        "create",
        "--preserve-fds",
        "900",
        "--bundle",
        &b,
        "pfd-missing",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("unable to stat preserved-fd"),
        "{}",
        describe(&out)
    );
    let list = rt.cmd(&["list", "-q"]);
    assert_eq!(text(&list.stdout), "", "{}", describe(&list));
}

/// `exec --cgroup`: the process joins an existing sub-cgroup of the
/// container's, in every hierarchy or in the named controllers' only, as
/// the host's /proc/<pid>/cgroup shows; a missing sub-cgroup, an unknown
/// controller or a malformed argument is a runtime-side failure (255);
/// delete removes the sub-cgroups with the container's (cgroup v1).
#[test]
fn exec_cgroup_joins_sub_cgroups() {
    let v1 = Path::new("/sys/fs/cgroup/cpu/cgroup.procs").exists()
        && Path::new("/sys/fs/cgroup/memory/cgroup.procs").exists();
    if !v1 {
        eprintln!("skipped: needs cgroup v1 cpu and memory hierarchies");
        return;
    }
    same(|rt| {
        let cg = format!(
            "/{}",
            unique_id(&format!("runrs-test-execcg-{}", rt.name()))
        );
        let bundle = Bundle::new(&["sleep", "100"]);
        bundle.config_mut(|c| c["linux"]["cgroupsPath"] = cg.as_str().into());
        let id = rt.start_sleeper(&bundle);
        let hier = |c: &str| PathBuf::from(format!("/sys/fs/cgroup/{c}{cg}"));
        for c in ["cpu", "memory"] {
            std::fs::create_dir(hier(c).join("sub")).expect("mkdir sub-cgroup");
        }
        let pid_file = bundle.path().join("exec.pid");
        let pf = pid_file.to_string_lossy().into_owned();
        let mut results = Vec::new();
        for arg in [
            "cpu:sub",
            "cpu,memory:sub",
            "nosuch",
            "cpu:nosuch",
            "a:b:c",
            "bogus:sub",
        ] {
            let _ = std::fs::remove_file(&pid_file);
            let out = rt.cmd(&[
                "exec",
                "-d",
                "--pid-file",
                &pf,
                "--cgroup",
                arg,
                &id,
                "sleep",
                "100",
            ]);
            // The cpu and memory lines of the host's /proc/<pid>/cgroup,
            // relative to the container's cgroup.
            let joined: Vec<String> = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|p| std::fs::read_to_string(format!("/proc/{}/cgroup", p.trim())).ok())
                .unwrap_or_default()
                .lines()
                .filter_map(|l| {
                    let mut f = l.splitn(3, ':').skip(1);
                    let (ctl, path) = (f.next()?, f.next()?);
                    let rel = path.strip_prefix(cg.as_str())?;
                    matches!(ctl, "cpu" | "memory").then(|| format!("{ctl}:{rel}"))
                })
                .collect();
            if !out.status.success() {
                assert!(
                    text(&out.stderr).to_lowercase().contains("cgroup"),
                    "{} exec --cgroup {arg}: {}",
                    rt.name(),
                    describe(&out)
                );
            }
            results.push((arg, out.status.code(), joined));
        }
        rt.stop(&id);
        rt.ok(&["delete", &id]);
        let left: Vec<bool> = ["cpu", "memory"].iter().map(|c| hier(c).exists()).collect();
        (results, left)
    });
}

/// `BIN --root ROOT ARGS < input`.
fn cmd_with_stdin(rt: &Rt, args: &[&str], input: &Path) -> Output {
    let mut c = Command::new("sh");
    c.args(["-c", "exec \"$0\" \"$@\" < \"$RUNRS_TEST_STDIN\""])
        .arg(&rt.bin)
        .arg("--root")
        .arg(&rt.root)
        .args(args)
        .env("RUNRS_TEST_STDIN", input);
    run_command(c)
}

/// The text of `file` in the container cgroup `cg`'s `controller`
/// hierarchy (cgroup v1), trimmed.
fn cg_file(controller: &str, cg: &str, file: &str) -> String {
    std::fs::read_to_string(format!("/sys/fs/cgroup/{controller}{cg}/{file}"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|e| format!("unreadable: {e}"))
}

fn cgroup_v1() -> bool {
    ["cpu", "memory", "cpuset"]
        .iter()
        .all(|c| Path::new(&format!("/sys/fs/cgroup/{c}/cgroup.procs")).exists())
}

/// Whether the test is skipped (said on stderr) for want of cgroup v1.
fn skipped_without_cgroup_v1() -> bool {
    let skip = !cgroup_v1();
    if skip {
        eprintln!("skipped: needs cgroup v1 cpu, memory and cpuset hierarchies");
    }
    skip
}

/// `update` as runc's: a shorter CFS period with a smaller quota under a
/// parent's quota (the period alone would exceed the parent's share: the
/// quota goes first), --memory-reservation with a unit, --cpuset-cpus/
/// -mems, the realtime period and runtime, --blkio-weight (written to the
/// file the host has, or failing as runc's does where it has none), and
/// `-r -` applying every field runc's takes (not swappiness) and
/// ignoring the flags.
#[test]
fn update_fields_and_order_match_runc() {
    if skipped_without_cgroup_v1() {
        return;
    }
    same(|rt| {
        let parent = format!("/{}", unique_id(&format!("runrs-test-upd-{}", rt.name())));
        let pdir = PathBuf::from(format!("/sys/fs/cgroup/cpu{parent}"));
        std::fs::create_dir(&pdir).expect("mkdir parent cgroup");
        std::fs::write(pdir.join("cpu.cfs_quota_us"), "50000").expect("parent quota");
        let cg = format!("{parent}/c");
        let bundle = Bundle::new(&["sleep", "100"]);
        bundle.config_mut(|c| {
            c["linux"]["cgroupsPath"] = cg.as_str().into();
            c["linux"]["resources"] =
                serde_json::json!({"cpu": {"quota": 50000, "period": 100000}});
        });
        let id = rt.start_sleeper(&bundle);
        let mut results = Vec::new();
        let mut step = |name: &str, out: Output, files: &[(&str, &str)]| {
            let values: Vec<String> = files.iter().map(|(c, f)| cg_file(c, &cg, f)).collect();
            results.push((name.to_string(), out.status.code(), values));
        };
        let out = rt.cmd(&[
            "update",
            "--cpu-period",
            "50000",
            "--cpu-quota",
            "25000",
            &id,
        ]);
        step(
            "period+quota",
            out,
            &[("cpu", "cpu.cfs_period_us"), ("cpu", "cpu.cfs_quota_us")],
        );
        let out = rt.cmd(&[
            "update",
            "--memory-reservation",
            "32m",
            "--cpuset-cpus",
            "0",
            "--cpuset-mems",
            "0",
            "--cpu-rt-period",
            "900000",
            &id,
        ]);
        let flag_files = [
            ("memory", "memory.soft_limit_in_bytes"),
            ("cpuset", "cpuset.cpus"),
            ("cpuset", "cpuset.mems"),
            ("cpu", "cpu.rt_period_us"),
            ("cpu", "cpu.rt_runtime_us"),
            ("memory", "memory.swappiness"),
        ];
        step("flags", out, &flag_files);
        let out = rt.cmd(&["update", "--blkio-weight", "500", &id]);
        let blkio = if Path::new("/sys/fs/cgroup/blkio/blkio.bfq.weight").exists() {
            "blkio.bfq.weight"
        } else {
            "blkio.weight"
        };
        step("blkio", out, &[("blkio", blkio)]);
        let resources = r#"{"memory": {"reservation": 16777216, "swappiness": 7},
            "cpu": {"realtimePeriod": 800000, "cpus": "0", "mems": "0"}}"#;
        let input = bundle.path().join("resources.json");
        std::fs::write(&input, resources).expect("write resources");
        let out = cmd_with_stdin(
            rt,
            &["update", "-r", "-", "--memory-reservation", "1g", &id],
            &input,
        );
        step("-r -", out, &flag_files);
        rt.stop(&id);
        rt.ok(&["delete", &id]);
        // The parent, in every hierarchy the container's cgroup made it.
        for h in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_dir(h.path().join(parent.trim_start_matches('/')));
        }
        results
    });
}

/// `linux.resources.memory` reservation, swappiness and disableOOMKiller
/// at create, in the memory cgroup as runc writes them; `unified` on a
/// v1 host refused at create, leaving no container.
#[test]
fn memory_knobs_and_unified_on_v1_match_runc() {
    if skipped_without_cgroup_v1() {
        return;
    }
    same(|rt| {
        let cg = format!("/{}", unique_id(&format!("runrs-test-mem-{}", rt.name())));
        let bundle = Bundle::new(&["sleep", "100"]);
        bundle.config_mut(|c| {
            c["linux"]["cgroupsPath"] = cg.as_str().into();
            c["linux"]["resources"] = serde_json::json!({"memory": {
                "limit": 268435456, "reservation": 67108864, "swappiness": 13, "disableOOMKiller": true
            }});
        });
        let id = rt.start_sleeper(&bundle);
        let oom_disabled = cg_file("memory", &cg, "memory.oom_control")
            .lines()
            .any(|l| l == "oom_kill_disable 1");
        let values = (
            cg_file("memory", &cg, "memory.soft_limit_in_bytes"),
            cg_file("memory", &cg, "memory.swappiness"),
            oom_disabled,
        );
        rt.stop(&id);

        let unified = Bundle::new(&["true"]);
        unified.config_mut(|c| {
            c["linux"]["resources"] = serde_json::json!({"unified": {"memory.high": "1000000"}});
        });
        let uid = unique_id(&format!("cli-unified-{}", rt.name()));
        let b = unified.path().to_string_lossy().into_owned();
        let out = rt.cmd(&["create", "--bundle", &b, &uid]);
        let err = text(&out.stderr);
        assert!(err.contains("unified"), "{}: {}", rt.name(), describe(&out));
        let left = text(&rt.cmd(&["list", "-q"]).stdout);
        (values, out.status.code(), left.contains(&uid))
    });
}

/// `events` streams an OOM kill in the container's memory cgroup as it
/// happens, as runc's line `{"type":"oom","id":ID}`, between the stats
/// lines (the first after one interval).
#[test]
fn events_stream_oom_kills() {
    let (_, saw_oom, _) = same(|rt| {
        let bundle = Bundle::new(&[
            "sh",
            "-c",
            "while [ ! -e /go ]; do sleep 0.1; done; \
             dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 100",
        ]);
        bundle.config_mut(|c| {
            c["linux"]["resources"] =
                serde_json::json!({"memory": {"limit": 16777216, "swap": 16777216}});
        });
        let id = rt.start_sleeper(&bundle);
        let (mut child, rx) = spawn_events(rt, "100ms", &id);
        let next = || rx.recv_timeout(std::time::Duration::from_secs(20)).ok();
        // The first stats line: the OOM watch is in place by then.
        let first = next();
        std::fs::write(bundle.rootfs().join("go"), "").expect("touch go");
        let oom_line = format!(r#"{{"type":"oom","id":"{id}"}}"#);
        let mut saw_oom = false;
        let mut others_are_stats = true;
        for _ in 0..400 {
            let Some(line) = next() else { break };
            if line == oom_line {
                saw_oom = true;
                break;
            }
            others_are_stats &= line.starts_with(&format!(r#"{{"type":"stats","id":"{id}""#));
        }
        let _ = child.kill();
        let _ = child.wait();
        rt.stop(&id);
        (
            first.is_some_and(|l| l.starts_with(r#"{"type":"stats""#)),
            saw_oom,
            others_are_stats,
        )
    });
    assert!(saw_oom, "neither runtime reported the OOM kill");
}

/// Mount options as runc applies them: `rro` makes a bind mount and the
/// mounts below it read-only (MOUNT_ATTR_RDONLY with AT_RECURSIVE; plain
/// `ro` leaves a submount writable), and a read-only /dev still gets
/// /dev/pts, /dev/shm and its device nodes (made before it turns
/// read-only), while a new file there is refused.
#[test]
fn recursive_read_only_and_read_only_dev_match_runc() {
    let host = std::env::temp_dir().join(unique_id("runrs-test-rro"));
    let sub = host.join("sub");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "tmpfs"])
        .arg(&sub)
        .status()
        .expect("mount tmpfs");
    assert!(mounted.success(), "mount a tmpfs on {}", sub.display());
    let script = "for f in /rro/a /rro/sub/b /ro/a /ro/sub/b /dev/x; do \
                    touch $f 2>/dev/null && echo \"$f written\" || echo \"$f refused\"; done; \
                  ls /dev/pts /dev/null /dev/shm; \
                  grep -e ' /dev ' -e ' /rro ' -e ' /ro ' /proc/self/mountinfo | cut -d' ' -f5,6";
    let result = std::panic::catch_unwind(|| {
        same(|rt| {
            let bundle = Bundle::new(&["sh", "-c", script]);
            bundle.config_mut(|c| {
                let mounts = c["mounts"].as_array_mut().expect("mounts");
                for m in mounts.iter_mut() {
                    if m["destination"] == "/dev" {
                        m["options"]
                            .as_array_mut()
                            .expect("options")
                            .push("ro".into());
                    }
                }
                let src = host.to_string_lossy().into_owned();
                mounts.push(serde_json::json!({"destination": "/rro", "type": "bind",
                    "source": src, "options": ["rbind", "rro"]}));
                mounts.push(serde_json::json!({"destination": "/ro", "type": "bind",
                    "source": src, "options": ["rbind", "ro"]}));
            });
            let out = run_once(rt, &bundle);
            (out.status.code(), text(&out.stdout))
        })
    });
    let _ = Command::new("umount").arg(&sub).status();
    let _ = std::fs::remove_dir_all(&host);
    let (_, stdout) = result.unwrap_or_else(|e| std::panic::resume_unwind(e));
    assert!(
        stdout.contains("/rro/sub/b refused") && stdout.contains("/ro/sub/b written"),
        "{stdout}"
    );
}

/// A table's cells, and whether its columns are laid out as Go's
/// tabwriter with runc's settings (minwidth 12, padding 3) lays them out:
/// each column but the last starts where the one before it starts plus
/// its widest cell plus 3, at least 12 further.
fn tabwriter_cells(table: &str) -> (Vec<Vec<String>>, bool) {
    let rows: Vec<Vec<String>> = table
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    let columns = rows.first().map(Vec::len).unwrap_or(0);
    let mut starts = vec![0usize];
    for c in 0..columns.saturating_sub(1) {
        let widest = rows
            .iter()
            .filter_map(|r| r.get(c))
            .map(String::len)
            .max()
            .unwrap_or(0);
        starts.push(starts[c] + (widest + 3).max(12));
    }
    let laid_out = table.lines().zip(&rows).all(|(line, cells)| {
        cells.len() == columns
            && cells.iter().zip(&starts).all(|(cell, &at)| {
                line.get(at..)
                    .is_some_and(|rest| rest.starts_with(cell.as_str()))
            })
    });
    (rows, laid_out)
}

/// `list` as runc's: the table's columns (tabwriter widths, the header
/// alone for no container), `-q`, and `-f json` (`null` for none, a
/// newline after the array), with the id, pid and times normalised.
#[test]
fn list_matches_runc() {
    same(|rt| {
        let normal = |s: String, id: &str, pid: &str, created: &str| {
            s.replace(id, "<id>")
                .replace(created, "<created-time-for-this-run>")
                .replace(pid, "<pid>")
        };
        let empty = (
            tabwriter_cells(&text(&rt.cmd(&["list"]).stdout)),
            text(&rt.cmd(&["list", "-f", "json"]).stdout),
        );
        let bundle = Bundle::new(&["sleep", "100"]);
        let id = rt.start_sleeper(&bundle);
        let st: serde_json::Value =
            serde_json::from_slice(&rt.cmd(&["state", &id]).stdout).expect("state json");
        let pid = st["pid"].to_string();
        let created = st["created"].as_str().unwrap_or_default().to_string();
        let b = bundle.path().to_string_lossy().into_owned();
        let fix = |s: String| normal(s.replace(&b, "<bundle>"), &id, &pid, &created);
        let (cells, laid_out) = tabwriter_cells(&text(&rt.cmd(&["list"]).stdout));
        let cells: Vec<Vec<String>> = cells
            .into_iter()
            .map(|r| r.into_iter().map(&fix).collect())
            .collect();
        let table = (cells, laid_out);
        let json = fix(text(&rt.cmd(&["list", "--format", "json"]).stdout));
        let quiet = fix(text(&rt.cmd(&["list", "-q"]).stdout));
        rt.stop(&id);
        (empty, table, json, quiet)
    });
}

/// `features` has runc's shape: the same keys, OCI versions and hooks,
/// and every mount option, namespace and seccomp action runrs lists is
/// one runc lists (runrs leaves out what the sandbox refuses).
#[test]
fn features_shape_matches_runc() {
    let parse = |rt: &Rt| -> serde_json::Value {
        let out = rt.bare(&["features"]);
        assert!(
            out.status.success(),
            "{} features: {}",
            rt.name(),
            describe(&out)
        );
        serde_json::from_slice(&out.stdout).expect("features json")
    };
    let (runc, runrs) = (parse(&Rt::runc()), parse(&Rt::runrs()));
    let keys = |v: &serde_json::Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(keys(&runrs), keys(&runc), "top-level keys");
    assert_eq!(keys(&runrs["linux"]), keys(&runc["linux"]), "linux keys");
    for k in ["ociVersionMin", "ociVersionMax", "hooks"] {
        assert_eq!(runrs[k], runc[k], "{k}");
    }
    let list = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    for path in [
        &["mountOptions"][..],
        &["linux", "namespaces"],
        &["linux", "capabilities"],
        &["linux", "seccomp", "actions"],
        &["linux", "seccomp", "operators"],
    ] {
        let get = |v: &serde_json::Value| path.iter().fold(v.clone(), |v, k| v[*k].clone());
        let (ours, theirs) = (list(&get(&runrs)), list(&get(&runc)));
        assert!(!ours.is_empty(), "{path:?} is empty");
        let extra: Vec<&String> = ours.iter().filter(|o| !theirs.contains(o)).collect();
        assert!(extra.is_empty(), "{path:?}: not runc's: {extra:?}");
    }
}

/// The section headings of a help text: lines like `NAME:` at column 0.
fn help_sections(help: &str) -> Vec<String> {
    help.lines()
        .filter(|l| {
            l.ends_with(':')
                && l.chars()
                    .all(|c| c.is_ascii_uppercase() || c == ' ' || c == ':')
        })
        .map(String::from)
        .collect()
}

/// Help laid out as runc's (urfave/cli): `--help` has NAME: (`BIN -
/// about`), USAGE:, VERSION:, COMMANDS: and GLOBAL OPTIONS:, and a
/// command's `--help` NAME: (`BIN create - about`), USAGE: and OPTIONS:
/// (runc adds DESCRIPTION: to some); both exit 0.
#[test]
fn help_layout_matches_runc() {
    same(|rt| {
        let name = rt.name();
        let top = rt.bare(&["--help"]);
        let create = rt.bare(&["create", "--help"]);
        let (top_text, create_text) = (text(&top.stdout), text(&create.stdout));
        let second = |t: &str| t.lines().nth(1).unwrap_or_default().to_string();
        (
            top.status.code(),
            help_sections(&top_text),
            second(&top_text).starts_with(&format!("   {name} - ")),
            create.status.code(),
            help_sections(&create_text)
                .into_iter()
                .filter(|s| s != "DESCRIPTION:")
                .collect::<Vec<_>>(),
            second(&create_text).starts_with(&format!("   {name} create - ")),
        )
    });
}
