package dev.gguf4j.quantize;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.quant.Codecs;
import java.util.Optional;

/**
 * Data-free importance weights for the better search when no imatrix is given: a matrix whose input is an
 * RMS-normed hidden state sees column j scaled by the norm's weight g_j, so its expected squared input is
 * proportional to g_j^2 (the hidden state's own per-channel spread is unknown without data and taken as equal).
 * attn_q/k/v read attn_norm, ffn_gate/up read ffn_norm, output reads output_norm; token_embd writes the
 * residual stream every norm reads, so its columns get the mean of all those g_j^2. Other matrices
 * (attn_output, ffn_down: inputs not normed) get none.
 */
final class NormImportance {
    private NormImportance() {
    }

    /** The weights for {@code t} (one per column), or null. */
    static float[] of(GgufFile in, GgufTensor t) {
        if (t.dims() > 2 && t.dim(2) > 1) {
            return null;
        }
        String name = t.name();
        String norm = null;
        if (name.equals("output.weight")) {
            norm = "output_norm.weight";
        } else if (name.startsWith("blk.")) {
            int dot = name.indexOf('.', 4);
            String blk = name.substring(0, dot);
            String rest = name.substring(dot + 1);
            if (rest.equals("attn_q.weight") || rest.equals("attn_k.weight") || rest.equals("attn_v.weight")) {
                norm = blk + ".attn_norm.weight";
            } else if (rest.equals("ffn_gate.weight") || rest.equals("ffn_up.weight")) {
                norm = blk + ".ffn_norm.weight";
            }
        } else if (name.equals("token_embd.weight")) {
            return residual(in, t);
        }
        if (norm == null) {
            return null;
        }
        float[] g = read(in, norm, t.rowLength());
        if (g == null) {
            return null;
        }
        for (int j = 0; j < g.length; j++) {
            g[j] = g[j] * g[j];
        }
        return g;
    }

    private static float[] residual(GgufFile in, GgufTensor t) {
        int n = Math.toIntExact(t.rowLength());
        float[] sum = new float[n];
        int count = 0;
        for (GgufTensor nt : in.tensors()) {
            String nm = nt.name();
            if (nm.endsWith("attn_norm.weight") || nm.endsWith("ffn_norm.weight") || nm.equals("output_norm.weight")) {
                float[] g = read(in, nm, n);
                if (g == null) {
                    continue;
                }
                for (int j = 0; j < n; j++) {
                    sum[j] += g[j] * g[j];
                }
                count++;
            }
        }
        if (count == 0) {
            return null;
        }
        for (int j = 0; j < n; j++) {
            sum[j] /= count;
        }
        return sum;
    }

    private static float[] read(GgufFile in, String name, long n) {
        Optional<GgufTensor> nt = in.tensor(name);
        if (nt.isEmpty() || nt.get().elementCount() != n || !Codecs.supports(nt.get().type())) {
            return null;
        }
        float[] g = new float[(int) n];
        Codecs.of(nt.get().type()).dequantize(nt.get().data(), 0, g, 0, (int) n);
        for (float v : g) {
            if (!Float.isFinite(v)) {
                return null;
            }
        }
        return g;
    }
}
