/* Error conversion for the shim: no Java exception ever crosses into Triton. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

TRITONSERVER_Error* errors_new(TRITONSERVER_Error_Code code, const char* fmt, ...)
{
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return TRITONSERVER_ErrorNew(code, msg);
}

void errors_log(TRITONSERVER_LogLevel level, int line, const char* fmt, ...)
{
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  TRITONSERVER_Error* err = TRITONSERVER_LogMessage(level, "java_onnxruntime", line, msg);
  if (err != NULL) {
    TRITONSERVER_ErrorDelete(err);
  }
}

/* Throwable.toString() gives "<class name>: <message>", which is what the error must carry. */
TRITONSERVER_Error* errors_from_exception(JNIEnv* env, const char* what)
{
  jthrowable exc = (*env)->ExceptionOccurred(env);
  if (exc == NULL) {
    return errors_new(TRITONSERVER_ERROR_INTERNAL, "%s failed", what);
  }
  (*env)->ExceptionClear(env);

  TRITONSERVER_Error* err = NULL;
  jclass object_class = NULL;
  jstring text = NULL;
  const char* chars = NULL;

  object_class = (*env)->FindClass(env, "java/lang/Object");
  if (object_class == NULL) {
    goto cleanup;
  }
  jmethodID to_string = (*env)->GetMethodID(env, object_class, "toString", "()Ljava/lang/String;");
  if (to_string == NULL) {
    goto cleanup;
  }
  text = (jstring)(*env)->CallObjectMethod(env, exc, to_string);
  if ((*env)->ExceptionCheck(env) || text == NULL) {
    goto cleanup;
  }
  chars = (*env)->GetStringUTFChars(env, text, NULL);
  if (chars == NULL) {
    goto cleanup;
  }
  err = errors_new(TRITONSERVER_ERROR_INTERNAL, "%s: %s", what, chars);

cleanup:
  if ((*env)->ExceptionCheck(env)) {
    (*env)->ExceptionClear(env);
  }
  if (chars != NULL) {
    (*env)->ReleaseStringUTFChars(env, text, chars);
  }
  if (text != NULL) {
    (*env)->DeleteLocalRef(env, text);
  }
  if (object_class != NULL) {
    (*env)->DeleteLocalRef(env, object_class);
  }
  (*env)->DeleteLocalRef(env, exc);
  if (err == NULL) {
    err = errors_new(TRITONSERVER_ERROR_INTERNAL, "%s: Java exception (its message could not be read)", what);
  }
  return err;
}
