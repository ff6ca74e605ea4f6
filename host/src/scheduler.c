/*
 * Per-model request queue, dynamic batcher and instance execute threads.
 *
 * As in Triton's default (BLOCKING) execution policy, each instance has one thread of its own
 * on which every TRITONBACKEND_ModelInstanceExecute call for it is made, and the next call
 * comes only after the previous one returned. Instances of a model execute concurrently.
 *
 * Without dynamic_batching every Execute gets one request. With it, an idle instance takes
 * requests from the head of the queue while they fit in max_batch_size (summing each
 * request's batch dimension) and are batchable with the head: the same set of inputs and,
 * for inputs without allow_ragged_batch, the same shape after the batch dimension. It waits
 * up to max_queue_delay_microseconds (counted from the head's arrival) for more while the
 * batch is below the largest preferred size and not itself a preferred size; a request that
 * cannot join ends the batch at once. Batching never merges tensors: each request keeps its
 * own inputs, in arrival order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"

void
histogram_add(host_histogram* h, uint64_t value)
{
  if (value >= h->size) {
    size_t size = h->size ? h->size : 16;
    while (size <= value) {
      size *= 2;
    }
    h->counts = realloc(h->counts, size * sizeof(uint64_t));
    memset(h->counts + h->size, 0, (size - h->size) * sizeof(uint64_t));
    h->size = size;
  }
  h->counts[value]++;
}

void
scheduler_init(TRITONBACKEND_Model* model)
{
  host_queue* q = &model->queue;
  memset(q, 0, sizeof(*q));
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
}

void
scheduler_enqueue(TRITONBACKEND_Model* model, TRITONBACKEND_Request* request)
{
  host_queue* q = &model->queue;
  request->state = REQ_QUEUED;
  request->next = NULL;
  pthread_mutex_lock(&q->mu);
  if (q->closed) {
    pthread_mutex_unlock(&q->mu);
    pthread_mutex_lock(&request->lock);
    request->state = REQ_HOST_ANSWERED;
    request->answered = true;
    pthread_mutex_unlock(&request->lock);
    char* msg = host_printf("model '%s' is unloading and accepts no new requests", model->name);
    call_deliver(request->call, requests_error_json(msg), true);
    free(msg);
    requests_retire(request);
    return;
  }
  request->enqueue_ns = host_now_ns();
  if (q->tail != NULL) {
    q->tail->next = request;
  } else {
    q->head = request;
  }
  q->tail = request;
  q->length++;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

static const TRITONBACKEND_Input*
sched_input(const TRITONBACKEND_Request* r, const char* name)
{
  for (uint32_t i = 0; i < r->input_count; ++i) {
    if (strcmp(r->inputs[i]->name, name) == 0) {
      return r->inputs[i];
    }
  }
  return NULL;
}

static const host_tensor_config*
sched_input_config(const host_model_config* cfg, const char* name)
{
  for (int i = 0; i < cfg->input_count; ++i) {
    if (strcmp(cfg->inputs[i].name, name) == 0) {
      return &cfg->inputs[i];
    }
  }
  return NULL;
}

/* Triton batches two requests only if they carry the same inputs with the same shapes
 * (after the batch dimension), except inputs that allow ragged batches. */
static bool
sched_compatible(const host_model_config* cfg, const TRITONBACKEND_Request* a,
                 const TRITONBACKEND_Request* b)
{
  if (a->input_count != b->input_count) {
    return false;
  }
  for (uint32_t i = 0; i < a->input_count; ++i) {
    const TRITONBACKEND_Input* x = a->inputs[i];
    const TRITONBACKEND_Input* y = sched_input(b, x->name);
    if (y == NULL) {
      return false;
    }
    const host_tensor_config* ic = sched_input_config(cfg, x->name);
    if (ic != NULL && ic->allow_ragged_batch) {
      continue;
    }
    if (x->dims_count != y->dims_count || x->dtype != y->dtype) {
      return false;
    }
    uint32_t skip = (cfg->max_batch_size > 0 && (ic == NULL || !ic->is_shape_tensor)) ? 1 : 0;
    for (uint32_t d = skip; d < x->dims_count; ++d) {
      if (x->shape[d] != y->shape[d]) {
        return false;
      }
    }
  }
  return true;
}

