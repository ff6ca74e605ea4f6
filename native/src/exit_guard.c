/* The exit guard: see exit_guard.h. */
#include "exit_guard.h"

#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "errors.h"

static atomic_int exit_guard_calls;
static atomic_int exit_guard_live_models;
static pthread_mutex_t exit_guard_mutex = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long exit_guard_armed_at; /* dlpi_adds at the last registration */

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

static void exit_guard_check(int status, void* unused)
{
  (void)unused;
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

static int exit_guard_loads(struct dl_phdr_info* info, size_t size, void* data)
{
  (void)size;
  *(unsigned long long*)data = info->dlpi_adds;
  return 1;
}

void exit_guard_arm(void)
{
  unsigned long long adds = 0;
  dl_iterate_phdr(exit_guard_loads, &adds);
  pthread_mutex_lock(&exit_guard_mutex);
  if (adds != exit_guard_armed_at && on_exit(exit_guard_check, NULL) == 0) {
    exit_guard_armed_at = adds;
  }
  pthread_mutex_unlock(&exit_guard_mutex);
}
