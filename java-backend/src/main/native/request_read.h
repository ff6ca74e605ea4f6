/*
 * request_read.h: everything the read step needs of one Triton request, in one call.
 *
 * Why it exists: reading a request through Triton's API takes a dozen calls (input count, each
 * configured input by name, its properties and each of its buffers, the parameters, the
 * requested outputs). Made one by one from Java, each is a JNI crossing with its argument
 * objects; in the real server, where an instance's Execute runs cold (other models ran in
 * between), reading one input cost 13-17 us per request on the CPU build, each call 1.3-3 us of
 * it with its crossing (bench/results/2026-12-03c-cpu-read). Here they are made in C, as Triton's stock
 * backend makes them, and the results land in one int64 array that Java reads as a whole.
 *
 * Layout of `out` (int64 values; names and values stay Triton's, valid until the request is
 * released):
 *   [0] the number of inputs the request carries   [1] how many of them are configured ones
 *   [2] the number of parameters                   [3] the number of requested outputs
 *   then per configured input, in config order: 0 (absent), or 1, datatype, dims, byte size,
 *     buffer count, the dims, and per buffer: address, byte size, memory type, memory type id;
 *   then per parameter: type, the name's length, the value's length (a string's, else 0), the
 *     name's bytes (8 to a value, the last one padded with zeros), and a string value's first
 *     `text_max` bytes at most, the same way (none for other types);
 *   then per requested output: the index of the configured output of that name or -1, and the
 *     name's address.
 * Returns how many values it wrote; JOR_READ_SHORT when `capacity` is too small for them (call
 * again with more); JOR_READ_FAILED when a call failed: out[0] is then its TRITONSERVER_Error
 * (the caller's to delete) and out[1] the failed call (a JOR_CALL_ value).
 *
 * The parameters' texts are copied because reading a C string from Java takes two JNI crossings
 * (its length, then its bytes) and a charset lookup: 30% of the read step of a request that
 * carries a key (async-profiler, CPU build, bench/results/2026-12-07h-cpu-read-texts).
 *
 * Threading: reentrant. Memory: writes only `out`; owns nothing.
 */
#ifndef JOR_REQUEST_READ_H
#define JOR_REQUEST_READ_H

#include <stdint.h>
#include <string.h>

#include "triton_api.h"

#define JOR_READ_FAILED (-1)
#define JOR_READ_SHORT (-2)

/* The call that failed, as out[1] names it. */
#define JOR_CALL_INPUT_COUNT 1
#define JOR_CALL_INPUT_PROPERTIES 2
#define JOR_CALL_INPUT_BUFFER 3
#define JOR_CALL_PARAMETER_COUNT 4
#define JOR_CALL_PARAMETER 5
#define JOR_CALL_OUTPUT_COUNT 6
#define JOR_CALL_OUTPUT_NAME 7

#define JOR_READ_PUT(value)                \
    do {                                   \
        if (n >= capacity) {               \
            return JOR_READ_SHORT;         \
        }                                  \
        out[n++] = (int64_t)(value);       \
    } while (0)

/* Copies `length` bytes of `text` into the values from out[n] on, the last one zero-padded. */
#define JOR_READ_TEXT(text, length)                          \
    do {                                                     \
        int64_t words_ = ((int64_t)(length) + 7) / 8;        \
        if (n + words_ > capacity) {                         \
            return JOR_READ_SHORT;                           \
        }                                                    \
        if (words_ > 0) {                                    \
            out[n + words_ - 1] = 0;                         \
            memcpy(&out[n], (text), (size_t)(length));       \
        }                                                    \
        n += words_;                                         \
    } while (0)

#define JOR_READ_CALL(call, which)         \
    do {                                   \
        TRITONSERVER_Error* err_ = (call); \
        if (err_ != NULL) {                \
            out[0] = (int64_t)(intptr_t)err_; \
            out[1] = (which);              \
            return JOR_READ_FAILED;        \
        }                                  \
    } while (0)

