/* Shared by the escape programs in tests/escape/. Each program runs inside a
 * runrs container (tests/escape.rs) and prints one machine-checked line per
 * attempt:
 *     CASE <name>: ok <detail>
 *     CASE <name>: FAIL <detail>
 * The environment (set by tests/escape.rs) carries what the attempts need:
 *   ERRNO_<syscall>   the errno syscall-table/x86_64.toml gives a denied call
 *   SENTINEL_TOKEN    the contents of the host sentinel file (never readable)
 *   HOST_DIR          host directory holding the sentinel (outside the rootfs)
 *   HOST_SENTINEL     host absolute path of the sentinel file
 *   ROOT_TO_SENTINEL  the sentinel relative to the host rootfs directory
 * /mnt/bind is a bind mount of HOST_DIR/bind; the sentinel is its sibling. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int esc_failures;

static __attribute__((unused)) void report(const char *name, int ok, const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    printf("CASE %s: %s %s\n", name, ok ? "ok" : "FAIL", detail);
    fflush(stdout);
    if (!ok) esc_failures++;
}

static __attribute__((unused)) const char *env(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) {
        printf("CASE setup: FAIL environment variable %s missing\n", name);
        exit(2);
    }
    return v;
}

/* The table's errno for a denied syscall (or a failed argument rule). */
static __attribute__((unused)) int table_errno(const char *syscall_name) {
    char key[128];
    snprintf(key, sizeof key, "ERRNO_%s", syscall_name);
    return atoi(env(key));
}

/* r must be -1 with exactly errno `want`. */
static __attribute__((unused)) void expect_errno(const char *name, long r, int want) {
    int got = r == -1 ? errno : 0;
    report(name, r == -1 && got == want, "ret=%ld errno=%d (%s) want=%d (%s)", r, got,
           strerrorname_np(got) ? strerrorname_np(got) : "?", want,
           strerrorname_np(want) ? strerrorname_np(want) : "?");
}

/* Whether the bytes read from fd contain the host sentinel's token. */
static __attribute__((unused)) int fd_leaks_token(int fd) {
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = 0;
    return strstr(buf, env("SENTINEL_TOKEN")) != NULL;
}

/* Opening `path` (relative to dirfd) must fail with `want`; if it opens,
 * the case fails, and says whether the host file was reached. */
static __attribute__((unused)) void expect_open_fails(const char *name, int dirfd, const char *path, int flags, int want) {
    int fd = openat(dirfd, path, flags | O_CLOEXEC, 0600);
    if (fd >= 0) {
        int leak = fd_leaks_token(fd);
        close(fd);
        report(name, 0, "opened %s%s", path, leak ? " and READ THE HOST SENTINEL" : "");
        return;
    }
    int e = errno;
    report(name, e == want, "%s: errno=%d (%s) want=%d (%s)", path, e,
           strerrorname_np(e) ? strerrorname_np(e) : "?", want,
           strerrorname_np(want) ? strerrorname_np(want) : "?");
}

/* An emulated syscall still answered: the sentry survived what came before. */
static __attribute__((unused)) void sentry_still_answers(const char *name) {
    int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    report(name, fd >= 0, "open(/etc/hostname) after the attempts: %s", fd >= 0 ? "answered" : strerror(errno));
    if (fd >= 0) close(fd);
}

static __attribute__((unused)) int finish(void) {
    printf("DONE failures=%d\n", esc_failures);
    return esc_failures ? 1 : 0;
}
