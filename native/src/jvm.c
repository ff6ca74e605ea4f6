/* Creates the JVM inside tritonserver and calls the Java backend through cached method IDs. */
#include "jvm.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "errors.h"
#include "exit_guard.h"
#include "signals.h"

#define JVM_ENTRY_CLASS "dev/javaonnxruntime/triton/BackendEntryPoints"
#define JVM_MAX_OPTIONS 64
/* The heap the JVM gets unless jvm-options set -Xms or -Xmx (see jvm_start). */
#define JVM_DEFAULT_HEAP "512m"

typedef jint (*jvm_create_fn)(JavaVM**, void**, void*);
typedef jint (*jvm_created_fn)(JavaVM**, jsize, jsize*);

static const struct {
  const char* name;
  const char* signature;
} jvm_entries[JVM_ENTRY_COUNT] = {
    [JVM_INITIALIZE] = {"initialize", "(J)J"},
    [JVM_FINALIZE] = {"finalizeBackend", "(J)J"},
    [JVM_MODEL_INITIALIZE] = {"modelInitialize", "(J)J"},
    [JVM_MODEL_FINALIZE] = {"modelFinalize", "(J)J"},
    [JVM_INSTANCE_INITIALIZE] = {"instanceInitialize", "(J)J"},
    [JVM_INSTANCE_FINALIZE] = {"instanceFinalize", "(J)J"},
    [JVM_INSTANCE_EXECUTE] = {"instanceExecute", "(JJIJ)J"},
};

static JavaVM* jvm_vm;
static void jvm_detach_at_exit(void);
static jclass jvm_class;
static jmethodID jvm_methods[JVM_ENTRY_COUNT];

/* Copies the string value of "key" in the backend config's {"cmdline":{"k":"v",...}} (Triton
 * passes every --backend-config value as a string) into out, "" when absent. Returns 0 when the
 * value does not fit. */
static int jvm_config_copy(const cJSON* config, const char* key, char* out, size_t out_size)
{
  const cJSON* value =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "cmdline"), key);
  const char* text = cJSON_IsString(value) ? value->valuestring : "";
  return snprintf(out, out_size, "%s", text) < (int)out_size;
}

/* Appends the lines of <dir>/jvm.options, space-separated, to out; a missing file adds nothing. */
static void jvm_file_options(const char* dir, char* out, size_t out_size)
{
  char path[PATH_MAX], line[1024];
  snprintf(path, sizeof(path), "%s/jvm.options", dir);
  out[0] = '\0';
  FILE* f = fopen(path, "r");
  if (f == NULL) {
    return;
  }
  while (fgets(line, sizeof(line), f) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    const char* p = line + strspn(line, " \t");
    if (*p == '\0' || *p == '#' || strlen(out) + strlen(p) + 2 > out_size) {
      continue;
    }
    strcat(strcat(out, out[0] ? " " : ""), p);
  }
  fclose(f);
}

static int jvm_compare_names(const void* a, const void* b)
{
  return strcmp(*(char* const*)a, *(char* const*)b);
}

/* "-Djava.class.path=" followed by every *.jar of dir, sorted so the order is reproducible. */
static char* jvm_class_path(const char* dir)
{
  DIR* d = opendir(dir);
  if (d == NULL) {
    return NULL;
  }
  char* names[1024];
  size_t count = 0, length = sizeof("-Djava.class.path=");
  struct dirent* e;
  while ((e = readdir(d)) != NULL && count < 1024) {
    size_t n = strlen(e->d_name);
    if (n > 4 && strcmp(e->d_name + n - 4, ".jar") == 0) {
      names[count++] = strdup(e->d_name);
      length += strlen(dir) + n + 2;
    }
  }
  closedir(d);
  qsort(names, count, sizeof(char*), jvm_compare_names);
  char* cp = malloc(length);
  if (cp != NULL) {
    strcpy(cp, "-Djava.class.path=");
    for (size_t i = 0; i < count; i++) {
      strcat(strcat(strcat(cp, i == 0 ? "" : ":"), dir), "/");
      strcat(cp, names[i]);
    }
  }
  for (size_t i = 0; i < count; i++) {
    free(names[i]);
  }
  return cp;
}

/* Opens <java_home>/lib/server/libjvm.so; tried is appended to for the error message. */
static void* jvm_open(const char* java_home, char* tried, size_t tried_size)
{
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/lib/server/libjvm.so", java_home);
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    size_t used = strlen(tried);
    snprintf(tried + used, tried_size - used, "%s%s (%s)", used ? ", " : "", path, dlerror());
  }
  return lib;
}

