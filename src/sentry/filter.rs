//! The seccomp filters runrs installs, built from the syscall table
//! ([`crate::table::SYSCALLS`]).
//!
//! The workload's filter is one program ([`workload_filters`], generated
//! with [`super::bpfgen`]): after the architecture check (foreign →
//! KILL_PROCESS), a binary search over the syscall number leads to the
//! row's verdict: ALLOW for a passthrough row, its argument rule's
//! ERRNO(e) when that fails, the sentry's action (USER_NOTIF, or TRACE
//! for a ptrace platform) for emulated rows, denied rows and the argument
//! values of a passthrough row's `emulate_if`, the table's errno for
//! denied rows marked `in_kernel`, ERRNO(ENOSYS) for a number not in the
//! table. Every emulated call runs it (the kernel caches only ALLOW), so
//! its length on that path matters: about 12 instructions instead of the
//! several thousand of a stack of linear filters, one per action.
//! Arguments are read only inside the branch of the syscall they belong
//! to, so the kernel's per-number cache still allows unconditional
//! passthrough syscalls without running any BPF.
//!
//! The ptrace platform's extra filters ([`reserved_fd_filters`],
//! [`ptrace_platform_filters`]) are few rules each, built with
//! seccompiler, and stack around it: the kernel runs every filter and
//! keeps the most precedent action (KILL > TRAP > ERRNO > USER_NOTIF >
//! TRACE > LOG > ALLOW).

use std::collections::BTreeMap;
use std::fmt;
use std::os::fd::OwnedFd;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::bpfgen::{self, Asm, GenError, Label, Verdict};
use crate::table::{ArgRule, ArgRuleKind, Disposition, SyscallRow, SYSCALLS};

/// `AUDIT_ARCH_X86_64`, the only architecture the table describes.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (for `SECCOMP_IOCTL_NOTIF_SET_FLAGS`),
/// missing from libc.
pub const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;

/// `SECCOMP_RET_DATA` of the placeholder TRACE action of the notify filter
/// ("rs"); it is what a ptrace supervisor sees as the event message.
pub const TRACE_MAGIC: u32 = 0x7273;

const BPF_RET_K: u16 = 0x06;

/// How emulated syscalls reach the sentry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyMode {
    /// `SECCOMP_RET_USER_NOTIF`, delivered on the listener fd.
    UserNotif,
    /// `SECCOMP_RET_TRACE | TRACE_MAGIC`, for a ptrace platform.
    Trace,
}

#[derive(Debug)]
pub enum FilterError {
    /// The workload filter could not be generated from the table.
    Generate {
        which: &'static str,
        source: GenError,
    },
    /// seccompiler rejected a filter (`which` names it).
    Build {
        which: String,
        source: seccompiler::BackendError,
    },
    /// An empty or oversized program.
    BadProgram { index: usize, len: usize },
    /// `seccomp(SECCOMP_SET_MODE_FILTER)` failed for the filter at `index`.
    Install {
        index: usize,
        source: std::io::Error,
    },
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::Generate { which, source } => {
                write!(f, "generating the {which} seccomp filter: {source}")
            }
            FilterError::Build { which, source } => {
                write!(f, "building the {which} seccomp filter: {source}")
            }
            FilterError::BadProgram { index, len } => {
                write!(f, "seccomp filter {index} has an invalid length {len}")
            }
            FilterError::Install { index, source } => {
                write!(f, "installing seccomp filter {index}: {source}")
            }
        }
    }
}

impl std::error::Error for FilterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FilterError::Generate { source, .. } => Some(source),
            FilterError::Build { source, .. } => Some(source),
            FilterError::Install { source, .. } => Some(source),
            FilterError::BadProgram { .. } => None,
        }
    }
}

fn cond(arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64) -> SeccompCondition {
    SeccompCondition::new(arg, len, op, value).expect("argument index checked by build.rs")
}

fn rule(conditions: Vec<SeccompCondition>) -> SeccompRule {
    SeccompRule::new(conditions).expect("rules are never empty")
}

