/* getdents64(2) */
#include "harness.h"
#include <dirent.h>

struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* "name:type," for every entry in read order, sorted afterwards */
static int list(int fd, char names[][64], unsigned char *types, int max) {
    char buf[4096];
    int n = 0;
    for (;;) {
        long r = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (r < 0)
            FAIL("getdents64: %s", harness_errname(errno));
        if (r == 0)
            break;
        for (long off = 0; off < r;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            if (n < max) {
                snprintf(names[n], 64, "%s", d->d_name);
                types[n] = d->d_type;
            }
            n++;
            off += d->d_reclen;
        }
    }
    return n;
}

static int find(char names[][64], int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

CASE(getdents64, known_entries_and_types) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/file", "x");
    EXPECT_OK(mkdir("d/sub", 0755));
    EXPECT_OK(symlink("file", "d/link"));
    int fd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    char names[16][64];
    unsigned char types[16];
    int n = list(fd, names, types, 16);
    EXPECT_EQ(n, 5);
    int i;
    EXPECT_TRUE((i = find(names, n, ".")) >= 0);
    EXPECT_EQ(types[i], DT_DIR);
    EXPECT_TRUE((i = find(names, n, "..")) >= 0);
    EXPECT_TRUE((i = find(names, n, "file")) >= 0);
    EXPECT_EQ(types[i], DT_REG);
    EXPECT_TRUE((i = find(names, n, "sub")) >= 0);
    EXPECT_EQ(types[i], DT_DIR);
    EXPECT_TRUE((i = find(names, n, "link")) >= 0);
    EXPECT_EQ(types[i], DT_LNK);
}

CASE(getdents64, ino_matches_stat) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/file", "x");
    int fd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    char buf[4096];
    long r = EXPECT_OK(syscall(SYS_getdents64, fd, buf, sizeof buf));
    struct stat st;
    EXPECT_OK(stat("d/file", &st));
    int found = 0;
    for (long off = 0; off < r;) {
        struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
        if (!strcmp(d->d_name, "file")) {
            EXPECT_EQ(d->d_ino, st.st_ino);
            found = 1;
        }
        off += d->d_reclen;
    }
    EXPECT_TRUE(found);
}

CASE(getdents64, eof_then_rewind) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/a", "x");
    int fd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    char names[8][64];
    unsigned char types[8];
    EXPECT_EQ(list(fd, names, types, 8), 3);
    char buf[256];
    EXPECT_EQ(syscall(SYS_getdents64, fd, buf, sizeof buf), 0);
    EXPECT_OK(lseek(fd, 0, SEEK_SET));
    EXPECT_EQ(list(fd, names, types, 8), 3);
}

CASE(getdents64, many_entries_small_buffer) {
    EXPECT_OK(mkdir("d", 0755));
    char p[32];
    for (int i = 0; i < 200; i++) {
        snprintf(p, sizeof p, "d/entry-%03d", i);
        put_file(p, "");
    }
    int fd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    char buf[256];
    int n = 0;
    long r;
    while ((r = EXPECT_OK(syscall(SYS_getdents64, fd, buf, sizeof buf))) > 0)
        for (long off = 0; off < r; off += ((struct linux_dirent64 *)(buf + off))->d_reclen)
            n++;
    EXPECT_EQ(n, 202);
}

CASE(getdents64, buffer_too_small_einval) {
    int fd = EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    char buf[8];
    EXPECT_ERRNO(syscall(SYS_getdents64, fd, buf, sizeof buf), EINVAL);
}

CASE(getdents64, on_file_enotdir) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    char buf[256];
    EXPECT_ERRNO(syscall(SYS_getdents64, fd, buf, sizeof buf), ENOTDIR);
}

CASE(getdents64, bad_fd_ebadf) {
    char buf[256];
    EXPECT_ERRNO(syscall(SYS_getdents64, 9999, buf, sizeof buf), EBADF);
}

CASE(getdents64, readdir_sees_new_file) {
    EXPECT_OK(mkdir("d", 0755));
    DIR *d = opendir("d");
    EXPECT_TRUE(d != NULL);
    put_file("d/late", "x");
    rewinddir(d);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL)
        found |= !strcmp(e->d_name, "late");
    EXPECT_TRUE(found);
    closedir(d);
}

/* The legacy getdents(2): `struct linux_dirent`, with d_type in the last
 * byte of each record (fs/readdir.c). LeakSanitizer lists /proc/<pid>/task
 * with it. */