static TRITONSERVER_Error* jvm_cache_entries(JNIEnv* env, const char* class_path)
{
  jclass local = (*env)->FindClass(env, JVM_ENTRY_CLASS);
  if (local == NULL) {
    (*env)->ExceptionClear(env);
    return errors_new(
        TRITONSERVER_ERROR_NOT_FOUND, "class %s not found on the class path %s", JVM_ENTRY_CLASS,
        class_path + strlen("-Djava.class.path="));
  }
  jvm_class = (jclass)(*env)->NewGlobalRef(env, local);
  (*env)->DeleteLocalRef(env, local);
  if (jvm_class == NULL) {
    return errors_from_exception(env, "NewGlobalRef");
  }
  for (int i = 0; i < JVM_ENTRY_COUNT; i++) {
    jvm_methods[i] = (*env)->GetStaticMethodID(
        env, jvm_class, jvm_entries[i].name, jvm_entries[i].signature);
    if (jvm_methods[i] == NULL) {
      return errors_from_exception(env, jvm_entries[i].name);
    }
  }
  return NULL;
}

/* The JVM now holds pointers into this library (the signal forwarder, the host's redirected
 * signal calls), so the library stays mapped even if Triton closes it; then the host's later
 * signal handlers are chained behind the JVM's instead of replacing them. */
static void jvm_keep_signals(int libjsig)
{
  Dl_info self;
  if (dladdr((void*)jvm_keep_signals, &self) == 0 ||
      dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) == NULL) {
    errors_log(TRITONSERVER_LOG_WARN, __LINE__, "cannot pin %s in memory", self.dli_fname);
  }
  if (libjsig) {
    errors_log(
        TRITONSERVER_LOG_INFO, __LINE__,
        "libjsig.so is preloaded: the JVM chains the host's signal handlers itself");
    return;
  }
  int redirected = signals_protect();
  if (redirected > 0) {
    errors_log(
        TRITONSERVER_LOG_VERBOSE, __LINE__,
        "signal chaining: the host's SIGSEGV/SIGBUS/SIGFPE/SIGILL handlers now chain behind the "
        "JVM's (%d call sites of signal/sigaction redirected)",
        redirected);
  } else {
    errors_log(
        TRITONSERVER_LOG_VERBOSE, __LINE__,
        "signal chaining: the host program has no signal() or sigaction() call site to redirect "
        "(one that installs handlers otherwise needs libjsig.so preloaded, see the guide)");
  }
}

