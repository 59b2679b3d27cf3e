package dev.gguf4j.quant;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.gguf4j.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/** Element-wise types: F32, F16 and BF16 (little-endian, as GGUF stores them). */
final class PlainCodecs {
    private PlainCodecs() {
    }

    static final ValueLayout.OfFloat F32_LE = JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort U16_LE = JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Shared plumbing: bounds checks, then one conversion per element. */
    abstract static class ElementCodec implements TypeCodec {
        @Override
        public final boolean canQuantize() {
            return true;
        }

        static void check(int offset, int n, int length) {
            Objects.checkFromIndexSize(offset, n, length);
        }
    }

    static final class F32Codec extends ElementCodec {
        @Override
        public GgmlType type() {
            return GgmlType.F32;
        }

        @Override
        public void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int n) {
            check(dstOffset, n, dst.length);
            MemorySegment.copy(src, F32_LE, srcOffset, dst, dstOffset, n);
        }

        @Override
        public void quantize(float[] src, int srcOffset, int n, float[] importance, MemorySegment dst, long dstOffset) {
            check(srcOffset, n, src.length);
            MemorySegment.copy(src, srcOffset, dst, F32_LE, dstOffset, n);
        }
    }

    /** IEEE binary16: round to nearest even; NaN becomes 0x7E00 with its sign (ggml's generic conversion). */
    static final class F16Codec extends ElementCodec {
        @Override
        public GgmlType type() {
            return GgmlType.F16;
        }

        @Override
        public void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int n) {
            check(dstOffset, n, dst.length);
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = GgmlFloats.fromHalf(src.get(U16_LE, srcOffset + 2L * i));
            }
        }

        @Override
        public void quantize(float[] src, int srcOffset, int n, float[] importance, MemorySegment dst, long dstOffset) {
            check(srcOffset, n, src.length);
            for (int i = 0; i < n; i++) {
                dst.set(U16_LE, dstOffset + 2L * i, GgmlFloats.toHalf(src[srcOffset + i]));
            }
        }
    }

    /** bfloat16: the top half of an F32, rounded to nearest even; NaN kept (made quiet). */
    static final class BF16Codec extends ElementCodec {
        @Override
        public GgmlType type() {
            return GgmlType.BF16;
        }

        @Override
        public void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int n) {
            check(dstOffset, n, dst.length);
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = GgmlFloats.fromBf16(src.get(U16_LE, srcOffset + 2L * i));
            }
        }

        @Override
        public void quantize(float[] src, int srcOffset, int n, float[] importance, MemorySegment dst, long dstOffset) {
            check(srcOffset, n, src.length);
            for (int i = 0; i < n; i++) {
                dst.set(U16_LE, dstOffset + 2L * i, GgmlFloats.toBf16(src[srcOffset + i]));
            }
        }
    }
}
