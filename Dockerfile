# NVIDIA Triton Inference Server with the java_onnxruntime backend installed.
#
#   make image                  (or: docker build -t java-onnxruntime-triton .)
#   make serve-image            (runs it on the example models with the GPUs)
#
# Build arguments:
#   TRITON_TAG        the NGC Triton release: 26.06 = Triton 2.70.0, CUDA 13.3.0 (its Ubuntu
#                     release not checked), the Triton that CI tests against
#                     (../shared/tritonserver-2.70); 26.02 was Triton 2.66.0, CUDA 13.1, Ubuntu 24.04
#   BUILD_IMAGE       the build stage's base; its glibc must not be newer than the Triton image's
#   ORT_CLASSIFIER    ONNX Runtime natives: linux-x86_64-gpu (CUDA EP) or linux-x86_64 (CPU only)
#   TRITON_USER       the user the server runs as (created by the NGC image, uid 1000)
# Needs BuildKit (the default builder since Docker 23) for the Maven cache mount.
ARG TRITON_TAG=26.06
ARG BUILD_IMAGE=ubuntu:24.04

########################################################################################
# Build stage: the shim, the in-process host (its libtritonserver.so is what the JavaCPP
# binding links against at build time), the jars, a jlinked JRE and the example models.
########################################################################################
FROM ${BUILD_IMAGE} AS build
ARG ORT_CLASSIFIER=linux-x86_64-gpu
ENV DEBIAN_FRONTEND=noninteractive
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# python3-onnx is in Ubuntu 24.04 (universe); where a base lacks it, a venv with pip takes over.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates make gcc libc6-dev maven \
      openjdk-17-jdk-headless libcjson-dev libxxhash-dev python3 python3-numpy \
 && if apt-get install -y --no-install-recommends python3-onnx; then \
      echo /usr/bin/python3 > /etc/models-python; \
    else \
      apt-get install -y --no-install-recommends python3-venv \
      && python3 -m venv /opt/models-venv \
      && /opt/models-venv/bin/pip install --no-cache-dir onnx numpy \
      && echo /opt/models-venv/bin/python > /etc/models-python; \
    fi \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . /src
RUN --mount=type=cache,target=/root/.m2 \
    make models PYTHON="$(cat /etc/models-python)" \
 && mvn -B -q -DskipTests -Donnxruntime.classifier=${ORT_CLASSIFIER} package \
 && triton-build/stage-image.sh /src/build/image

########################################################################################
# Test data stage (not part of the image): `make integration` exports it with
#   docker build --target testdata --output type=local,dest=DIR .
########################################################################################
FROM scratch AS testdata
COPY --from=build /src/build/image/testdata /

########################################################################################
# Final stage: the NGC Triton image plus the backend directory and the example models.
########################################################################################
FROM nvcr.io/nvidia/tritonserver:${TRITON_TAG}-py3 AS image
ARG TRITON_USER=triton-server
USER root
COPY --from=build /src/build/image/backends/java_onnxruntime /opt/tritonserver/backends/java_onnxruntime
COPY --from=build /src/build/image/tools /opt/java_onnxruntime/tools
COPY --from=build /src/build/image/models /opt/java_onnxruntime/models
COPY --from=build /src/build/image/models-gpu /opt/java_onnxruntime/models-gpu
# Extract every native library into JavaCPP's cache now, as root, at the path the server uses;
# then prove, as the server's user, that a start extracts nothing. JavaCPP 1.5.13 only uses a
# cache directory its user may write to, so that one directory belongs to the server's user;
# the files and folders in it stay root's and read-only.
RUN be=/opt/tritonserver/backends/java_onnxruntime \
 && /opt/java_onnxruntime/tools/preextract.sh "$be" /opt/java_onnxruntime/tools \
 && chown -R root:root "$be" /opt/java_onnxruntime \
 && chmod -R go-w,a+rX "$be" /opt/java_onnxruntime \
 && find "$be/javacpp-cache" -mindepth 1 -exec chmod a-w {} + \
 && chown "${TRITON_USER}" "$be/javacpp-cache" \
 && su -s /bin/bash "${TRITON_USER}" -c \
      "/opt/java_onnxruntime/tools/preextract.sh $be /opt/java_onnxruntime/tools --check"
USER ${TRITON_USER}
EXPOSE 8000 8001 8002
# KIND_GPU example models; /opt/java_onnxruntime/models holds the same models on KIND_CPU.
CMD ["tritonserver", "--model-repository=/opt/java_onnxruntime/models-gpu"]