TRITONSERVER_Error* jvm_start(TRITONBACKEND_Backend* backend)
{
  TRITONSERVER_Error* err = NULL;
  TRITONSERVER_Message* config = NULL;
  const char* json = "";
  size_t json_size = 0;
  const char* dir = NULL;
  TRITONBACKEND_ArtifactType type;
  char java_home[PATH_MAX] = "", config_options[2048] = "", user_options[4096] = "";
  char tried[4096] = "";
  char* class_path = NULL;
  void* lib = NULL;

  if ((err = TRITONBACKEND_BackendArtifacts(backend, &type, &dir)) != NULL) {
    return err;
  }
  /* The backend config message belongs to Triton: read it, never delete it. */
  if ((err = TRITONBACKEND_BackendConfig(backend, &config)) != NULL ||
      (err = TRITONSERVER_MessageSerializeToJson(config, &json, &json_size)) != NULL) {
    return err;
  }
  cJSON* parsed = cJSON_ParseWithLength(json, json_size);
  if (parsed == NULL) {
    return errors_new(TRITONSERVER_ERROR_INTERNAL, "the backend config is not JSON: %.*s",
                      (int)json_size, json);
  }
  const char* too_long =
      !jvm_config_copy(parsed, "java-home", java_home, sizeof(java_home))         ? "java-home"
      : !jvm_config_copy(parsed, "jvm-options", config_options, sizeof(config_options)) ? "jvm-options"
                                                                                    : NULL;
  cJSON_Delete(parsed);
  if (too_long != NULL) {
    return errors_new(TRITONSERVER_ERROR_INVALID_ARG,
                      "--backend-config=java_onnxruntime,%s=... is too long for the shim", too_long);
  }

  if (java_home[0] != '\0') {
    lib = jvm_open(java_home, tried, sizeof(tried));
  } else {
    char bundled[PATH_MAX];
    snprintf(bundled, sizeof(bundled), "%s/jre", dir);
    lib = jvm_open(bundled, tried, sizeof(tried));
    const char* env_home = getenv("JAVA_HOME");
    if (lib == NULL && env_home != NULL && env_home[0] != '\0') {
      lib = jvm_open(env_home, tried, sizeof(tried));
    }
  }
  if (lib == NULL) {
    return errors_new(
        TRITONSERVER_ERROR_NOT_FOUND,
        "cannot start the JVM: libjvm.so not found; tried %s. Set --backend-config="
        "java_onnxruntime,java-home=<JDK or JRE directory>, or JAVA_HOME",
        tried);
  }
  jvm_create_fn create = (jvm_create_fn)dlsym(lib, "JNI_CreateJavaVM");
  jvm_created_fn created = (jvm_created_fn)dlsym(lib, "JNI_GetCreatedJavaVMs");
  if (create == NULL || created == NULL) {
    return errors_new(TRITONSERVER_ERROR_NOT_FOUND, "libjvm.so lacks the JNI invocation API");
  }

  class_path = jvm_class_path(dir);
  if (class_path == NULL) {
    return errors_new(TRITONSERVER_ERROR_NOT_FOUND, "cannot list the jars in %s", dir);
  }

  JNIEnv* env = NULL;
  jsize existing = 0;
  if (created(&jvm_vm, 1, &existing) == JNI_OK && existing > 0) {
    errors_log(TRITONSERVER_LOG_INFO, __LINE__, "joining the JVM that already runs in this process");
    JavaVMAttachArgs args = {JNI_VERSION_10, "triton-backend-init", NULL};
    if ((*jvm_vm)->AttachCurrentThreadAsDaemon(jvm_vm, (void**)&env, &args) != JNI_OK) {
      err = errors_new(TRITONSERVER_ERROR_INTERNAL, "cannot attach to the existing JVM");
      goto cleanup;
    }
    jvm_detach_at_exit();
  } else {
    /* -Xrs: SIGINT/SIGTERM stay with tritonserver for its graceful shutdown. */
    JavaVMOption options[JVM_MAX_OPTIONS];
    char cache_dir[PATH_MAX + 64];
    int n = 0;
    options[n++].optionString = class_path;
    options[n++].optionString = "-Xrs";
    /* Options from <backend dir>/jvm.options (one per line, # comments; what an image ships),
     * then from the backend config's jvm-options, which come later and so win. */
    jvm_file_options(dir, user_options, sizeof(user_options) - sizeof(config_options) - 1);
    size_t used = strlen(user_options);
    snprintf(user_options + used, sizeof(user_options) - used, " %s", config_options);
    if (strstr(user_options, "org.bytedeco.javacpp.cacheDir") == NULL) {
      snprintf(cache_dir, sizeof(cache_dir), "-Dorg.bytedeco.javacpp.cacheDir=%s/javacpp-cache", dir);
      options[n++].optionString = cache_dir;
    }
    /* JavaCPP otherwise reads /proc/self/statm (a pread) for every native object it allocates, to
     * enforce a limit on the process's resident size: a syscall per tensor on the request path.
     * The backend owns its native memory explicitly; JavaCPP's maxBytes still bounds what it
     * tracks. */
    if (strstr(user_options, "org.bytedeco.javacpp.maxPhysicalBytes") == NULL) {
      options[n++].optionString = "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0";
    }
    /* A fixed heap, touched once at start. The backend keeps tensors in native memory, so the
     * heap holds only short-lived request objects; left to size itself (a quarter of the RAM at
     * most) the heap grows and shrinks, and every new page it gives an allocation costs a page
     * fault on the request path: 20-25 us per request on the CPU benchmark (bench/triton/cpu.py). */
    if (strstr(user_options, "-Xmx") == NULL && strstr(user_options, "-Xms") == NULL) {
      options[n++].optionString = "-Xms" JVM_DEFAULT_HEAP;
      options[n++].optionString = "-Xmx" JVM_DEFAULT_HEAP;
    }
    if (strstr(user_options, "AlwaysPreTouch") == NULL) {
      options[n++].optionString = "-XX:+AlwaysPreTouch";
    }
    /* The JIT's thresholds a tenth of HotSpot's: its defaults suit code called millions of times,
     * and the request path's methods run once per request. With them a key hit of a model served
     * alone still ran partly as C1's profiled code 13,000 requests in, at twice C2's cost; with a
     * tenth it gets C2's figures, and the first thousand requests of a new server cost 4-6 us of
     * compute_input over stock's instead of 30 (bench/results/2026-12-08e-cpu-key-hit-alone). */
    if (strstr(user_options, "CompileThresholdScaling") == NULL) {
      options[n++].optionString = "-XX:CompileThresholdScaling=0.1";
    }
    for (char *save = NULL, *tok = strtok_r(user_options, " \t", &save);
         tok != NULL && n < JVM_MAX_OPTIONS; tok = strtok_r(NULL, " \t", &save)) {
      options[n++].optionString = tok;
    }
    JavaVMInitArgs init = {JNI_VERSION_10, n, options, JNI_FALSE};
    struct timespec t0, t1;
    int libjsig = signals_prepare();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    jint rc = create(&jvm_vm, (void**)&env, &init);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != JNI_OK) {
      err = errors_new(
          TRITONSERVER_ERROR_INTERNAL,
          "JNI_CreateJavaVM failed with %d (check jvm-options '%s' and the JVM's own message above)",
          (int)rc, user_options);
      jvm_vm = NULL;
      goto cleanup;
    }
    errors_log(
        TRITONSERVER_LOG_INFO, __LINE__, "JVM created in %.1f ms (libjvm.so of %s)",
        (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
        java_home[0] != '\0' ? java_home : "the bundled jre/ or JAVA_HOME");
    jvm_keep_signals(libjsig);
    jvm_detach_at_exit(); /* JNI_CreateJavaVM attached this (load) thread */
  }
  err = jvm_cache_entries(env, class_path);

cleanup:
  free(class_path);
  return err;
}

