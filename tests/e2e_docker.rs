//! End-to-end tests against the real dockerd: `docker run --runtime=runrs`
//! with the busybox image `runrs-bb`. scripts/e2e-setup.sh (run once by
//! `ensure_docker`) installs and registers everything; these tests never
//! skip. Every container gets a unique name and is removed on drop.
//!
//! Run: `cargo test --test e2e_docker -- --test-threads=1 --nocapture`

mod e2e;

use e2e::*;
use std::time::{Duration, Instant};

fn lines(s: &str) -> Vec<&str> {
    s.lines().map(str::trim_end).collect()
}

// ------------------------------------------------------------ basic run

#[test]
fn run_exit_code_and_separate_stdout_stderr() {
    ensure_docker();
    run_exit_code_and_separate_stdout_stderr_on(RUNTIME);
}

/// The same on the ptrace platform.
#[test]
fn ptrace_run_exit_code_and_separate_stdout_stderr() {
    ensure_docker();
    run_exit_code_and_separate_stdout_stderr_on(RUNTIME_PTRACE);
}

fn run_exit_code_and_separate_stdout_stderr_on(rt: &'static str) {
    let c = Ctr::on(rt, "exit");
    let out = docker_run_on(
        rt,
        &c.name,
        &["--rm"],
        &["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"],
    );
    assert_eq!(out.code, Some(7), "exit status not propagated: {out}");
    assert_eq!(out.stdout, "to-stdout\n", "stdout: {out}");
    assert_eq!(out.stderr, "to-stderr\n", "stderr: {out}");

    let ok = docker_run_on(rt, &Ctr::on(rt, "exit0").name, &["--rm"], &["true"]);
    assert_eq!(ok.code, Some(0), "{ok}");
}

#[test]
fn env_workdir_user() {
    ensure_docker();
    env_workdir_user_on(RUNTIME);
}

/// The same on the ptrace platform.
#[test]
fn ptrace_env_workdir_user() {
    ensure_docker();
    env_workdir_user_on(RUNTIME_PTRACE);
}

fn env_workdir_user_on(rt: &'static str) {
    let c = Ctr::on(rt, "ewu");
    let out = docker_run_on(
        rt,
        &c.name,
        &["--rm", "-e", "A=hello", "-w", "/tmp", "-u", "1000:1000"],
        &["sh", "-c", "echo $A; pwd; id -u; id -g"],
    );
    assert!(out.success(), "{out}");
    assert_eq!(
        lines(&out.stdout),
        ["hello", "/tmp", "1000", "1000"],
        "{out}"
    );
}

#[test]
fn read_only_rootfs_with_tmpfs() {
    ensure_docker();
    let c = Ctr::new("ro");
    let out = docker_run(
        &c.name,
        &["--rm", "--read-only", "--tmpfs", "/scratch"],
        &[
            "sh",
            "-c",
            "if touch /rootfile 2>/dev/null; then echo root-writable; else echo root-ro; fi; \
             echo data > /scratch/f && cat /scratch/f",
        ],
    );
    assert!(out.success(), "{out}");
    assert_eq!(lines(&out.stdout), ["root-ro", "data"], "{out}");
}

#[test]
fn tmpfs_mount_is_writable_and_private() {
    ensure_docker();
    let c = Ctr::new("tmpfs");
    let out = docker_run(
        &c.name,
        &["--rm", "--tmpfs", "/scratch:size=1m,mode=1777"],
        &[
            "sh",
            "-c",
            "ls -A /scratch | wc -l; echo x > /scratch/a && cat /scratch/a",
        ],
    );
    assert!(out.success(), "{out}");
    assert_eq!(lines(&out.stdout), ["0", "x"], "{out}");
}

#[test]
fn bind_mount_read_only() {
    ensure_docker();
    let dir = std::env::temp_dir().join(unique_name("bind"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("f"), "from-host\n").unwrap();
    let spec = format!("{}:/data:ro", dir.display());
    let c = Ctr::new("bindro");
    let out = docker_run(
        &c.name,
        &["--rm", "-v", &spec],
        &[
            "sh",
            "-c",
            "cat /data/f; if echo x > /data/g 2>/dev/null; then echo writable; else echo ro; fi",
        ],
    );
    let leaked = dir.join("g").exists();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.success(), "{out}");
    assert_eq!(lines(&out.stdout), ["from-host", "ro"], "{out}");
    assert!(!leaked, "a write through a :ro bind reached the host");
}

#[test]
fn cap_drop_all_gives_zero_capeff() {
    ensure_docker();
    let c = Ctr::new("capdrop");
    let out = docker_run(
        &c.name,
        &["--rm", "--cap-drop", "ALL"],
        &["grep", "-E", "^Cap(Eff|Prm)", "/proc/self/status"],
    );
    assert!(out.success(), "{out}");
    assert!(
        out.stdout.contains("CapEff:\t0000000000000000"),
        "CapEff is not 0 with --cap-drop ALL: {out}"
    );
    assert!(
        out.stdout.contains("CapPrm:\t0000000000000000"),
        "CapPrm is not 0 with --cap-drop ALL: {out}"
    );
}

