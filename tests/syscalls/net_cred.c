/* Credentials over AF_UNIX sockets: SCM_CREDENTIALS and SO_PASSCRED
 * (unix(7)), SO_PEERCRED and SO_PEERPIDFD (socket(7)), between processes of
 * the container, after the peer exits and across a pid namespace. */
#include "net_util.h"
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/un.h>
#include <sys/wait.h>

#define CAP_SETUID_ 7
#define CAP_SETGID_ 6
#define CAP_SYS_ADMIN_ 21
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static ssize_t send_creds(int s, pid_t pid, uid_t uid, gid_t gid, size_t len) {
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {"c", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = len ? len : CMSG_LEN(sizeof(struct ucred));
    struct ucred cr = {pid, uid, gid};
    memcpy(CMSG_DATA(c), &cr, sizeof cr);
    return sendmsg(s, &m, 0);
}

/* Receives one byte; returns 1 and fills *cr when SCM_CREDENTIALS came. */
static int recv_creds(int s, struct ucred *cr) {
    char b[2], cb[256];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                       .msg_controllen = sizeof cb};
    EXPECT_EQ(recvmsg(s, &m, 0), 1);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            memcpy(cr, CMSG_DATA(c), sizeof *cr);
            return 1;
        }
    return 0;
}

static void pair_passcred(int type, int sv[2]) {
    EXPECT_OK(socketpair(AF_UNIX, type, 0, sv));
    set_int_opt(sv[1], SOL_SOCKET, SO_PASSCRED, 1);
}

CASE(getsockopt, so_passcred_roundtrip) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    EXPECT_EQ(get_int_opt(sv[0], SOL_SOCKET, SO_PASSCRED), 0);
    set_int_opt(sv[0], SOL_SOCKET, SO_PASSCRED, 1);
    EXPECT_EQ(get_int_opt(sv[0], SOL_SOCKET, SO_PASSCRED), 1);
}

CASE(sendmsg, scm_credentials_own_ids) {
    int sv[2];
    pair_passcred(SOCK_DGRAM, sv);
    EXPECT_EQ(send_creds(sv[0], getpid(), getuid(), getgid(), 0), 1);
    struct ucred cr;
    EXPECT_TRUE(recv_creds(sv[1], &cr));
    EXPECT_EQ(cr.pid, getpid());
    EXPECT_EQ(cr.uid, getuid());
    EXPECT_EQ(cr.gid, getgid());
}

CASE(recvmsg, so_passcred_without_a_cmsg_gets_the_senders_ids) {
    int sv[2];
    pair_passcred(SOCK_STREAM, sv);
    EXPECT_EQ(write(sv[0], "x", 1), 1);
    struct ucred cr;
    EXPECT_TRUE(recv_creds(sv[1], &cr));
    EXPECT_EQ(cr.pid, getpid());
    EXPECT_EQ(cr.uid, geteuid());
    EXPECT_EQ(cr.gid, getegid());
}

CASE(recvmsg, no_passcred_no_credentials) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    EXPECT_EQ(write(sv[0], "x", 1), 1);
    struct ucred cr;
    EXPECT_TRUE(!recv_creds(sv[1], &cr));
}

CASE(recvmsg, scm_credentials_of_a_child_sender) {
    int sv[2];
    pair_passcred(SOCK_DGRAM, sv);
    pid_t c = fork();
    if (c == 0) {
        _exit(send_creds(sv[0], getpid(), getuid(), getgid(), 0) == 1 ? 0 : 1);
    }
    struct ucred cr;
    EXPECT_TRUE(recv_creds(sv[1], &cr));
    EXPECT_EQ(cr.pid, c);
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    EXPECT_EQ(st, 0);
}

