//! Syscall conformance suite (tests/syscalls/): the same C cases run natively,
//! inside runc (when installed) and inside runrs (each platform), compared
//! side by side through `runrs::conformance` (the `runrs conformance`
//! runner). A case that passes natively must pass under runrs, on every
//! platform, unless `tests/syscalls/KNOWN_GAPS` lists it (a reason starting
//! `on PLATFORM:` lists it for that platform only: the platforms' columns
//! are identical except there); a case that fails natively is itself
//! wrong. The suite runs twice on each platform and every case must give
//! the same result both times; a listed gap must still fail, except gaps
//! whose reason starts with "flaky" (a race the case can only sometimes hit).
//! `RUNRS_BLESS=1` rewrites `docs/CONFORMANCE.md` and `tests/syscalls/CASES`.
//!
//! `table_rules` (no containers) checks the suite against the table: every
//! `full` syscall has a case (or is in `tests/syscalls/UNCOVERED`), every
//! KNOWN_GAPS entry names a table row that is not `full` (or is in
//! `tests/syscalls/DISPUTED`), and the checked-in CASES list is well formed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use runrs::conformance::{self as conf, Case, Outcome, Report, Results, Runtime};
use runrs::table::{self, Disposition, Support};

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

fn bless() -> bool {
    std::env::var_os("RUNRS_BLESS").is_some_and(|v| v == "1")
}

/// Runs build.sh (with RUNRS_BLESS passed through, which refreshes the
/// checked-in CASES); returns the binary.
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
fn table_errno(name: &str) -> Result<i32, String> {
    let row = table::by_name(name).ok_or_else(|| format!("{name} not in the table"))?;
    match &row.disposition {
        Disposition::Denied { errno } => Ok(*errno),
        Disposition::Passthrough(Some(rule)) => Ok(rule.else_errno),
        other => Err(format!("{name} is {other:?}, not denied")),
    }
}

/// Names of every `EXPECT_TABLE_ERRNO(..., "name");` in denied.c.
fn denied_names() -> BTreeSet<String> {
    let src = fs::read_to_string(suite_dir().join("denied.c")).expect("read denied.c");
    let mut names = BTreeSet::new();
    for (i, _) in src.match_indices("\");") {
        let start = src[..i].rfind('"').expect("opening quote");
        let name = &src[start + 1..i];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.insert(name.to_string());
        }
    }
    names
}

fn known_gaps() -> BTreeMap<String, String> {
    let text = fs::read_to_string(suite_dir().join("KNOWN_GAPS")).unwrap_or_default();
    conf::parse_gaps(&text).unwrap_or_else(|e| panic!("{e}"))
}

/// `name  # reason` lines of UNCOVERED / DISPUTED: name -> reason.
fn name_list(file: &str) -> BTreeMap<String, String> {
    let text = fs::read_to_string(suite_dir().join(file)).unwrap_or_default();
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line.split_once('#').unwrap_or((line, ""));
        assert!(
            !reason.trim().is_empty(),
            "{file}: {} needs a reason",
            name.trim()
        );
        m.insert(name.trim().to_string(), reason.trim().to_string());
    }
    m
}

fn checked_in_cases() -> Vec<Case> {
    let text = fs::read_to_string(suite_dir().join("CASES"))
        .expect("tests/syscalls/CASES (RUNRS_BLESS=1 bash tests/syscalls/build.sh DIR writes it)");
    conf::parse_list(&text)
}

/// Problems between the suite and the table; no containers needed.
fn table_problems(cases: &[Case]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut covered: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut families = BTreeSet::new();
    for c in cases {
        families.insert(c.family());
        for s in &c.covers {
            if table::by_name(s).is_none() {
                problems.push(format!("{}: COVERS names {s}, not a table syscall", c.name));
            }
        }
        for s in c.syscalls() {
            covered.entry(s).or_default().push(&c.name);
        }
    }
    if cases.len() < 400 || families.len() < 60 {
        problems.push(format!(
            "the suite must keep at least 400 cases in 60 families: {} cases, {} families",
            cases.len(),
            families.len()
        ));
    }
    for n in denied_names() {
        if let Err(e) = table_errno(&n) {
            problems.push(format!("denied.c expects the table errno of {n}: {e}"));
        }
    }

    let uncovered = name_list("UNCOVERED");
    let mut missing = Vec::new();
    for r in table::SYSCALLS
        .iter()
        .filter(|r| r.support == Support::Full)
    {
        if !covered.contains_key(r.name) && !uncovered.contains_key(r.name) {
            missing.push(r.name);
        }
    }
    if !missing.is_empty() {
        problems.push(format!(
            "the table says full for syscalls without a case (add cases, or list them \
             with a reason in tests/syscalls/UNCOVERED): {}",
            missing.join(" ")
        ));
    }
    for name in uncovered.keys() {
        match table::by_name(name) {
            None => problems.push(format!("UNCOVERED: {name} is not a table syscall")),
            Some(r) if r.support != Support::Full => problems.push(format!(
                "UNCOVERED: {name} is {}, not full: remove it",
                r.support.label()
            )),
            Some(_) if covered.contains_key(name.as_str()) => problems.push(format!(
                "UNCOVERED: {name} has cases now ({}): remove it",
                covered[name.as_str()].join(" ")
            )),
            Some(_) => {}
        }
    }

    let disputed = name_list("DISPUTED");
    let mut named_full = BTreeSet::new();
    for (case, reason) in &known_gaps() {
        let sys = conf::gap_syscall(reason);
        match table::by_name(sys) {
            None => problems.push(format!(
                "KNOWN_GAPS {case}: the reason must start with the syscall-table row it is \
                 about, got {sys:?}"
            )),
            Some(r) if r.support == Support::Full => {
                named_full.insert(sys.to_string());
                if !disputed.contains_key(sys) {
                    problems.push(format!(
                        "KNOWN_GAPS {case} names {sys}, whose table row says full: mark it \
                         partial (or list it in tests/syscalls/DISPUTED for the table owners)"
                    ));
                }
            }
            Some(_) => {}
        }
        if !cases.iter().any(|c| &c.name == case) {
            problems.push(format!("KNOWN_GAPS names unknown case {case}"));
        }
    }
    for name in disputed.keys() {
        if !named_full.contains(name) {
            problems.push(format!(
                "DISPUTED: {name} is no longer a full row named by a KNOWN_GAPS entry: remove it"
            ));
        }
    }
    problems
}

