/* Opens and stats racing with other processes' renames, unlinks and
 * replacements. Under runrs the sentry answers lookups and read-only opens
 * from its directory cache (the directories it walked) and opens the file
 * itself: every change made by another process of the container must be
 * seen by the next lookup, whatever was cached before. Also: what a direct
 * read-only open hands over (flags) and who decides its permission. */
#include "harness.h"

#include <grp.h>
#include <signal.h>
#include <sys/wait.h>

/* The contents of path, or "" when it cannot be read (errno kept). */
static const char *contents(const char *path) {
    static char buf[64];
    if (get_file(path, buf, sizeof buf) < 0)
        buf[0] = 0;
    return buf;
}

/* Runs fn in a child process and waits for it to succeed. */
static void in_child(void (*fn)(void)) {
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void unlink_f(void) {
    if (unlink("d/f") != 0)
        _exit(1);
}

COVERS("unlink newfstatat")
CASE(open, sees_an_unlink_by_another_process) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    EXPECT_STREQ(contents("d/f"), "x");
    struct stat st;
    EXPECT_OK(stat("d/f", &st));
    in_child(unlink_f);
    EXPECT_ERRNO(open("d/f", O_RDONLY), ENOENT);
    EXPECT_ERRNO(stat("d/f", &st), ENOENT);
}

static void replace_f(void) {
    int fd = open("d/g", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "new", 3) != 3 || close(fd) != 0 || rename("d/g", "d/f") != 0)
        _exit(1);
}

COVERS("rename")
CASE(open, sees_a_rename_over_by_another_process) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "old");
    EXPECT_STREQ(contents("d/f"), "old");
    struct stat before, after;
    EXPECT_OK(stat("d/f", &before));
    in_child(replace_f);
    EXPECT_STREQ(contents("d/f"), "new");
    EXPECT_OK(stat("d/f", &after));
    EXPECT_TRUE(before.st_ino != after.st_ino);
}

static void move_dir_and_make_another(void) {
    int fd;
    if (rename("d", "e") != 0 || mkdir("d", 0755) != 0)
        _exit(1);
    fd = open("d/f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "two", 3) != 3 || close(fd) != 0)
        _exit(1);
}

COVERS("rename mkdir")
CASE(open, sees_a_cached_directory_moved_and_replaced) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(mkdir("d/sub", 0755));
    put_file("d/f", "one");
    put_file("d/sub/g", "deep");
    EXPECT_STREQ(contents("d/f"), "one");
    EXPECT_STREQ(contents("d/sub/g"), "deep");
    in_child(move_dir_and_make_another);
    EXPECT_STREQ(contents("d/f"), "two");
    EXPECT_STREQ(contents("e/f"), "one");
    EXPECT_STREQ(contents("e/sub/g"), "deep");
    EXPECT_ERRNO(open("d/sub/g", O_RDONLY), ENOENT);
}

static void dir_to_symlink(void) {
    if (rename("d", "old") != 0 || symlink("t", "d") != 0)
        _exit(1);
}

COVERS("symlink rename")
CASE(open, sees_a_cached_directory_replaced_by_a_symlink) {
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(mkdir("t", 0755));
    put_file("d/f", "dir");
    put_file("t/f", "target");
    EXPECT_STREQ(contents("d/f"), "dir");
    in_child(dir_to_symlink);
    EXPECT_STREQ(contents("d/f"), "target");
    /* Not following the final name now gives the link itself. */
    EXPECT_ERRNO(open("d", O_RDONLY | O_NOFOLLOW), ELOOP);
}

/* readlink of a directory the cache holds is EINVAL without asking the
 * host; another process then puts a symlink in its place. */
COVERS("readlink symlink rename")
CASE(open, readlink_of_a_cached_directory_then_of_its_replacement) {
    char buf[64];
    EXPECT_OK(mkdir("d", 0755));
    EXPECT_OK(mkdir("t", 0755));
    put_file("d/f", "dir");
    put_file("t/f", "target");
    EXPECT_STREQ(contents("d/f"), "dir");
    EXPECT_ERRNO(readlink("d", buf, sizeof buf), EINVAL);
    in_child(dir_to_symlink);
    EXPECT_EQ(readlink("d", buf, sizeof buf), 1);
    EXPECT_TRUE(buf[0] == 't');
    EXPECT_STREQ(contents("d/f"), "target");
    EXPECT_ERRNO(readlink("old", buf, sizeof buf), EINVAL);
}

static void chmod_private(void) {
    if (chmod("d", 0700) != 0)
        _exit(1);
}

static int nobody_reads_d_f(void) {
    int fd = open("d/f", O_RDONLY);
    return fd >= 0 ? 0 : errno;
}