/// `--privileged` runs, but hands no host device to the workload: /dev
/// holds the sandbox's own set only (docs/SECURITY.md), whatever Docker
/// lists in linux.devices.
#[test]
fn privileged_runs_without_host_devices() {
    ensure_docker();
    let c = Ctr::new("privileged");
    let script = "ls /dev | tr '\\n' ' '; echo; \
                  for d in kmsg loop0 loop-control kvm mem sda vda; do \
                  [ -e /dev/$d ] && echo has-$d; done; \
                  cat /dev/kmsg </dev/null >/dev/null 2>&1 && echo opened-kmsg; \
                  echo x > /dev/null && head -c 4 /dev/urandom | wc -c";
    let out = docker_run(&c.name, &["--rm", "--privileged"], &["sh", "-c", script]);
    assert!(out.success(), "--privileged must still run: {out}");
    assert!(
        !out.stdout.contains("has-") && !out.stdout.contains("opened-"),
        "a host device is visible under --privileged: {out}"
    );
    assert!(
        out.stdout.lines().last().map(str::trim) == Some("4"),
        "/dev/null or /dev/urandom broken under --privileged: {out}"
    );
    for want in [
        "null", "zero", "full", "random", "urandom", "tty", "pts", "shm",
    ] {
        assert!(
            out.stdout.split_whitespace().any(|w| w == want),
            "/dev/{want} missing under --privileged: {out}"
        );
    }
}

// ------------------------------------------------------------ networking

#[test]
fn network_none_has_no_route() {
    ensure_docker();
    // TEST-NET-1: with no interface but lo there is no route to it.
    let gw = "192.0.2.1";
    let c = Ctr::new("netnone");
    let out = docker_run(
        &c.name,
        &["--rm", "--network", "none"],
        &[
            "sh",
            "-c",
            &format!("nc -w 2 {gw} 9 </dev/null; echo rc=$?"),
        ],
    );
    assert!(
        out.combined().to_lowercase().contains("unreachable"),
        "with --network none, connecting to {gw} should fail with \
         'Network is unreachable': {out}"
    );
    assert!(!out.stdout.contains("rc=0"), "{out}");
}

/// Docker's default capabilities include CAP_NET_RAW: ping's raw socket
/// works on loopback and to the bridge's gateway, as under runc; changing
/// an interface needs CAP_NET_ADMIN, which `--cap-add` grants over the
/// container's own network only.
#[test]
fn ping_and_network_capabilities_match_runc() {
    ensure_docker();
    let script = "ping -c1 -W3 127.0.0.1 >/dev/null; echo lo=$?; \
                  gw=$(ip route | awk '/default/ {print $3}'); \
                  ping -c1 -W3 $gw >/dev/null; echo gw=$?; \
                  ip link set lo mtu 1400 2>/dev/null; echo mtu=$?";
    let run = |rt: &str, opts: &[&str]| {
        let c = Ctr::new("netcap");
        let mut all = vec!["--rm"];
        all.extend_from_slice(opts);
        docker_run_on(rt, &c.name, &all, &["sh", "-c", script])
    };
    for opts in [
        &[][..],
        &["--cap-add", "NET_ADMIN"][..],
        &["--cap-drop", "NET_RAW"][..],
    ] {
        let ours = run(RUNTIME, opts);
        let theirs = run("runc", opts);
        assert!(
            ours.success() && theirs.success(),
            "{opts:?}: {ours} / {theirs}"
        );
        assert_eq!(
            lines(&ours.stdout),
            lines(&theirs.stdout),
            "{opts:?}: {ours}"
        );
        if opts.is_empty() {
            assert!(
                ours.stdout.contains("lo=0") && ours.stdout.contains("gw=0"),
                "{ours}"
            );
            assert!(
                ours.stdout.contains("mtu=1") || ours.stdout.contains("mtu=2"),
                "{ours}"
            );
        }
    }
}

#[test]
fn bridge_tcp_between_two_containers() {
    ensure_docker();
    let server = Ctr::new("srv");
    server.run_detached(
        &[],
        // The sleep keeps nc's stdin open: at EOF busybox nc may stop
        // before the client's "ping" arrives.
        &[
            "sh",
            "-c",
            "(echo pong; sleep 3) | nc -l -p 7000; echo server-done",
        ],
    );
    let ip = server.inspect("{{.NetworkSettings.IPAddress}}");
    assert!(!ip.is_empty(), "server container has no bridge IP");
    let client = Ctr::new("cli");
    // Retry while the server's listen socket is not up yet.
    let mut last = None;
    let ok = wait_until(Duration::from_secs(15), || {
        let out = docker_run(
            &client.name,
            &["--rm"],
            &["sh", "-c", &format!("echo ping | nc -w 3 {ip} 7000")],
        );
        let good = out.success() && out.stdout.contains("pong");
        last = Some(out);
        good
    });
    assert!(ok, "client could not talk to {ip}:7000: {}", last.unwrap());
    let got = wait_until(Duration::from_secs(10), || {
        server.logs().stdout.contains("ping")
    });
    assert!(got, "server did not receive ping: {}", server.logs());
}

// ------------------------------------------------------ detached, signals

#[test]
fn detached_logs_stop_and_kill() {
    ensure_docker();
    detached_logs_stop_and_kill_on(RUNTIME);
}

/// The same on the ptrace platform.
#[test]
fn ptrace_detached_logs_stop_and_kill() {
    ensure_docker();
    detached_logs_stop_and_kill_on(RUNTIME_PTRACE);
}

