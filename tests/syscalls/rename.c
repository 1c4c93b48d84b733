/* rename(2)/renameat(2)/renameat2(2) */
#include "harness.h"
#include <linux/fs.h>

static long rn2(const char *a, const char *b, unsigned flags) {
    return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

CASE(rename, moves_file) {
    put_file("a", "A");
    EXPECT_OK(rename("a", "b"));
    EXPECT_ERRNO(access("a", F_OK), ENOENT);
    char buf[4];
    EXPECT_EQ(get_file("b", buf, sizeof buf), 1);
    EXPECT_STREQ(buf, "A");
}

CASE(rename, replaces_existing_file) {
    put_file("a", "A");
    put_file("b", "B");
    EXPECT_OK(rename("a", "b"));
    char buf[4];
    EXPECT_EQ(get_file("b", buf, sizeof buf), 1);
    EXPECT_STREQ(buf, "A");
}

CASE(rename, noreplace_eexist) {
    put_file("a", "A");
    put_file("b", "B");
    EXPECT_ERRNO(rn2("a", "b", RENAME_NOREPLACE), EEXIST);
    EXPECT_OK(rn2("a", "c", RENAME_NOREPLACE));
}

CASE(rename, exchange_swaps) {
    put_file("a", "A");
    EXPECT_OK(mkdir("b", 0755));
    EXPECT_OK(rn2("a", "b", RENAME_EXCHANGE));
    struct stat st;
    EXPECT_OK(stat("a", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    char buf[4];
    EXPECT_EQ(get_file("b", buf, sizeof buf), 1);
    EXPECT_STREQ(buf, "A");
}

CASE(rename, exchange_missing_enoent) {
    put_file("a", "A");
    EXPECT_ERRNO(rn2("a", "b", RENAME_EXCHANGE), ENOENT);
}

CASE(rename, noreplace_and_exchange_einval) {
    put_file("a", "A");
    put_file("b", "B");
    EXPECT_ERRNO(rn2("a", "b", RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
}

CASE(rename, dir_over_nonempty_dir) {
    EXPECT_OK(mkdir("a", 0755));
    EXPECT_OK(mkdir("b", 0755));
    put_file("b/f", "x");
    EXPECT_ERRNO(rename("a", "b"), ENOTEMPTY);
}

CASE(rename, dir_over_empty_dir) {
    EXPECT_OK(mkdir("a", 0755));
    put_file("a/f", "x");
    EXPECT_OK(mkdir("b", 0755));
    EXPECT_OK(rename("a", "b"));
    EXPECT_OK(access("b/f", F_OK));
}

CASE(rename, file_over_dir_eisdir) {
    put_file("a", "A");
    EXPECT_OK(mkdir("b", 0755));
    EXPECT_ERRNO(rename("a", "b"), EISDIR);
}

CASE(rename, dir_over_file_enotdir) {
    EXPECT_OK(mkdir("a", 0755));
    put_file("b", "B");
    EXPECT_ERRNO(rename("a", "b"), ENOTDIR);
}

CASE(rename, into_own_subdir_einval) {
    EXPECT_OK(mkdir("a", 0755));
    EXPECT_OK(mkdir("a/b", 0755));
    EXPECT_ERRNO(rename("a", "a/b/c"), EINVAL);
}

CASE(rename, same_file_noop) {
    put_file("a", "A");
    EXPECT_OK(link("a", "b"));
    EXPECT_OK(rename("a", "b"));
    EXPECT_OK(access("a", F_OK));
    EXPECT_OK(access("b", F_OK));
}

CASE(rename, enoent) {
    EXPECT_ERRNO(rename("missing", "b"), ENOENT);
}

CASE(rename, renameat_dirfds) {
    EXPECT_OK(mkdir("x", 0755));
    EXPECT_OK(mkdir("y", 0755));
    put_file("x/f", "x");
    int a = EXPECT_OK(open("x", O_RDONLY | O_DIRECTORY));
    int b = EXPECT_OK(open("y", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(renameat(a, "f", b, "g"));
    EXPECT_OK(access("y/g", F_OK));
}
