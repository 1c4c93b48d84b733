/* sockets and polling: socketpair, AF_INET loopback, AF_UNIX paths, poll, epoll, eventfd */
#include "harness.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>

CASE(socket, socketpair_unix_stream) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    EXPECT_EQ(send(sv[0], "ping", 4, 0), 4);
    char buf[8] = {0};
    EXPECT_EQ(recv(sv[1], buf, sizeof buf, 0), 4);
    EXPECT_STREQ(buf, "ping");
    close(sv[0]);
    EXPECT_EQ(recv(sv[1], buf, sizeof buf, 0), 0);
}

CASE(socket, socketpair_dgram_boundaries) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    EXPECT_EQ(send(sv[0], "ab", 2, 0), 2);
    EXPECT_EQ(send(sv[0], "cde", 3, 0), 3);
    char buf[8];
    EXPECT_EQ(recv(sv[1], buf, sizeof buf, 0), 2);
    EXPECT_EQ(recv(sv[1], buf, sizeof buf, 0), 3);
}

CASE(socket, scm_rights_passes_fd) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    put_file("f", "passed");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    char cbuf[CMSG_SPACE(sizeof(int))] = {0};
    char c = 'x';
    struct iovec iov = {&c, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    EXPECT_EQ(sendmsg(sv[0], &m, 0), 1);
    char rbuf[CMSG_SPACE(sizeof(int))] = {0};
    struct msghdr r = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf};
    EXPECT_EQ(recvmsg(sv[1], &r, 0), 1);
    int got;
    memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&r)), sizeof got);
    char buf[8] = {0};
    EXPECT_EQ(pread(got, buf, 6, 0), 6);
    EXPECT_STREQ(buf, "passed");
}

CASE(socket, unix_bind_connect_path) {
    int s = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "sock");
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    EXPECT_OK(listen(s, 1));
    struct stat st;
    EXPECT_OK(stat("sock", &st));
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    int c = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    int x = EXPECT_OK(accept(s, NULL, NULL));
    EXPECT_EQ(write(c, "u", 1), 1);
    char ch;
    EXPECT_EQ(read(x, &ch, 1), 1);
    EXPECT_ERRNO(bind(EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0)), (struct sockaddr *)&a, sizeof a), EADDRINUSE);
}

CASE(socket, unix_connect_missing_enoent) {
    int c = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "nothing-here");
    EXPECT_ERRNO(connect(c, (struct sockaddr *)&a, sizeof a), ENOENT);
}

static socklen_t unix_addr(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
    return sizeof *a;
}

COVERS("connect getsockname unlink")
CASE(bind, unix_path_inode_mode_owner_name) {
    umask(077);
    struct sockaddr_un a;
    int s = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(bind(s, (struct sockaddr *)&a, unix_addr(&a, "s")));
    struct stat st;
    EXPECT_OK(lstat("s", &st));
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0700);
    EXPECT_EQ(st.st_uid, geteuid());
    EXPECT_EQ(st.st_gid, getegid());
    struct sockaddr_un got = {0};
    socklen_t len = sizeof got;
    EXPECT_OK(getsockname(s, (struct sockaddr *)&got, &len));
    EXPECT_STREQ(got.sun_path, "s");
    EXPECT_EQ(len, 4);
    /* an absolute path is kept as given */
    char abs[PATH_MAX + 8];
    snprintf(abs, sizeof abs, "%s/abs", harness_scratch);
    if (strlen(abs) >= sizeof a.sun_path)
        harness_skip("scratch path too long for sun_path");
    int t = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(bind(t, (struct sockaddr *)&a, unix_addr(&a, abs)));
    EXPECT_OK(listen(t, 1));
    len = sizeof got;
    EXPECT_OK(getsockname(t, (struct sockaddr *)&got, &len));
    EXPECT_STREQ(got.sun_path, abs);
    int c = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, unix_addr(&a, "abs")));
    len = sizeof got;
    EXPECT_OK(getpeername(c, (struct sockaddr *)&got, &len));
    EXPECT_STREQ(got.sun_path, abs);
    EXPECT_OK(unlink("s"));
    EXPECT_ERRNO(lstat("s", &st), ENOENT);
}

