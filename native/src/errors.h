/* Turns a pending Java exception or a failed JNI call into a TRITONSERVER_Error*. */
#ifndef JAVA_ONNXRUNTIME_ERRORS_H
#define JAVA_ONNXRUNTIME_ERRORS_H

#include <jni.h>

#include "triton_api.h"

/* A new error with a printf-style message. */
TRITONSERVER_Error* errors_new(TRITONSERVER_Error_Code code, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clears the pending exception of env and returns an INTERNAL error "<what>: <class>: <message>".
 * With no exception pending, the error says only that <what> failed. */
TRITONSERVER_Error* errors_from_exception(JNIEnv* env, const char* what);

/* Logs through Triton's log API (never stderr). */
void errors_log(TRITONSERVER_LogLevel level, int line, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
