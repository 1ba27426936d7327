/* The graph executor: a small network trains (its loss falls, its accuracy clears a bar);
 * whole-graph gradients agree with finite differences of the loss; a shared layer's gradient is
 * the sum over its uses; several losses add with their weights; a frozen group does not move;
 * evaluation mode turns dropout off; training steps recorded and replayed as command buffers
 * give the same parameters as steps run launch by launch. */
#include <math.h>

#include "device/device_internal.h"
#include "graph/graph.h"
#include "harness.h"

enum { B = 32, F = 4, K = 3 };

static cg_context *ctx;

/* Three well-separated classes: x = centre[y] + noise. */
static void make_data(float *x, int *y, uint64_t seed) {
    cg__rng r;
    cg__rng_init(&r, seed, 9);
    for (int i = 0; i < B; i++) {
        y[i] = i % K;
        for (int f = 0; f < F; f++)
            x[i * F + f] = (float)((f == y[i] ? 2.0 : -0.5) + 0.5 * cg__rng_normal(&r));
    }
}

static void feed(cg_graph *g, int xv, int yv, const float *x, const int *y) {
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, xv), x, B * F * sizeof(float)));
    if (yv >= 0)
        CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, yv), y, B * sizeof(int)));
}

static const cg_op_def *op(const char *name) {
    return cg_op_find(name);
}

/* cross_entropy(logits, y) as the loss (its slot in *slot), accuracy as a metric; compiles. */
static void score_and_compile(cg_graph *g, int logits, int yv, int *slot, int *acc_slot) {
    cg_op_attrs none = {0};
    int in2[2] = {logits, yv}, loss, correct;
    CHECK_OK(cg_graph_node(g, "ce", op("cross_entropy"), &none, in2, 2, NULL, 0, &loss));
    CHECK_OK(cg_graph_loss(g, loss, 1.0f, CG_REDUCE_MEAN, slot));
    CHECK_OK(cg_graph_node(g, "accuracy", op("accuracy"), &none, in2, 2, NULL, 0, &correct));
    CHECK_OK(cg_graph_metric(g, correct, acc_slot));
    CHECK_OK(cg_graph_compile(g, 5));
}

/* x -> linear(8) -> act -> linear(K) -> cross_entropy(y); returns the loss slot. */
static cg_graph *mlp(const char *act, int *xv, int *yv, int *logits, int *slot, int *acc_slot) {
    cg_graph *g;
    CHECK_OK(cg_graph_create(ctx, B, &g));
    cg_shape xs = {1, {F}}, ys = {0, {0}};
    CHECK_OK(cg_graph_input(g, "x", &xs, CG_F32, xv));
    CHECK_OK(cg_graph_input(g, "y", &ys, CG_I32, yv));
    cg_op_attrs l1 = {.features = 8, .bias = true}, l2 = {.features = K, .bias = true}, none = {0};
    int h, a;
    CHECK_OK(cg_graph_layer(g, "net.fc1", op("linear"), &l1, xv, 1, 0, &h, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "net.act", op(act), &none, &h, 1, 0, &a, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "net.fc2", op("linear"), &l2, &a, 1, 1, logits, NULL, NULL));
    score_and_compile(g, *logits, *yv, slot, acc_slot);
    return g;
}

/* x -> linear(8) -> tanh = a; reshape(a) to (2, 4) = r; flatten(r) = f; logits = linear(f) +
 * linear(a) -> cross_entropy(y). r and f share a's bytes; f shares r's gradient, but a's
 * gradient (a is read twice) has a place of its own. */
