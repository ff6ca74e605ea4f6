/*
 * The client side of the host: KServe v2 JSON request files in, v2 JSON responses out, with the
 * checks Triton applies before a request reaches a backend.
 *
 * Checks and their order follow Triton: the HTTP front end parses the body first (reserved
 * "triton_" parameters, FP16/BF16 sent as JSON, element count of "data" against the shape:
 * the 500 "shape does not match true shape"), then core's InferenceRequest::Normalize runs
 * (unknown requested output, input count, unknown input, batch dimension, batch size,
 * datatype, shape, byte size). Messages are Triton 2.70's, byte for byte where the fixtures
 * record them (shared/fixtures/triton-2.70/http_errors.md).
 *
 * Host extension standing in for the binary tensor extension: an input may carry
 * "raw_data_b64" (base64 of the raw little-endian bytes) instead of "data".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host.h"

/* ---------------------------------------------------------------- small utilities */

uint64_t
host_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long
host_gettid(void)
{
  return (long)syscall(SYS_gettid);
}

static void*
req_xmalloc(size_t n)
{
  void* p = malloc(n ? n : 1);
  if (p == NULL) {
    contracts_fatal("host out of memory (%zu bytes)", n);
  }
  return p;
}

static void*
req_xcalloc(size_t n, size_t size)
{
  void* p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL) {
    contracts_fatal("host out of memory");
  }
  return p;
}

/* Growable string for JSON output. */
typedef struct sbuf {
  char* s;
  size_t len, cap;
} sbuf;

static void
sb_put(sbuf* b, const char* s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2 + 64;
    b->s = realloc(b->s, b->cap);
    if (b->s == NULL) {
      contracts_fatal("host out of memory");
    }
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void
sb_str(sbuf* b, const char* s)
{
  sb_put(b, s, strlen(s));
}

static void
sb_printf(sbuf* b, const char* fmt, ...) HOST_PRINTF(2, 3);

static void
sb_printf(sbuf* b, const char* fmt, ...)
{
  char tmp[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof(tmp)) {
    sb_put(b, tmp, (size_t)n);
  } else {
    va_start(ap, fmt);
    char* big = NULL;
    if (vasprintf(&big, fmt, ap) >= 0) {
      sb_str(b, big);
      free(big);
    }
    va_end(ap);
  }
}

/* Length of a valid UTF-8 sequence starting at s, or 0. */
static size_t
req_utf8_len(const unsigned char* s, size_t avail)
{
  size_t n = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3
                              : (s[0] >> 3) == 30 ? 4 : 0;
  if (n == 0 || n > avail) {
    return 0;
  }
  for (size_t i = 1; i < n; ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      return 0;
    }
  }
  return n;
}

/* JSON string literal; bytes that are not UTF-8 are written as \u00XX. */
static void
sb_json_string(sbuf* b, const char* s, size_t n)
{
  sb_put(b, "\"", 1);
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      sb_put(b, esc, 2);
      i++;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': sb_str(b, "\\n"); break;
        case '\t': sb_str(b, "\\t"); break;
        case '\r': sb_str(b, "\\r"); break;
        case '\b': sb_str(b, "\\b"); break;
        case '\f': sb_str(b, "\\f"); break;
        default: sb_printf(b, "\\u%04x", c);
      }
      i++;
    } else {
      size_t k = req_utf8_len((const unsigned char*)s + i, n - i);
      if (k == 0) {
        sb_printf(b, "\\u%04x", c);
        i++;
      } else {
        sb_put(b, s + i, k);
        i += k;
      }
    }
  }
  sb_put(b, "\"", 1);
}

char*
requests_error_json(const char* message)
{
  return requests_backend_error_json(message, NULL);
}

char*
requests_backend_error_json(const char* message, const char* code)
{
  sbuf b = {0};
  sb_str(&b, "{\"error\":");
  sb_json_string(&b, message, strlen(message));
  if (code != NULL) {
    sb_str(&b, ",\"code\":");
    sb_json_string(&b, code, strlen(code));
  }
  sb_str(&b, "}");
  return b.s;
}

/* ---------------------------------------------------------------- datatypes */

static const char* const req_dtype_names[] = {
    "INVALID", "BOOL",  "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
    "INT32",   "INT64", "FP16",  "FP32",   "FP64",   "BYTES",  "BF16"};

const char*
dtype_name(TRITONSERVER_DataType dt)
{
  return (unsigned)dt < 15 ? req_dtype_names[dt] : "INVALID";
}

TRITONSERVER_DataType
dtype_from_name(const char* name)
{
  for (int i = 1; i < 15; ++i) {
    if (strcmp(req_dtype_names[i], name) == 0) {
      return (TRITONSERVER_DataType)i;
    }
  }
  return TRITONSERVER_TYPE_INVALID;
}

TRITONSERVER_DataType
dtype_from_config(const char* name)
{
  if (strncmp(name, "TYPE_", 5) != 0) {
    return TRITONSERVER_TYPE_INVALID;
  }
  if (strcmp(name + 5, "STRING") == 0) {
    return TRITONSERVER_TYPE_BYTES;
  }
  return dtype_from_name(name + 5);
}

size_t
dtype_size(TRITONSERVER_DataType dt)
{
  switch (dt) {
    case TRITONSERVER_TYPE_BOOL:
    case TRITONSERVER_TYPE_UINT8:
    case TRITONSERVER_TYPE_INT8: return 1;
    case TRITONSERVER_TYPE_UINT16:
    case TRITONSERVER_TYPE_INT16:
    case TRITONSERVER_TYPE_FP16:
    case TRITONSERVER_TYPE_BF16: return 2;
    case TRITONSERVER_TYPE_UINT32:
    case TRITONSERVER_TYPE_INT32:
    case TRITONSERVER_TYPE_FP32: return 4;
    case TRITONSERVER_TYPE_UINT64:
    case TRITONSERVER_TYPE_INT64:
    case TRITONSERVER_TYPE_FP64: return 8;
    default: return 0;
  }
}

