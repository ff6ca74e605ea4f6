/* Ends the process at once when it exits while this backend is still at work.
 *
 * tritonserver gives up waiting for models to unload when its exit timeout expires ("Exiting
 * immediately") and calls exit() while our unload still runs on Triton's threads. exit() then
 * runs the C++ destructors of ONNX Runtime and the C++ runtime under that unload: double frees,
 * a SIGABRT whose handler calls exit() again, a hang. When exit() starts while a model of ours is
 * loaded or a call into the JVM runs, the guard logs it and calls _exit() with the same status:
 * no destructor runs under live code, the process ends at once. A clean shutdown (every model
 * unloaded, no call running) exits normally.
 *
 * The guard sits in front of the host program's own exit() calls (host_calls.h), so it runs
 * before every exit handler: an exit handler of its own would run only after the handlers
 * registered later than it, such as the destructor of a function-local static that a library
 * first used while serving. The exit handler stays as the second line, for an exit() that a
 * library calls. */
#ifndef JAVA_ONNXRUNTIME_EXIT_GUARD_H
#define JAVA_ONNXRUNTIME_EXIT_GUARD_H

/* Around every call into the JVM. */
void exit_guard_enter(void);
void exit_guard_leave(void);

/* +1 when a model initialized, -1 when it was finalized. */
void exit_guard_models(int delta);

/* Redirects the host program's exit() to the guard (once), and registers the guard as an exit
 * handler (again) when libraries were loaded since it last was, so that it runs before their
 * exit-time destructors (exit handlers run newest first). Called after the JVM started and after
 * each model or instance initialized (ONNX Runtime and its providers load then). Returns how many
 * of the program's exit() call sites are redirected. */
int exit_guard_arm(void);

#endif
