/* One or more cases per fd-based I/O syscall (family = syscall name), raw
 * syscall(2) so that the syscall itself (not a libc substitute) is checked. */
#include "harness.h"
#include <linux/aio_abi.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <time.h>

static int tmpfile_with(const char *s) {
    put_file("f", s);
    return (int)EXPECT_OK(open("f", O_RDWR | O_CLOEXEC));
}

CASE(read, returns_bytes_then_eof) {
    int fd = tmpfile_with("hello");
    char b[16];
    EXPECT_EQ(syscall(SYS_read, fd, b, sizeof b), 5);
    EXPECT_EQ(syscall(SYS_read, fd, b, sizeof b), 0);
    EXPECT_ERRNO(syscall(SYS_read, 999, b, 1), EBADF);
}

CASE(write, appends_at_offset) {
    int fd = tmpfile_with("");
    EXPECT_EQ(syscall(SYS_write, fd, "abc", 3), 3);
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 3);
    EXPECT_ERRNO(syscall(SYS_write, 999, "x", 1), EBADF);
}

CASE(lseek, whence_values) {
    int fd = tmpfile_with("0123456789");
    EXPECT_EQ(syscall(SYS_lseek, fd, 4, SEEK_SET), 4);
    EXPECT_EQ(syscall(SYS_lseek, fd, 2, SEEK_CUR), 6);
    EXPECT_EQ(syscall(SYS_lseek, fd, -1L, SEEK_END), 9);
    EXPECT_ERRNO(syscall(SYS_lseek, fd, -100L, SEEK_SET), EINVAL);
    EXPECT_ERRNO(syscall(SYS_lseek, fd, 0, 77), EINVAL);
}

CASE(pread64, keeps_offset) {
    int fd = tmpfile_with("abcdef");
    char b[4] = {0};
    EXPECT_EQ(syscall(SYS_pread64, fd, b, 3, 2), 3);
    EXPECT_STREQ(b, "cde");
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
    EXPECT_ERRNO(syscall(SYS_pread64, fd, b, 1, -1L), EINVAL);
}

CASE(pwrite64, keeps_offset) {
    int fd = tmpfile_with("abcdef");
    EXPECT_EQ(syscall(SYS_pwrite64, fd, "XY", 2, 1), 2);
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
    char b[8];
    EXPECT_EQ(get_file("f", b, sizeof b), 6);
    EXPECT_STREQ(b, "aXYdef");
}

CASE(readv, scatters) {
    int fd = tmpfile_with("abcdef");
    char a[2], b[4] = {0};
    struct iovec v[2] = {{a, 2}, {b, 3}};
    EXPECT_EQ(syscall(SYS_readv, fd, v, 2), 5);
    EXPECT_EQ(a[1], 'b');
    EXPECT_STREQ(b, "cde");
    EXPECT_ERRNO(syscall(SYS_readv, fd, v, -1), EINVAL);
}

CASE(writev, gathers) {
    int fd = tmpfile_with("");
    struct iovec v[2] = {{"ab", 2}, {"cd", 2}};
    EXPECT_EQ(syscall(SYS_writev, fd, v, 2), 4);
    char b[8];
    EXPECT_EQ(get_file("f", b, sizeof b), 4);
    EXPECT_STREQ(b, "abcd");
}

CASE(preadv, at_offset) {
    int fd = tmpfile_with("abcdef");
    char b[3] = {0};
    struct iovec v = {b, 2};
    EXPECT_EQ(syscall(SYS_preadv, fd, &v, 1, 4, 0), 2);
    EXPECT_STREQ(b, "ef");
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
}

CASE(pwritev, at_offset) {
    int fd = tmpfile_with("abcdef");
    struct iovec v = {"Z", 1};
    EXPECT_EQ(syscall(SYS_pwritev, fd, &v, 1, 5, 0), 1);
    char b[8];
    get_file("f", b, sizeof b);
    EXPECT_STREQ(b, "abcdeZ");
}

CASE(preadv2, minus_one_uses_offset) {
    int fd = tmpfile_with("abcdef");
    char b[3] = {0};
    struct iovec v = {b, 2};
    EXPECT_EQ(syscall(SYS_preadv2, fd, &v, 1, -1L, -1L, 0), 2);
    EXPECT_STREQ(b, "ab");
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 2);
    EXPECT_ERRNO(syscall(SYS_preadv2, fd, &v, 1, 0, 0, 0x80000000), EOPNOTSUPP);
}

CASE(pwritev2, rwf_append) {
    int fd = tmpfile_with("ab");
    struct iovec v = {"c", 1};
    EXPECT_EQ(syscall(SYS_pwritev2, fd, &v, 1, 0, 0, RWF_APPEND), 1);
    char b[8];
    get_file("f", b, sizeof b);
    EXPECT_STREQ(b, "abc");
}

