//! `--platform=ptrace`: the sentry traces every workload task. Threads,
//! signals and job control behave as natively; fds land on the lowest free
//! number (installed by an injected recvmsg); the reserved fd stays out of
//! reach; `runrs exec` processes are traced too; and the workload dies
//! with the sentry (PTRACE_O_EXITKILL).

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Builds tests/fixtures/ptrace_threads.c (static) into the bundle as
/// /bin/ptrace_threads.
fn add_fixture(bundle: &common::Bundle) {
    let src = common::manifest_dir().join("tests/fixtures/ptrace_threads.c");
    let out = bundle.rootfs().join("bin/ptrace_threads");
    let o = Command::new("gcc")
        .args(["-O1", "-static", "-pthread", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .expect("gcc (installed by scripts/test.sh) must be present");
    assert!(o.status.success(), "gcc failed: {}", common::describe(&o));
}

fn run_ptrace(root: &common::Root, bundle: &common::Bundle, id: &str) -> std::process::Output {
    common::run(
        root,
        &[
            "--platform=ptrace",
            "run",
            "--bundle",
            bundle.path().to_str().expect("utf8"),
            id,
        ],
    )
}

#[test]
fn files_and_pipes_match_the_seccomp_platform() {
    let script =
        "echo hi > /tmp/x; cat /tmp/x; ls / | wc -l; cat /etc/hostname > /dev/null && echo read";
    let bundle = common::Bundle::new(&["sh", "-c", script]);
    let root = common::Root::new();
    let mut outputs = Vec::new();
    for platform in ["seccomp", "ptrace"] {
        let id = common::unique_id(platform);
        let out = common::run(
            &root,
            &[
                &format!("--platform={platform}"),
                "run",
                "--bundle",
                bundle.path().to_str().expect("utf8"),
                &id,
            ],
        );
        assert!(
            out.status.success(),
            "{platform}: {}",
            common::describe(&out)
        );
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    assert!(outputs[0].starts_with("hi\n"), "{}", outputs[0]);
    assert_eq!(outputs[0], outputs[1], "seccomp vs ptrace output");
}

#[test]
fn threads_signals_and_job_control_over_50_rounds() {
    let bundle = common::Bundle::new(&["ptrace_threads", "50"]);
    add_fixture(&bundle);
    let root = common::Root::new();
    let out = run_ptrace(&root, &bundle, &common::unique_id("threads"));
    assert!(out.status.success(), "{}", common::describe(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok 50\n");
}

#[test]
fn reserved_fd_is_out_of_reach_and_fds_are_lowest_free() {
    let bundle = common::Bundle::new(&["ptrace_threads", "fds"]);
    add_fixture(&bundle);
    // Room for an fd above the reserved one, to see close_range close it.
    bundle.config_mut(|c| {
        c["process"]["rlimits"] =
            serde_json::json!([{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 4096}]);
    });
    let root = common::Root::new();
    let out = run_ptrace(&root, &bundle, &common::unique_id("fds"));
    assert!(out.status.success(), "{}", common::describe(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok fds\n");
}

fn sentry_pid(root: &common::Root, id: &str) -> i32 {
    let text = fs::read_to_string(root.state_dir(id).join("state.json")).expect("state.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("parse state.json");
    v["sentry"]["pid"]
        .as_i64()
        .expect("sentry pid in state.json") as i32
}

fn tracer_of(pid: i32) -> Option<i32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse().ok())
}

fn start_sleeper(root: &common::Root, bundle: &common::Bundle, id: &str) -> i32 {
    for cmd in [
        vec![
            "--platform=ptrace",
            "create",
            "--bundle",
            bundle.path().to_str().expect("utf8"),
            id,
        ],
        vec!["--platform=ptrace", "start", id],
    ] {
        let out = common::run(root, &cmd);
        assert!(out.status.success(), "{cmd:?}: {}", common::describe(&out));
    }
    common::state(root, id)["pid"]
        .as_i64()
        .expect("pid in state") as i32
}

#[test]
fn exec_is_traced_and_killing_the_sentry_kills_the_workload() {
    let bundle = common::Bundle::new(&["sleep", "300"]);
    let root = common::Root::new();
    let id = common::unique_id("exitkill");
    let init = start_sleeper(&root, &bundle, &id);
    let sentry = sentry_pid(&root, &id);
    // TracerPid is the tracing thread: one of the sentry's.
    let tracer = tracer_of(init).expect("TracerPid of init");
    assert!(
        Path::new(&format!("/proc/{sentry}/task/{tracer}")).exists(),
        "init is traced by {tracer}, not by a thread of the sentry {sentry}"
    );

    let out = common::run(
        &root,
        &[
            "--platform=ptrace",
            "exec",
            &id,
            "sh",
            "-c",
            "echo from-exec > /tmp/e; cat /tmp/e",
        ],
    );
    assert!(out.status.success(), "exec: {}", common::describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("from-exec\n"), "exec output: {stdout}");

    // SIGKILL leaves no chance to clean up: PTRACE_O_EXITKILL must do it.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sentry),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the sentry");
    assert!(
        common::wait_until(Duration::from_secs(10), || !common::pid_alive(init)),
        "the workload survived its sentry"
    );
}

#[test]
fn runrs_kill_stop_and_cont_reach_a_traced_workload() {
    let bundle = common::Bundle::new(&["sleep", "300"]);
    let root = common::Root::new();
    let id = common::unique_id("stopcont");
    let init = start_sleeper(&root, &bundle, &id);
    let state = |pid: i32| {
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit(") ").next().map(|r| r.chars().next()))
            .flatten()
    };
    // The host shows a group-stop held by the tracer as a tracing stop.
    for (sig, want) in [("STOP", 't'), ("CONT", 'S')] {
        let out = common::run(&root, &["kill", &id, sig]);
        assert!(
            out.status.success(),
            "kill {sig}: {}",
            common::describe(&out)
        );
        assert!(
            common::wait_until(Duration::from_secs(10), || state(init) == Some(want)),
            "after SIG{sig} init is in state {:?}, want {want}",
            state(init)
        );
    }
    let out = common::run(&root, &["kill", &id, "KILL"]);
    assert!(out.status.success(), "{}", common::describe(&out));
    assert!(common::wait_until(Duration::from_secs(10), || {
        !common::pid_alive(init)
    }));
}
