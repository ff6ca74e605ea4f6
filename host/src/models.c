/*
 * Backend loading and the model lifecycle, in Triton's order and on Triton's threads:
 *
 *   load (a new thread per model):  [backend dlopen + TRITONBACKEND_Initialize, first model
 *        only] -> TRITONBACKEND_ModelInitialize -> TRITONBACKEND_ModelInstanceInitialize for
 *        each instance, sequentially -> one execute thread per instance;
 *   unload (a new thread per model): wait for outstanding requests -> stop the execute
 *        threads -> TRITONBACKEND_ModelInstanceFinalize for each instance ->
 *        TRITONBACKEND_ModelFinalize;
 *   exit (main thread): TRITONBACKEND_Finalize for every backend, after all models.
 *
 * A failure in ModelInitialize or in an instance's initialization finalizes what was already
 * created (instances in reverse, then the model if ModelInitialize succeeded) and fails the
 * load with the backend's message.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

static pthread_mutex_t models_backends_lock = PTHREAD_MUTEX_INITIALIZER;
static TRITONBACKEND_Backend* models_backends; /* load order */

static char*
models_read_file(const char* path)
{
  FILE* f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* s = malloc((size_t)(n < 0 ? 0 : n) + 1);
  size_t got = fread(s, 1, (size_t)(n < 0 ? 0 : n), f);
  s[got] = '\0';
  fclose(f);
  return s;
}

/* ---------------------------------------------------------------- backend config */

typedef struct models_kv {
  char* key;
  char* value;
} models_kv;

static void
models_kv_set(models_kv** kvs, int* n, const char* key, const char* value)
{
  for (int i = 0; i < *n; ++i) {
    if (strcmp((*kvs)[i].key, key) == 0) {
      free((*kvs)[i].value);
      (*kvs)[i].value = strdup(value);
      return;
    }
  }
  *kvs = realloc(*kvs, (size_t)(*n + 1) * sizeof(models_kv));
  (*kvs)[*n].key = strdup(key);
  (*kvs)[*n].value = strdup(value);
  (*n)++;
}

static int
models_kv_cmp(const void* a, const void* b)
{
  return strcmp(((const models_kv*)a)->key, ((const models_kv*)b)->key);
}

/* {"cmdline":{...}}: Triton's global defaults, then global --backend-config settings, then this
 * backend's own settings (specific wins); keys sorted, every value a string. */
static TRITONSERVER_Message*
models_backend_config(const char* backend, const char* backend_dir_abs)
{
  models_kv* kvs = NULL;
  int n = 0;
  models_kv_set(&kvs, &n, "auto-complete-config", g_host_options.auto_complete ? "true" : "false");
  models_kv_set(&kvs, &n, "backend-directory", backend_dir_abs);
  models_kv_set(&kvs, &n, "default-max-batch-size", "4");
  models_kv_set(&kvs, &n, "min-compute-capability", "7.500000");
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < g_host_options.backend_config_count; ++i) {
      const char* s = g_host_options.backend_config[i];
      const char* eq = strchr(s, '=');
      const char* comma = strchr(s, ',');
      if (eq == NULL) {
        continue;
      }
      bool specific = comma != NULL && comma < eq;
      if (pass == 0 && !specific) {
        char* key = strndup(s, (size_t)(eq - s));
        models_kv_set(&kvs, &n, key, eq + 1);
        free(key);
      } else if (pass == 1 && specific && strncmp(s, backend, (size_t)(comma - s)) == 0 &&
                 backend[comma - s] == '\0') {
        char* key = strndup(comma + 1, (size_t)(eq - comma - 1));
        models_kv_set(&kvs, &n, key, eq + 1);
        free(key);
      }
    }
  }
  qsort(kvs, (size_t)n, sizeof(models_kv), models_kv_cmp);
  cJSON* doc = cJSON_CreateObject();
  cJSON* cmd = cJSON_AddObjectToObject(doc, "cmdline");
  for (int i = 0; i < n; ++i) {
    cJSON_AddStringToObject(cmd, kvs[i].key, kvs[i].value);
    free(kvs[i].key);
    free(kvs[i].value);
  }
  free(kvs);
  char* json = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  TRITONSERVER_Message* msg = host_message_new(json, strlen(json), true);
  free(json);
  return msg;
}

