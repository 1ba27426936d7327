/* Known answers for cl/loss.cl, worked out by hand:
 *  cross_entropy of logits [0, ln 3] (probabilities 1/4, 3/4) with label 1: -ln(3/4);
 *  cool with omega 2 on [0, 0, ln 3, ln 3] (probabilities 1/8, 1/8, 3/8, 3/8), label 1: -ln(3/8);
 *  binary cross-entropy of logit 0 against 1: ln 2; squared error of [1, 2] against [0, 4]: 5;
 *  contrastive (margin 1) of a similar pair at distance 1 and a dissimilar one at 0.5, and the
 *  same pairs weighted 2 and 0.5;
 *  triplet (margin 1) with one inactive and one active triplet;
 *  similarity of z = [1, 3, 5] with labels [0, 0, 1] (class means 2 and 5);
 *  KL of mu = [1, 0], log sigma = [0, ln 2]; the Gaussian negative log-likelihood of variance 1/2
 *  (the squared error plus F/2 ln pi); one draw's log q(z) - log p(z). */
#include <math.h>

#include "ops/ops.h"
#include "selftest/selftest_internal.h"

/* An io record for a loss on inputs with the given shapes. Input labels_at (if >= 0) holds
 * integer labels, input target_at (if >= 0) float targets; neither gets a gradient. */
static cg_op_host_io loss_io(const char *op, const cg_op_attrs *a, int n_in, const cg_shape *shapes,
                             const float *const *in, int labels_at, int target_at,
                             const float *dloss) {
    cg_op_host_io io = {.op = cg_op_find(op), .attrs = a, .n_in = n_in, .dout = dloss};
    for (int i = 0; i < n_in; i++) {
        io.in_shape[i] = shapes[i];
        io.in_type[i] = i == labels_at ? CG_I32 : CG_F32;
        io.in[i] = in[i];
        io.want_din[i] = i != labels_at && i != target_at;
    }
    return io;
}

