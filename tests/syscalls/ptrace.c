/* ptrace and process_vm_readv/writev between processes of the container
 * (strace, gdb, LeakSanitizer): Linux's own rules, and a tracer's changes
 * to a tracee's syscall at its syscall-entry stop are filtered again (the
 * sandbox still answers the changed call: the sentry emulates it or the
 * table denies it). Every tracee is the case's own child, traced with
 * PTRACE_O_EXITKILL, and the harness's 5 s timeout kills the case's
 * process group, so a lost stop cannot hang the suite.
 * On the ptrace platform (the sentry is every task's tracer) ptrace is
 * EPERM: those columns are listed in KNOWN_GAPS. */
#include "harness.h"
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

/* A child that asks to be traced and stops itself; the caller is its tracer. */
static pid_t traced_child(void (*body)(void)) {
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
            _exit(100);
        raise(SIGSTOP);
        body();
        _exit(101);
    }
    int st;
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    if (!WIFSTOPPED(st)) {
        if (WIFEXITED(st))
            FAIL("child exited %d before its stop (TRACEME failed?)", WEXITSTATUS(st));
        FAIL("child: wait status %#x, want a SIGSTOP stop", st);
    }
    EXPECT_EQ(WSTOPSIG(st), SIGSTOP);
    EXPECT_OK(ptrace(PTRACE_SETOPTIONS, pid, NULL,
                     (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)));
    return pid;
}

/* Resumes to the syscall-entry stop of `nr` (skipping the calls raise()
 * still makes), returns its registers there. */
static struct user_regs_struct entry_of(pid_t pid, long nr) {
    struct user_regs_struct regs;
    for (int i = 0; i < 32; i++) {
        int st;
        EXPECT_OK(ptrace(PTRACE_SYSCALL, pid, NULL, NULL));
        EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
        if (!WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80))
            FAIL("wait status %#x, want a syscall stop", st);
        EXPECT_OK(ptrace(PTRACE_GETREGS, pid, NULL, &regs));
        /* an entry stop has rax = -ENOSYS; the exit stop of the call
         * before has its result */
        if ((long)regs.orig_rax == nr && (long)regs.rax == -ENOSYS)
            return regs;
    }
    FAIL("no syscall-entry stop of syscall %ld", nr);
}

/* Lets the tracee run to its end; returns its exit status. */
static int run_to_exit(pid_t pid) {
    int st;
    EXPECT_OK(ptrace(PTRACE_CONT, pid, NULL, NULL));
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    if (!WIFEXITED(st))
        FAIL("tracee: wait status %#x, want an exit", st);
    return WEXITSTATUS(st);
}

static volatile long shared_word = 0x1111;

static void syscall_stops_body(void) {
    long r = syscall(SYS_getppid);
    _exit(r == 4242 && shared_word == 0x2222 ? 0 : 2);
}

/* strace's and gdb's basics: PEEK/POKE, the entry and exit stops of a
 * passthrough call, GETREGS/SETREGS of its result. */
COVERS("wait4")
CASE(ptrace, traceme_peek_poke_and_syscall_stops) {
    pid_t pid = traced_child(syscall_stops_body);
    errno = 0;
    long w = ptrace(PTRACE_PEEKDATA, pid, (void *)&shared_word, NULL);
    EXPECT_EQ(errno, 0);
    EXPECT_EQ(w, 0x1111);
    EXPECT_OK(ptrace(PTRACE_POKEDATA, pid, (void *)&shared_word, (void *)0x2222L));
    entry_of(pid, SYS_getppid);
    int st;
    struct user_regs_struct regs;
    EXPECT_OK(ptrace(PTRACE_SYSCALL, pid, NULL, NULL));
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    EXPECT_EQ(WSTOPSIG(st), SIGTRAP | 0x80);
    EXPECT_OK(ptrace(PTRACE_GETREGS, pid, NULL, &regs));
    EXPECT_EQ((long)regs.rax, getpid());
    regs.rax = 4242;
    EXPECT_OK(ptrace(PTRACE_SETREGS, pid, NULL, &regs));
    EXPECT_EQ(run_to_exit(pid), 0);
}

static void pause_body(void) {
    for (;;)
        pause();
}

/* gdb's and strace -p's way in: SEIZE, INTERRUPT, a signal stop, the exit
 * event and its message, DETACH. */