static inline int64_t jor_read_request(TRITONBACKEND_Request* request,
                                       const char* const* input_names, int32_t input_names_count,
                                       const char* const* output_names, int32_t output_names_count,
                                       int64_t text_max, int64_t* out, int64_t capacity) {
    int64_t n = 4;
    uint32_t inputs = 0, found = 0, parameters = 0, outputs = 0;
    if (capacity < 4) {
        return JOR_READ_SHORT;
    }
    JOR_READ_CALL(TRITONBACKEND_RequestInputCount(request, &inputs), JOR_CALL_INPUT_COUNT);
    for (int32_t k = 0; k < input_names_count; k++) {
        if (found == inputs) { /* every input the request carries is found */
            JOR_READ_PUT(0);
            continue;
        }
        TRITONBACKEND_Input* input = NULL;
        TRITONSERVER_Error* absent = TRITONBACKEND_RequestInput(request, input_names[k], &input);
        if (absent != NULL) { /* an input the request does not carry */
            TRITONSERVER_ErrorDelete(absent);
            JOR_READ_PUT(0);
            continue;
        }
        found++;
        const char* name = NULL;
        TRITONSERVER_DataType datatype = TRITONSERVER_TYPE_INVALID;
        const int64_t* shape = NULL;
        uint32_t dims = 0, buffers = 0;
        uint64_t byte_size = 0;
        JOR_READ_CALL(TRITONBACKEND_InputProperties(input, &name, &datatype, &shape, &dims,
                                                    &byte_size, &buffers),
                      JOR_CALL_INPUT_PROPERTIES);
        JOR_READ_PUT(1);
        JOR_READ_PUT(datatype);
        JOR_READ_PUT(dims);
        JOR_READ_PUT(byte_size);
        JOR_READ_PUT(buffers);
        for (uint32_t d = 0; d < dims; d++) {
            JOR_READ_PUT(shape[d]);
        }
        for (uint32_t b = 0; b < buffers; b++) {
            const void* address = NULL;
            uint64_t size = 0;
            /* Preference: CPU; Triton returns where the bytes are and never moves them. */
            TRITONSERVER_MemoryType type = TRITONSERVER_MEMORY_CPU;
            int64_t type_id = 0;
            JOR_READ_CALL(TRITONBACKEND_InputBuffer(input, b, &address, &size, &type, &type_id),
                          JOR_CALL_INPUT_BUFFER);
            JOR_READ_PUT((intptr_t)address);
            JOR_READ_PUT(size);
            JOR_READ_PUT(type);
            JOR_READ_PUT(type_id);
        }
    }
    JOR_READ_CALL(TRITONBACKEND_RequestParameterCount(request, &parameters),
                  JOR_CALL_PARAMETER_COUNT);
    for (uint32_t i = 0; i < parameters; i++) {
        const char* key = NULL;
        TRITONSERVER_ParameterType type = TRITONSERVER_PARAMETER_STRING;
        const void* value = NULL;
        JOR_READ_CALL(TRITONBACKEND_RequestParameter(request, i, &key, &type, &value),
                      JOR_CALL_PARAMETER);
        size_t key_length = strlen(key);
        size_t value_length =
            type == TRITONSERVER_PARAMETER_STRING ? strlen((const char*)value) : 0;
        size_t value_copied = value_length < (size_t)text_max ? value_length : (size_t)text_max;
        JOR_READ_PUT(type);
        JOR_READ_PUT(key_length);
        JOR_READ_PUT(value_length);
        JOR_READ_TEXT(key, key_length);
        JOR_READ_TEXT(value, value_copied);
    }
    JOR_READ_CALL(TRITONBACKEND_RequestOutputCount(request, &outputs), JOR_CALL_OUTPUT_COUNT);
    for (uint32_t i = 0; i < outputs; i++) {
        const char* name = NULL;
        JOR_READ_CALL(TRITONBACKEND_RequestOutputName(request, i, &name), JOR_CALL_OUTPUT_NAME);
        int64_t configured = -1;
        for (int32_t k = 0; k < output_names_count && configured < 0; k++) {
            if (strcmp(name, output_names[k]) == 0) {
                configured = k;
            }
        }
        JOR_READ_PUT(configured);
        JOR_READ_PUT((intptr_t)name);
    }
    out[0] = inputs;
    out[1] = found;
    out[2] = parameters;
    out[3] = outputs;
    return n;
}

#undef JOR_READ_PUT
#undef JOR_READ_TEXT
#undef JOR_READ_CALL

#endif /* JOR_REQUEST_READ_H */
