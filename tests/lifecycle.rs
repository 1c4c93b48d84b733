//! Container lifecycle against real containers (needs root): run, create/
//! start/state/kill/delete, bad input, a killed sentry, escape attempts.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::*;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit status 1 with exactly one line on stderr that contains every needle
/// (case-insensitively).
fn assert_one_line_error(out: &std::process::Output, what: &str, needles: &[&str]) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: expected exit 1\n{}",
        describe(out)
    );
    let err = stderr(out);
    let lines: Vec<&str> = err.trim_end().lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one line on stderr\n{}",
        describe(out)
    );
    let lower = lines[0].to_lowercase();
    for n in needles {
        assert!(
            lower.contains(&n.to_lowercase()),
            "{what}: stderr should mention {n:?}: {}",
            lines[0]
        );
    }
}

/// Like [`assert_one_line_error`], but the line need only contain one of
/// `any_of`.
fn assert_one_line_error_any(out: &std::process::Output, what: &str, any_of: &[&str]) {
    assert_one_line_error(out, what, &[]);
    let line = stderr(out).to_lowercase();
    assert!(
        any_of.iter().any(|n| line.contains(&n.to_lowercase())),
        "{what}: stderr should mention one of {any_of:?}: {}",
        stderr(out).trim_end()
    );
}

fn wait_stopped(root: &Root, id: &str, timeout: Duration) -> bool {
    wait_until(timeout, || status(root, id) == "stopped")
}

fn init_pid(root: &Root, id: &str) -> i32 {
    let st = state(root, id);
    st["pid"]
        .as_i64()
        .unwrap_or_else(|| panic!("state {id} has no pid: {st}")) as i32
}

/// Nothing of the container is left: no state dir, no process mentioning
/// the state dir, no mount mentioning the bundle.
fn assert_nothing_left(root: &Root, bundle: &Bundle, id: &str) {
    let dir = root.state_dir(id);
    assert!(!dir.exists(), "state dir {} still exists", dir.display());
    let dir_s = dir.to_string_lossy().into_owned();
    let ok = wait_until(Duration::from_secs(2), || {
        processes_matching(&dir_s).is_empty()
    });
    assert!(
        ok,
        "processes still mention {dir_s}: {:?}",
        processes_matching(&dir_s)
            .iter()
            .map(|p| (p, cmdline_args(*p)))
            .collect::<Vec<_>>()
    );
    let mounts = mounts_snapshot(bundle.path());
    assert!(mounts.is_empty(), "mounts left under the bundle:\n{mounts}");
}

/// The container stops within `timeout` (the failure shows its state).
fn assert_stops(root: &Root, id: &str, timeout: Duration) {
    assert!(
        wait_stopped(root, id, timeout),
        "not stopped: {}",
        state(root, id)
    );
}

/// Process `pid` is gone within 2 s.
fn assert_dies(pid: i32, what: &str) {
    assert!(
        wait_until(Duration::from_secs(2), || !pid_alive(pid)),
        "{what} {pid} still alive"
    );
}

/// `delete` (with `flags`, e.g. --force) succeeds and leaves nothing of
/// the container ([`assert_nothing_left`]).
fn delete_leaves_nothing(root: &Root, bundle: &Bundle, id: &str, flags: &[&str]) {
    let mut args = vec!["delete"];
    args.extend_from_slice(flags);
    args.push(id);
    let out = run(root, &args);
    assert!(out.status.success(), "delete: {}", describe(&out));
    assert_nothing_left(root, bundle, id);
}

#[test]
fn run_prints_and_exits_with_status() {
    let root = Root::new();
    let bundle = Bundle::new(&["sh", "-c", "echo hello; exit 7"]);
    let id = unique_id("run");
    let b = bundle.path().to_string_lossy().into_owned();
    let out = run(&root, &["run", "--bundle", &b, &id]);
    assert_eq!(out.status.code(), Some(7), "{}", describe(&out));
    assert_eq!(stdout(&out), "hello\n", "{}", describe(&out));
    // run removes the container it made.
    let _ = run(&root, &["delete", "--force", &id]);
    assert!(!root.state_dir(&id).exists());
}

