package dev.gguf4j.llama;

import dev.gguf4j.backend.Backend;
import dev.gguf4j.quant.Codecs;
import dev.gguf4j.quant.TypeCodec;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * y = W x for the forward pass: rows split across the persistent {@link WorkerPool}; each slice runs on the
 * backend's kernel when it has one for the weight type, else on the plain-Java reference (dequantize a row,
 * then dot), which is logged once per type with the reason.
 */
final class MatMul implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.gguf4j.llama");
    private static final Set<GgmlType> WARNED = ConcurrentHashMap.newKeySet();

    private final Backend backend;
    private final WorkerPool pool;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment xs;
    private final MemorySegment ys;
    private final ThreadLocal<float[]> rowBuf;

    MatMul(Backend backend, WorkerPool pool, int maxCols, int maxRows) {
        this.backend = backend;
        this.pool = pool;
        this.xs = arena.allocate(ValueLayout.JAVA_FLOAT, maxCols);
        this.ys = arena.allocate(ValueLayout.JAVA_FLOAT, maxRows);
        this.rowBuf = ThreadLocal.withInitial(() -> new float[maxCols]);
    }

    /**
     * outs[i] = ws[i] x for weights that share their input (Q/K/V; gate/up): one dispatch to the workers, the
     * rows of all of them split between the threads.
     */
    void apply(Weight[] ws, float[] x, float[][] outs) {
        int total = 0;
        for (Weight w : ws) {
            if (!backend.supports(w.type()) || w.cols() != ws[0].cols()) {
                for (int i = 0; i < ws.length; i++) {
                    apply(ws[i], x, outs[i]);
                }
                return;
            }
            total += w.rows();
        }
        MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT, 0, ws[0].cols());
        pool.forRange(total, (from, to) -> {
            int start = 0;
            for (Weight w : ws) {
                int lo = Math.max(from, start);
                int hi = Math.min(to, start + w.rows());
                if (lo < hi) {
                    backend.matvec(w.type(), w.data().asSlice((lo - start) * w.rowBytes()), w.rowBytes(), hi - lo,
                            w.cols(), xs, ys.asSlice(lo * 4L));
                }
                start += w.rows();
            }
        });
        int start = 0;
        for (int i = 0; i < ws.length; i++) {
            MemorySegment.copy(ys, ValueLayout.JAVA_FLOAT, start * 4L, outs[i], 0, ws[i].rows());
            start += ws[i].rows();
        }
    }

    /** out[0..w.rows) = W x[0..w.cols). */
    void apply(Weight w, float[] x, float[] out) {
        if (backend.supports(w.type())) {
            MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT, 0, w.cols());
            pool.forRange(w.rows(), (from, to) -> backend.matvec(w.type(), w.data().asSlice(from * w.rowBytes()),
                    w.rowBytes(), to - from, w.cols(), xs, ys.asSlice(from * 4L)));
            MemorySegment.copy(ys, ValueLayout.JAVA_FLOAT, 0, out, 0, w.rows());
        } else {
            if (WARNED.add(w.type())) {
                LOG.log(System.Logger.Level.WARNING, "gguf4j: the " + backend.name() + " backend has no " + w.type()
                        + " kernel yet; using the plain-Java reference for " + w.type() + " weights (slow)");
            }
            TypeCodec codec = Codecs.of(w.type());
            pool.forRange(w.rows(), (from, to) -> {
                float[] row = rowBuf.get();
                for (int r = from; r < to; r++) {
                    codec.dequantize(w.data(), r * w.rowBytes(), row, 0, w.cols());
                    float sum = 0;
                    for (int i = 0; i < w.cols(); i++) {
                        sum += row[i] * x[i];
                    }
                    out[r] = sum;
                }
            });
        }
    }

    @Override
    public void close() {
        arena.close();
    }

    static boolean hasNativeKernel(Backend b, GgmlType t) {
        return b.supports(t);
    }
}
