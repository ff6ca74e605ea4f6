/*
 * The model configuration as Triton hands it to a backend.
 *
 * Three steps, as in Triton core (model_config_utils.cc):
 *   1. config.pbtxt is parsed against the schema below into sparse JSON (pbtxt.c);
 *   2. model_config_normalize fills in what Triton adds: the name from the directory, the
 *      default version policy, pinned-memory defaults, dynamic batching's preferred size,
 *      instance group names, kinds, counts and GPUs (failing the load where Triton does);
 *   3. model_config_emit prints it like protobuf's JSON printer with
 *      always_print_primitive_fields: fields in declaration order, every primitive and
 *      repeated field written out, messages and oneof members only when set, enums by name,
 *      and int64 fields as JSON numbers (Triton converts those back from strings).
 * The fixtures in shared/fixtures/triton-2.70/model_config.*.json are the reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "pbschema.h"

/* ---------------------------------------------------------------- enums */

static const char* const mc_data_type[] = {
    "TYPE_INVALID", "TYPE_BOOL",  "TYPE_UINT8", "TYPE_UINT16", "TYPE_UINT32",
    "TYPE_UINT64",  "TYPE_INT8",  "TYPE_INT16", "TYPE_INT32",  "TYPE_INT64",
    "TYPE_FP16",    "TYPE_FP32",  "TYPE_FP64",  "TYPE_STRING", "TYPE_BF16", NULL};
static const char* const mc_group_kind[] = {"KIND_AUTO", "KIND_GPU", "KIND_CPU", "KIND_MODEL",
                                            NULL};
static const char* const mc_secondary_kind[] = {"KIND_NVDLA", NULL};
static const char* const mc_format[] = {"FORMAT_NONE", "FORMAT_NHWC", "FORMAT_NCHW", NULL};
static const char* const mc_batch_input_kind[] = {
    "BATCH_ELEMENT_COUNT",     "BATCH_ACCUMULATED_ELEMENT_COUNT",
    "BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO", "BATCH_MAX_ELEMENT_COUNT_AS_SHAPE",
    "BATCH_ITEM_SHAPE",        "BATCH_ITEM_SHAPE_FLATTEN", NULL};
static const char* const mc_batch_output_kind[] = {"BATCH_SCATTER_WITH_INPUT_SHAPE", NULL};
static const char* const mc_priority[] = {"PRIORITY_DEFAULT", "PRIORITY_MAX", "PRIORITY_MIN",
                                          NULL};
static const char* const mc_timeout_action[] = {"REJECT", "DELAY", NULL};

/* ---------------------------------------------------------------- schema */

#define F_S(n) {.name = n, .type = PB_STRING, .label = PB_SINGLE}
#define F_I(n) {.name = n, .type = PB_INT, .label = PB_SINGLE}
#define F_U(n) {.name = n, .type = PB_UINT, .label = PB_SINGLE}
#define F_B(n) {.name = n, .type = PB_BOOL, .label = PB_SINGLE}
#define F_E(n, e) {.name = n, .type = PB_ENUM, .label = PB_SINGLE, .enums = e}
#define F_M(n, m) {.name = n, .type = PB_MSG, .label = PB_OPTIONAL, .msg = &m}
#define F_ANY(n) {.name = n, .type = PB_ANY, .label = PB_OPTIONAL}
#define F_RS(n) {.name = n, .type = PB_STRING, .label = PB_REPEATED}
#define F_RI(n) {.name = n, .type = PB_INT, .label = PB_REPEATED}
#define F_RM(n, m) {.name = n, .type = PB_MSG, .label = PB_REPEATED, .msg = &m}
#define F_MAP_S(n) {.name = n, .type = PB_STRING, .label = PB_MAP, .key_type = PB_STRING}
#define F_MAP_M(n, m, k) {.name = n, .type = PB_MSG, .label = PB_MAP, .msg = &m, .key_type = k}
#define F_END {.name = NULL}

static const pb_field mc_resource_f[] = {F_S("name"), F_B("global"), F_U("count"), F_END};
static const pb_msg mc_resource = {"ModelRateLimiter.Resource", mc_resource_f};
static const pb_field mc_rate_limiter_f[] = {F_RM("resources", mc_resource), F_U("priority"),
                                             F_END};
static const pb_msg mc_rate_limiter = {"ModelRateLimiter", mc_rate_limiter_f};
static const pb_field mc_secondary_f[] = {F_E("kind", mc_secondary_kind), F_I("device_id"),
                                          F_END};
