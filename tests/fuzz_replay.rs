//! The fuzz targets' invariants (`fuzz/checks/`) over their checked-in
//! corpora (`fuzz/corpus/<target>/`) and any crash inputs libFuzzer left
//! (`fuzz/artifacts/<target>/`), in the ordinary test build: no sanitizer
//! build, so CI replays every known input in seconds. New inputs come from
//! `scripts/fuzz.sh` (libFuzzer with sanitizers, for as long as
//! `FUZZ_SECONDS` says), which `scripts/test.sh` runs with `RUNRS_FUZZ=1`.

use std::path::Path;

#[path = "../fuzz/checks/gofer_decode.rs"]
mod gofer_decode;
#[path = "../fuzz/checks/oci_config.rs"]
mod oci_config;
#[path = "../fuzz/checks/path_walk.rs"]
mod path_walk;

/// Every file of `dir` (none if it does not exist), sorted.
fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

fn replay(target: &str, check: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = inputs(&fuzz.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target} is empty: the replay would check nothing"
    );
    let artifacts = inputs(&fuzz.join("artifacts").join(target));
    for p in corpus.iter().chain(&artifacts) {
        let data = std::fs::read(p).expect("read input");
        let r = std::panic::catch_unwind(|| check(&data));
        assert!(r.is_ok(), "{target}: {} fails its invariant", p.display());
    }
    println!(
        "{target}: {} corpus inputs, {} artifacts replayed",
        corpus.len(),
        artifacts.len()
    );
}

#[test]
fn gofer_decode_corpus() {
    replay("gofer_decode", gofer_decode::check);
}

#[test]
fn oci_config_corpus() {
    replay("oci_config", oci_config::check);
}

#[test]
fn path_walk_corpus() {
    replay("path_walk", path_walk::check);
}