/* ---------------------------------------------------------------- backends */

static char*
models_abs_dir(const char* dir)
{
  char buf[PATH_MAX];
  if (realpath(dir, buf) != NULL) {
    return strdup(buf);
  }
  return strdup(dir);
}

/* Finds or loads backend `name` and runs its Initialize once, on the calling (model-load)
 * thread. Returns the backend, or NULL with *err set. */
static TRITONBACKEND_Backend*
models_get_backend(const char* name, char** err)
{
  pthread_mutex_lock(&models_backends_lock);
  TRITONBACKEND_Backend* b = models_backends;
  TRITONBACKEND_Backend* last = NULL;
  for (; b != NULL; last = b, b = b->next) {
    if (strcmp(b->name, name) == 0) {
      break;
    }
  }
  if (b == NULL) {
    char* root = models_abs_dir(g_host_options.backend_dir);
    char* dir = host_printf("%s/%s", root, name);
    char* lib = host_printf("%s/libtriton_%s.so", dir, name);
    struct stat st;
    if (stat(lib, &st) != 0) {
      *err = host_printf("unable to find backend library for backend '%s', try specifying "
                         "runtime on the model configuration.", name);
      HLOG_ERROR("backend '%s': %s not found", name, lib);
      free(root);
      free(dir);
      free(lib);
      pthread_mutex_unlock(&models_backends_lock);
      return NULL;
    }
    void* dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
      *err = host_printf("unable to load backend library '%s': %s", lib, dlerror());
      free(root);
      free(dir);
      free(lib);
      pthread_mutex_unlock(&models_backends_lock);
      return NULL;
    }
    b = calloc(1, sizeof(*b));
    pthread_mutex_init(&b->lock, NULL);
    b->name = strdup(name);
    b->dir = dir;
    b->lib_path = lib;
    b->dl = dl;
    *(void**)&b->initialize = dlsym(dl, "TRITONBACKEND_Initialize");
    *(void**)&b->finalize = dlsym(dl, "TRITONBACKEND_Finalize");
    *(void**)&b->model_initialize = dlsym(dl, "TRITONBACKEND_ModelInitialize");
    *(void**)&b->model_finalize = dlsym(dl, "TRITONBACKEND_ModelFinalize");
    *(void**)&b->instance_initialize = dlsym(dl, "TRITONBACKEND_ModelInstanceInitialize");
    *(void**)&b->instance_finalize = dlsym(dl, "TRITONBACKEND_ModelInstanceFinalize");
    *(void**)&b->execute = dlsym(dl, "TRITONBACKEND_ModelInstanceExecute");
    b->config = models_backend_config(name, root);
    free(root);
    registry_add(b, HK_BACKEND);
    if (last != NULL) {
      last->next = b;
    } else {
      models_backends = b;
    }
    HLOG_INFO("loaded backend '%s' from %s", name, lib);
  }
  pthread_mutex_unlock(&models_backends_lock);

  pthread_mutex_lock(&b->lock);
  if (b->execute == NULL && b->init_error == NULL) {
    b->init_error = host_printf("unable to find required entrypoint "
                                "'TRITONBACKEND_ModelInstanceExecute' in backend library: %s",
                                b->lib_path);
  }
  if (b->life == LIFE_CREATED && b->init_error == NULL) {
    b->life = LIFE_INITIALIZING;
    char* msg = b->initialize != NULL
                    ? host_error_consume(b->initialize(b), "TRITONBACKEND_Initialize")
                    : NULL;
    if (msg != NULL) {
      b->init_error = msg;
      b->life = LIFE_FINALIZED; /* Triton never calls Finalize after a failed Initialize */
    } else {
      b->life = LIFE_READY;
    }
  }
  bool failed = b->init_error != NULL;
  if (failed) {
    *err = strdup(b->init_error);
  }
  pthread_mutex_unlock(&b->lock);
  return failed ? NULL : b;
}

void
models_finalize_backends(void)
{
  for (TRITONBACKEND_Backend* b = models_backends; b != NULL; b = b->next) {
    if (b->life != LIFE_READY) {
      continue;
    }
    b->life = LIFE_FINALIZING;
    char* msg =
        b->finalize != NULL ? host_error_consume(b->finalize(b), "TRITONBACKEND_Finalize") : NULL;
    if (msg != NULL) {
      HLOG_ERROR("failed finalizing backend '%s': %s", b->name, msg);
      free(msg);
    }
    b->life = LIFE_FINALIZED;
  }
}

