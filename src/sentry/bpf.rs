//! A small classic-BPF interpreter for seccomp programs, used by tests to
//! check the generated filters against the syscall table without
//! installing them.
//!
//! Supports exactly what seccompiler and [`super::bpfgen`] emit: `LD|W|ABS`, `JMP` `JEQ`/`JGT`/
//! `JGE`/`JSET` with `K`, `JA`, `ALU|AND|K` and `RET|K`. Anything else is an
//! error, as is a load outside `seccomp_data` or a jump off the program.

use std::fmt;

use libc::sock_filter;

/// The kernel's `struct seccomp_data`.
pub type SeccompData = libc::seccomp_data;

const BPF_LD: u16 = 0x00;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_W: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_K: u16 = 0x00;
const BPF_AND: u16 = 0x50;
const BPF_JA: u16 = 0x00;
const BPF_JEQ: u16 = 0x10;
const BPF_JGT: u16 = 0x20;
const BPF_JGE: u16 = 0x30;
const BPF_JSET: u16 = 0x40;

/// Size of `struct seccomp_data`.
const DATA_LEN: u32 = 64;
/// Offset of `args[0]`.
const ARGS_OFFSET: u32 = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BpfError {
    /// Opcode not supported by this interpreter.
    Unsupported { pc: usize, code: u16 },
    /// Load outside `seccomp_data` or unaligned.
    BadLoad { pc: usize, offset: u32 },
    /// Jump or fall-through past the end of the program.
    OutOfBounds { pc: usize },
}

impl fmt::Display for BpfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BpfError::Unsupported { pc, code } => write!(f, "unsupported opcode {code:#x} at {pc}"),
            BpfError::BadLoad { pc, offset } => write!(f, "bad load offset {offset} at {pc}"),
            BpfError::OutOfBounds { pc } => write!(f, "control leaves the program at {pc}"),
        }
    }
}

impl std::error::Error for BpfError {}

/// Result of one program run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The `RET` value.
    pub ret: u32,
    /// Whether the run loaded any syscall argument or the instruction
    /// pointer (if never, the kernel can cache the verdict for that number).
    pub read_args: bool,
    /// How many instructions ran.
    pub steps: usize,
}

fn word(data: &SeccompData, offset: u32) -> u32 {
    let lo = |v: u64| v as u32;
    let hi = |v: u64| (v >> 32) as u32;
    match offset {
        0 => data.nr as u32,
        4 => data.arch,
        8 => lo(data.instruction_pointer),
        12 => hi(data.instruction_pointer),
        _ => {
            let i = ((offset - ARGS_OFFSET) / 8) as usize;
            if (offset - ARGS_OFFSET) % 8 == 0 {
                lo(data.args[i])
            } else {
                hi(data.args[i])
            }
        }
    }
}

/// Runs `prog` on `data`, reporting also whether arguments were read.
pub fn try_run(prog: &[sock_filter], data: &SeccompData) -> Result<Outcome, BpfError> {
    let mut acc: u32 = 0;
    let mut read_args = false;
    let mut pc = 0usize;
    let mut steps = 0;
    loop {
        let insn = prog.get(pc).ok_or(BpfError::OutOfBounds { pc })?;
        steps += 1;
        let next = pc + 1;
        match insn.code {
            c if c == BPF_LD | BPF_W | BPF_ABS => {
                if insn.k % 4 != 0 || insn.k >= DATA_LEN {
                    return Err(BpfError::BadLoad { pc, offset: insn.k });
                }
                read_args |= insn.k >= 8;
                acc = word(data, insn.k);
                pc = next;
            }
            c if c == BPF_ALU | BPF_AND | BPF_K => {
                acc &= insn.k;
                pc = next;
            }
            c if c == BPF_RET | BPF_K => {
                return Ok(Outcome {
                    ret: insn.k,
                    read_args,
                    steps,
                });
            }
            c if c == BPF_JMP | BPF_JA => pc = next + insn.k as usize,
            c if c & 0x07 == BPF_JMP && c & 0x08 == BPF_K => {
                let taken = match c & 0xf0 {
                    BPF_JEQ => acc == insn.k,
                    BPF_JGT => acc > insn.k,
                    BPF_JGE => acc >= insn.k,
                    BPF_JSET => acc & insn.k != 0,
                    _ => return Err(BpfError::Unsupported { pc, code: c }),
                };
                pc = next + usize::from(if taken { insn.jt } else { insn.jf });
            }
            c => return Err(BpfError::Unsupported { pc, code: c }),
        }
    }
}

