//! The shell blocks a newcomer copies from the docs run as written: every
//! `sh` block of README.md's "Usage" section, and the offline recipe of
//! docs/DOCKER.md ("4. Run", first block), each in a scratch directory
//! laid out like the repository (its scripts/, and target/release/runrs
//! being the binary this test run built). The one line not run is the
//! README's `cargo build --release`: `cargo test` built the binary; the
//! test checks that the line is there, so the docs cannot drift from it.

mod e2e;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e::{ensure_docker, manifest_dir, run_with_timeout, Out};

/// The `sh` code blocks of the `## {section}` section of `markdown`.
fn shell_blocks(markdown: &str, section: &str) -> Vec<String> {
    let heading = format!("## {section}");
    let mut blocks = Vec::new();
    let mut in_section = false;
    let mut block: Option<String> = None;
    for line in markdown.lines() {
        if block.is_none() && line.starts_with("## ") {
            in_section = line.trim_end() == heading;
            continue;
        }
        if !in_section {
            continue;
        }
        match (&mut block, line.trim_end()) {
            (None, "```sh") => block = Some(String::new()),
            (Some(b), "```") => {
                blocks.push(std::mem::take(b));
                block = None;
            }
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// A scratch directory shaped like the repository for the docs' relative
/// paths: scripts/ (a link to the real one) and target/release/runrs (a
/// link to the binary under test); build/ is its own.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("runrs-docs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("target/release")).expect("scratch dir");
        symlink(manifest_dir().join("scripts"), dir.join("scripts")).expect("link scripts");
        symlink(
            env!("CARGO_BIN_EXE_runrs"),
            dir.join("target/release/runrs"),
        )
        .expect("link the binary");
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn bash(&self, script: &str, flags: &str) -> Out {
        run_with_timeout(
            Command::new("bash")
                .arg(flags)
                .arg("-c")
                .arg(script)
                .current_dir(&self.0),
            Duration::from_secs(300),
        )
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_doc(rel: &str) -> String {
    std::fs::read_to_string(manifest_dir().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

#[test]
fn readme_usage_blocks_run_as_written() {
    let blocks = shell_blocks(&read_doc("README.md"), "Usage");
    assert!(
        !blocks.is_empty(),
        "README.md has no sh block under ## Usage"
    );
    let scratch = Scratch::new("usage");
    for block in blocks {
        let (build, rest): (Vec<&str>, Vec<&str>) = block
            .lines()
            .partition(|l| l.trim() == "cargo build --release");
        assert!(
            build.len() <= 1,
            "README's Usage block builds more than once:\n{block}"
        );
        // The names the README uses, cleaned up whatever happens.
        let cleanup = "R=./target/release/runrs; for c in c1 c2; do $R delete --force $c >/dev/null 2>&1; done; true";
        let script = format!("{cleanup}\n{}\n", rest.join("\n"));
        let out = scratch.bash(&format!("set -o pipefail\n{script}"), "-eux");
        let after = scratch.bash(cleanup, "-e");
        assert!(
            out.success(),
            "README.md's Usage block failed ({}):\n{script}\n{out}",
            out.status_text()
        );
        assert!(after.success(), "cleanup: {after}");
        if block.contains(" create ") {
            assert!(
                out.stdout.contains("\"created\""),
                "state after create does not say created:\n{out}"
            );
            assert!(out.stdout.contains("hi\n"), "the workload's output:\n{out}");
        }
    }
}

#[test]
fn docker_offline_recipe_runs_as_written() {
    let blocks = shell_blocks(&read_doc("docs/DOCKER.md"), "4. Run");
    let recipe = blocks
        .first()
        .expect("docs/DOCKER.md has no sh block under ## 4. Run");
    assert!(
        recipe.contains("docker import"),
        "the first block of DOCKER.md's Run section is not the offline recipe:\n{recipe}"
    );
    ensure_docker();
    let scratch = Scratch::new("docker");
    // As a reader pastes it: no -e (the recipe shows a failing exit code).
    let out = scratch.bash(recipe, "-x");
    assert!(
        out.success(),
        "DOCKER.md's offline recipe failed ({}):\n{recipe}\n{out}",
        out.status_text()
    );
    // What its comment says it prints: hi, 3 (after the image id).
    assert!(out.stdout.ends_with("hi\n3\n"), "{out}");
    assert!(scratch.path().join("build/rootfs-busybox/bin/sh").exists());
}
