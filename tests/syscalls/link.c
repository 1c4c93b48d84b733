/* link(2)/linkat(2)/symlink(2)/symlinkat(2) */
#include "harness.h"

CASE(link, hard_link_shares_inode) {
    put_file("a", "A");
    EXPECT_OK(link("a", "b"));
    struct stat sa, sb;
    EXPECT_OK(stat("a", &sa));
    EXPECT_OK(stat("b", &sb));
    EXPECT_EQ(sa.st_ino, sb.st_ino);
    EXPECT_EQ(sa.st_nlink, 2);
}

CASE(link, existing_eexist) {
    put_file("a", "A");
    put_file("b", "B");
    EXPECT_ERRNO(link("a", "b"), EEXIST);
}

CASE(link, dir_eperm) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_ERRNO(link("d", "e"), EPERM);
}

CASE(link, enoent) {
    EXPECT_ERRNO(link("missing", "b"), ENOENT);
}

CASE(link, linkat_nofollow_links_symlink) {
    put_file("a", "A");
    EXPECT_OK(symlink("a", "l"));
    EXPECT_OK(linkat(AT_FDCWD, "l", AT_FDCWD, "h", 0));
    struct stat st;
    EXPECT_OK(lstat("h", &st));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
}

CASE(link, linkat_follow) {
    put_file("a", "A");
    EXPECT_OK(symlink("a", "l"));
    EXPECT_OK(linkat(AT_FDCWD, "l", AT_FDCWD, "h", AT_SYMLINK_FOLLOW));
    struct stat st, sa;
    EXPECT_OK(lstat("h", &st));
    EXPECT_OK(stat("a", &sa));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_ino, sa.st_ino);
}

CASE(link, linkat_bad_flags_einval) {
    put_file("a", "A");
    EXPECT_ERRNO(linkat(AT_FDCWD, "a", AT_FDCWD, "b", 0x1), EINVAL);
}

CASE(symlink, creates_link) {
    EXPECT_OK(symlink("anything/at/all", "l"));
    char buf[32] = {0};
    EXPECT_EQ(readlink("l", buf, sizeof buf), 15);
    EXPECT_STREQ(buf, "anything/at/all");
}

CASE(symlink, existing_eexist) {
    put_file("f", "x");
    EXPECT_ERRNO(symlink("x", "f"), EEXIST);
}

CASE(symlink, empty_target_enoent) {
    EXPECT_ERRNO(symlink("", "l"), ENOENT);
}

CASE(symlink, relative_to_link_dir) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "in-d");
    EXPECT_OK(symlink("f", "d/l"));
    char buf[8];
    EXPECT_EQ(get_file("d/l", buf, sizeof buf), 4);
}

CASE(symlink, symlinkat_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(symlinkat("t", dfd, "l"));
    struct stat st;
    EXPECT_OK(lstat("d/l", &st));
    EXPECT_TRUE(S_ISLNK(st.st_mode));
}

CASE(symlink, absolute_target_resolves_in_root) {
    EXPECT_OK(symlink("/proc/self", "l"));
    struct stat a, b;
    EXPECT_OK(stat("l/status", &a));
    EXPECT_OK(stat("/proc/self/status", &b));
    EXPECT_EQ(a.st_ino, b.st_ino);
}
