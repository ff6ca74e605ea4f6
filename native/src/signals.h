/* Keeps the JVM's signal handlers in place inside a host that installs its own after the JVM
 * started, as tritonserver does.
 *
 * HotSpot takes SIGSEGV, SIGBUS, SIGFPE and SIGILL in normal operation (safepoint polls, implicit
 * null checks, stack banging). tritonserver's main() calls signal(SIGSEGV, ...) after
 * TRITONSERVER_ServerNew has loaded the models, that is after this shim created the JVM; without
 * care that replaces the JVM's handler and the first safepoint poll kills the server.
 *
 * The JDK's documented answer is signal chaining through libjsig.so, preloaded into the host. When
 * it is preloaded (LD_PRELOAD, as our image's entry point does) nothing more is needed here. When
 * it is not (a plain tritonserver), the shim does what libjsig does for the host's own calls:
 * before the JVM starts it installs a forwarding handler, which the JVM records as the handler to
 * chain to for the faults that are not its own; after the JVM started it redirects the host
 * program's signal() and sigaction() (their GOT entries) so that the host's later handlers for
 * those four signals are recorded as the forwarder's target instead of replacing the JVM's. A
 * crash that is not the JVM's still reaches the host's handler, through the JVM. */
#ifndef JAVA_ONNXRUNTIME_SIGNALS_H
#define JAVA_ONNXRUNTIME_SIGNALS_H

/* Before JNI_CreateJavaVM. Returns 1 when libjsig.so is already in the process (then the JVM
 * chains by itself and signals_protect does nothing), 0 when the forwarder was installed. */
int signals_prepare(void);

/* After JNI_CreateJavaVM: redirects the host program's signal() and sigaction(). Returns how many
 * of its entries were redirected (0 with libjsig preloaded, or when the program has none). */
int signals_protect(void);

#endif
