//! Building seccomp programs by hand: a forward-only classic-BPF assembler
//! with labels, and a search over syscall numbers that takes a logarithmic
//! number of comparisons (seccompiler emits a linear chain of them, one
//! filter per action, which every emulated call then runs in full).
//!
//! The code it emits uses only what the kernel's verdict cache can
//! evaluate without arguments (`LD` of `nr` and `arch`, `JEQ`/`JGT`/`JGE`/
//! `JSET` and `ALU AND` with `K`, `JA`, `RET`), so a number whose path
//! never loads an argument keeps a cacheable verdict.

use std::fmt;

use libc::sock_filter;

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JA: u16 = 0x05;
const BPF_JEQ_K: u16 = 0x15;
const BPF_JGT_K: u16 = 0x25;
const BPF_JGE_K: u16 = 0x35;
const BPF_ALU_AND_K: u16 = 0x54;
const BPF_JSET_K: u16 = 0x45;
const BPF_RET_K: u16 = 0x06;

/// Offsets in `struct seccomp_data`.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;
const ARGS_OFFSET: u32 = 16;

/// The longest program the kernel takes (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenError {
    /// A label jumped to but never placed, or placed before its jump.
    BadLabel { at: usize },
    /// A comparison value that does not fit the 32-bit word it is
    /// compared with.
    WideValue { value: u64 },
    /// A program longer than the kernel takes.
    TooLong { len: usize },
    /// A syscall number given two verdicts.
    Duplicate { nr: u32 },
}

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::BadLabel { at } => write!(f, "jump at {at} to a label not placed after it"),
            GenError::WideValue { value } => write!(f, "value {value:#x} is wider than 32 bits"),
            GenError::TooLong { len } => write!(f, "program of {len} instructions"),
            GenError::Duplicate { nr } => write!(f, "syscall {nr} listed twice"),
        }
    }
}

impl std::error::Error for GenError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label(usize);

enum Insn {
    Plain(sock_filter),
    /// A conditional jump: `code` with `k`, to `jt` if taken, else `jf`.
    Cond {
        code: u16,
        k: u32,
        jt: Label,
        jf: Label,
    },
    Always(Label),
}

/// A program under construction; jumps go forward to labels, resolved by
/// [`Asm::finish`].
#[derive(Default)]
pub struct Asm {
    code: Vec<Insn>,
    labels: Vec<Option<usize>>,
}

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// `value` as the 32-bit word it is compared with (one half of an
/// argument: the low one for a C int); a wider value is refused.
pub fn word(value: u64) -> Result<u32, GenError> {
    u32::try_from(value).map_err(|_| GenError::WideValue { value })
}