CASE(sendmsg, scm_credentials_another_pid_needs_cap_sys_admin) {
    int sv[2];
    pair_passcred(SOCK_DGRAM, sv);
    pid_t c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    drop_effective_cap(CAP_SYS_ADMIN_);
    errno = 0;
    ssize_t r = send_creds(sv[0], c, getuid(), getgid(), 0);
    int e = errno;
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    EXPECT_EQ(r, -1);
    EXPECT_EQ(e, EPERM);
}

CASE(sendmsg, scm_credentials_another_pid_with_cap_sys_admin) {
    if (!has_cap(CAP_SYS_ADMIN_))
        harness_skip("needs CAP_SYS_ADMIN over the pid namespace");
    int sv[2];
    pair_passcred(SOCK_DGRAM, sv);
    pid_t c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    ssize_t r = send_creds(sv[0], c, getuid(), getgid(), 0);
    struct ucred cr = {0};
    int got = r == 1 ? recv_creds(sv[1], &cr) : 0;
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    EXPECT_EQ(r, 1);
    EXPECT_TRUE(got);
    EXPECT_EQ(cr.pid, c);
}

CASE(sendmsg, scm_credentials_nonexistent_pid_esrch) {
    if (!has_cap(CAP_SYS_ADMIN_))
        harness_skip("needs CAP_SYS_ADMIN over the pid namespace (else EPERM first)");
    int sv[2];
    pair_passcred(SOCK_DGRAM, sv);
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    EXPECT_EQ(waitpid(c, NULL, 0), c);
    EXPECT_ERRNO(send_creds(sv[0], c, getuid(), getgid(), 0), ESRCH);
}

CASE(sendmsg, scm_credentials_other_uid_needs_cap_setuid) {
    int sv[2];
    pair_passcred(SOCK_DGRAM, sv);
    if (has_cap(CAP_SETUID_)) {
        EXPECT_EQ(send_creds(sv[0], getpid(), 1234, getgid(), 0), 1);
        struct ucred cr;
        EXPECT_TRUE(recv_creds(sv[1], &cr));
        EXPECT_EQ(cr.uid, 1234);
    }
    drop_effective_cap(CAP_SETUID_);
    EXPECT_ERRNO(send_creds(sv[0], getpid(), 1234, getgid(), 0), EPERM);
}

CASE(sendmsg, scm_credentials_other_gid_needs_cap_setgid) {
    int sv[2];
    pair_passcred(SOCK_DGRAM, sv);
    if (has_cap(CAP_SETGID_)) {
        EXPECT_EQ(send_creds(sv[0], getpid(), getuid(), 4321, 0), 1);
        struct ucred cr;
        EXPECT_TRUE(recv_creds(sv[1], &cr));
        EXPECT_EQ(cr.gid, 4321);
    }
    drop_effective_cap(CAP_SETGID_);
    EXPECT_ERRNO(send_creds(sv[0], getpid(), getuid(), 4321, 0), EPERM);
}

CASE(sendmsg, scm_credentials_bad_length_einval) {
    int sv[2];
    pair_passcred(SOCK_DGRAM, sv);
    EXPECT_ERRNO(send_creds(sv[0], getpid(), getuid(), getgid(), CMSG_LEN(4)), EINVAL);
}

CASE(sendmsg, scm_credentials_ignored_without_passcred) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    EXPECT_EQ(send_creds(sv[0], getpid(), getuid(), getgid(), 0), 1);
    struct ucred cr;
    EXPECT_TRUE(!recv_creds(sv[1], &cr));
}

CASE(getsockopt, so_peercred_socketpair_is_self) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct ucred cr;
    socklen_t len = sizeof cr;
    EXPECT_OK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &len));
    EXPECT_EQ(len, sizeof cr);
    EXPECT_EQ(cr.pid, getpid());
    EXPECT_EQ(cr.uid, geteuid());
    EXPECT_EQ(cr.gid, getegid());
}

static socklen_t abstract_name(struct sockaddr_un *a, const char *tag) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "runrs-cred-%s-%d", tag, getpid());
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* A child (optionally switching to `uid` first) connects to an abstract
 * listener, then exits once told; returns the accepted socket. */
