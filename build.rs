//! Generates the syscall table and the sentry dispatch from
//! `syscall-table/x86_64.toml` (the single source of truth).
//!
//! Outputs in `OUT_DIR`:
//! - `syscall_table.rs`: `pub static SYSCALLS: &[SyscallRow]`, sorted by nr
//!   (included by `src/table.rs`);
//! - `dispatch.rs`: `pub fn handler(nr: u32) -> Option<Handler>` for exactly
//!   the emulated rows (included by the `crate::sentry::dispatch` module).
//!
//! A malformed row fails the build with a message naming the row.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

const TABLE: &str = "syscall-table/x86_64.toml";

/// Errno names accepted in `errno` / `else_errno` (x86_64 values).
/// Keep in sync with `table::errno_name` (a test checks every used one).
const ERRNOS: &[(&str, i32)] = &[
    ("EPERM", 1),
    ("ENOENT", 2),
    ("ESRCH", 3),
    ("EIO", 5),
    ("ENXIO", 6),
    ("EBADF", 9),
    ("EAGAIN", 11),
    ("ENOMEM", 12),
    ("EACCES", 13),
    ("EFAULT", 14),
    ("EBUSY", 16),
    ("EEXIST", 17),
    ("ENODEV", 19),
    ("ENOTDIR", 20),
    ("EINVAL", 22),
    ("ENOTTY", 25),
    ("EROFS", 30),
    ("ENOSYS", 38),
    ("EPROTONOSUPPORT", 93),
    ("EOPNOTSUPP", 95),
    ("EAFNOSUPPORT", 97),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    syscall: Vec<Row>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    nr: u32,
    name: String,
    family: String,
    disposition: String,
    support: String,
    note: Option<String>,
    errno: Option<String>,
    handler: Option<String>,
    allow_if: Option<AllowIf>,
    else_errno: Option<String>,
    emulate_if: Option<EmulateIf>,
    on_ptrace: Option<OnPtrace>,
    /// On a denied row: the kernel's filter answers it, not the sentry
    /// (so it is never logged): clone3, which glibc tries before every
    /// fork and thread.
    in_kernel: Option<bool>,
}

/// On a passthrough row: what the ptrace platform refuses (the sentry is
/// every task's tracer there): every call, or those with a bit of
/// `mask_set` set in argument `arg`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OnPtrace {
    errno: String,
    arg: Option<u8>,
    mask_set: Option<u64>,
}

/// On a passthrough row: the argument values that go to the sentry's
/// `handler` instead (e.g. prctl's capability options).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmulateIf {
    arg: u8,
    values: Vec<u64>,
    /// A second argument that must match too (lseek: offset 0 *and*
    /// SEEK_SET).
    also: Option<ArgValues>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArgValues {
    arg: u8,
    values: Vec<u64>,
}

/// An argument index and the 32-bit values it is compared with.
fn check_arg_values(what: &str, arg: u8, values: &[u64]) -> Result<(), String> {
    if arg > 5 {
        return Err(format!("{what}.arg = {arg} (must be 0..=5)"));
    }
    if values.is_empty() {
        return Err(format!("{what}.values is empty"));
    }
    if let Some(v) = values.iter().find(|v| **v > u64::from(u32::MAX)) {
        return Err(format!(
            "{what}.values: {v:#x} does not fit the 32-bit argument compare"
        ));
    }
    Ok(())
}

