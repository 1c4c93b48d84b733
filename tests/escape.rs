//! The escape suite: each `tests/escape/<family>.c` is a static program run
//! inside a runrs container that attempts one family of escapes and prints
//! `CASE <name>: ok|FAIL <detail>` per attempt (see tests/escape/escape.h).
//! This runner builds it, prepares the host side (a sentinel file outside
//! the rootfs next to a bind-mounted directory, a host canary process, a
//! host directory fd leaked into `runrs create`), runs it, and asserts that
//! exactly the expected cases ran, every one ok, and that the host was left
//! untouched: the sentinel unchanged, nothing created next to it, the canary
//! alive. The errnos of denied calls come from the syscall table itself
//! (`ERRNO_<name>` in the workload's environment), so the suite and
//! `syscall-table/` cannot drift apart.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use runrs::table::{self, Disposition};

/// Cases that currently fail for a reason outside this suite's reach. A
/// listed case must still run; it must FAIL (so a fix forces removing the
/// entry), and its reason is printed.
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// The fd number the leaked host directory has in `runrs create`.
const LEAKED_FD: i32 = 7;
/// Where the image holds a node of a host device (`toctou_open_device`).
const HOST_DEVICE_NODE: &str = "/image-tty1";

/// `ERRNO_<name>=<errno>` for every denied row and every argument rule of a
/// conditional passthrough row.
fn table_env() -> Vec<String> {
    table::SYSCALLS
        .iter()
        .filter_map(|row| match &row.disposition {
            Disposition::Denied { errno } => Some(format!("ERRNO_{}={errno}", row.name)),
            Disposition::Passthrough(Some(rule)) => {
                Some(format!("ERRNO_{}={}", row.name, rule.else_errno))
            }
            _ => None,
        })
        .collect()
}

fn build(family: &str, dest: &Path) {
    let src = common::manifest_dir().join(format!("tests/escape/{family}.c"));
    let out = Command::new("gcc")
        .args(["-static", "-O1", "-pthread", "-Wall", "-o"])
        .arg(dest)
        .arg(&src)
        .output()
        .expect("gcc (installed by scripts/test.sh) must be present");
    assert!(
        out.status.success(),
        "gcc {}: {}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The host side of one run: `dir/secret` (the sentinel), `dir/bind/`
/// (bind-mounted at /mnt/bind, with links pointing out planted by the host)
/// and `dir/evil` (a program that must never be loaded). Removed on drop.
struct HostSide {
    dir: PathBuf,
    token: String,
}

impl HostSide {
    fn new(evil: &Path) -> HostSide {
        let dir = std::env::temp_dir().join(common::unique_id("runrs-escape-host"));
        let token = format!("host-sentinel-{}", common::unique_id("token"));
        fs::create_dir_all(dir.join("bind")).expect("mkdir host dir");
        fs::write(dir.join("secret"), &token).expect("write sentinel");
        fs::write(dir.join("bind/x"), b"inside the bind mount\n").expect("write bind/x");
        std::os::unix::fs::symlink("../secret", dir.join("bind/rel-link")).expect("symlink");
        std::os::unix::fs::symlink(dir.join("secret"), dir.join("bind/abs-link")).expect("symlink");
        std::os::unix::fs::symlink(dir.join("evil"), dir.join("bind/abs-evil")).expect("symlink");
        fs::copy(evil, dir.join("evil")).expect("copy evil");
        HostSide { dir, token }
    }

    /// What the host dir must hold after the run (bind/ may gain files: the
    /// workload owns it).
    fn assert_untouched(&self) {
        let mut names: Vec<String> = fs::read_dir(&self.dir)
            .expect("read host dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["bind", "evil", "secret"],
            "the workload created something next to the bind mount in {}",
            self.dir.display()
        );
        let secret = fs::read_to_string(self.dir.join("secret")).expect("read sentinel");
        assert_eq!(secret, self.token, "the host sentinel was modified");
    }
}

impl Drop for HostSide {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Parses `CASE name: ok|FAIL detail` lines.
fn cases(stdout: &str) -> BTreeMap<String, (bool, String)> {
    let mut m = BTreeMap::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("CASE ") else {
            continue;
        };
        let Some((name, verdict)) = rest.split_once(": ") else {
            continue;
        };
        let ok = verdict.starts_with("ok");
        let prev = m.insert(name.to_string(), (ok, verdict.to_string()));
        assert!(prev.is_none(), "case {name} reported twice");
    }
    m
}

/// A scratch directory removed on drop, also when the test fails.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Builds `family`, runs it in a container, and checks its cases and the host.
fn run_family(family: &str, expected: &[&str]) {
    run_family_on(family, expected, &[])
}

/// `run_family` with runrs's global flags `global` (e.g. the platform).
fn run_family_on(family: &str, expected: &[&str], global: &[&str]) {
    run_family_with(family, expected, global, DevicesCgroup::AsMade)
}

/// What the test does to the container's devices cgroup (v1).
#[derive(Clone, Copy, PartialEq, Eq)]
enum DevicesCgroup {
    /// Leaves it as `create` made it.
    AsMade,
    /// Lets it admit every device before `start`, as a cgroup v2 host
    /// (where runrs writes no device rules) does.
    Opened,
}

/// Lets the v1 devices cgroup of task `pid` admit every device; nothing
/// to do on a host without that controller.
fn open_devices_cgroup(pid: i32) {
    let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("read /proc/pid/cgroup");
    for line in cgroups.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next(), fields.next(), fields.next());
        let (Some(controllers), Some(path)) = (controllers, path) else {
            continue;
        };
        if controllers.split(',').any(|c| c == "devices") {
            let allow = format!("/sys/fs/cgroup/devices{path}/devices.allow");
            fs::write(&allow, "a").unwrap_or_else(|e| panic!("write {allow}: {e}"));
        }
    }
}

