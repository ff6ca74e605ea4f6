/* Redirects calls the host program (the executable, tritonserver) makes to C library functions.
 *
 * The program reaches a shared library's function through a slot of its global offset table: a
 * JUMP_SLOT for a call through the PLT, a GLOB_DAT for one built with -fno-plt. Pointing the
 * program's slots for a name at another function redirects the program's own calls to it, and
 * only those: libraries (the JVM, ONNX Runtime, Triton's core) keep calling the C library. A slot
 * inside RELRO (-z now) is made writable for the one store. */
#ifndef JAVA_ONNXRUNTIME_HOST_CALLS_H
#define JAVA_ONNXRUNTIME_HOST_CALLS_H

#include <stddef.h>

struct host_call {
  const char* name; /* the C library function, e.g. "exit" */
  void* target;     /* the function the program calls instead, of the same signature */
};

/* Redirects the program's calls to each of calls[0..count). Returns how many slots it changed
 * (0 when the program never calls any of them). */
int host_calls_redirect(const struct host_call* calls, size_t count);

#endif