CASE(ptrace, seize_interrupt_signal_exit_event_detach) {
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0)
        pause_body();
    int st;
    EXPECT_OK(ptrace(PTRACE_SEIZE, pid, NULL,
                     (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)));
    EXPECT_OK(ptrace(PTRACE_INTERRUPT, pid, NULL, NULL));
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    EXPECT_TRUE(WIFSTOPPED(st));
    EXPECT_EQ(st >> 16, PTRACE_EVENT_STOP);
    EXPECT_OK(ptrace(PTRACE_CONT, pid, NULL, NULL));
    EXPECT_OK(kill(pid, SIGTERM));
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    EXPECT_TRUE(WIFSTOPPED(st));
    EXPECT_EQ(WSTOPSIG(st), SIGTERM);
    EXPECT_OK(ptrace(PTRACE_CONT, pid, NULL, (void *)(long)SIGTERM));
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    EXPECT_TRUE(WIFSTOPPED(st));
    EXPECT_EQ(st >> 16, PTRACE_EVENT_EXIT);
    unsigned long msg = 0;
    EXPECT_OK(ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg));
    EXPECT_TRUE(WIFSIGNALED((int)msg) && WTERMSIG((int)msg) == SIGTERM);
    EXPECT_OK(ptrace(PTRACE_DETACH, pid, NULL, NULL));
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

/* PTRACE_ATTACH stops the target with SIGSTOP; a second tracer is refused. */
CASE(ptrace, attach_then_detach) {
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0)
        pause_body();
    int st;
    EXPECT_OK(ptrace(PTRACE_ATTACH, pid, NULL, NULL));
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    EXPECT_TRUE(WIFSTOPPED(st));
    EXPECT_EQ(WSTOPSIG(st), SIGSTOP);
    EXPECT_ERRNO(ptrace(PTRACE_ATTACH, pid, NULL, NULL), EPERM);
    EXPECT_OK(ptrace(PTRACE_DETACH, pid, NULL, NULL));
    EXPECT_OK(kill(pid, SIGKILL));
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    EXPECT_TRUE(WIFSIGNALED(st));
}

/* Requests on a process that is not our tracee: ESRCH, as Linux says. */
CASE(ptrace, requests_need_a_stopped_tracee) {
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0)
        pause_body();
    errno = 0;
    EXPECT_ERRNO(ptrace(PTRACE_PEEKDATA, pid, (void *)&shared_word, NULL), ESRCH);
    EXPECT_ERRNO(ptrace(PTRACE_CONT, pid, NULL, NULL), ESRCH);
    EXPECT_OK(kill(pid, SIGKILL));
    waitpid(pid, NULL, 0);
}

static const char status_path[] = "/proc/self/status";

static void rewritten_open_body(void) {
    /* getppid ignores its arguments; the tracer makes it an openat of
     * them, and then rewrites the path of a real openat. */
    char buf[64] = {0};
    long fd = syscall(SYS_getppid, AT_FDCWD, "/nonexistent-a", O_RDONLY);
    if (fd < 0 || read((int)fd, buf, 5) != 5 || strcmp(buf, "Name:") != 0)
        _exit(3);
    close((int)fd);
    memset(buf, 0, sizeof buf);
    fd = syscall(SYS_openat, AT_FDCWD, "/nonexistent-b", O_RDONLY);
    if (fd < 0 || read((int)fd, buf, 5) != 5 || strcmp(buf, "Name:") != 0)
        _exit(4);
    _exit(0);
}

/* A tracer turns a call into another one (number and arguments) at the
 * syscall-entry stop: the changed call is filtered again, so the sandbox
 * answers what the tracee finally makes (here its /proc, which the kernel
 * alone could not open in the container: an openat that skipped the
 * sentry would fail with ENOENT). */
COVERS("openat getppid")
CASE(ptrace, changed_syscall_at_entry_is_the_new_calls) {
    pid_t pid = traced_child(rewritten_open_body);
    struct user_regs_struct regs = entry_of(pid, SYS_getppid);
    regs.orig_rax = SYS_openat;
    regs.rsi = (unsigned long)status_path;
    EXPECT_OK(ptrace(PTRACE_SETREGS, pid, NULL, &regs));
    regs = entry_of(pid, SYS_openat);
    regs.rsi = (unsigned long)status_path;
    EXPECT_OK(ptrace(PTRACE_SETREGS, pid, NULL, &regs));
    EXPECT_EQ(run_to_exit(pid), 0);
}

static void rewritten_denied_body(void) {
    long r = syscall(SYS_getppid, 0, 0, 0);
    /* report errno (or 200 when it succeeded) */
    _exit(r == -1 ? errno : 200);
}

