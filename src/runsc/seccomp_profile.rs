//! The spec's own seccomp profile (`linux.seccomp`: Docker's default, or
//! `--security-opt seccomp=…`), compiled into one filter (a binary search
//! over the syscall number, [`crate::sentry::bpfgen`]) installed in the
//! workload next to runrs's own. The kernel runs both filters and takes
//! the most precedent action (KILL > TRAP > ERRNO > USER_NOTIF > TRACE >
//! LOG > ALLOW), so a call the profile denies fails with the profile's
//! errno even when runrs would emulate it, and a call it allows still
//! goes through runrs's table. Every emulated call runs this filter too,
//! so it must be short on every path, as runrs's own is.
//!
//! Within the profile, a call takes the most precedent action among the
//! rules that match it (all of a rule's argument conditions hold), else
//! the default action. A rule whose action is the default one is skipped,
//! as runc and youki do (libseccomp refuses it).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::sentry::bpfgen::{self, Asm, Label, Verdict};

use super::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: String,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    listener_path: Option<String>,
    #[serde(default)]
    syscalls: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    names: Vec<String>,
    action: String,
    #[serde(default)]
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Vec<Arg>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Arg {
    index: u8,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

impl Profile {
    /// The errno of an SCMP_ACT_ERRNO without its own (EPERM unless the
    /// profile says), and the default action.
    fn defaults(&self) -> Result<(u32, Action)> {
        let errno = self.default_errno_ret.unwrap_or(libc::EPERM as u32);
        let action = Action::parse(
            &self.default_action,
            self.default_errno_ret,
            errno,
            "defaultAction",
        )?;
        Ok((errno, action))
    }
}

/// The profile as filters (install order) and the filter flags it asks for.
pub struct Compiled {
    pub filters: Vec<Vec<libc::sock_filter>>,
    pub flags: libc::c_ulong,
}

fn err(msg: String) -> Error {
    Error::Spec {
        field: "linux.seccomp",
        msg,
    }
}

/// A profile's action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Allow,
    Errno(u32),
    KillThread,
    KillProcess,
    Trap,
    Trace(u32),
    Log,
}

impl Action {
    fn parse(name: &str, errno: Option<u32>, default_errno: u32, what: &str) -> Result<Action> {
        Ok(match name {
            "SCMP_ACT_ALLOW" => Action::Allow,
            "SCMP_ACT_ERRNO" => Action::Errno(errno.unwrap_or(default_errno)),
            "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
            "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
            "SCMP_ACT_TRAP" => Action::Trap,
            "SCMP_ACT_TRACE" => Action::Trace(errno.unwrap_or(0)),
            "SCMP_ACT_LOG" => Action::Log,
            "SCMP_ACT_NOTIFY" => {
                return Err(err(format!(
                    "{what}: SCMP_ACT_NOTIFY needs a seccomp agent, which runrs does not support (its sentry owns the workload's listener)"
                )))
            }
            other => return Err(err(format!("{what}: unknown action {other:?}"))),
        })
    }

    fn ret(self) -> u32 {
        match self {
            Action::Allow => libc::SECCOMP_RET_ALLOW,
            Action::Errno(e) => libc::SECCOMP_RET_ERRNO | (e & libc::SECCOMP_RET_DATA),
            Action::KillThread => libc::SECCOMP_RET_KILL_THREAD,
            Action::KillProcess => libc::SECCOMP_RET_KILL_PROCESS,
            Action::Trap => libc::SECCOMP_RET_TRAP,
            Action::Trace(d) => libc::SECCOMP_RET_TRACE | (d & libc::SECCOMP_RET_DATA),
            Action::Log => libc::SECCOMP_RET_LOG,
        }
    }

    /// The order in which a call's matching rules are tried: the kernel's
    /// precedence of actions, and among actions of one kind the larger
    /// data first (as when each had a filter of its own, installed in
    /// increasing order).
    fn precedence(self) -> (i32, std::cmp::Reverse<u32>) {
        let ret = self.ret();
        (
            (ret & libc::SECCOMP_RET_ACTION_FULL) as i32,
            std::cmp::Reverse(ret & libc::SECCOMP_RET_DATA),
        )
    }
}

