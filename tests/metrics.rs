//! Metrics and the audit trail end to end (needs root): a real container
//! making emulated and denied calls, `runrs metrics-server` scraped by a
//! real Prometheus (Debian's package, started here on 127.0.0.1 with its
//! own config), `runrs events`, `runrs metrics`, and a server that lives
//! through 100 sandboxes coming and going.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// How long Prometheus may take to scrape and answer (a deadline for
/// polling, not a measurement).
const PROMETHEUS_DEADLINE: Duration = Duration::from_secs(90);

/// A child process killed (by its pid) and reaped on drop.
struct Daemon {
    child: Child,
    what: String,
}

impl Daemon {
    fn spawn(mut cmd: Command, log: &Path, what: &str) -> Daemon {
        let f = std::fs::File::create(log).expect("daemon log");
        let f2 = f.try_clone().expect("dup log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(f)
            .stderr(f2)
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        Daemon {
            child,
            what: what.to_string(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn assert_running(&mut self, log: &Path) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited ({status}):\n{}",
                self.what,
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind :0");
    l.local_addr().expect("local addr").port()
}

/// The body of `GET path` from a plain HTTP/1.0 server (ours or
/// Prometheus), None when nobody answers.
fn http_get(stream: &mut (impl Read + Write), path: &str) -> Option<String> {
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut resp = String::new();
    stream.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    assert!(head.starts_with("HTTP/1."), "not HTTP: {head}");
    head.contains(" 200 ").then(|| body.to_string())
}

fn tcp_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    http_get(&mut s, path)
}

fn unix_get(sock: &Path, path: &str) -> Option<String> {
    let mut s = std::os::unix::net::UnixStream::connect(sock).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    http_get(&mut s, path)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The result vector of an instant PromQL query.
fn promql(port: u16, query: &str) -> Vec<serde_json::Value> {
    let Some(body) = tcp_get(port, &format!("/api/v1/query?query={}", urlencode(query))) else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

fn sample_value(r: &serde_json::Value) -> f64 {
    r["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Debian's prometheus binary, installed by scripts/metrics-setup.sh
/// (run here when missing; a failure to install fails the test).
fn prometheus_bin() -> PathBuf {
    let found = || {
        std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("prometheus"))
                .find(|p| p.is_file())
        })
    };
    if let Some(p) = found() {
        return p;
    }
    let out = Command::new("bash")
        .arg(manifest_dir().join("scripts/metrics-setup.sh"))
        .output()
        .expect("run scripts/metrics-setup.sh");
    assert!(
        out.status.success(),
        "scripts/metrics-setup.sh failed: {}",
        describe(&out)
    );
    found().expect("prometheus not on PATH after scripts/metrics-setup.sh")
}

fn start_metrics_server(root: &Root, listen: &str, log: &Path) -> Daemon {
    let mut cmd = Command::new(runrs());
    cmd.arg("--root")
        .arg(root.path())
        .args(["metrics-server", "--listen", listen]);
    Daemon::spawn(cmd, log, "runrs metrics-server")
}

#[test]
fn prometheus_scrapes_emulated_and_denied_calls_and_events_show_the_denial() {
    let prometheus = prometheus_bin();
    let root = Root::new();
    let work = std::env::temp_dir().join(unique_id("runrs-test-metrics"));
    std::fs::create_dir_all(&work).expect("work dir");
    let audit_log = work.join("audit.log");
    // cat and ls: emulated opens, stats and getdents; sync: a denied row
    // (EPERM), which only the sentry sees.
    let bundle = Bundle::new(&[
        "sh",
        "-c",
        "while true; do cat /etc/passwd >/dev/null; ls /proc >/dev/null; sync; sleep 0.2; done",
    ]);
    let id = unique_id("metrics");
    let b = bundle.path().to_string_lossy().into_owned();
    let log = audit_log.to_string_lossy().into_owned();
    let out = run(&root, &["--audit-log", &log, "create", "--bundle", &b, &id]);
    assert!(out.status.success(), "create: {}", describe(&out));
    start(&root, &id);

    let port = free_port();
    let server_log = work.join("metrics-server.log");
    let mut server = start_metrics_server(&root, &format!("127.0.0.1:{port}"), &server_log);
    assert!(
        wait_until(Duration::from_secs(20), || tcp_get(port, "/metrics")
            .is_some()),
        "metrics-server never answered: {}",
        std::fs::read_to_string(&server_log).unwrap_or_default()
    );
    server.assert_running(&server_log);

    let prom_port = free_port();
    let config = work.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: runrs\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .expect("prometheus.yml");
    let prom_log = work.join("prometheus.log");
    let mut cmd = Command::new(&prometheus);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            work.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"));
    let mut prom = Daemon::spawn(cmd, &prom_log, "prometheus");

    // rate() over the container's syscall counter: above zero once two
    // scrapes saw it grow.
    let rate_query = format!("sum(rate(runrs_syscalls_total{{container=\"{id}\"}}[10s]))");
    let mut rate = 0.0;
    let seen = wait_until(PROMETHEUS_DEADLINE, || {
        rate = promql(prom_port, &rate_query)
            .first()
            .map(sample_value)
            .unwrap_or(0.0);
        rate > 0.0
    });
    prom.assert_running(&prom_log);
    server.assert_running(&server_log);
    assert!(
        seen,
        "Prometheus never saw the container's syscalls grow ({rate_query} = {rate});\n\
         targets: {:?}\nprometheus log:\n{}",
        tcp_get(prom_port, "/api/v1/targets"),
        std::fs::read_to_string(&prom_log).unwrap_or_default()
    );

    // The denied counter names the syscall.
    let denied_query = format!("runrs_denied_syscalls_total{{container=\"{id}\"}}");
    let mut denied = Vec::new();
    assert!(
        wait_until(PROMETHEUS_DEADLINE, || {
            denied = promql(prom_port, &denied_query);
            !denied.is_empty()
        }),
        "no {denied_query} in Prometheus"
    );
    let names: Vec<&str> = denied
        .iter()
        .filter_map(|r| r["metric"]["syscall"].as_str())
        .collect();
    assert!(names.contains(&"sync"), "denied syscalls: {denied:?}");
    assert!(denied.iter().all(|r| sample_value(r) >= 1.0), "{denied:?}");
    // The emulated calls carry their disposition, and the latency
    // histogram answers a p99 query.
    let emulated = promql(
        prom_port,
        &format!("runrs_syscalls_total{{container=\"{id}\",disposition=\"emulated\",syscall=\"openat\"}}"),
    );
    assert!(
        emulated.first().map(sample_value).unwrap_or(0.0) >= 1.0,
        "no emulated openat: {emulated:?}"
    );
    let p99 = promql(
        prom_port,
        &format!(
            "histogram_quantile(0.99, sum by (le) (rate(runrs_syscall_duration_seconds_bucket{{container=\"{id}\"}}[30s])))"
        ),
    );
    let v = p99.first().map(sample_value).unwrap_or(f64::NAN);
    assert!(v.is_finite() && v > 0.0, "p99 latency: {p99:?}");

    // runrs metrics: the table names the denied call.
    let out = run(&root, &["metrics", &id]);
    assert!(out.status.success(), "metrics: {}", describe(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("sync ") && l.contains("denied")),
        "{table}"
    );

    // Lifecycle lines of the operator's other commands.
    for cmd in [
        &["pause", &id][..],
        &["resume", &id],
        &["exec", &id, "true"],
    ] {
        let out = run(&root, cmd);
        assert!(out.status.success(), "{cmd:?}: {}", describe(&out));
    }
    // The audit trail: stop the container, then `runrs events --audit` prints
    // what happened and ends.
    let out = run(&root, &["kill", &id, "KILL"]);
    assert!(out.status.success(), "kill: {}", describe(&out));
    assert!(wait_until(Duration::from_secs(20), || status(&root, &id) == "stopped"));
    let out = run(&root, &["events", "--audit", &id]);
    assert!(out.status.success(), "events: {}", describe(&out));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let denial = events
        .iter()
        .find(|e| e["type"] == "denied-syscall" && e["data"]["syscall"] == "sync")
        .unwrap_or_else(|| panic!("no sync denial in events: {events:?}"));
    assert_eq!(denial["id"], id.as_str());
    assert_eq!(denial["data"]["errno"], "EPERM");
    assert!(denial["data"]["pid"].as_i64().unwrap_or(0) > 1, "{denial}");
    for ev in ["create", "start", "pause", "resume", "exec", "kill"] {
        assert!(
            events
                .iter()
                .any(|e| e["type"] == "lifecycle" && e["data"]["event"] == ev),
            "no {ev} event: {events:?}"
        );
    }
    // --audit-log got the same lines, and the delete's.
    let out = run(&root, &["delete", &id]);
    assert!(out.status.success(), "delete: {}", describe(&out));
    let logged = std::fs::read_to_string(&audit_log).expect("audit log");
    assert!(logged.contains("\"syscall\":\"sync\""), "{logged}");
    assert!(logged.contains("\"event\":\"delete\""), "{logged}");
    drop(prom);
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
}

/// The server's open fds and its mappings of counters files.
fn server_resources(pid: u32) -> (usize, usize) {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.ends_with("/metrics"))
        .count();
    (fds, maps)
}

#[test]
fn metrics_server_survives_100_sandboxes_without_leaks_or_stale_series() {
    let root = Root::new();
    let work = std::env::temp_dir().join(unique_id("runrs-test-metrics-cycles"));
    std::fs::create_dir_all(&work).expect("work dir");
    let sock = work.join("metrics.sock");
    let server_log = work.join("metrics-server.log");
    let listen = format!("unix:{}", sock.display());
    let mut server = start_metrics_server(&root, &listen, &server_log);
    assert!(
        wait_until(Duration::from_secs(20), || unix_get(&sock, "/metrics")
            .is_some()),
        "metrics-server never answered on {listen}: {}",
        std::fs::read_to_string(&server_log).unwrap_or_default()
    );
    let baseline = server_resources(server.pid());
    let bundle = Bundle::new(&["sleep", "600"]);
    let b = bundle.path().to_string_lossy().into_owned();
    let series = |text: &str, id: &str| {
        text.lines()
            .filter(|l| l.contains(&format!("container=\"{id}\"")))
            .count()
    };
    // A sandbox made with --no-metrics: its processes and cgroup only.
    let out = run(&root, &["--no-metrics", "create", "--bundle", &b, "quiet"]);
    assert!(
        out.status.success(),
        "create --no-metrics: {}",
        describe(&out)
    );
    let text = unix_get(&sock, "/metrics").expect("scrape");
    assert!(
        text.contains("runrs_sandbox_info{container=\"quiet\"")
            && text.contains("runrs_process_resident_memory_bytes{container=\"quiet\"")
            && !text.contains("runrs_syscalls_total{container=\"quiet\""),
        "--no-metrics sandbox:\n{text}"
    );
    assert!(!root.state_dir("quiet").join("metrics").exists());
    let out = run(&root, &["delete", "--force", "quiet"]);
    assert!(out.status.success(), "delete: {}", describe(&out));
    for i in 0..100 {
        let id = format!("cycle-{i}");
        let out = run(&root, &["create", "--bundle", &b, &id]);
        assert!(out.status.success(), "create {id}: {}", describe(&out));
        let text = unix_get(&sock, "/metrics").expect("scrape");
        // Created: its info, its processes; its sentry answered init's
        // calls before create returned.
        assert!(
            text.contains(&format!(
                "runrs_sandbox_info{{container=\"{id}\",sandbox=\"{id}\",pod=\"\",namespace=\"\",status=\"created\"}} 1"
            )),
            "cycle {i}: {id} missing:\n{text}"
        );
        assert!(
            text.contains(&format!("runrs_syscalls_total{{container=\"{id}\"")),
            "cycle {i}: no syscall counters for {id}"
        );
        let out = run(&root, &["delete", "--force", &id]);
        assert!(out.status.success(), "delete {id}: {}", describe(&out));
        let text = unix_get(&sock, "/metrics").expect("scrape");
        assert_eq!(series(&text, &id), 0, "cycle {i}: stale series:\n{text}");
        assert!(
            text.contains("runrs_metrics_read_errors 0"),
            "cycle {i}: read errors:\n{text}"
        );
        server.assert_running(&server_log);
    }
    // Connection threads close their fds as they end.
    let mut now = (0, 0);
    let settled = wait_until(Duration::from_secs(10), || {
        now = server_resources(server.pid());
        now == baseline
    });
    assert!(
        settled,
        "metrics-server's (fds, counters mappings) went from {baseline:?} to {now:?}"
    );
    assert_eq!(baseline.1, 0, "a counters file stayed mapped");
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
}

/// A workload that makes 2,000 denied calls as fast as it can: every one
/// is counted, the trail takes the burst and the rate, and the rest are
/// counted as dropped, not written.
#[test]
fn audit_trail_rate_limits_a_flood_of_denied_calls_and_counts_the_drops() {
    const CALLS: u64 = 2000;
    let root = Root::new();
    let bundle = Bundle::new(&["/flood"]);
    let src = bundle.path().join("flood.c");
    std::fs::write(
        &src,
        format!(
            "#include <stdio.h>\n#include <unistd.h>\n#include <sys/syscall.h>\n\
             int main(void) {{ int failed = 0;\n\
             for (int i = 0; i < {CALLS}; i++) if (syscall(SYS_sync) != 0) failed++;\n\
             printf(\"%d\\n\", failed); return failed == {CALLS} ? 0 : 1; }}\n"
        ),
    )
    .expect("flood.c");
    let out = run_command({
        let mut c = Command::new("gcc");
        c.args(["-static", "-O2", "-o"])
            .arg(bundle.rootfs().join("flood"))
            .arg(&src);
        c
    });
    assert!(out.status.success(), "gcc -static: {}", describe(&out));
    let id = unique_id("flood");
    create(&root, &bundle, &id);
    start(&root, &id);
    assert!(
        wait_until(Duration::from_secs(60), || status(&root, &id) == "stopped"),
        "the flood did not finish"
    );
    let out = run(&root, &["metrics", "--format", "json", &id]);
    assert!(out.status.success(), "metrics: {}", describe(&out));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metrics json");
    let c = &m["counters"];
    assert_eq!(c["syscalls"]["sync"]["calls"], CALLS, "{m:#}");
    assert_eq!(c["denied"], serde_json::json!(["sync"]), "{m:#}");
    let written = c["audit_written"].as_u64().expect("audit_written");
    let dropped = c["audit_dropped"].as_u64().expect("audit_dropped");
    assert_eq!(written + dropped, CALLS, "{m:#}");
    // The burst is 100 and the rate 20/s: well under 2,000 in the
    // seconds the flood takes.
    assert!(
        dropped > 0 && written >= 100,
        "written {written}, dropped {dropped}"
    );
    let trail = std::fs::read_to_string(root.state_dir(&id).join("audit.jsonl")).expect("trail");
    let denied_lines = trail
        .lines()
        .filter(|l| l.contains("\"type\":\"denied-syscall\""))
        .count() as u64;
    assert_eq!(
        denied_lines, written,
        "the trail's lines and the counter disagree"
    );
}