impl Asm {
    pub fn new() -> Asm {
        Asm::default()
    }

    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Places `l` at the next instruction (a label of another program is
    /// never placed here: `finish` refuses jumps to it).
    pub fn place(&mut self, l: Label) {
        if let Some(slot) = self.labels.get_mut(l.0) {
            *slot = Some(self.code.len());
        }
    }

    /// Loads the low (`high == false`) or high half of argument `arg`.
    pub fn load_arg(&mut self, arg: u8, high: bool) {
        let offset = ARGS_OFFSET + 8 * u32::from(arg) + if high { 4 } else { 0 };
        self.code.push(Insn::Plain(stmt(BPF_LD_W_ABS, offset)));
    }

    pub fn ret(&mut self, action: u32) {
        self.code.push(Insn::Plain(stmt(BPF_RET_K, action)));
    }

    pub fn jump(&mut self, to: Label) {
        self.code.push(Insn::Always(to));
    }

    /// To `jt` if the accumulator equals `k`, else to `jf`.
    pub fn jeq(&mut self, k: u32, jt: Label, jf: Label) {
        self.code.push(Insn::Cond {
            code: BPF_JEQ_K,
            k,
            jt,
            jf,
        });
    }

    /// Keeps only the bits of `k` in the accumulator.
    pub fn and(&mut self, k: u32) {
        self.code.push(Insn::Plain(stmt(BPF_ALU_AND_K, k)));
    }

    /// To `jt` if the accumulator is above `k`, else to `jf`.
    pub fn jgt(&mut self, k: u32, jt: Label, jf: Label) {
        self.code.push(Insn::Cond {
            code: BPF_JGT_K,
            k,
            jt,
            jf,
        });
    }

    /// To `jt` if the accumulator is at least `k`, else to `jf`.
    pub fn jge(&mut self, k: u32, jt: Label, jf: Label) {
        self.code.push(Insn::Cond {
            code: BPF_JGE_K,
            k,
            jt,
            jf,
        });
    }

    /// To `jt` if the accumulator has any bit of `k`, else to `jf`.
    pub fn jset(&mut self, k: u32, jt: Label, jf: Label) {
        self.code.push(Insn::Cond {
            code: BPF_JSET_K,
            k,
            jt,
            jf,
        });
    }

    /// To `found` if the accumulator is one of `values`, else to
    /// `missing`: a binary search over the sorted values, then one
    /// equality test.
    pub fn in_set(&mut self, values: &[u32], found: Label, missing: Label) {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        self.search_values(&sorted, found, missing);
    }

    fn search_values(&mut self, sorted: &[u32], found: Label, missing: Label) {
        // A short chain of equality tests is as fast as a search.
        if sorted.len() <= 4 {
            for (i, &v) in sorted.iter().enumerate() {
                if i + 1 == sorted.len() {
                    self.jeq(v, found, missing);
                } else {
                    let next = self.label();
                    self.jeq(v, found, next);
                    self.place(next);
                }
            }
            if sorted.is_empty() {
                self.jump(missing);
            }
            return;
        }
        let (low, high) = sorted.split_at(sorted.len() / 2);
        let (upper, lower) = (self.label(), self.label());
        self.jge(high[0], upper, lower);
        self.place(lower);
        self.search_values(low, found, missing);
        self.place(upper);
        self.search_values(high, found, missing);
    }

    /// The program, jumps resolved. A conditional jump farther than its
    /// 8-bit offsets reach goes through unconditional ones placed right
    /// after it (`jcond 0, 1; ja jt; ja jf`); since that moves the code
    /// after it, the layout is redone until every jump fits.
    pub fn finish(self) -> Result<Vec<sock_filter>, GenError> {
        let mut wide = vec![false; self.code.len()];
        loop {
            // Where each instruction starts in the output.
            let mut start = Vec::with_capacity(self.code.len());
            let mut len = 0;
            for &w in &wide {
                start.push(len);
                len += if w { 3 } else { 1 };
            }
            if len > MAX_INSNS {
                return Err(GenError::TooLong { len });
            }
            // The output position of `l`, which must follow `at`.
            let target = |at: usize, l: Label| -> Result<usize, GenError> {
                match self.labels.get(l.0).copied().flatten() {
                    Some(i) if i > at && i < self.code.len() => Ok(start[i]),
                    _ => Err(GenError::BadLabel { at }),
                }
            };
            let mut relaid = false;
            for (at, insn) in self.code.iter().enumerate() {
                if let Insn::Cond { jt, jf, .. } = *insn {
                    let far = |l| Ok::<_, GenError>(target(at, l)? - start[at] - 1 > 255);
                    if !wide[at] && (far(jt)? || far(jf)?) {
                        wide[at] = true;
                        relaid = true;
                    }
                }
                if let Insn::Always(l) = *insn {
                    target(at, l)?;
                }
            }
            if relaid {
                continue;
            }
            let mut out = Vec::with_capacity(len);
            for (at, insn) in self.code.iter().enumerate() {
                let from =
                    |offset: usize, l: Label| target(at, l).map(|t| t - start[at] - offset - 1);
                match *insn {
                    Insn::Plain(i) => out.push(i),
                    Insn::Always(l) => out.push(stmt(BPF_JA, from(0, l)? as u32)),
                    Insn::Cond { code, k, jt, jf } if wide[at] => {
                        out.push(sock_filter {
                            code,
                            jt: 0,
                            jf: 1,
                            k,
                        });
                        out.push(stmt(BPF_JA, from(1, jt)? as u32));
                        out.push(stmt(BPF_JA, from(2, jf)? as u32));
                    }
                    Insn::Cond { code, k, jt, jf } => out.push(sock_filter {
                        code,
                        jt: from(0, jt)? as u8,
                        jf: from(0, jf)? as u8,
                        k,
                    }),
                }
            }
            return Ok(out);
        }
    }
}

/// The verdict for one range of syscall numbers: a bare `RET`, or a
/// program of its own (which may read arguments and must end every path
/// in a `RET`) for the one number it covers.
#[derive(Clone)]
pub enum Verdict {
    Ret(u32),
    Code(Vec<sock_filter>),
}

/// A filter for `arch` only (anything else: `foreign`), dispatching on the
/// syscall number: `numbers` lists (number, verdict) in any order, each
/// number once; every other number gets `unlisted`. Neighbouring numbers
/// with the same bare `RET` share one range of the search.
pub fn by_number(
    arch: u32,
    foreign: u32,
    numbers: Vec<(u32, Verdict)>,
    unlisted: u32,
) -> Result<Vec<sock_filter>, GenError> {
    let mut prog = vec![
        stmt(BPF_LD_W_ABS, ARCH_OFFSET),
        sock_filter {
            code: BPF_JEQ_K,
            jt: 1,
            jf: 0,
            k: arch,
        },
        stmt(BPF_RET_K, foreign),
        stmt(BPF_LD_W_ABS, NR_OFFSET),
    ];
    prog.extend(search(&ranges(numbers, unlisted)?)?);
    if prog.len() > MAX_INSNS {
        return Err(GenError::TooLong { len: prog.len() });
    }
    Ok(prog)
}

/// (first number, verdict) of consecutive ranges covering every u32,
/// sorted by first number.
fn ranges(
    mut numbers: Vec<(u32, Verdict)>,
    unlisted: u32,
) -> Result<Vec<(u32, Verdict)>, GenError> {
    numbers.sort_by_key(|(nr, _)| *nr);
    let mut out: Vec<(u32, Verdict)> = Vec::new();
    let push = |out: &mut Vec<(u32, Verdict)>, first: u32, v: Verdict| {
        let same = matches!((out.last(), &v),
            (Some((_, Verdict::Ret(a))), Verdict::Ret(b)) if a == b);
        if !same {
            out.push((first, v));
        }
    };
    // The first number no range covers yet (None: past u32::MAX).
    let mut next = Some(0u32);
    for (nr, v) in numbers {
        match next {
            Some(n) if nr >= n => {
                if nr > n {
                    push(&mut out, n, Verdict::Ret(unlisted));
                }
                push(&mut out, nr, v);
                next = nr.checked_add(1);
            }
            _ => return Err(GenError::Duplicate { nr }),
        }
    }
    if let Some(n) = next {
        push(&mut out, n, Verdict::Ret(unlisted));
    }
    Ok(out)
}

/// A binary search over `ranges` on the loaded number. A subtree too far
/// for a conditional jump is reached through an unconditional one.
fn search(ranges: &[(u32, Verdict)]) -> Result<Vec<sock_filter>, GenError> {
    match ranges {
        [] => Ok(Vec::new()),
        [(_, Verdict::Ret(k))] => Ok(vec![stmt(BPF_RET_K, *k)]),
        [(_, Verdict::Code(code))] => Ok(code.clone()),
        _ => {
            let (low, high) = ranges.split_at(ranges.len() / 2);
            let boundary = high[0].0;
            let low = search(low)?;
            let high = search(high)?;
            let mut out = Vec::with_capacity(low.len() + high.len() + 2);
            match u8::try_from(low.len()) {
                Ok(skip) => out.push(sock_filter {
                    code: BPF_JGE_K,
                    jt: skip,
                    jf: 0,
                    k: boundary,
                }),
                Err(_) => {
                    out.push(sock_filter {
                        code: BPF_JGE_K,
                        jt: 0,
                        jf: 1,
                        k: boundary,
                    });
                    let skip = u32::try_from(low.len())
                        .map_err(|_| GenError::TooLong { len: low.len() })?;
                    out.push(stmt(BPF_JA, skip));
                }
            }
            out.extend(low);
            out.extend(high);
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentry::bpf::{try_run, SeccompData};

    const ARCH: u32 = 0xc000_003e;
    const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
    const NOSYS: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;

    fn data(nr: u32, arch: u32, arg0: u64) -> SeccompData {
        SeccompData {
            nr: nr as i32,
            arch,
            instruction_pointer: 0,
            args: [arg0, 0, 0, 0, 0, 0],
        }
    }

    fn verdict(prog: &[sock_filter], nr: u32, arg0: u64) -> u32 {
        try_run(prog, &data(nr, ARCH, arg0)).unwrap().ret
    }

    /// arg0's low word in `values` → ALLOW, else ERRNO(1).
    fn set_leaf(values: &[u32]) -> Verdict {
        let mut asm = Asm::new();
        let (found, missing) = (asm.label(), asm.label());
        asm.load_arg(0, false);
        asm.in_set(values, found, missing);
        asm.place(found);
        asm.ret(ALLOW);
        asm.place(missing);
        asm.ret(libc::SECCOMP_RET_ERRNO | 1);
        Verdict::Code(asm.finish().unwrap())
    }

    #[test]
    fn in_set_finds_exactly_the_values() {
        for n in [0usize, 1, 2, 4, 5, 9, 60, 100] {
            let values: Vec<u32> = (0..n as u32).map(|i| i * 7 + 3).rev().collect();
            let Verdict::Code(prog) = set_leaf(&values) else {
                unreachable!()
            };
            for x in 0..(n as u32 * 7 + 10) {
                let want = values.contains(&x);
                let ret = try_run(&prog, &data(0, ARCH, u64::from(x) | 0xffff_0000_0000_0000))
                    .unwrap()
                    .ret;
                assert_eq!(ret == ALLOW, want, "{n} values, {x}");
            }
            let steps = try_run(&prog, &data(0, ARCH, 3)).unwrap().steps;
            assert!(
                steps <= 4 + 2 * (usize::BITS - n.leading_zeros()) as usize,
                "{n}: {steps}"
            );
        }
    }

    #[test]
    fn by_number_covers_every_number() {
        let numbers = vec![
            (5, Verdict::Ret(ALLOW)),
            (0, Verdict::Ret(ALLOW)),
            (1, Verdict::Ret(ALLOW)),
            (7, set_leaf(&[42])),
            (8, Verdict::Ret(libc::SECCOMP_RET_USER_NOTIF)),
            (u32::MAX, Verdict::Ret(libc::SECCOMP_RET_USER_NOTIF)),
        ];
        let prog = by_number(ARCH, KILL, numbers, NOSYS).unwrap();
        for (nr, want) in [
            (0, ALLOW),
            (1, ALLOW),
            (2, NOSYS),
            (4, NOSYS),
            (5, ALLOW),
            (6, NOSYS),
            (8, libc::SECCOMP_RET_USER_NOTIF),
            (9, NOSYS),
            (0x4000_0000, NOSYS),
            (u32::MAX - 1, NOSYS),
            (u32::MAX, libc::SECCOMP_RET_USER_NOTIF),
        ] {
            assert_eq!(verdict(&prog, nr, 0), want, "nr {nr}");
            assert!(!try_run(&prog, &data(nr, ARCH, 0)).unwrap().read_args);
        }
        assert_eq!(verdict(&prog, 7, 42), ALLOW);
        assert_eq!(verdict(&prog, 7, 43), libc::SECCOMP_RET_ERRNO | 1);
        assert!(try_run(&prog, &data(7, ARCH, 0)).unwrap().read_args);
        assert_eq!(try_run(&prog, &data(0, 0x4000_0003, 0)).unwrap().ret, KILL);
    }

    #[test]
    fn far_subtrees_are_reached() {
        // Leaves long enough that the search's conditional jumps cannot
        // skip them: every number must still find its own.
        let big: Vec<u32> = (0..200).map(|i| i * 3).collect();
        let numbers: Vec<(u32, Verdict)> = (0..12u32)
            .map(|nr| {
                if nr % 3 == 0 {
                    (nr * 2, set_leaf(&big))
                } else {
                    (nr * 2, Verdict::Ret(libc::SECCOMP_RET_ERRNO | nr))
                }
            })
            .collect();
        let prog = by_number(ARCH, KILL, numbers, NOSYS).unwrap();
        assert!(prog.len() > 1000);
        for nr in 0..12u32 {
            let want = if nr % 3 == 0 {
                libc::SECCOMP_RET_ERRNO | 1
            } else {
                libc::SECCOMP_RET_ERRNO | nr
            };
            assert_eq!(verdict(&prog, nr * 2, 1), want, "nr {}", nr * 2);
            assert_eq!(verdict(&prog, nr * 2 + 1, 1), NOSYS);
        }
        assert_eq!(verdict(&prog, 0, 597), ALLOW);
    }

    #[test]
    fn far_jumps_go_through_unconditional_ones() {
        let mut asm = Asm::new();
        let (far, near, farther) = (asm.label(), asm.label(), asm.label());
        asm.load_arg(0, false);
        asm.jeq(1, far, near);
        asm.place(near);
        asm.jeq(2, farther, far);
        for _ in 0..300 {
            asm.ret(ALLOW);
        }
        asm.place(far);
        asm.ret(KILL);
        for _ in 0..300 {
            asm.ret(ALLOW);
        }
        asm.place(farther);
        asm.ret(NOSYS);
        let prog = asm.finish().unwrap();
        assert_eq!(prog.len(), 1 + 3 + 3 + 300 + 1 + 300 + 1);
        assert_eq!(try_run(&prog, &data(0, ARCH, 1)).unwrap().ret, KILL);
        assert_eq!(try_run(&prog, &data(0, ARCH, 2)).unwrap().ret, NOSYS);
        assert_eq!(try_run(&prog, &data(0, ARCH, 3)).unwrap().ret, KILL);
    }

    #[test]
    fn bad_programs_are_refused() {
        let twice = vec![(3, Verdict::Ret(ALLOW)), (3, Verdict::Ret(ALLOW))];
        assert_eq!(
            by_number(ARCH, KILL, twice, NOSYS).unwrap_err(),
            GenError::Duplicate { nr: 3 }
        );
        assert_eq!(
            word(1 << 32).unwrap_err(),
            GenError::WideValue { value: 1 << 32 }
        );
        // A label placed before its jump, or never.
        let mut asm = Asm::new();
        let back = asm.label();
        asm.place(back);
        asm.ret(ALLOW);
        asm.jump(back);
        assert_eq!(asm.finish().unwrap_err(), GenError::BadLabel { at: 1 });
        let mut asm = Asm::new();
        let nowhere = asm.label();
        asm.jump(nowhere);
        assert_eq!(asm.finish().unwrap_err(), GenError::BadLabel { at: 0 });
        // Too long for the kernel.
        let numbers = (0..5000u32)
            .map(|nr| (nr * 2, Verdict::Ret(libc::SECCOMP_RET_ERRNO | nr)))
            .collect();
        assert!(matches!(
            by_number(ARCH, KILL, numbers, NOSYS),
            Err(GenError::TooLong { .. })
        ));
    }
}
