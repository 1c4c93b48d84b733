/* mknod(2)/mknodat */
#include "harness.h"
#include <linux/capability.h>
#include <sys/sysmacros.h>

CASE(mknod, fifo) {
    EXPECT_OK(mknod("p", S_IFIFO | 0640, 0));
    struct stat st;
    EXPECT_OK(stat("p", &st));
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0640);
    int fd = EXPECT_OK(open("p", O_RDONLY | O_NONBLOCK));
    close(fd);
}

CASE(mknod, regular_file) {
    EXPECT_OK(mknodat(AT_FDCWD, "f", S_IFREG | 0600, 0));
    struct stat st;
    EXPECT_OK(stat("f", &st));
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 0);
}

CASE(mknod, chardev_needs_cap_mknod) {
    if (has_cap(CAP_MKNOD)) {
        EXPECT_OK(mknod("null", S_IFCHR | 0666, makedev(1, 3)));
    } else {
        EXPECT_ERRNO(mknod("null", S_IFCHR | 0666, makedev(1, 3)), EPERM);
    }
}

CASE(mknod, existing_eexist) {
    put_file("f", "x");
    EXPECT_ERRNO(mknod("f", S_IFIFO | 0600, 0), EEXIST);
}

CASE(mknod, bad_type_einval) {
    EXPECT_ERRNO(mknod("x", 0170000 | 0600, 0), EINVAL);
}
