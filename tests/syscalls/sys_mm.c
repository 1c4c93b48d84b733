/* Memory syscalls on the process's own address space (family = syscall name). */
#include "harness.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#ifndef SYS_map_shadow_stack
#define SYS_map_shadow_stack 453
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif
#ifndef SYS_set_mempolicy_home_node
#define SYS_set_mempolicy_home_node 450
#endif

static char *anon(size_t n) {
    return (char *)EXPECT_OK((long)mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
}

CASE(mmap, raw_fixed_noreplace) {
    char *p = (char *)syscall(SYS_mmap, NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_TRUE(p != MAP_FAILED);
    p[0] = 1;
    EXPECT_ERRNO(syscall(SYS_mmap, p, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    EXPECT_ERRNO(syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);
}

CASE(mprotect, raw_unaligned_einval) {
    char *p = anon(8192);
    EXPECT_EQ(syscall(SYS_mprotect, p, 4096, PROT_READ), 0);
    EXPECT_ERRNO(syscall(SYS_mprotect, p + 1, 4096, PROT_READ), EINVAL);
    EXPECT_ERRNO(syscall(SYS_mprotect, p, 4096, 0x1000), EINVAL);
}

CASE(munmap, raw_partial_and_unaligned) {
    char *p = anon(8192);
    EXPECT_EQ(syscall(SYS_munmap, p + 4096, 4096), 0);
    p[0] = 1;
    EXPECT_ERRNO(syscall(SYS_munmap, p + 1, 4096), EINVAL);
    EXPECT_ERRNO(syscall(SYS_munmap, p, 0), EINVAL);
}

CASE(brk, grow_and_query) {
    long cur = syscall(SYS_brk, 0);
    EXPECT_TRUE(cur > 0);
    long want = cur + 65536;
    EXPECT_EQ(syscall(SYS_brk, want), want);
    ((volatile char *)cur)[100] = 1;
    EXPECT_EQ(syscall(SYS_brk, cur), cur);
    EXPECT_EQ(syscall(SYS_brk, 1), cur); /* invalid: returns the current break */
}

CASE(mremap, raw_maymove_keeps_data) {
    char *p = anon(4096);
    strcpy(p, "moved");
    char *q = (char *)syscall(SYS_mremap, p, 4096, 1 << 20, MREMAP_MAYMOVE, NULL);
    EXPECT_TRUE(q != MAP_FAILED);
    EXPECT_STREQ(q, "moved");
    EXPECT_ERRNO(syscall(SYS_mremap, q, 4096, 8192, 0x80, NULL), EINVAL);
}

CASE(msync, shared_file_flush) {
    put_file("f", "0123456789");
    int fd = (int)EXPECT_OK(open("f", O_RDWR));
    char *p = (char *)EXPECT_OK((long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    p[0] = 'X';
    EXPECT_EQ(syscall(SYS_msync, p, 4096, MS_SYNC), 0);
    char b[16];
    EXPECT_EQ(pread(fd, b, 1, 0), 1);
    EXPECT_EQ(b[0], 'X');
    EXPECT_ERRNO(syscall(SYS_msync, p, 4096, MS_SYNC | MS_ASYNC), EINVAL);
    EXPECT_ERRNO(syscall(SYS_msync, p + 1, 4096, MS_SYNC), EINVAL);
}

CASE(mincore, touched_page_resident) {
    char *p = anon(2 * 4096);
    p[0] = 1;
    unsigned char v[2] = {9, 9};
    EXPECT_EQ(syscall(SYS_mincore, p, 8192, v), 0);
    EXPECT_EQ(v[0] & 1, 1);
    EXPECT_ERRNO(syscall(SYS_mincore, p + 1, 4096, v), EINVAL);
}

CASE(madvise, raw_advice_values) {
    char *p = anon(8192);
    p[0] = 5;
    EXPECT_EQ(syscall(SYS_madvise, p, 8192, MADV_WILLNEED), 0);
    EXPECT_EQ(syscall(SYS_madvise, p, 8192, MADV_DONTNEED), 0);
    EXPECT_EQ(p[0], 0);
    EXPECT_ERRNO(syscall(SYS_madvise, p, 8192, 999), EINVAL);
    EXPECT_ERRNO(syscall(SYS_madvise, p + 1, 4096, MADV_NORMAL), EINVAL);
}

COVERS("munlock")
CASE(mlock, one_page) {
    char *p = anon(4096);
    EXPECT_EQ(syscall(SYS_mlock, p, 4096), 0);
    EXPECT_EQ(syscall(SYS_munlock, p, 4096), 0);
    EXPECT_OK(munmap(p, 4096));
    EXPECT_ERRNO(syscall(SYS_mlock, p, 4096), ENOMEM); /* unmapped */
}

COVERS("munlockall")
CASE(mlockall, future_then_unlock) {
    EXPECT_EQ(syscall(SYS_mlockall, MCL_FUTURE), 0);
    EXPECT_EQ(syscall(SYS_munlockall), 0);
    EXPECT_ERRNO(syscall(SYS_mlockall, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_mlockall, MCL_ONFAULT), EINVAL);
}

CASE(mlock2, onfault) {
    char *p = anon(4096);
    EXPECT_EQ(syscall(SYS_mlock2, p, 4096, MLOCK_ONFAULT), 0);
    EXPECT_OK(munlock(p, 4096));
    EXPECT_ERRNO(syscall(SYS_mlock2, p, 4096, 0x10), EINVAL);
}

CASE(remap_file_pages, shared_file_mapping) {
    put_file("f", "");
    int fd = (int)EXPECT_OK(open("f", O_RDWR));
    EXPECT_OK(ftruncate(fd, 8192));
    EXPECT_OK(pwrite(fd, "B", 1, 4096));
    char *p = (char *)EXPECT_OK((long)mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    EXPECT_EQ(syscall(SYS_remap_file_pages, p, 4096, 0, 1, 0), 0);
    EXPECT_EQ(p[0], 'B');
    char *a = anon(4096);
    EXPECT_ERRNO(syscall(SYS_remap_file_pages, a, 4096, 0, 1, 0), EINVAL);
}

COVERS("get_mempolicy")
CASE(set_mempolicy, default_roundtrip) {
    EXPECT_EQ(syscall(SYS_set_mempolicy, 0 /* MPOL_DEFAULT */, NULL, 0), 0);
    int mode = -1;
    EXPECT_EQ(syscall(SYS_get_mempolicy, &mode, NULL, 0, NULL, 0), 0);
    EXPECT_EQ(mode, 0);
    EXPECT_ERRNO(syscall(SYS_set_mempolicy, 99, NULL, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_get_mempolicy, &mode, NULL, 0, NULL, 0x100), EINVAL);
}

CASE(mbind, default_on_own_range) {
    char *p = anon(8192);
    EXPECT_EQ(syscall(SYS_mbind, p, 8192, 0 /* MPOL_DEFAULT */, NULL, 0, 0), 0);
    EXPECT_ERRNO(syscall(SYS_mbind, p + 1, 4096, 0, NULL, 0, 0), EINVAL);
}

CASE(set_mempolicy_home_node, needs_bind_policy) {
    char *p = anon(8192);
    unsigned long node0 = 1;
    EXPECT_EQ(syscall(SYS_mbind, p, 8192, 2 /* MPOL_BIND */, &node0, 2, 0), 0);
    EXPECT_EQ(syscall(SYS_set_mempolicy_home_node, p, 8192, 0, 0), 0);
    EXPECT_ERRNO(syscall(SYS_set_mempolicy_home_node, p, 8192, 0, 1), EINVAL);
    EXPECT_ERRNO(syscall(SYS_set_mempolicy_home_node, p + 1, 8192, 0, 0), EINVAL);
}

CASE(memfd_create, raw_flags) {
    int fd = (int)EXPECT_OK(syscall(SYS_memfd_create, "x", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(write(fd, "abc", 3), 3);
    char l[64];
    snprintf(l, sizeof l, "/proc/self/fd/%d", fd);
    char t[64] = {0};
    EXPECT_OK(readlink(l, t, sizeof t - 1));
    EXPECT_STREQ(t, "/memfd:x (deleted)");
    EXPECT_ERRNO(syscall(SYS_memfd_create, "x", 0x1000), EINVAL);
}

COVERS("pkey_mprotect pkey_free")
CASE(pkey_alloc, alloc_or_einval_and_mprotect_default_key) {
    long k = syscall(SYS_pkey_alloc, 0, 0);
    if (k >= 0)
        EXPECT_EQ(syscall(SYS_pkey_free, k), 0);
    else
        EXPECT_TRUE(errno == EINVAL || errno == ENOSPC); /* no PKU on this CPU */
    char *p = anon(4096);
    EXPECT_EQ(syscall(SYS_pkey_mprotect, p, 4096, PROT_READ, -1), 0); /* -1: like mprotect */
    EXPECT_ERRNO(syscall(SYS_pkey_alloc, 1, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_pkey_free, 1000), EINVAL);
}

CASE(map_shadow_stack, bad_flags_or_absent) {
    long r = syscall(SYS_map_shadow_stack, 0, 4096, 0x100);
    if (r == -1 && errno == ENOSYS)
        harness_skip("kernel without user shadow stacks (ENOSYS)");
    EXPECT_EQ(r, -1);
    EXPECT_TRUE(errno == EINVAL || errno == EOPNOTSUPP);
}

CASE(mseal, sealed_mapping_cannot_unmap) {
    char *p = anon(8192);
    EXPECT_EQ(syscall(SYS_mseal, p, 4096, 0), 0);
    EXPECT_ERRNO(munmap(p, 4096), EPERM);
    EXPECT_ERRNO(mprotect(p, 4096, PROT_NONE), EPERM);
    EXPECT_EQ(munmap(p + 4096, 4096), 0);
    EXPECT_ERRNO(syscall(SYS_mseal, p, 4096, 1), EINVAL);
}