CASE(sendfile, file_to_pipe) {
    int fd = tmpfile_with("payload");
    int p[2];
    EXPECT_OK(pipe(p));
    off_t off = 3;
    EXPECT_EQ(syscall(SYS_sendfile, p[1], fd, &off, 4), 4);
    EXPECT_EQ(off, 7);
    char b[8] = {0};
    EXPECT_EQ(read(p[0], b, sizeof b), 4);
    EXPECT_STREQ(b, "load");
}

CASE(splice, pipe_to_file) {
    int fd = tmpfile_with("");
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_EQ(write(p[1], "spliced", 7), 7);
    EXPECT_EQ(syscall(SYS_splice, p[0], NULL, fd, NULL, 7, 0), 7);
    char b[16];
    EXPECT_EQ(get_file("f", b, sizeof b), 7);
    EXPECT_ERRNO(syscall(SYS_splice, fd, NULL, fd, NULL, 1, 0), EINVAL);
}

CASE(tee, duplicates_pipe_data) {
    int a[2], b[2];
    EXPECT_OK(pipe(a));
    EXPECT_OK(pipe(b));
    EXPECT_EQ(write(a[1], "tee", 3), 3);
    EXPECT_EQ(syscall(SYS_tee, a[0], b[1], 3, 0), 3);
    char x[4] = {0}, y[4] = {0};
    EXPECT_EQ(read(a[0], x, 3), 3);
    EXPECT_EQ(read(b[0], y, 3), 3);
    EXPECT_STREQ(x, "tee");
    EXPECT_STREQ(y, "tee");
}

CASE(vmsplice, user_pages_into_pipe) {
    int p[2];
    EXPECT_OK(pipe(p));
    static char buf[] = "vm";
    struct iovec v = {buf, 2};
    EXPECT_EQ(syscall(SYS_vmsplice, p[1], &v, 1, 0), 2);
    char b[3] = {0};
    EXPECT_EQ(read(p[0], b, 2), 2);
    EXPECT_STREQ(b, "vm");
}

CASE(copy_file_range, copies_range) {
    int in = tmpfile_with("0123456789");
    int out = (int)EXPECT_OK(open("g", O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    loff_t oi = 2, oo = 0;
    EXPECT_EQ(syscall(SYS_copy_file_range, in, &oi, out, &oo, 5, 0), 5);
    EXPECT_EQ(oi, 7);
    char b[8];
    EXPECT_EQ(get_file("g", b, sizeof b), 5);
    EXPECT_STREQ(b, "23456");
    EXPECT_ERRNO(syscall(SYS_copy_file_range, in, NULL, out, NULL, 1, 1), EINVAL);
}

CASE(fsync, file_and_bad_fd) {
    int fd = tmpfile_with("x");
    EXPECT_EQ(syscall(SYS_fsync, fd), 0);
    EXPECT_ERRNO(syscall(SYS_fsync, 999), EBADF);
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_ERRNO(syscall(SYS_fsync, p[0]), EINVAL);
}

CASE(fdatasync, file_and_bad_fd) {
    int fd = tmpfile_with("x");
    EXPECT_EQ(syscall(SYS_fdatasync, fd), 0);
    EXPECT_ERRNO(syscall(SYS_fdatasync, 999), EBADF);
}

CASE(sync_file_range, flags) {
    int fd = tmpfile_with("data");
    EXPECT_EQ(syscall(SYS_sync_file_range, fd, 0, 0, SYNC_FILE_RANGE_WRITE), 0);
    EXPECT_ERRNO(syscall(SYS_sync_file_range, fd, 0, 0, 0x80), EINVAL);
    EXPECT_ERRNO(syscall(SYS_sync_file_range, fd, -1L, 0, 0), EINVAL);
}

CASE(syncfs, fd_and_bad_fd) {
    int fd = tmpfile_with("x");
    EXPECT_EQ(syscall(SYS_syncfs, fd), 0);
    EXPECT_ERRNO(syscall(SYS_syncfs, 999), EBADF);
}

CASE(fallocate, extends_and_punches) {
    int fd = tmpfile_with("");
    EXPECT_EQ(syscall(SYS_fallocate, fd, 0, 0, 8192), 0);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 8192);
    EXPECT_EQ(syscall(SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 8192, 4096), 0);
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 8192);
    EXPECT_ERRNO(syscall(SYS_fallocate, fd, 0, 0, 0), EINVAL);
}

CASE(readahead, file_and_pipe) {
    int fd = tmpfile_with("abc");
    EXPECT_EQ(syscall(SYS_readahead, fd, 0, 4096), 0);
    int p[2];
    EXPECT_OK(pipe(p));
    EXPECT_ERRNO(syscall(SYS_readahead, p[0], 0, 4096), EINVAL);
}