static float
req_half_to_float(uint16_t h)
{
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { /* subnormal */
      float f = ldexpf((float)mant, -24);
      return sign ? -f : f;
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static uint16_t
req_float_to_half(float f)
{
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = (int32_t)((x >> 23) & 0xFF) - 127 + 15;
  uint32_t mant = x & 0x7FFFFF;
  if (((x >> 23) & 0xFF) == 0xFF) {
    return (uint16_t)(sign | 0x7C00 | (mant ? 0x200 : 0));
  }
  if (exp >= 31) {
    return (uint16_t)(sign | 0x7C00);
  }
  if (exp <= 0) {
    if (exp < -10) {
      return (uint16_t)sign;
    }
    mant |= 0x800000;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) {
      half++;
    }
    return (uint16_t)(sign | half);
  }
  uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) {
    half++;
  }
  return (uint16_t)half;
}

static float
req_bf16_to_float(uint16_t v)
{
  uint32_t bits = (uint32_t)v << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static uint16_t
req_float_to_bf16(float f)
{
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7FFFFFFF) > 0x7F800000) {
    return (uint16_t)((x >> 16) | 0x40);
  }
  x += 0x7FFF + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}

/* ---------------------------------------------------------------- calls */

host_call*
call_new(bool wants_data)
{
  host_call* c = req_xcalloc(1, sizeof(*c));
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  c->wants_data = wants_data;
  c->refs = 1;
  return c;
}

void
call_unref(host_call* call)
{
  if (call == NULL) {
    return;
  }
  pthread_mutex_lock(&call->mu);
  int refs = --call->refs;
  pthread_mutex_unlock(&call->mu);
  if (refs == 0) {
    pthread_mutex_destroy(&call->mu);
    pthread_cond_destroy(&call->cv);
    free(call->result);
    free(call);
  }
}

bool
call_deliver(host_call* call, char* json_line, bool is_error)
{
  pthread_mutex_lock(&call->mu);
  bool first = !call->done;
  if (first) {
    call->done = true;
    call->result = json_line;
    call->is_error = is_error;
    pthread_cond_broadcast(&call->cv);
  }
  pthread_mutex_unlock(&call->mu);
  if (!first) {
    free(json_line);
  }
  return first;
}

bool
call_wait(host_call* call, double timeout_s)
{
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += (time_t)timeout_s;
  deadline.tv_nsec += (long)((timeout_s - (double)(time_t)timeout_s) * 1e9);
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&call->mu);
  while (!call->done) {
    if (pthread_cond_timedwait(&call->cv, &call->mu, &deadline) == ETIMEDOUT) {
      break;
    }
  }
  bool done = call->done;
  pthread_mutex_unlock(&call->mu);
  return done;
}

/* ---------------------------------------------------------------- templates */

typedef struct req_tensor {
  char* name;
  TRITONSERVER_DataType dtype;
  int64_t* shape;
  uint32_t dims;
  char* bytes;
  size_t size;
} req_tensor;

struct host_request_template {
  TRITONBACKEND_Model* model;
  char* id;
  host_param* params;
  uint32_t param_count;
  req_tensor* inputs;
  uint32_t input_count;
  char** outputs;
  uint32_t output_count;
  int64_t batch_size;
};

void
requests_template_free(host_request_template* t)
{
  if (t == NULL) {
    return;
  }
  free(t->id);
  for (uint32_t i = 0; i < t->param_count; ++i) {
    free(t->params[i].key);
    free(t->params[i].str);
  }
  free(t->params);
  for (uint32_t i = 0; i < t->input_count; ++i) {
    free(t->inputs[i].name);
    free(t->inputs[i].shape);
    free(t->inputs[i].bytes);
  }
  free(t->inputs);
  for (uint32_t i = 0; i < t->output_count; ++i) {
    free(t->outputs[i]);
  }
  free(t->outputs);
  free(t);
}

static bool
req_is_reserved_param(const char* key)
{
  static const char* const reserved[] = {"sequence_id", "sequence_start", "sequence_end",
                                         "priority",    "timeout",        "binary_data_output",
                                         "headers"};
  for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); ++i) {
    if (strcmp(key, reserved[i]) == 0) {
      return true;
    }
  }
  return false;
}

static int
req_b64_value(char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

static char*
req_b64_decode(const char* s, size_t n, size_t* out_len)
{
  char* out = req_xmalloc(n / 4 * 3 + 4);
  size_t len = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    if (c == '=' || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    }
    int v = req_b64_value(c);
    if (v < 0) {
      free(out);
      return NULL;
    }
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[len++] = (char)((acc >> bits) & 0xFF);
    }
  }
  *out_len = len;
  return out;
}

/* Request files are read with json-c: its integers are exact int64 / uint64 (9007199254740993
 * stays itself), it keeps a fraction's text, and it tells integers from fractions the way
 * Triton's HTTP front end does. */
#define REQ_IS(v, t) json_object_is_type((v), json_type_##t)

