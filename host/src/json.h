/*
 * A small JSON reader for request files. Unlike cJSON it keeps each number's text, so INT64 /
 * UINT64 tensor elements and INT parameters arrive exactly (9007199254740993 stays itself),
 * and it tells integers from fractions the way Triton's HTTP front end does.
 */
#ifndef TRITON_HOST_JSON_H
#define TRITON_HOST_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum jv_type { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT } jv_type;

typedef struct jv {
  jv_type type;
  bool b;
  char* text;     /* number text, or string bytes (NUL-terminated, may contain NULs) */
  size_t len;     /* string byte length */
  bool is_int;    /* number without fraction or exponent */
  struct jv** items; /* array elements or object values */
  char** keys;       /* object keys */
  size_t count;
} jv;

jv* json_parse(const char* text, size_t len, char** err);
void json_free(jv* v);
const jv* json_get(const jv* obj, const char* key);

#endif /* TRITON_HOST_JSON_H */
