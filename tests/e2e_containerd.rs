//! End-to-end tests against containerd 1.6 with `ctr --runc-binary`, and a
//! check that docs/containerd-runrs.toml (the CRI runtime-class snippet)
//! loads in a real containerd. scripts/e2e-setup.sh (run once) starts the
//! standalone containerd on /run/containerd/containerd.sock and dockerd,
//! and imports the image; these tests never skip.
//!
//! Run: `cargo test --test e2e_containerd -- --test-threads=1 --nocapture`

mod e2e;

use e2e::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const NS: &str = "runrs-test";
const CTR_IMAGE: &str = "docker.io/library/runrs-bb:latest";

fn ctr(args: &[&str]) -> Out {
    ctr_t(args, CMD_TIMEOUT)
}

fn ctr_t(args: &[&str], timeout: Duration) -> Out {
    run_with_timeout(Command::new("ctr").arg("-n").arg(NS).args(args), timeout)
}

/// Setup plus `docker save runrs-bb | ctr images import` (once).
fn ensure_ctr_image() {
    ensure_docker();
    static IMPORTED: OnceLock<Result<(), String>> = OnceLock::new();
    let res = IMPORTED.get_or_init(|| {
        if ctr(&["images", "check", &format!("name=={CTR_IMAGE}")])
            .stdout
            .contains("complete")
        {
            return Ok(());
        }
        let out = run_with_timeout(
            Command::new("bash").arg("-c").arg(format!(
                "set -o pipefail; docker save {IMAGE} | \
                 ctr -n {NS} images import --base-name docker.io/library/{IMAGE} -"
            )),
            Duration::from_secs(120),
        );
        if !out.success() {
            return Err(format!("importing the image into containerd: {out}"));
        }
        let ls = ctr(&["images", "ls", "-q"]);
        if !ls.stdout.lines().any(|l| l.trim() == CTR_IMAGE) {
            return Err(format!("{CTR_IMAGE} missing after import: {ls}"));
        }
        Ok(())
    });
    if let Err(e) = res {
        panic!("{e}");
    }
}

/// Kills and deletes a ctr task + container on drop.
struct CtrContainer {
    id: String,
}

impl Drop for CtrContainer {
    fn drop(&mut self) {
        let t = Duration::from_secs(20);
        let _ = ctr_t(&["task", "kill", "-a", "-s", "SIGKILL", &self.id], t);
        let _ = ctr_t(&["task", "delete", "-f", &self.id], t);
        let _ = ctr_t(&["containers", "delete", &self.id], t);
    }
}

#[test]
fn ctr_run_output_and_exit_status() {
    ensure_ctr_image();
    let c = CtrContainer {
        id: unique_name("ctrrun"),
    };
    let out = ctr(&[
        "run",
        "--rm",
        "--runc-binary",
        INSTALLED_BIN,
        CTR_IMAGE,
        &c.id,
        "sh",
        "-c",
        "echo hi; exit 3",
    ]);
    assert_eq!(out.code, Some(3), "ctr run --runc-binary runrs: {out}");
    assert_eq!(out.stdout.trim_end(), "hi", "{out}");
}

#[test]
fn ctr_task_exec() {
    ensure_ctr_image();
    let c = CtrContainer {
        id: unique_name("ctrexec"),
    };
    let out = ctr(&[
        "run",
        "-d",
        "--runc-binary",
        INSTALLED_BIN,
        CTR_IMAGE,
        &c.id,
        "sleep",
        "1000",
    ]);
    assert!(out.success(), "ctr run -d: {out}");
    let out = ctr(&[
        "task",
        "exec",
        "--exec-id",
        "e1",
        &c.id,
        "sh",
        "-c",
        "echo in-exec; exit 4",
    ]);
    assert_eq!(out.code, Some(4), "ctr task exec (runrs exec): {out}");
    assert_eq!(out.stdout.trim_end(), "in-exec", "{out}");
    let ps = ctr(&["task", "ps", &c.id]);
    assert!(ps.success(), "ctr task ps (runrs ps --format json): {ps}");
}

