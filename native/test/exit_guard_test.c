/* Unit test of exit_guard.c: a host program that exits while the backend is still at work, as
 * tritonserver does when its exit timeout expires. Built three ways by `make -C native
 * check-exit-guard` (lazy binding; -z now; -fno-plt), like check-signals.
 *
 * Each case runs in a child. An exit handler registered after the guard was armed stands for the
 * destructor of a function-local static a library first used while serving: it must not run when
 * the program exits under a loaded model or a running call (the child ends with the program's
 * status at once), and must run on a clean exit. An exit() the program does not make (a
 * library's, reached here through dlsym) is caught by the guard's exit handler instead. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/exit_guard.h"
#include "../src/errors.h"

static int marker_fd = -1;

/* The shim's logger, which exit_guard.c calls: here, nothing to log to. */
void errors_log(TRITONSERVER_LogLevel level, int line, const char* fmt, ...)
{
  (void)level;
  (void)line;
  (void)fmt;
}

static void late_destructor(void)
{
  if (write(marker_fd, "d", 1) != 1) {
    _exit(99);
  }
}

enum exit_case { CLEAN, MODEL_LOADED, CALL_RUNNING, LIBRARY_EXIT };

/* Runs one case in a child; returns its exit status, *destructor_ran says if the handler ran. */
static int run_case(enum exit_case which, int* destructor_ran, int* redirected)
{
  int fds[2];
  if (pipe(fds) != 0) {
    return -1;
  }
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    marker_fd = fds[1];
    if (which == LIBRARY_EXIT) {
      atexit(late_destructor); /* registered before the guard: runs after it */
    }
    int sites = exit_guard_arm();
    if (write(fds[1], sites > 0 ? "r" : "-", 1) != 1) {
      _exit(98);
    }
    if (which != LIBRARY_EXIT) {
      atexit(late_destructor); /* registered after the guard: runs before its exit handler */
    }
    if (which == MODEL_LOADED || which == LIBRARY_EXIT) {
      exit_guard_models(+1);
    }
    if (which == CALL_RUNNING) {
      exit_guard_enter();
    }
    if (which == LIBRARY_EXIT) {
      void (*library_exit)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "exit");
      library_exit(5);
    }
    exit(3);
  }
  close(fds[1]);
  char buffer[4];
  ssize_t n, total = 0;
  *destructor_ran = 0;
  *redirected = 0;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) {
    for (ssize_t i = 0; i < n; i++, total++) {
      *redirected |= buffer[i] == 'r';
      *destructor_ran |= buffer[i] == 'd';
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int failures;

static void expect(int ok, const char* what)
{
  if (!ok) {
    fprintf(stderr, "exit_guard_test: FAILED: %s\n", what);
    failures++;
  }
}

int main(void)
{
  int ran, redirected;
  expect(run_case(CLEAN, &ran, &redirected) == 3, "a clean exit keeps its status");
  expect(redirected, "the program's exit() call site is redirected");
  expect(ran, "a clean exit runs the exit handlers");

  expect(run_case(MODEL_LOADED, &ran, &redirected) == 3, "an exit under a loaded model keeps its status");
  expect(!ran, "an exit under a loaded model runs no exit handler, not even a later one");

  expect(run_case(CALL_RUNNING, &ran, &redirected) == 3, "an exit under a running call keeps its status");
  expect(!ran, "an exit under a running call runs no exit handler");

  expect(run_case(LIBRARY_EXIT, &ran, &redirected) == 5, "a library's exit keeps its status");
  expect(!ran, "a library's exit under a loaded model stops at the guard's exit handler");

  if (failures == 0) {
    printf("exit_guard_test: exit() under a loaded model or a running call ends before any exit "
           "handler, a clean one runs them\n");
  }
  return failures == 0 ? 0 : 1;
}
