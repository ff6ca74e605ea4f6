/*
 * The model configuration as Triton hands it to a backend.
 *
 * Three steps, as in Triton core (model_config_utils.cc):
 *   1. config.pbtxt is read by protobuf's TextFormat into the fields written, as JSON
 *      (model_config_proto.cc);
 *   2. model_config_normalize fills in what Triton adds: the name from the directory, the
 *      default version policy, pinned-memory defaults, dynamic batching's preferred size,
 *      instance group names, kinds, counts and GPUs (failing the load where Triton does);
 *   3. model_config_emit prints it with protobuf's JSON printer (model_config_proto.cc).
 * The fixtures in shared/fixtures/triton-2.70/model_config.*.json are the reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

/* ---------------------------------------------------------------- normalisation */

static cJSON*
mc_obj(cJSON* parent, const char* name)
{
  cJSON* o = cJSON_GetObjectItemCaseSensitive(parent, name);
  if (!cJSON_IsObject(o)) {
    cJSON_DeleteItemFromObjectCaseSensitive(parent, name);
    o = cJSON_AddObjectToObject(parent, name);
  }
  return o;
}

static const char*
mc_str(const cJSON* parent, const char* name)
{
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(parent, name);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static double
mc_num(const cJSON* parent, const char* name, double dflt)
{
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(parent, name);
  if (cJSON_IsNumber(v)) {
    return v->valuedouble;
  }
  if (cJSON_IsString(v)) {
    char* end = NULL;
    double d = strtod(v->valuestring, &end);
    if (end != v->valuestring && *end == '\0') {
      return d;
    }
  }
  return dflt;
}

static void
mc_set(cJSON* parent, const char* name, cJSON* value)
{
  if (cJSON_GetObjectItemCaseSensitive(parent, name) != NULL) {
    cJSON_ReplaceItemInObjectCaseSensitive(parent, name, value);
  } else {
    cJSON_AddItemToObject(parent, name, value);
  }
}

/* Triton's message lists the GPUs that meet the minimum compute capability. */
static char*
mc_gpu_list(int gpu_count)
{
  size_t cap = 16 + (size_t)gpu_count * 8;
  char* s = calloc(1, cap);
  for (int i = 0; i < gpu_count; ++i) {
    size_t used = strlen(s);
    snprintf(s + used, cap - used, "%s%d", i ? ", " : "", i);
  }
  return s;
}

static char*
mc_normalize_groups(cJSON* sparse, const char* model_name, int gpu_count)
{
  cJSON* groups = cJSON_GetObjectItemCaseSensitive(sparse, "instance_group");
  if (!cJSON_IsArray(groups) || cJSON_GetArraySize(groups) == 0) {
    /* No group: Triton creates one named after the model, count 1, on every GPU if any. */
    cJSON_DeleteItemFromObjectCaseSensitive(sparse, "instance_group");
    groups = cJSON_AddArrayToObject(sparse, "instance_group");
    cJSON* g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "name", model_name);
    cJSON_AddStringToObject(g, "kind", "KIND_AUTO");
    cJSON_AddNumberToObject(g, "count", 1);
    cJSON_AddItemToArray(groups, g);
  }
  int index = 0;
  for (cJSON* g = groups->child; g != NULL; g = g->next, ++index) {
    if (!cJSON_IsObject(g)) {
      return host_printf("instance_group entries must be messages");
    }
    if (mc_str(g, "name")[0] == '\0') {
      char name[512];
      snprintf(name, sizeof(name), "%s_%d", model_name, index);
      mc_set(g, "name", cJSON_CreateString(name));
    }
    const char* gname = mc_str(g, "name");
    double count = mc_num(g, "count", 0);
    if (count < 0) {
      return host_printf("Invalid argument: instance group %s of model %s has invalid count "
                         "value %.0f", gname, model_name, count);
    }
    if (count == 0) {
      mc_set(g, "count", cJSON_CreateNumber(1));
    }
    const char* kind = mc_str(g, "kind");
    cJSON* gpus = cJSON_GetObjectItemCaseSensitive(g, "gpus");
    int listed = cJSON_IsArray(gpus) ? cJSON_GetArraySize(gpus) : 0;
    if (kind[0] == '\0' || strcmp(kind, "KIND_AUTO") == 0) {
      kind = gpu_count > 0 ? "KIND_GPU" : "KIND_CPU";
      mc_set(g, "kind", cJSON_CreateString(kind));
      if (gpu_count == 0 && listed > 0) {
        mc_set(g, "gpus", cJSON_CreateArray());
        listed = 0;
      }
    }
    if (strcmp(kind, "KIND_GPU") == 0) {
      if (listed == 0) {
        if (gpu_count == 0) {
          return host_printf("Invalid argument: instance group %s of model %s has kind KIND_GPU "
                             "but no GPUs are available", gname, model_name);
        }
        cJSON* all = cJSON_CreateArray();
        for (int i = 0; i < gpu_count; ++i) {
          cJSON_AddItemToArray(all, cJSON_CreateNumber(i));
        }
        mc_set(g, "gpus", all);
      } else {
        for (cJSON* id = gpus->child; id != NULL; id = id->next) {
          double d = cJSON_IsNumber(id) ? id->valuedouble : -1;
          if (d < 0 || d >= gpu_count) {
            char* list = mc_gpu_list(gpu_count);
            char* e = host_printf(
                "Invalid argument: instance group %s of model %s specifies invalid or "
                "unsupported gpu id %.0f. GPUs with at least the minimum required CUDA compute "
                "compatibility of 7.500000 are: %s",
                gname, model_name, d, list);
            free(list);
            return e;
          }
        }
      }
    } else if (listed > 0) {
      return host_printf("Invalid argument: instance group %s of model %s has kind %s but "
                         "specifies one or more GPUs", gname, model_name, kind);
    }
  }
  return NULL;
}

