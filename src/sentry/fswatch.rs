//! When a task's fs attribute that the sentry read (its umask, its cwd's
//! path) may have changed since, whichever task changed it: tasks that
//! share an fs (threads, CLONE_FS children) share both, and the sentry
//! does not know who shares with whom.
//!
//! Every call that may change the attribute reaches the sentry before it
//! takes effect (umask and chdir continue to the kernel; a rename or
//! rmdir goes to the gofer), and is *under way* from then until its caller
//! makes its next call (or is gone). It bumps a generation when it starts.
//! A read is kept with the generation it was made in, if no call of a
//! task that shares the reader's fs was under way then (its
//! [`FsWatch::stamp`]), and holds while that stamp is still current: no
//! call started since, none that shares its fs is under way. A shell
//! that ran `cd dir` and waits for its children leaves its chdir under
//! way for as long, without stopping them (forked: an fs of their own)
//! from keeping what they read.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A call under way.
#[derive(Debug)]
struct Call {
    /// The value it sets, when it tells (umask's mask).
    value: Option<u32>,
    /// The generation it started.
    generation: u64,
    /// Whether no other call was under way when it started.
    alone: bool,
    /// Whether it changes every task's attribute, not just its fs's (a
    /// rename moves the directories under it for every cwd in them).
    everyone: bool,
}

/// The calls that change one attribute (see the module's text).
#[derive(Debug, Default)]
pub struct FsWatch {
    generation: AtomicU64,
    /// The calls under way, by their task's host tid.
    calls: Mutex<HashMap<i32, Call>>,
    /// `calls`' size, so that every request can skip its lock.
    count: AtomicUsize,
    /// When `prune` last looked.
    pruned: Mutex<Option<Instant>>,
}

/// The most calls under way that a read looks at (with kcmp) or `prune`
/// looks for at once: beyond, no read is kept until they end.
const LOOKED_AT: usize = 16;

/// How often `prune` looks for gone tasks.
pub const PRUNE_EVERY: Duration = Duration::from_millis(1);

impl FsWatch {
    fn calls(&self) -> MutexGuard<'_, HashMap<i32, Call>> {
        // A poisoned lock's map is still whole (nothing panics under it).
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stamp of a read of task `htid`'s attribute made now: the
    /// generation, if no call that may change it is under way, that is no
    /// call of a task that shares its fs (`shares`). The generation is
    /// loaded first: a call that starts later bumps it.
    pub fn stamp(&self, htid: i32, shares: impl Fn(i32, i32) -> bool) -> Option<u64> {
        let generation = self.generation.load(Ordering::SeqCst);
        if self.count.load(Ordering::SeqCst) == 0 {
            return Some(generation);
        }
        let calls = self.calls();
        if calls.len() > LOOKED_AT {
            // Asking the kernel about each would make every read cost as
            // many calls as the workload left under way.
            return None;
        }
        let affects = |(&t, c): (&i32, &Call)| c.everyone || shares(t, htid);
        (!calls.iter().any(affects)).then_some(generation)
    }

    /// Task `htid` makes a call that may change the attribute of its fs
    /// (to `value`, when the call tells), or of `everyone`'s, before it
    /// takes effect.
    pub fn changing(&self, htid: i32, value: Option<u32>, everyone: bool) {
        let mut calls = self.calls();
        let alone = calls.is_empty();
        let call = Call {
            value,
            generation: 0,
            alone,
            everyone,
        };
        calls.insert(htid, call);
        // Counted before the bump: a stamp that saw no call under way was
        // taken before it, so it no longer matches.
        self.count.store(calls.len(), Ordering::SeqCst);
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(c) = calls.get_mut(&htid) {
            c.generation = generation;
        }
    }

    /// Task `htid` makes a new call: a call it made is over. When that
    /// call told its value and overlapped no other, the attribute of its
    /// fs is that value: returned with the stamp a read of it now has.
    pub fn settled(&self, htid: i32) -> Option<(u32, u64)> {
        if self.count.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut calls = self.calls();
        let call = calls.remove(&htid)?;
        self.count.store(calls.len(), Ordering::SeqCst);
        // Under the lock, so no call starts meanwhile.
        let only = call.alone && self.generation.load(Ordering::SeqCst) == call.generation;
        call.value.filter(|_| only).map(|v| (v, call.generation))
    }

