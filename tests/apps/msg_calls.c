/* sendmsg/recvmsg/sendmmsg/recvmmsg from threads on every rank: the kernel
 * follows pointers inside the header (name, iovec array, control), which
 * must travel with the call when it runs on home.  Before, a thread off home
 * got EFAULT from sendmsg (its stack is not on home) and the reader waited
 * for ever.  Also a thread's name: pthread_setname_np, then read back by the
 * thread (prctl) and through /proc (thread-self, and task/TID by main),
 * which on home showed the process's name for a thread elsewhere. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define WORKERS 4

static char report[WORKERS][1024];
static pthread_t tids[WORKERS];

static int pass_fd(int sock, int fd)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    char a[] = "fd", b[] = "-over";
    struct iovec iov[2] = { { a, 2 }, { b, 5 } };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return (int)sendmsg(sock, &mh, 0);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    char *out = report[id];
    size_t at = 0;
#define SAY(...) (at += (size_t)snprintf(out + at, sizeof report[id] - at, __VA_ARGS__))

    /* a descriptor and two pieces of data over a unix socket */
    int sv[2], pfd[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(pfd))
        return NULL;
    char word[16];
    snprintf(word, sizeof word, "pipe-%ld", id);
    write(pfd[1], word, strlen(word));
    close(pfd[1]);
    int sent = pass_fd(sv[0], pfd[0]);
    close(pfd[0]);
    char d1[3] = "", d2[16] = "", rcb[CMSG_SPACE(sizeof(int))];
    struct iovec riov[2] = { { d1, 3 }, { d2, sizeof d2 - 1 } };
    struct msghdr rmh = { .msg_iov = riov, .msg_iovlen = 2, .msg_control = rcb,
                          .msg_controllen = sizeof rcb };
    ssize_t got = recvmsg(sv[1], &rmh, MSG_CMSG_CLOEXEC);
    int nfd = -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&rmh);
    if (c && c->cmsg_type == SCM_RIGHTS)
        memcpy(&nfd, CMSG_DATA(c), sizeof(int));
    char back[16] = "";
    ssize_t n = nfd >= 0 ? read(nfd, back, sizeof back - 1) : -1;
    SAY("sendmsg %d recvmsg %zd '%.3s|%s' controllen %zu flags %d fd read %zd '%s' cloexec %d\n",
        sent, got, d1, d2, (size_t)rmh.msg_controllen, rmh.msg_flags, n, back,
        nfd >= 0 ? (fcntl(nfd, F_GETFD) & FD_CLOEXEC) : -1);
    if (nfd >= 0)
        close(nfd);
    close(sv[0]);
    close(sv[1]);

    /* a datagram with its sender's address, and one cut short (MSG_TRUNC) */
    int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof addr;
    bind(u2, (struct sockaddr *)&addr, sizeof addr);
    getsockname(u2, (struct sockaddr *)&addr, &alen);
    bind(u1, (struct sockaddr *)&(struct sockaddr_in){ .sin_family = AF_INET,
         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, sizeof addr);
    struct sockaddr_in from1;
    socklen_t flen = sizeof from1;
    getsockname(u1, (struct sockaddr *)&from1, &flen);
    char msg[64];
    int mlen = snprintf(msg, sizeof msg, "datagram from worker %ld", id);
    struct iovec siov = { msg, (size_t)mlen };
    struct msghdr smh = { .msg_name = &addr, .msg_namelen = sizeof addr, .msg_iov = &siov,
                          .msg_iovlen = 1 };
    ssize_t s1 = sendmsg(u1, &smh, 0), s2 = sendmsg(u1, &smh, 0);
    struct sockaddr_in from;
    char dbuf[64] = "", small[8] = "";
    struct iovec diov = { dbuf, sizeof dbuf - 1 };
    struct msghdr dmh = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &diov,
                          .msg_iovlen = 1 };
    ssize_t r1 = recvmsg(u2, &dmh, 0);
    int same = dmh.msg_namelen == sizeof from && from.sin_port == from1.sin_port;
    struct iovec tiov = { small, sizeof small - 1 };
    struct msghdr tmh = { .msg_iov = &tiov, .msg_iovlen = 1 };
    ssize_t r2 = recvmsg(u2, &tmh, 0);
    SAY("udp sent %zd %zd got %zd '%s' from the sender %d; short %zd '%s' trunc %d\n", s1, s2,
        r1, dbuf, same, r2, small, (tmh.msg_flags & MSG_TRUNC) != 0);
    close(u1);
    close(u2);

    /* three datagrams in one sendmmsg, back in one recvmmsg */
    int dg[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, dg);
    char texts[3][24], bufs[3][24];
    struct iovec mio[3], rio[3];
    struct mmsghdr mm[3], rm[3];
    memset(mm, 0, sizeof mm);
    memset(rm, 0, sizeof rm);
    memset(bufs, 0, sizeof bufs);
    for (int i = 0; i < 3; i++) {
        int len = snprintf(texts[i], sizeof texts[i], "w%ld-message-%d", id, i);
        mio[i] = (struct iovec){ texts[i], (size_t)len };
        rio[i] = (struct iovec){ bufs[i], sizeof bufs[i] - 1 };
        mm[i].msg_hdr.msg_iov = &mio[i];
        mm[i].msg_hdr.msg_iovlen = 1;
        rm[i].msg_hdr.msg_iov = &rio[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    int ms = sendmmsg(dg[0], mm, 3, 0), total = 0;
    while (total < ms) {
        int mr = recvmmsg(dg[1], rm + total, 3 - total, 0, NULL);
        if (mr <= 0)
            break;
        total += mr;
    }
    SAY("sendmmsg %d (%u %u %u) recvmmsg %d:", ms, mm[0].msg_len, mm[1].msg_len, mm[2].msg_len,
        total);
    for (int i = 0; i < total; i++)
        SAY(" %s/%u", bufs[i], rm[i].msg_len);
    SAY("\n");
    close(dg[0]);
    close(dg[1]);

    /* the thread's name, read back three ways */
    char name[16], got_name[16] = "", comm[32] = "";
    snprintf(name, sizeof name, "msg-worker-%ld", id);
    int set = pthread_setname_np(pthread_self(), name);
    pthread_getname_np(pthread_self(), got_name, sizeof got_name);
    int fd = open("/proc/thread-self/comm", O_RDONLY);
    ssize_t cn = fd >= 0 ? read(fd, comm, sizeof comm - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (cn > 0 && comm[cn - 1] == '\n')
        comm[cn - 1] = 0;
    SAY("setname %d getname '%s' thread-self '%s'\n", set, got_name, comm);
    return NULL;
}

static pthread_barrier_t named_ready, named_read;

static void *named(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "renamed-thread");
    pthread_barrier_wait(&named_ready);
    pthread_barrier_wait(&named_read);
    return NULL;
}

int main(void)
{
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&tids[i], NULL, worker, (void *)i);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(tids[i], NULL);
    for (int i = 0; i < WORKERS; i++)
        fputs(report[i], stdout);
    /* another thread's name, as main reads it (/proc/self/task/TID/comm) */
    pthread_barrier_init(&named_ready, NULL, 2);
    pthread_barrier_init(&named_read, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, named, NULL);
    pthread_barrier_wait(&named_ready);
    char other[16] = "";
    int r = pthread_getname_np(t, other, sizeof other);
    pthread_barrier_wait(&named_read);
    pthread_join(t, NULL);
    printf("main reads the other thread's name: %d '%s'\n", r, other);
    return 0;
}
