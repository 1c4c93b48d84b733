//! `runrs metrics-server`: every sandbox under `--root`, served at
//! `/metrics` in the Prometheus/OpenMetrics text format (encoded by the
//! prometheus-client crate), over TCP or a unix socket.
//!
//! Each scrape reads the state directories afresh (a container's counters
//! file is mapped for the copy and unmapped), so a deleted container's
//! series are gone at the next scrape and the server holds no fd or
//! mapping between scrapes.

use std::io::{Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::cli::GlobalOpts;
use super::error::{Error, Result};
use super::observe::{self, ContainerMetrics};
use crate::metrics::shm::Row;

/// Connections served at once; more are closed at accept.
const MAX_CONNECTIONS: usize = 16;
/// A request head longer than this is refused.
const MAX_HEAD: usize = 8192;
/// How long a client may take to send its request, or to read the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// The content type of the text format prometheus-client writes.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One scrape's figures, encoded by prometheus-client.
#[derive(Debug)]
struct Scrape {
    containers: Vec<ContainerMetrics>,
    errors: usize,
}

type Labels = Vec<(String, String)>;

fn with(base: &Labels, extra: &[(&str, &str)]) -> Labels {
    let mut l = base.clone();
    l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    l
}

/// One metric family: its descriptor, then one sample per label set.
fn family<T>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    typ: MetricType,
    samples: &[(Labels, T)],
    mut each: impl FnMut(&mut prometheus_client::encoding::MetricEncoder, &T) -> std::fmt::Result,
) -> std::fmt::Result {
    if samples.is_empty() {
        return Ok(());
    }
    let mut m = enc.encode_descriptor(name, help, unit, typ)?;
    for (labels, v) in samples {
        let mut f = m.encode_family(labels)?;
        each(&mut f, v)?;
    }
    Ok(())
}

fn counter(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    samples: &[(Labels, f64)],
) -> std::fmt::Result {
    family(
        enc,
        name,
        help,
        unit,
        MetricType::Counter,
        samples,
        |f, v| f.encode_counter::<NoLabelSet, f64, f64>(v, None),
    )
}

fn gauge(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    samples: &[(Labels, f64)],
) -> std::fmt::Result {
    family(enc, name, help, unit, MetricType::Gauge, samples, |f, v| {
        f.encode_gauge(v)
    })
}

fn histogram(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: &[(Labels, Row)],
) -> std::fmt::Result {
    family(
        enc,
        name,
        help,
        Some(&Unit::Seconds),
        MetricType::Histogram,
        samples,
        |f, r| {
            f.encode_histogram::<NoLabelSet>(
                r.sum_ns as f64 / 1e9,
                r.observed(),
                &r.buckets_seconds(),
                None,
            )
        },
    )
}

