/* Philox4x32-10 on the host (the same stream as cl/random.cl), for deterministic host-side
 * draws such as parameter initialisation and for the self-test's known answers. */
#include <math.h>
#include <string.h>

#include "core/common.h"

void cg__philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c0 = n0;
        c1 = (uint32_t)p1;
        c2 = n2;
        c3 = (uint32_t)p0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

static void draw(uint32_t i, uint32_t launch, const uint32_t seed[2], uint32_t r[4]) {
    const uint32_t ctr[4] = {i, launch, 0, 0};
    cg__philox(ctr, seed, r);
}

double cg__philox_uniform(uint32_t i, uint32_t launch, const uint32_t seed[2]) {
    uint32_t r[4];
    draw(i / 4, launch, seed, r);
    return (double)(r[i % 4] >> 8) * 0x1.0p-24;
}

double cg__philox_normal(uint32_t i, uint32_t launch, const uint32_t seed[2]) {
    uint32_t r[4];
    draw(i, launch, seed, r);
    double u1 = (double)((r[0] >> 8) + 1u) * 0x1.0p-24, u2 = (double)(r[1] >> 8) * 0x1.0p-24;
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

void cg__rng_init(cg__rng *r, uint64_t seed, uint32_t stream) {
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32);
    r->stream = stream;
    r->counter = 0;
    r->avail = 0;
}

uint32_t cg__rng_u32(cg__rng *r) {
    if (r->avail == 0) {
        /* The third word keeps host streams apart from the device's {i, launch, 0, 0}. */
        const uint32_t ctr[4] = {r->counter++, r->stream, 0x686f7374u, 0};
        cg__philox(ctr, r->key, r->buf);
        r->avail = 4;
    }
    return r->buf[--r->avail];
}

double cg__rng_uniform(cg__rng *r) {
    uint64_t hi = cg__rng_u32(r) >> 5, lo = cg__rng_u32(r) >> 6;
    return (double)(hi * 67108864u + lo) * 0x1.0p-53;
}

double cg__rng_normal(cg__rng *r) {
    double u1 = 1.0 - cg__rng_uniform(r), u2 = cg__rng_uniform(r);
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

uint32_t cg__rng_below(cg__rng *r, uint32_t n) {
    /* Lemire's multiply-and-reject: unbiased for every n. */
    uint64_t m = (uint64_t)cg__rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)cg__rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

void cg__rng_shuffle(cg__rng *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)cg__rng_below(r, (uint32_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
