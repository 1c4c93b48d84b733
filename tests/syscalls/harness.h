/* Tiny harness for the syscall conformance suite (tests/syscalls/).
 *
 *   CASE(family, behaviour) { ... }   registers a case (constructor table)
 *   EXPECT_OK(expr)                   expr != -1; evaluates to its value
 *   EXPECT_ERRNO(expr, ERRNO)         expr == -1 and errno == ERRNO
 *   EXPECT_EQ(a, b) / EXPECT_STREQ(a, b) / EXPECT_TRUE(cond)
 *   EXPECT_TABLE_ERRNO(expr, "name")  errno given on the command line as
 *                                     name=errno (sandbox-only cases)
 *   COVERS("sys1 sys2")               on the line(s) before a CASE: further
 *                                     syscalls (table names) the case checks
 *
 * A case covers the syscall named by its family (when the family is a
 * syscall-table name) plus those of its COVERS; `--list` prints
 * `family.behaviour [covered ...]`, which build.sh keeps in tests/syscalls/CASES.
 *
 * Each case runs in a forked child (its own process group) with a 5 s
 * timeout, umask 022 and, as cwd, a fresh scratch dir under /tmp (mkdtemp)
 * that is removed afterwards. The binary prints exactly one line per case:
 *   ok family.behaviour
 *   ok family.behaviour # skip <why>
 *   not ok family.behaviour: <file:line> <message>
 * and always exits 0 (the runner, tests/conformance.rs, compares lines).
 *
 * Usage: conformance [--list] [GLOB] [name=errno ...]
 *        (--list prints `family.behaviour [covered syscalls...]`)
 *        conformance --exit N       (helper: exit at once with status N)
 * One file (main.c) defines HARNESS_MAIN before including this header. */
#ifndef CONFORMANCE_HARNESS_H
#define CONFORMANCE_HARNESS_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

typedef void (*harness_fn)(void);

void harness_register(const char *family, const char *behaviour, harness_fn fn,
                      const char *file, int line);
void harness_covers(const char *file, int line, const char *syscalls);
__attribute__((noreturn, format(printf, 3, 4))) void harness_fail(const char *file, int line,
                                                                  const char *fmt, ...);
__attribute__((noreturn)) void harness_skip(const char *why);
/* errno passed as name=errno on the command line, or -1 */
int harness_expectation(const char *name);
/* true when the runner passed any name=errno (i.e. we run under runrs) */
int harness_sandboxed(void);
const char *harness_errname(int e);

/* Absolute path of the case's scratch dir (also its cwd). */
extern char harness_scratch[PATH_MAX];
/* Absolute path of this binary (from argv[0]). */
extern char harness_self[PATH_MAX];

/* Helpers for cases. */
void put_file(const char *path, const char *contents); /* fails the case on error */
ssize_t get_file(const char *path, char *buf, size_t size); /* NUL-terminated; -1 on error */
int has_cap(int cap); /* effective capability, via capget */
/* Runs fn in a child that switched to uid/gid 65534 (no capabilities);
 * returns fn's return value, the child's exit code (an errno or 0). */
int as_nobody(int (*fn)(void));

#define CASE(fam, beh)                                                                         \
    static void case_##fam##_##beh(void);                                                      \
    __attribute__((constructor)) static void register_##fam##_##beh(void) {                   \
        harness_register(#fam, #beh, case_##fam##_##beh, __FILE__, __LINE__);                  \
    }                                                                                          \
    static void case_##fam##_##beh(void)

/* Attaches to the next CASE below it in the same file. */
#define HARNESS_CAT2(a, b) a##b
#define HARNESS_CAT(a, b) HARNESS_CAT2(a, b)
#define COVERS(list)                                                                           \
    __attribute__((constructor)) static void HARNESS_CAT(harness_covers_, __LINE__)(void) {    \
        harness_covers(__FILE__, __LINE__, list);                                              \
    }

#define FAIL(...) harness_fail(__FILE__, __LINE__, __VA_ARGS__)