CASE(bind, unix_path_errors) {
    struct sockaddr_un a;
    int s = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, unix_addr(&a, "nodir/s")), ENOENT);
    put_file("f", "x");
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, unix_addr(&a, "f/s")), ENOTDIR);
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, unix_addr(&a, "f")), EADDRINUSE);
    EXPECT_OK(symlink("f", "link"));
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, unix_addr(&a, "link")), EADDRINUSE);
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, unix_addr(&a, "/proc/new.sock")), ENOENT);
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(symlink("d", "dl"));
    EXPECT_OK(bind(s, (struct sockaddr *)&a, unix_addr(&a, "dl/s")));
    struct stat st;
    EXPECT_OK(stat("d/s", &st));
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    /* a bound socket cannot be bound again */
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, unix_addr(&a, "other")), EINVAL);
    EXPECT_ERRNO(bind(12345, (struct sockaddr *)&a, unix_addr(&a, "bad")), EBADF);
    int in = EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_ERRNO(bind(in, (struct sockaddr *)&a, unix_addr(&a, "inet")), EAFNOSUPPORT);
}

CASE(connect, unix_path_refused) {
    struct sockaddr_un a;
    int s = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(bind(s, (struct sockaddr *)&a, unix_addr(&a, "quiet")));
    int c = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_ERRNO(connect(c, (struct sockaddr *)&a, sizeof a), ECONNREFUSED);
    put_file("plain", "x");
    EXPECT_ERRNO(connect(c, (struct sockaddr *)&a, unix_addr(&a, "plain")), ECONNREFUSED);
    EXPECT_ERRNO(connect(c, (struct sockaddr *)&a, unix_addr(&a, "plain/x")), ENOTDIR);
    EXPECT_ERRNO(connect(c, (struct sockaddr *)&a, unix_addr(&a, "/proc/self/status")), ECONNREFUSED);
    close(s);
    /* the inode outlives the socket: nobody listens */
    EXPECT_ERRNO(connect(c, (struct sockaddr *)&a, unix_addr(&a, "quiet")), ECONNREFUSED);
}

COVERS("sendto recvfrom")
CASE(socket, unix_dgram_path_and_abstract) {
    struct sockaddr_un a;
    int r = EXPECT_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
    EXPECT_OK(bind(r, (struct sockaddr *)&a, unix_addr(&a, "dg")));
    int w = EXPECT_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
    EXPECT_EQ(sendto(w, "d1", 2, 0, (struct sockaddr *)&a, sizeof a), 2);
    EXPECT_OK(connect(w, (struct sockaddr *)&a, sizeof a));
    EXPECT_EQ(send(w, "d2", 2, 0), 2);
    char buf[4] = {0};
    EXPECT_EQ(recv(r, buf, sizeof buf, 0), 2);
    EXPECT_STREQ(buf, "d1");
    EXPECT_EQ(recv(r, buf, sizeof buf, 0), 2);
    EXPECT_STREQ(buf, "d2");
    /* abstract names are no files */
    char name[64];
    int n = snprintf(name, sizeof name, "runrs-conformance-%d", getpid());
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path + 1, name, n);
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
    int l = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(bind(l, (struct sockaddr *)&a, len));
    EXPECT_OK(listen(l, 1));
    int c = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, len));
    struct stat st;
    EXPECT_ERRNO(lstat(name, &st), ENOENT);
}

CASE(socket, inet_loopback_tcp) {
    int s = EXPECT_OK(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    EXPECT_OK(listen(s, 4));
    socklen_t len = sizeof a;
    EXPECT_OK(getsockname(s, (struct sockaddr *)&a, &len));
    EXPECT_TRUE(a.sin_port != 0);
    int c = EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    int x = EXPECT_OK(accept4(s, NULL, NULL, SOCK_CLOEXEC));
    EXPECT_EQ(send(c, "tcp!", 4, 0), 4);
    char buf[8] = {0};
    EXPECT_EQ(recv(x, buf, 4, MSG_WAITALL), 4);
    EXPECT_STREQ(buf, "tcp!");
}

CASE(socket, inet_connect_refused) {
    int s = EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    socklen_t len = sizeof a;
    EXPECT_OK(getsockname(s, (struct sockaddr *)&a, &len));
    close(s); /* the port is now free and nobody listens */
    int c = EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_ERRNO(connect(c, (struct sockaddr *)&a, sizeof a), ECONNREFUSED);
}

CASE(socket, inet_udp_loopback) {
    int s = EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    socklen_t len = sizeof a;
    EXPECT_OK(getsockname(s, (struct sockaddr *)&a, &len));
    int c = EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_EQ(sendto(c, "udp", 3, 0, (struct sockaddr *)&a, sizeof a), 3);
    char buf[8] = {0};
    EXPECT_EQ(recv(s, buf, sizeof buf, 0), 3);
}

CASE(socket, bad_type_einval) {
    EXPECT_ERRNO(socket(AF_UNIX, 12345, 0), EINVAL);
}

CASE(socket, setsockopt_reuseaddr) {
    int s = EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    int one = 1, v = 0;
    socklen_t l = sizeof v;
    EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &l));
    EXPECT_EQ(v, 1);
}