    /// Ends the calls of tasks that are gone without another call (a
    /// thread may end with exit(2), which never reaches the sentry), as
    /// the host's /proc at `proc_root` shows them; at most once per
    /// `PRUNE_EVERY` (a call left under way only costs keeping less).
    pub fn prune(&self, proc_root: &Path) {
        if self.count.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut calls = self.calls();
        let mut last = self.pruned.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < PRUNE_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        // At most LOOKED_AT a time, whatever the workload left under way.
        let mut looked = 0;
        calls.retain(|&t, _| {
            looked += 1;
            looked > LOOKED_AT || proc_root.join(t.to_string()).exists()
        });
        self.count.store(calls.len(), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl FsWatch {
        /// Whether a read of `htid`'s attribute stamped `stamp` still
        /// holds (the callers compare with the stamp a new read would have,
        /// which they need anyway when it does not).
        fn holds(&self, stamp: Option<u64>, htid: i32, shares: impl Fn(i32, i32) -> bool) -> bool {
            stamp.is_some() && stamp == self.stamp(htid, shares)
        }
    }

    /// Every task shares every other's fs, or none does.
    fn all(_: i32, _: i32) -> bool {
        true
    }
    fn none(a: i32, b: i32) -> bool {
        a == b
    }

    #[test]
    fn a_stamp_holds_until_a_call_starts_and_not_while_one_is_under_way() {
        let w = FsWatch::default();
        let before = w.stamp(1, all);
        assert!(w.holds(before, 1, all));
        w.changing(10, None, false);
        assert_eq!(w.stamp(1, all), None, "under way");
        assert!(!w.holds(before, 1, all));
        assert_eq!(w.settled(11), None, "not its call");
        assert_eq!(w.stamp(1, all), None);
        // A task whose fs is not 10's may keep what it reads now.
        let apart = w.stamp(1, none);
        assert!(apart.is_some() && apart != before);
        assert_eq!(w.settled(10), None, "told no value");
        let after = w.stamp(1, all);
        assert_eq!(after, apart);
        assert!(w.holds(after, 1, all));
    }

    #[test]
    fn a_call_for_everyone_stops_every_task_from_keeping() {
        let w = FsWatch::default();
        w.changing(10, None, true);
        assert_eq!(w.stamp(1, none), None, "even a task apart");
        assert_eq!(w.settled(10), None);
        assert!(w.stamp(1, none).is_some());
    }

    #[test]
    fn a_lone_call_tells_its_value_and_overlapping_ones_do_not() {
        let w = FsWatch::default();
        w.changing(10, Some(0o077), false);
        let (v, stamp) = w.settled(10).expect("alone");
        assert_eq!(v, 0o077);
        assert!(w.holds(Some(stamp), 1, all));

        // Another call starts while the first is under way.
        w.changing(10, Some(0o022), false);
        w.changing(11, Some(0o007), false);
        assert_eq!(w.settled(10), None);
        assert_eq!(w.settled(11), None, "it did not start alone");

        // One starts after the first started, and ends first.
        w.changing(10, Some(0o022), false);
        w.changing(11, Some(0o007), false);
        assert_eq!(w.settled(11), None);
        assert_eq!(w.settled(10), None, "another started since");
        assert!(w.stamp(1, all).is_some());
    }

    /// Many calls left under way (a workload's threads that chdir and
    /// block) cost a read no kcmp beyond LOOKED_AT: nothing is kept.
    #[test]
    fn many_calls_under_way_keep_nothing_without_asking() {
        let w = FsWatch::default();
        for t in 0..=LOOKED_AT as i32 {
            w.changing(100 + t, None, false);
        }
        let asked = std::cell::Cell::new(0);
        let apart = |a: i32, b: i32| {
            asked.set(asked.get() + 1);
            a == b
        };
        assert_eq!(w.stamp(1, apart), None);
        assert_eq!(asked.get(), 0);
        w.settled(100);
        assert!(w.stamp(1, apart).is_some());
        assert_eq!(asked.get(), LOOKED_AT);
    }

    #[test]
    fn a_gone_tasks_call_is_over() {
        let dir = std::env::temp_dir().join(format!("fswatch-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("10")).expect("mkdir");
        let w = FsWatch::default();
        w.changing(10, None, false);
        w.changing(11, None, false);
        w.prune(&dir);
        assert_eq!(w.stamp(1, all), None, "10 is there");
        std::fs::remove_dir(dir.join("10")).expect("rmdir");
        // The last look set as just now, and as long ago, rather than
        // timed: a loaded machine can take PRUNE_EVERY between two lines.
        let looked = |at: Instant| *w.pruned.lock().expect("lock") = Some(at);
        looked(Instant::now() + Duration::from_secs(3600));
        w.prune(&dir);
        assert_eq!(w.stamp(1, all), None, "looked less than PRUNE_EVERY ago");
        looked(Instant::now().checked_sub(PRUNE_EVERY * 2).expect("uptime"));
        w.prune(&dir);
        assert!(w.stamp(1, all).is_some());
        std::fs::remove_dir(&dir).expect("rmdir");
    }
}
