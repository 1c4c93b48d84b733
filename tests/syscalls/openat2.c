/* openat2(2) */
#include "harness.h"
#include <linux/openat2.h>

static long o2(int dfd, const char *path, unsigned long long flags, unsigned long long resolve) {
    struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
    return syscall(SYS_openat2, dfd, path, &how, sizeof how);
}

CASE(openat2, plain_open) {
    put_file("f", "x");
    EXPECT_OK(o2(AT_FDCWD, "f", O_RDONLY, 0));
}

CASE(openat2, beneath_dotdot_exdev) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("x", "x");
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_ERRNO(o2(dfd, "../x", O_RDONLY, RESOLVE_BENEATH), EXDEV);
    EXPECT_OK(o2(dfd, "../x", O_RDONLY, 0));
}

CASE(openat2, beneath_absolute_exdev) {
    int dfd = EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    EXPECT_ERRNO(o2(dfd, "/etc", O_RDONLY, RESOLVE_BENEATH), EXDEV);
}

CASE(openat2, beneath_inside_ok) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(mkdir("d/e", 0755));
    put_file("d/e/f", "x");
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(o2(dfd, "e/../e/f", O_RDONLY, RESOLVE_BENEATH));
}

CASE(openat2, beneath_symlink_escape_exdev) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("x", "x");
    EXPECT_OK(symlink("../x", "d/up"));
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_ERRNO(o2(dfd, "up", O_RDONLY, RESOLVE_BENEATH), EXDEV);
}

CASE(openat2, in_root_clamps_dotdot) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "inner");
    put_file("f", "outer");
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    int fd = EXPECT_OK(o2(dfd, "../../f", O_RDONLY, RESOLVE_IN_ROOT));
    char buf[8] = {0};
    EXPECT_EQ(read(fd, buf, 7), 5);
    EXPECT_STREQ(buf, "inner");
}

CASE(openat2, no_symlinks_eloop) {
    put_file("f", "x");
    EXPECT_OK(symlink("f", "l"));
    EXPECT_ERRNO(o2(AT_FDCWD, "l", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
}

CASE(openat2, no_magiclinks_eloop) {
    EXPECT_ERRNO(o2(AT_FDCWD, "/proc/self/exe", O_RDONLY, RESOLVE_NO_MAGICLINKS), ELOOP);
}

/* A magic link on the way is refused too; a trailing one may still be
 * opened as an O_PATH|O_NOFOLLOW handle; ordinary symlinks are fine. */
CASE(openat2, no_magiclinks_intermediate_and_handle) {
    EXPECT_ERRNO(o2(AT_FDCWD, "/proc/self/cwd/.", O_RDONLY, RESOLVE_NO_MAGICLINKS), ELOOP);
    EXPECT_ERRNO(o2(AT_FDCWD, "/proc/self/fd/0", O_RDONLY, RESOLVE_NO_MAGICLINKS), ELOOP);
    int fd = EXPECT_OK(o2(AT_FDCWD, "/proc/self/exe", O_PATH | O_NOFOLLOW, RESOLVE_NO_MAGICLINKS));
    close(fd);
    fd = EXPECT_OK(o2(AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_NO_MAGICLINKS));
    close(fd);
}

CASE(openat2, unknown_resolve_einval) {
    EXPECT_ERRNO(o2(AT_FDCWD, ".", O_RDONLY, 1ULL << 40), EINVAL);
}

CASE(openat2, mode_without_creat_einval) {
    struct open_how how = {.flags = O_RDONLY, .mode = 0644};
    EXPECT_ERRNO(syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how), EINVAL);
}

CASE(openat2, small_size_einval) {
    struct open_how how = {.flags = O_RDONLY};
    EXPECT_ERRNO(syscall(SYS_openat2, AT_FDCWD, ".", &how, 8), EINVAL);
}
