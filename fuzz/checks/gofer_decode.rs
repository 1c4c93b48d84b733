//! The gofer decodes every packet the sentry sends (and the sentry every
//! reply): arbitrary bytes must decode to a message or a clean error, never
//! a panic, and whatever decodes must survive an encode/decode round trip
//! unchanged (so the two sides cannot disagree on a message's meaning).
//!
//! Shared by the libFuzzer target `fuzz/fuzz_targets/gofer_decode.rs` and the
//! corpus replay in `tests/fuzz_replay.rs`.

use runrs::gofer::proto::{Request, Response};

/// The invariant, for one input (libFuzzer's or a corpus file).
pub fn check(data: &[u8]) {
    if let Ok(req) = Request::decode(data) {
        let again = Request::decode(&req.encode());
        assert_eq!(again.ok().as_ref(), Some(&req), "request round trip");
    }
    if let Ok(resp) = Response::decode(data) {
        let bytes = resp.encode();
        let again = Response::decode(&bytes);
        assert!(again.is_ok(), "response round trip: {resp:?}");
    }
}
