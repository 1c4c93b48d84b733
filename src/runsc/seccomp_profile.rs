//! The spec's own seccomp profile (`linux.seccomp`: Docker's default, or
//! `--security-opt seccomp=…`), compiled with seccompiler into filters
//! installed in the workload next to runrs's own. The kernel runs every
//! filter and takes the most precedent action (KILL > TRAP > ERRNO >
//! USER_NOTIF > TRACE > LOG > ALLOW), so a call the profile denies fails
//! with the profile's errno even when runrs would emulate it, and a call
//! it allows still goes through runrs's table.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use serde::Deserialize;

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

/// Actions as a comparable key (seccompiler's SeccompAction is not Ord).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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

    fn seccompiler(self) -> SeccompAction {
        match self {
            Action::Allow => SeccompAction::Allow,
            Action::Errno(e) => SeccompAction::Errno(e),
            Action::KillThread => SeccompAction::KillThread,
            Action::KillProcess => SeccompAction::KillProcess,
            Action::Trap => SeccompAction::Trap,
            Action::Trace(d) => SeccompAction::Trace(d),
            Action::Log => SeccompAction::Log,
        }
    }
}

fn condition(a: &Arg, what: &str) -> Result<SeccompCondition> {
    if a.index > 5 {
        return Err(err(format!(
            "{what}: argument index {} is not 0..5",
            a.index
        )));
    }
    let (op, value) = match a.op.as_str() {
        "SCMP_CMP_EQ" => (SeccompCmpOp::Eq, a.value),
        "SCMP_CMP_NE" => (SeccompCmpOp::Ne, a.value),
        "SCMP_CMP_LT" => (SeccompCmpOp::Lt, a.value),
        "SCMP_CMP_LE" => (SeccompCmpOp::Le, a.value),
        "SCMP_CMP_GT" => (SeccompCmpOp::Gt, a.value),
        "SCMP_CMP_GE" => (SeccompCmpOp::Ge, a.value),
        // (arg & value) == valueTwo
        "SCMP_CMP_MASKED_EQ" => (SeccompCmpOp::MaskedEq(a.value), a.value_two),
        other => return Err(err(format!("{what}: unknown operator {other:?}"))),
    };
    SeccompCondition::new(a.index, SeccompCmpArgLen::Qword, op, value)
        .map_err(|e| err(format!("{what}: {e}")))
}

fn build(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: Action,
    matched: Action,
) -> Result<Vec<libc::sock_filter>> {
    let arch = TargetArch::x86_64;
    let filter = SeccompFilter::new(rules, mismatch.seccompiler(), matched.seccompiler(), arch)
        .map_err(|e| err(format!("build filter: {e}")))?;
    let prog: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| err(format!("build filter: {e}")))?;
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
    let default_errno = profile.default_errno_ret.unwrap_or(libc::EPERM as u32);
    let default = Action::parse(
        &profile.default_action,
        profile.default_errno_ret,
        default_errno,
        "defaultAction",
    )?;
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
    let mut per_action: BTreeMap<Action, BTreeMap<i64, Vec<SeccompRule>>> = BTreeMap::new();
    let mut listed: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let mut unconditional: std::collections::BTreeSet<i64> = Default::default();
    for (i, rule) in profile.syscalls.iter().enumerate() {
        let what = format!("syscalls[{i}] ({})", rule.names.join(","));
        let action = Action::parse(&rule.action, rule.errno_ret, default_errno, &what)?;
        let conditions = rule
            .args
            .iter()
            .map(|a| condition(a, &what))
            .collect::<Result<Vec<_>>>()?;
        for name in &rule.names {
            let Some(row) = crate::table::by_name(name) else {
                continue;
            };
            let nr = i64::from(row.nr);
            let seccomp_rule = if conditions.is_empty() {
                None
            } else {
                Some(
                    SeccompRule::new(conditions.clone())
                        .map_err(|e| err(format!("{what}: {e}")))?,
                )
            };
            match &seccomp_rule {
                None => {
                    unconditional.insert(nr);
                }
                Some(r) => listed.entry(nr).or_default().push(r.clone()),
            }
            if action != default {
                use std::collections::btree_map::Entry;
                let entry = per_action.entry(action).or_default();
                match (entry.entry(nr), seccomp_rule) {
                    // No conditions: the call always takes this action.
                    (Entry::Occupied(mut o), None) => o.get_mut().clear(),
                    (Entry::Vacant(v), None) => {
                        v.insert(vec![]);
                    }
                    // Already unconditional: further conditions add nothing.
                    (Entry::Occupied(o), Some(_)) if o.get().is_empty() => {}
                    (Entry::Occupied(mut o), Some(r)) => o.get_mut().push(r),
                    (Entry::Vacant(v), Some(r)) => {
                        v.insert(vec![r]);
                    }
                }
            }
        }
    }
    let mut filters = Vec::new();
    // 1. What the profile does not list (or whose conditions all fail)
    //    gets the default action.
    if default != Action::Allow {
        let mut rules = listed;
        for nr in &unconditional {
            rules.insert(*nr, vec![]);
        }
        filters.push(build(rules, default, Action::Allow)?);
    }
    // 2. One filter per other action for the calls that ask for it.
    for (action, rules) in per_action {
        if action == Action::Allow || rules.is_empty() {
            continue;
        }
        filters.push(build(rules, Action::Allow, action)?);
    }
    Ok(Compiled { filters, flags })
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
    fn errno(e: i32) -> u32 {
        libc::SECCOMP_RET_ERRNO | e as u32
    }

    #[test]
    fn docker_default_profile_compiles_and_behaves() {
        // Docker 20.10's default profile as captured in a config.json.
        let profile: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/docker-seccomp.json"))
                .expect("json");
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
