/* Generic fd and socket ioctls (ioctl_list(2), socket(7), ioctl_fionread
 * (FIONREAD), netdevice(7)) with Linux's validation: whole ifreq entries
 * only, EFAULT for bad pointers, ENODEV for unknown interfaces. */
#include "net_util.h"
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#define CAP_NET_ADMIN_ 12
#ifndef FIOQSIZE
#define FIOQSIZE 0x5460
#endif

CASE(ioctl, fioclex_and_fionclex) {
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_EQ(fcntl(p[0], F_GETFD), 0);
    EXPECT_OK(ioctl(p[0], FIOCLEX));
    EXPECT_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
    EXPECT_OK(ioctl(p[0], FIONCLEX));
    EXPECT_EQ(fcntl(p[0], F_GETFD), 0);
    EXPECT_ERRNO(ioctl(999, FIOCLEX), EBADF);
}

CASE(ioctl, fionbio_sets_and_clears) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int on = 1, off = 0;
    EXPECT_OK(ioctl(s, FIONBIO, &on));
    EXPECT_TRUE(fcntl(s, F_GETFL) & O_NONBLOCK);
    char b[2];
    bind_lo4(s);
    EXPECT_ERRNO(recv(s, b, 2, 0), EAGAIN);
    EXPECT_OK(ioctl(s, FIONBIO, &off));
    EXPECT_EQ(fcntl(s, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_ERRNO(ioctl(s, FIONBIO, (int *)8), EFAULT);
}

CASE(ioctl, fionread_pipe_and_regular_file) {
    int p[2];
    EXPECT_OK(pipe(p));
    int n = -1;
    EXPECT_OK(ioctl(p[0], FIONREAD, &n));
    EXPECT_EQ(n, 0);
    EXPECT_EQ(write(p[1], "hello", 5), 5);
    EXPECT_OK(ioctl(p[0], FIONREAD, &n));
    EXPECT_EQ(n, 5);
    put_file("f", "0123456789");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    EXPECT_EQ(lseek(f, 3, SEEK_SET), 3);
    EXPECT_OK(ioctl(f, FIONREAD, &n));
    EXPECT_EQ(n, 7);
    EXPECT_ERRNO(ioctl(p[0], FIONREAD, (int *)8), EFAULT);
}

CASE(ioctl, fionread_udp_is_the_next_datagram) {
    int x, y;
    udp_pair(&x, &y);
    EXPECT_EQ(send(x, "abc", 3, 0), 3);
    EXPECT_EQ(send(x, "defgh", 5, 0), 5);
    struct pollfd p = {y, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    int n = -1;
    EXPECT_OK(ioctl(y, FIONREAD, &n));
    EXPECT_EQ(n, 3);
}

CASE(ioctl, fionread_tcp_and_siocoutq) {
    int c, s;
    tcp_pair(&c, &s);
    EXPECT_EQ(write(c, "stream", 6), 6);
    struct pollfd p = {s, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    int n = -1;
    for (int i = 0; i < 100 && n != 6; i++) {
        EXPECT_OK(ioctl(s, FIONREAD, &n));
        if (n != 6)
            usleep(1000);
    }
    EXPECT_EQ(n, 6);
    int q = -1;
    EXPECT_OK(ioctl(s, SIOCOUTQ, &q));
    EXPECT_EQ(q, 0);
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    EXPECT_ERRNO(ioctl(l, SIOCINQ, &n), EINVAL);
}

CASE(ioctl, fionread_unix_stream) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    EXPECT_EQ(write(sv[0], "12345678", 8), 8);
    int n = -1;
    EXPECT_OK(ioctl(sv[1], FIONREAD, &n));
    EXPECT_EQ(n, 8);
}

static volatile sig_atomic_t sigio_seen;
static void on_sigio(int sig) {
    (void)sig;
    sigio_seen++;
}

COVERS("fcntl")
CASE(ioctl, fioasync_raises_sigio_on_a_socket) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    signal(SIGIO, on_sigio);
    EXPECT_OK(fcntl(sv[1], F_SETOWN, getpid()));
    int on = 1;
    EXPECT_OK(ioctl(sv[1], FIOASYNC, &on));
    EXPECT_TRUE(fcntl(sv[1], F_GETFL) & O_ASYNC);
    EXPECT_EQ(write(sv[0], "x", 1), 1);
    for (int i = 0; i < 300 && !sigio_seen; i++)
        usleep(10000);
    EXPECT_TRUE(sigio_seen > 0);
    int off = 0;
    EXPECT_OK(ioctl(sv[1], FIOASYNC, &off));
    EXPECT_EQ(fcntl(sv[1], F_GETFL) & O_ASYNC, 0);
}

CASE(ioctl, fioasync_raises_sigio_on_a_pipe) {
    int p[2];
    EXPECT_OK(pipe(p));
    signal(SIGIO, on_sigio);
    EXPECT_OK(fcntl(p[0], F_SETOWN, getpid()));
    int on = 1;
    EXPECT_OK(ioctl(p[0], FIOASYNC, &on));
    EXPECT_EQ(write(p[1], "x", 1), 1);
    for (int i = 0; i < 300 && !sigio_seen; i++)
        usleep(10000);
    EXPECT_TRUE(sigio_seen > 0);
    EXPECT_ERRNO(ioctl(p[0], FIOASYNC, (int *)8), EFAULT);
}

CASE(ioctl, fiosetown_and_fiogetown_on_a_socket) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int owner = -1;
    EXPECT_OK(ioctl(s, FIOGETOWN, &owner));
    EXPECT_EQ(owner, 0);
    int me = getpid();
    EXPECT_OK(ioctl(s, FIOSETOWN, &me));
    EXPECT_OK(ioctl(s, FIOGETOWN, &owner));
    EXPECT_EQ(owner, me);
    EXPECT_EQ(fcntl(s, F_GETOWN), me);
}