/// One argument condition: the full 64-bit argument compared with an
/// operator, as libseccomp does on a 64-bit architecture.
#[derive(Clone, Copy)]
enum Condition {
    Eq(u64),
    Ne(u64),
    Lt(u64),
    Le(u64),
    Gt(u64),
    Ge(u64),
    /// `(arg & mask) == value`
    MaskedEq {
        mask: u64,
        value: u64,
    },
}

fn condition(a: &Arg, what: &str) -> Result<(u8, Condition)> {
    if a.index > 5 {
        return Err(err(format!(
            "{what}: argument index {} is not 0..5",
            a.index
        )));
    }
    let c = match a.op.as_str() {
        "SCMP_CMP_EQ" => Condition::Eq(a.value),
        "SCMP_CMP_NE" => Condition::Ne(a.value),
        "SCMP_CMP_LT" => Condition::Lt(a.value),
        "SCMP_CMP_LE" => Condition::Le(a.value),
        "SCMP_CMP_GT" => Condition::Gt(a.value),
        "SCMP_CMP_GE" => Condition::Ge(a.value),
        // (arg & value) == valueTwo
        "SCMP_CMP_MASKED_EQ" => Condition::MaskedEq {
            mask: a.value,
            value: a.value_two,
        },
        other => return Err(err(format!("{what}: unknown operator {other:?}"))),
    };
    Ok((a.index, c))
}

fn halves(v: u64) -> (u32, u32) {
    ((v >> 32) as u32, v as u32)
}

/// Goes to `holds` when argument `arg` meets `c`, else to `fails`.
fn emit_condition(asm: &mut Asm, arg: u8, c: Condition, holds: Label, fails: Label) {
    // To `yes` if the argument > v (>= v when `or_equal`), else to `no`.
    let compare = |asm: &mut Asm, v: u64, or_equal: bool, yes: Label, no: Label| {
        let (high, low) = halves(v);
        let same_high = asm.label();
        let not_above = asm.label();
        asm.load_arg(arg, true);
        asm.jgt(high, yes, not_above);
        asm.place(not_above);
        asm.jeq(high, same_high, no);
        asm.place(same_high);
        asm.load_arg(arg, false);
        if or_equal {
            asm.jge(low, yes, no);
        } else {
            asm.jgt(low, yes, no);
        }
    };
    match c {
        Condition::Eq(v) | Condition::Ne(v) => {
            let (yes, no) = match c {
                Condition::Eq(_) => (holds, fails),
                _ => (fails, holds),
            };
            let (high, low) = halves(v);
            let same_high = asm.label();
            asm.load_arg(arg, true);
            asm.jeq(high, same_high, no);
            asm.place(same_high);
            asm.load_arg(arg, false);
            asm.jeq(low, yes, no);
        }
        Condition::Gt(v) => compare(asm, v, false, holds, fails),
        Condition::Ge(v) => compare(asm, v, true, holds, fails),
        Condition::Le(v) => compare(asm, v, false, fails, holds),
        Condition::Lt(v) => compare(asm, v, true, fails, holds),
        Condition::MaskedEq { mask, value } => {
            let (mask_high, mask_low) = halves(mask);
            let (value_high, value_low) = halves(value);
            let same_high = asm.label();
            asm.load_arg(arg, true);
            asm.and(mask_high);
            asm.jeq(value_high, same_high, fails);
            asm.place(same_high);
            asm.load_arg(arg, false);
            asm.and(mask_low);
            asm.jeq(value_low, holds, fails);
        }
    }
}

/// One syscall's rules: each with its action and the argument conditions
/// that must all hold.
type CallRules = Vec<(Action, Vec<(u8, Condition)>)>;

/// The verdict for one syscall: its rules tried in order of precedence,
/// the first whose conditions all hold giving its action, else `default`.
fn syscall_verdict(mut rules: CallRules, default: Action) -> Result<Verdict> {
    rules.sort_by_key(|(action, _)| action.precedence());
    // Nothing after an unconditional rule is ever reached: it takes the
    // default's place.
    if let Some(first) = rules.iter().position(|(_, conds)| conds.is_empty()) {
        rules.truncate(first + 1);
    }
    let fallback = match rules.last() {
        Some(&(action, ref conds)) if conds.is_empty() => {
            rules.pop();
            action
        }
        _ => default,
    };
    if rules.is_empty() {
        return Ok(Verdict::Ret(fallback.ret()));
    }
    let mut asm = Asm::new();
    for (action, conds) in &rules {
        let (matched, next_rule) = (asm.label(), asm.label());
        for (i, &(arg, c)) in conds.iter().enumerate() {
            let holds = if i + 1 == conds.len() {
                matched
            } else {
                asm.label()
            };
            emit_condition(&mut asm, arg, c, holds, next_rule);
            if holds != matched {
                asm.place(holds);
            }
        }
        asm.place(matched);
        asm.ret(action.ret());
        asm.place(next_rule);
    }
    asm.ret(fallback.ret());
    asm.finish()
        .map(Verdict::Code)
        .map_err(|e| err(format!("build filter: {e}")))
}