static cg_graph *viewnet(const char *act, int *xv, int *yv, int *logits, int *slot,
                         int *acc_slot) {
    (void)act;
    cg_graph *g;
    CHECK_OK(cg_graph_create(ctx, B, &g));
    cg_shape xs = {1, {F}}, ys = {0, {0}};
    CHECK_OK(cg_graph_input(g, "x", &xs, CG_F32, xv));
    CHECK_OK(cg_graph_input(g, "y", &ys, CG_I32, yv));
    cg_op_attrs l1 = {.features = 8, .bias = true}, l2 = {.features = K, .bias = true},
                l3 = {.features = K, .bias = false}, none = {0},
                shape = {.target = {3, {B, 2, 4}}};
    int h, a, r, f, main_out, skip_out, in2[2];
    CHECK_OK(cg_graph_layer(g, "fc1", op("linear"), &l1, xv, 1, 0, &h, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "act", op("tanh"), &none, &h, 1, 0, &a, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "shape", op("reshape"), &shape, &a, 1, 0, &r, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "flat", op("flatten"), &none, &r, 1, 0, &f, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "fc2", op("linear"), &l2, &f, 1, 0, &main_out, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "skip", op("linear"), &l3, &a, 1, 0, &skip_out, NULL, NULL));
    in2[0] = main_out;
    in2[1] = skip_out;
    CHECK_OK(cg_graph_node(g, "sum", op("add"), &none, in2, 2, NULL, 0, logits));
    score_and_compile(g, *logits, *yv, slot, acc_slot);
    size_t off[3] = {1, 2, 3}, grad[3] = {4, 5, 6};
    int vals[3] = {a, r, f};
    for (int i = 0; i < 3; i++) {
        clGetMemObjectInfo(cg_graph_value_mem(g, vals[i]), CL_MEM_OFFSET, sizeof off[i], &off[i],
                           NULL);
        clGetMemObjectInfo(cg_graph_grad_mem(g, vals[i]), CL_MEM_OFFSET, sizeof grad[i], &grad[i],
                           NULL);
    }
    CHECK(off[0] == off[1] && off[1] == off[2] && grad[1] == grad[2] && grad[0] != grad[1],
          "views share bytes (a %zu, r %zu, f %zu) and, where nothing else reads their input, "
          "gradients (%zu %zu %zu)",
          off[0], off[1], off[2], grad[0], grad[1], grad[2]);
    return g;
}

static float loss_now(cg_graph *g, bool training) {
    float acc[2];
    CHECK_OK(cg_graph_reset_accumulator(g));
    CHECK_OK(cg_graph_forward(g, training));
    CHECK_OK(cg_graph_read_accumulator(g, acc, 2));
    return acc[0];
}

static void test_training(void) {
    float x[B * F];
    int y[B], xv, yv, logits, slot, acc_slot;
    make_data(x, y, 1);
    cg_graph *g = mlp("relu", &xv, &yv, &logits, &slot, &acc_slot);
    feed(g, xv, yv, x, y);
    float first = loss_now(g, true);
    cg_optim_config adam = cg_optim_defaults(CG_OPTIM_ADAM);
    adam.lr = 0.02f;
    for (int s = 0; s < 150; s++) {
        CHECK_OK(cg_graph_forward(g, true));
        CHECK_OK(cg_graph_backward(g));
        CHECK_OK(cg_graph_step(g, &adam));
    }
    CHECK_OK(cg_graph_reset_accumulator(g));
    CHECK_OK(cg_graph_forward(g, false));
    float acc[CG_GRAPH_ACC_SLOTS];
    CHECK_OK(cg_graph_read_accumulator(g, acc, CG_GRAPH_ACC_SLOTS));
    CHECK(acc[0] < 0.2f * first, "loss fell from %g to %g", first, acc[0]);
    CHECK(fabsf(acc[slot] - acc[0]) < 1e-6f, "a weight-1 loss slot equals the total");
    CHECK(acc[acc_slot] >= 0.95f * B, "accuracy %g of %d", acc[acc_slot], B);
    printf("ok   training: loss %.4f -> %.4f, accuracy %.0f/%d\n", first, acc[0], acc[acc_slot], B);
    cg_graph_destroy(g);
}

/* Every parameter's gradient against central differences of the loss (float32 on the device,
 * so the tolerance is loose, but a wrong chain rule is far off). */
typedef cg_graph *(*builder)(const char *act, int *xv, int *yv, int *logits, int *slot,
                             int *acc_slot);

static void test_gradients(builder build) {
    float x[B * F];
    int y[B], xv, yv, logits, slot, acc_slot;
    make_data(x, y, 2);
    cg_graph *g = build("tanh", &xv, &yv, &logits, &slot, &acc_slot);
    feed(g, xv, yv, x, y);
    size_t n = cg_graph_param_buffer_floats(g);
    float *p = malloc(n * 4 * 2), *grad = p + n;
    CHECK_OK(cg_graph_forward(g, true));
    CHECK_OK(cg_graph_backward(g));
    CHECK_OK(cg_graph_read_params(g, grad, true));
    CHECK_OK(cg_graph_read_params(g, p, false));
    int bad = 0, checked = 0;
    for (int s = 0; s < cg_graph_param_count(g); s++) {
        cg_param_info info = cg_graph_param_at(g, s);
        size_t count = cg_shape_numel(&info.shape);
        for (size_t k = 0; k < count; k += count > 6 ? count / 6 : 1) {
            size_t i = info.offset + k;
            float keep = p[i], h = 1e-2f;
            p[i] = keep + h;
            CHECK_OK(cg_graph_write_params(g, p));
            float up = loss_now(g, true);
            p[i] = keep - h;
            CHECK_OK(cg_graph_write_params(g, p));
            float down = loss_now(g, true);
            p[i] = keep;
            float fd = (up - down) / (2 * h);
            checked++;
            if (fabsf(fd - grad[i]) > 2e-3f + 3e-2f * fabsf(fd)) {
                if (bad++ < 5)
                    fprintf(stderr, "  %s[%zu]: backward %g, finite difference %g\n", info.name, k,
                            grad[i], fd);
            }
        }
    }
    CHECK_OK(cg_graph_write_params(g, p));
    CHECK(bad == 0 && checked > 20, "graph gradients match finite differences (%d of %d off)", bad,
          checked);
    free(p);
    cg_graph_destroy(g);
}

