/* pshare puts every handler of the app on its own signal stack (SA_ONSTACK
 * added): sigaction must still report the flags the app set. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void on_sig(int sig) { (void)sig; }

int main(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGUSR1, NULL, &old);
    printf("USR1 onstack %d restart %d\n", !!(old.sa_flags & SA_ONSTACK), !!(old.sa_flags & SA_RESTART));
    sigaction(SIGUSR2, &sa, &old);
    printf("USR2 onstack %d restart %d\n", !!(old.sa_flags & SA_ONSTACK), !!(old.sa_flags & SA_RESTART));
    raise(SIGUSR1);
    raise(SIGUSR2);
    printf("handlers ran\n");
    return 0;
}
