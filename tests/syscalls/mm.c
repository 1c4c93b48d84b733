/* mmap/mprotect/munmap/mremap/madvise, memfd_create */
#include "harness.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

static int child_signal(void (*fn)(void *), void *arg) {
    pid_t pid = fork();
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int st;
    EXPECT_EQ(waitpid(pid, &st, 0), pid);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void poke(void *p) { *(volatile char *)p = 1; }

CASE(mm, mmap_anon_zeroed_rw) {
    char *p = (char *)EXPECT_OK(mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    for (int i = 0; i < 8192; i++)
        EXPECT_EQ(p[i], 0);
    p[4096] = 7;
    EXPECT_EQ(p[4096], 7);
}

CASE(mm, mprotect_readonly_segv) {
    char *p = (char *)EXPECT_OK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_OK(mprotect(p, 4096, PROT_READ));
    EXPECT_EQ(child_signal(poke, p), SIGSEGV);
}

CASE(mm, munmap_then_segv) {
    char *p = (char *)EXPECT_OK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_OK(munmap(p, 4096));
    EXPECT_EQ(child_signal(poke, p), SIGSEGV);
}

CASE(mm, mmap_zero_length_einval) {
    EXPECT_ERRNO(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
}

CASE(mm, mmap_unaligned_offset_einval) {
    put_file("f", "x");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 1), EINVAL);
}

CASE(mm, mmap_shared_file_writes_through) {
    put_file("f", "aaaa");
    int fd = EXPECT_OK(open("f", O_RDWR));
    char *p = (char *)EXPECT_OK(mmap(NULL, 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    p[0] = 'b';
    EXPECT_OK(msync(p, 4, MS_SYNC));
    char buf[8];
    EXPECT_EQ(get_file("f", buf, sizeof buf), 4);
    EXPECT_STREQ(buf, "baaa");
}

CASE(mm, mmap_readonly_fd_shared_write_eacces) {
    put_file("f", "aaaa");
    int fd = EXPECT_OK(open("f", O_RDONLY));
    EXPECT_ERRNO(mmap(NULL, 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
}

CASE(mm, mremap_grow) {
    char *p = (char *)EXPECT_OK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    p[0] = 9;
    char *q = (char *)EXPECT_OK(mremap(p, 4096, 3 * 4096, MREMAP_MAYMOVE));
    EXPECT_EQ(q[0], 9);
    q[3 * 4096 - 1] = 1;
}

CASE(mm, madvise_dontneed_zeroes) {
    char *p = (char *)EXPECT_OK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    p[10] = 5;
    EXPECT_OK(madvise(p, 4096, MADV_DONTNEED));
    EXPECT_EQ(p[10], 0);
}

CASE(mm, memfd_create_rw) {
    int fd = EXPECT_OK(memfd_create("conf", MFD_CLOEXEC));
    EXPECT_EQ(write(fd, "memfd", 5), 5);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_EQ(st.st_size, 5);
    char buf[8] = {0};
    EXPECT_EQ(pread(fd, buf, 5, 0), 5);
    EXPECT_STREQ(buf, "memfd");
    char p[64], link[64] = {0};
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    EXPECT_OK(readlink(p, link, sizeof link - 1));
    EXPECT_STREQ(link, "/memfd:conf (deleted)");
}

CASE(mm, memfd_seal_write_eperm) {
    int fd = EXPECT_OK(memfd_create("sealed", MFD_ALLOW_SEALING));
    EXPECT_EQ(write(fd, "x", 1), 1);
    EXPECT_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    EXPECT_ERRNO(write(fd, "y", 1), EPERM);
    EXPECT_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_WRITE);
}

CASE(mm, memfd_bad_flags_einval) {
    EXPECT_ERRNO(memfd_create("x", 0x1000), EINVAL);
}