/* One linear layer used on a and on b, against two separate layers holding the same weights. */
static void test_sharing(void) {
    float a[B * F], b[B * F];
    int y[B];
    make_data(a, y, 3);
    make_data(b, y, 4);
    cg_op_attrs lin = {.features = 2, .bias = true}, none = {0};
    cg_shape xs = {1, {F}};
    float *grads[2] = {NULL, NULL};
    for (int shared = 0; shared < 2; shared++) {
        cg_graph *g;
        CHECK_OK(cg_graph_create(ctx, B, &g));
        int va, vb, ha, hb, slots[2], cat, target, loss, in2[2];
        CHECK_OK(cg_graph_input(g, "a", &xs, CG_F32, &va));
        CHECK_OK(cg_graph_input(g, "b", &xs, CG_F32, &vb));
        CHECK_OK(cg_graph_layer(g, "m.fc", op("linear"), &lin, &va, 1, 0, &ha, slots, NULL));
        if (shared)
            CHECK_OK(cg_graph_node(g, "m.fc#2", op("linear"), &lin, &vb, 1, slots, 2, &hb));
        else
            CHECK_OK(cg_graph_layer(g, "copy.fc", op("linear"), &lin, &vb, 1, 0, &hb, NULL, NULL));
        in2[0] = ha;
        in2[1] = hb;
        CHECK_OK(cg_graph_node(g, "cat", op("concat"), &none, in2, 2, NULL, 0, &cat));
        cg_shape ts = {1, {4}};
        CHECK_OK(cg_graph_input(g, "t", &ts, CG_F32, &target));
        in2[0] = cat;
        in2[1] = target;
        CHECK_OK(cg_graph_node(g, "mse", op("mse"), &none, in2, 2, NULL, 0, &loss));
        CHECK_OK(cg_graph_loss(g, loss, 1.0f, CG_REDUCE_MEAN, NULL));
        CHECK_OK(cg_graph_compile(g, 7));
        grads[shared] = calloc(cg_graph_param_buffer_floats(g), sizeof(float));
        if (!shared) { /* give the copy the same weights */
            float *p = calloc(cg_graph_param_buffer_floats(g), sizeof(float));
            CHECK_OK(cg_graph_read_params(g, p, false));
            cg_param_info w0 = cg_graph_param_at(g, 0), w1 = cg_graph_param_at(g, 2);
            cg_param_info b0 = cg_graph_param_at(g, 1), b1 = cg_graph_param_at(g, 3);
            memcpy(p + w1.offset, p + w0.offset, 2 * F * sizeof(float));
            memcpy(p + b1.offset, p + b0.offset, 2 * sizeof(float));
            CHECK_OK(cg_graph_write_params(g, p));
            free(p);
        }
        CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, va), a, sizeof a));
        CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, vb), b, sizeof b));
        float t[B * 4];
        for (int i = 0; i < B * 4; i++)
            t[i] = (float)(i % 5) * 0.3f;
        CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, target), t, sizeof t));
        CHECK_OK(cg_graph_forward(g, true));
        CHECK_OK(cg_graph_backward(g));
        CHECK_OK(cg_graph_read_params(g, grads[shared], true));
        if (!shared) { /* fold the copy's gradient into slot 0's place */
            cg_param_info w0 = cg_graph_param_at(g, 0), w1 = cg_graph_param_at(g, 2);
            cg_param_info b0 = cg_graph_param_at(g, 1), b1 = cg_graph_param_at(g, 3);
            for (int i = 0; i < 2 * F; i++)
                grads[0][w0.offset + i] += grads[0][w1.offset + i];
            for (int i = 0; i < 2; i++)
                grads[0][b0.offset + i] += grads[0][b1.offset + i];
        }
        CHECK(cg_graph_param_count(g) == (shared ? 2 : 4), "parameter slots");
        cg_graph_destroy(g);
    }
    int bad = 0;
    for (int i = 0; i < 2 * F; i++)
        bad += fabsf(grads[0][i] - grads[1][i]) > 1e-5f * (1 + fabsf(grads[0][i]));
    CHECK(bad == 0, "a shared layer's gradient is the sum of its two uses (%d differ)", bad);
    free(grads[0]);
    free(grads[1]);
}