impl Collector for Scrape {
    fn encode(&self, mut enc: DescriptorEncoder) -> std::fmt::Result {
        let mut info = Vec::new();
        let (mut calls, mut denied, mut lat) = (Vec::new(), Vec::new(), Vec::new());
        let (mut gofer, mut gofer_lat) = (Vec::new(), Vec::new());
        let (mut audit, mut dropped) = (Vec::new(), Vec::new());
        let (mut rss, mut cpu) = (Vec::new(), Vec::new());
        let (mut cg_mem, mut cg_limit, mut cg_cpu, mut cg_pids) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for c in &self.containers {
            let base = c.labels.pairs();
            info.push((with(&base, &[("status", c.status.as_str())]), 1.0));
            for (name, u) in [("sentry", &c.sentry), ("gofer", &c.gofer)] {
                if let Some(u) = u {
                    let l = with(&base, &[("process", name)]);
                    rss.push((l.clone(), u.rss_bytes as f64));
                    cpu.push((l, u.cpu_seconds));
                }
            }
            if let Some(g) = &c.cgroup {
                cg_mem.push((base.clone(), g.memory_bytes as f64));
                if let Some(l) = g.memory_limit {
                    cg_limit.push((base.clone(), l as f64));
                }
                cg_cpu.push((base.clone(), g.cpu_seconds));
                cg_pids.push((base.clone(), g.pids as f64));
            }
            let Some(s) = &c.counters else {
                continue;
            };
            let mut families: std::collections::BTreeMap<&str, Row> = Default::default();
            for (nr, r) in s.syscalls.iter().enumerate().filter(|(_, r)| r.count() > 0) {
                let (name, fam, disp) = observe::syscall_name(nr);
                let n = r.count() as f64;
                calls.push((with(&base, &[("syscall", name), ("disposition", disp)]), n));
                if disp == "denied" {
                    denied.push((with(&base, &[("syscall", name)]), n));
                }
                families.entry(fam).or_default().merge(r);
            }
            for (fam, r) in families {
                lat.push((with(&base, &[("family", fam)]), r));
            }
            for (op, r) in s.gofer.iter().enumerate().filter(|(_, r)| r.count() > 0) {
                let name = crate::gofer::proto::OPS
                    .get(op)
                    .copied()
                    .unwrap_or("unknown");
                let l = with(&base, &[("op", name)]);
                gofer.push((l.clone(), r.count() as f64));
                gofer_lat.push((l, *r));
            }
            audit.push((base.clone(), s.audit_written as f64));
            dropped.push((base.clone(), s.audit_dropped as f64));
        }
        gauge(
            &mut enc,
            "runrs_sandbox_info",
            "One per container under --root, with its Kubernetes labels and OCI status.",
            None,
            &info,
        )?;
        counter(
            &mut enc,
            "runrs_syscalls",
            "Syscalls the sentry answered, by syscall and disposition (emulated, or denied with the table's errno).",
            None,
            &calls,
        )?;
        counter(
            &mut enc,
            "runrs_denied_syscalls",
            "Denied syscalls the sentry answered with the table's errno.",
            None,
            &denied,
        )?;
        histogram(
            &mut enc,
            "runrs_syscall_duration",
            "Time from the sentry's receipt of a syscall to its answer, by syscall family (one call in 8 of each syscall observed).",
            &lat,
        )?;
        counter(
            &mut enc,
            "runrs_gofer_requests",
            "Requests the sentry sent to the gofer, by kind.",
            None,
            &gofer,
        )?;
        histogram(
            &mut enc,
            "runrs_gofer_request_duration",
            "Round trip of a gofer request as the sentry sees it, by kind (one request in 8 observed).",
            &gofer_lat,
        )?;
        counter(
            &mut enc,
            "runrs_audit_events",
            "Denied-syscall events written to the audit trail.",
            None,
            &audit,
        )?;
        counter(
            &mut enc,
            "runrs_audit_events_dropped",
            "Denied-syscall events dropped by the audit trail's rate limit.",
            None,
            &dropped,
        )?;
        gauge(
            &mut enc,
            "runrs_process_resident_memory",
            "Resident memory of the sandbox's sentry and gofer processes.",
            Some(&Unit::Bytes),
            &rss,
        )?;
        counter(
            &mut enc,
            "runrs_process_cpu",
            "CPU time (user and system) of the sandbox's sentry and gofer processes.",
            Some(&Unit::Seconds),
            &cpu,
        )?;
        gauge(
            &mut enc,
            "runrs_cgroup_memory_usage",
            "Memory use of the container's cgroup.",
            Some(&Unit::Bytes),
            &cg_mem,
        )?;
        gauge(
            &mut enc,
            "runrs_cgroup_memory_limit",
            "Memory limit of the container's cgroup (absent when unlimited).",
            Some(&Unit::Bytes),
            &cg_limit,
        )?;
        counter(
            &mut enc,
            "runrs_cgroup_cpu",
            "CPU time of the container's cgroup.",
            Some(&Unit::Seconds),
            &cg_cpu,
        )?;
        gauge(
            &mut enc,
            "runrs_cgroup_pids",
            "Tasks in the container's cgroup.",
            None,
            &cg_pids,
        )?;
        let errors = vec![(Labels::new(), self.errors as f64)];
        gauge(
            &mut enc,
            "runrs_metrics_read_errors",
            "Containers whose figures could not be read in this scrape (see the server's log).",
            None,
            &errors,
        )
    }
}

