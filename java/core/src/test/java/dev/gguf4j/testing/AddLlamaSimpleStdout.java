package dev.gguf4j.testing;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufValueType;
import dev.gguf4j.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The golden recipe's last step (docs/golden-data.md): {@code AddLlamaSimpleStdout IN.golden.gguf OUT.golden.gguf
 * STDOUT0 [STDOUT1 ...]} copies a golden file's metadata and tensors and adds {@code prompt.i.llama_simple_stdout},
 * llama-simple's stdout for prompt i (the file's bytes, a UINT8 array).
 */
public final class AddLlamaSimpleStdout {
    private AddLlamaSimpleStdout() {
    }

    public static void main(String[] args) throws IOException {
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        try (GgufFile g = GgufFile.open(in); GgufWriter w = GgufWriter.create(out)) {
            g.metadata().asMap().forEach(w::put);
            for (int i = 2; i < args.length; i++) {
                byte[] b = Files.readAllBytes(Path.of(args[i]));
                long[] v = new long[b.length];
                for (int j = 0; j < b.length; j++) {
                    v[j] = b[j] & 0xff;
                }
                w.put("prompt." + (i - 2) + ".llama_simple_stdout",
                        GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.UINT8, v)));
            }
            for (GgufTensor t : g.tensors()) {
                w.addTensor(t.name(), t.type(), t.shape(), GgufWriter.TensorSource.of(t.data()));
            }
            w.finish();
        }
    }
}