static cg_status check_ce_cool(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    const float x[2] = {0, (float)log(3.0)}, label[1] = {1}, dl[1] = {2};
    const double y[1] = {-log(0.75)}, dx[2] = {0.5, -0.5};
    const cg_shape s[2] = {cg_shape_make(2, 1, 2, 0, 0), cg_shape_make(1, 1, 0, 0, 0)};
    const float *in[2] = {x, label};
    cg_op_attrs a = {0};
    cg_op_host_io io = loss_io("cross_entropy", &a, 2, s, in, 1, -1, dl);
    cg__op_expect want = {y, {dx}, {NULL}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    const float cx[4] = {0, 0, (float)log(3.0), (float)log(3.0)}, one[1] = {1};
    const double cy[1] = {-log(3.0 / 8)}, cdx[4] = {0.125, 0.125, -0.125, -0.125};
    const cg_shape cs[2] = {cg_shape_make(2, 1, 4, 0, 0), cg_shape_make(1, 1, 0, 0, 0)};
    const float *cin[2] = {cx, label};
    cg_op_attrs ca = {.count = 2};
    cg_op_host_io cio = loss_io("cool", &ca, 2, cs, cin, 1, -1, one);
    cg__op_expect cwant = {cy, {cdx}, {NULL}};
    return cg__selftest_op(ctx, &cio, &cwant, 1e-5, passed, detail, cap);
}

static cg_status check_bce_mse(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float x[1] = {0}, t[1] = {1}, one[1] = {1};
    const double y[1] = {log(2.0)}, dx[1] = {-0.5};
    const cg_shape s[2] = {cg_shape_make(2, 1, 1, 0, 0), cg_shape_make(2, 1, 1, 0, 0)};
    const float *in[2] = {x, t};
    cg_op_attrs a = {0};
    cg_op_host_io io = loss_io("binary_cross_entropy", &a, 2, s, in, -1, 1, one);
    cg__op_expect want = {y, {dx}, {NULL}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    static const float p[2] = {1, 2}, q[2] = {0, 4};
    static const double my[1] = {5}, dp[2] = {2, -4}, dq[2] = {-2, 4};
    const cg_shape ms[2] = {cg_shape_make(2, 1, 2, 0, 0), cg_shape_make(2, 1, 2, 0, 0)};
    const float *min[2] = {p, q};
    cg_op_host_io mio = loss_io("mse", &a, 2, ms, min, -1, -1, one);
    cg__op_expect mwant = {my, {dp, dq}, {NULL}};
    st = cg__selftest_op(ctx, &mio, &mwant, 1e-5, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    /* Variance 1/2: the squared error plus F/2 log(pi), the same gradients. */
    const double gy[1] = {5 + log(3.14159265358979323846)};
    cg_op_attrs ga = {.alpha = 0.5f};
    cg_op_host_io gio = loss_io("gaussian_nll", &ga, 2, ms, min, -1, -1, one);
    cg__op_expect gwant = {gy, {dp, dq}, {NULL}};
    return cg__selftest_op(ctx, &gio, &gwant, 1e-5, passed, detail, cap);
}

static cg_status check_pairs(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float z1[4] = {0, 0, 0, 0}, z2[4] = {0.6f, 0.8f, 0.3f, 0.4f}, y[2] = {1, 0};
    static const float ones[2] = {1, 1};
    static const double loss[2] = {0.5, 0.125};
    static const double d1[4] = {-0.6, -0.8, 0.3, 0.4}, d2[4] = {0.6, 0.8, -0.3, -0.4};
    const cg_shape s[3] = {cg_shape_make(2, 2, 2, 0, 0), cg_shape_make(2, 2, 2, 0, 0),
                           cg_shape_make(1, 2, 0, 0, 0)};
    const float *in[3] = {z1, z2, y};
    cg_op_attrs a = {.alpha = 1.0f};
    cg_op_host_io io = loss_io("contrastive", &a, 3, s, in, -1, 2, ones);
    cg__op_expect want = {loss, {d1, d2}, {NULL}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    /* Weighted pairs (2 and 0.5): each loss and gradient scaled by its pair's weight. */
    static const float w[2] = {2, 0.5f};
    static const double wloss[2] = {1, 0.0625};
    static const double wd1[4] = {-1.2, -1.6, 0.15, 0.2}, wd2[4] = {1.2, 1.6, -0.15, -0.2};
    const cg_shape ws[4] = {s[0], s[1], s[2], s[2]};
    const float *win[4] = {z1, z2, y, w};
    cg_op_host_io wio = loss_io("contrastive", &a, 4, ws, win, -1, 2, ones);
    wio.want_din[3] = false;
    cg__op_expect wwant = {wloss, {wd1, wd2}, {NULL}};
    st = cg__selftest_op(ctx, &wio, &wwant, 1e-5, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    static const float an[4] = {0, 0, 0, 0}, po[4] = {0, 1, 3, 0}, ne[4] = {0, 3, 0, 1};
    static const double tl[2] = {0, 3}, da[4] = {0, 0, -1, 1}, dpo[4] = {0, 0, 1, 0};
    static const double dne[4] = {0, 0, 0, -1};
    const cg_shape ts[3] = {s[0], s[0], s[0]};
    const float *tin[3] = {an, po, ne};
    cg_op_host_io tio = loss_io("triplet", &a, 3, ts, tin, -1, -1, ones);
    cg__op_expect twant = {tl, {da, dpo, dne}, {NULL}};
    return cg__selftest_op(ctx, &tio, &twant, 1e-5, passed, detail, cap);
}

static cg_status check_similarity(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    static const float z[3] = {1, 3, 5}, label[3] = {0, 0, 1}, dl[3] = {1, 2, 3};
    static const double loss[3] = {1, 1, 0}, dz[3] = {-3, 3, 0};
    const cg_shape s[2] = {cg_shape_make(2, 3, 1, 0, 0), cg_shape_make(1, 3, 0, 0, 0)};
    const float *in[2] = {z, label};
    cg_op_attrs a = {.count = 2};
    cg_op_host_io io = loss_io("similarity", &a, 2, s, in, 1, -1, dl);
    cg__op_expect want = {loss, {dz}, {NULL}};
    cg_status st = cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
    if (st != CG_OK || !*passed)
        return st;
    /* Groups [0, 1, 0]: only the pair (0, 1) of class 0 counts, n_q = 2: each loss is
     * |1 - 3|^2 / 4 = 1; dz_0 = (1 + 2) / 2 * (1 - 3) = -3, dz_1 = +3. */
    static const float group[3] = {0, 1, 0};
    static const double ploss[3] = {1, 1, 0}, pdz[3] = {-3, 3, 0};
    const cg_shape ps[3] = {s[0], s[1], s[1]};
    const float *pin[3] = {z, label, group};
    cg_op_host_io pio = loss_io("similarity", &a, 3, ps, pin, 1, -1, dl);
    pio.in_type[2] = CG_I32;
    pio.want_din[2] = false;
    cg__op_expect pwant = {ploss, {pdz}, {NULL}};
    return cg__selftest_op(ctx, &pio, &pwant, 1e-5, passed, detail, cap);
}

static cg_status check_kl(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    const float mu[2] = {1, 0}, ls[2] = {0, (float)log(2.0)}, dl[1] = {2};
    const double loss[1] = {0.5 * (1 + 3 - 2 * log(2.0))}, dmu[2] = {2, 0}, dls[2] = {0, 6};
    const cg_shape s[2] = {cg_shape_make(2, 1, 2, 0, 0), cg_shape_make(2, 1, 2, 0, 0)};
    const float *in[2] = {mu, ls};
    cg_op_attrs a = {0};
    cg_op_host_io io = loss_io("kl_normal", &a, 2, s, in, -1, -1, dl);
    cg__op_expect want = {loss, {dmu, dls}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
}

/* z = [1, 2] drawn from mu = [0, 0], sigma = [1, 2]: e = [1, 1], terms 0 and 1.5 - ln 2;
 * dz = z - e / sigma = [0, 1.5], dmu = e / sigma = [1, 0.5], dls = e^2 - 1 = [0, 0]. */
static cg_status check_kl_sample(cg_context *ctx, bool *passed, char *detail, size_t cap) {
    const float z[2] = {1, 2}, mu[2] = {0, 0}, ls[2] = {0, (float)log(2.0)}, dl[1] = {1};
    const double loss[1] = {1.5 - log(2.0)}, dz[2] = {0, 1.5}, dmu[2] = {1, 0.5}, dls[2] = {0, 0};
    const cg_shape s[3] = {cg_shape_make(2, 1, 2, 0, 0), cg_shape_make(2, 1, 2, 0, 0),
                           cg_shape_make(2, 1, 2, 0, 0)};
    const float *in[3] = {z, mu, ls};
    cg_op_attrs a = {0};
    cg_op_host_io io = loss_io("kl_sample", &a, 3, s, in, -1, -1, dl);
    cg__op_expect want = {loss, {dz, dmu, dls}, {NULL}};
    return cg__selftest_op(ctx, &io, &want, 1e-5, passed, detail, cap);
}

const cg__selftest_case cg__loss_checks[] = {
    {"loss.cl", "cross_entropy_fwd cross_entropy_bwd cool_fwd cool_bwd", check_ce_cool},
    {"loss.cl", "bce_logits_fwd bce_logits_bwd mse_fwd mse_bwd", check_bce_mse},
    {"loss.cl", "contrastive_fwd contrastive_bwd triplet_fwd triplet_bwd", check_pairs},
    {"loss.cl",
     "class_stats similarity_fwd similarity_bwd similarity_pairs_fwd similarity_pairs_bwd",
     check_similarity},
    {"loss.cl", "kl_normal_fwd kl_normal_bwd", check_kl},
    {"loss.cl", "kl_sample_fwd kl_sample_bwd", check_kl_sample},
};
const size_t cg__loss_check_count = CG__ARRAY_LEN(cg__loss_checks);