CASE(fadvise64, advice_values) {
    int fd = tmpfile_with("abc");
    EXPECT_EQ(syscall(SYS_fadvise64, fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0);
    EXPECT_ERRNO(syscall(SYS_fadvise64, fd, 0, 0, 99), EINVAL);
    EXPECT_ERRNO(syscall(SYS_fadvise64, 999, 0, 0, 0), EBADF);
}

COVERS("io_destroy io_submit io_getevents io_pgetevents io_cancel")
CASE(io_setup, submit_pread_and_reap) {
    int fd = tmpfile_with("aio-data");
    aio_context_t ctx = 0;
    EXPECT_EQ(syscall(SYS_io_setup, 4, &ctx), 0);
    char b[9] = {0};
    struct iocb cb;
    memset(&cb, 0, sizeof cb);
    cb.aio_lio_opcode = IOCB_CMD_PREAD;
    cb.aio_fildes = (unsigned)fd;
    cb.aio_buf = (unsigned long)b;
    cb.aio_nbytes = 8;
    struct iocb *cbs[1] = {&cb};
    EXPECT_EQ(syscall(SYS_io_submit, ctx, 1, cbs), 1);
    struct io_event ev[1];
    EXPECT_EQ(syscall(SYS_io_getevents, ctx, 1, 1, ev, NULL), 1);
    EXPECT_EQ(ev[0].res, 8);
    EXPECT_STREQ(b, "aio-data");
    struct timespec zero = {0, 0};
    EXPECT_EQ(syscall(SYS_io_pgetevents, ctx, 0, 1, ev, &zero, NULL), 0);
    EXPECT_ERRNO(syscall(SYS_io_cancel, ctx, &cb, ev), EINVAL);
    EXPECT_EQ(syscall(SYS_io_destroy, ctx), 0);
    EXPECT_ERRNO(syscall(SYS_io_destroy, ctx), EINVAL);
}

CASE(io_setup, zero_events_einval) {
    aio_context_t ctx = 0;
    EXPECT_ERRNO(syscall(SYS_io_setup, 0, &ctx), EINVAL);
}

CASE(ftruncate, raw) {
    int fd = tmpfile_with("abcdef");
    EXPECT_EQ(syscall(SYS_ftruncate, fd, 2), 0);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 2);
    EXPECT_ERRNO(syscall(SYS_ftruncate, fd, -1L), EINVAL);
}

CASE(fstat, raw) {
    int fd = tmpfile_with("abc");
    struct stat st;
    EXPECT_EQ(syscall(SYS_fstat, fd, &st), 0);
    EXPECT_EQ(st.st_size, 3);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_ERRNO(syscall(SYS_fstat, 999, &st), EBADF);
}

CASE(fstatfs, raw) {
    int fd = tmpfile_with("abc");
    struct statfs a, b;
    EXPECT_EQ(syscall(SYS_fstatfs, fd, &a), 0);
    EXPECT_OK(statfs(".", &b));
    EXPECT_EQ(a.f_type, b.f_type);
    EXPECT_ERRNO(syscall(SYS_fstatfs, 999, &a), EBADF);
}

CASE(fchmod, raw) {
    int fd = tmpfile_with("abc");
    EXPECT_EQ(syscall(SYS_fchmod, fd, 0600), 0);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_mode & 07777, 0600);
}

CASE(fchown, raw_to_self) {
    int fd = tmpfile_with("abc");
    EXPECT_EQ(syscall(SYS_fchown, fd, getuid(), getgid()), 0);
    EXPECT_EQ(syscall(SYS_fchown, fd, -1, -1), 0);
    EXPECT_ERRNO(syscall(SYS_fchown, 999, -1, -1), EBADF);
}

COVERS("fgetxattr flistxattr fremovexattr")
CASE(fsetxattr, user_xattr_roundtrip) {
    int fd = tmpfile_with("abc");
    if (syscall(SYS_fsetxattr, fd, "user.t", "v1", 2, 0) != 0) {
        if (errno == EOPNOTSUPP)
            harness_skip("no user xattrs on this filesystem");
        FAIL("fsetxattr: %s", harness_errname(errno));
    }
    char b[16] = {0};
    EXPECT_EQ(syscall(SYS_fgetxattr, fd, "user.t", b, sizeof b), 2);
    EXPECT_STREQ(b, "v1");
    EXPECT_ERRNO(syscall(SYS_fsetxattr, fd, "user.t", "v2", 2, XATTR_CREATE), EEXIST);
    char l[64];
    ssize_t n = syscall(SYS_flistxattr, fd, l, sizeof l);
    EXPECT_TRUE(n >= 7);
    EXPECT_TRUE(memmem(l, (size_t)n, "user.t", 7) != NULL);
    EXPECT_EQ(syscall(SYS_fremovexattr, fd, "user.t"), 0);
    EXPECT_ERRNO(syscall(SYS_fgetxattr, fd, "user.t", b, sizeof b), ENODATA);
    EXPECT_ERRNO(syscall(SYS_fremovexattr, fd, "user.t"), ENODATA);
}
