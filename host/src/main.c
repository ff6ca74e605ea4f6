/*
 * The triton-host command line: `infer` sends request files, each to the model named before
 * it, and prints each file's last response; `replay` keeps one request (or one chain of
 * requests) in flight per (model, request) pair and prints latencies. replay's responses are
 * checked like infer's, but their data is never formatted as JSON, which would add to the
 * latency. Both load the models, serve, unload, finalize the backends and then check
 * the contracts that can only be checked at exit.
 *
 * stdout carries only the result lines: the process's stdout is moved to stderr at start, so
 * whatever a backend prints cannot mix with them.
 *
 * Exit status: 0 all requests answered without error, 1 some request was rejected (front end,
 * load failure or backend error), 2 a contract breach, 64 a usage error.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

#define MAIN_USAGE_EXIT 64

typedef struct main_args {
  const char* command;
  const char* repo;
  const char** models; /* per --model and --then-model, in order */
  int model_count;
  const char** requests; /* per --request, in order */
  const char** first_requests; /* per --request: its --first-request, or NULL */
  const char* vary_input;      /* --vary-input NAME, or NULL */
  int* request_model;    /* index into models of the --model preceding each --request */
  int request_count;
  const char** then_requests; /* per --then-request, in order (replay chains) */
  int* then_model;            /* index into models of its --then-model */
  int* then_of;               /* index into requests of the --request it follows */
  int then_count;
  long repeat;
  long concurrency;
  long warmup;
  const char* metrics_path;
  const char* stats_path;
  long metrics_interval_ms; /* --metrics-interval: rewrite --metrics FILE this often */
  bool interleave;          /* infer --interleave: round-robin over the files */
  bool verify_repeats;      /* infer --verify-repeats: every repetition must answer the same */
  long unload_after;        /* infer --unload-after N: unload every model once N are answered */
} main_args;

static FILE* main_out; /* the real stdout */

static void
main_usage(void)
{
  fprintf(stderr,
          "usage:\n"
          "  triton-host infer --model-repository DIR --model NAME --request FILE.json\n"
          "                    [--request FILE2.json ...] [--model NAME2 --request F.json ...]\n"
          "                    [--repeat N] [--concurrency C] [options]\n"
          "    infer: each --request goes to the --model before it; the models share one process\n"
          "  triton-host replay --model-repository DIR --model A --request a.json\n"
          "                     [--model B --request b.json ...] [--repeat N] [--warmup W] "
          "[options]\n"
          "    replay: --first-request F.json  after a --request: send F once before its warm-up\n"
          "            --then-model M --then-request F.json   after a --request (repeatable):\n"
          "                                    once answered, send F to M, and so on; one latency\n"
          "                                    sample is the whole chain\n"
          "            --vary-input NAME       write each request's sequence number into the\n"
          "                                    first 8 bytes of input NAME (unique inputs)\n"
          "options:\n"
          "  --backend-directory DIR        where <name>/libtriton_<name>.so live\n"
          "  --backend-config [backend,]key=value   (repeatable)\n"
          "  --disable-auto-complete-config\n"
          "  --gpus N                       GPUs the host pretends to have (default 0)\n"
          "  --no-frontend-checks           pass requests Triton's front end would reject\n"
          "  --unload-after N               infer: unload the models once N requests are\n"
          "                                 answered, while the clients go on sending (queued\n"
          "                                 and executing ones finish; later ones are refused)\n"
          "  --input-chunks K               split each input into K buffers\n"
          "  --log-verbose                  enable VERBOSE log messages\n"
          "  --metrics FILE                 write custom metrics (Prometheus text format)\n"
          "  --stats FILE                   write execution statistics (JSON)\n"
          "  --metrics-interval MS          also rewrite the --metrics file every MS while running\n"
          "  infer --interleave             send file1, file2, ... then again (default: each\n"
          "                                 file's repetitions in a row)\n"
          "  infer --verify-repeats         count repetitions whose answer differs from the file's\n"
          "                                 first answer; print the tally to stderr and --stats\n"
          "  --response-timeout S           seconds to wait for a response (default 120)\n");
}

static bool
main_long(const char* s, long min, long* out)
{
  char* end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min) {
    return false;
  }
  *out = v;
  return true;
}

