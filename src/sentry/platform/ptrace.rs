//! The ptrace platform: the workload's filter returns
//! `SECCOMP_RET_TRACE | TRACE_MAGIC` for the emulated set, and the sentry
//! is the tracer of every workload task (`PTRACE_SEIZE` with
//! `O_TRACESECCOMP`, the clone/fork/vfork/exec events and `O_EXITKILL`, so
//! the workload dies with the sentry).
//!
//! ptrace requests must come from the thread that attached, so one tracer
//! thread owns every task: it waits for stops (`waitpid(-1, __WALL)`,
//! woken by SIGCHLD through a signalfd), turns seccomp stops into
//! [`SyscallRequest`]s for the worker threads, and carries out their
//! answers, which reach it as commands (woken by an eventfd). Memory is
//! read and written from the workers with `process_vm_readv/writev`.
//!
//! Answers: a value or errno skips the syscall (`orig_rax = -1`, `rax` =
//! the result); "continue" resumes it unchanged. Installing an fd injects
//! a `recvmsg` into the caller on a socket it was given at start and keeps
//! at [`RESERVED_FD`]: the sentry sends the fd on its end, rewrites the
//! stopped syscall into that `recvmsg` with a scratch buffer below the red
//! zone of the caller's stack, runs it to its syscall-exit stop, reads the
//! fd number the kernel chose (the lowest free one, as for an open) and
//! restores the caller's bytes and registers.

use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};

use nix::errno::Errno;

use super::{Platform, PlatformError, Response, SyscallRequest};
use crate::sentry::filter::{RESERVED_FD_TRACE, TRACE_MAGIC};

/// Where every workload process keeps its end of the sentry's fd-passing
/// socket. The workload filter refuses to close or replace it
/// (`filter::reserved_fd_filter`).
pub const RESERVED_FD: RawFd = 1023;

const EVENT_FORK: i32 = libc::PTRACE_EVENT_FORK;
const EVENT_VFORK: i32 = libc::PTRACE_EVENT_VFORK;
const EVENT_CLONE: i32 = libc::PTRACE_EVENT_CLONE;
const EVENT_EXEC: i32 = libc::PTRACE_EVENT_EXEC;
const EVENT_SECCOMP: i32 = libc::PTRACE_EVENT_SECCOMP;
const EVENT_STOP: i32 = 128;
/// WSTOPSIG of a syscall stop with PTRACE_O_TRACESYSGOOD.
const SYSCALL_STOP: i32 = libc::SIGTRAP | 0x80;

const OPTIONS: libc::c_int = libc::PTRACE_O_TRACESECCOMP
    | libc::PTRACE_O_TRACECLONE
    | libc::PTRACE_O_TRACEFORK
    | libc::PTRACE_O_TRACEVFORK
    | libc::PTRACE_O_TRACEEXEC
    | libc::PTRACE_O_TRACESYSGOOD
    | libc::PTRACE_O_EXITKILL;

/// How a worker's answer reaches the tracer thread.
enum Answer {
    Value(i64),
    Errno(Errno),
    Continue,
    /// `fd` stays open until the reply (the worker waits for it).
    InstallFd {
        fd: RawFd,
        cloexec: bool,
    },
}

enum Command {
    Answer {
        tid: i32,
        id: u64,
        answer: Answer,
        reply: mpsc::Sender<Result<i64, Errno>>,
    },
    Seize {
        pid: i32,
        sock: OwnedFd,
        reply: mpsc::Sender<Result<(), Errno>>,
    },
}

#[derive(Default)]
struct Queue {
    requests: VecDeque<SyscallRequest>,
    /// Every task is gone: no request will come again.
    done: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    commands: Mutex<Vec<Command>>,
    /// An eventfd: the tracer thread polls it for commands.
    wake: OwnedFd,
    /// Seccomp stops not answered yet: memory read for a request counts
    /// only while it is here (its task cannot have died meanwhile, and a
    /// traced task's tid is not reused before the tracer has seen it die).
    live: Mutex<HashSet<u64>>,
}

pub struct Ptrace {
    shared: Arc<Shared>,
    /// Hangs up when the tracer thread ends (the last task is gone).
    end: OwnedFd,
}

