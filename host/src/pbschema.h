/*
 * A protobuf message schema, just detailed enough to read model_config.proto's text format and
 * print the JSON Triton hands a backend (protobuf's JSON printer with
 * always_print_primitive_fields and preserve_proto_field_names). Fields are listed in
 * declaration order, which is the order the JSON printer uses.
 */
#ifndef TRITON_HOST_PBSCHEMA_H
#define TRITON_HOST_PBSCHEMA_H

typedef enum pb_type {
  PB_STRING,
  PB_INT,   /* int32 / int64 */
  PB_UINT,  /* uint32 / uint64 */
  PB_BOOL,
  PB_FLOAT, /* float / double */
  PB_ENUM,
  PB_MSG,
  PB_ANY    /* a message the host does not model: kept as written */
} pb_type;

typedef enum pb_label {
  PB_SINGLE,   /* primitive: always printed, default when absent */
  PB_OPTIONAL, /* message or oneof member: printed only when set */
  PB_REPEATED, /* printed as [] when empty */
  PB_MAP       /* printed as {} when empty; keys are strings in JSON */
} pb_label;

typedef struct pb_field {
  const char* name;
  pb_type type; /* for maps: the value type */
  pb_label label;
  const struct pb_msg* msg;  /* PB_MSG */
  const char* const* enums;  /* PB_ENUM: NULL-terminated, index = number */
  pb_type key_type;          /* PB_MAP */
} pb_field;

typedef struct pb_msg {
  const char* name;
  const pb_field* fields; /* terminated by a field with name NULL */
} pb_msg;

#endif /* TRITON_HOST_PBSCHEMA_H */