/* One forward and backward of a compiled, fed graph: its gradients (a new buffer) and its
 * accumulator; then the graph is destroyed. */
static void step_and_read(cg_graph *g, float **grads, float *totals, size_t *n_buf) {
    *n_buf = cg_graph_param_buffer_floats(g);
    *grads = calloc(*n_buf, sizeof(float));
    CHECK_OK(cg_graph_reset_accumulator(g));
    CHECK_OK(cg_graph_forward(g, true));
    CHECK_OK(cg_graph_backward(g));
    CHECK_OK(cg_graph_read_params(g, *grads, true));
    CHECK_OK(cg_graph_read_accumulator(g, totals, CG_GRAPH_ACC_SLOTS));
    cg_graph_destroy(g);
}

/* total = 0.25 * mse + 2 * ce, gradient = 0.25 * its mse gradient + 2 * its ce gradient. */
static void test_multi_loss(void) {
    float x[B * F], t[B * K];
    int y[B];
    make_data(x, y, 6);
    for (int i = 0; i < B * K; i++)
        t[i] = (float)((i * 7) % 3) * 0.5f;
    const float w_mse[3] = {0.25f, 1, 0}, w_ce[3] = {2, 0, 1};
    float *grads[3], totals[3][CG_GRAPH_ACC_SLOTS];
    int mse_slot = 0, ce_slot = 0;
    size_t n_buf = 0;
    for (int run = 0; run < 3; run++) {
        cg_graph *g;
        CHECK_OK(cg_graph_create(ctx, B, &g));
        cg_shape xs = {1, {F}}, ys = {0, {0}}, ts = {1, {K}};
        int xv, yv, tv, logits, l1, l2, in2[2];
        cg_op_attrs lin = {.features = K, .bias = true}, none = {0};
        CHECK_OK(cg_graph_input(g, "x", &xs, CG_F32, &xv));
        CHECK_OK(cg_graph_input(g, "y", &ys, CG_I32, &yv));
        CHECK_OK(cg_graph_input(g, "t", &ts, CG_F32, &tv));
        CHECK_OK(cg_graph_layer(g, "fc", op("linear"), &lin, &xv, 1, 0, &logits, NULL, NULL));
        in2[0] = logits;
        in2[1] = tv;
        CHECK_OK(cg_graph_node(g, "mse", op("mse"), &none, in2, 2, NULL, 0, &l1));
        in2[1] = yv;
        CHECK_OK(cg_graph_node(g, "ce", op("cross_entropy"), &none, in2, 2, NULL, 0, &l2));
        CHECK_OK(cg_graph_loss(g, l1, w_mse[run], CG_REDUCE_MEAN, &mse_slot));
        CHECK_OK(cg_graph_loss(g, l2, w_ce[run], CG_REDUCE_MEAN, &ce_slot));
        CHECK_OK(cg_graph_compile(g, 8));
        feed(g, xv, yv, x, y);
        CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, tv), t, sizeof t));
        step_and_read(g, &grads[run], totals[run], &n_buf);
    }
    float *tot = totals[0];
    CHECK(fabsf(tot[0] - (0.25f * tot[mse_slot] + 2 * tot[ce_slot])) < 1e-5f * (1 + tot[0]),
          "total %g = 0.25 * %g + 2 * %g", tot[0], tot[mse_slot], tot[ce_slot]);
    /* A loss of weight 0 still shows its own value in its slot (run 1: ce, run 2: mse). */
    CHECK(totals[1][ce_slot] > 0 && fabsf(totals[1][ce_slot] - tot[ce_slot]) < 1e-5f * tot[ce_slot]
              && fabsf(totals[2][mse_slot] - tot[mse_slot]) < 1e-5f * tot[mse_slot],
          "weight-0 losses log their values: ce %g (%g), mse %g (%g)", totals[1][ce_slot],
          tot[ce_slot], totals[2][mse_slot], tot[mse_slot]);
    int bad = 0;
    for (size_t i = 0; i < n_buf; i++) {
        float want = 0.25f * grads[1][i] + 2 * grads[2][i];
        bad += fabsf(grads[0][i] - want) > 1e-5f * (1 + fabsf(want));
    }
    CHECK(bad == 0, "the weighted losses' gradients add (%d differ)", bad);
    for (int run = 0; run < 3; run++)
        free(grads[run]);
}

/* The reductions of one mse loss: mean over every element, plain sum, sum over the batch size.
 * Totals and gradients scale by B * K and B. */
