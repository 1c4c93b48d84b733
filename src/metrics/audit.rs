//! The audit trail: every denied syscall the sentry answers and every
//! lifecycle event of the sandbox, as JSON lines in `audit.jsonl` in the
//! state directory (what `runrs events` prints) and, with the global
//! `--audit-log FILE` given at create, appended to that file too.
//!
//! A line has runc's event shape, `{"type":..,"id":..,"data":{..}}`, plus
//! a `time`:
//! - `{"type":"denied-syscall", "data":{"syscall","nr","errno","pid","host_tid","args"}}`:
//!   `pid` is the caller's pid in the container (0 when it is gone),
//!   `args` the six raw argument registers in hex (memory they point at is
//!   never read into the trail);
//! - `{"type":"lifecycle", "data":{"event":"create|start|exec|pause|resume|kill|exit|delete", ..}}`;
//! - `{"type":"audit-dropped", "data":{"dropped":N}}`: N denied-syscall
//!   events were dropped by the rate limit since the last line.
//!
//! The workload decides how often it makes a denied call, so the sentry's
//! events are rate-limited: a burst of [`BURST`] events, then [`RATE`] per
//! second, and at most [`MAX_BYTES`] per file; what is dropped is counted
//! (in the next `audit-dropped` line, and in the counters file as
//! `runrs_audit_events_dropped_total`). Lifecycle events come from the
//! operator's own commands and are not limited.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// The trail's name in the state directory.
pub const FILE: &str = "audit.jsonl";
/// What create decided about observation, for the sentry and the later
/// commands (a flag given to create only still applies to them).
pub const CONFIG_FILE: &str = "observe.json";
/// Denied-syscall events written at once before the limit applies.
pub const BURST: f64 = 100.0;
/// Denied-syscall events per second after the burst.
pub const RATE: f64 = 20.0;
/// The sentry writes no more than this to one file (16 MiB).
pub const MAX_BYTES: u64 = 16 << 20;

/// What create recorded in `observe.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Config {
    /// Whether the sentry keeps the counters file.
    #[serde(default = "yes")]
    pub metrics: bool,
    /// A file every audit line is appended to as well.
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

impl Default for Config {
    fn default() -> Config {
        Config {
            metrics: true,
            audit_log: None,
        }
    }
}

impl Config {
    pub fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        let data = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        std::fs::write(state_dir.join(CONFIG_FILE), data)
    }

    /// The recorded config; the defaults when there is none (a sandbox
    /// made by an older runrs) or it does not parse.
    pub fn load(state_dir: &Path) -> Config {
        std::fs::read(state_dir.join(CONFIG_FILE))
            .ok()
            .and_then(|d| serde_json::from_slice(&d).ok())
            .unwrap_or_default()
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
}

/// One JSON line: `{"type","id","time","data"}`.
/// In runc's field order (`{"type":..,"id":..`), as `events --stats`.
fn line(typ: &str, id: &str, data: serde_json::Value) -> Vec<u8> {
    #[derive(Serialize)]
    struct Line<'a> {
        #[serde(rename = "type")]
        typ: &'a str,
        id: &'a str,
        time: String,
        data: serde_json::Value,
    }
    let mut v = serde_json::to_vec(&Line {
        typ,
        id,
        time: crate::log::rfc3339_now(),
        data,
    })
    .unwrap_or_default();
    v.push(b'\n');
    v
}

/// Appends a lifecycle event (`create`, `start`, `kill`, `delete`, ...)
/// to the sandbox's trail and to the audit log its create named. Errors
/// are the caller's to log: an unwritable trail must not fail the command.
pub fn lifecycle(
    state_dir: &Path,
    id: &str,
    event: &str,
    mut data: serde_json::Value,
) -> std::io::Result<()> {
    if let Some(m) = data.as_object_mut() {
        m.insert("event".into(), event.into());
    } else {
        data = serde_json::json!({ "event": event });
    }
    let bytes = line("lifecycle", id, data);
    let cfg = Config::load(state_dir);
    let mut result = open_append(&state_dir.join(FILE)).and_then(|mut f| f.write_all(&bytes));
    if let Some(log) = &cfg.audit_log {
        let r = open_append(log).and_then(|mut f| f.write_all(&bytes));
        result = result.and(r);
    }
    result
}

/// Token bucket of the sentry's denied-syscall events.
struct Limiter {
    tokens: f64,
    last: Instant,
    dropped: u64,
}

impl Limiter {
    fn new(now: Instant) -> Limiter {
        Limiter {
            tokens: BURST,
            last: now,
            dropped: 0,
        }
    }

    /// Whether an event may be written now; counts it dropped if not.
    fn admit(&mut self, now: Instant) -> bool {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * RATE).min(BURST);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.dropped += 1;
            false
        }
    }
}

struct Sink {
    file: File,
    written: u64,
}

/// The sentry's writer of its trail (opened before it confines itself).
struct Trail {
    id: String,
    sinks: Vec<Sink>,
    limiter: Limiter,
}

static TRAIL: OnceLock<Mutex<Trail>> = OnceLock::new();

