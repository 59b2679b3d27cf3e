package dev.gguf4j.quant;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * The dot products of the element-wise types, as ggml-cpu's generic (no {@code GGML_SIMD}) code computes them:
 * each product in float, the sum in double ({@code ggml_float}), rounded to float at the end. For F16 and BF16
 * the products are exact (11- or 8-bit significands), so only the final rounding and the order of the double
 * sum matter.
 */
final class PlainDotKernels {
    private PlainDotKernels() {
    }

    /** {@code ggml_vec_dot_f32}: {@code sumf += (ggml_float)(x[i]*y[i])}. */
    static final class F32 implements DotKernel {
        @Override
        public GgmlType type() {
            return GgmlType.F32;
        }

        @Override
        public ActivationQuantizer activation() {
            return ActivationQuantizer.F32;
        }

        @Override
        public float dot(MemorySegment row, long offset, QuantizedActivation x, Work w) {
            int n = x.n;
            float[] r = w.floats(n);
            MemorySegment.copy(row, PlainCodecs.F32_LE, offset, r, 0, n);
            float[] v = x.values;
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += r[i] * v[i];
            }
            return (float) sum;
        }
    }

    /**
     * {@code ggml_vec_dot_f16} (F16 weights, F16 activations) and {@code ggml_vec_dot_bf16} (BF16 with BF16):
     * {@code sumf += (ggml_float)(GGML_FP16_TO_FP32(x[i])*GGML_FP16_TO_FP32(y[i]))}.
     */
    static final class Half implements DotKernel {
        private final GgmlType type;
        private final boolean bf16;

        Half(GgmlType type) {
            this.type = type;
            this.bf16 = type == GgmlType.BF16;
        }

        @Override
        public GgmlType type() {
            return type;
        }

        @Override
        public ActivationQuantizer activation() {
            return bf16 ? ActivationQuantizer.BF16 : ActivationQuantizer.F16;
        }

        @Override
        public float dot(MemorySegment row, long offset, QuantizedActivation x, Work w) {
            int n = x.n;
            short[] r = w.shorts(n);
            MemorySegment.copy(row, PlainCodecs.U16_LE, offset, r, 0, n);
            float[] v = x.values;
            double sum = 0;
            if (bf16) {
                for (int i = 0; i < n; i++) {
                    sum += Float.intBitsToFloat(r[i] << 16) * v[i];
                }
            } else {
                float[] half = DotKernel.HALF;
                for (int i = 0; i < n; i++) {
                    sum += half[r[i] & 0xFFFF] * v[i];
                }
            }
            return (float) sum;
        }
    }
}
