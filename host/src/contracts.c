/*
 * Breach recording and the registry of live handles.
 *
 * A breach is a violation of the backend API contract by the backend under test. Each one is
 * printed to stderr as "contract breach: <what>" and makes the host exit with status 2. The
 * host records and continues where that is memory-safe, and aborts where it is not.
 *
 * The registry maps every handle the host has handed out (or that the backend created through
 * the API) to its kind. API functions look a handle up before touching it, so a stale,
 * foreign or wrong-kind pointer is reported instead of dereferenced. It is a sharded
 * open-addressing hash set, so lookups from many execute threads rarely contend.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

static atomic_int contracts_breaches;
static pthread_mutex_t contracts_print_lock = PTHREAD_MUTEX_INITIALIZER;

static const char* const contracts_kind_names[HK_COUNT] = {
    "unknown",           "TRITONSERVER_Error",      "TRITONSERVER_Message",
    "TRITONSERVER_Parameter", "TRITONSERVER_MetricFamily", "TRITONSERVER_Metric",
    "TRITONBACKEND_Backend",  "TRITONBACKEND_Model",  "TRITONBACKEND_ModelInstance",
    "TRITONBACKEND_Request",  "TRITONBACKEND_Input",  "TRITONBACKEND_Response",
    "TRITONBACKEND_Output"};

const char*
contracts_kind_name(host_handle_kind kind)
{
  return (kind > HK_NONE && kind < HK_COUNT) ? contracts_kind_names[kind] : "unknown";
}

static void
contracts_vprint(const char* fmt, va_list ap)
{
  char buf[2048];
  vsnprintf(buf, sizeof(buf), fmt, ap);
  pthread_mutex_lock(&contracts_print_lock);
  fprintf(stderr, "contract breach: %s\n", buf);
  fflush(stderr);
  pthread_mutex_unlock(&contracts_print_lock);
}

void
contracts_breach(const char* fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  contracts_vprint(fmt, ap);
  va_end(ap);
  atomic_fetch_add(&contracts_breaches, 1);
}

_Noreturn void
contracts_fatal(const char* fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  contracts_vprint(fmt, ap);
  va_end(ap);
  fprintf(stderr, "contract breach: continuing is not memory-safe; aborting\n");
  abort();
}

int
contracts_breach_count(void)
{
  return atomic_load(&contracts_breaches);
}

/* ---------------------------------------------------------------- registry */

#define REGISTRY_SHARDS 64
#define REGISTRY_TOMBSTONE ((uintptr_t)1)

typedef struct registry_slot {
  uintptr_t key; /* 0 = empty, 1 = tombstone */
  host_handle_kind kind;
} registry_slot;

typedef struct registry_shard {
  pthread_mutex_t mu;
  registry_slot* slots;
  size_t cap;  /* power of two */
  size_t used; /* live + tombstones */
  size_t live;
} registry_shard;

static registry_shard registry_shards[REGISTRY_SHARDS];
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

static void
registry_init(void)
{
  for (int i = 0; i < REGISTRY_SHARDS; ++i) {
    pthread_mutex_init(&registry_shards[i].mu, NULL);
  }
}

static size_t
registry_hash(uintptr_t key)
{
  uint64_t x = (uint64_t)key;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return (size_t)x;
}

static registry_shard*
registry_shard_for(uintptr_t key)
{
  pthread_once(&registry_once, registry_init);
  return &registry_shards[(registry_hash(key) >> 7) % REGISTRY_SHARDS];
}

/* Returns the slot holding key, or NULL. Caller holds the shard lock. */
static registry_slot*
registry_find(registry_shard* s, uintptr_t key)
{
  if (s->cap == 0) {
    return NULL;
  }
  size_t mask = s->cap - 1;
  for (size_t i = registry_hash(key) & mask, n = 0; n < s->cap; i = (i + 1) & mask, ++n) {
    if (s->slots[i].key == 0) {
      return NULL;
    }
    if (s->slots[i].key == key) {
      return &s->slots[i];
    }
  }
  return NULL;
}

