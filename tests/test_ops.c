/* Every op against its double-precision CPU reference, forward and backward, on random shapes
 * that include odd sizes (batch 1 and 65; 1, 3, 7 channels; 13x13 images); and every CPU
 * backward against central finite differences of the CPU forward. Gradients are checked in
 * accumulate mode too (din and parameter gradients added onto random values).
 *
 * Usage: test_ops [OP...]   (all ops when none is named) */
#include <math.h>
#include <stdint.h>

#include "harness.h"
#include "ops/ops.h"
#include "ref_ops.h"

/* ---- random numbers for test data (splitmix64) ---- */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double rng_unit(void) {
    return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}
static double rng_normal(void) {
    return sqrt(-2 * log(rng_unit())) * cos(6.283185307179586 * rng_unit());
}

/* Values are rounded to float first, so device and reference see the same inputs. */
static double *gen(size_t n, cg_case_gen kind, int range) {
    double *x = malloc((n ? n : 1) * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        double v = kind == CG_GEN_NORMAL   ? rng_normal()
                   : kind == CG_GEN_LABELS ? (double)(rng_next() % (uint64_t)range)
                   : kind == CG_GEN_BINARY ? (double)(rng_next() & 1)
                   : kind == CG_GEN_TRACE  ? 12 + 3 * rng_normal()
                                        : rng_unit();
        x[i] = (double)(float)v;
    }
    return x;
}

static float *to_float(const double *x, size_t n) {
    float *f = malloc((n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)x[i];
    return f;
}

/* Compares and prints the first mismatches by index. */
static void compare(const char *what, const cg_op_case *c, const float *got, const double *want,
                    size_t n, double tol) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        if (err <= tol * (1 + fabs(want[i])) && !isnan(got[i]))
            continue;
        if (bad < 5)
            fprintf(stderr, "  %s %s[%zu]: device %.8g, reference %.8g\n", c->op, what, i,
                    (double)got[i], want[i]);
        bad++;
    }
    CHECK(bad == 0, "%s: %s differs from the reference at %zu of %zu places", c->op, what, bad,
          n);
}

static const ref_op *current_ref;

/* L = sum(dout * f(inputs, params)) by the CPU forward. */
static double loss_at(ref_io *io, const double *dout) {
    current_ref->forward(io);
    double s = 0;
    for (size_t i = 0; i < ref_numel(&io->out_shape); i++)
        s += dout[i] * io->out[i];
    return s;
}

/* Central differences of L at up to 24 entries of x, against the reference gradient g. A point
 * where the differences with step h and h/2 disagree lies at a kink (ReLU at 0, a pooling tie)
 * and is skipped. */
static void finite_diff(const char *what, const cg_op_case *c, ref_io *io, double *x, size_t n,
                        const double *g, const double *dout) {
    size_t checked = 0, bad = 0, skipped = 0;
    size_t step = n > 24 ? n / 24 : 1;
    for (size_t i = 0; i < n; i += step) {
        double x0 = x[i], h = 1e-4 * (1 + fabs(x0)), d[2];
        for (int k = 0; k < 2; k++) {
            double hk = k ? h / 2 : h;
            x[i] = x0 + hk;
            double up = loss_at(io, dout);
            x[i] = x0 - hk;
            double down = loss_at(io, dout);
            d[k] = (up - down) / (2 * hk);
        }
        x[i] = x0;
        if (fabs(d[0] - d[1]) > 1e-5 * (1 + fabs(d[1]))) {
            skipped++;
            continue;
        }
        checked++;
        if (fabs(d[1] - g[i]) > 1e-5 * (1 + fabs(g[i]))) {
            if (bad < 5)
                fprintf(stderr, "  %s %s[%zu]: reference gradient %.10g, finite difference %.10g\n",
                        c->op, what, i, g[i], d[1]);
            bad++;
        }
    }
    CHECK(bad == 0, "%s: CPU backward of %s disagrees with finite differences at %zu of %zu",
          c->op, what, bad, checked);
    CHECK(checked > 0 || n == 0, "%s: every point of %s skipped as a kink (%zu)", c->op, what,
          skipped);
}