CASE(poll, pipe_readable) {
    int p[2];
    EXPECT_OK(pipe(p));
    struct pollfd pf = {p[0], POLLIN, 0};
    EXPECT_EQ(poll(&pf, 1, 0), 0);
    EXPECT_EQ(write(p[1], "x", 1), 1);
    EXPECT_EQ(poll(&pf, 1, 1000), 1);
    EXPECT_TRUE(pf.revents & POLLIN);
}

CASE(poll, hangup_on_closed_writer) {
    int p[2];
    EXPECT_OK(pipe(p));
    close(p[1]);
    struct pollfd pf = {p[0], POLLIN, 0};
    EXPECT_EQ(poll(&pf, 1, 1000), 1);
    EXPECT_TRUE(pf.revents & POLLHUP);
}

CASE(poll, invalid_fd_pollnval) {
    struct pollfd pf = {9999, POLLIN, 0};
    EXPECT_EQ(poll(&pf, 1, 0), 1);
    EXPECT_EQ(pf.revents, POLLNVAL);
}

CASE(poll, timeout_elapses) {
    int p[2];
    EXPECT_OK(pipe(p));
    struct pollfd pf = {p[0], POLLIN, 0};
    EXPECT_EQ(poll(&pf, 1, 20), 0);
}

CASE(poll, select_readable) {
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_EQ(write(p[1], "x", 1), 1);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv = {1, 0};
    EXPECT_EQ(select(p[0] + 1, &r, NULL, NULL, &tv), 1);
    EXPECT_TRUE(FD_ISSET(p[0], &r));
}

CASE(epoll, eventfd_wakes) {
    int ep = EXPECT_OK(epoll_create1(EPOLL_CLOEXEC));
    int ev = EXPECT_OK(eventfd(0, EFD_NONBLOCK));
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = 77};
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e));
    struct epoll_event out[2];
    EXPECT_EQ(epoll_wait(ep, out, 2, 0), 0);
    unsigned long long one = 1;
    EXPECT_EQ(write(ev, &one, 8), 8);
    EXPECT_EQ(epoll_wait(ep, out, 2, 1000), 1);
    EXPECT_EQ(out[0].data.u64, 77);
}

CASE(epoll, ctl_errors) {
    int ep = EXPECT_OK(epoll_create1(0));
    int ev = EXPECT_OK(eventfd(0, 0));
    struct epoll_event e = {.events = EPOLLIN};
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e));
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e), EEXIST);
    EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_DEL, ev, NULL));
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_DEL, ev, NULL), ENOENT);
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e), EINVAL);
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), EPERM);
}

CASE(eventfd, counter_semantics) {
    int ev = EXPECT_OK(eventfd(3, EFD_NONBLOCK));
    unsigned long long v = 4;
    EXPECT_EQ(write(ev, &v, 8), 8);
    EXPECT_EQ(read(ev, &v, 8), 8);
    EXPECT_EQ(v, 7);
    EXPECT_ERRNO(read(ev, &v, 8), EAGAIN);
    char small[4];
    EXPECT_ERRNO(read(ev, small, 4), EINVAL);
}

CASE(eventfd, semaphore_mode) {
    int ev = EXPECT_OK(eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK));
    unsigned long long v;
    EXPECT_EQ(read(ev, &v, 8), 8);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(read(ev, &v, 8), 8);
    EXPECT_ERRNO(read(ev, &v, 8), EAGAIN);
}

/* A socket cannot be opened again through its /proc/self/fd link (sockfs
 * refuses: ENXIO), though an O_PATH open of the link works; a pipe's can. */
COVERS("open socketpair pipe")
CASE(open, socket_fd_link_is_not_reopened) {
    int sv[2], p[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", sv[0]);
    EXPECT_ERRNO(open(link, O_RDWR), ENXIO);
    EXPECT_ERRNO(open(link, O_RDONLY), ENXIO);
    int path = EXPECT_OK(open(link, O_PATH));
    close(path);
    EXPECT_OK(pipe(p));
    snprintf(link, sizeof link, "/proc/self/fd/%d", p[0]);
    int again = EXPECT_OK(open(link, O_RDONLY));
    EXPECT_EQ(write(p[1], "x", 1), 1);
    char c;
    EXPECT_EQ(read(again, &c, 1), 1);
    close(again);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}