fn detached_logs_stop_and_kill_on(rt: &'static str) {
    let c = Ctr::on(rt, "stop");
    c.run_detached(
        &[],
        &[
            "sh",
            "-c",
            "trap 'echo got-term; exit 0' TERM; echo started; while true; do sleep 0.2; done",
        ],
    );
    assert!(
        wait_until(Duration::from_secs(10), || c
            .logs()
            .stdout
            .contains("started")),
        "docker logs never showed 'started': {}",
        c.logs()
    );
    let t = Instant::now();
    docker(&["stop", "-t", "20", &c.name]).ok();
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "docker stop took {took:?}: SIGTERM was not delivered to the trap"
    );
    assert_eq!(c.inspect("{{.State.ExitCode}}"), "0");
    assert!(c.logs().stdout.contains("got-term"), "{}", c.logs());

    let k = Ctr::on(rt, "kill");
    k.run_detached(&[], &["sleep", "1000"]);
    docker(&["kill", &k.name]).ok();
    assert!(
        wait_until(Duration::from_secs(10), || k.inspect("{{.State.Running}}")
            == "false"),
        "container still running after docker kill"
    );
    assert_eq!(k.inspect("{{.State.ExitCode}}"), "137");
}

#[test]
fn kill_usr1_reaches_trap() {
    ensure_docker();
    kill_usr1_reaches_trap_on(RUNTIME);
}

/// The same on the ptrace platform.
#[test]
fn ptrace_kill_usr1_reaches_trap() {
    ensure_docker();
    kill_usr1_reaches_trap_on(RUNTIME_PTRACE);
}

fn kill_usr1_reaches_trap_on(rt: &'static str) {
    let c = Ctr::on(rt, "usr1");
    c.run_detached(
        &[],
        &[
            "sh",
            "-c",
            "trap 'echo got-usr1' USR1; echo ready; while true; do sleep 0.2; done",
        ],
    );
    assert!(wait_until(Duration::from_secs(10), || c
        .logs()
        .stdout
        .contains("ready")));
    docker(&["kill", "-s", "USR1", &c.name]).ok();
    assert!(
        wait_until(Duration::from_secs(10), || c
            .logs()
            .stdout
            .contains("got-usr1")),
        "SIGUSR1 never reached the trap: {}",
        c.logs()
    );
    assert_eq!(c.inspect("{{.State.Running}}"), "true");
}

// ------------------------------------------------------------------ exec

#[test]
fn exec_exit_code_output_and_user() {
    ensure_docker();
    exec_exit_code_output_and_user_on(RUNTIME);
}

/// The same on the ptrace platform.
#[test]
fn ptrace_exec_exit_code_output_and_user() {
    ensure_docker();
    exec_exit_code_output_and_user_on(RUNTIME_PTRACE);
}

fn exec_exit_code_output_and_user_on(rt: &'static str) {
    let c = Ctr::on(rt, "exec");
    c.run_detached(&[], &["sleep", "1000"]);
    let out = c.exec(&[], &["sh", "-c", "echo in-exec; echo err >&2; exit 4"]);
    assert_eq!(
        out.code,
        Some(4),
        "docker exec (runrs exec) failed or lost the exit code: {out}"
    );
    assert_eq!(out.stdout, "in-exec\n", "{out}");
    assert_eq!(out.stderr, "err\n", "{out}");

    let out = c.exec(
        &["-u", "1000", "-w", "/tmp", "-e", "FOO=bar"],
        &["sh", "-c", "id -u; pwd; echo $FOO"],
    );
    assert!(out.success(), "docker exec -u 1000 failed: {out}");
    assert_eq!(lines(&out.stdout), ["1000", "/tmp", "bar"], "{out}");
}

#[test]
fn tty_run_and_exec() {
    ensure_docker();
    tty_run_and_exec_on(RUNTIME);
}

/// The same on the ptrace platform.
#[test]
fn ptrace_tty_run_and_exec() {
    ensure_docker();
    tty_run_and_exec_on(RUNTIME_PTRACE);
}

fn tty_run_and_exec_on(rt: &'static str) {
    let c = Ctr::on(rt, "tty");
    let out = pty_run(
        30,
        &[
            "docker",
            "run",
            "-it",
            "--rm",
            "--runtime",
            rt,
            "--name",
            &c.name,
            IMAGE,
            "sh",
            "-c",
            "tty; exit 5",
        ],
    );
    assert_eq!(out.code, Some(5), "docker run -it: {out}");
    assert!(
        out.stdout.contains("/dev/pts/0"),
        "tty did not print /dev/pts/0: {out}"
    );

    let d = Ctr::on(rt, "ttyexec");
    d.run_detached(&[], &["sleep", "1000"]);
    let out = pty_run(
        30,
        &["docker", "exec", "-it", &d.name, "sh", "-c", "tty; exit 3"],
    );
    assert_eq!(out.code, Some(3), "docker exec -it: {out}");
    assert!(
        out.stdout.contains("/dev/pts/"),
        "exec -it has no tty: {out}"
    );
}

// --------------------------------------------------------------- cgroups

#[test]
fn pids_limit() {
    ensure_docker();
    pids_limit_on(RUNTIME);
}

/// The same on the ptrace platform.
#[test]
fn ptrace_pids_limit() {
    ensure_docker();
    pids_limit_on(RUNTIME_PTRACE);
}

