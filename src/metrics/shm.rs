//! The sandbox's counters file, `metrics` in its state directory.
//!
//! The sentry creates it before it confines itself, maps it shared and
//! writable, and keeps the mapping for its lifetime; the metrics server
//! and `runrs metrics` map it read-only. Nothing else can write it: it
//! lives in the state directory (root's, outside every container's mount
//! namespace), and the workload cannot write the sentry's memory (it holds
//! no capability over the host's user namespace, see ARCHITECTURE.md).
//!
//! Layout, all little-endian u64 words:
//! - a header of [`HEADER_WORDS`]: magic, version, the row counts, the
//!   slots per row, audit events written and dropped;
//! - one row per syscall number (`SYSCALL_ROWS`), then one per gofer
//!   request kind (`GOFER_ROWS`); a row is [`BUCKETS`] latency buckets
//!   (not cumulative; the last is +Inf), the sum of the observed
//!   latencies in nanoseconds, the call count, then unused words up to
//!   [`SLOTS`].
//!
//! Recording a call is one uncontended relaxed atomic addition (the
//! count). Its latency is observed for one call in [`SAMPLE`] of each row
//! (the count's old value picks it: no extra state): a clock read and two
//! more additions (bucket and sum) then. So the average cost is about one
//! atomic addition, next to a seccomp notification's 2.5-6 µs round trip
//! (examples/metrics_record_cost.rs measures it).

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use super::sys::Mapping;

/// The file's name in the state directory.
pub const FILE: &str = "metrics";
const MAGIC: u64 = u64::from_le_bytes(*b"RUNRSMT1");
const VERSION: u64 = 2;
/// One call in this many has its latency observed (a power of two).
pub const SAMPLE: u64 = 8;
/// Syscall numbers counted (x86_64's highest is below 470).
pub const SYSCALL_ROWS: usize = 512;
/// Gofer request kinds counted (see `gofer::proto::Request::op_index`).
pub const GOFER_ROWS: usize = 32;
/// Words per row.
pub const SLOTS: usize = 16;
/// Upper bounds of the latency buckets, in nanoseconds: around the
/// microseconds a notification round trip costs; the last bucket is +Inf.
pub const BOUNDS_NS: [u64; 12] = [
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];
/// Buckets per row: one per bound and +Inf.
pub const BUCKETS: usize = BOUNDS_NS.len() + 1;
const SUM: usize = BUCKETS;
const COUNT: usize = BUCKETS + 1;
const _: () = assert!(COUNT < SLOTS);
const HEADER_WORDS: usize = 8;
const H_MAGIC: usize = 0;
const H_VERSION: usize = 1;
const H_SYSCALL_ROWS: usize = 2;
const H_GOFER_ROWS: usize = 3;
const H_SLOTS: usize = 4;
const H_AUDIT_WRITTEN: usize = 5;
const H_AUDIT_DROPPED: usize = 6;
/// Words in the file.
pub const WORDS: usize = HEADER_WORDS + (SYSCALL_ROWS + GOFER_ROWS) * SLOTS;

/// The sentry's counters, once created.
static SINK: OnceLock<&'static [AtomicU64]> = OnceLock::new();

/// Creates (or replaces) the counters file in `state_dir`, maps it and
/// makes it this process's sink. Called by the sentry before it confines
/// itself (it needs open and mmap of a new file, which its filter then
/// refuses).
pub fn create(state_dir: &Path) -> io::Result<()> {
    let path = state_dir.join(FILE);
    let _ = std::fs::remove_file(&path);
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(&path)?;
    f.set_len((WORDS * 8) as u64)?;
    let words = Mapping::new(&f, WORDS, true)
        .map_err(io::Error::from)?
        .leak();
    words[H_VERSION].store(VERSION, Ordering::Relaxed);
    words[H_SYSCALL_ROWS].store(SYSCALL_ROWS as u64, Ordering::Relaxed);
    words[H_GOFER_ROWS].store(GOFER_ROWS as u64, Ordering::Relaxed);
    words[H_SLOTS].store(SLOTS as u64, Ordering::Relaxed);
    // Last: a reader that sees the magic sees the rest of the header.
    words[H_MAGIC].store(MAGIC, Ordering::Release);
    let _ = SINK.set(words);
    Ok(())
}

