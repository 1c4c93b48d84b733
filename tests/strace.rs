//! `runrs --strace run` logs every syscall the sentry handles, with
//! decoded paths and results, on the caller's stderr (or the --log file).

mod common;

#[test]
fn strace_shows_emulated_calls_with_decoded_paths() {
    let bundle =
        common::Bundle::new(&["sh", "-c", "cat /etc/hostname; ls /nonexistent-dir; exit 0"]);
    let root = common::Root::new();
    let id = common::unique_id("strace");
    let out = common::run(
        &root,
        &[
            "--strace",
            "run",
            "--bundle",
            bundle.path().to_str().expect("utf8"),
            &id,
        ],
    );
    assert!(out.status.success(), "{}", common::describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("openat(AT_FDCWD, \"/etc/hostname\""),
        "no decoded openat in strace output:\n{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("\"/nonexistent-dir\"") && l.contains("No such file or directory")),
        "failed stat with its errno not shown:\n{err}"
    );
    assert!(
        err.contains("execve(\"/bin/sh\""),
        "execve not shown:\n{err}"
    );
}

#[test]
fn strace_goes_to_the_log_file_when_given() {
    let bundle = common::Bundle::new(&["cat", "/etc/passwd"]);
    let root = common::Root::new();
    let log = root.path().join("strace.log");
    let id = common::unique_id("stracelog");
    let out = common::run(
        &root,
        &[
            "--strace",
            "--log",
            log.to_str().expect("utf8"),
            "run",
            "--bundle",
            bundle.path().to_str().expect("utf8"),
            &id,
        ],
    );
    assert!(out.status.success(), "{}", common::describe(&out));
    let text = std::fs::read_to_string(&log).expect("log file");
    // The text format quotes the message, so the path's quotes are escaped.
    assert!(
        text.lines()
            .any(|l| l.contains("openat(AT_FDCWD,") && l.contains("/etc/passwd")),
        "log lacks the decoded path:\n{text}"
    );
}
