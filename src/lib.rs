//! runrs: an OCI container runtime that runs every container inside a
//! user-space syscall sandbox (a sentry emulating file, /proc and identity
//! syscalls, and a gofer that alone opens the container's files).
//!
//! The binary re-executes itself for each role: `boot` (the sentry),
//! `gofer`, and `init` (the container's first process before it execs the
//! user's program). See `docs/` and the design notes in the repository.

pub mod confine;
pub mod conformance;
pub mod gofer;
pub mod log;
pub mod metrics;
pub mod runsc;
pub mod sandbox;
pub mod sentry;
pub mod table;
