//! Kubernetes pods on runrs through containerd's CRI, driven the way the
//! kubelet drives it: gRPC (the CRI v1 RuntimeService and ImageService of
//! the `k8s-cri` crate) on the socket of a containerd of the suite's own,
//! with the runtime handler runrs (runc shim v2, BinaryName = runrs).
//! scripts/e2e-cri-setup.sh (run once per test binary) installs the
//! packages, starts that containerd (CRI plugin, CNI bridge, handlers runrs,
//! runrs-ptrace, runc and runrs-broken) and imports the images it builds
//! from the busybox rootfs (no registry). These tests never skip.
//!
//! `RUNRS_CRI_HANDLER=runc` runs the same suite on runc (it must pass there
//! too: the expectations are Kubernetes', not runrs's); with
//! `RUNRS_CRI_HANDLER=runrs-broken` every pod test fails.
//!
//! Run: `cargo test --release --test e2e_cri -- --nocapture`

mod e2e;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use e2e::{pids_mentioning, run_setup_once, run_with_timeout, unique_name, wait_until};
use hyper_util::rt::TokioIo;
use k8s_cri::v1 as cri;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use tonic::transport::{Channel, Endpoint, Uri};

// KEEP IN SYNC: scripts/e2e-cri-setup.sh
const SOCK: &str = "/run/runrs-test-cri/containerd.sock";
/// The shims' `--root` is `<RUN_DIR>/<handler>` (the handler's `Root`
/// option), plus the containerd namespace.
const RUN_DIR: &str = "/run/runrs-test-cri";
const BUSYBOX: &str = "runrs.test/busybox:1";
const PAUSE: &str = "runrs.test/pause:1";
const NOENTRY: &str = "runrs.test/noentry:1";
const LOG_ROOT: &str = "/var/log/runrs-test-cri";
const RPC_TIMEOUT: Duration = Duration::from_secs(120);

/// The runtime handler under test (`RUNRS_CRI_HANDLER`, default runrs).
fn handler() -> String {
    std::env::var("RUNRS_CRI_HANDLER").unwrap_or_else(|_| "runrs".into())
}

fn is_runrs(handler: &str) -> bool {
    handler.starts_with("runrs")
}

/// Runs scripts/e2e-cri-setup.sh once per test binary; panics with its
/// output when it fails.
fn ensure_setup() {
    static SETUP: OnceLock<Result<String, String>> = OnceLock::new();
    run_setup_once(&SETUP, "e2e-cri-setup.sh", "cannot test the CRI");
}

/// A CRI client: the kubelet's two gRPC services on containerd's socket,
/// called synchronously on a runtime of its own.
struct Cri {
    rt: tokio::runtime::Runtime,
    rs: RuntimeServiceClient<Channel>,
    is: ImageServiceClient<Channel>,
}

impl Cri {
    fn connect() -> Cri {
        ensure_setup();
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
            .unwrap_or_else(|e| panic!("connecting to the CRI on {SOCK}: {e}"));
        Cri {
            rt,
            rs: RuntimeServiceClient::new(channel.clone()),
            is: ImageServiceClient::new(channel),
        }
    }

    /// Runs one RPC with a timeout; Err is the gRPC status text.
    fn call<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<T, String> {
        match self
            .rt
            .block_on(async { tokio::time::timeout(RPC_TIMEOUT, fut).await })
        {
            Ok(Ok(r)) => Ok(r.into_inner()),
            Ok(Err(s)) => Err(format!("{what}: {:?}: {}", s.code(), s.message())),
            Err(_) => Err(format!("{what}: no answer within {RPC_TIMEOUT:?}")),
        }
    }

    fn run_pod(&self, config: &cri::PodSandboxConfig, handler: &str) -> Result<String, String> {
        let req = cri::RunPodSandboxRequest {
            config: Some(config.clone()),
            runtime_handler: handler.to_string(),
        };
        Ok(self
            .call("RunPodSandbox", self.rs.clone().run_pod_sandbox(req))?
            .pod_sandbox_id)
    }

    fn stop_pod(&self, id: &str) -> Result<(), String> {
        let req = cri::StopPodSandboxRequest {
            pod_sandbox_id: id.into(),
        };
        self.call("StopPodSandbox", self.rs.clone().stop_pod_sandbox(req))
            .map(drop)
    }

    fn remove_pod(&self, id: &str) -> Result<(), String> {
        let req = cri::RemovePodSandboxRequest {
            pod_sandbox_id: id.into(),
        };
        self.call("RemovePodSandbox", self.rs.clone().remove_pod_sandbox(req))
            .map(drop)
    }

