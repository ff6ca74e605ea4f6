/* LD_PRELOAD diagnostic for the GPU benchmark: reports every failing cudaFreeHost with the
 * calling thread's name and a backtrace, and counts cudaLaunchHostFunc calls, on stderr.
 * Build: gcc -O1 -g -shared -fPIC -o libcuda_trace.so cuda_trace.c -ldl
 * Use:   LD_PRELOAD=libcuda_trace.so <program>   (issue 7: the abort at model unload). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

static atomic_long host_funcs;
static atomic_long free_hosts;

/* cudart is dlopen()ed after this library (by JavaCPP, RTLD_LOCAL): RTLD_NEXT cannot see it. */
static void*
real_symbol(const char* name)
{
  void* f = dlsym(RTLD_NEXT, name);
  if (f == NULL) {
    void* h = dlopen("libcudart.so.13", RTLD_NOW | RTLD_NOLOAD);
    f = h != NULL ? dlsym(h, name) : NULL;
  }
  if (f == NULL) {
    fprintf(stderr, "cuda_trace: cannot find the real %s\n", name);
  }
  return f;
}

static void
trace(const char* what, int rc)
{
  char name[32] = "?";
  prctl(PR_GET_NAME, name, 0, 0, 0);
  fprintf(stderr, "cuda_trace: %s returned %d on thread '%s' (tid %ld); host funcs so far %ld\n",
          what, rc, name, (long)gettid(), atomic_load(&host_funcs));
  void* frames[48];
  int n = backtrace(frames, 48);
  backtrace_symbols_fd(frames, n, 2);
}

int
cudaFreeHost(void* p)
{
  static int (*real)(void*);
  if (real == NULL) {
    real = (int (*)(void*))real_symbol("cudaFreeHost");
  }
  if (real == NULL) {
    trace("cudaFreeHost (no real symbol)", -1);
    return 1;
  }
  atomic_fetch_add(&free_hosts, 1);
  int rc = real(p);
  if (rc != 0) {
    trace("cudaFreeHost", rc);
  }
  return rc;
}

int
cudaLaunchHostFunc(void* stream, void (*fn)(void*), void* data)
{
  static int (*real)(void*, void (*)(void*), void*);
  if (real == NULL) {
    real = (int (*)(void*, void (*)(void*), void*))real_symbol("cudaLaunchHostFunc");
  }
  if (real == NULL) {
    return 1;
  }
  atomic_fetch_add(&host_funcs, 1);
  return real(stream, fn, data);
}

__attribute__((destructor)) static void
report(void)
{
  fprintf(stderr, "cuda_trace: %ld cudaLaunchHostFunc, %ld cudaFreeHost\n",
          atomic_load(&host_funcs), atomic_load(&free_hosts));
}
