/*
 * g4j_cpu.c - run-time CPU feature probe (cpuid + xgetbv). Compiled without any ISA flags.
 */
#include "g4j_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

uint64_t g4j_probe_cpu_features(void) {
    unsigned a, b, c, d;
    uint64_t f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1;
    const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    const int os_avx = (xcr0 & 0x6) == 0x6;        /* XMM and YMM state saved by the OS */
    const int os_avx512 = (xcr0 & 0xe6) == 0xe6;   /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    if ((c >> 20) & 1) f |= G4J_CPU_SSE42;
    if (os_avx && ((c >> 28) & 1)) f |= G4J_CPU_AVX;
    if (os_avx && ((c >> 12) & 1)) f |= G4J_CPU_FMA;
    if (os_avx && ((c >> 29) & 1)) f |= G4J_CPU_F16C;
    if (__get_cpuid_max(0, 0) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (os_avx && ((b >> 5) & 1)) f |= G4J_CPU_AVX2;
        if (os_avx512) {
            if ((b >> 16) & 1) f |= G4J_CPU_AVX512F;
            if ((b >> 17) & 1) f |= G4J_CPU_AVX512DQ;
            if ((b >> 30) & 1) f |= G4J_CPU_AVX512BW;
            if ((b >> 31) & 1) f |= G4J_CPU_AVX512VL;
            if ((c >> 11) & 1) f |= G4J_CPU_AVX512VNNI;
        }
        unsigned a1, b1, c1, d1;
        __cpuid_count(7, 1, a1, b1, c1, d1);
        if (os_avx && ((a1 >> 4) & 1)) f |= G4J_CPU_AVXVNNI;
        if (os_avx512 && ((a1 >> 5) & 1)) f |= G4J_CPU_AVX512BF16;
    }
    return f;
}
#else
uint64_t g4j_probe_cpu_features(void) { return 0; }
#endif
