/* Portable SIMD plumbing: per-function target attributes and runtime CPU detection.
 *
 * The extension is compiled for baseline x86-64; only the functions marked KRN_TARGET_* use wider
 * instructions, and they are called only after krn_cpu_features() says the CPU and the OS support them.
 * Never build with a global -mavx2/-march=native: the compiler would then vectorise the scalar path too
 * and the module would die with SIGILL on older CPUs.
 */
#ifndef EMBEDDENATOR_SIMD_H
#define EMBEDDENATOR_SIMD_H

#include <stdint.h>

#if defined(__x86_64__) || defined(_M_X64)
#  define KRN_X86 1
#  include <cpuid.h>
#  include <immintrin.h>
#  define KRN_TARGET_AVX2 __attribute__((target("avx2,bmi2,popcnt")))
#  define KRN_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vpopcntdq,popcnt")))
#else
#  define KRN_X86 0
#  define KRN_TARGET_AVX2
#  define KRN_TARGET_AVX512
#endif

/* Feature bits returned by krn_cpu_features(). */
#define KRN_HAS_AVX2   1u
#define KRN_HAS_AVX512 2u   /* F + BW + VL + VPOPCNTDQ, with ZMM state enabled by the OS */

/* Paths, in the order the dispatcher prefers them (widest last). */
#define KRN_PATH_SCALAR 0
#define KRN_PATH_AVX2   1
#define KRN_PATH_AVX512 2

#if KRN_X86
/* CPUID leaf 1 ECX */
#define KRN_CPUID1_ECX_OSXSAVE (1u << 27)
#define KRN_CPUID1_ECX_AVX     (1u << 28)
#define KRN_CPUID1_ECX_POPCNT  (1u << 23)
/* CPUID leaf 7 subleaf 0 EBX / ECX */
#define KRN_CPUID7_EBX_AVX2     (1u << 5)
#define KRN_CPUID7_EBX_BMI2     (1u << 8)
#define KRN_CPUID7_EBX_AVX512F  (1u << 16)
#define KRN_CPUID7_EBX_AVX512BW (1u << 30)
#define KRN_CPUID7_EBX_AVX512VL (1u << 31)
#define KRN_CPUID7_ECX_VPOPCNTDQ (1u << 14)
/* XCR0 state components the OS must save for the registers to be usable */
#define KRN_XCR0_SSE_AVX   0x6u    /* XMM | YMM */
#define KRN_XCR0_AVX512    0xE0u   /* opmask | ZMM_Hi256 | Hi16_ZMM */

static inline uint64_t krn_xgetbv0(void) {
    uint32_t eax, edx;
    /* SAFETY: only executed after CPUID reported OSXSAVE, so XGETBV is a valid instruction here. */
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

/* Detect once per call; callers cache the result (the Cython module does so at import). */
static inline unsigned krn_cpu_features(void) {
    unsigned eax, ebx, ecx, edx, out = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & KRN_CPUID1_ECX_OSXSAVE) || !(ecx & KRN_CPUID1_ECX_AVX) || !(ecx & KRN_CPUID1_ECX_POPCNT))
        return 0;
    uint64_t xcr0 = krn_xgetbv0();
    if ((xcr0 & KRN_XCR0_SSE_AVX) != KRN_XCR0_SSE_AVX) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    if ((ebx & KRN_CPUID7_EBX_AVX2) && (ebx & KRN_CPUID7_EBX_BMI2)) out |= KRN_HAS_AVX2;
    if ((out & KRN_HAS_AVX2) && (xcr0 & KRN_XCR0_AVX512) == KRN_XCR0_AVX512
        && (ebx & KRN_CPUID7_EBX_AVX512F) && (ebx & KRN_CPUID7_EBX_AVX512BW)
        && (ebx & KRN_CPUID7_EBX_AVX512VL) && (ecx & KRN_CPUID7_ECX_VPOPCNTDQ))
        out |= KRN_HAS_AVX512;
    return out;
}
#else
static inline unsigned krn_cpu_features(void) { return 0; }
#endif

#endif /* EMBEDDENATOR_SIMD_H */
