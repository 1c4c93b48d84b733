/* Calls that would reach past the sandbox: namespaces and mounts, kernel
 * attack surface (io_uring, userfaultfd, bpf, perf, keyrings, kexec,
 * modules), file handles, device nodes, TIOCSTI, and syscalls a tracer
 * rewrites at its tracee's syscall-entry stop. Each must fail with
 * exactly the errno syscall-table/x86_64.toml gives it (ERRNO_<name>). */
#include "escape.h"
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <termios.h>

#define DENIED(name, call) expect_errno(name, (long)(call), table_errno(name))

static void namespaces_and_mounts(void) {
    DENIED("unshare", unshare(CLONE_NEWNS));
    expect_errno("unshare_user", unshare(CLONE_NEWUSER), table_errno("unshare"));
    /* mount, umount2 and mount_setattr are the sentry's: Linux's argument
     * checks, then EPERM for every caller. */
    expect_errno("mount", mount("none", "/tmp", "tmpfs", 0, NULL), EPERM);
    expect_errno("mount_bind_root", mount("/", "/tmp", NULL, MS_BIND, NULL), EPERM);
    expect_errno("umount2", umount2("/proc", MNT_DETACH), EPERM);
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    DENIED("setns", syscall(SYS_setns, ns >= 0 ? ns : 0, 0));
    if (ns >= 0) close(ns);
    DENIED("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
    DENIED("chroot", chroot("/tmp"));
    DENIED("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
    DENIED("fspick", syscall(SYS_fspick, AT_FDCWD, "/", 0));
    DENIED("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */));
    DENIED("move_mount", syscall(SYS_move_mount, AT_FDCWD, "/tmp", AT_FDCWD, "/mnt", 0));
    char mount_attr[32] = {0}; /* struct mount_attr, first version */
    expect_errno("mount_setattr",
                 syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, mount_attr, sizeof mount_attr), EPERM);
    /* clone with namespace flags: the filter's argument rule refuses them. */
    expect_errno("clone_newuser", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), table_errno("clone"));
    expect_errno("clone_newns", syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0), table_errno("clone"));
    DENIED("clone3", syscall(SYS_clone3, NULL, 0));
}


/* NETLINK_ROUTE passes to the kernel, which refuses a change without
 * CAP_NET_ADMIN over the network namespace: an address added to lo. */
