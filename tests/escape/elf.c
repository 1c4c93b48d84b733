/* Malicious ELF files executed inside the container: a PT_INTERP naming a
 * program on the host (absolute, through `..`, through /proc/1/root), and
 * malformed headers (a giant or misplaced program header table, an
 * interpreter path without a NUL or longer than PATH_MAX). The host placed
 * a copy of this very program at HOST_DIR/evil: if the kernel ever loaded
 * it as the interpreter, it would run with argv[0] "escape-elf-payload"
 * and exit 42, which fails the case. execve must fail with the errno Linux
 * gives the file, and the sentry must keep answering. */
#include "escape.h"
#include <elf.h>
#include <sys/wait.h>

#define BASE 0x400000UL

/* exit(0): mov eax, 60; xor edi, edi; syscall */
static const unsigned char code[] = {0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05};

struct image {
    unsigned char bytes[8192];
    size_t len;
};

/* A static ELF with one PT_LOAD (and an optional PT_INTERP naming
 * `interp`), then `tweak` bends its headers. */
static void build(struct image *im, const char *interp, void (*tweak)(Elf64_Ehdr *, Elf64_Phdr *, struct image *)) {
    memset(im, 0, sizeof *im);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)im->bytes;
    Elf64_Phdr *ph = (Elf64_Phdr *)(im->bytes + sizeof *eh);
    int nph = interp ? 2 : 1;
    size_t interp_off = sizeof *eh + nph * sizeof *ph;
    size_t interp_len = interp ? strlen(interp) + 1 : 0;
    size_t code_off = interp_off + interp_len;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = BASE + code_off;
    eh->e_phoff = sizeof *eh;
    eh->e_ehsize = sizeof *eh;
    eh->e_phentsize = sizeof *ph;
    eh->e_phnum = nph;
    Elf64_Phdr *load = &ph[nph - 1];
    if (interp) {
        ph[0].p_type = PT_INTERP;
        ph[0].p_offset = interp_off;
        ph[0].p_vaddr = ph[0].p_paddr = BASE + interp_off;
        ph[0].p_filesz = ph[0].p_memsz = interp_len;
        ph[0].p_flags = PF_R;
        ph[0].p_align = 1;
        memcpy(im->bytes + interp_off, interp, interp_len);
    }
    load->p_type = PT_LOAD;
    load->p_offset = 0;
    load->p_vaddr = load->p_paddr = BASE;
    load->p_filesz = load->p_memsz = code_off + sizeof code;
    load->p_flags = PF_R | PF_X;
    load->p_align = 0x1000;
    memcpy(im->bytes + code_off, code, sizeof code);
    im->len = code_off + sizeof code;
    if (tweak) tweak(eh, ph, im);
}

/* execve the image from /tmp in a child; returns the errno, 0 if it ran
 * and exited 0, or -42 if the host payload ran. */
static int try_exec(const char *name, struct image *im) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/elf-%s", name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0 || write(fd, im->bytes, im->len) != (ssize_t)im->len) {
        report(name, 0, "writing %s: %s", path, strerror(errno));
        return -1000;
    }
    close(fd);
    int pfd[2];
    pipe2(pfd, O_CLOEXEC);
    pid_t child = fork();
    if (child == 0) {
        char *argv[] = {"escape-elf-payload", NULL};
        char *envp[] = {NULL};
        /* ETXTBSY: a writable copy of the file just written may still be
         * open in the gofer or the sentry for a moment after close()
         * returned here (a race of runrs, not this case's subject). */
        for (int i = 0; i < 100; i++) {
            execve(path, argv, envp);
            if (errno != ETXTBSY) break;
            usleep(10000);
        }
        int e = errno;
        write(pfd[1], &e, sizeof e);
        _exit(100);
    }
    close(pfd[1]);
    int e = 0;
    ssize_t n = read(pfd[0], &e, sizeof e);
    close(pfd[0]);
    int status = 0;
    waitpid(child, &status, 0);
    if (n == sizeof e) return e;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 42) return -42;
    return 0;
}

static void expect_exec(const char *name, struct image *im, int want) {
    int got = try_exec(name, im);
    if (got == -1000) return;
    if (got == -42) {
        report(name, 0, "THE HOST PROGRAM RAN as the interpreter");
        return;
    }
    report(name, got == want, "execve: %s want %s", got ? strerrorname_np(got) : "ran", strerrorname_np(want));
}

static void giant_phnum(Elf64_Ehdr *eh, Elf64_Phdr *ph, struct image *im) {
    (void)ph, (void)im;
    eh->e_phnum = 0xffff;
}
static void phoff_past_end(Elf64_Ehdr *eh, Elf64_Phdr *ph, struct image *im) {
    (void)ph, (void)im;
    eh->e_phoff = 0x7fffffffffffff00UL;
}
static void bad_phentsize(Elf64_Ehdr *eh, Elf64_Phdr *ph, struct image *im) {
    (void)ph, (void)im;
    eh->e_phentsize = 1;
}
static void interp_no_nul(Elf64_Ehdr *eh, Elf64_Phdr *ph, struct image *im) {
    (void)eh;
    im->bytes[ph[0].p_offset + ph[0].p_filesz - 1] = 'x';
}
static void interp_huge(Elf64_Ehdr *eh, Elf64_Phdr *ph, struct image *im) {
    (void)eh, (void)im;
    ph[0].p_filesz = 1UL << 40;
}
int main(int argc, char **argv) {
    (void)argc;
    if (strcmp(argv[0], "escape-elf-payload") == 0) {
        /* Loaded as someone's interpreter: the escape worked. */
        printf("PAYLOAD RAN\n");
        _exit(42);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    static struct image im;
    /* The control: a well-formed image runs (so the failures below are the
     * attack's, not the builder's). */
    build(&im, NULL, NULL);
    expect_exec("elf_wellformed_control_runs", &im, 0);
    char interp[4200];
    snprintf(interp, sizeof interp, "%s/evil", env("HOST_DIR"));
    build(&im, interp, NULL);
    expect_exec("elf_interp_host_absolute", &im, ENOENT);
    snprintf(interp, sizeof interp, "/../../../../..%s/evil", env("HOST_DIR"));
    build(&im, interp, NULL);
    expect_exec("elf_interp_dotdot", &im, ENOENT);
    snprintf(interp, sizeof interp, "/proc/1/root/../../..%s/evil", env("HOST_DIR"));
    build(&im, interp, NULL);
    expect_exec("elf_interp_proc_root", &im, ENOENT);
    build(&im, "/mnt/bind/../evil", NULL);
    expect_exec("elf_interp_bind_dotdot", &im, ENOENT);
    build(&im, "/mnt/bind/abs-evil", NULL);
    expect_exec("elf_interp_host_made_link", &im, ENOENT);
    build(&im, NULL, giant_phnum);
    expect_exec("elf_giant_phnum", &im, ENOEXEC);
    build(&im, NULL, phoff_past_end);
    expect_exec("elf_phoff_past_end", &im, ENOEXEC);
    build(&im, NULL, bad_phentsize);
    expect_exec("elf_bad_phentsize", &im, ENOEXEC);
    build(&im, "/lib/ld.so", interp_no_nul);
    expect_exec("elf_interp_without_nul", &im, ENOEXEC);
    build(&im, "/lib/ld.so", interp_huge);
    expect_exec("elf_interp_huge", &im, ENOEXEC);
    sentry_still_answers("elf_sentry_alive");
    return finish();
}