static void run_case(cg_context *ctx, const cg_op_case *c) {
    const cg_op_def *op = cg_op_find(c->op);
    const ref_op *ref = ref_find(c->op);
    CHECK(op && ref, "op %s has a device op and a CPU reference", c->op);
    if (!op || !ref)
        return;
    current_ref = ref;
    cg_op_shapes sh;
    cg_dtype types[CG_MAX_INPUTS];
    cg_status st = cg_op_case_shapes(c, types, &sh);
    CHECK(st == CG_OK, "%s: shape rule: %s", c->op, cg_error_message());
    if (st != CG_OK)
        return;

    size_t n_out = cg_shape_numel(&sh.out);
    double *in[CG_MAX_INPUTS] = {0}, *params[CG_MAX_PARAMS] = {0}, *din_init[CG_MAX_INPUTS] = {0};
    double *dp_init[CG_MAX_PARAMS] = {0};
    double *dout = gen(n_out, CG_GEN_NORMAL, 0);
    cg_op_host_io io = {.op = op, .attrs = &c->attrs, .n_in = c->n_in, .training = !c->eval,
                        .seed = {0x243f6a88u, 0x85a308d3u}, .counter = 7};
    ref_io r = {.a = &c->attrs, .n_in = c->n_in, .n_params = sh.n_params, .out_shape = sh.out,
                .training = !c->eval, .seed = {0x243f6a88u, 0x85a308d3u}, .counter = 7};
    float *fin[CG_MAX_INPUTS] = {0}, *fparams[CG_MAX_PARAMS] = {0}, *fdin_init[CG_MAX_INPUTS] = {0};
    float *fdp_init[CG_MAX_PARAMS] = {0};
    for (int i = 0; i < c->n_in; i++) {
        size_t n = cg_shape_numel(&c->shape[i]);
        in[i] = gen(n, c->gen[i], c->label_range);
        fin[i] = to_float(in[i], n);
        io.in_shape[i] = r.in_shape[i] = c->shape[i];
        io.in_type[i] = types[i];
        io.in[i] = fin[i];
        r.in[i] = in[i];
        io.want_din[i] = c->grad[i];
        if (c->grad[i] && i == 0) { /* the first input's gradient is accumulated onto values */
            din_init[i] = gen(n, CG_GEN_NORMAL, 0);
            fdin_init[i] = to_float(din_init[i], n);
            io.din_init[i] = fdin_init[i];
        }
        io.din[i] = c->grad[i] ? malloc(n * sizeof(float)) : NULL;
        r.din[i] = c->grad[i] ? malloc(n * sizeof(double)) : NULL;
    }
    for (int i = 0; i < sh.n_params; i++) {
        size_t n = cg_shape_numel(&sh.params[i]);
        params[i] = gen(n, CG_GEN_NORMAL, 0);
        for (size_t k = 0; k < n; k++)
            params[i][k] = (double)(float)(params[i][k] * 0.5);
        fparams[i] = to_float(params[i], n);
        dp_init[i] = gen(n, CG_GEN_NORMAL, 0);
        fdp_init[i] = to_float(dp_init[i], n);
        io.params[i] = fparams[i];
        io.dparams_init[i] = fdp_init[i];
        io.dparams[i] = malloc(n * sizeof(float));
        r.param_shape[i] = sh.params[i];
        r.params[i] = params[i];
        r.dparams[i] = malloc(n * sizeof(double));
    }
    float *fdout = to_float(dout, n_out);
    io.dout = fdout;
    io.out = malloc(n_out * sizeof(float));
    r.out = malloc(n_out * sizeof(double));
    r.dout = dout;

    st = cg_op_run_host(ctx, &io, NULL);
    CHECK(st == CG_OK, "%s: device run: %s", c->op, cg_error_message());
    CHECK(!op->backward == !ref->backward, "%s: device and reference agree on having a backward",
          c->op);
    ref->forward(&r);
    if (ref->backward)
        ref->backward(&r);
    if (st == CG_OK && !ref->backward)
        compare("out", c, io.out, r.out, n_out, c->tol);
    if (st == CG_OK && ref->backward) {
        compare("out", c, io.out, r.out, n_out, c->tol);
        for (int i = 0; i < c->n_in; i++) {
            if (!c->grad[i])
                continue;
            size_t n = cg_shape_numel(&c->shape[i]);
            double *want = malloc(n * sizeof *want);
            for (size_t k = 0; k < n; k++)
                want[k] = r.din[i][k] + (din_init[i] ? din_init[i][k] : 0);
            char what[16];
            snprintf(what, sizeof what, "din%d", i);
            compare(what, c, io.din[i], want, n, c->tol);
            free(want);
        }
        for (int i = 0; i < sh.n_params; i++) {
            size_t n = cg_shape_numel(&sh.params[i]);
            double *want = malloc(n * sizeof *want);
            for (size_t k = 0; k < n; k++)
                want[k] = r.dparams[i][k] + dp_init[i][k];
            char what[16];
            snprintf(what, sizeof what, "dparam%d", i);
            compare(what, c, io.dparams[i], want, n, c->tol);
            free(want);
        }
    }
    /* The CPU backward against finite differences of the CPU forward. */
    for (int i = 0; i < c->n_in && ref->backward; i++)
        if (c->grad[i]) {
            char what[16];
            snprintf(what, sizeof what, "input %d", i);
            finite_diff(what, c, &r, in[i], cg_shape_numel(&c->shape[i]), r.din[i], dout);
        }
    for (int i = 0; i < sh.n_params && ref->backward; i++) {
        char what[16];
        snprintf(what, sizeof what, "param %d", i);
        finite_diff(what, c, &r, params[i], cg_shape_numel(&sh.params[i]), r.dparams[i], dout);
    }

    for (int i = 0; i < CG_MAX_INPUTS; i++) {
        free(in[i]);
        free(fin[i]);
        free(din_init[i]);
        free(fdin_init[i]);
        free(io.din[i]);
        free(r.din[i]);
    }
    for (int i = 0; i < CG_MAX_PARAMS; i++) {
        free(params[i]);
        free(fparams[i]);
        free(dp_init[i]);
        free(fdp_init[i]);
        free(io.dparams[i]);
        free(r.dparams[i]);
    }
    free(dout);
    free(fdout);
    free(io.out);
    free(r.out);
}

