/* pthread_kill to a thread (on another rank under pshare): its handler sees
 * si_code SI_TKILL and si_pid == getpid(), as from any thread of the process.
 * Expected exit status: 0 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static volatile int got, spid, scode;
static void h(int s, siginfo_t *si, void *c) { (void)s; (void)c; spid = si->si_pid; scode = si->si_code; got = 1; }
static void *w(void *a) { (void)a; while (!got) usleep(1000); printf("si_pid==getpid %d code %d\n", spid == getpid(), scode); return 0; }
int main(void) {
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO; sigaction(SIGUSR1, &sa, 0);
  pthread_t t; pthread_create(&t, 0, w, 0); usleep(50000); pthread_kill(t, SIGUSR1); pthread_join(t, 0); return 0; }
