/* Helpers shared by the socket-option, credential, raw-socket, ioctl and
 * pidfd cases (net_opts.c, net_cred.c, net_raw.c, ioctl2.c, pidfd.c). */
#ifndef CONFORMANCE_NET_UTIL_H
#define CONFORMANCE_NET_UTIL_H
#include "harness.h"
#include <arpa/inet.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define NU __attribute__((unused)) static

/* A loopback IPv4 address with port 0 (or `port`). */
NU struct sockaddr_in lo4(unsigned short port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

NU struct sockaddr_in6 lo6(unsigned short port) {
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port),
                             .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    return a;
}

/* Binds `s` to 127.0.0.1:0 and returns the bound address. */
NU struct sockaddr_in bind_lo4(int s) {
    struct sockaddr_in a = lo4(0);
    socklen_t len = sizeof a;
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    EXPECT_OK(getsockname(s, (struct sockaddr *)&a, &len));
    return a;
}

/* A listening TCP socket on 127.0.0.1 (address in *a). */
NU int tcp_listener(struct sockaddr_in *a) {
    int l = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    *a = bind_lo4(l);
    EXPECT_OK(listen(l, 8));
    return l;
}

/* A connected TCP pair over loopback: *c the client, *s the accepted end. */
NU void tcp_pair(int *c, int *s) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    *c = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_OK(connect(*c, (struct sockaddr *)&a, sizeof a));
    *s = (int)EXPECT_OK(accept4(l, NULL, NULL, SOCK_CLOEXEC));
    close(l);
}

/* Two UDP sockets on loopback, each connected to the other. */
NU void udp_pair(int *x, int *y) {
    *x = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    *y = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    struct sockaddr_in ax = bind_lo4(*x), ay = bind_lo4(*y);
    EXPECT_OK(connect(*x, (struct sockaddr *)&ay, sizeof ay));
    EXPECT_OK(connect(*y, (struct sockaddr *)&ax, sizeof ax));
}

NU int get_int_opt(int s, int level, int name) {
    int v = -12345;
    socklen_t len = sizeof v;
    EXPECT_OK(getsockopt(s, level, name, &v, &len));
    EXPECT_EQ(len, sizeof v);
    return v;
}

NU void set_int_opt(int s, int level, int name, int v) {
    EXPECT_OK(setsockopt(s, level, name, &v, sizeof v));
}

/* Removes `cap` from the effective set (capset), as a process that gave it up. */
NU void drop_effective_cap(int cap) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    EXPECT_OK(syscall(SYS_capget, &h, d));
    d[cap / 32].effective &= ~(1u << (cap % 32));
    EXPECT_OK(syscall(SYS_capset, &h, d));
    if (has_cap(cap))
        FAIL("capability %d still effective", cap);
}

#endif
