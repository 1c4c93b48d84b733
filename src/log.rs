//! runc-compatible logging: `--log FILE --log-format text|json`.
//!
//! The containerd shim reads the last `"level":"error"` line of the log file
//! to build the error it shows the user, so errors are written in runc's exact
//! shape: `{"level":"error","msg":"...","time":"RFC3339"}`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// The log's line format, as `--log-format` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

struct Sink {
    file: Option<File>,
    format: Format,
    debug: bool,
    /// Whether messages also go to stderr (the CLI's own errors do).
    stderr: bool,
}

static SINK: OnceLock<Mutex<Sink>> = OnceLock::new();

/// Opens the log (append, create) and makes it the process's sink.
pub fn init(path: Option<&std::path::Path>, format: Format, debug: bool, stderr: bool) {
    let file = path.and_then(|p| {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .map_err(|e| eprintln!("runrs: cannot open log {}: {e}", p.display()))
            .ok()
    });
    let _ = SINK.set(Mutex::new(Sink {
        file,
        format,
        debug,
        stderr,
    }));
}

/// Whether debug lines are wanted (`--debug`).
pub fn debug_enabled() -> bool {
    SINK.get()
        .and_then(|s| s.lock().ok().map(|s| s.debug))
        .unwrap_or(false)
}

/// The current time as RFC 3339 in UTC with nanoseconds, as runc writes it.
pub fn rfc3339_now() -> String {
    rfc3339(SystemTime::now())
}

/// Formats a time as RFC 3339 UTC (`2026-11-24T23:18:13.071486303Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_nanos()
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// One log line (without its newline) in the sink's format, as `write`
/// would put it in the file. Lets a signal handler (which cannot lock or
/// allocate) write a line prepared in advance.
pub fn format_line(level: &str, msg: &str) -> String {
    let format = SINK
        .get()
        .and_then(|s| s.lock().ok().map(|s| s.format))
        .unwrap_or(Format::Text);
    render(format, level, msg)
}

/// The raw fd of the log file, if there is one (for a signal handler).
pub fn file_fd() -> Option<std::os::fd::RawFd> {
    use std::os::fd::AsRawFd;
    SINK.get().and_then(|s| {
        s.lock()
            .ok()
            .and_then(|s| s.file.as_ref().map(|f| f.as_raw_fd()))
    })
}

fn render(format: Format, level: &str, msg: &str) -> String {
    match format {
        Format::Json => {
            serde_json::json!({"level": level, "msg": msg, "time": rfc3339_now()}).to_string()
        }
        Format::Text => format!(
            "time=\"{}\" level={level} msg={}",
            rfc3339_now(),
            serde_json::Value::String(msg.to_string())
        ),
    }
}

fn write(level: &str, msg: &str) {
    write_to(level, msg, true);
}

fn write_to(level: &str, msg: &str, may_use_stderr: bool) {
    let Some(sink) = SINK.get() else {
        if may_use_stderr {
            eprintln!("runrs: {level}: {msg}");
        }
        return;
    };
    let Ok(mut sink) = sink.lock() else { return };
    if level == "debug" && !sink.debug {
        return;
    }
    let line = render(sink.format, level, msg);
    if let Some(f) = sink.file.as_mut() {
        let _ = writeln!(f, "{line}");
    }
    if may_use_stderr && sink.stderr && (level == "error" || sink.file.is_none()) {
        eprintln!("{msg}");
    }
}

pub fn error(msg: &str) {
    write("error", msg);
}
pub fn warn(msg: &str) {
    write("warning", msg);
}
pub fn info(msg: &str) {
    write("info", msg);
}
pub fn debug(msg: &str) {
    write("debug", msg);
}
/// A warning for the operator that goes to the log file only, never to
/// stderr: the sentry's stderr is the container's (under `runrs run`),
/// and a workload's output must not change because of what it tried.
pub fn warn_to_log_file(msg: &str) {
    write_to("warning", msg, false);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        let t = UNIX_EPOCH + Duration::new(1_795_994_293, 71_486_303);
        assert_eq!(rfc3339(t), "2026-11-29T23:18:13.071486303Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000000000Z");
    }
}
