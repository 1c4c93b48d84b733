//! Escape attempts from inside a runrs container: denied syscalls return
//! exactly the table's errno, walks above the root stay inside it, and the
//! workload holds no host capability. The expected errnos come from the
//! table itself, so the test and `syscall-table/` cannot drift apart.

mod common;

use std::process::Command;

use runrs::table::{self, Disposition};

/// The errno the table gives a call: denied rows, or the failed argument
/// rule of a conditional passthrough row.
fn table_errno(name: &str) -> i32 {
    let row = table::by_name(name).unwrap_or_else(|| panic!("{name} not in the table"));
    match &row.disposition {
        Disposition::Denied { errno } => *errno,
        Disposition::Passthrough(Some(rule)) => rule.else_errno,
        other => panic!("{name} is {other:?}, not denied"),
    }
}

fn build_escape_binary(dest: &std::path::Path) {
    let src = common::manifest_dir().join("tests/fixtures/escape.c");
    let out = Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(dest)
        .arg(&src)
        .output()
        .expect("gcc (installed by scripts/test.sh) must be present");
    assert!(
        out.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn denied_syscalls_and_root_escapes_fail_as_the_table_says() {
    let host_hostname = std::fs::read_to_string("/etc/hostname")
        .unwrap_or_default()
        .trim()
        .to_string();
    let host_marker = if host_hostname.is_empty() {
        "host-only-marker".to_string()
    } else {
        host_hostname
    };
    let mut args: Vec<String> = vec!["/escape".into()];
    for name in [
        "unshare",
        "mount",
        "bpf",
        "keyctl",
        "perf_event_open",
        "ptrace",
        "pivot_root",
        "chroot",
        "open_by_handle_at",
        "socket",
        "ioctl",
        "clone",
    ] {
        args.push(format!("{name}={}", table_errno(name)));
    }
    args.push(host_marker.clone());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let bundle = common::Bundle::new(&argv);
    build_escape_binary(&bundle.rootfs().join("escape"));
    // The container's own hostname file must differ from the host's.
    bundle.write_file("etc/hostname", b"container-hostname\n");
    let root = common::Root::new();
    let id = common::unique_id("escape");
    let out = common::run(
        &root,
        &[
            "run",
            "--bundle",
            bundle.path().to_str().expect("utf8"),
            &id,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "escape checks failed:\n{}",
        common::describe(&out)
    );
    assert!(stdout.contains("failures=0"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

/// A host directory that reaches the container as an inherited fd (here
/// stdin) must not become the base of the calls the sentry leaves to the
/// kernel: openat(0, "passwd", O_PATH) would hand out the host's
/// /etc/passwd, execveat(0, "../bin/true") run a host program, and
/// fchdir(0) + chdir("..") walk the host's tree.
#[test]
fn host_directory_fd_is_no_base_for_o_path() {
    let bundle = common::Bundle::new(&["/opath_base"]);
    let src = common::manifest_dir().join("tests/fixtures/opath_base.c");
    let out = Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(bundle.rootfs().join("opath_base"))
        .arg(&src)
        .output()
        .expect("gcc (installed by scripts/test.sh) must be present");
    assert!(
        out.status.success(),
        "gcc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bundle.write_file("etc/passwd", b"root:x:0:0::/:/bin/sh\n");
    let root = common::Root::new();
    let id = common::unique_id("opath-base");
    let host_etc = std::fs::File::open("/etc").expect("open /etc");
    let out = Command::new(common::runrs())
        .arg("--root")
        .arg(root.path())
        .args(["run", "--bundle"])
        .arg(bundle.path())
        .arg(&id)
        .stdin(host_etc)
        .output()
        .expect("run runrs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", common::describe(&out));
    assert!(stdout.contains("host-base refused"), "{stdout}");
    assert!(stdout.contains("container-base ok"), "{stdout}");
    assert!(
        stdout.contains("host-execveat refused Permission denied"),
        "{stdout}"
    );
    assert!(stdout.contains("host-chdir refused"), "{stdout}");
    assert!(
        stdout.contains("host-execve refused Permission denied"),
        "{stdout}"
    );
}
