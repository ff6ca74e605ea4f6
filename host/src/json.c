/*
 * Recursive-descent JSON reader (RFC 8259) that keeps number text; see json.h.
 */
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct json_reader {
  const char* s;
  size_t n, pos;
  char* err;
  int depth;
} json_reader;

static void
json_fail(json_reader* r, const char* what)
{
  if (r->err == NULL) {
    if (asprintf(&r->err, "%s at offset %zu", what, r->pos) < 0) {
      r->err = NULL;
    }
  }
}

static void
json_ws(json_reader* r)
{
  while (r->pos < r->n && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
                           r->s[r->pos] == '\n' || r->s[r->pos] == '\r')) {
    r->pos++;
  }
}

static jv*
json_new(jv_type t)
{
  jv* v = calloc(1, sizeof(jv));
  v->type = t;
  return v;
}

static void
json_buf_add(char** buf, size_t* len, size_t* cap, const char* bytes, size_t n)
{
  if (*len + n + 1 > *cap) {
    *cap = (*len + n + 1) * 2;
    *buf = realloc(*buf, *cap);
  }
  memcpy(*buf + *len, bytes, n);
  *len += n;
  (*buf)[*len] = '\0';
}

static unsigned
json_hex4(json_reader* r)
{
  unsigned v = 0;
  for (int i = 0; i < 4; ++i) {
    if (r->pos >= r->n) {
      json_fail(r, "truncated \\u escape");
      return 0;
    }
    char c = r->s[r->pos++];
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= (unsigned)(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= (unsigned)(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= (unsigned)(c - 'A' + 10);
    } else {
      json_fail(r, "invalid \\u escape");
      return 0;
    }
  }
  return v;
}

static char*
json_string(json_reader* r, size_t* out_len)
{
  r->pos++; /* opening quote */
  char* buf = NULL;
  size_t len = 0, cap = 0;
  json_buf_add(&buf, &len, &cap, "", 0);
  while (r->err == NULL) {
    if (r->pos >= r->n) {
      json_fail(r, "unterminated string");
      break;
    }
    char c = r->s[r->pos++];
    if (c == '"') {
      *out_len = len;
      return buf;
    }
    if ((unsigned char)c < 0x20) {
      json_fail(r, "control character in string");
      break;
    }
    if (c != '\\') {
      json_buf_add(&buf, &len, &cap, &c, 1);
      continue;
    }
    if (r->pos >= r->n) {
      json_fail(r, "truncated escape");
      break;
    }
    c = r->s[r->pos++];
    char e;
    switch (c) {
      case '"': e = '"'; break;
      case '\\': e = '\\'; break;
      case '/': e = '/'; break;
      case 'b': e = '\b'; break;
      case 'f': e = '\f'; break;
      case 'n': e = '\n'; break;
      case 'r': e = '\r'; break;
      case 't': e = '\t'; break;
      case 'u': {
        unsigned cp = json_hex4(r);
        if (cp >= 0xD800 && cp < 0xDC00 && r->pos + 6 <= r->n && r->s[r->pos] == '\\' &&
            r->s[r->pos + 1] == 'u') {
          r->pos += 2;
          unsigned lo = json_hex4(r);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        char u[4];
        size_t k;
        if (cp < 0x80) {
          u[0] = (char)cp;
          k = 1;
        } else if (cp < 0x800) {
          u[0] = (char)(0xC0 | (cp >> 6));
          u[1] = (char)(0x80 | (cp & 0x3F));
          k = 2;
        } else if (cp < 0x10000) {
          u[0] = (char)(0xE0 | (cp >> 12));
          u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
          u[2] = (char)(0x80 | (cp & 0x3F));
          k = 3;
        } else {
          u[0] = (char)(0xF0 | (cp >> 18));
          u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
          u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
          u[3] = (char)(0x80 | (cp & 0x3F));
          k = 4;
        }
        json_buf_add(&buf, &len, &cap, u, k);
        continue;
      }
      default: json_fail(r, "invalid escape"); continue;
    }
    json_buf_add(&buf, &len, &cap, &e, 1);
  }
  free(buf);
  return NULL;
}

static jv* json_value(json_reader* r);

static jv*
json_number(json_reader* r)
{
  size_t start = r->pos;
  bool is_int = true;
  if (r->s[r->pos] == '-') {
    r->pos++;
  }
  size_t digits = 0;
  while (r->pos < r->n && r->s[r->pos] >= '0' && r->s[r->pos] <= '9') {
    r->pos++;
    digits++;
  }
  if (digits == 0) {
    json_fail(r, "invalid number");
    return NULL;
  }
  if (r->pos < r->n && r->s[r->pos] == '.') {
    is_int = false;
    r->pos++;
    while (r->pos < r->n && r->s[r->pos] >= '0' && r->s[r->pos] <= '9') {
      r->pos++;
    }
  }
  if (r->pos < r->n && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
    is_int = false;
    r->pos++;
    if (r->pos < r->n && (r->s[r->pos] == '+' || r->s[r->pos] == '-')) {
      r->pos++;
    }
    while (r->pos < r->n && r->s[r->pos] >= '0' && r->s[r->pos] <= '9') {
      r->pos++;
    }
  }
  jv* v = json_new(JV_NUMBER);
  v->len = r->pos - start;
  v->text = malloc(v->len + 1);
  memcpy(v->text, r->s + start, v->len);
  v->text[v->len] = '\0';
  v->is_int = is_int;
  return v;
}

static bool
json_literal(json_reader* r, const char* lit)
{
  size_t k = strlen(lit);
  if (r->pos + k <= r->n && memcmp(r->s + r->pos, lit, k) == 0) {
    r->pos += k;
    return true;
  }
  return false;
}

static void
json_push(jv* v, char* key, jv* item)
{
  v->items = realloc(v->items, (v->count + 1) * sizeof(jv*));
  if (v->type == JV_OBJECT) {
    v->keys = realloc(v->keys, (v->count + 1) * sizeof(char*));
    v->keys[v->count] = key;
  }
  v->items[v->count++] = item;
}

static jv*
json_value(json_reader* r)
{
  json_ws(r);
  if (r->pos >= r->n) {
    json_fail(r, "unexpected end of input");
    return NULL;
  }
  if (++r->depth > 256) {
    json_fail(r, "nesting too deep");
    return NULL;
  }
  jv* v = NULL;
  char c = r->s[r->pos];
  if (c == '{' || c == '[') {
    bool obj = c == '{';
    v = json_new(obj ? JV_OBJECT : JV_ARRAY);
    r->pos++;
    json_ws(r);
    if (r->pos < r->n && r->s[r->pos] == (obj ? '}' : ']')) {
      r->pos++;
    } else {
      while (r->err == NULL) {
        char* key = NULL;
        if (obj) {
          json_ws(r);
          if (r->pos >= r->n || r->s[r->pos] != '"') {
            json_fail(r, "expected a string key");
            break;
          }
          size_t kl;
          key = json_string(r, &kl);
          json_ws(r);
          if (r->err != NULL || r->pos >= r->n || r->s[r->pos] != ':') {
            free(key);
            json_fail(r, "expected ':'");
            break;
          }
          r->pos++;
        }
        jv* item = json_value(r);
        if (item == NULL) {
          free(key);
          break;
        }
        json_push(v, key, item);
        json_ws(r);
        if (r->pos < r->n && r->s[r->pos] == ',') {
          r->pos++;
          continue;
        }
        if (r->pos < r->n && r->s[r->pos] == (obj ? '}' : ']')) {
          r->pos++;
          break;
        }
        json_fail(r, obj ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
  } else if (c == '"') {
    v = json_new(JV_STRING);
    v->text = json_string(r, &v->len);
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    v = json_number(r);
  } else if (json_literal(r, "true")) {
    v = json_new(JV_BOOL);
    v->b = true;
  } else if (json_literal(r, "false")) {
    v = json_new(JV_BOOL);
  } else if (json_literal(r, "null")) {
    v = json_new(JV_NULL);
  } else {
    json_fail(r, "unexpected character");
  }
  r->depth--;
  if (r->err != NULL) {
    json_free(v);
    return NULL;
  }
  return v;
}

jv*
json_parse(const char* text, size_t len, char** err)
{
  json_reader r = {.s = text, .n = len};
  jv* v = json_value(&r);
  if (v != NULL) {
    json_ws(&r);
    if (r.pos != r.n) {
      json_fail(&r, "trailing characters");
      json_free(v);
      v = NULL;
    }
  }
  if (v == NULL) {
    *err = r.err != NULL ? r.err : strdup("invalid JSON");
  }
  return v;
}

void
json_free(jv* v)
{
  if (v == NULL) {
    return;
  }
  for (size_t i = 0; i < v->count; ++i) {
    json_free(v->items[i]);
    if (v->keys != NULL) {
      free(v->keys[i]);
    }
  }
  free(v->items);
  free(v->keys);
  free(v->text);
  free(v);
}

const jv*
json_get(const jv* obj, const char* key)
{
  if (obj == NULL || obj->type != JV_OBJECT) {
    return NULL;
  }
  for (size_t i = 0; i < obj->count; ++i) {
    if (strcmp(obj->keys[i], key) == 0) {
      return obj->items[i];
    }
  }
  return NULL;
}