fn hex_list(values: &[u64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:#x}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowIf {
    arg: u8,
    values: Option<Vec<u64>>,
    mask_clear: Option<u64>,
    /// With `values`: for one of them, another argument's values too.
    when: Option<When>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct When {
    value: u64,
    arg: u8,
    values: Vec<u64>,
}

fn errno_value(name: &str) -> Option<i32> {
    ERRNOS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Validates one row and renders its `SyscallRow` literal.
fn render_row(row: &Row) -> Result<String, String> {
    if !is_ident(&row.name) {
        return Err(format!("name {:?} is not an identifier", row.name));
    }
    if !is_ident(&row.family) {
        return Err(format!("family {:?} is not an identifier", row.family));
    }
    let support = match row.support.as_str() {
        "full" => "Full",
        "partial" => "Partial",
        "none" => "None",
        other => {
            return Err(format!(
                "unknown support {other:?} (expected full, partial or none)"
            ));
        }
    };
    let note = row.note.as_deref().unwrap_or("").trim();
    if note.is_empty() {
        return Err("missing note (every row says who needs it / why)".into());
    }
    if note.contains('\n') {
        return Err("note must be one line".into());
    }
    let only = |field: &str, present: bool, disposition: &str| -> Result<(), String> {
        if present {
            Err(format!("`{field}` is not allowed on a {disposition} row"))
        } else {
            Ok(())
        }
    };
    let disposition = match row.disposition.as_str() {
        "passthrough" if row.emulate_if.is_some() != row.handler.is_some() => {
            return Err("a passthrough row has `handler` exactly when it has `emulate_if`".into());
        }
        "passthrough" => {
            only("errno", row.errno.is_some(), "passthrough")?;
            match (&row.allow_if, &row.else_errno) {
                (None, None) => "Disposition::Passthrough(None)".to_string(),
                (None, Some(_)) => return Err("`else_errno` without `allow_if`".into()),
                (Some(_), None) => return Err("`allow_if` without `else_errno`".into()),
                (Some(rule), Some(else_errno)) => {
                    let errno = errno_value(else_errno)
                        .ok_or_else(|| format!("unknown errno name {else_errno:?}"))?;
                    if rule.arg > 5 {
                        return Err(format!("allow_if.arg = {} (must be 0..=5)", rule.arg));
                    }
                    let kind = match (&rule.values, rule.mask_clear) {
                        (Some(values), None) => {
                            if values.is_empty() {
                                return Err("allow_if.values is empty".into());
                            }
                            if let Some(v) = values.iter().find(|v| **v > u64::from(u32::MAX)) {
                                return Err(format!(
                                    "allow_if.values: {v:#x} does not fit the 32-bit argument compare"
                                ));
                            }
                            let set: BTreeSet<u64> = values.iter().copied().collect();
                            if set.len() != values.len() {
                                return Err("allow_if.values has duplicates".into());
                            }
                            let list: Vec<String> =
                                values.iter().map(|v| format!("{v:#x}")).collect();
                            format!("ArgRuleKind::InSet(&[{}])", list.join(", "))
                        }
                        (None, Some(mask)) => {
                            if mask == 0 {
                                return Err("allow_if.mask_clear is 0".into());
                            }
                            format!("ArgRuleKind::MaskClear({mask:#x})")
                        }
                        _ => {
                            return Err(
                                "allow_if needs exactly one of `values` or `mask_clear`".into()
                            );
                        }
                    };
                    let when = match &rule.when {
                        None => "None".to_string(),
                        Some(w) => {
                            check_arg_values("allow_if.when", w.arg, &w.values)?;
                            if w.arg == rule.arg {
                                return Err("allow_if.when must rule another argument".into());
                            }
                            if !rule.values.as_ref().is_some_and(|v| v.contains(&w.value)) {
                                return Err(format!(
                                    "allow_if.when.value {:#x} is not in allow_if.values",
                                    w.value
                                ));
                            }
                            format!(
                                "Some(ArgWhen {{ value: {:#x}, arg: {}, values: &[{}] }})",
                                w.value,
                                w.arg,
                                hex_list(&w.values)
                            )
                        }
                    };
                    format!(
                        "Disposition::Passthrough(Some(ArgRule {{ arg: {}, kind: {kind}, when: {when}, else_errno: {errno} }}))",
                        rule.arg
                    )
                }
            }
        }
        _ if row.emulate_if.is_some() && row.disposition != "passthrough" => {
            return Err("`emulate_if` is only allowed on a passthrough row".into());
        }
        "emulated" => {
            only("errno", row.errno.is_some(), "emulated")?;
            only("allow_if", row.allow_if.is_some(), "emulated")?;
            only("else_errno", row.else_errno.is_some(), "emulated")?;
            let handler = row
                .handler
                .as_deref()
                .ok_or("emulated row without `handler`")?;
            match handler.split_once("::") {
                Some((module, func)) if is_ident(module) && is_ident(func) => {}
                _ => {
                    return Err(format!("handler {handler:?} must be \"module::function\""));
                }
            }
            format!("Disposition::Emulated {{ handler: {handler:?} }}")
        }
        "denied" => {
            only("handler", row.handler.is_some(), "denied")?;
            only("allow_if", row.allow_if.is_some(), "denied")?;
            only("else_errno", row.else_errno.is_some(), "denied")?;
            let name = row.errno.as_deref().ok_or("denied row without `errno`")?;
            let errno = errno_value(name).ok_or_else(|| format!("unknown errno name {name:?}"))?;
            format!("Disposition::Denied {{ errno: {errno} }}")
        }
        other => {
            return Err(format!(
                "unknown disposition {other:?} (expected passthrough, emulated or denied)"
            ));
        }
    };
    if row.in_kernel.is_some() && row.disposition != "denied" {
        return Err("`in_kernel` is only allowed on a denied row".into());
    }
    let in_kernel = row.in_kernel.unwrap_or(false);
    let emulate_if = match (&row.emulate_if, row.handler.as_deref()) {
        (Some(e), Some(handler)) if row.disposition == "passthrough" => {
            check_arg_values("emulate_if", e.arg, &e.values)?;
            if let Some(also) = &e.also {
                check_arg_values("emulate_if.also", also.arg, &also.values)?;
                if also.arg == e.arg {
                    return Err("emulate_if.also must rule another argument".into());
                }
            }
            match handler.split_once("::") {
                Some((module, func)) if is_ident(module) && is_ident(func) => {}
                _ => {
                    return Err(format!("handler {handler:?} must be \"module::function\""));
                }
            }
            // The allowlist must let them through to the sentry's filter.
            if let Some(AllowIf {
                arg,
                values: Some(allowed),
                ..
            }) = &row.allow_if
            {
                if *arg != e.arg {
                    return Err("emulate_if and allow_if must rule the same argument".into());
                }
                if let Some(v) = e.values.iter().find(|v| !allowed.contains(v)) {
                    return Err(format!(
                        "emulate_if.values: {v:#x} is not in allow_if.values"
                    ));
                }
            }
            let also = match &e.also {
                Some(a) => format!("Some(({}, &[{}]))", a.arg, hex_list(&a.values)),
                None => "None".into(),
            };
            format!(
                "Some(EmulateIf {{ arg: {}, values: &[{}], also: {also}, handler: {handler:?} }})",
                e.arg,
                hex_list(&e.values)
            )
        }
        _ => "None".to_string(),
    };
    let on_ptrace = match &row.on_ptrace {
        None => "None".to_string(),
        Some(_) if row.disposition != "passthrough" => {
            return Err("`on_ptrace` is only allowed on a passthrough row".into());
        }
        Some(p) => {
            let errno =
                errno_value(&p.errno).ok_or_else(|| format!("unknown errno name {:?}", p.errno))?;
            let mask = match (p.arg, p.mask_set) {
                (None, None) => "None".to_string(),
                (Some(arg), Some(mask)) if arg <= 5 && mask != 0 => {
                    format!("Some(({arg}, {mask:#x}))")
                }
                _ => {
                    return Err(
                        "on_ptrace needs both `arg` (0..=5) and a non-zero `mask_set`, or neither"
                            .into(),
                    );
                }
            };
            if !note.contains("ptrace platform") {
                return Err(
                    "a row with `on_ptrace` says so in its note (\"ptrace platform\")".into(),
                );
            }
            format!("Some(OnPtrace {{ errno: {errno}, mask: {mask} }})")
        }
    };
    Ok(format!(
        "    SyscallRow {{ nr: {}, name: {:?}, family: {:?}, disposition: {disposition}, support: Support::{support}, note: {:?}, emulate_if: {emulate_if}, on_ptrace: {on_ptrace}, in_kernel: {in_kernel} }},\n",
        row.nr, row.name, row.family, note
    ))
}

fn generate(table_path: &Path, out_dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(table_path)
        .map_err(|e| format!("cannot read {}: {e}", table_path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", table_path.display()))?;

    let mut errors = Vec::new();
    let mut by_nr: BTreeMap<u32, (&Row, String)> = BTreeMap::new();
    let mut nrs = BTreeSet::new();
    let mut names = BTreeSet::new();
    for row in &file.syscall {
        let id = format!("row nr={} ({})", row.nr, row.name);
        if !nrs.insert(row.nr) {
            errors.push(format!("{id}: duplicate nr {}", row.nr));
        }
        if !names.insert(row.name.as_str()) {
            errors.push(format!("{id}: duplicate name"));
        }
        match render_row(row) {
            Ok(code) => {
                by_nr.insert(row.nr, (row, code));
            }
            Err(e) => errors.push(format!("{id}: {e}")),
        }
    }
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }

    let mut table = String::from(
        "// @generated by build.rs from syscall-table/x86_64.toml; do not edit.\n\
         /// Every x86_64 syscall, sorted by number.\n\
         pub static SYSCALLS: &[SyscallRow] = &[\n",
    );
    let mut dispatch = String::from(
        "// @generated by build.rs from syscall-table/x86_64.toml; do not edit.\n\
         /// The sentry handler of an emulated syscall (exactly the table's emulated rows).\n\
         pub fn handler(nr: u32) -> Option<crate::sentry::syscalls::Handler> {\n    match nr {\n",
    );
    for (nr, (row, code)) in &by_nr {
        table.push_str(code);
        if row.disposition == "emulated" || row.emulate_if.is_some() {
            let handler = row.handler.as_deref().unwrap_or_default();
            let _ = writeln!(
                dispatch,
                "        {nr} => Some(crate::sentry::syscalls::{handler} as crate::sentry::syscalls::Handler),"
            );
        }
    }
    table.push_str("];\n");
    dispatch.push_str("        _ => None,\n    }\n}\n");

    for (name, contents) in [("syscall_table.rs", table), ("dispatch.rs", dispatch)] {
        let path = out_dir.join(name);
        std::fs::write(&path, contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn main() {
    println!("cargo:rerun-if-changed={TABLE}");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    if let Err(e) = generate(&manifest_dir.join(TABLE), &out_dir) {
        panic!("\n\nsyscall table {TABLE} is invalid:\n{e}\n\n");
    }
}
