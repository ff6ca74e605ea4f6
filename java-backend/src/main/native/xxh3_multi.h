/*
 * xxh3_multi.h: XXH3-128 of one logical byte sequence that arrives as several host buffers,
 * keyed with a secret or plain (seed 0).
 *
 * Why it exists: a Triton input may come in several buffers; the device input cache keys it by
 * the hash of its bytes, so the hash must not depend on how the bytes are split. The streaming
 * API (reset, update per buffer, digest) gives exactly the hash of the contiguous bytes. The
 * cache passes a secret it drew at backend start (random bytes, at least XXH3_SECRET_SIZE_MIN),
 * so no client can predict a key; NULL gives plain XXH3 (the reference values in the tests).
 *
 * xxHash's public API only (XXH3_128bits_reset/_reset_withSecret/_update/_digest, XXH3_128bits,
 * XXH3_128bits_withSecret, and the XXH_STATIC_LINKING_ONLY state type for a state on the stack),
 * so it builds with any xxHash 0.8.x
 * (Debian 12: 0.8.1, Ubuntu 24.04: 0.8.2); the hash of given bytes is the same in every 0.8.x and
 * on every code path. Two paths, chosen at run time by __builtin_cpu_supports("avx2"), which also
 * checks that the OS saves AVX state:
 * - AVX2: xxhash.h inline (XXH_INLINE_ALL, XXH_VECTOR = XXH_AVX2) compiled under
 *   `#pragma GCC target("avx2")`. The target region covers only xxHash and the two jor_xxh3_avx2_
 *   functions, never the code that chooses the path.
 * - baseline (SSE2, any x86-64): the same functions from libxxhash.a, linked statically (Xxh3.java
 *   names it), so there is no libxxhash.so at run time; the Triton image may lack it. One
 *   translation unit can hold only one inline xxHash, and Debian's libxxhash.a has no x86
 *   dispatch (xxh_x86dispatch.h is packaged, its implementation is only in libxxhash.so), hence
 *   the library for this path. xxhash.h first included without XXH_INLINE_ALL, then with it, is
 *   the combination xxhash.h supports (its inline names get the XXH_INLINE_ prefix).
 *
 * Threading: every function is reentrant; the streaming state lives on the caller's stack.
 * Memory: the functions read the given buffers and write only `out`; they own nothing.
 */
#ifndef JOR_XXH3_MULTI_H
#define JOR_XXH3_MULTI_H

#include <stddef.h>
#include <stdint.h>
#include <immintrin.h> /* the AVX2 intrinsics xxhash.h uses below (GCC declares them for any target) */

#if !defined(__GNUC__) || defined(__clang__) || !(defined(__x86_64__) || defined(_M_X64))
#error "xxh3_multi.h needs GCC on x86-64 (#pragma GCC target, __builtin_cpu_supports)"
#endif

/* Baseline path: declarations of libxxhash.a's functions. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#if !defined(XXH_VERSION_NUMBER) || XXH_VERSION_NUMBER < 800 || XXH_VERSION_NUMBER >= 900
#error "xxh3_multi.h needs xxHash 0.8.x (its XXH3 output is stable from 0.8.0 on)"
#endif

/*
 * Each path writes the hash's high 64 bits to out[0] and its low 64 bits to out[1]: the two
 * inclusions of xxhash.h declare two distinct XXH128_hash_t types.
 */

/*
 * The streaming hash of `count` buffers, written once for both paths: expanded in each, its XXH3_
 * names are that path's (libxxhash.a's before the second inclusion, the inline ones after).
 */
#define JOR_XXH3_MULTI_BODY(addresses, lengths, count, secret, secret_size, out)                   \
    do {                                                                                           \
        XXH3_state_t state_;                                                                       \
        XXH128_hash_t hash_;                                                                       \
        int32_t i_;                                                                                \
        XXH3_INITSTATE(&state_);                                                                   \
        if ((secret) != NULL) {                                                                    \
            XXH3_128bits_reset_withSecret(&state_, (secret), (size_t)(secret_size));               \
        } else {                                                                                   \
            XXH3_128bits_reset(&state_);                                                           \
        }                                                                                          \
        for (i_ = 0; i_ < (count); i_++) {                                                         \
            if ((lengths)[i_] > 0) {                                                               \
                XXH3_128bits_update(&state_, (const void*)(intptr_t)(addresses)[i_],               \
                                    (size_t)(lengths)[i_]);                                        \
            }                                                                                      \
        }                                                                                          \
        hash_ = XXH3_128bits_digest(&state_);                                                      \
        (out)[0] = (int64_t)hash_.high64;                                                          \
        (out)[1] = (int64_t)hash_.low64;                                                           \
    } while (0)

