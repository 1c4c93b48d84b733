//! Faults: SIGKILL of the sentry, the gofer and the `runrs create`, `start`,
//! `exec` and `delete` processes at random points of a container's life.
//! After each, `runrs delete --force` must succeed and nothing may be left:
//! no process, no mount, no cgroup, no state dir. Data the workload wrote
//! and fsynced before the sentry died is intact, and 100 containers started
//! and removed concurrently leave nothing behind.
//!
//! The victims and delays come from a seeded generator; the seed is printed
//! (replay a failure with RUNRS_FAULT_SEED=<seed>).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// xorshift64*: a tiny reproducible generator (no crate needed for this).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    let s = match std::env::var("RUNRS_FAULT_SEED") {
        Ok(v) => v.parse().expect("RUNRS_FAULT_SEED must be a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    } | 1;
    println!("fault seed: {s} (replay with RUNRS_FAULT_SEED={s})");
    s
}

/// `runrs --root <root> args...` in the background, output discarded.
fn spawn(root: &common::Root, args: &[&str]) -> Child {
    Command::new(common::runrs())
        .arg("--root")
        .arg(root.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn runrs")
}

fn sigkill(pid: i32) {
    // SAFETY: kill(2) has no memory arguments.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// Kills `child` after `delay` unless it exited first, then reaps it.
fn kill_after(mut child: Child, delay: Duration) {
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

/// The pid of the `runrs <role>` process of container state dir `dir`.
fn role_pid(role: &str, dir: &Path) -> Option<i32> {
    let d = dir.to_string_lossy();
    common::processes_matching(&d)
        .into_iter()
        .find(|&p| common::cmdline_args(p).is_some_and(|a| a.iter().any(|x| x == role)))
}

/// Everything a container could leave on the host.
fn leftovers(root: &common::Root, id: &str, bundle: &Path, marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    let dir = root.state_dir(id);
    for needle in [dir.to_string_lossy().into_owned(), marker.to_string()] {
        for pid in common::processes_matching(&needle) {
            found.push(format!(
                "process {pid}: {:?}",
                common::cmdline_args(pid).unwrap_or_default()
            ));
        }
    }
    let mounts = common::mounts_snapshot(bundle);
    if !mounts.is_empty() {
        found.push(format!("mounts:\n{mounts}"));
    }
    if dir.exists() {
        found.push(format!("state dir {}", dir.display()));
    }
    for cg in cgroup_dirs(id) {
        found.push(format!("cgroup {}", cg.display()));
    }
    found
}

/// Cgroup directories named after the container (runrs's default
/// cgroupsPath is /runrs/<id>), in v2 and in every v1 hierarchy.
fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let base = Path::new("/sys/fs/cgroup");
    let mut out = Vec::new();
    let mut candidates = vec![base.join("runrs").join(id)];
    if let Ok(entries) = fs::read_dir(base) {
        for e in entries.flatten() {
            candidates.push(e.path().join("runrs").join(id));
        }
    }
    for c in candidates {
        if c.is_dir() {
            out.push(c);
        }
    }
    out
}

/// delete --force succeeds, then (allowing killed processes a moment to be
/// reaped) nothing is left.
fn assert_clean(root: &common::Root, id: &str, bundle: &Path, marker: &str, what: &str) {
    let out = common::run(root, &["delete", "--force", id]);
    assert!(
        out.status.success(),
        "{what}: delete --force {id} failed: {}",
        common::describe(&out)
    );
    let mut left = Vec::new();
    let clean = common::wait_until(Duration::from_secs(10), || {
        left = leftovers(root, id, bundle, marker);
        left.is_empty()
    });
    assert!(clean, "{what}: left behind:\n{}", left.join("\n"));
}

#[derive(Clone, Copy, Debug)]
enum Victim {
    Create,
    Sentry,
    Gofer,
    Start,
    Exec,
    Delete,
}

const VICTIMS: [Victim; 6] = [
    Victim::Create,
    Victim::Sentry,
    Victim::Gofer,
    Victim::Start,
    Victim::Exec,
    Victim::Delete,
];

/// One fault: container `id` running `sleep <marker>`, `victim` killed
/// after a random delay in the phase it belongs to.
fn one_fault(
    rng: &mut Rng,
    root: &common::Root,
    bundle: &common::Bundle,
    id: &str,
    victim: Victim,
) {
    let b = bundle.path().to_string_lossy().into_owned();
    let dir = root.state_dir(id);
    let create_args = ["create", "--bundle", b.as_str(), id];
    match victim {
        Victim::Create => {
            let delay = Duration::from_millis(rng.below(400));
            kill_after(spawn(root, &create_args), delay);
        }
        Victim::Sentry | Victim::Gofer => {
            let role = if matches!(victim, Victim::Sentry) {
                "boot"
            } else {
                "gofer"
            };
            // Killed while create is still running (as soon as the role
            // exists, plus a little) or later, after create or start.
            let phase = rng.below(3);
            let mut create = spawn(root, &create_args);
            if phase == 0 {
                let mut pid = None;
                common::wait_until(Duration::from_secs(20), || {
                    pid = role_pid(role, &dir);
                    pid.is_some() || create.try_wait().ok().flatten().is_some()
                });
                std::thread::sleep(Duration::from_millis(rng.below(30)));
                if let Some(p) = pid {
                    sigkill(p);
                }
                let _ = create.wait();
            } else {
                let _ = create.wait();
                if phase == 2 {
                    let _ = common::run(root, &["start", id]);
                }
                std::thread::sleep(Duration::from_millis(rng.below(50)));
                if let Some(p) = role_pid(role, &dir) {
                    sigkill(p);
                }
            }
        }
        Victim::Start | Victim::Exec | Victim::Delete => {
            let out = common::run(root, &create_args);
            assert!(out.status.success(), "create: {}", common::describe(&out));
            let delay = Duration::from_millis(rng.below(60));
            match victim {
                Victim::Start => kill_after(spawn(root, &["start", id]), delay),
                Victim::Exec => {
                    let _ = common::run(root, &["start", id]);
                    kill_after(spawn(root, &["exec", id, "/bin/true"]), delay);
                }
                _ => {
                    if rng.below(2) == 0 {
                        let _ = common::run(root, &["start", id]);
                    }
                    kill_after(spawn(root, &["delete", "--force", id]), delay);
                }
            }
        }
    }
}

#[test]
fn sigkill_at_random_points_leaves_nothing_behind() {
    let mut rng = Rng(seed());
    let root = common::Root::new();
    // A unique sleep length marks the workload's processes on the host.
    let marker_secs = 500_000 + (std::process::id() % 100_000);
    let marker = format!("sleep {marker_secs}");
    let bundle = common::Bundle::new(&["sleep", &marker_secs.to_string()]);
    let mut counts = [0u32; 6];
    for i in 0..200 {
        let v = rng.below(VICTIMS.len() as u64) as usize;
        let victim = VICTIMS[v];
        counts[v] += 1;
        let id = format!("fault-{}-{i}", std::process::id());
        one_fault(&mut rng, &root, &bundle, &id, victim);
        assert_clean(
            &root,
            &id,
            bundle.path(),
            &marker,
            &format!("iteration {i}, {victim:?} killed"),
        );
    }
    println!(
        "victims: {:?}",
        VICTIMS.iter().zip(counts).collect::<Vec<_>>()
    );
}

#[test]
fn fsynced_data_survives_a_sentry_kill() {
    let root = common::Root::new();
    let host = std::env::temp_dir().join(common::unique_id("runrs-fault-data"));
    fs::create_dir_all(&host).expect("mkdir data dir");
    let payload = format!("payload-{}", common::unique_id("fsync"));
    let script = format!(
        "echo {payload} | dd of=/data/file conv=fsync 2>/dev/null && echo ok > /data/written && sleep 600"
    );
    let bundle = common::Bundle::new(&["sh", "-c", &script]);
    bundle.config_mut(|c| {
        c["mounts"]
            .as_array_mut()
            .expect("mounts")
            .push(serde_json::json!({
                "destination": "/data",
                "type": "bind",
                "source": host.display().to_string(),
                "options": ["rbind", "rw"]
            }));
    });
    let id = common::unique_id("fault-fsync");
    common::create(&root, &bundle, &id);
    common::start(&root, &id);
    let written = common::wait_until(Duration::from_secs(30), || host.join("written").exists());
    assert!(written, "the workload never reported its write");
    let sentry = role_pid("boot", &root.state_dir(&id)).expect("the sentry runs");
    sigkill(sentry);
    assert_clean(&root, &id, bundle.path(), "sleep 600", "fsync");
    let data = fs::read_to_string(host.join("file")).expect("read the fsynced file");
    assert_eq!(data.trim(), payload, "fsynced data lost or damaged");
    let _ = fs::remove_dir_all(&host);
}

#[test]
fn a_hundred_concurrent_containers_leave_nothing_behind() {
    let root = std::sync::Arc::new(common::Root::new());
    let bundle = std::sync::Arc::new(common::Bundle::new(&["true"]));
    let threads: Vec<_> = (0..10)
        .map(|t| {
            let root = root.clone();
            let bundle = bundle.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..10 {
                    let id = format!("many-{}-{t}-{i}", std::process::id());
                    common::create(&root, &bundle, &id);
                    common::start(&root, &id);
                    let out = common::run(&root, &["delete", "--force", &id]);
                    assert!(
                        out.status.success(),
                        "delete {id}: {}",
                        common::describe(&out)
                    );
                    ids.push(id);
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::new();
    for t in threads {
        ids.extend(t.join().expect("a worker thread failed"));
    }
    assert_eq!(ids.len(), 100);
    for id in &ids {
        let mut left = Vec::new();
        let clean = common::wait_until(Duration::from_secs(10), || {
            left = leftovers(&root, id, bundle.path(), "\u{0}never");
            left.is_empty()
        });
        assert!(clean, "{id} left behind:\n{}", left.join("\n"));
    }
    let remaining: Vec<_> = fs::read_dir(root.path())
        .expect("read root")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(remaining.is_empty(), "state root not empty: {remaining:?}");
}
