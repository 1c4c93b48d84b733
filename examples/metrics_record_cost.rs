//! What the sentry's counters add to one answered syscall, measured alone
//! (the container runs of benches/run.sh's "metrics on and off" block
//! are too noisy on a shared 2-CPU machine to show tens of nanoseconds
//! next to a 2.5-6 µs notification round trip).
//!
//!     cargo run --release --example metrics_record_cost [-- --quick]
//!
//! Prints `record_ns N`: the median over 15 batches of (receipt time
//! taken + `record_syscall`) minus (receipt time taken alone), i.e. the
//! sink lookup and one relaxed atomic addition per call, plus a clock read
//! and two additions for the one call in `shm::SAMPLE` whose latency is
//! observed; and `clock_ns N`, one `Instant::now()`, for scale.

use std::hint::black_box;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: u32 = if quick { 100_000 } else { 2_000_000 };
    let dir = std::env::temp_dir().join(format!("runrs-record-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    runrs::metrics::shm::create(&dir).expect("counters file");
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        let t = Instant::now();
        for i in 0..n {
            let received = black_box(Instant::now());
            runrs::metrics::shm::record_syscall(black_box(i % 4 + 257), received);
        }
        with.push(t.elapsed().as_nanos() as f64 / f64::from(n));
        let t = Instant::now();
        for i in 0..n {
            let received = black_box(Instant::now());
            black_box((i % 4 + 257, received));
        }
        without.push(t.elapsed().as_nanos() as f64 / f64::from(n));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (w, wo) = (median(with), median(without));
    println!("record_ns {:.1}", (w - wo).max(0.0));
    println!("clock_ns {wo:.1}");
}