COVERS("chmod")
CASE(open, sees_a_directory_made_private_by_another_process) {
    EXPECT_OK(chmod(harness_scratch, 0755));
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    EXPECT_EQ(as_nobody(nobody_reads_d_f), 0);
    in_child(chmod_private);
    EXPECT_EQ(as_nobody(nobody_reads_d_f), EACCES);
}

/* Swaps directories a and b `rounds` times through a third name. */
static void swap_dirs(void) {
    for (int i = 0; i < 400; i++)
        if (rename("a", "t") != 0 || rename("b", "a") != 0 || rename("t", "b") != 0)
            _exit(1);
}

COVERS("rename newfstatat")
CASE(open, exact_after_concurrent_renames_of_cached_directories) {
    EXPECT_OK(mkdir("a", 0755));
    EXPECT_OK(mkdir("b", 0755));
    put_file("a/f", "A");
    put_file("b/f", "B");
    pid_t pid = EXPECT_OK(fork());
    if (pid == 0) {
        swap_dirs();
        _exit(0);
    }
    /* Meanwhile: lookups and opens that fill the cache with whatever the
     * tree looks like at each moment; any answer is fine while it moves. */
    for (int i = 0; i < 300; i++) {
        struct stat st;
        stat("a/f", &st);
        int fd = open("b/f", O_RDONLY);
        if (fd >= 0)
            close(fd);
        fd = open("a", O_RDONLY | O_DIRECTORY);
        if (fd >= 0)
            close(fd);
    }
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* 400 swaps: back where they started, and every lookup must say so. */
    EXPECT_STREQ(contents("a/f"), "A");
    EXPECT_STREQ(contents("b/f"), "B");
    struct stat sa, sd;
    EXPECT_OK(stat("a/f", &sa));
    int dfd = EXPECT_OK(open("a", O_RDONLY | O_DIRECTORY));
    EXPECT_OK(fstatat(dfd, "f", &sd, 0));
    EXPECT_EQ(sa.st_ino, sd.st_ino);
    EXPECT_ERRNO(open("t/f", O_RDONLY), ENOENT);
}

COVERS("fcntl")
CASE(open, rdonly_status_flags_are_the_callers) {
    put_file("f", "x");
    EXPECT_OK(mkdir("d", 0755));
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_EQ(EXPECT_OK(fcntl(fd, F_GETFL)) & (O_ACCMODE | O_NONBLOCK | O_APPEND | O_NOFOLLOW),
              O_RDONLY);
    int nb = EXPECT_OK(open("f", O_RDONLY | O_NONBLOCK));
    EXPECT_EQ(EXPECT_OK(fcntl(nb, F_GETFL)) & O_NONBLOCK, O_NONBLOCK);
    int dfd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    EXPECT_EQ(EXPECT_OK(fcntl(dfd, F_GETFL)) & (O_ACCMODE | O_NONBLOCK), O_RDONLY);
    /* One open file description each: a seek on one moves no other. */
    char c;
    EXPECT_EQ(read(fd, &c, 1), 1);
    EXPECT_EQ(lseek(nb, 0, SEEK_CUR), 0);
}

static int nobody_reads_f(void) {
    char buf[8];
    return get_file("f", buf, sizeof buf) >= 0 ? 0 : errno;
}

/* As 65534: a file of its own that only its owner may read, then one
 * that only its group may (the owner's class decides). */
static int nobody_owns_a_private_file(void) {
    int fd = open("f", O_WRONLY | O_CREAT | O_EXCL, 0400);
    if (fd < 0 || write(fd, "mine", 4) != 4 || close(fd) != 0)
        return 200;
    int r = nobody_reads_f();
    if (r != 0)
        return r;
    if (chmod("f", 0040) != 0)
        return 201;
    return nobody_reads_f() == EACCES ? 0 : 202;
}

CASE(open, rdonly_of_a_users_private_file_by_its_owner) {
    EXPECT_OK(chmod(harness_scratch, 0777));
    EXPECT_EQ(as_nobody(nobody_owns_a_private_file), 0);
}

/* `.` and `..` after cached directories are resolved by the sentry; after
 * a symlink, `..` is the parent of the link's target, not of the link. */
