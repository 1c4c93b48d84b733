//! The layer rule of docs/ARCHITECTURE.md, checked on the source tree:
//!
//! ```text
//! runsc (the OCI front end), conformance (the suite runner)
//!   → sentry → gofer (the sentry is the gofer's client)
//!     → sandbox, confine, table, metrics (what the roles share)
//!       → log
//! ```
//!
//! A module may name (`crate::x`, or `super::` climbing out of its own
//! module) only the top-level modules below it. The test reads every file
//! under src/ and fails with the file, line and import that breaks the
//! rule; it needs no root and no container.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module → the top-level modules it may import.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("log", &[][..]),
        ("table", &["log"][..]),
        ("sandbox", &["log"][..]),
        ("metrics", &["log"][..]),
        ("confine", &["log", "table"][..]),
        (
            "gofer",
            &["log", "table", "sandbox", "confine", "metrics"][..],
        ),
        (
            "sentry",
            &["log", "table", "sandbox", "confine", "metrics", "gofer"][..],
        ),
        ("conformance", &["log", "table"][..]),
        (
            "runsc",
            &[
                "log",
                "table",
                "sandbox",
                "confine",
                "metrics",
                "gofer",
                "sentry",
                "conformance",
            ][..],
        ),
    ])
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file below src/ (`sentry/fs/procfs.rs` →
/// ["sentry", "fs", "procfs"]; `mod.rs` names its directory).
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

/// The name of an inline module a line opens (`mod tests {`).
fn inline_mod(line: &str) -> Option<String> {
    let t = line.trim_start();
    let t = t
        .strip_prefix("pub(crate) ")
        .or_else(|| t.strip_prefix("pub "))
        .unwrap_or(t);
    let (name, rest) = t.strip_prefix("mod ")?.split_once(' ')?;
    rest.starts_with('{').then(|| name.to_string())
}

/// The code of a line without its `//` comment (doc comments included).
fn code(line: &str) -> &str {
    line.split_once("//").map_or(line, |(c, _)| c)
}

/// The top-level modules a line names: `crate::x`, and `super::…::x` when
/// the `super`s climb to the crate root from `module`.
fn named_modules(line: &str, module: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        let after = &rest[i + "crate::".len()..];
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            out.push(ident(after));
        }
        rest = after;
    }
    // `super` chains: a file's own module is `module`; its parent is one
    // `super` up (for a `mod.rs` too, whose module is its directory).
    let mut rest = line;
    while let Some(i) = rest.find("super::") {
        let before = rest[..i].chars().last();
        let mut after = &rest[i..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            rest = &after["super::".len()..];
            continue;
        }
        let mut ups = 0;
        while let Some(a) = after.strip_prefix("super::") {
            ups += 1;
            after = a;
        }
        if ups >= module.len() {
            out.push(ident(after));
        }
        rest = after;
    }
    out.retain(|m| !m.is_empty());
    out
}

#[test]
fn layers_never_import_upward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let rules = allowed();
    let mut broken = Vec::new();
    let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("below src");
        let module = module_path(rel);
        // main.rs and lib.rs sit above every layer.
        let Some(top) = module
            .first()
            .filter(|_| module != ["main"] && module != ["lib"])
        else {
            continue;
        };
        let may = rules.get(top.as_str()).unwrap_or_else(|| {
            panic!(
                "{}: top-level module {top} has no layer in tests/layers.rs",
                rel.display()
            )
        });
        let text = std::fs::read_to_string(f).expect("read");
        // Inline modules (`mod tests { ... }`) add a level for `super`:
        // (brace depth where each began).
        let mut inline: Vec<i32> = Vec::new();
        let mut depth = 0i32;
        for (n, line) in text.lines().enumerate() {
            let line = code(line);
            let mut here = module.clone();
            here.extend(inline.iter().map(|_| "inline".to_string()));
            if let Some(name) = inline_mod(line) {
                inline.push(depth);
                here.push(name);
            }
            depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            while inline.last().is_some_and(|d| depth <= *d) {
                inline.pop();
            }
            for m in named_modules(line, &here) {
                if m == *top {
                    continue;
                }
                edges.insert((top.clone(), m.clone()));
                if !may.contains(&m.as_str()) {
                    broken.push(format!(
                        "{}:{}: {top} imports {m}: {}",
                        rel.display(),
                        n + 1,
                        text.lines().nth(n).unwrap_or_default().trim()
                    ));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layer rule (docs/ARCHITECTURE.md, Layers):\n{}",
        broken.join("\n")
    );
    // The allowed graph is a strict order, so the observed one has no
    // circle; check it anyway, should the table above ever gain one.
    let mut order: Vec<&str> = Vec::new();
    let mut left: BTreeSet<&str> = rules.keys().copied().collect();
    while !left.is_empty() {
        let next: Vec<&str> = left
            .iter()
            .copied()
            .filter(|m| {
                edges
                    .iter()
                    .filter(|(from, _)| from == m)
                    .all(|(_, to)| !left.contains(to.as_str()))
            })
            .collect();
        assert!(!next.is_empty(), "an import circle among {left:?}");
        for m in next {
            left.remove(m);
            order.push(m);
        }
    }
}

/// The checker itself: it sees `crate::` and climbing `super::` paths,
/// ignores comments and paths inside the module.
#[test]
fn checker_finds_upward_imports() {
    let m = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let sentry_boot = m(&["sentry", "boot"]);
    assert_eq!(
        named_modules(code("use crate::runsc::cli::PlatformKind;"), &sentry_boot),
        ["runsc"]
    );
    assert_eq!(
        named_modules(
            code("    let x = crate::runsc::sync::recv(fd); // crate::gofer"),
            &sentry_boot
        ),
        ["runsc"]
    );
    assert!(named_modules(code("/// see `crate::runsc::init`"), &sentry_boot).is_empty());
    // sentry/boot.rs: one `super` is the sentry, two the crate root.
    assert!(named_modules("use super::vfs::Location;", &sentry_boot).is_empty());
    assert_eq!(
        named_modules("use super::super::runsc::state;", &sentry_boot),
        ["runsc"]
    );
    // sentry/mod.rs is the module `sentry`: one `super` is the crate root.
    assert_eq!(
        named_modules("use super::gofer::Client;", &m(&["sentry"])),
        ["gofer"]
    );
    assert!(named_modules("use my_crate::runsc;", &sentry_boot).is_empty());
}