char*
model_config_normalize(cJSON* sparse, const char* model_name, int gpu_count)
{
  const char* name = mc_str(sparse, "name");
  if (name[0] == '\0') {
    mc_set(sparse, "name", cJSON_CreateString(model_name));
  } else if (strcmp(name, model_name) != 0) {
    return host_printf("Invalid argument: model name '%s' in configuration does not match the "
                       "model directory name '%s'", name, model_name);
  }
  if (mc_str(sparse, "backend")[0] == '\0') {
    return host_printf("Invalid argument: model '%s' must name its backend in config.pbtxt "
                       "(backend: \"...\"); the host loads backends by name", model_name);
  }
  if (mc_num(sparse, "max_batch_size", 0) < 0) {
    return host_printf("Invalid argument: 'max_batch_size' must be non-negative value for %s",
                       model_name);
  }
  cJSON* vp = cJSON_GetObjectItemCaseSensitive(sparse, "version_policy");
  if (!cJSON_IsObject(vp) || vp->child == NULL) {
    cJSON* p = cJSON_CreateObject();
    cJSON* latest = cJSON_AddObjectToObject(p, "latest");
    cJSON_AddNumberToObject(latest, "num_versions", 1);
    mc_set(sparse, "version_policy", p);
  }
  cJSON* opt = mc_obj(sparse, "optimization");
  if (cJSON_GetObjectItemCaseSensitive(opt, "input_pinned_memory") == NULL) {
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(opt, "input_pinned_memory"), "enable", 1);
  }
  if (cJSON_GetObjectItemCaseSensitive(opt, "output_pinned_memory") == NULL) {
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(opt, "output_pinned_memory"), "enable", 1);
  }
  cJSON* db = cJSON_GetObjectItemCaseSensitive(sparse, "dynamic_batching");
  double mbs = mc_num(sparse, "max_batch_size", 0);
  if (cJSON_IsObject(db) && mbs > 0) {
    cJSON* pref = cJSON_GetObjectItemCaseSensitive(db, "preferred_batch_size");
    if (!cJSON_IsArray(pref) || cJSON_GetArraySize(pref) == 0) {
      cJSON* arr = cJSON_CreateArray();
      cJSON_AddItemToArray(arr, cJSON_CreateNumber(mbs));
      mc_set(db, "preferred_batch_size", arr);
    }
  }
  return mc_normalize_groups(sparse, model_name, gpu_count);
}