static int child_connects(const char *tag, uid_t uid, pid_t *child, int *go) {
    struct sockaddr_un a;
    socklen_t alen = abstract_name(&a, tag);
    int l = (int)EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(bind(l, (struct sockaddr *)&a, alen));
    EXPECT_OK(listen(l, 1));
    int p[2];
    EXPECT_OK(pipe(p));
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        if (uid != (uid_t)-1 && setresuid(uid, uid, uid) != 0)
            _exit(2);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&a, alen) != 0)
            _exit(3);
        char b;
        if (read(p[0], &b, 1) < 0)
            _exit(4);
        _exit(0);
    }
    close(p[0]);
    *child = c;
    *go = p[1];
    int x = (int)EXPECT_OK(accept(l, NULL, NULL));
    close(l);
    return x;
}

CASE(getsockopt, so_peercred_names_a_child_peer) {
    pid_t c;
    int go;
    int x = child_connects("child", (uid_t)-1, &c, &go);
    struct ucred cr;
    socklen_t len = sizeof cr;
    EXPECT_OK(getsockopt(x, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    EXPECT_EQ(cr.pid, c);
    EXPECT_EQ(cr.uid, geteuid());
    close(go);
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    EXPECT_EQ(st, 0);
}

CASE(getsockopt, so_peercred_stays_after_the_peer_exits) {
    pid_t c;
    int go;
    int x = child_connects("exit", (uid_t)-1, &c, &go);
    close(go);
    EXPECT_EQ(waitpid(c, NULL, 0), c);
    struct ucred cr;
    socklen_t len = sizeof cr;
    EXPECT_OK(getsockopt(x, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    EXPECT_EQ(cr.pid, c);
    EXPECT_EQ(cr.uid, geteuid());
    EXPECT_EQ(cr.gid, getegid());
}

CASE(getsockopt, so_peercred_of_another_uid) {
    if (!has_cap(CAP_SETUID_))
        harness_skip("needs CAP_SETUID");
    pid_t c;
    int go;
    int x = child_connects("uid", 1000, &c, &go);
    struct ucred cr;
    socklen_t len = sizeof cr;
    EXPECT_OK(getsockopt(x, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    close(go);
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    EXPECT_EQ(st, 0);
    EXPECT_EQ(cr.pid, c);
    EXPECT_EQ(cr.uid, 1000);
}

CASE(getsockopt, so_peercred_of_the_listener_is_the_connect_time_ids) {
    pid_t c;
    int go;
    struct sockaddr_un a;
    socklen_t alen = abstract_name(&a, "lst");
    int l = (int)EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(bind(l, (struct sockaddr *)&a, alen));
    EXPECT_OK(listen(l, 1));
    int s = (int)EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(connect(s, (struct sockaddr *)&a, alen));
    struct ucred cr;
    socklen_t len = sizeof cr;
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    EXPECT_EQ(cr.pid, getpid());
    (void)c;
    (void)go;
}

CASE(getsockopt, so_peercred_unconnected_is_empty) {
    int s = (int)EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    struct ucred cr = {7, 7, 7};
    socklen_t len = sizeof cr;
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    EXPECT_EQ(cr.pid, 0);
    EXPECT_EQ(cr.uid, (uid_t)-1);
    EXPECT_EQ(cr.gid, (gid_t)-1);
}

CASE(getsockopt, so_peercred_short_length_copies_a_prefix) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pid_t pid = 0;
    socklen_t len = sizeof pid;
    EXPECT_OK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &pid, &len));
    EXPECT_EQ(len, sizeof pid);
    EXPECT_EQ(pid, getpid());
}

CASE(getsockopt, so_peerpidfd_signals_the_peer) {
    pid_t c;
    int go;
    int x = child_connects("pidfd", (uid_t)-1, &c, &go);
    int pfd = -1;
    socklen_t len = sizeof pfd;
    if (getsockopt(x, SOL_SOCKET, SO_PEERPIDFD, &pfd, &len) != 0) {
        int e = errno;
        close(go);
        waitpid(c, NULL, 0);
        if (e == ENOPROTOOPT)
            harness_skip("kernel without SO_PEERPIDFD (6.5)");
        FAIL("SO_PEERPIDFD: %s", harness_errname(e));
    }
    EXPECT_OK(syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0));
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    close(go);
}

CASE(getsockopt, so_peercred_across_a_pid_namespace) {
    struct sockaddr_un a;
    socklen_t alen = abstract_name(&a, "pidns");
    int l = (int)EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_OK(bind(l, (struct sockaddr *)&a, alen));
    EXPECT_OK(listen(l, 1));
    if (unshare(CLONE_NEWPID) != 0) {
        if (errno == EPERM)
            harness_skip("no CAP_SYS_ADMIN for a pid namespace");
        FAIL("unshare(CLONE_NEWPID): %s", harness_errname(errno));
    }
    pid_t c = fork(); /* pid 1 of the new namespace */
    if (c == 0) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (getpid() != 1 || s < 0 || connect(s, (struct sockaddr *)&a, alen) != 0)
            _exit(3);
        struct ucred cr;
        socklen_t len = sizeof cr;
        /* the listener's pid is outside: it reads as 0 here */
        if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || cr.pid != 0)
            _exit(4);
        char b;
        if (read(s, &b, 1) < 0)
            _exit(5);
        _exit(0);
    }
    EXPECT_OK(c);
    int x = (int)EXPECT_OK(accept(l, NULL, NULL));
    struct ucred cr;
    socklen_t len = sizeof cr;
    EXPECT_OK(getsockopt(x, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    EXPECT_EQ(cr.pid, c);
    close(x);
    int st;
    EXPECT_EQ(waitpid(c, &st, 0), c);
    EXPECT_EQ(WEXITSTATUS(st), 0);
}

COVERS("getuid geteuid getgid getegid")
CASE(getsockopt, so_peercred_matches_the_id_calls) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    struct ucred cr;
    socklen_t len = sizeof cr;
    EXPECT_OK(getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &cr, &len));
    EXPECT_EQ(cr.uid, syscall(SYS_geteuid));
    EXPECT_EQ(cr.gid, syscall(SYS_getegid));
    EXPECT_EQ(syscall(SYS_getuid), getuid());
    EXPECT_EQ(syscall(SYS_getgid), getgid());
}

