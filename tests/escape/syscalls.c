/* Calls that would reach past the sandbox: namespaces and mounts, kernel
 * attack surface (io_uring, userfaultfd, bpf, perf, keyrings, kexec,
 * modules), file handles, device nodes and TIOCSTI. Each must fail with
 * exactly the errno syscall-table/x86_64.toml gives it (ERRNO_<name>). */
#include "escape.h"
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
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
    DENIED("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
    expect_errno("mount_bind_root", mount("/", "/tmp", NULL, MS_BIND, NULL), table_errno("mount"));
    DENIED("umount2", umount2("/proc", MNT_DETACH));
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    DENIED("setns", syscall(SYS_setns, ns >= 0 ? ns : 0, 0));
    if (ns >= 0) close(ns);
    DENIED("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
    DENIED("chroot", chroot("/tmp"));
    DENIED("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
    DENIED("fspick", syscall(SYS_fspick, AT_FDCWD, "/", 0));
    DENIED("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */));
    DENIED("move_mount", syscall(SYS_move_mount, AT_FDCWD, "/tmp", AT_FDCWD, "/mnt", 0));
    DENIED("mount_setattr", syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, NULL, 0));
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
    struct iovec lv = {h, 8}, rv = {(void *)0x400000, 8};
    DENIED("process_vm_readv", syscall(SYS_process_vm_readv, 1, &lv, 1, &rv, 1, 0));
    DENIED("process_vm_writev", syscall(SYS_process_vm_writev, 1, &lv, 1, &rv, 1, 0));
    DENIED("ptrace", syscall(SYS_ptrace, 0 /* TRACEME */, 0, 0, 0));
    /* Netlink passes for NETLINK_ROUTE only: sock_diag would list the
     * host's sockets of the namespace, uevent the host's devices. */
    expect_errno("socket_netlink", socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG), table_errno("socket"));
    expect_errno("socket_netlink_uevent", socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT),
                 table_errno("socket"));
    netlink_route_change();
    expect_errno("socket_packet", socket(AF_PACKET, SOCK_RAW, 0), table_errno("socket"));
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

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    namespaces_and_mounts();
    kernel_surface();
    device_nodes();
    tiocsti();
    sentry_still_answers("syscalls_sentry_alive");
    return finish();
}
