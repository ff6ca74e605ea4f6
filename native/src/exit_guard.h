/* Ends the process at once when it exits while this backend is still at work.
 *
 * tritonserver gives up waiting for models to unload when its exit timeout expires ("Exiting
 * immediately") and calls exit() while our unload still runs on Triton's threads. exit() then
 * runs the C++ destructors of ONNX Runtime and the C++ runtime under that unload: double frees,
 * a SIGABRT whose handler calls exit() again, a hang. When exit() starts while a model of ours is
 * loaded or a call into the JVM runs, the guard logs it and calls _exit() with the same status:
 * no destructor runs under live code, the process ends at once. A clean shutdown (every model
 * unloaded, no call running) exits normally. */
#ifndef JAVA_ONNXRUNTIME_EXIT_GUARD_H
#define JAVA_ONNXRUNTIME_EXIT_GUARD_H

/* Around every call into the JVM. */
void exit_guard_enter(void);
void exit_guard_leave(void);

/* +1 when a model initialized, -1 when it was finalized. */
void exit_guard_models(int delta);

/* Registers the guard (again) when libraries were loaded since it last was, so that it runs
 * before their exit-time destructors (exit handlers run newest first). Called after the JVM
 * started and after each model or instance initialized (ONNX Runtime and its providers load
 * then). */
void exit_guard_arm(void);

#endif