CASE(ioctl, siocspgrp_and_siocgpgrp_process_group) {
    int s = (int)EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    int g = -getpgrp();
    EXPECT_OK(ioctl(s, SIOCSPGRP, &g));
    int got = 0;
    EXPECT_OK(ioctl(s, SIOCGPGRP, &got));
    EXPECT_EQ(got, g);
    EXPECT_EQ(fcntl(s, F_GETOWN), g);
    EXPECT_OK(fcntl(s, F_SETOWN, getpid()));
    EXPECT_OK(ioctl(s, FIOGETOWN, &got));
    EXPECT_EQ(got, getpid());
}

CASE(ioctl, fiosetown_errors) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int none = 999999;
    EXPECT_ERRNO(ioctl(s, FIOSETOWN, &none), ESRCH);
    EXPECT_ERRNO(ioctl(s, FIOSETOWN, (int *)8), EFAULT);
    EXPECT_ERRNO(ioctl(s, FIOGETOWN, (int *)8), EFAULT);
    int p[2];
    EXPECT_OK(pipe(p));
    int me = getpid();
    EXPECT_ERRNO(ioctl(p[0], FIOSETOWN, &me), ENOTTY);
    EXPECT_ERRNO(ioctl(p[0], SIOCGPGRP, &me), ENOTTY);
}

CASE(ioctl, fioqsize_file_and_directory) {
    put_file("f", "0123456789abc");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    EXPECT_OK(fsync(f));
    long long sz = -1;
    struct stat st; /* FIOQSIZE is inode_get_bytes: the bytes used, st_blocks * 512 */
    EXPECT_OK(fstat(f, &st));
    EXPECT_OK(ioctl(f, FIOQSIZE, &sz));
    EXPECT_EQ(sz, (long long)st.st_blocks * 512);
    int d = (int)EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(fstat(d, &st));
    EXPECT_OK(ioctl(d, FIOQSIZE, &sz));
    EXPECT_EQ(sz, (long long)st.st_blocks * 512);
    EXPECT_ERRNO(ioctl(f, FIOQSIZE, (long long *)8), EFAULT);
}

CASE(ioctl, fioqsize_on_a_pipe_enotty) {
    int p[2];
    EXPECT_OK(pipe(p));
    long long sz;
    EXPECT_ERRNO(ioctl(p[0], FIOQSIZE, &sz), ENOTTY);
}