/// Compiles `linux.seccomp`. Names this architecture does not have are
/// skipped, as libseccomp does (Docker's profile lists i386 and arm calls).
pub fn compile(value: &serde_json::Value) -> Result<Compiled> {
    let profile: Profile = serde_path_to_error::deserialize(value.clone())
        .map_err(|e| err(format!("{}: {}", e.path(), e.inner())))?;
    if profile
        .listener_path
        .as_deref()
        .is_some_and(|p| !p.is_empty())
    {
        return Err(err(
            "listenerPath: seccomp agents are not supported (the sentry owns the workload's listener)".into(),
        ));
    }
    let (default_errno, default) = profile.defaults()?;
    let mut flags: libc::c_ulong = 0;
    for f in &profile.flags {
        flags |= match f.as_str() {
            "SECCOMP_FILTER_FLAG_LOG" => libc::SECCOMP_FILTER_FLAG_LOG,
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            // Every thread gets the filter anyway: it is installed before exec.
            "SECCOMP_FILTER_FLAG_TSYNC" => 0,
            other => return Err(err(format!("flags: unsupported {other:?}"))),
        };
    }
    // Per syscall: every rule that names it (with its action).
    let mut per_syscall: BTreeMap<u32, CallRules> = BTreeMap::new();
    for (i, rule) in profile.syscalls.iter().enumerate() {
        let what = format!("syscalls[{i}] ({})", rule.names.join(","));
        let action = Action::parse(&rule.action, rule.errno_ret, default_errno, &what)?;
        let conditions = rule
            .args
            .iter()
            .map(|a| condition(a, &what))
            .collect::<Result<Vec<_>>>()?;
        if action == default {
            continue;
        }
        for name in &rule.names {
            let Some(row) = crate::table::by_name(name) else {
                continue;
            };
            per_syscall
                .entry(row.nr)
                .or_default()
                .push((action, conditions.clone()));
        }
    }
    let numbers = per_syscall
        .into_iter()
        .map(|(nr, rules)| Ok((nr, syscall_verdict(rules, default)?)))
        .collect::<Result<Vec<_>>>()?;
    let filter = bpfgen::by_number(
        crate::sentry::filter::AUDIT_ARCH_X86_64,
        libc::SECCOMP_RET_KILL_PROCESS,
        numbers,
        default.ret(),
    )
    .map_err(|e| err(format!("build filter: {e}")))?;
    Ok(Compiled {
        filters: vec![filter],
        flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentry::bpf;

    fn verdict(c: &Compiled, name: &str, args: [u64; 6]) -> u32 {
        let nr = crate::table::by_name(name).expect("name").nr as i32;
        let data = bpf::SeccompData {
            nr,
            arch: 0xC000_003E,
            instruction_pointer: 0,
            args,
        };
        bpf::verdict(&c.filters, &data)
    }

    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;

    /// Docker 20.10's default profile as captured in a config.json.
    fn docker_profile() -> serde_json::Value {
        serde_json::from_str(include_str!("../../tests/fixtures/docker-seccomp.json"))
            .expect("json")
    }
    fn errno(e: i32) -> u32 {
        libc::SECCOMP_RET_ERRNO | e as u32
    }

    #[test]
    fn docker_default_profile_compiles_and_behaves() {
        let profile = docker_profile();
        let c = compile(&profile).expect("compile");
        assert_eq!(verdict(&c, "read", [0; 6]), ALLOW);
        assert_eq!(verdict(&c, "personality", [0, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(
            verdict(&c, "personality", [0xffff_fffe, 0, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(
            verdict(&c, "clone", [libc::SIGCHLD as u64, 0, 0, 0, 0, 0]),
            ALLOW
        );
        assert_eq!(
            verdict(&c, "clone", [libc::CLONE_NEWNS as u64, 0, 0, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(verdict(&c, "clone3", [0; 6]), errno(libc::ENOSYS));
        assert_eq!(verdict(&c, "kexec_load", [0; 6]), errno(libc::EPERM));
    }

    #[test]
    fn user_profile_with_errnos_and_operators() {
        let p = serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                {"names": ["chmod", "fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9, "args": [{"index": 2, "value": 1, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["no_such_syscall_name"], "action": "SCMP_ACT_KILL"}
            ]
        });
        let c = compile(&p).expect("compile");
        assert_eq!(verdict(&c, "mkdirat", [0; 6]), errno(libc::EPERM));
        assert_eq!(verdict(&c, "fchmodat", [0; 6]), errno(libc::EACCES));
        assert_eq!(verdict(&c, "dup3", [0, 0, 1, 0, 0, 0]), errno(libc::EBADF));
        assert_eq!(verdict(&c, "dup3", [0, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(verdict(&c, "getpid", [0; 6]), ALLOW);
    }

    /// What a profile's rules give a call, evaluated directly: the most
    /// precedent action among the matching rules (a rule whose action is
    /// the default one skipped), else the default.
    fn expected(p: &serde_json::Value, nr: u32, args: [u64; 6]) -> u32 {
        let c = compile(p).expect("compile");
        let profile: Profile = serde_json::from_value(p.clone()).expect("profile");
        let (default_errno, default) = profile.defaults().expect("default");
        let holds = |a: &Arg| {
            let v = args[usize::from(a.index)];
            match a.op.as_str() {
                "SCMP_CMP_EQ" => v == a.value,
                "SCMP_CMP_NE" => v != a.value,
                "SCMP_CMP_LT" => v < a.value,
                "SCMP_CMP_LE" => v <= a.value,
                "SCMP_CMP_GT" => v > a.value,
                "SCMP_CMP_GE" => v >= a.value,
                "SCMP_CMP_MASKED_EQ" => v & a.value == a.value_two,
                op => panic!("{op}"),
            }
        };
        let name = crate::table::row(nr).map(|r| r.name);
        let best = profile
            .syscalls
            .iter()
            .filter(|r| name.is_some_and(|n| r.names.iter().any(|x| x == n)))
            .map(|r| Action::parse(&r.action, r.errno_ret, default_errno, "r").map(|a| (a, r)))
            .filter_map(|x| x.ok())
            .filter(|(a, r)| *a != default && r.args.iter().all(holds))
            .map(|(a, _)| a)
            .min_by_key(|a| a.precedence());
        let want = best.unwrap_or(default).ret();
        let data = bpf::SeccompData {
            nr: nr as i32,
            arch: 0xC000_003E,
            instruction_pointer: 0,
            args,
        };
        assert_eq!(c.filters.len(), 1);
        let run = bpf::try_run(&c.filters[0], &data).expect("runs");
        assert_eq!(run.ret, want, "nr {nr} {args:x?}");
        want
    }

    /// Values around the interesting boundaries of 64-bit comparisons.
    const SAMPLES: [u64; 12] = [
        0,
        1,
        2,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        0x1_0000_0001,
        0x2_0000_0000,
        0x7e02_0000_0000,
        u64::MAX - 1,
        u64::MAX,
    ];

    #[test]
    fn every_operator_compares_all_64_bits() {
        for op in [
            "SCMP_CMP_EQ",
            "SCMP_CMP_NE",
            "SCMP_CMP_LT",
            "SCMP_CMP_LE",
            "SCMP_CMP_GT",
            "SCMP_CMP_GE",
            "SCMP_CMP_MASKED_EQ",
        ] {
            for value in [0u64, 1, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001, u64::MAX] {
                let p = serde_json::json!({
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [
                        {"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9,
                         "args": [{"index": 2, "value": value, "valueTwo": value & 0xffff_0000_ffff, "op": op}]}
                    ]
                });
                for arg in
                    SAMPLES
                        .iter()
                        .chain(&[value, value.wrapping_add(1), value.wrapping_sub(1)])
                {
                    expected(&p, libc::SYS_dup3 as u32, [0, 0, *arg, 0, 0, 0]);
                }
            }
        }
    }

    #[test]
    fn rules_combine_by_precedence_and_the_default_action_is_never_a_rule() {
        let p = serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                {"names": ["getpid", "read", "write"], "action": "SCMP_ACT_ALLOW"},
                // The default action as a rule: mkdir stays refused (it
                // was allowed before, as if the rule were an allow).
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                // Several rules of one call: conditional allows, a
                // conditional errno and a conditional kill.
                {"names": ["mkdirat"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 0o700, "op": "SCMP_CMP_EQ"}]},
                {"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 0, "op": "SCMP_CMP_EQ"}]},
                {"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_GE"}, {"index": 1, "value": 10, "op": "SCMP_CMP_LT"}]},
                {"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9, "args": [{"index": 1, "value": 5, "op": "SCMP_CMP_EQ"}]},
                {"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22, "args": [{"index": 1, "value": 6, "op": "SCMP_CMP_LE"}]},
                {"names": ["dup3"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 2, "value": 0x80000, "valueTwo": 0x80000, "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["dup3"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 7, "op": "SCMP_CMP_EQ"}]}
            ]
        });
        assert_eq!(
            expected(&p, libc::SYS_mkdir as u32, [0; 6]),
            errno(libc::EPERM)
        );
        assert_eq!(
            expected(&p, libc::SYS_mkdirat as u32, [0, 0, 0o700, 0, 0, 0]),
            ALLOW
        );
        assert_eq!(
            expected(&p, libc::SYS_mkdirat as u32, [0, 0, 0o755, 0, 0, 0]),
            errno(libc::EPERM)
        );
        assert_eq!(expected(&p, libc::SYS_getpid as u32, [0; 6]), ALLOW);
        assert_eq!(
            expected(&p, libc::SYS_getppid as u32, [0; 6]),
            errno(libc::EPERM)
        );
        let dup3 = libc::SYS_dup3 as u32;
        for a0 in [0, 3, 7, 9] {
            for a1 in [0, 5, 6, 9, 10] {
                for a2 in [0, 0x80000, 0x1_0008_0000, 1] {
                    expected(&p, dup3, [a0, a1, a2, 0, 0, 0]);
                }
            }
        }
        assert_eq!(
            expected(&p, dup3, [0, 5, 0x80000, 0, 0, 0]),
            libc::SECCOMP_RET_KILL_PROCESS
        );
        assert_eq!(expected(&p, dup3, [0, 5, 0, 0, 0, 0]), errno(22));
        assert_eq!(
            expected(&p, dup3, [7, 50, 1, 0, 0, 0]),
            libc::SECCOMP_RET_LOG
        );
    }

    #[test]
    fn docker_default_profile_matches_its_rules_for_every_syscall() {
        let profile = docker_profile();
        let c = compile(&profile).expect("compile");
        for row in crate::table::SYSCALLS {
            for a in [
                0,
                1,
                libc::CLONE_NEWNS as u64,
                0xffff_ffff,
                0x2_0000_0008,
                u64::MAX,
            ] {
                expected(&profile, row.nr, [a, a, a, 0, 0, 0]);
            }
            let data = bpf::SeccompData {
                nr: row.nr as i32,
                arch: 0xC000_003E,
                instruction_pointer: 0,
                args: [0; 6],
            };
            let run = bpf::try_run(&c.filters[0], &data).expect("runs");
            assert!(
                run.steps <= 20 || run.read_args,
                "{}: {} instructions",
                row.name,
                run.steps
            );
        }
    }

    #[test]
    fn unsupported_parts_are_refused_naming_the_rule() {
        let notify = serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["open"], "action": "SCMP_ACT_NOTIFY"}]});
        let e = compile(&notify).err().expect("refused").to_string();
        assert!(
            e.contains("syscalls[0]") && e.contains("SCMP_ACT_NOTIFY"),
            "{e}"
        );
        let op = serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["open"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BOGUS"}]}]});
        assert!(compile(&op)
            .err()
            .expect("refused")
            .to_string()
            .contains("SCMP_CMP_BOGUS"));
        let bad = serde_json::json!({"defaultAction": 5});
        assert!(compile(&bad)
            .err()
            .expect("refused")
            .to_string()
            .contains("defaultAction"));
        let agent = serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock"});
        assert!(compile(&agent)
            .err()
            .expect("refused")
            .to_string()
            .contains("listenerPath"));
    }
}