static void test_reductions(void) {
    float x[B * F], t[B * K];
    int y[B];
    make_data(x, y, 9);
    for (int i = 0; i < B * K; i++)
        t[i] = (float)((i * 5) % 4) * 0.25f;
    const cg_reduction red[3] = {CG_REDUCE_MEAN, CG_REDUCE_SUM, CG_REDUCE_BATCH_MEAN};
    float *grads[3], totals[3][CG_GRAPH_ACC_SLOTS];
    size_t n_buf = 0;
    for (int run = 0; run < 3; run++) {
        cg_graph *g;
        CHECK_OK(cg_graph_create(ctx, B, &g));
        cg_shape xs = {1, {F}}, ts = {1, {K}};
        int xv, tv, out, loss, in2[2];
        cg_op_attrs lin = {.features = K, .bias = true}, none = {0};
        CHECK_OK(cg_graph_input(g, "x", &xs, CG_F32, &xv));
        CHECK_OK(cg_graph_input(g, "t", &ts, CG_F32, &tv));
        CHECK_OK(cg_graph_layer(g, "fc", op("linear"), &lin, &xv, 1, 0, &out, NULL, NULL));
        in2[0] = out;
        in2[1] = tv;
        CHECK_OK(cg_graph_node(g, "mse", op("mse"), &none, in2, 2, NULL, 0, &loss));
        CHECK_OK(cg_graph_loss(g, loss, 1.0f, red[run], NULL));
        CHECK_OK(cg_graph_compile(g, 8));
        CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, xv), x, sizeof x));
        CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, tv), t, sizeof t));
        step_and_read(g, &grads[run], totals[run], &n_buf);
    }
    const float mean = totals[0][0], sum = totals[1][0], bmean = totals[2][0];
    CHECK(sum > 0 && fabsf(sum - mean * B * K) < 1e-4f * sum &&
              fabsf(bmean - sum / B) < 1e-4f * bmean,
          "mean %g, sum %g, batch_mean %g (B %d, K %d)", mean, sum, bmean, B, K);
    int bad = 0;
    for (size_t i = 0; i < n_buf; i++) {
        bad += fabsf(grads[1][i] - grads[0][i] * B * K) > 1e-4f * (1 + fabsf(grads[1][i]));
        bad += fabsf(grads[2][i] - grads[1][i] / B) > 1e-4f * (1 + fabsf(grads[2][i]));
    }
    CHECK(bad == 0, "the gradients scale with the reduction (%d differ)", bad);
    for (int run = 0; run < 3; run++)
        free(grads[run]);
}

static void test_freezing_and_eval(void) {
    float x[B * F];
    int y[B], xv, yv, logits, slot, acc_slot;
    make_data(x, y, 7);
    cg_graph *g = mlp("relu", &xv, &yv, &logits, &slot, &acc_slot);
    feed(g, xv, yv, x, y);
    size_t n = cg_graph_param_buffer_floats(g);
    float *before = calloc(n, sizeof(float)), *after = calloc(n, sizeof(float));
    CHECK_OK(cg_graph_read_params(g, before, false));
    CHECK_OK(cg_graph_set_lr_scale(g, 1, 0.0f)); /* freeze fc2 (group 1) */
    cg_optim_config sgd = cg_optim_defaults(CG_OPTIM_SGD);
    sgd.lr = 0.1f;
    for (int s = 0; s < 5; s++) {
        CHECK_OK(cg_graph_forward(g, true));
        CHECK_OK(cg_graph_backward(g));
        CHECK_OK(cg_graph_step(g, &sgd));
    }
    CHECK_OK(cg_graph_read_params(g, after, false));
    int moved[2] = {0, 0};
    for (int s = 0; s < cg_graph_param_count(g); s++) {
        cg_param_info p = cg_graph_param_at(g, s);
        for (size_t k = 0; k < cg_shape_numel(&p.shape) && p.offset + k < n; k++)
            moved[p.group] += before[p.offset + k] != after[p.offset + k];
    }
    CHECK(moved[1] == 0 && moved[0] > 10, "frozen group still (%d moved), trained group moved (%d)",
          moved[1], moved[0]);
    free(before);
    free(after);
    cg_graph_destroy(g);

    /* Dropout: two training passes differ, two evaluation passes agree and equal the input. */
    cg_graph *d;
    CHECK_OK(cg_graph_create(ctx, B, &d));
    cg_shape xs = {1, {F}};
    int in, out;
    cg_op_attrs drop = {.alpha = 0.5f};
    CHECK_OK(cg_graph_input(d, "x", &xs, CG_F32, &in));
    CHECK_OK(cg_graph_node(d, "drop", op("dropout"), &drop, &in, 1, NULL, 0, &out));
    CHECK_OK(cg_graph_compile(d, 9));
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(d, in), x, sizeof x));
    float r[2][B * F];
    for (int mode = 0; mode < 2; mode++) {
        float s[2][B * F];
        for (int k = 0; k < 2; k++) {
            CHECK_OK(cg_graph_forward(d, mode == 0));
            CHECK_OK(cg__buffer_read(ctx, cg_graph_value_mem(d, out), s[k], sizeof s[k]));
        }
        CHECK((memcmp(s[0], s[1], sizeof s[0]) == 0) == (mode == 1),
              "%s passes %s", mode ? "evaluation" : "training", mode ? "agree" : "differ");
        memcpy(r[mode], s[0], sizeof s[0]);
    }
    CHECK(memcmp(r[1], x, sizeof x) == 0, "evaluation dropout is the identity");
    cg_graph_destroy(d);
}

