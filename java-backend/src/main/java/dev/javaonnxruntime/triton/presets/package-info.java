/**
 * The JavaCPP preset from which the build generates the binding of Triton's API: compiled first,
 * read by the JavaCPP parser, never loaded at run time.
 */
package dev.javaonnxruntime.triton.presets;
