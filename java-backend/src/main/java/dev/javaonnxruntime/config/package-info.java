/**
 * The backend configuration and the Triton model configuration, parsed once into typed values.
 *
 * <p>Triton hands a backend its settings as JSON: {@code {"cmdline":{...}}} with every value a
 * string, and the model configuration as protobuf JSON with every default written out. This
 * package turns both into immutable objects and checks what can be checked without the model
 * (stage one of the two-stage validation; stage two compares with the loaded session). It depends
 * on no other package of ours.
 */
package dev.javaonnxruntime.config;