static void test_errors(void) {
    cg_graph *g;
    CHECK_OK(cg_graph_create(ctx, B, &g));
    cg_shape img = {3, {3, 8, 8}};
    int x, h;
    cg_op_attrs lin = {.features = 4};
    CHECK_OK(cg_graph_input(g, "x", &img, CG_F32, &x));
    cg_status st = cg_graph_layer(g, "net.fc", cg_op_find("linear"), &lin, &x, 1, 0, &h, NULL, NULL);
    CHECK(st == CG_ERR_SHAPE, "linear on images is a shape error");
    CHECK_CONTAINS(cg_error_message(), "net.fc: linear: input of shape (32, 3, 8, 8)");
    CHECK_CONTAINS(cg_error_message(), "put a flatten layer before it");
    st = cg_graph_loss(g, x, 1.0f, CG_REDUCE_MEAN, NULL);
    CHECK(st == CG_ERR_INVALID_ARGUMENT, "an input is not a loss");
    cg_graph_destroy(g);
    /* A layer too large for the device: compile names it before allocating anything. */
    const cg_device_info *d = cg_context_device(ctx);
    CHECK_OK(cg_graph_create(ctx, 1, &g));
    cg_shape row = {1, {16}};
    int out = (int)(d->max_alloc / (16 * 4) + 1024); /* weights over the largest allocation */
    cg_op_attrs huge = {.features = out};
    CHECK_OK(cg_graph_input(g, "x", &row, CG_F32, &x));
    CHECK_OK(cg_graph_layer(g, "head", cg_op_find("linear"), &huge, &x, 1, 0, &h, NULL, NULL));
    st = cg_graph_compile(g, 1);
    CHECK(st == CG_ERR_INVALID_ARGUMENT, "a layer above the largest allocation is refused (%s)",
          cg_status_str(st));
    CHECK_CONTAINS(cg_error_message(), "more than this device's largest allocation");
    CHECK_CONTAINS(cg_error_message(), "the largest is head.weight");
    cg_graph_destroy(g);
}

/* x -> linear(8) -> relu -> dropout -> linear(K) -> cross_entropy on context c. */
static cg_graph *dropout_net(cg_context *c, int *xv, int *yv) {
    cg_graph *g;
    CHECK_OK(cg_graph_create(c, B, &g));
    cg_shape xs = {1, {F}}, ys = {0, {0}};
    CHECK_OK(cg_graph_input(g, "x", &xs, CG_F32, xv));
    CHECK_OK(cg_graph_input(g, "y", &ys, CG_I32, yv));
    cg_op_attrs l1 = {.features = 8, .bias = true}, l2 = {.features = K, .bias = true}, none = {0},
                drop = {.alpha = 0.3f};
    int h, a, d, logits, in2[2], loss, slot;
    CHECK_OK(cg_graph_layer(g, "fc1", op("linear"), &l1, xv, 1, 0, &h, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "act", op("relu"), &none, &h, 1, 0, &a, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "drop", op("dropout"), &drop, &a, 1, 0, &d, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "fc2", op("linear"), &l2, &d, 1, 0, &logits, NULL, NULL));
    in2[0] = logits;
    in2[1] = *yv;
    CHECK_OK(cg_graph_node(g, "ce", op("cross_entropy"), &none, in2, 2, NULL, 0, &loss));
    CHECK_OK(cg_graph_loss(g, loss, 1.0f, CG_REDUCE_MEAN, &slot));
    CHECK_OK(cg_graph_compile(g, 11));
    return g;
}

/* 14 training steps (one on part of the batch, an evaluation forward between two others) on a
 * context; the parameters after them and the loss total. */
