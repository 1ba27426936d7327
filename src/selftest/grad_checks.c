/* The gradient check of the self-test: for every op with a backward, on each of its test rows
 * of the op case table (src/ops/cases.c), the device's own gradient against a central
 * difference of the device's own forward, along one direction through every differentiable
 * input and parameter at once. With L(x) = sum(dout * op(x)) and a direction v,
 *
 *     (L(x + h v) - L(x - h v)) / 2h   must equal   sum(grad L * v)
 *
 * within 2% of sum(|grad L * v|): far tighter than a wrong kernel can meet (a factor, a missed
 * term, a swapped index), far looser than float32 rounding at h = 0.01 needs, and loose enough
 * for the few inputs that cross a kink (ReLU at 0, a pooling tie) inside the step; where one
 * input decides the sum (a hinge at its margin), h = 0.001 is tried as well. This checks a
 * driver's compilation of the backward kernels against its compilation of the forward ones,
 * which the known answers cover on small inputs only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "selftest/selftest_internal.h"

#define STEP 0.01
#define TOLERANCE 0.02

/* The host data of one case: the io record and the arrays it points at. */
typedef struct case_data {
    cg_op_host_io io;
    cg_op_shapes sh;
    float *in[CG_MAX_INPUTS], *dir_in[CG_MAX_INPUTS], *din[CG_MAX_INPUTS];
    float *params[CG_MAX_PARAMS], *dir_p[CG_MAX_PARAMS], *dparams[CG_MAX_PARAMS];
    float *shifted_in[CG_MAX_INPUTS], *shifted_p[CG_MAX_PARAMS];
    float *out, *dout;
} case_data;

static void free_case(case_data *d) {
    for (int i = 0; i < CG_MAX_INPUTS; i++) {
        free(d->in[i]);
        free(d->dir_in[i]);
        free(d->din[i]);
        free(d->shifted_in[i]);
    }
    for (int i = 0; i < CG_MAX_PARAMS; i++) {
        free(d->params[i]);
        free(d->dir_p[i]);
        free(d->dparams[i]);
        free(d->shifted_p[i]);
    }
    free(d->out);
    free(d->dout);
}

static cg_status make_case(const cg_op_case *c, case_data *d) {
    memset(d, 0, sizeof *d);
    cg_dtype types[CG_MAX_INPUTS];
    cg_status st = cg_op_case_shapes(c, types, &d->sh);
    if (st != CG_OK)
        return st;
    const cg_op_def *op = cg_op_find(c->op);
    uint32_t state = 0x9e3779b9u;
    bool ok = true;
    d->io = (cg_op_host_io){.op = op, .attrs = &c->attrs, .n_in = c->n_in, .training = !c->eval,
                            .seed = {11, 12}, .counter = 13};
    for (int i = 0; i < c->n_in; i++) {
        size_t n = cg_shape_numel(&c->shape[i]);
        d->io.in_shape[i] = c->shape[i];
        d->io.in_type[i] = types[i];
        d->in[i] = cg_op_case_draw(n, c->gen[i], c->label_range, &state);
        d->shifted_in[i] = malloc((n ? n : 1) * sizeof(float));
        ok = ok && d->in[i] && d->shifted_in[i];
        if (c->grad[i]) {
            d->dir_in[i] = cg_op_case_draw(n, CG_GEN_NORMAL, 0, &state);
            d->din[i] = malloc((n ? n : 1) * sizeof(float));
            ok = ok && d->dir_in[i] && d->din[i];
        }
    }
    for (int i = 0; i < d->sh.n_params; i++) {
        size_t n = cg_shape_numel(&d->sh.params[i]);
        d->params[i] = cg_op_case_draw(n, CG_GEN_NORMAL, 0, &state);
        d->dir_p[i] = cg_op_case_draw(n, CG_GEN_NORMAL, 0, &state);
        d->dparams[i] = malloc((n ? n : 1) * sizeof(float));
        d->shifted_p[i] = malloc((n ? n : 1) * sizeof(float));
        ok = ok && d->params[i] && d->dir_p[i] && d->dparams[i] && d->shifted_p[i];
    }
    size_t n_out = cg_shape_numel(&d->sh.out);
    d->out = malloc((n_out ? n_out : 1) * sizeof(float));
    d->dout = cg_op_case_draw(n_out, CG_GEN_NORMAL, 0, &state);
    ok = ok && d->out && d->dout;
    return ok ? CG_OK : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the case of %s", c->op);
}