static void
registry_insert_nogrow(registry_shard* s, uintptr_t key, host_handle_kind kind)
{
  size_t mask = s->cap - 1;
  size_t i = registry_hash(key) & mask;
  while (s->slots[i].key > REGISTRY_TOMBSTONE) {
    i = (i + 1) & mask;
  }
  if (s->slots[i].key == 0) {
    s->used++;
  }
  s->slots[i].key = key;
  s->slots[i].kind = kind;
  s->live++;
}

static void
registry_grow(registry_shard* s)
{
  registry_slot* old = s->slots;
  size_t old_cap = s->cap;
  size_t cap = old_cap == 0 ? 256 : old_cap;
  if (s->live * 2 >= cap) {
    cap *= 2;
  }
  s->slots = calloc(cap, sizeof(registry_slot));
  if (s->slots == NULL) {
    contracts_fatal("host out of memory growing the handle registry");
  }
  s->cap = cap;
  s->used = 0;
  s->live = 0;
  for (size_t i = 0; i < old_cap; ++i) {
    if (old[i].key > REGISTRY_TOMBSTONE) {
      registry_insert_nogrow(s, old[i].key, old[i].kind);
    }
  }
  free(old);
}

void
registry_add(const void* handle, host_handle_kind kind)
{
  uintptr_t key = (uintptr_t)handle;
  registry_shard* s = registry_shard_for(key);
  pthread_mutex_lock(&s->mu);
  registry_slot* slot = registry_find(s, key);
  if (slot != NULL) {
    slot->kind = kind; /* address reused after a free */
  } else {
    if ((s->used + 1) * 4 >= s->cap * 3) {
      registry_grow(s);
    }
    registry_insert_nogrow(s, key, kind);
  }
  pthread_mutex_unlock(&s->mu);
}

bool
registry_remove(const void* handle, host_handle_kind kind)
{
  uintptr_t key = (uintptr_t)handle;
  registry_shard* s = registry_shard_for(key);
  bool removed = false;
  pthread_mutex_lock(&s->mu);
  registry_slot* slot = registry_find(s, key);
  if (slot != NULL && slot->kind == kind) {
    slot->key = REGISTRY_TOMBSTONE;
    slot->kind = HK_NONE;
    s->live--;
    removed = true;
  }
  pthread_mutex_unlock(&s->mu);
  return removed;
}

host_handle_kind
registry_kind(const void* handle)
{
  if (handle == NULL) {
    return HK_NONE;
  }
  uintptr_t key = (uintptr_t)handle;
  registry_shard* s = registry_shard_for(key);
  pthread_mutex_lock(&s->mu);
  registry_slot* slot = registry_find(s, key);
  host_handle_kind kind = slot != NULL ? slot->kind : HK_NONE;
  pthread_mutex_unlock(&s->mu);
  return kind;
}

size_t
registry_count(host_handle_kind kind)
{
  size_t n = 0;
  pthread_once(&registry_once, registry_init);
  for (int i = 0; i < REGISTRY_SHARDS; ++i) {
    registry_shard* s = &registry_shards[i];
    pthread_mutex_lock(&s->mu);
    for (size_t j = 0; j < s->cap; ++j) {
      if (s->slots[j].key > REGISTRY_TOMBSTONE && s->slots[j].kind == kind) {
        n++;
      }
    }
    pthread_mutex_unlock(&s->mu);
  }
  return n;
}

void
registry_each(host_handle_kind kind, void (*fn)(const void* handle, void* ctx), void* ctx)
{
  /* Collect first so fn may call back into the registry. */
  size_t n = registry_count(kind), k = 0;
  const void** found = calloc(n + 1, sizeof(void*));
  if (found == NULL) {
    return;
  }
  for (int i = 0; i < REGISTRY_SHARDS; ++i) {
    registry_shard* s = &registry_shards[i];
    pthread_mutex_lock(&s->mu);
    for (size_t j = 0; j < s->cap && k < n; ++j) {
      if (s->slots[j].key > REGISTRY_TOMBSTONE && s->slots[j].kind == kind) {
        found[k++] = (const void*)s->slots[j].key;
      }
    }
    pthread_mutex_unlock(&s->mu);
  }
  for (size_t i = 0; i < k; ++i) {
    fn(found[i], ctx);
  }
  free(found);
}