#define EXPECT_OK(expr)                                                                        \
    ({                                                                                         \
        errno = 0;                                                                             \
        long _r = (long)(expr);                                                                \
        if (_r == -1)                                                                          \
            FAIL("%s failed: %s", #expr, harness_errname(errno));                              \
        _r;                                                                                    \
    })

#define EXPECT_ERRNO(expr, err)                                                                \
    do {                                                                                       \
        errno = 0;                                                                             \
        long _r = (long)(expr);                                                                \
        int _e = errno;                                                                        \
        if (_r != -1)                                                                          \
            FAIL("%s: want %s, returned %ld", #expr, #err, _r);                                \
        if (_e != (err))                                                                       \
            FAIL("%s: want %s, got %s", #expr, #err, harness_errname(_e));                     \
    } while (0)

#define EXPECT_TABLE_ERRNO(expr, name)                                                         \
    do {                                                                                       \
        int _want = harness_expectation(name);                                                 \
        if (!harness_sandboxed())                                                              \
            harness_skip("sandbox-only");                                                      \
        if (_want < 0)                                                                         \
            FAIL("no expectation %s=ERRNO on the command line", name);                         \
        errno = 0;                                                                             \
        long _r = (long)(expr);                                                                \
        int _e = errno;                                                                        \
        if (_r != -1)                                                                          \
            FAIL("%s: want %s (table), returned %ld", #expr, harness_errname(_want), _r);      \
        if (_e != _want)                                                                       \
            FAIL("%s: want %s (table), got %s", #expr, harness_errname(_want),                 \
                 harness_errname(_e));                                                         \
    } while (0)

#define EXPECT_EQ(a, b)                                                                        \
    do {                                                                                       \
        long long _a = (long long)(a), _b = (long long)(b);                                    \
        if (_a != _b)                                                                          \
            FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b);                                    \
    } while (0)

#define EXPECT_TRUE(cond)                                                                      \
    do {                                                                                       \
        if (!(cond))                                                                           \
            FAIL("expected %s", #cond);                                                        \
    } while (0)

#define EXPECT_STREQ(a, b)                                                                     \
    do {                                                                                       \
        const char *_a = (a), *_b = (b);                                                       \
        if (!_a || !_b || strcmp(_a, _b) != 0)                                                 \
            FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); \
    } while (0)

/* Milliseconds of the monotonic clock (the runner's timeout, and cases
 * that bound a loop by time). */
static inline long harness_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

#ifdef HARNESS_MAIN
#include <fnmatch.h>
#include <linux/capability.h>
#include <signal.h>
#include <dirent.h>
#include <sys/wait.h>

#define HARNESS_MAX_CASES 4096
#define HARNESS_TIMEOUT_MS 5000

struct harness_case {
    char name[128];
    harness_fn fn;
    const char *file;
    int line;
    char covers[256];
};
static struct harness_case harness_cases[HARNESS_MAX_CASES];
static int harness_ncases;
struct harness_cover {
    const char *file;
    int line;
    const char *syscalls;
};
static struct harness_cover harness_cover_list[HARNESS_MAX_CASES];
static int harness_ncovers;
static int harness_result_fd = -1;
static int harness_argc;
static char **harness_argv;
char harness_scratch[PATH_MAX];
char harness_self[PATH_MAX];

void harness_register(const char *family, const char *behaviour, harness_fn fn,
                      const char *file, int line) {
    if (harness_ncases == HARNESS_MAX_CASES) {
        fprintf(stderr, "too many cases\n");
        exit(2);
    }
    struct harness_case *c = &harness_cases[harness_ncases++];
    snprintf(c->name, sizeof c->name, "%s.%s", family, behaviour);
    c->fn = fn;
    c->file = file;
    c->line = line;
}

void harness_covers(const char *file, int line, const char *syscalls) {
    if (harness_ncovers == HARNESS_MAX_CASES) {
        fprintf(stderr, "too many COVERS\n");
        exit(2);
    }
    harness_cover_list[harness_ncovers++] = (struct harness_cover){file, line, syscalls};
}

/* Gives each COVERS to the first CASE after it in its file. */
static void harness_attach_covers(void) {
    for (int i = 0; i < harness_ncovers; i++) {
        struct harness_cover *v = &harness_cover_list[i];
        struct harness_case *best = NULL;
        for (int j = 0; j < harness_ncases; j++) {
            struct harness_case *c = &harness_cases[j];
            if (strcmp(c->file, v->file) == 0 && c->line > v->line &&
                (!best || c->line < best->line))
                best = c;
        }
        if (!best) {
            fprintf(stderr, "%s:%d: COVERS without a CASE after it\n", v->file, v->line);
            exit(2);
        }
        size_t n = strlen(best->covers);
        snprintf(best->covers + n, sizeof best->covers - n, "%s%s", n ? " " : "", v->syscalls);
    }
}

const char *harness_errname(int e) {
    const char *n = e ? strerrorname_np(e) : "0 (no error)";
    return n ? n : "unknown errno";
}

__attribute__((noreturn)) static void harness_report(const char *msg) {
    if (harness_result_fd >= 0) {
        size_t len = strlen(msg);
        while (len > 0) {
            ssize_t w = write(harness_result_fd, msg, len);
            if (w <= 0)
                break;
            msg += w;
            len -= (size_t)w;
        }
    }
    _exit(1);
}

void harness_fail(const char *file, int line, const char *fmt, ...) {
    char msg[1024];
    const char *base = strrchr(file, '/');
    int n = snprintf(msg, sizeof msg, "F%s:%d ", base ? base + 1 : file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    harness_report(msg);
}

void harness_skip(const char *why) {
    char msg[256];
    snprintf(msg, sizeof msg, "S%s", why);
    harness_report(msg);
}

int harness_expectation(const char *name) {
    size_t n = strlen(name);
    for (int i = 1; i < harness_argc; i++)
        if (strncmp(harness_argv[i], name, n) == 0 && harness_argv[i][n] == '=')
            return atoi(harness_argv[i] + n + 1);
    return -1;
}

int harness_sandboxed(void) {
    for (int i = 1; i < harness_argc; i++)
        if (strchr(harness_argv[i], '='))
            return 1;
    return 0;
}

void put_file(const char *path, const char *contents) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        FAIL("put_file open %s: %s", path, harness_errname(errno));
    size_t len = strlen(contents);
    if (write(fd, contents, len) != (ssize_t)len)
        FAIL("put_file write %s: %s", path, harness_errname(errno));
    close(fd);
}

ssize_t get_file(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got + 1 < size) {
        ssize_t r = read(fd, buf + got, size - 1 - got);
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = 0;
    close(fd);
    return (ssize_t)got;
}

int has_cap(int cap) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) != 0)
        FAIL("capget: %s", harness_errname(errno));
    return (d[cap / 32].effective >> (cap % 32)) & 1;
}