/// A shell can enter /proc/<pid> (a synthetic directory the kernel
/// cannot hold as a cwd): `cd`, relative names there, `pwd -P` (getcwd),
/// children inheriting it, and leaving it again.
#[test]
fn shell_cd_into_proc_self() {
    let root = Root::new();
    let script = "echo $$; cd /proc/self && cat status | head -1 && pwd -P \
        && cd task && cd .. && pwd -P && cat /proc/$$/cwd/comm && cd ../.. && pwd -P && ls -d proc";
    let bundle = Bundle::new(&["sh", "-c", script]);
    let id = unique_id("cwd");
    let b = bundle.path().to_string_lossy().into_owned();
    let out = run(&root, &["run", "--bundle", &b, &id]);
    let _ = run(&root, &["delete", "--force", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = stdout(&out);
    let pid = text.lines().next().unwrap_or_default();
    // `cat status` runs in a child whose cwd is the shell's /proc/<pid>.
    let want = format!("{pid}\nName:\tsh\n/proc/{pid}\n/proc/{pid}\nsh\n/\nproc\n");
    assert_eq!(text, want, "{}", describe(&out));
}

#[test]
fn create_start_state_delete() {
    let root = Root::new();
    let bundle = Bundle::new(&["sh", "-c", "echo done > /marker"]);
    let id = unique_id("life");
    create(&root, &bundle, &id);

    let st = state(&root, &id);
    assert_eq!(st["status"], "created", "{st}");
    assert_eq!(st["id"], id.as_str(), "{st}");
    let pid = init_pid(&root, &id);
    assert!(pid > 0, "{st}");
    let proc_status = fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/status: {e}"));
    // The spec's capabilities (runc's default: KILL, NET_BIND_SERVICE,
    // AUDIT_WRITE), real but only in the container's own user namespace.
    assert!(
        proc_status.contains("CapEff:\t0000000020000420\n"),
        "the created init must hold the spec's capabilities:\n{proc_status}"
    );
    let userns = |pid: &str| fs::read_link(format!("/proc/{pid}/ns/user")).expect("ns/user");
    assert_ne!(
        userns(&pid.to_string()),
        userns("self"),
        "the created init must be in a user namespace of its own"
    );
    assert!(
        proc_status.contains("NoNewPrivs:\t1\n"),
        "the created init must have no_new_privs:\n{proc_status}"
    );
    assert!(!bundle.rootfs().join("marker").exists(), "ran before start");

    start(&root, &id);
    let marker = bundle.rootfs().join("marker");
    assert!(
        wait_until(Duration::from_secs(10), || fs::read_to_string(&marker)
            .map(|s| s == "done\n")
            .unwrap_or(false)),
        "the container did not write {}",
        marker.display()
    );
    assert_stops(&root, &id, Duration::from_secs(10));

    delete_leaves_nothing(&root, &bundle, &id, &[]);
}

#[test]
fn kill_sigkill_stops_container() {
    let root = Root::new();
    let bundle = Bundle::new(&["sleep", "100"]);
    let id = started(&root, &bundle, "kill");
    assert_eq!(status(&root, &id), "running");
    let pid = init_pid(&root, &id);

    let out = run(&root, &["kill", &id, "SIGKILL"]);
    assert!(out.status.success(), "kill: {}", describe(&out));
    assert_stops(&root, &id, Duration::from_secs(5));
    assert_dies(pid, "init");

    delete_leaves_nothing(&root, &bundle, &id, &[]);
}

#[test]
fn delete_running_needs_force() {
    let root = Root::new();
    let bundle = Bundle::new(&["sleep", "100"]);
    let id = started(&root, &bundle, "del");
    let pid = init_pid(&root, &id);

    let out = run(&root, &["delete", &id]);
    assert_one_line_error(&out, "delete of a running container", &["not stopped"]);
    assert!(
        pid_alive(pid),
        "delete without --force killed the container"
    );
    assert!(root.state_dir(&id).exists());

    delete_leaves_nothing(&root, &bundle, &id, &["--force"]);
    assert_dies(pid, "init");
}

#[test]
fn bad_bundle_input_is_rejected() {
    let root = Root::new();

    // Missing bundle directory.
    let id = unique_id("bad");
    let missing = std::env::temp_dir().join(unique_id("runrs-no-such-bundle"));
    let m = missing.to_string_lossy().into_owned();
    let out = run(&root, &["create", "--bundle", &m, &id]);
    assert_one_line_error(&out, "missing bundle", &[&m]);
    assert!(!root.state_dir(&id).exists());

    // config.json with a syntax error.
    let bundle = Bundle::new(&["true"]);
    let b = bundle.path().to_string_lossy().into_owned();
    fs::write(
        bundle.config_path(),
        "{\"ociVersion\": \"1.0.2\", \"process\": {",
    )
    .expect("write config.json");
    let id = unique_id("bad");
    let out = run(&root, &["create", "--bundle", &b, &id]);
    assert_one_line_error(&out, "config.json syntax error", &["config.json"]);
    assert_one_line_error_any(
        &out,
        "config.json syntax error",
        &["line", "syntax", "parse", "eof", "expected"],
    );
    assert!(!root.state_dir(&id).exists());
    let out = run(&root, &["run", "--bundle", &b, &id]);
    assert_one_line_error(&out, "config.json syntax error (run)", &["config.json"]);
    assert!(!root.state_dir(&id).exists());

    // A field of the wrong type.
    let bundle = Bundle::new(&["true"]);
    let b = bundle.path().to_string_lossy().into_owned();
    bundle.config_mut(|v| v["process"]["args"] = serde_json::json!(5));
    let id = unique_id("bad");
    let out = run(&root, &["create", "--bundle", &b, &id]);
    assert_one_line_error(&out, "process.args of the wrong type", &["args"]);
    assert!(!root.state_dir(&id).exists());

    let left: Vec<_> = fs::read_dir(root.path())
        .expect("read root")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "state left behind: {left:?}");
}

#[test]
fn unknown_id_is_rejected() {
    let root = Root::new();
    let id = unique_id("nosuch");
    for cmd in [vec!["start"], vec!["state"], vec!["kill"], vec!["delete"]] {
        let mut args = cmd.clone();
        args.push(&id);
        let out = run(&root, &args);
        assert_one_line_error_any(
            &out,
            &format!("{} of an unknown id", cmd[0]),
            &[&id, "does not exist", "not found", "no such"],
        );
    }
    let out = run(&root, &["delete", "--force", &id]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "delete --force of an unknown id: {}",
        describe(&out)
    );
    assert!(!root.state_dir(&id).exists());
}

#[test]
fn duplicate_id_and_double_start_fail() {
    let root = Root::new();
    let bundle = Bundle::new(&["sleep", "100"]);
    let id = unique_id("dup");
    create(&root, &bundle, &id);

    let b = bundle.path().to_string_lossy().into_owned();
    let out = run(&root, &["create", "--bundle", &b, &id]);
    assert_one_line_error(&out, "duplicate id", &["exists"]);
    assert_eq!(
        status(&root, &id),
        "created",
        "the failed create disturbed the first"
    );

    start(&root, &id);
    let out = run(&root, &["start", &id]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "second start: {}",
        describe(&out)
    );
    assert_eq!(
        stderr(&out).trim_end().lines().count(),
        1,
        "second start: {}",
        describe(&out)
    );
    assert_eq!(status(&root, &id), "running");

    delete_leaves_nothing(&root, &bundle, &id, &["--force"]);
}

/// The sentry's pid: the process whose command line is `... boot
/// --state-dir <dir>`.
fn find_sentry(state_dir: &Path) -> Option<i32> {
    let dir = state_dir.to_string_lossy().into_owned();
    processes_matching(&dir).into_iter().find(|&pid| {
        let args = cmdline_args(pid).unwrap_or_default();
        args.iter().any(|a| a == "boot")
            && args
                .windows(2)
                .any(|w| w[0] == "--state-dir" && w[1] == dir)
    })
}

#[test]
fn killing_the_sentry_stops_the_container() {
    let root = Root::new();
    let bundle = Bundle::new(&["sleep", "100"]);
    let id = started(&root, &bundle, "sentry");
    let pid = init_pid(&root, &id);
    let sentry = find_sentry(&root.state_dir(&id))
        .unwrap_or_else(|| panic!("no sentry process for {}", root.state_dir(&id).display()));

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sentry),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill -9 the sentry");
    assert!(
        wait_until(Duration::from_secs(2), || !pid_alive(pid)),
        "container init {pid} survived its sentry"
    );
    assert_stops(&root, &id, Duration::from_secs(2));

    delete_leaves_nothing(&root, &bundle, &id, &[]);
}

