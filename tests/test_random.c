/* Randomness on the device: Philox4x32-10 against the published Random123 known answers (and
 * the CPU reference against the same), uniform and normal draws against the CPU reference and
 * their moments, and determinism: the same (seed, counter) gives the same bytes, another seed
 * or counter gives other values. */
#include <math.h>

#include "harness.h"
#include "ops/ops.h"
#include "ref_ops.h"

static const struct {
    uint32_t ctr[4], key[2], want[4];
} kat[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

static void fill(cg_context *ctx, cl_mem buf, bool normal, uint32_t s0, uint32_t counter,
                 float *host, size_t n) {
    const uint32_t seed[2] = {s0, 0x9e3779b9u};
    CHECK_OK(cg__rand_fill(ctx, buf, normal, seed, counter, n));
    CHECK_OK(cg__buffer_read(ctx, buf, host, n * sizeof *host));
}

int main(void) {
    cg_context *ctx = cgt_open(NULL);
    cl_mem raw;
    CHECK_OK(cg__buffer_create(ctx, 4 * sizeof(uint32_t), &raw));
    for (size_t t = 0; t < sizeof kat / sizeof kat[0]; t++) {
        uint32_t dev[4], cpu[4];
        CHECK_OK(cg__philox_raw(ctx, raw, kat[t].ctr, kat[t].key, 1));
        CHECK_OK(cg__buffer_read(ctx, raw, dev, sizeof dev));
        ref_philox(kat[t].ctr, kat[t].key, cpu);
        for (int k = 0; k < 4; k++) {
            CHECK(dev[k] == kat[t].want[k], "device philox vector %zu word %d: %08x, want %08x", t,
                  k, dev[k], kat[t].want[k]);
            CHECK(cpu[k] == kat[t].want[k], "CPU philox vector %zu word %d: %08x, want %08x", t, k,
                  cpu[k], kat[t].want[k]);
        }
    }
    clReleaseMemObject(raw);

    enum { N = 1 << 20 };
    float *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    cl_mem buf;
    CHECK_OK(cg__buffer_create(ctx, N * sizeof(float), &buf));
    for (int normal = 0; normal < 2; normal++) {
        fill(ctx, buf, normal, 42, 3, a, N);
        const uint32_t seed[2] = {42, 0x9e3779b9u};
        double sum = 0, sq = 0, worst = 0;
        for (size_t i = 0; i < N; i++) {
            sum += a[i];
            sq += (double)a[i] * a[i];
            double want = normal ? ref_normal((uint32_t)i, 3, seed) : ref_uniform((uint32_t)i, 3, seed);
            worst = fmax(worst, fabs(a[i] - want) / (1 + fabs(want)));
        }
        double mean = sum / N, var = sq / N - mean * mean;
        CHECK(worst < 1e-5, "%s draws match the CPU reference (worst relative error %g)",
              normal ? "normal" : "uniform", worst);
        if (normal) {
            CHECK(fabs(mean) < 0.005 && fabs(var - 1) < 0.01, "normal mean %g variance %g", mean,
                  var);
        } else {
            CHECK(fabs(mean - 0.5) < 0.002 && fabs(var - 1.0 / 12) < 0.002,
                  "uniform mean %g variance %g", mean, var);
        }
        fill(ctx, buf, normal, 42, 3, b, N);
        CHECK(memcmp(a, b, N * sizeof *a) == 0, "same seed and counter, same bytes");
        fill(ctx, buf, normal, 43, 3, b, N);
        size_t same = 0;
        for (size_t i = 0; i < N; i++)
            same += a[i] == b[i];
        CHECK(same < N / 1000, "another seed gives other values (%zu equal)", same);
        fill(ctx, buf, normal, 42, 4, b, N);
        same = 0;
        for (size_t i = 0; i < N; i++)
            same += a[i] == b[i];
        CHECK(same < N / 1000, "another counter gives other values (%zu equal)", same);
    }
    clReleaseMemObject(buf);
    free(a);
    free(b);
    cg_context_destroy(ctx);
    return cgt_finish("test_random");
}
