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

    private MemorySegment bx = MemorySegment.NULL;
    private MemorySegment by = MemorySegment.NULL;

    /**
     * Batched form for prompt processing: outs[i][j] = ws[i] in[j] for the first {@code n} vectors of {@code in};
     * every weight row is reused across the batch (the backend's matmat), rows split over the workers. Each
     * element equals what {@link #apply(Weight, float[], float[])} gives for that vector.
     */
    void applyBatch(Weight[] ws, float[][] in, int n, float[][][] outs) {
        int cols = ws[0].cols();
        int total = 0;
        for (Weight w : ws) {
            if (w.cols() != cols) {
                throw new IllegalArgumentException("weights of a batch must share their input width");
            }
            total += w.rows();
        }
        boolean nativeKernels = true;
        for (Weight w : ws) {
            nativeKernels &= backend.supports(w.type());
        }
        if (!nativeKernels) {
            for (int i = 0; i < ws.length; i++) {
                for (int j = 0; j < n; j++) {
                    apply(ws[i], in[j], outs[i][j]);
                }
            }
            return;
        }
        long needX = (long) n * cols * 4;
        long needY = (long) n * total * 4;
        if (bx.byteSize() < needX) {
            bx = arena.allocate(needX, 64);
        }
        if (by.byteSize() < needY) {
            by = arena.allocate(needY, 64);
        }
        for (int j = 0; j < n; j++) {
            MemorySegment.copy(in[j], 0, bx, ValueLayout.JAVA_FLOAT, (long) j * cols * 4, cols);
        }
        int totalRows = total;
        MemorySegment x = bx;
        MemorySegment y = by;
        pool.forRange(total, (from, to) -> {
            int start = 0;
            for (Weight w : ws) {
                int lo = Math.max(from, start);
                int hi = Math.min(to, start + w.rows());
                if (lo < hi) {
                    backend.matmat(w.type(), w.data().asSlice((lo - start) * w.rowBytes()), w.rowBytes(), hi - lo,
                            cols, n, x, cols, y.asSlice(lo * 4L), totalRows);
                }
                start += w.rows();
            }
        });
        int start = 0;
        for (int i = 0; i < ws.length; i++) {
            for (int j = 0; j < n; j++) {
                MemorySegment.copy(y, ValueLayout.JAVA_FLOAT, ((long) j * totalRows + start) * 4, outs[i][j], 0,
                        ws[i].rows());
            }
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
}
