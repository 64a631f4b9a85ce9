/* file-system calls from threads: open, close, read, write, mkdir, rmdir,
 * symlink, readlink, rename, unlink, pread/pwrite on a shared fd, an fd
 * opened by one thread and used/closed by another, and flock with two fds
 * (LOCK_EX|LOCK_NB conflict -> EWOULDBLOCK). Leaves files, dirs and
 * symlinks behind. Expected exit status: 0 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define NTHREADS 4

static pthread_barrier_t bar;
static int shared_fd;
static int handoff_fd = -1;
static char log_buf[NTHREADS][2048];

static const char *ename(int e)
{
    switch (e) {
    case 0: return "OK";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EWOULDBLOCK: return "EWOULDBLOCK";
    case EBADF: return "EBADF";
    case ENOTDIR: return "ENOTDIR";
    default: return "other";
    }
}

static void logf_(int id, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    strncat(log_buf[id], line, sizeof log_buf[id] - strlen(log_buf[id]) - 1);
}

#define R(call) ((call) < 0 ? ename(errno) : "OK")

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    char dir[32], file[64], link[32], tmp[32], buf[256];

    snprintf(dir, sizeof dir, "dir_%d", id);
    snprintf(file, sizeof file, "dir_%d/file.txt", id);
    snprintf(link, sizeof link, "link_%d", id);
    snprintf(tmp, sizeof tmp, "tmp_%d", id);

    logf_(id, "mkdir %s: %s\n", dir, R(mkdir(dir, 0755)));
    logf_(id, "mkdir %s again: %s\n", dir, R(mkdir(dir, 0755)));
    int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    logf_(id, "open %s for write: %s\n", file, fd >= 0 ? "OK" : ename(errno));
    for (int i = 0; i <= id; i++) {
        int n = snprintf(buf, sizeof buf, "thread %d line %d\n", id, i);
        if (write(fd, buf, (size_t)n) != n)
            logf_(id, "short write\n");
    }
    logf_(id, "close: %s\n", R(close(fd)));
    /* closing fd twice would race with another thread's open reusing the
     * number; a number no thread ever holds fails the same way, and always */
    logf_(id, "close a closed fd: %s\n", R(close(900 + id)));
    logf_(id, "symlink %s -> %s: %s\n", link, file, R(symlink(file, link)));
    ssize_t ln = readlink(link, buf, sizeof buf - 1);
    buf[ln < 0 ? 0 : ln] = 0;
    logf_(id, "readlink %s: %s\n", link, buf);
    fd = open(link, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    close(fd);
    logf_(id, "read via symlink (%zd bytes): %s", n, buf);
    logf_(id, "mkdir %s: %s\n", tmp, R(mkdir(tmp, 0700)));
    logf_(id, "rmdir %s: %s\n", tmp, R(rmdir(tmp)));
    logf_(id, "rmdir %s again: %s\n", tmp, R(rmdir(tmp)));
    logf_(id, "rmdir non-empty %s: %s\n", dir, R(rmdir(dir)));
    logf_(id, "open missing file: %s\n", R(open("no/such/file", O_RDONLY)));
    logf_(id, "mkdir under a file: %s\n", R(mkdir("shared.bin/x", 0755)));

    /* pwrite a 16-byte record into the fd main opened */
    n = snprintf(buf, sizeof buf, "record-%d-%06d\n", id, id * 1111); /* 16 bytes */
    logf_(id, "pwrite %zd bytes at %d: %s\n", n, id * 16,
          pwrite(shared_fd, buf, (size_t)n, (off_t)id * 16) == n ? "OK" : ename(errno));

    /* fd handed from thread 2 to thread 3 */
    if (id == 2) {
        handoff_fd = open("handoff.txt", O_CREAT | O_WRONLY | O_TRUNC, 0600);
        logf_(id, "opened handoff.txt for thread 3: %s\n", handoff_fd >= 0 ? "OK" : ename(errno));
    }

    /* flock: thread 0 and thread 1 use two separate open file descriptions */
    int lfd = -1;
    if (id == 0) {
        lfd = open("lockfile", O_CREAT | O_RDWR, 0644);
        logf_(id, "flock LOCK_EX: %s\n", R(flock(lfd, LOCK_EX)));
    }
    pthread_barrier_wait(&bar);
    if (id == 1) {
        lfd = open("lockfile", O_RDWR);
        logf_(id, "flock LOCK_EX|LOCK_NB while thread 0 holds it: %s\n", R(flock(lfd, LOCK_EX | LOCK_NB)));
        logf_(id, "flock LOCK_SH|LOCK_NB while thread 0 holds it: %s\n", R(flock(lfd, LOCK_SH | LOCK_NB)));
    }
    if (id == 3) {
        const char msg[] = "written by thread 3 on thread 2's fd\n";
        logf_(id, "write to handoff fd: %s\n",
              write(handoff_fd, msg, sizeof msg - 1) == (ssize_t)sizeof msg - 1 ? "OK" : ename(errno));
        logf_(id, "close handoff fd: %s\n", R(close(handoff_fd)));
        int rfd = open("old_name.txt", O_CREAT | O_WRONLY | O_EXCL, 0644);
        logf_(id, "write old_name.txt: %s\n", write(rfd, "renamed\n", 8) == 8 ? "OK" : ename(errno));
        close(rfd);
        logf_(id, "rename old_name.txt -> new_name.txt: %s\n", R(rename("old_name.txt", "new_name.txt")));
        rfd = open("to_delete.txt", O_CREAT | O_WRONLY, 0644);
        close(rfd);
        logf_(id, "unlink to_delete.txt: %s\n", R(unlink("to_delete.txt")));
        logf_(id, "unlink to_delete.txt again: %s\n", R(unlink("to_delete.txt")));
        logf_(id, "access removed file: %s\n", R(access("to_delete.txt", F_OK)));
    }
    pthread_barrier_wait(&bar);
    if (id == 0)
        logf_(id, "flock LOCK_UN: %s\n", R(flock(lfd, LOCK_UN)));
    pthread_barrier_wait(&bar);
    if (id == 1) {
        logf_(id, "flock LOCK_EX|LOCK_NB after unlock: %s\n", R(flock(lfd, LOCK_EX | LOCK_NB)));
        const char msg[] = "locked by thread 1\n";
        logf_(id, "write lockfile: %s\n",
              write(lfd, msg, sizeof msg - 1) == (ssize_t)sizeof msg - 1 ? "OK" : ename(errno));
    }
    pthread_barrier_wait(&bar);
    if (id == 0)
        logf_(id, "flock LOCK_EX|LOCK_NB while thread 1 holds it: %s\n", R(flock(lfd, LOCK_EX | LOCK_NB)));
    pthread_barrier_wait(&bar);
    if (lfd >= 0)
        close(lfd);
    return NULL;
}

int main(void)
{
    umask(022);
    shared_fd = open("shared.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
    pthread_barrier_init(&bar, NULL, NTHREADS);
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < NTHREADS; i++)
        printf("--- thread %d ---\n%s", i, log_buf[i]);

    char buf[128] = { 0 };
    ssize_t n = pread(shared_fd, buf, sizeof buf - 1, 0);
    printf("--- main ---\nshared.bin (%zd bytes):\n%s", n, buf);
    off_t end = lseek(shared_fd, 0, SEEK_END);
    printf("lseek end: %lld\n", (long long)end);
    close(shared_fd);
    struct stat st;
    const char *r = R(stat("dir_0", &st));
    printf("stat dir_0: %s, is dir: %d\n", r, S_ISDIR(st.st_mode));
    r = R(lstat("link_0", &st));
    printf("lstat link_0: %s, is link: %d\n", r, S_ISLNK(st.st_mode));
    r = R(stat("dir_0/file.txt", &st));
    printf("stat dir_0/file.txt: %s, size %lld, mode %o\n", r, (long long)st.st_size,
           (unsigned)(st.st_mode & 0777));
    r = R(stat("tmp_0", &st));
    printf("stat tmp_0: %s\n", r);
    return 0;
}
