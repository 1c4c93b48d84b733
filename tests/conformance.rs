//! Syscall conformance suite (tests/syscalls/): the same C cases run natively
//! and inside a runrs container, compared side by side. A case that passes
//! natively must pass under runrs unless `tests/syscalls/KNOWN_GAPS` lists
//! it; a case that fails natively is itself wrong. Every case must give the
//! same result in two runs under runrs, and a listed gap must still fail,
//! except gaps whose reason starts with "flaky" (a race the case can only
//! sometimes hit). `RUNRS_BLESS=1` rewrites `docs/CONFORMANCE.md`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use runrs::table::{self, Disposition};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Pass,
    Skip,
    Fail(String),
    Missing,
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Skip => "skip",
            Outcome::Fail(_) => "FAIL",
            Outcome::Missing => "missing",
        }
    }

    fn passed(&self) -> bool {
        *self == Outcome::Pass
    }
}

type Results = BTreeMap<String, Outcome>;

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(common::unique_id(prefix));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn suite_dir() -> PathBuf {
    common::manifest_dir().join("tests/syscalls")
}

fn build(out: &Path) -> PathBuf {
    let script = suite_dir().join("build.sh");
    let o = Command::new("bash")
        .arg(&script)
        .arg(out)
        .output()
        .expect("running tests/syscalls/build.sh (needs gcc)");
    assert!(
        o.status.success(),
        "build.sh failed: {}",
        common::describe(&o)
    );
    out.join("conformance")
}

/// The errno the table gives a denied call (or a failed argument rule).
fn table_errno(name: &str) -> i32 {
    let row = table::by_name(name).unwrap_or_else(|| panic!("{name} not in the table"));
    match &row.disposition {
        Disposition::Denied { errno } => *errno,
        Disposition::Passthrough(Some(rule)) => rule.else_errno,
        other => panic!("{name} is {other:?}, not denied"),
    }
}

/// `name=errno` for every `EXPECT_TABLE_ERRNO(..., "name");` in denied.c.
fn denied_expectations() -> Vec<String> {
    let src = fs::read_to_string(suite_dir().join("denied.c")).expect("read denied.c");
    let mut names = BTreeSet::new();
    for (i, _) in src.match_indices("\");") {
        let start = src[..i].rfind('"').expect("opening quote");
        let name = &src[start + 1..i];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.insert(name.to_string());
        }
    }
    assert!(!names.is_empty(), "no table expectations found in denied.c");
    names
        .into_iter()
        .map(|n| format!("{n}={}", table_errno(&n)))
        .collect()
}

fn parse(stdout: &str) -> Results {
    let mut r = Results::new();
    for line in stdout.lines() {
        let (name, outcome) = if let Some(rest) = line.strip_prefix("not ok ") {
            let (name, msg) = rest.split_once(": ").unwrap_or((rest, ""));
            (name, Outcome::Fail(msg.to_string()))
        } else if let Some(rest) = line.strip_prefix("ok ") {
            match rest.split_once(" # skip") {
                Some((name, _)) => (name, Outcome::Skip),
                None => (rest, Outcome::Pass),
            }
        } else {
            continue;
        };
        let prev = r.insert(name.trim().to_string(), outcome);
        assert!(prev.is_none(), "case {name} reported twice");
    }
    r
}

/// Every listed case, Missing when the output has no line for it.
fn complete(cases: &[String], mut r: Results) -> Results {
    for c in cases {
        r.entry(c.clone()).or_insert(Outcome::Missing);
    }
    r
}

fn run_native(bin: &Path, cases: &[String]) -> Results {
    let cwd = TempDir::new("runrs-conformance-native");
    let mut cmd = Command::new(bin);
    cmd.current_dir(&cwd.0);
    let out = common::run_command(cmd);
    assert!(
        out.status.success(),
        "native run: {}",
        common::describe(&out)
    );
    complete(cases, parse(&String::from_utf8_lossy(&out.stdout)))
}

fn run_runrs(bin: &Path, cases: &[String], expectations: &[String]) -> Results {
    let mut args = vec!["/conformance"];
    args.extend(expectations.iter().map(String::as_str));
    let bundle = common::Bundle::new(&args);
    let dest = bundle.rootfs().join("conformance");
    fs::copy(bin, &dest).unwrap_or_else(|e| panic!("copy to {}: {e}", dest.display()));
    let root = common::Root::new();
    let id = common::unique_id("conformance");
    let path = bundle.path().to_str().expect("utf8 bundle path");
    let out = common::run(&root, &["run", "--bundle", path, &id]);
    assert!(
        out.status.success(),
        "runrs run: {}",
        common::describe(&out)
    );
    complete(cases, parse(&String::from_utf8_lossy(&out.stdout)))
}

/// `family.behaviour` -> reason, from tests/syscalls/KNOWN_GAPS.
fn known_gaps() -> BTreeMap<String, String> {
    let text = fs::read_to_string(suite_dir().join("KNOWN_GAPS")).unwrap_or_default();
    let mut gaps = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line.split_once('#').unwrap_or((line, ""));
        let name = name.trim().to_string();
        assert!(
            !reason.trim().is_empty(),
            "KNOWN_GAPS: {name} needs a reason"
        );
        gaps.insert(name, reason.trim().to_string());
    }
    gaps
}