/// The text exposition of `containers`.
pub fn encode(containers: &[ContainerMetrics], errors: &[String]) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape {
        containers: containers.to_vec(),
        errors: errors.len(),
    }));
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &registry) {
        crate::log::warn(&format!("metrics-server: encoding: {e}"));
    }
    out
}

/// A place to listen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    Tcp(String),
    Unix(PathBuf),
}

impl Listen {
    /// `HOST:PORT`, `[V6]:PORT` or `unix:PATH`.
    pub fn parse(s: &str) -> Result<Listen> {
        if let Some(p) = s.strip_prefix("unix:") {
            if p.is_empty() {
                return Err(Error::Usage {
                    flag: "--listen",
                    msg: "--listen unix:PATH: the path is empty".into(),
                });
            }
            return Ok(Listen::Unix(PathBuf::from(p)));
        }
        use std::net::ToSocketAddrs;
        match s.to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(_)) => Ok(Listen::Tcp(s.to_string())),
            _ => Err(Error::Usage {
                flag: "--listen",
                msg: format!("--listen {s}: expected HOST:PORT (e.g. 127.0.0.1:9100) or unix:PATH"),
            }),
        }
    }
}

trait Conn: Read + Write + Send {
    fn set_timeouts(&self, d: Duration);
}
impl Conn for std::net::TcpStream {
    fn set_timeouts(&self, d: Duration) {
        let _ = self.set_read_timeout(Some(d));
        let _ = self.set_write_timeout(Some(d));
    }
}
impl Conn for std::os::unix::net::UnixStream {
    fn set_timeouts(&self, d: Duration) {
        let _ = self.set_read_timeout(Some(d));
        let _ = self.set_write_timeout(Some(d));
    }
}

/// Reads the request head; None when it is not a complete, short one.
fn read_head(c: &mut dyn Conn) -> Option<String> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        let n = c.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
    String::from_utf8(buf).ok()
}

fn respond(c: &mut dyn Conn, status: &str, typ: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {typ}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = c
        .write_all(head.as_bytes())
        .and_then(|_| c.write_all(body.as_bytes()));
    let _ = c.flush();
}

fn serve_conn(mut c: Box<dyn Conn>, root: &std::path::Path) {
    c.set_timeouts(IO_TIMEOUT);
    let Some(head) = read_head(&mut *c) else {
        respond(&mut *c, "400 Bad Request", "text/plain", "bad request\n");
        return;
    };
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics") => {
            let (containers, errors) = observe::collect_all(root);
            for e in &errors {
                crate::log::warn(&format!("metrics-server: {e}"));
            }
            respond(
                &mut *c,
                "200 OK",
                CONTENT_TYPE,
                &encode(&containers, &errors),
            );
        }
        ("GET", "/") => respond(
            &mut *c,
            "200 OK",
            "text/plain",
            "runrs metrics-server: GET /metrics\n",
        ),
        ("GET", _) => respond(&mut *c, "404 Not Found", "text/plain", "not found\n"),
        _ => respond(
            &mut *c,
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n",
        ),
    }
}

