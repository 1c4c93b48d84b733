// bench: micro workloads for runrs's benchmark harness (benches/run.sh).
//
//   bench [--quick] NAME...     run the named workloads (or `all`)
//   bench list                  print the workload names
//
// Each workload times N iterations with clock_gettime(CLOCK_MONOTONIC) after
// a short warm-up and prints one line: `name ns_per_op`. --quick divides N by
// 20. Built static (gcc -static -O2) so the same binary runs natively and in a
// busybox rootfs.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int quick;
static const char *self_path;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long iters(long n) {
    if (quick) n /= 20;
    return n < 1 ? 1 : n;
}

static void report(const char *name, uint64_t ns, long n) {
    printf("%s %.1f\n", name, (double)ns / (double)n);
    fflush(stdout);
}

// Files every rootfs has (the host and the busybox rootfs alike).
#define SMALL_FILE "/etc/passwd"
#define BIG_FILE "/bin/busybox"

static void w_getppid(const char *name, long n) {
    for (long i = 0; i < n / 10; i++) syscall(SYS_getppid);
    uint64_t t = now_ns();
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
    report(name, now_ns() - t, n);
}

static void w_uname(const char *name, long n) {
    struct utsname u;
    for (long i = 0; i < n / 10; i++) syscall(SYS_uname, &u);
    uint64_t t = now_ns();
    for (long i = 0; i < n; i++)
        if (syscall(SYS_uname, &u) != 0) die("uname");
    report(name, now_ns() - t, n);
}

static void w_open_close(const char *name, long n) {
    for (long i = 0; i < n / 10; i++) {
        int fd = open(SMALL_FILE, O_RDONLY | O_CLOEXEC);
        if (fd < 0) die("open " SMALL_FILE);
        close(fd);
    }
    uint64_t t = now_ns();
    for (long i = 0; i < n; i++) {
        int fd = open(SMALL_FILE, O_RDONLY | O_CLOEXEC);
        if (fd < 0) die("open " SMALL_FILE);
        close(fd);
    }
    report(name, now_ns() - t, n);
}

static void w_stat(const char *name, long n) {
    struct stat st;
    for (long i = 0; i < n / 10; i++)
        if (stat(SMALL_FILE, &st) != 0) die("stat " SMALL_FILE);
    uint64_t t = now_ns();
    for (long i = 0; i < n; i++)
        if (stat(SMALL_FILE, &st) != 0) die("stat " SMALL_FILE);
    report(name, now_ns() - t, n);
}

static void creat_unlink_once(void) {
    int fd = open("bench-creat-unlink", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("creat bench-creat-unlink");
    close(fd);
    if (unlink("bench-creat-unlink") != 0) die("unlink bench-creat-unlink");
}

// Creates, closes and removes one file, in BENCH_DIR (natively: a
// directory on the bundles' file system) or the container's /tmp.
static void w_creat_unlink(const char *name, long n) {
    const char *dir = getenv("BENCH_DIR");
    if (chdir(dir ? dir : "/tmp") != 0) die("chdir BENCH_DIR");
    for (long i = 0; i < n / 10; i++) creat_unlink_once();
    uint64_t t = now_ns();
    for (long i = 0; i < n; i++) creat_unlink_once();
    report(name, now_ns() - t, n);
}

static void w_pread4k(const char *name, long n) {
    static char buf[4096];
    int fd = open(BIG_FILE, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open " BIG_FILE);
    for (long i = 0; i < n / 10; i++) pread(fd, buf, sizeof buf, 0);
    uint64_t t = now_ns();
    for (long i = 0; i < n; i++)
        if (pread(fd, buf, sizeof buf, (off_t)(i & 63) * 4096) != sizeof buf) die("pread");
    report(name, now_ns() - t, n);
    close(fd);
}

// One op = one byte there and back between two processes.
static void w_pipe_pingpong(const char *name, long n) {
    int a[2], b[2];
    if (pipe(a) || pipe(b)) die("pipe");
    long warm = n / 10, total = warm + n;
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        char c;
        for (long i = 0; i < total; i++) {
            if (read(a[0], &c, 1) != 1) _exit(1);
            if (write(b[1], &c, 1) != 1) _exit(1);
        }
        _exit(0);
    }
    char c = 'x';
    uint64_t t = 0;
    for (long i = 0; i < total; i++) {
        if (i == warm) t = now_ns();
        if (write(a[1], &c, 1) != 1) die("write");
        if (read(b[0], &c, 1) != 1) die("read");
    }
    report(name, now_ns() - t, n);
    waitpid(pid, NULL, 0);
    close(a[0]); close(a[1]); close(b[0]); close(b[1]);
}

static void w_fork_exit_wait(const char *name, long n) {
    uint64_t t = 0;
    long warm = n / 10;
    for (long i = 0; i < warm + n; i++) {
        if (i == warm) t = now_ns();
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) _exit(0);
        int st;
        if (waitpid(pid, &st, 0) != pid) die("waitpid");
    }
    report(name, now_ns() - t, n);
}