/// Runs one seccomp program and returns its verdict (`SECCOMP_RET_*`).
///
/// # Panics
/// On a program this interpreter cannot run (see [`try_run`]).
pub fn run(prog: &[sock_filter], data: &SeccompData) -> u32 {
    match try_run(prog, data) {
        Ok(outcome) => outcome.ret,
        Err(e) => panic!("seccomp program not interpretable: {e}"),
    }
}

/// Precedence of an action as the kernel orders it: lower wins
/// (`KILL_PROCESS` < `KILL_THREAD` < `TRAP` < `ERRNO` < `USER_NOTIF` <
/// `TRACE` < `LOG` < `ALLOW`).
fn precedence(ret: u32) -> i32 {
    (ret & libc::SECCOMP_RET_ACTION_FULL) as i32
}

/// The verdict of a whole filter stack (`stack` in install order), as the
/// kernel computes it: every filter runs, the most precedent action wins,
/// and among equal actions the most recently installed filter wins.
pub fn verdict(stack: &[Vec<sock_filter>], data: &SeccompData) -> u32 {
    let mut ret = libc::SECCOMP_RET_ALLOW;
    for prog in stack.iter().rev() {
        let cur = run(prog, data);
        if precedence(cur) < precedence(ret) {
            ret = cur;
        }
    }
    ret
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(code: u16, k: u32) -> sock_filter {
        sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
        sock_filter { code, jt, jf, k }
    }

    fn data(nr: i32, arg0: u64) -> SeccompData {
        SeccompData {
            nr,
            arch: 0xc000_003e,
            instruction_pointer: 0,
            args: [arg0, 0, 0, 0, 0, 0],
        }
    }

    #[test]
    fn interprets_and_orders() {
        // if nr == 7 && (arg0.lo & 0xf0) == 0x10 { ERRNO(5) } else { ALLOW }
        let prog = vec![
            stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            jump(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 4),
            stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            stmt(BPF_ALU | BPF_AND | BPF_K, 0xf0),
            jump(BPF_JMP | BPF_JEQ | BPF_K, 0x10, 0, 1),
            stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_ERRNO | 5),
            stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_ALLOW),
        ];
        assert_eq!(run(&prog, &data(7, 0x1f)), libc::SECCOMP_RET_ERRNO | 5);
        assert_eq!(run(&prog, &data(7, 0x2f)), libc::SECCOMP_RET_ALLOW);
        let o = try_run(&prog, &data(8, 0x1f)).unwrap();
        assert_eq!(
            o,
            Outcome {
                ret: libc::SECCOMP_RET_ALLOW,
                read_args: false,
                steps: 3,
            }
        );

        let ret = |k| vec![stmt(BPF_RET | BPF_K, k)];
        let notif = ret(libc::SECCOMP_RET_USER_NOTIF);
        let e1 = ret(libc::SECCOMP_RET_ERRNO | 1);
        let e2 = ret(libc::SECCOMP_RET_ERRNO | 2);
        let d = data(0, 0);
        assert_eq!(
            verdict(&[e1.clone(), e2.clone()], &d),
            libc::SECCOMP_RET_ERRNO | 2
        );
        assert_eq!(verdict(&[e2, e1.clone()], &d), libc::SECCOMP_RET_ERRNO | 1);
        assert_eq!(
            verdict(&[notif.clone(), e1], &d),
            libc::SECCOMP_RET_ERRNO | 1
        );
        let kill = ret(libc::SECCOMP_RET_KILL_PROCESS);
        assert_eq!(verdict(&[kill, notif], &d), libc::SECCOMP_RET_KILL_PROCESS);
        assert_eq!(verdict(&[], &d), libc::SECCOMP_RET_ALLOW);
    }

    #[test]
    fn rejects_unknown() {
        let d = data(0, 0);
        let ldx = [stmt(0x01, 0)];
        assert!(matches!(
            try_run(&ldx, &d),
            Err(BpfError::Unsupported { .. })
        ));
        assert!(matches!(
            try_run(&[stmt(BPF_LD | BPF_W | BPF_ABS, 64)], &d),
            Err(BpfError::BadLoad { .. })
        ));
        assert!(matches!(
            try_run(&[stmt(BPF_JMP | BPF_JA, 3)], &d),
            Err(BpfError::OutOfBounds { .. })
        ));
    }
}
