/*
 * Protobuf text-format parser for config.pbtxt, driven by the ModelConfig schema.
 *
 * Accepts what protobuf's TextFormat accepts in practice: `field: value`, strings in "..." or
 * '...' with C escapes (adjacent strings concatenate), integers (decimal, hex, negative),
 * floats (incl. inf/nan), bare enum identifiers or their numbers, true/false, nested messages
 * as `field { }`, `field: { }` or `field < >`, repeated fields by repetition or `[a, b]` lists
 * (also of messages), map entries `field { key: "k" value: ... }`, `#` comments, and optional
 * `,`/`;` separators. Unknown fields and a repeated singular field are errors, as in protobuf.
 *
 * The result is "sparse" JSON: only the fields written, repeated fields as arrays, maps as
 * objects, enums by name. model_config.c fills defaults and prints it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "pbschema.h"

typedef enum pbtxt_tok_kind {
  TOK_EOF,
  TOK_IDENT,
  TOK_NUMBER,
  TOK_STRING,
  TOK_PUNCT
} pbtxt_tok_kind;

typedef struct pbtxt_parser {
  const char* src;
  size_t pos;
  int line, col;
  /* current token */
  pbtxt_tok_kind kind;
  char* text; /* ident/number text, or decoded string */
  size_t text_len;
  char punct;
  int tok_line, tok_col;
  char* error;
} pbtxt_parser;

static void
pbtxt_fail(pbtxt_parser* p, const char* fmt, ...) HOST_PRINTF(2, 3);

static void
pbtxt_fail(pbtxt_parser* p, const char* fmt, ...)
{
  if (p->error != NULL) {
    return;
  }
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (asprintf(&p->error, "%d:%d: %s", p->tok_line, p->tok_col, msg) < 0) {
    p->error = strdup(msg);
  }
}

static char
pbtxt_peekc(pbtxt_parser* p)
{
  return p->src[p->pos];
}

static char
pbtxt_getc(pbtxt_parser* p)
{
  char c = p->src[p->pos];
  if (c != '\0') {
    p->pos++;
    if (c == '\n') {
      p->line++;
      p->col = 1;
    } else {
      p->col++;
    }
  }
  return c;
}

static void
pbtxt_skip_space(pbtxt_parser* p)
{
  for (;;) {
    char c = pbtxt_peekc(p);
    if (c == '#') {
      while (pbtxt_peekc(p) != '\0' && pbtxt_peekc(p) != '\n') {
        pbtxt_getc(p);
      }
    } else if (isspace((unsigned char)c)) {
      pbtxt_getc(p);
    } else {
      return;
    }
  }
}

static void
pbtxt_append(pbtxt_parser* p, char c)
{
  p->text = realloc(p->text, p->text_len + 2);
  p->text[p->text_len++] = c;
  p->text[p->text_len] = '\0';
}