fn compile(
    which: &str,
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: SeccompAction,
    matched: SeccompAction,
) -> Result<Vec<libc::sock_filter>, FilterError> {
    let build = |source| FilterError::Build {
        which: which.to_string(),
        source,
    };
    let filter = SeccompFilter::new(rules, mismatch, matched, TargetArch::x86_64).map_err(build)?;
    let prog: BpfProgram = filter.try_into().map_err(build)?;
    Ok(prog
        .into_iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect())
}

/// The workload filter: one program, a binary search over the syscall
/// number (see the module's documentation), returned as a stack of one so
/// that the ptrace platform can add its own filters around it.
pub fn workload_filters(mode: NotifyMode) -> Result<Vec<Vec<libc::sock_filter>>, FilterError> {
    let build = |source| FilterError::Generate {
        which: "workload",
        source,
    };
    let notified = to_sentry_action(mode);
    let numbers = SYSCALLS
        .iter()
        .map(|row| Ok((row.nr, row_verdict(row, notified)?)))
        .collect::<Result<Vec<_>, GenError>>()
        .map_err(build)?;
    let prog = bpfgen::by_number(
        AUDIT_ARCH_X86_64,
        libc::SECCOMP_RET_KILL_PROCESS,
        numbers,
        errno_action(libc::ENOSYS),
    )
    .map_err(build)?;
    Ok(vec![prog])
}

/// What the workload filter does with one row's calls.
fn row_verdict(row: &SyscallRow, notified: u32) -> Result<Verdict, GenError> {
    let rule = match &row.disposition {
        Disposition::Passthrough(None) if row.emulate_if.is_none() => {
            return Ok(Verdict::Ret(libc::SECCOMP_RET_ALLOW))
        }
        Disposition::Passthrough(rule) => rule,
        Disposition::Emulated { .. } => return Ok(Verdict::Ret(notified)),
        Disposition::Denied { errno } if row.in_kernel => {
            return Ok(Verdict::Ret(errno_action(*errno)))
        }
        // Sent to the sentry like an emulated row: it answers the table's
        // errno and logs the first use of each in the container (so a
        // denial is discoverable).
        Disposition::Denied { .. } => return Ok(Verdict::Ret(notified)),
    };
    let mut asm = Asm::new();
    let passed = asm.label();
    if let Some(r) = rule {
        arg_rule(&mut asm, r, passed)?;
    }
    asm.place(passed);
    match &row.emulate_if {
        None => asm.ret(libc::SECCOMP_RET_ALLOW),
        Some(e) => {
            let (sent, allowed) = (asm.label(), asm.label());
            asm.load_arg(e.arg, false);
            match e.also {
                None => asm.in_set(&words(e.values)?, sent, allowed),
                Some((arg, values)) => {
                    let first = asm.label();
                    asm.in_set(&words(e.values)?, first, allowed);
                    asm.place(first);
                    asm.load_arg(arg, false);
                    asm.in_set(&words(values)?, sent, allowed);
                }
            }
            asm.place(allowed);
            asm.ret(libc::SECCOMP_RET_ALLOW);
            asm.place(sent);
            asm.ret(notified);
        }
    }
    Ok(Verdict::Code(asm.finish()?))
}

/// Goes on to `passed` when the arguments pass `r`, else fails the call
/// with its errno. `InSet` compares the low 32 bits (the ruled arguments
/// are C ints, which the kernel truncates too); `MaskClear` the full
/// 64-bit argument.
fn arg_rule(asm: &mut Asm, r: &ArgRule, passed: Label) -> Result<(), GenError> {
    let failed = asm.label();
    match r.kind {
        ArgRuleKind::InSet(values) => {
            asm.load_arg(r.arg, false);
            match r.when {
                None => asm.in_set(&words(values)?, passed, failed),
                // The one value with a rule on another argument too.
                Some(w) => {
                    let (when, others) = (asm.label(), asm.label());
                    asm.jeq(bpfgen::word(w.value)?, when, others);
                    asm.place(others);
                    asm.in_set(&words(values)?, passed, failed);
                    asm.place(when);
                    asm.load_arg(w.arg, false);
                    asm.in_set(&words(w.values)?, passed, failed);
                }
            }
        }
        ArgRuleKind::MaskClear(mask) => {
            let (low, high) = (mask as u32, (mask >> 32) as u32);
            match (low != 0, high != 0) {
                (true, true) => {
                    let next = asm.label();
                    asm.load_arg(r.arg, false);
                    asm.jset(low, failed, next);
                    asm.place(next);
                    asm.load_arg(r.arg, true);
                    asm.jset(high, failed, passed);
                }
                (true, false) => {
                    asm.load_arg(r.arg, false);
                    asm.jset(low, failed, passed);
                }
                (false, true) => {
                    asm.load_arg(r.arg, true);
                    asm.jset(high, failed, passed);
                }
                (false, false) => asm.jump(passed),
            }
        }
    }
    asm.place(failed);
    asm.ret(errno_action(r.else_errno));
    Ok(())
}

