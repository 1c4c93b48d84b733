//! A bundle's config.json through the same path `runrs create` takes
//! (oci-spec's types, then runrs's validation into a ContainerConfig):
//! arbitrary bytes must give a config or an error naming the field, never
//! a panic.
//!
//! Shared by the libFuzzer target `fuzz/fuzz_targets/oci_config.rs` and the
//! corpus replay in `tests/fuzz_replay.rs`.

use std::path::PathBuf;
use std::sync::OnceLock;

/// A bundle directory with a rootfs, so that `root.path: "rootfs"` resolves.
fn bundle() -> &'static PathBuf {
    static BUNDLE: OnceLock<PathBuf> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let dir = std::env::temp_dir().join("runrs-fuzz-bundle");
        std::fs::create_dir_all(dir.join("rootfs")).expect("mkdir fuzz bundle");
        dir
    })
}

/// The invariant, for one input (libFuzzer's or a corpus file).
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = runrs::runsc::spec::parse_config(text, bundle(), "fuzz");
}