fn family(case: &str) -> &str {
    case.split_once('.').map_or(case, |(f, _)| f)
}

fn markdown(native: &Results, sandbox: &Results, gaps: &BTreeMap<String, String>) -> String {
    let mut md = String::from(
        "# Syscall conformance\n\n\
         Generated by `RUNRS_BLESS=1 cargo test --test conformance` (do not edit).\n\
         The cases live in `tests/syscalls/`; each runs natively (as root on the\n\
         host) and inside `runrs run` with the busybox test rootfs. `skip` marks\n\
         sandbox-only cases (the denied set, whose expected errnos come from\n\
         `syscall-table/x86_64.toml`). Known gaps are listed in\n\
         `tests/syscalls/KNOWN_GAPS`.\n\n",
    );
    let mut fams: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for (case, n) in native {
        let s = &sandbox[case];
        let e = fams.entry(family(case)).or_default();
        e.0 += 1;
        e.1 += usize::from(n.passed());
        e.2 += usize::from(s.passed());
    }
    let (mut t0, mut t1, mut t2) = (0, 0, 0);
    md.push_str("## Totals per family\n\n| family | cases | native pass | runrs pass |\n|---|---:|---:|---:|\n");
    for (f, (c, n, s)) in &fams {
        let _ = writeln!(md, "| {f} | {c} | {n} | {s} |");
        t0 += c;
        t1 += n;
        t2 += s;
    }
    let _ = writeln!(md, "| **total** | {t0} | {t1} | {t2} |");
    md.push_str("\n## Cases\n\n| case | native | runrs |\n|---|---|---|\n");
    for (case, n) in native {
        let s = &sandbox[case];
        let runrs = match (s, gaps.get(case)) {
            (Outcome::Fail(_), Some(reason)) => format!("FAIL (known gap: {reason})"),
            _ => s.label().to_string(),
        };
        let _ = writeln!(md, "| `{case}` | {} | {runrs} |", n.label());
    }
    md
}

#[test]
fn syscall_conformance_native_vs_runrs() {
    let out = TempDir::new("runrs-conformance-build");
    let bin = build(&out.0);
    let listed = Command::new(&bin).arg("--list").output().expect("--list");
    let cases: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(!cases.is_empty(), "no cases registered");
    let expectations = denied_expectations();

    let native = run_native(&bin, &cases);
    let first = run_runrs(&bin, &cases, &expectations);
    let second = run_runrs(&bin, &cases, &expectations);
    let gaps = known_gaps();

    println!("{:<50} {:<8} runrs", "case", "native");
    for case in &cases {
        let (n, s) = (&native[case], &first[case]);
        let mut line = format!("{case:<50} {:<8} {}", n.label(), s.label());
        if let Outcome::Fail(msg) = s {
            let _ = write!(line, "  {msg}");
        }
        if gaps.contains_key(case) {
            line.push_str("  [known gap]");
        }
        println!("{line}");
    }

    let mut problems = Vec::new();
    for case in &cases {
        let (n, s, s2) = (&native[case], &first[case], &second[case]);
        match n {
            Outcome::Fail(msg) => {
                problems.push(format!("{case} fails natively (the case is wrong): {msg}"))
            }
            Outcome::Missing => problems.push(format!("{case} printed no line natively")),
            _ => {}
        }
        let sandbox_must_pass = n.passed() || *n == Outcome::Skip;
        if sandbox_must_pass && !s.passed() && !gaps.contains_key(case) {
            let detail = match s {
                Outcome::Fail(msg) => msg.clone(),
                other => other.label().to_string(),
            };
            problems.push(format!(
                "{case} passes natively but not under runrs: {detail}"
            ));
        }
        let flaky_gap = gaps.get(case).is_some_and(|r| r.starts_with("flaky"));
        if s.label() != s2.label() && !flaky_gap {
            let msg = |o: &Outcome| match o {
                Outcome::Fail(m) => format!("FAIL ({m})"),
                other => other.label().to_string(),
            };
            problems.push(format!(
                "{case} is flaky under runrs: {} then {}",
                msg(s),
                msg(s2)
            ));
        }
    }
    for (case, reason) in &gaps {
        match first.get(case) {
            None => problems.push(format!("KNOWN_GAPS names unknown case {case}")),
            Some(o) if o.passed() && !reason.starts_with("flaky") => problems.push(format!(
                "{case} passes under runrs now: remove it from KNOWN_GAPS ({reason})"
            )),
            Some(_) => {}
        }
    }

    let count = |r: &Results| r.values().filter(|o| o.passed()).count();
    println!(
        "\n{} cases; native pass {}, runrs pass {} / {}, known gaps {}",
        cases.len(),
        count(&native),
        count(&first),
        count(&second),
        gaps.len()
    );

    if std::env::var_os("RUNRS_BLESS").is_some_and(|v| v == "1") {
        let doc = common::manifest_dir().join("docs/CONFORMANCE.md");
        fs::write(&doc, markdown(&native, &first, &gaps))
            .unwrap_or_else(|e| panic!("write {}: {e}", doc.display()));
        println!("wrote {}", doc.display());
    }

    assert!(
        problems.is_empty(),
        "conformance problems:\n{}",
        problems.join("\n")
    );
}
