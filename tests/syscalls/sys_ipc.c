/* SysV and POSIX IPC (family = syscall name); objects are private and removed. */
#include "harness.h"
#include <mqueue.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>

COVERS("shmat shmdt shmctl")
CASE(shmget, private_segment_roundtrip) {
    int id = (int)EXPECT_OK(syscall(SYS_shmget, IPC_PRIVATE, 4096, IPC_CREAT | 0600));
    char *p = (char *)syscall(SYS_shmat, id, NULL, 0);
    EXPECT_TRUE(p != (char *)-1);
    strcpy(p, "shm");
    char *q = (char *)syscall(SYS_shmat, id, NULL, SHM_RDONLY);
    EXPECT_STREQ(q, "shm");
    struct shmid_ds ds;
    EXPECT_EQ(syscall(SYS_shmctl, id, IPC_STAT, &ds), 0);
    EXPECT_EQ(ds.shm_nattch, 2);
    EXPECT_EQ(ds.shm_segsz, 4096);
    EXPECT_EQ(syscall(SYS_shmdt, p), 0);
    EXPECT_EQ(syscall(SYS_shmdt, q), 0);
    EXPECT_ERRNO(syscall(SYS_shmdt, q), EINVAL);
    EXPECT_EQ(syscall(SYS_shmctl, id, IPC_RMID, NULL), 0);
    EXPECT_ERRNO(syscall(SYS_shmctl, id, IPC_STAT, &ds), EINVAL);
}

CASE(shmget, errors) {
    EXPECT_ERRNO(syscall(SYS_shmget, 0x7eadbeef, 4096, 0600), ENOENT);
    EXPECT_ERRNO(syscall(SYS_shmget, IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL);
}

COVERS("semop semctl")
CASE(semget, counter_ops) {
    int id = (int)EXPECT_OK(syscall(SYS_semget, IPC_PRIVATE, 1, IPC_CREAT | 0600));
    struct sembuf up = {0, 2, 0}, down = {0, -3, IPC_NOWAIT};
    EXPECT_EQ(syscall(SYS_semop, id, &up, 1), 0);
    EXPECT_EQ(syscall(SYS_semctl, id, 0, GETVAL, 0), 2);
    EXPECT_ERRNO(syscall(SYS_semop, id, &down, 1), EAGAIN);
    EXPECT_EQ(syscall(SYS_semctl, id, 0, SETVAL, 5), 0);
    EXPECT_EQ(syscall(SYS_semop, id, &down, 1), 0);
    EXPECT_EQ(syscall(SYS_semctl, id, 0, GETVAL, 0), 2);
    EXPECT_EQ(syscall(SYS_semctl, id, 0, IPC_RMID, 0), 0);
    EXPECT_ERRNO(syscall(SYS_semop, id, &up, 1), EINVAL);
}

CASE(semtimedop, times_out) {
    int id = (int)EXPECT_OK(semget(IPC_PRIVATE, 1, IPC_CREAT | 0600));
    struct sembuf down = {0, -1, 0};
    struct timespec ts = {0, 10000000};
    EXPECT_ERRNO(syscall(SYS_semtimedop, id, &down, 1, &ts), EAGAIN);
    struct timespec bad = {0, -5};
    EXPECT_ERRNO(syscall(SYS_semtimedop, id, &down, 1, &bad), EINVAL);
    semctl(id, 0, IPC_RMID);
}

struct msg {
    long type;
    char text[16];
};

COVERS("msgsnd msgrcv msgctl")
CASE(msgget, send_receive_by_type) {
    int id = (int)EXPECT_OK(syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0600));
    struct msg a = {1, "one"}, b = {2, "two"}, r;
    EXPECT_EQ(syscall(SYS_msgsnd, id, &a, 4, 0), 0);
    EXPECT_EQ(syscall(SYS_msgsnd, id, &b, 4, 0), 0);
    EXPECT_EQ(syscall(SYS_msgrcv, id, &r, sizeof r.text, 2, 0), 4);
    EXPECT_STREQ(r.text, "two");
    struct msqid_ds ds;
    EXPECT_EQ(syscall(SYS_msgctl, id, IPC_STAT, &ds), 0);
    EXPECT_EQ(ds.msg_qnum, 1);
    EXPECT_ERRNO(syscall(SYS_msgrcv, id, &r, sizeof r.text, 3, IPC_NOWAIT), ENOMSG);
    EXPECT_ERRNO(syscall(SYS_msgrcv, id, &r, 1, 1, IPC_NOWAIT), E2BIG);
    struct msg bad = {0, "x"};
    EXPECT_ERRNO(syscall(SYS_msgsnd, id, &bad, 2, 0), EINVAL);
    EXPECT_EQ(syscall(SYS_msgctl, id, IPC_RMID, NULL), 0);
}