/// A second containerd in a temp dir, killed and removed on drop.
struct TmpContainerd {
    dir: PathBuf,
    child: Option<Child>,
}

impl Drop for TmpContainerd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Nothing should be mounted under it (no containers were created);
        // do not follow mounts if something is.
        let mounted = std::fs::read_to_string("/proc/self/mounts")
            .unwrap_or_default()
            .contains(self.dir.to_str().unwrap());
        if !mounted {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn cri_config(dir: &Path) -> PathBuf {
    let snippet = manifest_dir().join("docs/containerd-runrs.toml");
    assert!(snippet.exists(), "{} missing", snippet.display());
    let cfg = dir.join("config.toml");
    std::fs::write(
        &cfg,
        format!("version = 2\nimports = [\"{}\"]\n", snippet.display()),
    )
    .unwrap();
    cfg
}

#[test]
fn cri_runtime_class_config_dump() {
    // Only needs the containerd binary (installed by the setup script).
    ensure_docker();
    let dir = std::env::temp_dir().join(unique_name("cricfg"));
    std::fs::create_dir_all(&dir).unwrap();
    let tmp = TmpContainerd {
        dir: dir.clone(),
        child: None,
    };
    let cfg = cri_config(&tmp.dir);
    let out = run_with_timeout(
        Command::new("containerd")
            .arg("--config")
            .arg(&cfg)
            .args(["config", "dump"]),
        Duration::from_secs(30),
    );
    assert!(out.success(), "containerd config dump: {out}");
    let d = &out.stdout;
    let sect = "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runrs]";
    let pos = d
        .find(sect)
        .unwrap_or_else(|| panic!("runtime runrs missing from config dump: {out}"));
    let rest = &d[pos..];
    assert!(
        rest.contains("runtime_type = \"io.containerd.runc.v2\""),
        "{rest}"
    );
    assert!(
        rest.contains("BinaryName = \"/usr/local/bin/runrs\""),
        "{rest}"
    );
    assert!(
        d.contains("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]"),
        "importing the snippet dropped the default runc runtime: {out}"
    );
}

#[test]
fn cri_runtime_class_loads_in_containerd() {
    ensure_docker();
    let dir = std::env::temp_dir().join(unique_name("cri"));
    std::fs::create_dir_all(dir.join("root")).unwrap();
    std::fs::create_dir_all(dir.join("state")).unwrap();
    let mut tmp = TmpContainerd {
        dir: dir.clone(),
        child: None,
    };
    let cfg = cri_config(&dir);
    let sock = dir.join("c.sock");
    let log = std::fs::File::create(dir.join("containerd.log")).unwrap();
    let child = Command::new("containerd")
        .arg("--config")
        .arg(&cfg)
        .arg("--address")
        .arg(&sock)
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--state")
        .arg(dir.join("state"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawning containerd");
    tmp.child = Some(child);
    let plugins = || {
        run_with_timeout(
            Command::new("ctr")
                .arg("--address")
                .arg(&sock)
                .args(["plugins", "ls"]),
            Duration::from_secs(10),
        )
    };
    let up = wait_until(Duration::from_secs(30), || plugins().success());
    let logtext = || std::fs::read_to_string(dir.join("containerd.log")).unwrap_or_default();
    assert!(up, "second containerd did not come up:\n{}", logtext());
    let out = plugins();
    let cri = out
        .stdout
        .lines()
        .find(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 4 && f[0] == "io.containerd.grpc.v1" && f[1] == "cri"
        })
        .unwrap_or_else(|| panic!("no cri plugin listed: {out}"))
        .to_string();
    assert!(
        cri.split_whitespace().last() == Some("ok"),
        "cri plugin did not load with docs/containerd-runrs.toml: {cri}\n{}",
        logtext()
    );
    assert!(
        logtext().contains("BinaryName:/usr/local/bin/runrs"),
        "cri plugin config does not show the runrs runtime:\n{}",
        logtext()
    );
}