/* L at x + t v (forward only): sum(dout * out), in double. */
static cg_status loss_at(cg_context *ctx, const cg_op_case *c, case_data *d, double t,
                         double *loss) {
    cg_op_host_io io = d->io;
    for (int i = 0; i < c->n_in; i++) {
        size_t n = cg_shape_numel(&c->shape[i]);
        for (size_t k = 0; k < n; k++)
            d->shifted_in[i][k] = d->in[i][k] + (d->dir_in[i] ? (float)t * d->dir_in[i][k] : 0);
        io.in[i] = d->shifted_in[i];
    }
    for (int i = 0; i < d->sh.n_params; i++) {
        size_t n = cg_shape_numel(&d->sh.params[i]);
        for (size_t k = 0; k < n; k++)
            d->shifted_p[i][k] = d->params[i][k] + (float)t * d->dir_p[i][k];
        io.params[i] = d->shifted_p[i];
    }
    io.out = d->out;
    cg_status st = cg_op_run_host(ctx, &io, NULL);
    double s = 0;
    for (size_t k = 0; st == CG_OK && k < cg_shape_numel(&d->sh.out); k++)
        s += (double)d->dout[k] * d->out[k];
    *loss = s;
    return st;
}

/* One case: writes why into detail and clears *passed when the two disagree. */
static cg_status check_case(cg_context *ctx, const cg_op_case *c, bool *passed, char *detail,
                            size_t cap) {
    case_data d;
    cg_status st = make_case(c, &d);
    if (st == CG_OK) {
        cg_op_host_io io = d.io;
        for (int i = 0; i < c->n_in; i++) {
            io.in[i] = d.in[i];
            io.want_din[i] = c->grad[i];
            io.din[i] = d.din[i];
        }
        for (int i = 0; i < d.sh.n_params; i++) {
            io.params[i] = d.params[i];
            io.dparams[i] = d.dparams[i];
        }
        io.out = d.out;
        io.dout = d.dout;
        st = cg_op_run_host(ctx, &io, NULL);
    }
    double along = 0, scale = 0, up = 0, down = 0;
    for (int i = 0; st == CG_OK && i < c->n_in; i++)
        for (size_t k = 0; c->grad[i] && k < cg_shape_numel(&c->shape[i]); k++) {
            along += (double)d.din[i][k] * d.dir_in[i][k];
            scale += fabs((double)d.din[i][k] * d.dir_in[i][k]);
        }
    for (int i = 0; st == CG_OK && i < d.sh.n_params; i++)
        for (size_t k = 0; k < cg_shape_numel(&d.sh.params[i]); k++) {
            along += (double)d.dparams[i][k] * d.dir_p[i][k];
            scale += fabs((double)d.dparams[i][k] * d.dir_p[i][k]);
        }
    /* A step that crosses a kink (a hinge at its margin) gives another difference; a tenth of
     * it almost never does, so a disagreement stands only when both steps show it. */
    double diff = 0;
    bool agree = false;
    for (double h = STEP; st == CG_OK && !agree && h > STEP / 20; h /= 10) {
        st = loss_at(ctx, c, &d, h, &up);
        if (st == CG_OK)
            st = loss_at(ctx, c, &d, -h, &down);
        diff = (up - down) / (2 * h);
        agree = fabs(diff - along) <= TOLERANCE * scale + 1e-4;
    }
    if (st == CG_OK && !agree) {
        char shape[64];
        cg_shape_str(&c->shape[0], shape, sizeof shape);
        *passed = false;
        snprintf(detail, cap,
                 "input %s: the gradient along a direction is %.6g, the central difference of "
                 "the forward %.6g (allowed %.3g)",
                 shape, along, diff, TOLERANCE * scale + 1e-4);
    }
    free_case(&d);
    return st;
}

cg_status cg__selftest_gradient(cg_context *ctx, const char *op, bool *passed, int *cases,
                                char *detail, size_t cap) {
    *passed = true;
    *cases = 0;
    detail[0] = '\0';
    cg_status st = CG_OK;
    for (size_t i = 0; st == CG_OK && *passed && i < cg_op_case_count(); i++) {
        const cg_op_case *c = cg_op_case_at(i);
        bool differentiable = false;
        for (int k = 0; k < c->n_in; k++)
            differentiable = differentiable || c->grad[k];
        if (c->bench || strcmp(c->op, op) != 0 || !differentiable)
            continue;
        (*cases)++;
        st = check_case(ctx, c, passed, detail, cap);
    }
    return st;
}