/* ---------------------------------------------------------------- versions */

static bool
models_is_version_dir(const char* name)
{
  if (name[0] == '\0' || name[0] == '0') {
    return false; /* Triton ignores names starting with "0" */
  }
  for (const char* p = name; *p; ++p) {
    if (*p < '0' || *p > '9') {
      return false;
    }
  }
  return strlen(name) < 20;
}

static uint64_t
models_latest_version(const char* model_dir)
{
  DIR* d = opendir(model_dir);
  if (d == NULL) {
    return 0;
  }
  uint64_t best = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (!models_is_version_dir(e->d_name)) {
      continue;
    }
    char* path = host_printf("%s/%s", model_dir, e->d_name);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
      uint64_t v = strtoull(e->d_name, NULL, 10);
      best = v > best ? v : best;
    }
    free(path);
  }
  closedir(d);
  return best;
}

/* ---------------------------------------------------------------- instances */

static void
models_finalize_instances(TRITONBACKEND_Model* m, int created, bool reverse)
{
  for (int k = 0; k < created; ++k) {
    TRITONBACKEND_ModelInstance* inst = m->instances[reverse ? created - 1 - k : k];
    if (inst->life != LIFE_READY) {
      continue;
    }
    inst->life = LIFE_FINALIZING;
    char* msg = m->backend->instance_finalize != NULL
                    ? host_error_consume(m->backend->instance_finalize(inst),
                                         "TRITONBACKEND_ModelInstanceFinalize")
                    : NULL;
    if (msg != NULL) {
      HLOG_ERROR("failed finalizing instance '%s': %s", inst->name, msg);
      free(msg);
    }
    inst->life = LIFE_FINALIZED;
  }
}

static void
models_finalize_model(TRITONBACKEND_Model* m)
{
  if (!m->model_initialized) {
    m->life = LIFE_FINALIZED;
    return;
  }
  m->life = LIFE_FINALIZING;
  char* msg = m->backend->model_finalize != NULL
                  ? host_error_consume(m->backend->model_finalize(m),
                                       "TRITONBACKEND_ModelFinalize")
                  : NULL;
  if (msg != NULL) {
    HLOG_ERROR("failed finalizing model '%s': %s", m->name, msg);
    free(msg);
  }
  m->life = LIFE_FINALIZED;
}

/* Creates the instances of every group: `count` per group for CPU/MODEL, `count` per listed
 * GPU for KIND_GPU, named <group>_<k>; each initialized in turn on this thread. */
static char*
models_create_instances(TRITONBACKEND_Model* m)
{
  const host_model_config* cfg = &m->cfg;
  int total = 0;
  for (int g = 0; g < cfg->group_count; ++g) {
    const host_group_config* gc = &cfg->groups[g];
    total += gc->count * (gc->kind == TRITONSERVER_INSTANCEGROUPKIND_GPU ? gc->gpu_count : 1);
  }
  m->instances = calloc((size_t)total + 1, sizeof(TRITONBACKEND_ModelInstance*));
  for (int g = 0; g < cfg->group_count; ++g) {
    const host_group_config* gc = &cfg->groups[g];
    bool gpu = gc->kind == TRITONSERVER_INSTANCEGROUPKIND_GPU;
    for (int c = 0; c < gc->count; ++c) {
      for (int d = 0; d < (gpu ? gc->gpu_count : 1); ++d) {
        TRITONBACKEND_ModelInstance* inst = calloc(1, sizeof(*inst));
        inst->name = host_printf("%s_%d", gc->name, c);
        inst->kind = gc->kind;
        inst->device_id = gpu ? gc->gpus[d] : 0;
        inst->model = m;
        registry_add(inst, HK_INSTANCE);
        m->instances[m->instance_count++] = inst;
        inst->life = LIFE_INITIALIZING;
        char* msg = m->backend->instance_initialize != NULL
                        ? host_error_consume(m->backend->instance_initialize(inst),
                                             "TRITONBACKEND_ModelInstanceInitialize")
                        : NULL;
        if (msg != NULL) {
          inst->life = LIFE_FINALIZED; /* no Finalize for an instance that failed */
          models_finalize_instances(m, m->instance_count - 1, true);
          return msg;
        }
        inst->life = LIFE_READY;
        HLOG_INFO("model '%s': instance '%s' (%s, device %d) initialized", m->name, inst->name,
                  gpu ? "GPU" : (gc->kind == TRITONSERVER_INSTANCEGROUPKIND_MODEL ? "MODEL"
                                                                                   : "CPU"),
                  inst->device_id);
      }
    }
  }
  return NULL;
}