    fn pod_status(&self, id: &str) -> cri::PodSandboxStatusResponse {
        let req = cri::PodSandboxStatusRequest {
            pod_sandbox_id: id.into(),
            verbose: true,
        };
        self.call("PodSandboxStatus", self.rs.clone().pod_sandbox_status(req))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn create_container(
        &self,
        pod_id: &str,
        pod: &cri::PodSandboxConfig,
        config: cri::ContainerConfig,
    ) -> Result<String, String> {
        let req = cri::CreateContainerRequest {
            pod_sandbox_id: pod_id.into(),
            config: Some(config),
            sandbox_config: Some(pod.clone()),
        };
        Ok(self
            .call("CreateContainer", self.rs.clone().create_container(req))?
            .container_id)
    }

    fn start_container(&self, id: &str) -> Result<(), String> {
        let req = cri::StartContainerRequest {
            container_id: id.into(),
        };
        self.call("StartContainer", self.rs.clone().start_container(req))
            .map(drop)
    }

    fn stop_container(&self, id: &str) -> Result<(), String> {
        let req = cri::StopContainerRequest {
            container_id: id.into(),
            timeout: 10,
        };
        self.call("StopContainer", self.rs.clone().stop_container(req))
            .map(drop)
    }

    fn remove_container(&self, id: &str) -> Result<(), String> {
        let req = cri::RemoveContainerRequest {
            container_id: id.into(),
        };
        self.call("RemoveContainer", self.rs.clone().remove_container(req))
            .map(drop)
    }

    fn status(&self, id: &str) -> cri::ContainerStatusResponse {
        let req = cri::ContainerStatusRequest {
            container_id: id.into(),
            verbose: true,
        };
        self.call("ContainerStatus", self.rs.clone().container_status(req))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn state(&self, id: &str) -> cri::ContainerStatus {
        self.status(id)
            .status
            .expect("ContainerStatus without status")
    }

    /// The host pid of a running container's init (the verbose info's "pid").
    fn pid(&self, id: &str) -> u32 {
        let info = self.status(id).info;
        let v: serde_json::Value = serde_json::from_str(info.get("info").map_or("{}", |s| s))
            .expect("ContainerStatus info is JSON");
        v["pid"]
            .as_u64()
            .unwrap_or_else(|| panic!("no pid in ContainerStatus info: {info:?}")) as u32
    }

    /// Waits until the container exited; its final status.
    fn wait_exited(&self, id: &str, timeout: Duration) -> cri::ContainerStatus {
        let mut last = None;
        let done = wait_until(timeout, || {
            let st = self.state(id);
            let exited = st.state == cri::ContainerState::ContainerExited as i32;
            last = Some(st);
            exited
        });
        let st = last.expect("at least one status");
        assert!(
            done,
            "container {id} did not exit within {timeout:?}: {st:?}"
        );
        st
    }

    fn exec_sync(&self, id: &str, cmd: &[&str]) -> cri::ExecSyncResponse {
        let req = cri::ExecSyncRequest {
            container_id: id.into(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            timeout: 60,
        };
        self.call("ExecSync", self.rs.clone().exec_sync(req))
            .unwrap_or_else(|e| panic!("{e} ({cmd:?})"))
    }

    /// ExecSync that must succeed; its stdout.
    fn sh(&self, id: &str, script: &str) -> String {
        let r = self.exec_sync(id, &["sh", "-c", script]);
        let out = String::from_utf8_lossy(&r.stdout).into_owned();
        assert_eq!(
            r.exit_code,
            0,
            "ExecSync sh -c {script:?} in {id}: exit {}, stdout {out:?}, stderr {:?}",
            r.exit_code,
            String::from_utf8_lossy(&r.stderr)
        );
        out
    }

    fn list_containers(&self, pod_id: &str) -> Vec<cri::Container> {
        let req = cri::ListContainersRequest {
            filter: Some(cri::ContainerFilter {
                pod_sandbox_id: pod_id.into(),
                ..Default::default()
            }),
        };
        self.call("ListContainers", self.rs.clone().list_containers(req))
            .unwrap_or_else(|e| panic!("{e}"))
            .containers
    }

    fn image_present(&self, image: &str) -> bool {
        let req = cri::ImageStatusRequest {
            image: Some(cri::ImageSpec {
                image: image.into(),
                ..Default::default()
            }),
            verbose: false,
        };
        self.call("ImageStatus", self.is.clone().image_status(req))
            .unwrap_or_else(|e| panic!("{e}"))
            .image
            .is_some()
    }
}

/// How a pod's processes share namespaces.
#[derive(Clone, Copy, PartialEq)]
enum PidMode {
    /// Each container its own pid namespace (the kubelet's default).
    PerContainer,
    /// `shareProcessNamespace: true`: every container in the pause
    /// container's pid namespace.
    Pod,
}

fn namespace_options(pid: PidMode) -> cri::NamespaceOption {
    cri::NamespaceOption {
        network: cri::NamespaceMode::Pod as i32,
        pid: match pid {
            PidMode::PerContainer => cri::NamespaceMode::Container as i32,
            PidMode::Pod => cri::NamespaceMode::Pod as i32,
        },
        ipc: cri::NamespaceMode::Pod as i32,
        ..Default::default()
    }
}

/// A pod sandbox, stopped and removed on drop (pass or fail).
struct Pod<'a> {
    cri: &'a Cri,
    id: String,
    config: cri::PodSandboxConfig,
    pid: PidMode,
    handler: String,
    /// Every container created in it, for the leftover checks.
    containers: Vec<String>,
}

impl<'a> Pod<'a> {
    fn config(name: &str, pid: PidMode, cgroup_parent: Option<&str>) -> cri::PodSandboxConfig {
        let uid = unique_name(name);
        cri::PodSandboxConfig {
            metadata: Some(cri::PodSandboxMetadata {
                name: name.into(),
                uid: uid.clone(),
                namespace: "runrs-cri-test".into(),
                attempt: 0,
            }),
            hostname: format!("{name}-host"),
            log_directory: format!("{LOG_ROOT}/{uid}"),
            linux: Some(cri::LinuxPodSandboxConfig {
                cgroup_parent: cgroup_parent.unwrap_or_default().into(),
                security_context: Some(cri::LinuxSandboxSecurityContext {
                    namespace_options: Some(namespace_options(pid)),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// RunPodSandbox on `handler`; panics unless it runs.
    fn run_on(cri: &'a Cri, handler: &str, name: &str, pid: PidMode, cg: Option<&str>) -> Pod<'a> {
        let config = Pod::config(name, pid, cg);
        let id = cri
            .run_pod(&config, handler)
            .unwrap_or_else(|e| panic!("pod {name} on handler {handler}: {e}"));
        Pod {
            cri,
            id,
            config,
            pid,
            handler: handler.into(),
            containers: Vec::new(),
        }
    }

    fn run(cri: &'a Cri, name: &str, pid: PidMode) -> Pod<'a> {
        Pod::run_on(cri, &handler(), name, pid, None)
    }

    fn log_dir(&self) -> PathBuf {
        PathBuf::from(&self.config.log_directory)
    }

    /// A container config as the kubelet makes it: `command` replaces the
    /// image's entrypoint, the log under the pod's log directory.
    fn container_config(
        &self,
        name: &str,
        attempt: u32,
        image: &str,
        command: &[&str],
        resources: Option<cri::LinuxContainerResources>,
    ) -> cri::ContainerConfig {
        cri::ContainerConfig {
            metadata: Some(cri::ContainerMetadata {
                name: name.into(),
                attempt,
            }),
            image: Some(cri::ImageSpec {
                image: image.into(),
                ..Default::default()
            }),
            command: command.iter().map(|s| s.to_string()).collect(),
            log_path: format!("{name}/{attempt}.log"),
            linux: Some(cri::LinuxContainerConfig {
                resources,
                security_context: Some(cri::LinuxContainerSecurityContext {
                    namespace_options: Some(namespace_options(self.pid)),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }
    }

    fn create(&mut self, config: cri::ContainerConfig) -> Result<String, String> {
        let id = self.cri.create_container(&self.id, &self.config, config)?;
        self.containers.push(id.clone());
        Ok(id)
    }

    /// Creates and starts a busybox container running `sh -c script`.
    fn start_sh(&mut self, name: &str, script: &str) -> String {
        self.start(self.container_config(name, 0, BUSYBOX, &["sh", "-c", script], None))
    }

    fn start(&mut self, config: cri::ContainerConfig) -> String {
        let name = config.metadata.as_ref().map(|m| m.name.clone());
        let id = self
            .create(config)
            .unwrap_or_else(|e| panic!("container {name:?}: {e}"));
        self.cri
            .start_container(&id)
            .unwrap_or_else(|e| panic!("container {name:?}: {e}"));
        id
    }

    /// StopPodSandbox + RemovePodSandbox, then checks that nothing of the
    /// pod is left: no process naming it or its containers, no mount, no
    /// runtime state dir, no container cgroup.
    fn remove_and_check(mut self) {
        let id = std::mem::take(&mut self.id);
        self.cri.stop_pod(&id).unwrap_or_else(|e| panic!("{e}"));
        self.cri.remove_pod(&id).unwrap_or_else(|e| panic!("{e}"));
        let mut ids = self.containers.clone();
        ids.push(id.clone());
        let parent = self
            .config
            .linux
            .as_ref()
            .map(|l| l.cgroup_parent.clone())
            .unwrap_or_default();
        let mut left = Vec::new();
        let gone = wait_until(Duration::from_secs(30), || {
            left = leftovers(&self.handler, &ids, &parent);
            left.is_empty()
        });
        assert!(
            gone,
            "pod {id} left behind after RemovePodSandbox:\n{}",
            left.join("\n")
        );
        let listed = self.cri.list_containers(&id);
        assert!(
            listed.is_empty(),
            "containers of {id} still listed: {listed:?}"
        );
        let req = cri::PodSandboxStatusRequest {
            pod_sandbox_id: id.clone(),
            verbose: false,
        };
        let status = self.cri.call(
            "PodSandboxStatus",
            self.cri.rs.clone().pod_sandbox_status(req),
        );
        assert!(
            status.is_err(),
            "pod {id} still known after RemovePodSandbox: {status:?}"
        );
    }
}

impl Drop for Pod<'_> {
    fn drop(&mut self) {
        if !self.id.is_empty() {
            let _ = self.cri.stop_pod(&self.id);
            let _ = self.cri.remove_pod(&self.id);
        }
        let _ = std::fs::remove_dir_all(self.log_dir());
        if let Some(parent) = self.config.linux.as_ref().map(|l| &l.cgroup_parent) {
            remove_cgroup_parent(parent);
        }
    }
}

/// The cgroup v1 hierarchies (or the v2 mount) of this host, from mountinfo.
fn cgroup_mounts() -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter(|l| l.contains(" - cgroup ") || l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .collect()
}

/// The directory of cgroup `path` in the hierarchy of `controller`.
fn cgroup_dir(controller: &str, path: &str) -> PathBuf {
    let mounts = cgroup_mounts();
    let base = mounts
        .iter()
        .find(|m| {
            m.file_name()
                .is_some_and(|n| n.to_string_lossy().split(',').any(|c| c == controller))
        })
        .or_else(|| {
            mounts
                .iter()
                .find(|m| m.ends_with("unified") || m.as_os_str() == "/sys/fs/cgroup")
        })
        .unwrap_or_else(|| panic!("no cgroup hierarchy for {controller}: {mounts:?}"));
    base.join(path.trim_start_matches('/'))
}

/// Removes the pod's cgroup parent from every hierarchy (the kubelet owns
/// it; containerd and the runtime create it on demand).
fn remove_cgroup_parent(parent: &str) {
    if parent.is_empty() {
        return;
    }
    for m in cgroup_mounts() {
        let _ = std::fs::remove_dir(m.join(parent.trim_start_matches('/')));
    }
}

/// What is left on the host of containers `ids` (a description per item).
fn leftovers(handler: &str, ids: &[String], cgroup_parent: &str) -> Vec<String> {
    let mut left = Vec::new();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for id in ids {
        for (pid, cmdline) in pids_mentioning(id) {
            left.push(format!("process {pid}: {cmdline}"));
        }
        for l in mountinfo.lines().filter(|l| l.contains(id.as_str())) {
            left.push(format!("mount: {l}"));
        }
        let state = Path::new(RUN_DIR).join(handler).join("k8s.io").join(id);
        if state.exists() {
            left.push(format!("runtime state dir {}", state.display()));
        }
        if !cgroup_parent.is_empty() {
            for m in cgroup_mounts() {
                let dir = m.join(cgroup_parent.trim_start_matches('/')).join(id);
                if dir.exists() {
                    left.push(format!("cgroup {}", dir.display()));
                }
            }
        }
    }
    left
}

/// One line of a CRI container log: `<RFC 3339 time> <stream> <P|F> <text>`.
#[derive(Debug)]
struct LogLine {
    stream: String,
    tag: String,
    text: String,
}

/// Parses a CRI-format log file, panicking on a line not in that format.
fn read_cri_log(path: &Path) -> Vec<LogLine> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("container log {}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let mut it = l.splitn(4, ' ');
            let (ts, stream, tag, rest) = (it.next(), it.next(), it.next(), it.next());
            let ts = ts.unwrap_or_default();
            let ok_ts = ts.len() >= 20
                && ts.as_bytes()[4] == b'-'
                && ts.as_bytes()[10] == b'T'
                && (ts.ends_with('Z') || ts[19..].contains(['+', '-']));
            assert!(ok_ts, "log line without an RFC 3339 time: {l:?}");
            let stream = stream.unwrap_or_default().to_string();
            assert!(
                stream == "stdout" || stream == "stderr",
                "log line without a stream: {l:?}"
            );
            let tag = tag.unwrap_or_default().to_string();
            assert!(
                tag == "F" || tag == "P",
                "log line without a P/F tag: {l:?}"
            );
            LogLine {
                stream,
                tag,
                text: rest.unwrap_or_default().to_string(),
            }
        })
        .collect()
}

/// Checks that `id` runs under runrs when the handler is a runrs one: the
/// runtime's state dir under the handler's root, and a sentry (the seccomp
/// user-notification listener) whose command line names the container.
fn assert_runs_on_handler(handler: &str, id: &str) {
    let state = Path::new(RUN_DIR).join(handler).join("k8s.io").join(id);
    assert!(
        state.is_dir(),
        "container {id}: no runtime state dir {} (is it running on handler {handler}?)",
        state.display()
    );
    if is_runrs(handler) {
        let procs = pids_mentioning(id);
        assert!(
            procs.iter().any(|(_, cl)| cl.contains(" boot ")),
            "container {id}: no runrs sentry (`runrs ... boot`) among {procs:?}"
        );
    }
}

/// `runrs state` of a container under the handler's root (runrs handlers).
fn runrs_state(handler: &str, id: &str) -> serde_json::Value {
    let root = Path::new(RUN_DIR).join(handler).join("k8s.io");
    let out = run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_runrs"))
            .arg("--root")
            .arg(&root)
            .args(["state", id]),
        Duration::from_secs(30),
    );
    assert!(out.success(), "runrs state {id}: {out}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("runrs state {id}: {e}: {out}"))
}

/// Streaming exec as `kubectl exec` does it: Exec returns a URL of the
/// CRI streaming server, which speaks Kubernetes' remotecommand protocol
/// over a websocket (`v4.channel.k8s.io`: each binary message starts with
/// its channel, 1 stdout, 2 stderr, 3 the final status as JSON).
/// Returns (stdout, stderr, status JSON).
fn stream_exec(cri: &Cri, id: &str, cmd: &[&str]) -> (String, String, serde_json::Value) {
    let req = cri::ExecRequest {
        container_id: id.into(),
        cmd: cmd.iter().map(|s| s.to_string()).collect(),
        tty: false,
        stdin: false,
        stdout: true,
        stderr: true,
    };
    let url = cri
        .call("Exec", cri.rs.clone().exec(req))
        .unwrap_or_else(|e| panic!("{e}"))
        .url;
    let mut ws = ws_connect(&url);
    let (mut stdout, mut stderr, mut status) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Binary(b)) if !b.is_empty() => match b[0] {
                1 => stdout.extend_from_slice(&b[1..]),
                2 => stderr.extend_from_slice(&b[1..]),
                3 => status.extend_from_slice(&b[1..]),
                _ => {}
            },
            Ok(tungstenite::Message::Close(_)) => break,
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) | Err(tungstenite::Error::AlreadyClosed) => {
                break
            }
            Err(e) => panic!("streaming exec {cmd:?} in {id}: {e}"),
        }
    }
    let status = serde_json::from_slice(&status).unwrap_or(serde_json::Value::Null);
    (
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
        status,
    )
}

/// Attach (kubectl attach) to a running container's stdout, through the
/// same streaming server and protocol as exec; reads until `needle` shows.
fn attach_until(cri: &Cri, id: &str, needle: &str) -> String {
    let req = cri::AttachRequest {
        container_id: id.into(),
        stdin: false,
        tty: false,
        stdout: true,
        stderr: true,
    };
    let url = cri
        .call("Attach", cri.rs.clone().attach(req))
        .unwrap_or_else(|e| panic!("{e}"))
        .url;
    let mut ws = ws_connect(&url);
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(needle) {
        match ws.read() {
            Ok(tungstenite::Message::Binary(b)) if b.len() > 1 && b[0] == 1 => {
                seen.extend_from_slice(&b[1..])
            }
            Ok(tungstenite::Message::Close(_)) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "attach to {id}: {e} (seen {:?})",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    let _ = ws.close(None);
    String::from_utf8_lossy(&seen).into_owned()
}

/// PortForward (kubectl port-forward) to `port` in the pod's network
/// namespace: Kubernetes' port-forward websocket protocol (a data and an
/// error channel per port, each opened with the port number, little
/// endian); sends `request` and reads the data channel until `needle`.
fn port_forward(cri: &Cri, pod_id: &str, port: u16, request: &str, needle: &str) -> String {
    let req = cri::PortForwardRequest {
        pod_sandbox_id: pod_id.into(),
        port: vec![port.into()],
    };
    let url = cri
        .call("PortForward", cri.rs.clone().port_forward(req))
        .unwrap_or_else(|e| panic!("{e}"))
        .url;
    let mut ws = ws_connect(&format!("{url}?port={port}"));
    ws.send(tungstenite::Message::Binary(
        [&[0u8][..], request.as_bytes()].concat().into(),
    ))
    .unwrap_or_else(|e| panic!("port-forward send: {e}"));
    let mut data = Vec::new();
    let mut opened = false;
    while !String::from_utf8_lossy(&data).contains(needle) {
        match ws.read() {
            Ok(tungstenite::Message::Binary(b)) if !b.is_empty() && b[0] == 0 => {
                // The first data frame is the port number.
                if !opened && b.len() == 3 && b[1..] == port.to_le_bytes() {
                    opened = true;
                } else {
                    data.extend_from_slice(&b[1..]);
                }
            }
            Ok(tungstenite::Message::Binary(b)) if b.len() > 3 && b[0] == 1 => {
                panic!("port-forward error: {}", String::from_utf8_lossy(&b[3..]))
            }
            Ok(tungstenite::Message::Close(_)) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "port-forward to {port}: {e} (data {:?})",
                String::from_utf8_lossy(&data)
            ),
        }
    }
    let _ = ws.close(None);
    String::from_utf8_lossy(&data).into_owned()
}

/// A websocket to a CRI streaming server URL, speaking Kubernetes'
/// remotecommand protocol v4 (`v4.channel.k8s.io`).
fn ws_connect(url: &str) -> tungstenite::WebSocket<std::net::TcpStream> {
    use tungstenite::client::IntoClientRequest;
    let ws_url = url.replacen("http://", "ws://", 1);
    let mut request = ws_url
        .as_str()
        .into_client_request()
        .unwrap_or_else(|e| panic!("Exec URL {url}: {e}"));
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "v4.channel.k8s.io".parse().expect("header value"),
    );
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let tcp = std::net::TcpStream::connect(&addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    tcp.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    let (ws, _) = tungstenite::client(request, tcp)
        .unwrap_or_else(|e| panic!("websocket handshake with {url}: {e}"));
    ws
}

/// The pod of the kubelet's default kind (network, IPC and UTS shared
/// through the pause container, a pid namespace per container): two
/// containers reach each other over localhost, share a SysV shm segment
/// and the hostname; ExecSync, streaming exec, the CRI log format; a
/// container that exits is restarted (attempt 1) and removed; stopping and
/// removing the pod leaves nothing behind.
#[test]
fn pod_shares_network_ipc_uts_exec_logs_restart_and_cleanup() {
    let cri = Cri::connect();
    let h = handler();
    assert!(
        cri.image_present(BUSYBOX) && cri.image_present(PAUSE),
        "images missing"
    );
    let mut pod = Pod::run(&cri, "netipc", PidMode::PerContainer);
    assert_runs_on_handler(&h, &pod.id);
    let st = cri.pod_status(&pod.id);
    let status = st.status.expect("PodSandboxStatus without status");
    assert_eq!(
        status.state,
        cri::PodSandboxState::SandboxReady as i32,
        "{status:?}"
    );
    assert_eq!(status.runtime_handler, h);
    let ip = status.network.map(|n| n.ip).unwrap_or_default();
    assert!(
        ip.starts_with("10.251.77."),
        "pod IP {ip:?} is not on the suite's CNI bridge"
    );

    let server = pod.start_sh(
        "server",
        "mkdir -p /tmp/www && echo hello-from-server >/tmp/www/index.html && \
         podtool shm-put 4242 shm-from-server && \
         echo started-out && echo started-err >&2 && \
         exec httpd -f -p 127.0.0.1:8080 -h /tmp/www",
    );
    let client = pod.start_sh("client", "exec sleep 100000");
    assert_runs_on_handler(&h, &server);
    assert_runs_on_handler(&h, &client);
    if is_runrs(&h) {
        // The CRI plugin's annotations reach runrs (runrs state shows them).
        let annotation = |id: &str, key: &str| {
            runrs_state(&h, id)["annotations"][key]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        let kind = "io.kubernetes.cri.container-type";
        assert_eq!(annotation(&pod.id, kind), "sandbox");
        assert_eq!(annotation(&server, kind), "container");
        assert_eq!(annotation(&server, "io.kubernetes.cri.sandbox-id"), pod.id);
        assert_eq!(
            annotation(&client, "io.kubernetes.cri.container-name"),
            "client"
        );
    }

    // localhost: the client fetches from the server's loopback listener.
    let mut got = String::new();
    let reached = wait_until(Duration::from_secs(30), || {
        let r = cri.exec_sync(
            &client,
            &["wget", "-q", "-O", "-", "http://127.0.0.1:8080/index.html"],
        );
        got = format!(
            "{} {}",
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&r.stderr)
        );
        r.exit_code == 0
    });
    assert!(
        reached,
        "client could not reach the server over localhost: {got}"
    );
    assert_eq!(got.trim(), "hello-from-server");
    // IPC: the segment the server made is the client's too.
    assert_eq!(
        cri.sh(&client, "podtool shm-get 4242").trim(),
        "shm-from-server"
    );
    // UTS: both show the pod's hostname.
    for c in [&server, &client] {
        assert_eq!(
            cri.sh(c, "hostname").trim(),
            "netipc-host",
            "hostname in {c}"
        );
    }
    // The pid namespaces are the containers' own.
    let (s_ps, c_ps) = (
        cri.sh(&server, "ps -o pid,comm"),
        cri.sh(&client, "ps -o pid,comm"),
    );
    assert!(
        !c_ps.contains("httpd"),
        "client sees the server's processes without shareProcessNamespace: {c_ps}"
    );
    assert!(s_ps.contains("httpd"), "{s_ps}");

    // ExecSync: stdout, stderr and the exit code apart.
    let r = cri.exec_sync(
        &client,
        &["sh", "-c", "echo to-out; echo to-err >&2; exit 3"],
    );
    assert_eq!(r.exit_code, 3, "{r:?}");
    assert_eq!(String::from_utf8_lossy(&r.stdout), "to-out\n");
    assert_eq!(String::from_utf8_lossy(&r.stderr), "to-err\n");
    // Streaming exec (kubectl exec): output and the exit status.
    let (out, err, status) =
        stream_exec(&cri, &client, &["sh", "-c", "echo s-out; echo s-err >&2"]);
    assert_eq!(
        (out.as_str(), err.as_str()),
        ("s-out\n", "s-err\n"),
        "status {status}"
    );
    assert_eq!(status["status"], "Success", "{status}");
    let (_, _, status) = stream_exec(&cri, &client, &["sh", "-c", "exit 7"]);
    assert_eq!(status["status"], "Failure", "{status}");
    let code = status["details"]["causes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["reason"] == "ExitCode"))
        .and_then(|c| c["message"].as_str())
        .map(str::to_string);
    assert_eq!(code.as_deref(), Some("7"), "{status}");

    // The container log in the CRI format.
    let log = pod.log_dir().join("server/0.log");
    let mut lines = Vec::new();
    let logged = wait_until(Duration::from_secs(20), || {
        lines = if log.exists() {
            read_cri_log(&log)
        } else {
            Vec::new()
        };
        lines.len() >= 2
    });
    assert!(logged, "{}: {lines:?}", log.display());
    assert!(
        lines
            .iter()
            .any(|l| l.stream == "stdout" && l.tag == "F" && l.text == "started-out"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.stream == "stderr" && l.tag == "F" && l.text == "started-err"),
        "{lines:?}"
    );

    // PortForward into the pod's network namespace reaches the server.
    let page = port_forward(
        &cri,
        &pod.id,
        8080,
        "GET /index.html HTTP/1.0\r\n\r\n",
        "hello-from-server",
    );
    assert!(page.contains("hello-from-server"), "{page}");

    // Attach: a container that keeps printing, read live.
    let ticker = pod.start_sh("ticker", "while :; do echo tick-$((n+=1)); sleep 0.2; done");
    let seen = attach_until(&cri, &ticker, "tick-");
    assert!(seen.contains("tick-"), "{seen}");

    // A container that exits; the kubelet's restart is attempt 1 of the
    // same name; then the first attempt is removed.
    let script = "echo attempt-$ATTEMPT; exit $CODE";
    let mut cfg0 = pod.container_config("job", 0, BUSYBOX, &["sh", "-c", script], None);
    cfg0.envs = vec![kv("ATTEMPT", "0"), kv("CODE", "3")];
    let job0 = pod.start(cfg0);
    let st = cri.wait_exited(&job0, Duration::from_secs(60));
    assert_eq!((st.exit_code, st.reason.as_str()), (3, "Error"), "{st:?}");
    let mut cfg1 = pod.container_config("job", 1, BUSYBOX, &["sh", "-c", script], None);
    cfg1.envs = vec![kv("ATTEMPT", "1"), kv("CODE", "0")];
    let job1 = pod.start(cfg1);
    let st = cri.wait_exited(&job1, Duration::from_secs(60));
    assert_eq!(
        (st.exit_code, st.reason.as_str()),
        (0, "Completed"),
        "{st:?}"
    );
    assert_eq!(st.metadata.as_ref().map(|m| m.attempt), Some(1));
    for (attempt, id) in [(0, &job0), (1, &job1)] {
        let lines = read_cri_log(&pod.log_dir().join(format!("job/{attempt}.log")));
        assert!(
            lines.iter().any(|l| l.text == format!("attempt-{attempt}")),
            "attempt {attempt} ({id}): {lines:?}"
        );
    }
    cri.remove_container(&job0)
        .unwrap_or_else(|e| panic!("{e}"));
    let listed: Vec<String> = cri
        .list_containers(&pod.id)
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert!(
        !listed.contains(&job0) && listed.contains(&job1),
        "{listed:?}"
    );
    assert!(
        leftovers(&h, &[job0], "").is_empty(),
        "the removed attempt left something"
    );

    pod.remove_and_check();
}

fn kv(k: &str, v: &str) -> cri::KeyValue {
    cri::KeyValue {
        key: k.into(),
        value: v.into(),
    }
}

/// `shareProcessNamespace: true`: the app containers join the pause
/// container's pid namespace; each sees the other's processes (and pause
/// as pid 1), a signal from one reaches the other, stopping one container
/// stops only its own processes, and each keeps its own sandbox (its own
/// filter, sentry and user namespace: another container's memory and
/// environment stay out of reach, as across user namespaces in Linux).
#[test]
fn shared_process_namespace() {
    let cri = Cri::connect();
    let h = handler();
    let mut pod = Pod::run(&cri, "sharedpid", PidMode::Pod);
    let a = pod.start_sh("a", "export SECRET=a-secret; exec sleep 100001");
    let b = pod.start_sh("b", "exec sleep 100002");
    let c = pod.start_sh("c", "exec sleep 100005");
    for id in [&a, &b, &c] {
        assert_runs_on_handler(&h, id);
    }
    for (me, other) in [(&a, "sleep 100002"), (&b, "sleep 100001")] {
        let ps = cri.sh(me, "ps -o pid,args");
        assert!(ps.contains(other), "{me} does not see `{other}`:\n{ps}");
        let first = ps.lines().nth(1).unwrap_or_default();
        assert!(
            first.split_whitespace().next() == Some("1") && first.contains("pause"),
            "pid 1 is not the pause container's process in {me}:\n{ps}"
        );
    }
    let ps = cri.sh(&b, "ps -o pid,args");
    let a_pid = ps
        .lines()
        .find(|l| l.contains("sleep 100001"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{ps}"))
        .to_string();
    if is_runrs(&h) {
        // Each container is a sandbox of its own: a seccomp filter on each
        // main process, one user namespace each (so b's root holds no
        // capability over a's processes: a's environment is EPERM/EACCES).
        let (ha, hb) = (cri.pid(&a), cri.pid(&b));
        for pid in [ha, hb] {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            assert!(
                status.contains("Seccomp:\t2"),
                "host pid {pid} is not under a filter"
            );
        }
        let userns = |pid: u32| std::fs::read_link(format!("/proc/{pid}/ns/user")).ok();
        assert_ne!(userns(ha), userns(hb), "a and b share a user namespace");
        let r = cri.exec_sync(&b, &["cat", &format!("/proc/{a_pid}/environ")]);
        assert!(
            r.exit_code != 0 && !String::from_utf8_lossy(&r.stdout).contains("a-secret"),
            "b read a's environment: {r:?}"
        );
    }
    // b signals a's main process by a's pid in the shared namespace.
    cri.sh(&b, &format!("kill -TERM {a_pid}"));
    let st = cri.wait_exited(&a, Duration::from_secs(30));
    assert_eq!(st.exit_code, 143, "a after b's SIGTERM: {st:?}");
    // Stopping c (the shim kills all of c's processes) leaves b and the pod.
    cri.stop_container(&c).unwrap_or_else(|e| panic!("{e}"));
    cri.wait_exited(&c, Duration::from_secs(30));
    assert_eq!(
        cri.state(&b).state,
        cri::ContainerState::ContainerRunning as i32,
        "b stopped with a or c"
    );
    let ps = cri.sh(&b, "echo alive; ps -o pid,args");
    assert!(ps.starts_with("alive\n") && ps.contains("pause"), "{ps}");
    assert!(
        !ps.contains("sleep 100005"),
        "c's process survived StopContainer: {ps}"
    );
    let status = cri.pod_status(&pod.id).status.expect("status");
    assert_eq!(status.state, cri::PodSandboxState::SandboxReady as i32);
    pod.remove_and_check();
}

/// The pod's cgroup parent and the containers' CPU and memory limits land
/// in the host's cgroups (and /proc/meminfo inside), UpdateContainerResources
/// changes them, ContainerStats reads them; a container over its
/// memory limit is reported OOMKilled; an image whose entrypoint does not
/// exist fails with an error naming it.
#[test]
fn cgroup_parent_limits_oom_and_missing_entrypoint() {
    let cri = Cri::connect();
    let h = handler();
    let parent = format!("/{}", unique_name("cri-pod"));
    let mut pod = Pod::run_on(&cri, &h, "limits", PidMode::PerContainer, Some(&parent));
    let mib = 1024 * 1024;
    let res = |mem: i64| cri::LinuxContainerResources {
        cpu_period: 100_000,
        cpu_quota: 50_000,
        cpu_shares: 512,
        memory_limit_in_bytes: mem,
        ..Default::default()
    };
    let limited = pod.start(pod.container_config(
        "limited",
        0,
        BUSYBOX,
        &["sleep", "100003"],
        Some(res(96 * mib)),
    ));
    assert_runs_on_handler(&h, &limited);
    let cg = |ctrl: &str, file: &str| {
        let p = cgroup_dir(ctrl, &format!("{parent}/{limited}")).join(file);
        std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .trim()
            .to_string()
    };
    assert_eq!(
        cg("memory", "memory.limit_in_bytes"),
        (96 * mib).to_string()
    );
    assert_eq!(cg("cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(cg("cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(cg("cpu", "cpu.shares"), "512");
    let pid = cri.pid(&limited).to_string();
    assert!(
        cg("memory", "cgroup.procs").lines().any(|l| l == pid),
        "init {pid} is not in its memory cgroup"
    );
    if is_runrs(&h) {
        // runrs's /proc/meminfo shows the container's limit (as gVisor's).
        let meminfo = cri.sh(&limited, "head -1 /proc/meminfo");
        assert_eq!(
            meminfo.split_whitespace().nth(1),
            Some((96 * 1024).to_string().as_str()),
            "MemTotal in the container: {meminfo}"
        );
    }
    // UpdateContainerResources (runrs update through the shim) moves them.
    let mut updated = res(128 * mib);
    updated.cpu_quota = 25_000;
    let req = cri::UpdateContainerResourcesRequest {
        container_id: limited.clone(),
        linux: Some(updated),
        ..Default::default()
    };
    cri.call(
        "UpdateContainerResources",
        cri.rs.clone().update_container_resources(req),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        cg("memory", "memory.limit_in_bytes"),
        (128 * mib).to_string()
    );
    assert_eq!(cg("cpu", "cpu.cfs_quota_us"), "25000");
    // ContainerStats: containerd reads the container's cgroup.
    let req = cri::ContainerStatsRequest {
        container_id: limited.clone(),
    };
    let stats = cri
        .call("ContainerStats", cri.rs.clone().container_stats(req))
        .unwrap_or_else(|e| panic!("{e}"))
        .stats
        .expect("ContainerStats without stats");
    let usage = stats
        .memory
        .and_then(|m| m.usage_bytes)
        .map(|v| v.value)
        .unwrap_or(0);
    assert!(usage > 0, "ContainerStats memory usage: {stats:?}");
    // The sandbox (pause) container is under the same parent.
    assert!(
        cgroup_dir("memory", &format!("{parent}/{}", pod.id)).is_dir(),
        "no cgroup for the sandbox under {parent}"
    );

    // OOM: `tail /dev/zero` keeps one ever-longer line.
    let oom = pod.start(pod.container_config(
        "oom",
        0,
        BUSYBOX,
        &["tail", "/dev/zero"],
        Some(res(48 * mib)),
    ));
    let st = cri.wait_exited(&oom, Duration::from_secs(120));
    assert_eq!(st.reason, "OOMKilled", "{st:?}");
    assert_eq!(st.exit_code, 137, "{st:?}");

    // A missing entrypoint: containerd creates the container record, and
    // StartContainer (the runtime's create) fails naming the path.
    let cfg = pod.container_config("noentry", 0, NOENTRY, &[], None);
    let id = pod.create(cfg).unwrap_or_else(|e| panic!("{e}"));
    let err = cri
        .start_container(&id)
        .expect_err("a container whose entrypoint is missing started");
    assert!(
        err.contains("/no/such/entrypoint"),
        "the error does not name the entrypoint: {err}"
    );
    assert!(
        err.contains("no such file") || err.contains("not found"),
        "the error does not say it is missing: {err}"
    );
    pod.remove_and_check();
}

/// The runrs-ptrace handler runs a pod too (the same binary with
/// `--platform=ptrace`).
#[test]
fn ptrace_handler_runs_a_pod() {
    let cri = Cri::connect();
    let h = "runrs-ptrace";
    let mut pod = Pod::run_on(&cri, h, "ptrace", PidMode::PerContainer, None);
    let c = pod.start_sh("c", "echo ptrace-up; exec sleep 100004");
    assert_runs_on_handler(h, &c);
    assert_eq!(
        cri.sh(&c, "echo $((6*7)); hostname").trim(),
        "42\nptrace-host"
    );
    pod.remove_and_check();
}

/// A handler whose runtime is broken fails RunPodSandbox with the
/// runtime's error and leaves nothing behind: the suite cannot pass on it.
#[test]
fn broken_handler_fails_the_pod() {
    let cri = Cri::connect();
    let config = Pod::config("broken", PidMode::PerContainer, None);
    match cri.run_pod(&config, "runrs-broken") {
        Ok(id) => {
            let _ = cri.stop_pod(&id);
            let _ = cri.remove_pod(&id);
            panic!("a pod ran on the broken handler");
        }
        // The shim quotes the runtime that failed.
        Err(e) => assert!(e.contains("runrs-broken"), "{e}"),
    }
    let req = cri::ListPodSandboxRequest { filter: None };
    let pods = cri
        .call("ListPodSandbox", cri.rs.clone().list_pod_sandbox(req))
        .unwrap_or_else(|e| panic!("{e}"))
        .items;
    let uid = config.metadata.map(|m| m.uid).unwrap_or_default();
    assert!(
        !pods
            .iter()
            .any(|p| p.metadata.as_ref().is_some_and(|m| m.uid == uid)),
        "the failed pod is still listed"
    );
}

/// Pods on the host's namespaces (hostNetwork, hostPID, hostIPC) and a
/// privileged pod, as the kubelet asks for them.
///
/// hostNetwork: the host's interfaces and hostname (containerd gives such
/// a pod the host's UTS namespace). hostIPC: a SysV segment made in the
/// container is the host's. hostPID: the container runs in the host's pid
/// namespace, but runrs's /proc shows the sandbox's processes, not every
/// host process as runc's does (docs/KUBERNETES.md). Privileged: runs.
#[test]
fn host_namespace_and_privileged_pods() {
    let cri = Cri::connect();
    let h = handler();
    let node = cri::NamespaceMode::Node as i32;
    let set_node = |n: Option<&mut cri::NamespaceOption>| {
        let n = n.expect("namespace options");
        n.network = node;
        n.pid = node;
        n.ipc = node;
    };
    let mut config = Pod::config("hostns", PidMode::PerContainer, None);
    set_node(
        config
            .linux
            .as_mut()
            .and_then(|l| l.security_context.as_mut())
            .and_then(|s| s.namespace_options.as_mut()),
    );
    config.hostname = String::new();
    let id = cri
        .run_pod(&config, &h)
        .unwrap_or_else(|e| panic!("host-namespace pod: {e}"));
    let mut pod = Pod {
        cri: &cri,
        id,
        config,
        pid: PidMode::PerContainer,
        handler: h.clone(),
        containers: Vec::new(),
    };
    let mut cfg = pod.container_config("c", 0, BUSYBOX, &["sleep", "100006"], None);
    set_node(
        cfg.linux
            .as_mut()
            .and_then(|l| l.security_context.as_mut())
            .and_then(|s| s.namespace_options.as_mut()),
    );
    let c = pod.start(cfg);
    assert_runs_on_handler(&h, &c);
    let host_name = nix_hostname();
    assert_eq!(
        cri.sh(&c, "hostname").trim(),
        host_name,
        "hostNetwork pod's hostname"
    );
    let host_ifaces = read_ifaces("/proc/net/dev");
    let ifaces = cri.sh(&c, "cat /proc/net/dev");
    let ifaces: Vec<String> = ifaces
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|s| s.trim().to_string())
        .collect();
    for want in ["lo", "runrs-cri0"] {
        assert!(
            host_ifaces.contains(&want.to_string()) && ifaces.contains(&want.to_string()),
            "hostNetwork pod does not see the host's {want}: {ifaces:?} (host {host_ifaces:?})"
        );
    }
    let key = 4300 + (std::process::id() % 1000);
    cri.sh(&c, &format!("podtool shm-put {key} from-hostipc"));
    let host_shm = std::fs::read_to_string("/proc/sysvipc/shm").unwrap_or_default();
    let found = host_shm
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .any(|k| k == key.to_string());
    // Remove it from the host whatever the outcome.
    let _ = run_with_timeout(
        Command::new("ipcrm").arg("-M").arg(key.to_string()),
        Duration::from_secs(10),
    );
    assert!(
        found,
        "hostIPC: segment {key} made in the container is not in the host's /proc/sysvipc/shm"
    );
    let ps = cri.sh(&c, "ps -o pid,args");
    assert!(ps.contains("sleep 100006"), "hostPID pod: {ps}");
    pod.remove_and_check();

    // Privileged (the sandbox must be privileged too for containerd).
    let mut config = Pod::config("priv", PidMode::PerContainer, None);
    if let Some(sc) = config
        .linux
        .as_mut()
        .and_then(|l| l.security_context.as_mut())
    {
        sc.privileged = true;
    }
    let id = cri
        .run_pod(&config, &h)
        .unwrap_or_else(|e| panic!("privileged pod: {e}"));
    let mut pod = Pod {
        cri: &cri,
        id,
        config,
        pid: PidMode::PerContainer,
        handler: h.clone(),
        containers: Vec::new(),
    };
    let mut cfg = pod.container_config("c", 0, BUSYBOX, &["sleep", "100007"], None);
    if let Some(sc) = cfg.linux.as_mut().and_then(|l| l.security_context.as_mut()) {
        sc.privileged = true;
    }
    let c = pod.start(cfg);
    assert_runs_on_handler(&h, &c);
    // Every capability the host's root has (runc's privileged set).
    let caps = cri.sh(&c, "grep CapEff /proc/self/status");
    let host_caps = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("CapBnd:"))
        .map(|l| l.trim_start_matches("CapBnd:").trim().to_string())
        .unwrap_or_default();
    assert_eq!(
        caps.trim_start_matches("CapEff:").trim(),
        host_caps,
        "privileged container's capabilities"
    );
    pod.remove_and_check();
}

fn nix_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn read_ifaces(path: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|s| s.trim().to_string())
        .collect()
}
