//! Keeps a second CPU from halting while the workload makes emulated
//! syscalls.
//!
//! An fd answer (`SECCOMP_IOCTL_NOTIF_ADDFD`) wakes the caller with the
//! kernel's ordinary wake-up, which sends it to an idle CPU while the
//! worker's own is busy; the caller then installs the fd and wakes the
//! worker back. On a virtual machine an idle CPU is a halted vCPU, and
//! waking one costs more than the whole answer. One thread of the lowest
//! policy, SCHED_IDLE, yields in a loop while syscalls arrive: a CPU that
//! runs only SCHED_IDLE tasks counts as idle for the wake-up, so the
//! caller is placed there and preempts it at once, without a halted vCPU
//! to wake (benches: open+close 61 -> 24 µs, fork+exit+wait 190 -> 130
//! µs). It never delays the container's own tasks: in its cgroup anything
//! of a normal policy runs before it. It sleeps once no syscall has
//! arrived for [`WINDOW`], so an idle or computing workload costs nothing.
//!
//! Like the channels' polling it burns CPU time that would otherwise be
//! idle, charged to the container's cpu cgroup; and where the container's
//! cgroup has nothing else runnable on a CPU, the cgroup competes with
//! other cgroups at its own weight (SCHED_IDLE ranks a task within its
//! group only). So it runs only where the channels poll
//! (`SandboxInfo::poll_channels`: no CPU quota, two CPUs or more), and only
//! on the seccomp platform (the ptrace platform's stops were slower with
//! it).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long after the latest syscall the thread keeps its CPU awake: the
/// gap between two emulated calls of a file-heavy job is tens of µs.
pub const WINDOW: Duration = Duration::from_micros(300);

pub struct Warmer {
    epoch: Instant,
    window_ns: u64,
    /// Nanoseconds since `epoch` of the latest syscall.
    last: AtomicU64,
    /// The thread runs and listens to `touch`.
    running: AtomicBool,
    /// The thread sleeps on `wake` (then `touch` wakes it). Changed only
    /// under `lock`, read without it: a touch of an awake thread takes no
    /// lock.
    sleeping: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Warmer {
    pub fn new(window: Duration) -> Warmer {
        Warmer {
            epoch: Instant::now(),
            window_ns: window.as_nanos().min(u64::MAX as u128) as u64,
            last: AtomicU64::new(0),
            running: AtomicBool::new(false),
            sleeping: AtomicBool::new(true),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos().min(u64::MAX as u128) as u64
    }

    fn recent(&self) -> bool {
        self.now_ns()
            .saturating_sub(self.last.load(Ordering::SeqCst))
            < self.window_ns
    }

    /// Starts the thread (after the sentry's confinement: it needs the
    /// `sched_setscheduler` rule of its allowlist). It ends at once where
    /// SCHED_IDLE is refused: at a normal policy it would take CPU time
    /// from the workload.
    pub fn start(self: &Arc<Self>) {
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("warm".into())
            .spawn(move || {
                if let Err(e) = crate::sentry::sys::set_own_policy_idle() {
                    crate::log::debug(&format!("sentry: no warm thread: SCHED_IDLE: {e}"));
                    return;
                }
                me.running.store(true, Ordering::SeqCst);
                me.run();
            });
        if let Err(e) = spawned {
            crate::log::debug(&format!("sentry: no warm thread: {e}"));
        }
    }

    /// A syscall arrived: keep the CPU awake for another window.
    pub fn touch(&self) {
        if !self.running.load(Ordering::Relaxed) {
            return;
        }
        self.last.store(self.now_ns(), Ordering::SeqCst);
        if !self.sleeping.load(Ordering::SeqCst) {
            return;
        }
        let _held = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.sleeping.swap(false, Ordering::SeqCst) {
            self.wake.notify_one();
        }
    }

    /// Whether the thread is yielding now (tests).
    #[cfg(test)]
    fn awake(&self) -> bool {
        !self.sleeping.load(Ordering::SeqCst)
    }

    fn run(&self) {
        loop {
            while self.recent() {
                let _ = nix::sched::sched_yield();
            }
            let mut held = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.sleeping.store(true, Ordering::SeqCst);
            // A touch that stored its time before `sleeping` was set saw an
            // awake thread and left it so: look once more after setting it.
            if self.recent() {
                self.sleeping.store(false, Ordering::SeqCst);
                continue;
            }
            while self.sleeping.load(Ordering::SeqCst) {
                held = self.wake.wait(held).unwrap_or_else(|e| e.into_inner());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_until(what: &str, f: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !f() {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_touch_wakes_it_and_it_sleeps_after_the_window() {
        let w = Arc::new(Warmer::new(Duration::from_millis(20)));
        // Not started: a touch does nothing.
        w.touch();
        assert!(!w.awake());
        w.start();
        // An unprivileged test process may lower itself to SCHED_IDLE.
        wait_until("the thread runs", || w.running.load(Ordering::SeqCst));
        assert!(!w.awake());
        for _ in 0..2 {
            w.touch();
            assert!(w.awake(), "a touch wakes the thread");
            wait_until("asleep again after the window", || !w.awake());
        }
    }
}
