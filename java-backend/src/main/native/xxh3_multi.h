/*
 * xxh3_multi.h: XXH3-128 of one logical byte sequence that arrives as several host buffers.
 *
 * Why it exists: a Triton input may come in several buffers; the device input cache keys it by
 * the hash of its bytes, so the hash must not depend on how the bytes are split. The streaming
 * API (reset, update per buffer, digest) gives exactly the hash of the contiguous bytes.
 *
 * Why inline: the Triton image may lack libxxhash.so, and Debian's libxxhash.a has no x86
 * dispatch. xxhash.h in inline mode compiles into the JNI library that JavaCPP builds for
 * dev.javaonnxruntime.cache.Xxh3, with two update paths: SSE2 (the x86-64 baseline) and AVX2
 * (compiled with a target attribute, chosen at run time by __builtin_cpu_supports, which also
 * checks that the OS saves AVX state). Both give the same hash; only the speed differs.
 *
 * Threading: every function is reentrant; the streaming state lives on the caller's stack.
 * Memory: the functions read the given buffers and write only `out`; they own nothing.
 */
#ifndef JOR_XXH3_MULTI_H
#define JOR_XXH3_MULTI_H

#include <stddef.h>
#include <stdint.h>
#include <immintrin.h>

#define XXH_INLINE_ALL
#define XXH_STATIC_LINKING_ONLY
#define XXH_DISPATCH_AVX2 1
#define XXH_TARGET_AVX2 __attribute__((__target__("avx2")))
#include <xxhash.h>

#if !defined(XXH_VERSION_NUMBER) || XXH_VERSION_NUMBER != 801
/* XXH3_update's signature (accumulate and scramble function pointers) is that of 0.8.1. */
#error "xxh3_multi.h was written against xxHash 0.8.1 (libxxhash-dev 0.8.1)"
#endif

/* Consumes one buffer with the AVX2 kernels, as xxh_x86dispatch.c does. */
static XXH_TARGET_AVX2 void jor_xxh3_update_avx2(XXH3_state_t* state, const void* input, size_t len)
{
    XXH3_update(state, (const xxh_u8*)input, len, XXH3_accumulate_512_avx2, XXH3_scrambleAcc_avx2);
}

/* 1 when the AVX2 path is used on this CPU, 0 when the SSE2 path is. */
static inline int32_t jor_xxh3_uses_avx2(void)
{
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}

/*
 * Hashes the concatenation of `count` buffers (addresses[i], lengths[i]) with XXH3-128, seed 0.
 * Writes the high 64 bits to out[0] and the low 64 bits to out[1].
 */
static inline void jor_xxh3_128_multi(const int64_t* addresses, const int64_t* lengths,
                                      int32_t count, int64_t* out)
{
    XXH3_state_t state;
    XXH128_hash_t hash;
    int32_t i;
    const int avx2 = jor_xxh3_uses_avx2();
    XXH3_INITSTATE(&state);
    XXH3_128bits_reset(&state);
    for (i = 0; i < count; i++) {
        const void* input = (const void*)(intptr_t)addresses[i];
        const size_t len = (size_t)lengths[i];
        if (len == 0) {
            continue;
        }
        if (avx2) {
            jor_xxh3_update_avx2(&state, input, len);
        } else {
            XXH3_128bits_update(&state, input, len);
        }
    }
    hash = XXH3_128bits_digest(&state);
    out[0] = (int64_t)hash.high64;
    out[1] = (int64_t)hash.low64;
}

/* Hashes the bytes of `count` 64-bit values in native (little-endian) order; out as above. */
static inline void jor_xxh3_128_longs(const int64_t* values, int32_t count, int64_t* out)
{
    const XXH128_hash_t hash = XXH3_128bits(values, (size_t)count * sizeof(int64_t));
    out[0] = (int64_t)hash.high64;
    out[1] = (int64_t)hash.low64;
}

#endif /* JOR_XXH3_MULTI_H */
