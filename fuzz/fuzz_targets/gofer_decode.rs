//! libFuzzer entry for `fuzz/checks/gofer_decode.rs` (the invariant lives there,
//! shared with the corpus replay in `tests/fuzz_replay.rs`).
#![no_main]

#[path = "../checks/gofer_decode.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