/* The member KEY of a JSON object, or NULL (absent, null, or not an object). */
static json_object*
req_get(json_object* obj, const char* key)
{
  json_object* v = NULL;
  return REQ_IS(obj, object) && json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* A number as written (an integer printed exactly). */
static const char*
req_num_text(json_object* v)
{
  return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/* Appends the leaves of a (possibly nested) JSON list to *leaves. */
static void
req_flatten(json_object* v, json_object*** leaves, size_t* n, size_t* cap)
{
  if (REQ_IS(v, array)) {
    for (size_t i = 0; i < json_object_array_length(v); ++i) {
      req_flatten(json_object_array_get_idx(v, i), leaves, n, cap);
    }
    return;
  }
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    *leaves = realloc(*leaves, *cap * sizeof(json_object*));
  }
  (*leaves)[(*n)++] = v;
}

/* Converts JSON elements to raw little-endian bytes of the datatype. */
static char*
req_convert_data(json_object** leaves, size_t n, TRITONSERVER_DataType dt, req_tensor* t)
{
  size_t esize = dtype_size(dt);
  sbuf raw = {0};
  sb_put(&raw, "", 0);
  for (size_t i = 0; i < n; ++i) {
    json_object* e = leaves[i];
    union {
      uint8_t u8;
      int8_t i8;
      uint16_t u16;
      int16_t i16;
      uint32_t u32;
      int32_t i32;
      uint64_t u64;
      int64_t i64;
      float f32;
      double f64;
    } v;
    memset(&v, 0, sizeof(v));
    if (dt == TRITONSERVER_TYPE_BYTES) {
      if (!REQ_IS(e, string)) {
        free(raw.s);
        return host_printf("Failed to parse 'data' field: expected string value for BYTES input "
                           "'%s'", t->name);
      }
      uint32_t len = (uint32_t)json_object_get_string_len(e);
      unsigned char le[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                             (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
      sb_put(&raw, (const char*)le, 4);
      sb_put(&raw, json_object_get_string(e), len);
      continue;
    }
    if (dt == TRITONSERVER_TYPE_BOOL) {
      if (!REQ_IS(e, boolean)) {
        free(raw.s);
        return host_printf("Failed to parse 'data' field: expected boolean value for input '%s'",
                           t->name);
      }
      v.u8 = json_object_get_boolean(e) ? 1 : 0;
      sb_put(&raw, (const char*)&v, 1);
      continue;
    }
    if (!REQ_IS(e, int) && !REQ_IS(e, double)) {
      free(raw.s);
      return host_printf("Failed to parse 'data' field: expected number value for input '%s'",
                         t->name);
    }
    bool is_signed = dt == TRITONSERVER_TYPE_INT8 || dt == TRITONSERVER_TYPE_INT16 ||
                     dt == TRITONSERVER_TYPE_INT32 || dt == TRITONSERVER_TYPE_INT64;
    bool is_unsigned = dt == TRITONSERVER_TYPE_UINT8 || dt == TRITONSERVER_TYPE_UINT16 ||
                       dt == TRITONSERVER_TYPE_UINT32 || dt == TRITONSERVER_TYPE_UINT64;
    if (is_signed || is_unsigned) {
      if (!REQ_IS(e, int)) {
        free(raw.s);
        return host_printf("Failed to parse 'data' field: expected integer value for input '%s'",
                           t->name);
      }
      const char* text = req_num_text(e);
      errno = 0;
      bool range_ok = true;
      if (is_signed) {
        long long x = strtoll(text, NULL, 10);
        range_ok = errno == 0;
        int bitsz = (int)esize * 8;
        if (bitsz < 64) {
          long long lim = 1LL << (bitsz - 1);
          range_ok = range_ok && x >= -lim && x < lim;
        }
        v.i64 = x; /* little-endian: low bytes first */
      } else {
        unsigned long long x = strtoull(text, NULL, 10);
        range_ok = errno == 0 && text[0] != '-';
        int bitsz = (int)esize * 8;
        if (bitsz < 64) {
          range_ok = range_ok && x < (1ULL << bitsz);
        }
        v.u64 = x;
      }
      if (!range_ok) {
        free(raw.s);
        return host_printf("Failed to parse 'data' field: value %s out of range for %s input "
                           "'%s'", text, dtype_name(dt), t->name);
      }
      sb_put(&raw, (const char*)&v, esize);
      continue;
    }
    double d = json_object_get_double(e);
    switch (dt) {
      case TRITONSERVER_TYPE_FP32: v.f32 = (float)d; break;
      case TRITONSERVER_TYPE_FP64: v.f64 = d; break;
      case TRITONSERVER_TYPE_FP16: v.u16 = req_float_to_half((float)d); break;
      case TRITONSERVER_TYPE_BF16: v.u16 = req_float_to_bf16((float)d); break;
      default: break;
    }
    sb_put(&raw, (const char*)&v, esize);
  }
  t->bytes = raw.s;
  t->size = raw.len;
  return NULL;
}

static const host_tensor_config*
req_find_tensor(const host_tensor_config* list, int n, const char* name)
{
  for (int i = 0; i < n; ++i) {
    if (strcmp(list[i].name, name) == 0) {
      return &list[i];
    }
  }
  return NULL;
}

static char*
req_dims_string(const int64_t* dims, int n, bool wildcard_batch)
{
  sbuf b = {0};
  sb_str(&b, "[");
  if (wildcard_batch) {
    sb_str(&b, n > 0 ? "-1," : "-1");
  }
  for (int i = 0; i < n; ++i) {
    sb_printf(&b, "%s%lld", i ? "," : "", (long long)dims[i]);
  }
  sb_str(&b, "]");
  return b.s;
}

/* Core's InferenceRequest::Normalize checks, in its order. Returns the error or NULL. */
static char*
req_normalize_checks(host_request_template* t, const char* log_request)
{
  TRITONBACKEND_Model* m = t->model;
  const host_model_config* cfg = &m->cfg;
  for (uint32_t i = 0; i < t->output_count; ++i) {
    if (req_find_tensor(cfg->outputs, cfg->output_count, t->outputs[i]) == NULL) {
      return host_printf("unexpected inference output '%s' for model '%s'", t->outputs[i],
                         m->name);
    }
  }
  int required = 0;
  for (int i = 0; i < cfg->input_count; ++i) {
    required += cfg->inputs[i].optional ? 0 : 1;
  }
  if (t->input_count > (uint32_t)cfg->input_count || t->input_count < (uint32_t)required) {
    sbuf missing = {0}, got = {0};
    sb_str(&missing, "[");
    for (int i = 0; i < cfg->input_count; ++i) {
      bool present = false;
      for (uint32_t j = 0; j < t->input_count && !present; ++j) {
        present = strcmp(t->inputs[j].name, cfg->inputs[i].name) == 0;
      }
      if (!cfg->inputs[i].optional && !present) {
        sb_printf(&missing, "'%s',", cfg->inputs[i].name);
      }
    }
    missing.s[--missing.len] = '\0'; /* Triton drops the last char, even the '[' */
    sb_str(&missing, "]");
    sb_str(&got, "[");
    for (uint32_t j = 0; j < t->input_count; ++j) {
      sb_printf(&got, "'%s',", t->inputs[j].name);
    }
    got.s[--got.len] = '\0';
    sb_str(&got, "]");
    if (t->input_count == 0) {
      free(got.s);
      got.s = strdup("[]");
    }
    char* out;
    if (cfg->input_count == required) {
      out = host_printf("%sexpected %d inputs but got %u inputs for model '%s'. Got input(s) %s, "
                        "but missing required input(s) %s. Please provide all required "
                        "input(s).",
                        log_request, cfg->input_count, t->input_count, m->name, got.s,
                        missing.s);
    } else {
      out = host_printf("%sexpected number of inputs between %d and %d but got %u inputs for "
                        "model '%s'. Got input(s) %s, but missing required input(s) %s. Please "
                        "provide all required input(s).",
                        log_request, required, cfg->input_count, t->input_count, m->name, got.s,
                        missing.s);
    }
    free(got.s);
    free(missing.s);
    return out;
  }
  int64_t batch = 0;
  if (cfg->max_batch_size > 0) {
    for (uint32_t j = 0; j < t->input_count; ++j) {
      const req_tensor* in = &t->inputs[j];
      const host_tensor_config* ic = req_find_tensor(cfg->inputs, cfg->input_count, in->name);
      if (ic == NULL) {
        return host_printf("unexpected inference input '%s' for model '%s'", in->name, m->name);
      }
      if (ic->is_shape_tensor) {
        continue;
      }
      if (in->dims == 0) {
        return host_printf("%sinput '%s' has no shape but model requires batch dimension for "
                           "'%s'", log_request, in->name, m->name);
      }
      if (batch == 0) {
        batch = in->shape[0];
      } else if (in->shape[0] != batch) {
        return host_printf("%sinput '%s' batch size does not match other inputs for '%s'",
                           log_request, in->name, m->name);
      }
    }
  }
  if (batch > cfg->max_batch_size) {
    return host_printf("%sinference request batch-size must be <= %lld for '%s'", log_request,
                       (long long)cfg->max_batch_size, m->name);
  }
  for (uint32_t j = 0; j < t->input_count; ++j) {
    const req_tensor* in = &t->inputs[j];
    const host_tensor_config* ic = req_find_tensor(cfg->inputs, cfg->input_count, in->name);
    if (ic == NULL) {
      return host_printf("unexpected inference input '%s' for model '%s'", in->name, m->name);
    }
    if (in->dtype != ic->dtype) {
      return host_printf("%sinference input '%s' data-type is '%s', but model '%s' expects '%s'",
                         log_request, in->name, dtype_name(in->dtype), m->name,
                         dtype_name(ic->dtype));
    }
    bool batched = cfg->max_batch_size > 0 && !ic->is_shape_tensor;
    const int64_t* dims = in->shape + (batched ? 1 : 0);
    int n = (int)in->dims - (batched ? 1 : 0);
    bool match = n == ic->dims_count;
    for (int i = 0; match && i < n; ++i) {
      if (dims[i] == -1) {
        char* s = req_dims_string(in->shape, (int)in->dims, false);
        char* out = host_printf("%sAll input dimensions should be specified for input '%s' for "
                                "model '%s', got %s", log_request, in->name, m->name, s);
        free(s);
        return out;
      }
      if (ic->dims[i] != -1 && ic->dims[i] != dims[i]) {
        match = false;
      }
    }
    if (!match) {
      char* expected = req_dims_string(ic->dims, ic->dims_count, cfg->max_batch_size > 0);
      char* got = req_dims_string(in->shape, (int)in->dims, false);
      const char* note =
          cfg->max_batch_size > 0
              ? "NOTE: Setting a non-zero max_batch_size in the model config requires a batch "
                "dimension to be prepended to each input shape. If you want to specify the "
                "full shape including the batch dim in your input dims config, try setting "
                "max_batch_size to zero. See the model configuration docs for more info on "
                "max_batch_size."
              : "";
      char* out = host_printf("%sunexpected shape for input '%s' for model '%s'. Expected %s, "
                              "got %s. %s", log_request, in->name, m->name, expected, got, note);
      free(expected);
      free(got);
      return out;
    }
    if (in->dtype != TRITONSERVER_TYPE_BYTES) {
      uint64_t expected = dtype_size(in->dtype);
      for (uint32_t i = 0; i < in->dims; ++i) {
        expected *= (uint64_t)in->shape[i];
      }
      if (expected != in->size) {
        return host_printf("%sinput byte size mismatch for input '%s' for model '%s'. Expected "
                           "%llu, got %zu", log_request, in->name, m->name,
                           (unsigned long long)expected, in->size);
      }
    }
  }
  return NULL;
}

static char*
req_read_file(const char* path, size_t* len)
{
  FILE* f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  sbuf b = {0};
  sb_put(&b, "", 0);
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    sb_put(&b, chunk, n);
  }
  fclose(f);
  *len = b.len;
  return b.s;
}

/* Parses the "parameters" object. Returns an error or NULL. */
static char*
req_parse_params(host_request_template* t, json_object* params)
{
  if (params == NULL) {
    return NULL;
  }
  if (!REQ_IS(params, object)) {
    return strdup("Unable to parse 'parameters': expected an object");
  }
  t->params = req_xcalloc((size_t)json_object_object_length(params), sizeof(host_param));
  json_object_object_foreach(params, key, v) {
    if (g_host_options.frontend_checks && strncmp(key, "triton_", 7) == 0) {
      return host_printf("parameter keys starting with 'triton_' are reserved for Triton usage "
                         "and should not be specified.");
    }
    if (req_is_reserved_param(key)) {
      continue; /* consumed by Triton, never passed to the backend */
    }
    host_param* p = &t->params[t->param_count];
    if (REQ_IS(v, string)) {
      p->type = TRITONSERVER_PARAMETER_STRING;
      p->str = req_xmalloc((size_t)json_object_get_string_len(v) + 1);
      memcpy(p->str, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
    } else if (REQ_IS(v, boolean)) {
      p->type = TRITONSERVER_PARAMETER_BOOL;
      p->b = json_object_get_boolean(v);
    } else if (REQ_IS(v, int)) {
      errno = 0;
      long long x = strtoll(req_num_text(v), NULL, 10);
      if (errno != 0) {
        return host_printf("parameter '%s' value %s does not fit in INT64", key,
                           req_num_text(v));
      }
      p->type = TRITONSERVER_PARAMETER_INT;
      p->i = x;
    } else if (REQ_IS(v, double)) {
      p->type = TRITONSERVER_PARAMETER_DOUBLE;
      p->d = json_object_get_double(v);
    } else {
      return host_printf("parameter '%s' has invalid type. It should be either 'int', 'bool', "
                         "'double' or 'string'.", key);
    }
    p->key = strdup(key);
    t->param_count++;
  }
  return NULL;
}

/* Parses one input of "inputs" into t->inputs[t->input_count]. */
static char*
req_parse_input(host_request_template* t, json_object* in)
{
  if (!REQ_IS(in, object)) {
    return strdup("Unable to parse 'inputs': expected an array of objects");
  }
  json_object* name = req_get(in, "name");
  json_object* shape = req_get(in, "shape");
  json_object* datatype = req_get(in, "datatype");
  if (!REQ_IS(name, string)) {
    return strdup("Unable to parse 'name' of input");
  }
  req_tensor* tt = &t->inputs[t->input_count++];
  tt->name = strdup(json_object_get_string(name));
  if (!REQ_IS(datatype, string)) {
    return host_printf("Unable to parse 'datatype' for input '%s'", tt->name);
  }
  tt->dtype = dtype_from_name(json_object_get_string(datatype));
  if (tt->dtype == TRITONSERVER_TYPE_INVALID) {
    return host_printf("invalid datatype '%s' for input '%s'", json_object_get_string(datatype),
                       tt->name);
  }
  if (!REQ_IS(shape, array)) {
    return host_printf("Unable to parse 'shape' for input '%s'", tt->name);
  }
  tt->dims = (uint32_t)json_object_array_length(shape);
  tt->shape = req_xcalloc(tt->dims + 1, sizeof(int64_t));
  int64_t elements = 1;
  for (uint32_t i = 0; i < tt->dims; ++i) {
    json_object* d = json_object_array_get_idx(shape, i);
    if (!REQ_IS(d, int)) {
      return host_printf("Unable to parse 'shape' for input '%s'", tt->name);
    }
    tt->shape[i] = json_object_get_int64(d);
    elements *= tt->shape[i] < 0 ? 0 : tt->shape[i];
  }
  for (uint32_t j = 0; j + 1 < t->input_count; ++j) {
    if (strcmp(t->inputs[j].name, tt->name) == 0) {
      return host_printf("input '%s' already exists in request", tt->name);
    }
  }
  json_object* b64 = req_get(in, "raw_data_b64");
  json_object* data = req_get(in, "data");
  if (b64 != NULL) {
    if (!REQ_IS(b64, string) ||
        (tt->bytes = req_b64_decode(json_object_get_string(b64),
                                    (size_t)json_object_get_string_len(b64), &tt->size)) == NULL) {
      return host_printf("Unable to decode 'raw_data_b64' for input '%s'", tt->name);
    }
    return NULL;
  }
  if (data == NULL) {
    return host_printf("expected 'data' or 'raw_data_b64' for input '%s'", tt->name);
  }
  if (g_host_options.frontend_checks &&
      (tt->dtype == TRITONSERVER_TYPE_FP16 || tt->dtype == TRITONSERVER_TYPE_BF16)) {
    return host_printf("receiving %s data via JSON is not supported. Please use the binary data "
                       "format for input %s", dtype_name(tt->dtype), tt->name);
  }
  json_object** leaves = NULL;
  size_t n = 0, cap = 0;
  req_flatten(data, &leaves, &n, &cap);
  if (g_host_options.frontend_checks && (int64_t)n != elements) {
    free(leaves);
    return strdup("Failed to parse 'data' field: shape does not match true shape");
  }
  char* err = req_convert_data(leaves, n, tt->dtype, tt);
  free(leaves);
  return err;
}

host_request_template*
requests_load(const char* path, TRITONBACKEND_Model* model, char** error_json)
{
  size_t len = 0;
  char* text = req_read_file(path, &len);
  if (text == NULL) {
    char* msg = host_printf("cannot read request file '%s'", path);
    *error_json = requests_error_json(msg);
    free(msg);
    return NULL;
  }
  json_tokener* tok = json_tokener_new();
  json_object* doc = json_tokener_parse_ex(tok, text, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  while (end < len && strchr(" \t\r\n", text[end]) != NULL) {
    end++;
  }
  free(text);
  if (!REQ_IS(doc, object) || end != len) {
    char* msg = host_printf("failed to parse the request JSON buffer: %s at offset %zu",
                            jerr != json_tokener_success ? json_tokener_error_desc(jerr)
                            : doc == NULL ? "unexpected end of input"
                            : end != len ? "trailing characters" : "expected an object", end);
    *error_json = requests_error_json(msg);
    free(msg);
    json_object_put(doc);
    return NULL;
  }
  host_request_template* t = req_xcalloc(1, sizeof(*t));
  t->model = model;
  char* err = NULL;
  json_object* id = req_get(doc, "id");
  if (id != NULL) {
    if (!REQ_IS(id, string)) {
      err = strdup("Unable to parse 'id': expected a string");
    } else {
      t->id = strdup(json_object_get_string(id));
    }
  }
  if (err == NULL) {
    err = req_parse_params(t, req_get(doc, "parameters"));
  }
  json_object* inputs = req_get(doc, "inputs");
  if (err == NULL && !REQ_IS(inputs, array)) {
    err = strdup("Unable to parse 'inputs'");
  }
  if (err == NULL) {
    t->inputs = req_xcalloc(json_object_array_length(inputs), sizeof(req_tensor));
    for (size_t i = 0; i < json_object_array_length(inputs) && err == NULL; ++i) {
      err = req_parse_input(t, json_object_array_get_idx(inputs, i));
    }
  }
  json_object* outputs = req_get(doc, "outputs");
  if (err == NULL && outputs != NULL) {
    if (!REQ_IS(outputs, array)) {
      err = strdup("Unable to parse 'outputs'");
    } else {
      t->outputs = req_xcalloc(json_object_array_length(outputs), sizeof(char*));
      for (size_t i = 0; i < json_object_array_length(outputs) && err == NULL; ++i) {
        json_object* name = req_get(json_object_array_get_idx(outputs, i), "name");
        if (!REQ_IS(name, string)) {
          err = strdup("Unable to parse 'name' of output");
        } else {
          t->outputs[t->output_count++] = strdup(json_object_get_string(name));
        }
      }
    }
  }
  bool outputs_given = outputs != NULL;
  json_object_put(doc);
  if (err == NULL && g_host_options.frontend_checks) {
    char* log_request = t->id != NULL && t->id[0] != '\0'
                            ? host_printf("[request id: %s] ", t->id)
                            : strdup("[request id: <id_unknown>] ");
    err = req_normalize_checks(t, log_request);
    free(log_request);
  }
  if (err != NULL) {
    *error_json = requests_error_json(err);
    free(err);
    requests_template_free(t);
    return NULL;
  }
  /* No "outputs": every configured output is requested. */
  if (!outputs_given) {
    const host_model_config* cfg = &model->cfg;
    t->outputs = req_xcalloc((size_t)cfg->output_count, sizeof(char*));
    for (int i = 0; i < cfg->output_count; ++i) {
      t->outputs[t->output_count++] = strdup(cfg->outputs[i].name);
    }
  }
  t->batch_size = 1;
  if (model->cfg.max_batch_size > 0) {
    for (uint32_t j = 0; j < t->input_count; ++j) {
      const host_tensor_config* ic =
          req_find_tensor(model->cfg.inputs, model->cfg.input_count, t->inputs[j].name);
      if ((ic == NULL || !ic->is_shape_tensor) && t->inputs[j].dims > 0) {
        t->batch_size = t->inputs[j].shape[0] > 0 ? t->inputs[j].shape[0] : 1;
        break;
      }
    }
  }
  return t;
}

/* ---------------------------------------------------------------- request instances */

TRITONBACKEND_Request*
requests_instantiate(const host_request_template* t, host_call* call)
{
  TRITONBACKEND_Request* r = req_xcalloc(1, sizeof(*r));
  pthread_mutex_init(&r->lock, NULL);
  r->model = t->model;
  r->id = strdup(t->id != NULL ? t->id : "");
  r->batch_size = t->batch_size;
  r->param_count = t->param_count;
  r->params = req_xcalloc(t->param_count, sizeof(host_param));
  for (uint32_t i = 0; i < t->param_count; ++i) {
    r->params[i] = t->params[i];
    r->params[i].key = strdup(t->params[i].key);
    r->params[i].str = t->params[i].str != NULL ? strdup(t->params[i].str) : NULL;
  }
  r->output_count = t->output_count;
  r->outputs = req_xcalloc(t->output_count, sizeof(char*));
  for (uint32_t i = 0; i < t->output_count; ++i) {
    r->outputs[i] = strdup(t->outputs[i]);
  }
  r->input_count = t->input_count;
  r->inputs = req_xcalloc(t->input_count, sizeof(TRITONBACKEND_Input*));
  uint32_t chunks = g_host_options.input_chunks > 0 ? (uint32_t)g_host_options.input_chunks : 1;
  for (uint32_t i = 0; i < t->input_count; ++i) {
    const req_tensor* src = &t->inputs[i];
    TRITONBACKEND_Input* in = req_xcalloc(1, sizeof(*in));
    in->request = r;
    in->name = strdup(src->name);
    in->dtype = src->dtype;
    in->dims_count = src->dims;
    in->shape = req_xcalloc(src->dims, sizeof(int64_t));
    memcpy(in->shape, src->shape, src->dims * sizeof(int64_t));
    in->byte_size = src->size;
    /* As in Triton, zero-byte pieces are not appended: an empty tensor has no buffer. */
    uint32_t n = src->size == 0 ? 0 : (src->size < chunks ? (uint32_t)src->size : chunks);
    in->buffer_count = n;
    in->buffers = req_xcalloc(n, sizeof(void*));
    in->buffer_sizes = req_xcalloc(n, sizeof(uint64_t));
    size_t off = 0;
    for (uint32_t k = 0; k < n; ++k) {
      size_t piece = src->size / n + (k < src->size % n ? 1 : 0);
      in->buffers[k] = req_xmalloc(piece);
      memcpy(in->buffers[k], src->bytes + off, piece);
      in->buffer_sizes[k] = piece;
      off += piece;
    }
    r->bytes += src->size;
    r->inputs[i] = in;
    registry_add(in, HK_INPUT);
  }
  r->call = call;
  pthread_mutex_lock(&call->mu);
  call->refs++;
  pthread_mutex_unlock(&call->mu);
  registry_add(r, HK_REQUEST);
  return r;
}

/* ---------------------------------------------------------------- responses */

static bool
req_requested(const TRITONBACKEND_Request* r, const char* name)
{
  for (uint32_t i = 0; i < r->output_count; ++i) {
    if (strcmp(r->outputs[i], name) == 0) {
      return true;
    }
  }
  return false;
}

static void
req_format_float(sbuf* b, double v, int precision)
{
  if (isnan(v)) {
    sb_str(b, "NaN");
  } else if (isinf(v)) {
    sb_str(b, v > 0 ? "Infinity" : "-Infinity");
  } else {
    sb_printf(b, "%.*g", precision, v);
  }
}

/* Elements of an output's shape (negative dimensions, which ResponseOutput rejects, count 0). */
static uint64_t
req_output_elements(const TRITONBACKEND_Output* o)
{
  uint64_t elements = 1;
  for (uint32_t i = 0; i < o->dims_count; ++i) {
    elements *= (uint64_t)(o->shape[i] < 0 ? 0 : o->shape[i]);
  }
  return elements;
}

static uint32_t
req_bytes_length(const unsigned char* p)
{
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

/* Checks the data of a sent output, so that it can be read safely: a buffer was obtained with
 * TRITONBACKEND_OutputBuffer, a fixed-size datatype fills exactly shape x datatype size, and a
 * BYTES output holds one length-prefixed element per element of its shape, none overrunning
 * the buffer. (Name, datatype and shape against the config were checked by
 * TRITONBACKEND_ResponseOutput, the size also by TRITONBACKEND_OutputBuffer.) Runs whether or
 * not the data is formatted. Returns the breach (malloc'd) or NULL. */
static char*
req_check_output(const TRITONBACKEND_Output* o)
{
  if (!o->has_buffer) {
    return host_printf("output '%s' was sent without TRITONBACKEND_OutputBuffer", o->name);
  }
  uint64_t elements = req_output_elements(o);
  if (o->dtype != TRITONSERVER_TYPE_BYTES) {
    uint64_t expected = elements * dtype_size(o->dtype);
    if (expected != o->byte_size) {
      return host_printf("output '%s' holds %llu bytes, but its shape and datatype need %llu",
                         o->name, (unsigned long long)o->byte_size,
                         (unsigned long long)expected);
    }
    return NULL;
  }
  const unsigned char* p = o->buffer;
  uint64_t off = 0;
  for (uint64_t e = 0; e < elements; ++e) {
    if (off + 4 > o->byte_size) {
      return host_printf("BYTES output '%s' holds fewer than %llu length-prefixed elements",
                         o->name, (unsigned long long)elements);
    }
    uint32_t len = req_bytes_length(p + off);
    off += 4;
    if (off + len > o->byte_size) {
      return host_printf("BYTES output '%s' element %llu overruns the buffer", o->name,
                         (unsigned long long)e);
    }
    off += len;
  }
  return NULL;
}

/* Appends an output's data as a JSON list. The output must have passed req_check_output. */
static void
req_format_data(sbuf* b, const TRITONBACKEND_Output* o)
{
  uint64_t elements = req_output_elements(o);
  const unsigned char* p = o->buffer;
  sb_str(b, "[");
  if (o->dtype == TRITONSERVER_TYPE_BYTES) {
    uint64_t off = 0;
    for (uint64_t e = 0; e < elements; ++e) {
      uint32_t len = req_bytes_length(p + off);
      off += 4;
      if (e) {
        sb_str(b, ",");
      }
      sb_json_string(b, (const char*)p + off, len);
      off += len;
    }
    sb_str(b, "]");
    return;
  }
  size_t es = dtype_size(o->dtype);
  for (uint64_t e = 0; e < elements; ++e) {
    const unsigned char* x = p + e * es;
    if (e) {
      sb_str(b, ",");
    }
    switch (o->dtype) {
      case TRITONSERVER_TYPE_BOOL: sb_str(b, x[0] ? "true" : "false"); break;
      case TRITONSERVER_TYPE_UINT8: sb_printf(b, "%u", x[0]); break;
      case TRITONSERVER_TYPE_INT8: sb_printf(b, "%d", (int8_t)x[0]); break;
      case TRITONSERVER_TYPE_UINT16: {
        uint16_t v;
        memcpy(&v, x, 2);
        sb_printf(b, "%u", v);
        break;
      }
      case TRITONSERVER_TYPE_INT16: {
        int16_t v;
        memcpy(&v, x, 2);
        sb_printf(b, "%d", v);
        break;
      }
      case TRITONSERVER_TYPE_UINT32: {
        uint32_t v;
        memcpy(&v, x, 4);
        sb_printf(b, "%u", v);
        break;
      }
      case TRITONSERVER_TYPE_INT32: {
        int32_t v;
        memcpy(&v, x, 4);
        sb_printf(b, "%d", v);
        break;
      }
      case TRITONSERVER_TYPE_UINT64: {
        uint64_t v;
        memcpy(&v, x, 8);
        sb_printf(b, "%llu", (unsigned long long)v);
        break;
      }
      case TRITONSERVER_TYPE_INT64: {
        int64_t v;
        memcpy(&v, x, 8);
        sb_printf(b, "%lld", (long long)v);
        break;
      }
      case TRITONSERVER_TYPE_FP16: {
        uint16_t v;
        memcpy(&v, x, 2);
        req_format_float(b, req_half_to_float(v), 9);
        break;
      }
      case TRITONSERVER_TYPE_BF16: {
        uint16_t v;
        memcpy(&v, x, 2);
        req_format_float(b, req_bf16_to_float(v), 9);
        break;
      }
      case TRITONSERVER_TYPE_FP32: {
        float v;
        memcpy(&v, x, 4);
        req_format_float(b, v, 9);
        break;
      }
      case TRITONSERVER_TYPE_FP64: {
        double v;
        memcpy(&v, x, 8);
        req_format_float(b, v, 17);
        break;
      }
      default: break;
    }
  }
  sb_str(b, "]");
}

char*
requests_format_response(TRITONBACKEND_Response* response, bool with_data, char** err)
{
  TRITONBACKEND_Request* r = response->request;
  TRITONBACKEND_Model* m = r->model;
  sbuf b = {0};
  sb_str(&b, "{");
  if (r->id[0] != '\0') { /* Triton writes "id" first, and only when set */
    sb_str(&b, "\"id\":");
    sb_json_string(&b, r->id, strlen(r->id));
    sb_str(&b, ",");
  }
  sb_str(&b, "\"model_name\":");
  sb_json_string(&b, m->name, strlen(m->name));
  sb_printf(&b, ",\"model_version\":\"%llu\"", (unsigned long long)m->version);
  if (response->param_count > 0) {
    sb_str(&b, ",\"parameters\":{");
    for (int i = 0; i < response->param_count; ++i) {
      if (i) {
        sb_str(&b, ",");
      }
      sb_json_string(&b, response->params[i].key, strlen(response->params[i].key));
      sb_str(&b, ":");
      sb_json_string(&b, response->params[i].str, strlen(response->params[i].str));
    }
    sb_str(&b, "}");
  }
  sb_str(&b, ",\"outputs\":[");
  bool first = true;
  *err = NULL;
  for (int i = 0; i < response->output_count && *err == NULL; ++i) {
    const TRITONBACKEND_Output* o = response->outputs[i];
    if (!req_requested(r, o->name)) {
      continue; /* the client did not ask for it */
    }
    *err = req_check_output(o);
    if (*err != NULL) {
      break;
    }
    sb_str(&b, first ? "{\"name\":" : ",{\"name\":");
    first = false;
    sb_json_string(&b, o->name, strlen(o->name));
    sb_printf(&b, ",\"datatype\":\"%s\",\"shape\":", dtype_name(o->dtype));
    char* dims = req_dims_string(o->shape, (int)o->dims_count, false);
    sb_str(&b, dims);
    free(dims);
    if (with_data) {
      sb_str(&b, ",\"data\":");
      req_format_data(&b, o);
    }
    sb_str(&b, "}");
  }
  sb_str(&b, "]}");
  if (*err != NULL) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* ---------------------------------------------------------------- retirement */

/* Released requests are kept, poisoned, so reads after release see garbage instead of
 * crashing, and calls on them are reported precisely. The oldest are freed once the
 * quarantine holds more than this many input bytes or requests. */
#define REQ_QUARANTINE_BYTES_DEFAULT (256u << 20)
#define REQ_QUARANTINE_COUNT_DEFAULT 100000

/* TRITON_HOST_QUARANTINE_COUNT likewise bounds the number of released requests kept. */
static size_t
req_quarantine_count(void)
{
  static size_t count;
  if (count == 0) {
    const char* env = getenv("TRITON_HOST_QUARANTINE_COUNT");
    long long v = env != NULL ? atoll(env) : 0;
    count = v > 0 ? (size_t)v : REQ_QUARANTINE_COUNT_DEFAULT;
  }
  return count;
}

/* TRITON_HOST_QUARANTINE_BYTES overrides the byte bound: a memory-growth measurement sets it
 * low so the quarantine is full early and the host's own footprint is flat afterwards. */
static size_t
req_quarantine_bytes(void)
{
  static size_t bytes;
  if (bytes == 0) {
    const char* env = getenv("TRITON_HOST_QUARANTINE_BYTES");
    long long v = env != NULL ? atoll(env) : 0;
    bytes = v > 0 ? (size_t)v : REQ_QUARANTINE_BYTES_DEFAULT;
  }
  return bytes;
}

static pthread_mutex_t req_retired_lock = PTHREAD_MUTEX_INITIALIZER;
static TRITONBACKEND_Request* req_retired_head; /* oldest */
static TRITONBACKEND_Request* req_retired_tail;
static size_t req_retired_bytes, req_retired_count;

static void
req_free_request(TRITONBACKEND_Request* r)
{
  registry_remove(r, HK_REQUEST);
  for (uint32_t i = 0; i < r->input_count; ++i) {
    TRITONBACKEND_Input* in = r->inputs[i];
    registry_remove(in, HK_INPUT);
    for (uint32_t k = 0; k < in->buffer_count; ++k) {
      free(in->buffers[k]);
    }
    free(in->buffers);
    free(in->buffer_sizes);
    free(in->shape);
    free(in->name);
    free(in);
  }
  free(r->inputs);
  for (uint32_t i = 0; i < r->param_count; ++i) {
    free(r->params[i].key);
    free(r->params[i].str);
  }
  free(r->params);
  for (uint32_t i = 0; i < r->output_count; ++i) {
    free(r->outputs[i]);
  }
  free(r->outputs);
  TRITONBACKEND_Response* resp = r->responses;
  while (resp != NULL) {
    TRITONBACKEND_Response* next = resp->next_in_request;
    registry_remove(resp, HK_RESPONSE);
    for (int i = 0; i < resp->output_count; ++i) {
      TRITONBACKEND_Output* o = resp->outputs[i];
      registry_remove(o, HK_OUTPUT);
      free(o->name);
      free(o->shape);
      free(o->buffer);
      free(o);
    }
    free(resp->outputs);
    for (int i = 0; i < resp->param_count; ++i) {
      free(resp->params[i].key);
      free(resp->params[i].str);
    }
    free(resp->params);
    free(resp);
    resp = next;
  }
  call_unref(r->call);
  free(r->id);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

void
requests_retire(TRITONBACKEND_Request* r)
{
  for (uint32_t i = 0; i < r->input_count; ++i) {
    TRITONBACKEND_Input* in = r->inputs[i];
    for (uint32_t k = 0; k < in->buffer_count; ++k) {
      memset(in->buffers[k], 0xDB, in->buffer_sizes[k]);
    }
  }
  pthread_mutex_lock(&req_retired_lock);
  r->next = NULL;
  if (req_retired_tail != NULL) {
    req_retired_tail->next = r;
  } else {
    req_retired_head = r;
  }
  req_retired_tail = r;
  req_retired_bytes += r->bytes;
  req_retired_count++;
  /* Evict the oldest requests whose responses are all finished. */
  while (req_retired_head != NULL && (req_retired_bytes > req_quarantine_bytes() ||
                                      req_retired_count > req_quarantine_count())) {
    TRITONBACKEND_Request* old = req_retired_head;
    pthread_mutex_lock(&old->lock);
    bool busy = old->open_responses > 0 || old->in_execute;
    pthread_mutex_unlock(&old->lock);
    if (busy || old == r) {
      break;
    }
    req_retired_head = old->next;
    if (req_retired_head == NULL) {
      req_retired_tail = NULL;
    }
    req_retired_bytes -= old->bytes;
    req_retired_count--;
    req_free_request(old);
  }
  pthread_mutex_unlock(&req_retired_lock);
}

void
requests_free_all_retired(void)
{
  pthread_mutex_lock(&req_retired_lock);
  TRITONBACKEND_Request* r = req_retired_head;
  req_retired_head = req_retired_tail = NULL;
  req_retired_bytes = req_retired_count = 0;
  pthread_mutex_unlock(&req_retired_lock);
  while (r != NULL) {
    TRITONBACKEND_Request* next = r->next;
    req_free_request(r);
    r = next;
  }
}