/// The bucket of a latency.
fn bucket(ns: u64) -> usize {
    BOUNDS_NS
        .iter()
        .position(|b| ns <= *b)
        .unwrap_or(BOUNDS_NS.len())
}

fn add(words: &[AtomicU64], row: usize, since: Instant) {
    let base = HEADER_WORDS + row * SLOTS;
    let Some(count) = words.get(base + COUNT) else {
        return;
    };
    if count.fetch_add(1, Ordering::Relaxed) % SAMPLE != 0 {
        return;
    }
    let ns = since.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
    if let (Some(b), Some(s)) = (words.get(base + bucket(ns)), words.get(base + SUM)) {
        b.fetch_add(1, Ordering::Relaxed);
        s.fetch_add(ns, Ordering::Relaxed);
    }
}

/// One syscall the sentry answered (emulated or denied), received at
/// `since`. Does nothing without a sink (metrics off, or a test).
pub fn record_syscall(nr: u32, since: Instant) {
    if let Some(words) = SINK.get() {
        if (nr as usize) < SYSCALL_ROWS {
            add(words, nr as usize, since);
        }
    }
}

/// One gofer request of kind `op`, sent at `since`, answered now.
pub fn record_gofer(op: usize, since: Instant) {
    if let Some(words) = SINK.get() {
        if op < GOFER_ROWS {
            add(words, SYSCALL_ROWS + op, since);
        }
    }
}

/// An audit event written (`true`) or dropped by the rate limit.
pub fn record_audit(written: bool) {
    if let Some(words) = SINK.get() {
        let i = if written {
            H_AUDIT_WRITTEN
        } else {
            H_AUDIT_DROPPED
        };
        words[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// One row of a snapshot: the calls, and the latency buckets and sum
/// of the observed ones (one in [`SAMPLE`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Row {
    pub calls: u64,
    pub buckets: [u64; BUCKETS],
    pub sum_ns: u64,
}

impl Row {
    /// Calls recorded.
    pub fn count(&self) -> u64 {
        self.calls
    }
    /// Calls whose latency was observed.
    pub fn observed(&self) -> u64 {
        self.buckets.iter().sum()
    }
    /// Mean observed latency in µs (0 without any).
    pub fn mean_micros(&self) -> f64 {
        match self.observed() {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64 / 1000.0,
        }
    }
    pub fn merge(&mut self, other: &Row) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a += b;
        }
        self.sum_ns += other.sum_ns;
        self.calls += other.calls;
    }
    /// (upper bound in seconds, count in that bucket alone) for each
    /// bucket, +Inf last: what prometheus-client's encoder takes (it
    /// makes the counts cumulative itself).
    pub fn buckets_seconds(&self) -> Vec<(f64, u64)> {
        BOUNDS_NS
            .iter()
            .map(|b| *b as f64 / 1e9)
            .chain([f64::INFINITY])
            .zip(self.buckets.iter().copied())
            .collect()
    }
}

/// A copy of a sandbox's counters.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub syscalls: Vec<Row>,
    pub gofer: Vec<Row>,
    pub audit_written: u64,
    pub audit_dropped: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("open {path}: {source}")]
    Open { path: String, source: io::Error },
    #[error(
        "{path}: {size} bytes, expected {expected} (not a runrs counters file of this version)"
    )]
    Size {
        path: String,
        size: u64,
        expected: u64,
    },
    #[error("map {path}: {source}")]
    Map { path: String, source: nix::Error },
    #[error("{path}: bad header (magic {magic:#x}, version {version})")]
    Header {
        path: String,
        magic: u64,
        version: u64,
    },
}

/// Reads the counters of the sandbox whose state directory is
/// `state_dir`; `Ok(None)` when it has none (metrics off, or its sentry
/// has not started yet). The file is mapped only for the copy.
pub fn read(state_dir: &Path) -> Result<Option<Snapshot>, ReadError> {
    let path = state_dir.join(FILE);
    let shown = path.display().to_string();
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ReadError::Open {
                path: shown,
                source,
            })
        }
    };
    read_file(&f, &shown).map(Some)
}

