/* The exit guard: see exit_guard.h. */
#include "exit_guard.h"

#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "errors.h"
#include "host_calls.h"

static atomic_int exit_guard_calls;
static atomic_int exit_guard_live_models;
static pthread_mutex_t exit_guard_mutex = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long exit_guard_armed_at; /* dlpi_adds at the last registration */
static int exit_guard_redirected; /* the host program's exit() call sites redirected */

void exit_guard_enter(void)
{
  atomic_fetch_add(&exit_guard_calls, 1);
}

void exit_guard_leave(void)
{
  atomic_fetch_sub(&exit_guard_calls, 1);
}

void exit_guard_models(int delta)
{
  atomic_fetch_add(&exit_guard_live_models, delta);
}

/* Returns when the process may exit normally; ends it at once otherwise. */
static void exit_guard_check(int status)
{
  int calls = atomic_load(&exit_guard_calls), models = atomic_load(&exit_guard_live_models);
  if (calls == 0 && models == 0) {
    return;
  }
  errors_log(
      TRITONSERVER_LOG_WARN, __LINE__,
      "the process exits (status %d) while %d model(s) of this backend are still loaded or "
      "unloading and %d call(s) run: ending it now, before exit-time destructors run under them",
      status, models, calls);
  fflush(NULL);
  _exit(status);
}

/* The host program's exit() once redirected: runs before any exit handler. */
static void exit_guard_exit(int status)
{
  exit_guard_check(status);
  exit(status);
}

/* The same check as an exit handler, for an exit() the redirection does not see (a library's). */
static void exit_guard_on_exit(int status, void* unused)
{
  (void)unused;
  exit_guard_check(status);
}

static int exit_guard_loads(struct dl_phdr_info* info, size_t size, void* data)
{
  (void)size;
  *(unsigned long long*)data = info->dlpi_adds;
  return 1;
}

int exit_guard_arm(void)
{
  unsigned long long adds = 0;
  dl_iterate_phdr(exit_guard_loads, &adds);
  pthread_mutex_lock(&exit_guard_mutex);
  if (!exit_guard_redirected) {
    const struct host_call call = {"exit", (void*)exit_guard_exit};
    exit_guard_redirected = host_calls_redirect(&call, 1);
  }
  if (adds != exit_guard_armed_at && on_exit(exit_guard_on_exit, NULL) == 0) {
    exit_guard_armed_at = adds;
  }
  int redirected = exit_guard_redirected;
  pthread_mutex_unlock(&exit_guard_mutex);
  return redirected;
}
