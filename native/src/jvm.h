/* The JVM inside tritonserver: created once, threads attached once, entry points cached. */
#ifndef JAVA_ONNXRUNTIME_JVM_H
#define JAVA_ONNXRUNTIME_JVM_H

#include <jni.h>

#include "triton_api.h"

/* The Java entry points, static methods of dev.javaonnxruntime.triton.BackendEntryPoints that
 * return the address of a TRITONSERVER_Error (0 for success). */
typedef enum {
  JVM_INITIALIZE,
  JVM_FINALIZE,
  JVM_MODEL_INITIALIZE,
  JVM_MODEL_FINALIZE,
  JVM_INSTANCE_INITIALIZE,
  JVM_INSTANCE_FINALIZE,
  JVM_INSTANCE_EXECUTE,
  JVM_ENTRY_COUNT
} jvm_entry;

/* Finds libjvm.so (backend config java-home, else jre/ beside the shim, else JAVA_HOME), builds
 * the class path from the jars in the backend directory, creates the JVM (or joins the one that
 * already exists) and caches the entry points. An error names what is missing. */
TRITONSERVER_Error* jvm_start(TRITONBACKEND_Backend* backend);

/* Attaches the calling thread (as a daemon, once per thread) and calls one entry point. Returns
 * the error the Java side created, or one made from any exception it let escape. */
TRITONSERVER_Error* jvm_call(jvm_entry entry, jlong handle, jlong requests, jint request_count);

/* Drops the cached class reference. The JVM itself is never destroyed: JNI cannot create a
 * second one in the same process. */
void jvm_stop(void);

#endif