/* ---- random configurations for the ops whose work depends on geometry ---- */

static int pick(const int *choices, int n) {
    return choices[rng_next() % (uint64_t)n];
}

static int between(int lo, int hi) {
    return lo + (int)(rng_next() % (uint64_t)(hi - lo + 1));
}

/* One random case of op; sizes stay small enough for the CPU finite differences. */
static cg_op_case random_case(const char *op) {
    static const int batches[] = {1, 2, 5, 65}, channels[] = {1, 3, 7};
    cg_op_case c = {op, {0}, 1, {{0}}, {CG_GEN_NORMAL}, {true}, 0, 2e-4};
    int n = pick(batches, 4), ch = pick(channels, 3);
    if (n == 65) /* the large batch with one channel keeps the reference fast */
        ch = 1;
    int h = between(5, 13), w = between(5, 13);
    if (strcmp(op, "linear") == 0) {
        c.attrs.features = between(1, 40);
        c.attrs.bias = rng_next() & 1;
        c.shape[0] = (cg_shape){2, {n, between(1, 50), 0, 0}};
        return c;
    }
    c.shape[0] = (cg_shape){4, {n, ch, h, w}};
    if (strcmp(op, "conv2d") == 0 || strcmp(op, "conv_transpose2d") == 0) {
        c.attrs.features = pick(channels, 3);
        c.attrs.kernel[0] = between(1, 5);
        c.attrs.kernel[1] = between(1, 5);
        c.attrs.stride[0] = between(1, 2);
        c.attrs.stride[1] = between(1, 2);
        c.attrs.pad[0] = between(0, (c.attrs.kernel[0] - 1) / 2 + 1) % c.attrs.kernel[0];
        c.attrs.pad[1] = between(0, (c.attrs.kernel[1] - 1) / 2 + 1) % c.attrs.kernel[1];
        c.attrs.bias = rng_next() & 1;
        c.attrs.conv_algo = (rng_next() & 1) ? CG_CONV_IM2COL : CG_CONV_DIRECT;
        if (c.shape[0].d[0] > 5) /* the transposed output grows; keep the reference quick */
            c.shape[0].d[0] = 5;
    } else if (strcmp(op, "maxpool2d") == 0 || strcmp(op, "avgpool2d") == 0) {
        c.attrs.kernel[0] = between(1, 3);
        c.attrs.kernel[1] = between(1, 3);
        c.attrs.stride[0] = between(0, 3);
        c.attrs.stride[1] = between(0, 3);
        c.tol = 1e-5;
    } else if (strcmp(op, "upsample") == 0) {
        c.attrs.factor = between(1, 3);
        c.tol = 1e-5;
    } else if (strcmp(op, "prelu") == 0) {
        c.attrs.count = (rng_next() & 1) ? 1 : ch;
        c.tol = 1e-4;
    }
    return c;
}

