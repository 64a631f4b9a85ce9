/* setlocale in main (the locale's files are mapped now, after start-up),
 * then workers (on every rank) format dates and convert multibyte text. */
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <wchar.h>
#include <wctype.h>

static void *worker(void *arg)
{
    long i = (long)arg;
    struct tm tm = { .tm_year = 124, .tm_mon = (int)i * 3, .tm_mday = 10 + (int)i,
                     .tm_hour = 12, .tm_min = 34, .tm_sec = 56 };
    mktime(&tm);
    char date[200];
    strftime(date, sizeof date, "%A %d %B %Y %c %x %X", &tm);
    wchar_t w[64];
    size_t n = mbstowcs(w, "gr\xc3\xbc\xc3\x9f \xce\xb1\xce\xb2\xce\xb3", 64);
    int upper = 0;
    for (size_t k = 0; k < n; k++)
        upper += iswupper(towupper(w[k])) != 0;
    printf("worker %ld: %s | %zu wide chars, %d upper\n", i, date, n, upper);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "C.UTF-8";
    if (!setlocale(LC_ALL, name)) {
        fprintf(stderr, "no locale %s\n", name);
        return 2;
    }
    for (long i = 0; i < 4; i++) {
        pthread_t t;
        pthread_create(&t, 0, worker, (void *)i);
        pthread_join(t, 0);
    }
    return 0;
}