fn words(values: &[u64]) -> Result<Vec<u32>, GenError> {
    values.iter().map(|&v| bpfgen::word(v)).collect()
}

fn errno_action(e: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | (e as u32 & libc::SECCOMP_RET_DATA)
}

/// The filter action that sends a syscall to the sentry on `mode`'s
/// platform. Every row that the sentry must see uses this, so the two
/// platforms differ in nothing else.
pub fn to_sentry_action(mode: NotifyMode) -> u32 {
    match mode {
        NotifyMode::UserNotif => libc::SECCOMP_RET_USER_NOTIF,
        NotifyMode::Trace => libc::SECCOMP_RET_TRACE | TRACE_MAGIC,
    }
}

/// `SECCOMP_RET_DATA` of the ptrace platform's reserved-fd filter for a
/// close_range that covers the reserved fd: the platform itself closes the
/// rest of the range.
pub const RESERVED_FD_TRACE: u32 = 0x7274;

/// The extra filter of the ptrace platform: the workload keeps the
/// sentry's fd-passing socket at `fd` (see `platform::ptrace`), so the
/// calls that would close or replace it fail with EBADF, as for an fd
/// that is not open: close(fd) and fcntl on it (FD_CLOEXEC would lose it
/// at the next exec) in the kernel; dup2/dup3 onto it go to the tracer,
/// which refuses them (and runs its own, giving a new process its private
/// channel). A close_range that covers it goes to the tracer, which closes
/// the range around it (`closefrom(3)` is common).
/// Only these rows read arguments; every other verdict stays cacheable.
pub fn reserved_fd_filters(fd: i32) -> Result<Vec<Vec<libc::sock_filter>>, FilterError> {
    let fd = fd as u64;
    let eq = |arg| {
        vec![rule(vec![cond(
            arg,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Eq,
            fd,
        )])]
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    rules.insert(libc::SYS_close, eq(0));
    rules.insert(libc::SYS_fcntl, eq(0));
    let mut stack = compile(
        "reserved fd",
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EBADF as u32),
    )?;
    // Traced rather than refused: the sentry refuses them (EBADF) when
    // the workload makes them, and lets its own injected dup3 onto the
    // reserved fd (a new process's private channel) run.
    let mut covering: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    covering.insert(libc::SYS_dup2, eq(1));
    covering.insert(libc::SYS_dup3, eq(1));
    covering.insert(
        libc::SYS_close_range,
        vec![rule(vec![
            cond(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Le, fd),
            cond(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Ge, fd),
        ])],
    );
    Ok(vec![
        std::mem::take(&mut stack),
        compile(
            "reserved fd close_range",
            covering,
            SeccompAction::Allow,
            SeccompAction::Trace(RESERVED_FD_TRACE),
        )?,
    ])
}

