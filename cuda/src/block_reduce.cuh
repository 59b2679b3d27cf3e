/*
 * block_reduce.cuh - sum of a float over a thread block (warp shuffles, then one warp over the warp sums).
 * Every thread of the block must call it; every thread gets the total. blockDim.x a multiple of 32, <= 1024.
 */
#ifndef G4J_CUDA_BLOCK_REDUCE_CUH
#define G4J_CUDA_BLOCK_REDUCE_CUH

__device__ __forceinline__ float g4j_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float g4j_block_sum(float v) {
    __shared__ float part[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nw = blockDim.x / 32;
    v = g4j_warp_sum(v);
    __syncthreads(); /* part may still be read by a previous call */
    if (lane == 0) part[warp] = v;
    __syncthreads();
    v = lane < nw ? part[lane] : 0.0f;
    return g4j_warp_sum(v);
}

#endif