static cg_replay_stats train_dropout_net(cg_context *c, const cg_optim_config *opt, float *params,
                                         size_t n_params, float *loss) {
    float x[B * F];
    int y[B], xv, yv;
    make_data(x, y, 4);
    cg_graph *g = dropout_net(c, &xv, &yv);
    CHECK(cg_graph_param_buffer_floats(g) == n_params, "%zu parameters",
          cg_graph_param_buffer_floats(g));
    CHECK_OK(cg__buffer_write(c, cg_graph_value_mem(g, xv), x, sizeof x));
    CHECK_OK(cg__buffer_write(c, cg_graph_value_mem(g, yv), y, sizeof y));
    for (int s = 0; s < 14; s++) {
        if (s == 7)
            cg_graph_set_valid_rows(g, B - 5); /* other launch arguments: no replay */
        CHECK_OK(cg_graph_train_step(g, opt));
        cg_graph_set_valid_rows(g, 0);
        if (s == 9)
            CHECK_OK(cg_graph_forward(g, false)); /* moves the random counter on */
    }
    CHECK_OK(cg_graph_read_accumulator(g, loss, 1));
    CHECK_OK(cg_graph_read_params(g, params, false));
    cg_replay_stats rs = cg_graph_replay_stats(g);
    cg_graph_destroy(g);
    return rs;
}

static cg_context *open_with_replay(const char *value) {
    setenv("CLGRAPH_REPLAY", value, 1);
    cg_context *c = cgt_open(NULL);
    unsetenv("CLGRAPH_REPLAY");
    return c;
}

/* A region of r: buf and other set to -1 before it; inside, buf filled with 3, copied to other
 * where `copy`, its first half filled with 4. h and o: buf and other after it. Whether the
 * recording ran. */
static bool copy_region(cg_context *rep, cg__replay *r, cl_mem buf, cl_mem other, bool copy,
                        float h[64], float o[64]) {
    CHECK_OK(cg__fill(rep, buf, -1.0f, 64));
    CHECK_OK(cg__fill(rep, other, -1.0f, 64));
    cg__replay_open(rep, r);
    CHECK_OK(cg__fill(rep, buf, 3.0f, 64));
    if (copy)
        CHECK_OK(cg__buffer_copy(rep, other, 0, buf, 0, 64 * sizeof(float)));
    CHECK_OK(cg__fill(rep, buf, 4.0f, 32));
    bool replayed = false;
    CHECK_OK(cg__replay_close(rep, r, &replayed));
    CHECK_OK(cg__buffer_read(rep, buf, h, 64 * sizeof(float)));
    CHECK_OK(cg__buffer_read(rep, other, o, 64 * sizeof(float)));
    return replayed;
}

/* Replayed steps give the very same parameters (bit for bit: the same kernels run in the same
 * order) as steps launched one by one, with dropout's counter and Adam's bias correction
 * changing at every step, a step whose arguments differ (part of a batch), and an evaluation
 * forward in between. */
