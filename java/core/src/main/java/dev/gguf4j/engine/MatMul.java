package dev.gguf4j.engine;

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
    /** Rows per chunk handed to a kernel are a multiple of this: the native tiles work on blocks of 16 rows. */
    private static final int ROW_GRAIN = 16;

    private final Backend backend;
    private final WorkerPool pool;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment xs;
    private final MemorySegment ys;
    private final ThreadLocal<float[]> rowBuf;
    private final Weight[] one = new Weight[1];

    MatMul(Backend backend, WorkerPool pool, int maxCols, int maxRows) {
        this.backend = backend;
        this.pool = pool;
        this.xs = arena.allocate(ValueLayout.JAVA_FLOAT, maxCols);
        this.ys = arena.allocate(ValueLayout.JAVA_FLOAT, maxRows);
        this.rowBuf = ThreadLocal.withInitial(() -> new float[maxCols]);
        GgmlType[] types = GgmlType.values();
        this.readsRepacked = new boolean[types.length];
        for (GgmlType t : types) {
            readsRepacked[t.ordinal()] = backend.repackKind(t) == Backend.Repack.INTERLEAVED;
        }
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
        run(ws, 1, xs, ys, total);
        int start = 0;
        for (int i = 0; i < ws.length; i++) {
            MemorySegment.copy(ys, ValueLayout.JAVA_FLOAT, start * 4L, outs[i], 0, ws[i].rows());
            start += ws[i].rows();
        }
    }

    // the call in progress, read by the workers through the prebuilt tasks below (published by WorkerPool's
    // generation counter): no allocation per call on the generation path
    private Weight[] curWs;
    private int curN;
    private int curCols;
    private int curTotal;
    private MemorySegment curX;
    private MemorySegment curY;
    private GgmlType curConvertType;
    private MemorySegment curConvertOut;
    private long curConvertStride;
    private final MemorySegment[] act = new MemorySegment[16]; // up to 16 weights per call (8 used experts x gate, up)
    private final long[] actStride = new long[16];
    private boolean actsConverted; // the current call reads act[] (else plain floats)
    private final WorkerPool.RangeTask rowTask = this::rows;
    private final WorkerPool.RangeTask convertTask = this::convertTokens;

    /**
     * Y[j] = [ws[0]; ws[1]; ...] X[j] for the n vectors of x ([n][cols] floats) into y ([n][totalRows]). When the
     * backend converts activations (ggml's vec_dot_type), each vector is converted once here, by the workers a
     * slice of the batch each, and every thread's slice of the rows reads the shared result; otherwise each slice
     * gets the floats.
     */
    private void run(Weight[] ws, int n, MemorySegment x, MemorySegment y, int totalRows) {
        int cols = ws[0].cols();
        curWs = ws;
        curN = n;
        curCols = cols;
        curTotal = totalRows;
        curX = x;
        curY = y;
        actsConverted = ws.length <= act.length;
        for (int i = 0; i < ws.length && actsConverted; i++) {
            GgmlType at = activationType(ws[i].type());
            if (at == null) {
                actsConverted = false;
                break;
            }
            act[i] = null;
            for (int k = 0; k < i && act[i] == null; k++) {
                if (activationType(ws[k].type()) == at) {
                    act[i] = act[k];
                    actStride[i] = actStride[k];
                }
            }
            if (act[i] == null) {
                long stride = (at.bytesFor(cols) + 63) / 64 * 64;
                act[i] = converted(at, stride * n);
                actStride[i] = stride;
                if (n == 1) {
                    backend.convertActivations(ws[i].type(), cols, x, act[i]);
                } else {
                    curConvertType = ws[i].type();
                    curConvertOut = act[i];
                    curConvertStride = stride;
                    pool.forRange(n, convertTask);
                }
            }
        }
        pool.forRange(totalRows, ROW_GRAIN, rowTask);
        curWs = null;
        curX = curY = curConvertOut = null;
    }

    /** Converts tokens [j0, j1) of the current batch (see run). */
    private void convertTokens(int j0, int j1) {
        for (int j = j0; j < j1; j++) {
            backend.convertActivations(curConvertType, curCols, curX.asSlice((long) j * curCols * 4),
                    curConvertOut.asSlice(j * curConvertStride));
        }
    }

    /** Rows [from, to) of the concatenated weights of the current call (see run). */
    private void rows(int from, int to) {
        Weight[] ws = curWs;
        int n = curN;
        int start = 0;
        for (int i = 0; i < ws.length; i++) {
            Weight w = ws[i];
            int lo = Math.max(from, start);
            int hi = Math.min(to, start + w.rows());
            if (lo < hi) {
                if (w.repacked() != null && actsConverted && readsRepacked[w.type().ordinal()]) {
                    repackedRows(w, lo - start, hi - lo, i, lo);
                } else if (actsConverted) {
                    backend.matmatConverted(w.type(), w.data(), lo - start, w.rowBytes(), hi - lo, curCols, n, act[i],
                            actStride[i], curY, lo, curTotal);
                } else if (n == 1) {
                    backend.matvec(w.type(), w.data().asSlice((lo - start) * w.rowBytes()), w.rowBytes(), hi - lo,
                            curCols, curX, curY.asSlice(lo * 4L));
                } else {
                    backend.matmat(w.type(), w.data().asSlice((lo - start) * w.rowBytes()), w.rowBytes(), hi - lo,
                            curCols, n, curX, curCols, curY.asSlice(lo * 4L), curTotal);
                }
            }
            start += w.rows();
        }
    }

    private final java.util.Map<GgmlType, GgmlType> actTypes = new java.util.EnumMap<>(GgmlType.class);
    private final java.util.Map<GgmlType, MemorySegment> convertedBufs = new java.util.EnumMap<>(GgmlType.class);

    /**
     * Per type (by ordinal): whether this backend reads repacked copies of it (the layout is the native CPU
     * backend's). A plain array: rows() runs per token and must stay small enough for the JIT to inline it and
     * remove its slices' allocations (GenerationAllocationTest).
     */
    private final boolean[] readsRepacked;

    /** Rows [wRow0, wRow0 + rows) of {@code w}'s repacked copy times the converted batch {@code a}, into y rows [yRow0 ..). */
    private void repackedRows(Weight w, long wRow0, int rows, int a, long yRow0) {
        backend.matmatRepacked(w.type(), w.repacked(), w.rows(), wRow0, rows, curCols, curN, act[a], actStride[a],
                curY, yRow0, curTotal);
    }

    /** The backend's activation type for weights of {@code t} (cached), or null. */
    private GgmlType activationType(GgmlType t) {
        GgmlType at = actTypes.get(t);
        if (at == null && !actTypes.containsKey(t)) {
            at = backend.activationType(t);
            actTypes.put(t, at);
        }
        return at;
    }

    /** This session's buffer for activations converted to {@code at}, at least {@code bytes} long. */
    private MemorySegment converted(GgmlType at, long bytes) {
        MemorySegment b = convertedBufs.get(at);
        if (b == null || b.byteSize() < bytes) {
            b = arena.allocate(Math.max(bytes, 4096), 64);
            convertedBufs.put(at, b);
        }
        return b;
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
        run(ws, n, bx, by, total);
        int start = 0;
        for (int i = 0; i < ws.length; i++) {
            for (int j = 0; j < n; j++) {
                MemorySegment.copy(by, ValueLayout.JAVA_FLOAT, ((long) j * total + start) * 4, outs[i][j], 0,
                        ws[i].rows());
            }
            start += ws[i].rows();
        }
    }

    /** out[0..w.rows) = W x[0..w.cols). */
    void apply(Weight w, float[] x, float[] out) {
        if (backend.supports(w.type())) {
            MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT, 0, w.cols());
            one[0] = w;
            run(one, 1, xs, ys, w.rows());
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
