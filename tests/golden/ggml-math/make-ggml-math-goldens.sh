#!/usr/bin/env bash
# Makes ggml-math.txt: ggml's own silu and soft_max outputs (bits) for chosen inputs, computed by libggml of a
# llama.cpp c392e50 build for AVX2 (cmake -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON
# -DGGML_F16C=ON -DGGML_AVX512=OFF), the build the other goldens come from. CpuMathGgmlTest holds CpuMath's
# expf/silu/softmax to these bits; they are the facts the forward pass's element-wise math must reproduce.
#   make-ggml-math-goldens.sh LLAMA_CPP_SOURCE AVX2_BUILD_DIR(with bin/libggml*.so)
# Lines: "silu X Y" (float bits, hex); "softmax N FROM TO MASKED in... out..." (N columns; MASKED 1: the
# columns outside [FROM, TO) masked with -inf through ggml_soft_max_ext's mask; 0: ggml_soft_max of the row).
set -euo pipefail
src="$1"; build="$2"; here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/h.c" <<'C'
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ggml.h"
#include "ggml-cpu.h"
static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static uint64_t rng = 88172645463325252ull;
static double unif(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (rng >> 11) * (1.0 / 9007199254740992.0); }
static float gauss(void) { return (float)(sqrt(-2 * log(unif() + 1e-300)) * cos(6.283185307179586 * unif())); }
static struct ggml_context *ctx(void) {
    struct ggml_init_params p = { 64 << 20, NULL, false };
    return ggml_init(p);
}
static void run(struct ggml_context *c, struct ggml_tensor *out) {
    struct ggml_cgraph *g = ggml_new_graph(c);
    ggml_build_forward_expand(g, out);
    ggml_graph_compute_with_ctx(c, g, 1);
}
int main(void) {
    enum { NS = 4096 };
    struct ggml_context *c = ctx();
    struct ggml_tensor *x = ggml_new_tensor_1d(c, GGML_TYPE_F32, NS);
    float *xv = x->data;
    const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 20.0f, -20.0f, 87.0f, -87.0f, 88.5f, -88.5f, 89.0f,
                             -89.0f, 100.0f, -100.0f, 103.0f, -103.0f, 104.5f, -104.5f, 130.0f, -130.0f, 1e-8f, -1e-8f};
    const int nsp = (int)(sizeof special / sizeof special[0]);
    for (int i = 0; i < NS; i++) {
        xv[i] = i < nsp ? special[i] : i < 2048 ? 4.0f * gauss() : i < 3072 ? 30.0f * gauss() : (float)(unif() * 240.0 - 120.0);
    }
    struct ggml_tensor *y = ggml_silu(c, x);
    run(c, y);
    for (int i = 0; i < NS; i++) printf("silu %08x %08x\n", bits(xv[i]), bits(((float *)y->data)[i]));
    ggml_free(c);
    /* soft_max of whole rows (the scalar tail included when N % 8 != 0) */
    const int plain[] = {1, 5, 8, 13, 16, 37, 60, 64, 128};
    for (size_t r = 0; r < sizeof plain / sizeof plain[0]; r++) {
        for (int rep = 0; rep < 3; rep++) {
            int n = plain[r];
            c = ctx();
            struct ggml_tensor *a = ggml_new_tensor_1d(c, GGML_TYPE_F32, n);
            for (int i = 0; i < n; i++) ((float *)a->data)[i] = (rep == 2 ? 20.0f : 3.0f) * gauss();
            struct ggml_tensor *s = ggml_soft_max(c, a);
            run(c, s);
            printf("softmax %d 0 %d 0", n, n);
            for (int i = 0; i < n; i++) printf(" %08x", bits(((float *)a->data)[i]));
            for (int i = 0; i < n; i++) printf(" %08x", bits(((float *)s->data)[i]));
            printf("\n");
            ggml_free(c);
        }
    }
    /* attention-like rows: N columns (a multiple of 32, as ggml's KV view), those outside [FROM, TO) masked */
    const int masked[][3] = {{32, 0, 1}, {32, 0, 7}, {32, 0, 8}, {32, 0, 9}, {32, 0, 31}, {32, 3, 20}, {64, 0, 45},
                             {64, 13, 64}, {256, 0, 200}, {256, 100, 233}};
    for (size_t r = 0; r < sizeof masked / sizeof masked[0]; r++) {
        for (int rep = 0; rep < 3; rep++) {
            int n = masked[r][0], from = masked[r][1], to = masked[r][2];
            c = ctx();
            struct ggml_tensor *a = ggml_new_tensor_1d(c, GGML_TYPE_F32, n);
            struct ggml_tensor *m = ggml_new_tensor_1d(c, GGML_TYPE_F32, n);
            for (int i = 0; i < n; i++) {
                ((float *)a->data)[i] = (rep == 2 ? 12.0f : 2.0f) * gauss();
                ((float *)m->data)[i] = i >= from && i < to ? 0.0f : -INFINITY;
            }
            struct ggml_tensor *s = ggml_soft_max_ext(c, a, m, 1.0f, 0.0f);
            run(c, s);
            printf("softmax %d %d %d 1", n, from, to);
            for (int i = 0; i < n; i++) printf(" %08x", bits(((float *)a->data)[i]));
            for (int i = 0; i < n; i++) printf(" %08x", bits(((float *)s->data)[i]));
            printf("\n");
            ggml_free(c);
        }
    }
    return 0;
}
C
gcc -O1 -o "$tmp/h" "$tmp/h.c" -I"$src/ggml/include" -L"$build/bin" -lggml -lggml-base -lggml-cpu -lm \
    -Wl,-rpath,"$build/bin"
"$tmp/h" >"$here/ggml-math.txt"
echo "wrote $here/ggml-math.txt ($(wc -l <"$here/ggml-math.txt") lines)"