/* The one-shot hash of `len` bytes, keyed with `secret` unless it is NULL; for both paths. */
#define JOR_XXH3_BYTES_BODY(input, len, secret, secret_size, out)                                  \
    do {                                                                                           \
        const XXH128_hash_t hash_ = (secret) != NULL                                               \
            ? XXH3_128bits_withSecret((input), (len), (secret), (size_t)(secret_size))             \
            : XXH3_128bits((input), (len));                                                        \
        (out)[0] = (int64_t)hash_.high64;                                                          \
        (out)[1] = (int64_t)hash_.low64;                                                           \
    } while (0)

/*
 * Hashes the concatenation of `count` buffers with libxxhash.a's XXH3 (SSE2 on x86-64), keyed
 * with the `secret_size` bytes at `secret` (at least XXH3_SECRET_SIZE_MIN), or plain if NULL.
 */
static inline void jor_xxh3_baseline_multi(const int64_t* addresses, const int64_t* lengths,
                                           int32_t count, const void* secret, int32_t secret_size,
                                           int64_t* out)
{
    JOR_XXH3_MULTI_BODY(addresses, lengths, count, secret, secret_size, out);
}

static inline void jor_xxh3_baseline_bytes(const void* input, size_t len, const void* secret,
                                           int32_t secret_size, int64_t* out)
{
    JOR_XXH3_BYTES_BODY(input, len, secret, secret_size, out);
}
/* AVX2 path: xxHash inline, every function of it compiled for AVX2. */
#pragma GCC push_options
#pragma GCC target("avx2")
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

#if XXH_VECTOR != XXH_AVX2
#error "xxhash.h did not take XXH_VECTOR = XXH_AVX2"
#endif

/* As jor_xxh3_baseline_multi, with the inline AVX2 XXH3; call only where the CPU has AVX2. */
static __attribute__((noinline)) void jor_xxh3_avx2_multi(const int64_t* addresses,
                                                          const int64_t* lengths, int32_t count,
                                                          const void* secret, int32_t secret_size,
                                                          int64_t* out)
{
    JOR_XXH3_MULTI_BODY(addresses, lengths, count, secret, secret_size, out);
}

static __attribute__((noinline)) void jor_xxh3_avx2_bytes(const void* input, size_t len,
                                                          const void* secret, int32_t secret_size,
                                                          int64_t* out)
{
    JOR_XXH3_BYTES_BODY(input, len, secret, secret_size, out);
}
#pragma GCC pop_options

/* 1 when the AVX2 path is used on this CPU, 0 when the baseline path is. */
static inline int32_t jor_xxh3_uses_avx2(void)
{
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}

/*
 * Hashes the concatenation of `count` buffers (addresses[i], lengths[i]) with XXH3-128 keyed with
 * the `secret_size` bytes at `secret`, or with seed 0 if `secret` is NULL. The caller checks that
 * secret_size >= XXH3_SECRET_SIZE_MIN (Xxh3.java). Writes the high 64 bits to out[0] and the low
 * 64 bits to out[1].
 */
static inline void jor_xxh3_128_multi(const int64_t* addresses, const int64_t* lengths,
                                      int32_t count, const void* secret, int32_t secret_size,
                                      int64_t* out)
{
    if (jor_xxh3_uses_avx2()) {
        jor_xxh3_avx2_multi(addresses, lengths, count, secret, secret_size, out);
    } else {
        jor_xxh3_baseline_multi(addresses, lengths, count, secret, secret_size, out);
    }
}

/* Hashes the bytes of `count` 64-bit values in native (little-endian) order; the rest as above. */
static inline void jor_xxh3_128_longs(const int64_t* values, int32_t count, const void* secret,
                                      int32_t secret_size, int64_t* out)
{
    const size_t len = (size_t)count * sizeof(int64_t);
    if (jor_xxh3_uses_avx2()) {
        jor_xxh3_avx2_bytes(values, len, secret, secret_size, out);
    } else {
        jor_xxh3_baseline_bytes(values, len, secret, secret_size, out);
    }
}

/* XXH3_SECRET_SIZE_MIN, for Xxh3.java's check. */
static inline int32_t jor_xxh3_secret_size_min(void)
{
    return (int32_t)XXH3_SECRET_SIZE_MIN;
}

#endif /* JOR_XXH3_MULTI_H */