/* ---------------------------------------------------------------- load */

typedef struct models_load_job {
  const char* repo;
  const char* name;
  TRITONBACKEND_Model* model;
} models_load_job;

static char*
models_prepare_config(TRITONBACKEND_Model* m, const char* model_dir)
{
  char* path = host_printf("%s/config.pbtxt", model_dir);
  char* text = models_read_file(path);
  if (text == NULL) {
    char* e = host_printf("Invalid argument: failed to read model configuration %s: %s", path,
                          strerror(errno));
    free(path);
    return e;
  }
  char* perr = NULL;
  cJSON* sparse = model_config_parse_text(text, &perr);
  free(text);
  if (sparse == NULL) {
    HLOG_ERROR("Error parsing text-format inference.ModelConfig: %s", perr);
    char* e = host_printf("Internal: failed to read text proto from %s: %s", path, perr);
    free(perr);
    free(path);
    return e;
  }
  free(path);
  char* err = model_config_normalize(sparse, m->name, g_host_options.gpus);
  if (err == NULL) {
    m->config_json = model_config_emit(sparse, &err);
  }
  if (err == NULL) {
    err = model_config_extract(sparse, &m->cfg);
  }
  m->sparse_config = sparse;
  return err;
}

static void*
models_load_main(void* arg)
{
  models_load_job* job = arg;
  TRITONBACKEND_Model* m = job->model;
  char* repo = models_abs_dir(job->repo);
  m->repo_path = host_printf("%s/%s", repo, job->name);
  free(repo);
  m->version = models_latest_version(m->repo_path);
  if (m->version == 0) {
    m->load_error = host_printf("Poll failed for model directory '%s': at least one version "
                                "must be available under the version policy of model '%s'",
                                job->name, job->name);
    return NULL;
  }
  m->load_error = models_prepare_config(m, m->repo_path);
  if (m->load_error != NULL) {
    return NULL;
  }
  m->backend = models_get_backend(m->cfg.backend, &m->load_error);
  if (m->backend == NULL) {
    return NULL;
  }
  m->load_thread = pthread_self();
  m->life = LIFE_INITIALIZING;
  m->in_model_initialize = true;
  char* msg = m->backend->model_initialize != NULL
                  ? host_error_consume(m->backend->model_initialize(m),
                                       "TRITONBACKEND_ModelInitialize")
                  : NULL;
  m->in_model_initialize = false;
  if (msg != NULL) {
    m->life = LIFE_FINALIZED;
    m->load_error = msg;
    return NULL;
  }
  m->model_initialized = true;
  HLOG_VERBOSE("model '%s' configuration: %s", m->name, m->config_json);
  msg = models_create_instances(m);
  if (msg != NULL) {
    models_finalize_model(m);
    m->load_error = msg;
    return NULL;
  }
  m->life = LIFE_READY;
  if (scheduler_start(m) != 0) {
    m->load_error = strdup("failed to start instance threads");
    return NULL;
  }
  HLOG_INFO("successfully loaded '%s' version %llu", m->name, (unsigned long long)m->version);
  return NULL;
}

TRITONBACKEND_Model*
models_load(const char* repo, const char* name)
{
  TRITONBACKEND_Model* m = calloc(1, sizeof(*m));
  m->name = strdup(name);
  pthread_mutex_init(&m->lock, NULL);
  pthread_cond_init(&m->outstanding_cv, NULL);
  scheduler_init(m);
  registry_add(m, HK_MODEL);
  models_load_job job = {.repo = repo, .name = name, .model = m};
  pthread_t t;
  if (pthread_create(&t, NULL, models_load_main, &job) != 0) {
    m->load_error = strdup("failed to start the model-load thread");
    return m;
  }
  pthread_join(t, NULL);
  if (m->load_error != NULL) {
    HLOG_ERROR("failed to load '%s' version %llu: %s", name, (unsigned long long)m->version,
               m->load_error);
  }
  return m;
}