/* Decodes one quoted string (the opening quote is current) and appends it to text. */
static void
pbtxt_read_string(pbtxt_parser* p)
{
  char quote = pbtxt_getc(p);
  for (;;) {
    char c = pbtxt_getc(p);
    if (c == '\0' || c == '\n') {
      pbtxt_fail(p, "unterminated string");
      return;
    }
    if (c == quote) {
      return;
    }
    if (c != '\\') {
      pbtxt_append(p, c);
      continue;
    }
    c = pbtxt_getc(p);
    switch (c) {
      case 'n': pbtxt_append(p, '\n'); break;
      case 't': pbtxt_append(p, '\t'); break;
      case 'r': pbtxt_append(p, '\r'); break;
      case 'a': pbtxt_append(p, '\a'); break;
      case 'b': pbtxt_append(p, '\b'); break;
      case 'f': pbtxt_append(p, '\f'); break;
      case 'v': pbtxt_append(p, '\v'); break;
      case '\\': case '\'': case '"': case '?': pbtxt_append(p, c); break;
      case 'x': {
        int v = 0, n = 0;
        while (n < 2 && isxdigit((unsigned char)pbtxt_peekc(p))) {
          char h = pbtxt_getc(p);
          v = v * 16 + (isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
          n++;
        }
        if (n == 0) {
          pbtxt_fail(p, "invalid \\x escape");
          return;
        }
        pbtxt_append(p, (char)v);
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0', n = 1;
          while (n < 3 && pbtxt_peekc(p) >= '0' && pbtxt_peekc(p) <= '7') {
            v = v * 8 + (pbtxt_getc(p) - '0');
            n++;
          }
          pbtxt_append(p, (char)v);
        } else {
          pbtxt_fail(p, "invalid escape '\\%c'", c);
          return;
        }
    }
  }
}

static void
pbtxt_next(pbtxt_parser* p)
{
  free(p->text);
  p->text = NULL;
  p->text_len = 0;
  pbtxt_skip_space(p);
  p->tok_line = p->line;
  p->tok_col = p->col;
  char c = pbtxt_peekc(p);
  if (c == '\0') {
    p->kind = TOK_EOF;
    return;
  }
  if (c == '"' || c == '\'') {
    p->kind = TOK_STRING;
    pbtxt_append(p, '\0');
    p->text_len = 0; /* an empty string is still a string */
    p->text[0] = '\0';
    while (p->error == NULL && (pbtxt_peekc(p) == '"' || pbtxt_peekc(p) == '\'')) {
      pbtxt_read_string(p);
      pbtxt_skip_space(p);
    }
    return;
  }
  if (isalpha((unsigned char)c) || c == '_') {
    p->kind = TOK_IDENT;
    while (isalnum((unsigned char)pbtxt_peekc(p)) || pbtxt_peekc(p) == '_' ||
           pbtxt_peekc(p) == '.') {
      pbtxt_append(p, pbtxt_getc(p));
    }
    return;
  }
  if (isdigit((unsigned char)c) || c == '.' ||
      ((c == '-' || c == '+') &&
       (isdigit((unsigned char)p->src[p->pos + 1]) || p->src[p->pos + 1] == '.'))) {
    p->kind = TOK_NUMBER;
    pbtxt_append(p, pbtxt_getc(p));
    while (isalnum((unsigned char)pbtxt_peekc(p)) || pbtxt_peekc(p) == '.' ||
           ((pbtxt_peekc(p) == '-' || pbtxt_peekc(p) == '+') &&
            (p->text[p->text_len - 1] == 'e' || p->text[p->text_len - 1] == 'E'))) {
      pbtxt_append(p, pbtxt_getc(p));
    }
    return;
  }
  p->kind = TOK_PUNCT;
  p->punct = pbtxt_getc(p);
}

static bool
pbtxt_is_punct(pbtxt_parser* p, char c)
{
  return p->kind == TOK_PUNCT && p->punct == c;
}

static const pb_field*
pbtxt_find_field(const pb_msg* msg, const char* name)
{
  for (const pb_field* f = msg->fields; f->name != NULL; ++f) {
    if (strcmp(f->name, name) == 0) {
      return f;
    }
  }
  return NULL;
}

/* Parses an integer token; accepts decimal, hex and octal, and a trailing sign. */
static bool
pbtxt_parse_int(const char* text, bool is_unsigned, double* out)
{
  errno = 0;
  char* end = NULL;
  if (is_unsigned) {
    if (text[0] == '-') {
      return false;
    }
    unsigned long long v = strtoull(text, &end, 0);
    if (errno != 0 || *end != '\0') {
      return false;
    }
    *out = (double)v;
  } else {
    long long v = strtoll(text, &end, 0);
    if (errno != 0 || *end != '\0') {
      return false;
    }
    *out = (double)v;
  }
  return true;
}

static cJSON* pbtxt_parse_message(pbtxt_parser* p, const pb_msg* schema, char close);

/* Parses one scalar value of the given type (current token) into JSON. */
static cJSON*
pbtxt_parse_scalar(pbtxt_parser* p, const pb_field* f, pb_type type)
{
  bool negative = false;
  if (pbtxt_is_punct(p, '-')) { /* "-inf" */
    negative = true;
    pbtxt_next(p);
  }
  cJSON* out = NULL;
  const char* fname = f != NULL ? f->name : "value";
  switch (type) {
    case PB_STRING:
      if (p->kind != TOK_STRING) {
        pbtxt_fail(p, "expected a string for field \"%s\"", fname);
        return NULL;
      }
      out = cJSON_CreateString(p->text);
      break;
    case PB_INT:
    case PB_UINT: {
      double v;
      if (p->kind != TOK_NUMBER || !pbtxt_parse_int(p->text, type == PB_UINT, &v)) {
        pbtxt_fail(p, "expected an integer for field \"%s\"", fname);
        return NULL;
      }
      out = cJSON_CreateNumber(v);
      break;
    }
    case PB_FLOAT: {
      double v;
      if (p->kind == TOK_IDENT && (strcasecmp(p->text, "inf") == 0 ||
                                   strcasecmp(p->text, "infinity") == 0)) {
        v = negative ? -1.0 / 0.0 : 1.0 / 0.0;
      } else if (p->kind == TOK_IDENT && strcasecmp(p->text, "nan") == 0) {
        v = 0.0 / 0.0;
      } else if (p->kind == TOK_NUMBER) {
        char* end = NULL;
        char* copy = strdup(p->text);
        size_t n = strlen(copy);
        if (n > 1 && (copy[n - 1] == 'f' || copy[n - 1] == 'F') && !strchr(copy, 'x')) {
          copy[n - 1] = '\0';
        }
        v = strtod(copy, &end);
        bool ok = *end == '\0';
        free(copy);
        if (!ok) {
          pbtxt_fail(p, "expected a number for field \"%s\"", fname);
          return NULL;
        }
      } else {
        pbtxt_fail(p, "expected a number for field \"%s\"", fname);
        return NULL;
      }
      out = cJSON_CreateNumber(negative && p->kind != TOK_IDENT ? -v : v);
      break;
    }
    case PB_BOOL:
      if (p->kind == TOK_IDENT && (strcmp(p->text, "true") == 0 ||
                                   strcmp(p->text, "True") == 0 || strcmp(p->text, "t") == 0)) {
        out = cJSON_CreateTrue();
      } else if (p->kind == TOK_IDENT &&
                 (strcmp(p->text, "false") == 0 || strcmp(p->text, "False") == 0 ||
                  strcmp(p->text, "f") == 0)) {
        out = cJSON_CreateFalse();
      } else if (p->kind == TOK_NUMBER && (strcmp(p->text, "0") == 0 ||
                                           strcmp(p->text, "1") == 0)) {
        out = cJSON_CreateBool(p->text[0] == '1');
      } else {
        pbtxt_fail(p, "expected true or false for field \"%s\"", fname);
        return NULL;
      }
      break;
    case PB_ENUM: {
      const char* const* names = f->enums;
      if (p->kind == TOK_IDENT) {
        for (int i = 0; names[i] != NULL; ++i) {
          if (strcmp(names[i], p->text) == 0) {
            out = cJSON_CreateString(names[i]);
          }
        }
      } else if (p->kind == TOK_NUMBER) {
        double v;
        if (pbtxt_parse_int(p->text, false, &v)) {
          int n = 0;
          while (names[n] != NULL) {
            n++;
          }
          if (!negative && v >= 0 && v < n) {
            out = cJSON_CreateString(names[(int)v]);
          }
        }
      }
      if (out == NULL) {
        pbtxt_fail(p, "unknown enumeration value \"%s\" for field \"%s\"",
                   p->text != NULL ? p->text : "", fname);
        return NULL;
      }
      break;
    }
    default:
      pbtxt_fail(p, "internal: unexpected scalar type");
      return NULL;
  }
  pbtxt_next(p);
  return out;
}

/* Parses a generic (schema-less) value: a message in braces or a scalar kept as written. */
static cJSON*
pbtxt_parse_any_value(pbtxt_parser* p)
{
  if (pbtxt_is_punct(p, '{') || pbtxt_is_punct(p, '<')) {
    char close = p->punct == '{' ? '}' : '>';
    pbtxt_next(p);
    return pbtxt_parse_message(p, NULL, close);
  }
  cJSON* out = NULL;
  bool negative = false;
  if (pbtxt_is_punct(p, '-')) {
    negative = true;
    pbtxt_next(p);
  }
  if (p->kind == TOK_STRING) {
    out = cJSON_CreateString(p->text);
  } else if (p->kind == TOK_NUMBER) {
    out = cJSON_CreateNumber((negative ? -1 : 1) * strtod(p->text, NULL));
  } else if (p->kind == TOK_IDENT) {
    if (strcmp(p->text, "true") == 0 || strcmp(p->text, "false") == 0) {
      out = cJSON_CreateBool(p->text[0] == 't');
    } else {
      out = cJSON_CreateString(p->text);
    }
  } else {
    pbtxt_fail(p, "expected a value");
    return NULL;
  }
  pbtxt_next(p);
  return out;
}

/* Parses the value(s) of one field occurrence (after the name and optional ':'). */
static cJSON*
pbtxt_parse_value(pbtxt_parser* p, const pb_field* f)
{
  if (f == NULL || f->type == PB_ANY) {
    return pbtxt_parse_any_value(p);
  }
  if (f->type == PB_MSG && f->label != PB_MAP) {
    if (!pbtxt_is_punct(p, '{') && !pbtxt_is_punct(p, '<')) {
      pbtxt_fail(p, "expected '{' for message field \"%s\"", f->name);
      return NULL;
    }
    char close = p->punct == '{' ? '}' : '>';
    pbtxt_next(p);
    return pbtxt_parse_message(p, f->msg, close);
  }
  return pbtxt_parse_scalar(p, f, f->type);
}

/* Parses one map entry message `{ key: ... value: ... }` into (key, value). */
static bool
pbtxt_parse_map_entry(pbtxt_parser* p, const pb_field* f, cJSON* map)
{
  if (!pbtxt_is_punct(p, '{') && !pbtxt_is_punct(p, '<')) {
    pbtxt_fail(p, "expected '{' for map field \"%s\"", f->name);
    return false;
  }
  char close = p->punct == '{' ? '}' : '>';
  pbtxt_next(p);
  char* key = NULL;
  cJSON* value = NULL;
  while (p->error == NULL && !pbtxt_is_punct(p, close)) {
    if (p->kind != TOK_IDENT) {
      pbtxt_fail(p, "expected \"key\" or \"value\" in map field \"%s\"", f->name);
      break;
    }
    bool is_key = strcmp(p->text, "key") == 0;
    if (!is_key && strcmp(p->text, "value") != 0) {
      pbtxt_fail(p, "unknown field \"%s\" in map entry of \"%s\"", p->text, f->name);
      break;
    }
    pbtxt_next(p);
    bool colon = pbtxt_is_punct(p, ':');
    if (colon) {
      pbtxt_next(p);
    }
    if (is_key) {
      pb_field kf = {.name = "key", .type = f->key_type, .label = PB_SINGLE};
      cJSON* k = pbtxt_parse_scalar(p, &kf, f->key_type);
      if (k != NULL) {
        free(key);
        if (cJSON_IsString(k)) {
          key = strdup(k->valuestring);
        } else if (asprintf(&key, "%.0f", k->valuedouble) < 0) {
          key = NULL;
        }
        cJSON_Delete(k);
      }
    } else {
      pb_field vf = *f;
      vf.label = PB_SINGLE;
      vf.name = "value";
      cJSON* v = pbtxt_parse_value(p, &vf);
      if (v != NULL) {
        cJSON_Delete(value);
        value = v;
      }
    }
    if (pbtxt_is_punct(p, ',') || pbtxt_is_punct(p, ';')) {
      pbtxt_next(p);
    }
  }
  if (p->error == NULL) {
    pbtxt_next(p); /* close */
    if (key == NULL) {
      key = strdup("");
    }
    if (value == NULL) {
      /* A missing value is the value type's default. */
      value = f->type == PB_MSG ? cJSON_CreateObject()
              : f->type == PB_STRING ? cJSON_CreateString("")
              : cJSON_CreateNumber(0);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(map, key);
    cJSON_AddItemToObject(map, key, value);
    value = NULL;
  }
  free(key);
  cJSON_Delete(value);
  return p->error == NULL;
}

static void
pbtxt_store(pbtxt_parser* p, cJSON* obj, const pb_field* f, const char* name, cJSON* v)
{
  cJSON* existing = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (f != NULL && f->label == PB_REPEATED) {
    if (existing == NULL) {
      existing = cJSON_AddArrayToObject(obj, name);
    }
    cJSON_AddItemToArray(existing, v);
    return;
  }
  if (f == NULL) { /* schema-less: repetition makes an array */
    if (existing == NULL) {
      cJSON_AddItemToObject(obj, name, v);
    } else if (cJSON_IsArray(existing)) {
      cJSON_AddItemToArray(existing, v);
    } else {
      cJSON* arr = cJSON_CreateArray();
      cJSON_AddItemToArray(arr, cJSON_DetachItemViaPointer(obj, existing));
      cJSON_AddItemToArray(arr, v);
      cJSON_AddItemToObject(obj, name, arr);
    }
    return;
  }
  if (existing != NULL) {
    cJSON_Delete(v);
    pbtxt_fail(p, "non-repeated field \"%s\" is specified multiple times", name);
    return;
  }
  cJSON_AddItemToObject(obj, name, v);
}

static cJSON*
pbtxt_parse_message(pbtxt_parser* p, const pb_msg* schema, char close)
{
  cJSON* obj = cJSON_CreateObject();
  while (p->error == NULL) {
    if ((close == '\0' && p->kind == TOK_EOF) || pbtxt_is_punct(p, close)) {
      if (close != '\0') {
        pbtxt_next(p);
      }
      return obj;
    }
    if (p->kind == TOK_EOF) {
      pbtxt_fail(p, "unexpected end of input, expected '%c'", close);
      break;
    }
    if (p->kind != TOK_IDENT) {
      pbtxt_fail(p, "expected a field name");
      break;
    }
    char* name = strdup(p->text);
    const pb_field* f = NULL;
    if (schema != NULL) {
      f = pbtxt_find_field(schema, name);
      if (f == NULL) {
        pbtxt_fail(p, "message type \"inference.%s\" has no field named \"%s\"", schema->name,
                   name);
        free(name);
        break;
      }
    }
    pbtxt_next(p);
    bool colon = pbtxt_is_punct(p, ':');
    if (colon) {
      pbtxt_next(p);
    }
    bool is_message = f == NULL || f->type == PB_MSG || f->type == PB_ANY || f->label == PB_MAP;
    if (!colon && !is_message) {
      pbtxt_fail(p, "expected ':' after field \"%s\"", name);
      free(name);
      break;
    }
    if (f != NULL && f->label == PB_MAP) {
      cJSON* map = cJSON_GetObjectItemCaseSensitive(obj, name);
      if (map == NULL) {
        map = cJSON_AddObjectToObject(obj, name);
      }
      if (pbtxt_is_punct(p, '[')) {
        pbtxt_next(p);
        while (p->error == NULL && !pbtxt_is_punct(p, ']')) {
          pbtxt_parse_map_entry(p, f, map);
          if (pbtxt_is_punct(p, ',')) {
            pbtxt_next(p);
          }
        }
        pbtxt_next(p);
      } else {
        pbtxt_parse_map_entry(p, f, map);
      }
    } else if (pbtxt_is_punct(p, '[')) {
      if (f != NULL && f->label != PB_REPEATED) {
        pbtxt_fail(p, "field \"%s\" is not repeated", name);
        free(name);
        break;
      }
      pbtxt_next(p);
      if (cJSON_GetObjectItemCaseSensitive(obj, name) == NULL) {
        cJSON_AddArrayToObject(obj, name); /* `dims: []` still marks the field */
      }
      while (p->error == NULL && !pbtxt_is_punct(p, ']')) {
        cJSON* v = pbtxt_parse_value(p, f);
        if (v == NULL) {
          break;
        }
        pbtxt_store(p, obj, f, name, v);
        if (pbtxt_is_punct(p, ',')) {
          pbtxt_next(p);
        } else if (!pbtxt_is_punct(p, ']')) {
          pbtxt_fail(p, "expected ',' or ']' in list for field \"%s\"", name);
        }
      }
      if (p->error == NULL) {
        pbtxt_next(p);
      }
    } else {
      cJSON* v = pbtxt_parse_value(p, f);
      if (v != NULL) {
        pbtxt_store(p, obj, f, name, v);
      }
    }
    free(name);
    if (pbtxt_is_punct(p, ',') || pbtxt_is_punct(p, ';')) {
      pbtxt_next(p);
    }
  }
  cJSON_Delete(obj);
  return NULL;
}

cJSON*
pbtxt_parse(const char* text, const pb_msg* schema, char** err)
{
  pbtxt_parser p = {.src = text, .line = 1, .col = 1};
  pbtxt_next(&p);
  cJSON* out = pbtxt_parse_message(&p, schema, '\0');
  free(p.text);
  if (out == NULL || p.error != NULL) {
    cJSON_Delete(out);
    *err = p.error != NULL ? p.error : strdup("parse error");
    return NULL;
  }
  return out;
}
