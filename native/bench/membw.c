/*
 * membw.c - this machine's memory read bandwidth, the ceiling for token generation (a matrix-vector product reads
 * every weight byte once per token). Not a test; docs/benchmarks.md says how it is used.
 *
 *   membw [MiB=1024] [reps=9] [max_threads=nproc]
 *
 * For 1 .. max_threads threads: each thread sums its share of a buffer far larger than the caches with 256-bit
 * loads (4 independent accumulators), all threads released together; GB/s = buffer bytes / wall time of the
 * slowest thread. Prints the median and the range of `reps` passes after one warm-up pass. Also a memcpy
 * bandwidth (bytes read + written) for reference.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    const uint8_t *p;
    size_t bytes;
    pthread_barrier_t *start;
    double t1;
    uint64_t sink;
} job;

__attribute__((target("avx2"))) static uint64_t read_sum(const uint8_t *p, size_t bytes) {
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

static void *run(void *arg) {
    job *j = arg;
    pthread_barrier_wait(j->start);
    j->sink = read_sum(j->p, j->bytes);
    j->t1 = now();
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 1024;
    const int reps = argc > 2 ? atoi(argv[2]) : 9;
    const int max_threads = argc > 3 ? atoi(argv[3]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    const size_t bytes = mib << 20;
    uint8_t *buf = NULL, *dst = NULL;
    if (mib == 0 || reps < 1 || max_threads < 1 || posix_memalign((void **)&buf, 4096, bytes) != 0 ||
        posix_memalign((void **)&dst, 4096, bytes) != 0) {
        fprintf(stderr, "usage: membw [MiB>0] [reps>0] [max_threads>0] (or out of memory)\n");
        return 2;
    }
    for (size_t i = 0; i < bytes; i++) buf[i] = (uint8_t)(i * 131u);
    memset(dst, 1, bytes);
    printf("buffer %zu MiB, %d reps after 1 warm-up\n", mib, reps);
    uint64_t sink = 0;
    for (int nt = 1; nt <= max_threads; nt++) {
        double gbs[64];
        const int n = reps < 64 ? reps : 64;
        for (int r = -1; r < n; r++) {
            pthread_barrier_t start;
            pthread_barrier_init(&start, NULL, (unsigned)nt + 1);
            pthread_t th[256];
            job jobs[256];
            const size_t share = bytes / (size_t)nt / 128 * 128;
            for (int t = 0; t < nt && t < 256; t++) {
                jobs[t] = (job){buf + (size_t)t * share, share, &start, 0, 0};
                pthread_create(&th[t], NULL, run, &jobs[t]);
            }
            const double t0 = now();
            pthread_barrier_wait(&start);
            double t1 = t0;
            for (int t = 0; t < nt && t < 256; t++) {
                pthread_join(th[t], NULL);
                if (jobs[t].t1 > t1) t1 = jobs[t].t1;
                sink += jobs[t].sink;
            }
            pthread_barrier_destroy(&start);
            if (r >= 0) gbs[r] = (double)(share * (size_t)nt) / (t1 - t0) / 1e9;
        }
        qsort(gbs, (size_t)n, sizeof gbs[0], cmp);
        printf("read  %d thread%s: median %6.1f GB/s (min %.1f, max %.1f)\n", nt, nt > 1 ? "s" : " ", gbs[n / 2],
               gbs[0], gbs[n - 1]);
    }
    double cp[64];
    const int n = reps < 64 ? reps : 64;
    for (int r = -1; r < n; r++) {
        const double t0 = now();
        memcpy(dst, buf, bytes);
        const double dt = now() - t0;
        if (r >= 0) cp[r] = 2.0 * (double)bytes / dt / 1e9;
    }
    qsort(cp, (size_t)n, sizeof cp[0], cmp);
    printf("memcpy 1 thread : median %6.1f GB/s read+write (min %.1f, max %.1f)\n", cp[n / 2], cp[0], cp[n - 1]);
    printf("(checksum %llu)\n", (unsigned long long)(sink + dst[bytes / 2]));
    free(buf);
    free(dst);
    return 0;
}