static bool
sched_is_preferred(const host_model_config* cfg, int64_t total, int64_t* max_pref)
{
  bool hit = false;
  *max_pref = cfg->max_batch_size;
  for (int i = 0; i < cfg->preferred_count; ++i) {
    hit = hit || cfg->preferred_batch_sizes[i] == total;
    if (i == 0 || cfg->preferred_batch_sizes[i] > *max_pref) {
      *max_pref = cfg->preferred_batch_sizes[i];
    }
  }
  return hit;
}

/* Removes the first n requests of the queue into out. Caller holds the lock. */
static void
sched_pop(host_queue* q, TRITONBACKEND_Request** out, size_t n)
{
  for (size_t i = 0; i < n; ++i) {
    TRITONBACKEND_Request* r = q->head;
    q->head = r->next;
    r->next = NULL;
    out[i] = r;
  }
  if (q->head == NULL) {
    q->tail = NULL;
  }
  q->length -= n;
}

/* Blocks until a batch is ready; returns its size, or 0 when the model is shutting down and
 * the queue is empty. *out grows as needed. */
static size_t
sched_take(TRITONBACKEND_Model* m, TRITONBACKEND_Request*** out, size_t* cap)
{
  host_queue* q = &m->queue;
  const host_model_config* cfg = &m->cfg;
  pthread_mutex_lock(&q->mu);
  for (;;) {
    while (q->head == NULL && !q->shutdown) {
      pthread_cond_wait(&q->cv, &q->mu);
    }
    if (q->head == NULL) {
      pthread_mutex_unlock(&q->mu);
      return 0;
    }
    size_t n = 1;
    bool full = true; /* nothing more can join */
    if (cfg->dynamic_batching && cfg->max_batch_size > 0) {
      int64_t total = q->head->batch_size;
      TRITONBACKEND_Request* r = q->head->next;
      full = total >= cfg->max_batch_size;
      while (!full && r != NULL) {
        if (!sched_compatible(cfg, q->head, r) ||
            total + r->batch_size > cfg->max_batch_size) {
          full = true;
          break;
        }
        total += r->batch_size;
        n++;
        full = total >= cfg->max_batch_size;
        r = r->next;
      }
      int64_t max_pref;
      bool preferred = sched_is_preferred(cfg, total, &max_pref);
      uint64_t deadline = q->head->enqueue_ns + cfg->max_queue_delay_us * 1000ull;
      uint64_t now = host_now_ns();
      if (!full && !preferred && total < max_pref && now < deadline && !q->shutdown) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t wait_ns = deadline - now;
        ts.tv_sec += (time_t)(wait_ns / 1000000000ull);
        ts.tv_nsec += (long)(wait_ns % 1000000000ull);
        if (ts.tv_nsec >= 1000000000L) {
          ts.tv_sec++;
          ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&q->cv, &q->mu, &ts);
        continue; /* re-evaluate: more may have arrived, or another instance took it */
      }
    }
    if (n > *cap) {
      *cap = n * 2;
      *out = realloc(*out, *cap * sizeof(TRITONBACKEND_Request*));
    }
    sched_pop(q, *out, n);
    pthread_mutex_unlock(&q->mu);
    return n;
  }
}

