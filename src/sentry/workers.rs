//! The threads that answer one listener. Only one of them waits for the
//! next syscall at a time (it holds the *receive turn*): with several
//! threads blocked in `SECCOMP_IOCTL_NOTIF_RECV` the kernel hands
//! consecutive notifications to different threads, and each hand-off to a
//! thread that last ran elsewhere costs more than the round trip itself
//! (benches: 4.9 µs per call with one receiver, 12.6 µs with four;
//! DESIGN §9 (3)).
//!
//! A handler may block for long (an open of a FIFO waits in the gofer for
//! a writer, whose own open is the next syscall to answer), so one standby
//! thread watches the turn's holder: when it has been busy with the same
//! request for a whole check interval, the standby takes the turn and the
//! old holder joins the standbys once its request is answered. The interval
//! is short while syscalls arrive and backs off while the workload is idle,
//! so an idle container costs a few wake-ups a second.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The check interval while requests arrive.
const BUSY_CHECK: Duration = Duration::from_millis(2);
/// The longest check interval (an idle workload).
const IDLE_CHECK: Duration = Duration::from_millis(50);

#[derive(Default)]
struct Turn {
    /// Which worker holds the receive turn (None: nobody, take it).
    holder: Option<usize>,
    /// Counts the requests the holder started handling.
    started: u64,
    /// Whether the holder is handling a request (not waiting in RECV).
    handling: bool,
    /// Whether a standby thread is watching the holder (the others wait
    /// until it is done).
    watched: bool,
    /// The listener hung up: every worker returns.
    closed: bool,
}

#[derive(Default)]
pub struct Workers {
    turn: Mutex<Turn>,
    changed: Condvar,
}

/// What the loop of a worker that holds the turn does next.
pub enum Next {
    /// Keep receiving.
    Receive,
    /// Another worker took the turn while this one was handling: wait.
    Standby,
}

impl Workers {
    pub fn new() -> Workers {
        Workers::default()
    }

    fn lock(&self) -> MutexGuard<'_, Turn> {
        // A worker that panicked while holding the lock left a consistent
        // `Turn` (every update is a plain field store).
        self.turn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks until worker `me` holds the receive turn; false when the
    /// listener is closed.
    pub fn take_turn(&self, me: usize) -> bool {
        let mut t = self.lock();
        loop {
            if t.closed {
                return false;
            }
            if t.holder.is_none() {
                t.holder = Some(me);
                t.handling = false;
                return true;
            }
            if t.watched {
                // Another standby watches; wait for a change of hands.
                t = self.changed.wait(t).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // Watch the holder until it is gone or stuck, without waking
            // the other standbys on every check.
            t.watched = true;
            let mut interval = BUSY_CHECK;
            loop {
                let seen = (t.started, t.handling);
                t = self
                    .changed
                    .wait_timeout(t, interval)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                if t.closed || t.holder.is_none() {
                    break;
                }
                if t.handling && (t.started, t.handling) == seen {
                    // Stuck on one request for a whole interval: take over.
                    t.watched = false;
                    t.holder = Some(me);
                    t.handling = false;
                    // Another standby becomes the watcher.
                    self.changed.notify_all();
                    return true;
                }
                interval = if t.started == seen.0 {
                    (interval * 2).min(IDLE_CHECK)
                } else {
                    BUSY_CHECK
                };
            }
            t.watched = false;
            self.changed.notify_all();
        }
    }

    /// Worker `me` received a request and starts handling it.
    pub fn start(&self, me: usize) {
        let mut t = self.lock();
        if t.holder == Some(me) {
            t.started = t.started.wrapping_add(1);
            t.handling = true;
        }
    }

    /// Worker `me` answered its request.
    pub fn done(&self, me: usize) -> Next {
        let mut t = self.lock();
        if t.holder == Some(me) {
            t.handling = false;
            Next::Receive
        } else {
            Next::Standby
        }
    }

    /// The listener hung up (or failed): release every worker.
    pub fn close(&self) {
        let mut t = self.lock();
        t.closed = true;
        t.holder = None;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn one_holder_at_a_time_and_takeover_of_a_stuck_one() {
        let w = Arc::new(Workers::new());
        assert!(w.take_turn(0));
        w.start(0);
        // Worker 1 finds 0 stuck on one request and takes over.
        let w1 = Arc::clone(&w);
        let t = std::thread::spawn(move || w1.take_turn(1));
        assert!(t.join().expect("thread"));
        // 0 answers its request and learns it lost the turn.
        assert!(matches!(w.done(0), Next::Standby));
        // 1 keeps receiving.
        w.start(1);
        assert!(matches!(w.done(1), Next::Receive));
    }

    #[test]
    fn a_holder_waiting_in_recv_keeps_the_turn() {
        let w = Arc::new(Workers::new());
        assert!(w.take_turn(0));
        w.start(0);
        assert!(matches!(w.done(0), Next::Receive));
        // 0 now waits for the next syscall: however long that takes (here
        // many check intervals), a standby must not take the turn.
        let w1 = Arc::clone(&w);
        let standby = std::thread::spawn(move || w1.take_turn(1));
        std::thread::sleep(Duration::from_millis(150));
        assert!(
            matches!(w.done(0), Next::Receive),
            "turn taken from an idle holder"
        );
        w.close();
        assert!(!standby.join().expect("standby"));
    }

    #[test]
    fn close_releases_every_standby() {
        let w = Arc::new(Workers::new());
        assert!(w.take_turn(0));
        let threads: Vec<_> = (1..4)
            .map(|i| {
                let w = Arc::clone(&w);
                std::thread::spawn(move || w.take_turn(i))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(10));
        w.close();
        for t in threads {
            assert!(!t.join().expect("standby"));
        }
    }
}