static void mq_name(char *b, size_t n) { snprintf(b, n, "/runrs-conformance-%d", getpid()); }

COVERS("mq_unlink mq_timedsend mq_timedreceive mq_getsetattr")
CASE(mq_open, send_receive_priority) {
    char name[64];
    mq_name(name, sizeof name);
    struct mq_attr at = {.mq_maxmsg = 4, .mq_msgsize = 16};
    int q = (int)EXPECT_OK(syscall(SYS_mq_open, name + 1, O_RDWR | O_CREAT | O_EXCL, 0600, &at));
    EXPECT_EQ(syscall(SYS_mq_unlink, name + 1), 0);
    EXPECT_ERRNO(syscall(SYS_mq_unlink, name + 1), ENOENT);
    EXPECT_EQ(syscall(SYS_mq_timedsend, q, "low", 3, 1, NULL), 0);
    EXPECT_EQ(syscall(SYS_mq_timedsend, q, "high", 4, 9, NULL), 0);
    char b[16] = {0};
    unsigned prio = 0;
    EXPECT_EQ(syscall(SYS_mq_timedreceive, q, b, sizeof b, &prio, NULL), 4);
    EXPECT_STREQ(b, "high");
    EXPECT_EQ(prio, 9);
    struct mq_attr cur;
    EXPECT_EQ(syscall(SYS_mq_getsetattr, q, NULL, &cur), 0);
    EXPECT_EQ(cur.mq_curmsgs, 1);
    EXPECT_EQ(cur.mq_msgsize, 16);
    EXPECT_ERRNO(syscall(SYS_mq_timedreceive, q, b, 8, &prio, NULL), EMSGSIZE);
}

CASE(mq_open, errors) {
    char name[64];
    mq_name(name, sizeof name);
    EXPECT_ERRNO(syscall(SYS_mq_open, name + 1, O_RDONLY, 0, NULL), ENOENT);
    struct mq_attr bad = {.mq_maxmsg = 0, .mq_msgsize = 16};
    EXPECT_ERRNO(syscall(SYS_mq_open, name + 1, O_RDWR | O_CREAT, 0600, &bad), EINVAL);
    EXPECT_ERRNO(syscall(SYS_mq_open, "a/b", O_RDWR | O_CREAT, 0600, NULL), EACCES);
}

CASE(mq_notify, signal_on_arrival) {
    char name[64];
    mq_name(name, sizeof name);
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, NULL);
    EXPECT_TRUE(q != (mqd_t)-1);
    mq_unlink(name);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &s, NULL));
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    EXPECT_EQ(syscall(SYS_mq_notify, q, &ev), 0);
    EXPECT_ERRNO(syscall(SYS_mq_notify, q, &ev), EBUSY);
    EXPECT_OK(mq_send(q, "x", 1, 0));
    struct timespec ts = {2, 0};
    siginfo_t si;
    EXPECT_EQ(sigtimedwait(&s, &si, &ts), SIGUSR1);
    EXPECT_EQ(si.si_code, SI_MESGQ);
    EXPECT_EQ(syscall(SYS_mq_notify, q, NULL), 0);
}
