/* argv passing (spaces, empty and option-like arguments), stdin at EOF,
 * stderr output, a thread's return value, and a non-zero return from main.
 * The harness runs it as: args_exit alpha "two words" --flag=x ""
 * Expected exit status: 42 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *count_args(void *arg)
{
    char **argv = arg;
    long total = 0;
    for (int i = 1; argv[i]; i++)
        total += (long)strlen(argv[i]);
    return (void *)total;
}

int main(int argc, char **argv)
{
    printf("argc = %d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = \"%s\"\n", i, argv[i]);
    printf("argv[argc] is %s\n", argv[argc] ? "non-NULL" : "NULL");
    char buf[256];
    long in = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
        in += n;
    printf("stdin: %ld bytes until EOF (read returned %zd)\n", in, n);
    pthread_t t;
    void *rv;
    pthread_create(&t, NULL, count_args, argv);
    pthread_join(t, &rv);
    printf("total argument length computed by a thread: %ld\n", (long)rv);
    fprintf(stderr, "args_exit: returning 42 from main\n");
    return 42;
}