/// Opens the sentry's trail: `audit.jsonl` in `state_dir` and the
/// configured audit log. Called before the sentry confines itself (its
/// filter then refuses opens). The container id is the directory's name.
pub fn open_for_sentry(state_dir: &Path, cfg: &Config) -> std::io::Result<()> {
    let id = state_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut sinks = Vec::new();
    for p in std::iter::once(state_dir.join(FILE)).chain(cfg.audit_log.clone()) {
        let file = open_append(&p)?;
        let written = file.metadata().map(|m| m.len()).unwrap_or(0);
        sinks.push(Sink { file, written });
    }
    let _ = TRAIL.set(Mutex::new(Trail {
        id,
        sinks,
        limiter: Limiter::new(Instant::now()),
    }));
    Ok(())
}

impl Trail {
    fn write(&mut self, bytes: &[u8]) -> bool {
        let mut any = false;
        for s in &mut self.sinks {
            if s.written + bytes.len() as u64 > MAX_BYTES {
                continue;
            }
            // One write(2) per line on an O_APPEND file: lines of several
            // writers (create, start, the sentry) never interleave.
            if s.file.write_all(bytes).is_ok() {
                s.written += bytes.len() as u64;
                any = true;
            }
        }
        any
    }
}

/// The container pid of host task `tid` (the last `NSpid:` field).
fn container_pid(tid: i32) -> i32 {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .and_then(|v| v.split_whitespace().last()?.parse().ok())
        })
        .unwrap_or(0)
}

/// A denied-syscall line admitted by the rate limit, to be written once
/// the call is answered (the caller's pid is read before: a task that
/// exits right after its call would be gone).
pub struct Pending {
    lines: Vec<u8>,
}

/// A denied syscall about to be answered with `errno`: None when the rate
/// limit drops it (counted) or there is no trail.
pub fn denied(name: &str, nr: u32, errno: &str, args: &[u64; 6], host_tid: i32) -> Option<Pending> {
    let trail = TRAIL.get()?;
    let mut t = trail.lock().unwrap_or_else(|e| e.into_inner());
    if !t.limiter.admit(Instant::now()) {
        super::shm::record_audit(false);
        return None;
    }
    let mut lines = Vec::new();
    if t.limiter.dropped > 0 {
        let data = serde_json::json!({ "dropped": t.limiter.dropped });
        lines = line("audit-dropped", &t.id, data);
        t.limiter.dropped = 0;
    }
    let data = serde_json::json!({
        "syscall": name,
        "nr": nr,
        "errno": errno,
        "pid": container_pid(host_tid),
        "host_tid": host_tid,
        "args": args.iter().map(|a| format!("{a:#x}")).collect::<Vec<_>>(),
    });
    lines.extend(line("denied-syscall", &t.id, data));
    Some(Pending { lines })
}

impl Pending {
    /// Appends the line(s) to the trail's files.
    pub fn write(self) {
        let Some(trail) = TRAIL.get() else {
            return;
        };
        let mut t = trail.lock().unwrap_or_else(|e| e.into_inner());
        let ok = t.write(&self.lines);
        super::shm::record_audit(ok);
    }
}

/// The sentry's last event: the workload is gone.
pub fn sentry_exit() {
    let Some(trail) = TRAIL.get() else {
        return;
    };
    let mut t = trail.lock().unwrap_or_else(|e| e.into_inner());
    let mut data = serde_json::json!({ "event": "exit" });
    if t.limiter.dropped > 0 {
        data["dropped_before"] = t.limiter.dropped.into();
    }
    let bytes = line("lifecycle", &t.id, data);
    t.write(&bytes);
}

/// The whole lines of `state_dir`'s trail from byte `offset`, and the
/// offset after them.
pub fn read_new_lines(state_dir: &Path, offset: u64) -> std::io::Result<(Vec<u8>, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = match File::open(state_dir.join(FILE)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), offset)),
        Err(e) => return Err(e),
    };
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    f.take(MAX_BYTES * 2).read_to_end(&mut buf)?;
    let whole = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    buf.truncate(whole);
    Ok((buf, offset + whole as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn limiter_admits_a_burst_then_the_rate_and_counts_the_rest() {
        let t0 = Instant::now();
        let mut l = Limiter::new(t0);
        let admitted = (0..1000).filter(|_| l.admit(t0)).count();
        assert_eq!(admitted, BURST as usize);
        assert_eq!(l.dropped, 1000 - BURST as u64);
        // One second later, RATE more.
        let t1 = t0 + Duration::from_secs(1);
        let admitted = (0..1000).filter(|_| l.admit(t1)).count();
        assert_eq!(admitted, RATE as usize);
    }

    #[test]
    fn config_defaults_to_metrics_on_without_a_log() {
        let dir = std::env::temp_dir().join(format!("runrs-audit-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        assert_eq!(Config::load(&dir), Config::default());
        let c = Config {
            metrics: false,
            audit_log: Some(dir.join("log")),
        };
        c.save(&dir).expect("save");
        assert_eq!(Config::load(&dir), c);
        lifecycle(&dir, "x", "start", serde_json::json!({})).expect("lifecycle");
        let (out, off) = read_new_lines(&dir, 0).expect("read");
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.contains("\"event\":\"start\""), "{text}");
        assert_eq!(off as usize, text.len());
        let logged = std::fs::read_to_string(dir.join("log")).expect("log");
        assert_eq!(logged, text);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