/* One Execute call, then the ownership bookkeeping of its return value. */
static void
sched_execute(TRITONBACKEND_ModelInstance* inst, TRITONBACKEND_Request** batch, size_t n,
              TRITONBACKEND_Request*** handed, size_t* handed_cap)
{
  TRITONBACKEND_Model* m = inst->model;
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    total += (uint64_t)batch[i]->batch_size;
    pthread_mutex_lock(&batch[i]->lock);
    batch[i]->state = REQ_EXECUTING;
    batch[i]->executed_by = inst;
    batch[i]->in_execute = true;
    pthread_mutex_unlock(&batch[i]->lock);
  }
  pthread_mutex_lock(&m->lock);
  m->stats.execute_count++;
  histogram_add(&m->stats.batch_requests, n);
  histogram_add(&m->stats.batch_total, total);
  m->outstanding += n;
  pthread_mutex_unlock(&m->lock);
  inst->stats.execute_count++;
  inst->stats.requests += n;

  /* The array belongs to the host: a separate copy, scrubbed after the call. */
  if (n > *handed_cap) {
    *handed_cap = n * 2;
    *handed = realloc(*handed, *handed_cap * sizeof(TRITONBACKEND_Request*));
  }
  memcpy(*handed, batch, n * sizeof(TRITONBACKEND_Request*));
  HLOG_VERBOSE("model %s, instance %s, executing %zu requests", m->name, inst->name, n);
  TRITONSERVER_Error* err = m->backend->execute(inst, *handed, (uint32_t)n);
  memset(*handed, 0xDB, n * sizeof(TRITONBACKEND_Request*));

  char* msg = host_error_consume(err, "TRITONBACKEND_ModelInstanceExecute");
  if (msg == NULL) {
    pthread_mutex_lock(&m->lock);
    m->stats.backend_owned += n;
    pthread_mutex_unlock(&m->lock);
  }
  for (size_t i = 0; i < n; ++i) {
    TRITONBACKEND_Request* r = batch[i];
    pthread_mutex_lock(&r->lock);
    host_request_state st = r->state;
    bool answered = r->answered;
    if (msg == NULL && st == REQ_EXECUTING) {
      r->state = REQ_BACKEND;
    } else if (msg != NULL && st == REQ_EXECUTING) {
      r->state = REQ_HOST_ANSWERED;
      r->answered = true;
    }
    r->in_execute = false;
    pthread_mutex_unlock(&r->lock);
    if (msg == NULL) {
      continue;
    }
    /* Execute failed: the requests were still Triton's, which answers each with the error. */
    if (st == REQ_RELEASED) {
      contracts_breach("ModelInstanceExecute of '%s' returned an error after releasing request "
                       "'%s' (when Execute fails the requests belong to Triton)",
                       inst->name, host_request_label(r));
      continue;
    }
    if (answered) {
      contracts_breach("ModelInstanceExecute of '%s' returned an error after sending a response "
                       "for request '%s'", inst->name, host_request_label(r));
    } else {
      call_deliver(r->call, requests_error_json(msg), true);
    }
    pthread_mutex_lock(&m->lock);
    m->outstanding--;
    m->stats.host_error_responses++;
    pthread_cond_broadcast(&m->outstanding_cv);
    pthread_mutex_unlock(&m->lock);
    requests_retire(r);
  }
  free(msg);
}

static void*
sched_instance_main(void* arg)
{
  TRITONBACKEND_ModelInstance* inst = arg;
  inst->stats.thread_id = host_gettid();
  TRITONBACKEND_Request** batch = NULL;
  TRITONBACKEND_Request** handed = NULL;
  size_t cap = 0, handed_cap = 0;
  for (;;) {
    size_t n = sched_take(inst->model, &batch, &cap);
    if (n == 0) {
      break;
    }
    sched_execute(inst, batch, n, &handed, &handed_cap);
  }
  free(batch);
  free(handed);
  return NULL;
}

int
scheduler_start(TRITONBACKEND_Model* model)
{
  for (int i = 0; i < model->instance_count; ++i) {
    TRITONBACKEND_ModelInstance* inst = model->instances[i];
    if (pthread_create(&inst->thread, NULL, sched_instance_main, inst) != 0) {
      return -1;
    }
    inst->thread_started = true;
  }
  return 0;
}

void
scheduler_close(TRITONBACKEND_Model* model)
{
  host_queue* q = &model->queue;
  pthread_mutex_lock(&q->mu);
  q->closed = true;
  pthread_mutex_unlock(&q->mu);
}

void
scheduler_stop(TRITONBACKEND_Model* model)
{
  host_queue* q = &model->queue;
  pthread_mutex_lock(&q->mu);
  q->shutdown = true;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
  for (int i = 0; i < model->instance_count; ++i) {
    TRITONBACKEND_ModelInstance* inst = model->instances[i];
    if (inst->thread_started) {
      pthread_join(inst->thread, NULL);
      inst->thread_started = false;
    }
  }
}