CASE(recvmsg, scm_rights_and_credentials_together) {
    int sv[2];
    pair_passcred(SOCK_DGRAM, sv);
    int p[2];
    EXPECT_OK(pipe(p));
    union {
        char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {"r", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &p[1], sizeof(int));
    c = CMSG_NXTHDR(&m, c);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
    struct ucred cr = {getpid(), getuid(), getgid()};
    memcpy(CMSG_DATA(c), &cr, sizeof cr);
    EXPECT_EQ(sendmsg(sv[0], &m, 0), 1);
    char b[2], cb[256];
    struct iovec riov = {b, sizeof b};
    struct msghdr r = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = cb,
                       .msg_controllen = sizeof cb};
    EXPECT_EQ(recvmsg(sv[1], &r, MSG_CMSG_CLOEXEC), 1);
    int fd = -1, creds = 0;
    for (struct cmsghdr *x = CMSG_FIRSTHDR(&r); x; x = CMSG_NXTHDR(&r, x)) {
        if (x->cmsg_type == SCM_RIGHTS)
            memcpy(&fd, CMSG_DATA(x), sizeof fd);
        if (x->cmsg_type == SCM_CREDENTIALS)
            creds = 1;
    }
    EXPECT_TRUE(fd >= 0 && creds);
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(write(fd, "z", 1), 1);
    EXPECT_EQ(read(p[0], b, 1), 1);
}