static void test_replay(void) {
    cg_context *rep = open_with_replay("1"), *live = open_with_replay("0");
    bool offered = cg_context_device(rep)->command_buffers;
    CHECK(cg__replay_available(rep) == offered, "replay available %d, extension %d",
          cg__replay_available(rep), offered);
    CHECK(!cg__replay_available(live), "CLGRAPH_REPLAY=0 turns replay off");
    if (!offered) {
        printf("skip replay: the device has no cl_khr_command_buffer\n");
        cg_context_destroy(rep);
        cg_context_destroy(live);
        return;
    }
    cg_optim_config adam = cg_optim_defaults(CG_OPTIM_ADAM), sgd = cg_optim_defaults(CG_OPTIM_SGD);
    adam.lr = 0.02f;
    sgd.momentum = 0.9f;
    const cg_optim_config *opts[2] = {&adam, &sgd};
    size_t n = (size_t)(F * 8 + 8 + 8 * K + K) + 64; /* room for the slots' padding */
    for (int o = 0; o < 2; o++) {
        /* SGD's run as where the device cannot enqueue a command buffer again before it has
         * finished: each replay waits for the one before */
        rep->cb_simultaneous = o == 0;
        int xv, yv;
        cg_graph *probe = dropout_net(live, &xv, &yv);
        n = cg_graph_param_buffer_floats(probe);
        cg_graph_destroy(probe);
        float *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b), la = 0, lb = 0;
        cg_replay_stats sa = train_dropout_net(rep, opts[o], a, n, &la);
        cg_replay_stats sb = train_dropout_net(live, opts[o], b, n, &lb);
        CHECK(memcmp(a, b, n * sizeof *a) == 0 && la == lb,
              "%s: replayed and launched steps differ (loss %.9g vs %.9g)", o ? "sgd" : "adam",
              (double)la, (double)lb);
        /* step 0 runs as usual, 1 records, 2-6 replay, 7 misses, 8 records, 9-13 replay */
        CHECK(sa.recorded == 2 && sa.replayed == 10 && sa.misses == 1 && !sa.gave_up,
              "%s: recorded %u, replayed %u, missed %u, gave up %d", o ? "sgd" : "adam",
              sa.recorded, sa.replayed, sa.misses, sa.gave_up);
        CHECK(sb.recorded == 0 && sb.replayed == 0, "no replay where turned off");
        free(a);
        free(b);
    }

    rep->cb_simultaneous = true;

    /* At the device layer: a region whose launches differ each time runs them all, in order,
     * and the recorder stops trying after three misses. */
    cg__replay *r = NULL;
    CHECK_OK(cg__replay_new(rep, &r));
    cl_mem buf = NULL, other = NULL;
    CHECK_OK(cg__buffer_create(rep, 64 * sizeof(float), &buf));
    CHECK_OK(cg__buffer_create(rep, 64 * sizeof(float), &other));
    for (int k = 0; k < 6; k++) {
        cg__replay_open(rep, r);
        CHECK_OK(cg__fill(rep, buf, 1.0f, 64));
        CHECK_OK(cg__fill(rep, buf, (float)k, 32)); /* differs from the recording from k = 1 */
        CHECK_OK(cg__fill(rep, other, 2.0f, 64));
        CHECK_OK(cg__replay_close(rep, r, NULL));
        float h[64], o[64];
        CHECK_OK(cg__buffer_read(rep, buf, h, sizeof h));
        CHECK_OK(cg__buffer_read(rep, other, o, sizeof o));
        CHECK(h[0] == (float)k && h[31] == (float)k && h[32] == 1.0f && o[63] == 2.0f,
              "region %d: %g %g %g %g", k, (double)h[0], (double)h[31], (double)h[32],
              (double)o[63]);
    }
    cg_replay_stats rs = cg__replay_stats(r);
    CHECK(rs.recorded == 3 && rs.misses == 3 && rs.replayed == 0 && rs.gave_up,
          "recorded %u, missed %u, replayed %u, gave up %d", rs.recorded, rs.misses, rs.replayed,
          rs.gave_up);
    cg__replay_free(rep, r);
    /* A copy between launches: two command buffers, the copy running between them at every
     * replay (it sees the first fill and not the second). */
    CHECK_OK(cg__replay_new(rep, &r));
    for (int k = 0; k < 3; k++) {
        float h[64], o[64];
        bool replayed = copy_region(rep, r, buf, other, true, h, o);
        rs = cg__replay_stats(r);
        CHECK(h[0] == 4.0f && h[63] == 3.0f && o[0] == 3.0f && o[63] == 3.0f &&
                  replayed == (k > 0) && rs.recorded == 1 && rs.segments == 2,
              "a copy between launches, region %d: %g %g %g, replayed %d, recorded %u, %u "
              "command buffers",
              k, (double)h[0], (double)h[63], (double)o[0], replayed, rs.recorded, rs.segments);
    }
    cg__replay_free(rep, r);
    /* A copy where the recording has none (inside its one command buffer): launches and copy
     * run in order as usual. */
    CHECK_OK(cg__replay_new(rep, &r));
    float h[64], o[64];
    for (int k = 0; k < 2; k++)
        copy_region(rep, r, buf, other, k == 1, h, o);
    rs = cg__replay_stats(r);
    CHECK(h[0] == 4.0f && h[63] == 3.0f && o[0] == 3.0f && rs.misses == 1 && rs.replayed == 0,
          "a copy inside a recorded command buffer: %g %g %g, missed %u, replayed %u",
          (double)h[0], (double)h[63], (double)o[0], rs.misses, rs.replayed);
    cg__replay_free(rep, r);
    cg__buffer_release(buf);
    cg__buffer_release(other);
    /* A device whose command buffers get the known answer wrong (here, one that leaves a
     * command out) never replays, and its steps are right. */
    cg_context *bad = open_with_replay("1");
    bad->cb_test_drop = 2;
    float *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b), la = 0, lb = 0;
    cg_replay_stats sa = train_dropout_net(bad, &adam, a, n, &la);
    cg_replay_stats sb = train_dropout_net(live, &adam, b, n, &lb);
    CHECK(!cg__replay_available(bad) && sa.replayed == 0 && sa.recorded == 0 &&
              memcmp(a, b, n * sizeof *a) == 0,
          "a faulty device: replays %d, recorded %u, replayed %u", cg__replay_available(bad),
          sa.recorded, sa.replayed);
    (void)sb;
    free(a);
    free(b);
    cg_context_destroy(bad);
    printf("ok   replay: recorded and replayed steps equal launched ones (Adam, SGD)\n");
    cg_context_destroy(rep);
    cg_context_destroy(live);
}

int main(void) {
    ctx = cgt_open(NULL);
    test_replay();
    test_training();
    test_gradients(mlp);
    test_gradients(viewnet); /* with views that share their input's bytes, and one that not */
    test_sharing();
    test_multi_loss();
    test_reductions();
    test_freezing_and_eval();
    test_errors();
    cg_context_destroy(ctx);
    return cgt_finish("test_graph");
}