#[test]
fn table_rules() {
    let problems = table_problems(&checked_in_cases());
    assert!(
        problems.is_empty(),
        "suite/table problems:\n{}",
        problems.join("\n")
    );
}

fn run(bin: &Path, rt: &Runtime, cases: &[Case]) -> Results {
    conf::run_suite(bin, &common::rootfs(), rt, cases, None)
        .unwrap_or_else(|e| panic!("{} run: {e}", rt.name()))
}

#[test]
fn syscall_conformance_native_vs_runrs() {
    let out = TempDir::new("runrs-conformance-build");
    let bin = build(&out.0);
    let cases = conf::list_cases(&bin, None).expect("--list");
    assert!(!cases.is_empty(), "no cases registered");

    let mut problems = Vec::new();
    let built = fs::read_to_string(out.0.join("CASES")).expect("build.sh wrote CASES");
    let checked_in = fs::read_to_string(suite_dir().join("CASES")).unwrap_or_default();
    if built != checked_in {
        problems.push(
            "tests/syscalls/CASES is stale: run RUNRS_BLESS=1 cargo test --test conformance \
             (then RUNRS_BLESS=1 cargo test --lib compatibility_doc)"
                .to_string(),
        );
    }
    problems.extend(table_problems(&cases));

    let native = run(&bin, &Runtime::Native, &cases);
    let runc = conf::find_in_path("runc").map(|p| run(&bin, &Runtime::runc(p), &cases));
    let gaps = known_gaps();
    // Each platform twice: a case must give the same result both times.
    let platforms: Vec<(Runtime, Results, Results)> = conf::PLATFORMS
        .iter()
        .map(|p| {
            let rt = Runtime::runrs(common::runrs(), p);
            let first = run(&bin, &rt, &cases);
            let second = run(&bin, &rt, &cases);
            (rt, first, second)
        })
        .collect();

    let mut columns = vec![("native".to_string(), native.clone())];
    if let Some(r) = &runc {
        columns.push(("runc".to_string(), r.clone()));
    }
    for (rt, first, _) in &platforms {
        columns.push((rt.name().to_string(), first.clone()));
    }
    let report = Report {
        cases: cases.clone(),
        columns,
        gaps: gaps.clone(),
    };
    println!("{}", report.text());

    for case in cases.iter().map(|c| &c.name) {
        let n = &native[case];
        match n {
            Outcome::Fail(msg) => {
                problems.push(format!("{case} fails natively (the case is wrong): {msg}"))
            }
            Outcome::Missing => problems.push(format!("{case} printed no line natively")),
            _ => {}
        }
        for (rt, first, second) in &platforms {
            let name = rt.name();
            let (s, s2) = (&first[case], &second[case]);
            let gap = gaps.get(case).filter(|r| conf::gap_applies(r, name));
            let sandbox_must_pass = n.passed() || matches!(n, Outcome::Skip(_));
            if sandbox_must_pass && !s.passed() && !matches!(s, Outcome::Skip(_)) && gap.is_none() {
                problems.push(format!(
                    "{case} passes natively but not under {name}: {}",
                    s.detail()
                ));
            }
            // sandbox-only cases must run under runrs (host-feature skips may skip)
            if matches!(s, Outcome::Skip(why) if why == "sandbox-only") {
                problems.push(format!(
                    "{case} skipped under {name} (no table errno passed?)"
                ));
            }
            let flaky_gap = gap.is_some_and(|r| conf::gap_is_flaky(r));
            if s.label() != s2.label() && !flaky_gap {
                problems.push(format!(
                    "{case} is flaky under {name}: {} then {}",
                    s.detail(),
                    s2.detail()
                ));
            }
            if let Some(reason) = gap {
                if s.passed() && !conf::gap_is_flaky(reason) {
                    problems.push(format!(
                        "{case} passes under {name} now: remove it from KNOWN_GAPS, or limit \
                         the gap to the platforms where it fails with `on PLATFORM:` ({reason})"
                    ));
                }
            }
        }
    }

    let count = |r: &Results| r.values().filter(|o| o.passed()).count();
    println!(
        "\n{} cases; native pass {}, runc pass {}, {}; known gaps {}",
        cases.len(),
        count(&native),
        runc.as_ref()
            .map_or("-".to_string(), |r| count(r).to_string()),
        platforms
            .iter()
            .map(|(rt, a, b)| format!("{} pass {} / {}", rt.name(), count(a), count(b)))
            .collect::<Vec<_>>()
            .join(", "),
        gaps.len()
    );

    if bless() {
        let doc = common::manifest_dir().join("docs/CONFORMANCE.md");
        fs::write(&doc, report.markdown())
            .unwrap_or_else(|e| panic!("write {}: {e}", doc.display()));
        println!("wrote {}", doc.display());
    }

    assert!(
        problems.is_empty(),
        "conformance problems:\n{}",
        problems.join("\n")
    );
}
