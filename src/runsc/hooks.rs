//! OCI hooks: each runs with the container's state JSON on stdin; a
//! non-zero exit or a timeout fails the step that ran it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    hooks.iter().try_for_each(|h| run(h, state))
}

fn run(hook: &Hook, state: &HookState) -> Result<()> {
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
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| err(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is fine: ignore EPIPE.
        let _ = stdin.write_all(state.json().as_bytes());
    }
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
                let mut stderr = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
                }
                return Err(err(format!("{status}: {}", stderr.trim())));
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
