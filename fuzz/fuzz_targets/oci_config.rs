//! libFuzzer entry for `fuzz/checks/oci_config.rs` (the invariant lives there,
//! shared with the corpus replay in `tests/fuzz_replay.rs`).
#![no_main]

#[path = "../checks/oci_config.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
