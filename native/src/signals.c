/* Signal chaining between the JVM and the host program: see signals.h. */
#include "signals.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "host_calls.h"

/* The signals HotSpot handles itself in normal operation. */
static const int signals_jvm[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define SIGNALS_COUNT (sizeof(signals_jvm) / sizeof(signals_jvm[0]))

/* The host's action per signal, double-buffered: a fault on another thread reads the slot that
 * signals_current names while the host writes the other one. */
static struct sigaction signals_host[SIGNALS_COUNT][2];
static atomic_int signals_current[SIGNALS_COUNT];
/* 1 once the forwarder is installed: from then on the host's calls only record its handlers. */
static atomic_int signals_active;

static int signals_index(int sig)
{
  for (size_t i = 0; i < SIGNALS_COUNT; i++) {
    if (signals_jvm[i] == sig) {
      return (int)i;
    }
  }
  return -1;
}

static struct sigaction signals_host_action(int i)
{
  return signals_host[i][atomic_load(&signals_current[i])];
}

static void signals_set_host(int i, const struct sigaction* act)
{
  int next = 1 - atomic_load(&signals_current[i]);
  signals_host[i][next] = *act;
  atomic_store(&signals_current[i], next);
}

/* The handler the JVM chains to for a fault that is not its own: the host's handler, or with none
 * the default action (the process ends by that signal, as it would without a JVM). */
static void signals_forward(int sig, siginfo_t* info, void* context)
{
  int i = signals_index(sig);
  struct sigaction act = signals_host_action(i);
  if ((act.sa_flags & SA_SIGINFO) != 0 && act.sa_sigaction != NULL) {
    act.sa_sigaction(sig, info, context);
    return;
  }
  if ((act.sa_flags & SA_SIGINFO) == 0 && act.sa_handler != SIG_DFL && act.sa_handler != SIG_IGN) {
    act.sa_handler(sig);
    return;
  }
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
  raise(sig);
}

/* The host program's sigaction() and signal() once redirected: the JVM's four signals are only
 * recorded as the forwarder's target, every other signal goes to the C library. */
static int signals_host_sigaction(int sig, const struct sigaction* act, struct sigaction* old)
{
  int i = signals_index(sig);
  if (i < 0 || !atomic_load(&signals_active)) {
    return sigaction(sig, act, old);
  }
  if (old != NULL) {
    *old = signals_host_action(i);
  }
  if (act != NULL) {
    signals_set_host(i, act);
  }
  return 0;
}

static sighandler_t signals_host_signal(int sig, sighandler_t handler)
{
  int i = signals_index(sig);
  if (i < 0 || !atomic_load(&signals_active)) {
    return signal(sig, handler);
  }
  if (handler == SIG_ERR) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction old = signals_host_action(i), act;
  memset(&act, 0, sizeof(act));
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESTART; /* glibc's signal(): BSD semantics */
  signals_set_host(i, &act);
  return (old.sa_flags & SA_SIGINFO) != 0 ? (sighandler_t)(void (*)(void))old.sa_sigaction
                                          : old.sa_handler;
}

int signals_prepare(void)
{
#ifdef JAVA_ONNXRUNTIME_NO_SIGNAL_CHAINING
  /* A test build (tests/signals): the host's later handlers replace the JVM's. */
  return 0;
#endif
  /* libjsig.so in the process (preloaded): the JVM finds it and chains by itself. */
  if (dlsym(RTLD_DEFAULT, "JVM_begin_signal_setting") != NULL) {
    return 1;
  }
  for (size_t i = 0; i < SIGNALS_COUNT; i++) {
    struct sigaction current, forward;
    sigaction(signals_jvm[i], NULL, &current);
    signals_set_host((int)i, &current);
    memset(&forward, 0, sizeof(forward));
    forward.sa_sigaction = signals_forward;
    sigemptyset(&forward.sa_mask);
    forward.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigaction(signals_jvm[i], &forward, NULL);
  }
  atomic_store(&signals_active, 1);
  return 0;
}

int signals_protect(void)
{
  if (!atomic_load(&signals_active)) {
    return 0;
  }
  const struct host_call calls[] = {
      {"signal", (void*)signals_host_signal},
      {"sigaction", (void*)signals_host_sigaction},
  };
  return host_calls_redirect(calls, sizeof(calls) / sizeof(calls[0]));
}
