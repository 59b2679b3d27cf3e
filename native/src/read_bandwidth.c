/*
 * read_bandwidth.c - g4j_read_bandwidth (gguf4j.h): this machine's memory read bandwidth, measured the way
 * native/bench/membw.c measures it (each thread sums its share of a buffer larger than the caches, all threads
 * released together, bytes / the slowest thread's wall time), small enough to run at start-up.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "g4j_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define G4J_HAVE_AVX2_READ 1
#endif

#define G4J_BW_MAX_THREADS 256
#define G4J_BW_MAX_REPS 64

static double bw_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t read_sum_scalar(const uint8_t *p, size_t bytes) {
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t i = 0; i + 32 <= bytes; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        a0 += w[0];
        a1 += w[1];
        a2 += w[2];
        a3 += w[3];
    }
    return a0 + a1 + a2 + a3;
}

#ifdef G4J_HAVE_AVX2_READ
__attribute__((target("avx2"))) static uint64_t read_sum_avx2(const uint8_t *p, size_t bytes) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= bytes; i += 128) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(p + i + 96)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    uint64_t out[4];
    _mm256_storeu_si256((__m256i *)out, s);
    return out[0] + out[1] + out[2] + out[3];
}
#endif

typedef struct {
    const uint8_t *p;
    size_t bytes;
    int avx2;
    const int *go; /* 0: wait, 1: run, -1: give up (another thread could not be started) */
    double t1;
    volatile uint64_t sink;
} bw_job;

static void *bw_run(void *arg) {
    bw_job *j = arg;
    int go;
    while ((go = __atomic_load_n(j->go, __ATOMIC_ACQUIRE)) == 0) sched_yield();
    if (go < 0) return NULL;
#ifdef G4J_HAVE_AVX2_READ
    j->sink = j->avx2 ? read_sum_avx2(j->p, j->bytes) : read_sum_scalar(j->p, j->bytes);
#else
    j->sink = read_sum_scalar(j->p, j->bytes);
#endif
    j->t1 = bw_now();
    return NULL;
}

static int bw_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One pass over buf by n threads, all released together; GB/s, or -1 if a thread could not be started. */
static double bw_pass(const uint8_t *buf, size_t bytes, int n, int avx2) {
    pthread_t th[G4J_BW_MAX_THREADS];
    bw_job jobs[G4J_BW_MAX_THREADS];
    int go = 0;
    const size_t share = bytes / (size_t)n / 128 * 128;
    int started = 0;
    for (int t = 0; t < n; t++) {
        jobs[t] = (bw_job){buf + (size_t)t * share, share, avx2, &go, 0, 0};
        if (pthread_create(&th[t], NULL, bw_run, &jobs[t]) != 0) break;
        started++;
    }
    const double t0 = bw_now();
    __atomic_store_n(&go, started < n ? -1 : 1, __ATOMIC_RELEASE);
    double t1 = t0;
    for (int t = 0; t < started; t++) {
        pthread_join(th[t], NULL);
        if (jobs[t].t1 > t1) t1 = jobs[t].t1;
    }
    if (started < n) return -1;
    return (double)(share * (size_t)n) / (t1 - t0) / 1e9;
}

g4j_status g4j_read_bandwidth(int64_t bytes, int32_t reps, double max_seconds, int32_t n_counts,
                              const int32_t *thread_counts, double *gbps) {
    if (gbps == NULL || thread_counts == NULL || bytes < (1 << 20) || reps < 1 || reps > G4J_BW_MAX_REPS ||
        n_counts < 1 || !(max_seconds >= 0)) {
        return g4j_fail(G4J_E_INVALID_ARGUMENT,
                        "g4j_read_bandwidth: bytes %lld (>= 1 MiB), reps %d (1..%d), max_seconds %g (>= 0), n_counts %d"
                        " (>= 1), null pointers",
                        (long long)bytes, reps, G4J_BW_MAX_REPS, max_seconds, n_counts);
    }
    for (int32_t c = 0; c < n_counts; c++) {
        if (thread_counts[c] < 1 || thread_counts[c] > G4J_BW_MAX_THREADS) {
            return g4j_fail(G4J_E_INVALID_ARGUMENT, "g4j_read_bandwidth: thread count %d is outside 1..%d",
                            thread_counts[c], G4J_BW_MAX_THREADS);
        }
    }
    const size_t huge = (size_t)2 << 20;
    const size_t size = ((size_t)bytes + huge - 1) / huge * huge;
    uint8_t *buf = NULL;
    if (posix_memalign((void **)&buf, huge, size) != 0) {
        return g4j_fail(G4J_E_OUT_OF_MEMORY, "g4j_read_bandwidth: cannot allocate %lld bytes", (long long)bytes);
    }
#ifdef MADV_HUGEPAGE
    madvise(buf, size, MADV_HUGEPAGE); /* fewer page faults while filling; a hint, so failure does not matter */
#endif
    memset(buf, 0x5a, size);
    const int avx2 = (g4j_cpu_features() & G4J_CPU_AVX2) != 0;
    const double deadline = bw_now() + max_seconds;
    for (int32_t c = 0; c < n_counts; c++) {
        double gb[G4J_BW_MAX_REPS];
        int n = 0;
        for (int r = -1; r < reps; r++) { /* one warm-up pass; later passes while time is left */
            if (r > 0 && bw_now() > deadline) break;
            const double x = bw_pass(buf, (size_t)bytes, thread_counts[c], avx2);
            if (x < 0) {
                free(buf);
                return g4j_fail(G4J_E_INTERNAL, "g4j_read_bandwidth: cannot start %d threads", thread_counts[c]);
            }
            if (r >= 0) gb[n++] = x;
        }
        qsort(gb, (size_t)n, sizeof gb[0], bw_cmp);
        gbps[c] = gb[n / 2];
    }
    free(buf);
    return G4J_OK;
}
