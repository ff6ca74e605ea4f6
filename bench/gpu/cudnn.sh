# Sourced by the scripts that start a tritonserver on the GPU machine (triton_run.sh,
# stress_run.sh, cuda_shm_run.sh): which cuDNN 9 the server gets. Sets
#   cudnn          the directory to put on LD_LIBRARY_PATH: $CUDNN if set (empty: the system's),
#                  else the torch venv's
#   cudnn_preload  every libcudnn*.so.9 of $cudnn, ':'-separated, for LD_PRELOAD (empty with
#                  CUDNN_PRELOAD=0)
# One cuDNN in the process: the GPU machine also has a cuDNN 9 in ld.so.cache, which JavaCPP's
# preload found by path while ONNX Runtime's provider bound libcudnn.so.9 by name; the mix fails
# requests with CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH (bench/results/2026-12-03-h200-triton).
cudnn=${CUDNN-$(ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/cudnn/lib 2>/dev/null | head -1)}
cudnn_preload=""
if [[ ${CUDNN_PRELOAD:-1} == 1 && -n $cudnn ]]; then
  cudnn_preload=$(ls "$cudnn"/libcudnn*.so.9 2>/dev/null | tr '\n' ':'); cudnn_preload=${cudnn_preload%:}
fi