/* ---------------------------------------------------------------- typed view */

static void
mc_dims(const cJSON* arr, int64_t** out, int* count)
{
  int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
  *out = calloc((size_t)n + 1, sizeof(int64_t));
  *count = n;
  int i = 0;
  for (const cJSON* e = cJSON_IsArray(arr) ? arr->child : NULL; e != NULL; e = e->next) {
    (*out)[i++] = cJSON_IsNumber(e)   ? (int64_t)e->valuedouble
                  : cJSON_IsString(e) ? strtoll(e->valuestring, NULL, 10)
                                      : 0;
  }
}

static bool
mc_bool(const cJSON* parent, const char* name)
{
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(parent, name));
}

static char*
mc_tensors(const cJSON* arr, host_tensor_config** out, int* count, const char* what)
{
  int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
  *out = calloc((size_t)n + 1, sizeof(host_tensor_config));
  *count = n;
  int i = 0;
  for (const cJSON* t = n ? arr->child : NULL; t != NULL; t = t->next, ++i) {
    host_tensor_config* tc = &(*out)[i];
    tc->name = strdup(mc_str(t, "name"));
    const cJSON* dt = cJSON_GetObjectItemCaseSensitive(t, "data_type");
    tc->dtype = cJSON_IsNumber(dt) ? (TRITONSERVER_DataType)dt->valuedouble
                                   : dtype_from_config(mc_str(t, "data_type"));
    mc_dims(cJSON_GetObjectItemCaseSensitive(t, "dims"), &tc->dims, &tc->dims_count);
    const cJSON* reshape = cJSON_GetObjectItemCaseSensitive(t, "reshape");
    if (cJSON_IsObject(reshape)) {
      tc->has_reshape = true;
      mc_dims(cJSON_GetObjectItemCaseSensitive(reshape, "shape"), &tc->reshape,
              &tc->reshape_count);
    }
    tc->optional = mc_bool(t, "optional");
    tc->allow_ragged_batch = mc_bool(t, "allow_ragged_batch");
    tc->is_shape_tensor = mc_bool(t, "is_shape_tensor");
    if (tc->name[0] == '\0') {
      return host_printf("Invalid argument: model %s must specify 'name'", what);
    }
    if (tc->dtype == TRITONSERVER_TYPE_INVALID) {
      return host_printf("Invalid argument: model %s '%s' must specify 'data_type'", what,
                         tc->name);
    }
    for (int j = 0; j < i; ++j) {
      if (strcmp((*out)[j].name, tc->name) == 0) {
        return host_printf("Invalid argument: duplicate %s name '%s'", what, tc->name);
      }
    }
  }
  return NULL;
}

