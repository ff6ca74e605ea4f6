/**
 * The boundary of {@code TRITONBACKEND_ModelInstanceExecute}: an Execute's requests from Triton's
 * handles to their responses, and the one screen that walks them through the request path.
 *
 * <p>{@link dev.javaonnxruntime.triton.execute.Executor} takes the requests ({@link
 * dev.javaonnxruntime.triton.execute.OwnedRequests}: Triton's ownership rule, the handles, the
 * statistics), then runs the steps: read ({@link
 * dev.javaonnxruntime.triton.execute.RequestReader}, Triton's calls into a {@code
 * read.RequestData}), resolve, batch, run and respond (into responses through {@link
 * dev.javaonnxruntime.triton.execute.Responder}), and answers, reports and releases every request
 * whatever failed. Everything here belongs to one instance and runs on its execute thread; the
 * native objects of an Execute belong to a {@code PointerScope} that ends with it.
 */
package dev.javaonnxruntime.triton.execute;