fn read_file(f: &File, shown: &str) -> Result<Snapshot, ReadError> {
    let size = f
        .metadata()
        .map_err(|source| ReadError::Open {
            path: shown.to_string(),
            source,
        })?
        .len();
    let expected = (WORDS * 8) as u64;
    if size != expected {
        return Err(ReadError::Size {
            path: shown.to_string(),
            size,
            expected,
        });
    }
    let map = Mapping::new(f, WORDS, false).map_err(|source| ReadError::Map {
        path: shown.to_string(),
        source,
    })?;
    let w = map.words();
    let magic = w[H_MAGIC].load(Ordering::Acquire);
    let version = w[H_VERSION].load(Ordering::Relaxed);
    let layout = [
        w[H_SYSCALL_ROWS].load(Ordering::Relaxed),
        w[H_GOFER_ROWS].load(Ordering::Relaxed),
        w[H_SLOTS].load(Ordering::Relaxed),
    ];
    if magic != MAGIC
        || version != VERSION
        || layout != [SYSCALL_ROWS as u64, GOFER_ROWS as u64, SLOTS as u64]
    {
        return Err(ReadError::Header {
            path: shown.to_string(),
            magic,
            version,
        });
    }
    let row = |r: usize| {
        let base = HEADER_WORDS + r * SLOTS;
        let mut out = Row::default();
        for (i, b) in out.buckets.iter_mut().enumerate() {
            *b = w[base + i].load(Ordering::Relaxed);
        }
        out.sum_ns = w[base + SUM].load(Ordering::Relaxed);
        out.calls = w[base + COUNT].load(Ordering::Relaxed);
        out
    };
    Ok(Snapshot {
        syscalls: (0..SYSCALL_ROWS).map(row).collect(),
        gofer: (SYSCALL_ROWS..SYSCALL_ROWS + GOFER_ROWS).map(row).collect(),
        audit_written: w[H_AUDIT_WRITTEN].load(Ordering::Relaxed),
        audit_dropped: w[H_AUDIT_DROPPED].load(Ordering::Relaxed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bound_inclusively_and_overflow_to_inf() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(1_000), 0);
        assert_eq!(bucket(1_001), 1);
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn a_written_file_reads_back_and_a_foreign_one_is_refused() {
        let dir = std::env::temp_dir().join(format!("runrs-shm-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        assert!(read(&dir).expect("no file").is_none());
        create(&dir).expect("create");
        let t = Instant::now() - std::time::Duration::from_micros(3);
        record_syscall(2, t);
        record_syscall(2, t);
        record_gofer(1, t);
        record_audit(false);
        let s = read(&dir).expect("read").expect("file");
        assert_eq!(s.syscalls[2].count(), 2);
        // The first call of a row is observed, the next SAMPLE - 1 not.
        assert_eq!(s.syscalls[2].observed(), 1);
        assert!(s.syscalls[2].sum_ns >= 3_000);
        assert_eq!(s.syscalls[3].count(), 0);
        assert_eq!(s.gofer[1].count(), 1);
        assert_eq!(s.gofer[1].observed(), 1);
        assert_eq!(s.audit_dropped, 1);
        let b = s.syscalls[2].buckets_seconds();
        assert_eq!(b.len(), BUCKETS);
        assert_eq!(b.iter().map(|x| x.1).sum::<u64>(), 1);
        assert_eq!(b[0].1, 0, "3 µs is above the 1 µs bucket");
        assert_eq!(b.last().map(|x| x.0), Some(f64::INFINITY));
        // A file of the wrong size is an error naming it, not a crash
        // (another directory: the sink stays mapped for the process).
        let other = dir.join("other");
        std::fs::create_dir_all(&other).expect("dir");
        std::fs::write(other.join(FILE), b"short").expect("write");
        let e = read(&other).expect_err("short file");
        assert!(e.to_string().contains("expected"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
