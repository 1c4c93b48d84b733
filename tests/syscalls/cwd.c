/* chdir(2)/fchdir/getcwd(3), statfs(2), uname(2) */
#include "harness.h"
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

CASE(cwd, chdir_getcwd) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(chdir("d"));
    char buf[PATH_MAX], want[PATH_MAX + 8];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    snprintf(want, sizeof want, "%s/d", harness_scratch);
    EXPECT_STREQ(buf, want);
}

CASE(cwd, chdir_through_symlink_resolves) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(symlink("d", "l"));
    EXPECT_OK(chdir("l"));
    char buf[PATH_MAX], want[PATH_MAX + 8];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    snprintf(want, sizeof want, "%s/d", harness_scratch);
    EXPECT_STREQ(buf, want);
}

CASE(cwd, fchdir) {
    EXPECT_OK(mkdir("d", 0755));
    int fd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(chdir("/"));
    EXPECT_OK(fchdir(fd));
    put_file("here", "x");
    EXPECT_OK(access("/proc/self/cwd/here", F_OK));
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/d/here", harness_scratch);
    EXPECT_OK(access(p, F_OK));
}

CASE(cwd, chdir_errors) {
    put_file("f", "x");
    EXPECT_ERRNO(chdir("f"), ENOTDIR);
    EXPECT_ERRNO(chdir("missing"), ENOENT);
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(fchdir(fd), ENOTDIR);
}

CASE(cwd, getcwd_erange) {
    char buf[2];
    EXPECT_TRUE(getcwd(buf, sizeof buf) == NULL);
    EXPECT_EQ(errno, ERANGE);
}

CASE(cwd, dotdot_from_scratch_is_tmp) {
    EXPECT_OK(chdir(".."));
    char buf[PATH_MAX];
    EXPECT_TRUE(getcwd(buf, sizeof buf) != NULL);
    EXPECT_STREQ(buf, "/tmp");
}

CASE(cwd, relative_paths_follow_chdir) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    EXPECT_OK(chdir("d"));
    EXPECT_OK(access("f", F_OK));
    EXPECT_OK(access("../d/f", F_OK));
}

CASE(statfs, root_and_fd) {
    struct statfs a, b;
    EXPECT_OK(statfs("/", &a));
    EXPECT_TRUE(a.f_bsize > 0);
    int fd = EXPECT_OK(open("/", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(fstatfs(fd, &b));
    EXPECT_EQ(a.f_type, b.f_type);
}

CASE(statfs, proc_magic) {
    struct statfs s;
    EXPECT_OK(statfs("/proc", &s));
    EXPECT_EQ(s.f_type, PROC_SUPER_MAGIC);
}

CASE(statfs, dev_shm_tmpfs) {
    struct statfs s;
    EXPECT_OK(statfs("/dev/shm", &s));
    EXPECT_EQ(s.f_type, TMPFS_MAGIC);
}

CASE(statfs, enoent) {
    struct statfs s;
    EXPECT_ERRNO(statfs("missing", &s), ENOENT);
}

CASE(uname, fields) {
    struct utsname u;
    EXPECT_OK(uname(&u));
    EXPECT_STREQ(u.sysname, "Linux");
    EXPECT_STREQ(u.machine, "x86_64");
    EXPECT_TRUE(u.release[0] >= '2' && u.release[0] <= '9');
}

CASE(uname, nodename_matches_gethostname) {
    struct utsname u;
    char h[256];
    EXPECT_OK(uname(&u));
    EXPECT_OK(gethostname(h, sizeof h));
    EXPECT_STREQ(u.nodename, h);
}

CASE(uname, nodename_matches_proc) {
    struct utsname u;
    char h[256];
    EXPECT_OK(uname(&u));
    EXPECT_TRUE(get_file("/proc/sys/kernel/hostname", h, sizeof h) > 0);
    h[strcspn(h, "\n")] = 0;
    EXPECT_STREQ(u.nodename, h);
}

CASE(uname, release_matches_proc) {
    struct utsname u;
    char r[256];
    EXPECT_OK(uname(&u));
    EXPECT_TRUE(get_file("/proc/sys/kernel/osrelease", r, sizeof r) > 0);
    r[strcspn(r, "\n")] = 0;
    EXPECT_STREQ(u.release, r);
}
