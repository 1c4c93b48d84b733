/* readlink(2)/readlinkat(2) */
#include "harness.h"

CASE(readlink, returns_target_without_nul) {
    EXPECT_OK(symlink("some/target", "l"));
    char buf[64];
    memset(buf, 'Z', sizeof buf);
    EXPECT_EQ(readlink("l", buf, sizeof buf), 11);
    EXPECT_EQ(buf[11], 'Z');
    buf[11] = 0;
    EXPECT_STREQ(buf, "some/target");
}

CASE(readlink, non_link_einval) {
    put_file("f", "x");
    char buf[64];
    EXPECT_ERRNO(readlink("f", buf, sizeof buf), EINVAL);
    EXPECT_ERRNO(readlink(".", buf, sizeof buf), EINVAL);
}

CASE(readlink, truncates_to_bufsiz) {
    EXPECT_OK(symlink("abcdefgh", "l"));
    char buf[8] = {0};
    EXPECT_EQ(readlink("l", buf, 3), 3);
    EXPECT_EQ(memcmp(buf, "abc", 3), 0);
    EXPECT_EQ(buf[3], 0);
}

CASE(readlink, zero_bufsiz_einval) {
    EXPECT_OK(symlink("abc", "l"));
    char buf[8];
    EXPECT_ERRNO(readlink("l", buf, 0), EINVAL);
}

CASE(readlink, enoent) {
    char buf[8];
    EXPECT_ERRNO(readlink("missing", buf, sizeof buf), ENOENT);
}

CASE(readlink, follows_intermediate_links) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(symlink("inner", "d/l"));
    EXPECT_OK(symlink("d", "dl"));
    char buf[16] = {0};
    EXPECT_EQ(readlink("dl/l", buf, sizeof buf), 5);
    EXPECT_STREQ(buf, "inner");
}

CASE(readlink, readlinkat_dirfd) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(symlink("tgt", "d/l"));
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    char buf[16] = {0};
    EXPECT_EQ(readlinkat(dfd, "l", buf, sizeof buf), 3);
    EXPECT_STREQ(buf, "tgt");
}

CASE(readlink, readlinkat_empty_path_on_opath) {
    EXPECT_OK(symlink("via-fd", "l"));
    int fd = EXPECT_OK(open("l", O_PATH | O_NOFOLLOW));
    char buf[16] = {0};
    EXPECT_EQ(readlinkat(fd, "", buf, sizeof buf), 6);
    EXPECT_STREQ(buf, "via-fd");
}