/// Accepts connections forever, each served on its own thread (at most
/// [`MAX_CONNECTIONS`] at once).
fn accept_loop(accept: impl Fn() -> std::io::Result<Box<dyn Conn>>, root: PathBuf) {
    let busy = Arc::new(AtomicUsize::new(0));
    loop {
        let c = match accept() {
            Ok(c) => c,
            Err(e) => {
                crate::log::warn(&format!("metrics-server: accept: {e}"));
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if busy.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            busy.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let (busy, root) = (Arc::clone(&busy), root.clone());
        std::thread::spawn(move || {
            serve_conn(c, &root);
            busy.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// `runrs metrics-server --listen ADDR...`: serves until killed.
pub fn main(g: &GlobalOpts, listen: &[String]) -> Result<i32> {
    let places: Vec<Listen> = listen
        .iter()
        .map(|s| Listen::parse(s))
        .collect::<Result<_>>()?;
    let mut threads = Vec::new();
    for place in places {
        let root = g.root.clone();
        match place {
            Listen::Tcp(addr) => {
                let l = std::net::TcpListener::bind(&addr)
                    .map_err(Error::io("--listen", addr.clone()))?;
                crate::log::info(&format!(
                    "metrics-server: serving {} on http://{}/metrics",
                    g.root.display(),
                    l.local_addr().map_or(addr.clone(), |a| a.to_string())
                ));
                threads.push(std::thread::spawn(move || {
                    accept_loop(
                        || l.accept().map(|(s, _)| Box::new(s) as Box<dyn Conn>),
                        root,
                    )
                }));
            }
            Listen::Unix(path) => {
                // A socket left by an earlier server is replaced; any
                // other file there is an error.
                if let Ok(m) = std::fs::symlink_metadata(&path) {
                    if m.file_type().is_socket() {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                let l = std::os::unix::net::UnixListener::bind(&path)
                    .map_err(Error::io("--listen", format!("unix:{}", path.display())))?;
                crate::log::info(&format!(
                    "metrics-server: serving {} on unix:{}",
                    g.root.display(),
                    path.display()
                ));
                threads.push(std::thread::spawn(move || {
                    accept_loop(
                        || l.accept().map(|(s, _)| Box::new(s) as Box<dyn Conn>),
                        root,
                    )
                }));
            }
        }
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_parse_or_name_the_flag() {
        assert_eq!(
            Listen::parse("127.0.0.1:0").expect("tcp"),
            Listen::Tcp("127.0.0.1:0".into())
        );
        assert_eq!(
            Listen::parse("unix:/run/x.sock").expect("unix"),
            Listen::Unix("/run/x.sock".into())
        );
        for bad in ["", "unix:", "nohost", "1.2.3.4:99999"] {
            let e = Listen::parse(bad).expect_err(bad).to_string();
            assert!(e.contains("--listen"), "{e}");
        }
    }

    /// The answer to `request` sent by a client over a socket pair.
    fn exchange(request: &[u8]) -> String {
        let (mut client, server) = std::os::unix::net::UnixStream::pair().expect("pair");
        let root = std::env::temp_dir().join(format!("runrs-ms-test-{}", std::process::id()));
        let t = std::thread::spawn(move || serve_conn(Box::new(server), &root));
        client.write_all(request).expect("send");
        let _ = client.shutdown(std::net::Shutdown::Write);
        // A server that stopped reading an oversized request resets the
        // connection after its answer: keep what arrived.
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = client.read(&mut buf) {
            out.extend_from_slice(&buf[..n]);
        }
        t.join().expect("server thread");
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn requests_get_their_status_and_bad_ones_no_panic() {
        let ok = exchange(b"GET /metrics HTTP/1.0\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains(CONTENT_TYPE) && ok.ends_with("# EOF\n"), "{ok}");
        let q = exchange(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(q.starts_with("HTTP/1.1 200 "), "{q}");
        assert!(exchange(b"GET /nope HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 404 "));
        assert!(exchange(b"POST /metrics HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 405 "));
        // Too long, not UTF-8, cut short, empty: 400 or an answer, never a hang.
        let long = [b"GET /".as_slice(), &vec![b'a'; MAX_HEAD * 2]].concat();
        assert!(exchange(&long).starts_with("HTTP/1.1 400 "));
        assert!(exchange(b"GET /\xff\xfe HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 400 "));
        assert!(exchange(b"GET /metrics").starts_with("HTTP/1.1 200 "));
        assert!(exchange(b"").starts_with("HTTP/1.1 405 "));
    }

    #[test]
    fn an_empty_root_encodes_only_the_error_gauge() {
        let text = encode(&[], &[]);
        assert!(text.contains("runrs_metrics_read_errors 0"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