fn pids_limit_on(rt: &'static str) {
    let c = Ctr::on(rt, "pids");
    let id = c.run_detached(
        &["--pids-limit", "20"],
        &[
            "sh",
            "-c",
            "sh -c 'for i in $(seq 50); do sleep 30 & done; echo loop-finished' 2>&1; \
             echo loop-exit=$?; sleep 1000",
        ],
    );
    assert_eq!(
        read_cgroup_file("pids", &id, "pids.max"),
        "20",
        "host pids.max for --pids-limit 20"
    );
    assert!(
        wait_until(Duration::from_secs(20), || c
            .logs()
            .stdout
            .contains("loop-")),
        "fork loop never finished: {}",
        c.logs()
    );
    let logs = c.logs().stdout.to_lowercase();
    assert!(
        logs.contains("fork") || logs.contains("resource temporarily unavailable"),
        "50 background sleeps under --pids-limit 20 saw no fork failure: {logs}"
    );
    let current: u64 = read_cgroup_file("pids", &id, "pids.current")
        .parse()
        .unwrap();
    assert!(current <= 20, "pids.current {current} > 20");
}

#[test]
fn memory_limit() {
    ensure_docker();
    let c = Ctr::new("mem");
    let id = c.run_detached(&["--memory", "32m"], &["sleep", "1000"]);
    assert_eq!(
        read_cgroup_file("memory", &id, "memory.limit_in_bytes"),
        "33554432"
    );
    // docker stats reads the cgroup of the pid-file process (the shim's
    // cgroups.Load(pid)): it must report the limit.
    let st = docker(&["stats", "--no-stream", "--format", "{{.MemUsage}}", &c.name]);
    assert!(
        st.success() && st.stdout.contains("32MiB"),
        "docker stats does not see the 32MiB limit: {st}"
    );
    let procs = read_cgroup_file("memory", &id, "cgroup.procs");
    assert!(!procs.is_empty(), "memory cgroup of {id} has no processes");
}

#[test]
fn cpus_limit() {
    ensure_docker();
    let c = Ctr::new("cpus");
    let id = c.run_detached(&["--cpus", "0.5"], &["sleep", "1000"]);
    assert_eq!(read_cgroup_file("cpu", &id, "cpu.cfs_quota_us"), "50000");
    assert_eq!(read_cgroup_file("cpu", &id, "cpu.cfs_period_us"), "100000");
}

#[test]
fn update_memory() {
    ensure_docker();
    let c = Ctr::new("update");
    let id = c.run_detached(&["--memory", "32m"], &["sleep", "1000"]);
    let out = docker(&[
        "update",
        "--memory",
        "64m",
        "--memory-swap",
        "128m",
        "--pids-limit",
        "50",
        &c.name,
    ]);
    assert!(
        out.success(),
        "docker update (runrs update --resources -): {out}"
    );
    assert_eq!(
        read_cgroup_file("memory", &id, "memory.limit_in_bytes"),
        "67108864"
    );
    assert_eq!(read_cgroup_file("pids", &id, "pids.max"), "50");
    // The container sees its own cgroup, live, at /sys/fs/cgroup (what
    // the JVM and Go's runtime read to size themselves).
    let inside = docker(&[
        "exec",
        &c.name,
        "cat",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/pids/pids.max",
    ]);
    assert!(
        inside.success() && inside.stdout == "67108864\n50\n",
        "the container's /sys/fs/cgroup: {inside}"
    );
}

#[test]
fn pause_and_unpause() {
    ensure_docker();
    pause_and_unpause_on(RUNTIME);
}

/// The same on the ptrace platform.
#[test]
fn ptrace_pause_and_unpause() {
    ensure_docker();
    pause_and_unpause_on(RUNTIME_PTRACE);
}

fn pause_and_unpause_on(rt: &'static str) {
    let c = Ctr::on(rt, "pause");
    let id = c.run_detached(
        &[],
        &[
            "sh",
            "-c",
            "i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done",
        ],
    );
    let count = || c.logs().stdout.lines().count();
    assert!(wait_until(Duration::from_secs(10), || count() > 2));
    let out = docker(&["pause", &c.name]);
    assert!(out.success(), "docker pause (runrs pause): {out}");
    assert_eq!(c.inspect("{{.State.Paused}}"), "true");
    let freezer = read_cgroup_file("freezer", &id, "freezer.state");
    assert_eq!(freezer, "FROZEN", "host freezer.state while paused");
    std::thread::sleep(Duration::from_millis(500));
    let n1 = count();
    std::thread::sleep(Duration::from_millis(1500));
    let n2 = count();
    assert_eq!(n1, n2, "counter kept advancing while paused");
    let out = docker(&["unpause", &c.name]);
    assert!(out.success(), "docker unpause (runrs resume): {out}");
    assert!(
        wait_until(Duration::from_secs(10), || count() > n2 + 2),
        "counter did not resume after unpause"
    );
}

#[test]
fn top_lists_process() {
    ensure_docker();
    let c = Ctr::new("top");
    c.run_detached(&[], &["sleep", "1000"]);
    let out = docker(&["top", &c.name]);
    assert!(out.success(), "docker top (runrs ps --format json): {out}");
    let rows = out
        .stdout
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count();
    assert!(rows >= 1, "docker top lists no process: {out}");
}