/// A stopped and continued sentry (a host admin's SIGSTOP, a debugger's
/// attach) resumes its interrupted waits through restart_syscall, which its
/// own seccomp filter must allow: the container goes on serving.
#[test]
fn stopping_and_continuing_the_sentry_keeps_the_container() {
    use nix::sys::signal::{kill, Signal};
    let root = Root::new();
    let bundle = Bundle::new(&[
        "sh",
        "-c",
        "sleep 1; cat /etc/hostname >/dev/null; sleep 100",
    ]);
    let id = started(&root, &bundle, "sentry-stop");
    let pid = init_pid(&root, &id);
    let sentry = find_sentry(&root.state_dir(&id))
        .unwrap_or_else(|| panic!("no sentry process for {}", root.state_dir(&id).display()));
    let sentry = nix::unistd::Pid::from_raw(sentry);
    kill(sentry, Signal::SIGSTOP).expect("SIGSTOP the sentry");
    std::thread::sleep(Duration::from_millis(200));
    kill(sentry, Signal::SIGCONT).expect("SIGCONT the sentry");
    // Past the workload's emulated open, sleeping again.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        pid_alive(sentry.as_raw()) && pid_alive(pid),
        "the sentry or the container died after SIGSTOP/SIGCONT: {}",
        state(&root, &id)
    );
    let out = run(&root, &["exec", &id, "cat", "/etc/hostname"]);
    assert!(
        out.status.success(),
        "exec after SIGCONT: {}",
        describe(&out)
    );
    delete_leaves_nothing(&root, &bundle, &id, &["--force"]);
}