/// The ptrace platform's own rules, from the table's `on_ptrace` keys:
/// one filter per errno refusing those calls in the kernel (never logged,
/// like the denied rows marked `in_kernel`). The sentry traces every workload task
/// there, so a workload's own ptrace cannot work (EPERM at once rather
/// than a tracer that waits for stops it never gets), and a clone with
/// CLONE_UNTRACED would start a task the sentry does not trace, whose
/// emulated calls then fail with ENOSYS. Installed after the workload
/// stack; an ERRNO beats its TRACE and ALLOW verdicts whatever the order.
pub fn ptrace_platform_filters() -> Result<Vec<Vec<libc::sock_filter>>, FilterError> {
    let mut by_errno: BTreeMap<i32, BTreeMap<i64, Vec<SeccompRule>>> = BTreeMap::new();
    for row in SYSCALLS {
        let Some(p) = row.on_ptrace else { continue };
        let rules = match p.mask {
            None => Vec::new(),
            // Any bit of the mask set: one rule per bit.
            Some((arg, mask)) => (0..64)
                .map(|bit| 1u64 << bit)
                .filter(|b| mask & b != 0)
                .map(|b| {
                    rule(vec![cond(
                        arg,
                        SeccompCmpArgLen::Qword,
                        SeccompCmpOp::MaskedEq(b),
                        b,
                    )])
                })
                .collect(),
        };
        by_errno
            .entry(p.errno)
            .or_default()
            .insert(i64::from(row.nr), rules);
    }
    by_errno
        .into_iter()
        .map(|(e, rules)| {
            compile(
                &format!("ptrace platform errno {e}"),
                rules,
                SeccompAction::Allow,
                SeccompAction::Errno(e as u32),
            )
        })
        .collect()
}

/// Installs `filters` in order on the calling thread. Must run after
/// `prctl(PR_SET_NO_NEW_PRIVS, 1)` (or with CAP_SYS_ADMIN). The last filter
/// is installed with `SECCOMP_FILTER_FLAG_NEW_LISTENER` when it returns
/// `SECCOMP_RET_USER_NOTIF` (i.e. it was built with
/// [`NotifyMode::UserNotif`]); the listener fd is then returned.
///
/// Does not allocate, so it may run in a child between fork and exec.
pub fn install(filters: &[Vec<libc::sock_filter>]) -> Result<Option<OwnedFd>, FilterError> {
    install_with_flags(filters, 0)
}