static void netlink_route_change(void) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0) {
        report("netlink_route_newaddr", 0, "socket: %s", strerror(errno));
        return;
    }
    struct {
        struct nlmsghdr h;
        struct ifaddrmsg ifa;
        struct rtattr rta;
        unsigned char addr[4];
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_NEWADDR;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    req.ifa.ifa_family = AF_INET;
    req.ifa.ifa_prefixlen = 32;
    req.ifa.ifa_index = if_nametoindex("lo");
    req.rta.rta_type = IFA_LOCAL;
    req.rta.rta_len = RTA_LENGTH(4);
    memcpy(req.addr, (unsigned char[]){10, 9, 9, 9}, 4);
    char buf[512];
    long n = -1;
    if (send(s, &req, sizeof req, 0) == (long)sizeof req)
        n = recv(s, buf, sizeof buf, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    int err = n > 0 && NLMSG_OK(h, (unsigned long)n) && h->nlmsg_type == NLMSG_ERROR
                  ? ((struct nlmsgerr *)NLMSG_DATA(h))->error
                  : 1;
    report("netlink_route_newaddr", err == -EPERM, "RTM_NEWADDR answered %d", err);
    close(s);
}
static void kernel_surface(void) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    DENIED("io_uring_setup", syscall(SYS_io_uring_setup, 8, &p));
    DENIED("io_uring_enter", syscall(SYS_io_uring_enter, 0, 1, 0, 0, NULL, 0));
    DENIED("io_uring_register", syscall(SYS_io_uring_register, 0, 0, NULL, 0));
    DENIED("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC));
    DENIED("bpf", syscall(SYS_bpf, 0, NULL, 0));
    DENIED("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    DENIED("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
    DENIED("add_key", syscall(SYS_add_key, "user", "x", "y", 1, -2));
    DENIED("request_key", syscall(SYS_request_key, "user", "x", NULL, 0));
    DENIED("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
    DENIED("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0));
    DENIED("init_module", syscall(SYS_init_module, NULL, 0, ""));
    DENIED("finit_module", syscall(SYS_finit_module, 0, "", 0));
    DENIED("delete_module", syscall(SYS_delete_module, "ext4", 0));
    DENIED("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
    char h[128] = {0};
    int mnt = 0;
    DENIED("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/", h, &mnt, 0));
    /* Netlink passes for NETLINK_ROUTE only: sock_diag would list the
     * host's sockets of the namespace, uevent the host's devices. */
    expect_errno("socket_netlink", socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG), table_errno("socket"));
    expect_errno("socket_netlink_uevent", socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT),
                 table_errno("socket"));
    netlink_route_change();
    /* the kernel's CAP_NET_RAW check over the container's network
     * namespace: this spec does not grant it (Docker's default set does,
     * and then AF_PACKET works there, as under runc) */
    expect_errno("socket_packet", socket(AF_PACKET, SOCK_RAW, 0), EPERM);
    expect_errno("unclassified_syscall_1000", syscall(1000), ENOSYS);
    expect_errno("x32_abi_getpid", syscall(0x40000000 | SYS_getpid), ENOSYS);
}

/* Device nodes: the workload has no CAP_MKNOD, and the sentry serves /dev. */
static void device_nodes(void) {
    unlink("/tmp/sda");
    unlink("/tmp/mem");
    expect_errno("mknod_block_device", mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0)), EPERM);
    expect_errno("mknod_char_dev_mem", mknod("/tmp/mem", S_IFCHR | 0600, makedev(1, 1)), EPERM);
    expect_errno("mknodat_char_kmsg", mknodat(AT_FDCWD, "/tmp/mem", S_IFCHR | 0600, makedev(1, 11)), EPERM);
    expect_open_fails("dev_mem_absent", AT_FDCWD, "/dev/mem", O_RDONLY, ENOENT);
    expect_open_fails("dev_kmsg_absent", AT_FDCWD, "/dev/kmsg", O_RDONLY, ENOENT);
    expect_open_fails("dev_sda_absent", AT_FDCWD, "/dev/sda", O_RDONLY, ENOENT);
    /* A fifo is allowed (no device behind it): the check is specific. */
    unlink("/tmp/fifo");
    report("mknod_fifo_allowed", mknod("/tmp/fifo", S_IFIFO | 0600, 0) == 0, "mknod fifo: %s", strerror(errno));
}

/* TIOCSTI pushes input into a terminal's queue: on the console it would
 * type commands into whatever reads the host side. */
static void tiocsti(void) {
    char c = 'x';
    expect_errno("tiocsti_stdin", ioctl(0, TIOCSTI, &c), table_errno("ioctl"));
    int t = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (t < 0) t = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (t < 0) t = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    report("tty_for_tiocsti", t >= 0, "opened a terminal to try: %s", t >= 0 ? "yes" : strerror(errno));
    if (t >= 0) {
        expect_errno("tiocsti_terminal", ioctl(t, TIOCSTI, &c), table_errno("ioctl"));
        expect_errno("tioclinux", ioctl(t, TIOCLINUX, &c), table_errno("ioctl"));
        close(t);
    }
}

/* A child that asks to be traced, stops, then makes one getppid(a0, a1,
 * a2) and exits with its errno (0 when it succeeded, 200 + the low bits
 * of the result otherwise). The caller, its tracer, rewrites that call. */