static int
main_parse(int argc, char** argv, main_args* a)
{
  if (argc < 2) {
    return -1;
  }
  a->command = argv[1];
  if (strcmp(a->command, "infer") != 0 && strcmp(a->command, "replay") != 0) {
    fprintf(stderr, "triton-host: unknown command '%s'\n", a->command);
    return -1;
  }
  a->repeat = 1;
  a->concurrency = 1;
  a->models = calloc((size_t)argc, sizeof(char*));
  a->requests = calloc((size_t)argc, sizeof(char*));
  a->request_model = calloc((size_t)argc, sizeof(int));
  a->first_requests = calloc((size_t)argc, sizeof(char*));
  a->then_requests = calloc((size_t)argc, sizeof(char*));
  a->then_model = calloc((size_t)argc, sizeof(int));
  a->then_of = calloc((size_t)argc, sizeof(int));
  g_host_options.backend_config = calloc((size_t)argc, sizeof(char*));
  int head_model = -1; /* the latest --model */
  int then_pending = -1; /* a --then-model waiting for its --then-request */
  for (int i = 2; i < argc; ++i) {
    char* arg = argv[i];
    char* value = NULL;
    char* eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    char name[64];
    if (eq != NULL && (size_t)(eq - arg) < sizeof(name)) {
      memcpy(name, arg, (size_t)(eq - arg));
      name[eq - arg] = '\0';
      value = eq + 1;
    } else {
      snprintf(name, sizeof(name), "%s", arg);
    }
#define MAIN_FLAG(n) (strcmp(name, n) == 0)
#define MAIN_VALUE()                                                    \
  (value != NULL ? value : (i + 1 < argc ? argv[++i] : NULL))
    if (then_pending >= 0 && !MAIN_FLAG("--then-request")) {
      fprintf(stderr, "triton-host: --then-model must be followed by its --then-request\n");
      return -1;
    }
    if (MAIN_FLAG("--disable-auto-complete-config")) {
      g_host_options.auto_complete = false;
      continue;
    }
    if (MAIN_FLAG("--no-frontend-checks")) {
      g_host_options.frontend_checks = false;
      continue;
    }
    if (MAIN_FLAG("--log-verbose")) {
      g_host_options.log_verbose = true;
      continue;
    }
    if (MAIN_FLAG("--interleave")) {
      a->interleave = true;
      continue;
    }
    if (MAIN_FLAG("--verify-repeats")) {
      a->verify_repeats = true;
      continue;
    }
    const char* v = MAIN_VALUE();
    if (v == NULL) {
      fprintf(stderr, "triton-host: %s needs a value\n", name);
      return -1;
    }
    long n = 0;
    if (MAIN_FLAG("--model-repository")) {
      a->repo = v;
    } else if (MAIN_FLAG("--model")) {
      head_model = a->model_count;
      a->models[a->model_count++] = v;
    } else if (MAIN_FLAG("--request")) {
      a->request_model[a->request_count] = head_model;
      a->requests[a->request_count++] = v;
    } else if (MAIN_FLAG("--then-model") && a->request_count > 0) {
      then_pending = a->model_count;
      a->models[a->model_count++] = v;
    } else if (MAIN_FLAG("--then-request") && then_pending >= 0) {
      a->then_model[a->then_count] = then_pending;
      a->then_of[a->then_count] = a->request_count - 1;
      a->then_requests[a->then_count++] = v;
      then_pending = -1;
    } else if (MAIN_FLAG("--first-request") && a->request_count > 0) {
      a->first_requests[a->request_count - 1] = v;
    } else if (MAIN_FLAG("--vary-input")) {
      a->vary_input = v;
    } else if (MAIN_FLAG("--repeat") && main_long(v, 1, &n)) {
      a->repeat = n;
    } else if (MAIN_FLAG("--concurrency") && main_long(v, 1, &n)) {
      a->concurrency = n;
    } else if (MAIN_FLAG("--unload-after") && main_long(v, 1, &n)) {
      a->unload_after = n;
    } else if (MAIN_FLAG("--warmup") && main_long(v, 0, &n)) {
      a->warmup = n;
    } else if (MAIN_FLAG("--backend-directory")) {
      g_host_options.backend_dir = v;
    } else if (MAIN_FLAG("--backend-config")) {
      if (strchr(v, '=') == NULL) {
        fprintf(stderr, "triton-host: --backend-config expects [backend,]key=value\n");
        return -1;
      }
      g_host_options.backend_config[g_host_options.backend_config_count++] = (char*)v;
    } else if (MAIN_FLAG("--gpus") && main_long(v, 0, &n)) {
      g_host_options.gpus = (int)n;
    } else if (MAIN_FLAG("--input-chunks") && main_long(v, 1, &n)) {
      g_host_options.input_chunks = (int)n;
    } else if (MAIN_FLAG("--metrics")) {
      a->metrics_path = v;
    } else if (MAIN_FLAG("--stats")) {
      a->stats_path = v;
    } else if (MAIN_FLAG("--metrics-interval") && main_long(v, 1, &n)) {
      a->metrics_interval_ms = n;
    } else if (MAIN_FLAG("--response-timeout")) {
      char* end = NULL;
      double t = strtod(v, &end);
      if (end == v || *end != '\0' || t <= 0) {
        fprintf(stderr, "triton-host: invalid --response-timeout '%s'\n", v);
        return -1;
      }
      g_host_options.response_timeout_s = t;
    } else {
      fprintf(stderr, "triton-host: unknown or invalid option '%s' %s\n", name, v);
      return -1;
    }
#undef MAIN_FLAG
#undef MAIN_VALUE
  }
  if (then_pending >= 0) {
    fprintf(stderr, "triton-host: --then-model must be followed by its --then-request\n");
    return -1;
  }
  if (strcmp(a->command, "infer") == 0 && a->then_count > 0) {
    fprintf(stderr, "triton-host: --then-model and --then-request are for replay only\n");
    return -1;
  }
  if (a->repo == NULL || a->model_count == 0 || a->request_count == 0) {
    fprintf(stderr, "triton-host: --model-repository, --model and --request are required\n");
    return -1;
  }
  if (a->request_model[0] < 0) {
    fprintf(stderr, "triton-host: %s needs a --model before each --request\n", a->command);
    return -1;
  }
  if (g_host_options.backend_dir == NULL) {
    g_host_options.backend_dir = "/opt/tritonserver/backends";
  }
  return 0;
}

