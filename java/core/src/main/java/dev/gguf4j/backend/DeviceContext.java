package dev.gguf4j.backend;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * One stream of work on an {@link Accelerator}, with the device memory allocated through it: the Java face of
 * {@code g4j_cuda_ctx} (cuda/include/gguf4j_cuda.h), operation for operation. Activations are F32, row-major
 * [tokens][dim]; every buffer argument is device memory. Operations are ordered; {@link #download} returns when
 * the bytes are on the host. Not thread-safe: one thread drives a context. {@link #close()} frees every buffer
 * still allocated through it. Buffers of one context may be read by operations of another context of the same
 * accelerator (model weights are uploaded once and shared by the sessions).
 */
public interface DeviceContext extends AutoCloseable {
    Accelerator accelerator();

    /** {@code bytes} of device memory; {@code what} names it in the {@link DeviceOutOfMemoryException} if it does not fit. */
    DeviceBuffer alloc(long bytes, String what);

    /** Frees an allocation of this context. */
    void free(DeviceBuffer buffer);

    /** Copies {@code bytes} host bytes (native memory) to the device; {@code src} may be reused on return. */
    void upload(DeviceBuffer dst, MemorySegment src, long bytes);

    /** Copies {@code bytes} device bytes to native host memory after everything enqueued so far. */
    void download(MemorySegment dst, DeviceBuffer src, long bytes);

    void memset(DeviceBuffer dst, int byteValue, long bytes);

    /** Waits for everything enqueued; reports an asynchronous failure. */
    void synchronize();

    /**
     * Y[t][r] = dot(row r of W, X[t]) for t &lt; nTokens, r &lt; rows; W has rows rows of cols elements of {@code type},
     * rowBytes apart; X rows xStride floats apart, Y rows yStride floats apart.
     */
    void matmul(GgmlType type, DeviceBuffer w, long rows, long cols, long rowBytes, long nTokens, DeviceBuffer x,
            long xStride, DeviceBuffer y, long yStride);

    /** y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight; y may be x. */
    void rmsNorm(long nTokens, long dim, DeviceBuffer x, DeviceBuffer weight, float eps, DeviceBuffer y);

    /** y = a + b over n floats; y may be a or b. */
    void add(long n, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y);

    /** x[t] += bias for each of nTokens rows of dim floats. */
    void addBias(long nTokens, long dim, DeviceBuffer x, DeviceBuffer bias);

    /** y = silu(gate) * up over n floats; y may be gate or up. */
    void swiglu(long n, DeviceBuffer gate, DeviceBuffer up, DeviceBuffer y);

    /**
     * y = s * x, or y = y + s * x when {@code accumulate}, over n floats: the product rounded to float before the
     * sum (no fused multiply-add), as the CPU's weighted sum of a mixture-of-experts layer; y may be x.
     */
    void scaleAdd(long n, float s, DeviceBuffer x, boolean accumulate, DeviceBuffer y);

    /**
     * y = gelu(gate) * up over n floats, GELU as ggml's CPU computes it ({@link CpuMath#gelu}: the input rounded to
     * binary16, the tanh GELU of that value rounded to binary16; 0 below -10, x above 10); y may be gate or up.
     */
    void geglu(long n, DeviceBuffer gate, DeviceBuffer up, DeviceBuffer y);

    /** y = tanh(x * (1 / cap)) * cap over n floats (ggml_scale, ggml_tanh, ggml_scale: gemma2's soft-capping); y may be x. */
    void softCap(long n, float cap, DeviceBuffer x, DeviceBuffer y);

    /**
     * RoPE in place on x [nTokens][nHeads][headDim], token t at position *pos0 + t ({@code pos0}: one device int32).
     * The first nRot dimensions rotate: pairs (2i, 2i+1), or (i, i + nRot/2) when {@code neox}.
     * {@code freqFactors} (nRot/2 floats: rope_freqs, or LongRoPE's long or short factors) may be null. As ggml's
     * rope_yarn ({@link CpuMath#ropeAngles}): {@code extFactor} != 0 mixes interpolated and extrapolated angles
     * over the correction dimensions [corrLo, corrHi] (YaRN) and scales the magnitude by 1 + 0.1 ln(1/freqScale);
     * cos and sin are multiplied by {@code attnFactor} (1: none).
     */
    void rope(boolean neox, long nTokens, long nHeads, long headDim, long nRot, DeviceBuffer pos0, float freqBase,
            float freqScale, float extFactor, float attnFactor, float corrLo, float corrHi, DeviceBuffer freqFactors,
            DeviceBuffer x);

    /**
     * Causal attention with the KV cache in device memory ({@code kvType} F16 or F32, nCtx positions of
     * [nHeadKv][headDim] each): stores k, v at positions *pos0 .. *pos0 + nTokens - 1, then
     * out[t][h] = softmax(scale * q[t][h] . K[0 .. *pos0 + t]) V (grouped-query heads). {@code softCap} &gt; 0 caps
     * each q.K product d as softCap * tanh(d * (1 / softCap)) before the scale (gemma2); {@code window} &gt; 0: the
     * query at position p sees positions (p - window, p] only (sliding window); 0: neither (as
     * {@link Backend#attention}).
     */
    void attention(GgmlType kvType, long nTokens, DeviceBuffer pos0, long nCtx, long nHead, long nHeadKv,
            long headDim, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer kCache, DeviceBuffer vCache,
            float scale, float softCap, int window, DeviceBuffer out);

    /** *out (one device int32) = index of the largest of n floats of x (the lowest among equals). */
    void argmax(long n, DeviceBuffer x, DeviceBuffer out);

    /**
     * Starts recording: the operations enqueued until {@link #endGraph} are checked and recorded, not run.
     * Transfers and allocations are not recorded (an error while recording).
     */
    void beginGraph();

    /** Ends recording; the graph replays what was recorded. */
    DeviceGraph endGraph();

    /** Replays {@code graph} (made by this context). */
    void launch(DeviceGraph graph);

    /** Frees everything this context allocated. */
    @Override
    void close();
}
