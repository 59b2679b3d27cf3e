package dev.gguf4j;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * Every system property gguf4j reads, with its default. Nothing else in the library reads properties.
 *
 * <table>
 *   <caption>Properties</caption>
 *   <tr><th>property</th><th>values</th><th>default</th></tr>
 *   <tr><td>{@code gguf4j.backend}</td><td>auto, cpu, java</td><td>auto: the native CPU library if it
 *       loads, else the plain-Java backend (logged once with the cause). A forced backend that cannot load is
 *       an error. cuda is refused with one line: the GPU runs offloaded layers ({@code -ngl}), not the CPU
 *       path's matmuls. java also keeps the quantizer's numeric work in Java (same bytes, slower)</td></tr>
 *   <tr><td>{@code gguf4j.native.path}</td><td>path of libgguf4j.so</td><td>unset: the classifier jar on the
 *       class path, then {@code java.library.path}</td></tr>
 *   <tr><td>{@code gguf4j.native.cudaPath}</td><td>path of libgguf4j_cuda.so</td><td>unset: the
 *       {@code linux-x86_64-cuda} jar on the class path, then {@code java.library.path}</td></tr>
 *   <tr><td>{@code gguf4j.native.cacheDir}</td><td>directory</td><td>{@code ~/.cache/gguf4j}: where libraries
 *       and the bundled model are extracted from jars</td></tr>
 *   <tr><td>{@code gguf4j.device}</td><td>cuda, host</td><td>cuda: where GPU layers ({@code -ngl}) run. host
 *       runs the same device operations on the CPU (the offload path without a GPU: tests, debugging)</td></tr>
 *   <tr><td>{@code gguf4j.device.graphs}</td><td>true, false</td><td>true: a GPU session records its one-token
 *       step as a graph once and replays it (CUDA graphs); false runs each op as it comes</td></tr>
 *   <tr><td>{@code gguf4j.isa}</td><td>auto, scalar, avx2, avx512, avx512vnni</td><td>auto: the best kernel variant the CPU
 *       runs</td></tr>
 * </table>
 */
public record Settings(BackendChoice backend, Optional<Path> nativeLibrary, Optional<Path> cudaLibrary, Path cacheDir,
                       IsaChoice isa, DeviceChoice device, boolean deviceGraphs) {

    public static final String BACKEND = "gguf4j.backend";
    public static final String NATIVE_PATH = "gguf4j.native.path";
    public static final String CUDA_PATH = "gguf4j.native.cudaPath";
    public static final String CACHE_DIR = "gguf4j.native.cacheDir";
    public static final String ISA = "gguf4j.isa";
    public static final String DEVICE = "gguf4j.device";
    public static final String DEVICE_GRAPHS = "gguf4j.device.graphs";

    /** Where offloaded layers run. */
    public enum DeviceChoice { CUDA, HOST }

    /**
     * Which backend runs the CPU path. {@code CUDA} is kept so the property's value parses, and refused by
     * {@code Backends.select} with one line (the GPU runs offloaded layers, not the CPU path's matmuls).
     */
    public enum BackendChoice { AUTO, CPU, CUDA, JAVA }

    /** Which native kernel variant to use; ids match {@code enum g4j_isa} of gguf4j.h. */
    public enum IsaChoice {
        AUTO(-1), SCALAR(0), AVX2(1), AVX512(2), AVX512VNNI(3);

        private final int nativeId;

        IsaChoice(int nativeId) {
            this.nativeId = nativeId;
        }

        public int nativeId() {
            return nativeId;
        }
    }

    /** The settings from the current system properties. */
    public static Settings fromSystemProperties() {
        return from(System.getProperties());
    }

    public static Settings from(Properties p) {
        Path home = Path.of(p.getProperty("user.home", "."));
        return new Settings(
                choice(p, BACKEND, BackendChoice.class, BackendChoice.AUTO),
                path(p, NATIVE_PATH),
                path(p, CUDA_PATH),
                path(p, CACHE_DIR).orElse(home.resolve(".cache").resolve("gguf4j")),
                choice(p, ISA, IsaChoice.class, IsaChoice.AUTO),
                choice(p, DEVICE, DeviceChoice.class, DeviceChoice.CUDA),
                !"false".equalsIgnoreCase(p.getProperty(DEVICE_GRAPHS, "true").trim()));
    }

    private static Optional<Path> path(Properties p, String key) {
        String v = p.getProperty(key);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(Path.of(v.trim()));
    }

    private static <E extends Enum<E>> E choice(Properties p, String key, Class<E> type, E dflt) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Enum.valueOf(type, v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            String allowed = Arrays.stream(type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT))
                    .collect(Collectors.joining(", "));
            throw new Gguf4jException("system property " + key + "=" + v + " is not one of: " + allowed);
        }
    }
}