struct linux_dirent {
    unsigned long d_ino;
    unsigned long d_off;
    unsigned short d_reclen;
    char d_name[];
};

static int list_legacy(int fd, char names[][64], unsigned char *types, int max, size_t bufsize) {
    char buf[4096];
    int n = 0;
    for (;;) {
        long r = syscall(SYS_getdents, fd, buf, bufsize);
        if (r < 0)
            FAIL("getdents: %s", harness_errname(errno));
        if (r == 0)
            break;
        for (long off = 0; off < r;) {
            struct linux_dirent *d = (struct linux_dirent *)(buf + off);
            if (d->d_reclen % sizeof(long) != 0)
                FAIL("d_reclen %u is not aligned", d->d_reclen);
            if (n < max) {
                snprintf(names[n], 64, "%s", d->d_name);
                types[n] = (unsigned char)buf[off + d->d_reclen - 1];
            }
            n++;
            off += d->d_reclen;
        }
    }
    return n;
}

CASE(getdents, legacy_entries_and_types) {
    EXPECT_OK(mkdir("d", 0755));
    put_file("d/file", "x");
    EXPECT_OK(mkdir("d/sub", 0755));
    EXPECT_OK(symlink("file", "d/link"));
    int fd = EXPECT_OK(open("d", O_RDONLY | O_DIRECTORY));
    char names[16][64];
    unsigned char types[16];
    int n = list_legacy(fd, names, types, 16, 4096);
    EXPECT_EQ(n, 5);
    int i;
    EXPECT_TRUE((i = find(names, n, ".")) >= 0);
    EXPECT_EQ(types[i], DT_DIR);
    EXPECT_TRUE((i = find(names, n, "file")) >= 0);
    EXPECT_EQ(types[i], DT_REG);
    EXPECT_TRUE((i = find(names, n, "sub")) >= 0);
    EXPECT_EQ(types[i], DT_DIR);
    EXPECT_TRUE((i = find(names, n, "link")) >= 0);
    EXPECT_EQ(types[i], DT_LNK);
}

/* What LeakSanitizer does: the thread ids of /proc/self/task (a synthetic
 * directory under runrs), in buffers that hold only a few records. */
COVERS("getdents64")
CASE(getdents, legacy_proc_self_task) {
    int fd = EXPECT_OK(open("/proc/self/task", O_RDONLY | O_DIRECTORY));
    char names[16][64];
    unsigned char types[16];
    int n = list_legacy(fd, names, types, 16, 48);
    EXPECT_EQ(n, 3);
    char me[32];
    snprintf(me, sizeof me, "%d", (int)syscall(SYS_gettid));
    int i;
    EXPECT_TRUE((i = find(names, n, me)) >= 0);
    EXPECT_EQ(types[i], DT_DIR);
    EXPECT_TRUE((i = find(names, n, "..")) >= 0);
    EXPECT_EQ(types[i], DT_DIR);
    /* At the end: 0, and again after a rewind. */
    char buf[64];
    EXPECT_EQ(syscall(SYS_getdents, fd, buf, sizeof buf), 0);
    EXPECT_OK(lseek(fd, 0, SEEK_SET));
    EXPECT_EQ(list_legacy(fd, names, types, 16, 4096), 3);
    /* The same listing as getdents64's. */
    EXPECT_OK(lseek(fd, 0, SEEK_SET));
    char names64[16][64];
    unsigned char types64[16];
    EXPECT_EQ(list(fd, names64, types64, 16), 3);
    EXPECT_TRUE(find(names64, 3, me) >= 0);
}

CASE(getdents, legacy_buffer_too_small_einval) {
    char buf[16];
    int fd = EXPECT_OK(open(".", O_RDONLY | O_DIRECTORY));
    EXPECT_ERRNO(syscall(SYS_getdents, fd, buf, sizeof buf), EINVAL);
    int pfd = EXPECT_OK(open("/proc/self/task", O_RDONLY | O_DIRECTORY));
    EXPECT_ERRNO(syscall(SYS_getdents, pfd, buf, sizeof buf), EINVAL);
}

CASE(getdents, legacy_errors) {
    char buf[256];
    EXPECT_ERRNO(syscall(SYS_getdents, 9999, buf, sizeof buf), EBADF);
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(syscall(SYS_getdents, fd, buf, sizeof buf), ENOTDIR);
    int pfd = EXPECT_OK(open("/proc/self/status", O_RDONLY));
    EXPECT_ERRNO(syscall(SYS_getdents, pfd, buf, sizeof buf), ENOTDIR);
}