impl Ptrace {
    /// Starts the tracer thread and seizes `pid`, whose end of the
    /// fd-passing socket is `sock`. SIGCHLD is blocked in the calling
    /// thread, so this must run before the process starts other threads
    /// (they inherit the mask; one that did not would swallow the signal).
    pub fn start(pid: i32, sock: OwnedFd, owner: Option<u32>) -> Result<Ptrace, PlatformError> {
        let mut set = nix::sys::signal::SigSet::empty();
        set.add(nix::sys::signal::Signal::SIGCHLD);
        set.thread_block().map_err(PlatformError::Recv)?;
        // SAFETY: eventfd takes two ints and returns a new fd or -1.
        let wake = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if wake < 0 {
            return Err(PlatformError::Recv(Errno::last()));
        }
        // SAFETY: a new fd that nothing else owns.
        let wake = unsafe { OwnedFd::from_raw_fd(wake) };
        let (end_r, end_w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(PlatformError::Recv)?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            commands: Mutex::new(Vec::new()),
            wake,
            live: Mutex::new(HashSet::new()),
        });
        let (tx, rx) = mpsc::channel();
        let s = Arc::clone(&shared);
        std::thread::spawn(move || tracer_thread(s, end_w, pid, sock, owner, tx));
        match rx.recv() {
            Ok(Ok(())) => Ok(Ptrace { shared, end: end_r }),
            Ok(Err(e)) => Err(PlatformError::Seize(e)),
            Err(_) => Err(PlatformError::Seize(Errno::ECHILD)),
        }
    }

    /// Readable (hung up) once the last traced task is gone.
    pub fn end_fd(&self) -> &OwnedFd {
        &self.end
    }

    /// Seizes a process `runrs exec` started (blocked before its filter).
    pub fn seize(&self, pid: i32, sock: OwnedFd) -> Result<(), Errno> {
        let (reply, rx) = mpsc::channel();
        self.command(Command::Seize { pid, sock, reply });
        rx.recv().unwrap_or(Err(Errno::ESRCH))
    }

    fn command(&self, c: Command) {
        if let Ok(mut q) = self.shared.commands.lock() {
            q.push(c);
        }
        let one: u64 = 1;
        // A full counter still wakes the tracer; nothing to handle.
        let _ = nix::unistd::write(&self.shared.wake, &one.to_ne_bytes());
    }

    fn answer(&self, req: &SyscallRequest, answer: Answer) -> Result<i64, Errno> {
        let (reply, rx) = mpsc::channel();
        self.command(Command::Answer {
            tid: req.tid,
            id: req.id,
            answer,
            reply,
        });
        rx.recv().unwrap_or(Err(Errno::ESRCH))
    }

    fn live(&self, id: u64) -> bool {
        self.shared.live.lock().is_ok_and(|l| l.contains(&id))
    }
}

impl Platform for Ptrace {
    fn wait(&self) -> Result<Option<SyscallRequest>, PlatformError> {
        let Ok(mut q) = self.shared.queue.lock() else {
            return Err(PlatformError::Recv(Errno::EDEADLK));
        };
        loop {
            if let Some(r) = q.requests.pop_front() {
                return Ok(Some(r));
            }
            if q.done {
                return Ok(None);
            }
            q = match self.shared.ready.wait(q) {
                Ok(q) => q,
                Err(_) => return Err(PlatformError::Recv(Errno::EDEADLK)),
            };
        }
    }

    fn hung_up(&self) -> bool {
        self.shared.queue.lock().map_or(true, |q| q.done)
    }

    fn read_memory(&self, req: &SyscallRequest, addr: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let n = read_remote(req.tid, addr, buf)?;
        if !self.live(req.id) {
            return Err(Errno::ESRCH);
        }
        Ok(n)
    }

    fn write_memory(&self, req: &SyscallRequest, addr: u64, data: &[u8]) -> Result<(), Errno> {
        if !self.live(req.id) {
            return Err(Errno::ESRCH);
        }
        write_remote(req.tid, addr, data)
    }

    fn respond(&self, req: &SyscallRequest, resp: Response) -> Result<i64, PlatformError> {
        let answer = match &resp {
            Response::Value(v) => Answer::Value(*v),
            Response::Errno(e) => Answer::Errno(*e),
            Response::Continue => Answer::Continue,
            Response::InstallFd { fd, cloexec } => Answer::InstallFd {
                fd: fd.as_raw_fd(),
                cloexec: *cloexec,
            },
        };
        // `resp` (and the fd in it) lives until the tracer has replied.
        let r = self.answer(req, answer);
        drop(resp);
        match r {
            Ok(v) => Ok(v),
            // The task died meanwhile: nobody waits for this answer.
            Err(Errno::ESRCH) => Ok(-1),
            Err(e) => Err(PlatformError::Send(e)),
        }
    }
}

fn read_remote(tid: i32, addr: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    let remote = [nix::sys::uio::RemoteIoVec {
        base: addr as usize,
        len: buf.len(),
    }];
    let mut local = [std::io::IoSliceMut::new(buf)];
    match nix::sys::uio::process_vm_readv(nix::unistd::Pid::from_raw(tid), &mut local, &remote) {
        Ok(n) => Ok(n),
        Err(Errno::EFAULT) => Ok(0),
        Err(e) => Err(e),
    }
}

fn write_remote(tid: i32, addr: u64, data: &[u8]) -> Result<(), Errno> {
    if data.is_empty() {
        return Ok(());
    }
    let local = [std::io::IoSlice::new(data)];
    let remote = [nix::sys::uio::RemoteIoVec {
        base: addr as usize,
        len: data.len(),
    }];
    match nix::sys::uio::process_vm_writev(nix::unistd::Pid::from_raw(tid), &local, &remote) {
        Ok(n) if n == data.len() => Ok(()),
        Ok(_) | Err(Errno::EFAULT) => Err(Errno::EFAULT),
        Err(e) => Err(e),
    }
}