#[test]
fn restart() {
    ensure_docker();
    let c = Ctr::new("restart");
    c.run_detached(&[], &["sh", "-c", "echo boot; sleep 1000"]);
    assert!(wait_until(Duration::from_secs(10), || c
        .logs()
        .stdout
        .contains("boot")));
    let started1 = c.inspect("{{.State.StartedAt}}");
    let out = docker(&["restart", "-t", "1", &c.name]);
    assert!(out.success(), "docker restart: {out}");
    assert_eq!(c.inspect("{{.State.Running}}"), "true");
    assert_ne!(c.inspect("{{.State.StartedAt}}"), started1);
    assert!(
        wait_until(Duration::from_secs(10), || c
            .logs()
            .stdout
            .matches("boot")
            .count()
            == 2),
        "second boot not logged: {}",
        c.logs()
    );
}

// ------------------------------------------------------------- bad input

#[test]
fn missing_entrypoint_is_127() {
    ensure_docker();
    let c = Ctr::new("noexe");
    let out = docker_run(&c.name, &["--rm"], &["no-such-command-xyz"]);
    assert_eq!(out.code, Some(127), "{out}");
    assert!(
        out.stderr.contains("executable file not found in $PATH"),
        "docker's error should say 'executable file not found in $PATH': {out}"
    );
}

#[test]
fn missing_bind_source_fails_clearly() {
    ensure_docker();
    // `-v` would create a missing source directory; `--mount` must not.
    // dockerd checks the source itself (at create and again at start), so
    // the error the user sees is docker's; the run must fail cleanly.
    let missing = std::env::temp_dir().join(unique_name("gone"));
    let spec = format!("type=bind,src={},dst=/data", missing.display());
    let c = Ctr::new("gonebind");
    let out = docker_run(&c.name, &["--rm", "--mount", &spec], &["true"]);
    assert!(
        !out.success(),
        "container ran with a missing bind source: {out}"
    );
    assert!(
        out.stderr.contains("bind source path does not exist")
            && out.stderr.contains(&missing.display().to_string()),
        "error should name the missing bind source: {out}"
    );
    assert!(!missing.exists(), "the missing bind source was created");
}

// ------------------------------------------------------------ many + leaks

#[test]
fn twenty_parallel_then_rm_leaves_nothing() {
    ensure_docker();
    let ctrs: Vec<Ctr> = (0..20).map(|_| Ctr::new("par")).collect();
    let names: Vec<String> = ctrs.iter().map(|c| c.name.clone()).collect();
    // A sleep duration unique to this run, to find leaked workloads.
    let secs = format!("{}", 500_000 + std::process::id());
    let run_one = |n: &str, secs: &str| {
        docker_t(
            &[
                "run",
                "-d",
                "--runtime",
                RUNTIME,
                "--name",
                n,
                IMAGE,
                "sleep",
                secs,
            ],
            Duration::from_secs(120),
        )
    };
    let handles: Vec<_> = names
        .iter()
        .cloned()
        .map(|n| {
            let secs = secs.clone();
            std::thread::spawn(move || run_one(&n, &secs))
        })
        .collect();
    let mut outs: Vec<Out> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // Docker's own network hook (libnetwork-setkey, run by create at
    // prestart) failed once in CI with a bare ENOENT while init was alive
    // (create says so when it was not: "had already ended"); such a run is
    // tried once more, and the first failure stays in the log.
    for (out, name) in outs.iter_mut().zip(&names) {
        let docker_hook_failed = out
            .stderr
            .contains("OCI runtime create failed: hook /proc/")
            && out.stderr.contains("level=fatal")
            && !out.stderr.contains("had already ended");
        if !out.success() && docker_hook_failed {
            eprintln!("docker's network hook failed, running {name} again: {out}");
            docker(&["rm", "-f", name]);
            *out = run_one(name, &secs);
        }
    }
    let failed: Vec<String> = outs
        .iter()
        .filter(|o| !o.success())
        .map(|o| o.to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 20 parallel runs failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    let ids: Vec<String> = ctrs.iter().map(|c| c.id()).collect();
    for c in &ctrs {
        assert_eq!(
            c.inspect("{{.State.Running}}"),
            "true",
            "{} not running",
            c.name
        );
    }
    let mut rm = vec!["rm", "-f"];
    rm.extend(names.iter().map(String::as_str));
    docker_t(&rm, Duration::from_secs(120)).ok();

    let leftovers = || {
        let mut bad = Vec::new();
        for (pid, cl) in pids_mentioning(&format!("sleep {secs}")) {
            bad.push(format!("workload process {pid}: {cl}"));
        }
        for id in &ids {
            for (pid, cl) in pids_mentioning(id) {
                bad.push(format!("process {pid}: {cl}"));
            }
            let st = std::path::Path::new(DOCKER_STATE_ROOT).join(id);
            if st.exists() {
                bad.push(format!("state dir {}", st.display()));
            }
            for ctl in [
                "memory", "pids", "cpu", "freezer", "devices", "blkio", "cpuset",
            ] {
                let p = docker_cgroup(ctl, id);
                if p.exists() {
                    bad.push(format!("cgroup {}", p.display()));
                }
            }
        }
        bad
    };
    let mut last = Vec::new();
    let clean = wait_until(Duration::from_secs(15), || {
        last = leftovers();
        last.is_empty()
    });
    assert!(
        clean,
        "left behind after docker rm -f:\n{}",
        last.join("\n")
    );
}

// ------------------------------------------------ install / uninstall

#[test]
fn install_and_uninstall_edit_daemon_json() {
    ensure_docker();
    let dir = std::env::temp_dir().join(unique_name("install"));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("daemon.json");
    std::fs::write(
        &cfg,
        r#"{"log-level":"warn","runtimes":{"other":{"path":"/bin/other"}}}"#,
    )
    .unwrap();
    let cfgs = cfg.to_str().unwrap();
    let run = |args: &[&str]| {
        run_with_timeout(
            std::process::Command::new(INSTALLED_BIN).args(args),
            CMD_TIMEOUT,
        )
    };
    let out = run(&[
        "install",
        "--runtime",
        "rt-x",
        "--config-file",
        cfgs,
        "--",
        "--strace",
    ]);
    let text = std::fs::read_to_string(&cfg).unwrap_or_default();
    let _cleanup = DirGuard(dir.clone());
    assert!(out.success(), "runrs install: {out}");
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("daemon.json not JSON after install ({e}): {text}"));
    assert_eq!(v["log-level"], "warn", "install dropped other keys: {text}");
    assert_eq!(v["runtimes"]["other"]["path"], "/bin/other", "{text}");
    let path = v["runtimes"]["rt-x"]["path"].as_str().unwrap_or_default();
    assert!(path.starts_with('/'), "runtime path not absolute: {text}");
    assert_eq!(
        v["runtimes"]["rt-x"]["runtimeArgs"],
        serde_json::json!(["--strace"]),
        "{text}"
    );

    let out = run(&["uninstall", "--runtime", "rt-x", "--config-file", cfgs]);
    assert!(out.success(), "runrs uninstall: {out}");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        v["runtimes"].get("rt-x").is_none(),
        "uninstall left rt-x: {text}"
    );
    assert_eq!(v["runtimes"]["other"]["path"], "/bin/other", "{text}");
    assert_eq!(v["log-level"], "warn", "{text}");
}