static const pb_msg mc_secondary = {"ModelInstanceGroup.SecondaryDevice", mc_secondary_f};
static const pb_field mc_group_f[] = {
    F_S("name"), F_E("kind", mc_group_kind), F_I("count"), F_M("rate_limiter", mc_rate_limiter),
    F_RI("gpus"), F_RM("secondary_devices", mc_secondary), F_RS("profile"), F_B("passive"),
    F_S("host_policy"), F_END};
static const pb_msg mc_group = {"ModelInstanceGroup", mc_group_f};
static const pb_field mc_reshape_f[] = {F_RI("shape"), F_END};
static const pb_msg mc_reshape = {"ModelTensorReshape", mc_reshape_f};
static const pb_field mc_input_f[] = {
    F_S("name"), F_E("data_type", mc_data_type), F_E("format", mc_format), F_RI("dims"),
    F_M("reshape", mc_reshape), F_B("is_shape_tensor"), F_B("allow_ragged_batch"),
    F_B("optional"), F_B("is_non_linear_format_io"), F_END};
static const pb_msg mc_input = {"ModelInput", mc_input_f};
static const pb_field mc_output_f[] = {
    F_S("name"), F_E("data_type", mc_data_type), F_RI("dims"), F_M("reshape", mc_reshape),
    F_S("label_filename"), F_B("is_shape_tensor"), F_B("is_non_linear_format_io"), F_END};
static const pb_msg mc_output = {"ModelOutput", mc_output_f};
static const pb_field mc_batch_input_f[] = {
    F_E("kind", mc_batch_input_kind), F_RS("target_name"), F_E("data_type", mc_data_type),
    F_RS("source_input"), F_END};
static const pb_msg mc_batch_input = {"BatchInput", mc_batch_input_f};
static const pb_field mc_batch_output_f[] = {
    F_RS("target_name"), F_E("kind", mc_batch_output_kind), F_RS("source_input"), F_END};
static const pb_msg mc_batch_output = {"BatchOutput", mc_batch_output_f};
static const pb_field mc_latest_f[] = {F_U("num_versions"), F_END};
static const pb_msg mc_latest = {"ModelVersionPolicy.Latest", mc_latest_f};
static const pb_field mc_all_f[] = {F_END};
static const pb_msg mc_all = {"ModelVersionPolicy.All", mc_all_f};
static const pb_field mc_specific_f[] = {F_RI("versions"), F_END};
static const pb_msg mc_specific = {"ModelVersionPolicy.Specific", mc_specific_f};
static const pb_field mc_version_policy_f[] = {
    F_M("latest", mc_latest), F_M("all", mc_all), F_M("specific", mc_specific), F_END};
static const pb_msg mc_version_policy = {"ModelVersionPolicy", mc_version_policy_f};
static const pb_field mc_graph_f[] = {F_I("level"), F_END};
static const pb_msg mc_graph = {"ModelOptimizationPolicy.Graph", mc_graph_f};
static const pb_field mc_cuda_f[] = {
    F_B("graphs"), F_B("busy_wait_events"),
    {.name = "graph_spec", .type = PB_ANY, .label = PB_REPEATED}, F_B("output_copy_stream"),
    F_END};
static const pb_msg mc_cuda = {"ModelOptimizationPolicy.Cuda", mc_cuda_f};
static const pb_field mc_accel_f[] = {F_S("name"), F_MAP_S("parameters"), F_END};
static const pb_msg mc_accel = {"ModelOptimizationPolicy.ExecutionAccelerators.Accelerator",
                                mc_accel_f};
static const pb_field mc_accels_f[] = {F_RM("gpu_execution_accelerator", mc_accel),
                                       F_RM("cpu_execution_accelerator", mc_accel), F_END};
static const pb_msg mc_accels = {"ModelOptimizationPolicy.ExecutionAccelerators", mc_accels_f};
static const pb_field mc_pinned_f[] = {F_B("enable"), F_END};
static const pb_msg mc_pinned = {"ModelOptimizationPolicy.PinnedMemoryBuffer", mc_pinned_f};
static const pb_field mc_optimization_f[] = {
    F_M("graph", mc_graph), F_E("priority", mc_priority), F_M("cuda", mc_cuda),
    F_M("execution_accelerators", mc_accels), F_M("input_pinned_memory", mc_pinned),
    F_M("output_pinned_memory", mc_pinned), F_U("gather_kernel_buffer_threshold"),
    F_B("eager_batching"), F_END};
static const pb_msg mc_optimization = {"ModelOptimizationPolicy", mc_optimization_f};
static const pb_field mc_queue_policy_f[] = {
    F_E("timeout_action", mc_timeout_action), F_U("default_timeout_microseconds"),
    F_B("allow_timeout_override"), F_U("max_queue_size"), F_END};
