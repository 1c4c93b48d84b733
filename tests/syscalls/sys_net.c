/* Socket calls on the process's own AF_UNIX sockets (family = syscall name). */
#include "harness.h"
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/random.h>

/* An abstract AF_UNIX address unique to this case (net-namespace scoped). */
static socklen_t abstract_addr(struct sockaddr_un *a, const char *tag) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "runrs-conf-%s-%d", tag, getpid());
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static int listener(const char *tag, struct sockaddr_un *a, socklen_t *len) {
    int s = (int)EXPECT_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    *len = abstract_addr(a, tag);
    EXPECT_OK(bind(s, (struct sockaddr *)a, *len));
    return s;
}

COVERS("accept getpeername")
CASE(listen, accept_connection) {
    struct sockaddr_un a;
    socklen_t len;
    int s = listener("l", &a, &len);
    EXPECT_EQ(syscall(SYS_listen, s, 4), 0);
    int c = (int)EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, len));
    struct sockaddr_un peer;
    socklen_t plen = sizeof peer;
    int x = (int)EXPECT_OK(syscall(SYS_accept, s, &peer, &plen));
    EXPECT_EQ(plen, offsetof(struct sockaddr_un, sun_path)); /* unbound client */
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    EXPECT_EQ(syscall(SYS_getpeername, c, &got, &glen), 0);
    EXPECT_EQ(glen, len);
    EXPECT_EQ(memcmp(got.sun_path, a.sun_path, len - offsetof(struct sockaddr_un, sun_path)), 0);
    EXPECT_EQ(write(c, "hi", 2), 2);
    char b[3] = {0};
    EXPECT_EQ(read(x, b, 2), 2);
    EXPECT_STREQ(b, "hi");
    EXPECT_ERRNO(syscall(SYS_getpeername, s, &got, &glen), ENOTCONN);
}

CASE(listen, errors) {
    int d = (int)EXPECT_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
    EXPECT_ERRNO(syscall(SYS_listen, d, 1), EOPNOTSUPP);
    EXPECT_ERRNO(syscall(SYS_listen, 0 /* not a socket? */ + 999, 1), EBADF);
    put_file("f", "x");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(syscall(SYS_listen, f, 1), ENOTSOCK);
}

CASE(accept4, nonblock_cloexec_and_eagain) {
    struct sockaddr_un a;
    socklen_t len;
    int s = listener("a4", &a, &len);
    EXPECT_OK(listen(s, 4));
    EXPECT_OK(fcntl(s, F_SETFL, O_NONBLOCK));
    EXPECT_ERRNO(syscall(SYS_accept4, s, NULL, NULL, 0), EAGAIN);
    int c = (int)EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, len));
    int x = (int)EXPECT_OK(syscall(SYS_accept4, s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
    EXPECT_EQ(fcntl(x, F_GETFD), FD_CLOEXEC);
    EXPECT_TRUE(fcntl(x, F_GETFL) & O_NONBLOCK);
    EXPECT_ERRNO(syscall(SYS_accept4, s, NULL, NULL, 1), EINVAL);
}

CASE(getsockname, bound_and_unbound) {
    struct sockaddr_un a, got;
    socklen_t len, glen = sizeof got;
    int s = listener("gsn", &a, &len);
    EXPECT_EQ(syscall(SYS_getsockname, s, &got, &glen), 0);
    EXPECT_EQ(glen, len);
    EXPECT_EQ(got.sun_family, AF_UNIX);
    int u = (int)EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    glen = sizeof got;
    EXPECT_EQ(syscall(SYS_getsockname, u, &got, &glen), 0);
    EXPECT_EQ(glen, sizeof(sa_family_t));
    EXPECT_ERRNO(syscall(SYS_getsockname, 999, &got, &glen), EBADF);
}

COVERS("getsockopt")
CASE(setsockopt, rcvbuf_doubles_and_type) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int v = 8192, out = 0;
    socklen_t l = sizeof out;
    EXPECT_EQ(syscall(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v), 0);
    EXPECT_EQ(syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_RCVBUF, &out, &l), 0);
    EXPECT_EQ(out, 2 * v);
    l = sizeof out;
    EXPECT_EQ(syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, &out, &l), 0);
    EXPECT_EQ(out, SOCK_STREAM);
    EXPECT_ERRNO(syscall(SYS_setsockopt, sv[0], SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT);
    EXPECT_ERRNO(syscall(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVBUF, &v, 1), EINVAL);
}

CASE(getsockopt, peercred_is_self) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct ucred c;
    socklen_t l = sizeof c;
    EXPECT_EQ(syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_PEERCRED, &c, &l), 0);
    EXPECT_EQ(c.pid, getpid());
    EXPECT_EQ(c.uid, getuid());
}

CASE(shutdown, write_side_gives_eof_and_epipe) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    EXPECT_EQ(syscall(SYS_shutdown, sv[0], SHUT_WR), 0);
    char b;
    EXPECT_EQ(read(sv[1], &b, 1), 0);
    EXPECT_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    EXPECT_ERRNO(syscall(SYS_shutdown, sv[0], 7), EINVAL);
    put_file("f", "x");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(syscall(SYS_shutdown, f, SHUT_RD), ENOTSOCK);
}