struct DirGuard(std::path::PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn unknown_runtime_args_flag_is_a_clear_error_through_docker() {
    ensure_docker();
    let name = unique_name("badargs");
    let out = docker_t(
        &[
            "run",
            "--rm",
            "--name",
            &name,
            "--runtime",
            "runrs-badargs",
            "runrs-bb",
            "true",
        ],
        Duration::from_secs(60),
    );
    let _ = docker(&["rm", "-f", &name]);
    assert!(
        !out.success(),
        "a runtime with an unknown flag must fail: {out}"
    );
    assert!(
        out.combined().contains("--no-such-flag"),
        "Docker's error must name the bad flag (runrs writes it to --log): {out}"
    );
}

/// A profile that denies mkdir with EPERM and chmod with EACCES.
const DENY_PROFILE: &str = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
 {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
 {"names": ["chmod", "fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#;

fn write_temp(name: &str, contents: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(unique_name(name));
    std::fs::write(&p, contents).expect("write temp file");
    p
}

#[test]
fn seccomp_profile_errnos_apply_to_run_and_exec() {
    ensure_docker();
    let prof = write_temp("profile.json", DENY_PROFILE);
    let opt = format!("seccomp={}", prof.display());
    let out = docker(&[
        "run",
        "--rm",
        "--runtime",
        "runrs",
        "--security-opt",
        &opt,
        "runrs-bb",
        "sh",
        "-c",
        "mkdir /x; chmod 600 /tmp; echo done",
    ]);
    let text = out.combined();
    assert!(
        text.contains("mkdir: can't create directory '/x': Operation not permitted"),
        "{out}"
    );
    assert!(text.contains("chmod: /tmp: Permission denied"), "{out}");
    // exec'd processes get the same profile.
    let c = Ctr::new("seccomp-exec");
    c.run_detached(&["--security-opt", &opt], &["sleep", "60"]);
    let out = c.exec(&[], &["mkdir", "/y"]);
    assert!(
        !out.success() && out.combined().contains("Operation not permitted"),
        "{out}"
    );
    // unconfined: no profile at all.
    let out = docker(&[
        "run",
        "--rm",
        "--runtime",
        "runrs",
        "--security-opt",
        "seccomp=unconfined",
        "runrs-bb",
        "sh",
        "-c",
        "mkdir /x && chmod 600 /tmp && echo ok",
    ]);
    assert!(out.success() && out.combined().contains("ok"), "{out}");
    let _ = std::fs::remove_file(prof);
}

/// The output of `docker run --rm --runtime R <args>` under runc, then
/// runrs; each run must succeed.
fn under_runc_and_runrs(args: &[&str]) -> Vec<String> {
    ["runc", "runrs"]
        .iter()
        .map(|runtime| {
            let mut all = vec!["run", "--rm", "--runtime", runtime];
            all.extend_from_slice(args);
            let out = docker(&all);
            assert!(out.success(), "{runtime}: {out}");
            out.combined()
        })
        .collect()
}

#[test]
fn docker_default_profile_denies_what_runc_denies() {
    ensure_docker();
    let dir = std::env::temp_dir().join(unique_name("persona"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let src = manifest_dir().join("tests/fixtures/personality.c");
    let bin = dir.join("personality");
    let gcc = std::process::Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("gcc");
    assert!(
        gcc.status.success(),
        "gcc: {}",
        String::from_utf8_lossy(&gcc.stderr)
    );
    let vol = format!("{}:/probe:ro", dir.display());
    let outputs = under_runc_and_runrs(&["-v", &vol, "runrs-bb", "/probe/personality"]);
    assert!(
        outputs[1].contains("errno=1"),
        "Docker's default profile must deny ADDR_NO_RANDOMIZE with EPERM: {}",
        outputs[1]
    );
    assert_eq!(outputs[0], outputs[1], "runc and runrs differ");
    let _ = std::fs::remove_dir_all(dir);
}

/// A rule whose action is the profile's default is no rule at all (runc
/// and youki skip it): Docker's default profile without mkdir in its allow
/// list, plus an explicit `SCMP_ACT_ERRNO` rule for mkdir, refuses mkdir
/// with EPERM under both runtimes (runrs allowed it once).
#[test]
fn profile_rule_with_the_default_action_refuses_as_runc() {
    ensure_docker();
    let mut profile: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/docker-seccomp.json")).expect("fixture");
    let rules = profile["syscalls"].as_array_mut().expect("syscalls");
    for rule in rules.iter_mut() {
        if let Some(names) = rule["names"].as_array_mut() {
            names.retain(|n| n != "mkdir" && n != "mkdirat");
        }
    }
    rules.push(serde_json::json!({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}));
    let file = write_temp("default-rule.json", &profile.to_string());
    let opt = format!("seccomp={}", file.display());
    let outputs = under_runc_and_runrs(&[
        "--security-opt",
        &opt,
        "runrs-bb",
        "sh",
        "-c",
        "mkdir /x; echo status $?; touch /y && echo touched",
    ]);
    let _ = std::fs::remove_file(file);
    assert!(
        outputs[1].contains("Operation not permitted") && outputs[1].contains("status 1"),
        "mkdir must fail with EPERM: {}",
        outputs[1]
    );
    assert!(outputs[1].contains("touched"), "{}", outputs[1]);
    assert_eq!(outputs[0], outputs[1], "runc and runrs differ");
}

/// `docker run --runtime runrs --security-opt seccomp=<profile> runrs-bb true`
/// with `profile_json` written to a temporary file (removed afterwards).
fn run_true_with_profile(file_name: &str, profile_json: &str) -> Out {
    let profile = write_temp(file_name, profile_json);
    let opt = format!("seccomp={}", profile.display());
    let out = docker(&[
        "run",
        "--rm",
        "--runtime",
        "runrs",
        "--security-opt",
        &opt,
        "runrs-bb",
        "true",
    ]);
    let _ = std::fs::remove_file(profile);
    out
}

#[test]
fn unsupported_or_malformed_profile_is_a_clear_create_error() {
    ensure_docker();
    let out = run_true_with_profile(
        "notify.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["open"], "action": "SCMP_ACT_NOTIFY"}]}"#,
    );
    assert!(!out.success(), "{out}");
    assert!(
        out.combined()
            .contains("linux.seccomp: syscalls[0] (open): SCMP_ACT_NOTIFY"),
        "{out}"
    );
    let out = run_true_with_profile(
        "bogus.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["open"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BOGUS"}]}]}"#,
    );
    assert!(!out.success(), "{out}");
    assert!(
        out.combined()
            .contains("linux.seccomp.syscalls[0].args[0].op")
            && out.combined().contains("SCMP_CMP_BOGUS"),
        "the error must name the field and the bad operator: {out}"
    );
}

// ------------------------------------------------------------ ptrace

/// `--runtime=runrs-ptrace` runs the same workload with the same output
/// as `--runtime=runrs`, and the container's processes are traced by the
/// sentry (seen from the host), not by anything the workload can see.
#[test]
fn ptrace_runtime_gives_the_same_output_as_seccomp() {
    ensure_docker();
    let script = "echo data > /tmp/f; cat /tmp/f; ls /; id; \
                  grep -E '^(Name|TracerPid|Seccomp):' /proc/self/status; \
                  (sleep 0.1; echo child) & wait; \
                  cat /etc/hostname > /dev/null && echo read-ok; exit 3";
    let mut outputs = Vec::new();
    for rt in [RUNTIME, RUNTIME_PTRACE] {
        let c = Ctr::on(rt, "same");
        let out = docker_run_on(rt, &c.name, &["--rm"], &["sh", "-c", script]);
        assert_eq!(out.code, Some(3), "{rt}: {out}");
        outputs.push(out.stdout);
    }
    assert!(outputs[0].starts_with("data\n"), "{}", outputs[0]);
    assert_eq!(outputs[0], outputs[1], "runrs vs runrs-ptrace output");

    let c = Ctr::on(RUNTIME_PTRACE, "traced");
    c.run_detached(&[], &["sleep", "1000"]);
    let pid = c.inspect("{{.State.Pid}}");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let tracer = status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .map(str::trim)
        .unwrap_or("0");
    assert_ne!(tracer, "0", "the container's init is not traced:\n{status}");
    let comm = std::fs::read_to_string(format!("/proc/{tracer}/cmdline")).unwrap_or_default();
    assert!(
        comm.contains("boot"),
        "the tracer {tracer} is not the runrs sentry: {comm:?}"
    );
}

/// `docker ARGS` against the userns-remap dockerd that e2e-setup.sh starts
/// ("userns-remap": "default": container ids 0..65536 are host
/// 100000..165536).
fn userns_docker(args: &[&str]) -> Out {
    let mut full = vec!["-H", "unix:///run/runrs-test-docker-userns.sock"];
    full.extend_from_slice(args);
    docker(&full)
}

/// Docker with userns-remap, and `--userns=host` on the same daemon: the
/// same ids, maps and owners under runrs as under runc, and a file the
/// container writes to a bind mount belongs to the remapped host uid.
#[test]
fn userns_remap_and_userns_host_match_runc() {
    ensure_docker();
    let script = "id; cat /proc/self/uid_map /proc/self/gid_map; stat -c '%A %u %g %s %n' /bin/busybox; \
        echo x > /share/f; stat -c '%A %u %g %s %n' /share/f; grep -E '^(Uid|Gid)' /proc/self/status; \
        chown 1000:1000 /share/f && stat -c '%A %u %g %s %n' /share/f";
    for userns in [None, Some("--userns=host")] {
        let mut outputs = Vec::new();
        for rt in ["runc", RUNTIME] {
            let share = std::env::temp_dir().join(unique_name("runrs-userns-share"));
            std::fs::create_dir_all(&share).expect("mkdir share");
            // Writable by the remapped root and by host root alike.
            std::fs::set_permissions(&share, std::os::unix::fs::PermissionsExt::from_mode(0o777))
                .expect("chmod share");
            let volume = format!("{}:/share", share.display());
            let runtime = format!("--runtime={rt}");
            let mut args = vec!["run", "--rm", "--network", "none", &runtime, "-v", &volume];
            args.extend(userns);
            args.extend([IMAGE, "sh", "-c", script]);
            let out = userns_docker(&args);
            use std::os::unix::fs::MetadataExt;
            let owner = std::fs::metadata(share.join("f"))
                .map(|m| format!("{}:{}", m.uid(), m.gid()))
                .unwrap_or_else(|e| e.to_string());
            let _ = std::fs::remove_dir_all(&share);
            assert!(out.success(), "{rt} {userns:?}: {out}");
            outputs.push((out.stdout.clone(), owner));
        }
        let want_owner = if userns.is_some() {
            "1000:1000"
        } else {
            "101000:101000"
        };
        assert_eq!(
            outputs[0].1, want_owner,
            "runc's own result is not what this test assumes"
        );
        // Without a remap runrs maps ids below the sandbox owner uids
        // only (docs/SECURITY.md), runc the whole range: the one
        // difference.
        let (runc_identity, runrs_identity) = (
            "         0          0 4294967295",
            "         0          0 4294901760",
        );
        let maps = if userns.is_some() {
            runrs_identity
        } else {
            "         0     100000      65536"
        };
        assert!(outputs[1].0.contains(maps), "{userns:?}: {}", outputs[1].0);
        outputs[1].0 = outputs[1].0.replace(runrs_identity, runc_identity);
        assert_eq!(outputs[1], outputs[0], "runrs vs runc with {userns:?}");
    }
}

/// `docker run -u` and `--group-add`: the ids the kernel holds are the
/// ones the container shows, and files it creates carry them on the host;
/// the same as under runc.
#[test]
fn user_and_group_add_are_the_kernels_ids() {
    ensure_docker();
    let mut results = Vec::new();
    for rt in ["runc", RUNTIME] {
        let share = std::env::temp_dir().join(unique_name("runrs-user-share"));
        std::fs::create_dir_all(&share).expect("mkdir share");
        std::fs::set_permissions(&share, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .expect("chmod share");
        let volume = format!("{}:/share", share.display());
        let c = Ctr::on(rt, "ugadd");
        let out = docker_run_on(
            rt,
            &c.name,
            &["--rm", "-u", "1234:2345", "--group-add", "777", "-v", &volume],
            &[
                "sh",
                "-c",
                "id -u; id -g; id -G; grep -E '^(Uid|Gid|Groups|CapEff)' /proc/self/status; \
                 touch /share/f; kill -0 1 && echo signal-own; ls /root >/dev/null 2>&1 || echo root-dir-refused",
            ],
        );
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(share.join("f")).map(|m| (m.uid(), m.gid()));
        let _ = std::fs::remove_dir_all(&share);
        assert!(out.success(), "{rt}: {out}");
        results.push((out.stdout.clone(), owner.ok()));
    }
    assert!(
        results[0].0.starts_with("1234\n2345\n") && results[0].1 == Some((1234, 2345)),
        "runc's own result is not what this test assumes: {results:?}"
    );
    assert_eq!(results[1], results[0], "runrs vs runc");
}

/// /proc/self/status tells a seccomp filter as runc's container does:
/// mode 2 and one filter under Docker's default profile, 0 without one
/// (runrs's own filters are the sandbox's and not shown).
#[test]
fn status_seccomp_fields_match_runc() {
    ensure_docker();
    for opts in [&[][..], &["--security-opt", "seccomp=unconfined"][..]] {
        let mut outputs = Vec::new();
        for rt in ["runc", RUNTIME] {
            let c = Ctr::on(rt, "seccompfield");
            let mut o = vec!["--rm"];
            o.extend_from_slice(opts);
            let out = docker_run_on(rt, &c.name, &o, &["grep", "^Seccomp", "/proc/self/status"]);
            assert!(out.success(), "{rt} {opts:?}: {out}");
            outputs.push(out.stdout);
        }
        assert_eq!(outputs[1], outputs[0], "runrs vs runc with {opts:?}");
    }
}