// execve: the process re-execs itself N times (`bench __exec LEFT N START`);
// the last one reports (total time / N). No fork in the loop.
static void exec_next(long left, long n, uint64_t start) {
    char a1[32], a2[32], a3[32];
    snprintf(a1, sizeof a1, "%ld", left);
    snprintf(a2, sizeof a2, "%ld", n);
    snprintf(a3, sizeof a3, "%llu", (unsigned long long)start);
    char *argv[] = {(char *)self_path, "__exec", a1, a2, a3, NULL};
    char *envp[] = {NULL};
    execve(self_path, argv, envp);
    die("execve");
}

static void w_execve(const char *name, long n) {
    (void)name;
    // Warm-up in a child so the page cache and the runtime's caches are hot.
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 1);
        exec_next(n / 10 > 0 ? n / 10 : 1, n / 10 > 0 ? n / 10 : 1, now_ns());
    }
    waitpid(pid, NULL, 0);
    pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) exec_next(n, n, now_ns());
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench: execve chain failed\n");
        exit(1);
    }
}

static int exec_step(char **argv) {
    long left = atol(argv[2]), n = atol(argv[3]);
    uint64_t start = strtoull(argv[4], NULL, 10);
    if (left > 0) exec_next(left - 1, n, start);
    report("execve", now_ns() - start, n);
    return 0;
}

static void w_mmap_munmap(const char *name, long n) {
    for (long i = 0; i < n / 10; i++) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        munmap(p, 4096);
    }
    uint64_t t = now_ns();
    for (long i = 0; i < n; i++) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        munmap(p, 4096);
    }
    report(name, now_ns() - t, n);
}

static void w_clock_gettime(const char *name, long n) {
    struct timespec ts;
    for (long i = 0; i < n / 10; i++) clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = now_ns();
    for (long i = 0; i < n; i++) clock_gettime(CLOCK_MONOTONIC, &ts);
    report(name, now_ns() - t, n);
}

// Iteration counts: the cheap (passthrough) ones take ~0.2-1 s natively;
// the ones runrs emulates are sized so they stay within a few seconds in the
// sandbox (uname is ~40x, open and stat ~60-100x slower there than natively),
// which makes them short (~0.05 s) natively.
static const struct workload {
    const char *name;
    void (*fn)(const char *, long);
    long n;
} workloads[] = {
    {"getppid", w_getppid, 2000000},
    {"uname", w_uname, 200000},
    {"open_close", w_open_close, 30000},
    {"stat", w_stat, 50000},
    {"creat_unlink", w_creat_unlink, 20000},
    {"pread4k", w_pread4k, 1000000},
    {"pipe_pingpong", w_pipe_pingpong, 50000},
    {"fork_exit_wait", w_fork_exit_wait, 2000},
    {"execve", w_execve, 1000},
    {"mmap_munmap", w_mmap_munmap, 200000},
    {"clock_gettime", w_clock_gettime, 10000000},
};
#define NW (sizeof workloads / sizeof workloads[0])

int main(int argc, char **argv) {
    self_path = argv[0];
    if (argc >= 5 && strcmp(argv[1], "__exec") == 0) return exec_step(argv);
    if (strchr(self_path, '/') == NULL) {
        fprintf(stderr, "bench: run me by a path (execve re-execs argv[0])\n");
        return 2;
    }
    int ran = 0, i0 = 1;
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) quick = 1, i0 = 2;
    for (int i = i0; i < argc; i++) {
        if (strcmp(argv[i], "list") == 0) {
            for (size_t w = 0; w < NW; w++) puts(workloads[w].name);
            return 0;
        }
        int found = 0;
        for (size_t w = 0; w < NW; w++) {
            if (strcmp(argv[i], "all") == 0 || strcmp(argv[i], workloads[w].name) == 0) {
                workloads[w].fn(workloads[w].name, iters(workloads[w].n));
                found = ran = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "bench: unknown workload %s\n", argv[i]);
            return 2;
        }
    }
    if (!ran) {
        fprintf(stderr, "usage: bench [--quick] all|list|NAME...\n");
        return 2;
    }
    return 0;
}
