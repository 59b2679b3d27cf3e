package dev.gguf4j.store;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * A model in the store, as its manifest records it (so listing the store reads no model file).
 *
 * @param ref          the name it was pulled as ({@code hf.co/user/repo:TAG}; TAG {@code latest} for the default)
 * @param repoPath     its (first) file's path in the repository
 * @param files        its files in the store, first first (a split model has several; a model loads from the first)
 * @param sha256       each file's SHA-256 (Git's blob SHA-1 for the rare file not in LFS), as the Hub listed it and
 *                     as verified after the download
 * @param size         bytes on disk, all files
 * @param quantization the quantization its file name carries ({@link QuantChoice#label}), "" if none
 * @param fileType     the GGUF's {@code general.file_type} (llama.cpp's {@code llama_ftype}), -1 if not set
 * @param parameters   the number of weights (every tensor's elements, as {@code gguf4j info} counts)
 * @param pulledAt     when its download completed
 * @param reason       why this file was chosen (e.g. "Q4_K_M, the default")
 */
public record StoredModel(ModelRef ref, String repoPath, List<Path> files, List<String> sha256, long size,
                          String quantization, long fileType, long parameters, Instant pulledAt, String reason) {
    public StoredModel {
        files = List.copyOf(files);
        sha256 = List.copyOf(sha256);
    }

    /** The file to load: the only one, or a split model's first. */
    public Path path() {
        return files.getFirst();
    }
}