static const pb_msg mc_queue_policy = {"ModelQueuePolicy", mc_queue_policy_f};
static const pb_field mc_dynamic_f[] = {
    {.name = "preferred_batch_size", .type = PB_INT, .label = PB_REPEATED},
    F_U("max_queue_delay_microseconds"), F_B("preserve_ordering"), F_U("priority_levels"),
    F_U("default_priority_level"), F_M("default_queue_policy", mc_queue_policy),
    F_MAP_M("priority_queue_policy", mc_queue_policy, PB_UINT), F_END};
static const pb_msg mc_dynamic = {"ModelDynamicBatching", mc_dynamic_f};
static const pb_field mc_parameter_f[] = {F_S("string_value"), F_END};
static const pb_msg mc_parameter = {"ModelParameter", mc_parameter_f};
static const pb_field mc_warmup_input_f[] = {
    F_E("data_type", mc_data_type), F_RI("dims"),
    {.name = "zero_data", .type = PB_BOOL, .label = PB_OPTIONAL},
    {.name = "random_data", .type = PB_BOOL, .label = PB_OPTIONAL},
    {.name = "input_data_file", .type = PB_STRING, .label = PB_OPTIONAL}, F_END};
static const pb_msg mc_warmup_input = {"ModelWarmup.Input", mc_warmup_input_f};
static const pb_field mc_warmup_f[] = {
    F_S("name"), F_U("batch_size"), F_MAP_M("inputs", mc_warmup_input, PB_STRING), F_U("count"),
    F_END};
static const pb_msg mc_warmup = {"ModelWarmup", mc_warmup_f};
static const pb_field mc_operations_f[] = {F_RS("op_library_filename"), F_END};
static const pb_msg mc_operations = {"ModelOperations", mc_operations_f};
static const pb_field mc_transaction_f[] = {F_B("decoupled"), F_END};
static const pb_msg mc_transaction = {"ModelTransactionPolicy", mc_transaction_f};
static const pb_field mc_agent_f[] = {F_S("name"), F_MAP_S("parameters"), F_END};
static const pb_msg mc_agent = {"ModelRepositoryAgents.Agent", mc_agent_f};
static const pb_field mc_agents_f[] = {F_RM("agents", mc_agent), F_END};
static const pb_msg mc_agents = {"ModelRepositoryAgents", mc_agents_f};
static const pb_field mc_cache_f[] = {F_B("enable"), F_END};
static const pb_msg mc_cache = {"ModelResponseCache", mc_cache_f};

static const pb_field mc_config_f[] = {
    F_S("name"),
    F_S("platform"),
    F_S("backend"),
    F_S("runtime"),
    F_M("version_policy", mc_version_policy),
    F_I("max_batch_size"),
    F_RM("input", mc_input),
    F_RM("output", mc_output),
    F_RM("batch_input", mc_batch_input),
    F_RM("batch_output", mc_batch_output),
    F_M("optimization", mc_optimization),
    F_M("dynamic_batching", mc_dynamic),
    F_ANY("sequence_batching"),
    F_ANY("ensemble_scheduling"),
    F_RM("instance_group", mc_group),
    F_S("default_model_filename"),
    F_MAP_S("cc_model_filenames"),
    F_MAP_S("metric_tags"),
    F_MAP_M("parameters", mc_parameter, PB_STRING),
    F_RM("model_warmup", mc_warmup),
    F_M("model_operations", mc_operations),
    F_M("model_transaction_policy", mc_transaction),
    F_M("model_repository_agents", mc_agents),
    F_M("response_cache", mc_cache),
    F_ANY("model_metrics"),
    F_END};
static const pb_msg mc_config = {"ModelConfig", mc_config_f};

const struct pb_msg*
model_config_schema(void)
{
  return &mc_config;
}

/* ---------------------------------------------------------------- emission */

static cJSON* mc_emit_msg(const cJSON* sparse, const pb_msg* msg, char** err);

/* Converts one primitive value to its JSON form, accepting proto-JSON spellings (int64 as a
 * string, enum as a number). */
