//! Pod-level overhead of runrs under containerd's CRI (run by
//! benches/cri.sh, which starts the CRI suite's containerd first):
//!
//! - start latency of a 2-container pod (RunPodSandbox, then Create and
//!   StartContainer of two containers, until both run), per runtime handler,
//!   rounds interleaved, median and ratio against runc;
//! - memory of the runrs sandbox processes of such a pod: RSS and PSS of each
//!   container's sentry (`runrs boot`) and gofer (`runrs gofer`), the pause
//!   container's included.
//!
//! Usage: cri_pod [ROUNDS] [OUT.tsv]. Prints a markdown report; writes raw
//! numbers (handler, round, seconds / process, kind, kB) to OUT.tsv.
//! Built as an example (`cargo run --release --example cri_pod`), so that
//! `cargo test --all-targets` builds it and never runs it.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use k8s_cri::v1 as cri;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use tonic::transport::{Channel, Endpoint, Uri};

// KEEP IN SYNC: scripts/e2e-cri-setup.sh
const SOCK: &str = "/run/runrs-test-cri/containerd.sock";
const BUSYBOX: &str = "runrs.test/busybox:1";
const HANDLERS: [&str; 2] = ["runc", "runrs"];

type Rs = RuntimeServiceClient<Channel>;

fn block<T>(
    rt: &tokio::runtime::Runtime,
    what: &str,
    fut: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> T {
    match rt.block_on(async { tokio::time::timeout(Duration::from_secs(120), fut).await }) {
        Ok(Ok(r)) => r.into_inner(),
        Ok(Err(s)) => panic!("{what}: {:?}: {}", s.code(), s.message()),
        Err(_) => panic!("{what}: no answer within 120 s"),
    }
}

fn pod_config(n: usize, handler: &str) -> cri::PodSandboxConfig {
    let ns = cri::NamespaceOption {
        network: cri::NamespaceMode::Pod as i32,
        pid: cri::NamespaceMode::Container as i32,
        ipc: cri::NamespaceMode::Pod as i32,
        ..Default::default()
    };
    cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: format!("bench-{handler}-{n}"),
            uid: format!("bench-{handler}-{n}-{}", std::process::id()),
            namespace: "runrs-cri-bench".into(),
            attempt: 0,
        }),
        hostname: "bench".into(),
        log_directory: format!("/var/log/runrs-test-cri/bench-{n}"),
        linux: Some(cri::LinuxPodSandboxConfig {
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(ns),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn container(name: &str, pod: &cri::PodSandboxConfig) -> cri::ContainerConfig {
    cri::ContainerConfig {
        metadata: Some(cri::ContainerMetadata {
            name: name.into(),
            attempt: 0,
        }),
        image: Some(cri::ImageSpec {
            image: BUSYBOX.into(),
            ..Default::default()
        }),
        command: vec!["sleep".into(), "100000".into()],
        log_path: format!("{name}.log"),
        linux: Some(cri::LinuxContainerConfig {
            security_context: Some(cri::LinuxContainerSecurityContext {
                namespace_options: pod
                    .linux
                    .as_ref()
                    .and_then(|l| l.security_context.as_ref())
                    .and_then(|s| s.namespace_options.clone()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Runs a 2-container pod; (seconds to both running, pod id, container ids).
fn start_pod(
    rt: &tokio::runtime::Runtime,
    rs: &Rs,
    n: usize,
    handler: &str,
) -> (f64, String, Vec<String>) {
    let config = pod_config(n, handler);
    let t0 = Instant::now();
    let pod = block(
        rt,
        "RunPodSandbox",
        rs.clone().run_pod_sandbox(cri::RunPodSandboxRequest {
            config: Some(config.clone()),
            runtime_handler: handler.into(),
        }),
    )
    .pod_sandbox_id;
    let mut ids = Vec::new();
    for name in ["one", "two"] {
        let id = block(
            rt,
            "CreateContainer",
            rs.clone().create_container(cri::CreateContainerRequest {
                pod_sandbox_id: pod.clone(),
                config: Some(container(name, &config)),
                sandbox_config: Some(config.clone()),
            }),
        )
        .container_id;
        block(
            rt,
            "StartContainer",
            rs.clone().start_container(cri::StartContainerRequest {
                container_id: id.clone(),
            }),
        );
        ids.push(id);
    }
    (t0.elapsed().as_secs_f64(), pod, ids)
}

fn remove_pod(rt: &tokio::runtime::Runtime, rs: &Rs, pod: &str) {
    block(
        rt,
        "StopPodSandbox",
        rs.clone().stop_pod_sandbox(cri::StopPodSandboxRequest {
            pod_sandbox_id: pod.into(),
        }),
    );
    block(
        rt,
        "RemovePodSandbox",
        rs.clone().remove_pod_sandbox(cri::RemovePodSandboxRequest {
            pod_sandbox_id: pod.into(),
        }),
    );
}

/// (kind, rss kB, pss kB) of each runrs sentry and gofer naming `id`.
fn sandbox_memory(id: &str) -> Vec<(String, u64, u64)> {
    let mut v = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return v;
    };
    for e in rd.flatten() {
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if !cmd.contains(id) {
            continue;
        }
        let kind = if cmd.contains(" boot ") {
            "sentry"
        } else if cmd.contains(" gofer ") {
            "gofer"
        } else {
            continue;
        };
        let rollup = std::fs::read_to_string(e.path().join("smaps_rollup")).unwrap_or_default();
        let field = |name: &str| {
            rollup
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        v.push((kind.to_string(), field("Rss:"), field("Pss:")));
    }
    v
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let out_path = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "build/bench/cri.tsv".into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let channel = rt
        .block_on(async {
            Endpoint::try_from("http://[::]:50051")?
                .connect_with_connector(tower::service_fn(|_: Uri| async {
                    Ok::<_, std::io::Error>(TokioIo::new(
                        tokio::net::UnixStream::connect(SOCK).await?,
                    ))
                }))
                .await
        })
        .unwrap_or_else(|e| panic!("connecting to {SOCK} (run scripts/e2e-cri-setup.sh): {e}"));
    let rs = RuntimeServiceClient::new(channel);
    let mut raw = String::from("kind\thandler\tround\tname\tvalue\n");
    let mut starts: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    // One warm-up pod per handler (image unpacking, first shim start).
    for h in HANDLERS {
        let (_, pod, _) = start_pod(&rt, &rs, 0, h);
        remove_pod(&rt, &rs, &pod);
    }
    let mut memory = Vec::new();
    for round in 0..rounds {
        // Rotate the order every round.
        for i in 0..HANDLERS.len() {
            let h = HANDLERS[(i + round) % HANDLERS.len()];
            let (secs, pod, ids) = start_pod(&rt, &rs, round + 1, h);
            starts.entry(h).or_default().push(secs);
            raw.push_str(&format!("start\t{h}\t{round}\tpod\t{secs:.4}\n"));
            if h == "runrs" && round == 0 {
                // Let the sandboxes settle before reading their memory.
                std::thread::sleep(Duration::from_secs(2));
                for (name, id) in [("pause", &pod), ("one", &ids[0]), ("two", &ids[1])] {
                    for (kind, rss, pss) in sandbox_memory(id) {
                        raw.push_str(&format!("rss\trunrs\t0\t{name}-{kind}\t{rss}\n"));
                        raw.push_str(&format!("pss\trunrs\t0\t{name}-{kind}\t{pss}\n"));
                        memory.push((name, kind, rss, pss));
                    }
                }
            }
            remove_pod(&rt, &rs, &pod);
        }
    }
    if let Some(dir) = std::path::Path::new(&out_path).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out_path, &raw).unwrap_or_else(|e| panic!("{out_path}: {e}"));

    let mut out = std::io::stdout().lock();
    let runc = median(
        starts
            .get_mut("runc")
            .map(|v| &mut v[..])
            .unwrap_or(&mut []),
    );
    let runrs = median(
        starts
            .get_mut("runrs")
            .map(|v| &mut v[..])
            .unwrap_or(&mut []),
    );
    let _ = writeln!(
        out,
        "## CRI pod start (2 containers), median of {rounds} rounds\n"
    );
    let _ = writeln!(out, "| handler | start (ms) | vs runc |\n|---|---:|---:|");
    let _ = writeln!(out, "| runc | {:.0} | 1.00x |", runc * 1e3);
    let _ = writeln!(out, "| runrs | {:.0} | {:.2}x |", runrs * 1e3, runrs / runc);
    let _ = writeln!(out, "\n## runrs sandbox memory per container (kB)\n");
    let _ = writeln!(
        out,
        "| container | process | RSS | PSS |\n|---|---|---:|---:|"
    );
    let (mut rss_sum, mut pss_sum) = (0, 0);
    for (name, kind, rss, pss) in &memory {
        let _ = writeln!(out, "| {name} | {kind} | {rss} | {pss} |");
        rss_sum += rss;
        pss_sum += pss;
    }
    let _ = writeln!(out, "| **pod** | all | {rss_sum} | {pss_sum} |");
    let _ = writeln!(out, "\nraw numbers: {out_path}");
}