COVERS("newfstatat openat readlink")
CASE(open, dotdot_after_cached_directories_and_after_a_symlink) {
    EXPECT_OK(mkdir("a", 0755));
    EXPECT_OK(mkdir("a/b", 0755));
    EXPECT_OK(mkdir("x", 0755));
    EXPECT_OK(mkdir("x/y", 0755));
    put_file("a/f", "in a");
    put_file("x/f", "in x");
    EXPECT_OK(symlink("../x/y", "a/l"));
    struct stat st;
    EXPECT_OK(stat("a/b", &st));
    EXPECT_STREQ(contents("a/b/../f"), "in a");
    EXPECT_STREQ(contents("a/./b/./../f"), "in a");
    EXPECT_STREQ(contents("a/l/../f"), "in x");
    EXPECT_STREQ(contents("a/b/../../x/f"), "in x");
    EXPECT_ERRNO(stat("a/f/../f", &st), ENOTDIR);
    EXPECT_ERRNO(stat("a/nothere/../f", &st), ENOENT);
    char buf[16];
    EXPECT_ERRNO(readlink("a/b/..", buf, sizeof buf), EINVAL);
    EXPECT_EQ(readlink("a/b/../l", buf, sizeof buf), 6);
    EXPECT_OK(stat("a/b/..", &st));
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_ERRNO(mkdir("a/b/..", 0755), EEXIST);
    EXPECT_ERRNO(rmdir("a/b/.."), ENOTEMPTY);
}

/* A directory on the way that is not there (a compiler probing include
 * directories): ENOENT for every kind of call, ENOTDIR through a file. */
COVERS("openat newfstatat mkdir unlink access")
CASE(open, a_missing_directory_on_the_way) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/f", "x");
    struct stat st;
    EXPECT_OK(stat("d", &st));
    EXPECT_ERRNO(open("d/nodir/x", O_RDONLY), ENOENT);
    EXPECT_ERRNO(stat("d/nodir/x", &st), ENOENT);
    EXPECT_ERRNO(lstat("d/nodir/deeper/x", &st), ENOENT);
    EXPECT_ERRNO(mkdir("d/nodir/x", 0755), ENOENT);
    EXPECT_ERRNO(unlink("d/nodir/x"), ENOENT);
    EXPECT_ERRNO(access("d/nodir/x", F_OK), ENOENT);
    EXPECT_ERRNO(access("d/nothere", R_OK), ENOENT);
    EXPECT_ERRNO(open("d/nodir/x", O_WRONLY | O_CREAT, 0644), ENOENT);
    EXPECT_ERRNO(open("d/f/x", O_RDONLY), ENOTDIR);
    EXPECT_ERRNO(stat("d/f/x", &st), ENOTDIR);
    EXPECT_ERRNO(access("d/f/x", F_OK), ENOTDIR);
}

static int nobody_probes_a_private_directory(void) {
    struct stat st;
    if (stat("p/nodir/x", &st) == 0 || errno != EACCES)
        return 1;
    if (access("p/nothere", F_OK) == 0 || errno != EACCES)
        return 2;
    if (open("p/q/../f", O_RDONLY) >= 0 || errno != EACCES)
        return 3;
    if (unlink("p/nothere") == 0 || errno != EACCES)
        return 4;
    if (stat("p/q/../nothere", &st) == 0 || errno != EACCES)
        return 5;
    return 0;
}

/* As nobody's uid in root's group: judged by p's group bits. */
static void group_member_probes_a_private_directory(void) {
    if (setgroups(0, NULL) != 0 || setresuid(65534, 65534, 65534) != 0)
        _exit(10);
    _exit(nobody_probes_a_private_directory());
}

/* access(2) checks with the real ids: a process whose effective uid is
 * root but whose real one is not may not search the directory. */
static void access_with_a_real_uid_of_nobody(void) {
    if (setgroups(0, NULL) != 0 || setresuid(65534, 0, 0) != 0)
        _exit(10);
    if (access("p/nothere", F_OK) == 0 || errno != EACCES)
        _exit(1);
    if (faccessat(AT_FDCWD, "p/nothere", F_OK, AT_EACCESS) == 0 || errno != ENOENT)
        _exit(2);
    _exit(0);
}

/* p is 0705 in root's group: a member of that group is judged by the
 * group's bits (no search), while any other user, the sentry's own
 * included, may search it. */
COVERS("newfstatat access faccessat")
CASE(open, missing_names_in_a_directory_the_caller_cannot_search) {
    EXPECT_OK(chmod(harness_scratch, 0755));
    EXPECT_OK(mkdir("p", 0705));
    EXPECT_OK(chown("p", 0, 0));
    EXPECT_OK(mkdir("p/q", 0755));
    put_file("p/f", "x");
    struct stat st;
    EXPECT_OK(stat("p/q/../f", &st));
    EXPECT_ERRNO(access("p/nothere", F_OK), ENOENT);
    in_child(group_member_probes_a_private_directory);
    in_child(access_with_a_real_uid_of_nobody);
}
