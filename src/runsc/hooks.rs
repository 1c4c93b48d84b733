//! OCI hooks: each runs with the container's state JSON on stdin; a
//! non-zero exit or a timeout fails the step that ran it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sched::CloneFlags;

use super::error::{Error, Result};
use super::spec::Hook;

pub struct HookState<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub pid: i32,
    pub bundle: &'a Path,
    pub annotations: &'a BTreeMap<String, String>,
}

impl HookState<'_> {
    fn json(&self) -> String {
        let mut v = serde_json::json!({
            "ociVersion": "1.0.2-dev",
            "id": self.id,
            "status": self.status,
            "pid": self.pid,
            "bundle": self.bundle,
        });
        if !self.annotations.is_empty() {
            v["annotations"] = serde_json::json!(self.annotations);
        }
        v.to_string()
    }
}

pub fn run_all(hooks: &[Hook], state: &HookState) -> Result<()> {
    hooks.iter().try_for_each(|h| run(h, state, None))
}

/// The namespaces a createContainer hook shares with the container (OCI:
/// "in the container namespace"): its mount namespace (still with the
/// host's root, before pivot_root, so the hook's path resolves as in the
/// runtime's view with the container's mounts on the rootfs), network,
/// IPC, UTS and cgroup. Not its pid namespace (a process cannot enter one
/// itself) nor its user namespace (init makes that one later).
const CONTAINER_HOOK_NAMESPACES: &[(&str, CloneFlags)] = &[
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// Runs createContainer `hooks` in the namespaces of host task `pid` (the
/// container's init, waiting before its pivot_root; see
/// [`CONTAINER_HOOK_NAMESPACES`]).
pub fn run_all_in_namespaces_of(hooks: &[Hook], state: &HookState, pid: i32) -> Result<()> {
    for hook in hooks {
        let mut namespaces = Vec::new();
        for (name, flag) in CONTAINER_HOOK_NAMESPACES {
            let path = format!("/proc/{pid}/ns/{name}");
            let f = std::fs::File::open(&path).map_err(|e| Error::Hook {
                path: hook.path.clone(),
                msg: format!("open the container's namespace {path}: {e}"),
            })?;
            namespaces.push((std::os::fd::OwnedFd::from(f), *flag));
        }
        run(hook, state, Some(namespaces))?;
    }
    Ok(())
}

fn run(
    hook: &Hook,
    state: &HookState,
    namespaces: Option<Vec<(std::os::fd::OwnedFd, CloneFlags)>>,
) -> Result<()> {
    let err = |msg: String| Error::Hook {
        path: hook.path.clone(),
        msg,
    };
    let mut cmd = Command::new(&hook.path);
    // OCI: args[0] is argv[0].
    if let Some((argv0, rest)) = hook.args.split_first() {
        std::os::unix::process::CommandExt::arg0(&mut cmd, argv0);
        cmd.args(rest);
    }
    cmd.env_clear();
    for kv in &hook.env {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(namespaces) = namespaces {
        crate::sandbox::sys::join_namespaces_at_exec(&mut cmd, namespaces);
    }
    let mut child = cmd.spawn().map_err(|e| err(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is fine: ignore EPIPE.
        let _ = stdin.write_all(state.json().as_bytes());
    }
    // As runc, a failure reports what the hook printed on both streams;
    // each is drained as it comes, so a talkative hook never blocks.
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|r| Box::new(r) as _));
    let stderr = drain(child.stderr.take().map(|r| Box::new(r) as _));
    let printed = |stdout: std::thread::JoinHandle<String>,
                   stderr: std::thread::JoinHandle<String>| {
        let out = stdout.join().unwrap_or_default();
        let err = stderr.join().unwrap_or_default();
        format!("stdout: {}, stderr: {}", out.trim(), err.trim())
    };
    let deadline = hook
        .timeout
        .filter(|t| *t > 0)
        .map(|t| Instant::now() + Duration::from_secs(t as u64));
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if status.success() {
                    return Ok(());
                }
                return Err(err(format!("{status}, {}", printed(stdout, stderr))));
            }
            Ok(None) => {
                if deadline.is_some_and(|d| Instant::now() > d) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(err("timed out".into()));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(err(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> (BTreeMap<String, String>, std::path::PathBuf) {
        (BTreeMap::new(), std::path::PathBuf::from("/b"))
    }

    #[test]
    fn hook_gets_state_on_stdin_and_failure_is_an_error() {
        let (ann, bundle) = state();
        let st = HookState {
            id: "c1",
            status: "creating",
            pid: 42,
            bundle: &bundle,
            annotations: &ann,
        };
        let ok = Hook {
            path: "/bin/sh".into(),
            args: vec![
                "sh".into(),
                "-c".into(),
                "grep -q '\"id\":\"c1\".*\"pid\":42'".into(),
            ],
            ..Default::default()
        };
        run_all(&[ok], &st).expect("hook sees the state");
        let bad = Hook {
            path: "/bin/sh".into(),
            args: vec!["sh".into(), "-c".into(), "echo nope >&2; exit 3".into()],
            ..Default::default()
        };
        let e = run_all(&[bad], &st).unwrap_err().to_string();
        assert!(e.contains("nope") && e.contains("/bin/sh"), "{e}");
        let slow = Hook {
            path: "/bin/sleep".into(),
            args: vec!["sleep".into(), "5".into()],
            timeout: Some(1),
            ..Default::default()
        };
        assert!(run_all(&[slow], &st)
            .unwrap_err()
            .to_string()
            .contains("timed out"));
    }
}