static cJSON*
mc_emit_scalar(const cJSON* v, const pb_field* f, pb_type type, char** err)
{
  switch (type) {
    case PB_STRING:
      if (cJSON_IsString(v)) {
        return cJSON_CreateString(v->valuestring);
      }
      break;
    case PB_INT:
    case PB_UINT:
    case PB_FLOAT:
      if (cJSON_IsNumber(v)) {
        return cJSON_CreateNumber(v->valuedouble);
      }
      if (cJSON_IsString(v)) {
        char* end = NULL;
        double d = strtod(v->valuestring, &end);
        if (end != v->valuestring && *end == '\0') {
          return cJSON_CreateNumber(d);
        }
      }
      break;
    case PB_BOOL:
      if (cJSON_IsBool(v)) {
        return cJSON_CreateBool(cJSON_IsTrue(v));
      }
      break;
    case PB_ENUM:
      if (cJSON_IsString(v)) {
        for (int i = 0; f->enums[i] != NULL; ++i) {
          if (strcmp(f->enums[i], v->valuestring) == 0) {
            return cJSON_CreateString(f->enums[i]);
          }
        }
      } else if (cJSON_IsNumber(v)) {
        int n = 0;
        while (f->enums[n] != NULL) {
          n++;
        }
        if (v->valuedouble >= 0 && v->valuedouble < n) {
          return cJSON_CreateString(f->enums[(int)v->valuedouble]);
        }
      }
      break;
    default:
      break;
  }
  if (*err == NULL) {
    *err = host_printf("invalid value for model config field '%s'", f->name);
  }
  return NULL;
}

static cJSON*
mc_emit_value(const cJSON* v, const pb_field* f, char** err)
{
  if (f->type == PB_ANY) {
    return cJSON_Duplicate(v, true);
  }
  if (f->type == PB_MSG) {
    if (!cJSON_IsObject(v)) {
      if (*err == NULL) {
        *err = host_printf("model config field '%s' must be a message", f->name);
      }
      return NULL;
    }
    return mc_emit_msg(v, f->msg, err);
  }
  return mc_emit_scalar(v, f, f->type, err);
}

static cJSON*
mc_default(const pb_field* f)
{
  switch (f->type) {
    case PB_STRING: return cJSON_CreateString("");
    case PB_BOOL: return cJSON_CreateFalse();
    case PB_ENUM: return cJSON_CreateString(f->enums[0]);
    default: return cJSON_CreateNumber(0);
  }
}

static cJSON*
mc_emit_msg(const cJSON* sparse, const pb_msg* msg, char** err)
{
  /* Every key written must be a field of the message. */
  for (const cJSON* c = sparse->child; c != NULL; c = c->next) {
    bool known = false;
    for (const pb_field* f = msg->fields; f->name != NULL && !known; ++f) {
      known = strcmp(f->name, c->string) == 0;
    }
    if (!known && *err == NULL) {
      *err = host_printf("message type \"inference.%s\" has no field named \"%s\"", msg->name,
                         c->string);
    }
  }
  cJSON* out = cJSON_CreateObject();
  for (const pb_field* f = msg->fields; f->name != NULL && *err == NULL; ++f) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(sparse, f->name);
    cJSON* item = NULL;
    switch (f->label) {
      case PB_SINGLE:
        item = (v != NULL && !cJSON_IsNull(v)) ? mc_emit_value(v, f, err) : mc_default(f);
        break;
      case PB_OPTIONAL:
        if (v != NULL && !cJSON_IsNull(v)) {
          item = mc_emit_value(v, f, err);
        }
        break;
      case PB_REPEATED:
        item = cJSON_CreateArray();
        if (cJSON_IsArray(v)) {
          for (const cJSON* e = v->child; e != NULL && *err == NULL; e = e->next) {
            cJSON* x = mc_emit_value(e, f, err);
            if (x != NULL) {
              cJSON_AddItemToArray(item, x);
            }
          }
        } else if (v != NULL && !cJSON_IsNull(v)) {
          cJSON* x = mc_emit_value(v, f, err);
          if (x != NULL) {
            cJSON_AddItemToArray(item, x);
          }
        }
        break;
      case PB_MAP:
        item = cJSON_CreateObject();
        if (cJSON_IsObject(v)) {
          for (const cJSON* e = v->child; e != NULL && *err == NULL; e = e->next) {
            cJSON* x = mc_emit_value(e, f, err);
            if (x != NULL) {
              cJSON_AddItemToObject(item, e->string, x);
            }
          }
        } else if (v != NULL && !cJSON_IsNull(v) && *err == NULL) {
          *err = host_printf("model config field '%s' must be a map", f->name);
        }
        break;
    }
    if (item != NULL) {
      cJSON_AddItemToObject(out, f->name, item);
    }
  }
  if (*err != NULL) {
    cJSON_Delete(out);
    return NULL;
  }
  return out;
}

char*
model_config_emit(const cJSON* sparse, char** err)
{
  *err = NULL;
  cJSON* full = mc_emit_msg(sparse, &mc_config, err);
  if (full == NULL) {
    return NULL;
  }
  char* s = cJSON_PrintUnformatted(full);
  cJSON_Delete(full);
  return s;
}

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
  /* Validate the whole message against the schema first, as protobuf's JSON parser would. */
  char* err = NULL;
  cJSON* check = mc_emit_msg(doc, &mc_config, &err);
  cJSON_Delete(check);
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
