/*
 * ModelConfig through libprotobuf (model_config_proto.cc): the C side of the host sees cJSON
 * only.
 */
#ifndef TRITON_HOST_MODEL_CONFIG_PROTO_H
#define TRITON_HOST_MODEL_CONFIG_PROTO_H

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parses config.pbtxt as protobuf's TextFormat does and returns the fields written as JSON
 * (int64 values as strings, enums by name). NULL and *err ("LINE:COL: message", malloc'd) on
 * a text-format error. */
cJSON* model_config_parse_text(const char* text, char** err);
/* The JSON Triton hands a backend: the message printed by protobuf's JSON printer with
 * always_print_primitive_fields and preserve_proto_field_names, then, as Triton does, int64
 * fields as JSON numbers. NULL and *err (malloc'd) when the JSON is not a ModelConfig. */
char* model_config_emit(const cJSON* config, char** err);

#ifdef __cplusplus
}
#endif

#endif /* TRITON_HOST_MODEL_CONFIG_PROTO_H */
