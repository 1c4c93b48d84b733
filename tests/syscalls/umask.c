/* umask(2) as the creating calls see it: a change by any task that shares
 * the fs (the caller, another thread, a CLONE_FS child) applies to the
 * next create of every one of them, also while creates run meanwhile. */
#include "harness.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

/* The permission bits of a file created now with mode 0777. */
static mode_t created_mode(const char *name) {
    int fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0777);
    if (fd < 0)
        return (mode_t)-1;
    struct stat st;
    mode_t m = fstat(fd, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
    close(fd);
    unlink(name);
    return m;
}

COVERS("openat mkdir mknodat bind")
CASE(umask, the_callers_change_applies_to_every_kind_of_create) {
    EXPECT_EQ(created_mode("a"), 0755);
    umask(077);
    EXPECT_EQ(created_mode("b"), 0700);
    EXPECT_OK(mkdir("d", 0777));
    struct stat st;
    EXPECT_OK(stat("d", &st));
    EXPECT_EQ(st.st_mode & 07777, 0700);
    umask(027);
    EXPECT_OK(mknod("p", S_IFIFO | 0777, 0));
    EXPECT_OK(stat("p", &st));
    EXPECT_EQ(st.st_mode & 07777, 0750);
    umask(0);
    int s = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM, 0));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, "sock");
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    EXPECT_OK(stat("sock", &st));
    EXPECT_EQ(st.st_mode & 0777, 0777);
    close(s);
}

static void *set_umask_077(void *arg) {
    (void)arg;
    umask(077);
    return NULL;
}

COVERS("openat")
CASE(umask, another_threads_change_applies_to_the_next_create) {
    EXPECT_EQ(created_mode("a"), 0755);
    pthread_t t;
    EXPECT_EQ(pthread_create(&t, NULL, set_umask_077, NULL), 0);
    EXPECT_EQ(pthread_join(t, NULL), 0);
    EXPECT_EQ(created_mode("b"), 0700);
}

static int child_sets_umask_027(void *arg) {
    (void)arg;
    umask(027);
    return 0;
}

COVERS("openat clone")
CASE(umask, a_clone_fs_childs_change_applies_to_the_parent) {
    EXPECT_EQ(created_mode("a"), 0755);
    static char stack[64 * 1024];
    pid_t pid = EXPECT_OK(clone(child_sets_umask_027, stack + sizeof stack, CLONE_FS | SIGCHLD, NULL));
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_EQ(WEXITSTATUS(st), 0);
    EXPECT_EQ(created_mode("b"), 0750);
    /* A child without CLONE_FS changes only its own copy. */
    pid = EXPECT_OK(fork());
    if (pid == 0) {
        umask(077);
        _exit(created_mode("c") == 0700 ? 0 : 1);
    }
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_EQ(WEXITSTATUS(st), 0);
    EXPECT_EQ(created_mode("d"), 0750);
}

static volatile int flipping;
static void *flip_umask(void *arg) {
    (void)arg;
    for (int i = 0; i < 300; i++)
        umask(i % 2 ? 077 : 022);
    umask(007);
    __atomic_store_n(&flipping, 0, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Creates racing a thread that keeps changing the mask: each create gets
 * one of the masks, and once the changes stop, the last one holds. */
COVERS("openat")
CASE(umask, creates_racing_changes_end_with_the_last_mask) {
    EXPECT_EQ(created_mode("a"), 0755);
    __atomic_store_n(&flipping, 1, __ATOMIC_SEQ_CST);
    pthread_t t;
    EXPECT_EQ(pthread_create(&t, NULL, flip_umask, NULL), 0);
    int odd = 0;
    while (__atomic_load_n(&flipping, __ATOMIC_SEQ_CST)) {
        mode_t m = created_mode("r");
        if (m != 0755 && m != 0700 && m != 0770)
            odd++;
    }
    EXPECT_EQ(pthread_join(t, NULL), 0);
    EXPECT_EQ(odd, 0);
    EXPECT_EQ(created_mode("b"), 0770);
    EXPECT_OK(mkdir("d", 0777));
    struct stat st;
    EXPECT_OK(stat("d", &st));
    EXPECT_EQ(st.st_mode & 07777, 0770);
}
