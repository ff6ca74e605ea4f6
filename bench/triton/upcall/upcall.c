/* What one call from C into a static Java method costs (JNI CallStaticLongMethod, the shim's
 * TRITONBACKEND_ModelInstanceExecute path), measured from C's CLOCK_MONOTONIC before the call to
 * System.nanoTime on the method's first line: back to back, after an 8 MB memset on the calling
 * thread, and after 1 ms asleep. bench/results/2026-12-08f-cpu-exec-start.
 *   upcall [CLASS_DIR]    (CLASS_DIR holds Up.class; default /tmp/upcall)
 */
#include <jni.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int by_value(const void* a, const void* b)
{
  long long x = *(const long long*)a, y = *(const long long*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv)
{
  char class_path[4096];
  snprintf(class_path, sizeof(class_path), "-Djava.class.path=%s", argc > 1 ? argv[1] : "/tmp/upcall");
  JavaVMOption options[] = {{class_path, NULL}, {"-XX:CompileThresholdScaling=0.1", NULL}, {"-Xrs", NULL}};
  JavaVMInitArgs init = {JNI_VERSION_10, 3, options, JNI_FALSE};
  JavaVM* vm;
  JNIEnv* env;
  if (JNI_CreateJavaVM(&vm, (void**)&env, &init) != JNI_OK) {
    fprintf(stderr, "JNI_CreateJavaVM failed\n");
    return 1;
  }
  jclass up = (*env)->FindClass(env, "Up");
  jmethodID f = up == NULL ? NULL : (*env)->GetStaticMethodID(env, up, "f", "(JJIJ)J");
  if (f == NULL) {
    fprintf(stderr, "no Up.f(long, long, int, long) in %s\n", class_path);
    return 1;
  }
  const int calls = 20000;
  const size_t big = 8 << 20;
  long long* took = malloc(sizeof(long long) * calls);
  char* buffer = malloc(big);
  const char* modes[] = {"back to back", "after an 8 MB memset", "after 1 ms asleep"};
  for (int mode = 0; mode < 3; mode++) {
    for (int i = 0; i < calls; i++) {
      if (mode == 1) {
        memset(buffer, i, big);
      } else if (mode == 2) {
        usleep(1000);
      }
      JNIEnv* e;
      (*vm)->GetEnv(vm, (void**)&e, JNI_VERSION_10);
      long long before = now_ns();
      jlong first_line = (*e)->CallStaticLongMethod(e, up, f, (jlong)1, (jlong)2, (jint)3, (jlong)before);
      took[i] = first_line - before;
    }
    long long* last = took + calls / 2; /* the second half: the JIT is done */
    qsort(last, calls / 2, sizeof(long long), by_value);
    printf("%s: p10 %.2f p50 %.2f p90 %.2f us (the last %d of %d calls)\n", modes[mode],
           last[calls / 20] / 1e3, last[calls / 4] / 1e3, last[9 * calls / 20] / 1e3, calls / 2, calls);
  }
  return 0;
}