CASE(recvfrom, dgram_peek_and_dontwait) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    char b[8] = {0};
    EXPECT_ERRNO(syscall(SYS_recvfrom, sv[1], b, sizeof b, MSG_DONTWAIT, NULL, NULL), EAGAIN);
    EXPECT_EQ(send(sv[0], "dgram", 5, 0), 5);
    EXPECT_EQ(syscall(SYS_recvfrom, sv[1], b, sizeof b, MSG_PEEK, NULL, NULL), 5);
    EXPECT_EQ(syscall(SYS_recvfrom, sv[1], b, 2, MSG_TRUNC, NULL, NULL), 5);
    EXPECT_ERRNO(syscall(SYS_recvfrom, sv[1], b, sizeof b, MSG_DONTWAIT, NULL, NULL), EAGAIN);
}

CASE(recvmsg, scm_rights_and_credentials) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    put_file("f", "passed");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec v = {"m", 1};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &f, sizeof f);
    EXPECT_EQ(sendmsg(sv[0], &m, 0), 1);
    char rb[2], rc[CMSG_SPACE(sizeof(int))];
    struct iovec rv = {rb, 1};
    struct msghdr r = {.msg_iov = &rv, .msg_iovlen = 1, .msg_control = rc, .msg_controllen = sizeof rc};
    EXPECT_EQ(syscall(SYS_recvmsg, sv[1], &r, MSG_CMSG_CLOEXEC), 1);
    struct cmsghdr *rcm = CMSG_FIRSTHDR(&r);
    EXPECT_TRUE(rcm && rcm->cmsg_type == SCM_RIGHTS);
    int g;
    memcpy(&g, CMSG_DATA(rcm), sizeof g);
    EXPECT_EQ(fcntl(g, F_GETFD), FD_CLOEXEC);
    char b[8] = {0};
    EXPECT_EQ(pread(g, b, 6, 0), 6);
    EXPECT_STREQ(b, "passed");
    EXPECT_ERRNO(syscall(SYS_recvmsg, sv[1], &r, MSG_DONTWAIT), EAGAIN);
}

COVERS("sendmmsg")
CASE(recvmmsg, batch_of_datagrams) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    struct iovec o[3] = {{"a", 1}, {"bb", 2}, {"ccc", 3}};
    struct mmsghdr out[3];
    memset(out, 0, sizeof out);
    for (int i = 0; i < 3; i++) {
        out[i].msg_hdr.msg_iov = &o[i];
        out[i].msg_hdr.msg_iovlen = 1;
    }
    EXPECT_EQ(sendmmsg(sv[0], out, 3, 0), 3);
    char b[3][8];
    struct iovec in[3] = {{b[0], 8}, {b[1], 8}, {b[2], 8}};
    struct mmsghdr r[3];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3; i++) {
        r[i].msg_hdr.msg_iov = &in[i];
        r[i].msg_hdr.msg_iovlen = 1;
    }
    EXPECT_EQ(syscall(SYS_recvmmsg, sv[1], r, 3, MSG_DONTWAIT, NULL), 3);
    EXPECT_EQ(r[0].msg_len, 1);
    EXPECT_EQ(r[2].msg_len, 3);
    EXPECT_ERRNO(syscall(SYS_recvmmsg, sv[1], r, 3, MSG_DONTWAIT, NULL), EAGAIN);
}

/* misc */
CASE(getrandom, flags_and_sizes) {
    unsigned char b[64] = {0};
    EXPECT_EQ(syscall(SYS_getrandom, b, sizeof b, 0), 64);
    EXPECT_EQ(syscall(SYS_getrandom, b, 16, GRND_NONBLOCK), 16);
    EXPECT_EQ(syscall(SYS_getrandom, b, 0, 0), 0);
    EXPECT_ERRNO(syscall(SYS_getrandom, b, 16, 0x40), EINVAL);
}

CASE(seccomp, action_avail_and_strict_filter_in_child) {
    unsigned act = SECCOMP_RET_ERRNO;
    EXPECT_EQ(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act), 0);
    act = 0x12340000;
    EXPECT_ERRNO(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act), EOPNOTSUPP);
    EXPECT_ERRNO(syscall(SYS_seccomp, 99, 0, NULL), EINVAL);
    pid_t p = fork();
    if (p == 0) {
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL) != 0)
            _exit(3);
        syscall(SYS_getpid); /* not allowed in strict mode: SIGKILL */
        _exit(0);
    }
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

CASE(uretprobe, outside_trampoline_sigill) {
    pid_t p = fork();
    if (p == 0) {
        syscall(335 /* uretprobe */);
        _exit(0);
    }
    int st;
    EXPECT_EQ(waitpid(p, &st, 0), p);
    EXPECT_TRUE(WIFSIGNALED(st));
    EXPECT_EQ(WTERMSIG(st), SIGILL);
}
