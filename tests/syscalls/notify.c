/* inotify: watches on paths (the sandbox resolves the path, the gofer adds
 * the watch to the workload's own instance) and the events they report. */
#include "harness.h"
#include <poll.h>
#include <sys/inotify.h>

/* Reads one event; its mask and name. */
static void next_event(int fd, uint32_t *mask, char *name, size_t len) {
    char buf[sizeof(struct inotify_event) + NAME_MAX + 1] __attribute__((aligned(8)));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 2000) != 1)
        FAIL("no inotify event within 2 s");
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < (ssize_t)sizeof(struct inotify_event))
        FAIL("short inotify read: %zd", n);
    struct inotify_event *e = (struct inotify_event *)buf;
    *mask = e->mask;
    snprintf(name, len, "%s", e->len ? e->name : "");
}

COVERS("inotify_init1 inotify_rm_watch")
CASE(inotify_add_watch, create_event_with_name) {
    EXPECT_OK(mkdir("w", 0755));
    EXPECT_OK(symlink("w", "wl"));
    int in = EXPECT_OK(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    int wd = EXPECT_OK(inotify_add_watch(in, "wl", IN_CREATE | IN_DELETE));
    /* the same directory by another path is the same watch */
    char abs[PATH_MAX + 8];
    snprintf(abs, sizeof abs, "%s/w", harness_scratch);
    EXPECT_EQ(inotify_add_watch(in, abs, IN_CREATE | IN_DELETE), wd);
    put_file("./wl/../w/new-file", "x");
    uint32_t mask;
    char name[NAME_MAX + 1];
    next_event(in, &mask, name, sizeof name);
    EXPECT_EQ(mask, IN_CREATE);
    EXPECT_STREQ(name, "new-file");
    EXPECT_OK(unlink("w/new-file"));
    next_event(in, &mask, name, sizeof name);
    EXPECT_EQ(mask, IN_DELETE);
    EXPECT_STREQ(name, "new-file");
    EXPECT_OK(inotify_rm_watch(in, wd));
    next_event(in, &mask, name, sizeof name);
    EXPECT_EQ(mask, IN_IGNORED);
    EXPECT_ERRNO(inotify_rm_watch(in, wd), EINVAL);
}

COVERS("inotify_init")
CASE(inotify_add_watch, file_modify_and_errors) {
    put_file("f", "x");
    int legacy = EXPECT_OK(syscall(SYS_inotify_init));
    EXPECT_OK(inotify_add_watch(legacy, "f", IN_MODIFY));
    close(legacy);
    EXPECT_OK(symlink("f", "fl"));
    int in = EXPECT_OK(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    EXPECT_ERRNO(inotify_add_watch(in, "missing", IN_MODIFY), ENOENT);
    EXPECT_ERRNO(inotify_add_watch(in, "f/x", IN_MODIFY), ENOTDIR);
    EXPECT_ERRNO(inotify_add_watch(in, "f", IN_MODIFY | IN_ONLYDIR), ENOTDIR);
    EXPECT_ERRNO(inotify_add_watch(in, "fl", IN_MODIFY | IN_ONLYDIR), ENOTDIR);
    EXPECT_ERRNO(inotify_add_watch(in, "", IN_MODIFY), ENOENT);
    EXPECT_ERRNO(inotify_add_watch(in, "f", 0), EINVAL);
    EXPECT_ERRNO(inotify_add_watch(in, "missing", IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE), EINVAL);
    EXPECT_ERRNO(inotify_add_watch(12345, "f", IN_MODIFY), EBADF);
    int notinotify = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(inotify_add_watch(notinotify, "f", IN_MODIFY), EINVAL);
    int wd = EXPECT_OK(inotify_add_watch(in, "fl", IN_MODIFY | IN_ATTRIB));
    /* IN_DONT_FOLLOW watches the link itself: another watch */
    int lwd = EXPECT_OK(inotify_add_watch(in, "fl", IN_ATTRIB | IN_DONT_FOLLOW));
    EXPECT_TRUE(lwd != wd);
    EXPECT_OK(inotify_add_watch(in, "/proc/self", IN_ONLYDIR | IN_ATTRIB));
    int fd = EXPECT_OK(open("f", O_WRONLY | O_APPEND));
    EXPECT_EQ(write(fd, "y", 1), 1);
    uint32_t mask;
    char name[NAME_MAX + 1];
    next_event(in, &mask, name, sizeof name);
    EXPECT_EQ(mask, IN_MODIFY);
    EXPECT_STREQ(name, "");
}