CASE(ioctl, siocatmark_without_urgent_data) {
    int c, s;
    tcp_pair(&c, &s);
    int m = -1;
    EXPECT_OK(ioctl(s, SIOCATMARK, &m));
    EXPECT_EQ(m, 0);
    EXPECT_EQ(send(c, "u", 1, MSG_OOB), 1);
    struct pollfd p = {s, POLLPRI, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    EXPECT_OK(ioctl(s, SIOCATMARK, &m));
    EXPECT_EQ(m, 1);
}

CASE(ioctl, siocgstamp_after_a_datagram) {
    int x, y;
    udp_pair(&x, &y);
    struct timeval tv;
    EXPECT_ERRNO(ioctl(y, SIOCGSTAMP, &tv), ENOENT);
    EXPECT_EQ(send(x, "t", 1, 0), 1);
    char b[2];
    EXPECT_EQ(recv(y, b, 2, 0), 1);
    EXPECT_OK(ioctl(y, SIOCGSTAMP, &tv));
    EXPECT_TRUE(tv.tv_sec > 0);
}

/* ---- netdevice(7) ---- */

static int inet_dgram(void) {
    return (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
}

static struct ifreq lo_req(void) {
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, sizeof r.ifr_name, "lo");
    return r;
}

CASE(ioctl, siocgifconf_length_query) {
    int s = inet_dgram();
    struct ifconf c = {.ifc_len = 0, .ifc_buf = NULL};
    EXPECT_OK(ioctl(s, SIOCGIFCONF, &c));
    EXPECT_TRUE(c.ifc_len >= (int)sizeof(struct ifreq));
    EXPECT_EQ(c.ifc_len % (int)sizeof(struct ifreq), 0);
}

CASE(ioctl, siocgifconf_lists_lo_with_its_address) {
    int s = inet_dgram();
    struct ifreq r[16];
    struct ifconf c = {.ifc_len = sizeof r, .ifc_req = r};
    EXPECT_OK(ioctl(s, SIOCGIFCONF, &c));
    int found = 0;
    for (int i = 0; i < c.ifc_len / (int)sizeof(struct ifreq); i++)
        if (!strcmp(r[i].ifr_name, "lo")) {
            struct sockaddr_in a;
            memcpy(&a, &r[i].ifr_addr, sizeof a);
            found = a.sin_family == AF_INET && a.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
        }
    EXPECT_TRUE(found);
}

CASE(ioctl, siocgifconf_never_a_partial_entry) {
    int s = inet_dgram();
    struct ifreq r[4];
    memset(r, 0x5a, sizeof r);
    struct ifconf c = {.ifc_len = (int)sizeof(struct ifreq) + 10, .ifc_req = r};
    EXPECT_OK(ioctl(s, SIOCGIFCONF, &c));
    EXPECT_EQ(c.ifc_len, (int)sizeof(struct ifreq));
    unsigned char *tail = (unsigned char *)&r[1];
    EXPECT_EQ(tail[0], 0x5a);
    c.ifc_len = (int)sizeof(struct ifreq) - 1;
    EXPECT_OK(ioctl(s, SIOCGIFCONF, &c));
    EXPECT_EQ(c.ifc_len, 0);
}

CASE(ioctl, siocgifconf_bad_pointers_efault) {
    int s = inet_dgram();
    EXPECT_ERRNO(ioctl(s, SIOCGIFCONF, (struct ifconf *)8), EFAULT);
    struct ifconf c = {.ifc_len = 4 * (int)sizeof(struct ifreq), .ifc_buf = (char *)8};
    EXPECT_ERRNO(ioctl(s, SIOCGIFCONF, &c), EFAULT);
}

CASE(ioctl, siocgifconf_on_a_unix_socket) {
    int s = (int)EXPECT_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
    struct ifreq r[16];
    struct ifconf c = {.ifc_len = sizeof r, .ifc_req = r};
    EXPECT_OK(ioctl(s, SIOCGIFCONF, &c));
    EXPECT_TRUE(c.ifc_len >= (int)sizeof(struct ifreq));
}

CASE(ioctl, siocgifindex_and_siocgifname_roundtrip) {
    int s = inet_dgram();
    struct ifreq r = lo_req();
    EXPECT_OK(ioctl(s, SIOCGIFINDEX, &r));
    EXPECT_EQ(r.ifr_ifindex, (int)if_nametoindex("lo"));
    struct ifreq n;
    memset(&n, 0, sizeof n);
    n.ifr_ifindex = r.ifr_ifindex;
    EXPECT_OK(ioctl(s, SIOCGIFNAME, &n));
    EXPECT_STREQ(n.ifr_name, "lo");
    n.ifr_ifindex = 99999;
    EXPECT_ERRNO(ioctl(s, SIOCGIFNAME, &n), ENODEV);
}

CASE(ioctl, siocgifflags_lo_is_up_loopback) {
    int s = inet_dgram();
    struct ifreq r = lo_req();
    EXPECT_OK(ioctl(s, SIOCGIFFLAGS, &r));
    EXPECT_TRUE(r.ifr_flags & IFF_UP);
    EXPECT_TRUE(r.ifr_flags & IFF_LOOPBACK);
}

CASE(ioctl, siocgifmtu_and_txqlen_lo) {
    int s = inet_dgram();
    struct ifreq r = lo_req();
    EXPECT_OK(ioctl(s, SIOCGIFMTU, &r));
    EXPECT_TRUE(r.ifr_mtu >= 1280);
    r = lo_req();
    EXPECT_OK(ioctl(s, SIOCGIFTXQLEN, &r));
    EXPECT_TRUE(r.ifr_qlen >= 0);
}

CASE(ioctl, siocgifaddr_and_netmask_lo) {
    int s = inet_dgram();
    struct ifreq r = lo_req();
    EXPECT_OK(ioctl(s, SIOCGIFADDR, &r));
    struct sockaddr_in a;
    memcpy(&a, &r.ifr_addr, sizeof a);
    EXPECT_EQ(a.sin_family, AF_INET);
    EXPECT_EQ(a.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    r = lo_req();
    EXPECT_OK(ioctl(s, SIOCGIFNETMASK, &r));
    memcpy(&a, &r.ifr_netmask, sizeof a);
    EXPECT_EQ(a.sin_addr.s_addr, htonl(0xff000000));
}

CASE(ioctl, siocgifhwaddr_lo_is_loopback_type) {
    int s = inet_dgram();
    struct ifreq r = lo_req();
    EXPECT_OK(ioctl(s, SIOCGIFHWADDR, &r));
    EXPECT_EQ(r.ifr_hwaddr.sa_family, ARPHRD_LOOPBACK);
}

CASE(ioctl, siocgif_unknown_interface_enodev) {
    int s = inet_dgram();
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, sizeof r.ifr_name, "nosuchif0");
    EXPECT_ERRNO(ioctl(s, SIOCGIFFLAGS, &r), ENODEV);
    EXPECT_ERRNO(ioctl(s, SIOCGIFINDEX, &r), ENODEV);
    EXPECT_ERRNO(ioctl(s, SIOCGIFMTU, &r), ENODEV);
    EXPECT_ERRNO(ioctl(s, SIOCGIFADDR, &r), ENODEV);
}

CASE(ioctl, siocgif_bad_ifreq_pointer_efault) {
    int s = inet_dgram();
    EXPECT_ERRNO(ioctl(s, SIOCGIFFLAGS, (struct ifreq *)8), EFAULT);
    EXPECT_ERRNO(ioctl(s, SIOCGIFINDEX, (struct ifreq *)8), EFAULT);
    EXPECT_ERRNO(ioctl(s, SIOCGIFNAME, (struct ifreq *)8), EFAULT);
}

CASE(ioctl, siocsifflags_without_cap_net_admin_eperm) {
    int s = inet_dgram();
    drop_effective_cap(CAP_NET_ADMIN_);
    struct ifreq r = lo_req();
    EXPECT_OK(ioctl(s, SIOCGIFFLAGS, &r));
    EXPECT_ERRNO(ioctl(s, SIOCSIFFLAGS, &r), EPERM);
    r = lo_req();
    r.ifr_mtu = 1500;
    EXPECT_ERRNO(ioctl(s, SIOCSIFMTU, &r), EPERM);
}

CASE(ioctl, socket_ioctl_on_a_file_enotty) {
    put_file("f", "x");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    struct ifreq r = lo_req();
    EXPECT_ERRNO(ioctl(f, SIOCGIFFLAGS, &r), ENOTTY);
    int m;
    EXPECT_ERRNO(ioctl(f, SIOCATMARK, &m), ENOTTY);
}