/* ---------------------------------------------------------------- sending */

/* Sends one request and waits for its answer. Returns the JSON line (malloc'd) and whether it
 * is an error; a successful answer carries the outputs' data only when wants_data. */
static char*
main_send_varied(const host_request_template* t, TRITONBACKEND_Model* m, bool wants_data,
                 bool* is_error, const char* vary, uint64_t seq)
{
  host_call* call = call_new(wants_data);
  TRITONBACKEND_Request* r = requests_instantiate(t, call);
  for (uint32_t i = 0; vary != NULL && i < r->input_count; ++i) {
    TRITONBACKEND_Input* in = r->inputs[i];
    if (strcmp(in->name, vary) == 0) {
      for (uint32_t k = 0, b = 0; k < in->buffer_count && b < sizeof(seq); ++k) {
        for (uint64_t j = 0; j < in->buffer_sizes[k] && b < sizeof(seq); ++j, ++b) {
          ((unsigned char*)in->buffers[k])[j] = (unsigned char)(seq >> (8 * b));
        }
      }
    }
  }
  const char* id = r->id[0] ? r->id : "<id_unknown>";
  char* id_copy = strdup(id);
  scheduler_enqueue(m, r);
  char* out;
  if (!call_wait(call, g_host_options.response_timeout_s)) {
    contracts_breach("no response for request '%s' of model '%s' within %.0f s", id_copy,
                     m->name, g_host_options.response_timeout_s);
    out = requests_error_json("host: no response from the backend before the timeout");
    *is_error = true;
  } else {
    pthread_mutex_lock(&call->mu);
    out = strdup(call->result != NULL ? call->result : "{\"error\":\"host: empty response\"}");
    *is_error = call->is_error;
    pthread_mutex_unlock(&call->mu);
  }
  free(id_copy);
  call_unref(call);
  return out;
}

static char*
main_send(const host_request_template* t, TRITONBACKEND_Model* m, bool wants_data,
          bool* is_error)
{
  return main_send_varied(t, m, wants_data, is_error, NULL, 0);
}

/* ---------------------------------------------------------------- metrics sampler */

/* With --metrics-interval, a thread rewrites the --metrics file while clients run, so a harness
 * can watch the backend's gauges (cache bytes, native memory) over time. */
static pthread_t main_sampler;
static atomic_bool main_sampler_running;
static const main_args* main_sampler_args;