static pid_t stopped_tracee(long a0, long a1, long a2) {
    pid_t pid = fork();
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) _exit(150);
        raise(SIGSTOP);
        /* arguments 3..5 are zero, not what the registers held (mount
         * reads its flags from the fourth) */
        long r = syscall(SYS_getppid, a0, a1, a2, 0L, 0L, 0L);
        if (r == -1) _exit(errno);
        if (r >= 0 && r < 50) {
            /* an fd: say whether it holds the host sentinel */
            _exit(fd_leaks_token((int)r) ? 199 : 0);
        }
        _exit(0);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) return -1;
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
    return pid;
}

/* Runs the tracee to its getppid entry stop, makes it syscall `nr` (the
 * arguments stay), lets it finish; returns its exit status or -1. */
static int rewrite_and_finish(pid_t pid, long nr) {
    struct user_regs_struct regs;
    int st;
    for (int i = 0; i < 32; i++) {
        if (ptrace(PTRACE_SYSCALL, pid, NULL, NULL) != 0 || waitpid(pid, &st, 0) != pid) return -1;
        if (!WIFSTOPPED(st)) return -1;
        if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) != 0) return -1;
        if ((long)regs.orig_rax == SYS_getppid && (long)regs.rax == -ENOSYS) {
            regs.orig_rax = nr;
            if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) != 0) return -1;
            if (ptrace(PTRACE_CONT, pid, NULL, NULL) != 0 || waitpid(pid, &st, 0) != pid) return -1;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void rewritten(const char *name, long nr, long a0, long a1, long a2, int want) {
    pid_t pid = stopped_tracee(a0, a1, a2);
    int got = pid > 0 ? rewrite_and_finish(pid, nr) : -1;
    report(name, got == want, "tracee's errno %d (%s), want %d (%s)", got,
           got >= 0 && strerrorname_np(got) ? strerrorname_np(got) : "?", want,
           strerrorname_np(want) ? strerrorname_np(want) : "?");
}

/* ptrace inside the container: a tracer that rewrites its tracee's
 * syscall at the syscall-entry stop gets the table's answer for the new
 * call (seccomp runs after that stop and filters the changed call), and
 * it can never switch the tracee's filter off. */
static void tracing(void) {
    rewritten("ptrace_rewrite_to_unshare", SYS_unshare, CLONE_NEWUSER, 0, 0, table_errno("unshare"));
    rewritten("ptrace_rewrite_to_mount", SYS_mount, (long)"none", (long)"/tmp", (long)"tmpfs",
              EPERM);
    rewritten("ptrace_rewrite_to_bpf", SYS_bpf, 0, 0, 0, table_errno("bpf"));
    rewritten("ptrace_rewrite_to_clone_newuser", SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0,
              table_errno("clone"));
    rewritten("ptrace_rewrite_to_packet_socket", SYS_socket, AF_PACKET, SOCK_RAW, 0, EPERM);
    /* an openat of the sentinel's host path: the sentry resolves it in
     * the container (no such file), never the host */
    rewritten("ptrace_rewrite_to_open_host_path", SYS_openat, AT_FDCWD, (long)env("HOST_SENTINEL"),
              O_RDONLY, ENOENT);
    /* PTRACE_O_SUSPEND_SECCOMP needs CAP_SYS_ADMIN in the host's user
     * namespace, and a tracer without a filter of its own */
    pid_t pid = stopped_tracee(0, 0, 0);
    long r = pid > 0 ? ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)PTRACE_O_SUSPEND_SECCOMP) : 0;
    expect_errno("ptrace_suspend_seccomp", r, EPERM);
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    r = ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)(PTRACE_O_SUSPEND_SECCOMP | PTRACE_O_EXITKILL));
    expect_errno("ptrace_seize_suspend_seccomp", r, EPERM);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    namespaces_and_mounts();
    kernel_surface();
    tracing();
    device_nodes();
    tiocsti();
    sentry_still_answers("syscalls_sentry_alive");
    return finish();
}