char*
model_config_extract(const cJSON* sparse, host_model_config* out)
{
  memset(out, 0, sizeof(*out));
  out->backend = strdup(mc_str(sparse, "backend"));
  out->max_batch_size = (int64_t)mc_num(sparse, "max_batch_size", 0);
  char* err = mc_tensors(cJSON_GetObjectItemCaseSensitive(sparse, "input"), &out->inputs,
                         &out->input_count, "input");
  if (err == NULL) {
    err = mc_tensors(cJSON_GetObjectItemCaseSensitive(sparse, "output"), &out->outputs,
                     &out->output_count, "output");
  }
  if (err != NULL) {
    return err;
  }
  const cJSON* db = cJSON_GetObjectItemCaseSensitive(sparse, "dynamic_batching");
  if (cJSON_IsObject(db)) {
    out->dynamic_batching = true;
    int n = 0;
    mc_dims(cJSON_GetObjectItemCaseSensitive(db, "preferred_batch_size"),
            &out->preferred_batch_sizes, &n);
    out->preferred_count = n;
    out->max_queue_delay_us = (uint64_t)mc_num(db, "max_queue_delay_microseconds", 0);
  }
  const cJSON* groups = cJSON_GetObjectItemCaseSensitive(sparse, "instance_group");
  int n = cJSON_IsArray(groups) ? cJSON_GetArraySize(groups) : 0;
  out->groups = calloc((size_t)n + 1, sizeof(host_group_config));
  out->group_count = n;
  int i = 0;
  for (const cJSON* g = n ? groups->child : NULL; g != NULL; g = g->next, ++i) {
    host_group_config* gc = &out->groups[i];
    gc->name = strdup(mc_str(g, "name"));
    const char* kind = mc_str(g, "kind");
    gc->kind = strcmp(kind, "KIND_GPU") == 0     ? TRITONSERVER_INSTANCEGROUPKIND_GPU
               : strcmp(kind, "KIND_MODEL") == 0 ? TRITONSERVER_INSTANCEGROUPKIND_MODEL
                                                 : TRITONSERVER_INSTANCEGROUPKIND_CPU;
    gc->count = (int)mc_num(g, "count", 1);
    int64_t* ids = NULL;
    mc_dims(cJSON_GetObjectItemCaseSensitive(g, "gpus"), &ids, &gc->gpu_count);
    gc->gpus = calloc((size_t)gc->gpu_count + 1, sizeof(int));
    for (int k = 0; k < gc->gpu_count; ++k) {
      gc->gpus[k] = (int)ids[k];
    }
    free(ids);
  }
  return NULL;
}

static void
mc_free_tensors(host_tensor_config* t, int n)
{
  for (int i = 0; i < n; ++i) {
    free(t[i].name);
    free(t[i].dims);
    free(t[i].reshape);
  }
  free(t);
}

void
model_config_free(host_model_config* cfg)
{
  mc_free_tensors(cfg->inputs, cfg->input_count);
  mc_free_tensors(cfg->outputs, cfg->output_count);
  free(cfg->preferred_batch_sizes);
  for (int i = 0; i < cfg->group_count; ++i) {
    free(cfg->groups[i].name);
    free(cfg->groups[i].gpus);
  }
  free(cfg->groups);
  free(cfg->backend);
  memset(cfg, 0, sizeof(*cfg));
}

/* ---------------------------------------------------------------- ModelSetConfig */

char*
model_config_merge_set(cJSON* sparse, const char* new_json, size_t len)
{
  cJSON* doc = cJSON_ParseWithLength(new_json, len);
  if (!cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    return host_printf("failed to parse the model configuration JSON passed to "
                       "TRITONBACKEND_ModelSetConfig");
  }
  /* The whole message must be a ModelConfig, as protobuf's JSON parser checks. */
  char* err = NULL;
  free(model_config_emit(doc, &err));
  if (err != NULL) {
    cJSON_Delete(doc);
    return err;
  }
  static const char* const honoured[] = {"input", "output", "max_batch_size"};
  for (size_t i = 0; i < sizeof(honoured) / sizeof(honoured[0]); ++i) {
    cJSON* v = cJSON_GetObjectItemCaseSensitive(doc, honoured[i]);
    if (v != NULL) {
      mc_set(sparse, honoured[i], cJSON_Duplicate(v, true));
    }
  }
  /* The scheduling choice only when the config had none. */
  bool has_scheduler = cJSON_GetObjectItemCaseSensitive(sparse, "dynamic_batching") != NULL ||
                       cJSON_GetObjectItemCaseSensitive(sparse, "sequence_batching") != NULL ||
                       cJSON_GetObjectItemCaseSensitive(sparse, "ensemble_scheduling") != NULL;
  if (!has_scheduler) {
    static const char* const choices[] = {"dynamic_batching", "sequence_batching",
                                          "ensemble_scheduling"};
    for (size_t i = 0; i < 3; ++i) {
      cJSON* v = cJSON_GetObjectItemCaseSensitive(doc, choices[i]);
      if (cJSON_IsObject(v)) {
        mc_set(sparse, choices[i], cJSON_Duplicate(v, true));
        break;
      }
    }
  }
  cJSON_Delete(doc);
  return NULL;
}