/* The same into a denied call: the tracee gets the table's errno. */
COVERS("bpf")
CASE(ptrace, changed_syscall_to_a_denied_one_gets_the_tables_errno) {
    if (!harness_sandboxed())
        harness_skip("sandbox-only");
    int want = harness_expectation("bpf");
    if (want < 0)
        FAIL("no expectation bpf=ERRNO on the command line");
    pid_t pid = traced_child(rewritten_denied_body);
    struct user_regs_struct regs = entry_of(pid, SYS_getppid);
    regs.orig_rax = SYS_bpf;
    EXPECT_OK(ptrace(PTRACE_SETREGS, pid, NULL, &regs));
    int got = run_to_exit(pid);
    if (got != want)
        FAIL("rewritten bpf: errno %s, want %s (table)", harness_errname(got),
             harness_errname(want));
}

static char vm_buf[32] = "parent";

/* A debugger's or sanitizer's view of another process's memory. */
COVERS("process_vm_writev")
CASE(process_vm_readv, reads_and_writes_a_child) {
    int go[2];
    EXPECT_OK(pipe(go));
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        char c;
        strcpy(vm_buf, "child!");
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        _exit(strcmp(vm_buf, "wrote!") == 0 ? 0 : 3);
    }
    char got[8] = {0};
    struct iovec local = {got, 6}, remote = {vm_buf, 6};
    for (int i = 0; i < 200; i++) {
        EXPECT_EQ(EXPECT_OK(process_vm_readv(pid, &local, 1, &remote, 1, 0)), 6);
        if (strcmp(got, "child!") == 0)
            break;
        usleep(5000);
    }
    EXPECT_STREQ(got, "child!");
    char put[] = "wrote!";
    struct iovec from = {put, 6};
    EXPECT_EQ(EXPECT_OK(process_vm_writev(pid, &from, 1, &remote, 1, 0)), 6);
    EXPECT_EQ(write(go[1], "x", 1), 1);
    int st;
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* a pid nobody has: ESRCH */
    EXPECT_ERRNO(process_vm_readv(0x3ffffff, &local, 1, &remote, 1, 0), ESRCH);
}

static int untraced_child(void *arg) {
    (void)arg;
    char buf[8] = {0};
    int fd = open(status_path, O_RDONLY);
    if (fd < 0 || read(fd, buf, 5) != 5 || strcmp(buf, "Name:") != 0)
        return 3;
    return 0;
}

/* LeakSanitizer starts its checker with CLONE_UNTRACED: the child is
 * still a task of the sandbox (its /proc is the sentry's). On the ptrace
 * platform the flag is EPERM (KNOWN_GAPS): a task there must never leave
 * the sentry's tracing. */
CASE(clone, untraced_child_stays_in_the_sandbox) {
    static char stack[64 * 1024] __attribute__((aligned(16)));
    pid_t pid = EXPECT_OK(clone(untraced_child, stack + sizeof stack, CLONE_UNTRACED | SIGCHLD, NULL));
    int st;
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A supervisor takes a child's fd through its pidfd (Linux's ptrace
 * access check): the copy is the same open file description. */
COVERS("pidfd_open")
CASE(pidfd_getfd, takes_a_childs_fd) {
    int p[2], go[2];
    EXPECT_OK(pipe(p));
    EXPECT_OK(pipe(go));
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        char c;
        close(p[0]);
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        _exit(0);
    }
    int pidfd = EXPECT_OK((int)syscall(SYS_pidfd_open, pid, 0));
    int theirs = EXPECT_OK((int)syscall(SYS_pidfd_getfd, pidfd, p[1], 0));
    EXPECT_TRUE(fcntl(theirs, F_GETFD) & FD_CLOEXEC);
    EXPECT_EQ(write(theirs, "y", 1), 1);
    char c = 0;
    EXPECT_EQ(read(p[0], &c, 1), 1);
    EXPECT_EQ(c, 'y');
    EXPECT_ERRNO(syscall(SYS_pidfd_getfd, pidfd, 999, 0), EBADF);
    EXPECT_ERRNO(syscall(SYS_pidfd_getfd, pidfd, p[1], 1), EINVAL);
    close(theirs);
    EXPECT_EQ(write(go[1], "x", 1), 1);
    int st;
    EXPECT_EQ(EXPECT_OK(waitpid(pid, &st, 0)), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(pidfd);
}