static bool wanted(const char *op, int argc, char **argv) {
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], op) == 0)
            return true;
    return false;
}

/* Labels outside [0, classes) are never read through: the loss of such a row is NaN (so it
 * shows) and its gradient 0; accuracy counts it wrong. */
static void test_bad_labels(cg_context *ctx) {
    enum { N = 3, K = 4 };
    float x[N * K], labels[N] = {1, 7, -1}, dout[N] = {1, 1, 1}, out[N], dx[N * K];
    for (int i = 0; i < N * K; i++)
        x[i] = (float)(i % 5) * 0.3f;
    static const char *const ops[] = {"cross_entropy", "similarity", "cool", "accuracy"};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        cg_op_attrs a = {.count = strcmp(ops[k], "cool") == 0 ? 2 : K};
        cg_op_host_io io = {.op = cg_op_find(ops[k]), .attrs = &a, .n_in = 2,
                            .in_shape = {cg_shape_make(2, N, K, 0, 0), cg_shape_make(1, N, 0, 0, 0)},
                            .in_type = {CG_F32, CG_I32}, .in = {x, labels},
                            .dout = cg_op_find(ops[k])->backward ? dout : NULL,
                            .want_din = {true, false}, .out = out, .din = {dx, NULL}};
        CHECK_OK(cg_op_run_host(ctx, &io, NULL));
        bool is_metric = !io.op->backward;
        CHECK(isfinite(out[0]), "%s: a valid label gives %g", ops[k], out[0]);
        for (int r = 1; r < N; r++) {
            CHECK(is_metric ? out[r] == 0 : isnan(out[r]), "%s: label %g gives %g", ops[k],
                  labels[r], out[r]);
            for (int c = 0; !is_metric && c < K && strcmp(ops[k], "similarity") != 0; c++)
                CHECK(dx[r * K + c] == 0, "%s: label %g has gradient %g", ops[k], labels[r],
                      dx[r * K + c]);
        }
    }
    printf("ok   labels outside the classes\n");
}

int main(int argc, char **argv) {
    cg_context *ctx = cgt_open(NULL);
    if (argc < 2)
        test_bad_labels(ctx);
    int ran = 0;
    for (size_t i = 0; i < cg_op_case_count(); i++) {
        const cg_op_case *c = cg_op_case_at(i);
        if (c->bench || !wanted(c->op, argc, argv))
            continue;
        int before = cgt_failures;
        run_case(ctx, c);
        char s[64];
        cg_shape_str(&c->shape[0], s, sizeof s);
        printf("%-4s %-14s %s\n", cgt_failures == before ? "ok" : "FAIL", c->op, s);
        ran++;
    }
    static const char *const random_ops[] = {"conv2d",    "conv_transpose2d", "linear",
                                              "maxpool2d", "avgpool2d",        "upsample",
                                              "prelu"};
    for (size_t k = 0; k < sizeof random_ops / sizeof random_ops[0]; k++)
        for (int rep = 0; rep < 4; rep++) {
            cg_op_case c = random_case(random_ops[k]);
            if (!wanted(c.op, argc, argv))
                continue;
            int before = cgt_failures;
            run_case(ctx, &c);
            char s[64];
            cg_shape_str(&c.shape[0], s, sizeof s);
            printf("%-4s %-14s %s random: features %d kernel %dx%d stride %dx%d pad %dx%d "
                   "factor %d count %d %s\n",
                   cgt_failures == before ? "ok" : "FAIL", c.op, s, c.attrs.features,
                   c.attrs.kernel[0], c.attrs.kernel[1], c.attrs.stride[0], c.attrs.stride[1],
                   c.attrs.pad[0], c.attrs.pad[1], c.attrs.factor, c.attrs.count,
                   c.attrs.conv_algo == CG_CONV_DIRECT ? "direct" : "");
            ran++;
        }
    /* Every op in the table has at least one case here. */
    for (size_t k = 0; k < cg_op_count() && argc < 2; k++) {
        bool found = false;
        for (size_t i = 0; i < cg_op_case_count(); i++)
            found = found || (!cg_op_case_at(i)->bench &&
                              strcmp(cg_op_case_at(i)->op, cg_op_at(k)->name) == 0);
        CHECK(found, "op %s has no case in test_ops", cg_op_at(k)->name);
    }
    CHECK(ran > 0, "no case matched the ops named");
    cg_context_destroy(ctx);
    return cgt_finish("test_ops");
}
