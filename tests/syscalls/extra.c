/* The areas issue 6 names that the other files do not reach: a shebang
 * naming a missing interpreter, threads, SOCK_SEQPACKET, IPv6 loopback and
 * pseudo-terminals. */
#include "harness.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

CASE(execve, shebang_missing_interpreter_enoent) {
    /* Linux reports a missing interpreter as ENOENT on the script itself. */
    put_file("script", "#!/no/such/interpreter\nexit 0\n");
    EXPECT_OK(chmod("script", 0755));
    char *argv[] = {"script", NULL};
    char *envp[] = {NULL};
    EXPECT_ERRNO(execve("script", argv, envp), ENOENT);
}

static int shared_counter;
static void *bump(void *arg) {
    (void)arg;
    __atomic_add_fetch(&shared_counter, 1, __ATOMIC_SEQ_CST);
    return (void *)(long)gettid();
}

CASE(clone, threads_share_memory_and_have_own_tids) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        EXPECT_EQ(pthread_create(&t[i], NULL, bump, NULL), 0);
    long tids[4];
    for (int i = 0; i < 4; i++) {
        void *r;
        EXPECT_EQ(pthread_join(t[i], &r), 0);
        tids[i] = (long)r;
        EXPECT_EQ(tids[i] != getpid(), 1);
    }
    EXPECT_EQ(__atomic_load_n(&shared_counter, __ATOMIC_SEQ_CST), 4);
    EXPECT_EQ(tids[0] != tids[1], 1);
}

CASE(socketpair, seqpacket_keeps_boundaries) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    EXPECT_EQ(send(sv[0], "abc", 3, 0), 3);
    EXPECT_EQ(send(sv[0], "de", 2, 0), 2);
    char buf[8];
    EXPECT_EQ(recv(sv[1], buf, 1, 0), 1); /* the rest of "abc" is dropped */
    EXPECT_EQ(recv(sv[1], buf, sizeof buf, 0), 2);
    close(sv[0]);
    EXPECT_EQ(recv(sv[1], buf, sizeof buf, 0), 0);
}

CASE(bind, unix_seqpacket_path_listen_accept) {
    int s = EXPECT_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "sp.sock");
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    EXPECT_OK(listen(s, 1));
    int c = EXPECT_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    int d = EXPECT_OK(accept(s, NULL, NULL));
    EXPECT_EQ(send(c, "x", 1, 0), 1);
    char b;
    EXPECT_EQ(recv(d, &b, 1, 0), 1);
    EXPECT_ERRNO(bind(socket(AF_UNIX, SOCK_SEQPACKET, 0), (struct sockaddr *)&a, sizeof a), EADDRINUSE);
}

CASE(socket, inet6_loopback_tcp) {
    int s = EXPECT_OK(socket(AF_INET6, SOCK_STREAM, 0));
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    socklen_t len = sizeof a;
    EXPECT_OK(getsockname(s, (struct sockaddr *)&a, &len));
    EXPECT_OK(listen(s, 1));
    int c = EXPECT_OK(socket(AF_INET6, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    int d = EXPECT_OK(accept(s, NULL, NULL));
    EXPECT_EQ(write(c, "v6", 2), 2);
    char buf[4] = {0};
    EXPECT_EQ(read(d, buf, 2), 2);
    EXPECT_STREQ(buf, "v6");
}

CASE(pty, openpt_grant_unlock_and_echo) {
    int m = EXPECT_OK(posix_openpt(O_RDWR | O_NOCTTY));
    EXPECT_OK(grantpt(m));
    EXPECT_OK(unlockpt(m));
    char *name = ptsname(m);
    EXPECT_EQ(name != NULL && strncmp(name, "/dev/pts/", 9) == 0, 1);
    int s = EXPECT_OK(open(name, O_RDWR | O_NOCTTY));
    EXPECT_EQ(isatty(s), 1);
    struct termios t;
    EXPECT_OK(tcgetattr(s, &t));
    cfmakeraw(&t);
    EXPECT_OK(tcsetattr(s, TCSANOW, &t));
    EXPECT_EQ(write(m, "hi", 2), 2);
    char buf[4] = {0};
    EXPECT_EQ(read(s, buf, 2), 2);
    EXPECT_STREQ(buf, "hi");
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    EXPECT_OK(ioctl(m, TIOCSWINSZ, &ws));
    struct winsize got;
    EXPECT_OK(ioctl(s, TIOCGWINSZ, &got));
    EXPECT_EQ(got.ws_col, 80);
}