/// A `runrs exec --user` process has its own identity in the sandbox: its
/// ids (and its files' owners, and /proc) are its user's, while the
/// container's init stays root.
#[test]
fn exec_as_another_user_has_its_own_identity() {
    let root = Root::new();
    let bundle = Bundle::new(&["sleep", "100"]);
    let id = started(&root, &bundle, "exec-user");
    let script = "id -u; id -g; touch /tmp/by-exec; stat -c %u:%g /tmp/by-exec; \
                  grep -E '^(Uid|Gid|CapEff)' /proc/self/status; stat -c %u /proc/1";
    let out = run(
        &root,
        &["exec", "--user", "1000:1001", &id, "sh", "-c", script],
    );
    assert!(out.status.success(), "exec --user: {}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1000\n1001\n1000:1001\nUid:\t1000\t1000\t1000\t1000\nGid:\t1001\t1001\t1001\t1001\n\
         CapEff:\t0000000000000000\n0\n",
        "{}",
        describe(&out)
    );
    let out = exec_sh(&root, &id, "id -u; stat -c %u:%g /tmp/by-exec");
    assert!(out.status.success(), "exec: {}", describe(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n1000:1001\n");
    delete_leaves_nothing(&root, &bundle, &id, &["--force"]);
}

/// A `runrs exec` process holds the capability sets and groups of its own
/// process spec (or the container's with `--cap` added), not the
/// container's: CAP_CHOWN granted to it alone lets it (and only it) give a
/// file away, and its program sees those sets.
#[test]
fn exec_process_has_its_own_capabilities() {
    let root = Root::new();
    let bundle = Bundle::new(&["sleep", "100"]);
    let b = bundle.path().to_string_lossy().into_owned();
    for platform in ["seccomp", "ptrace"] {
        // The platforms share the rootfs: each its own file.
        let f = format!("/tmp/{platform}");
        let mut process = bundle.config()["process"].clone();
        process["args"] = serde_json::json!([
            "sh",
            "-c",
            format!(
                "grep -E '^(CapEff|CapPrm|CapBnd|Groups)' /proc/self/status; \
                 touch {f} && chown 1000 {f} && stat -c %u {f}"
            )
        ]);
        let chown = serde_json::json!(["CAP_CHOWN"]);
        for set in ["bounding", "effective", "permitted"] {
            process["capabilities"][set] = chown.clone();
        }
        process["user"]["additionalGids"] = serde_json::json!([7, 5]);
        let path = bundle.path().join("process.json");
        fs::write(&path, process.to_string()).expect("write process.json");
        let p = path.to_string_lossy().into_owned();
        let id = unique_id("exec-caps");
        let flag = format!("--platform={platform}");
        let out = run(&root, &[&flag, "create", "--bundle", &b, &id]);
        assert!(out.status.success(), "create: {}", describe(&out));
        start(&root, &id);
        let out = run(&root, &["exec", "--process", &p, &id]);
        assert!(
            out.status.success(),
            "{platform}: exec --process: {}",
            describe(&out)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "Groups:\t5 7 \nCapPrm:\t0000000000000001\nCapEff:\t0000000000000001\n\
             CapBnd:\t0000000000000001\n1000\n",
            "{platform}: {}",
            describe(&out)
        );
        // The container's own sets (runc's default three) have no CAP_CHOWN.
        let out = exec_sh(
            &root,
            &id,
            &format!("grep CapEff /proc/self/status; chown 0 {f} || echo refused"),
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "CapEff:\t0000000020000420\nrefused\n",
            "{platform}: {}",
            describe(&out)
        );
        // runc's --cap adds one to the container's sets.
        let out = run(
            &root,
            &[
                "exec",
                "--cap",
                "CAP_CHOWN",
                &id,
                "sh",
                "-c",
                &format!("grep CapEff /proc/self/status; chown 0 {f} && stat -c %u {f}"),
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "CapEff:\t0000000020000421\n0\n",
            "{platform}: {}",
            describe(&out)
        );
        delete_leaves_nothing(&root, &bundle, &id, &["--force"]);
    }
}

#[test]
fn escape_attempts_see_only_the_container() {
    let host_hostname = fs::read_to_string("/etc/hostname").expect("read the host's /etc/hostname");
    let host_hostname = host_hostname.trim();
    assert!(
        !host_hostname.is_empty(),
        "the host's /etc/hostname is empty"
    );
    let secret = format!("RUNRS_HOST_SECRET_{}", std::process::id());

    let root = Root::new();
    let bundle = Bundle::new(&[
        "sh",
        "-c",
        "cat /../../../etc/hostname; ls /proc/1/root/; cat /proc/1/environ",
    ]);
    let inside = "container-hostname-file";
    assert_ne!(inside, host_hostname);
    bundle.write_file("etc/hostname", format!("{inside}\n").as_bytes());
    let id = unique_id("escape");
    let b = bundle.path().to_string_lossy().into_owned();
    let out = run_env(
        &root,
        &["run", "--bundle", &b, &id],
        &[("RUNRS_TEST_SECRET", &secret)],
    );
    let text = stdout(&out);
    assert!(
        text.lines().any(|l| l == inside),
        "expected the container's own /etc/hostname\n{}",
        describe(&out)
    );
    assert!(
        !text.lines().any(|l| l.trim() == host_hostname),
        "the host's /etc/hostname leaked into the container\n{}",
        describe(&out)
    );
    assert!(
        !text.contains(&secret),
        "the host environment leaked\n{}",
        describe(&out)
    );
    let _ = run(&root, &["delete", "--force", &id]);
}