int as_nobody(int (*fn)(void)) {
    pid_t pid = fork();
    if (pid < 0)
        FAIL("fork: %s", harness_errname(errno));
    if (pid == 0) {
        if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            _exit(100);
        _exit(fn());
    }
    int st;
    EXPECT_OK(waitpid(pid, &st, 0));
    if (!WIFEXITED(st))
        FAIL("child died with signal %d", WTERMSIG(st));
    if (WEXITSTATUS(st) == 100)
        FAIL("setresuid(65534) failed in the child");
    return WEXITSTATUS(st);
}

/* rm -rf that also copes with modes a case left behind. */
static void harness_rmtree(int at, const char *name) {
    struct stat st;
    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlinkat(at, name, 0);
        return;
    }
    fchmodat(at, name, 0700, 0);
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        DIR *d = fdopendir(fd);
        if (d) {
            struct dirent *e;
            /* collect first: unlinking while reading can skip entries */
            char (*names)[256] = NULL;
            size_t n = 0, cap = 0;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                if (n == cap) {
                    cap = cap ? cap * 2 : 16;
                    names = realloc(names, cap * sizeof *names);
                    if (!names)
                        break;
                }
                snprintf(names[n++], 256, "%s", e->d_name);
            }
            for (size_t i = 0; names && i < n; i++)
                harness_rmtree(dirfd(d), names[i]);
            free(names);
            closedir(d);
        } else {
            close(fd);
        }
    }
    unlinkat(at, name, AT_REMOVEDIR);
}

