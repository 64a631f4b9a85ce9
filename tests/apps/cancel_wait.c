/* pthread_cancel of a thread asleep in pthread_cond_wait (a thread pool's
 * shutdown): its cleanup handler runs and pthread_join says PTHREAD_CANCELED.
 * Under pshare the thread is on another rank: the cancel signal must look as
 * it does natively (sent by getpid()), or glibc ignores it.
 * Expected exit status: 0 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int cleaned;
static void cleanup(void *a) { (void)a; cleaned = 1; pthread_mutex_unlock(&m); }
static void *w(void *a) {
  (void)a;
  pthread_mutex_lock(&m);
  pthread_cleanup_push(cleanup, 0);
  for (;;) pthread_cond_wait(&c, &m);
  pthread_cleanup_pop(1);
  return 0;
}
int main(void) {
  pthread_t t; void *r;
  pthread_create(&t, 0, w, 0);
  usleep(100000);
  pthread_cancel(t);
  pthread_join(t, &r);
  printf("canceled %d cleaned %d\n", r == PTHREAD_CANCELED, cleaned);
  return 0;
}