/// `install` with extra SECCOMP_FILTER_FLAG_* bits on every filter (a
/// spec's profile may ask for FLAG_LOG or FLAG_SPEC_ALLOW).
pub fn install_with_flags(
    filters: &[Vec<libc::sock_filter>],
    extra_flags: libc::c_ulong,
) -> Result<Option<OwnedFd>, FilterError> {
    for (index, prog) in filters.iter().enumerate() {
        if prog.is_empty() || prog.len() > usize::from(u16::MAX) {
            return Err(FilterError::BadProgram {
                index,
                len: prog.len(),
            });
        }
    }
    let mut listener = None;
    for (index, prog) in filters.iter().enumerate() {
        let last = index + 1 == filters.len();
        let wants_listener = last
            && prog
                .iter()
                .any(|i| i.code == BPF_RET_K && i.k == libc::SECCOMP_RET_USER_NOTIF);
        let flags: libc::c_ulong = extra_flags
            | if wants_listener {
                libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
            } else {
                0
            };
        let fd = if wants_listener {
            // Once the sentry has received a call, only a fatal signal
            // interrupts the caller's wait: Linux completes stat, uname
            // or exit_group whatever signals arrive, and a handler
            // without SA_RESTART would otherwise see EINTR from calls
            // that never return it, or make no progress at all under a
            // storm of signals. Kernels before 5.19 lack the flag.
            match crate::sentry::sys::seccomp_set_mode_filter(
                prog,
                flags | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
            ) {
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    crate::sentry::sys::seccomp_set_mode_filter(prog, flags)
                }
                r => r,
            }
        } else {
            crate::sentry::sys::seccomp_set_mode_filter(prog, flags)
        }
        .map_err(|source| FilterError::Install { index, source })?;
        if wants_listener {
            listener = fd;
        }
    }
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentry::bpf::{self, SeccompData};
    use crate::table::{row, ArgWhen, EmulateIf};

    const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;

    fn data(nr: u32, arch: u32, arg: Option<(u8, u64)>) -> SeccompData {
        let mut args = [0u64; 6];
        if let Some((i, v)) = arg {
            args[usize::from(i)] = v;
        }
        data_with_args(nr, arch, args)
    }

    fn data_with_args(nr: u32, arch: u32, args: [u64; 6]) -> SeccompData {
        SeccompData {
            nr: nr as i32,
            arch,
            instruction_pointer: 0x7fff_1234_5678,
            args,
        }
    }

    fn errno(e: i32) -> u32 {
        libc::SECCOMP_RET_ERRNO | e as u32
    }

    /// Arguments that pass / fail a rule.
    fn samples(r: &ArgRule) -> (Vec<u64>, Vec<u64>) {
        match r.kind {
            ArgRuleKind::InSet(values) => {
                let mut good: Vec<u64> = values.to_vec();
                // the upper half is ignored, like the kernel's int truncation
                good.extend(values.iter().map(|v| v | 0xffff_ffff_0000_0000));
                let mut bad: Vec<u64> = (0..64u64)
                    .chain([0x5412, 0xdead_beef, 0xffff_fffe])
                    .filter(|v| !values.contains(v))
                    .collect();
                bad.extend(values.iter().map(|v| v ^ 0x8000_0000));
                bad.retain(|v| !values.contains(&(v & 0xffff_ffff)));
                (good, bad)
            }
            ArgRuleKind::MaskClear(mask) => {
                let good = vec![0, !mask, 0x0011, 0x003d_0f00 & !mask];
                let bad = (0..64)
                    .map(|b| 1u64 << b)
                    .filter(|b| mask & b != 0)
                    .flat_map(|b| [b, b | 0x11, mask])
                    .collect();
                (good, bad)
            }
        }
    }

    /// A row whose calls go to the sentry only for some argument values:
    /// exactly the calls with every ruled argument in its set are sent.
    fn check_emulate_if(stack: &[Vec<libc::sock_filter>], nr: u32, e: &EmulateIf, notified: u32) {
        let mut args_of = Vec::new();
        for &v in e.values.iter().chain(&[0x7777_7777]) {
            let mut a = [0u64; 6];
            a[usize::from(e.arg)] = v;
            match e.also {
                None => args_of.push(a),
                Some((arg, values)) => {
                    for &w in values.iter().chain(&[0x7777_7777]) {
                        a[usize::from(arg)] = w;
                        args_of.push(a);
                    }
                }
            }
        }
        for args in args_of {
            let d = data_with_args(nr, AUDIT_ARCH_X86_64, args);
            let want = if e.matches_args(&args) {
                notified
            } else {
                ALLOW
            };
            assert_eq!(bpf::verdict(stack, &d), want, "nr {nr} {args:x?}");
        }
    }

    /// The `when` rule of a conditional row: with the ruled argument at
    /// its value, exactly the other argument's values pass (both halves
    /// of each register are ignored but the low one).
    fn check_when(stack: &[Vec<libc::sock_filter>], nr: u32, r: &ArgRule, w: &ArgWhen) {
        let mut others: Vec<u64> = w.values.to_vec();
        others.extend(w.values.iter().map(|x| x | 0xffff_ffff_0000_0000));
        others.extend([1, 2, 9, 15, 0x7777_7777, 0xffff_ffff]);
        for x in others {
            let mut args = [0u64; 6];
            args[usize::from(r.arg)] = w.value;
            args[usize::from(w.arg)] = x;
            let want = if r.allows_args(&args) {
                ALLOW
            } else {
                errno(r.else_errno)
            };
            assert_eq!(w.values.contains(&(x & 0xffff_ffff)), want == ALLOW);
            let d = data_with_args(nr, AUDIT_ARCH_X86_64, args);
            assert_eq!(bpf::verdict(stack, &d), want, "nr {nr} {args:x?}");
        }
    }

    fn check_stack(mode: NotifyMode) {
        let stack = workload_filters(mode).unwrap();
        assert_eq!(stack.len(), 1);
        for prog in &stack {
            assert!(prog.len() < 4096);
        }
        let notified = match mode {
            NotifyMode::UserNotif => libc::SECCOMP_RET_USER_NOTIF,
            NotifyMode::Trace => libc::SECCOMP_RET_TRACE | TRACE_MAGIC,
        };
        for nr in 0..=470u32 {
            let d = data(nr, AUDIT_ARCH_X86_64, None);
            let got = bpf::verdict(&stack, &d);
            let Some(r) = row(nr) else {
                assert_eq!(got, errno(libc::ENOSYS), "unlisted nr {nr}");
                continue;
            };
            match r.disposition {
                Disposition::Passthrough(None) => {
                    let want = match r.emulate_if {
                        Some(e) if e.matches_args(&[0; 6]) => notified,
                        _ => ALLOW,
                    };
                    assert_eq!(got, want, "{}", r.name);
                    if let Some(e) = r.emulate_if {
                        check_emulate_if(&stack, nr, &e, notified);
                    }
                }
                Disposition::Passthrough(Some(rule)) => {
                    let (good, bad) = samples(&rule);
                    for v in good {
                        assert!(rule.allows(v));
                        let d = data(nr, AUDIT_ARCH_X86_64, Some((rule.arg, v)));
                        let want = match r.emulate_if {
                            Some(e) if e.arg == rule.arg && e.matches(v) => notified,
                            _ => ALLOW,
                        };
                        assert_eq!(bpf::verdict(&stack, &d), want, "{} {v:#x}", r.name);
                    }
                    if let Some(e) = r.emulate_if {
                        for &v in e.values {
                            assert!(rule.allows(v), "{} {v:#x}", r.name);
                            let d = data(nr, AUDIT_ARCH_X86_64, Some((e.arg, v)));
                            assert_eq!(bpf::verdict(&stack, &d), notified, "{} {v:#x}", r.name);
                        }
                    }
                    if let Some(w) = rule.when {
                        check_when(&stack, nr, &rule, &w);
                    }
                    for v in bad {
                        assert!(!rule.allows(v), "{} {v:#x}", r.name);
                        let d = data(nr, AUDIT_ARCH_X86_64, Some((rule.arg, v)));
                        assert_eq!(
                            bpf::verdict(&stack, &d),
                            errno(rule.else_errno),
                            "{} {v:#x}",
                            r.name
                        );
                    }
                }
                Disposition::Denied { errno: e } if r.in_kernel => {
                    assert_eq!(got, errno(e), "{}", r.name)
                }
                Disposition::Emulated { .. } | Disposition::Denied { .. } => {
                    assert_eq!(got, notified, "{}", r.name)
                }
            }
            // Arguments are read only for conditional rows (per-nr cache),
            // and the search is short for every number.
            let conditional = matches!(r.disposition, Disposition::Passthrough(Some(_)))
                || r.emulate_if.is_some();
            let run = bpf::try_run(&stack[0], &d).unwrap();
            assert_eq!(run.read_args, conditional, "{}", r.name);
            if !conditional {
                assert!(run.steps <= 16, "{}: {} instructions", r.name, run.steps);
            }
            // x32 numbers are not in the table: ENOSYS.
            let x32 = data(nr | X32_SYSCALL_BIT, AUDIT_ARCH_X86_64, None);
            assert_eq!(bpf::verdict(&stack, &x32), errno(libc::ENOSYS), "x32 {nr}");
            // A foreign architecture is killed.
            let i386 = data(nr, AUDIT_ARCH_I386, None);
            assert_eq!(
                bpf::verdict(&stack, &i386),
                libc::SECCOMP_RET_KILL_PROCESS,
                "i386 {nr}"
            );
        }
        for nr in [471u32, 512, 1000, 0xffff, u32::MAX] {
            let d = data(nr, AUDIT_ARCH_X86_64, None);
            assert_eq!(bpf::verdict(&stack, &d), errno(libc::ENOSYS), "{nr}");
        }
    }

    #[test]
    fn stack_matches_table_user_notif() {
        check_stack(NotifyMode::UserNotif);
    }

    #[test]
    fn stack_matches_table_trace() {
        check_stack(NotifyMode::Trace);
    }

    #[test]
    fn the_platforms_differ_only_in_the_sentrys_action() {
        let n = workload_filters(NotifyMode::UserNotif).unwrap();
        let t = workload_filters(NotifyMode::Trace).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].len(), t[0].len());
        let mut sent = 0;
        for (a, b) in n[0].iter().zip(&t[0]) {
            if a.code == BPF_RET_K && a.k == libc::SECCOMP_RET_USER_NOTIF {
                assert_eq!(
                    (b.code, b.k),
                    (BPF_RET_K, libc::SECCOMP_RET_TRACE | TRACE_MAGIC)
                );
                sent += 1;
            } else {
                assert_eq!((a.code, a.jt, a.jf, a.k), (b.code, b.jt, b.jf, b.k));
            }
        }
        assert!(sent > 0);
    }

    #[test]
    fn reserved_fd_filter_refuses_only_the_reserved_fd() {
        let f = reserved_fd_filters(1023).unwrap();
        let call = |nr: i64, args: [u64; 2]| {
            let mut d = data(nr as u32, AUDIT_ARCH_X86_64, None);
            d.args[0] = args[0];
            d.args[1] = args[1];
            bpf::verdict(&f, &d)
        };
        let ebadf = errno(libc::EBADF);
        assert_eq!(call(libc::SYS_close, [1023, 0]), ebadf);
        assert_eq!(call(libc::SYS_close, [1022, 0]), ALLOW);
        assert_eq!(call(libc::SYS_fcntl, [1023, 2]), ebadf);
        let traced = libc::SECCOMP_RET_TRACE | RESERVED_FD_TRACE;
        assert_eq!(call(libc::SYS_dup2, [1, 1023]), traced);
        assert_eq!(call(libc::SYS_dup2, [1023, 5]), ALLOW);
        assert_eq!(call(libc::SYS_dup3, [1, 1023]), traced);
        assert_eq!(
            call(libc::SYS_close_range, [3, u32::MAX as u64]),
            libc::SECCOMP_RET_TRACE | RESERVED_FD_TRACE
        );
        assert_eq!(call(libc::SYS_close_range, [3, 1022]), ALLOW);
        assert_eq!(call(libc::SYS_close_range, [1024, u32::MAX as u64]), ALLOW);
        assert_eq!(call(libc::SYS_read, [1023, 0]), ALLOW);
    }

    /// The ptrace platform's stack: the table's `on_ptrace` calls fail
    /// with their errno, everything else keeps the workload stack's verdict.
    #[test]
    fn ptrace_platform_filter_refuses_ptrace_and_untraced_clones() {
        let mut stack = workload_filters(NotifyMode::Trace).unwrap();
        let extra = ptrace_platform_filters().unwrap();
        assert!(!extra.is_empty());
        stack.extend(extra);
        let base = workload_filters(NotifyMode::Trace).unwrap();
        let eperm = errno(libc::EPERM);
        let verdict = |s: &[Vec<libc::sock_filter>], nr: i64, a0: u64| {
            bpf::verdict(s, &data(nr as u32, AUDIT_ARCH_X86_64, Some((0, a0))))
        };
        for req in [0u64, 16, 0x4206, 24] {
            assert_eq!(verdict(&stack, libc::SYS_ptrace, req), eperm);
            assert_eq!(verdict(&base, libc::SYS_ptrace, req), ALLOW);
        }
        let untraced = libc::CLONE_UNTRACED as u64;
        let thread = (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_FILES) as u64;
        assert_eq!(verdict(&stack, libc::SYS_clone, thread | untraced), eperm);
        assert_eq!(
            verdict(&stack, libc::SYS_clone, untraced | (1 << 40)),
            eperm
        );
        assert_eq!(verdict(&base, libc::SYS_clone, thread | untraced), ALLOW);
        assert_eq!(verdict(&stack, libc::SYS_clone, thread), ALLOW);
        assert_eq!(
            verdict(&stack, libc::SYS_clone, libc::SIGCHLD as u64),
            ALLOW
        );
        // Every other row keeps its verdict (the table says which rows
        // have an `on_ptrace` rule; the rest are untouched).
        for nr in 0..=470u32 {
            for a0 in [0u64, untraced, 0x4206] {
                let args = [a0, 0, 0, 0, 0, 0];
                let d = data_with_args(nr, AUDIT_ARCH_X86_64, args);
                let want = match row(nr).and_then(|r| r.on_ptrace) {
                    Some(p) if p.refuses(&args) => errno(p.errno),
                    _ => bpf::verdict(&base, &d),
                };
                assert_eq!(bpf::verdict(&stack, &d), want, "nr {nr} arg0 {a0:#x}");
            }
        }
    }

    fn last_errno() -> i32 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    }

    /// Runs in the forked child; returns the exit code (0 = all good).
    fn child(filters: &[Vec<libc::sock_filter>], bpf_errno: i32) -> i32 {
        // SAFETY: plain prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return 10;
        }
        match install(filters) {
            Ok(Some(listener)) => drop(listener), // no supervisor here: close it
            Ok(None) => return 11,
            Err(_) => return 12,
        }
        // Denied: bpf() goes to the sentry (which answers the table's errno,
        // see tests/escape.rs); with the listener gone the kernel answers
        // ENOSYS, never lets it through.
        // SAFETY: bpf(BPF_MAP_CREATE, NULL, 0) never reaches the kernel; even
        // if it did, a NULL attr only yields EFAULT.
        let r = unsafe { libc::syscall(libc::SYS_bpf, 0, std::ptr::null::<u8>(), 0) };
        if r != -1 || last_errno() != libc::ENOSYS || bpf_errno == libc::ENOSYS {
            return 13;
        }
        // Unlisted numbers: ENOSYS (a gap, beyond the table, an x32 number).
        for nr in [400, 1000, 0x4000_0027] {
            // SAFETY: syscall numbers the filter rejects; no arguments used.
            let r = unsafe { libc::syscall(nr) };
            if r != -1 || last_errno() != libc::ENOSYS {
                return 14;
            }
        }
        // Conditional passthrough: netlink sockets other than
        // NETLINK_ROUTE, unlisted families and TIOCSTI are refused.
        for (family, protocol) in [
            (libc::AF_NETLINK, libc::NETLINK_AUDIT),
            (libc::AF_NETLINK, libc::NETLINK_KOBJECT_UEVENT),
            (libc::AF_VSOCK, 0),
        ] {
            // SAFETY: socket() with integer arguments.
            let r = unsafe { libc::socket(family, libc::SOCK_RAW, protocol) };
            if r != -1 || last_errno() != libc::EAFNOSUPPORT {
                return 15;
            }
        }
        // SAFETY: socket() with integer arguments; the fd is closed below.
        let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE) };
        if fd < 0 {
            return 19;
        }
        // SAFETY: `fd` was just returned by socket() and is owned here.
        unsafe { libc::close(fd) };
        let c = 0u8;
        // SAFETY: TIOCSTI would read one byte from `c`; it is refused anyway.
        let r = unsafe { libc::ioctl(0, libc::TIOCSTI, &c as *const u8) };
        if r != -1 || last_errno() != libc::ENOTTY {
            return 16;
        }
        // Passthrough: getpid and an AF_UNIX socket work.
        // SAFETY: getpid has no preconditions.
        if unsafe { libc::getpid() } <= 0 {
            return 17;
        }
        // SAFETY: socket() with integer arguments; the fd is closed below.
        let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) };
        if fd < 0 {
            return 18;
        }
        // SAFETY: `fd` was just returned by socket() and is owned here.
        unsafe { libc::close(fd) };
        0
    }

    #[test]
    fn install_in_forked_child() {
        use nix::sys::wait::{waitpid, WaitStatus};
        use nix::unistd::{fork, ForkResult};

        let filters = workload_filters(NotifyMode::UserNotif).unwrap();
        let bpf_errno = match crate::table::by_name("bpf").unwrap().disposition {
            Disposition::Denied { errno } => errno,
            d => panic!("bpf is {d:?}"),
        };
        // SAFETY: the child only makes raw syscalls (no allocation, no
        // locks: `install` does not allocate) and leaves with _exit.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                let code = child(&filters, bpf_errno);
                // SAFETY: terminate the child without running the parent's
                // atexit handlers or test harness.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => {
                let status = waitpid(child, None).unwrap();
                assert_eq!(status, WaitStatus::Exited(child, 0), "child exit code");
            }
        }
    }
}
