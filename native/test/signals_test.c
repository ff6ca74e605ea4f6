/* Unit test of signals.c: a stand-in JVM and a host program that installs its SIGSEGV handler
 * after the JVM started, as tritonserver does. Built three ways by `make -C native check-signals`
 * (lazy binding; -z now, whose GOT lies in RELRO; -fno-plt, whose calls go through GLOB_DAT
 * slots), so that every way a host program can reach signal() is redirected.
 *
 * Passes when the host's signal(SIGSEGV, ...) leaves the JVM's handler installed, a SIGSEGV goes
 * first to the JVM's handler and, chained, to the host's; the host sees its own handler when it
 * asks; other signals are untouched. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/signals.h"

static volatile sig_atomic_t jvm_calls, host_calls, usr1_calls;
static struct sigaction jvm_chained; /* what the stand-in JVM found installed, as HotSpot saves it */

static void host_handler(int sig)
{
  (void)sig;
  host_calls++;
}

static void usr1_handler(int sig)
{
  (void)sig;
  usr1_calls++;
}

/* Like HotSpot's handler for a fault that is not its own: hand it to the handler it replaced. */
static void jvm_handler(int sig, siginfo_t* info, void* context)
{
  jvm_calls++;
  if ((jvm_chained.sa_flags & SA_SIGINFO) != 0) {
    jvm_chained.sa_sigaction(sig, info, context);
  } else if (jvm_chained.sa_handler != SIG_DFL && jvm_chained.sa_handler != SIG_IGN) {
    jvm_chained.sa_handler(sig);
  }
}

static int failures;

static void expect(int ok, const char* what)
{
  if (!ok) {
    fprintf(stderr, "signals_test: FAILED: %s\n", what);
    failures++;
  }
}

int main(void)
{
  expect(signals_prepare() == 0, "signals_prepare installs the forwarder (no libjsig here)");

  /* The JVM starts: it saves the installed handler (the forwarder) and installs its own. */
  struct sigaction jvm;
  memset(&jvm, 0, sizeof(jvm));
  jvm.sa_sigaction = jvm_handler;
  jvm.sa_flags = SA_SIGINFO;
  sigemptyset(&jvm.sa_mask);
  sigaction(SIGSEGV, &jvm, &jvm_chained);
  expect((jvm_chained.sa_flags & SA_SIGINFO) != 0, "the JVM found the forwarder installed");

  expect(signals_protect() >= 1, "signals_protect redirects this program's signal()");

  /* The host installs its handlers, as tritonserver's main() does after the models loaded. */
  expect(signal(SIGSEGV, host_handler) != SIG_ERR, "signal(SIGSEGV) succeeds for the host");
  expect(signal(SIGUSR1, usr1_handler) != SIG_ERR, "signal(SIGUSR1) succeeds for the host");

  struct sigaction seen;
  expect(sigaction(SIGSEGV, NULL, &seen) == 0 && seen.sa_handler == host_handler,
         "the host reads back its own SIGSEGV handler");

  raise(SIGSEGV);
  expect(jvm_calls == 1, "SIGSEGV reached the JVM's handler (the host did not replace it)");
  expect(host_calls == 1, "the JVM chained SIGSEGV to the host's handler");

  raise(SIGUSR1);
  expect(usr1_calls == 1, "SIGUSR1 is installed for real, not recorded");

  if (failures == 0) {
    printf("signals_test: the host's SIGSEGV handler chains behind the JVM's\n");
  }
  return failures == 0 ? 0 : 1;
}
