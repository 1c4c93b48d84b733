//! What each sandbox is doing, for operators: the sentry's counters
//! (`shm`, read by `runrs metrics` and `runrs metrics-server`) and the
//! audit trail (`audit`, printed by `runrs events`). See
//! docs/OBSERVABILITY.md.
//!
//! This module sits below the front end and the sentry: it imports
//! neither.

pub mod audit;
pub mod shm;
pub(crate) mod sys;

use std::path::Path;

/// The sentry's setup, before it confines itself: creates the counters
/// file (unless create turned metrics off) and opens the audit trail.
/// A failure is logged and the sandbox runs without it.
pub fn start_sentry(state_dir: &Path) {
    let cfg = audit::Config::load(state_dir);
    if cfg.metrics {
        if let Err(e) = shm::create(state_dir) {
            crate::log::warn(&format!("sentry: no metrics counters: {e}"));
        }
    }
    if let Err(e) = audit::open_for_sentry(state_dir, &cfg) {
        crate::log::warn(&format!("sentry: no audit trail: {e}"));
    }
}