/* Triton's threads come and go (an instance's thread ends when the instance unloads, a load
 * thread when its load is done): a thread attached here is detached when it exits, from a
 * thread-specific destructor, as HotSpot supports (it restores its own thread pointer for such
 * destructors). A thread that ended attached stays in the JVM's thread list for good, and a
 * thread dump then reads the clock of a thread that no longer exists. */
static pthread_key_t jvm_detach_key;
static pthread_once_t jvm_detach_once = PTHREAD_ONCE_INIT;

static void jvm_detach(void* vm)
{
  (*(JavaVM*)vm)->DetachCurrentThread((JavaVM*)vm);
}

static void jvm_detach_key_create(void)
{
  pthread_key_create(&jvm_detach_key, jvm_detach);
}

static void jvm_detach_at_exit(void)
{
  pthread_once(&jvm_detach_once, jvm_detach_key_create);
  pthread_setspecific(jvm_detach_key, jvm_vm);
}

/* Attaching is a no-op for a thread already attached; daemons, so that none holds the JVM. */
static JNIEnv* jvm_env(void)
{
  JNIEnv* env = NULL;
  if (jvm_vm == NULL) {
    return NULL;
  }
  if ((*jvm_vm)->GetEnv(jvm_vm, (void**)&env, JNI_VERSION_10) == JNI_OK) {
    return env;
  }
  JavaVMAttachArgs args = {JNI_VERSION_10, "triton-backend", NULL};
  if ((*jvm_vm)->AttachCurrentThreadAsDaemon(jvm_vm, (void**)&env, &args) != JNI_OK) {
    return NULL;
  }
  jvm_detach_at_exit();
  return env;
}

TRITONSERVER_Error* jvm_call(jvm_entry entry, jlong handle, jlong requests, jint request_count)
{
  /* An Execute's start, Triton's exec_start, is taken here, before the call into the JVM, as the
   * stock backend takes it where its Execute starts: the call then counts in our compute_input,
   * not in Triton's queue figure. CLOCK_MONOTONIC is System.nanoTime's clock on Linux, which
   * takes the Execute's later timestamps. */
  struct timespec entered = {0, 0};
  if (entry == JVM_INSTANCE_EXECUTE) {
    clock_gettime(CLOCK_MONOTONIC, &entered);
  }
  JNIEnv* env = jvm_env();
  if (env == NULL || jvm_class == NULL) {
    return errors_new(
        TRITONSERVER_ERROR_INTERNAL, "%s: the JVM is not running or this thread cannot attach",
        jvm_entries[entry].name);
  }
  jlong result;
  exit_guard_enter();
  if (entry == JVM_INSTANCE_EXECUTE) {
    result = (*env)->CallStaticLongMethod(env, jvm_class, jvm_methods[entry], handle, requests,
        request_count, (jlong)entered.tv_sec * 1000000000LL + entered.tv_nsec);
  } else {
    result = (*env)->CallStaticLongMethod(env, jvm_class, jvm_methods[entry], handle);
  }
  exit_guard_leave();
  if ((*env)->ExceptionCheck(env)) {
    return errors_from_exception(env, jvm_entries[entry].name);
  }
  return (TRITONSERVER_Error*)(intptr_t)result;
}

void jvm_stop(void)
{
  JNIEnv* env = jvm_env();
  if (env != NULL && jvm_class != NULL) {
    (*env)->DeleteGlobalRef(env, jvm_class);
  }
  jvm_class = NULL;
}
