# CUDA targets for libgguf4j_cuda: real code for Ampere (sm_80, sm_86), Ada (sm_89) and Hopper (sm_90),
# plus sm_90 PTX so newer GPUs JIT-compile it. The CUDA runtime is linked statically: users need only the
# NVIDIA driver.
set(G4J_CUDA_ARCHITECTURES "80-real;86-real;89-real;90" CACHE STRING "CUDA architectures (CMake syntax)")
set(CMAKE_CUDA_RUNTIME_LIBRARY Static)