fn run_family_with(family: &str, expected: &[&str], global: &[&str], devices: DevicesCgroup) {
    let scratch = Scratch(std::env::temp_dir().join(common::unique_id("runrs-escape-bin")));
    let tmp = scratch.0.clone();
    fs::create_dir_all(&tmp).expect("mkdir");
    let bin = tmp.join(format!("escape-{family}"));
    build(family, &bin);
    // elf.c's payload mode makes it the "host program" an interpreter
    // escape would load.
    let evil = tmp.join("evil-payload");
    if family == "elf" {
        fs::copy(&bin, &evil).expect("copy");
    } else {
        build("elf", &evil);
    }
    let host = HostSide::new(&evil);

    let guest_bin = format!("/escape-{family}");
    let bundle = common::Bundle::new(&[&guest_bin]);
    fs::copy(&bin, bundle.rootfs().join(&guest_bin[1..])).expect("copy program into rootfs");
    bundle.write_file("etc/hostname", b"container-hostname\n");
    let rootfs = bundle.rootfs();
    // A device node in the image (an image may carry them; Docker
    // extracts them) of a host device that root in a user namespace may
    // open: the first virtual console.
    let status = Command::new("mknod")
        .arg(rootfs.join(HOST_DEVICE_NODE.trim_start_matches('/')))
        .args(["c", "4", "1"])
        .status()
        .expect("run mknod");
    assert!(
        status.success(),
        "mknod of a host device's node in the rootfs"
    );
    let root_to_sentinel = {
        // rootfs = <tmp>/<bundle>/rootfs; the host dir is <tmp>/<name>.
        let name = host.dir.file_name().expect("name").to_string_lossy();
        assert_eq!(rootfs.parent().and_then(Path::parent), host.dir.parent());
        format!("../../{name}/secret")
    };
    let host_dir = host.dir.display().to_string();
    bundle.config_mut(|c| {
        let env = c["process"]["env"].as_array_mut().expect("env");
        for e in table_env() {
            env.push(e.into());
        }
        env.push(format!("SENTINEL_TOKEN={}", host.token).into());
        env.push(format!("HOST_DIR={host_dir}").into());
        env.push(format!("HOST_DEVICE_NODE={HOST_DEVICE_NODE}").into());
        env.push(format!("HOST_SENTINEL={host_dir}/secret").into());
        env.push(format!("ROOT_TO_SENTINEL={root_to_sentinel}").into());
        c["mounts"]
            .as_array_mut()
            .expect("mounts")
            .push(serde_json::json!({
                "destination": "/mnt/bind",
                "type": "bind",
                "source": format!("{host_dir}/bind"),
                "options": ["rbind", "rw"]
            }));
    });

    let mut canary = Command::new("sleep")
        .arg("600")
        .spawn()
        .expect("spawn canary");
    let root = common::Root::new();
    let id = common::unique_id(&format!("escape-{family}"));
    let stdout_path = tmp.join("stdout");
    let stderr_path = tmp.join("stderr");
    // A host directory fd without CLOEXEC at LEAKED_FD of `runrs create`:
    // a runtime that let it through would hand the workload the host dir.
    let leaked = fs::File::open(&host.dir).expect("open host dir");
    let leaked_raw = leaked.as_raw_fd();
    let mut cmd = Command::new(common::runrs());
    cmd.args(global)
        .arg("--root")
        .arg(root.path())
        .args(["create", "--bundle"])
        .arg(bundle.path())
        .arg(&id)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(fs::File::create(&stderr_path).expect("stderr file"));
    // SAFETY: dup2 between fork and exec is async-signal-safe; it clears
    // CLOEXEC on the copy, which is the point.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(leaked_raw, LEAKED_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn runrs create");
    drop(leaked);
    let mut status = None;
    common::wait_until(common::COMMAND_TIMEOUT, || {
        status = child.try_wait().expect("wait for create");
        status.is_some()
    });
    if status.is_none() {
        let _ = child.kill();
    }
    assert!(
        status.is_some_and(|s| s.success()),
        "create: {status:?}\n{}",
        fs::read_to_string(&stderr_path).unwrap_or_default()
    );

    let st = common::state(&root, &id);
    let state_file: serde_json::Value = serde_json::from_slice(
        &fs::read(root.state_dir(&id).join("state.json")).expect("read state.json"),
    )
    .expect("state.json");
    let sentry = state_file["sentry"]["pid"].as_i64().expect("sentry pid") as i32;
    let gofer = state_file["gofer"]["pid"].as_i64().expect("gofer pid") as i32;
    let init = st["pid"].as_i64().expect("init pid") as i32;
    let hostpids = format!(
        "sentry {sentry}\ngofer {gofer}\ninit {init}\ncanary {}\ntest {}\n",
        canary.id(),
        std::process::id()
    );
    fs::write(host.dir.join("bind/hostpids"), hostpids).expect("write hostpids");
    if devices == DevicesCgroup::Opened {
        open_devices_cgroup(init);
    }

    common::start(&root, &id);
    let stopped = common::wait_until(Duration::from_secs(240), || {
        common::status(&root, &id) == "stopped"
    });
    let stdout = fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
    let del = common::run(&root, &["delete", "--force", &id]);
    assert!(del.status.success(), "delete: {}", common::describe(&del));
    assert!(
        stopped,
        "escape-{family} did not finish\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    print!("{stdout}");

    let canary_alive = canary.try_wait().expect("canary wait").is_none();
    let _ = canary.kill();
    let _ = canary.wait();
    assert!(canary_alive, "the host canary process was killed");
    assert!(
        !stdout.contains(&host.token),
        "the host sentinel's contents reached the workload's output"
    );
    host.assert_untouched();

    let got = cases(&stdout);
    let mut problems = Vec::new();
    for name in expected {
        let gap = KNOWN_GAPS.iter().find(|(g, _)| g == name);
        match (got.get(*name), gap) {
            (None, _) => problems.push(format!("{name}: did not run")),
            (Some((true, _)), None) => {}
            (Some((false, d)), None) => problems.push(format!("{name}: {d}")),
            (Some((false, _)), Some((_, reason))) => {
                println!("known gap {name}: {reason}")
            }
            (Some((true, _)), Some(_)) => {
                problems.push(format!("{name}: passes now; remove it from KNOWN_GAPS"))
            }
        }
    }
    for name in got.keys() {
        if !expected.contains(&name.as_str()) {
            problems.push(format!("{name}: ran but is not in the expected set"));
        }
    }
    assert!(
        problems.is_empty(),
        "escape-{family}:\n{}\n\nstdout:\n{stdout}\nstderr:\n{stderr}",
        problems.join("\n")
    );
    assert!(
        stdout.contains("DONE failures="),
        "escape-{family} did not finish: {stdout}"
    );
}

#[test]
fn paths_symlinks_bind_mounts_and_magic_links_stay_inside() {
    run_family(
        "paths",
        &[
            "no_inherited_fds",
            "openat_inherited_host_dirfd",
            "proc_self_fd_lists_only_stdio",
            "dotdot_absolute_host_path",
            "dotdot_above_root",
            "dotdot_relative_from_root",
            "dotdot_openat_root_dirfd",
            "dotdot_relative_from_tmp",
            "dotdot_create_in_host_dir",
            "dotdot_mkdir_in_host_dir",
            "symlink_absolute_root_then_dotdot",
            "symlink_relative_up",
            "symlink_to_host_path",
            "symlink_chain_up",
            "symlink_dangling_create",
            "bind_dotdot_sibling",
            "bind_cwd_dotdot_sibling",
            "bind_mount_present",
            "bind_openat_dotdot_sibling",
            "bind_openat_far_up",
            "bind_host_made_relative_link",
            "bind_host_made_absolute_link",
            "bind_workload_made_link",
            "bind_create_sibling_lands_inside",
            "proc_self_root_is_slash",
            "proc_self_root_dotdot",
            "proc_1_root_host_path",
            "proc_self_cwd_dotdot",
            "proc_pid_cwd_dotdot",
            "proc_child_cwd_dotdot",
            "proc_child_cwd_far_up",
            "proc_self_fd_dotdot",
            "proc_self_fd_far_up",
            "proc_thread_self_fd_dotdot",
            "rename_during_dotdot_walk",
            "paths_sentry_alive",
        ],
    );
}

const TOCTOU: &[&str] = &[
    "toctou_open_dotdot",
    "toctou_open_proc_root",
    "toctou_open_symlink",
    "toctou_open_bind_dotdot",
    "toctou_create",
    "toctou_open_device",
    "toctou_open_device_rw",
    "toctou_chdir",
    "toctou_sentry_alive",
];

#[test]
fn toctou_path_rewrites_never_open_the_host() {
    run_family("toctou", TOCTOU);
}

/// As on a cgroup v2 host, where runrs writes no device rules: the
/// container's devices cgroup admits every device, and the nodev mounts
/// alone (`rootfs::pivot`) must keep the opens the workload's kernel
/// redoes from the host device's node in the image.
#[test]
fn toctou_path_rewrites_reach_no_device_without_the_devices_cgroup() {
    run_family_with("toctou", TOCTOU, &[], DevicesCgroup::Opened);
}

#[test]
fn denied_syscalls_fail_with_the_table_errno() {
    run_family(
        "syscalls",
        &[
            "unshare",
            "unshare_user",
            "mount",
            "mount_bind_root",
            "umount2",
            "setns",
            "pivot_root",
            "chroot",
            "fsopen",
            "fspick",
            "open_tree",
            "move_mount",
            "mount_setattr",
            "clone_newuser",
            "clone_newns",
            "clone3",
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
            "userfaultfd",
            "bpf",
            "perf_event_open",
            "keyctl",
            "add_key",
            "request_key",
            "kexec_load",
            "kexec_file_load",
            "init_module",
            "finit_module",
            "delete_module",
            "open_by_handle_at",
            "name_to_handle_at",
            "ptrace_rewrite_to_unshare",
            "ptrace_rewrite_to_mount",
            "ptrace_rewrite_to_bpf",
            "ptrace_rewrite_to_clone_newuser",
            "ptrace_rewrite_to_packet_socket",
            "ptrace_rewrite_to_open_host_path",
            "ptrace_suspend_seccomp",
            "ptrace_seize_suspend_seccomp",
            "socket_netlink",
            "socket_netlink_uevent",
            "netlink_route_newaddr",
            "socket_packet",
            "unclassified_syscall_1000",
            "x32_abi_getpid",
            "mknod_block_device",
            "mknod_char_dev_mem",
            "mknodat_char_kmsg",
            "dev_mem_absent",
            "dev_kmsg_absent",
            "dev_sda_absent",
            "mknod_fifo_allowed",
            "tiocsti_stdin",
            "tty_for_tiocsti",
            "tiocsti_terminal",
            "tioclinux",
            "syscalls_sentry_alive",
        ],
    );
}

#[test]
fn host_processes_proc_and_sys_are_out_of_reach() {
    let mut expected = vec!["hostpids_file"];
    for role in ["sentry", "gofer", "init", "canary", "test"] {
        for attempt in [
            "kill_host_",
            "kill0_host_",
            "tgkill_host_",
            "pidfd_open_host_",
            "ptrace_attach_host_",
            "ptrace_seize_host_",
            "proc_of_host_",
        ] {
            expected.push(Box::leak(format!("{attempt}{role}").into_boxed_str()));
        }
    }
    expected.extend([
        "kill_pid_scan",
        "kill_broadcast",
        "kill_pgrp_of_host_session",
        "proc_1_is_container_init",
        "proc_lists_container_pids_only",
        "host_rootfs_path_hidden_in_mountinfo",
        "host_rootfs_path_hidden_in_maps",
        "host_rootfs_path_hidden_in_mounts",
        "proc_kcore",
        "proc_kallsyms",
        "proc_sysrq_trigger",
        "proc_sys_core_pattern_readonly",
        "sys_uevent_helper_readonly",
        "sys_cgroup_procs_readonly",
        "procs_sentry_alive",
    ]);
    run_family("procs", &expected);
}

#[test]
fn malformed_arguments_and_fd_exhaustion_fail_cleanly() {
    run_family(
        "args",
        &[
            "open_null_path",
            "open_kernel_address",
            "openat_noncanonical",
            "stat_bad_buffer",
            "newfstatat_kernel_buffer",
            "readlink_bad_buffer",
            "getcwd_bad_buffer",
            "statfs_bad_buffer",
            "rename_bad_second_path",
            "uname_bad_buffer",
            "read_synthetic_bad_buffer",
            "getdents64_bad_buffer",
            "readlink_len_minus_1",
            "readlink_len_0",
            "getcwd_len_0",
            "getcwd_len_1",
            "getdents64_len_1_synthetic",
            "getdents64_len_1_host_dir",
            "getxattr_len_minus_1",
            "readv_len_minus_1",
            "readv_iovcnt_huge",
            "openat_fd_huge",
            "openat_fd_negative",
            "fchdir_fd_huge",
            "dup2_fd_huge",
            "openat_all_flags_set",
            "openat2_size_huge",
            "openat2_size_small",
            "path_longer_than_path_max",
            "component_longer_than_name_max",
            "path_runs_into_unmapped_page",
            "empty_path",
            "path_in_prot_none_page",
            "fd_exhaustion_emfile",
            "fd_exhaustion_gofer_open",
            "fd_exhaustion_synthetic_open",
            "fd_exhaustion_opendir",
            "fd_exhaustion_recovers",
            "args_sentry_alive",
        ],
    );
}

#[test]
fn malicious_elf_files_never_load_host_programs() {
    run_family(
        "elf",
        &[
            "elf_wellformed_control_runs",
            "elf_interp_host_absolute",
            "elf_interp_dotdot",
            "elf_interp_proc_root",
            "elf_interp_bind_dotdot",
            "elf_interp_host_made_link",
            "elf_giant_phnum",
            "elf_phoff_past_end",
            "elf_bad_phentsize",
            "elf_interp_without_nul",
            "elf_interp_huge",
            "elf_sentry_alive",
        ],
    );
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

const STALLS: &[&str] = &[
    "stall_fifo_reader_first",
    "stall_fifo_writer_first",
    "stall_blocked_calls_wait",
    "stall_other_opens_answered",
    "stall_fifo_partners_release",
    "stall_fifo_waiters_finish",
    "stall_sentry_alive",
];

/// 16 FIFO reader opens, 16 FIFO writer opens and 16 connects to a full
/// backlog wait at once; every other open is still answered within 100 ms
/// (the waits happen in the workload, not in the sandbox).
#[test]
fn blocked_fifo_opens_and_connects_do_not_stall_the_sandbox() {
    run_family("stalls", STALLS);
}

#[test]
fn blocked_fifo_opens_and_connects_do_not_stall_the_sandbox_on_ptrace() {
    run_family_on("stalls", STALLS, &["--platform", "ptrace"]);
}

/// The ptrace platform's fd-passing socket (fd 1023): a forked child
/// never receives its parent's fds through it, cannot break its parent's
/// opens with it, and cannot replace it.
#[test]
fn ptrace_fd_channel_is_private_to_each_process() {
    run_family_on(
        "fdchannel",
        &[
            "fdchan_child_receives_nothing",
            "fdchan_shutdown_in_child_harmless",
            "fdchan_child_opens_work",
            "fdchan_dup2_onto_reserved",
            "fdchan_dup3_onto_reserved",
            "fdchan_sentry_alive",
        ],
        &["--platform", "ptrace"],
    );
}

/// The runtime's stdout is a host file whose path names another file in
/// the container: /dev/stdout and /proc/self/fd/1 must write the host file
/// (the fd itself), never the container's file of that name, and the fd
/// link must not tell the host path.
#[test]
fn stdout_host_file_path_is_not_resolved_in_the_container() {
    let host_dir = std::env::temp_dir().join(common::unique_id("runrs-test-stdout"));
    std::fs::create_dir_all(&host_dir).expect("mkdir host dir");
    let host_log = host_dir.join("job.log");
    let log_text = host_log.to_string_lossy().into_owned();
    let script = format!(
        "echo via-dev-stdout > /dev/stdout; echo via-fd1 >> /proc/self/fd/1; \
         case \"$(readlink /proc/$$/fd/1)\" in *job.log*) echo link-names-host-path;; *) echo link-ok;; esac; \
         cat {log_text}"
    );
    let bundle = common::Bundle::new(&["sh", "-c", &script]);
    bundle.write_file(&log_text, b"container copy\n");
    let root = common::Root::new();
    let id = common::unique_id("stdout-file");
    let out = std::fs::File::create(&host_log).expect("create host log");
    let status = Command::new(common::runrs())
        .arg("--root")
        .arg(root.path())
        .args(["run", "--bundle"])
        .arg(bundle.path())
        .arg(&id)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .status()
        .expect("run runrs");
    let logged = std::fs::read_to_string(&host_log).expect("read host log");
    let _ = std::fs::remove_dir_all(&host_dir);
    assert!(status.success(), "runrs run: {status}; log:\n{logged}");
    assert_eq!(
        logged, "via-dev-stdout\nvia-fd1\nlink-ok\ncontainer copy\n",
        "host log"
    );
    let inside = std::fs::read_to_string(bundle.rootfs().join(log_text.trim_start_matches('/')))
        .expect("container copy");
    assert_eq!(inside, "container copy\n");
}
