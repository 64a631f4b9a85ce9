/* Every kind of output argument the syscall table describes, from main (on
 * home) and from a thread (on rank 1 when spread): fixed-size structs,
 * buffers whose count is the return value, arrays of returned elements,
 * vector reads spread over the iovecs in order, in/out arguments.  Buffers
 * are filled with a sentinel first: the bytes past what a call reports it
 * wrote must stay as they were, as natively. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#define S 0x5A
#define BIG (100 * 1024)

static unsigned char big[BIG];

static void check_tail(const char *who, const char *what, const unsigned char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != S) {
            printf("%s: FAIL %s: byte %zu written (%#x)\n", who, what, i, p[i]);
            exit(1);
        }
}

static void run(const char *who)
{
    char name[64];
    snprintf(name, sizeof name, "file-%s.txt", who);
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    const char text[] = "hello, only moving bytes travel\n";
    write(fd, text, sizeof text - 1);

    /* read: count = return value */
    memset(big, S, BIG);
    long r = pread(fd, big, BIG, 7);
    printf("%s: pread %ld '%.*s'\n", who, r, (int)(r > 0 ? r - 1 : 0), big);
    check_tail(who, "pread", big, r, BIG);

    /* a read at end of file and a failing read move nothing */
    memset(big, S, 64);
    r = pread(fd, big, 64, 1000);
    printf("%s: pread at eof %ld\n", who, r);
    r = read(-5, big, 64);
    printf("%s: read bad fd %ld\n", who, r);
    check_tail(who, "eof/ebadf", big, 0, 64);

    /* readv: the returned count spread over the iovecs in order */
    unsigned char a[4], b[20], c[16];
    memset(a, S, sizeof a); memset(b, S, sizeof b); memset(c, S, sizeof c);
    struct iovec iov[3] = { { a, sizeof a }, { b, sizeof b }, { c, sizeof c } };
    r = preadv(fd, iov, 3, 20);
    printf("%s: preadv %ld '%.4s' '%.*s'\n", who, r, a, (int)(r - 4), b);
    check_tail(who, "preadv b", b, r - 4, sizeof b);
    check_tail(who, "preadv c", c, 0, sizeof c);
    lseek(fd, 0, SEEK_SET);
    memset(a, S, sizeof a); memset(b, S, sizeof b); memset(c, S, sizeof c);
    r = readv(fd, iov, 3);
    printf("%s: readv %ld '%.4s' '%.20s' '%.*s'\n", who, r, a, b, (int)(r - 24), c);
    check_tail(who, "readv c", c, r - 24, sizeof c);

    /* fixed-size out structs, after an input string */
    struct stat st;
    r = stat(name, &st);
    printf("%s: stat %ld size %lld mode %o\n", who, r, (long long)st.st_size, st.st_mode & 0777);
    memset(&st, 0, sizeof st);
    r = fstat(fd, &st);
    printf("%s: fstat %ld size %lld\n", who, r, (long long)st.st_size);
    struct utsname u;
    r = uname(&u);
    printf("%s: uname %ld %s\n", who, r, u.sysname);

    /* out:aN whose count is the return value, after an input string */
    char link[64];
    snprintf(link, sizeof link, "link-%s", who);
    symlink("a-target-of-17-ch", link);
    char lbuf[256];
    memset(lbuf, S, sizeof lbuf);
    r = readlink(link, lbuf, sizeof lbuf);
    printf("%s: readlink %ld '%.*s'\n", who, r, (int)r, lbuf);
    check_tail(who, "readlink", (unsigned char *)lbuf, r, sizeof lbuf);
    char cwd[4096];
    memset(cwd, S, sizeof cwd);
    r = syscall(SYS_getcwd, cwd, sizeof cwd);
    printf("%s: getcwd %s\n", who, r == (long)strlen(cwd) + 1 ? "ok" : "FAIL");
    check_tail(who, "getcwd", (unsigned char *)cwd, r, sizeof cwd);

    /* getdents64: count = return value */
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    memset(big, S, 8192);
    r = syscall(SYS_getdents64, dfd, big, 8192);
    int n = 0;
    for (long at = 0; at < r; at += ((struct dirent64 *)(big + at))->d_reclen)
        n++;
    printf("%s: getdents64 %s, %d entries\n", who, r > 0 ? "ok" : "FAIL", n);
    check_tail(who, "getdents64", big, r, 8192);
    close(dfd);

    /* pipe (out:8), poll (in/out array), ioctl FIONREAD (out:4), select (in/out sets) */
    int p[2];
    r = pipe(p);
    write(p[1], "12345", 5);
    struct pollfd pf[2] = { { p[0], POLLIN, 0x7777 }, { p[1], POLLOUT, 0x7777 } };
    r = poll(pf, 2, 1000);
    printf("%s: poll %ld revents %#x %#x\n", who, r, pf[0].revents, pf[1].revents);
    int avail = -1;
    r = ioctl(p[0], FIONREAD, &avail);
    printf("%s: FIONREAD %ld %d\n", who, r, avail);
    fd_set rs, ws;
    FD_ZERO(&rs); FD_ZERO(&ws);
    FD_SET(p[0], &rs); FD_SET(p[1], &ws); FD_SET(fd, &ws);
    struct timeval tv = { 1, 0 };
    r = select((p[1] > fd ? p[1] : fd) + 1, &rs, &ws, 0, &tv);
    printf("%s: select %ld %d %d %d\n", who, r, FD_ISSET(p[0], &rs), FD_ISSET(p[1], &ws), FD_ISSET(fd, &ws));

    /* epoll_wait: an array of returned elements */
    int ep = epoll_create1(0);
    struct epoll_event ev = { EPOLLIN, { .u64 = 0x1122334455667788ULL } };
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    struct epoll_event evs[8];
    memset(evs, S, sizeof evs);
    r = epoll_wait(ep, evs, 8, 1000);
    printf("%s: epoll_wait %ld events %#x data %llx\n", who, r, evs[0].events,
           (unsigned long long)evs[0].data.u64);
    check_tail(who, "epoll_wait", (unsigned char *)evs, r * sizeof evs[0], sizeof evs);
    close(ep);

    /* read from a pipe into a big buffer: 5 bytes back */
    memset(big, S, BIG);
    r = read(p[0], big, BIG);
    printf("%s: pipe read %ld '%.*s'\n", who, r, (int)r, big);
    check_tail(who, "pipe read", big, r, BIG);
    close(p[0]); close(p[1]);

    /* socketpair (out:8), recvfrom with an address (out buffer, in/out length) */
    int sv[2];
    r = socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    send(sv[0], "datagram", 8, 0);
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    memset(big, S, 4096);
    r = recvfrom(sv[1], big, 4096, 0, (struct sockaddr *)&from, &flen);
    printf("%s: recvfrom %ld '%.*s' addrlen %u\n", who, r, (int)r, big, flen);
    check_tail(who, "recvfrom", big, r, 4096);
    close(sv[0]); close(sv[1]);

    /* fcntl F_GETLK: in/out struct */
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
    r = fcntl(fd, F_GETLK, &fl);
    printf("%s: F_GETLK %ld type %d\n", who, r, fl.l_type);

    /* sendfile: in/out offset */
    char copy[64];
    snprintf(copy, sizeof copy, "copy-%s.txt", who);
    int out = open(copy, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    off_t off = 7;
    r = sendfile(out, fd, &off, 100);
    printf("%s: sendfile %ld offset now %lld\n", who, r, (long long)off);
    close(out);

    /* getgroups: an array of returned elements */
    gid_t groups[256];
    memset(groups, S, sizeof groups);
    r = getgroups(256, groups);
    printf("%s: getgroups %s\n", who, r >= 0 ? "ok" : "FAIL");
    check_tail(who, "getgroups", (unsigned char *)groups, r * sizeof(gid_t), sizeof groups);

    close(fd);
    unlink(link);
}

static void *worker(void *arg)
{
    (void)arg;
    run("thread");
    return 0;
}

int main(void)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    run("main");
    pthread_t t;
    pthread_create(&t, 0, worker, 0);
    pthread_join(t, 0);
    return 0;
}