/// The sentry's ends of one fd-passing socket pair: `send` is where fds
/// go in; `recv` is a copy of the workload's end (taken with
/// pidfd_getfd), used only to throw away an fd that no injected recvmsg
/// took, so that the next one gets its own.
struct Sock {
    send: OwnedFd,
    recv: Option<OwnedFd>,
}

impl Sock {
    fn drain(&self) {
        let Some(r) = &self.recv else { return };
        loop {
            let mut byte = [0u8; 1];
            let mut iov = [std::io::IoSliceMut::new(&mut byte)];
            let mut cmsg = nix::cmsg_space!([RawFd; 1]);
            match nix::sys::socket::recvmsg::<()>(
                r.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                nix::sys::socket::MsgFlags::MSG_DONTWAIT
                    | nix::sys::socket::MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Ok(msg) => {
                    if let Ok(cmsgs) = msg.cmsgs() {
                        for c in cmsgs {
                            if let nix::sys::socket::ControlMessageOwned::ScmRights(fds) = c {
                                for f in fds {
                                    // SAFETY: the kernel just installed `f`
                                    // in our table; we close our only copy.
                                    drop(unsafe { OwnedFd::from_raw_fd(f) });
                                }
                            }
                        }
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(_) => return,
            }
        }
    }
}

/// Where a task is, as far as answering goes.
// One per task, set at every stop: boxing the registers would allocate
// per syscall to save memory per task.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy)]
enum Stop {
    Running,
    /// In a seccomp stop, request `id`; `regs` as it stopped (what an
    /// injected recvmsg that installs an fd restores).
    Seccomp {
        id: u64,
        regs: libc::user_regs_struct,
    },
}

struct Task {
    sock: Option<Arc<Sock>>,
    stop: Stop,
    /// Its fd-passing channel is decided: its own (a new process gets a
    /// private one at its first stop, before it runs) or its fd table's.
    settled: bool,
}

struct Tracer {
    shared: Arc<Shared>,
    tasks: HashMap<i32, Task>,
    next_id: AtomicU64,
    /// (tid, signal) held back while registers were rewritten.
    held_signals: Vec<(i32, i32)>,
}

fn tracer_thread(
    shared: Arc<Shared>,
    end: OwnedFd,
    pid: i32,
    sock: OwnedFd,
    owner: Option<u32>,
    started: mpsc::Sender<Result<(), Errno>>,
) {
    let sigchld = {
        let mut set = nix::sys::signal::SigSet::empty();
        set.add(nix::sys::signal::Signal::SIGCHLD);
        nix::sys::signalfd::SignalFd::with_flags(
            &set,
            nix::sys::signalfd::SfdFlags::SFD_CLOEXEC | nix::sys::signalfd::SfdFlags::SFD_NONBLOCK,
        )
    };
    let sigchld = match sigchld {
        Ok(s) => s,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let mut t = Tracer {
        shared: Arc::clone(&shared),
        tasks: HashMap::new(),
        next_id: AtomicU64::new(1),
        held_signals: Vec::new(),
    };
    // This thread started before the sentry confined itself, and
    // capabilities are per thread: keep only the sentry's (the confinement
    // brings the empty root and the seccomp filter to every thread).
    // With an owner uid it becomes that uid itself (credentials are per
    // thread), keeping CAP_SYS_PTRACE (see SENTRY_PTRACE_CAPS).
    let keep = crate::sentry::confine::SENTRY_PTRACE_CAPS;
    let first = t.seize(pid, sock).and_then(|()| {
        match owner {
            Some(uid) => crate::confine::become_owner(uid, keep),
            None => crate::confine::keep_only_caps(keep),
        }
        .map_err(|e| {
            crate::log::error(&format!("sentry tracer: {e}"));
            Errno::EPERM
        })
    });
    let ok = first.is_ok();
    let _ = started.send(first);
    if ok {
        t.run(&sigchld);
    }
    // No task left: workers stop waiting, and the sentry's main thread
    // sees `end` hang up.
    if let Ok(mut q) = shared.queue.lock() {
        q.done = true;
    }
    shared.ready.notify_all();
    drop(end);
}

/// ptrace(2) as libc has it.
///
/// # Safety
///
/// `addr` and `data` must be what `req` takes: integers, or the address
/// of a live value of the type the request reads or writes
/// (`user_regs_struct` for PTRACE_GETREGS/SETREGS, `c_ulong` for
/// PTRACE_GETEVENTMSG), valid and not otherwise borrowed for the call.
unsafe fn ptrace_raw(
    req: libc::c_uint,
    tid: i32,
    addr: usize,
    data: usize,
) -> Result<libc::c_long, Errno> {
    // SAFETY: the caller passes what `req` expects (see above).
    let r = unsafe { libc::ptrace(req, tid, addr, data) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// A ptrace request whose arguments are integers only (no memory is
/// passed): SEIZE (options), CONT and SYSCALL (a signal), LISTEN; any
/// other request is EINVAL here.
fn ptrace_int(req: libc::c_uint, tid: i32, data: usize) -> Result<libc::c_long, Errno> {
    if !matches!(
        req,
        libc::PTRACE_SEIZE | libc::PTRACE_CONT | libc::PTRACE_SYSCALL | libc::PTRACE_LISTEN
    ) {
        return Err(Errno::EINVAL);
    }
    // SAFETY: these requests take integers (addr 0, data options or a
    // signal number) and touch no memory of ours.
    unsafe { ptrace_raw(req, tid, 0, data) }
}

fn getregs(tid: i32) -> Result<libc::user_regs_struct, Errno> {
    let mut regs = crate::sentry::sys::zeroed::<libc::user_regs_struct>();
    // SAFETY: GETREGS writes one user_regs_struct at data: `regs`, which
    // lives and is borrowed by nothing else for the call.
    unsafe {
        ptrace_raw(
            libc::PTRACE_GETREGS,
            tid,
            0,
            &mut regs as *mut libc::user_regs_struct as usize,
        )
    }?;
    Ok(regs)
}

fn setregs(tid: i32, regs: &libc::user_regs_struct) -> Result<(), Errno> {
    // SAFETY: SETREGS reads one user_regs_struct at data: `regs`, borrowed
    // for the call.
    unsafe {
        ptrace_raw(
            libc::PTRACE_SETREGS,
            tid,
            0,
            regs as *const libc::user_regs_struct as usize,
        )
    }
    .map(drop)
}

fn event_msg(tid: i32) -> Result<u64, Errno> {
    let mut msg: libc::c_ulong = 0;
    // SAFETY: GETEVENTMSG writes one c_ulong at data: `msg`, which lives
    // and is borrowed by nothing else for the call.
    unsafe {
        ptrace_raw(
            libc::PTRACE_GETEVENTMSG,
            tid,
            0,
            &mut msg as *mut libc::c_ulong as usize,
        )
    }?;
    Ok(msg)
}

/// Resumes `tid`, delivering `sig` (0 for none); a raw signal number so
/// that real-time signals pass too.
fn cont(tid: i32, sig: i32) {
    let _ = ptrace_int(libc::PTRACE_CONT, tid, sig as usize);
}

fn waitpid_raw(pid: i32, flags: i32) -> Result<(i32, i32), Errno> {
    let mut status = 0;
    // SAFETY: waitpid writes an int to a valid pointer.
    let r = unsafe { libc::waitpid(pid, &mut status, flags) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok((r, status))
    }
}

impl Tracer {
    fn seize(&mut self, pid: i32, sock: OwnedFd) -> Result<(), Errno> {
        ptrace_int(libc::PTRACE_SEIZE, pid, OPTIONS as usize)?;
        let recv = crate::sentry::sys::getfd(pid, RESERVED_FD).ok();
        self.tasks.insert(
            pid,
            Task {
                sock: Some(Arc::new(Sock { send: sock, recv })),
                stop: Stop::Running,
                settled: true,
            },
        );
        Ok(())
    }

    fn run(&mut self, sigchld: &nix::sys::signalfd::SignalFd) {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        while !self.tasks.is_empty() {
            self.reap();
            self.run_commands();
            if self.tasks.is_empty() {
                return;
            }
            let mut fds = [
                PollFd::new(sigchld.as_fd(), PollFlags::POLLIN),
                PollFd::new(self.shared.wake.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => {
                    crate::log::error(&format!("ptrace tracer: poll: {e}"));
                    return;
                }
            }
            // Drain the signalfd; the reap loop finds every waiting stop.
            while let Ok(Some(_)) = sigchld.read_signal() {}
        }
    }

    fn run_commands(&mut self) {
        let mut count = [0u8; 8];
        let _ = nix::unistd::read(&self.shared.wake, &mut count);
        let commands = match self.shared.commands.lock() {
            Ok(mut c) => std::mem::take(&mut *c),
            Err(_) => return,
        };
        for c in commands {
            match c {
                Command::Seize { pid, sock, reply } => {
                    let _ = reply.send(self.seize(pid, sock));
                }
                Command::Answer {
                    tid,
                    id,
                    answer,
                    reply,
                } => {
                    let _ = reply.send(self.answer(tid, id, answer));
                }
            }
        }
    }

    /// Handles every stop and exit that is waiting.
    fn reap(&mut self) {
        loop {
            match waitpid_raw(-1, libc::WNOHANG | libc::__WALL) {
                Ok((0, _)) | Err(_) => return,
                Ok((tid, status)) => self.on_status(tid, status),
            }
        }
    }

    fn forget(&mut self, tid: i32) {
        if let Some(task) = self.tasks.remove(&tid) {
            if let Stop::Seccomp { id, .. } = task.stop {
                if let Ok(mut l) = self.shared.live.lock() {
                    l.remove(&id);
                }
            }
        }
    }

    fn task(&mut self, tid: i32) -> &mut Task {
        self.tasks.entry(tid).or_insert(Task {
            sock: None,
            stop: Stop::Running,
            settled: false,
        })
    }

    fn on_status(&mut self, tid: i32, status: i32) {
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            self.forget(tid);
            return;
        }
        if !libc::WIFSTOPPED(status) {
            return;
        }
        let sig = libc::WSTOPSIG(status);
        let event = (status >> 16) & 0xffff;
        self.task(tid);
        match event {
            EVENT_SECCOMP => self.on_seccomp(tid),
            EVENT_FORK | EVENT_VFORK | EVENT_CLONE => {
                // The child's channel is settled at its own first stop.
                if let Ok(child) = event_msg(tid) {
                    self.task(child as i32);
                }
                cont(tid, 0);
            }
            EVENT_EXEC => {
                // A non-leader thread that execs takes the leader's tid;
                // its old tid vanishes without an exit report.
                if let Ok(former) = event_msg(tid) {
                    let former = former as i32;
                    if former != tid {
                        if let Some(old) = self.tasks.remove(&former) {
                            let t = self.task(tid);
                            if t.sock.is_none() {
                                t.sock = old.sock;
                            }
                        }
                    }
                }
                cont(tid, 0);
            }
            EVENT_STOP => {
                if matches!(
                    sig,
                    libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
                ) {
                    // Group-stop: stay stopped (for the workload's wait
                    // and job control) until SIGCONT, without us.
                    let _ = ptrace_int(libc::PTRACE_LISTEN, tid, 0);
                } else {
                    // A new task's first stop, or the end of a group-stop.
                    if !self.tasks.get(&tid).is_some_and(|t| t.settled) {
                        if let Err(e) = self.settle_channel(tid) {
                            // Fail closed: a process that would share
                            // another's channel never runs.
                            crate::log::debug(&format!(
                                "ptrace: no private fd channel for task {tid} ({e}); killing it"
                            ));
                            let tgid =
                                crate::sentry::task::TaskInfo::ids(tid).map_or(tid, |t| t.tgid);
                            // SAFETY: tgkill takes three integers (the
                            // sentry's allowlist has it for tracees, not kill).
                            unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, libc::SIGKILL) };
                            return;
                        }
                        cont(tid, 0);
                        // Signals sent to it meanwhile (a parent's
                        // SIGSTOP right after its fork) were held back.
                        self.release_held_signals();
                        return;
                    }
                    cont(tid, 0);
                }
            }
            0 if sig == SYSCALL_STOP => cont(tid, 0),
            // Signal-delivery-stop: deliver it, as if nobody traced.
            0 => cont(tid, sig),
            _ => cont(tid, 0),
        }
    }

    fn on_seccomp(&mut self, tid: i32) {
        let regs = match getregs(tid) {
            Ok(r) => r,
            // Killed meanwhile: its exit is reported next.
            Err(_) => return,
        };
        let msg = event_msg(tid).ok();
        if msg == Some(u64::from(RESERVED_FD_TRACE))
            && regs.orig_rax == libc::SYS_close_range as u64
        {
            // Answered here: the syscall code never sees the reserved fd.
            let result = self.close_range_around(tid, &regs);
            if self.tasks.contains_key(&tid) {
                let mut r = regs;
                r.orig_rax = u64::MAX;
                r.rax = result as u64;
                if setregs(tid, &r).is_ok() {
                    cont(tid, 0);
                }
                self.release_held_signals();
            }
            return;
        }
        if msg == Some(u64::from(RESERVED_FD_TRACE)) {
            // dup2/dup3 onto the reserved fd by the workload: refused, as
            // for an fd number that cannot be replaced.
            let mut r = regs;
            r.orig_rax = u64::MAX;
            r.rax = (-(libc::EBADF as i64)) as u64;
            if setregs(tid, &r).is_ok() {
                cont(tid, 0);
            }
            return;
        }
        if msg != Some(u64::from(TRACE_MAGIC)) {
            // A TRACE action of the spec's own profile: without a tracer of
            // its own the kernel fails the syscall with ENOSYS; so do we.
            let mut r = regs;
            r.orig_rax = u64::MAX;
            r.rax = (-(libc::ENOSYS as i64)) as u64;
            if setregs(tid, &r).is_ok() {
                cont(tid, 0);
            }
            return;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut l) = self.shared.live.lock() {
            l.insert(id);
        }
        self.task(tid).stop = Stop::Seccomp { id, regs };
        let req = SyscallRequest {
            id,
            tid,
            nr: regs.orig_rax as u32,
            args: [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9],
            received: std::time::Instant::now(),
        };
        if let Ok(mut q) = self.shared.queue.lock() {
            q.requests.push_back(req);
        }
        self.shared.ready.notify_one();
    }

    /// Carries out a worker's answer. A task that is not in the stop the
    /// answer is for (it died) gets nothing: ESRCH.
    fn answer(&mut self, tid: i32, id: u64, answer: Answer) -> Result<i64, Errno> {
        let stop = match self.tasks.get(&tid).map(|t| t.stop) {
            Some(s @ Stop::Seccomp { id: i, .. }) if i == id => s,
            _ => return Err(Errno::ESRCH),
        };
        let result = match (stop, answer) {
            (Stop::Seccomp { .. }, Answer::Continue) => {
                self.finish(tid, id);
                cont(tid, 0);
                return Ok(0);
            }
            (Stop::Seccomp { regs, .. }, Answer::InstallFd { fd, cloexec }) => {
                match self.inject_recvmsg(tid, &regs, fd, cloexec) {
                    Ok(n) => i64::from(n),
                    Err(Errno::ESRCH) => return Err(Errno::ESRCH),
                    // The syscall fails with the error, as an open that
                    // found the fd table full would.
                    // Before or after the injected call ran, the task is
                    // stopped with the saved registers to restore.
                    Err(e) => -(e as i64),
                }
            }
            (Stop::Running, _) => return Err(Errno::ESRCH),
            (_, Answer::Value(v)) => v,
            (_, Answer::Errno(e)) => -(e as i64),
        };
        let Some(task) = self.tasks.get(&tid) else {
            return Err(Errno::ESRCH);
        };
        let mut regs = match task.stop {
            Stop::Seccomp { regs, .. } => regs,
            Stop::Running => return Err(Errno::ESRCH),
        };
        // At a seccomp stop orig_rax = -1 skips the syscall; at the exit
        // stop it keeps the kernel from restarting it.
        regs.orig_rax = u64::MAX;
        regs.rax = result as u64;
        self.finish(tid, id);
        setregs(tid, &regs)?;
        cont(tid, 0);
        self.release_held_signals();
        Ok(result)
    }

    /// Sends again the signals held back during an injection.
    fn release_held_signals(&mut self) {
        for (tid, sig) in std::mem::take(&mut self.held_signals) {
            let tgid = crate::sentry::task::TaskInfo::ids(tid).map_or(tid, |t| t.tgid);
            // SAFETY: tgkill takes three integers.
            unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, sig) };
        }
    }

    /// close_range over the reserved fd (sent here by the workload's
    /// reserved-fd filter): closes both sides of it, never the fd itself.
    fn close_range_around(&mut self, tid: i32, regs: &libc::user_regs_struct) -> i64 {
        let (first, last, flags) = (regs.rdi as u32, regs.rsi as u32, regs.rdx);
        let reserved = RESERVED_FD as u32;
        let mut parts = Vec::new();
        if first < reserved {
            parts.push([u64::from(first), u64::from(reserved - 1), flags, 0]);
        }
        if last > reserved {
            parts.push([u64::from(reserved + 1), u64::from(last), flags, 0]);
        }
        let mut result = 0;
        for (i, args) in parts.into_iter().enumerate() {
            match self.inject(tid, regs, i > 0, libc::SYS_close_range, args) {
                Ok(0) => {}
                Ok(r) => {
                    result = r;
                    break;
                }
                Err(e) => {
                    result = -(e as i64);
                    break;
                }
            }
        }
        result
    }

    fn finish(&mut self, tid: i32, id: u64) {
        if let Ok(mut l) = self.shared.live.lock() {
            l.remove(&id);
        }
        if let Some(t) = self.tasks.get_mut(&tid) {
            t.stop = Stop::Running;
        }
    }

    /// The fd-passing channel of `tid`'s fd table (settled at its first
    /// stop; a task whose first stop was not seen yet has none).
    fn sock_of(&mut self, tid: i32) -> Option<Arc<Sock>> {
        self.tasks
            .get(&tid)
            .filter(|t| t.settled)
            .and_then(|t| t.sock.clone())
    }

    /// Decides the channel of a new task at its first stop, before it runs
    /// any of its own code. A task that shares its fd table with its thread
    /// group leader (a thread) or its parent (CLONE_FILES) shares their
    /// channel: it holds all their fds anyway. Any other gets a private
    /// one, so that no process ever holds a socket on which the sentry
    /// sends another process's fds (a forked child that drops its
    /// privileges must not receive its parent's). Known gap: a process
    /// made with CLONE_FILES shares its creator's table and so its
    /// channel; if it later execs, the kernel gives it a copy of the table
    /// (with the same socket at the reserved fd) and the two keep sharing
    /// the channel, which they did with every fd until then anyway.
    fn settle_channel(&mut self, tid: i32) -> Result<(), Errno> {
        let info = crate::sentry::sys::pidfd_info(tid).map_err(|_| Errno::ESRCH)?;
        let (tgid, ppid) = (info.tgid as i32, info.ppid as i32);
        let mate = if tgid != tid { tgid } else { ppid };
        let shared = self
            .tasks
            .get(&mate)
            .filter(|m| m.settled && crate::sentry::sys::same_fd_table(tid, mate))
            .and_then(|m| m.sock.clone());
        let sock = match shared {
            Some(s) => s,
            None => Arc::new(self.private_channel(tid)?),
        };
        let t = self.task(tid);
        t.sock = Some(sock);
        t.settled = true;
        Ok(())
    }

    /// Gives `tid`, stopped at its first stop right after the fork or
    /// clone that made it (its `rip` follows that call's `syscall`
    /// instruction), a socket pair of its own at the reserved fd: it runs
    /// socketpair, the sentry takes one end with pidfd_getfd, and it runs
    /// dup3 of the other onto the reserved fd (refused to the workload
    /// itself, let through for these injections) and closes both; then its
    /// registers and stack are as they were.
    fn private_channel(&mut self, tid: i32) -> Result<Sock, Errno> {
        let regs = getregs(tid)?;
        let mut insn = [0u8; 2];
        if read_remote(tid, regs.rip.wrapping_sub(2), &mut insn)? != 2 || insn != [0x0f, 0x05] {
            return Err(Errno::EINVAL);
        }
        let base = (regs.rsp.wrapping_sub(128 + 16)) & !15;
        let mut saved = [0u8; 8];
        if read_remote(tid, base, &mut saved)? != saved.len() {
            return Err(Errno::EFAULT);
        }
        let result = self.make_channel(tid, &regs, base);
        let _ = write_remote(tid, base, &saved);
        setregs(tid, &regs)?;
        result
    }

    fn make_channel(
        &mut self,
        tid: i32,
        regs: &libc::user_regs_struct,
        base: u64,
    ) -> Result<Sock, Errno> {
        let unix = libc::AF_UNIX as u64;
        let seqpacket = libc::SOCK_SEQPACKET as u64;
        let r = self.inject(
            tid,
            regs,
            true,
            libc::SYS_socketpair,
            [unix, seqpacket, 0, base],
        )?;
        if r < 0 {
            return Err(Errno::from_raw(-r as i32));
        }
        let mut pair = [0u8; 8];
        read_remote(tid, base, &mut pair)?;
        let ours = i32::from_ne_bytes([pair[0], pair[1], pair[2], pair[3]]);
        let theirs = i32::from_ne_bytes([pair[4], pair[5], pair[6], pair[7]]);
        let send = crate::sentry::sys::getfd(tid, theirs);
        let placed = self.inject(
            tid,
            regs,
            true,
            libc::SYS_dup3,
            [ours as u64, RESERVED_FD as u64, 0, 0],
        );
        for fd in [ours, theirs] {
            let _ = self.inject(tid, regs, true, libc::SYS_close, [fd as u64, 0, 0, 0]);
        }
        let send = send?;
        match placed? {
            r if r == i64::from(RESERVED_FD) => {}
            r if r < 0 => return Err(Errno::from_raw(-r as i32)),
            _ => return Err(Errno::EBADF),
        }
        let recv = crate::sentry::sys::getfd(tid, RESERVED_FD).ok();
        Ok(Sock { send, recv })
    }

    /// Installs `fd` in `tid`, stopped at the seccomp stop with `regs`, by
    /// running a recvmsg on its reserved socket in place of the stopped
    /// syscall. Returns the fd number; the task is left in the recvmsg's
    /// syscall-exit stop, to be answered with the saved `regs`.
    fn inject_recvmsg(
        &mut self,
        tid: i32,
        regs: &libc::user_regs_struct,
        fd: RawFd,
        cloexec: bool,
    ) -> Result<i32, Errno> {
        let sock = self.sock_of(tid).ok_or(Errno::EBADF)?;
        // Scratch below the red zone, 16-aligned.
        let base = (regs.rsp.wrapping_sub(128 + SCRATCH as u64)) & !15;
        let mut saved = [0u8; SCRATCH];
        if read_remote(tid, base, &mut saved)? != SCRATCH {
            return Err(Errno::EFAULT);
        }
        write_remote(tid, base, &scratch_msghdr(base))?;
        {
            use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
            let fds = [fd];
            let iov = [std::io::IoSlice::new(b"f")];
            sendmsg::<()>(
                sock.send.as_raw_fd(),
                &iov,
                &[ControlMessage::ScmRights(&fds)],
                MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
                None,
            )?;
        }
        let flags = libc::MSG_DONTWAIT | if cloexec { libc::MSG_CMSG_CLOEXEC } else { 0 };
        let ran = self.inject(
            tid,
            regs,
            false,
            libc::SYS_recvmsg,
            [RESERVED_FD as u64, base, flags as u64, 0],
        );
        let ret = match ran {
            Ok(ret) => ret,
            Err(e) => {
                sock.drain();
                return Err(e);
            }
        };
        let mut back = [0u8; SCRATCH];
        let got = read_remote(tid, base, &mut back);
        let _ = write_remote(tid, base, &saved);
        if ret < 0 {
            sock.drain();
            return Err(Errno::from_raw(-ret as i32));
        }
        got?;
        parse_scm_fd(&back).ok_or(Errno::EMFILE)
    }

    /// Runs `nr(args)` in `tid` instead of the syscall it stopped in
    /// (`regs` as it stopped there): from its seccomp stop, or (`again`)
    /// from the syscall-exit stop an earlier injection left it in, by
    /// stepping back onto the `syscall` instruction. Returns rax; the task
    /// is left in the injected call's syscall-exit stop.
    fn inject(
        &mut self,
        tid: i32,
        regs: &libc::user_regs_struct,
        again: bool,
        nr: i64,
        args: [u64; 4],
    ) -> Result<i64, Errno> {
        let mut r = *regs;
        r.orig_rax = nr as u64;
        r.rdi = args[0];
        r.rsi = args[1];
        r.rdx = args[2];
        r.r10 = args[3];
        if again {
            // The `syscall` instruction (2 bytes) reads the number from rax.
            r.rax = nr as u64;
            r.rip = r.rip.wrapping_sub(2);
        }
        setregs(tid, &r)?;
        ptrace_int(libc::PTRACE_SYSCALL, tid, 0)?;
        if again {
            // Its syscall-entry stop first (the seccomp check follows it).
            self.wait_syscall_stop(tid)?;
            ptrace_int(libc::PTRACE_SYSCALL, tid, 0)?;
        }
        self.wait_syscall_stop(tid)
    }

    /// Runs `tid` to its next syscall stop; returns rax there. A signal
    /// that would be delivered first (only possible between two injected
    /// calls, with the registers rewritten) is held back and sent again
    /// once the task has its own registers.
    fn wait_syscall_stop(&mut self, tid: i32) -> Result<i64, Errno> {
        loop {
            let (_, status) = match waitpid_raw(tid, libc::__WALL) {
                Err(Errno::EINTR) => continue,
                other => other?,
            };
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                self.forget(tid);
                return Err(Errno::ESRCH);
            }
            if !libc::WIFSTOPPED(status) {
                continue;
            }
            let event = (status >> 16) & 0xffff;
            let sig = libc::WSTOPSIG(status);
            if event == 0 && sig == SYSCALL_STOP {
                return Ok(getregs(tid)?.rax as i64);
            }
            if event == 0 {
                self.held_signals.push((tid, sig));
            }
            ptrace_int(libc::PTRACE_SYSCALL, tid, 0)?;
        }
    }
}