static void harness_run(const struct harness_case *c) {
    char scratch[] = "/tmp/conformance-XXXXXX";
    if (!mkdtemp(scratch)) {
        printf("not ok %s: harness mkdtemp: %s\n", c->name, harness_errname(errno));
        fflush(stdout);
        return;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        printf("not ok %s: harness pipe2: %s\n", c->name, harness_errname(errno));
        fflush(stdout);
        rmdir(scratch);
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        harness_result_fd = p[1];
        setpgid(0, 0);
        umask(022);
        snprintf(harness_scratch, sizeof harness_scratch, "%s", scratch);
        if (chdir(scratch) != 0)
            FAIL("chdir scratch: %s", harness_errname(errno));
        c->fn();
        _exit(0);
    }
    close(p[1]);
    char msg[2048] = {0};
    int status = 0, timed_out = 0;
    if (pid < 0) {
        snprintf(msg, sizeof msg, "Fharness fork: %s", harness_errname(errno));
    } else {
        setpgid(pid, pid); /* also from the parent: no race with kill(-pid) */
        long deadline = harness_now_ms() + HARNESS_TIMEOUT_MS;
        long sleep_us = 50;
        for (;;) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid)
                break;
            if (w < 0 && errno != EINTR) {
                status = 0;
                break;
            }
            if (harness_now_ms() > deadline) {
                timed_out = 1;
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                break;
            }
            usleep((useconds_t)sleep_us);
            if (sleep_us < 10000)
                sleep_us *= 2;
        }
        kill(-pid, SIGKILL); /* leftovers of the case */
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        ssize_t got = 0, r;
        while (got < (ssize_t)sizeof msg - 1 &&
               (r = read(p[0], msg + got, sizeof msg - 1 - (size_t)got)) > 0)
            got += r;
        msg[got] = 0;
    }
    close(p[0]);
    if (timed_out)
        printf("not ok %s: timeout after %d ms\n", c->name, HARNESS_TIMEOUT_MS);
    else if (msg[0] == 'F')
        printf("not ok %s: %s\n", c->name, msg + 1);
    else if (msg[0] == 'S')
        printf("ok %s # skip %s\n", c->name, msg + 1);
    else if (WIFSIGNALED(status))
        printf("not ok %s: killed by signal %d\n", c->name, WTERMSIG(status));
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        printf("not ok %s: exited with status %d and no message\n", c->name, WEXITSTATUS(status));
    else
        printf("ok %s\n", c->name);
    fflush(stdout);
    harness_rmtree(AT_FDCWD, scratch);
}

static int harness_cmp(const void *a, const void *b) {
    return strcmp(((const struct harness_case *)a)->name, ((const struct harness_case *)b)->name);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--exit") == 0)
        _exit(atoi(argv[2]));
    harness_argc = argc;
    harness_argv = argv;
    if (argv[0][0] == '/' || !getcwd(harness_self, sizeof harness_self))
        snprintf(harness_self, sizeof harness_self, "%s", argv[0]);
    else
        snprintf(harness_self + strlen(harness_self), sizeof harness_self - strlen(harness_self),
                 "/%s", argv[0]);
    int list = 0;
    const char *glob = "*";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0)
            list = 1;
        else if (!strchr(argv[i], '='))
            glob = argv[i];
    }
    harness_attach_covers();
    qsort(harness_cases, (size_t)harness_ncases, sizeof harness_cases[0], harness_cmp);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < harness_ncases; i++) {
        if (fnmatch(glob, harness_cases[i].name, 0) != 0)
            continue;
        if (list)
            printf("%s%s%s\n", harness_cases[i].name, harness_cases[i].covers[0] ? " " : "",
                   harness_cases[i].covers);
        else
            harness_run(&harness_cases[i]);
    }
    fflush(stdout);
    return 0;
}
#endif /* HARNESS_MAIN */

#endif /* CONFORMANCE_HARNESS_H */