static void*
main_sampler_loop(void* arg)
{
  (void)arg;
  const main_args* a = main_sampler_args;
  while (atomic_load(&main_sampler_running)) {
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", a->metrics_path);
    if (metrics_write_prometheus(tmp) == 0) {
      rename(tmp, a->metrics_path);
    }
    struct timespec ts = {a->metrics_interval_ms / 1000, (a->metrics_interval_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static void
main_sampler_start(const main_args* a)
{
  if (a->metrics_path == NULL || a->metrics_interval_ms <= 0) {
    return;
  }
  main_sampler_args = a;
  atomic_store(&main_sampler_running, true);
  pthread_create(&main_sampler, NULL, main_sampler_loop, NULL);
}

static void
main_sampler_stop(void)
{
  if (atomic_exchange(&main_sampler_running, false)) {
    pthread_join(main_sampler, NULL);
  }
}

/* ---------------------------------------------------------------- infer */

typedef struct infer_ctx {
  TRITONBACKEND_Model** models; /* per file: the model it goes to */
  host_request_template** templates;
  char** rejected; /* per file: the front end's or the model load's error line, or NULL */
  int files;
  long repeat;
  atomic_long next;
  char** last; /* per file: the answer of its last repetition */
  atomic_int errors;
  bool interleave;
  bool verify;
  char** first; /* per file, with verify: the first answer, to compare the others with */
  pthread_mutex_t first_mu;
  atomic_long answered, mismatched;
} infer_ctx;

static void*
main_infer_client(void* arg)
{
  infer_ctx* c = arg;
  long total = (long)c->files * c->repeat;
  for (;;) {
    long item = atomic_fetch_add(&c->next, 1);
    if (item >= total) {
      break;
    }
    int file = c->interleave ? (int)(item % c->files) : (int)(item / c->repeat);
    bool last = c->interleave ? item / c->files == c->repeat - 1 : item % c->repeat == c->repeat - 1;
    char* out;
    bool is_error;
    if (c->templates[file] == NULL) {
      out = strdup(c->rejected[file]);
      is_error = true;
    } else {
      out = main_send(c->templates[file], c->models[file], true, &is_error);
    }
    if (is_error) {
      atomic_fetch_add(&c->errors, 1);
    }
    atomic_fetch_add(&c->answered, 1);
    if (c->verify) {
      pthread_mutex_lock(&c->first_mu);
      if (c->first[file] == NULL) {
        c->first[file] = strdup(out);
      } else if (strcmp(c->first[file], out) != 0) {
        atomic_fetch_add(&c->mismatched, 1);
      }
      pthread_mutex_unlock(&c->first_mu);
    }
    if (last) {
      c->last[file] = out;
    } else {
      free(out);
    }
  }
  return NULL;
}

static void main_write_stats(const char* path, TRITONBACKEND_Model** models, int n);

static int
main_finish(TRITONBACKEND_Model** models, int n, const main_args* a, bool rejected)
{
  if (a->metrics_path != NULL && metrics_write_prometheus(a->metrics_path) != 0) {
    fprintf(stderr, "triton-host: cannot write metrics to %s\n", a->metrics_path);
  }
  for (int i = 0; i < n; ++i) {
    models_unload(models[i]);
  }
  if (a->stats_path != NULL) {
    main_write_stats(a->stats_path, models, n);
  }
  models_finalize_backends();
  server_api_check_leaks();
  for (int i = 0; i < n; ++i) {
    models_free(models[i]);
  }
  requests_free_all_retired();
  fflush(main_out);
  if (contracts_breach_count() > 0) {
    fprintf(stderr, "triton-host: %d contract breach(es)\n", contracts_breach_count());
    return 2;
  }
  return rejected ? 1 : 0;
}

static char*
main_load_error_json(TRITONBACKEND_Model* m)
{
  char* msg = host_printf("failed to load model '%s': %s", m->name, m->load_error);
  char* json = requests_error_json(msg);
  free(msg);
  return json;
}

/* Loads each distinct model named in a->models once, in order of first mention, into
 * models[0..n-1], and sets model_of[i] to the index in models of a->models[i]. Returns n. A
 * model that failed to load is kept, with its load_error set. */
static int
main_load_models(const main_args* a, TRITONBACKEND_Model** models, int* model_of)
{
  int loaded = 0;
  for (int i = 0; i < a->model_count; ++i) {
    int found = -1;
    for (int j = 0; j < loaded && found < 0; ++j) {
      found = strcmp(models[j]->name, a->models[i]) == 0 ? j : -1;
    }
    if (found < 0) {
      models[loaded] = models_load(a->repo, a->models[i]);
      found = loaded++;
    }
    model_of[i] = found;
  }
  return loaded;
}

static int
main_infer(const main_args* a)
{
  TRITONBACKEND_Model** models = calloc((size_t)a->model_count, sizeof(*models));
  int* model_of = calloc((size_t)a->model_count, sizeof(int));
  int loaded = main_load_models(a, models, model_of);
  infer_ctx c = {.files = a->request_count, .repeat = a->repeat,
                 .interleave = a->interleave, .verify = a->verify_repeats};
  pthread_mutex_init(&c.first_mu, NULL);
  c.models = calloc((size_t)c.files, sizeof(*c.models));
  c.first = calloc((size_t)c.files, sizeof(char*));
  c.templates = calloc((size_t)c.files, sizeof(*c.templates));
  c.rejected = calloc((size_t)c.files, sizeof(char*));
  c.last = calloc((size_t)c.files, sizeof(char*));
  for (int i = 0; i < c.files; ++i) {
    TRITONBACKEND_Model* m = models[model_of[a->request_model[i]]];
    c.models[i] = m;
    /* A file named again for the same model reuses its parsed template (a stress list names
     * few files many times). */
    int same = -1;
    for (int j = 0; j < i && same < 0; ++j) {
      same = c.models[j] == m && strcmp(a->requests[j], a->requests[i]) == 0 ? j : -1;
    }
    if (same >= 0) {
      c.templates[i] = c.templates[same];
      c.rejected[i] = c.rejected[same] != NULL ? strdup(c.rejected[same]) : NULL;
    } else if (m->load_error != NULL) {
      c.rejected[i] = main_load_error_json(m);
    } else {
      c.templates[i] = requests_load(a->requests[i], m, &c.rejected[i]);
    }
  }
  long threads = a->concurrency;
  pthread_t* tids = calloc((size_t)threads, sizeof(pthread_t));
  for (long i = 0; i < threads; ++i) {
    pthread_create(&tids[i], NULL, main_infer_client, &c);
  }
  main_sampler_start(a);
  if (a->unload_after > 0) {
    /* Unload while the clients still send, as Triton does on an explicit unload: bounded wait
     * for the first N answers (every request is answered or times out). */
    long total = (long)c.files * c.repeat;
    long target = a->unload_after < total ? a->unload_after : total;
    uint64_t deadline = host_now_ns() + (uint64_t)(g_host_options.response_timeout_s * 1e9);
    while (atomic_load(&c.answered) < target && host_now_ns() < deadline) {
      struct timespec pause = {0, 1000000};
      nanosleep(&pause, NULL);
    }
    fprintf(stderr, "triton-host: infer: unloading the models after %ld answers\n",
            atomic_load(&c.answered));
    for (int i = 0; i < loaded; ++i) {
      models_unload(models[i]);
    }
  }
  for (long i = 0; i < threads; ++i) {
    pthread_join(tids[i], NULL);
  }
  main_sampler_stop();
  fprintf(stderr, "triton-host: infer: sent %ld, answered %ld, errors %d, repeats differing from "
          "the first answer %ld%s\n", (long)c.files * c.repeat, atomic_load(&c.answered),
          atomic_load(&c.errors), atomic_load(&c.mismatched), c.verify ? "" : " (not checked)");
  for (int i = 0; i < c.files; ++i) {
    free(c.first[i]);
    fprintf(main_out, "%s\n", c.last[i] != NULL ? c.last[i] : "{\"error\":\"host: no answer\"}");
    free(c.last[i]);
    free(c.rejected[i]);
    bool shared = false;
    for (int j = i + 1; j < c.files && !shared; ++j) {
      shared = c.templates[j] == c.templates[i];
    }
    if (!shared) {
      requests_template_free(c.templates[i]);
    }
  }
  fflush(main_out);
  free(tids);
  free(c.models);
  free(c.templates);
  free(c.rejected);
  free(c.last);
  free(c.first);
  pthread_mutex_destroy(&c.first_mu);
  int rc = main_finish(models, loaded, a, atomic_load(&c.errors) > 0);
  free(models);
  free(model_of);
  return rc;
}

/* ---------------------------------------------------------------- replay */

typedef struct replay_pair {
  TRITONBACKEND_Model* model;
  host_request_template* t;
  host_request_template* first; /* --first-request, sent once before the warm-up */
  int chain_len;                /* --then-request links after the head */
  TRITONBACKEND_Model** chain_models;
  host_request_template** chain;
  const char* vary;
  char* rejected;
  const char* rejected_file; /* the request file rejected, or NULL */
  long warmup, repeat;
  uint64_t* latencies_ns;
  long errors;
  pthread_barrier_t* barrier;
  uint64_t start_ns, end_ns;
} replay_pair;

/* Sends one pass of a pair: the head request, then each link of its chain once the answer to
 * the one before has come, all with the same --vary-input sequence number. Stops at the first
 * error (a rejected request counts as one). Returns whether every request was answered
 * without error. */
static bool
main_replay_pass(const replay_pair* p, uint64_t seq)
{
  bool ok = true;
  for (int k = -1; k < p->chain_len && ok; ++k) {
    const host_request_template* t = k < 0 ? p->t : p->chain[k];
    bool is_error = true;
    if (t != NULL) {
      free(main_send_varied(t, k < 0 ? p->model : p->chain_models[k], false, &is_error,
                            p->vary, seq));
    }
    ok = !is_error;
  }
  return ok;
}

static void*
main_replay_client(void* arg)
{
  replay_pair* p = arg;
  uint64_t seq = 0;
  if (p->first != NULL && p->t != NULL) {
    bool is_error = true;
    char* out = main_send(p->first, p->model, false, &is_error);
    if (is_error) {
      fprintf(stderr, "triton-host: first request of model '%s' failed: %s\n", p->model->name, out);
      p->errors += p->repeat;
    }
    free(out);
  }
  for (int phase = 0; phase < 2; ++phase) {
    long count = phase == 0 ? p->warmup : p->repeat;
    if (phase == 1) {
      pthread_barrier_wait(p->barrier); /* warm-up done everywhere; main takes its snapshot */
      pthread_barrier_wait(p->barrier);
      p->start_ns = host_now_ns();
    }
    for (long i = 0; i < count; ++i) {
      uint64_t t0 = host_now_ns();
      bool ok = main_replay_pass(p, ++seq);
      uint64_t t1 = host_now_ns();
      if (phase == 1) {
        p->latencies_ns[i] = t1 - t0;
        p->errors += ok ? 0 : 1;
      }
    }
    if (phase == 1) {
      p->end_ns = host_now_ns();
    }
  }
  return NULL;
}

static int
main_u64_cmp(const void* a, const void* b)
{
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static int
main_replay(const main_args* a)
{
  TRITONBACKEND_Model** models = calloc((size_t)a->model_count, sizeof(*models));
  int* model_of = calloc((size_t)a->model_count, sizeof(int));
  int loaded = main_load_models(a, models, model_of);
  bool rejected = false;
  int n = a->request_count;
  replay_pair* pairs = calloc((size_t)n, sizeof(*pairs));
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
  for (int i = 0; i < n; ++i) {
    replay_pair* p = &pairs[i];
    p->model = models[model_of[a->request_model[i]]];
    p->warmup = a->warmup;
    p->repeat = a->repeat;
    p->barrier = &barrier;
    p->latencies_ns = calloc((size_t)a->repeat, sizeof(uint64_t));
    p->rejected_file = a->requests[i];
    if (p->model->load_error != NULL) {
      p->rejected = main_load_error_json(p->model);
    } else {
      p->t = requests_load(a->requests[i], p->model, &p->rejected);
      if (p->rejected == NULL && a->first_requests[i] != NULL) {
        p->rejected_file = a->first_requests[i];
        p->first = requests_load(a->first_requests[i], p->model, &p->rejected);
      }
      p->vary = a->vary_input;
    }
    p->chain_models = calloc((size_t)a->then_count, sizeof(*p->chain_models));
    p->chain = calloc((size_t)a->then_count, sizeof(*p->chain));
    for (int k = 0; k < a->then_count; ++k) {
      if (a->then_of[k] != i) {
        continue;
      }
      TRITONBACKEND_Model* m = models[model_of[a->then_model[k]]];
      p->chain_models[p->chain_len] = m;
      if (p->rejected == NULL) {
        p->rejected_file = a->then_requests[k];
        if (m->load_error != NULL) {
          p->rejected = main_load_error_json(m);
        } else {
          p->chain[p->chain_len] = requests_load(a->then_requests[k], m, &p->rejected);
        }
      }
      p->chain_len++;
    }
  }
  pthread_t* tids = calloc((size_t)n, sizeof(pthread_t));
  uint64_t first_send = host_now_ns();
  for (int i = 0; i < n; ++i) {
    pthread_create(&tids[i], NULL, main_replay_client, &pairs[i]);
  }
  /* After the warm-up: --stats and --metrics as of then, to FILE.warmup, so the measured phase
   * can be told apart (statistics are reported just after a response; give them a moment). */
  pthread_barrier_wait(&barrier);
  usleep(20000);
  char* snap = NULL;
  if (a->stats_path != NULL && asprintf(&snap, "%s.warmup", a->stats_path) > 0) {
    main_write_stats(snap, models, loaded);
    free(snap);
  }
  if (a->metrics_path != NULL && asprintf(&snap, "%s.warmup", a->metrics_path) > 0) {
    metrics_write_prometheus(snap);
    free(snap);
  }
  pthread_barrier_wait(&barrier);
  for (int i = 0; i < n; ++i) {
    pthread_join(tids[i], NULL);
  }
  uint64_t start = UINT64_MAX, end = 0, total = 0;
  for (int i = 0; i < n; ++i) {
    replay_pair* p = &pairs[i];
    if (p->rejected != NULL) {
      fprintf(stderr, "triton-host: %s: %s\n", p->rejected_file, p->rejected);
      p->errors = p->repeat;
    }
    rejected = rejected || p->errors > 0;
    qsort(p->latencies_ns, (size_t)p->repeat, sizeof(uint64_t), main_u64_cmp);
    double sum = 0;
    for (long k = 0; k < p->repeat; ++k) {
      sum += (double)p->latencies_ns[k];
    }
    long i50 = (long)ceil(0.50 * (double)p->repeat) - 1;
    long i99 = (long)ceil(0.99 * (double)p->repeat) - 1;
    i50 = i50 < 0 ? 0 : i50;
    i99 = i99 < 0 ? 0 : i99;
    fprintf(main_out, "{\"model\":\"%s\",", p->model->name);
    if (p->chain_len > 0) {
      fprintf(main_out, "\"chain\":[\"%s\"", p->model->name);
      for (int k = 0; k < p->chain_len; ++k) {
        fprintf(main_out, ",\"%s\"", p->chain_models[k]->name);
      }
      fprintf(main_out, "],");
    }
    fprintf(main_out,
            "\"requests\":%ld,\"errors\":%ld,\"p50_us\":%.1f,"
            "\"p99_us\":%.1f,\"mean_us\":%.1f}\n",
            p->repeat, p->errors, (double)p->latencies_ns[i50] / 1e3,
            (double)p->latencies_ns[i99] / 1e3, sum / (double)p->repeat / 1e3);
    start = p->start_ns < start ? p->start_ns : start;
    end = p->end_ns > end ? p->end_ns : end;
    total += (uint64_t)p->repeat;
  }
  double wall = end > start ? (double)(end - start) / 1e9 : 0.0;
  /* The measured phase in CLOCK_REALTIME too, so profiler records can be cut to it. */
  struct timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  int64_t rt_offset = (int64_t)rt.tv_sec * 1000000000ll + rt.tv_nsec - (int64_t)host_now_ns();
  fprintf(main_out,
          "{\"total_requests\":%llu,\"wall_s\":%.6f,\"throughput_rps\":%.1f,"
          "\"first_send_unix_ns\":%lld,\"start_unix_ns\":%lld,\"end_unix_ns\":%lld}\n",
          (unsigned long long)total, wall, wall > 0 ? (double)total / wall : 0.0,
          (long long)((int64_t)first_send + rt_offset), (long long)((int64_t)start + rt_offset),
          (long long)((int64_t)end + rt_offset));
  fflush(main_out);
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < pairs[i].chain_len; ++k) {
      requests_template_free(pairs[i].chain[k]);
    }
    free(pairs[i].chain);
    free(pairs[i].chain_models);
    requests_template_free(pairs[i].t);
    requests_template_free(pairs[i].first);
    free(pairs[i].rejected);
    free(pairs[i].latencies_ns);
  }
  pthread_barrier_destroy(&barrier);
  free(pairs);
  free(tids);
  int rc = main_finish(models, loaded, a, rejected);
  free(models);
  free(model_of);
  return rc;
}

/* ---------------------------------------------------------------- stats file */

static cJSON*
main_histogram(const host_histogram* h)
{
  cJSON* o = cJSON_CreateObject();
  for (size_t i = 0; i < h->size; ++i) {
    if (h->counts[i] > 0) {
      char key[32];
      snprintf(key, sizeof(key), "%zu", i);
      cJSON_AddNumberToObject(o, key, (double)h->counts[i]);
    }
  }
  return o;
}

static void
main_write_stats(const char* path, TRITONBACKEND_Model** models, int n)
{
  cJSON* doc = cJSON_CreateObject();
  for (int i = 0; i < n; ++i) {
    TRITONBACKEND_Model* m = models[i];
    const host_model_stats* s = &m->stats;
    cJSON* o = cJSON_AddObjectToObject(doc, m->name);
    char version[32];
    snprintf(version, sizeof(version), "%llu", (unsigned long long)m->version);
    cJSON_AddStringToObject(o, "version", version);
    cJSON_AddBoolToObject(o, "loaded", m->load_error == NULL);
    if (m->load_error != NULL) {
      cJSON_AddStringToObject(o, "load_error", m->load_error);
    }
    cJSON_AddNumberToObject(o, "execute_count", (double)s->execute_count);
    cJSON_AddItemToObject(o, "execute_requests_histogram", main_histogram(&s->batch_requests));
    cJSON_AddItemToObject(o, "execute_batch_size_histogram", main_histogram(&s->batch_total));
    cJSON_AddNumberToObject(o, "host_error_responses", (double)s->host_error_responses);
    cJSON_AddNumberToObject(o, "backend_owned", (double)s->backend_owned);
    cJSON_AddNumberToObject(o, "backend_responses", (double)s->backend_responses);
    cJSON_AddNumberToObject(o, "backend_releases", (double)s->backend_releases);
    cJSON* insts = cJSON_AddArrayToObject(o, "instances");
    for (int k = 0; k < m->instance_count; ++k) {
      TRITONBACKEND_ModelInstance* inst = m->instances[k];
      cJSON* io = cJSON_CreateObject();
      cJSON_AddStringToObject(io, "name", inst->name);
      cJSON_AddStringToObject(io, "kind",
                              inst->kind == TRITONSERVER_INSTANCEGROUPKIND_GPU     ? "GPU"
                              : inst->kind == TRITONSERVER_INSTANCEGROUPKIND_MODEL ? "MODEL"
                                                                                   : "CPU");
      cJSON_AddNumberToObject(io, "device_id", inst->device_id);
      cJSON_AddNumberToObject(io, "execute_count", (double)inst->stats.execute_count);
      cJSON_AddNumberToObject(io, "requests", (double)inst->stats.requests);
      cJSON_AddNumberToObject(io, "thread_id", (double)inst->stats.thread_id);
      cJSON_AddItemToArray(insts, io);
    }
    cJSON* rep = cJSON_AddObjectToObject(o, "reported");
    cJSON_AddNumberToObject(rep, "success_count", (double)s->success_count);
    cJSON_AddNumberToObject(rep, "fail_count", (double)s->fail_count);
    cJSON_AddNumberToObject(rep, "compute_input_ns", (double)s->compute_input_ns);
    cJSON_AddNumberToObject(rep, "compute_infer_ns", (double)s->compute_infer_ns);
    cJSON_AddNumberToObject(rep, "compute_output_ns", (double)s->compute_output_ns);
    cJSON_AddNumberToObject(rep, "batch_count", (double)s->batch_stats_count);
    cJSON_AddItemToObject(rep, "batch_size_histogram", main_histogram(&s->reported_batch));
    cJSON_AddNumberToObject(rep, "batch_compute_input_ns", (double)s->batch_compute_input_ns);
    cJSON_AddNumberToObject(rep, "batch_compute_infer_ns", (double)s->batch_compute_infer_ns);
    cJSON_AddNumberToObject(rep, "batch_compute_output_ns",
                            (double)s->batch_compute_output_ns);
  }
  char* text = cJSON_Print(doc);
  cJSON_Delete(doc);
  FILE* f = fopen(path, "w");
  if (f == NULL) {
    fprintf(stderr, "triton-host: cannot write stats to %s\n", path);
  } else {
    fprintf(f, "%s\n", text);
    fclose(f);
  }
  free(text);
}

/* ---------------------------------------------------------------- entry */

/* Frees what main_parse allocated (the strings are argv's). */
static void
main_args_free(main_args* a)
{
  free(a->models);
  free(a->requests);
  free(a->request_model);
  free(a->first_requests);
  free(a->then_requests);
  free(a->then_model);
  free(a->then_of);
  free(g_host_options.backend_config);
}

/* The driver's entry point, exported so the triton-host executable (linked against this
 * library) can call it; everything else stays hidden. */
HOST_API int
TRITONHOST_Main(int argc, char** argv)
{
  int out_fd = dup(STDOUT_FILENO);
  if (out_fd < 0 || (main_out = fdopen(out_fd, "w")) == NULL) {
    perror("triton-host: dup stdout");
    return MAIN_USAGE_EXIT;
  }
  fflush(stdout);
  dup2(STDERR_FILENO, STDOUT_FILENO); /* backends' stdout goes to stderr */
  main_args a;
  memset(&a, 0, sizeof(a));
  if (main_parse(argc, argv, &a) != 0) {
    main_usage();
    main_args_free(&a);
    return MAIN_USAGE_EXIT;
  }
  int rc = strcmp(a.command, "infer") == 0 ? main_infer(&a) : main_replay(&a);
  main_args_free(&a);
  fflush(main_out);
  fflush(stderr);
  return rc;
}