/// Size of the scratch area: msghdr (56) at 0, iovec (16) at 64, the data
/// byte at 80, the control buffer (CMSG_SPACE(4) = 24) at 88.
const SCRATCH: usize = 128;
const IOV_OFF: u64 = 64;
const DATA_OFF: u64 = 80;
const CMSG_OFF: usize = 88;
const CMSG_LEN: u64 = 24;

/// The recvmsg arguments, laid out for the tracee at `base`.
fn scratch_msghdr(base: u64) -> [u8; SCRATCH] {
    let mut b = [0u8; SCRATCH];
    let mut put = |off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_le_bytes());
    put(0, 0); // msg_name
    put(8, 0); // msg_namelen (+ padding)
    put(16, base + IOV_OFF); // msg_iov
    put(24, 1); // msg_iovlen
    put(32, base + CMSG_OFF as u64); // msg_control
    put(40, CMSG_LEN); // msg_controllen
    put(48, 0); // msg_flags
    put(IOV_OFF as usize, base + DATA_OFF); // iov_base
    put(IOV_OFF as usize + 8, 1); // iov_len
    b
}

/// The fd of an SCM_RIGHTS message in the control buffer written back by
/// the injected recvmsg; None when the kernel could not install it.
fn parse_scm_fd(b: &[u8; SCRATCH]) -> Option<i32> {
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let i32_at = |o: usize| i32::from_le_bytes(b[o..o + 4].try_into().unwrap_or([0; 4]));
    let controllen = u64_at(40);
    let len = u64_at(CMSG_OFF);
    let level = i32_at(CMSG_OFF + 8);
    let typ = i32_at(CMSG_OFF + 12);
    (controllen >= 20 && len >= 20 && level == libc::SOL_SOCKET && typ == libc::SCM_RIGHTS)
        .then(|| i32_at(CMSG_OFF + 16))
        .filter(|fd| *fd >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_layout_and_parse() {
        let b = scratch_msghdr(0x1000);
        assert_eq!(u64::from_le_bytes(b[16..24].try_into().unwrap()), 0x1040);
        assert_eq!(u64::from_le_bytes(b[32..40].try_into().unwrap()), 0x1058);
        let mut back = b;
        // As the kernel writes a received SCM_RIGHTS with fd 7.
        back[40..48].copy_from_slice(&24u64.to_le_bytes());
        back[88..96].copy_from_slice(&20u64.to_le_bytes());
        back[96..100].copy_from_slice(&libc::SOL_SOCKET.to_le_bytes());
        back[100..104].copy_from_slice(&libc::SCM_RIGHTS.to_le_bytes());
        back[104..108].copy_from_slice(&7i32.to_le_bytes());
        assert_eq!(parse_scm_fd(&back), Some(7));
        // A truncated control message (no room in the fd table).
        back[40..48].copy_from_slice(&0u64.to_le_bytes());
        assert_eq!(parse_scm_fd(&back), None);
    }
}
