/* The denied set: sandbox-only. Each case fails exactly with the errno of
 * its syscall-table/x86_64.toml row, which tests/conformance.rs passes on
 * the command line as name=errno (from runrs::table). Natively (no such
 * arguments) the cases report "ok ... # skip sandbox-only". */
#include "harness.h"
#include <sched.h>
#include <sys/mount.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

CASE(denied, bpf) { EXPECT_TABLE_ERRNO(syscall(SYS_bpf, 0, NULL, 0), "bpf"); }
CASE(denied, keyctl) { EXPECT_TABLE_ERRNO(syscall(SYS_keyctl, 0, 0, 0, 0, 0), "keyctl"); }
CASE(denied, add_key) { EXPECT_TABLE_ERRNO(syscall(SYS_add_key, "user", "k", "v", 1, -2), "add_key"); }
CASE(denied, perf_event_open) {
    EXPECT_TABLE_ERRNO(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), "perf_event_open");
}
CASE(denied, unshare) { EXPECT_TABLE_ERRNO(unshare(CLONE_NEWNS), "unshare"); }
CASE(denied, setns) { EXPECT_TABLE_ERRNO(setns(0, 0), "setns"); }
CASE(denied, chroot) { EXPECT_TABLE_ERRNO(chroot("/tmp"), "chroot"); }
CASE(denied, pivot_root) { EXPECT_TABLE_ERRNO(syscall(SYS_pivot_root, "/", "/"), "pivot_root"); }
CASE(denied, io_uring_setup) { EXPECT_TABLE_ERRNO(syscall(SYS_io_uring_setup, 1, NULL), "io_uring_setup"); }
/* The *xattrat forms (Linux 6.13, numbers 463..466) are not emulated yet. */
CASE(denied, getxattrat) {
    char v[8];
    struct { unsigned long long value; unsigned size, flags; } args = {(unsigned long long)(unsigned long)v, sizeof v, 0};
    EXPECT_TABLE_ERRNO(syscall(464, AT_FDCWD, "/", 0, "user.x", &args, sizeof args), "getxattrat");
}
CASE(denied, userfaultfd) { EXPECT_TABLE_ERRNO(syscall(SYS_userfaultfd, 0), "userfaultfd"); }
CASE(denied, clone3) { EXPECT_TABLE_ERRNO(syscall(SYS_clone3, NULL, 0), "clone3"); }
CASE(denied, sethostname) { EXPECT_TABLE_ERRNO(sethostname("x", 1), "sethostname"); }
CASE(denied, syslog) { EXPECT_TABLE_ERRNO(syscall(SYS_syslog, 3, NULL, 0), "syslog"); }
CASE(denied, name_to_handle_at) {
    EXPECT_TABLE_ERRNO(syscall(SYS_name_to_handle_at, AT_FDCWD, "/", NULL, NULL, 0), "name_to_handle_at");
}
/* Netlink passes for NETLINK_ROUTE only (netif.c); other families stay
 * denied. (Packet sockets reach the kernel, which checks CAP_NET_RAW:
 * net_raw.c.) */
CASE(denied, socket_netlink) {
    EXPECT_TABLE_ERRNO(socket(AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT), "socket");
    EXPECT_TABLE_ERRNO(socket(AF_NETLINK, SOCK_DGRAM, NETLINK_AUDIT), "socket");
    EXPECT_TABLE_ERRNO(socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC), "socket");
    EXPECT_TABLE_ERRNO(socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG), "socket");
}
/* Device requests stay denied (interface queries pass, see netif.c; the
 * interface changes reach the kernel's CAP_NET_ADMIN check, ioctl2.c). */
CASE(denied, ioctl_device_requests) {
    struct ifreq r = {.ifr_name = {'l', 'o'}};
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_TABLE_ERRNO(ioctl(s, SIOCSIFMAP, &r), "ioctl");
    EXPECT_TABLE_ERRNO(ioctl(s, SIOCETHTOOL, &r), "ioctl");
    EXPECT_TABLE_ERRNO(ioctl(s, SIOCSMIIREG, &r), "ioctl");
}