/* ---------------------------------------------------------------- unload */

typedef struct models_leak_ctx {
  TRITONBACKEND_Model* model;
  size_t count;
  char sample[256];
} models_leak_ctx;

static void
models_find_unreleased(const void* handle, void* vctx)
{
  models_leak_ctx* ctx = vctx;
  TRITONBACKEND_Request* r = (TRITONBACKEND_Request*)handle;
  if (r->model != ctx->model) {
    return;
  }
  pthread_mutex_lock(&r->lock);
  bool held = r->state == REQ_EXECUTING || r->state == REQ_BACKEND;
  pthread_mutex_unlock(&r->lock);
  if (held && ctx->count++ < 3) {
    size_t used = strlen(ctx->sample);
    snprintf(ctx->sample + used, sizeof(ctx->sample) - used, "%s'%s'", used ? ", " : "",
             host_request_label(r));
  }
}

static void
models_find_open_responses(const void* handle, void* vctx)
{
  models_leak_ctx* ctx = vctx;
  TRITONBACKEND_Response* resp = (TRITONBACKEND_Response*)handle;
  if (resp->request->model != ctx->model) {
    return;
  }
  pthread_mutex_lock(&resp->request->lock);
  bool open = resp->state == RESP_OPEN;
  pthread_mutex_unlock(&resp->request->lock);
  if (open && ctx->count++ < 3) {
    size_t used = strlen(ctx->sample);
    snprintf(ctx->sample + used, sizeof(ctx->sample) - used, "%s'%s'", used ? ", " : "",
             host_request_label(resp->request));
  }
}

static void*
models_unload_main(void* arg)
{
  TRITONBACKEND_Model* m = arg;
  scheduler_close(m);
  /* Triton waits for in-flight requests before unloading; bounded here by the response
   * timeout (at most 10 s). */
  double wait_s = g_host_options.response_timeout_s < 10.0 ? g_host_options.response_timeout_s
                                                            : 10.0;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += (time_t)wait_s;
  deadline.tv_nsec += (long)((wait_s - (double)(time_t)wait_s) * 1e9);
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&m->lock);
  while (m->outstanding > 0) {
    if (pthread_cond_timedwait(&m->outstanding_cv, &m->lock, &deadline) == ETIMEDOUT) {
      break;
    }
  }
  pthread_mutex_unlock(&m->lock);
  scheduler_stop(m);

  models_leak_ctx ctx = {.model = m};
  registry_each(HK_REQUEST, models_find_unreleased, &ctx);
  if (ctx.count > 0) {
    contracts_breach("model '%s' unloading with %zu request(s) handed to Execute and never "
                     "released, e.g. %s", m->name, ctx.count, ctx.sample);
  }
  memset(&ctx, 0, sizeof(ctx));
  ctx.model = m;
  registry_each(HK_RESPONSE, models_find_open_responses, &ctx);
  if (ctx.count > 0) {
    contracts_breach("model '%s': %zu response(s) created but neither sent nor deleted, e.g. "
                     "for request(s) %s", m->name, ctx.count, ctx.sample);
  }
  pthread_mutex_lock(&m->lock);
  unsigned long long owned = m->stats.backend_owned, answered = m->stats.backend_responses,
                     released = m->stats.backend_releases;
  pthread_mutex_unlock(&m->lock);
  HLOG_INFO("model '%s': Execute left %llu request(s) with the backend, which answered %llu and "
            "released %llu", m->name, owned, answered, released);
  models_finalize_instances(m, m->instance_count, false);
  models_finalize_model(m);
  HLOG_INFO("successfully unloaded '%s' version %llu", m->name, (unsigned long long)m->version);
  return NULL;
}

void
models_unload(TRITONBACKEND_Model* m)
{
  if (m->life != LIFE_READY) {
    return;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, models_unload_main, m) == 0) {
    pthread_join(t, NULL);
  } else {
    models_unload_main(m);
  }
}

void
models_free(TRITONBACKEND_Model* m)
{
  if (m == NULL) {
    return;
  }
  /* Instances and the model stay registered as finalized so late calls are reported; the
   * process exits right after. */
  cJSON_Delete(m->sparse_config);
  m->sparse_config = NULL;
}
