/* Known answers for cl/random.cl. The generator itself is checked against the published
 * Random123 vector (counter 243f6a88 85a308d3 13198a2e 03707344, key a4093822 299f31d0); the
 * draws and the ops on top of it against the host Philox (src/core/philox.c), which the test
 * suite checks against all three published vectors. */
#include <math.h>
#include <stdio.h>

#include "ops/ops.h"
#include "selftest/selftest_internal.h"

static const uint32_t seed[2] = {0x243f6a88u, 0x85a308d3u};
enum { LAUNCH = 5, N = 6 };
static const float x[N] = {0.2f, 0.9f, -0.4f, 0.5f, 0.05f, 1.0f};
static const float g[N] = {1, 2, 3, 4, 5, 6};

static cg_status check_philox(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const uint32_t ctr[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344};
    static const uint32_t key[2] = {0xa4093822, 0x299f31d0};
    static const uint32_t want[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
    uint32_t got[4] = {0};
    cl_mem out;
    cg_status st = cg__buffer_create(ctx, sizeof got, &out);
    if (st != CG_OK)
        return st;
    st = cg__philox_raw(ctx, out, ctr, key, 1);
    if (st == CG_OK)
        st = cg__buffer_read(ctx, out, got, sizeof got);
    clReleaseMemObject(out);
    *passed = st == CG_OK;
    for (int i = 0; i < 4 && *passed; i++)
        if (got[i] != want[i]) {
            snprintf(detail, cap, "word %d: got %08x want %08x", i, got[i], want[i]);
            *passed = false;
        }
    return st;
}

static cg_status check_draws(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    float got[N];
    double want[N];
    cl_mem out;
    cg_status st = cg__buffer_create(ctx, sizeof got, &out);
    for (int normal = 0; normal < 2 && st == CG_OK; normal++) {
        st = cg__rand_fill(ctx, out, normal, seed, LAUNCH, N);
        if (st == CG_OK)
            st = cg__buffer_read(ctx, out, got, sizeof got);
        for (uint32_t i = 0; i < N; i++)
            want[i] = normal ? cg__philox_normal(i, LAUNCH, seed) : cg__philox_uniform(i, LAUNCH, seed);
        if (st == CG_OK && !(*passed = cg__selftest_compare(got, want, N, 1e-5, 1e-5, detail, cap)))
            break;
    }
    clReleaseMemObject(out);
    return st;
}

static cg_op_host_io random_io(const char *op, const cg_op_attrs *a) {
    cg_op_host_io io = {.op = cg_op_find(op), .attrs = a, .n_in = 1, .dout = g, .training = true,
                        .seed = {seed[0], seed[1]}, .counter = LAUNCH};
    io.in_shape[0] = cg_shape_make(2, 1, N, 0, 0);
    io.in[0] = x;
    io.want_din[0] = true;
    return io;
}

static cg_status check_dropout(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    double y[N], dx[N];
    for (uint32_t i = 0; i < N; i++) {
        double keep = cg__philox_uniform(i, LAUNCH, seed) >= 0.5 ? 2.0 : 0.0;
        y[i] = x[i] * keep;
        dx[i] = g[i] * keep;
    }
    cg_op_attrs a = {.alpha = 0.5f};
    cg_op_host_io io = random_io("dropout", &a);
    cg__op_expect want = {y, {dx}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
}

static cg_status check_noise(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    double y[N], dx[N];
    for (uint32_t i = 0; i < N; i++) {
        double v = x[i] + 0.3 * cg__philox_normal(i, LAUNCH, seed);
        y[i] = fmin(fmax(v, 0), 1);
        dx[i] = v >= 0 && v <= 1 ? g[i] : 0;
    }
    cg_op_attrs a = {.alpha = 0.3f, .clamp = true};
    cg_op_host_io io = random_io("gaussian_noise", &a);
    cg__op_expect want = {y, {dx}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
}

static cg_status check_reparameterize(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    double z[N], dls[N];
    for (uint32_t i = 0; i < N; i++) {
        double eps = cg__philox_normal(i, LAUNCH, seed);
        z[i] = x[i] + exp((double)g[i] / 4) * eps;
        dls[i] = g[i] * exp((double)g[i] / 4) * eps;
    }
    float log_sigma[N];
    double dmu[N];
    for (int i = 0; i < N; i++) {
        log_sigma[i] = g[i] / 4;
        dmu[i] = g[i];
    }
    cg_op_attrs a = {0};
    cg_op_host_io io = random_io("reparameterize", &a);
    io.n_in = 2;
    io.in_shape[1] = io.in_shape[0];
    io.in[1] = log_sigma;
    io.want_din[1] = true;
    cg__op_expect want = {z, {dmu, dls}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
}

/* probe with two copies of x (as a (2, 3) batch): copy k of element i is x_i + 0.5 * (+-1), the
 * sign from bit 0 of the first word of draw k * 6 + i; the gradient sums the copies. Then basis
 * probes on a (2, 3) batch: copy k moves element k of each sample by 0.5. */
static cg_status check_probe(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    double y[2 * N], dx[N];
    float dy[2 * N];
    for (uint32_t k = 0; k < 2; k++)
        for (uint32_t i = 0; i < N; i++) {
            uint32_t r[4], ctr[4] = {k * N + i, LAUNCH, 0, 0};
            cg__philox(ctr, seed, r);
            y[k * N + i] = x[i] + 0.5 * ((r[0] & 1u) ? 1 : -1);
            dy[k * N + i] = (float)(k + 1) * g[i];
        }
    for (int i = 0; i < N; i++)
        dx[i] = 3.0 * g[i];
    cg_op_attrs a = {.alpha = 0.5f, .count = 2};
    cg_op_host_io io = random_io("probe", &a);
    io.in_shape[0] = cg_shape_make(2, 2, 3, 0, 0);
    io.dout = dy;
    cg__op_expect want = {y, {dx}, {NULL}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-6, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    double yb[3 * N];
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < N; i++)
            yb[k * N + i] = x[i] + (i % 3 == k ? 0.5 : 0.0);
    cg_op_attrs b = {.alpha = 0.5f, .basis = true};
    cg_op_host_io io2 = random_io("probe", &b);
    io2.in_shape[0] = cg_shape_make(2, 2, 3, 0, 0);
    io2.dout = NULL;
    io2.want_din[0] = false;
    cg__op_expect want2 = {yb, {NULL}, {NULL}};
    return cg__selftest_op(ctx, &io2, &want2, 1e-6, passed, detail, cap);
}

const cg__selftest_case cg__random_checks[] = {
    {"random.cl", "probe_fwd probe_bwd", check_probe},
    {"random.cl", "philox_raw", check_philox},
    {"random.cl", "rand_uniform rand_normal", check_draws},
    {"random.cl", "dropout_fwd dropout_bwd", check_dropout},
    {"random.cl", "gaussian_noise_fwd gaussian_noise_bwd", check_noise},
    {"random.cl", "reparameterize_fwd reparameterize_bwd", check_reparameterize},
};
const size_t cg__random_check_count = CG__ARRAY_LEN(cg__random_checks);
